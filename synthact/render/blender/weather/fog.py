"""Fog: an overcast sky and exponential fog applied to the frames from the rendered depth."""
import numpy as np

from synthact.render.effects import add_fog

from . import Weather


def _fog(rgb: np.ndarray, depth: np.ndarray, env) -> np.ndarray:
    return add_fog(rgb, depth, env.weather_intensity, env.sun_elevation_deg)


WEATHER = Weather("fog", overcast=True, sky_darkening=0.35, after_render=_fog)
