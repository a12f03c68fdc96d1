"""Which skin a garment covers, and where skin pokes through it: rays along the skin's normals (numpy/scipy).

A body vertex is *covered* when the garment crosses its outward normal within `reach` outside the skin,
and *poking* when the garment crosses the normal within `depth` inside the skin but nowhere outside: the
skin then shows through where the garment should be.
"""
from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from ..bodies import PART_NAMES

REACH = 0.05  # metres outside the skin a garment may float and still cover it
DEPTH = 0.03  # metres inside the skin a garment surface may sink and still belong to this spot


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted unit vertex normals (V, 3) of one frame."""
    tri = vertices[faces]
    face_normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    normals = np.zeros_like(vertices, dtype=np.float64)
    for k in range(3):
        np.add.at(normals, faces[:, k], face_normals)
    return normals / np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)


def line_hits(origins: np.ndarray, directions: np.ndarray, vertices: np.ndarray, faces: np.ndarray,
              radius: float, candidates: int = 48, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Where each line `origin + t * direction` crosses the mesh within `radius` of its origin: the smallest
    t > 0 and the largest t <= 0 (+inf / -inf without a crossing). `allowed(rows, faces) -> bool` may
    reject (origin, face) pairs."""
    tri = vertices[faces]
    centres = tri.mean(axis=1)
    k = min(candidates, len(faces))
    distance, near = cKDTree(centres).query(origins, k=k, distance_upper_bound=radius)
    near = near.reshape(len(origins), k)
    ahead = np.full(len(origins), np.inf)
    behind = np.full(len(origins), -np.inf)
    for col in range(k):
        rows = np.flatnonzero(near[:, col] < len(faces))
        if not len(rows):
            break
        t, hit = _intersect(origins[rows], directions[rows], tri[near[rows, col]])
        if allowed is not None:
            hit &= allowed(rows, near[rows, col])
        t = np.where(hit & (np.abs(t) <= radius), t, np.nan)
        with np.errstate(invalid="ignore"):
            pos, neg = t > 0, t <= 0
        ahead[rows[pos]] = np.minimum(ahead[rows[pos]], t[pos])
        behind[rows[neg]] = np.maximum(behind[rows[neg]], t[neg])
    return ahead, behind


def _intersect(origins: np.ndarray, directions: np.ndarray, tri: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Möller-Trumbore for lines (both directions): parameter t and whether the line crosses the triangle."""
    e1, e2 = tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]
    p = np.cross(directions, e2)
    det = np.einsum("nd,nd->n", e1, p)
    ok = np.abs(det) > 1e-12
    inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
    s = origins - tri[:, 0]
    u = np.einsum("nd,nd->n", s, p) * inv
    q = np.cross(s, e1)
    v = np.einsum("nd,nd->n", directions, q) * inv
    t = np.einsum("nd,nd->n", e2, q) * inv
    return t, ok & (u >= 0) & (v >= 0) & (u + v <= 1)


def coverage(body_vertices: np.ndarray, body_faces: np.ndarray, garment_vertices: np.ndarray,
             garment_faces: np.ndarray, body_parts: np.ndarray | None = None,
             garment_face_parts: np.ndarray | None = None, reach: float = REACH,
             depth: float = DEPTH) -> tuple[np.ndarray, np.ndarray]:
    """(covered, poking) boolean masks over the body's vertices for one frame.

    With part labels (index into bodies.PART_NAMES; a garment face's part is the body part it rides on),
    a garment face only counts for skin of the same or a neighbouring part, so a hand resting on the
    thigh is not "under" the trousers.
    """
    body = np.asarray(body_vertices, dtype=np.float64)
    normals = vertex_normals(body, body_faces)
    allowed = None
    if body_parts is not None and garment_face_parts is not None:
        near_parts = NEIGHBOUR_PARTS

        def allowed(rows, faces):
            return near_parts[body_parts[rows], garment_face_parts[faces]]

    ahead, behind = line_hits(body, normals, np.asarray(garment_vertices, dtype=np.float64), garment_faces,
                              radius=max(reach, depth), allowed=allowed)
    covered = ahead <= reach
    return covered, ~covered & (behind >= -depth)


def poke_through(body_vertices: np.ndarray, body_faces: np.ndarray, body_parts: np.ndarray, assets) -> dict:
    """Poke-through of the visible skin under an actor's assets for one frame (13718, 3).

    Counts the visible skin vertices (those left by hidden_faces) the fitted assets cover or that poke
    through them, anywhere and within the assets' footprint (their covered_vertices, where they should
    cover skin); `poke_share` is poking / (covered + poking) within the footprint.
    """
    from .library import hidden_faces

    layers = [(asset.fit(body_vertices), asset.faces, asset.part_labels(body_parts)[asset.faces[:, 0]])
              for asset in assets]
    offsets = np.cumsum([0] + [len(v) for v, _, _ in layers[:-1]])
    covered, poking = coverage(body_vertices, body_faces, np.concatenate([v for v, _, _ in layers]),
                               np.concatenate([f + o for (_, f, _), o in zip(layers, offsets)]),
                               body_parts, np.concatenate([p for _, _, p in layers]))
    visible = np.zeros(len(body_vertices), bool)
    visible[np.unique(body_faces[~hidden_faces(assets, body_faces)])] = True
    footprint = np.zeros(len(body_vertices), bool)
    for asset in assets:
        footprint[asset.covered_vertices] = True
    inside = visible & footprint
    n_cov, n_poke = int((covered & inside).sum()), int((poking & inside).sum())
    return {"visible_footprint": int(inside.sum()), "visible_covered": n_cov, "visible_poking": n_poke,
            "poke_share": n_poke / max(n_cov + n_poke, 1), "visible_poking_anywhere": int((poking & visible).sum()),
            "poking_vertices": np.flatnonzero(poking & visible)}


def _neighbour_parts() -> np.ndarray:
    chains = [("head", "torso")] + [
        pair for side in ("left", "right") for pair in (
            ("torso", f"{side}_upper_arm"), (f"{side}_upper_arm", f"{side}_lower_arm"),
            (f"{side}_lower_arm", f"{side}_hand"), ("torso", f"{side}_upper_leg"),
            (f"{side}_upper_leg", f"{side}_lower_leg"), (f"{side}_lower_leg", f"{side}_foot"))]
    near = np.eye(len(PART_NAMES), dtype=bool)
    for a, b in chains:
        near[PART_NAMES.index(a), PART_NAMES.index(b)] = near[PART_NAMES.index(b), PART_NAMES.index(a)] = True
    return near


NEIGHBOUR_PARTS = _neighbour_parts()  # (P, P) bool: parts that touch along the skeleton
