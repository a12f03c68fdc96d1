"""Sampler throughput and memory: sample and serialise N SceneSpecs as JSON lines (to /dev/null).

Usage: python benchmarks/bench_sampler.py [--n 100000] [--config scene_configs/default.yaml]
Prints one Markdown table row for BENCHMARKS.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import resource
import time
from datetime import date

from synthact.config.assets import AssetRegistry
from synthact.scene import load_batch_config
from synthact.scene.sampler import SceneSampler


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--config", default="scene_configs/default.yaml")
    args = parser.parse_args()
    registry = AssetRegistry.load()
    sampler = SceneSampler.create(load_batch_config(args.config, registry), registry)
    sampler.sample(0)  # warm caches before measuring
    rss_start = rss_mb()
    rss_at = {}
    t0 = time.perf_counter()
    with open(os.devnull, "w") as sink:
        for i, line in enumerate(sampler.iter_json(0, args.n)):
            sink.write(line + "\n")
            if (i + 1) in (args.n // 10, args.n):
                rss_at[i + 1] = rss_mb()
    elapsed = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    growth = rss_at[args.n] - rss_at[args.n // 10]
    print(f"| {date.today()} | {platform.node() or 'host'}: {os.cpu_count()} cores, Python {platform.python_version()} "
          f"| sampler | {args.config} | N={args.n} | {elapsed:.1f} s ({elapsed / args.n * 1e6:.0f} µs/spec) "
          f"| RSS {rss_start:.0f} MB at start, {rss_at[args.n]:.0f} MB at end "
          f"(+{growth:.1f} MB from 10% to 100%), peak {peak:.0f} MB |")


if __name__ == "__main__":
    main()
