"""Motion library import: throughput on the shared CMU trials, extrapolated to the 2,500-trial CMU set, and
memory against the number of files.

Usage: python benchmarks/bench_import.py [--workers N] [--copies K]   (prints Markdown table rows for
BENCHMARKS.md). The memory run imports the 49 trials K times over (each copy one byte longer, so a new file
to the importer) with one worker and samples the process's RSS after every file.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path

import psutil

from synthact.human.motions.import_library import ImportOptions, import_library

ROOT = Path(__file__).resolve().parent.parent
CMU = ROOT.parent / "shared" / "mocap" / "cmu_bvh"
CMU_TRIALS = 2435  # descriptions in CMU's index; the BVH releases hold about 2,500 files
MACHINE = f"{platform.node() or 'host'}: {os.cpu_count()} cores, Python {platform.python_version()}"


def row(what: str, figure: str, note: str = "") -> None:
    print(f"| {date.today()} | {MACHINE} | {what} | {figure} | {note} |")


def throughput(workers: int, work: Path) -> None:
    t0 = time.perf_counter()
    report = import_library("bench", CMU, ImportOptions(workers=workers), root=work / f"w{workers}")
    seconds = time.perf_counter() - t0
    files, motion = len(report.library.clips), sum(c.duration_s for c in report.library.clips)
    row(f"import-library, {files} CMU trials ({motion / 60:.1f} min of motion), {workers} worker(s)",
        f"{files / seconds:.1f} files/s, {motion / 60 / seconds:.2f} min of motion/s",
        f"{seconds:.1f} s; {CMU_TRIALS} trials at this rate: {CMU_TRIALS / (files / seconds) / 60:.1f} min")
    t0 = time.perf_counter()
    import_library("bench", CMU, ImportOptions(workers=workers), root=work / f"w{workers}")
    row("import-library rerun, nothing changed", f"{time.perf_counter() - t0:.2f} s for {files} files",
        "every file's sha256 is read again")


def memory(copies: int, work: Path) -> None:
    folder = work / "copies"
    folder.mkdir()
    for k in range(copies):
        for path in sorted(CMU.glob("*.bvh")):
            (folder / f"{path.stem}_c{k}.bvh").write_bytes(path.read_bytes() + b"\n" * (k + 1))
    process = psutil.Process()
    rss: list[float] = []
    import_library("memory", folder, ImportOptions(workers=1), root=work / "memory",
                   on_file=lambda *_: rss.append(process.memory_info().rss / 2**20))
    tenth, last = rss[len(rss) // 10], rss[-1]
    row(f"import-library memory, {len(rss)} files (the 49 trials x {copies}), 1 worker",
        f"RSS {tenth:.0f} MB after {len(rss) // 10} files -> {last:.0f} MB after {len(rss)} "
        f"({(last - tenth) / tenth:+.1%})", f"peak {max(rss):.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--copies", type=int, default=4)
    args = parser.parse_args()
    if not CMU.is_dir():
        raise SystemExit(f"{CMU}: the shared CMU trials are needed")
    work = Path(tempfile.mkdtemp(prefix="bench-import-"))
    try:
        for workers in args.workers:
            throughput(workers, work)
        memory(args.copies, work)
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
