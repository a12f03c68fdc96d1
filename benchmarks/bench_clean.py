"""The clean-RGB bar on every clip of the default batch, and the RGB time against the old settings.

  python benchmarks/bench_clean.py [--n 8] [--frames 32] [--samples 1 2] [--clips I ...] [--repeats 1]

For each of the first N scenes of scene_configs/default.yaml and each sample count: static flicker (mean
|frame t+1 - frame t| in grey levels on pixels whose flow is below 0.05 px; static cameras), the residual
after warping frame t+1 back by the exact flow (moving cameras), on the rendered frames and on frames
decoded from an mp4 of them, and the RGB render time per frame against the same spec rendered with the
old settings (4 samples, no denoiser, a new sample pattern every frame). Prints rows for BENCHMARKS.md.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import sys
import time
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
    parser.add_argument("--samples", type=int, nargs="+", default=[1, 2], help="RGB samples to compare (denoised)")
    parser.add_argument("--clips", type=int, nargs="+", help="only these clip indices (default: all N)")
    parser.add_argument("--repeats", type=int, default=1, help="renders of each variant; the fastest RGB time counts")
    args = parser.parse_args()
    registry = AssetRegistry.load()
    config = load_batch_config(ROOT / "scene_configs" / "default.yaml", registry)
    sampler = SceneSampler.create(config, registry)
    worker = RenderWorker(device="cpu", registry=registry)
    worker.render_layers(sampler.sample(args.n))  # warm: body model, kernels
    worst = {n: {"static": 0.0, "moving": 0.0} for n in args.samples}
    ratios = {n: [] for n in args.samples}  # per clip: (RGB wall ratio, new clip CPU s, old clip CPU s)
    for i in args.clips or range(args.n):
        spec = sampler.sample(i)
        spec = dataclasses.replace(spec, render=dataclasses.replace(spec.render, frames=args.frames))
        variants = {n: dataclasses.replace(spec, render=dataclasses.replace(spec.render, samples=n))
                    for n in args.samples}
        olds, news = [], {n: [] for n in args.samples}
        for _ in range(args.repeats):  # alternated, so other jobs' load hits both alike; the fastest is kept
            olds.append(timed(worker, old_settings(spec)))
            for n, variant in variants.items():
                news[n].append(timed(worker, variant))
        for n, variant in variants.items():
            report(i, variant, min(news[n], key=rgb_seconds), min(olds, key=rgb_seconds), args, worst, ratios)
    n_clips = len(args.clips or range(args.n))
    for samples in args.samples:
        w = worst[samples]
        rgb, new_cpu, old_cpu = np.array(ratios[samples]).T
        print(f"| {date.today()} | {MACHINE} | default batch, {n_clips} clips, {samples} spp denoised | worst static "
              f"{w['static']:.2f}, worst warped {w['moving']:.2f} grey levels (clear weather; rain and snow streaks "
              f"are not in the flow) | RGB wall time {rgb.mean():.2f}x the old settings (range {rgb.min():.2f}-"
              f"{rgb.max():.2f}); whole clips {new_cpu.sum() / old_cpu.sum():.2f}x the old CPU time |", flush=True)


def timed(worker, spec):
    """The worker's result with the process CPU seconds of the whole clip in stats["cpu_s"]. Blender renders in
    this process, so CPU time counts every render thread and, unlike wall time, barely moves when other jobs
    share the cores."""
    t0 = time.process_time()
    result = worker.render_layers(spec)
    result.stats["cpu_s"] = time.process_time() - t0
    return result


def rgb_seconds(result) -> float:
    return result.stats["timings_s"]["render_rgb"]


def report(i, spec, new, old, args, worst, ratios) -> None:
    """One clip's row; the worst and ratio tallies per sample count."""
    rgb, forward = new.layers["rgb.mp4"], new.layers["flow_forward.npz"]["flow"]
    decoded = decode_video(encode_mp4(rgb, spec.render.fps), (spec.render.width, spec.render.height))
    static = static_flicker(rgb, forward), static_flicker(decoded, forward)
    moves = spec.camera.motion.type != "static" or spec.camera.framing > 0
    warp = ((warped_residual(rgb, forward, new.layers["flow_backward.npz"]["flow"]),
             warped_residual(decoded, forward, new.layers["flow_backward.npz"]["flow"])) if moves else None)
    ratio = rgb_seconds(new) / rgb_seconds(old)
    n = spec.render.samples
    ratios[n].append((ratio, new.stats["cpu_s"], old.stats["cpu_s"]))
    clear = spec.environment.weather not in ("rain", "snow")
    static_ok = spec.camera.motion.type == "static"  # (a framed camera only travels when the actor does)
    if clear and static_ok:
        worst[n]["static"] = max(worst[n]["static"], static[0])
    if clear and warp:
        worst[n]["moving"] = max(worst[n]["moving"], warp[0])
    c = spec.camera
    framed = f" framed {c.framing:.2f}" if c.framing else ""
    what = (f"{spec.actors[0].motion.class_name}, {c.motion.type} camera{framed}, {spec.environment.sky} sky, "
            f"{spec.environment.weather}")
    print(f"| {date.today()} | {MACHINE} | default clip {i} ({what}), {spec.render.width}x{spec.render.height}, "
          f"{args.frames} frames, {n} spp | static {static[0]:.2f} (mp4 {static[1]:.2f})"
          + (f", warped {warp[0]:.2f} (mp4 {warp[1]:.2f})" if warp else "") + " grey levels | "
          f"RGB {rgb_seconds(new) / args.frames:.3f} s/frame, {ratio:.2f}x the old "
          f"settings' {rgb_seconds(old) / args.frames:.3f}; whole clip {new.stats['cpu_s']:.1f} CPU s, "
          f"{new.stats['cpu_s'] / old.stats['cpu_s']:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
