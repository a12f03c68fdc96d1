"""Pictures of clips for people to look at: a contact sheet (frames x modalities) and a frame strip
with skeletons. Each modality's column is a small function of (clip, frame) -> RGB image."""
from __future__ import annotations

import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import cv2
import numpy as np

from synthact.human.bodies import COCO17_SKELETON

if TYPE_CHECKING:
    from .reader import ClipReader


@dataclass(frozen=True)
class Column:
    title: str
    image: Callable[["ClipReader", int], np.ndarray]  # (H, W, 3) uint8 of one frame


def depth_range(depth: np.ndarray) -> tuple[float, float]:
    """Near and far ends (1st and 99th percentiles of the finite depths) for colouring a clip."""
    finite = depth[np.isfinite(depth)]
    if not finite.size:
        return 1.0, 2.0
    near, far = np.percentile(finite, [1, 99])
    return float(near), float(max(far, near * 1.01))


def depth_image(depth: np.ndarray, near: float | None = None, far: float | None = None) -> np.ndarray:
    """Inverse depth through the turbo colour map: near red, far blue (resolves the near field); sky black."""
    if near is None or far is None:
        near, far = depth_range(depth)
    finite = np.isfinite(depth)
    x = np.clip((1 / np.where(finite, depth, far) - 1 / far) / (1 / near - 1 / far), 0, 1)
    out = cv2.applyColorMap((x * 255).astype(np.uint8), cv2.COLORMAP_TURBO)[..., ::-1].copy()
    out[~finite] = 0
    return out


def flow_scale(flow: np.ndarray) -> float:
    """The speed (px) shown fully saturated: the 95th percentile of the moving pixels, at least 1 px."""
    valid = np.isfinite(flow).all(-1)
    mag = np.linalg.norm(flow[valid], axis=-1)
    moving = mag[mag > 0.05]
    return max(float(np.percentile(moving, 95)) if moving.size else 1.0, 1.0)


def flow_image(flow: np.ndarray, scale: float | None = None) -> np.ndarray:
    """Hue = direction, saturation = speed relative to scale px (white: still); no flow (sky) black."""
    valid = np.isfinite(flow).all(-1)
    clean = np.nan_to_num(flow).astype(np.float32)
    mag, angle = cv2.cartToPolar(clean[..., 0], clean[..., 1], angleInDegrees=True)
    scale = scale or flow_scale(flow)
    hsv = np.stack([angle / 2, np.clip(mag / scale, 0, 1) * 255, np.full_like(mag, 255)], -1).astype(np.uint8)
    out = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    out[~valid] = 0
    return out


def flow_wheel(size: int, scale: float) -> np.ndarray:
    """The flow colour key: a disc whose rim is `scale` px of motion in each direction."""
    r = size / 2 - 1
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32) - size / 2 + 0.5
    wheel = flow_image(np.stack([xs, ys], -1) / r * scale, scale)
    wheel[np.hypot(xs, ys) > r] = 255
    return wheel


def depth_bar(width: int, height: int, near: float, far: float) -> np.ndarray:
    """The depth colour key, far (left) to near (right)."""
    ramp = np.tile(1 / np.linspace(1 / far, 1 / near, width), (height, 1))
    return depth_image(ramp, near, far)


def segmentation_image(instance: np.ndarray, part: np.ndarray, semantic: np.ndarray | None = None) -> np.ndarray:
    """Body parts in golden-ratio hues, alternate actors darker; the rest by semantic class in dim colours (dark
    grey without one)."""
    hues = np.array([(i * 0.618) % 1 for i in range(32)]) * 180
    palette = cv2.cvtColor(np.stack([hues, np.full(32, 166), np.full(32, 242)], -1)[None].astype(np.uint8),
                           cv2.COLOR_HSV2RGB)[0].astype(np.float32)
    out = np.full((*instance.shape, 3), 40, np.uint8)
    if semantic is not None:
        dim = cv2.cvtColor(np.stack([hues[::-1], np.full(32, 90), np.full(32, 110)], -1)[None].astype(np.uint8),
                           cv2.COLOR_HSV2RGB)[0]
        out[:] = dim[semantic % 32]
    body = instance > 0
    shade = 0.6 + 0.4 * ((instance[body] % 2) == 1)
    out[body] = (palette[part[body] % 32] * shade[:, None]).astype(np.uint8)
    return out


