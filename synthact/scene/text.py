"""A short text per clip, from its spec: who does what, then the camera and where (outdoors: the weather and
the ground; in a room: the room and what is beside the actors, from world/environments/).

"a woman in dark red and black casual clothes, with a ponytail: walk, veer left; handheld camera, overcast,
gravel ground". On an HDRI's own ground, where its photograph was taken when its pack says ("fog, in a field at
sunrise"). The motion part is the source's description when it names the label (CMU's own words,
left and right swapped for a mirrored motion), else the label followed by the description.
"""
from __future__ import annotations

from synthact.human.motions.vocabulary import UNLABELLED, normalise
from synthact.spec import ActorSpec, CameraSpec, EnvironmentSpec, GarmentSpec
from synthact.world.environments import kind_of
from synthact.world.skies import Photograph

_HUES = ((15, "red"), (45, "orange"), (70, "yellow"), (165, "green"), (200, "teal"), (255, "blue"), (290, "purple"),
         (345, "pink"), (360, "red"))
_SLEEVES = {"none": "sleeveless", "short": "short-sleeved", "long": "long-sleeved"}
_BOTTOMS = {"shorts": "shorts", "knee": "knee-length trousers", "long": "long trousers"}
_OUTFITS = (("casualsuit", "casual clothes"), ("elegantsuit", "formal clothes"), ("sportsuit", "sportswear"),
            ("worksuit", "work clothes"), ("", "clothes"))
_HAIR = (("afro", "an afro"), ("bob", "a bob"), ("braid", "a braid"), ("long", "long hair"), ("ponytail", "a ponytail"),
         ("short", "short hair"))
_CAMERAS = {"static": "static", "pan": "panning", "orbit": "orbiting", "dolly": "dolly", "handheld": "handheld"}


def colour_name(g: GarmentSpec) -> str:
    if g.value < 0.2:
        return "black"
    if g.saturation < 0.15:
        return "white" if g.value > 0.8 else "grey"
    hue = next(name for edge, name in _HUES if g.hue_deg % 360 < edge)
    return f"dark {hue}" if g.value < 0.45 else f"light {hue}" if g.value > 0.8 and g.saturation < 0.5 else hue


def person(a: ActorSpec) -> str:
    woman = a.shape.gender >= 0.5
    if a.shape.age < 0.6:
        who = "a girl" if woman else "a boy"
    elif a.shape.age >= 0.88:
        who = "an older woman" if woman else "an older man"
    else:
        who = "a woman" if woman else "a man"
    c = a.clothing
    if c.style == "painted":
        return (f"{who} in a {colour_name(c.top)} {_SLEEVES[c.top_sleeves]} top and {colour_name(c.bottom)} "
                f"{_BOTTOMS[c.bottom_length]}")
    outfit = next(word for key, word in _OUTFITS if key in (c.outfit or ""))
    hair = next((word for key, word in _HAIR if key in c.hair), "hair") if c.hair else "a shaved head"
    hat = " and a hat" if c.hat else ""
    return f"{who} in {colour_name(c.top)} and {colour_name(c.bottom)} {outfit}{hat}, with {hair}"


def action(label: str, description: str) -> str:
    words = label.replace("_", " ")
    if label == UNLABELLED:
        return description or "an unlabelled motion"
    if not description or words in normalise(description):
        return description or words
    return f"{words}: {description}"


def clip_text(actors: tuple[ActorSpec, ...], camera: CameraSpec, environment: EnvironmentSpec,
              photograph: Photograph | None = None) -> str:
    """photograph: what the HDRI sky shows, when its pack says."""
    people = "; ".join(f"{person(a)}: {action(a.motion.label, a.motion.description)}"
                       + (f", on a {a.seat.kind}" if a.seat else "") for a in actors)
    return f"{people}; {_CAMERAS[camera.motion.type]} camera, {kind_of(environment).text(environment, photograph)}"
