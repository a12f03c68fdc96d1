"""Skeleton-only samples: a batch config's motions, bodies and cameras as 2D/3D joint sequences, without a mesh
or Blender (`synthact skeletons`), for skeleton-based pretraining at thousands of clips per minute.

Each scene is sampled exactly as for rendering; its actors' canonical joints are posed the way RenderWorker
poses them (the body model's skeleton for the actor's shape, the motion retargeted onto it, turned and
placed), and the camera is planned by the same camera_track. The output is the layout of
synthact/clip/skeletons.py, identical to `synthact export skeletons` of rendered clips.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import numpy as np

from synthact.clip.skeletons import canonical_joints, skeleton_annotations, write_skeletons
from synthact.config import AssetRegistry, BatchConfig
from synthact.human.bodies import load_body_model
from synthact.human.motions.library import MotionLibrary
from synthact.human.motions.retarget import retarget
from synthact.human.motions.rotations import rot_z
from synthact.human.motions.skeleton import forward_kinematics
from synthact.scene import SceneSampler
from synthact.spec import SceneSpec

from .camera import camera_track


class SkeletonPoser:
    """SceneSpec -> world joints (T, A, 22, 3) and the camera, with body models and libraries loaded once."""

    def __init__(self, registry: AssetRegistry):
        self.registry = registry
        self._bodies: dict = {}
        self._libraries: dict = {}

    def joints(self, spec: SceneSpec) -> np.ndarray:
        r = spec.render
        out = []
        for a in spec.actors:
            m = a.motion
            if m.library not in self._libraries:
                self._libraries[m.library] = MotionLibrary.open(m.library, self.registry)
            if a.body_model not in self._bodies:
                self._bodies[a.body_model] = load_body_model(a.body_model, self.registry)
            motion = self._libraries[m.library].play(m, r.fps, r.frames)  # as the renderer plays it
            skeleton = self._bodies[a.body_model].skeleton(a.shape)
            _, joints = forward_kinematics(skeleton, *retarget(motion, skeleton))
            turn = rot_z(np.array(math.radians(a.facing_deg)))
            out.append(joints @ turn.T + [a.position_xy[0], a.position_xy[1], 0.0])
        return np.stack(out, 1).astype(np.float32)

    def annotations(self, spec: SceneSpec, label: int) -> tuple[dict, dict]:
        r = spec.render
        joints = self.joints(spec)
        track = camera_track(spec.camera, joints.reshape(r.frames, -1, 3), r.fps, r.width, r.height)
        return skeleton_annotations(spec.scene_id, label, joints, track.K, track.world_to_camera, r.width, r.height)


CHUNK = 25  # scenes per task of a worker process


def sample_skeletons(config: BatchConfig, registry: AssetRegistry, n: int, out: Path, start: int = 0,
                     workers: int = 1, progress: Callable[..., None] | None = None) -> list[Path]:
    """Scenes start .. start+n-1 of the batch as skeleton files in out, posed by `workers` processes; labels
    index the classes the scenes show (sorted)."""
    from concurrent.futures import ProcessPoolExecutor
    sampler = SceneSampler.create(config, registry)  # labels index the classes these scenes show (sorted)
    classes = sorted({spec.actors[0].motion.class_name for spec in sampler.iter_specs(start, n)})
    data = config.model_dump(mode="json", exclude_unset=True)  # not picklable: workers validate it again
    tasks = [(data, registry.directory, first, min(CHUNK, start + n - first), classes)
             for first in range(start, start + n, CHUNK)]
    annotations = []
    if progress:
        progress("skeletons", 0, n)
    with ProcessPoolExecutor(workers) if workers > 1 else _InProcess() as pool:
        for chunk in pool.map(_annotate, tasks):
            annotations += chunk
            if progress:
                progress("skeletons", len(annotations), n)
    return write_skeletons(out, annotations, classes, canonical_joints())


_posers: dict = {}  # one per process and registry: body models load once


def _annotate(task) -> list[tuple[dict, dict, str]]:
    import torch
    data, directory, first, count, classes = task
    if directory not in _posers:
        _posers[directory] = SkeletonPoser(AssetRegistry.load(directory))
    poser = _posers[directory]
    sampler = SceneSampler.create(BatchConfig.model_validate(data), poser.registry)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the body model's small tensors: 6x faster on one thread (BENCHMARKS.md)
    try:
        return [(*poser.annotations(spec, classes.index(spec.actors[0].motion.class_name)), spec.split)
                for spec in sampler.iter_specs(first, count)]
    finally:
        torch.set_num_threads(threads)


class _InProcess:
    """The executor interface for workers=1, without processes."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass

    def map(self, fn, items):
        return map(fn, items)
