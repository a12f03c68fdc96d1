"""Compact depth and flow: 16-bit PNGs with documented error bounds (render.precision: compact).

Both are one greyscale or RGB 16-bit PNG per file with the clip's frames stacked vertically (image height
T x H), so any PNG reader opens them. float32 arrays (render.precision: float32) stay exact.

Depth is quantised on a log scale between DEPTH_NEAR_M and DEPTH_FAR_M, so the error is relative:
  value 1..65534: depth = DEPTH_NEAR_M * exp((value - 1) * DEPTH_LOG_STEP); 0: NaN; 65535: +inf (sky).
Depths outside [DEPTH_NEAR_M, DEPTH_FAR_M] are clamped to the range.

Flow follows KITTI's 16-bit PNG: red = dx * 64 + 2^15, green = dy * 64 + 2^15, blue = 1 where the flow
is valid (0: NaN, e.g. the sky). Components beyond +-FLOW_LIMIT_PX are clamped to it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import cv2
import numpy as np

DEPTH_NEAR_M = 1e-3
DEPTH_FAR_M = 1e5
_DEPTH_LEVELS = 65533  # values 1 .. 65534; 0 and 65535 are NaN and +inf
DEPTH_LOG_STEP = math.log(DEPTH_FAR_M / DEPTH_NEAR_M) / _DEPTH_LEVELS
# Half a step on the log scale, plus float32 rounding when decoding.
DEPTH_MAX_RELATIVE_ERROR = math.expm1(DEPTH_LOG_STEP / 2) + 1e-6

FLOW_SCALE = 64.0  # 1/64 px steps
FLOW_MAX_ERROR_PX = 0.5 / FLOW_SCALE + 1e-6
FLOW_LIMIT_PX = (65535 - 32768) / FLOW_SCALE  # 511.98 px

PNG_LEVEL = 6  # zlib level: about 0.2 s per 224 x 224 x 32 file, 30 % smaller than level 1


def _png(image: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, PNG_LEVEL])
    if not ok:
        raise ValueError("PNG encoding failed")
    return data.tobytes()


def _unpng(data: bytes, channels: int, height: int) -> np.ndarray:
    """The stacked 16-bit image as (T, H, W[, C]) uint16."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None or image.dtype != np.uint16 or (image.ndim == 3) != (channels > 1):
        raise ValueError("not a 16-bit PNG of the expected channels")
    if image.shape[0] % height:
        raise ValueError(f"image height {image.shape[0]} is not a multiple of the frame height {height}")
    return image.reshape(image.shape[0] // height, height, *image.shape[1:])


def encode_depth(depth: np.ndarray) -> bytes:
    """(T, H, W) metres (+inf: no surface) -> PNG bytes."""
    t, h, w = depth.shape
    depth = np.asarray(depth, np.float64)
    finite = np.isfinite(depth)
    with np.errstate(invalid="ignore", divide="ignore"):
        level = np.log(np.clip(np.where(finite, depth, 1.0), DEPTH_NEAR_M, DEPTH_FAR_M) / DEPTH_NEAR_M)
    values = np.round(level / DEPTH_LOG_STEP) + 1
    values = np.where(finite, values, np.where(np.isposinf(depth), 65535, 0))
    return _png(values.astype(np.uint16).reshape(t * h, w))


def decode_depth(data: bytes, height: int) -> np.ndarray:
    """PNG bytes -> (T, H, W) float32 metres."""
    values = _unpng(data, 1, height)
    depth = DEPTH_NEAR_M * np.exp((values.astype(np.float64) - 1) * DEPTH_LOG_STEP)
    depth[values == 0] = np.nan
    depth[values == 65535] = np.inf
    return depth.astype(np.float32)


def encode_flow(flow: np.ndarray) -> bytes:
    """(T, H, W, 2) pixels (NaN: no flow) -> PNG bytes."""
    t, h, w, _ = flow.shape
    valid = np.isfinite(flow).all(-1)
    values = np.clip(np.round(np.where(valid[..., None], flow, 0) * FLOW_SCALE) + 32768, 0, 65535)
    values = np.where(valid[..., None], values, 0).astype(np.uint16)
    # OpenCV writes BGR: blue (valid), green (dy), red (dx)
    image = np.stack([valid.astype(np.uint16), values[..., 1], values[..., 0]], -1)
    return _png(image.reshape(t * h, w, 3))


def decode_flow(data: bytes, height: int) -> np.ndarray:
    """PNG bytes -> (T, H, W, 2) float32 pixels, NaN where invalid."""
    image = _unpng(data, 3, height)
    flow = (image[..., [2, 1]].astype(np.float32) - 32768) / FLOW_SCALE
    flow[image[..., 0] == 0] = np.nan
    return flow


@dataclass(frozen=True)
class Codec:
    """How one compact file kind holds its single array (`key` in the registry)."""

    key: str
    encode: Callable[[np.ndarray], bytes]
    decode: Callable[[bytes, int], np.ndarray]  # (data, frame height) -> array


CODECS = {"depth16": Codec("depth", encode_depth, decode_depth), "flow16": Codec("flow", encode_flow, decode_flow)}
