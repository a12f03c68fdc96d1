"""Binding garment vertices to a body surface, and fitting them to posed bodies (pure numpy/scipy).

An anchor places a point at `sum_k w_k P[r_k] + s * R @ c`: barycentric-style weights on three body
vertices (`refs`, `weights`, as in MakeHuman's .mhclo) plus an offset `c` stored in the local frame `R`
of the reference triangle and in units of its size `s`. The offset therefore turns with the limb it
rides on and grows or shrinks with the body's shape, where .mhclo's offsets stay fixed in world axes.
A bound point is a blend of one or more anchors (a skirt between the legs follows both legs, so it
does not tear apart when they swing).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.spatial import cKDTree

# Below this size (sqrt of twice the area, metres) a reference triangle has no usable frame.
MIN_TRIANGLE_SCALE = 1e-4


@dataclass(frozen=True)
class Binding:
    point: np.ndarray  # (A,) int, the bound point each anchor belongs to (non-decreasing)
    blend: np.ndarray  # (A,) float32, the anchor's share of its point (each point's shares sum to 1)
    refs: np.ndarray  # (A, 3) int, body vertex indices
    weights: np.ndarray  # (A, 3) float32
    offsets: np.ndarray  # (A, 3) float32, (tangent, bitangent, normal) in units of the triangle's size
    count: int  # number of bound points

    @functools.cached_property
    def blend_matrix(self) -> sparse.csr_matrix | None:
        """(count, A) sparse: anchors -> points; None when every point has exactly one anchor."""
        if len(self.point) == self.count:
            return None
        return sparse.csr_matrix((self.blend.astype(np.float64), (self.point, np.arange(len(self.point)))),
                                 shape=(self.count, len(self.point)))


def vertex_parts(binding: Binding, body_part_labels: np.ndarray) -> np.ndarray:
    """(count,) each bound point's body part: that of the heaviest reference of its largest anchor."""
    k = binding.weights.argmax(axis=1)
    strength = binding.blend * binding.weights[np.arange(len(k)), k]
    order = np.lexsort((-strength, binding.point))
    first = order[np.r_[True, np.diff(binding.point[order]) != 0]]  # the strongest anchor of each point
    return np.asarray(body_part_labels)[binding.refs[first, k[first]]]


