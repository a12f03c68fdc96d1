"""RGB noise against render time: the frontier the default render settings are chosen from.

  python benchmarks/bench_noise.py [--size 224] [--frames 8]

For each setting, one default-like scene is rendered twice (a static camera and a 10 deg/s pan) and
measured on the RGB frames the clip would hold:
- static: mean |frame t+1 - frame t| (grey levels, 0-255) on pixels whose flow is below 0.05 px;
- pan: the same after warping frame t+1 back by the exact forward flow (pixels that stay visible);
- PSNR of the static clip against a 128-sample denoised reference;
- RGB render seconds per frame, relative to 4 samples without a denoiser (the old default).
Prints Markdown rows for BENCHMARKS.md.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import platform
from datetime import date

import cv2
import numpy as np

from synthact.config import AssetRegistry, BatchConfig
from synthact.render.worker import RenderWorker
from synthact.scene import SceneSampler

MACHINE = f"{platform.node() or 'host'}: {os.cpu_count()} cores, Python {platform.python_version()}"
SETTINGS = [  # (label, samples, denoise, quality, prefilter, noise_seed)
    ("4 spp, no denoiser, animated seed (old default)", 4, False, "fast", "fast", "animated"),
    ("16 spp, no denoiser, animated seed", 16, False, "fast", "fast", "animated"),
    ("4 spp, OIDN high + accurate prefilter, animated seed", 4, True, "high", "accurate", "animated"),
    ("2 spp, OIDN fast + fast prefilter, animated seed", 2, True, "fast", "fast", "animated"),
    ("1 spp, OIDN fast + fast prefilter, animated seed", 1, True, "fast", "fast", "animated"),
    ("1 spp, OIDN fast + fast prefilter, fixed seed (the default)", 1, True, "fast", "fast", "fixed"),
    ("2 spp, OIDN fast + fast prefilter, fixed seed", 2, True, "fast", "fast", "fixed"),
    ("1 spp, OIDN balanced + fast prefilter, fixed seed", 1, True, "balanced", "fast", "fixed"),
]


def scene(registry, size: int, frames: int, pan: float):
    config = BatchConfig.model_validate({
        "batch": {"name": "noise", "seed": 11},
        "camera": {"focal_length_mm": 35, "distance_m": 5.0, "height_m": 1.6, "yaw_deg": 40,
                   "motion": {"type": "pan", "pan_deg_per_s": pan} if pan else {"type": "static"}},
        "environment": {"ground": "gravel", "props_density": 0.4, "sky": "physical", "weather": {"type": "clear"},
                        "time_of_day": {"sun_elevation_deg": 35, "sun_azimuth_deg": 120}},
        "motion": {"selection": {"policy": "explicit", "clips": ["wave_right_high"]}, "speed": 1.0},
        "render": {"resolution": {"width": size, "height": size}, "frames": frames, "device": "cpu"}})
    return SceneSampler.create(config, registry).sample(0)


def with_settings(spec, samples, denoise, quality, prefilter, seed):
    render = dataclasses.replace(spec.render, samples=samples, denoise=denoise, denoise_quality=quality,
                                 denoise_prefilter=prefilter, noise_seed=seed)
    return dataclasses.replace(spec, render=render)  # a bench-only variant: its scene_id is not recomputed


def static_flicker(rgb: np.ndarray, flow: np.ndarray) -> float:
    still = (np.linalg.norm(flow[:-1], axis=-1) < 0.05) & np.isfinite(flow[:-1]).all(-1)
    diff = np.abs(rgb[1:].astype(np.float32) - rgb[:-1]).mean(-1)
    return float(diff[still].mean())


def warped_residual(rgb: np.ndarray, forward: np.ndarray, backward: np.ndarray) -> float:
    """Mean |frame t - frame t+1 sampled at x + flow(x)| over pixels visible in both frames."""
    t, h, w, _ = rgb.shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    out = []
    for i in range(t - 1):
        f = np.nan_to_num(forward[i]).astype(np.float32)
        mx, my = xs + f[..., 0], ys + f[..., 1]
        warped = cv2.remap(rgb[i + 1].astype(np.float32), mx, my, cv2.INTER_LINEAR)
        back = cv2.remap(np.nan_to_num(backward[i + 1], nan=1e6).astype(np.float32), mx, my, cv2.INTER_NEAREST)
        visible = (np.isfinite(forward[i]).all(-1) & (mx >= 0) & (mx <= w - 1) & (my >= 0) & (my <= h - 1)
                   & (np.linalg.norm(f + back, axis=-1) < 0.5))  # the round trip comes back: not occluded
        out.append(np.abs(warped - rgb[i]).mean(-1)[visible])
    return float(np.concatenate(out).mean())


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b) ** 2)
    return float(10 * np.log10(255.0 ** 2 / mse))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--frames", type=int, default=8)
    args = parser.parse_args()
    registry = AssetRegistry.load()
    worker = RenderWorker(device="cpu", registry=registry)
    static, pan = scene(registry, args.size, args.frames, 0.0), scene(registry, args.size, args.frames, 10.0)
    worker.render_layers(with_settings(static, 1, False, "fast", "fast", "fixed"))  # warm: body model, kernels
    reference = worker.render_layers(with_settings(static, 128, True, "high", "accurate", "fixed")).layers["rgb.mp4"]
    base_time = None
    for label, *settings in SETTINGS:
        still = worker.render_layers(with_settings(static, *settings))
        moving = worker.render_layers(with_settings(pan, *settings))
        seconds = (still.stats["timings_s"]["render_rgb"] + moving.stats["timings_s"]["render_rgb"]) / (2 * args.frames)
        base_time = base_time or seconds
        rgb = still.layers["rgb.mp4"]
        flicker = static_flicker(rgb, still.layers["flow_forward.npz"]["flow"])
        flows = moving.layers["flow_forward.npz"]["flow"], moving.layers["flow_backward.npz"]["flow"]
        residual = warped_residual(moving.layers["rgb.mp4"], *flows)
        print(f"| {date.today()} | {MACHINE} | RGB noise, {args.size}x{args.size}, {label} | "
              f"{seconds:.3f} s/frame ({seconds / base_time:.2f}x) | static {flicker:.2f}, pan {residual:.2f} grey "
              f"levels; PSNR {psnr(rgb, reference):.1f} dB vs 128 spp |", flush=True)


if __name__ == "__main__":
    main()
