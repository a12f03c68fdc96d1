"""A mesh's triangles in world space, as numpy arrays: what the annotations ray-cast and places are mapped with."""
from __future__ import annotations

import numpy as np


def world_triangles(mesh, matrix_world) -> tuple[np.ndarray, np.ndarray]:
    """(V, 3) float64 world-space vertices and (F, 3) int64 triangles of a Blender mesh under matrix_world."""
    mesh.calc_loop_triangles()
    co = np.empty(3 * len(mesh.vertices), np.float32)
    mesh.vertices.foreach_get("co", co)
    tri = np.empty(3 * len(mesh.loop_triangles), np.int32)
    mesh.loop_triangles.foreach_get("vertices", tri)
    m = np.array(matrix_world, np.float64)
    return co.reshape(-1, 3) @ m[:3, :3].T + m[:3, 3], tri.reshape(-1, 3).astype(np.int64)
