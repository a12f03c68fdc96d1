"""Training and evaluation: train, eval, export-weights."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from synthact.config import InvalidFile, load_model
from synthact.progress import Bars

from .common import config_file, existing_dir, fail, output_file, report_problems, writable_dir


def train(config: Optional[Path] = typer.Argument(None, help="Training YAML (keys of synthact.train.TrainConfig), or "
                                                              "the name of a preset (cpu_small)."),
          shards: str = typer.Option(..., "--shards", help="A gata dataset folder, or a shard URL or brace pattern."),
          out: Path = typer.Option(Path("output/train"), "--out", help="Checkpoints and metrics; reruns resume."),
          steps: Optional[int] = typer.Option(None, "--steps", min=1, help="Overrides the config's steps."),
          seed: Optional[int] = typer.Option(None, "--seed", help="Overrides the config's seed.")) -> None:
    """Pretraining on packed shards, MoCo v2 on GATA pairs (or supervised with `objective: supervised`);
    CUDA when present, else CPU."""
    from synthact.train.train import TrainConfig
    from synthact.train.train import train as run_train

    try:
        cfg = load_model(config_file(config, "train"), TrainConfig, empty_ok=True) if config is not None \
            else TrainConfig()
    except InvalidFile as exc:
        report_problems(exc)
    overrides = {key: value for key, value in (("steps", steps), ("seed", seed)) if value is not None}
    cfg = cfg.model_copy(update=overrides)
    if "://" not in shards and not any(c in shards for c in "{*") and not Path(shards).exists():
        fail(f"{shards}: not found (expected a gata dataset folder or shard files)")
    writable_dir(out, "checkpoints")
    try:
        with Bars(unit="steps") as bars:
            last = run_train(cfg, shards, out, log=bars.log, progress=bars)
    except (FileNotFoundError, ValueError) as exc:
        fail(str(exc))
    typer.echo(f"checkpoint: {last}")


def eval_checkpoint(checkpoint: Path = typer.Argument(..., help="A checkpoint from `synthact train` (last.pt)."),
                    dataset: Path = typer.Option(..., "--dataset",
                                                 help="A packed dataset; UCF101 or HMDB51 in their official layouts "
                                                      "(videos and split files); or class folders of videos: "
                                                      "ROOT/<class>/ or ROOT/<split>/<class>/."),
                    split: str = typer.Option("test", "--split", help="The held-out split to score: test or val "
                                                                      "(choose on val, report test once)."),
                    out: Optional[Path] = typer.Option(None, "--out",
                                                       help="Metrics JSON with per-clip predictions (a PNG chart "
                                                            "goes beside it)."),
                    finetune_epochs: int = typer.Option(
                        0, "--finetune-epochs", min=0,
                        help="Also fine-tune the whole network (and train the random ones from scratch) for this "
                             "many epochs; 0 skips it (slow on CPU)."),
                    view: Optional[str] = typer.Option(None, "--view",
                                                       help="frame (shorter-side resize and crops: real videos) or "
                                                            "actor (the square around the first actor, as training "
                                                            "crops; packed datasets' default)."),
                    clips: int = typer.Option(1, "--clips", min=1, max=64,
                                              help="Clips per video, spread evenly; features are averaged."),
                    crops: int = typer.Option(1, "--crops", help="1 (centre) or 3 (along the longer side)."),
                    random_inits: int = typer.Option(3, "--random-inits", min=1, max=32,
                                                     help="Random networks the model is compared with."),
                    fold: int = typer.Option(1, "--fold", min=1, max=3, help="UCF101 / HMDB51 split number."),
                    workers: int = typer.Option(2, "--workers", min=0, max=64,
                                                help="Processes decoding videos ahead of the network."),
                    allow_partial_curriculum: bool = typer.Option(
                        False, "--allow-partial-curriculum",
                        help="Evaluate a checkpoint whose difference-to-RGB curriculum has not reached RGB.")) -> None:
    """kNN, linear probe (C chosen on val), fine-tuning and same-motion retrieval of a checkpoint vs random
    networks, each top-1 with a 95% interval and the gain over random with a bootstrap interval over motions;
    streams the videos (GPU when there is one). Refuses (exit 2, with the reason) when the numbers could not
    mean anything."""
    from synthact.train.evaluate import evaluate_checkpoint

    if split not in ("test", "val"):
        fail(f"--split must be test or val, got {split!r}")
    if view not in (None, "frame", "actor"):
        fail(f"--view must be frame or actor, got {view!r}")
    if crops not in (1, 3):
        fail(f"--crops must be 1 or 3, got {crops}")
    if not checkpoint.is_file():
        fail(f"{checkpoint}: not found (expected a checkpoint written by synthact train)")
    if not (checkpoint.parent / "config.json").is_file():
        fail(f"{checkpoint.parent}/config.json: not found (the training config written beside the checkpoint)")
    existing_dir(dataset, "a packed dataset, UCF101 or HMDB51, or class folders of videos")
    try:
        with Bars() as bars:
            metrics = evaluate_checkpoint(checkpoint, dataset, out, finetune_epochs, split, bars, view=view,
                                          clips=clips, crops=crops, random_inits=random_inits, fold=fold,
                                          workers=workers, allow_partial_curriculum=allow_partial_curriculum)
    except ValueError as exc:
        fail(f"{dataset}: cannot evaluate: {exc}")
    typer.echo(metrics_table(metrics))


def metrics_table(metrics: dict) -> str:
    """Each top-1 of the model and of the random networks (their mean) with its 95% interval, the majority-class
    rate beside it, and the model's gain with its bootstrap interval."""
    from synthact.train.evaluate import METRICS

    def cell(m: dict, name: str) -> str:
        if m.get(name) is None:
            return "-"
        lo, hi = m[f"{name}_ci95"]
        return f"{m[name]:.3f} [{lo:.2f}, {hi:.2f}]"

    def gain(name: str) -> str:
        g = metrics.get("gain_over_random", {}).get(name)
        return f"{g['value']:+.3f} [{g['ci95'][0]:+.2f}, {g['ci95'][1]:+.2f}]" if g else "-"
    lines = [f"{metrics['test_clips']} {metrics['split']} clips ({metrics['test_groups']} groups) of "
             f"{metrics['classes']} classes; {metrics['train_clips']} train, {metrics['val_clips']} val clips; "
             f"retrieval over {metrics['retrieval_queries']} renders; {metrics['skipped_videos']['count']} skipped",
             f"{'top-1':<15} {'model':>21} {'random (mean of ' + str(len(metrics['random_init']['inits'])) + ')':>21} "
             f"{'gain (motions)':>21} {'majority':>8}"]
    for name in METRICS:
        if name in metrics["model"]:
            majority = f"{metrics['majority_top1']:.3f}" if name != "retrieval_top1" else "-"
            lines.append(f"{name:<15} {cell(metrics['model'], name):>21} {cell(metrics['random_init'], name):>21} "
                         f"{gain(name):>21} {majority:>8}")
    lines.append(f"linear probe C = {metrics['model']['linear_C']} (chosen on val); bias log(M/M_rnd) "
                 f"{metrics['bias']:.3f}")
    return "\n".join(lines)


