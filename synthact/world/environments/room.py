"""Rooms: a place from a place library (furniture, materials and lamps as its generator made them), lit by its
own lamps and by daylight through its windows at the sampled time of day."""
from synthact.spec import EnvironmentSpec

from . import EnvironmentKind


def _text(env: EnvironmentSpec, _photograph=None) -> str:
    room = env.place.room_type.replace("_", " ") if env.place else "room"
    near = f", beside a {env.place.near}" if env.place and env.place.near else ""
    return f"in a {room}{near}"


KIND = EnvironmentKind("room", options=frozenset({"places", "time_of_day"}), uses_places=True, text=_text)
