"""Quality control of clip directories: every rejection has a reason code and the value it measured.

Checks run cheapest first; integrity failures (files missing, checksums, frame counts, undecodable
video) stop a clip's checks, the content checks that follow are all reported.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from render_workers.clipdir import sha256_file

REASONS = {
    "missing_manifest": "the clip has no manifest.json (it never finished)",
    "missing_file": "a file listed in the manifest is absent",
    "checksum_mismatch": "a file's sha256 differs from the manifest",
    "frame_count_mismatch": "modalities disagree on the number of frames",
    "undecodable_video": "rgb.mp4 cannot be decoded to the expected frames",
    "nan_in_arrays": "NaN or infinite values where there must be none",
    "black_frames": "too many frames are (nearly) black",
    "overexposed_frames": "too many frames are (nearly) white",
    "actor_not_visible": "the actor covers too little of the image",
    "bbox_too_small": "the actor's box is too small",
    "keypoints_not_visible": "too few keypoints are visible",
    "camera_inside_geometry": "a large part of the view is closer than a few centimetres",
    "body_below_ground": "a joint goes below the ground",
}


class QCThresholds(BaseModel):
    """Thresholds for rejection; defaults suit 224x224 single-actor clips."""

    model_config = ConfigDict(extra="forbid")
    dark_luma: float = Field(0.04, ge=0, le=1)  # mean luma below this: a black frame
    bright_luma: float = Field(0.96, ge=0, le=1)  # mean luma above this: an overexposed frame
    max_bad_exposure_fraction: float = Field(0.1, ge=0, le=1)
    min_visible_fraction: float = Field(0.005, ge=0, le=1)  # mean share of pixels showing the actor
    min_bbox_height_fraction: float = Field(0.08, ge=0, le=1)  # median visible box height / image height
    min_visible_keypoints_fraction: float = Field(0.35, ge=0, le=1)  # share of keypoint-frames with v = 2
    near_depth_m: float = Field(0.1, gt=0)
    max_near_fraction: float = Field(0.2, ge=0, le=1)  # share of pixels closer than near_depth_m
    min_joint_height_m: float = Field(-0.05)  # lowest allowed joint height


@dataclass
class QCResult:
    scene_id: str
    path: str
    accepted: bool
    reasons: list[dict] = field(default_factory=list)  # {"code", "value", "threshold", "detail"}
    metrics: dict = field(default_factory=dict)

    def reject(self, code: str, value, threshold=None, detail: str = "") -> None:
        self.accepted = False
        self.reasons.append({"code": code, "value": value, "threshold": threshold, "detail": detail})

    def as_dict(self) -> dict:
        return asdict(self)


def decode_video_frames(path: Path, width: int, height: int) -> np.ndarray:
    """All frames of the clip's RGB (mp4 decoded by ffmpeg, or the jpg folder)."""
    from render_workers.preview import read_rgb
    return read_rgb(path.parent)


def check_clip(clip: Path, thresholds: QCThresholds | None = None) -> QCResult:
    t = thresholds or QCThresholds()
    clip = Path(clip)
    result = QCResult(clip.name, str(clip), True)
    manifest_path = clip / "manifest.json"
    if not manifest_path.is_file():
        result.reject("missing_manifest", None)
        return result
    manifest = json.loads(manifest_path.read_text())
    for name, entry in manifest.get("files", {}).items():
        path = clip / name
        if not path.is_file():
            result.reject("missing_file", name)
        elif path.stat().st_size != entry["bytes"] or sha256_file(path) != entry["sha256"]:
            result.reject("checksum_mismatch", name)
    if not result.accepted:
        return result
    spec = json.loads((clip / "spec.json").read_text())
    frames = spec["render"]["frames"]
    camera = json.loads((clip / "camera.json").read_text())
    w, h = camera["width"], camera["height"]
    arrays = {}
    for file, key in (("depth.npz", "depth"), ("flow_forward.npz", "flow"), ("flow_backward.npz", "flow"),
                      ("segmentation.npz", "instance"), ("segmentation.npz", "body_part"),
                      ("keypoints.npz", "coco2d"), ("keypoints.npz", "joints3d_world")):
        if (clip / file).is_file():
            arrays[f"{file}:{key}"] = np.load(clip / file)[key]
    counts = {name: len(a) for name, a in arrays.items()}
    counts["camera.json:world_to_camera"] = len(camera["world_to_camera"])
    rgb = None
    if (clip / "rgb.mp4").is_file() or (clip / "rgb").is_dir():
        try:
            rgb = decode_video_frames(clip / "rgb.mp4", w, h)
        except Exception as exc:  # noqa: BLE001 - any decoder failure means the video is unusable
            result.reject("undecodable_video", str(exc)[:200])
            return result
        if len(rgb) != frames:
            result.reject("undecodable_video", len(rgb), frames, "decoded frames")
            return result
    wrong = {name: n for name, n in counts.items() if n != frames}
    if wrong:
        result.reject("frame_count_mismatch", wrong, frames)
        return result
    _content_checks(result, t, arrays, rgb, w, h)
    return result