def register(app: typer.Typer) -> None:
    app.command()(train)
    app.command("eval")(eval_checkpoint)
    app.command("export-weights")(export_weights)


def export_weights(checkpoint: Path = typer.Argument(..., help="A checkpoint from `synthact train` (last.pt), with "
                                                                "its config.json beside it."),
                   format: str = typer.Option(..., "--format", help="torchvision or mmaction2."),
                   out: Path = typer.Option(..., "--out", help="The weights file to write (.pth or .pt); what they "
                                                               "expect as input goes to OUT.json."),
                   allow_partial_curriculum: bool = typer.Option(
                       False, "--allow-partial-curriculum",
                       help="Export a difference_to_rgb checkpoint from before the fade to RGB ended (its weights "
                            "expect x_t - alpha * x_(t-1), recorded in OUT.json).")) -> None:
    """The backbone of an R3D-18 or R(2+1)D-18 checkpoint (width 64, RGB input) as weights that
    torchvision.models.video or mmaction2 (Recognizer3D with the torchvision backbone) load; refuses (exit 2,
    with the reason) what they could not use."""
    from synthact.train.weights import FORMATS, export_backbone

    if format not in FORMATS:
        fail(f"--format {format}: unknown; choose {' or '.join(FORMATS)}")
    output_file(out, (".pth", ".pt"), "weights")
    try:
        written = export_backbone(checkpoint, format, out, allow_partial_curriculum)
    except ValueError as exc:
        fail(str(exc))
    typer.echo(f"{written['format']} weights of {written['architecture']} (step {written['step']}, "
               f"{written['parameters']:,} parameters): {written['weights']}")
    typer.echo(f"input they expect and how to load them: {written['info']}")
