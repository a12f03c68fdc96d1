"""The anny body model (pip `anny`, Apache-2.0 code, CC0 MakeHuman assets) as a body backend.

anny's first load builds a ~790 MB cache; it lives in SYNTHACT_CACHE_DIR/anny (default
~/.cache/synthact/anny) so repeated runs and workers share it. It is built under a file lock (never by two
processes of a machine at once) and marked built after; `synthact render` builds it before workers start.
"""
from __future__ import annotations

import contextlib
import fcntl
import functools
import io
import os
from importlib.metadata import version
from pathlib import Path

import numpy as np

from synthact.spec import BodyShapeSpec

from ..motions.skeleton import JOINT_NAMES, Skeleton, forward_kinematics
from .base import (
    COCO17_NAMES,
    BodyGeometry,
    NativeRig,
    align_to_canonical,
    native_local_rotations,
    part_labels_from_weights,
)

# The anny bone whose head is each canonical joint (the ball of the foot is the middle toe's base).
CANONICAL_TO_ANNY = {
    "pelvis": "root", "left_hip": "upperleg01.L", "right_hip": "upperleg01.R", "spine1": "spine04",
    "left_knee": "lowerleg01.L", "right_knee": "lowerleg01.R", "spine2": "spine02", "left_ankle": "foot.L",
    "right_ankle": "foot.R", "spine3": "spine01", "left_foot": "toe3-1.L", "right_foot": "toe3-1.R",
    "neck": "neck01", "left_collar": "clavicle.L", "right_collar": "clavicle.R", "head": "head",
    "left_shoulder": "upperarm01.L", "right_shoulder": "upperarm01.R", "left_elbow": "lowerarm01.L",
    "right_elbow": "lowerarm01.R", "left_wrist": "wrist.L", "right_wrist": "wrist.R",
}
# Bones that follow a canonical joint's rotation (the toes follow the foot, so toe3-1 is not driven).
_DRIVEN = {k: v for k, v in CANONICAL_TO_ANNY.items() if k not in ("left_foot", "right_foot")}


def cache_dir() -> Path:
    root = Path(os.environ.get("SYNTHACT_CACHE_DIR", Path.home() / ".cache" / "synthact"))
    return root / "anny"


def _built_marker() -> Path:
    return cache_dir() / f"built-anny-{version('anny')}"


