"""SMPL-X (and SMPL / SMPL+H) through the pip `smplx` package, for users with licensed model files.

Declare the files in assets_manifests/body_models.yaml (pack `smplx`, `path` = the model file or its
folder, options: model_type, gender). Shape: anny-style phenotypes are mapped onto the first betas
(height, weight, muscle), an approximation; SMPL's own frame (Y up, facing +Z) is converted to ours.
"""
from __future__ import annotations

import contextlib
import functools
import io
from pathlib import Path

import numpy as np

from synthact.config.assets import ResolvedPack
from synthact.spec import BodyShapeSpec

from ..motions.rotations import matrix_to_axis_angle
from ..motions.skeleton import JOINT_NAMES, NUM_JOINTS, SMPL_TO_CANONICAL, Skeleton, forward_kinematics
from .base import (
    COCO17_NAMES,
    BodyGeometry,
    NativeRig,
    align_to_canonical,
    native_local_rotations,
    part_labels_from_weights,
)

_FACE_POINTS = {"nose": "nose", "left_eye": "leye", "right_eye": "reye", "left_ear": "lear", "right_ear": "rear"}
_BODY_POINTS = {"left_shoulder": 16, "right_shoulder": 17, "left_elbow": 18, "right_elbow": 19, "left_wrist": 20,
                "right_wrist": 21, "left_hip": 1, "right_hip": 2, "left_knee": 4, "right_knee": 5, "left_ankle": 7,
                "right_ankle": 8}


