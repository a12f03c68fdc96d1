"""Ground families of outdoor worlds: what the ground is made of and how it looks."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Ground:
    name: str
    colour: tuple[float, float, float]  # sRGB base colour
    second_colour: tuple[float, float, float]  # sRGB colour the texture mixes in
    roughness: float
    texture: str  # noise | brick | wave | voronoi (the procedural pattern)
    natural: bool  # the ground of open land: it may rise into hills (paved and built grounds stay flat)
    sky: str | None = None  # the sky it needs: its look is that sky's photograph (None: any sky)
    text: str = ""  # how the clip text names it ("" : "<name> ground")
    props: bool = True  # props stand on it (not on a photograph's ground: they would stand in front of its walls)


GROUNDS: dict[str, Ground] = {g.name: g for g in (
    Ground("grass", (0.16, 0.32, 0.07), (0.28, 0.45, 0.12), 0.9, "noise", True),
    Ground("asphalt", (0.10, 0.10, 0.11), (0.20, 0.20, 0.21), 0.85, "noise", False),
    Ground("concrete", (0.55, 0.54, 0.52), (0.68, 0.67, 0.65), 0.9, "noise", False),
    Ground("dirt", (0.36, 0.26, 0.17), (0.48, 0.36, 0.24), 0.95, "noise", True),
    Ground("sand", (0.76, 0.66, 0.48), (0.84, 0.75, 0.58), 0.95, "noise", True),
    Ground("tiles", (0.62, 0.56, 0.50), (0.42, 0.38, 0.35), 0.8, "brick", False),
    Ground("wood", (0.45, 0.29, 0.16), (0.60, 0.42, 0.25), 0.7, "wave", False),
    Ground("gravel", (0.50, 0.50, 0.48), (0.33, 0.33, 0.32), 0.95, "voronoi", True),
    Ground("snow", (0.88, 0.90, 0.94), (0.96, 0.97, 0.99), 0.6, "noise", True),
    # the HDRI's own ground, as Kubric's dome shows it: a shadow catcher that shows the photograph and catches
    # the actors' and props' shadows; flat (the photograph has no hills), and only under an HDRI sky
    Ground("photo", (0.5, 0.5, 0.5), (0.5, 0.5, 0.5), 0.9, "photo", False, sky="hdri",
           text="on the photographed ground", props=False),
)}


def grounds_for(sky: str) -> list[str]:
    """The ground families a sky can have under it."""
    return [name for name, g in GROUNDS.items() if g.sky in (None, sky)]
