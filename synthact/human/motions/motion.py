"""The Motion record: per-frame root translation and local joint rotations on the canonical skeleton."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from .rotations import axis_angle_to_matrix, matrix_to_axis_angle, slerp_matrices
from .skeleton import NUM_JOINTS, Skeleton, mirror_joint_index
from .taxonomy import mirror_name


class MotionError(ValueError):
    """A motion that cannot be used; the message names its source and the problem."""


@dataclass(frozen=True, eq=False)
class Motion:
    fps: float
    root_translation: np.ndarray  # (T, 3) pelvis position, metres, Z up
    rotations: np.ndarray  # (T, 22, 3) local joint rotations as rotation vectors (joint 0: global)
    class_name: str
    clip_id: str
    source: str  # where it came from: "procedural", a file path, a collection name
    license: str
    contacts: np.ndarray  # (T, 2) bool: left, right foot planted
    skeleton: Skeleton  # the proportions the motion was authored or recorded on

    def __post_init__(self):
        problems = motion_problems(self)
        if problems:
            raise MotionError(f"{self.source} ({self.clip_id}): " + "; ".join(problems))

    @property
    def num_frames(self) -> int:
        return int(self.rotations.shape[0])

    @property
    def duration(self) -> float:
        return self.num_frames / self.fps

    def local_matrices(self) -> np.ndarray:
        return axis_angle_to_matrix(self.rotations)

    def replace(self, **changes) -> "Motion":
        return dataclasses.replace(self, **changes)

    def mirrored(self) -> "Motion":
        """Swap left and right (reflect across the body's sagittal plane, x -> -x) and relabel."""
        flip = np.diag([-1.0, 1.0, 1.0])
        mats = flip @ self.local_matrices()[:, mirror_joint_index()] @ flip
        offsets = self.skeleton.offsets[mirror_joint_index()] * [-1.0, 1.0, 1.0]
        return self.replace(
            rotations=matrix_to_axis_angle(mats),
            root_translation=self.root_translation * [-1.0, 1.0, 1.0],
            contacts=self.contacts[:, ::-1].copy(),
            class_name=mirror_name(self.class_name),
            clip_id=_mirror_clip_id(self.clip_id),
            skeleton=Skeleton(offsets),
        )

    def resampled(self, fps: float, speed: float = 1.0, start: float = 0.0,
                  num_frames: int | None = None) -> "Motion":
        """Resample to fps, played at `speed`, from `start` seconds, for num_frames (default: to the end).

        Times past the end hold the last frame.
        """
        if fps <= 0 or speed <= 0:
            raise MotionError(f"{self.source} ({self.clip_id}): fps and speed must be > 0")
        if num_frames is None:
            num_frames = max(int(np.floor((self.duration - start) / speed * fps + 1e-9)), 1)
        src = np.clip((start + np.arange(num_frames) * speed / fps) * self.fps, 0, self.num_frames - 1)
        i0 = np.floor(src).astype(int)
        i1 = np.minimum(i0 + 1, self.num_frames - 1)
        w = src - i0
        mats = self.local_matrices()
        rot = slerp_matrices(mats[i0], mats[i1], np.broadcast_to(w[:, None], (num_frames, NUM_JOINTS)))
        root = self.root_translation[i0] * (1 - w[:, None]) + self.root_translation[i1] * w[:, None]
        contacts = np.where(w[:, None] < 0.5, self.contacts[i0], self.contacts[i1])
        return self.replace(fps=float(fps), rotations=matrix_to_axis_angle(rot), root_translation=root,
                            contacts=contacts)


def _mirror_clip_id(clip_id: str) -> str:
    return clip_id[: -len("#mirror")] if clip_id.endswith("#mirror") else clip_id + "#mirror"


def motion_problems(m: Motion) -> list[str]:
    problems = []
    t = m.rotations.shape[0] if m.rotations.ndim == 3 else 0
    if m.rotations.ndim != 3 or m.rotations.shape[1:] != (NUM_JOINTS, 3):
        problems.append(f"rotations must have shape (T, {NUM_JOINTS}, 3), got {m.rotations.shape}")
    if t == 0:
        problems.append("the motion has no frames")
    if m.root_translation.shape != (t, 3):
        problems.append(f"root_translation must have shape ({t}, 3), got {m.root_translation.shape}")
    if m.contacts.shape != (t, 2):
        problems.append(f"contacts must have shape ({t}, 2), got {m.contacts.shape}")
    if not (np.isfinite(m.fps) and m.fps > 0):
        problems.append(f"fps must be a positive number, got {m.fps}")
    for name in ("rotations", "root_translation"):
        bad = ~np.isfinite(getattr(m, name))
        if bad.any():
            frame = int(np.argwhere(bad)[0][0])
            problems.append(f"{name} has NaN or infinite values (first at frame {frame})")
    return problems
