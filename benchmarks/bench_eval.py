"""Evaluation at real-dataset scale (issue 27): peak memory of `synthact eval` on class folders of generated
videos, at two sizes in one run, so that the memory is seen not to grow with the dataset.

  python benchmarks/bench_eval.py [--videos 1000,10000] [--out output/bench_eval] [--no-append]

Videos: 10 classes of 160x120 MPEG-4 AVIs of 32 frames (a moving square on noise), written once per size.
The checkpoint: an R3D-18 at width 8 (8 frames, 32x32; its weights as initialised: the evaluation's cost,
not the network's quality, is measured), evaluated with 3 random networks, 1 clip per video, 2 decoding
workers. Peak RSS is the largest sum over the eval process and its children (sampled every 0.2 s).
Rows are printed and appended to BENCHMARKS.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import av
import numpy as np
import psutil

ROOT = Path(__file__).resolve().parent.parent
HEADER = "## Evaluation at scale (issue 27)"


def write_videos(root: Path, n: int, classes: int = 10) -> None:
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 60, (120, 160, 3), dtype=np.uint8)
    for i in range(n):
        path = root / f"class{i % classes:02d}" / f"v_class{i % classes:02d}_g{i // classes:05d}_c01.avi"
        if path.exists():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        with av.open(str(path), "w", format="avi") as container:
            stream = container.add_stream("mpeg4", rate=25)
            stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
            speed = 1 + i % classes
            for t in range(32):
                frame = noise.copy()
                x = (t * speed) % 140
                frame[40:70, x:x + 20] = 255
                container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
            container.mux(stream.encode(None))


def checkpoint(out: Path) -> Path:
    import torch

    from synthact.train.train import TrainConfig, build, save
    cfg = TrainConfig(backbone="r3d_18", width=8, frames=8, size=32, batch_size=2, steps=1, queue_size=8, dim=8,
                      hidden=16, workers=0)
    out.mkdir(parents=True, exist_ok=True)
    model = build(cfg)
    save(model, torch.optim.SGD(model.parameters(), lr=0.1), 1, out / "last.pt")
    (out / "config.json").write_text(cfg.model_dump_json(indent=2))
    return out / "last.pt"


def peak_rss(cmd: list[str]) -> tuple[float, float, int]:
    """(seconds, peak GB of the process tree, exit code)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    top, peak = psutil.Process(proc.pid), 0
    while proc.poll() is None:
        try:
            rss = top.memory_info().rss + sum(c.memory_info().rss for c in top.children(recursive=True))
            peak = max(peak, rss)
        except psutil.Error:
            pass
        time.sleep(0.2)
    err = proc.stderr.read()
    if proc.returncode:
        print(err[-2000:], file=sys.stderr)
    return time.perf_counter() - t0, peak / 1e9, proc.returncode


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--videos", default="1000,10000")
    ap.add_argument("--out", type=Path, default=ROOT / "output" / "bench_eval")
    ap.add_argument("--no-append", action="store_true")
    args = ap.parse_args()
    ckpt = checkpoint(args.out / "run")
    rows = []
    for n in (int(v) for v in args.videos.split(",")):
        root = args.out / f"videos{n}"
        t0 = time.perf_counter()
        write_videos(root, n)
        made = time.perf_counter() - t0
        seconds, gb, code = peak_rss([sys.executable, "-m", "synthact", "eval", str(ckpt), "--dataset", str(root),
                                      "--out", str(args.out / f"eval{n}.json"), "--clips", "1", "--workers", "2"])
        if code:
            sys.exit(f"synthact eval failed on {n} videos (exit {code})")
        rows.append(f"| {n:,} videos (160x120, 32 frames) | peak RSS {gb:.2f} GB (eval and its decoding workers) | "
                    f"{seconds:.0f} s, {n / seconds:.1f} videos/s with 4 networks | videos written in "
                    f"{made:.0f} s |")
    machine = f"{platform.node() or 'host'}: {os.cpu_count()} cores, Python {platform.python_version()}"
    text = f"\n{HEADER}\n\n{date.today()}, {machine}\n\n| dataset | memory | time | |\n|---|---|---|---|\n" + \
        "\n".join(rows) + "\n"
    print(text)
    if not args.no_append:
        with open(ROOT / "BENCHMARKS.md", "a") as f:
            f.write(text)


if __name__ == "__main__":
    main()
