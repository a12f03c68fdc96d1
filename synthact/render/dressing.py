"""An actor's surfaces in plain numpy: the body (skin left out under clothes) and each fitted garment,
hair, eyebrows and eyelashes, with a segmentation label and a material region per face."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthact.human.bodies import PART_NAMES
from synthact.human.garments import GarmentLibrary, hidden_faces
from synthact.spec import ActorSpec

from .appearance import BOTTOM, HAIR, HAT, SHOES, SKIN, TOP, face_majority, srgb_to_linear, vertex_regions

P = {name: i for i, name in enumerate(PART_NAMES)}
_LOWER_BODY = [P[n] for n in ("left_upper_leg", "right_upper_leg", "left_lower_leg", "right_lower_leg", "left_foot",
                              "right_foot")]
# worn kind -> (the spec field naming the asset, segmentation label, material region)
WORN = {"outfit": ("outfit", None, None), "shoes": ("footwear", "footwear", SHOES),
        "hat": ("hat", "headwear", HAT), "hair": ("hair", "hair", HAIR), "eyebrows": ("eyebrows", "hair", HAIR),
        "eyelashes": ("eyelashes", "hair", HAIR)}


@dataclass
class Surface:
    """One keyed mesh of an actor, in world coordinates."""

    name: str  # body, or the worn kind (outfit, shoes, hat, hair, eyebrows, eyelashes)
    vertices: np.ndarray  # (T, V, 3) float32
    faces: np.ndarray  # (F, 3) int32
    uv: np.ndarray  # (F, 3, 2) float32
    part: np.ndarray  # (F,) segmentation label (index into PART_NAMES)
    region: np.ndarray  # (F,) material region (appearance.SKIN, TOP, ...)
    hint_rgb: tuple[float, float, float] | None = None  # the asset's own dominant colour (linear), if known


def dress(geometry, look: ActorSpec, library: GarmentLibrary | None = None) -> list[Surface]:
    """The body and what the actor wears (per its clothing spec), each as a Surface."""
    clothing = look.clothing
    body_face_parts = face_majority(geometry.part_labels, geometry.faces)
    if clothing.style == "painted":
        regions = vertex_regions(geometry.vertices[0], geometry.part_labels, geometry.canonical_joints[0], clothing)
        return [Surface("body", geometry.vertices, geometry.faces, geometry.uv, body_face_parts,
                        face_majority(regions, geometry.faces))]
    library = library or GarmentLibrary.builtin()
    worn = [(kind, library.load(kind, getattr(clothing, field))) for kind, (field, _, _) in WORN.items()
            if getattr(clothing, field)]
    keep = ~hidden_faces([asset for _, asset in worn], geometry.faces)
    surfaces = [Surface("body", geometry.vertices, geometry.faces[keep], geometry.uv[keep], body_face_parts[keep],
                        np.full(int(keep.sum()), SKIN, np.int8))]
    for kind, asset in worn:
        _, label, region = WORN[kind]
        if kind == "outfit":  # above or below the waist, by the body part each face rides on
            lower = np.isin(face_majority(asset.part_labels(geometry.part_labels), asset.faces), _LOWER_BODY)
            part = np.where(lower, P["lower_clothing"], P["upper_clothing"])
            regions = np.where(lower, BOTTOM, TOP)
        else:
            part = np.full(len(asset.faces), P[label])
            regions = np.full(len(asset.faces), region)
        palette = asset.material.get("palette")
        hint = tuple(srgb_to_linear(palette[0]["rgb"])) if palette else None
        surfaces.append(Surface(kind, asset.fit(geometry.vertices).astype(np.float32), asset.faces, asset.uv,
                                part.astype(np.uint8), regions.astype(np.int8), hint))
    return surfaces


@dataclass
class CombinedSurface:
    """All of an actor's surfaces as one mesh, in their order: what the annotations are ray-cast against, and
    what their face numbers index (a surface's faces follow those of the surfaces before it)."""

    vertices: np.ndarray  # (T, N, 3) every vertex of the body and what it wears (also the amodal extent)
    faces: np.ndarray  # (F, 3) into vertices
    part: np.ndarray  # (F,) segmentation label of each face


def combined(surfaces: list[Surface]) -> CombinedSurface:
    first_vertex = np.cumsum([0] + [s.vertices.shape[1] for s in surfaces[:-1]])
    return CombinedSurface(np.concatenate([s.vertices for s in surfaces], axis=1),
                           np.concatenate([s.faces + v for s, v in zip(surfaces, first_vertex)]).astype(np.int64),
                           np.concatenate([s.part for s in surfaces]).astype(np.uint8))
