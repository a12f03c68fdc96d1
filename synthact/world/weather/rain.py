"""Rain: a darker overcast sky, wet ground and fast translucent streaks."""
from . import Particles, Weather

WEATHER = Weather("rain", "rain", overcast=True, sky_darkening=0.35, wet_ground=True, shaped_by_intensity=True,
                  particles=Particles(speed_m_s=7.0, length_m=0.25, width_m=0.006, colour=(0.8, 0.85, 0.9),
                                      strength=0.6, transparency=0.5))
