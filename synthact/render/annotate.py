"""Annotations from rendered passes, in plain numpy: optical flow, keypoints with visibility, boxes."""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from .camera import project

KEYPOINT_DEPTH_TOLERANCE = 0.12  # m: a keypoint lies inside the body, up to this far behind the visible surface


@lru_cache(maxsize=8)
def pixel_grid(height: int, width: int) -> np.ndarray:
    """(H, W, 2) pixel centre coordinates (x, y), integers as in OpenCV (read-only: one array per size)."""
    ys, xs = np.mgrid[0:height, 0:width]
    grid = np.stack([xs, ys], axis=-1).astype(np.float64)
    grid.flags.writeable = False
    return grid


def back_project(depth: np.ndarray, K: np.ndarray, world_to_camera: np.ndarray) -> np.ndarray:
    """(H, W, 3) the world point each pixel centre sees, from its depth along the optical axis (H, W);
    pixels that see nothing (depth +inf) get NaN."""
    h, w = depth.shape
    hit = np.isfinite(depth)
    rays = np.concatenate([pixel_grid(h, w), np.ones((h, w, 1))], axis=-1) @ np.linalg.inv(K).T  # at z = 1
    cam = rays * np.where(hit, depth, 0.0)[..., None]
    world = (cam - world_to_camera[:3, 3]) @ world_to_camera[:3, :3]  # R^T (cam - t), row by row
    world[~hit] = np.nan
    return world


def flow_to(other_positions: np.ndarray, hit: np.ndarray, K: np.ndarray, world_to_camera_other: np.ndarray
            ) -> np.ndarray:
    """Flow (H, W, 2) to another frame: where each pixel's surface point projects there, minus (x, y).

    other_positions (H, W, 3): the world position, at the other frame, of the surface point seen at each
    pixel now; hit (H, W): pixels that see a surface (others get NaN).
    """
    h, w = hit.shape
    uv, _ = project(other_positions, K, world_to_camera_other)
    flow = (uv - pixel_grid(h, w)).astype(np.float32)
    flow[~hit] = np.nan
    return flow


def surface_points(vertices: np.ndarray, faces: np.ndarray, face_id: np.ndarray, bary: np.ndarray) -> np.ndarray:
    """(..., 3) the points with barycentric coordinates bary (..., 3) on the triangles face_id (...) of a mesh
    whose vertices (N, 3) are at some frame: where the surface points the pixels saw are at that frame."""
    corners = vertices[faces[face_id]]  # (..., 3 corners, 3)
    return np.einsum("...c,...cd->...d", bary, corners)


def keypoints_2d(points_world: np.ndarray, K: np.ndarray, world_to_camera: np.ndarray, depth: np.ndarray,
                 instance: np.ndarray, instance_id: int) -> np.ndarray:
    """(17, 3) COCO x, y, visibility for one actor in one frame.

    Visibility: 0 outside the image (or behind the camera); 2 if a pixel within one pixel of the keypoint
    shows this actor (body, clothing or hair) at most KEYPOINT_DEPTH_TOLERANCE in front of it; 1 otherwise
    (occluded by another actor, a prop, or this actor's other body parts). The neighbourhood keeps points
    on the surface (nose, eyes, ears) visible where rounding lands them just off the silhouette.
    """
    h, w = depth.shape
    uv, z = project(points_world, K, world_to_camera)
    out = np.zeros((len(points_world), 3), np.float32)
    out[:, :2] = uv
    px = np.round(uv).astype(int)
    inside = (z > 0) & (px[:, 0] >= 0) & (px[:, 0] < w) & (px[:, 1] >= 0) & (px[:, 1] < h)
    for k in np.flatnonzero(inside):
        x, y = px[k]
        ys, xs = slice(max(y - 1, 0), y + 2), slice(max(x - 1, 0), x + 2)
        seen = (instance[ys, xs] == instance_id) & (depth[ys, xs] > z[k] - KEYPOINT_DEPTH_TOLERANCE)
        out[k, 2] = 2 if seen.any() else 1
    return out


def mask_box(mask: np.ndarray) -> np.ndarray:
    """[x0, y0, x1, y1] of a mask's pixels (pixel edges), or NaNs when the mask is empty."""
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return np.full(4, np.nan, np.float32)
    return np.array([xs.min() - 0.5, ys.min() - 0.5, xs.max() + 0.5, ys.max() + 0.5], np.float32)


def projected_box(points_world: np.ndarray, K: np.ndarray, world_to_camera: np.ndarray, width: int, height: int
                  ) -> np.ndarray:
    """Amodal box: the projection of all of an actor's vertices, clipped to the image."""
    uv, z = project(points_world, K, world_to_camera)
    uv = uv[z > 0]
    if len(uv) == 0:
        return np.full(4, np.nan, np.float32)
    lo = np.clip(uv.min(0), -0.5, [width - 0.5, height - 0.5])
    hi = np.clip(uv.max(0), -0.5, [width - 0.5, height - 0.5])
    return np.array([lo[0], lo[1], hi[0], hi[1]], np.float32)
