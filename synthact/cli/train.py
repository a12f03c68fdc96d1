"""Training and evaluation: train, eval."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from synthact.config import InvalidFile, load_model
from synthact.progress import Bars

from .common import config_file, existing_dir, fail, report_problems, writable_dir


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
                                                 help="A packed dataset, or class folders of videos: ROOT/<class>/ "
                                                      "or ROOT/<split>/<class>/ (a synapt dataset's videos/)."),
                    split: str = typer.Option("test", "--split", help="The held-out split to score: test or val."),
                    out: Optional[Path] = typer.Option(None, "--out",
                                                       help="Metrics JSON (a PNG chart goes beside it)."),
                    finetune_epochs: int = typer.Option(
                        0, "--finetune-epochs", min=0,
                        help="Also fine-tune the whole network (and train the random one from scratch) for this "
                             "many epochs; 0 skips it (slow on CPU).")) -> None:
    """kNN, linear probe, fine-tuning and same-motion retrieval of a checkpoint vs a random network, each top-1
    with a 95% interval; bias log(M/M_rnd). Refuses (exit 2, with the reason) when the split cannot give a
    meaningful number."""
    from synthact.train.evaluate import evaluate_checkpoint

    if split not in ("test", "val"):
        fail(f"--split must be test or val, got {split!r}")
    if not checkpoint.is_file():
        fail(f"{checkpoint}: not found (expected a checkpoint written by synthact train)")
    if not (checkpoint.parent / "config.json").is_file():
        fail(f"{checkpoint.parent}/config.json: not found (the training config written beside the checkpoint)")
    existing_dir(dataset, "a packed dataset or class folders of videos")
    try:
        with Bars() as bars:
            metrics = evaluate_checkpoint(checkpoint, dataset, out, finetune_epochs, split, bars)
    except ValueError as exc:
        fail(f"{dataset}: cannot evaluate: {exc}")
    typer.echo(metrics_table(metrics))


def metrics_table(metrics: dict) -> str:
    """Each top-1 of the model and the random network with its 95% interval."""
    from synthact.train.evaluate import METRICS

    def cell(m: dict, name: str) -> str:
        if m.get(name) is None:
            return "-"
        lo, hi = m[f"{name}_ci95"]
        return f"{m[name]:.3f} [{lo:.3f}, {hi:.3f}]"
    lines = [f"{metrics['test_clips']} {metrics['split']} clips of {metrics['classes']} classes "
             f"(majority class {metrics['majority_top1']:.3f}); {metrics['train_clips']} train clips; "
             f"retrieval over {metrics['retrieval_queries']} held-out renders",
             f"{'top-1 (95% interval)':<16} {'model':>24} {'random init':>24}"]
    for name in METRICS:
        if name in metrics["model"]:
            lines.append(f"{name:<16} {cell(metrics['model'], name):>24} {cell(metrics['random_init'], name):>24}")
    lines.append(f"bias log(M/M_rnd) of the linear probe: {metrics['bias']:.3f}")
    return "\n".join(lines)


def register(app: typer.Typer) -> None:
    app.command()(train)
    app.command("eval")(eval_checkpoint)
