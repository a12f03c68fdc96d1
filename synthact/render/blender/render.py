"""One scene in Blender: build it from the spec and render the RGB frames and the annotation passes."""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

import bpy
import cv2
import numpy as np

from synthact.spec import SceneSpec

from . import actors as blender_actors
from . import engine, environment
from .camera import camera
from .passes import read_exr_passes
from .weather import weather_of


def render_scene(spec: SceneSpec, meshes: list[blender_actors.ActorMesh], track, hdri: Path | None,
                 background: Path | None, device: str, threads: int, timings) -> tuple[np.ndarray, list[dict]]:
    """(T, H, W, 3) uint8 RGB and, per frame, the annotation passes (depth, position, object index, face
    number and barycentric coordinates on the actors, body part). timings.add(stage, seconds) receives the
    stage times."""
    t0 = time.perf_counter()
    r, env = spec.render, spec.environment
    workbench = r.engine == "workbench"
    engine.reset()
    engine.configure(r, device, threads)
    engine.annotation_material()
    dark = engine.dark_world()
    rng = np.random.default_rng(env.props_seed)
    ground = environment.ground(env, rng, float(np.median(track.positions[:, 2])), float(track.K[0, 0]))
    world = environment.sky_and_sun(env, hdri, background)
    stage = [(np.array([*p[:2], 0.0]), 1.2) for m in meshes for p in m.canonical_joints[:, 0]]
    stage += [(np.array([*p[:2], 0.0]), 1.5) for p in track.positions]
    sightlines = [(p, c) for p in track.positions[[0, len(track.positions) // 2, -1]]
                  for c in (m.canonical_joints[:, 0].mean(axis=0) for m in meshes)]
    props = environment.props(env, rng, stage, sightlines)
    centre = np.concatenate([m.canonical_joints[:, 0] for m in meshes]).mean(axis=0)
    build = weather_of(env).build
    overlay = [o for o in [build(env, rng, centre, r.frames, r.fps) if build else None] if o is not None]
    for m in meshes:
        blender_actors.actor(m, workbench)
    camera(track, spec.camera.fstop)
    if workbench:
        environment.workbench_colours(ground, props, overlay, world, env)
    timings.add("scene_build", time.perf_counter() - t0)

    scene = bpy.context.scene
    with tempfile.TemporaryDirectory(prefix=f"synthact-{spec.scene_id}-") as tmp:
        work = Path(tmp)
        t0 = time.perf_counter()
        engine.set_mode("rgb", spec, world, dark, overlay)
        rgb = np.empty((r.frames, r.height, r.width, 3), np.uint8)
        scene.render.filepath = str(work / "rgb_######")
        bpy.ops.render.render(animation=True)  # one call for the clip: less set-up per frame than a call each
        for frame in range(r.frames):
            rgb[frame] = cv2.cvtColor(cv2.imread(scene.render.frame_path(frame=frame), cv2.IMREAD_COLOR),
                                      cv2.COLOR_BGR2RGB)
        timings.add("render_rgb", time.perf_counter() - t0)

        t0 = time.perf_counter()
        engine.set_mode("annotation", spec, world, dark, overlay)
        scene.render.filepath = str(work / "ann_######")
        bpy.ops.render.render(animation=True)  # nothing changes between frames but the keyed shapes
        passes = [read_exr_passes(Path(scene.render.frame_path(frame=frame))) for frame in range(r.frames)]
        timings.add("render_annotations", time.perf_counter() - t0)
    return rgb, passes
