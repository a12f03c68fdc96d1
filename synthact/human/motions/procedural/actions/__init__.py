"""The procedural action families. Each turns (time grid, skeleton, rng, variant) into a Track.

Every action starts standing at the origin facing -Y; the instance rng varies tempo, amplitude,
timing and style so that one class yields many distinct clips. Importing a section registers its
families in ACTIONS.
"""
from . import arms, dance, jumps, legs, locomotion, sports, whole_body  # noqa: F401  (registration order)
from .common import ACTIONS, Ctx

__all__ = ["ACTIONS", "Ctx"]
