"""Outdoors: a ground of a sampled family (flat around the actors and the camera, hills beyond when
terrain_height_m is set), props around the stage (a place library's rocks among primitive shapes, or primitive
shapes only), a sky and weather."""
from synthact.spec import EnvironmentSpec
from synthact.world.grounds import GROUNDS
from synthact.world.skies import SKIES, Photograph
from synthact.world.weather import weather_named

from . import EnvironmentKind


def _text(env: EnvironmentSpec, photograph: Photograph | None = None) -> str:
    weather = weather_named(env.weather).text
    if photograph is not None and GROUNDS[env.ground].sky == "hdri":  # on the photograph's ground: where it was taken
        return f"{weather}, {photograph.text}" if weather else photograph.text
    weather = weather or SKIES[env.sky].text  # clear weather: the sky tells
    return f"{weather}, {GROUNDS[env.ground].text or env.ground + ' ground'}"


KIND = EnvironmentKind(
    "outdoor",
    options=frozenset({"ground", "props_density", "prop_library", "terrain_height_m", "time_of_day", "sky",
                       "weather", "backgrounds", "hdri", "hdri_rotation_deg", "hdri_exposure_ev"}),
    uses_places=False, text=_text)
