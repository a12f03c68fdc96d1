"""A structurally valid SMPL-X model file, made up for tests (the licensed one cannot ship).

Test double: real array names, shapes and joint tree of SMPL-X, with geometry that is a cloud of
points around each joint of the reference skeleton (so keypoint and joint checks are meaningful).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from synthact.human.motions.skeleton import SMPL_TO_CANONICAL, Skeleton

SMPLX_PARENTS = [-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 15, 15, 15,
                 20, 25, 26, 20, 28, 29, 20, 31, 32, 20, 34, 35, 20, 37, 38,
                 21, 40, 41, 21, 43, 44, 21, 46, 47, 21, 49, 50, 21, 52, 53]
V, F = 10475, 20908


def write_fake_smplx(path: Path, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    rest = Skeleton.reference().rest_positions()
    joints = np.zeros((55, 3))
    joints[:22] = rest
    for j in range(22, 55):  # jaw, eyes and fingers sit a little beyond their parent
        p = SMPLX_PARENTS[j]
        joints[j] = joints[p] + rng.normal(0, 0.02, 3)
    joints_smpl = joints @ SMPL_TO_CANONICAL  # canonical -> SMPL frame (inverse rotation)
    owner = np.arange(V) % 55
    verts = joints_smpl[owner] + rng.normal(0, 0.03, (V, 3))
    regressor = np.zeros((55, V))
    regressor[owner, np.arange(V)] = 1.0
    regressor /= regressor.sum(1, keepdims=True)
    joints_smpl = regressor @ verts
    weights = np.zeros((V, 55))
    weights[np.arange(V), owner] = 1.0
    faces = np.stack([np.arange(F) % V, (np.arange(F) + 55) % V, (np.arange(F) + 110) % V], 1)
    shapedirs = np.zeros((V, 3, 400), np.float32)
    shapedirs[:, :, :10] = rng.normal(0, 0.002, (V, 3, 10))
    kintree = np.array([[4294967295] + SMPLX_PARENTS[1:], list(range(55))], dtype=np.int64)
    np.savez_compressed(
        path, v_template=verts.astype(np.float32), f=faces.astype(np.int32), shapedirs=shapedirs,
        posedirs=np.zeros((V, 3, 486), np.float32), J_regressor=regressor.astype(np.float32),
        kintree_table=kintree, weights=weights.astype(np.float32),
        hands_componentsl=np.eye(45, dtype=np.float32), hands_componentsr=np.eye(45, dtype=np.float32),
        hands_meanl=np.zeros(45, np.float32), hands_meanr=np.zeros(45, np.float32),
        lmk_faces_idx=np.arange(51, dtype=np.int64), lmk_bary_coords=np.full((51, 3), 1 / 3, np.float32),
        dynamic_lmk_faces_idx=np.zeros((79, 17), np.int64),
        dynamic_lmk_bary_coords=np.full((79, 17, 3), 1 / 3, np.float32),
    )
    return path
