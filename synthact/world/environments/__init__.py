"""Environment kinds, one module each: every module in this package that defines KIND is a kind.

A kind says which of a batch config's `environment` options it reads (the others are refused when a config
only ever samples this kind), whether it draws a place from a place library, and how the clip text names
where the clip happens. A kind made of places needs nothing more (render/blender/places.py loads any place);
the procedural outdoor world is built by render/blender/environment.py.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable

from synthact.spec import EnvironmentSpec
from synthact.world.registry import declared
from synthact.world.skies import Photograph


@dataclass(frozen=True)
class EnvironmentKind:
    name: str
    options: frozenset[str]  # the fields of a batch config's `environment` this kind reads (besides `kind`)
    uses_places: bool  # draws a place from the library named by environment.places
    text: Callable[[EnvironmentSpec, Photograph | None], str]  # where the clip happens, for the clip text (given
    #                                                              what the HDRI sky shows, when its pack says)


@functools.cache
def registry() -> dict[str, EnvironmentKind]:
    return declared(__name__, __path__, "KIND", EnvironmentKind)


def kind_of(env: EnvironmentSpec) -> EnvironmentKind:
    kinds = registry()
    if env.kind not in kinds:
        raise KeyError(f"unknown environment kind {env.kind!r} (known: {', '.join(sorted(kinds))})")
    return kinds[env.kind]
