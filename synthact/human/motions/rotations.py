"""Rotation helpers on stacked 3x3 matrices (numpy only): axis-angle, elementary axes, alignment."""
from __future__ import annotations

import numpy as np


def axis_angle_to_matrix(rotvec: np.ndarray) -> np.ndarray:
    """(..., 3) rotation vectors -> (..., 3, 3) matrices (Rodrigues)."""
    rotvec = np.asarray(rotvec, dtype=np.float64)
    angle = np.linalg.norm(rotvec, axis=-1, keepdims=True)
    axis = rotvec / np.where(angle > 1e-12, angle, 1.0)
    x, y, z = axis[..., 0], axis[..., 1], axis[..., 2]
    zero = np.zeros_like(x)
    k = np.stack([zero, -z, y, z, zero, -x, -y, x, zero], axis=-1).reshape(*rotvec.shape[:-1], 3, 3)
    s, c = np.sin(angle)[..., None], np.cos(angle)[..., None]
    return np.eye(3) + s * k + (1.0 - c) * (k @ k)


def matrix_to_axis_angle(m: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotation matrices -> (..., 3) rotation vectors, angle in [0, pi]."""
    m = np.asarray(m, dtype=np.float64)
    cos = np.clip((np.trace(m, axis1=-2, axis2=-1) - 1.0) / 2.0, -1.0, 1.0)
    angle = np.arccos(cos)
    v = np.stack([m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0], m[..., 1, 0] - m[..., 0, 1]], -1)
    sin = np.sin(angle)
    small = sin > 1e-6
    out = np.where(small[..., None], v / (2.0 * np.where(small, sin, 1.0))[..., None] * angle[..., None], v / 2.0)
    # Near pi the antisymmetric part vanishes: take the axis from the symmetric part instead.
    near_pi = angle > np.pi - 1e-3
    if np.any(near_pi):
        sym = (m[near_pi] + np.eye(3)) / 2.0
        col = np.argmax(np.diagonal(sym, axis1=-2, axis2=-1), axis=-1)
        axis = sym[np.arange(len(col)), :, col]
        axis /= np.linalg.norm(axis, axis=-1, keepdims=True)
        sign = np.sign(np.sum(axis * v[near_pi], axis=-1, keepdims=True))
        axis *= np.where(sign == 0, 1.0, sign)
        out[near_pi] = axis * angle[near_pi][..., None]
    return out


def rot_x(angle) -> np.ndarray:
    a = np.asarray(angle, dtype=np.float64)
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack([o, z, z, z, c, -s, z, s, c], -1).reshape(*a.shape, 3, 3)


def rot_y(angle) -> np.ndarray:
    a = np.asarray(angle, dtype=np.float64)
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack([c, z, s, z, o, z, -s, z, c], -1).reshape(*a.shape, 3, 3)


def rot_z(angle) -> np.ndarray:
    a = np.asarray(angle, dtype=np.float64)
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack([c, -s, z, s, c, z, z, z, o], -1).reshape(*a.shape, 3, 3)


AXIS_ROTATIONS = {"x": rot_x, "y": rot_y, "z": rot_z}


def euler_to_matrix(angles: np.ndarray, order: str) -> np.ndarray:
    """Intrinsic rotations in the given axis order, e.g. order 'zyx' = Rz @ Ry @ Rx (BVH convention)."""
    out = None
    for i, axis in enumerate(order.lower()):
        r = AXIS_ROTATIONS[axis](angles[..., i])
        out = r if out is None else out @ r
    return out


def align(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The smallest rotation taking direction a onto direction b (both (..., 3))."""
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
    p = primary / np.linalg.norm(primary, axis=-1, keepdims=True)
    s = secondary - np.sum(secondary * p, axis=-1, keepdims=True) * p
    s = s / np.linalg.norm(s, axis=-1, keepdims=True)
    return np.stack([p, s, np.cross(p, s)], axis=-1)


def angle_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle (radians) of the relative rotation a^T b for stacked rotation matrices."""
    rel = np.swapaxes(a, -1, -2) @ b
    return np.arccos(np.clip((np.trace(rel, axis1=-2, axis2=-1) - 1.0) / 2.0, -1.0, 1.0))


def slerp_matrices(m0: np.ndarray, m1: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Interpolate rotations m0 -> m1 by weights w (broadcast over leading axes)."""
    rel = matrix_to_axis_angle(np.swapaxes(m0, -1, -2) @ m1)
    return m0 @ axis_angle_to_matrix(rel * np.asarray(w)[..., None])
