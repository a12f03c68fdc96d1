"""What a pinhole camera sees at each pixel centre, in plain numpy: the first triangle hit by the ray through
the pixel centre, its depth along the optical axis and the barycentric point on it.

This is the annotation pass (depth, masks, and the triangle and point under each pixel that flow follows)
without a renderer. A second Cycles render at one sample on the pixel centre did it before, at ~47 CPU-ms a
frame (224x224), most of it per-frame set-up, BVH builds of the deformed actors and EXR writing; this takes
~10 ms. The geometry is a few large static triangles (ground, props) and ~30k small ones per actor. No
library on the project's list casts rays on the CPU without a BVH build per frame or a GL context (trimesh
with embreex measured slower than Cycles), so it is written here: small triangles are ray-tested against
the pixel centres inside their screen box, large ones against their box as a dense image, and the nearest
hit per pixel wins. Rays, near and far clipping are those of the Blender camera (camera.py), whose depth
pass was planar depth too: on 96 frames compared, masks agree with Cycles' pixel for pixel, depth to its
float32 precision, and one pixel in 1.6M names the neighbouring triangle on a shared edge.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NEAR_M, FAR_M = 0.05, 1000.0  # the Blender camera's clip range: nothing nearer or farther is seen
# A static scene larger than this (a furnished room: ~0.5M triangles) is cast with Embree instead: its BVH is
# built once per clip (the scene does not move) and traced in ~10 ms a frame, where screen boxes of that many
# triangles cost seconds. Actors still go through the numpy path (they deform every frame), nearest hit wins.
STATIC_BVH_TRIANGLES = 20_000
DENSE_PIXELS = 4096  # triangles whose screen box holds more pixel centres than this are tested as a dense image
CHUNK = 1 << 20  # (triangle, pixel) rows tested at once: ~200 MB of temporaries at most


@dataclass
class AnnotationHits:
    """What the pixel centres of a clip see: depth along the optical axis (T, H, W) float32, +inf where
    nothing is hit; instance (T, H, W) uint8, 0 for the ground, props and sky, k + 1 for actor k; face (T, H,
    W), the face of that actor's combined mesh (dressing.combined), -1 elsewhere; bary (T, H, W, 3) the
    barycentric coordinates of the point on it; static_face (T, H, W), the static triangle seen (-1 where an
    actor or nothing is); unoccluded (T, A), the pixels each actor would cover with nothing static in front."""

    depth: np.ndarray
    instance: np.ndarray
    face: np.ndarray
    bary: np.ndarray
    static_face: np.ndarray | None = None
    unoccluded: np.ndarray | None = None


def annotation_hits(static: tuple, actors: list, K: np.ndarray, world_to_camera: np.ndarray, width: int,
                    height: int) -> AnnotationHits:
    """Ray-cast every frame: static (vertices, faces, …) in world coordinates that do not move (ground, props,
    a place), and actors, each with vertices (T, N, 3) and faces (F, 3) (a dressing.CombinedSurface). The
    actors are cast alone first (what each would cover unoccluded), then the static scene, nearest hit wins."""
    frames = world_to_camera.shape[0]
    actors_only = _cast(np.zeros((0, 3)), np.zeros((0, 3), np.int64), actors, K, world_to_camera, width, height)
    unoccluded = np.stack([(actors_only.instance == k + 1).sum(axis=(1, 2)) for k in range(len(actors))], 1) \
        if actors else np.zeros((frames, 0), np.int64)
    static_vertices, static_faces = static[0], static[1]
    if len(static_faces) > STATIC_BVH_TRIANGLES:
        depth, triangle = _static_bvh(static_vertices, static_faces, K, world_to_camera, width, height)
    else:
        cast = _cast(static_vertices, static_faces, [], K, world_to_camera, width, height)
        depth, triangle = cast.depth, cast.static_face
    out = actors_only
    behind = depth < out.depth  # a static surface in front of the actors (or where no actor is)
    out.depth[behind] = depth[behind]
    out.instance[behind], out.face[behind], out.bary[behind] = 0, -1, 0
    out.static_face = np.where(behind, triangle, -1)
    out.unoccluded = unoccluded
    return out


def _cast(static_vertices: np.ndarray, static_faces: np.ndarray, actors: list, K: np.ndarray,
          world_to_camera: np.ndarray, width: int, height: int) -> AnnotationHits:
    """The numpy ray cast of static triangles and actors together."""
    firsts = np.cumsum([len(static_vertices)] + [a.vertices.shape[1] for a in actors])
    faces = np.concatenate([static_faces] + [a.faces + first for a, first in zip(actors, firsts)])
    face_starts = np.cumsum([len(static_faces)] + [len(a.faces) for a in actors])  # actor k: face_starts[k]..
    frames = world_to_camera.shape[0]
    depth = np.empty((frames, height, width), np.float32)
    instance = np.empty((frames, height, width), np.uint8)
    face = np.empty((frames, height, width), np.int64)
    bary = np.empty((frames, height, width, 3), np.float32)
    static_face = np.empty((frames, height, width), np.int64)
    for t in range(frames):
        vertices = np.concatenate([static_vertices] + [a.vertices[t] for a in actors]).astype(np.float64)
        hits = first_hits(vertices, faces, K, world_to_camera[t], width, height)
        actor = np.searchsorted(face_starts, hits.triangle, side="right")  # 0: static or nothing
        actor[hits.triangle < 0] = 0
        depth[t], instance[t], bary[t] = hits.depth, actor, hits.bary
        face[t] = np.where(actor > 0, hits.triangle - face_starts[np.maximum(actor - 1, 0)], -1)
        static_face[t] = np.where(actor == 0, hits.triangle, -1)
    return AnnotationHits(depth, instance, face, bary, static_face)


def _static_bvh(vertices: np.ndarray, faces: np.ndarray, K: np.ndarray, world_to_camera: np.ndarray, width: int,
                height: int) -> tuple[np.ndarray, np.ndarray]:
    """Depth (T, H, W) and the triangle seen (-1: none) for a large static scene, with Embree."""
    from embreex import rtcore_scene
    from embreex.mesh_construction import TriangleMesh

    scene = rtcore_scene.EmbreeScene()
    TriangleMesh(scene, np.ascontiguousarray(vertices, np.float32), np.ascontiguousarray(faces, np.int32))
    ys, xs = np.mgrid[0:height, 0:width]
    # camera-frame directions with z = 1: the ray parameter is then depth along the optical axis
    rays = np.stack([(xs - K[0, 2]) / K[0, 0], (ys - K[1, 2]) / K[1, 1], np.ones_like(xs, float)], -1).reshape(-1, 3)
    frames = world_to_camera.shape[0]
    depth = np.empty((frames, height, width), np.float32)
    triangle = np.empty((frames, height, width), np.int64)
    for t in range(frames):
        camera_to_world = np.linalg.inv(world_to_camera[t])
        directions = rays @ camera_to_world[:3, :3].T
        origins = camera_to_world[:3, 3] + NEAR_M * directions  # near clipping, as the numpy path does
        hit = scene.run(origins.astype(np.float32), directions.astype(np.float32),
                        dists=np.full(len(rays), FAR_M - NEAR_M, np.float32), output=1)
        found = hit["primID"] >= 0
        depth[t] = np.where(found, hit["tfar"].astype(np.float64) + NEAR_M, np.inf).reshape(height, width)
        triangle[t] = np.where(found, hit["primID"], -1).reshape(height, width)
    return depth, triangle


@dataclass
class FirstHits:
    """Per pixel: depth along the optical axis (+inf where nothing is hit), the triangle's index into the
    triangles given (-1 where nothing is hit) and the barycentric coordinates of the point (H, W, 3)."""

    depth: np.ndarray
    triangle: np.ndarray
    bary: np.ndarray


def first_hits(vertices: np.ndarray, faces: np.ndarray, K: np.ndarray, world_to_camera: np.ndarray, width: int,
               height: int) -> FirstHits:
    """The triangles faces (F, 3) of vertices (V, 3) in world coordinates, seen by a camera with intrinsics K and
    an OpenCV world_to_camera (4, 4), at pixel centres (integer coordinates)."""
    cam = vertices @ world_to_camera[:3, :3].T + world_to_camera[:3, 3]  # z forward
    corners = [cam[faces[:, j]].T for j in range(3)]  # 3 x (x, y, z) of (F,)
    z = [c[2] for c in corners]
    seen = np.maximum(np.maximum(z[0], z[1]), z[2]) > NEAR_M
    crosses = seen & (np.minimum(np.minimum(z[0], z[1]), z[2]) <= NEAR_M)  # its projection is unbounded
    with np.errstate(divide="ignore", invalid="ignore"):
        px = [np.nan_to_num(K[0, 0] * c[0] / c[2] + K[0, 2]) for c in corners]
        py = [np.nan_to_num(K[1, 1] * c[1] / c[2] + K[1, 2]) for c in corners]
    x0 = np.where(crosses, 0, np.clip(np.ceil(np.minimum(np.minimum(*px[:2]), px[2])), 0, width)).astype(np.int64)
    y0 = np.where(crosses, 0, np.clip(np.ceil(np.minimum(np.minimum(*py[:2]), py[2])), 0, height)).astype(np.int64)
    x1 = np.where(crosses, width - 1, np.clip(np.floor(np.maximum(np.maximum(*px[:2]), px[2])), -1, width - 1)
                  ).astype(np.int64)
    y1 = np.where(crosses, height - 1, np.clip(np.floor(np.maximum(np.maximum(*py[:2]), py[2])), -1, height - 1)
                  ).astype(np.int64)
    nx, ny = (x1 - x0 + 1).clip(0), (y1 - y0 + 1).clip(0)
    count = np.where(seen, nx * ny, 0)
    coef = _ray_coefficients(*corners)
    # a pixel's ray direction is (a x + b, c y + e, 1): depth is then the ray parameter
    a, b, c, e = 1 / K[0, 0], -K[0, 2] / K[0, 0], 1 / K[1, 1], -K[1, 2] / K[1, 1]

    depth = np.full(height * width, np.inf)
    triangle = np.full(height * width, -1, np.int64)
    u_of, v_of = np.zeros(height * width), np.zeros(height * width)
    for f in np.flatnonzero(count > DENSE_PIXELS):  # a few large triangles (ground, walls): their box as an image
        ys, xs = np.ogrid[y0[f]:y1[f] + 1, x0[f]:x1[f] + 1]
        t, u, v = _hit(coef[:, f], a * xs + b, c * ys + e)
        pix = (ys * width + xs).ravel()
        t, u, v = (np.broadcast_to(x, (len(ys), xs.shape[1])).ravel() for x in (t, u, v))
        closer = t < depth[pix]
        pix = pix[closer]
        depth[pix], triangle[pix], u_of[pix], v_of[pix] = t[closer], f, u[closer], v[closer]

    small = np.flatnonzero((count > 0) & (count <= DENSE_PIXELS))
    # one row per (triangle, pixel centre in its box), in chunks of about CHUNK rows to bound memory
    ends = np.cumsum(count[small])
    cuts = np.searchsorted(ends, np.arange(CHUNK, ends[-1] if len(ends) else 0, CHUNK), side="right")
    found = [_hits_in_boxes(chunk, count[chunk], x0, y0, nx, coef, (a, b, c, e), width)
             for chunk in np.split(small, cuts) if len(chunk)]
    if found:
        tri, pix, t, u, v = (np.concatenate(parts) for parts in zip(*found))
        nearest = depth.copy()
        np.minimum.at(nearest, pix, t)
        win = t == nearest[pix]
        pix = pix[win]
        depth[pix], triangle[pix], u_of[pix], v_of[pix] = t[win], tri[win], u[win], v[win]

    bary = np.stack([1 - u_of - v_of, u_of, v_of], -1)
    bary[triangle < 0] = 0
    return FirstHits(depth.reshape(height, width), triangle.reshape(height, width), bary.reshape(height, width, 3))


def _hits_in_boxes(tri: np.ndarray, n: np.ndarray, x0, y0, nx, coef, ray, width: int) -> tuple:
    """The hits of triangles tri against the n pixel centres of each one's screen box -> (triangle, pixel,
    depth, u, v) of every ray that meets its triangle."""
    a, b, c, e = ray
    tri = np.repeat(tri, n)
    k = np.arange(len(tri)) - np.repeat(np.cumsum(n) - n, n)
    row_width = nx[tri]
    xs, ys = x0[tri] + k % row_width, y0[tri] + k // row_width
    t, u, v = _hit(coef[:, tri], a * xs + b, c * ys + e)
    hit = t < np.inf
    return tri[hit], (ys * width + xs)[hit], t[hit], u[hit], v[hit]


def _ray_coefficients(c0: np.ndarray, c1: np.ndarray, c2: np.ndarray) -> np.ndarray:
    """(10, F) for triangles with corners c0, c1, c2 (each (3, F), camera coordinates), so that for a ray from
    the camera centre with direction D: det = D.n, u = D.r / det, v = D.q / det, t = s / det. This is
    Möller-Trumbore with its triple products rearranged to keep what does not depend on D out of the
    per-pixel work."""
    e1, e2, o = c1 - c0, c2 - c0, -c0
    n, r, q = _cross(e2, e1), _cross(e2, o), _cross(o, e1)
    return np.stack([*n, *r, *q, e2[0] * q[0] + e2[1] * q[1] + e2[2] * q[2]])


def _cross(a: np.ndarray, b: np.ndarray) -> tuple:
    return a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]


def _hit(coef: np.ndarray, dx, dy):
    """The rays (dx, dy, 1) against triangles with coefficients coef (10, ...) -> t (inf on a miss), u, v."""
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = 1.0 / (coef[0] * dx + coef[1] * dy + coef[2])
        u = (coef[3] * dx + coef[4] * dy + coef[5]) * inv
        v = (coef[6] * dx + coef[7] * dy + coef[8]) * inv
        t = coef[9] * inv
    ok = (u >= 0) & (v >= 0) & (u + v <= 1) & (t > NEAR_M) & (t < FAR_M)
    return np.where(ok, t, np.inf), u, v
