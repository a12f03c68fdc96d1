"""A Track is what a procedural action specifies per frame; `solve` turns it into joint rotations.

Actions describe intent, not joint angles: where the pelvis is and which way the body faces,
how the spine and head bend, where each hand should be (two-bone IK with an elbow pole), and
where each ankle is (two-bone IK; a planted foot keeps a fixed world position, so it cannot slide).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..quality import clamp_to_limits
from ..rotations import rot_x, rot_y, rot_z
from ..skeleton import (
    ANKLE_HEIGHT,
    LEG_REST,
    NUM_JOINTS,
    PARENTS,
    J,
    Skeleton,
    bend_direction,
    bone_rotation,
    local_from_global,
    two_bone_ik,
)

SIDES = ("left", "right")
SIGN = {"left": 1.0, "right": -1.0}  # the body's left is +X at rest

# Rest frames of arm bones: (bone direction, hinge axis), as skeleton.LEG_REST for the legs.
_ARM_REST = {"left": ((1.0, 0, 0), (0, 0, -1.0)), "right": ((-1.0, 0, 0), (0, 0, 1.0))}


@dataclass
class Foot:
    pos: np.ndarray  # (T, 3) ankle position in the world
    planted: np.ndarray  # (T,) bool
    pitch: np.ndarray  # (T,) toes-down rotation (rad) about the foot's left axis
    yaw: np.ndarray  # (T,) heading of the foot (rad), 0 = facing -Y


@dataclass
class Hand:
    target: np.ndarray  # (T, 3) wrist target, in the frame named by `space`
    pole: np.ndarray  # (T, 3) direction the elbow points to, in the body (yaw) frame
    space: str = "chest"  # chest: relative to the shoulder, in the chest frame; body: yaw frame at the pelvis


@dataclass
class Track:
    t: np.ndarray  # (T,) seconds
    pelvis: np.ndarray  # (T, 3)
    yaw: np.ndarray  # (T,) facing, rad, counter-clockwise from -Y
    pelvis_tilt: np.ndarray  # (T, 2) forward pitch, roll to the left
    spine: np.ndarray  # (T, 3) forward bend, side bend to the left, twist to the left
    head: np.ndarray  # (T, 3) nod down, tilt to the left, turn to the left
    shrug: np.ndarray  # (T,) collar raise
    feet: dict[str, Foot] = field(default_factory=dict)
    hands: dict[str, Hand] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.t)


def body_frame(yaw: np.ndarray) -> np.ndarray:
    return rot_z(yaw)


def solve(track: Track, skeleton: Skeleton) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """-> local rotations (T, 22, 3, 3), root translation (T, 3), contacts (T, 2)."""
    n = track.n
    off = skeleton.offsets
    keep_feet_reachable(track, skeleton)
    glob = np.tile(np.eye(3), (n, NUM_JOINTS, 1, 1))
    pos = np.zeros((n, NUM_JOINTS, 3))
    body = body_frame(track.yaw)

    def place(j: int, rotation: np.ndarray | None = None) -> None:
        p = PARENTS[j]
        if rotation is not None:
            glob[:, j] = rotation
        pos[:, j] = pos[:, p] + np.einsum("tij,j->ti", glob[:, p], off[j])

    glob[:, J["pelvis"]] = body @ rot_x(track.pelvis_tilt[:, 0]) @ rot_y(track.pelvis_tilt[:, 1])
    pos[:, J["pelvis"]] = track.pelvis
    share = {"spine1": 0.3, "spine2": 0.3, "spine3": 0.4, "neck": 0.4, "head": 0.6}
    for name, parent_source in (("spine1", "spine"), ("spine2", "spine"), ("spine3", "spine"),
                                ("neck", "head"), ("head", "head")):
        j = J[name]
        a = getattr(track, parent_source) * share[name]
        local = rot_z(a[:, 2]) @ rot_x(a[:, 0]) @ rot_y(a[:, 1])
        place(j, glob[:, PARENTS[j]] @ local)
    for side in SIDES:
        collar = J[f"{side}_collar"]
        place(collar, glob[:, PARENTS[collar]] @ rot_y(-SIGN[side] * track.shrug))
        place(J[f"{side}_shoulder"], glob[:, collar])
        _solve_arm(track, side, glob, pos, off, body)
        _solve_leg(track, side, glob, pos, off, body)
    local = clamp_to_limits(local_from_global(glob))
    contacts = np.stack([track.feet[s].planted for s in SIDES], axis=1) if track.feet else np.zeros((n, 2), bool)
    return local, track.pelvis.copy(), contacts


def _solve_arm(track, side, glob, pos, off, body) -> None:
    sh, el, wr = J[f"{side}_shoulder"], J[f"{side}_elbow"], J[f"{side}_wrist"]
    upper, lower = np.linalg.norm(off[el]), np.linalg.norm(off[wr])
    hand = track.hands.get(side) or relaxed_hand(track.n, side)
    chest = glob[:, J["spine3"]]
    if hand.space == "chest":
        target = pos[:, sh] + np.einsum("tij,tj->ti", chest, hand.target * (upper + lower))
    else:
        target = track.pelvis * [1, 1, 0] + np.einsum("tij,tj->ti", body, hand.target)
    pole = np.einsum("tij,tj->ti", body, hand.pole)
    u = target - pos[:, sh]
    dist = np.linalg.norm(u, axis=-1, keepdims=True)
    u /= np.maximum(dist, 1e-9)
    target = pos[:, sh] + u * soft_limit(dist, 0.88 * (upper + lower), 0.1 * (upper + lower))
    fallback = np.einsum("tij,j->ti", body, [SIGN[side] * 0.5, 1.0, 0.0])  # elbow out and back
    bend = bend_direction(u, pole, fallback)
    elbow, wrist, hinge = two_bone_ik(pos[:, sh], target, bend, upper, lower)
    rest_dir, rest_side = (np.array(v) for v in _ARM_REST[side])
    glob[:, sh] = bone_rotation(rest_dir, rest_side, elbow - pos[:, sh], hinge)
    glob[:, el] = bone_rotation(rest_dir, rest_side, wrist - elbow, hinge)
    glob[:, wr] = glob[:, el]
    pos[:, el], pos[:, wr] = elbow, wrist


def _solve_leg(track, side, glob, pos, off, body) -> None:
    hip, knee, ankle, foot_j = J[f"{side}_hip"], J[f"{side}_knee"], J[f"{side}_ankle"], J[f"{side}_foot"]
    pos[:, hip] = pos[:, 0] + np.einsum("tij,j->ti", glob[:, 0], off[hip])
    upper, lower = np.linalg.norm(off[knee]), np.linalg.norm(off[ankle])
    foot = track.feet[side]
    knee_dir = np.einsum("tij,j->ti", rot_z(foot.yaw), [SIGN[side] * 0.15, -1.0, 0.0])
    target = _tuck_if_unreachable(foot, pos[:, hip], 0.997 * (upper + lower))
    u = target - pos[:, hip]
    u /= np.maximum(np.linalg.norm(u, axis=-1, keepdims=True), 1e-9)
    bend = bend_direction(u, knee_dir, np.einsum("tij,j->ti", rot_z(foot.yaw), [0.0, 0.0, 1.0]))
    knee_pos, ankle_pos, hinge = two_bone_ik(pos[:, hip], target, bend, upper, lower)
    rest_dir, rest_side = LEG_REST
    glob[:, hip] = bone_rotation(rest_dir, rest_side, knee_pos - pos[:, hip], hinge)
    glob[:, knee] = bone_rotation(rest_dir, rest_side, ankle_pos - knee_pos, hinge)
    glob[:, ankle] = rot_z(foot.yaw) @ rot_x(foot.pitch)
    glob[:, foot_j] = glob[:, ankle]
    pos[:, knee], pos[:, ankle] = knee_pos, ankle_pos


def soft_limit(x: np.ndarray, knee: float, room: float) -> np.ndarray:
    """x below knee unchanged; above it, approaches knee + room smoothly (keeps IK off full extension)."""
    return np.where(x <= knee, x, knee + room * np.tanh((x - knee) / room))


def _tuck_if_unreachable(foot: Foot, hip: np.ndarray, reach: float) -> np.ndarray:
    """A swinging foot the leg cannot reach is lifted towards the hip (the knee bends) instead."""
    d = foot.pos - hip
    horizontal = np.linalg.norm(d[:, :2], axis=-1)
    dist = np.linalg.norm(d, axis=-1)
    lifted_z = hip[:, 2] - np.sqrt(np.clip(reach**2 - np.minimum(horizontal, reach * 0.99) ** 2, 0, None))
    lift = (dist > reach) & (horizontal < reach * 0.99)
    target = foot.pos.copy()
    target[lift, 2] = np.maximum(target[lift, 2], lifted_z[lift])
    return target


def keep_feet_reachable(track: Track, skeleton: Skeleton, reach: float = 0.995) -> None:
    """Lower the pelvis (smoothly) wherever a planted foot would be out of the leg's reach."""
    off = skeleton.offsets
    leg = (np.linalg.norm(off[J["left_knee"]]) + np.linalg.norm(off[J["left_ankle"]])) * reach
    pelvis_rot = body_frame(track.yaw) @ rot_x(track.pelvis_tilt[:, 0]) @ rot_y(track.pelvis_tilt[:, 1])
    drop = np.zeros(track.n)
    for side in SIDES:
        hip = track.pelvis + np.einsum("tij,j->ti", pelvis_rot, off[J[f"{side}_hip"]])
        foot = track.feet[side]
        d = foot.pos - hip
        horizontal = np.minimum(np.linalg.norm(d[:, :2], axis=-1), leg * 0.999)
        highest_hip = foot.pos[:, 2] + np.sqrt(leg**2 - horizontal**2)
        need = np.where(foot.planted, hip[:, 2] - highest_hip, 0.0)
        drop = np.maximum(drop, need)
    if drop.max() <= 0:
        return
    dt = track.t[1] - track.t[0] if track.n > 1 else 1.0
    width = max(int(0.12 / dt), 1)
    padded = np.pad(drop, width, mode="edge")
    spread = np.max(np.stack([padded[k:k + track.n] for k in range(2 * width + 1)]), axis=0)
    kernel = np.hanning(2 * width + 3)[1:-1]
    smooth = np.convolve(np.pad(spread, width, mode="edge"), kernel / kernel.sum(), mode="valid")
    track.pelvis[:, 2] -= np.maximum(smooth, drop)


