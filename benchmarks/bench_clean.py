"""The clean-RGB bar on every clip of the default batch, and the RGB time against the old settings.

  python benchmarks/bench_clean.py [--n 8] [--frames 32]

For each of the first N scenes of scene_configs/default.yaml: static flicker (mean |frame t+1 - frame t| in
grey levels on pixels whose flow is below 0.05 px), the residual after warping frame t+1 back by the exact
flow (clips whose camera moves), both on the rendered frames and on the frames decoded from the clip's
mp4, and the RGB render time per frame against the same spec rendered with the old settings (4 samples,
no denoiser, a new sample pattern every frame). Prints Markdown rows for BENCHMARKS.md.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import sys
from datetime import date
from pathlib import Path

import numpy as np

from synthact.clip.video import decode_video, encode_mp4
from synthact.config import AssetRegistry
from synthact.render.worker import RenderWorker
from synthact.scene import SceneSampler, load_batch_config

sys.path.insert(0, str(Path(__file__).parent))
from bench_noise import static_flicker, warped_residual  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MACHINE = f"{platform.node() or 'host'}: {os.cpu_count()} cores, Python {platform.python_version()}"


def old_settings(spec):
    render = dataclasses.replace(spec.render, samples=4, denoise=False, noise_seed="animated")
    return dataclasses.replace(spec, render=render)  # a bench-only variant: its scene_id is not recomputed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=8)
    parser.add_argument("--frames", type=int, default=32)
    args = parser.parse_args()
    registry = AssetRegistry.load()
    config = load_batch_config(ROOT / "scene_configs" / "default.yaml", registry)
    sampler = SceneSampler.create(config, registry)
    worker = RenderWorker(device="cpu", registry=registry)
    worker.render_layers(sampler.sample(args.n))  # warm: body model, kernels
    worst = {"static": 0.0, "moving": 0.0}
    ratios = []
    for i in range(args.n):
        spec = sampler.sample(i)
        spec = dataclasses.replace(spec, render=dataclasses.replace(spec.render, frames=args.frames))
        new = worker.render_layers(spec)
        old = worker.render_layers(old_settings(spec))
        rgb, forward = new.layers["rgb.mp4"], new.layers["flow_forward.npz"]["flow"]
        decoded = decode_video(encode_mp4(rgb, spec.render.fps), (spec.render.width, spec.render.height))
        static = static_flicker(rgb, forward), static_flicker(decoded, forward)
        moves = spec.camera.motion.type != "static" or spec.camera.framing > 0
        warp = ((warped_residual(rgb, forward, new.layers["flow_backward.npz"]["flow"]),
                 warped_residual(decoded, forward, new.layers["flow_backward.npz"]["flow"])) if moves else None)
        ratio = new.stats["timings_s"]["render_rgb"] / old.stats["timings_s"]["render_rgb"]
        ratios.append(ratio)
        worst["static"] = max(worst["static"], static[0])
        worst["moving"] = max(worst["moving"], warp[0] if warp else 0.0)
        c = spec.camera
        framed = f" framed {c.framing:.2f}" if c.framing else ""
        what = (f"{spec.actors[0].motion.class_name}, {c.motion.type} camera{framed}, {spec.environment.sky} sky, "
                f"{spec.environment.weather}")
        print(f"| {date.today()} | {MACHINE} | default clip {i} ({what}), {spec.render.width}x{spec.render.height}, "
              f"{args.frames} frames | static {static[0]:.2f} (mp4 {static[1]:.2f})"
              + (f", warped {warp[0]:.2f} (mp4 {warp[1]:.2f})" if warp else "") + " grey levels | "
              f"RGB {new.stats['timings_s']['render_rgb'] / args.frames:.3f} s/frame, {ratio:.2f}x the old "
              f"settings' {old.stats['timings_s']['render_rgb'] / args.frames:.3f} |", flush=True)
    print(f"| {date.today()} | {MACHINE} | default batch, {args.n} clips | worst static {worst['static']:.2f}, worst "
          f"warped {worst['moving']:.2f} grey levels | RGB time {np.mean(ratios):.2f}x the old settings "
          f"(range {min(ratios):.2f}-{max(ratios):.2f}) |", flush=True)


if __name__ == "__main__":
    main()
