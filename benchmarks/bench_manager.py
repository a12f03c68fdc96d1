"""Manager benchmarks.

  python benchmarks/bench_manager.py overhead --n 100000   # TestDoubleRenderer (no Blender, no files): manager cost
  python benchmarks/bench_manager.py throughput             # real renders: 1 worker x 2 threads vs 2 workers x 1 thread
Prints Markdown rows for BENCHMARKS.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

import psutil
import ray

from synthact.config import AssetRegistry, BatchConfig
from synthact.dispatch import DispatchOptions, RecyclePolicy, Resources, run_batch

TESTS = Path(__file__).resolve().parent.parent / "tests"  # the test double lives with the tests
sys.path.insert(0, str(TESTS))
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")]))

MACHINE = f"{platform.node() or 'host'}: {os.cpu_count()} cores, Python {platform.python_version()}"


def row(what: str, figure: str, note: str = "") -> None:
    print(f"| {date.today()} | {MACHINE} | {what} | {figure} | {note} |", flush=True)


def overhead(n: int) -> None:
    registry = AssetRegistry.load()
    cfg = BatchConfig.model_validate({"batch": {"name": "overhead", "seed": 1, "count": n}})
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    me = psutil.Process()
    samples = []
    stop = threading.Event()

    def watch():
        while not stop.is_set():
            samples.append(me.memory_info().rss / 2**20)
            time.sleep(1.0)

    watcher = threading.Thread(target=watch, daemon=True)
    with tempfile.TemporaryDirectory() as out:
        from support import test_double
        opts = DispatchOptions(resources=Resources(workers=2, cpus_per_worker=1), show_progress=False,
                               renderer=test_double.factory(write_clip=False), previews=False,
                               recycling=RecyclePolicy(after_scenes=10**9))
        watcher.start()
        t0 = time.perf_counter()
        result = run_batch(cfg, registry, n, out, opts)
        wall = time.perf_counter() - t0
        stop.set()
    tenth = samples[len(samples) // 10] if samples else float("nan")
    row(f"manager overhead, N={n}, 2 test-double actors (no rendering, no files)",
        f"{wall / n * 1000:.2f} ms/scene ({result.rendered} scenes in {wall:.0f} s)",
        f"manager RSS {tenth:.0f} MB at 10% -> {samples[-1]:.0f} MB at the end, peak {max(samples):.0f} MB")
    ray.shutdown()


def throughput(scenes: int) -> None:
    registry = AssetRegistry.load()
    cfg = BatchConfig.model_validate({
        "batch": {"name": "throughput", "seed": 2},
        "render": {"resolution": {"width": 160, "height": 160}, "frames": 16, "samples": 4, "device": "cpu"}})
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    for workers, threads in ((1, 2), (2, 1)):
        with tempfile.TemporaryDirectory() as out:
            opts = DispatchOptions(resources=Resources(workers=workers, cpus_per_worker=threads), show_progress=False,
                                   previews=False)
            run_batch(cfg, registry, 1, out, opts)  # warm: anny cache load, Blender start
            t0 = time.perf_counter()
            result = run_batch(cfg, registry, scenes, out, opts)
            wall = time.perf_counter() - t0
        row(f"real renders, {workers} worker(s) x {threads} thread(s), 160x160, 16 frames, 4 spp",
            f"{result.rendered / wall * 60:.1f} clips/min", f"{scenes} scenes in {wall:.0f} s (incl. actor start)")
    ray.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["overhead", "throughput"])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--scenes", type=int, default=8)
    args = parser.parse_args()
    overhead(args.n) if args.what == "overhead" else throughput(args.scenes)


if __name__ == "__main__":
    main()
