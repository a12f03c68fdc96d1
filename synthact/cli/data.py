"""Datasets: pack, report, download."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from synthact.config import InvalidFile, load_model
from synthact.progress import Bars
from synthact.spec import MODALITY_NAMES

from .common import (
    existing_dir,
    fail,
    is_batch_folder,
    is_dataset_folder,
    output_file,
    read_token,
    report_problems,
    storage_location,
    writable_dir,
)


def pack(raw: Path = typer.Argument(..., help="A rendered batch folder (OUT/<batch>, with clips/) or a folder of "
                                              "clip directories."),
         out: Path = typer.Option(..., "--out", help="Dataset folder (created, or extended with new clips)."),
         layout: str = typer.Option("gata", "--layout", help="gata (renders of a motion together) or synapt."),
         modalities: str = typer.Option(",".join(MODALITY_NAMES), "--modalities",
                                        help="Comma-separated modalities to put in the shards."),
         per_class: Optional[int] = typer.Option(None, "--per-class", min=1, help="synapt: clips per class."),
         shard_clips: int = typer.Option(1000, "--shard-clips", min=1, help="At most this many clips per shard."),
         shard_gb: float = typer.Option(1.0, "--shard-gb", min=0.001, help="At most about this many GB per shard."),
         qc: Optional[Path] = typer.Option(None, "--qc", help="YAML with QC thresholds (docs/FORMAT.md)."),
         workers: int = typer.Option(2, "--workers", min=1)) -> None:
    """QC clips and pack the accepted ones into WebDataset shards + Parquet tables."""
    from synthact.clip import ClipReader
    from synthact.dataset.pack import PackOptions, find_clips
    from synthact.dataset.pack import pack as run_pack
    from synthact.dataset.qc import QCThresholds

    existing_dir(raw, "a rendered batch folder")
    if is_dataset_folder(raw):
        fail(f"{raw}: this is a packed dataset; pack takes the rendered batch folder (OUT/<batch>, with clips/)")
    if not is_batch_folder(raw) and not any(ClipReader.from_dir(p).exists("spec.json") for p in find_clips(raw)):
        batches = sorted(p.name for p in raw.iterdir() if is_batch_folder(p)) if raw.is_dir() else []
        hint = f"; it holds the batch folder(s) {', '.join(batches)}: pack {raw}/{batches[0]}" if batches else ""
        fail(f"{raw}: no clips/ folder and no clip directories (expected OUT/<batch>){hint}")
    try:
        thresholds = load_model(qc, QCThresholds, empty_ok=True) if qc is not None else QCThresholds()
    except InvalidFile as exc:
        report_problems(exc)
    writable_dir(out, "the dataset")
    options = PackOptions(layout=layout, modalities=tuple(m.strip() for m in modalities.split(",") if m.strip()),
                          per_class=per_class, shard_max_clips=shard_clips, shard_max_bytes=int(shard_gb * 1e9),
                          workers=workers, thresholds=thresholds)
    try:
        with Bars() as bars:
            result = run_pack(raw, out, options, bars)
    except ValueError as exc:
        fail(str(exc))
    if result.short_classes:
        shown = ", ".join(f"{name} {n}" for name, n in list(result.short_classes.items())[:8])
        more = f" and {len(result.short_classes) - 8} more" if len(result.short_classes) > 8 else ""
        typer.echo(f"{out}: {len(result.short_classes)} classes have fewer accepted clips than --per-class "
                   f"{per_class}: {shown}{more}; the dataset is not balanced at {per_class} a class (render more, or "
                   f"lower --per-class)", err=True)
    typer.echo(f"{out}: {result.accepted} clips accepted, {result.rejected} rejected (see rejections.parquet); "
               f"{result.packed} packed into {len(result.new_shards)} new shard(s), {result.already_packed} were "
               f"already in the dataset")


def report(dataset: Path = typer.Argument(..., help="A packed dataset folder (with dataset.json)."),
           out: Optional[Path] = typer.Option(None, "--out", help="HTML file (default: DATASET/report.html)."),
           sheets: int = typer.Option(6, "--sheets", min=0, help="Sample clips to show.")) -> None:
    """Write an HTML QA report: class and factor distributions, QC rejections, sample clips."""
    from synthact.dataset.report import write_report

    existing_dir(dataset, "a packed dataset")
    if not is_dataset_folder(dataset):
        hint = f"; pack it first: synthact pack {dataset} --out {dataset}/dataset" if is_batch_folder(dataset) else ""
        fail(f"{dataset}: no dataset.json (expected a packed dataset){hint}")
    if out is not None:
        output_file(out, (".html",), "report")
    with Bars() as bars:
        typer.echo(f"wrote {write_report(dataset, out, sheets, bars)}")


def download(source: str = typer.Argument(..., help="Dataset folder, http(s):// URL (the service's "
                                                     ".../batches/NAME/files/dataset) or fsspec URI."),
             dest: Path = typer.Argument(..., help="Where to put it."),
             layout: Optional[str] = typer.Option(None, "--layout", help="Fail unless the dataset has this layout."),
             split: Optional[str] = typer.Option(None, "--split", help="Only shards with clips of this split."),
             token_file: Optional[Path] = typer.Option(
                 None, "--token-file", envvar="SYNTHACT_TOKEN_FILE",
                 help="File holding the service's bearer token (or set SYNTHACT_TOKEN).")) -> None:
    """Fetch a packed dataset; resumes partial files and verifies every table's and shard's sha256."""
    from synthact.dataset.download import download as run_download

    token = read_token(token_file)
    storage_location(source, "the dataset", local_check=False)
    if "://" not in source:
        existing_dir(Path(source), "a packed dataset")
    writable_dir(dest, "the download")
    try:
        with Bars(unit="files") as bars:
            result = run_download(source, dest, layout, split, token, bars)
    except (ValueError, OSError) as exc:
        fail(f"{source}: {exc}")
    typer.echo(f"{dest}: {len(result.fetched)} files fetched ({result.bytes / 1e6:.1f} MB), "
               f"{len(result.skipped)} already present and verified")


export_app = typer.Typer(no_args_is_help=True, help="Write a packed dataset in the formats other tools read.")
DatasetArgument = typer.Argument(..., help="A packed dataset folder (with dataset.json).")
OutArgument = typer.Argument(..., help="Folder to write into (created).")


def _export(dataset: Path, out: Path, run) -> None:
    """Checks, a progress bar, and one line per written file (bad data: one line, exit 2)."""
    existing_dir(dataset, "a packed dataset")
    if not is_dataset_folder(dataset):
        fail(f"{dataset}: no dataset.json (expected a packed dataset)")
    writable_dir(out, "the export")
    try:
        with Bars() as bars:
            written = run(bars)
    except ValueError as exc:
        fail(f"{dataset}: {exc}")
    for path in (written.values() if isinstance(written, dict) else written):
        typer.echo(f"wrote {path}")


@export_app.command("coco")
def export_coco(dataset: Path = DatasetArgument, out: Path = OutArgument,
                frame_step: int = typer.Option(1, "--frame-step", min=1, help="Export every n-th frame.")) -> None:
    """COCO keypoints: OUT/annotations/person_keypoints_<split>.json (keypoints, boxes, RLE instance masks) and
    OUT/images/<split>/*.jpg."""
    from synthact.dataset.exports import export_coco as run
    _export(dataset, out, lambda bars: run(dataset, out, frame_step, bars))


@export_app.command("coco-panoptic")
def export_coco_panoptic(dataset: Path = DatasetArgument, out: Path = OutArgument,
                         frame_step: int = typer.Option(1, "--frame-step", min=1, help="Export every n-th frame.")
                         ) -> None:
    """COCO panoptic: OUT/annotations/panoptic_<split>.json and its PNGs (people and objects as things; floor,
    wall, ground, sky as stuff) and OUT/images/<split>/*.jpg."""
    from synthact.dataset.exports import export_coco_panoptic as run
    _export(dataset, out, lambda bars: run(dataset, out, frame_step, bars))


@export_app.command("mmaction")
def export_mmaction(dataset: Path = DatasetArgument, out: Path = OutArgument) -> None:
    """mmaction2 VideoDataset lists: OUT/<split>_list.txt (`<class>/<scene_id>.mp4 <label>`), OUT/classes.txt and
    OUT/videos/<class>/."""
    from synthact.dataset.exports import export_mmaction as run
    _export(dataset, out, lambda bars: run(dataset, out, bars))


@export_app.command("skeletons")
def export_skeletons(dataset: Path = DatasetArgument, out: Path = OutArgument,
                     joints: str = typer.Option("coco", "--joints", help="coco: the 17 COCO keypoints, mmaction2's "
                                                "`coco` graph; synthact22: the 22 canonical joints, as `synthact "
                                                "skeletons` samples them.")) -> None:
    """Skeleton sequences (mmaction2 PoseDataset): OUT/skeletons_2d.pkl, skeletons_3d.pkl, classes.txt,
    joints.json."""
    from synthact.dataset.exports import SKELETON_LAYOUTS
    from synthact.dataset.exports import export_skeletons as run
    if joints not in SKELETON_LAYOUTS:
        fail(f"--joints must be one of {', '.join(SKELETON_LAYOUTS)}, got {joints!r}")
    _export(dataset, out, lambda bars: run(dataset, out, bars, joints))


def register(app: typer.Typer) -> None:
    for command in (pack, report, download):
        app.command()(command)
    app.add_typer(export_app, name="export")
