"""The canonical skeleton every motion is expressed on, forward kinematics and two-bone IK.

The canonical skeleton has the 22 body joints of SMPL, in SMPL order, so AMASS data and the SMPL-X
backend map onto it directly. Frame: Z up, metres, the body faces -Y with its left side at +X.
Rest pose: T-pose, every joint frame aligned with the world, so a joint's global rotation is
exactly its rotation away from rest. Local rotation j: G[j] = G[parent[j]] @ R[j]; joint 0's
rotation is the body's global orientation and its position is the root translation.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .rotations import align, frame, rot_x

JOINT_NAMES = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2", "left_ankle",
    "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar", "right_collar", "head",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
)
PARENTS = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19)
J = {name: i for i, name in enumerate(JOINT_NAMES)}
NUM_JOINTS = len(JOINT_NAMES)
FORWARD = np.array([0.0, -1.0, 0.0])  # the direction the body faces at rest
LEFT = np.array([1.0, 0.0, 0.0])
SMPL_TO_CANONICAL = rot_x(np.pi / 2)  # SMPL (Y up, facing +Z) -> canonical (Z up, facing -Y)
# Rest frame of a thigh or shin bone: (bone direction, hinge axis); see two_bone_ik for the hinge.
LEG_REST = (np.array([0.0, 0.0, -1.0]), np.array([1.0, 0.0, 0.0]))


def mirror_joint_index() -> np.ndarray:
    """For each joint, the joint on the other side (itself on the midline)."""
    swap = {"left": "right", "right": "left"}
    names = ["_".join(swap.get(p, p) for p in n.split("_")) for n in JOINT_NAMES]
    return np.array([J[n] for n in names])


# Offsets from the parent joint at rest for a 1.75 m reference body.
_REFERENCE_OFFSETS = {
    "pelvis": (0.0, 0.0, 0.96),
    "left_hip": (0.09, 0.0, -0.07), "right_hip": (-0.09, 0.0, -0.07),
    "spine1": (0.0, 0.01, 0.11),
    "left_knee": (0.0, 0.0, -0.42), "right_knee": (0.0, 0.0, -0.42),
    "spine2": (0.0, 0.0, 0.13),
    "left_ankle": (0.0, 0.0, -0.39), "right_ankle": (0.0, 0.0, -0.39),
    "spine3": (0.0, -0.01, 0.06),
    "left_foot": (0.0, -0.12, -0.055), "right_foot": (0.0, -0.12, -0.055),
    "neck": (0.0, 0.01, 0.22),
    "left_collar": (0.07, 0.0, 0.15), "right_collar": (-0.07, 0.0, 0.15),
    "head": (0.0, -0.02, 0.12),
    "left_shoulder": (0.11, 0.0, 0.02), "right_shoulder": (-0.11, 0.0, 0.02),
    "left_elbow": (0.26, 0.0, 0.0), "right_elbow": (-0.26, 0.0, 0.0),
    "left_wrist": (0.25, 0.0, 0.0), "right_wrist": (-0.25, 0.0, 0.0),
}

ANKLE_HEIGHT = 0.08  # height of the ankle joint above the sole when the foot is flat


@dataclass(frozen=True)
class Skeleton:
    """Canonical topology with one body's proportions: rest offsets (22, 3) from each parent."""

    offsets: np.ndarray
    ankle_height: float = ANKLE_HEIGHT  # ankle joint above the sole of a flat foot

    @classmethod
    def reference(cls) -> "Skeleton":
        return cls(np.array([_REFERENCE_OFFSETS[n] for n in JOINT_NAMES], dtype=np.float64))

    def rest_positions(self) -> np.ndarray:
        pos = np.zeros((NUM_JOINTS, 3))
        for j, p in enumerate(PARENTS):
            pos[j] = self.offsets[j] if p < 0 else pos[p] + self.offsets[j]
        return pos

    def length(self, joint: str) -> float:
        return float(np.linalg.norm(self.offsets[J[joint]]))

    @property
    def leg_length(self) -> float:
        """Hip to sole along a straight leg."""
        return self.length("left_knee") + self.length("left_ankle") + self.ankle_height

    @property
    def standing_pelvis_height(self) -> float:
        return -self.offsets[J["left_hip"], 2] + self.leg_length