def triangle_frames(p1: np.ndarray, p2: np.ndarray, p3: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Orthonormal frames (..., 3, 3) with columns (edge 1->2, in-plane normal to it, triangle normal) and
    sizes (...,) = sqrt(2 * area)."""
    e1 = p2 - p1
    cross = np.cross(e1, p3 - p1)
    area2 = np.linalg.norm(cross, axis=-1)
    n = cross / np.maximum(area2, 1e-20)[..., None]
    t = e1 / np.maximum(np.linalg.norm(e1, axis=-1), 1e-20)[..., None]
    b = np.cross(n, t)
    return np.stack([t, b, n], axis=-1), np.sqrt(area2)


def triangle_scales(vertices: np.ndarray, refs: np.ndarray) -> np.ndarray:
    """sqrt(2 * area) of each reference triangle (V,) for one body (Vb, 3)."""
    p = vertices[refs]
    return np.sqrt(np.linalg.norm(np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]), axis=-1))


def bind(points: np.ndarray, refs: np.ndarray, weights: np.ndarray, body: np.ndarray,
         point: np.ndarray | None = None, blend: np.ndarray | None = None) -> Binding:
    """Express rest points (V, 3) on anchors (reference triangles of a rest body (Vb, 3)); by default one
    anchor per point, else anchor a belongs to point[a] with share blend[a]."""
    point = np.arange(len(points)) if point is None else np.asarray(point)
    blend = np.ones(len(point)) if blend is None else np.asarray(blend)
    p = body[refs]
    frames, scale = triangle_frames(p[:, 0], p[:, 1], p[:, 2])
    anchor = np.einsum("ak,akd->ad", weights, p)
    local = np.einsum("adi,ad->ai", frames, points[point] - anchor)
    local = np.divide(local, scale[:, None], out=np.zeros_like(local), where=scale[:, None] > 0)  # 0: a copied vertex
    return Binding(point.astype(np.int32), blend.astype(np.float32), refs.astype(np.int32),
                   weights.astype(np.float32), local.astype(np.float32), len(points))


FRAMES_PER_CHUNK = 16  # bounds the temporary arrays of a long clip to ~100 MB for the largest outfit


def fit_binding(binding: Binding, body_vertices: np.ndarray) -> np.ndarray:
    """Bound points on posed bodies: (T, Vb, 3) -> (T, V, 3) float32 (or (Vb, 3) -> (V, 3))."""
    body = np.asarray(body_vertices, dtype=np.float32)
    if body.ndim == 3 and len(body) > FRAMES_PER_CHUNK:
        return np.concatenate([_fit(binding, body[i:i + FRAMES_PER_CHUNK])
                               for i in range(0, len(body), FRAMES_PER_CHUNK)])
    return _fit(binding, body)


def _fit(binding: Binding, body: np.ndarray) -> np.ndarray:
    p = body[..., binding.refs, :]  # (..., A, 3 corners, 3)
    frames, size = triangle_frames(p[..., 0, :], p[..., 1, :], p[..., 2, :])
    anchors = (np.einsum("ak,...akd->...ad", binding.weights, p)
               + size[..., None] * np.einsum("...adi,ai->...ad", frames, binding.offsets))
    if binding.blend_matrix is None:
        return anchors.astype(np.float32)
    columns = np.moveaxis(anchors, -2, 0).reshape(len(binding.point), -1)  # (A, ...*3)
    blended = (binding.blend_matrix @ columns).reshape((binding.count,) + anchors.shape[:-2] + (3,))
    return np.moveaxis(blended, 0, -2).astype(np.float32)


def blended_anchors(points: np.ndarray, vertices: np.ndarray, faces: np.ndarray, face_groups: np.ndarray,
                    margin: tuple[float, float], max_anchors: int
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Anchors on the nearest surface point of each face group (body part) nearly as close as the nearest.

    With d0 a point's nearest surface distance and m = margin[0] + margin[1] * d0, a group at distance d
    gets the share `(1 - (d - d0) / m)**2` (none beyond d0 + m), so shares change continuously over a
    garment. Returns (point (A,), blend (A,), refs (A, 3), barycentric weights (A, 3)).
    """
    groups = np.unique(face_groups)
    dist = np.full((len(points), len(groups)), np.inf)
    face = np.zeros((len(points), len(groups)), int)
    bary = np.zeros((len(points), len(groups), 3))
    for g, group in enumerate(groups):
        index = np.flatnonzero(face_groups == group)
        f, bary[:, g], dist[:, g] = nearest_faces(points, vertices, faces[index])
        face[:, g] = index[np.maximum(f, 0)]
    d0 = dist.min(axis=1, keepdims=True)
    share = np.clip(1 - (dist - d0) / np.maximum(margin[0] + margin[1] * d0, 1e-9), 0, 1) ** 2
    keep = np.argsort(-share, axis=1, kind="stable")[:, :max_anchors]
    share = np.take_along_axis(share, keep, axis=1)
    share /= share.sum(axis=1, keepdims=True)
    rows, cols = np.nonzero(share > 0)
    group = keep[rows, cols]
    return rows, share[rows, cols], faces[face[rows, group]], bary[rows, group]


def widen_anchors(points: np.ndarray, refs: np.ndarray, weights: np.ndarray, vertices: np.ndarray,
                  vertex_groups: np.ndarray, max_ratio: float) -> tuple[np.ndarray, np.ndarray]:
    """Swap small reference triangles of far points (offset > max_ratio * triangle size) for wide ones.

    A point 4 cm off an ear's 2 mm triangle would swing with every small turn of that triangle; the wide
    triangle joins the three body vertices (of the same group, i.e. body part) nearest to a circle around
    the anchor point in its tangent plane (radius offset/2, larger where the corners would bunch up), and
    the anchor point keeps its place. Returns new (refs, weights).
    """
    refs, weights = refs.copy(), weights.copy()
    p = vertices[refs]
    frames, scale = triangle_frames(p[:, 0], p[:, 1], p[:, 2])
    anchor = np.einsum("ak,akd->ad", weights, p)
    lever = np.linalg.norm(points - anchor, axis=1)
    todo = lever > max_ratio * np.maximum(scale, 1e-9)
    trees = {g: (np.flatnonzero(vertex_groups == g), None) for g in np.unique(vertex_groups)}
    trees = {g: (members, cKDTree(vertices[members])) for g, (members, _) in trees.items()}
    group = vertex_groups[refs[np.arange(len(refs)), np.argmax(weights, axis=1)]]
    for factor in (0.5, 1.0, 2.0):
        rows = np.flatnonzero(todo)
        radius = factor * lever[rows]
        angles = np.array([0.0, 2 * np.pi / 3, 4 * np.pi / 3])[:, None, None]
        targets = anchor[rows] + radius[:, None] * (np.cos(angles) * frames[rows, :, 0]
                                                   + np.sin(angles) * frames[rows, :, 1])  # (3, W, 3)
        corners = np.zeros((len(rows), 3), int)
        for g in np.unique(group[rows]):
            members, tree = trees[g]
            mine = group[rows] == g
            corners[mine] = members[tree.query(targets[:, mine].reshape(-1, 3))[1]].reshape(3, -1).T
        c = vertices[corners]
        _, size = triangle_frames(c[:, 0], c[:, 1], c[:, 2])
        ok = size > factor * lever[rows]  # three distinct, well spread corners
        basis = np.stack([c[ok, 1] - c[ok, 0], c[ok, 2] - c[ok, 0]], axis=-1)  # (W, 3, 2)
        gram = np.einsum("wdi,wdj->wij", basis, basis)
        rhs = np.einsum("wdi,wd->wi", basis, anchor[rows[ok]] - c[ok, 0])
        bc = np.linalg.solve(gram, rhs[..., None])[..., 0]  # the anchor point's coordinates in the new plane
        refs[rows[ok]] = corners[ok]
        weights[rows[ok]] = np.stack([1 - bc.sum(axis=1), bc[:, 0], bc[:, 1]], axis=-1)
        todo[rows[ok]] = False
    return refs, weights


def closest_points_on_triangles(points: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Barycentric coordinates (N, 3) of the point of triangle (a, b, c) closest to each point (Ericson, RTCD 5.1.5)."""
    ab, ac, ap = b - a, c - a, points - a
    d1, d2 = _dot(ab, ap), _dot(ac, ap)
    bp = points - b
    d3, d4 = _dot(ab, bp), _dot(ac, bp)
    cp = points - c
    d5, d6 = _dot(ab, cp), _dot(ac, cp)
    va = d3 * d6 - d5 * d4
    vb = d5 * d2 - d1 * d6
    vc = d1 * d4 - d3 * d2
    with np.errstate(divide="ignore", invalid="ignore"):
        denom = 1.0 / (va + vb + vc)
        v, w = vb * denom, vc * denom  # interior
        bary = np.stack([1 - v - w, v, w], axis=-1)
        regions = [  # later regions win; each is exclusive in exact arithmetic
            (vc <= 0) & (d1 >= 0) & (d3 <= 0), _edge(d1 / (d1 - d3), 0, 1),  # edge ab
            (vb <= 0) & (d2 >= 0) & (d6 <= 0), _edge(d2 / (d2 - d6), 0, 2),  # edge ac
            (va <= 0) & (d4 - d3 >= 0) & (d5 - d6 >= 0),
            _edge((d4 - d3) / ((d4 - d3) + (d5 - d6)), 1, 2),  # edge bc
            (d1 <= 0) & (d2 <= 0), _corner(0),
            (d3 >= 0) & (d4 <= d3), _corner(1),
            (d6 >= 0) & (d5 <= d6), _corner(2),
        ]
    for mask, value in zip(regions[::2], regions[1::2]):
        bary = np.where(mask[:, None], np.broadcast_to(value, bary.shape), bary)
    return np.nan_to_num(bary, nan=1.0 / 3.0)


def _dot(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.einsum("nd,nd->n", x, y)


def _edge(s: np.ndarray, i: int, j: int) -> np.ndarray:
    out = np.zeros(s.shape + (3,))
    out[:, i], out[:, j] = 1 - s, s
    return out


def _corner(i: int) -> np.ndarray:
    out = np.zeros(3)
    out[i] = 1.0
    return out


def nearest_faces(points: np.ndarray, vertices: np.ndarray, faces: np.ndarray, k: int = 24
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The closest point of a triangle mesh to each point: (face index (N,), barycentrics (N, 3), distance (N,)).

    Candidates are the faces around the k nearest mesh vertices, which holds the true nearest face for
    points near a mesh with even vertex spacing.
    """
    if len(points) == 0:
        return np.zeros(0, int), np.zeros((0, 3)), np.zeros(0)
    used = np.unique(faces)
    tree = cKDTree(vertices[used])
    _, near = tree.query(points, k=min(k, len(used)))
    near = used[near]
    incident = vertex_faces(faces, len(vertices))  # (Vb, m) padded with -1
    candidates = incident[near].reshape(len(points), -1)  # (N, k*m)
    best_face = np.full(len(points), -1)
    best_bary = np.zeros((len(points), 3))
    best_dist = np.full(len(points), np.inf)
    for col in range(candidates.shape[1]):
        f = candidates[:, col]
        ok = f >= 0
        if not ok.any():
            continue
        tri = vertices[faces[f[ok]]]
        bary = closest_points_on_triangles(points[ok], tri[:, 0], tri[:, 1], tri[:, 2])
        dist = np.linalg.norm(np.einsum("nk,nkd->nd", bary, tri) - points[ok], axis=-1)
        better = dist < best_dist[ok]
        rows = np.flatnonzero(ok)[better]
        best_face[rows], best_bary[rows], best_dist[rows] = f[ok][better], bary[better], dist[better]
    return best_face, best_bary, best_dist


def vertex_faces(faces: np.ndarray, n_vertices: int) -> np.ndarray:
    """Faces around each vertex (n_vertices, max valence), padded with -1."""
    flat = faces.ravel()
    order = np.argsort(flat, kind="stable")
    counts = np.bincount(flat, minlength=n_vertices)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    slot = np.arange(len(flat)) - np.repeat(starts, counts)
    out = np.full((n_vertices, max(int(counts.max()), 1)), -1)
    out[flat[order], slot] = order // faces.shape[1]
    return out
