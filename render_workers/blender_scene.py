"""Building a Blender scene from a SceneSpec (the only module that touches bpy's scene data).

Two kinds of render use the same scene: the RGB render (the look: materials, sky, sun, weather) and
the annotation render (1 sample at the pixel centre, no bounces, one override material that writes
AOVs: where each visible surface point is one frame earlier and later, and its body part).
"""
from __future__ import annotations

import colorsys
import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import bpy
import numpy as np

from generator.spec import ClothingSpec, EnvironmentSpec, GarmentSpec, RenderSpec

from .appearance import BOTTOM, SHOES, TOP, face_majority, garment_linear, skin_linear, srgb_to_linear, \
    vertex_regions
from .camera import CameraTrack

AOV_NEXT, AOV_PREV, AOV_PART = "pos_next", "pos_prev", "part"

GROUNDS = {  # base colour, second colour (sRGB), roughness, texture
    "grass": ((0.16, 0.32, 0.07), (0.28, 0.45, 0.12), 0.9, "noise"),
    "asphalt": ((0.10, 0.10, 0.11), (0.20, 0.20, 0.21), 0.85, "noise"),
    "concrete": ((0.55, 0.54, 0.52), (0.68, 0.67, 0.65), 0.9, "noise"),
    "dirt": ((0.36, 0.26, 0.17), (0.48, 0.36, 0.24), 0.95, "noise"),
    "sand": ((0.76, 0.66, 0.48), (0.84, 0.75, 0.58), 0.95, "noise"),
    "tiles": ((0.62, 0.56, 0.50), (0.42, 0.38, 0.35), 0.8, "brick"),
    "wood": ((0.45, 0.29, 0.16), (0.60, 0.42, 0.25), 0.7, "wave"),
    "gravel": ((0.50, 0.50, 0.48), (0.33, 0.33, 0.32), 0.95, "voronoi"),
    "snow": ((0.88, 0.90, 0.94), (0.96, 0.97, 0.99), 0.6, "noise"),
}


@dataclass
class ActorMesh:
    """One actor's geometry in world coordinates, ready for Blender."""

    vertices: np.ndarray  # (T, V, 3)
    faces: np.ndarray  # (F, 3)
    uv: np.ndarray  # (F, 3, 2)
    part_labels: np.ndarray  # (V,)
    canonical_joints: np.ndarray  # (T, 22, 3)
    clothing: ClothingSpec
    skin_tone_monk: int


def _nodes(owner):
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
    scene.cycles.device = "GPU" if device == "gpu" else "CPU"
    scene.cycles.seed = 0
    scene.cycles.use_animated_seed = True  # noise changes from frame to frame, as sensor noise does
    scene.cycles.use_adaptive_sampling = False
    scene.cycles.caustics_reflective = scene.cycles.caustics_refractive = False
    scene.view_settings.view_transform = "AgX"
    scene.render.film_transparent = False
    layer = scene.view_layers[0]
    layer.use_pass_z = layer.use_pass_position = layer.use_pass_object_index = True
    for name, kind in ((AOV_NEXT, "COLOR"), (AOV_PREV, "COLOR"), (AOV_PART, "VALUE")):
        aov = layer.aovs.add()
        aov.name, aov.type = name, kind


def set_mode(mode: str, render: RenderSpec, main_world, dark_world, overlay_objects: list) -> None:
    """Switch between the RGB look and the annotation render."""
    scene = bpy.context.scene
    c = scene.cycles
    layer = scene.view_layers[0]
    if mode == "rgb":
        c.samples = render.samples
        c.use_denoising = render.denoise
        c.filter_width = 1.5
        c.max_bounces, c.diffuse_bounces, c.glossy_bounces = 4, 2, 2
        c.transmission_bounces, c.volume_bounces, c.transparent_max_bounces = 2, 1, 4
        layer.material_override = None
        scene.world = main_world
        for obj in overlay_objects:
            obj.hide_render = False
        scene.render.image_settings.media_type = "IMAGE"
        scene.render.image_settings.file_format = "PNG"
        scene.render.image_settings.color_mode = "RGB"
        scene.render.image_settings.color_depth = "8"
    else:
        c.samples = 1
        c.use_denoising = False
        c.filter_width = 0.01  # the one sample lands on the pixel centre
        c.max_bounces = c.diffuse_bounces = c.glossy_bounces = c.transmission_bounces = c.volume_bounces = 0
        c.transparent_max_bounces = 0
        layer.material_override = bpy.data.materials["synthact_annotation"]
        scene.world = dark_world
        for obj in overlay_objects:
            obj.hide_render = True
        scene.render.image_settings.media_type = "MULTI_LAYER_IMAGE"
        scene.render.image_settings.file_format = "OPEN_EXR_MULTILAYER"
        scene.render.image_settings.color_depth = "32"
        scene.render.image_settings.exr_codec = "ZIP"


