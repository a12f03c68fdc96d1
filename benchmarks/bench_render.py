"""Render-worker timings and memory on this machine.

  python benchmarks/bench_render.py                    # 224x224 per-frame cost, overhead over a bare render, actors
  python benchmarks/bench_render.py --memory 200       # RSS over 200 consecutive small scenes in one worker
Prints Markdown table rows for BENCHMARKS.md.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from datetime import date
from pathlib import Path

from synthact.config.assets import AssetRegistry
from synthact.config.batch import BatchConfig
from synthact.dispatch.host import resident_memory_mb
from synthact.render.worker import RenderWorker
from synthact.scene.sampler import SceneSampler

MACHINE = f"{platform.node() or 'host'}: {os.cpu_count()} cores, Python {platform.python_version()}"


def row(what: str, figure: str, note: str = "") -> None:
    print(f"| {date.today()} | {MACHINE} | {what} | {figure} | {note} |", flush=True)


def spec_for(registry, index=0, size=224, frames=32, samples=4, actors=1, **extra):
    cfg = {"batch": {"name": "bench", "seed": 3},
           "camera": {"distance_m": 4.5, "height_m": 1.5, "yaw_deg": 30},
           "environment": {"weather": {"type": "clear"}, "props_density": 0.3},
           "actors": {"count": actors, "placement": {"spread_m": 0.0}} if actors == 1 else
                     {"count": actors, "motion_sharing": "same",
                      "placement": {"spread_m": 1.5, "min_separation_m": 1.0}},
           "motion": {"selection": {"policy": "explicit", "clips": ["walk_circle_left_slow"]}},
           "render": {"resolution": {"width": size, "height": size}, "frames": frames, "samples": samples,
                      "device": "cpu"}, **extra}
    return SceneSampler.create(BatchConfig.model_validate(cfg), registry).sample(index)


def per_frame(worker, registry, out: Path) -> None:
    worker.render(spec_for(registry, index=99, size=64, frames=2), out)  # warm: body model, kernels
    for samples in (1, 4, 16):
        spec = spec_for(registry, samples=samples)
        t0 = time.perf_counter()
        clip = worker.render(spec, out)
        wall = time.perf_counter() - t0
        stages = json.loads((clip / "stats.json").read_text())["timings_s"]
        frames = spec.render.frames
        bare = stages["render_rgb"]
        row(f"one actor, 224x224, all modalities, {samples} spp RGB (Cycles CPU)",
            f"{wall / frames:.3f} s/frame", f"bare RGB render {bare / frames:.3f} s/frame; pipeline/bare "
            f"{wall / bare:.2f}x; stages per frame: " + ", ".join(f"{k} {v / frames:.3f}" for k, v in stages.items()))
    for actors in (1, 3):
        spec = spec_for(registry, actors=actors, index=7)
        t0 = time.perf_counter()
        worker.render(spec, out)
        wall = time.perf_counter() - t0
        row(f"{actors} actor(s) playing one motion, 224x224, 4 spp", f"{wall:.1f} s per render",
            f"{actors} annotated clips per render: {wall / actors:.1f} s per actor-clip")


def memory(worker, registry, out: Path, scenes: int) -> None:
    rss = []
    t0 = time.perf_counter()
    for i in range(scenes):
        clip = worker.render(spec_for(registry, index=i, size=64, frames=4, samples=1), out)
        rss.append(resident_memory_mb())
        if i % 10 == 0:
            print(f"  scene {i}: RSS {rss[-1]:.0f} MB", flush=True)
        import shutil
        shutil.rmtree(clip)
    first = sum(rss[5:15]) / 10
    last = sum(rss[-10:]) / 10
    row(f"worker memory over {scenes} consecutive scenes (64x64, 4 frames)",
        f"RSS {first:.0f} MB (scenes 5-15) -> {last:.0f} MB (last 10): {100 * (last - first) / first:+.1f}%",
        f"{(time.perf_counter() - t0) / scenes:.2f} s/scene")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--memory", type=int, default=0, help="scenes for the memory run (0: skip)")
    args = parser.parse_args()
    registry = AssetRegistry.load()
    worker = RenderWorker(device="cpu", registry=registry)
    with tempfile.TemporaryDirectory() as tmp:
        if args.memory:
            memory(worker, registry, Path(tmp), args.memory)
        else:
            per_frame(worker, registry, Path(tmp))


if __name__ == "__main__":
    main()
