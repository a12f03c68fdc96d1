"""The GPU figures in one short run (`make bench-gpu`, under 10 minutes on one CUDA GPU).

  python benchmarks/bench_gpu.py [--clips 16] [--steps 30] [--out output/bench_gpu] [--no-append]

1. Renders the first N scenes of scene_configs/default.yaml with `synthact render` (render.device: auto
   picks the GPU: Cycles on OptiX or CUDA, one worker per GPU) and packs them (gata): s/frame, clips/min per
   GPU, and the per-stage split from the clips' stats.json.
2. Times `train()` itself (what `synthact train` runs: precision auto, so bf16 autocast on a GPU with bf16,
   shuffle BN, metrics), at the published width on synthetic batches fed in place of its shard stream, and
   on the packed shards: steps/s from the `seconds` of its metrics.jsonl, clips/s and peak GPU memory.
Rows are printed and appended to BENCHMARKS.md's GPU section. On a machine without a CUDA GPU it measures
nothing and says so (exit 2): CPU figures are `make bench`'s. The venv's pinned torch is a CPU build where
`make setup` finds one on local disk; on a GPU machine install the CUDA build of the same version first.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from unittest import mock

import torch

import synthact.train.train as trainer
from synthact.train.train import TrainConfig, shard_list

ROOT = Path(__file__).resolve().parent.parent
HEADER = "## GPU (issue: evidence v2)"


def machine() -> str:
    gpus = ", ".join(sorted({torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())}))
    return (f"{platform.node() or 'host'}: {torch.cuda.device_count()}x {gpus}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}")


def render(clips: int, out: Path) -> list[str]:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "synthact", "render", str(ROOT / "scene_configs" / "default.yaml"),
                    "--n", str(clips), "--out", str(out), "--pack", "gata"], check=True)
    wall = time.perf_counter() - t0
    stats = [json.loads(p.read_text()) for p in sorted((out / "default" / "clips").glob("*/stats.json"))]
    frames = sum(s.get("frames", 0) for s in stats) or clips * 32
    stages: dict[str, float] = {}
    for s in stats:
        for stage, seconds in s.get("timings_s", {}).items():
            stages[stage] = stages.get(stage, 0.0) + seconds
    busy = sum(stages.values())
    split = ", ".join(f"{k} {v / busy:.0%}" for k, v in sorted(stages.items(), key=lambda kv: -kv[1]))
    gpus = max(torch.cuda.device_count(), 1)
    return [f"render, default.yaml, {len(stats)} clips (Cycles GPU, one worker per GPU) | "
            f"{busy / frames:.3f} s/frame in the worker; {60 * len(stats) / wall / gpus:.1f} clips/min per GPU | "
            f"{wall:.0f} s wall for the batch including Ray start-up and packing; stages: {split}"]


def timed_train(cfg: TrainConfig, shards: Path, out: Path, data=None, warmup: int = 2) -> tuple[float, float]:
    """One fresh `train()` run (what `synthact train` runs): (steps/s after `warmup` steps, from the `seconds`
    of its metrics.jsonl, and peak GPU memory in GiB). data: endless (a, b) batches fed to train() in place of
    its shard stream (the GPU's pace without the loader); everything else is train()'s own."""
    shutil.rmtree(out, ignore_errors=True)  # train() resumes from a last.pt it finds
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    source = mock.patch.object(trainer, "batches", lambda *_args, **_kw: data) if data is not None \
        else contextlib.nullcontext()
    with source:
        trainer.train(cfg, str(shards), out, log=lambda *_: None)
    memory = torch.cuda.max_memory_allocated() / 2 ** 30
    seconds = [json.loads(line)["seconds"] for line in (out / "metrics.jsonl").read_text().splitlines()]
    if len(seconds) <= warmup:
        raise RuntimeError(f"{out}: {len(seconds)} steps recorded, need more than {warmup}")
    return (len(seconds) - warmup) / (seconds[-1] - seconds[warmup - 1]), memory


def repeated(batch: int, frames: int, size: int):
    """The same random pair batch again and again (pinned: copied to the GPU as a loader's batch would be)."""
    a, b = (torch.randn(batch, 3, frames, size, size).pin_memory() for _ in range(2))
    while True:
        yield a, b


def train(dataset: Path, steps: int, out: Path) -> list[str]:
    rows = []
    precision = "bf16 autocast" if torch.cuda.is_bf16_supported() else "fp32 (no bf16 on this GPU)"
    for name, width, batch, size in (("r2plus1d_18", 64, 32, 112), ("r3d_18", 64, 32, 112)):
        cfg = TrainConfig(backbone=name, width=width, frames=8, size=size, batch_size=batch, queue_size=4096,
                          steps=steps + 2, checkpoint_every=steps + 2, workers=0)
        rate, memory = timed_train(cfg, dataset, out / f"train-{name}", repeated(batch, 8, size))
        rows.append(f"train() MoCo step, {name} width {width}, batch {batch} x 8x{size}x{size}, {precision} "
                    f"(precision: auto), synthetic batches in place of the shard stream | {rate:.2f} steps/s "
                    f"({batch * rate:.0f} clips/s) | peak {memory:.1f} GiB; {steps} steps after 2 warm-up steps, "
                    f"from train()'s metrics.jsonl")
    workers = min(4, len(shard_list(str(dataset))))
    cfg = TrainConfig(backbone="r2plus1d_18", width=64, frames=8, size=112, batch_size=8, queue_size=4096,
                      steps=min(steps, 20) + 2, checkpoint_every=min(steps, 20) + 2, workers=workers)
    rate, memory = timed_train(cfg, dataset, out / "train-shards")
    rows.append(f"train() MoCo step on the rendered shards (decode + crop + augment in {workers} loader "
                f"worker{'s' if workers > 1 else ''}, one per shard), r2plus1d_18 width 64, batch 8 x 8x112x112, "
                f"{precision} | {rate:.2f} steps/s | peak {memory:.1f} GiB; the loader, not the GPU, sets this "
                f"pace when it is below the synthetic row")
    return rows


def append(rows: list[str]) -> None:
    path = ROOT / "BENCHMARKS.md"
    text = path.read_text()
    if HEADER not in text:
        text += (f"\n{HEADER}\n\n`benchmarks/bench_gpu.py` (`make bench-gpu`): the default batch rendered by "
                 "Cycles on the GPU and MoCo steps in bf16.\n\n"
                 "| date | machine | what | figure | note |\n|---|---|---|---|---|\n")
    path.write_text(text.rstrip("\n") + "\n" + "".join(f"| {date.today()} | {machine()} | {r} |\n" for r in rows))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clips", type=int, default=16)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--out", type=Path, default=ROOT / "output" / "bench_gpu")
    parser.add_argument("--no-append", action="store_true", help="print the rows only")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("bench_gpu: no CUDA GPU on this machine (torch.cuda.is_available() is False); nothing measured",
              file=sys.stderr)
        sys.exit(2)
    rows = render(args.clips, args.out)
    rows += train(args.out / "default" / "dataset", args.steps, args.out)
    for r in rows:
        print(f"| {date.today()} | {machine()} | {r} |", flush=True)
    if not args.no_append:
        append(rows)


if __name__ == "__main__":
    main()
