"""Weather types, one module each: every module in this package that defines WEATHER is a type.

A type says how it changes the sky (overcast dome, how much intensity darkens it), whether the ground
gets wet, what it adds to the scene (e.g. falling streaks) and what it does to the rendered frames
(e.g. fog from depth). A new type is a module here plus its name in config/batch.py's WEATHER_TYPES.
"""
from __future__ import annotations

import functools
import importlib
import pkgutil
from dataclasses import dataclass
from typing import Callable

import numpy as np

from synthact.spec import EnvironmentSpec


@dataclass(frozen=True)
class Weather:
    name: str
    overcast: bool = False  # an even grey sky dome and a soft, weak sun
    sky_darkening: float = 0.0  # how much intensity 1 darkens the overcast grey (of 0.75)
    wet_ground: bool = False  # the ground darkens and turns glossy with intensity
    # adds objects that move through the scene: (env, rng, stage centre, frames, fps) -> object or None
    build: Callable[[EnvironmentSpec, np.random.Generator, np.ndarray, int, float], object] | None = None
    # changes the rendered frames: (rgb (T, H, W, 3) uint8, depth (T, H, W), env) -> rgb
    after_render: Callable[[np.ndarray, np.ndarray, EnvironmentSpec], np.ndarray] | None = None


@functools.cache
def registry() -> dict[str, Weather]:
    found = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        weather = getattr(module, "WEATHER", None)
        if isinstance(weather, Weather):
            found[weather.name] = weather
    return found


def weather_of(env: EnvironmentSpec) -> Weather:
    types = registry()
    if env.weather not in types:
        raise KeyError(f"unknown weather {env.weather!r} (known: {', '.join(sorted(types))})")
    return types[env.weather]
