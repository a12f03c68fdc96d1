"""Clothes, shoes, hats, hair, eyebrows and eyelashes for anny bodies (CC0 MakeHuman assets, converted).

`GarmentLibrary.builtin()` lists and loads assets by kind and name; `fit(asset, body_vertices)` places an
asset on a body's per-frame vertices; `hidden_faces(assets, body_faces)` says which body faces to leave out
under them. Pure numpy/scipy; `convert.py` made the shipped files in `data/`.
"""
from __future__ import annotations

from .binding import Binding
from .library import KINDS, GarmentAsset, GarmentAssetError, GarmentLibrary, fit, hidden_faces

__all__ = ["KINDS", "Binding", "GarmentAsset", "GarmentAssetError", "GarmentLibrary", "fit", "hidden_faces"]
