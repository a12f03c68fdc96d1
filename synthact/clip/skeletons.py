"""Skeleton sequences for skeleton-based action recognition, in the layout of mmaction2's PoseDataset (the
NTU RGB+D 60/120 annotation files of PYSKL and mmaction2): one pickle per kind holding

    {"split": {"train": [frame_dir, ...], "val": [...], "test": [...]},
     "annotations": [{"frame_dir": scene_id, "label": class id, "total_frames": T, "img_shape": (H, W),
                      "original_shape": (H, W), "keypoint": float32 (M, T, V, C), "keypoint_score": ...}]}

with M actors and V joints: COCO-17 (`layout: coco` in joints.json: the keypoints of rendered clips, in the
order and with the edges of mmaction2's `coco` graph) or SynthAct's 22 canonical joints (`layout:
synthact22`, with their parents: what skeleton-only sampling has, as COCO's face points need the mesh).
No NTU-25 layout is written: its hand tips and thumbs have no counterpart here. skeletons_2d.pkl: C = 2 pixel
coordinates and `keypoint_score` (M, T, V) = 1 where the joint projects into the image in front of the camera,
else 0 (no occlusion reasoning, so a rendered clip and a skeleton-only sample score alike).
skeletons_3d.pkl: C = 3, metres in the OpenCV camera frame (x right, y down, z forward), like NTU's Kinect
coordinates. Written both from rendered datasets (`synthact export skeletons`) and without rendering
(`synthact skeletons`).
"""
from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np

SPLITS = ("train", "val", "test")


def skeleton_annotations(scene_id: str, label: int, joints_world: np.ndarray, K: np.ndarray,
                         world_to_camera: np.ndarray, width: int, height: int) -> tuple[dict, dict]:
    """(2D, 3D) annotations of one clip from its world joints (T, A, V, 3) and camera (K, (T, 4, 4))."""
    rotation, translation = world_to_camera[:, None, None, :3, :3], world_to_camera[:, None, None, :3, 3]
    camera = (rotation @ joints_world[..., None])[..., 0] + translation  # (T, A, V, 3)
    z = camera[..., 2:3]
    with np.errstate(divide="ignore", invalid="ignore"):
        pixels = (camera @ K.T)[..., :2] / z
    seen = (z[..., 0] > 1e-6) & (pixels >= -0.5).all(-1) & (pixels[..., 0] < width - 0.5) & \
        (pixels[..., 1] < height - 0.5)
    pixels = np.where(z > 1e-6, pixels, 0.0)
    common = {"frame_dir": scene_id, "label": int(label), "total_frames": int(len(joints_world))}
    shape = {"img_shape": (int(height), int(width)), "original_shape": (int(height), int(width))}
    ann2d = {**common, **shape, "keypoint": pixels.transpose(1, 0, 2, 3).astype(np.float32),
             "keypoint_score": seen.transpose(1, 0, 2).astype(np.float32)}
    ann3d = {**common, "keypoint": camera.transpose(1, 0, 2, 3).astype(np.float32)}
    return ann2d, ann3d


def canonical_joints() -> dict:
    from synthact.human.motions.skeleton import JOINT_NAMES, PARENTS
    return {"layout": "synthact22", "names": list(JOINT_NAMES), "parents": [int(p) for p in PARENTS]}


def coco_joints() -> dict:
    from synthact.human.bodies import COCO17_NAMES, COCO17_SKELETON
    return {"layout": "coco", "names": list(COCO17_NAMES), "edges": [list(edge) for edge in COCO17_SKELETON]}


def write_skeletons(out: Path, annotations: list[tuple[dict, dict, str]], classes: list[str],
                    joints: dict) -> list[Path]:
    """skeletons_2d.pkl, skeletons_3d.pkl, classes.txt (line i: the name of label i) and joints.json (`joints`:
    layout, names, and parents or edges) in out; annotations: (2D, 3D, split) per clip."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    split = {name: [a2["frame_dir"] for a2, _, s in annotations if s == name] for name in SPLITS}
    written = []
    for kind, position in (("2d", 0), ("3d", 1)):
        path = out / f"skeletons_{kind}.pkl"
        with open(path, "wb") as f:
            pickle.dump({"split": split, "annotations": [a[position] for a in annotations]}, f, protocol=4)
        written.append(path)
    (out / "classes.txt").write_text("".join(f"{name}\n" for name in classes))
    (out / "joints.json").write_text(json.dumps(joints, indent=1) + "\n")
    return written + [out / "classes.txt", out / "joints.json"]
