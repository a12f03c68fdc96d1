"""The Blender scene's lifecycle and the RGB render's settings: the look (materials, sky, sun, weather;
Cycles or Workbench). Blender renders only the RGB frames: the annotations (depth, masks, the triangle and
point under each pixel centre) are ray-cast in numpy from the same geometry (render/raster.py).
"""
from __future__ import annotations

import warnings
from pathlib import Path

import bpy
import numpy as np

from synthact.spec import RenderSpec, SceneSpec

ENGINES = {"cycles": "CYCLES", "workbench": "BLENDER_WORKBENCH"}
NEUTRAL_WHITE_K = 6500.0
_BOUNCES = ("max_bounces", "diffuse_bounces", "glossy_bounces", "transmission_bounces", "volume_bounces",
            "transparent_max_bounces")
_RGB_CYCLES = {"filter_width": 1.5, **dict(zip(_BOUNCES, (4, 2, 2, 2, 1, 4)))}
# Uncompressed: the files live for one frame in a temporary folder (ZIP cost ~1 s per clip).
_RGB_IMAGE = {"media_type": "IMAGE", "file_format": "PNG", "color_mode": "RGB", "color_depth": "8", "compression": 0}


def version() -> str:
    return bpy.app.version_string


def datafiles(relative: str) -> Path | None:
    """A folder of Blender's own data files (e.g. studiolights/world, the CC0 HDRIs in the wheel)."""
    found = bpy.utils.system_resource("DATAFILES", path=relative)
    return Path(found) if found else None


GPU_BACKENDS = ("OPTIX", "CUDA", "HIP", "METAL", "ONEAPI")  # Cycles' GPU backends, preferred first


def use_gpu(prefs=None) -> str | None:
    """Point Cycles at this process's GPUs: the first backend in GPU_BACKENDS that finds a device, with its
    devices enabled and every other device (the CPU included) disabled. Returns the backend, None when there is
    none. Which GPUs a process sees is the executor's pinning (one per worker, CUDA_VISIBLE_DEVICES)."""
    prefs = prefs or bpy.context.preferences.addons["cycles"].preferences
    for kind in GPU_BACKENDS:
        try:
            prefs.compute_device_type = kind
        except TypeError:  # a backend this build of Cycles lacks
            continue
        prefs.get_devices()
        if any(d.type == kind for d in prefs.devices):
            for d in prefs.devices:
                d.use = d.type == kind
            return kind
    prefs.compute_device_type = "NONE"
    return None


def gpu_backend_available() -> bool:
    """True when Cycles finds a GPU (OptiX, CUDA, HIP, Metal or oneAPI) on this machine."""
    try:
        return use_gpu() is not None
    except Exception:  # noqa: BLE001 - no GPU backend is not an error on CPU machines
        return False


def node_tree(owner):
    """The (emptied) node tree of a material or world."""
    if owner.node_tree is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            owner.use_nodes = True
    tree = owner.node_tree
    tree.nodes.clear()
    return tree