def annotation_material() -> None:
    mat = bpy.data.materials.new("synthact_annotation")
    tree = _nodes(mat)
    out = tree.nodes.new("ShaderNodeOutputMaterial")
    # A black diffuse surface: opaque, so the first hit ends the ray (a zero-strength emission shader
    # counts as no surface at all, and the ray would go on through the body, adding AOVs up).
    black = tree.nodes.new("ShaderNodeBsdfDiffuse")
    black.inputs["Color"].default_value = (0.0, 0.0, 0.0, 1.0)
    tree.links.new(black.outputs[0], out.inputs["Surface"])
    for name, socket in ((AOV_NEXT, "Vector"), (AOV_PREV, "Vector"), (AOV_PART, "Fac")):
        attr = tree.nodes.new("ShaderNodeAttribute")
        attr.attribute_name = name
        aov = tree.nodes.new("ShaderNodeOutputAOV")
        aov.aov_name = name
        tree.links.new(attr.outputs[socket], aov.inputs["Color" if socket == "Vector" else "Value"])


def dark_world():
    world = bpy.data.worlds.new("synthact_dark")
    tree = _nodes(world)
    bg = tree.nodes.new("ShaderNodeBackground")
    bg.inputs["Strength"].default_value = 0.0
    tree.links.new(bg.outputs[0], tree.nodes.new("ShaderNodeOutputWorld").inputs["Surface"])
    return world


# --- environment ---------------------------------------------------------------------------------

def _principled(name: str, color, roughness: float = 0.6):
    mat = bpy.data.materials.new(name)
    tree = _nodes(mat)
    bsdf = tree.nodes.new("ShaderNodeBsdfPrincipled")
    bsdf.inputs["Base Color"].default_value = (*srgb_to_linear(color), 1.0)
    bsdf.inputs["Roughness"].default_value = roughness
    tree.links.new(bsdf.outputs[0], tree.nodes.new("ShaderNodeOutputMaterial").inputs["Surface"])
    return mat, tree, bsdf


def ground(env: EnvironmentSpec, rng: np.random.Generator, size: float = 400.0):
    mesh = bpy.data.meshes.new("ground")
    h = size / 2
    mesh.from_pydata([(-h, -h, 0), (h, -h, 0), (h, h, 0), (-h, h, 0)], [], [(0, 1, 2, 3)])
    obj = bpy.data.objects.new("ground", mesh)
    bpy.context.scene.collection.objects.link(obj)
    base, second, rough, texture = GROUNDS[env.ground]
    jitter = rng.uniform(0.85, 1.15, 3)
    wet = env.weather_intensity if env.weather == "rain" else 0.0
    darken = 1.0 - 0.35 * wet
    mat, tree, bsdf = _principled(f"ground_{env.ground}", np.clip(np.array(base) * jitter * darken, 0, 1),
                                  rough * (1 - 0.7 * wet))
    coords = tree.nodes.new("ShaderNodeTexCoord")
    mapping = tree.nodes.new("ShaderNodeMapping")
    mapping.inputs["Scale"].default_value = (1.0, 1.0, 1.0)
    tree.links.new(coords.outputs["Object"], mapping.inputs["Vector"])
    tex = {"noise": "ShaderNodeTexNoise", "brick": "ShaderNodeTexBrick", "wave": "ShaderNodeTexWave",
           "voronoi": "ShaderNodeTexVoronoi"}[texture]
    node = tree.nodes.new(tex)
    tree.links.new(mapping.outputs["Vector"], node.inputs["Vector"])
    if texture == "noise":
        node.inputs["Scale"].default_value = rng.uniform(2.0, 6.0)
        node.inputs["Detail"].default_value = 8.0
    elif texture == "brick":
        node.inputs["Scale"].default_value = rng.uniform(1.0, 2.5)
    elif texture == "wave":
        node.inputs["Scale"].default_value = rng.uniform(0.5, 1.5)
    else:
        node.inputs["Scale"].default_value = rng.uniform(8.0, 20.0)
    mix = tree.nodes.new("ShaderNodeMix")
    mix.data_type = "RGBA"
    mix.inputs["A"].default_value = (*srgb_to_linear(np.clip(np.array(base) * jitter * darken, 0, 1)), 1)
    mix.inputs["B"].default_value = (*srgb_to_linear(np.clip(np.array(second) * jitter * darken, 0, 1)), 1)
    fac = node.outputs["Fac"] if "Fac" in node.outputs else node.outputs[0]
    tree.links.new(fac, mix.inputs["Factor"])
    tree.links.new(mix.outputs["Result"], bsdf.inputs["Base Color"])
    obj.data.materials.append(mat)
    return obj


