"""Snow: a darker overcast sky and slow, bright flakes."""
from . import Particles, Weather

WEATHER = Weather("snow", "snowfall", overcast=True, sky_darkening=0.35, shaped_by_intensity=True,
                  particles=Particles(speed_m_s=1.0, length_m=0.02, width_m=0.02, colour=(1.0, 1.0, 1.0),
                                      strength=1.2, transparency=0.9))
