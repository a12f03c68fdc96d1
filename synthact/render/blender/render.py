"""One scene in Blender: build it from the spec (handing back the static geometry that the annotations are
ray-cast against, render/raster.py), then render its RGB frames."""
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
from .weather import weather_of


def build_scene(spec: SceneSpec, meshes: list[blender_actors.ActorMesh], track, hdri: Path | None,
                background: Path | None, device: str, threads: int, timings) -> tuple[np.ndarray, np.ndarray]:
    """A fresh Blender scene for the spec, ready to render. Returns its geometry besides the actors as world-space
    (vertices, triangles): the ground and props (weather is not geometry). timings.add(stage, seconds)
    receives the stage time."""
    t0 = time.perf_counter()
    r, env = spec.render, spec.environment
    workbench = r.engine == "workbench"
    engine.reset()
    engine.configure(r, device, threads)
    rng = np.random.default_rng(env.props_seed)
    ground = environment.ground(env, rng, float(np.median(track.positions[:, 2])), float(track.K[0, 0]))
    world = bpy.context.scene.world = environment.sky_and_sun(env, hdri, background)
    stage = [(np.array([*p[:2], 0.0]), 1.2) for m in meshes for p in m.canonical_joints[:, 0]]
    stage += [(np.array([*p[:2], 0.0]), 1.5) for p in track.positions]
    sightlines = [(p, c) for p in track.positions[[0, len(track.positions) // 2, -1]]
                  for c in (m.canonical_joints[:, 0].mean(axis=0) for m in meshes)]
    props = environment.props(env, rng, stage, sightlines)
    centre = np.concatenate([m.canonical_joints[:, 0] for m in meshes]).mean(axis=0)
    build = weather_of(env).build
    overlay = [o for o in [build(env, rng, centre, r.frames, r.fps) if build else None] if o is not None]
    moving = {o.name for o in overlay} | {o.name for m in meshes for o in blender_actors.actor(m, workbench)}
    camera(track, spec.camera.fstop)
    if workbench:
        environment.workbench_colours(ground, props, overlay, world, env)
    engine.set_look(spec, overlay)
    # everything else the camera sees is static: the ray cast gets all of it, whatever built it
    static = static_geometry([o for o in bpy.context.scene.objects
                              if o.type == "MESH" and not o.hide_render and o.name not in moving])
    timings.add("scene_build", time.perf_counter() - t0)
    return static


def render_rgb(spec: SceneSpec, timings) -> np.ndarray:
    """(T, H, W, 3) uint8: the built scene's frames. Blender releases Python's lock while it renders, so other
    threads of this process (the annotations' ray cast) run meanwhile."""
    r = spec.render
    scene = bpy.context.scene
    with tempfile.TemporaryDirectory(prefix=f"synthact-{spec.scene_id}-") as tmp:
        t0 = time.perf_counter()
        rgb = np.empty((r.frames, r.height, r.width, 3), np.uint8)
        scene.render.filepath = str(Path(tmp) / "rgb_######")
        bpy.ops.render.render(animation=True)  # one call for the clip: less set-up per frame than a call each
        for frame in range(r.frames):
            rgb[frame] = cv2.cvtColor(cv2.imread(scene.render.frame_path(frame=frame), cv2.IMREAD_COLOR),
                                      cv2.COLOR_BGR2RGB)
        timings.add("render_rgb", time.perf_counter() - t0)
    return rgb


def static_geometry(objects: list) -> tuple[np.ndarray, np.ndarray]:
    """World-space vertices (V, 3) and triangles (F, 3) of meshes that do not move (as Blender evaluates them:
    modifiers and object transforms applied)."""
    depsgraph = bpy.context.evaluated_depsgraph_get()
    vertices, triangles, first = [], [], 0
    for obj in objects:
        evaluated = obj.evaluated_get(depsgraph)
        mesh = evaluated.to_mesh()
        mesh.calc_loop_triangles()
        co = np.empty(3 * len(mesh.vertices), np.float32)
        mesh.vertices.foreach_get("co", co)
        tri = np.empty(3 * len(mesh.loop_triangles), np.int32)
        mesh.loop_triangles.foreach_get("vertices", tri)
        m = np.array(evaluated.matrix_world, np.float64)
        vertices.append(co.reshape(-1, 3) @ m[:3, :3].T + m[:3, 3])
        triangles.append(tri.reshape(-1, 3).astype(np.int64) + first)
        first += len(co) // 3
        evaluated.to_mesh_clear()
    if not vertices:
        return np.zeros((0, 3)), np.zeros((0, 3), np.int64)
    return np.concatenate(vertices), np.concatenate(triangles)
