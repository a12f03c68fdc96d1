"""The `synthact` command line."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from .assets import AssetRegistry
from .config import BatchConfig, load_batch_config
from .motions_cli import motions_app
from .problems import InvalidFile

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="SynthAct: synthetic human action videos, from YAML batch configs to training shards.")

app.add_typer(motions_app, name="motions")

EXIT_INVALID = 2

AssetsOption = typer.Option(None, "--assets-dir", envvar="SYNTHACT_ASSETS_DIR",
                            help="Folder of asset manifests (default: the project's assets_manifests/).")


def _load(config: Path, assets_dir: Optional[Path]) -> tuple[BatchConfig, AssetRegistry]:
    try:
        registry = AssetRegistry.load(assets_dir)
        return load_batch_config(config, registry), registry
    except InvalidFile as exc:
        for problem in exc.problems:
            typer.echo(str(problem), err=True)
        raise typer.Exit(EXIT_INVALID) from None


@app.command()
def validate(configs: list[Path] = typer.Argument(..., help="Batch config YAML files."),
             assets_dir: Optional[Path] = AssetsOption) -> None:
    """Check batch configs: exit 0 when all are valid, 2 with every problem (file:line field: message)."""
    failed = False
    for config in configs:
        try:
            cfg, _ = _load(config, assets_dir)
        except typer.Exit:
            failed = True
            continue
        typer.echo(f"{config}: ok (batch {cfg.batch.name!r}, {cfg.batch.count} scenes, seed {cfg.batch.seed})")
    if failed:
        raise typer.Exit(EXIT_INVALID)


@app.command()
def sample(config: Path = typer.Argument(..., help="Batch config YAML."),
           start: int = typer.Option(0, "--start", min=0, help="First scene index."),
           count: Optional[int] = typer.Option(None, "--count", min=0,
                                               help="How many specs (default: the rest of the batch)."),
           assets_dir: Optional[Path] = AssetsOption) -> None:
    """Print fully resolved SceneSpecs as JSON lines."""
    from .sampler import SceneSampler

    cfg, registry = _load(config, assets_dir)
    n = max(cfg.batch.count - start, 0) if count is None else count
    out = sys.stdout
    for line in SceneSampler.create(cfg, registry).iter_json(start, n):
        out.write(line + "\n")


@app.command()
def schema(out: Path = typer.Option(Path("docs"), "--out", help="Folder for the JSON schema files.")) -> None:
    """Write the JSON schemas of BatchConfig and SceneSpec."""
    from .spec import scene_spec_json_schema

    out.mkdir(parents=True, exist_ok=True)
    for name, body in (("batch_config", BatchConfig.model_json_schema()),
                       ("scene_spec", scene_spec_json_schema())):
        path = out / f"{name}.schema.json"
        path.write_text(json.dumps(body, indent=2, sort_keys=True) + "\n")
        typer.echo(f"wrote {path}")


@app.command()
def render(config: Path = typer.Argument(Path("scene_configs/default.yaml"), help="Batch config YAML."),
           n: Optional[int] = typer.Option(None, "--n", min=1, help="Number of scenes (default: batch.count)."),
           out: Optional[str] = typer.Option(None, "--out", help="Output folder or URI (default: batch.output)."),
           address: Optional[str] = typer.Option(None, "--address", envvar="RAY_ADDRESS",
                                                 help="Ray cluster address (default: a local Ray in this process)."),
           workers: Optional[int] = typer.Option(None, "--workers", min=1, help="Render actors (default: by resources)."),
           cpus_per_worker: int = typer.Option(1, "--cpus-per-worker", min=1, help="CPU threads per render actor."),
           timeout: float = typer.Option(1800.0, "--scene-timeout", help="Seconds before a scene counts as hung."),
           attempts: int = typer.Option(3, "--max-attempts", min=1),
           pack_layout: Optional[str] = typer.Option(None, "--pack", help="Then pack OUT/<batch>/dataset in this "
                                                                           "layout (gata or synapt) and write its report."),
           renderer: str = typer.Option("blender", "--renderer", hidden=True),
           double: str = typer.Option("{}", "--test-double-options", hidden=True),
           assets_dir: Optional[Path] = AssetsOption) -> None:
    """Render a batch with Ray: OUT/<batch>/clips/<scene_id>/ and previews/; reruns resume."""
    from .dispatch import DispatchOptions, run_batch

    cfg, registry = _load(config, assets_dir)
    n = cfg.batch.count if n is None else n
    options = DispatchOptions(address=address, workers=workers, cpus_per_worker=cpus_per_worker,
                              scene_timeout_s=timeout, max_attempts=attempts, renderer=renderer,
                              double=json.loads(double))
    result = run_batch(cfg, registry, n, out or cfg.batch.output, options)
    failed = sum(result.failed.values())
    typer.echo(f"{result.uri}: {result.rendered} rendered, {result.already_complete} already complete, "
               f"{failed} failed {dict(result.failed) or ''}; retries {dict(result.retries) or 'none'}; "
               f"{result.seconds:.0f} s")
    if pack_layout:
        from postprocess.pack import PackOptions
        from postprocess.pack import pack as run_pack
        from postprocess.report import write_report
        if "://" in result.uri:
            typer.echo("--pack works on a local output folder; run `synthact pack` where the clips are", err=True)
            raise typer.Exit(EXIT_INVALID)
        dataset = Path(result.uri) / "dataset"
        packed = run_pack(Path(result.uri), dataset, PackOptions(layout=pack_layout))
        typer.echo(f"{dataset}: {packed.packed} clips packed ({packed.rejected} rejected by QC); "
                   f"report: {write_report(dataset)}")
    if failed:
        raise typer.Exit(1)


@app.command()
def submit(config: Path = typer.Argument(..., help="Batch config YAML."),
           address: str = typer.Option(..., "--address", envvar="RAY_JOB_ADDRESS",
                                       help="The cluster's dashboard, e.g. http://HEAD:8265."),
           n: Optional[int] = typer.Option(None, "--n", min=1),
           out: Optional[str] = typer.Option(None, "--out", help="Output URI or shared path (default: batch.output)."),
           workers: Optional[int] = typer.Option(None, "--workers", min=1),
           renderer: str = typer.Option("blender", "--renderer", hidden=True),
           double: str = typer.Option("{}", "--test-double-options", hidden=True),
           assets_dir: Optional[Path] = AssetsOption) -> None:
    """Submit a batch to a Ray cluster (Jobs API); follow it with `synthact status` and `synthact logs`."""
    import os

    from . import jobs

    cfg, _ = _load(config, assets_dir)
    extra = [] if renderer == "blender" else ["--renderer", renderer, "--test-double-options", double]
    env = {k: v for k, v in os.environ.items() if k.startswith("SYNTHACT_")}
    job_id = jobs.submit(address, config, cfg.batch.name, n or cfg.batch.count, out or cfg.batch.output, workers,
                         extra, env)
    typer.echo(job_id)


@app.command()
def status(job_id: str = typer.Argument(..., help="A job id printed by `synthact submit`."),
           address: str = typer.Option(..., "--address", envvar="RAY_JOB_ADDRESS")) -> None:
    """A submitted batch's job state and, when its output is reachable, its progress."""
    from . import jobs
    typer.echo(json.dumps(jobs.status(address, job_id), indent=2))


