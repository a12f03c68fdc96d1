"""Sky types: what lights an outdoor world and what is seen above it."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sky:
    name: str
    text: str  # how the clip text names it in clear weather
    pack: str | None = None  # the asset pack kind it draws an item from (environment.<pack> in a batch config)


SKIES: dict[str, Sky] = {s.name: s for s in (
    Sky("physical", "clear sky"),  # Blender's physical sky with the sun at the sampled time of day
    Sky("overcast", "overcast"),
    Sky("hdri", "a photographed sky", pack="hdri"),
    Sky("background", "a photo backdrop", pack="backgrounds"),
)}
