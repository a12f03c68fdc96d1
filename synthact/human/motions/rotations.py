"""Rotation helpers on stacked 3x3 matrices, built on scipy.spatial.transform: axis-angle, Euler, slerp."""
from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation


def _rotations(x: np.ndarray, tail: tuple[int, ...], make) -> tuple[Rotation, tuple[int, ...]]:
    """A Rotation over the flattened leading axes of x (scipy < 1.17 takes one stack axis only)."""
    x = np.asarray(x, dtype=np.float64)
    lead = x.shape[: x.ndim - len(tail)]
    return make(x.reshape(-1, *tail)), lead


def axis_angle_to_matrix(rotvec: np.ndarray) -> np.ndarray:
    """(..., 3) rotation vectors -> (..., 3, 3) matrices."""
    r, lead = _rotations(rotvec, (3,), Rotation.from_rotvec)
    return r.as_matrix().reshape(*lead, 3, 3)


def matrix_to_axis_angle(m: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotation matrices -> (..., 3) rotation vectors, angle in [0, pi]."""
    r, lead = _rotations(m, (3, 3), Rotation.from_matrix)
    return r.as_rotvec().reshape(*lead, 3)


def _axis_rotation(axis: str, angle) -> np.ndarray:
    a = np.asarray(angle, dtype=np.float64)
    return Rotation.from_euler(axis, a.reshape(-1, 1)).as_matrix().reshape(*a.shape, 3, 3)


def rot_x(angle) -> np.ndarray:
    return _axis_rotation("x", angle)


def rot_y(angle) -> np.ndarray:
    return _axis_rotation("y", angle)


def rot_z(angle) -> np.ndarray:
    return _axis_rotation("z", angle)


def euler_to_matrix(angles: np.ndarray, order: str) -> np.ndarray:
    """Intrinsic rotations in the given axis order, e.g. order 'zyx' = Rz @ Ry @ Rx (BVH convention)."""
    angles = np.asarray(angles, dtype=np.float64)
    flat = angles.reshape(-1, angles.shape[-1])
    order = order.upper()  # upper case: intrinsic axes in scipy
    if len(order) <= 3 and all(a != b for a, b in zip(order, order[1:])):
        r = Rotation.from_euler(order, flat)
    else:  # scipy takes at most three axes, no axis twice in a row: compose one axis at a time
        r = Rotation.identity(len(flat))
        for i, axis in enumerate(order):
            r = r * Rotation.from_euler(axis, flat[:, i:i + 1])
    return r.as_matrix().reshape(*angles.shape[:-1], 3, 3)


def align(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The smallest rotation taking direction a onto direction b (both (..., 3))."""
    # By hand: scipy's align_vectors fits one rotation to many vector pairs, not one rotation per pair.
    a = a / np.linalg.norm(a, axis=-1, keepdims=True)
    b = b / np.linalg.norm(b, axis=-1, keepdims=True)
    axis = np.cross(a, b)
    s = np.linalg.norm(axis, axis=-1, keepdims=True)
    c = np.sum(a * b, axis=-1, keepdims=True)
    angle = np.arctan2(s, c)
    # For opposite vectors any perpendicular axis will do.
    fallback = np.cross(a, np.where(np.abs(a[..., :1]) < 0.9, [1.0, 0, 0], [0, 1.0, 0]))
    axis = np.where(s > 1e-9, axis, fallback)
    axis = axis / np.linalg.norm(axis, axis=-1, keepdims=True)
    return axis_angle_to_matrix(axis * angle)


def frame(primary: np.ndarray, secondary: np.ndarray) -> np.ndarray:
    """An orthonormal frame (columns: primary, secondary made orthogonal, their cross product)."""
    # By hand: Gram-Schmidt on two directions, which scipy has no call for.
    p = primary / np.linalg.norm(primary, axis=-1, keepdims=True)
    s = secondary - np.sum(secondary * p, axis=-1, keepdims=True) * p
    s = s / np.linalg.norm(s, axis=-1, keepdims=True)
    return np.stack([p, s, np.cross(p, s)], axis=-1)


def angle_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle (radians) of the relative rotation a^T b for stacked rotation matrices."""
    r, lead = _rotations(np.swapaxes(a, -1, -2) @ b, (3, 3), Rotation.from_matrix)
    return r.magnitude().reshape(lead)


def slerp_matrices(m0: np.ndarray, m1: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Interpolate rotations m0 -> m1 by weights w (broadcast over leading axes), the shorter way round."""
    # scipy's Slerp interpolates one sequence of keys in time; here every pair has its own weight.
    rel = matrix_to_axis_angle(np.swapaxes(m0, -1, -2) @ m1)
    return m0 @ axis_angle_to_matrix(rel * np.asarray(w)[..., None])