def _content_checks(result: QCResult, t: QCThresholds, arrays: dict, rgb, w: int, h: int) -> None:
    m = result.metrics
    depth = arrays.get("depth.npz:depth")
    if depth is not None:
        if np.isnan(depth).any() or np.isneginf(depth).any():
            result.reject("nan_in_arrays", int(np.isnan(depth).sum()), 0, "depth")
        near = float(np.mean(depth < t.near_depth_m))
        m["near_fraction"] = near
        if near > t.max_near_fraction:
            result.reject("camera_inside_geometry", near, t.max_near_fraction)
    for key in ("flow_forward.npz:flow", "flow_backward.npz:flow"):
        flow = arrays.get(key)
        if flow is not None and depth is not None:
            inner = slice(0, -1) if key.startswith("flow_forward") else slice(1, None)
            surface = np.isfinite(depth[inner])
            bad = int((~np.isfinite(flow[inner]).all(-1) & surface).sum())
            if bad:
                result.reject("nan_in_arrays", bad, 0, key.split(".")[0])
    kp = arrays.get("keypoints.npz:coco2d")
    if kp is not None:
        if not np.isfinite(kp).all():
            result.reject("nan_in_arrays", int((~np.isfinite(kp)).sum()), 0, "keypoints")
        visible = float(np.mean(kp[..., 2] == 2))
        m["visible_keypoints_fraction"] = visible
        if visible < t.min_visible_keypoints_fraction:
            result.reject("keypoints_not_visible", visible, t.min_visible_keypoints_fraction)
    joints = arrays.get("keypoints.npz:joints3d_world")
    if joints is not None and joints.size:
        lowest = float(joints[..., 2].min())
        m["lowest_joint_m"] = lowest
        if lowest < t.min_joint_height_m:
            result.reject("body_below_ground", lowest, t.min_joint_height_m)
    instance = arrays.get("segmentation.npz:instance")
    if instance is not None:
        share = float(np.mean(instance > 0))
        m["visible_fraction"] = share
        if share < t.min_visible_fraction:
            result.reject("actor_not_visible", share, t.min_visible_fraction)
        heights = []
        for frame in instance:
            ys = np.flatnonzero((frame > 0).any(axis=1))
            heights.append((ys.max() - ys.min() + 1) / h if len(ys) else 0.0)
        box = float(np.median(heights))
        m["bbox_height_fraction"] = box
        if box < t.min_bbox_height_fraction:
            result.reject("bbox_too_small", box, t.min_bbox_height_fraction)
    if rgb is not None and len(rgb):
        luma = (rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)).mean(axis=(1, 2)) / 255
        m["mean_luma"] = float(luma.mean())
        dark, bright = float(np.mean(luma < t.dark_luma)), float(np.mean(luma > t.bright_luma))
        if dark > t.max_bad_exposure_fraction:
            result.reject("black_frames", dark, t.max_bad_exposure_fraction)
        if bright > t.max_bad_exposure_fraction:
            result.reject("overexposed_frames", bright, t.max_bad_exposure_fraction)
