"""Sky types: what lights an outdoor world and what is seen above it; and what a photographed sky shows."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


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


@dataclass(frozen=True)
class Photograph:
    """What one HDRI shows, as its pack's manifest declares it (`options.photographs`): the weathers it can stand
    for (the first is the weather it was taken in; rain or snow cannot fall from a sunny photograph) and where it
    was taken, as the clip text says it under the photograph's own ground."""

    file: str
    weathers: tuple[str, ...]
    text: str


def photographs(options: dict[str, Any], weathers: set[str]) -> dict[str, Photograph]:
    """The photographs a pack's options declare, by file name. Raises ValueError naming the entry that is wrong."""
    declared = options.get("photographs") or {}
    if not isinstance(declared, dict):
        raise ValueError("options.photographs must map file names to {weather: [...], text: ...}")
    out = {}
    for file, entry in declared.items():
        if not isinstance(entry, dict) or set(entry) != {"weather", "text"}:
            raise ValueError(f"options.photographs.{file} must have exactly 'weather' and 'text'")
        names = entry["weather"] if isinstance(entry["weather"], list) else [entry["weather"]]
        unknown = [w for w in names if w not in weathers]
        if not names or unknown:
            raise ValueError(f"options.photographs.{file}.weather: unknown weather {unknown[0] if unknown else None!r}"
                             f" (known: {', '.join(sorted(weathers))})")
        if not isinstance(entry["text"], str) or not entry["text"].strip():
            raise ValueError(f"options.photographs.{file}.text must be a non-empty string")
        out[file] = Photograph(file, tuple(names), entry["text"].strip())
    return out
