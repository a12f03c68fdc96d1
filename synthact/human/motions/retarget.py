"""Retargeting: play a canonical-skeleton motion on a body with other proportions.

Rotations carry over unchanged (every canonical skeleton shares the T-pose rest and world-aligned
joint frames); the root path is scaled by the ratio of pelvis heights; then every planted foot is
pinned to one spot on the ground with leg IK, and no sole is allowed below the ground.
"""
from __future__ import annotations

import numpy as np

from .quality import clamp_to_limits, sole_points
from .rotations import slerp_matrices
from .skeleton import (
    LEG_REST,
    PARENTS,
    J,
    Skeleton,
    bend_direction,
    bone_rotation,
    forward_kinematics,
    local_from_global,
    two_bone_ik,
)


def retarget(motion, body: Skeleton) -> tuple[np.ndarray, np.ndarray]:
    """-> local rotations (T, 22, 3, 3) and root translation (T, 3) for the body skeleton."""
    scale = body.standing_pelvis_height / motion.skeleton.standing_pelvis_height
    root = motion.root_translation * scale
    local, root = pin_planted_feet(clamp_to_limits(motion.local_matrices()), root, motion.contacts, body)
    # limits are hard: in the rare pose where pinning bends a leg past one, the pin gives way
    return clamp_to_limits(local), root


def contact_segments(planted: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) frame ranges where a foot is planted."""
    edges = np.diff(np.concatenate([[0], planted.astype(int), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)))


def pin_planted_feet(local: np.ndarray, root: np.ndarray, contacts: np.ndarray, body: Skeleton
                     ) -> tuple[np.ndarray, np.ndarray]:
    glob, pos = forward_kinematics(body, local, root)
    soles = sole_points(pos, body)
    lowest = soles[..., 2].min(axis=-1)  # (T, 2)
    # Lift the whole body where a sole would go below the ground.
    lift = np.maximum(-lowest.min(axis=1), 0.0)
    root = root + lift[:, None] * [0, 0, 1]
    pos = pos + lift[:, None, None] * [0, 0, 1]
    targets = {}
    for k, side in enumerate(("left", "right")):
        ankle = pos[:, J[f"{side}_ankle"]].copy()
        target = ankle.copy()
        for a, b in contact_segments(contacts[:, k]):
            target[a:b, :2] = ankle[a:b, :2].mean(axis=0)
            target[a:b, 2] -= (lowest[a:b, k] + lift[a:b])  # sole on the ground
        targets[side] = target
    root = _lower_pelvis_to_reach(root, pos, targets, contacts, body)
    glob, pos = forward_kinematics(body, local, root)
    for side in ("left", "right"):
        hip, knee, ankle = J[f"{side}_hip"], J[f"{side}_knee"], J[f"{side}_ankle"]
        upper, lower = body.length(f"{side}_knee"), body.length(f"{side}_ankle")
        u = targets[side] - pos[:, hip]
        u /= np.maximum(np.linalg.norm(u, axis=-1, keepdims=True), 1e-9)
        pole = pos[:, knee] - (pos[:, hip] + pos[:, ankle]) / 2
        forward = np.einsum("tij,j->ti", glob[:, ankle], [0.0, -1.0, 0.0])  # where the foot points
        bend = bend_direction(u, pole + 0.05 * forward, forward)
        new_knee, new_ankle, hinge = two_bone_ik(pos[:, hip], targets[side], bend, upper, lower)
        foot_global = glob[:, ankle].copy()
        # IK where the foot is planted, the source legs elsewhere, blended over a few frames
        w = _contact_weight(contacts[:, ("left", "right").index(side)], fps_frames=6)
        glob[:, hip] = slerp_matrices(glob[:, hip], bone_rotation(*LEG_REST, new_knee - pos[:, hip], hinge), w)
        shin = bone_rotation(*LEG_REST, new_ankle - new_knee, hinge)
        glob[:, knee] = slerp_matrices(glob[:, knee], shin, w)
        glob[:, ankle] = foot_global  # the foot keeps its orientation in the world
        glob[:, J[f"{side}_foot"]] = glob[:, ankle] @ local[:, J[f"{side}_foot"]]
    return local_from_global(glob), root


def _contact_weight(planted: np.ndarray, fps_frames: int) -> np.ndarray:
    """1 on planted frames, easing to 0 over fps_frames frames on either side."""
    idx = np.flatnonzero(planted)
    if len(idx) == 0:
        return np.zeros(len(planted))
    distance = np.abs(np.arange(len(planted))[:, None] - idx[None, :]).min(axis=1)
    x = np.clip(1 - distance / fps_frames, 0, 1)
    return x * x * (3 - 2 * x)


def _lower_pelvis_to_reach(root, pos, targets, contacts, body: Skeleton, reach: float = 0.995) -> np.ndarray:
    leg = (body.length("left_knee") + body.length("left_ankle")) * reach
    drop = np.zeros(len(root))
    for k, side in enumerate(("left", "right")):
        d = targets[side] - pos[:, J[f"{side}_hip"]]
        horizontal = np.minimum(np.linalg.norm(d[:, :2], axis=-1), leg * 0.999)
        need = pos[:, J[f"{side}_hip"], 2] - (targets[side][:, 2] + np.sqrt(leg**2 - horizontal**2))
        drop = np.maximum(drop, np.where(contacts[:, k], need, 0.0))
    drop = np.maximum(drop, 0.0)
    if drop.max() > 0:
        kernel = np.hanning(9)[1:-1]
        smooth = np.convolve(np.pad(drop, 3, mode="edge"), kernel / kernel.sum(), mode="valid")
        drop = np.maximum(drop, smooth)
    return root - drop[:, None] * [0, 0, 1]


__all__ = ["retarget", "pin_planted_feet", "contact_segments", "PARENTS"]
