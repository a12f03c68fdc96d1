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

from dataclasses import dataclass
from typing import Callable

import cv2
import numpy as np

# the decode side and the constants belong to synthact.decoders, which readers use without the rest of SynthAct
from synthact.decoders import (  # noqa: F401 - re-exported for the clip format's users
    DEPTH_FAR_M,
    DEPTH_LEVELS,
    DEPTH_LOG_STEP,
    DEPTH_MAX_RELATIVE_ERROR,
    DEPTH_NEAR_M,
    FLOW_LIMIT_PX,
    FLOW_MAX_ERROR_PX,
    FLOW_SCALE,
    decode_depth,
    decode_flow,
)

PNG_LEVEL = 6  # zlib level: about 0.2 s per 224 x 224 x 32 file, 30 % smaller than level 1


def _png(image: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, PNG_LEVEL])
    if not ok:
        raise ValueError("PNG encoding failed")
    return data.tobytes()


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


def encode_flow(flow: np.ndarray) -> bytes:
    """(T, H, W, 2) pixels (NaN: no flow) -> PNG bytes."""
    t, h, w, _ = flow.shape
    valid = np.isfinite(flow).all(-1)
    values = np.clip(np.round(np.where(valid[..., None], flow, 0) * FLOW_SCALE) + 32768, 0, 65535)
    values = np.where(valid[..., None], values, 0).astype(np.uint16)
    # OpenCV writes BGR: blue (valid), green (dy), red (dx)
    image = np.stack([valid.astype(np.uint16), values[..., 1], values[..., 0]], -1)
    return _png(image.reshape(t * h, w, 3))


@dataclass(frozen=True)
class Codec:
    """How one compact file kind holds its single array (`key` in the registry)."""

    key: str
    encode: Callable[[np.ndarray], bytes]
    decode: Callable[[bytes, int], np.ndarray]  # (data, frame height) -> array


CODECS = {"depth16": Codec("depth", encode_depth, decode_depth), "flow16": Codec("flow", encode_flow, decode_flow)}
