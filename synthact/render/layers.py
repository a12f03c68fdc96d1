"""Annotation functions: each modality's layers from the rendered frames and passes, in plain numpy.

ANNOTATIONS maps a modality of the clip registry to the function that fills its files (file name ->
frames, or {array key: array} for npz files).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Callable

import numpy as np

from synthact.clip.modalities import expected_files
from synthact.human.bodies import COCO17_NAMES, PART_NAMES
from synthact.human.motions.skeleton import JOINT_NAMES, PARENTS
from synthact.spec import SceneSpec
from synthact.world.semantics import CLASS_IDS, CLASSES, classify

from . import annotate
from .camera import CameraTrack
from .raster import AnnotationHits


@dataclass
class RenderedFrames:
    """What annotation functions read: the spec, the final RGB, what each pixel centre sees (raster.py), the
    actors' geometry and the camera. Only rgb_layers reads the RGB: the others run before the render ends."""

    spec: SceneSpec
    rgb: np.ndarray | None  # (T, H, W, 3) uint8; None until Blender has rendered the frames
    hits: AnnotationHits  # depth, instance, and the actor face and barycentric point under each pixel
    geometries: list  # per actor: BodyGeometry in world coordinates
    surfaces: list  # per actor: dressing.CombinedSurface, what hits.face indexes
    track: CameraTrack
    static_objects: tuple = (np.zeros(0, np.int32), [])  # each static triangle's object (F,), the objects' names

    @property
    def depth(self) -> np.ndarray:  # (T, H, W) float32, +inf where nothing is hit
        return self.hits.depth

    @property
    def instance(self) -> np.ndarray:  # (T, H, W) uint8, 0 background, k + 1 actor k
        return self.hits.instance

    @cached_property
    def body_part(self) -> np.ndarray:
        """(T, H, W) uint8: the segmentation label of the actor face each pixel sees, 0 elsewhere."""
        out = np.zeros(self.instance.shape, np.uint8)
        for k, surface in enumerate(self.surfaces):
            actor = self.instance == k + 1
            out[actor] = surface.part[self.hits.face[actor]]
        return out

    @property
    def hit(self) -> np.ndarray:
        return np.isfinite(self.depth)


def rgb_layers(f: RenderedFrames) -> dict:
    """The frames, as a video and/or JPEG files by render.rgb_format."""
    return {file.name: f.rgb for file in expected_files(("rgb",), f.spec.render.rgb_format)}


def depth_layers(f: RenderedFrames) -> dict:
    return {"depth.npz": {"depth": f.depth}}


def flow_layers(f: RenderedFrames) -> dict:
    """Exact flow: the point each actor pixel sees is found on its triangle at t +- 1 (the ray cast names the
    triangle and the barycentric coordinates); everything else is static, so its position now (from the
    depth) is its position then."""
    t, h, w = f.depth.shape
    K, w2c, hit = f.track.K, f.track.world_to_camera, f.hit
    forward = np.full((t, h, w, 2), np.nan, np.float32)
    backward = np.full((t, h, w, 2), np.nan, np.float32)
    for i in range(t):
        now = annotate.back_project(f.depth[i].astype(np.float64), K, w2c[i])
        for other_frame, out in ((i + 1, forward), (i - 1, backward)):
            if not 0 <= other_frame < t:
                continue
            other = now.copy()
            for k, surface in enumerate(f.surfaces):
                actor = f.instance[i] == k + 1
                other[actor] = annotate.surface_points(surface.vertices[other_frame], surface.faces,
                                                       f.hits.face[i][actor], f.hits.bary[i][actor])
            out[i] = annotate.flow_to(other, hit[i], K, w2c[other_frame])
    return {"flow_forward.npz": {"flow": forward}, "flow_backward.npz": {"flow": backward}}


def segmentation_layers(f: RenderedFrames) -> dict:
    """Actors (instance, body part), every static object (object: its number in object_names, 1-based) and the
    semantic class of every pixel (world/semantics.py; sky where nothing is hit), and how much of each actor
    is seen (visible_fraction: its pixels over those it would cover with nothing static in front)."""
    owner, names = f.static_objects
    face = f.hits.static_face
    obj = np.zeros(f.instance.shape, np.uint16)
    if face is not None and len(names):
        seen = face >= 0
        obj[seen] = owner[face[seen]] + 1
    classes = [classify(n) for n in names]
    lookup = np.array([CLASS_IDS["unlabelled"]] + [CLASS_IDS[c] for c in classes], np.uint8)
    semantic = lookup[obj]
    semantic[~f.hit] = CLASS_IDS["sky"]
    semantic[f.instance > 0] = CLASS_IDS["person"]
    unoccluded = f.hits.unoccluded
    actors = len(f.geometries)
    visible = np.ones((f.instance.shape[0], actors), np.float32)
    if unoccluded is not None:
        for k in range(actors):
            shown = (f.instance == k + 1).sum(axis=(1, 2))
            visible[:, k] = np.where(unoccluded[:, k] > 0, shown / np.maximum(unoccluded[:, k], 1), 0.0)
    return {"segmentation.npz": {"instance": f.instance, "body_part": f.body_part,
                                 "body_part_names": np.array(PART_NAMES), "semantic": semantic,
                                 "semantic_names": np.array([c.name for c in CLASSES]), "object": obj,
                                 "object_names": np.array(names, dtype=str).reshape(-1),
                                 "object_classes": np.array(classes, dtype=str).reshape(-1),
                                 "visible_fraction": visible}}


def keypoint_layers(f: RenderedFrames) -> dict:
    t, h, w = f.depth.shape
    K, w2c = f.track.K, f.track.world_to_camera
    coco_world = np.stack([g.coco17 for g in f.geometries], axis=1)  # (T, A, 17, 3)
    count = len(f.geometries)
    coco2d = np.zeros((t, count, 17, 3), np.float32)
    bbox = np.full((t, count, 4), np.nan, np.float32)
    amodal = np.full((t, count, 4), np.nan, np.float32)
    for i in range(t):
        for k in range(count):
            coco2d[i, k] = annotate.keypoints_2d(coco_world[i, k], K, w2c[i], f.depth[i], f.instance[i], k + 1)
            bbox[i, k] = annotate.mask_box(f.instance[i] == k + 1)
            amodal[i, k] = annotate.projected_box(f.surfaces[k].vertices[i], K, w2c[i], w, h)
    cam = np.einsum("tij,takj->taki", w2c[:, :3, :3], coco_world) + w2c[:, None, None, :3, 3]
    return {"keypoints.npz": {
        "coco2d": coco2d, "coco3d_world": coco_world.astype(np.float32), "coco3d_camera": cam.astype(np.float32),
        "coco_names": np.array(COCO17_NAMES),
        "joints3d_world": np.stack([g.canonical_joints for g in f.geometries], 1).astype(np.float32),
        "joint_names": np.array(JOINT_NAMES), "joint_parents": np.array(PARENTS),
        "bbox2d": bbox, "bbox2d_amodal": amodal}}


ANNOTATIONS: dict[str, Callable[[RenderedFrames], dict]] = {
    "rgb": rgb_layers, "depth": depth_layers, "flow": flow_layers, "segmentation": segmentation_layers,
    "keypoints": keypoint_layers,
}
