"""The JSON records of a clip besides its arrays: the camera (camera.json)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CAMERA_CONVENTION = ("OpenCV: x right, y down, z forward; pixel centres at integer coordinates; "
                     "world Z up, metres")


@dataclass(frozen=True)
class CameraRecord:
    """Intrinsics and per-frame extrinsics in OpenCV's convention: a world point X projects to
    K @ (R @ X + t) with [R | t] = world_to_camera[frame][:3]."""

    width: int
    height: int
    fps: float
    K: np.ndarray  # (3, 3) pixels
    world_to_camera: np.ndarray  # (T, 4, 4)
    focal_length_mm: float
    sensor_width_mm: float

    def to_json(self) -> dict:
        return {"width": self.width, "height": self.height, "fps": self.fps, "K": self.K.tolist(),
                "world_to_camera": self.world_to_camera.tolist(), "convention": CAMERA_CONVENTION,
                "focal_length_mm": self.focal_length_mm, "sensor_width_mm": self.sensor_width_mm}

    @classmethod
    def from_json(cls, data: dict) -> "CameraRecord":
        K = np.asarray(data["K"], np.float64)
        w2c = np.asarray(data["world_to_camera"], np.float64)
        if K.shape != (3, 3) or w2c.ndim != 3 or w2c.shape[1:] != (4, 4):
            raise ValueError(f"camera.json: K must be 3x3 and world_to_camera Tx4x4, got {K.shape} and {w2c.shape}")
        return cls(int(data["width"]), int(data["height"]), float(data["fps"]), K, w2c,
                   float(data["focal_length_mm"]), float(data["sensor_width_mm"]))

    @property
    def frames(self) -> int:
        return len(self.world_to_camera)
