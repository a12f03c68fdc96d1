"""Weather types, one module each: every module in this package that defines WEATHER is a type.

A type says how it changes the sky (overcast dome, how much intensity darkens it), whether the ground gets
wet, what falls through the scene (Particles, built by render/blender/weather.py) and whether fog is laid
over the frames from their depth (render/effects.py). A new type is one module here; config, sampler,
text and renderer read the registry.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

from synthact.world.registry import declared


@dataclass(frozen=True)
class Particles:
    """Streaks falling through a box around the stage (rain, snowflakes)."""

    speed_m_s: float
    length_m: float
    width_m: float
    colour: tuple[float, float, float]
    strength: float  # emission
    transparency: float  # mix factor towards a transparent surface


@dataclass(frozen=True)
class Weather:
    name: str
    text: str  # how the clip text names it ("" for clear weather: the sky names itself)
    overcast: bool = False  # an even grey sky dome and a soft, weak sun
    sky_darkening: float = 0.0  # how much intensity 1 darkens the overcast grey (of 0.75)
    wet_ground: bool = False  # the ground darkens and turns glossy with intensity
    particles: Particles | None = None  # what falls through the scene
    fog: bool = False  # exponential fog over the frames, from the rendered depth
    shaped_by_intensity: bool = False  # weather_intensity changes it (beyond darkening an overcast sky)


@functools.cache
def registry() -> dict[str, Weather]:
    return declared(__name__, __path__, "WEATHER", Weather)


def weather_named(name: str) -> Weather:
    types = registry()
    if name not in types:
        raise KeyError(f"unknown weather {name!r} (known: {', '.join(sorted(types))})")
    return types[name]
