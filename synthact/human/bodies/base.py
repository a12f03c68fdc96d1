"""The body-model interface shared by every backend, and the canonical-to-native posing both use.

A backend knows its native skeleton; each native bone either follows a canonical joint or (when
it has no counterpart, e.g. twist or toe bones) keeps its parent's world rotation. At rest a
backend's bones are first turned onto the canonical T-pose (alignment rotations), so canonical
rotations mean the same thing on every body.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from synthact.spec import BodyShapeSpec

from ..motions.retarget import retarget
from ..motions.skeleton import JOINT_NAMES, NUM_JOINTS, PARENTS, Skeleton, align_to_canonical  # noqa: F401 (re-exported)

COCO17_NAMES = ("nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
                "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee",
                "right_knee", "left_ankle", "right_ankle")
# COCO's own keypoint skeleton (person_keypoints "skeleton", made 0-based): 19 edges, face included.
COCO17_SKELETON = ((15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6), (5, 7), (6, 8),
                   (7, 9), (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6))

# Body-part labels (0 is kept for background in segmentation maps).
# Segmentation labels: 0 background, the body parts a body model's vertices carry, then what actors wear
# (garment surfaces get these, whatever body part they cover).
BODY_PARTS = ("head", "torso", "left_upper_arm", "right_upper_arm", "left_lower_arm", "right_lower_arm", "left_hand",
              "right_hand", "left_upper_leg", "right_upper_leg", "left_lower_leg", "right_lower_leg", "left_foot",
              "right_foot")
WORN_PARTS = ("upper_clothing", "lower_clothing", "footwear", "headwear", "hair")
PART_NAMES = ("background", *BODY_PARTS, *WORN_PARTS)
_PART_OF_JOINT = {
    "pelvis": "torso", "spine1": "torso", "spine2": "torso", "spine3": "torso", "left_collar": "torso",
    "right_collar": "torso", "neck": "head", "head": "head",
    "left_shoulder": "left_upper_arm", "right_shoulder": "right_upper_arm", "left_elbow": "left_lower_arm",
    "right_elbow": "right_lower_arm", "left_wrist": "left_hand", "right_wrist": "right_hand",
    "left_hip": "left_upper_leg", "right_hip": "right_upper_leg", "left_knee": "left_lower_leg",
    "right_knee": "right_lower_leg", "left_ankle": "left_foot", "right_ankle": "right_foot",
    "left_foot": "left_foot", "right_foot": "right_foot",
}
PART_OF_CANONICAL_JOINT = np.array([PART_NAMES.index(_PART_OF_JOINT[n]) for n in JOINT_NAMES], dtype=np.uint8)

@dataclass
class BodyGeometry:
    vertices: np.ndarray  # (T, V, 3) float32, world metres
    faces: np.ndarray  # (F, 3) int32
    uv: np.ndarray  # (F, 3, 2) float32 texture coordinates per face corner
    part_labels: np.ndarray  # (V,) uint8 index into PART_NAMES
    joints: np.ndarray  # (T, Jn, 3) the backend's native joints
    joint_names: tuple[str, ...]
    joint_parents: np.ndarray  # (Jn,) int, -1 for the root
    canonical_joints: np.ndarray  # (T, 22, 3) the canonical skeleton's joints on this body
    coco17: np.ndarray  # (T, 17, 3) COCO keypoints in the world
    skeleton: Skeleton  # this body's canonical skeleton at rest


class BodyModel(Protocol):
    name: str

    def skeleton(self, shape: BodyShapeSpec) -> Skeleton:
        """This body's proportions on the canonical skeleton (T-pose rest)."""

    def pose(self, shape: BodyShapeSpec, local: np.ndarray, root: np.ndarray) -> BodyGeometry:
        """Geometry for canonical local rotations (T, 22, 3, 3) and root positions (T, 3)."""


@dataclass(frozen=True)
class NativeRig:
    """How a backend's native bones follow the canonical skeleton.

    follows[b] is the canonical joint native bone b follows, or -1 to keep its parent's rotation;
    alignment[j] (22, 3, 3) turns the native rest bone of canonical joint j onto the canonical T-pose.
    """

    parents: np.ndarray  # (B,)
    follows: np.ndarray  # (B,)
    alignment: np.ndarray  # (22, 3, 3)


def native_local_rotations(canonical_global: np.ndarray, rig: NativeRig) -> np.ndarray:
    """Canonical global rotations (T, 22, 3, 3) -> native local rotations (T, B, 3, 3)."""
    t = canonical_global.shape[0]
    n = len(rig.parents)
    glob = np.empty((t, n, 3, 3))
    local = np.empty((t, n, 3, 3))
    for b in range(n):
        p = rig.parents[b]
        j = rig.follows[b]
        if j >= 0:
            glob[:, b] = canonical_global[:, j] @ rig.alignment[j]
        else:
            glob[:, b] = glob[:, p] if p >= 0 else np.eye(3)
        local[:, b] = glob[:, b] if p < 0 else np.swapaxes(glob[:, p], -1, -2) @ glob[:, b]
    return local


def part_labels_from_weights(dominant_bone: np.ndarray, follows: np.ndarray, parents: np.ndarray) -> np.ndarray:
    """Per-vertex part labels: the part of the canonical joint its most influential bone follows."""
    joint_of_bone = np.empty(len(follows), dtype=int)
    for b in range(len(follows)):
        a = b
        while follows[a] < 0 and parents[a] >= 0:
            a = parents[a]
        joint_of_bone[b] = max(follows[a], 0)
    return PART_OF_CANONICAL_JOINT[joint_of_bone[dominant_bone]]


def body_geometry(model: BodyModel, shape: BodyShapeSpec, motion) -> BodyGeometry:
    """Retarget a motion onto a body of the given shape and pose it."""
    local, root = retarget(motion, model.skeleton(shape))
    return model.pose(shape, local, root)

