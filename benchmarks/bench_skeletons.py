"""Skeleton-only sampling throughput (`synthact skeletons`: motions, bodies and cameras, no rendering).

  python benchmarks/bench_skeletons.py [--n 2000] [--workers 1 2]
Prints Markdown rows for BENCHMARKS.md: clips per minute for the default and gata presets.
"""
from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from datetime import date
from pathlib import Path

from synthact.config import AssetRegistry
from synthact.render.skeletons import sample_skeletons
from synthact.scene import load_batch_config

ROOT = Path(__file__).resolve().parent.parent
MACHINE = f"{platform.node() or 'host'}: {os.cpu_count()} cores, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    registry = AssetRegistry.load(ROOT / "synthact" / "assets_manifests")
    for preset in ("default", "gata"):
        config = load_batch_config(ROOT / "scene_configs" / f"{preset}.yaml", registry)
        for workers in args.workers:
            with tempfile.TemporaryDirectory() as out:
                t0 = time.perf_counter()
                sample_skeletons(config, registry, args.n, Path(out), workers=workers)
                seconds = time.perf_counter() - t0
                size = sum(p.stat().st_size for p in Path(out).iterdir())
            print(f"| {date.today()} | {MACHINE} | skeletons, {preset}.yaml ({config.render.frames} frames), "
                  f"{workers} worker(s) | {args.n / seconds * 60:,.0f} clips/min | {args.n} clips in {seconds:.1f} s "
                  f"(body models load included); {size / args.n / 1e3:.1f} kB per clip |", flush=True)


if __name__ == "__main__":
    main()
