"""The Blender scene's lifecycle and render settings, and the two renders every frame gets.

The RGB render is the look (materials, sky, sun, weather; Cycles or Workbench); the annotation render
is always Cycles at 1 sample on the pixel centre with no bounces and one override material whose AOVs
carry each visible actor point's triangle (its face number and barycentric coordinates) and body part.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import bpy
import numpy as np

from synthact.spec import RenderSpec, SceneSpec

AOV_BARY, AOV_FACE, AOV_PART = "bary", "face_id", "part"
ANNOTATION_MATERIAL = "synthact_annotation"
ENGINES = {"cycles": "CYCLES", "workbench": "BLENDER_WORKBENCH"}
NEUTRAL_WHITE_K = 6500.0
_BOUNCES = ("max_bounces", "diffuse_bounces", "glossy_bounces", "transmission_bounces", "volume_bounces",
            "transparent_max_bounces")
_RGB_CYCLES = {"filter_width": 1.5, **dict(zip(_BOUNCES, (4, 2, 2, 2, 1, 4)))}
# one sample on the pixel centre, first hits only
_ANNOTATION_CYCLES = {"samples": 1, "use_denoising": False, "filter_width": 0.01, **dict.fromkeys(_BOUNCES, 0)}
# Uncompressed: the files live for one frame in a temporary folder (ZIP cost ~1 s per clip).
_RGB_IMAGE = {"media_type": "IMAGE", "file_format": "PNG", "color_mode": "RGB", "color_depth": "8", "compression": 0}
_ANNOTATION_IMAGE = {"media_type": "MULTI_LAYER_IMAGE", "file_format": "OPEN_EXR_MULTILAYER", "color_depth": "32",
                     "exr_codec": "NONE"}


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
    layer = scene.view_layers[0]
    layer.use_pass_z = layer.use_pass_position = layer.use_pass_object_index = True
    for name, kind in ((AOV_BARY, "COLOR"), (AOV_FACE, "VALUE"), (AOV_PART, "VALUE")):
        aov = layer.aovs.add()
        aov.name, aov.type = name, kind
    shading = scene.display.shading  # Workbench: flat studio light on the objects' display colours
    # VERTEX: the active colour attribute
    shading.light, shading.color_type, shading.background_type = "STUDIO", "VERTEX", "WORLD"


def set_mode(mode: str, spec: SceneSpec, main_world, dark_world, overlay_objects: list) -> None:
    """Switch between the RGB look and the annotation render (which has no motion blur, no exposure or
    white balance, no weather objects: it annotates the surfaces at the frame instant)."""
    scene = bpy.context.scene
    c = scene.cycles
    layer = scene.view_layers[0]
    render, camera = spec.render, spec.camera
    rgb = mode == "rgb"
    scene.view_settings.exposure = camera.exposure_ev if rgb else 0.0
    scene.view_settings.use_white_balance = rgb and camera.white_balance_k != NEUTRAL_WHITE_K
    scene.view_settings.white_balance_temperature = camera.white_balance_k
    _motion_blur(rgb, render.motion_blur, overlay_objects)
    if scene.camera is not None:  # the annotation's one sample must hit the pixel centre: a pinhole
        scene.camera.data.dof.use_dof = rgb and camera.fstop > 0
    if rgb:
        scene.render.engine = ENGINES[render.engine]
        cycles = {"samples": render.samples, "use_denoising": render.denoise, **_RGB_CYCLES,
                  "use_animated_seed": render.noise_seed == "animated"}
        if render.denoise:
            cycles.update(denoiser="OPENIMAGEDENOISE", denoising_input_passes="RGB_ALBEDO_NORMAL",
                          denoising_quality=render.denoise_quality.upper(),
                          denoising_prefilter=render.denoise_prefilter.upper())
        layer.material_override, scene.world, hidden, image = None, main_world, False, _RGB_IMAGE
    else:
        scene.render.engine = "CYCLES"
        cycles = _ANNOTATION_CYCLES
        layer.material_override = bpy.data.materials[ANNOTATION_MATERIAL]
        scene.world, hidden, image = dark_world, True, _ANNOTATION_IMAGE
    for name, value in cycles.items():
        setattr(c, name, value)
    for obj in overlay_objects:
        obj.hide_render = hidden
    for name, value in image.items():  # in order: the media type decides which formats exist
        setattr(scene.render.image_settings, name, value)


def _motion_blur(rgb: bool, shutter: float, overlay_objects: list) -> None:
    """Shutter blur on the RGB render; falling rain and snow are always blurred into streaks (the
    shutter of a typical video camera, half a frame), the rest only when the spec asks for it."""
    scene = bpy.context.scene
    scene.render.use_motion_blur = rgb and (shutter > 0 or bool(overlay_objects))
    scene.render.motion_blur_shutter = shutter if shutter > 0 else 0.5
    scene.render.motion_blur_position = "CENTER"  # the frame instant is the middle of the exposure
    streaks = {o.name for o in overlay_objects}
    for obj in scene.objects:
        obj.cycles.use_motion_blur = shutter > 0 or obj.name in streaks


def annotation_material() -> None:
    mat = bpy.data.materials.new(ANNOTATION_MATERIAL)
    tree = node_tree(mat)
    out = tree.nodes.new("ShaderNodeOutputMaterial")
    # A black diffuse surface: opaque, so the first hit ends the ray (a zero-strength emission shader
    # counts as no surface at all, and the ray would go on through the body, adding AOVs up).
    black = tree.nodes.new("ShaderNodeBsdfDiffuse")
    black.inputs["Color"].default_value = (0.0, 0.0, 0.0, 1.0)
    tree.links.new(black.outputs[0], out.inputs["Surface"])
    for name, socket in ((AOV_BARY, "Vector"), (AOV_FACE, "Fac"), (AOV_PART, "Fac")):
        attr = tree.nodes.new("ShaderNodeAttribute")
        attr.attribute_name = name
        aov = tree.nodes.new("ShaderNodeOutputAOV")
        aov.aov_name = name
        tree.links.new(attr.outputs[socket], aov.inputs["Color" if socket == "Vector" else "Value"])


def dark_world():
    world = bpy.data.worlds.new("synthact_dark")
    tree = node_tree(world)
    bg = tree.nodes.new("ShaderNodeBackground")
    bg.inputs["Strength"].default_value = 0.0
    tree.links.new(bg.outputs[0], tree.nodes.new("ShaderNodeOutputWorld").inputs["Surface"])
    return world


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
