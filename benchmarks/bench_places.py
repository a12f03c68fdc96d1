"""Places: what a room costs against outdoors, and the annotations' ray cast at room scale.

  python benchmarks/bench_places.py [--repeats 2]

1. The ray cast of a static scene of 1M small triangles at 224x224 (Embree: BVH built once per clip, then one
   cast a frame), against the issue's bar of 0.1 s a frame.
2. Room clips (the built-in starter room) against outdoor clips of default.yaml at the same render settings
   (224x224, 32 frames, 1 spp + OIDN), rendered interleaved in one worker: CPU seconds of this process per
   clip (Cycles' threads included), and the ratio; and the outdoor clips again with primitive shapes only (no
   prop library: what the starter rocks, bushes and trees cost) and on flat ground (what the hills cost); and the
   room clips without the static meshes' BVH twins (render/blender/engine.py: keep_static_bvhs), to show what they save.
Prints Markdown rows for BENCHMARKS.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np

from synthact.config import AssetRegistry
from synthact.render import raster
from synthact.render.blender import engine
from synthact.render.camera import intrinsics
from synthact.render.worker import RenderWorker
from synthact.scene import SceneSampler, load_batch_config

MACHINE = f"{platform.node() or 'host'}: {os.cpu_count()} cores, Python {platform.python_version()}"
ROOT = Path(__file__).resolve().parents[1]


def ray_cast(triangles: int = 1_000_000, frames: int = 32) -> tuple[float, float]:
    """(BVH build + first frame, each further frame) in CPU seconds."""
    rng = np.random.default_rng(0)
    centres = rng.uniform([-3, -3, 0], [3, 3, 2.5], (triangles, 3))
    vertices = (centres[:, None, :] + rng.normal(0, 0.02, (triangles, 3, 3))).reshape(-1, 3)
    faces = np.arange(3 * triangles).reshape(-1, 3)
    K = intrinsics(30, 36, 224, 224)
    turn = np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]], float)
    w2c = np.eye(4)
    w2c[:3, :3], w2c[:3, 3] = turn, -turn @ np.array([0, -4, 1.5])
    t0 = time.process_time()
    raster.annotation_hits((vertices, faces), [], K, w2c[None], 224, 224)
    one = time.process_time() - t0
    t0 = time.process_time()
    raster.annotation_hits((vertices, faces), [], K, np.repeat(w2c[None], frames, 0), 224, 224)
    many = time.process_time() - t0
    return one, (many - one) / (frames - 1)


def clip_costs(repeats: int) -> tuple[dict[str, list[float]], dict[str, list]]:
    registry = AssetRegistry.load()
    sampler = SceneSampler.create(load_batch_config(ROOT / "scene_configs" / "default.yaml", registry), registry)
    specs = {"room": [], "outdoor": []}
    for i in range(64):
        spec = sampler.sample(i)
        if len(specs[spec.environment.kind]) < 2:
            specs[spec.environment.kind].append(spec)
    worker = RenderWorker(device="cpu", registry=registry)
    worker.warm_up(specs["outdoor"][0])
    costs = {"room": [], "outdoor": [], "shapes": [], "flat": [], "no_twins": []}
    for _ in range(repeats):
        for a, b in zip(specs["room"], specs["outdoor"]):  # interleaved: the machine's load hits both alike
            shapes = replace(b, environment=replace(b.environment, prop_library=""))
            flat = replace(b, environment=replace(b.environment, terrain_height_m=0.0))
            for kind, spec in (("room", a), ("outdoor", b), ("shapes", shapes), ("flat", flat), ("no_twins", a)):
                twins = engine.keep_static_bvhs
                if kind == "no_twins":
                    engine.keep_static_bvhs = lambda objects: []
                t0 = time.process_time()
                try:
                    worker.render_layers(spec)
                finally:
                    engine.keep_static_bvhs = twins
                costs[kind].append(time.process_time() - t0)
    return costs, specs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    first, per_frame = ray_cast()
    print(f"## Places ({MACHINE}, {date.today()})\n")
    print("| what | figure |\n|---|---|")
    print(f"| ray cast, 1M static triangles, 224² | BVH build and first frame {first:.2f} CPU-s; then "
          f"{per_frame * 1000:.0f} CPU-ms a frame (bar: 100 ms) |")
    costs, specs = clip_costs(args.repeats)
    room, outdoor = np.mean(costs["room"]), np.mean(costs["outdoor"])
    print(f"| CPU-s per clip, 224² x 32 frames, 1 spp + OIDN, {len(costs['room'])} of each, interleaved | room "
          f"{room:.1f} (±{np.std(costs['room']):.1f}), outdoor {outdoor:.1f} (±{np.std(costs['outdoor']):.1f}): "
          f"**{room / outdoor:.2f}x** (bar: 2x) |")
    shapes = np.mean(costs["shapes"])
    print(f"| the same outdoor clips with primitive shapes only (no prop library) | {shapes:.1f} "
          f"(±{np.std(costs['shapes']):.1f}): the starter props (rocks, bushes and trees) cost "
          f"{outdoor / shapes:.2f}x |")
    flat = np.mean(costs["flat"])
    hills = sum(s.environment.terrain_height_m > 0 for s in specs["outdoor"])
    no_twins = np.mean(costs["no_twins"])
    print(f"| the same room clips without the static meshes' BVH twins | {no_twins:.1f} "
          f"(±{np.std(costs['no_twins']):.1f}): {no_twins / outdoor:.2f}x outdoor; the twins save "
          f"{1 - room / no_twins:.0%} of a room clip |")
    print(f"| the same outdoor clips on flat ground ({hills} of {len(specs['outdoor'])} have hills) | {flat:.1f} "
          f"(±{np.std(costs['flat']):.1f}): the hills cost {outdoor / flat:.2f}x |")


if __name__ == "__main__":
    main()