def sky_and_sun(env: EnvironmentSpec, hdri_path: Path | None, background_path: Path | None):
    """The world (sky, HDRI or background image) and the sun. Returns the world."""
    world = bpy.data.worlds.new("synthact_sky")
    tree = _nodes(world)
    out = tree.nodes.new("ShaderNodeOutputWorld")
    bg = tree.nodes.new("ShaderNodeBackground")
    elevation, azimuth = math.radians(env.sun_elevation_deg), math.radians(env.sun_azimuth_deg)
    overcast = env.sky == "overcast" or env.weather in ("overcast", "rain", "snow", "fog")
    if env.sky == "hdri" and hdri_path is not None:
        tex = tree.nodes.new("ShaderNodeTexEnvironment")
        tex.image = bpy.data.images.load(str(hdri_path))
        tree.links.new(tex.outputs["Color"], bg.inputs["Color"])
        bg.inputs["Strength"].default_value = 1.0
    elif overcast and env.sky != "background":
        grey = 0.75 - 0.35 * env.weather_intensity * (env.weather != "overcast")
        bg.inputs["Color"].default_value = (grey, grey, grey * 1.04, 1)
        bg.inputs["Strength"].default_value = max(0.25, math.sin(max(elevation, 0.05))) * 1.2
    else:
        sky = tree.nodes.new("ShaderNodeTexSky")
        sky.sky_type = "MULTIPLE_SCATTERING"
        sky.sun_disc = False
        sky.sun_elevation, sky.sun_rotation = elevation, azimuth
        tree.links.new(sky.outputs["Color"], bg.inputs["Color"])
        bg.inputs["Strength"].default_value = 0.35
    if env.sky == "background" and background_path is not None:
        image = tree.nodes.new("ShaderNodeTexImage")
        image.image = bpy.data.images.load(str(background_path))
        coords = tree.nodes.new("ShaderNodeTexCoord")
        tree.links.new(coords.outputs["Window"], image.inputs["Vector"])
        light_path = tree.nodes.new("ShaderNodeLightPath")
        direct = tree.nodes.new("ShaderNodeBackground")
        tree.links.new(image.outputs["Color"], direct.inputs["Color"])
        mix = tree.nodes.new("ShaderNodeMixShader")
        tree.links.new(light_path.outputs["Is Camera Ray"], mix.inputs["Fac"])
        tree.links.new(bg.outputs[0], mix.inputs[1])
        tree.links.new(direct.outputs[0], mix.inputs[2])
        tree.links.new(mix.outputs[0], out.inputs["Surface"])
    else:
        tree.links.new(bg.outputs[0], out.inputs["Surface"])
    sun_data = bpy.data.lights.new("sun", "SUN")
    up = max(math.sin(elevation), 0.0)
    sun_data.energy = (0.6 if overcast else 4.0) * up
    sun_data.angle = math.radians(25.0 if overcast else 0.6)
    sun_data.color = (1.0, 0.85 + 0.15 * up, 0.7 + 0.3 * up)
    sun = bpy.data.objects.new("sun", sun_data)
    sun.rotation_euler = (0.0, math.pi / 2 - elevation, azimuth)  # -Z of the lamp points away from direction
    bpy.context.scene.collection.objects.link(sun)
    if elevation < math.radians(5):  # dusk: a soft fill from the sky so people stay visible
        fill_data = bpy.data.lights.new("fill", "SUN")
        fill_data.energy = 0.8
        fill_data.angle = math.radians(60)
        fill = bpy.data.objects.new("fill", fill_data)
        fill.rotation_euler = (math.radians(30), 0.0, azimuth + math.pi)
        bpy.context.scene.collection.objects.link(fill)
    return world