# --- building blocks -----------------------------------------------------------------------------

def relaxed_hand(n: int, side: str, spread: float = 0.08, forward: float = 0.06) -> Hand:
    """Arm hanging by the side with a slight bend, elbow pointing back."""
    target = np.array([SIGN[side] * spread, -forward, -0.93])
    return Hand(np.tile(target, (n, 1)), np.tile([SIGN[side] * 0.3, 1.0, 0.0], (n, 1)))


def standing_feet(n: int, x: float, y: float, yaw: float, width: float) -> dict[str, Foot]:
    feet = {}
    for side in SIDES:
        offset = rot_z(np.array(yaw)) @ np.array([SIGN[side] * width / 2, 0.0, 0.0])
        p = np.array([x, y, ANKLE_HEIGHT]) + offset
        feet[side] = Foot(np.tile(p, (n, 1)), np.ones(n, bool), np.zeros(n), np.full(n, float(yaw)))
    return feet


def standing_track(t: np.ndarray, skeleton: Skeleton, x=0.0, y=0.0, yaw=0.0, width=0.2, knee_bend=0.015) -> Track:
    n = len(t)
    pelvis = np.tile([x, y, skeleton.standing_pelvis_height - knee_bend], (n, 1))
    return Track(t=t, pelvis=pelvis, yaw=np.full(n, float(yaw)), pelvis_tilt=np.zeros((n, 2)),
                 spine=np.zeros((n, 3)), head=np.zeros((n, 3)), shrug=np.zeros(n),
                 feet=standing_feet(n, x, y, yaw, width))
