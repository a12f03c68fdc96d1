"""Snow: a darker overcast sky and slow, bright flakes."""
from . import Weather
from .streaks import Streaks

WEATHER = Weather("snow", overcast=True, sky_darkening=0.35,
                  build=Streaks(speed_m_s=1.0, length_m=0.02, width_m=0.02, colour=(1.0, 1.0, 1.0), strength=1.2,
                                transparency=0.9))
