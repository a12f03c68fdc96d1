"""Batch configs and rendering: validate, sample, schema, render, render-scene, preview."""
from __future__ import annotations

import json
import signal
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Optional

import typer

from synthact.progress import Bars

from .common import (
    EXIT_INVALID,
    AssetsOption,
    existing_dir,
    fail,
    load_batch,
    output_file,
    storage_location,
    writable_dir,
)

PrecisionOption = typer.Option(None, "--precision", help="compact (depth and flow as 16-bit PNGs, the default) or "
                                                         "float32 (exact arrays); overrides render.precision.")


def with_precision(cfg, precision: Optional[str]):
    """The config with render.precision replaced (validated like the YAML field)."""
    if precision is None:
        return cfg
    if precision not in ("compact", "float32"):
        fail(f"--precision must be compact or float32, got {precision!r}")
    from pydantic import ValidationError

    from synthact.config import BatchConfig
    try:
        return BatchConfig.model_validate({**cfg.model_dump(exclude_unset=True),
                                           "render": {**cfg.render.model_dump(exclude_unset=True),
                                                      "precision": precision}})
    except ValidationError as exc:
        fail(f"--precision: {exc.errors()[0]['msg'].removeprefix('Value error, ')}")


def validate(configs: list[Path] = typer.Argument(..., help="Batch config YAML files, or names of presets."),
             assets_dir: Optional[Path] = AssetsOption) -> None:
    """Check batch configs: exit 0 when all are valid, 2 with every problem (file:line field: message)."""
    failed = False
    for config in configs:
        try:
            cfg, _ = load_batch(config, assets_dir)
        except typer.Exit:
            failed = True
            continue
        typer.echo(f"{config}: ok (batch {cfg.batch.name!r}, {cfg.batch.count} scenes, seed {cfg.batch.seed})")
    if failed:
        raise typer.Exit(EXIT_INVALID)


def sample(config: Path = typer.Argument(..., help="Batch config YAML, or the name of a preset."),
           start: int = typer.Option(0, "--start", min=0, help="First scene index."),
           count: Optional[int] = typer.Option(None, "--count", min=0,
                                               help="How many specs (default: the rest of the batch)."),
           assets_dir: Optional[Path] = AssetsOption) -> None:
    """Print fully resolved SceneSpecs as JSON lines."""
    from synthact.scene import SceneSampler

    cfg, registry = load_batch(config, assets_dir)
    n = max(cfg.batch.count - start, 0) if count is None else count
    for line in SceneSampler.create(cfg, registry).iter_json(start, n):
        sys.stdout.write(line + "\n")


def schema(out: Path = typer.Option(Path("docs"), "--out", help="Folder for the JSON schema files.")) -> None:
    """Write the JSON schemas of the batch config, the training config and SceneSpec, and the clip-format table
    of OUT/FORMAT.md (whose BatchConfig field table gives the schema's descriptions)."""
    from synthact.clip.modalities import format_table
    from synthact.config.schema import batch_config_schema
    from synthact.spec import scene_spec_json_schema
    from synthact.train.train import train_config_schema

    writable_dir(out, "schemas")
    doc = out / "FORMAT.md"
    schemas = (("batch_config", batch_config_schema(doc if doc.is_file() else None)),
               ("train_config", train_config_schema()), ("scene_spec", scene_spec_json_schema()))
    for name, body in schemas:
        path = out / f"{name}.schema.json"
        path.write_text(json.dumps(body, indent=2, sort_keys=True) + "\n")
        typer.echo(f"wrote {path}")
    if doc.is_file():
        start, end = "<!-- clip-format:start -->", "<!-- clip-format:end -->"
        text = doc.read_text()
        if start in text and end in text:
            head, rest = text.split(start, 1)
            doc.write_text(f"{head}{start}\n{format_table()}\n{end}{rest.split(end, 1)[1]}")
            typer.echo(f"wrote the clip-format table in {doc}")