def reset() -> None:
    """An empty scene; data of the previous scene is freed."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.data.orphans_purge(do_recursive=True)
    bpy.context.preferences.edit.keyframe_new_interpolation_type = "LINEAR"


def configure(render: RenderSpec, device: str, threads: int) -> None:
    scene = bpy.context.scene
    scene.render.engine = "CYCLES"
    scene.render.resolution_x, scene.render.resolution_y = render.width, render.height
    scene.render.resolution_percentage = 100
    scene.render.fps = render.fps
    scene.frame_start, scene.frame_end = 0, render.frames - 1
    scene.render.threads_mode = "FIXED" if threads else "AUTO"
    if threads:
        scene.render.threads = threads
    scene.render.use_motion_blur = False
    scene.render.use_persistent_data = True  # keep the sky, its light map and the BVH between frames
    # reset() loaded factory preferences, which render on the CPU: select the GPU again
    if device == "gpu" and use_gpu() is None:
        raise RuntimeError("this worker was given a GPU but Cycles finds none")
    scene.cycles.device = "GPU" if device == "gpu" else "CPU"
    scene.cycles.seed = 0
    scene.cycles.use_adaptive_sampling = False
    scene.cycles.caustics_reflective = scene.cycles.caustics_refractive = False
    scene.view_settings.view_transform = "AgX"
    scene.view_settings.look = "AgX - Medium High Contrast"  # AgX's base look is flat next to real daylight
    scene.render.film_transparent = False
    shading = scene.display.shading  # Workbench: flat studio light on the objects' display colours
    # VERTEX: the active colour attribute
    shading.light, shading.color_type, shading.background_type = "STUDIO", "VERTEX", "WORLD"


BVH_TWIN_OFFSET_M = -10_000.0  # far below the scene: outside every camera's view and every bounding box


def keep_static_bvhs(static_objects: list) -> list:
    """Cycles' final renders use a static BVH: it bakes the transform of a mesh that one object alone uses into the
    scene's top-level BVH, which it rebuilds with all those triangles (and repacks their vertices) in every frame
    where anything moves. A deforming actor in a 330k-triangle room paid 0.06 s a frame for it (BENCHMARKS.md,
    places). A mesh that two objects use keeps a BVH of its own across frames instead. So each static mesh gets a
    twin sharing its data, far below the scene and seen only by volume-scattering rays (a scene without volumes
    traces none; no visibility at all would leave the twin out of Cycles' scene). Returns the twins: they are not
    scene geometry (the annotations leave them out)."""
    twins = []
    for obj in static_objects:
        twin = obj.copy()  # shares obj.data
        twin.name = f"{obj.name}.bvh_twin"
        bpy.context.scene.collection.objects.link(twin)
        twin.parent = None
        twin.matrix_world = obj.matrix_world.copy()
        twin.location.z += BVH_TWIN_OFFSET_M
        for ray in ("camera", "diffuse", "glossy", "transmission", "shadow"):
            setattr(twin, f"visible_{ray}", False)
        twin.visible_volume_scatter = True
        twins.append(twin)
    return twins


def set_look(spec: SceneSpec, overlay_objects: list) -> None:
    """The RGB render's look: engine, samples and denoiser, exposure, white balance, depth of field, blur."""
    scene = bpy.context.scene
    render, camera = spec.render, spec.camera
    scene.view_settings.exposure = camera.exposure_ev
    scene.view_settings.use_white_balance = camera.white_balance_k != NEUTRAL_WHITE_K
    scene.view_settings.white_balance_temperature = camera.white_balance_k
    _motion_blur(render.motion_blur, overlay_objects)
    if scene.camera is not None:
        scene.camera.data.dof.use_dof = camera.fstop > 0
    scene.render.engine = ENGINES[render.engine]
    cycles = {"samples": render.samples, "use_denoising": render.denoise, **_RGB_CYCLES,
              "use_animated_seed": render.noise_seed == "animated"}
    if render.denoise:
        cycles.update(denoiser="OPENIMAGEDENOISE", denoising_input_passes="RGB_ALBEDO_NORMAL",
                      denoising_quality=render.denoise_quality.upper(),
                      denoising_prefilter=render.denoise_prefilter.upper())
    for name, value in cycles.items():
        setattr(scene.cycles, name, value)
    rgb_file_format()


def rgb_file_format(settings: dict | None = None) -> None:
    """The files the RGB render writes (8-bit PNG), or other image settings (e.g. a float EXR to meter)."""
    for name, value in (settings or _RGB_IMAGE).items():  # in order: the media type decides which formats exist
        setattr(bpy.context.scene.render.image_settings, name, value)


def _motion_blur(shutter: float, overlay_objects: list) -> None:
    """Shutter blur on the RGB render; falling rain and snow are always blurred into streaks (the
    shutter of a typical video camera, half a frame), the rest only when the spec asks for it."""
    scene = bpy.context.scene
    scene.render.use_motion_blur = shutter > 0 or bool(overlay_objects)
    scene.render.motion_blur_shutter = shutter if shutter > 0 else 0.5
    scene.render.motion_blur_position = "CENTER"  # the frame instant is the middle of the exposure
    streaks = {o.name for o in overlay_objects}
    for obj in scene.objects:
        obj.cycles.use_motion_blur = shutter > 0 or obj.name in streaks


def display_colours(obj, corner_rgb: np.ndarray) -> None:
    """The colours Workbench shows (it reads the active colour attribute, not the shader nodes):
    corner_rgb is one linear RGB per face corner, or one for the whole object."""
    me = obj.data
    corners = len(me.loops)
    rgba = np.ones((corners, 4), np.float32)
    rgba[:, :3] = np.broadcast_to(np.asarray(corner_rgb, np.float32).reshape(-1, 3), (corners, 3))
    attr = me.color_attributes.new("display", "FLOAT_COLOR", "CORNER")
    attr.data.foreach_set("color", rgba.ravel())
    me.color_attributes.active_color = attr
