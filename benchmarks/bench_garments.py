"""Garment fitting: cost per frame and how closely the fitted clothes follow the body.

  python benchmarks/bench_garments.py [--frames 32]

Four body shapes (thin, heavy, short, tall) x two motions (walking; both arms overhead). For every built-in
outfit: fitting time per frame (the .mhclo proxy fitting on the posed body), the distance of the fitted
vertices to the nearest body vertex (p50, p99), and the skin vertices that poke through the outfit with
shoes (mean per frame, on the first and middle frame). Prints Markdown rows for BENCHMARKS.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import time
from datetime import date

import numpy as np
from scipy.spatial import cKDTree

from synthact.human.bodies import body_geometry, load_body_model
from synthact.human.garments import GarmentLibrary
from synthact.human.garments.coverage import poke_through
from synthact.human.motions import procedural
from synthact.spec import BodyShapeSpec

MACHINE = f"{platform.node() or 'host'}: {os.cpu_count()} cores, Python {platform.python_version()}"
SHAPES = (BodyShapeSpec(gender=0.5, age=0.5, muscle=0.2, weight=0.0, height=0.5, proportions=0.5),
          BodyShapeSpec(gender=0.5, age=0.5, muscle=0.7, weight=1.0, height=0.5, proportions=0.5),
          BodyShapeSpec(gender=0.3, age=0.6, muscle=0.5, weight=0.5, height=0.0, proportions=0.5),
          BodyShapeSpec(gender=1.0, age=0.5, muscle=0.5, weight=0.5, height=1.0, proportions=0.5))
MOTIONS = ("walk_forward_fast", "reach_both_up")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=32)
    args = parser.parse_args()
    anny, library = load_body_model("anny"), GarmentLibrary.builtin()
    bodies = [body_geometry(anny, shape, procedural.generate(m, 0, fps=args.frames / 1.5, duration=1.5))
              for shape in SHAPES for m in MOTIONS]
    trees = [[cKDTree(frame) for frame in g.vertices] for g in bodies]
    shoes = library.load("shoes", "shoes01")
    worst_ms, p50s, p99s, pokes = 0.0, [], [], []
    for name in library.names("outfit"):
        outfit = library.load("outfit", name)
        seconds, distances, poking = 0.0, [], []
        for g, frame_trees in zip(bodies, trees):
            t0 = time.perf_counter()
            points = outfit.fit(g.vertices)
            seconds += time.perf_counter() - t0
            distances.append(np.concatenate([t.query(p)[0] for t, p in zip(frame_trees, points)]))
            for frame in (0, len(g.vertices) // 2):
                poking.append(poke_through(g.vertices[frame], g.faces, g.part_labels,
                                           [outfit, shoes])["visible_poking_anywhere"])
        frames = sum(len(g.vertices) for g in bodies)
        ms = 1000 * seconds / frames
        d = np.concatenate(distances) * 100
        worst_ms = max(worst_ms, ms)
        p50s.append(np.percentile(d, 50))
        p99s.append(np.percentile(d, 99))
        pokes.append(np.mean(poking))
        print(f"| {date.today()} | {MACHINE} | fit {name} ({outfit.vertex_count} vertices), 4 shapes x 2 motions | "
              f"{ms:.2f} ms/frame | from the body p50 {p50s[-1]:.2f} cm, p99 {p99s[-1]:.2f} cm; skin poking "
              f"through (with shoes01) {pokes[-1]:.1f} vertices/frame |", flush=True)
    print(f"| {date.today()} | {MACHINE} | all {len(p50s)} outfits | at most {worst_ms:.2f} ms/frame | "
          f"from the body p50 {np.median(p50s):.2f} cm (median over outfits), p99 up to {max(p99s):.2f} cm; "
          f"skin poking through {np.mean(pokes):.1f} vertices/frame on average |", flush=True)


if __name__ == "__main__":
    main()
