"""Decoders of SynthAct's compact depth and flow files, for readers that have only NumPy and OpenCV: this module
imports nothing else of SynthAct, so a webdataset pipeline (or any script) can use it on downloaded shards.

Why they need one: depth.png16 is a 16-bit greyscale PNG of log-quantised depth and flow_*.png16 a 16-bit
three-channel PNG in KITTI's layout, each with the clip's frames stacked vertically. A generic image decoder
would read them wrong without a word (PIL reads a 16-bit RGB PNG as 8-bit; webdataset's "rgb" turns 16-bit
depth into 1.0 everywhere), which is why shards name them .png16, an extension that webdataset's and Hugging
Face's stock decoders leave as bytes; decode them here:

    import webdataset as wds
    from synthact.decoders import decode_sample
    dataset = wds.WebDataset(urls).map(decode_sample).decode("rgb", partial=True)  # partial: leave arrays be
    # sample["depth"]: (T, H, W) float32 metres (+inf: sky, NaN: unknown); sample["flow_forward"],
    # sample["flow_backward"]: (T, H, W, 2) float32 pixels (NaN: no flow)

Each sample's JSON carries what decoding needs under "encodings" (the codec, the frame height, the
constants below and the formula), so the files can also be decoded from that description alone.

Depth (codec depth16): value 1..65534 -> DEPTH_NEAR_M * exp((value - 1) * DEPTH_LOG_STEP) metres; 0: NaN;
65535: +inf. Relative error <= DEPTH_MAX_RELATIVE_ERROR; depths outside [DEPTH_NEAR_M, DEPTH_FAR_M] are clamped.
Flow (codec flow16, KITTI): red = dx * 64 + 2^15, green = dy * 64 + 2^15, blue = 1 where valid; error
<= FLOW_MAX_ERROR_PX; components clamped to +-FLOW_LIMIT_PX.
"""
from __future__ import annotations

import json
import math

import cv2
import numpy as np

DEPTH_NEAR_M = 1e-3
DEPTH_FAR_M = 1e5
DEPTH_LEVELS = 65533  # values 1 .. 65534; 0 and 65535 are NaN and +inf
DEPTH_LOG_STEP = math.log(DEPTH_FAR_M / DEPTH_NEAR_M) / DEPTH_LEVELS
# Half a step on the log scale, plus float32 rounding when decoding.
DEPTH_MAX_RELATIVE_ERROR = math.expm1(DEPTH_LOG_STEP / 2) + 1e-6

FLOW_SCALE = 64.0  # 1/64 px steps
FLOW_MAX_ERROR_PX = 0.5 / FLOW_SCALE + 1e-6
FLOW_LIMIT_PX = (65535 - 32768) / FLOW_SCALE  # 511.98 px

# shard member -> (codec, key of the decoded array in decode_sample's output). The members are .png16 (dataset
# format 2), an extension no stock image decoder claims; format 1 shards (and clip folders) call them .png.
COMPACT_FILES = {"depth.png16": ("depth16", "depth"), "flow_forward.png16": ("flow16", "flow_forward"),
                 "flow_backward.png16": ("flow16", "flow_backward")}
COMPACT_FILES.update({name.removesuffix("16"): kind for name, kind in list(COMPACT_FILES.items())})


def _unpng(data: bytes, channels: int, height: int) -> np.ndarray:
    """The stacked 16-bit image as (T, H, W[, C]) uint16."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None or image.dtype != np.uint16 or (image.ndim == 3) != (channels > 1):
        raise ValueError("not a 16-bit PNG of the expected channels")
    if image.shape[0] % height:
        raise ValueError(f"image height {image.shape[0]} is not a multiple of the frame height {height}")
    return image.reshape(image.shape[0] // height, height, *image.shape[1:])


def decode_depth(data: bytes, height: int) -> np.ndarray:
    """depth.png bytes and the frame height -> (T, H, W) float32 metres."""
    values = _unpng(data, 1, height)
    depth = DEPTH_NEAR_M * np.exp((values.astype(np.float64) - 1) * DEPTH_LOG_STEP)
    depth[values == 0] = np.nan
    depth[values == 65535] = np.inf
    return depth.astype(np.float32)


def decode_flow(data: bytes, height: int) -> np.ndarray:
    """flow_*.png bytes and the frame height -> (T, H, W, 2) float32 pixels, NaN where invalid."""
    image = _unpng(data, 3, height)
    flow = (image[..., [2, 1]].astype(np.float32) - 32768) / FLOW_SCALE
    flow[image[..., 0] == 0] = np.nan
    return flow


DECODERS = {"depth16": decode_depth, "flow16": decode_flow}


def encodings(frame_height: int, files) -> dict:
    """What a sample's JSON says about its compact files (`files`: the names present), under "encodings"."""
    described = {
        "depth16": {"codec": "depth16", "frame_height": frame_height, "dtype": "uint16", "channels": 1,
                    "near_m": DEPTH_NEAR_M, "far_m": DEPTH_FAR_M, "log_step": DEPTH_LOG_STEP,
                    "formula": "v in 1..65534: near_m * exp((v - 1) * log_step) metres; 0: NaN; 65535: +inf",
                    "max_relative_error": DEPTH_MAX_RELATIVE_ERROR},
        "flow16": {"codec": "flow16", "frame_height": frame_height, "dtype": "uint16", "channels": 3,
                   "scale": FLOW_SCALE, "offset": 32768,
                   "formula": "KITTI: dx = (R - offset) / scale, dy = (G - offset) / scale pixels; B = 0: no flow",
                   "max_error_px": FLOW_MAX_ERROR_PX, "limit_px": FLOW_LIMIT_PX},
    }
    return {name: described[codec] for name, (codec, _) in COMPACT_FILES.items() if name in files}


def decode_sample(sample: dict) -> dict:
    """A webdataset sample (raw bytes, as `wds.WebDataset` yields them) with its compact files decoded: the
    "depth.png16", "flow_forward.png16" and "flow_backward.png16" members (".png" in shards before dataset
    format 2) are replaced by float32 arrays under "depth", "flow_forward" and "flow_backward"."""
    present = [name for name in COMPACT_FILES if name in sample]
    if not present:
        return sample
    meta = sample.get("json")
    meta = json.loads(meta) if isinstance(meta, (bytes, str)) else meta
    described = (meta or {}).get("encodings", {})
    out = dict(sample)
    for name in present:
        codec, key = COMPACT_FILES[name]
        height = described.get(name, {}).get("frame_height") or _frame_height(meta)
        out[key] = DECODERS[codec](out.pop(name), int(height))
    return out


def _frame_height(meta: dict | None) -> int:
    """The frame height of a sample packed before its JSON carried "encodings": from its camera."""
    try:
        camera = meta["camera"]
        camera = json.loads(camera) if isinstance(camera, str) else camera
        return int(camera["height"])
    except (TypeError, KeyError, ValueError):
        raise ValueError("the sample's JSON says neither its encodings nor its camera's height; cannot decode its "
                         "depth or flow") from None