def render(config: Path = typer.Argument(Path("default"), help="Batch config YAML, or the name of a preset (default, "
                                                                  "smoke, gata, synapt, rooms)."),
           n: Optional[int] = typer.Option(None, "--n", min=1, help="Number of scenes (default: batch.count)."),
           out: Optional[str] = typer.Option(None, "--out", help="Output folder or URI (default: batch.output)."),
           address: Optional[str] = typer.Option(None, "--address", envvar="RAY_ADDRESS",
                                                 help="Ray cluster address (default: a Ray started in this process)."),
           workers: Optional[int] = typer.Option(None, "--workers", min=1,
                                                 help="Render workers (default: by resources)."),
           cpus_per_worker: Optional[int] = typer.Option(None, "--cpus-per-worker", min=1,
                                                         help="CPU threads per render worker (default: 2, the "
                                                              "measured best; 1 on a 1-CPU machine)."),
           dashboard: bool = typer.Option(False, "--dashboard", help="Start Ray's dashboard with the Ray started "
                                          "here (~5 CPU-s a minute; a cluster has its own)."),
           timeout: float = typer.Option(1800.0, "--scene-timeout", min=1,
                                         help="Seconds before a scene counts as hung."),
           attempts: int = typer.Option(3, "--max-attempts", min=1,
                                        help="Tries per scene (crash, hang, out of memory)."),
           pack_layout: Optional[str] = typer.Option(None, "--pack", help="Then pack OUT/<batch>/dataset in this "
                                                     "layout (gata or synapt) and write its report."),
           verify: bool = typer.Option(False, "--verify", help="Count a clip already on disk as complete only if "
                                       "its files' checksums match its manifest (reads every file)."),
           precision: Optional[str] = PrecisionOption,
           renderer: Optional[str] = typer.Option(None, "--renderer", hidden=True,
                                                  help="A renderer plugin, package.module:Factory (default: Blender)."),
           renderer_options: str = typer.Option("{}", "--renderer-options", hidden=True,
                                                help="JSON keyword options of the renderer plugin."),
           assets_dir: Optional[Path] = AssetsOption) -> None:
    """Render a batch: OUT/<batch>/clips/<scene_id>/ and previews/; reruns resume. SIGTERM or Ctrl-C stops it
    cleanly (exit 128 + signal number); rerun the same command to resume."""
    from synthact.dispatch import BatchError, DispatchOptions, FailurePolicy, RendererPlugin, Resources, run_batch

    if pack_layout not in (None, "gata", "synapt"):
        fail(f"--pack must be gata or synapt, got {pack_layout!r}")
    cfg, registry = load_batch(config, assets_dir)
    cfg = with_precision(cfg, precision)
    n = cfg.batch.count if n is None else n
    target = storage_location(out or cfg.batch.output, "the batch's output")
    options = DispatchOptions(resources=Resources(address, workers, cpus_per_worker, dashboard),
                              failures=FailurePolicy(timeout, attempts), verify=verify)
    if renderer:
        try:
            options = replace(options, renderer=RendererPlugin(renderer, json.loads(renderer_options)))
        except ValueError as exc:
            fail(str(exc))
    if not renderer and not address:  # workers on this machine: build their caches once, before they start
        prepare_body_models(cfg)
    try:
        result = run_batch(cfg, registry, n, target, options)
    except BatchError as exc:
        fail(str(exc))
    failed = sum(result.failed.values())
    counts = (f"{result.rendered} rendered, {result.already_complete} already complete, {failed} failed"
              f"{f' {dict(result.failed)}' if failed else ''}; retries {dict(result.retries) or 'none'}; "
              f"{result.seconds:.0f} s")
    if result.state == "interrupted":
        typer.echo(f"{result.uri}: interrupted by {result.reason} ({counts}); rerun the same command to resume",
                   err=True)
        raise typer.Exit(128 + getattr(signal.Signals, result.reason, signal.SIGTERM).value)
    if result.state == "error":
        typer.echo(f"{result.uri}: stopped: {result.reason} ({counts})", err=True)
        raise typer.Exit(1)
    typer.echo(f"{result.uri}: {counts}")
    if pack_layout:
        from synthact.dataset.pack import PackOptions
        from synthact.dataset.pack import pack as run_pack
        from synthact.dataset.report import write_report
        if "://" in result.uri:
            fail("--pack works on a local output folder; run `synthact pack` where the clips are")
        dataset = Path(result.uri) / "dataset"
        with Bars() as bars:
            packed = run_pack(Path(result.uri), dataset, PackOptions(layout=pack_layout), bars)
            report = write_report(dataset, progress=bars)
        typer.echo(f"{dataset}: {packed.packed} clips packed ({packed.rejected} rejected by QC); report: {report}")
    if failed:
        raise typer.Exit(1)


