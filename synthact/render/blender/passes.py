"""Reading the annotation render's multilayer EXR (written by Blender) into named arrays."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import OpenEXR

_LAYER = "ViewLayer."


def read_exr_passes(path: Path) -> dict[str, np.ndarray]:
    """-> depth (H, W), position (H, W, 3), object_index (H, W), face_id (H, W), bary (H, W, 3), part (H, W)."""
    channels: dict[str, np.ndarray] = {}
    with OpenEXR.File(str(path)) as f:
        for part in f.parts:
            for name, channel in part.channels.items():
                channels[name.removeprefix(_LAYER)] = np.array(channel.pixels)

    def vec(prefix: str) -> np.ndarray:
        if prefix in channels:  # an RGBA AOV comes as one (H, W, 4) channel
            return channels[prefix][..., :3]
        return np.stack([channels[f"{prefix}.{c}"] for c in "XYZ"], axis=-1)

    def scalar(name: str) -> np.ndarray:
        key = name if name in channels else next((k for k in channels if k.startswith(name + ".")), None)
        if key is None:
            raise KeyError(f"{path}: no {name!r} pass among {sorted(channels)}")
        value = channels[key]
        return value[..., 0] if value.ndim == 3 else value

    return {
        "depth": channels["Depth.Z"],
        "position": vec("Position"),
        "object_index": channels["Object Index.X"],
        "face_id": scalar("face_id"),
        "bary": vec("bary"),
        "part": scalar("part"),
    }
