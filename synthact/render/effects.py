"""Effects applied to rendered frames in numpy."""
from __future__ import annotations

import numpy as np


def add_fog(rgb: np.ndarray, depth: np.ndarray, intensity: float, sun_elevation_deg: float) -> np.ndarray:
    """Exponential fog from the rendered depth: colour * T + fog * (1 - T), T = exp(-density * depth).

    (A Cycles volume is the physical way, but a world volume also swallows the sun, and a bounded one
    needs many samples to stop being black and noisy on a CPU budget.) Visibility falls from ~300 m at
    intensity 0 to ~15 m at intensity 1; the sky disappears into the fog colour.
    """
    density = 0.01 + 0.19 * float(intensity)
    transmittance = np.exp(-density * np.where(np.isfinite(depth), depth, 1e6))[..., None]
    light = max(0.35, float(np.sin(np.radians(max(sun_elevation_deg, 0.0)))) ** 0.5)
    colour = np.array([200.0, 205.0, 212.0]) * light
    return (rgb * transmittance + colour * (1 - transmittance)).round().clip(0, 255).astype(np.uint8)


def add_sensor_noise(rgb: np.ndarray, std: float, seed: int) -> np.ndarray:
    """Gaussian noise of std grey levels on every pixel and channel, from a seeded generator (so the
    same spec gives the same frames)."""
    noise = np.random.default_rng(seed).normal(0.0, std, rgb.shape)
    return (rgb + noise).round().clip(0, 255).astype(np.uint8)