class SmplxBody:
    name = "smplx"

    def __init__(self, model_file: str | Path, model_type: str = "smplx", gender: str = "neutral",
                 num_betas: int = 10):
        import smplx
        import torch
        from smplx.vertex_ids import vertex_ids

        self._torch = torch
        path = Path(model_file)
        if not path.exists():
            raise FileNotFoundError(f"SMPL-X model file not found: {path}")
        with contextlib.redirect_stdout(io.StringIO()):
            self.model = smplx.create(str(path), model_type=model_type, gender=gender, num_betas=num_betas,
                                      use_pca=False, ext=path.suffix.lstrip(".") or "npz")
        self.model_type = model_type
        self.num_betas = num_betas
        parents = self.model.parents.cpu().numpy().astype(int)
        parents[0] = -1
        self.parents = parents
        n = len(parents)
        self.joint_names = tuple(JOINT_NAMES) + tuple(f"joint{j}" for j in range(NUM_JOINTS, n))
        self._follows = np.array([j if j < NUM_JOINTS else -1 for j in range(n)])
        self.faces = np.asarray(self.model.faces, dtype=np.int32)
        weights = self.model.lbs_weights.cpu().numpy()
        self.part_labels = part_labels_from_weights(weights.argmax(1), self._follows, parents)
        ids = vertex_ids["smplx" if model_type == "smplx" else "smplh"]
        self._coco_vertex = {k: int(ids[v]) for k, v in _FACE_POINTS.items()}
        self.uv = _planar_uv(self.faces, self._rest_vertices())

    @classmethod
    def from_pack(cls, pack: ResolvedPack, **options) -> "SmplxBody":
        location = pack.location()
        if location is None:
            raise FileNotFoundError(f"body_model pack {pack.pack.name!r} in {pack.manifest} has no path")
        opts = {**pack.pack.options, **options}
        if location.is_dir():
            gender = opts.get("gender", "neutral").upper()
            location = location / f"{opts.get('model_type', 'smplx').upper()}_{gender}.npz"
        return cls(location, **opts)

    def betas(self, shape: BodyShapeSpec) -> np.ndarray:
        b = np.zeros(self.num_betas)
        b[:3] = [(shape.height - 0.5) * 4.0, (shape.weight - 0.5) * 4.0, (shape.muscle - 0.5) * 2.0][: self.num_betas]
        return b

    def _run(self, shape: BodyShapeSpec, local_native: np.ndarray):
        torch = self._torch
        t = len(local_native)
        rv = torch.as_tensor(matrix_to_axis_angle(local_native), dtype=torch.float32)
        kwargs = dict(betas=torch.as_tensor(np.tile(self.betas(shape), (t, 1)), dtype=torch.float32),
                      global_orient=rv[:, 0], body_pose=rv[:, 1:NUM_JOINTS].reshape(t, -1))
        zeros = lambda k: torch.zeros(t, k)  # noqa: E731  hands open, face neutral
        if self.model_type in ("smplh", "smplx"):
            kwargs.update(left_hand_pose=zeros(45), right_hand_pose=zeros(45))
        if self.model_type == "smplx":
            kwargs.update(jaw_pose=zeros(3), leye_pose=zeros(3), reye_pose=zeros(3),
                          expression=zeros(self.model.num_expression_coeffs))
        with torch.no_grad(), contextlib.redirect_stdout(io.StringIO()):
            out = self.model(**kwargs, return_verts=True)
        return out.vertices.cpu().numpy().astype(np.float64), out.joints.cpu().numpy()[:, : len(self.parents)]

    def _rest_vertices(self) -> np.ndarray:
        v, _ = self._run(BodyShapeSpec(0.5, 0.5, 0.5, 0.5, 0.5, 0.5), np.tile(np.eye(3), (1, len(self.parents), 1, 1)))
        return v[0] @ SMPL_TO_CANONICAL.T

    @functools.lru_cache(maxsize=64)
    def _rest(self, shape: BodyShapeSpec) -> tuple[NativeRig, Skeleton, np.ndarray]:
        verts, joints = self._run(shape, np.tile(np.eye(3), (1, len(self.parents), 1, 1)))
        pelvis_native = joints[0, 0].copy()
        verts = verts[0] @ SMPL_TO_CANONICAL.T
        joints = joints[0] @ SMPL_TO_CANONICAL.T
        sole = verts[:, 2].min()
        body = joints[:NUM_JOINTS] - [0, 0, sole]
        alignment, skeleton = align_to_canonical(body)
        ankles = (body[JOINT_NAMES.index("left_ankle"), 2] + body[JOINT_NAMES.index("right_ankle"), 2]) / 2
        skeleton = Skeleton(skeleton.offsets, ankle_height=float(ankles))
        return NativeRig(self.parents, self._follows, alignment), skeleton, pelvis_native

    def skeleton(self, shape: BodyShapeSpec) -> Skeleton:
        return self._rest(shape)[1]

    def pose(self, shape: BodyShapeSpec, local: np.ndarray, root: np.ndarray) -> BodyGeometry:
        rig, skeleton, pelvis_native = self._rest(shape)
        glob, canonical_joints = forward_kinematics(skeleton, local, root)
        c = SMPL_TO_CANONICAL
        native = c.T @ native_local_rotations(glob, rig) @ c  # conjugate into SMPL's frame
        verts, joints = self._run(shape, native)
        to_world = lambda p: (p - pelvis_native) @ c.T + root[:, None, :]  # noqa: E731
        verts, joints = to_world(verts), to_world(joints)
        coco = np.empty((len(local), len(COCO17_NAMES), 3))
        for k, name in enumerate(COCO17_NAMES):
            from_vertex = name in self._coco_vertex
            coco[:, k] = verts[:, self._coco_vertex[name]] if from_vertex else joints[:, _BODY_POINTS[name]]
        return BodyGeometry(
            vertices=verts.astype(np.float32), faces=self.faces, uv=self.uv, part_labels=self.part_labels,
            joints=joints.astype(np.float32), joint_names=self.joint_names, joint_parents=self.parents,
            canonical_joints=canonical_joints.astype(np.float32), coco17=coco.astype(np.float32), skeleton=skeleton,
        )


def _planar_uv(faces: np.ndarray, vertices: np.ndarray) -> np.ndarray:
    """SMPL-X files carry no UVs: a front projection (x, z) normalised to [0, 1] per face corner."""
    xz = vertices[:, [0, 2]]
    lo, hi = xz.min(0), xz.max(0)
    uv = (xz - lo) / np.maximum(hi - lo, 1e-9)
    return uv[faces].astype(np.float32)
