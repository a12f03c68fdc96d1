"""Overcast: a light grey dome and a soft sun."""
from . import Weather

WEATHER = Weather("overcast", "overcast", overcast=True)
