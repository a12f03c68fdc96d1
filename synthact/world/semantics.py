"""Semantic classes of what a scene holds besides its actors, and how a place's object names map to them.

Ids are stable (they are written into place libraries); stuff is what COCO-panoptic calls amorphous
regions (floor, wall, sky), things are countable objects. `classify` reads Infinigen's object names
(`ChairFactory(1826456).spawn_asset(1065016)`, `dining-room_0/0.wall`) and common words in imported scenes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class SemanticClass:
    id: int
    name: str
    stuff: bool  # an amorphous region (COCO-panoptic "stuff") rather than a countable thing


CLASSES: tuple[SemanticClass, ...] = tuple(SemanticClass(i, name, stuff) for i, (name, stuff) in enumerate((
    ("unlabelled", True), ("person", False), ("floor", True), ("wall", True), ("ceiling", True), ("door", False),
    ("window", False), ("table", False), ("chair", False), ("sofa", False), ("bed", False), ("cabinet", False),
    ("shelf", False), ("lamp", False), ("plant", False), ("decoration", False), ("appliance", False),
    ("ground", True), ("sky", True), ("building", False), ("tree", False), ("bush", False), ("rock", False),
    ("bench", False), ("pole", False), ("crate", False), ("stairs", True), ("object", False),
)))
CLASS_IDS = {c.name: c.id for c in CLASSES}

# Word patterns, first match wins; Infinigen's factory names and room parts come first.
_PATTERNS = tuple((re.compile(p, re.IGNORECASE), name) for p, name in (
    (r"\.floor$|floor|carpet|rug", "floor"), (r"\.ceiling$|ceiling(?!light)", "ceiling"),
    (r"\.(wall|exterior)$|skirting|wall(?!art)|baseboard", "wall"), (r"door", "door"), (r"window|curtain", "window"),
    (r"stair", "stairs"), (r"sofa|couch", "sofa"), (r"bed(?!room)|mattress", "bed"),
    (r"chair|stool|seat", "chair"), (r"table|desk", "table"), (r"cabinet|drawer|wardrobe|dresser|kitchen", "cabinet"),
    (r"shelf|bookcase", "shelf"), (r"lamp|light", "lamp"), (r"plant|flower|vase", "plant"),
    (r"tv|monitor|appliance|oven|fridge|microwave|dishwasher|sink|toilet|bathtub", "appliance"),
    (r"art|frame|mirror|decor|book|bowl|cup|plate|bottle|pillow|towel", "decoration"),
    (r"tree", "tree"), (r"bush|shrub", "bush"), (r"rock|stone|boulder", "rock"), (r"building|house", "building"),
    (r"bench", "bench"), (r"pole|post", "pole"), (r"crate|box", "crate"), (r"ground|terrain|grass", "ground"),
))


def classify(object_name: str) -> str:
    """The semantic class of a scene object from its name ('object' when no word names one)."""
    name = object_name.split(".spawn_asset")[0]
    for pattern, cls in _PATTERNS:
        if pattern.search(name):
            return cls
    return "object"
