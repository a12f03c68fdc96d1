"""Actor appearance in plain numpy: which garment covers each face, and the colours (linear RGB)."""
from __future__ import annotations

import colorsys

import numpy as np

from synthact.human.bodies.base import PART_NAMES
from synthact.human.motions.skeleton import J
from synthact.spec import ClothingSpec, GarmentSpec

SKIN, TOP, BOTTOM, SHOES = 0, 1, 2, 3
REGION_NAMES = ("skin", "top", "bottom", "shoes")

P = {name: i for i, name in enumerate(PART_NAMES)}


def srgb_to_linear(c):
    c = np.asarray(c, float)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


# Diffuse skin albedo is far from the Monk swatches' sRGB values used as paint (tone 1 would be white
# plaster at 0.92, tone 10 blue-black at 0.02). Measured skin albedos run from about (0.56, 0.40, 0.33)
# for very light to (0.085, 0.055, 0.042) for very dark skin (linear RGB); the ten Monk tones are spaced
# evenly between them in log albedo (the swatches stay the labels' meaning, not the paint).
SKIN_LIGHT, SKIN_DARK = np.array([0.56, 0.40, 0.33]), np.array([0.085, 0.055, 0.042])


def skin_linear(monk: int) -> tuple[float, float, float]:
    """Linear diffuse albedo of a Monk tone (1 lightest .. 10 darkest)."""
    t = (monk - 1) / 9
    return tuple(float(v) for v in np.exp((1 - t) * np.log(SKIN_LIGHT) + t * np.log(SKIN_DARK)))


def garment_linear(g: GarmentSpec) -> tuple[float, float, float]:
    return tuple(srgb_to_linear(colorsys.hsv_to_rgb(g.hue_deg / 360 % 1.0, g.saturation, g.value)))


def _along(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Fraction of the way from a to b of each point's projection onto the segment."""
    d = b - a
    return ((points - a) @ d) / max(float(d @ d), 1e-12)


def vertex_regions(vertices: np.ndarray, parts: np.ndarray, joints: np.ndarray, clothing: ClothingSpec) -> np.ndarray:
    """(V,) garment region per vertex from body parts, the canonical joints and the clothing spec."""
    region = np.full(len(vertices), SKIN, np.int8)
    region[np.isin(parts, [P["left_foot"], P["right_foot"]])] = SHOES
    torso = parts == P["torso"]
    waist = _along(vertices[torso], joints[J["pelvis"]], joints[J["spine3"]])
    region[np.flatnonzero(torso)] = np.where(waist < 0.15, BOTTOM, TOP)
    sleeves = {"none": (0.0, 0.0), "short": (0.6, 0.0), "long": (1.01, 0.95)}[clothing.top_sleeves]
    legs = {"shorts": (0.45, 0.0), "knee": (1.01, 0.1), "long": (1.01, 0.92)}[clothing.bottom_length]
    for side in ("left", "right"):
        for part, start, end, cover, garment in (
            (f"{side}_upper_arm", f"{side}_shoulder", f"{side}_elbow", sleeves[0], TOP),
            (f"{side}_lower_arm", f"{side}_elbow", f"{side}_wrist", sleeves[1], TOP),
            (f"{side}_upper_leg", f"{side}_hip", f"{side}_knee", legs[0], BOTTOM),
            (f"{side}_lower_leg", f"{side}_knee", f"{side}_ankle", legs[1], BOTTOM),
        ):
            idx = np.flatnonzero(parts == P[part])
            t = _along(vertices[idx], joints[J[start]], joints[J[end]])
            region[idx[t < cover]] = garment
    return region


def face_majority(values: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Per-face value that at least two of its three corners share (else the first corner's)."""
    a, b, c = values[faces[:, 0]], values[faces[:, 1]], values[faces[:, 2]]
    return np.where(b == c, b, a)
