"""Quality metrics of a motion on a skeleton: smoothness, foot skating, floating, joint limits."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .rotations import angle_between, axis_angle_to_matrix, matrix_to_axis_angle
from .skeleton import ANKLE_HEIGHT, JOINT_NAMES, J, Skeleton, forward_kinematics

# Largest rotation away from rest (degrees) each joint may reach, and which joints are hinges
# (knees and elbows bend one way about one axis).
JOINT_LIMITS_DEG = {
    "pelvis": 360, "left_hip": 160, "right_hip": 160, "spine1": 50, "left_knee": 165, "right_knee": 165,
    "spine2": 50, "left_ankle": 80, "right_ankle": 80, "spine3": 50, "left_foot": 60, "right_foot": 60,
    "neck": 70, "left_collar": 45, "right_collar": 45, "head": 80, "left_shoulder": 180,
    "right_shoulder": 180, "left_elbow": 165, "right_elbow": 165, "left_wrist": 100, "right_wrist": 100,
}
LIMITS_RAD = np.radians([JOINT_LIMITS_DEG[n] for n in JOINT_NAMES])


@dataclass(frozen=True)
class MotionQuality:
    frames: int
    fps: float
    duration_s: float
    max_joint_speed_deg_per_frame: float  # fastest frame-to-frame rotation of any joint
    max_joint_spike_deg: float  # a frame's rotation beyond 3x its neighbours' (a jump, not speed)
    foot_skate_m: float  # largest horizontal drift of a planted foot's contact point
    foot_float_m: float  # largest height of a planted foot's sole above the ground
    ground_penetration_m: float  # deepest any sole goes below the ground
    joint_limit_excess_deg: float  # largest rotation beyond a joint's limit (0 = within limits)

    def as_dict(self) -> dict:
        return asdict(self)


def joint_speeds(local: np.ndarray) -> np.ndarray:
    """(T-1, J) degrees each joint rotates between consecutive frames."""
    return np.degrees(angle_between(local[1:], local[:-1]))


def sole_points(positions: np.ndarray, skeleton: Skeleton) -> np.ndarray:
    """(T, 2 feet, 2 points, 3): heel (under the ankle) and ball of each foot, on the sole."""
    ball_height = skeleton.rest_positions()[J["left_foot"], 2]
    out = np.empty((positions.shape[0], 2, 2, 3))
    for k, side in enumerate(("left", "right")):
        out[:, k, 0] = positions[:, J[f"{side}_ankle"]] - [0, 0, skeleton.ankle_height]
        out[:, k, 1] = positions[:, J[f"{side}_foot"]] - [0, 0, ball_height]
    return out


def quality_series(local: np.ndarray, root: np.ndarray, contacts: np.ndarray, skeleton: Skeleton,
                   fps: float) -> dict[str, np.ndarray]:
    """Per-frame (T,) values of every MotionQuality metric; a clip's figure is the maximum of its series."""
    t = len(local)
    speeds = joint_speeds(local) if t > 1 else np.zeros((1, len(JOINT_NAMES)))
    neighbours = np.maximum(np.pad(speeds, ((1, 0), (0, 0)))[:-1], np.pad(speeds, ((0, 1), (0, 0)))[1:])
    _, pos = forward_kinematics(skeleton, local, root)
    soles = sole_points(pos, skeleton)
    skate = np.zeros(t)  # a planted foot may roll (heel or ball lifts) but one of them must stay put
    for k in range(2):
        start = None
        for i, planted in enumerate(contacts[:, k]):
            if not planted:
                start = None
                continue
            start = i if start is None else start
            drift = np.linalg.norm(soles[i, k, :, :2] - soles[start, k, :, :2], axis=-1).min()
            skate[i] = max(skate[i], drift)
    planted_heights = np.where(contacts, soles[..., 2].min(axis=-1), 0.0)
    angles = np.linalg.norm(matrix_to_axis_angle(local), axis=-1)
    pad = (1, 0) if t > 1 else (0, 0)
    return {
        "max_joint_speed_deg_per_frame": np.pad(speeds.max(axis=1), pad),
        "max_joint_spike_deg": np.pad(np.maximum((speeds - 3 * neighbours).max(axis=1), 0.0), pad),
        "foot_skate_m": skate,
        "foot_float_m": np.maximum(planted_heights.max(axis=1), 0.0),
        "ground_penetration_m": np.maximum(-soles[..., 2].min(axis=(1, 2)), 0.0),
        "joint_limit_excess_deg": np.degrees(np.maximum((angles - LIMITS_RAD).max(axis=1), 0.0)),
    }


def measure(local: np.ndarray, root: np.ndarray, contacts: np.ndarray, skeleton: Skeleton,
            fps: float) -> MotionQuality:
    series = quality_series(local, root, contacts, skeleton, fps)
    return MotionQuality(frames=len(local), fps=fps, duration_s=len(local) / fps,
                         **{name: float(values.max()) for name, values in series.items()})


def joint_speed(motion) -> np.ndarray:
    """(T,) the body's mean joint speed in m/s per frame: the motion energy that windows are chosen by."""
    _, pos = forward_kinematics(motion.skeleton, motion.local_matrices(), motion.root_translation)
    if len(pos) < 2:
        return np.zeros(len(pos))
    speed = np.linalg.norm(np.diff(pos, axis=0), axis=-1).mean(axis=-1) * motion.fps
    return np.concatenate([speed[:1], speed])


def motion_quality(motion, skeleton: Skeleton | None = None) -> MotionQuality:
    sk = skeleton or motion.skeleton
    return measure(motion.local_matrices(), motion.root_translation, motion.contacts, sk, motion.fps)


def clamp_to_limits(local: np.ndarray, skip: tuple[str, ...] = ()) -> np.ndarray:
    """Scale back any joint rotation that exceeds its limit (same axis, angle = limit)."""
    rv = matrix_to_axis_angle(local)
    angle = np.linalg.norm(rv, axis=-1, keepdims=True)
    limits = LIMITS_RAD.copy()
    limits[[J[name] for name in skip]] = np.inf
    scale = np.minimum(1.0, limits[None, :, None] / np.maximum(angle, 1e-12))
    return axis_angle_to_matrix(rv * scale)


__all__ = ["ANKLE_HEIGHT", "JOINT_LIMITS_DEG", "MotionQuality", "clamp_to_limits", "joint_speed", "measure",
           "motion_quality", "quality_series"]
