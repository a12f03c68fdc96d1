"""Outdoor terrain: flat where the actors and the camera are, rolling hills beyond (the horizon of a real place
rather than the edge of an infinite plane). One height function serves the ground mesh Blender renders, the
props standing on it and so the annotations' ray cast.
"""
from __future__ import annotations

import numpy as np

RAMP_M = 25.0  # the hills rise over this distance beyond the flat area
WAVES = 6  # sinusoids summed: wavelengths 20-120 m in random directions


def terrain_height(xy: np.ndarray, height_m: float, seed: int, flat_radius_m: float) -> np.ndarray:
    """(...,) heights in metres of the points xy (..., 2): 0 within flat_radius_m of the origin, rising over RAMP_M
    to hills of about height_m (peak to trough ~2 height_m), the same for the same seed."""
    xy = np.asarray(xy, np.float64)
    if height_m <= 0:
        return np.zeros(xy.shape[:-1])
    rng = np.random.default_rng([seed & (2**63 - 1), 7])
    angles = rng.uniform(0, 2 * np.pi, WAVES)
    wavelengths = rng.uniform(20.0, 120.0, WAVES)
    phases = rng.uniform(0, 2 * np.pi, WAVES)
    directions = np.stack([np.cos(angles), np.sin(angles)], axis=-1)
    waves = np.sin(xy @ directions.T * (2 * np.pi / wavelengths) + phases)  # (..., WAVES)
    bumps = waves.sum(axis=-1) / np.sqrt(WAVES / 2) + 1.0  # mostly above the flat floor: hills, not pits
    r = np.linalg.norm(xy, axis=-1)
    t = np.clip((r - flat_radius_m) / RAMP_M, 0.0, 1.0)
    return height_m * bumps * t * t * (3 - 2 * t)
