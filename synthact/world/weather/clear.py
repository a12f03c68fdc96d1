"""Clear weather: the sky as configured and a hard sun."""
from . import Weather

WEATHER = Weather("clear", "", sky_darkening=0.35)  # darkening applies when environment.sky is 'overcast'