def draw_skeletons(image: np.ndarray, coco2d: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """COCO skeletons of every actor on a copy of image: yellow bones, green seen and red occluded joints."""
    out = np.ascontiguousarray(image.copy())
    for person in coco2d:
        pts = person[:, :2] * scale + (scale - 1) / 2  # pixel centres of the scaled image
        for a, b in COCO17_SKELETON:
            if person[a, 2] > 0 and person[b, 2] > 0:
                cv2.line(out, tuple(int(round(v)) for v in pts[a]), tuple(int(round(v)) for v in pts[b]),
                         (255, 255, 0), 2, cv2.LINE_AA)
        for (x, y), v in zip(pts, person[:, 2]):
            if v > 0:
                cv2.circle(out, (int(round(x)), int(round(y))), 3, (0, 255, 0) if v == 2 else (255, 60, 60), -1,
                           cv2.LINE_AA)
    return out


def _per_clip(statistic: Callable[["ClipReader"], object]) -> Callable[["ClipReader"], object]:
    """A whole-clip statistic (a colour scale) computed once per reader: every row of a sheet shares it."""
    cache: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def of(clip: "ClipReader"):
        if clip not in cache:
            cache[clip] = statistic(clip)
        return cache[clip]
    return of


# colour scales from every other pixel of every frame: the same percentiles for a preview, in a quarter of the time
_clip_depth_range = _per_clip(lambda clip: depth_range(clip.depth()[:, ::2, ::2]))
_clip_flow_scale = _per_clip(lambda clip: flow_scale(clip.flow("forward")[:, ::2, ::2]))

RGB = Column("rgb", lambda clip, i: clip.rgb()[i])
KEYPOINTS = Column("keypoints", lambda clip, i: draw_skeletons(clip.rgb()[i], clip.array("keypoints.npz", "coco2d")[i]))
DEPTH = Column("depth (inverse)", lambda clip, i: depth_image(clip.depth()[i], *_clip_depth_range(clip)))
FLOW = Column("flow ->", lambda clip, i: flow_image(clip.flow("forward")[i], _clip_flow_scale(clip)))
SEGMENTATION = Column("segmentation", lambda clip, i: segmentation_image(
    clip.array("segmentation.npz", "instance")[i], clip.array("segmentation.npz", "body_part")[i],
    clip.arrays("segmentation.npz").get("semantic", [None] * (i + 1))[i]))


def _upscale(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return cv2.resize(image, size, interpolation=cv2.INTER_NEAREST)


def contact_sheet(clip: "ClipReader | Path", out: Path, frames: int = 4, cell: int = 224) -> Path:
    """Rows: evenly spaced frames; columns: the clip's modalities in registry order; a title line with the
    class and scene, and colour keys for depth (metres) and flow (pixels) at the bottom."""
    from .modalities import MODALITIES
    from .reader import ClipReader
    clip = clip if isinstance(clip, ClipReader) else ClipReader.from_dir(clip)
    t, h, w = clip.frames, clip.camera.height, clip.camera.width
    scale = max(cell // max(h, w), 1)
    size = (w * scale, h * scale)
    columns = [m.preview for m in MODALITIES.values() if m.preview is not None and clip.has(m.name)]
    picks = np.unique(np.linspace(0, max(t - 2, 0), frames).round().astype(int))
    band, legend = 14, 40  # a text line above the columns and every row; the colour keys
    top = 2 * band
    sheet = np.full((top + (band + size[1]) * len(picks) + legend, size[0] * len(columns), 3), 255, np.uint8)
    spec = clip.spec
    labels = ", ".join(sorted({a.motion.class_name for a in spec.actors}))
    _label(sheet, f"{labels}  |  scene {spec.scene_id}  |  {spec.split}", (4, band - 3))
    for c, column in enumerate(columns):
        _label(sheet, column.title, (c * size[0] + 4, top - 3))
    for row, i in enumerate(picks):
        y = top + row * (band + size[1]) + band
        _label(sheet, f"frame {i}", (4, y - 3))
        for c, column in enumerate(columns):
            if column is KEYPOINTS:  # skeletons drawn at full size, not upscaled with the pixels
                image = draw_skeletons(_upscale(clip.rgb()[i], size), clip.array("keypoints.npz", "coco2d")[i], scale)
            else:
                image = _upscale(column.image(clip, i), size)
            sheet[y:y + size[1], c * size[0]:(c + 1) * size[0]] = image
    y = sheet.shape[0] - legend + 6
    if DEPTH in columns:
        x = columns.index(DEPTH) * size[0]
        near, far = _clip_depth_range(clip)
        sheet[y:y + 12, x + 4:x + size[0] - 4] = depth_bar(size[0] - 8, 12, near, far)
        _label(sheet, f"{far:.1f} m", (x + 4, y + 26))
        _label(sheet, f"{near:.1f} m", (x + size[0] - 44, y + 26))
    if FLOW in columns:
        x = columns.index(FLOW) * size[0]
        sheet[y - 2:y + 30, x + 4:x + 36] = flow_wheel(32, _clip_flow_scale(clip))
        _label(sheet, f"rim: {_clip_flow_scale(clip):.1f} px/frame", (x + 42, y + 18))
    out = Path(out)
    cv2.imwrite(str(out), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    return out


def frame_strip(clip: "ClipReader", frames: int = 4, cell: int = 160) -> np.ndarray:
    """Evenly spaced frames side by side, each fitted into a cell, with skeletons when keypoints exist."""
    rgb = clip.rgb()
    kp = clip.array("keypoints.npz", "coco2d") if clip.has("keypoints") else None
    picks = np.linspace(0, len(rgb) - 1, frames).round().astype(int)
    strip = np.full((cell, cell * frames, 3), 255, np.uint8)
    for k, i in enumerate(picks):
        h, w = rgb[i].shape[:2]
        scale = cell / max(h, w)
        image = cv2.resize(rgb[i], (int(w * scale), int(h * scale)), interpolation=cv2.INTER_AREA)
        if kp is not None:
            image = draw_skeletons(image, kp[i], scale)
        strip[:image.shape[0], k * cell:k * cell + image.shape[1]] = image
    return strip


def _label(sheet: np.ndarray, text: str, origin: tuple[int, int]) -> None:
    cv2.putText(sheet, text, origin, cv2.FONT_HERSHEY_SIMPLEX, 0.35, (0, 0, 0), 1, cv2.LINE_AA)
