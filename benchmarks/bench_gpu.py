"""The GPU figures in one short run (`make bench-gpu`, under 10 minutes on one CUDA GPU).

  python benchmarks/bench_gpu.py [--clips 16] [--steps 30] [--out output/bench_gpu] [--no-append]

1. Renders the first N scenes of scene_configs/default.yaml with `synthact render` (render.device: auto
   picks the GPU: Cycles on OptiX or CUDA, one worker per GPU) and packs them (gata): s/frame, clips/min per
   GPU, and the per-stage split from the clips' stats.json.
2. Trains MoCo steps in bf16 autocast (what `synthact train` does on CUDA) on the packed shards and on
   synthetic batches at the published width: steps/s, clips/s and peak GPU memory.
Rows are printed and appended to BENCHMARKS.md's GPU section. On a machine without a CUDA GPU it measures
nothing and says so (exit 2): CPU figures are `make bench`'s. The venv's pinned torch is a CPU build where
`make setup` finds one on local disk; on a GPU machine install the CUDA build of the same version first.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import torch

from synthact.train.data import PairStream
from synthact.train.moco import MoCo
from synthact.train.models import backbone
from synthact.train.train import shard_list

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


def train_steps(model: MoCo, batches, steps: int) -> tuple[float, float]:
    """(seconds per step over `steps` after two warm-up steps, peak GPU memory in GiB)."""
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01, momentum=0.9)
    torch.cuda.reset_peak_memory_stats()
    times = []
    for i, (a, b) in zip(range(steps + 2), batches):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = model(a.cuda(non_blocking=True), b.cuda(non_blocking=True))["loss"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        torch.cuda.synchronize()
        if i >= 2:
            times.append(time.perf_counter() - t0)
    return sum(times) / len(times), torch.cuda.max_memory_allocated() / 2 ** 30


def train(dataset: Path, steps: int) -> list[str]:
    rows = []
    for name, width, batch, size in (("r2plus1d_18", 64, 32, 112), ("r3d_18", 64, 32, 112)):
        model = MoCo(backbone(name, 8, width), queue_size=4096).cuda()
        synthetic = iter(lambda: (torch.randn(batch, 3, 8, size, size), torch.randn(batch, 3, 8, size, size)), None)
        seconds, memory = train_steps(model, synthetic, steps)
        rows.append(f"MoCo step, {name} width {width}, batch {batch} x 8x{size}x{size}, bf16 autocast, "
                    f"synthetic batches | {1 / seconds:.2f} steps/s ({batch / seconds:.0f} clips/s) | "
                    f"peak {memory:.1f} GiB; mean of {steps} steps after 2 warm-up steps")
    loader = torch.utils.data.DataLoader(PairStream(shard_list(str(dataset)), 8, 112, "gata", 0, 0),
                                         batch_size=8, num_workers=4, drop_last=True)

    def endless():
        while True:
            yield from loader
    model = MoCo(backbone("r2plus1d_18", 8, 64), queue_size=4096).cuda()
    seconds, memory = train_steps(model, endless(), min(steps, 20))
    rows.append(f"MoCo step on the rendered shards (decode + crop + augment in 4 loader workers), r2plus1d_18 "
                f"width 64, batch 8 x 8x112x112, bf16 | {1 / seconds:.2f} steps/s | peak {memory:.1f} GiB; "
                f"the loader, not the GPU, sets this pace when it is below the synthetic row")
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
    rows += train(args.out / "default" / "dataset", args.steps)
    for r in rows:
        print(f"| {date.today()} | {machine()} | {r} |", flush=True)
    if not args.no_append:
        append(rows)


if __name__ == "__main__":
    main()
