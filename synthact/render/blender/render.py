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
from .meshes import world_triangles
from .places import load_place
from .weather import falling_particles


def build_scene(spec: SceneSpec, meshes: list[blender_actors.ActorMesh], track, hdri: Path | None,
                background: Path | None, place: Path | None, prop_assets: dict, device: str, threads: int,
                timings) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray, list[str]], float]:
    """A fresh Blender scene for the spec, ready to render. Returns its geometry besides the actors as world-space
    (vertices, triangles, each triangle's object, object names): the ground and props outdoors (prop_assets: a
    prop library's files and records by class, {} for primitive shapes), the place's scene in a room, and the seats
    built for sitters (weather is not geometry); and the metered exposure added to the spec's in a room (EV, else 0).
    timings.add(stage, seconds) receives the stage time."""
    t0 = time.perf_counter()
    r, env = spec.render, spec.environment
    workbench = r.engine == "workbench"
    engine.reset()
    engine.configure(r, device, threads)
    rng = np.random.default_rng(env.props_seed)
    world = bpy.context.scene.world = environment.sky_and_sun(env, hdri, background)
    if place is not None:  # a room: the place as stored, lit by its lamps and the sky through its windows
        ground, props, overlay = None, load_place(place), []
    else:
        roots = np.concatenate([m.canonical_joints[:, 0, :2] for m in meshes] + [track.positions[:, :2]])
        flat = float(np.linalg.norm(roots, axis=1).max()) + FLAT_MARGIN_M  # actors and camera on flat ground
        ground = environment.ground(env, rng, float(np.median(track.positions[:, 2])), float(track.K[0, 0]), flat)
        stage = [(np.array([*p[:2], 0.0]), 1.2) for m in meshes for p in m.canonical_joints[:, 0]]
        stage += [(np.array([*p[:2], 0.0]), 1.5) for p in track.positions]
        sightlines = [(p, c) for p in track.positions[[0, len(track.positions) // 2, -1]]
                      for c in (m.canonical_joints[:, 0].mean(axis=0) for m in meshes)]
        props = environment.props(env, rng, stage, sightlines, prop_assets, flat)
        centre = np.concatenate([m.canonical_joints[:, 0] for m in meshes]).mean(axis=0)
        overlay = [o for o in [falling_particles(env, rng, centre, r.frames, r.fps)] if o is not None]
    props += environment.built_seats(meshes, rng)
    moving = {o.name for o in overlay} | {o.name for m in meshes for o in blender_actors.actor(m, workbench)}
    camera(track, spec.camera.fstop)
    if workbench:
        environment.workbench_colours(ground, props, overlay, world, env)
    engine.set_look(spec, overlay)
    # everything else the camera sees is static: the ray cast gets all of it, whatever built it
    static_objects = [o for o in bpy.context.scene.objects
                      if o.type == "MESH" and not o.hide_render and o.name not in moving]
    if not workbench:
        engine.keep_static_bvhs(static_objects)
    metered = 0.0
    if place is not None and not workbench:
        metered = metered_exposure(r.frames // 2)
        bpy.context.scene.view_settings.exposure = spec.camera.exposure_ev + metered
    static = static_geometry(static_objects)
    timings.add("scene_build", time.perf_counter() - t0)
    return static, metered


FLAT_MARGIN_M = 4.0  # flat ground beyond the farthest actor or camera position before the terrain rises
METER_PIXELS = 48  # the metering render's width
MID_GREY = 0.18  # where the frame's log-average luminance should sit, in linear light (AgX shows it near 0.45)
METER_RANGE_EV = (-4.0, 10.0)
_METER_IMAGE = {"media_type": "IMAGE", "file_format": "OPEN_EXR", "color_depth": "32", "exr_codec": "NONE"}


def metered_exposure(frame: int) -> float:
    """The exposure (EV) that brings the built scene's middle frame to mid grey on average: a room is lit by its
    own lamps and windows, whose brightness no fixed exposure suits. A metering render at METER_PIXELS wide, 2
    samples, denoised, read as linear light (a float EXR, before the view transform); like a camera's matrix
    metering, the log-average luminance (a bright window or a dark coat moves it little):
    EV = log2(MID_GREY / exp(mean(log(luminance))))."""
    scene = bpy.context.scene
    saved = (scene.render.resolution_x, scene.render.resolution_y, scene.cycles.samples, scene.render.filepath,
             scene.frame_current)
    scale = METER_PIXELS / scene.render.resolution_x
    with tempfile.TemporaryDirectory(prefix="synthact-meter-") as tmp:
        scene.render.resolution_x = METER_PIXELS
        scene.render.resolution_y = max(8, round(scene.render.resolution_y * scale))
        scene.cycles.samples = 2
        engine.rgb_file_format(_METER_IMAGE)
        scene.frame_set(frame)
        scene.render.filepath = str(Path(tmp) / "meter.exr")
        bpy.ops.render.render(write_still=True)
        image = bpy.data.images.load(scene.render.filepath)
        w, h = image.size
        pixels = np.empty(w * h * 4, np.float32)
        image.pixels.foreach_get(pixels)
        bpy.data.images.remove(image)
    engine.rgb_file_format()
    scene.render.resolution_x, scene.render.resolution_y, scene.cycles.samples, scene.render.filepath = saved[:4]
    scene.frame_set(saved[4])
    luminance = pixels.reshape(h, w, 4)[..., :3] @ np.array([0.2126, 0.7152, 0.0722], np.float32)
    key = float(np.exp(np.mean(np.log(np.maximum(luminance, 1e-6)))))
    return float(np.clip(np.log2(MID_GREY / key), *METER_RANGE_EV))


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


def static_geometry(objects: list) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """World-space vertices (V, 3) and triangles (F, 3) of meshes that do not move (as Blender evaluates them:
    modifiers and object transforms applied), each triangle's object (F,) and the objects' names."""
    depsgraph = bpy.context.evaluated_depsgraph_get()
    vertices, triangles, owners, names, first = [], [], [], [], 0
    for obj in objects:
        evaluated = obj.evaluated_get(depsgraph)
        v, t = world_triangles(evaluated.to_mesh(), evaluated.matrix_world)
        vertices.append(v)
        triangles.append(t + first)
        owners.append(np.full(len(t), len(names), np.int32))
        names.append(obj.name)
        first += len(v)
        evaluated.to_mesh_clear()
    if not vertices:
        return np.zeros((0, 3)), np.zeros((0, 3), np.int64), np.zeros(0, np.int32), []
    return np.concatenate(vertices), np.concatenate(triangles), np.concatenate(owners), names