@contextlib.contextmanager
def _cache_built():
    """Around anny's instantiation: when this machine's cache is not built yet, hold the machine-wide lock while
    anny builds it (a second process waits, then loads it), and mark it built."""
    if _built_marker().exists():
        yield
        return
    cache_dir().mkdir(parents=True, exist_ok=True)
    with open(cache_dir() / "build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        yield
        _built_marker().touch()


def _load_blend_shape(filename, vertices_count, world_transformation, dtype):
    """anny.models.full_model.load_blend_shape, vectorised. anny parses each of its 1,136 gzipped text
    targets line by line with a tensor per line: 77 s of its 92 s cache build here; numpy's parser reads the
    same numbers (correctly rounded, as Python's float()) in a fraction of that, so the cache comes out byte
    for byte the same (tests/test_bodies.py compares the two loaders)."""
    import gzip
    import warnings

    import torch
    with gzip.open(filename, "rb") as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # some targets are empty files
        rows = np.loadtxt(archive, dtype=np.float64, ndmin=2)
    blend_shape = torch.zeros((vertices_count, 3), dtype=dtype)
    if rows.size:
        if rows.shape[1] != 4:
            raise ValueError(f"{filename}: a blend-shape target has 4 numbers per line, not {rows.shape[1]}")
        ids = rows[:, 0].astype(np.int64)
        if ids.min() < 0 or ids.max() >= vertices_count or not np.array_equal(ids, rows[:, 0]):
            raise ValueError(f"{filename}: vertex ids must be integers in [0, {vertices_count})")
        _, last = np.unique(ids[::-1], return_index=True)  # a repeated id: its last line wins, as in anny
        keep = len(ids) - 1 - last
        blend_shape[torch.as_tensor(ids[keep])] = torch.as_tensor(rows[keep, 1:], dtype=dtype)
    # Blend shapes were expressed in decimeters
    return world_transformation.apply(blend_shape)


def _anny():
    os.environ.setdefault("ANNY_CACHE_DIR", str(cache_dir()))
    import torch
    # Plain torch skinning: warp's kernels are ~2x faster here but print to the terminal from C and
    # compile into a cache of their own; 64 frames take ~0.1 s either way.
    with contextlib.redirect_stdout(io.StringIO()), _cache_built():
        import anny
        from anny.models import full_model
        original, full_model.load_blend_shape = full_model.load_blend_shape, _load_blend_shape
        try:
            return anny, anny.Anny(skinning_method="lbs").to(torch.float32)
        finally:
            full_model.load_blend_shape = original


def prepare_cache(announce=print) -> bool:
    """Build this machine's cache unless it is built (True: this call built it, or waited for another
    process that did); announce(line) says so first."""
    if _built_marker().exists():
        return False
    announce(f"anny body model: building its cache in {cache_dir()} (once per machine: ~25 s, ~790 MB)")
    _anny()
    return True


@functools.cache
def _load_model():
    anny, model = _anny()
    with contextlib.redirect_stdout(io.StringIO()):
        regressor = anny.KeypointsRegressor.coco(model, labels=list(COCO17_NAMES))
    return model, regressor


class AnnyBody:
    name = "anny"

    def __init__(self):
        import torch
        self._torch = torch
        self.model, self.keypoints = _load_model()
        m = self.model
        self.bone_names = tuple(m.bone_labels)
        self.parents = np.asarray(m.bone_parents if not hasattr(m.bone_parents, "numpy") else m.bone_parents.numpy(),
                                  dtype=int)
        follows = np.full(len(self.bone_names), -1)
        for joint, bone in _DRIVEN.items():
            follows[self.bone_names.index(bone)] = JOINT_NAMES.index(joint)
        self._follows = follows
        self.faces = m.faces.cpu().numpy().astype(np.int32)
        self.uv = m.texture_coordinates[m.face_texture_coordinate_indices].cpu().numpy().astype(np.float32)
        dominant = m.vertex_bone_indices.gather(1, m.vertex_bone_weights.argmax(1, keepdim=True))[:, 0]
        self.part_labels = part_labels_from_weights(dominant.cpu().numpy(), follows, self.parents)
        self._joint_bones = [self.bone_names.index(CANONICAL_TO_ANNY[n]) for n in JOINT_NAMES]

    @staticmethod
    def phenotypes(shape: BodyShapeSpec) -> dict[str, float]:
        return {k: float(getattr(shape, k)) for k in ("gender", "age", "muscle", "weight", "height", "proportions")}

    def _forward(self, shape: BodyShapeSpec, pose: np.ndarray) -> dict:
        torch = self._torch
        with torch.no_grad(), contextlib.redirect_stdout(io.StringIO()):
            return self.model(pose_parameters=torch.as_tensor(pose, dtype=torch.float32),
                              phenotype_kwargs=self.phenotypes(shape))

    @functools.lru_cache(maxsize=64)
    def _rest(self, shape: BodyShapeSpec) -> tuple[NativeRig, Skeleton]:
        pose = np.tile(np.eye(4), (1, len(self.bone_names), 1, 1))
        out = self._forward(shape, pose)
        heads = out["bone_poses"][0, :, :3, 3].cpu().numpy().astype(np.float64)
        sole = float(out["vertices"][0, :, 2].min())
        joints = heads[self._joint_bones] - [0.0, 0.0, sole]  # standing on z = 0, like every skeleton
        alignment, skeleton = align_to_canonical(joints)
        ankle = (joints[JOINT_NAMES.index("left_ankle"), 2] + joints[JOINT_NAMES.index("right_ankle"), 2]) / 2
        skeleton = Skeleton(skeleton.offsets, ankle_height=float(ankle))
        return NativeRig(self.parents, self._follows, alignment), skeleton

    def skeleton(self, shape: BodyShapeSpec) -> Skeleton:
        return self._rest(shape)[1]

    def pose(self, shape: BodyShapeSpec, local: np.ndarray, root: np.ndarray) -> BodyGeometry:
        rig, skeleton = self._rest(shape)
        glob, canonical_joints = forward_kinematics(skeleton, local, root)
        native = native_local_rotations(glob, rig)
        t = len(local)
        pose = np.tile(np.eye(4), (t, len(self.bone_names), 1, 1))
        pose[:, :, :3, :3] = native
        pose[:, 0, :3, 3] = root
        out = self._forward(shape, pose)
        coco = self.keypoints(out)
        return BodyGeometry(
            vertices=out["vertices"].cpu().numpy().astype(np.float32),
            faces=self.faces, uv=self.uv, part_labels=self.part_labels,
            joints=out["bone_poses"][:, :, :3, 3].cpu().numpy().astype(np.float32),
            joint_names=self.bone_names, joint_parents=self.parents,
            canonical_joints=canonical_joints.astype(np.float32),
            coco17=coco.cpu().numpy().astype(np.float32), skeleton=skeleton,
        )