def forward_kinematics(skeleton: Skeleton, local: np.ndarray, root: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """local (T, 22, 3, 3), root (T, 3) -> global rotations (T, 22, 3, 3) and positions (T, 22, 3)."""
    t = local.shape[0]
    glob = np.empty_like(local)
    pos = np.empty((t, NUM_JOINTS, 3))
    for j, p in enumerate(PARENTS):
        if p < 0:
            glob[:, j] = local[:, j]
            pos[:, j] = root
        else:
            glob[:, j] = glob[:, p] @ local[:, j]
            pos[:, j] = pos[:, p] + np.einsum("tij,j->ti", glob[:, p], skeleton.offsets[j])
    return glob, pos


def local_from_global(glob: np.ndarray) -> np.ndarray:
    local = np.empty_like(glob)
    for j, p in enumerate(PARENTS):
        local[:, j] = glob[:, j] if p < 0 else np.swapaxes(glob[:, p], -1, -2) @ glob[:, j]
    return local


def bend_direction(u: np.ndarray, pole: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Unit vector perpendicular to u towards pole; blends towards fallback as pole nears u."""
    def perp(p):
        return p - np.sum(p * u, axis=-1, keepdims=True) * u
    v = perp(pole)
    size = np.linalg.norm(v, axis=-1, keepdims=True)
    v = v + np.clip(0.5 - size, 0, None) * 2 * perp(fallback)  # continuous hand-over near alignment
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def two_bone_ik(start: np.ndarray, target: np.ndarray, bend: np.ndarray, upper: float, lower: float,
                max_reach: float = 0.999) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Middle-joint and end positions (T, 3) and the hinge axis for a two-bone chain reaching for target.

    `bend` (unit, perpendicular to the chain, from bend_direction) is where the middle joint points.
    A target out of reach is approached along the same line and the end stops short of it.
    The hinge axis is cross(bend, u): both bones rotate about it, so the middle joint is a pure hinge.
    """
    d_vec = target - start
    dist = np.linalg.norm(d_vec, axis=-1, keepdims=True)
    u = d_vec / np.maximum(dist, 1e-9)
    dist = np.clip(dist, abs(upper - lower) + 1e-4, (upper + lower) * max_reach)
    cos_a = (upper**2 + dist**2 - lower**2) / (2 * upper * dist)
    sin_a = np.sqrt(np.clip(1 - cos_a**2, 0, 1))
    middle = start + upper * (cos_a * u + sin_a * bend)
    end = start + dist * u
    return middle, end, np.cross(bend, u)


def bone_rotation(rest_dir: np.ndarray, rest_side: np.ndarray, new_dir: np.ndarray, new_side: np.ndarray) -> np.ndarray:
    """The global rotation that turns a bone's rest frame (direction, side axis) into the new one."""
    rest = frame(np.broadcast_to(rest_dir, new_dir.shape), np.broadcast_to(rest_side, new_side.shape))
    return frame(new_dir, new_side) @ np.swapaxes(rest, -1, -2)


# The canonical child whose direction a joint's bone is aligned by (limbs only; the torso keeps its shape).
_ALIGN_CHILD = {
    "left_hip": "left_knee", "right_hip": "right_knee", "left_knee": "left_ankle", "right_knee": "right_ankle",
    "left_collar": "left_shoulder",
    "right_collar": "right_shoulder", "left_shoulder": "left_elbow", "right_shoulder": "right_elbow",
    "left_elbow": "left_wrist", "right_elbow": "right_wrist",
}


def align_to_canonical(native_joints: np.ndarray) -> tuple[np.ndarray, Skeleton]:
    """From native rest positions of the 22 canonical joints (canonical frame): alignments and skeleton.

    Limb bones are turned onto the reference T-pose directions; torso bones keep their shape. The
    skeleton's offsets are the native offsets as they lie after the parent's alignment.
    """
    reference = Skeleton.reference().offsets
    alignment = np.tile(np.eye(3), (NUM_JOINTS, 1, 1))
    for j, name in enumerate(JOINT_NAMES):
        child = _ALIGN_CHILD.get(name)
        if child is not None:
            c = JOINT_NAMES.index(child)
            alignment[j] = align(native_joints[c] - native_joints[j], reference[c])
    offsets = np.zeros((NUM_JOINTS, 3))
    for j, p in enumerate(PARENTS):
        offsets[j] = native_joints[j] if p < 0 else alignment[p] @ (native_joints[j] - native_joints[p])
    return alignment, Skeleton(offsets)