def props(env: EnvironmentSpec, rng: np.random.Generator, keep_clear: list[tuple[np.ndarray, float]]) -> list:
    """Procedural context: buildings far away, crates, benches and poles nearer, never on the stage."""
    count = int(round(env.props_density * 30))
    made = []
    attempts = 0
    while len(made) < count and attempts < count * 20:
        attempts += 1
        kind = rng.choice(["building", "crate", "pole", "bench"], p=[0.35, 0.3, 0.2, 0.15])
        if kind == "building":
            r = rng.uniform(12, 35)
            size = (rng.uniform(3, 10), rng.uniform(3, 10), rng.uniform(3, 15))
        else:
            r = rng.uniform(3.5, 12)
            size = {"crate": (rng.uniform(0.4, 1.0),) * 2 + (rng.uniform(0.4, 1.0),),
                    "pole": (0.12, 0.12, rng.uniform(2.5, 5)),
                    "bench": (rng.uniform(1.2, 2.0), 0.45, 0.45)}[kind]
        theta = rng.uniform(0, 2 * math.pi)
        centre = np.array([r * math.cos(theta), r * math.sin(theta), 0.0])
        radius = math.hypot(size[0], size[1]) / 2
        if any(np.linalg.norm((centre - p)[:2]) < radius + clear for p, clear in keep_clear):
            continue
        bpy.ops.mesh.primitive_cube_add(size=1.0, location=(centre[0], centre[1], size[2] / 2))
        obj = bpy.context.active_object
        obj.name = f"prop_{kind}_{len(made)}"
        obj.scale = size
        obj.rotation_euler = (0, 0, rng.uniform(0, math.pi))
        hue = rng.uniform(0, 1)
        color = colorsys.hsv_to_rgb(hue, rng.uniform(0.05, 0.5), rng.uniform(0.25, 0.85))
        mat, _, _ = _principled(obj.name, color, rng.uniform(0.4, 0.9))
        obj.data.materials.append(mat)
        made.append(obj)
    return made


def precipitation(env: EnvironmentSpec, rng: np.random.Generator, centre: np.ndarray, frames: int, fps: float):
    """Rain streaks or snowflakes falling through a box around the stage (one object, keyed motion)."""
    if env.weather not in ("rain", "snow") or env.weather_intensity <= 0:
        return None
    rain = env.weather == "rain"
    n = int(600 + 3000 * env.weather_intensity)
    half, top = 8.0, 8.0
    speed = 7.0 if rain else 1.0  # m/s
    fall = speed * frames / fps
    pos = np.column_stack([rng.uniform(-half, half, n), rng.uniform(-half, half, n), rng.uniform(0, top + fall, n)])
    length, width = (0.25, 0.006) if rain else (0.02, 0.02)
    verts, faces = [], []
    for i, p in enumerate(pos):
        a = rng.uniform(0, math.pi)
        d = np.array([math.cos(a), math.sin(a), 0.0]) * width
        verts += [p - d, p + d, p + d + [0, 0, length], p - d + [0, 0, length]]
        faces.append((4 * i, 4 * i + 1, 4 * i + 2, 4 * i + 3))
    mesh = bpy.data.meshes.new("precipitation")
    mesh.from_pydata([tuple(v) for v in verts], [], faces)
    obj = bpy.data.objects.new("precipitation", mesh)
    bpy.context.scene.collection.objects.link(obj)
    mat = bpy.data.materials.new("precipitation")
    tree = _nodes(mat)
    emit = tree.nodes.new("ShaderNodeEmission")
    emit.inputs["Color"].default_value = (0.8, 0.85, 0.9, 1) if rain else (1, 1, 1, 1)
    emit.inputs["Strength"].default_value = 0.6 if rain else 1.2
    transparent = tree.nodes.new("ShaderNodeBsdfTransparent")
    mix = tree.nodes.new("ShaderNodeMixShader")
    mix.inputs["Fac"].default_value = 0.5 if rain else 0.9
    tree.links.new(transparent.outputs[0], mix.inputs[1])
    tree.links.new(emit.outputs[0], mix.inputs[2])
    tree.links.new(mix.outputs[0], tree.nodes.new("ShaderNodeOutputMaterial").inputs["Surface"])
    obj.data.materials.append(mat)
    obj.location = (centre[0], centre[1], 0.0)
    obj.keyframe_insert("location", frame=0)
    obj.location = (centre[0], centre[1], -fall)
    obj.keyframe_insert("location", frame=frames)
    return obj