def prepare_body_models(cfg) -> None:
    """Body-model caches built once per machine, with their own progress line (a worker would build one while
    its first scene waits, and every worker would wait on it)."""
    from synthact.human.bodies import prepare_body_model
    for name in cfg.actors.body_model.options():
        t0 = time.perf_counter()
        if prepare_body_model(name, lambda line: typer.echo(line, err=True)):
            typer.echo(f"{name} body model: ready in {time.perf_counter() - t0:.0f} s", err=True)


def render_scene(config: Path = typer.Argument(..., help="Batch config YAML, or the name of a preset."),
                 index: int = typer.Option(..., "--index", min=0, help="Scene index in the batch."),
                 out: Path = typer.Option(Path("output/scenes"), "--out", help="Folder that receives <scene_id>/."),
                 preview: bool = typer.Option(True, help="Also write <scene_id>.preview.png beside the clip."),
                 precision: Optional[str] = PrecisionOption,
                 assets_dir: Optional[Path] = AssetsOption) -> None:
    """Render one scene of a batch into a clip directory (RGB, depth, flow, segmentation, keypoints)."""
    from synthact.clip import ClipReader
    from synthact.render import SceneError
    from synthact.render.worker import RenderWorker
    from synthact.scene import SceneSampler

    cfg, registry = load_batch(config, assets_dir)
    cfg = with_precision(cfg, precision)
    writable_dir(out, "clips")
    spec = SceneSampler.create(cfg, registry).sample(index)
    try:
        clip = RenderWorker(device=spec.render.device, registry=registry).render(spec, out)
    except SceneError as exc:
        fail(str(exc))
    stats = ClipReader.from_dir(clip).stats
    typer.echo(f"{clip}: {spec.render.frames} frames, {stats['seconds_per_frame']:.3f} s/frame on {stats['device']}")
    if preview:
        from synthact.clip.preview import contact_sheet
        typer.echo(f"preview: {contact_sheet(clip, clip.parent / (clip.name + '.preview.png'))}")


def preview_clip(clip: Path = typer.Argument(..., help="A clip directory."),
                 out: Path = typer.Option(..., "--out", "-o", help="PNG contact sheet to write."),
                 frames: int = typer.Option(4, "--frames", min=1)) -> None:
    """Contact sheet of a clip: RGB, keypoint skeletons, depth, flow (colour-coded), segmentation."""
    from synthact.clip import ClipError, is_complete
    from synthact.clip.preview import contact_sheet

    existing_dir(clip, "a clip directory")
    if not is_complete(clip):
        fail(f"{clip}: not a complete clip directory (no manifest.json)")
    output_file(out, (".png", ".jpg", ".jpeg"), "contact sheet")
    try:
        typer.echo(f"wrote {contact_sheet(clip, out, frames)}")
    except ClipError as exc:
        fail(str(exc))


def skeletons(config: Path = typer.Argument(..., help="Batch config YAML, or the name of a preset."),
              out: Path = typer.Option(..., "--out", help="Folder for skeletons_2d.pkl, skeletons_3d.pkl, "
                                                          "classes.txt and joints.json."),
              n: Optional[int] = typer.Option(None, "--n", min=1, help="Number of scenes (default: batch.count)."),
              start: int = typer.Option(0, "--start", min=0, help="First scene index."),
              workers: int = typer.Option(2, "--workers", min=1, help="Processes posing skeletons."),
              assets_dir: Optional[Path] = AssetsOption) -> None:
    """Skeleton-only samples of a batch, without rendering: each scene's actors posed and seen through its camera,
    as 2D/3D joint sequences in the layout of `synthact export skeletons` (thousands of clips per minute)."""
    from synthact.render.skeletons import sample_skeletons

    cfg, registry = load_batch(config, assets_dir)
    writable_dir(out, "the skeletons")
    with Bars(unit="clips") as bars:
        written = sample_skeletons(cfg, registry, cfg.batch.count if n is None else n, out, start, workers, bars)
    for path in written:
        typer.echo(f"wrote {path}")


def register(app: typer.Typer) -> None:
    for command in (validate, sample, schema, render, skeletons):
        app.command()(command)
    app.command("render-scene")(render_scene)
    app.command("preview")(preview_clip)
