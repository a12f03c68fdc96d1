"""Training and evaluation: train, eval."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from synthact.config import InvalidFile, load_model

from .common import existing_dir, fail, report_problems, writable_dir


def train(config: Optional[Path] = typer.Argument(None, help="Training YAML (keys of synthact.train.TrainConfig)."),
          shards: str = typer.Option(..., "--shards", help="A gata dataset folder, or a shard URL or brace pattern."),
          out: Path = typer.Option(Path("output/train"), "--out", help="Checkpoints and metrics; reruns resume."),
          steps: Optional[int] = typer.Option(None, "--steps", min=1)) -> None:
    """Pretraining on packed shards, MoCo v2 on GATA pairs (or supervised with `objective: supervised`);
    CUDA when present, else CPU."""
    from synthact.train.train import TrainConfig
    from synthact.train.train import train as run_train

    try:
        cfg = load_model(config, TrainConfig, empty_ok=True) if config is not None else TrainConfig()
    except InvalidFile as exc:
        report_problems(exc)
    if steps:
        cfg = cfg.model_copy(update={"steps": steps})
    if "://" not in shards and not any(c in shards for c in "{*") and not Path(shards).exists():
        fail(f"{shards}: not found (expected a gata dataset folder or shard files)")
    writable_dir(out, "checkpoints")
    try:
        typer.echo(f"checkpoint: {run_train(cfg, shards, out)}")
    except (FileNotFoundError, ValueError) as exc:
        fail(str(exc))


def eval_checkpoint(checkpoint: Path = typer.Argument(..., help="A checkpoint from `synthact train` (last.pt)."),
                    dataset: Path = typer.Option(..., "--dataset", help="A packed dataset or class folders of videos."),
                    out: Optional[Path] = typer.Option(None, "--out",
                                                       help="Metrics JSON (a PNG chart goes beside it)."),
                    finetune_epochs: int = typer.Option(
                        0, "--finetune-epochs", min=0,
                        help="Also fine-tune the whole network (and train the random one from scratch) for this "
                             "many epochs; 0 skips it (slow on CPU).")) -> None:
    """kNN, linear probe, fine-tuning and same-motion retrieval of a checkpoint vs a random network;
    bias log(M/M_rnd)."""
    from synthact.train.evaluate import evaluate_checkpoint

    if not checkpoint.is_file():
        fail(f"{checkpoint}: not found (expected a checkpoint written by synthact train)")
    if not (checkpoint.parent / "config.json").is_file():
        fail(f"{checkpoint.parent}/config.json: not found (the training config written beside the checkpoint)")
    existing_dir(dataset, "a packed dataset or class folders of videos")
    try:
        metrics = evaluate_checkpoint(checkpoint, dataset, out, finetune_epochs)
    except ValueError as exc:
        fail(str(exc))
    typer.echo(json.dumps({k: metrics[k] for k in ("model", "random_init", "bias")}, indent=2))


def register(app: typer.Typer) -> None:
    app.command()(train)
    app.command("eval")(eval_checkpoint)