# --- actors --------------------------------------------------------------------------------------

def actor(index: int, mesh: ActorMesh) -> object:
    """The actor's mesh, keyed shape data per frame (so Blender can evaluate motion between frames),
    face attributes for body part and garment, and its clothing material."""
    t, v, _ = mesh.vertices.shape
    f = len(mesh.faces)
    me = bpy.data.meshes.new(f"actor{index}")
    me.vertices.add(v)
    me.vertices.foreach_set("co", mesh.vertices[0].astype(np.float32).ravel())
    me.loops.add(3 * f)
    me.loops.foreach_set("vertex_index", mesh.faces.astype(np.int32).ravel())
    me.polygons.add(f)
    me.polygons.foreach_set("loop_start", np.arange(0, 3 * f, 3, dtype=np.int32))
    me.update()
    me.validate(clean_customdata=False)
    uv = me.uv_layers.new(name="UVMap")
    uv.data.foreach_set("uv", mesh.uv.astype(np.float32).ravel())
    me.polygons.foreach_set("use_smooth", np.ones(f, bool))
    regions = vertex_regions(mesh.vertices[0], mesh.part_labels, mesh.canonical_joints[0], mesh.clothing)
    for name, values in (("part", face_majority(mesh.part_labels, mesh.faces)),
                         ("region", face_majority(regions, mesh.faces))):
        attr = me.attributes.new(name, "FLOAT", "FACE")
        attr.data.foreach_set("value", values.astype(np.float32))
    for name in (AOV_NEXT, AOV_PREV):
        me.attributes.new(name, "FLOAT_VECTOR", "POINT")
    obj = bpy.data.objects.new(f"actor{index}", me)
    obj.pass_index = index + 1
    bpy.context.scene.collection.objects.link(obj)
    obj.shape_key_add(name="Basis", from_mix=False)
    for k in range(t):
        key = obj.shape_key_add(name=f"f{k}", from_mix=False)
        key.data.foreach_set("co", mesh.vertices[k].astype(np.float32).ravel())
        for frame, value in ((k - 1, 0.0), (k, 1.0), (k + 1, 0.0)):
            key.value = value
            key.keyframe_insert("value", frame=frame)
    obj.data.materials.append(actor_material(index, mesh.clothing, mesh.skin_tone_monk))
    return obj


def set_annotation_attributes(obj, mesh: ActorMesh, frame: int) -> None:
    """Where this frame's surface points are one frame later and earlier (clamped at the ends)."""
    t = len(mesh.vertices)
    me = obj.data
    me.attributes[AOV_NEXT].data.foreach_set("vector", mesh.vertices[min(frame + 1, t - 1)].astype(np.float32).ravel())
    me.attributes[AOV_PREV].data.foreach_set("vector", mesh.vertices[max(frame - 1, 0)].astype(np.float32).ravel())
    me.update()


def _pattern(tree, garment: GarmentSpec, uv_socket):
    """A 0..1 pattern factor for a garment (solid: 0)."""
    rng = np.random.default_rng(garment.pattern_seed)
    kind = garment.pattern
    if kind == "solid":
        return None
    node = tree.nodes.new({"stripes": "ShaderNodeTexWave", "checker": "ShaderNodeTexChecker",
                           "dots": "ShaderNodeTexVoronoi", "noise": "ShaderNodeTexNoise"}[kind])
    tree.links.new(uv_socket, node.inputs["Vector"])
    node.inputs["Scale"].default_value = float(rng.uniform(15, 45))
    if kind == "stripes":
        node.wave_type = "BANDS"
        node.bands_direction = str(rng.choice(["X", "Y", "DIAGONAL"]))
        ramp = tree.nodes.new("ShaderNodeMath")
        ramp.operation = "GREATER_THAN"
        tree.links.new(node.outputs["Fac"], ramp.inputs[0])
        ramp.inputs[1].default_value = 0.5
        return ramp.outputs[0]
    if kind == "dots":
        ramp = tree.nodes.new("ShaderNodeMath")
        ramp.operation = "LESS_THAN"
        tree.links.new(node.outputs["Distance"], ramp.inputs[0])
        ramp.inputs[1].default_value = float(rng.uniform(0.2, 0.35))
        return ramp.outputs[0]
    return node.outputs["Fac"]


