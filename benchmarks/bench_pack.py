"""Packing and shard-reading throughput on real rendered clips.

  python benchmarks/bench_pack.py RAW_BATCH_DIR [--copies 15]
Copies the batch's clips (under new names) to get a workload, packs it (QC + shards + tables), then
reads every shard back with webdataset. Prints Markdown rows for BENCHMARKS.md.
"""
from __future__ import annotations

import argparse
import glob
import os
import platform
import resource
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path

import webdataset as wds

from synthact.dataset.pack import PackOptions, find_clips, pack

MACHINE = f"{platform.node() or 'host'}: {os.cpu_count()} cores, Python {platform.python_version()}"


def row(what: str, figure: str, note: str = "") -> None:
    print(f"| {date.today()} | {MACHINE} | {what} | {figure} | {note} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("raw")
    parser.add_argument("--copies", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "raw" / "clips"
        work.mkdir(parents=True)
        for c in range(args.copies):
            for clip in find_clips(Path(args.raw)):
                shutil.copytree(clip, work / f"{clip.name[:12]}{c:04d}")
        clips = find_clips(work.parent)
        size = sum(p.stat().st_size for p in work.rglob("*") if p.is_file()) / 1e6
        t0 = time.perf_counter()
        result = pack(work.parent, Path(tmp) / "ds", PackOptions(layout="gata", shard_max_clips=50))
        wall = time.perf_counter() - t0
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        row(f"pack (QC + gata shards + tables), {len(clips)} clips, {size:.0f} MB", f"{size / wall:.0f} MB/s, "
            f"{len(clips) / wall:.1f} clips/s",
            f"{result.packed} packed; peak RSS: packer {own:.0f} MB, largest QC worker {workers:.0f} MB")
        shards = sorted(glob.glob(str(Path(tmp) / "ds" / "shards" / "*.tar")))
        t0 = time.perf_counter()
        n = total = 0
        for sample in wds.WebDataset(shards, shardshuffle=False):
            n += 1
            total += sum(len(v) for k, v in sample.items() if not k.startswith("__"))
        wall = time.perf_counter() - t0
        row(f"read shards with webdataset ({len(shards)} shards)", f"{total / 1e6 / wall:.0f} MB/s, {n / wall:.0f} "
            f"samples/s", "raw bytes, no decoding")


if __name__ == "__main__":
    main()
