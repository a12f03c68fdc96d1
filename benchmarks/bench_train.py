"""Trainer speed: pair loader throughput and one MoCo training step per backbone (CPU here, GPU if present).

  python benchmarks/bench_train.py DATASET      # a gata dataset folder (e.g. output/default/dataset)
"""
from __future__ import annotations

import argparse
import os
import platform
import time
from datetime import date

import torch

from synthact.train.data import ClipCache, PairStream
from synthact.train.moco import MoCo
from synthact.train.models import backbone
from synthact.train.train import pick_device, shard_list

MACHINE = f"{platform.node() or 'host'}: {os.cpu_count()} cores, Python {platform.python_version()}"


def row(what: str, figure: str, note: str = "") -> None:
    print(f"| {date.today()} | {MACHINE} | {what} | {figure} | {note} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dataset")
    parser.add_argument("--pairs", type=int, default=32)
    args = parser.parse_args()
    shards = shard_list(args.dataset)
    for workers in (0, 2):
        loader = torch.utils.data.DataLoader(PairStream(shards, 8, 112, "gata", 0, 0), batch_size=1,
                                             num_workers=workers)
        t0, n = time.perf_counter(), 0
        while n < args.pairs:
            for _ in loader:
                n += 1
                if n >= args.pairs:
                    break
        wall = time.perf_counter() - t0
        row(f"GATA pair loader, {workers} workers (decode mp4, crop, augment; 8x112x112)",
            f"{2 * n / wall:.1f} clips/s", f"{n} pairs")
    cache = ClipCache()
    for _ in PairStream(shards, 8, 112, "gata", 0, 0, cache):  # one pass fills the cache
        pass
    t0, n = time.perf_counter(), 0
    while n < args.pairs:
        for _ in PairStream(shards, 8, 112, "gata", 0, 1, cache):
            n += 1
            if n >= args.pairs:
                break
    row("GATA pair loader, cache_clips (decoded clips in memory; crop, augment; 8x112x112)",
        f"{2 * n / (time.perf_counter() - t0):.1f} clips/s",
        f"{n} pairs, {sum(map(len, cache.by_shard.values()))} motions cached")
    device = pick_device()
    setups = [(name, 64, 8, 112) for name in ("tsm_r18", "r3d_18", "r2plus1d_18")]  # the published widths
    setups += [(name, 16, 16, 64) for name in ("tsm_r18", "r3d_18", "r2plus1d_18")]  # docs/EXPERIMENTS.md size
    for name, width, batch, size in setups:
        model = MoCo(backbone(name, 8, width), queue_size=4096).to(device)
        opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01, momentum=0.9)
        a = torch.randn(batch, 3, 8, size, size, device=device)
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            loss = model(a, a.flip(-1))["loss"]
            opt.zero_grad()
            loss.backward()
            opt.step()
            if device.type == "cuda":
                torch.cuda.synchronize()
            times.append(time.perf_counter() - t0)
        row(f"MoCo train step, {name} width {width}, batch {batch} x 8x{size}x{size} ({device.type}, "
            f"{torch.get_num_threads()} threads)", f"{min(times[1:]):.2f} s/step", "best of 2 after a warm-up step")

if __name__ == "__main__":
    main()
