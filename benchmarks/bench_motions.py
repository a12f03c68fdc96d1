"""Motion and body timings: procedural generation for every class, BVH import, anny geometry.

Usage: python benchmarks/bench_motions.py   (prints Markdown table rows for BENCHMARKS.md)
"""
from __future__ import annotations

import os
import platform
import statistics
import time
from datetime import date
from pathlib import Path

from synthact.human.bodies import body_geometry, load_body_model
from synthact.human.motions import procedural
from synthact.human.motions.importers import load_bvh
from synthact.spec import BodyShapeSpec

ROOT = Path(__file__).resolve().parent.parent
MACHINE = f"{platform.node() or 'host'}: {os.cpu_count()} cores, Python {platform.python_version()}"


def row(what: str, figure: str, note: str = "") -> None:
    print(f"| {date.today()} | {MACHINE} | {what} | {figure} | {note} |")


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    names = procedural.class_names()
    t0 = time.perf_counter()
    for name in names:
        procedural.generate(name, 0)
    total = time.perf_counter() - t0
    row("procedural motions, every class once (3.2 s at 30 fps)", f"{total:.2f} s for {len(names)} classes",
        f"{total / len(names) * 1000:.1f} ms/class")

    cmu = ROOT.parent / "shared" / "mocap" / "cmu_bvh" / "01_01.bvh"
    if cmu.exists():
        times = timed(lambda: load_bvh(cmu), 3)
        row("BVH import, CMU 01_01 (2752 frames at 120 fps)", f"{statistics.median(times):.2f} s", "median of 3")

    t0 = time.perf_counter()
    body = load_body_model("anny")
    row("anny load (warm cache)", f"{time.perf_counter() - t0:.2f} s", "first load ever builds a ~790 MB cache")
    shape = BodyShapeSpec(0.3, 0.8, 0.5, 0.5, 0.5, 0.5)
    motion = procedural.generate("walk_forward_fast", 0, duration=64 / 30)
    body_geometry(body, shape, motion)  # warm-up: kernels, per-shape rest pose
    times = timed(lambda: body_geometry(body, shape, motion), 7)
    row("anny geometry, 64 frames (retarget + skin + COCO), warm", f"{statistics.median(times) * 1000:.0f} ms",
        "median of 7; target < 200 ms")


if __name__ == "__main__":
    main()