def actor_material(index: int, clothing: ClothingSpec, monk: int):
    mat = bpy.data.materials.new(f"actor{index}")
    tree = _nodes(mat)
    bsdf = tree.nodes.new("ShaderNodeBsdfPrincipled")
    tree.links.new(bsdf.outputs[0], tree.nodes.new("ShaderNodeOutputMaterial").inputs["Surface"])
    region = tree.nodes.new("ShaderNodeAttribute")
    region.attribute_name = "region"
    uv = tree.nodes.new("ShaderNodeUVMap")
    colour = None
    rough = None
    skin = (*skin_linear(monk), 1.0)
    garments = {TOP: clothing.top, BOTTOM: clothing.bottom, SHOES: clothing.shoes}
    for region_id in (0, TOP, BOTTOM, SHOES):
        if region_id == 0:
            c = tree.nodes.new("ShaderNodeRGB")
            c.outputs[0].default_value = skin
            colour_socket, roughness = c.outputs[0], 0.45
        else:
            g = garments[region_id]
            base = np.array(garment_linear(g))
            rng = np.random.default_rng(g.pattern_seed + 1)
            other = base * 0.45 if rng.uniform() < 0.6 else np.array(
                garment_linear(GarmentSpec((g.hue_deg + 180) % 360, g.saturation, g.value, "solid", 0)))
            mix = tree.nodes.new("ShaderNodeMix")
            mix.data_type = "RGBA"
            mix.inputs["A"].default_value = (*base, 1)
            mix.inputs["B"].default_value = (*other, 1)
            factor = _pattern(tree, g, uv.outputs["UV"])
            if factor is None:
                mix.inputs["Factor"].default_value = 0.0
            else:
                tree.links.new(factor, mix.inputs["Factor"])
            colour_socket, roughness = mix.outputs["Result"], 0.85 if region_id != SHOES else 0.5
        if colour is None:
            colour, rough = colour_socket, roughness
            continue
        is_region = tree.nodes.new("ShaderNodeMath")
        is_region.operation = "COMPARE"
        is_region.inputs[1].default_value = float(region_id)
        is_region.inputs[2].default_value = 0.5
        tree.links.new(region.outputs["Fac"], is_region.inputs[0])
        blend = tree.nodes.new("ShaderNodeMix")
        blend.data_type = "RGBA"
        tree.links.new(is_region.outputs[0], blend.inputs["Factor"])
        tree.links.new(colour, blend.inputs["A"])
        tree.links.new(colour_socket, blend.inputs["B"])
        colour = blend.outputs["Result"]
        r = tree.nodes.new("ShaderNodeMix")
        r.data_type = "FLOAT"
        tree.links.new(is_region.outputs[0], r.inputs["Factor"])
        if isinstance(rough, float):
            r.inputs["A"].default_value = rough
        else:
            tree.links.new(rough, r.inputs["A"])
        r.inputs["B"].default_value = roughness
        rough = r.outputs["Result"]
    tree.links.new(colour, bsdf.inputs["Base Color"])
    tree.links.new(rough, bsdf.inputs["Roughness"])
    return mat


def camera(track: CameraTrack):
    data = bpy.data.cameras.new("camera")
    data.lens = track.focal_length_mm
    data.sensor_width = track.sensor_width_mm
    data.sensor_fit = "HORIZONTAL"
    data.clip_start, data.clip_end = 0.05, 1000.0
    obj = bpy.data.objects.new("camera", data)
    bpy.context.scene.collection.objects.link(obj)
    bpy.context.scene.camera = obj
    obj.rotation_mode = "QUATERNION"
    previous = None
    from mathutils import Matrix
    for frame, m in enumerate(track.cam_to_world):
        obj.matrix_world = Matrix(m.tolist())
        q = obj.rotation_quaternion.copy()
        if previous is not None and q.dot(previous) < 0:  # keep quaternions on one hemisphere
            q.negate()
            obj.rotation_quaternion = q
        previous = q
        obj.keyframe_insert("location", frame=frame)
        obj.keyframe_insert("rotation_quaternion", frame=frame)
    return obj
