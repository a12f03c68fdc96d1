"""Stick-figure previews of motions without Blender: animated GIFs and PNG filmstrips."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from .skeleton import JOINT_NAMES, PARENTS, Skeleton, forward_kinematics

_LEFT, _RIGHT, _MID = (220, 70, 60), (50, 110, 220), (40, 40, 40)


def _colour(j: int):
    name = JOINT_NAMES[j]
    return _LEFT if name.startswith("left") else _RIGHT if name.startswith("right") else _MID


def project(points: np.ndarray, azimuth_deg: float = 35.0, elevation_deg: float = 12.0) -> np.ndarray:
    """Orthographic view from the front-left: (..., 3) world -> (..., 2) screen (x right, y up)."""
    az, el = np.radians(azimuth_deg), np.radians(elevation_deg)
    right = np.array([np.cos(az), np.sin(az), 0.0])
    fwd = np.array([-np.sin(az), np.cos(az), 0.0])  # viewing direction at azimuth 0 is +Y
    up = np.array([0.0, 0.0, 1.0]) * np.cos(el) - fwd * np.sin(el)
    return np.stack([points @ right, points @ up], axis=-1)


def draw_frames(positions: np.ndarray, contacts: np.ndarray | None = None, size: int = 256,
                title: str = "") -> list[Image.Image]:
    """positions (T, 22, 3) -> one image per frame, with a shared scale and a ground grid."""
    screen = project(positions)
    ground = project(np.array([[x, y, 0.0] for x in np.linspace(-2, 2, 9) for y in np.linspace(-2, 2, 9)])
                     + [positions[..., 0].mean(), positions[..., 1].mean(), 0])
    lo, hi = screen.reshape(-1, 2).min(0), screen.reshape(-1, 2).max(0)
    hi = hi + [0.0, 0.25]  # room for the head circle above the head joint
    centre, extent = (lo + hi) / 2, max((hi - lo).max(), 1.0) * 1.2
    top = 14  # pixels kept free for the title
    scale = (size - top) / extent

    def px(p):
        return ((p[..., 0] - centre[0]) * scale + size / 2, top + (size - top) / 2 - (p[..., 1] - centre[1]) * scale)

    frames = []
    gx, gy = px(ground)
    for t in range(len(positions)):
        img = Image.new("RGB", (size, size), (250, 250, 246))
        d = ImageDraw.Draw(img)
        for x, y in zip(gx, gy):
            d.point((float(x), float(y)), fill=(170, 170, 170))
        xs, ys = px(screen[t])
        for j, p in enumerate(PARENTS):
            if p >= 0:
                d.line([(xs[p], ys[p]), (xs[j], ys[j])], fill=_colour(j), width=3)
        hx, hy = xs[JOINT_NAMES.index("head")], ys[JOINT_NAMES.index("head")]
        r = 0.1 * scale
        d.ellipse([hx - r, hy - 2 * r, hx + r, hy], outline=_MID, width=2)
        if contacts is not None:
            for k, ankle in enumerate(("left_ankle", "right_ankle")):
                if contacts[t, k]:
                    a = JOINT_NAMES.index(ankle)
                    d.ellipse([xs[a] - 4, ys[a] - 4, xs[a] + 4, ys[a] + 4], fill=(30, 160, 60))
        d.text((4, 4), f"{title}  {t:03d}", fill=(0, 0, 0))
        frames.append(img)
    return frames


def motion_positions(motion, skeleton: Skeleton | None = None) -> np.ndarray:
    sk = skeleton or motion.skeleton
    return forward_kinematics(sk, motion.local_matrices(), motion.root_translation)[1]


def write_gif(motion, path: str | Path, size: int = 256) -> Path:
    frames = draw_frames(motion_positions(motion), motion.contacts, size, motion.class_name)
    path = Path(path)
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=int(1000 / motion.fps), loop=0)
    return path


def write_filmstrip(motion, path: str | Path, count: int = 8, size: int = 192) -> Path:
    """Evenly spaced frames side by side in one PNG (for reports and quick looks)."""
    frames = draw_frames(motion_positions(motion), motion.contacts, size, motion.class_name)
    idx = np.linspace(0, len(frames) - 1, count).round().astype(int)
    sheet = Image.new("RGB", (size * count, size), "white")
    for k, i in enumerate(idx):
        sheet.paste(frames[i], (k * size, 0))
    path = Path(path)
    sheet.save(path)
    return path
