"""Fog: an overcast sky and exponential fog over the frames from the rendered depth."""
from . import Weather

WEATHER = Weather("fog", "fog", overcast=True, sky_darkening=0.35, fog=True, shaped_by_intensity=True)
