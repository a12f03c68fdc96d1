"""Bytes per clip with float32 depth and flow against the compact 16-bit PNGs, and the errors the compact
files make, on real rendered clips.

  synthact render scene_configs/default.yaml --n 3 --precision float32 --out output/storage
  python benchmarks/bench_storage.py output/storage/default
Encodes each float32 clip's depth and flow with the compact codecs (what `render.precision: compact` writes)
and prints Markdown rows for BENCHMARKS.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import time
from datetime import date
from pathlib import Path

import numpy as np

from synthact.clip import ClipReader
from synthact.clip.quantise import decode_depth, decode_flow, encode_depth, encode_flow
from synthact.dataset.pack import find_clips

MACHINE = f"{platform.node() or 'host'}: {os.cpu_count()} cores, Python {platform.python_version()}"


def row(what: str, figure: str, note: str = "") -> None:
    print(f"| {date.today()} | {MACHINE} | {what} | {figure} | {note} |", flush=True)


def measure(clip: ClipReader) -> dict:
    sizes = {p.name: p.stat().st_size for p in clip.folder.iterdir() if p.is_file() and p.name != "blender.log"}
    exact = {name: sizes.pop(name) for name in ("depth.npz", "flow_forward.npz", "flow_backward.npz")}
    h = clip.camera.height
    t0 = time.perf_counter()
    depth_png = encode_depth(clip.depth())
    flow_png = {d: encode_flow(clip.flow(d)) for d in ("forward", "backward")}
    seconds = time.perf_counter() - t0
    depth, back = clip.depth(), decode_depth(depth_png, h)
    seen = np.isfinite(depth)
    flow_error = 0.0
    for d, data in flow_png.items():
        flow, decoded = clip.flow(d), decode_flow(data, h)
        valid = np.isfinite(flow).all(-1)
        assert (np.isfinite(decoded).all(-1) == valid).all()
        flow_error = max(flow_error, float(np.abs(decoded[valid] - flow[valid]).max()))
    compact = {"depth.png": len(depth_png), **{f"flow_{d}.png": len(v) for d, v in flow_png.items()}}
    return {"rest": sum(sizes.values()), "exact": exact, "compact": compact, "seconds": seconds,
            "depth_rel": float((np.abs(back[seen] - depth[seen]) / depth[seen]).max()),
            "depth_abs_mm": float(np.abs(back[seen] - depth[seen]).max() * 1000), "flow_px": flow_error,
            "frames": clip.frames, "size": f"{clip.camera.width}x{clip.camera.height}"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("batch", help="A rendered batch folder whose clips were written with precision float32.")
    args = parser.parse_args()
    results = [measure(ClipReader.from_dir(c)) for c in find_clips(Path(args.batch))]
    if not results:
        raise SystemExit(f"{args.batch}: no clips")
    n = len(results)
    before = sum(r["rest"] + sum(r["exact"].values()) for r in results) / n
    after = sum(r["rest"] + sum(r["compact"].values()) for r in results) / n
    what = f"{n} clips, {results[0]['size']}, {results[0]['frames']} frames"
    row(f"bytes per clip, float32 ({what})", f"{before / 1e6:.2f} MB",
        ", ".join(f"{k} {sum(r['exact'][k] for r in results) / n / 1e6:.2f} MB" for k in results[0]["exact"])
        + f"; the rest (rgb.mp4, segmentation, keypoints, records) {sum(r['rest'] for r in results) / n / 1e6:.2f} MB")
    row(f"bytes per clip, compact ({what})", f"{after / 1e6:.2f} MB ({before / after:.1f}x smaller)",
        ", ".join(f"{k} {sum(r['compact'][k] for r in results) / n / 1e6:.3f} MB" for k in results[0]["compact"])
        + f"; encoding {sum(r['seconds'] for r in results) / n:.2f} s per clip")
    row("compact error, worst over the clips",
        f"depth {max(r['depth_rel'] for r in results):.2e} relative ({max(r['depth_abs_mm'] for r in results):.1f} mm "
        f"at most), flow {max(r['flow_px'] for r in results):.4f} px",
        "bounds: 1.41e-4 relative, 1/128 = 0.0078 px")


if __name__ == "__main__":
    main()
