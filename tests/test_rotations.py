import numpy as np
import pytest
from scipy.spatial.transform import Rotation, Slerp

from synthact.human.motions.rotations import (
    angle_between,
    axis_angle_to_matrix,
    euler_to_matrix,
    matrix_to_axis_angle,
    rot_x,
    rot_y,
    rot_z,
    slerp_matrices,
)


def rodrigues(rotvec: np.ndarray) -> np.ndarray:
    """Reference matrices computed independently of the module (and of scipy)."""
    angle = np.linalg.norm(rotvec, axis=-1)[:, None, None]
    k = np.zeros((len(rotvec), 3, 3))
    axis = rotvec / np.maximum(angle[:, :, 0], 1e-300)
    k[:, 0, 1], k[:, 0, 2], k[:, 1, 2] = -axis[:, 2], axis[:, 1], -axis[:, 0]
    k -= np.swapaxes(k, 1, 2)
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k


def rotation_error(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle between rotations, accurate near 0 (arccos of the trace is not: ~1e-8 at best)."""
    return 2 * np.arcsin(np.clip(np.linalg.norm(a - b, axis=(-2, -1)) / (2 * np.sqrt(2)), 0, 1))


def random_axes(rng, n: int) -> np.ndarray:
    v = rng.normal(size=(n, 3))
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def test_axis_angle_round_trip_is_exact_near_pi_and_zero():
    rng = np.random.default_rng(0)
    n = 4000
    angles = np.concatenate([
        rng.uniform(0, np.pi, n),
        np.pi - rng.uniform(0, 1e-6, n), np.pi - np.logspace(-15, -2, n), np.full(50, np.pi),
        rng.uniform(0, 1e-6, n), np.zeros(5),
    ])
    m = rodrigues(random_axes(rng, len(angles)) * angles[:, None])
    v = matrix_to_axis_angle(m)
    assert np.all(np.linalg.norm(v, axis=-1) <= np.pi + 1e-12)
    # at pi the vector's sign is arbitrary, so compare the rotations
    assert rotation_error(axis_angle_to_matrix(v), m).max() < 1e-9
    assert rotation_error(rodrigues(v), m).max() < 1e-9


def test_conversions_keep_leading_axes():
    rng = np.random.default_rng(1)
    v = random_axes(rng, 24).reshape(2, 4, 3, 3) * 0.7
    m = axis_angle_to_matrix(v)
    assert m.shape == (2, 4, 3, 3, 3) and matrix_to_axis_angle(m).shape == v.shape
    assert np.allclose(matrix_to_axis_angle(m), v, atol=1e-12)
    assert axis_angle_to_matrix(np.zeros(3)).shape == (3, 3)
    assert rot_z(np.array(0.5)).shape == (3, 3) and rot_x(np.zeros((2, 5))).shape == (2, 5, 3, 3)


def test_elementary_and_euler_rotations():
    a = np.array([0.3, -1.2, 2.9])
    c, s = np.cos(a[0]), np.sin(a[0])
    assert np.allclose(rot_x(a[0]), [[1, 0, 0], [0, c, -s], [0, s, c]], atol=1e-15)
    assert np.allclose(rot_y(a[0]), [[c, 0, s], [0, 1, 0], [-s, 0, c]], atol=1e-15)
    assert np.allclose(rot_z(a[0]), [[c, -s, 0], [s, c, 0], [0, 0, 1]], atol=1e-15)
    angles = np.random.default_rng(2).uniform(-np.pi, np.pi, (7, 3))
    # intrinsic order: 'zyx' = Rz @ Ry @ Rx (BVH channel order)
    assert np.allclose(euler_to_matrix(angles, "zyx"),
                       rot_z(angles[:, 0]) @ rot_y(angles[:, 1]) @ rot_x(angles[:, 2]), atol=1e-14)
    assert np.allclose(euler_to_matrix(angles[:, :1], "y"), rot_y(angles[:, 0]), atol=1e-14)
    # orders scipy does not take (an axis twice in a row, more than three axes) still compose
    assert np.allclose(euler_to_matrix(angles[:, :2], "ZZ"), rot_z(angles[:, 0] + angles[:, 1]), atol=1e-14)


@pytest.mark.parametrize("seed", [3, 4])
def test_slerp_matches_scipy(seed):
    rng = np.random.default_rng(seed)
    r0, r1 = Rotation.random(200, random_state=rng), Rotation.random(200, random_state=rng)
    w = rng.uniform(0, 1, 200)
    got = slerp_matrices(r0.as_matrix(), r1.as_matrix(), w)
    want = np.stack([Slerp([0.0, 1.0], Rotation.concatenate([r0[i], r1[i]]))(w[i]).as_matrix() for i in range(200)])
    assert rotation_error(got, want).max() < 1e-9
    ends = slerp_matrices(r0.as_matrix(), r1.as_matrix(), np.ones(200))
    assert rotation_error(ends, r1.as_matrix()).max() < 1e-9


def test_slerp_broadcasts_weights_over_joints():
    rng = np.random.default_rng(5)
    m0, m1 = (Rotation.random(12, random_state=rng).as_matrix().reshape(3, 4, 3, 3) for _ in range(2))
    w = np.broadcast_to(np.array([0.0, 0.5, 1.0])[:, None], (3, 4))
    out = slerp_matrices(m0, m1, w)
    assert rotation_error(out[0], m0[0]).max() < 1e-12 and rotation_error(out[2], m1[2]).max() < 1e-9
    assert np.allclose(angle_between(m0[1], out[1]), angle_between(out[1], m1[1]), atol=1e-9)