@app.command()
def logs(job_id: str = typer.Argument(...), address: str = typer.Option(..., "--address", envvar="RAY_JOB_ADDRESS"),
         follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing until the job ends.")) -> None:
    """A submitted batch's log (the manager's output)."""
    from . import jobs
    for chunk in jobs.logs(address, job_id, follow):
        typer.echo(chunk, nl=False)


@app.command()
def serve(root: Path = typer.Option(Path("output/service"), "--root", help="Where submitted batches are written."),
          token: Optional[str] = typer.Option(None, "--token", envvar="SYNTHACT_TOKEN",
                                              help="Bearer token clients must send (default: a new random one)."),
          host: str = typer.Option("127.0.0.1", "--host"), port: int = typer.Option(8000, "--port"),
          address: Optional[str] = typer.Option(None, "--address", envvar="RAY_ADDRESS"),
          assets_dir: Optional[Path] = AssetsOption) -> None:
    """Serve batch submission over HTTP: POST /batches (YAML), GET /batches/NAME, GET .../files[/PATH]."""
    import secrets

    import uvicorn

    from .dispatch import DispatchOptions, connect
    from .service import create_app

    if not token:
        token = secrets.token_urlsafe(24)
        typer.echo(f"token: {token}", err=True)
    connect(address)
    app = create_app(root, token, AssetRegistry.load(assets_dir), DispatchOptions(address=address))
    uvicorn.run(app, host=host, port=port, log_level="warning")


@app.command()
def pack(raw: Path = typer.Argument(..., help="A rendered batch folder (with clips/) or a folder of clips."),
         out: Path = typer.Option(..., "--out", help="Dataset folder (created, or extended with new clips)."),
         layout: str = typer.Option("gata", "--layout", help="gata (renders of a motion together) or synapt."),
         modalities: str = typer.Option("rgb,depth,flow,segmentation,keypoints", "--modalities"),
         per_class: Optional[int] = typer.Option(None, "--per-class", min=1, help="synapt: clips per class."),
         shard_clips: int = typer.Option(1000, "--shard-clips", min=1, help="At most this many clips per shard."),
         shard_gb: float = typer.Option(1.0, "--shard-gb", help="At most about this many GB per shard."),
         qc: Optional[Path] = typer.Option(None, "--qc", help="YAML with QC thresholds (docs/FORMAT.md)."),
         workers: int = typer.Option(2, "--workers", min=1)) -> None:
    """QC clips and pack the accepted ones into WebDataset shards + Parquet tables."""
    from postprocess.pack import PackOptions
    from postprocess.pack import pack as run_pack
    from postprocess.qc import QCThresholds

    thresholds = QCThresholds()
    if qc is not None:
        from pydantic import ValidationError

        from .problems import problems_from
        from .yaml_source import YamlError, load_yaml
        try:
            doc = load_yaml(qc)
            thresholds = QCThresholds.model_validate(doc.data or {})
        except YamlError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(EXIT_INVALID) from None
        except ValidationError as exc:
            for problem in problems_from(exc, doc, QCThresholds):
                typer.echo(str(problem), err=True)
            raise typer.Exit(EXIT_INVALID) from None
    options = PackOptions(layout=layout, modalities=tuple(m.strip() for m in modalities.split(",") if m.strip()),
                          per_class=per_class, shard_max_clips=shard_clips, shard_max_bytes=int(shard_gb * 1e9),
                          workers=workers, thresholds=thresholds)
    try:
        result = run_pack(raw, out, options)
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(EXIT_INVALID) from None
    typer.echo(f"{out}: {result.accepted} clips accepted, {result.rejected} rejected (see rejections.parquet); "
               f"{result.packed} packed into {len(result.new_shards)} new shard(s), {result.already_packed} were "
               f"already in the dataset")


@app.command()
def report(dataset: Path = typer.Argument(..., help="A packed dataset folder."),
           out: Optional[Path] = typer.Option(None, "--out", help="HTML file (default: DATASET/report.html)."),
           sheets: int = typer.Option(6, "--sheets", min=0, help="Sample clips to show.")) -> None:
    """Write an HTML QA report: class and factor distributions, QC rejections, sample clips."""
    from postprocess.report import write_report
    typer.echo(f"wrote {write_report(dataset, out, sheets)}")


@app.command()
def download(source: str = typer.Argument(..., help="Dataset folder, http(s):// URL (the service's "
                                                     ".../batches/NAME/files/dataset) or fsspec URI."),
             dest: Path = typer.Argument(..., help="Where to put it."),
             layout: Optional[str] = typer.Option(None, "--layout", help="Fail unless the dataset has this layout."),
             split: Optional[str] = typer.Option(None, "--split", help="Only shards with clips of this split."),
             token: Optional[str] = typer.Option(None, "--token", envvar="SYNTHACT_TOKEN")) -> None:
    """Fetch a packed dataset; resumes partial files and verifies every shard's sha256."""
    from postprocess.download import download as run_download
    try:
        result = run_download(source, dest, layout, split, token)
    except (ValueError, IOError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(EXIT_INVALID) from None
    typer.echo(f"{dest}: {len(result.fetched)} files fetched ({result.bytes / 1e6:.1f} MB), "
               f"{len(result.skipped)} already present and verified")


@app.command()
def train(config: Optional[Path] = typer.Argument(None, help="Training YAML (keys of trainer.train.TrainConfig)."),
          shards: str = typer.Option(..., "--shards", help="A gata dataset folder, or a shard URL/pattern."),
          out: Path = typer.Option(Path("output/train"), "--out", help="Checkpoints and metrics; reruns resume."),
          steps: Optional[int] = typer.Option(None, "--steps", min=1)) -> None:
    """Pretraining on packed shards, MoCo v2 on GATA pairs (or supervised with `objective: supervised`);
    CUDA when present, else CPU."""
    from pydantic import ValidationError

    from trainer.train import TrainConfig
    from trainer.train import train as run_train

    from .problems import problems_from
    from .yaml_source import YamlError, load_yaml
    data = {}
    if config is not None:
        try:
            doc = load_yaml(config)
            data = doc.data or {}
            cfg = TrainConfig.model_validate(data)
        except YamlError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(EXIT_INVALID) from None
        except ValidationError as exc:
            for problem in problems_from(exc, doc, TrainConfig):
                typer.echo(str(problem), err=True)
            raise typer.Exit(EXIT_INVALID) from None
    cfg = TrainConfig.model_validate({**data, **({"steps": steps} if steps else {})})
    typer.echo(f"checkpoint: {run_train(cfg, shards, out)}")


@app.command("eval")
def eval_checkpoint(checkpoint: Path = typer.Argument(..., help="A checkpoint from `synthact train` (last.pt)."),
                    dataset: Path = typer.Option(..., "--dataset", help="A packed dataset or class folders of videos."),
                    out: Optional[Path] = typer.Option(None, "--out", help="Metrics JSON (a PNG chart goes beside it)."),
                    finetune_epochs: int = typer.Option(
                        0, "--finetune-epochs", min=0,
                        help="Also fine-tune the whole network (and train the random one from scratch) for this "
                             "many epochs; 0 skips it (slow on CPU).")) -> None:
    """kNN, linear probe, fine-tuning and same-motion retrieval of a checkpoint vs a random network;
    bias log(M/M_rnd)."""
    from trainer.evaluate import evaluate_checkpoint
    metrics = evaluate_checkpoint(checkpoint, dataset, out, finetune_epochs)
    typer.echo(json.dumps({k: metrics[k] for k in ("model", "random_init", "bias")}, indent=2))


@app.command("render-scene")
def render_scene(config: Path = typer.Argument(..., help="Batch config YAML."),
                 index: int = typer.Option(..., "--index", min=0, help="Scene index in the batch."),
                 out: Path = typer.Option(Path("output/scenes"), "--out", help="Folder that receives <scene_id>/."),
                 preview: bool = typer.Option(True, help="Also write <scene_id>/preview.png."),
                 assets_dir: Optional[Path] = AssetsOption) -> None:
    """Render one scene of a batch into a clip directory (RGB, depth, flow, segmentation, keypoints)."""
    from render_workers.worker import RenderWorker, SceneError

    from .sampler import SceneSampler

    cfg, registry = _load(config, assets_dir)
    spec = SceneSampler.create(cfg, registry).sample(index)
    try:
        clip = RenderWorker(device=spec.render.device, registry=registry).render(spec, out)
    except SceneError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(EXIT_INVALID) from None
    stats = json.loads((clip / "stats.json").read_text())
    typer.echo(f"{clip}: {spec.render.frames} frames, {stats['seconds_per_frame']:.3f} s/frame on {stats['device']}")
    if preview:
        from render_workers.preview import contact_sheet
        typer.echo(f"preview: {contact_sheet(clip, clip.parent / (clip.name + '.preview.png'))}")


@app.command("preview")
def preview_clip(clip: Path = typer.Argument(..., help="A clip directory."),
                 out: Path = typer.Option(..., "--out", "-o", help="PNG contact sheet to write."),
                 frames: int = typer.Option(4, "--frames", min=1)) -> None:
    """Contact sheet of a clip: RGB, keypoint skeletons, depth, flow (colour-coded), segmentation."""
    from render_workers.clipdir import is_complete
    from render_workers.preview import contact_sheet

    if not is_complete(clip):
        typer.echo(f"{clip}: not a complete clip directory (no manifest.json)", err=True)
        raise typer.Exit(EXIT_INVALID)
    typer.echo(f"wrote {contact_sheet(clip, out, frames)}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
