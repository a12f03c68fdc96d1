"""Contact sheets of a clip directory for people to look at: RGB, depth, flow, segmentation, keypoints."""
from __future__ import annotations

import colorsys
import json
import subprocess
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from .clipdir import ffmpeg_exe

COCO_EDGES = [(0, 1), (0, 2), (1, 3), (2, 4), (5, 6), (5, 7), (7, 9), (6, 8), (8, 10), (5, 11), (6, 12), (11, 12),
              (11, 13), (13, 15), (12, 14), (14, 16)]


def read_rgb(clip: Path) -> np.ndarray:
    """(T, H, W, 3) uint8 from rgb.mp4 (decoded with ffmpeg) or rgb/*.jpg."""
    frames_dir = clip / "rgb"
    if frames_dir.is_dir():
        return np.stack([np.asarray(Image.open(p).convert("RGB")) for p in sorted(frames_dir.glob("*.jpg"))])
    cam = json.loads((clip / "camera.json").read_text())
    w, h = cam["width"], cam["height"]
    raw = subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-i", str(clip / "rgb.mp4"), "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "-vf", f"crop={w}:{h}:0:0", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3)


def depth_image(depth: np.ndarray) -> np.ndarray:
    finite = np.isfinite(depth)
    out = np.zeros((*depth.shape, 3), np.uint8)
    if finite.any():
        lo, hi = np.percentile(depth[finite], [1, 99])
        x = np.clip((depth - lo) / max(hi - lo, 1e-6), 0, 1)
        ramp = np.stack([1 - x, 0.3 + 0.4 * (1 - np.abs(2 * x - 1)), x], -1)  # near warm, far cool
        out[finite] = (ramp[finite] * 255).astype(np.uint8)
    return out


def flow_image(flow: np.ndarray, scale: float | None = None) -> np.ndarray:
    """Hue = direction, saturation = speed (relative to the largest finite flow, or scale px)."""
    valid = np.isfinite(flow).all(-1)
    mag = np.linalg.norm(np.nan_to_num(flow), axis=-1)
    scale = scale or max(float(np.percentile(mag[valid], 99)) if valid.any() else 1.0, 1.0)  # < 1 px: pale
    hue = (np.arctan2(flow[..., 1], flow[..., 0]) / (2 * np.pi)) % 1.0
    out = np.zeros((*flow.shape[:2], 3), np.uint8)
    for y, x in zip(*np.nonzero(valid)):
        r, g, b = colorsys.hsv_to_rgb(hue[y, x], min(mag[y, x] / scale, 1.0), 1.0)
        out[y, x] = (int(r * 255), int(g * 255), int(b * 255))
    return out


def segmentation_image(instance: np.ndarray, part: np.ndarray) -> np.ndarray:
    palette = np.array([colorsys.hsv_to_rgb((i * 0.618) % 1, 0.65, 0.95) for i in range(32)]) * 255
    out = np.full((*instance.shape, 3), 40, np.uint8)
    body = instance > 0
    out[body] = (palette[part[body] % 32] * (0.6 + 0.4 * ((instance[body] % 2) == 1))[:, None]).astype(np.uint8)
    return out


def keypoint_image(rgb: np.ndarray, coco2d: np.ndarray, scale: int) -> Image.Image:
    img = Image.fromarray(rgb).resize((rgb.shape[1] * scale, rgb.shape[0] * scale), Image.NEAREST)
    d = ImageDraw.Draw(img)
    for person in coco2d:
        for a, b in COCO_EDGES:
            if person[a, 2] > 0 and person[b, 2] > 0:
                d.line([tuple(person[a, :2] * scale + scale / 2), tuple(person[b, :2] * scale + scale / 2)],
                       fill=(255, 255, 0), width=2)
        for x, y, v in person:
            if v > 0:
                c = (0, 255, 0) if v == 2 else (255, 60, 60)
                cx, cy = x * scale + scale / 2, y * scale + scale / 2
                d.ellipse([cx - 3, cy - 3, cx + 3, cy + 3], fill=c)
    return img


def contact_sheet(clip: Path, out: Path, frames: int = 4, cell: int = 224) -> Path:
    """Rows: evenly spaced frames; columns: RGB, keypoints, depth, forward flow, segmentation."""
    clip = Path(clip)
    rgb = read_rgb(clip)
    t, h, w, _ = rgb.shape
    depth = np.load(clip / "depth.npz")["depth"] if (clip / "depth.npz").exists() else None
    flow = np.load(clip / "flow_forward.npz")["flow"] if (clip / "flow_forward.npz").exists() else None
    seg = np.load(clip / "segmentation.npz") if (clip / "segmentation.npz").exists() else None
    kp = np.load(clip / "keypoints.npz")["coco2d"] if (clip / "keypoints.npz").exists() else None
    picks = np.linspace(0, max(t - 2, 0), frames).round().astype(int)
    scale = max(cell // max(h, w), 1)
    size = (w * scale, h * scale)
    columns = ["rgb", "keypoints", "depth", "flow ->", "segmentation"]
    sheet = Image.new("RGB", (size[0] * len(columns), (size[1] + 14) * len(picks) + 14), "white")
    draw = ImageDraw.Draw(sheet)
    for c, name in enumerate(columns):
        draw.text((c * size[0] + 4, 1), name, fill=(0, 0, 0))
    for row, i in enumerate(picks):
        cells = [Image.fromarray(rgb[i]).resize(size, Image.NEAREST),
                 keypoint_image(rgb[i], kp[i], scale) if kp is not None else None,
                 Image.fromarray(depth_image(depth[i])).resize(size, Image.NEAREST) if depth is not None else None,
                 Image.fromarray(flow_image(flow[i])).resize(size, Image.NEAREST) if flow is not None else None,
                 Image.fromarray(segmentation_image(seg["instance"][i], seg["body_part"][i])).resize(size, Image.NEAREST)
                 if seg is not None else None]
        y = 14 + row * (size[1] + 14)
        draw.text((2, y - 13 if row else y + 2), f"frame {i}", fill=(0, 0, 0))
        for c, im in enumerate(cells):
            if im is not None:
                sheet.paste(im, (c * size[0], y))
    out = Path(out)
    sheet.save(out)
    return out


