"""Content checks of a clip, one function per modality (the modality registry names them).

A check reads what it needs through the ClipReader, records measurements in `metrics` and returns
findings: (reason code, measured value, threshold, detail). Thresholds suit 224x224 single-actor clips
and come from a YAML file for other data (`synthact pack --qc`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from .reader import ClipReader


class QCThresholds(BaseModel):
    """Thresholds for rejection; defaults suit 224x224 single-actor clips."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    dark_luma: float = Field(0.04, ge=0, le=1)  # mean luma below this: a black frame
    bright_luma: float = Field(0.96, ge=0, le=1)  # mean luma above this: an overexposed frame
    max_bad_exposure_fraction: float = Field(0.1, ge=0, le=1)
    min_visible_fraction: float = Field(0.005, ge=0, le=1)  # mean share of pixels showing the actor
    # the least-seen actor's median share of itself not hidden by furniture or props (0: not checked)
    min_actor_unoccluded_fraction: float = Field(0.0, ge=0, le=1)
    min_bbox_height_fraction: float = Field(0.08, ge=0, le=1)  # median visible box height / image height
    min_visible_keypoints_fraction: float = Field(0.35, ge=0, le=1)  # share of keypoint-frames with v = 2
    near_depth_m: float = Field(0.1, gt=0)
    max_near_fraction: float = Field(0.2, ge=0, le=1)  # share of pixels closer than near_depth_m
    min_joint_height_m: float = Field(-0.05)  # lowest allowed joint height
    # a seated actor's buttocks this far above (floating) or into its seat: a recorded sit on a seat of another
    # height (a procedural sit is made for its seat: 0)
    max_seat_gap_m: float = Field(0.1, ge=0)


@dataclass(frozen=True)
class Finding:
    code: str
    value: Any
    threshold: Any = None
    detail: str = ""


Check = Callable[["ClipReader", QCThresholds, dict], list[Finding]]


def check_rgb(clip: "ClipReader", t: QCThresholds, metrics: dict) -> list[Finding]:
    rgb = clip.rgb()
    if not len(rgb):
        return []
    luma = (rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)).mean(axis=(1, 2)) / 255
    metrics["mean_luma"] = float(luma.mean())
    dark, bright = float(np.mean(luma < t.dark_luma)), float(np.mean(luma > t.bright_luma))
    found = []
    if dark > t.max_bad_exposure_fraction:
        found.append(Finding("black_frames", dark, t.max_bad_exposure_fraction))
    if bright > t.max_bad_exposure_fraction:
        found.append(Finding("overexposed_frames", bright, t.max_bad_exposure_fraction))
    return found


def check_depth(clip: "ClipReader", t: QCThresholds, metrics: dict) -> list[Finding]:
    depth = clip.depth()
    found = []
    bad = int(np.isnan(depth).sum() + np.isneginf(depth).sum())  # +inf is the sky
    if bad:
        found.append(Finding("nan_in_arrays", bad, 0, "depth"))
    near = float(np.mean(depth < t.near_depth_m))
    metrics["near_fraction"] = near
    if near > t.max_near_fraction:
        found.append(Finding("camera_inside_geometry", near, t.max_near_fraction))
    return found


def check_flow(clip: "ClipReader", t: QCThresholds, metrics: dict) -> list[Finding]:
    """Flow must be finite wherever a surface is seen (the last frame has no forward flow, the first no
    backward flow); needs depth to know where the surfaces are."""
    if not clip.has("depth"):
        return []
    depth = clip.depth()
    found = []
    for direction, inner in (("forward", slice(0, -1)), ("backward", slice(1, None))):
        flow = clip.flow(direction)
        bad = int((~np.isfinite(flow[inner]).all(-1) & np.isfinite(depth[inner])).sum())
        if bad:
            found.append(Finding("nan_in_arrays", bad, 0, f"flow_{direction}"))
    return found


def check_segmentation(clip: "ClipReader", t: QCThresholds, metrics: dict) -> list[Finding]:
    instance = clip.array("segmentation.npz", "instance")
    found = []
    share = float(np.mean(instance > 0))
    metrics["visible_fraction"] = share
    if share < t.min_visible_fraction:
        found.append(Finding("actor_not_visible", share, t.min_visible_fraction))
    heights = []
    for frame in instance:
        ys = np.flatnonzero((frame > 0).any(axis=1))
        heights.append((ys.max() - ys.min() + 1) / instance.shape[1] if len(ys) else 0.0)
    box = float(np.median(heights))
    metrics["bbox_height_fraction"] = box
    if box < t.min_bbox_height_fraction:
        found.append(Finding("bbox_too_small", box, t.min_bbox_height_fraction))
    if "visible_fraction" in clip.arrays("segmentation.npz"):  # clips written before it was recorded have none
        visible = clip.array("segmentation.npz", "visible_fraction")
        least = float(np.median(visible, axis=0).min()) if visible.size else 1.0
        metrics["actor_unoccluded_fraction"] = least
        if least < t.min_actor_unoccluded_fraction:
            found.append(Finding("actor_occluded", least, t.min_actor_unoccluded_fraction))
    return found


def check_keypoints(clip: "ClipReader", t: QCThresholds, metrics: dict) -> list[Finding]:
    kp = clip.array("keypoints.npz", "coco2d")
    found = []
    if not np.isfinite(kp).all():
        found.append(Finding("nan_in_arrays", int((~np.isfinite(kp)).sum()), 0, "keypoints"))
    visible = float(np.mean(kp[..., 2] == 2))
    metrics["visible_keypoints_fraction"] = visible
    if visible < t.min_visible_keypoints_fraction:
        found.append(Finding("keypoints_not_visible", visible, t.min_visible_keypoints_fraction))
    joints = clip.array("keypoints.npz", "joints3d_world")
    if joints.size:
        lowest = float(joints[..., 2].min())
        metrics["lowest_joint_m"] = lowest
        if lowest < t.min_joint_height_m:
            found.append(Finding("body_below_ground", lowest, t.min_joint_height_m))
    from .reader import ClipError
    try:
        placement = clip.stats.get("placement", {})
    except ClipError:  # a clip read from a shard carries no stats
        placement = {}
    gaps = [g for g in placement.get("seat_gap_m", []) if g is not None]
    if gaps:
        worst = max(gaps, key=abs)
        metrics["seat_gap_m"] = float(worst)
        if abs(worst) > t.max_seat_gap_m:
            found.append(Finding("seat_mismatch", worst, t.max_seat_gap_m))
    return found
