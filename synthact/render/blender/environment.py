"""The world around the actors: ground, sky (physical, overcast, HDRI or background image), sun and props."""
from __future__ import annotations

import colorsys
import math
from pathlib import Path

import bpy
import numpy as np

from synthact.render.appearance import srgb_to_linear
from synthact.spec import EnvironmentSpec
from synthact.world.grounds import GROUNDS
from synthact.world.terrain import terrain_height
from synthact.world.weather import weather_named

from .engine import display_colours, node_tree
from .places import load_prop

# Length in texture units of one period of each pattern at scale 1 (Blender's wave bands: 2 pi / 10; bricks:
# the default row height), which sets the distance at which it fades.
PATTERN_PERIOD = {"noise": 1.0, "brick": 0.25, "wave": 0.63, "voronoi": 1.0}

SKY_MAP_RESOLUTION = 512  # the world's importance map, sky or HDRI (BENCHMARKS.md: sky compile)


def principled(name: str, color, roughness: float = 0.6):
    mat = bpy.data.materials.new(name)
    tree = node_tree(mat)
    bsdf = tree.nodes.new("ShaderNodeBsdfPrincipled")
    bsdf.inputs["Base Color"].default_value = (*srgb_to_linear(color), 1.0)
    bsdf.inputs["Roughness"].default_value = roughness
    tree.links.new(bsdf.outputs[0], tree.nodes.new("ShaderNodeOutputMaterial").inputs["Surface"])
    return mat, tree, bsdf


def ground(env: EnvironmentSpec, rng: np.random.Generator, camera_height_m: float, focal_px: float,
           flat_radius_m: float, size: float = 400.0):
    """The ground: a plane, or with env.terrain_height_m flat within flat_radius_m and hills beyond (a disc of
    rings, finer near the flat area; world/terrain.py)."""
    mesh = bpy.data.meshes.new("ground")
    h = size / 2
    if env.terrain_height_m > 0:
        mesh.from_pydata(*_terrain_mesh(env, flat_radius_m, h))
    else:
        mesh.from_pydata([(-h, -h, 0), (h, -h, 0), (h, h, 0), (-h, h, 0)], [], [(0, 1, 2, 3)])
    obj = bpy.data.objects.new("ground", mesh)
    bpy.context.scene.collection.objects.link(obj)
    g = GROUNDS[env.ground]
    if g.texture == "photo":  # the sky's photograph shows through it, with the shadows cast on it (Cycles)
        obj.is_shadow_catcher = True
        obj.data.materials.append(principled("ground_photo", g.colour, g.roughness)[0])  # Workbench's colour
        return obj
    base, second, rough, texture = g.colour, g.second_colour, g.roughness, g.texture
    jitter = rng.uniform(0.85, 1.15)  # one factor for all channels: a brighter or darker ground, not a tint
    wet = env.weather_intensity if weather_named(env.weather).wet_ground else 0.0
    darken = 1.0 - 0.35 * wet
    mat, tree, bsdf = principled(f"ground_{env.ground}", np.clip(np.array(base) * jitter * darken, 0, 1),
                                  rough * (1 - 0.7 * wet))
    coords = tree.nodes.new("ShaderNodeTexCoord")
    mapping = tree.nodes.new("ShaderNodeMapping")
    mapping.inputs["Scale"].default_value = (1.0, 1.0, 1.0)
    tree.links.new(coords.outputs["Object"], mapping.inputs["Vector"])
    tex = {"noise": "ShaderNodeTexNoise", "brick": "ShaderNodeTexBrick", "wave": "ShaderNodeTexWave",
           "voronoi": "ShaderNodeTexVoronoi"}[texture]
    node = tree.nodes.new(tex)
    tree.links.new(mapping.outputs["Vector"], node.inputs["Vector"])
    scale = {"noise": (2.0, 6.0), "brick": (1.0, 2.5), "wave": (0.5, 1.5), "voronoi": (8.0, 20.0)}[texture]
    node.inputs["Scale"].default_value = scale = rng.uniform(*scale)
    if texture == "noise":
        node.inputs["Detail"].default_value = 4.0
    mix = tree.nodes.new("ShaderNodeMix")
    mix.data_type = "RGBA"
    mix.inputs["A"].default_value = (*srgb_to_linear(np.clip(np.array(base) * jitter * darken, 0, 1)), 1)
    mix.inputs["B"].default_value = (*srgb_to_linear(np.clip(np.array(second) * jitter * darken, 0, 1)), 1)
    fac = node.outputs["Fac"] if "Fac" in node.outputs else node.outputs[0]
    period_m = PATTERN_PERIOD[texture] / scale
    tree.links.new(_fade_when_finer_than_pixels(tree, fac, period_m, camera_height_m, focal_px), mix.inputs["Factor"])
    tree.links.new(mix.outputs["Result"], bsdf.inputs["Base Color"])
    obj.data.materials.append(mat)
    return obj


def _terrain_mesh(env: EnvironmentSpec, flat_radius_m: float, radius_m: float, segments: int = 192):
    """(vertices, edges, faces) of a disc: a centre, two flat rings, then rings spaced geometrically out to
    radius_m, each vertex at the terrain's height."""
    rings = np.concatenate([[flat_radius_m * 0.5, flat_radius_m],
                            np.geomspace(flat_radius_m + 1.0, radius_m, 56)])
    angles = np.linspace(0, 2 * math.pi, segments, endpoint=False)
    xy = np.stack([np.outer(rings, np.cos(angles)), np.outer(rings, np.sin(angles))], axis=-1).reshape(-1, 2)
    z = terrain_height(xy, env.terrain_height_m, env.props_seed, flat_radius_m)
    vertices = [(0.0, 0.0, 0.0)] + [(float(x), float(y), float(h)) for (x, y), h in zip(xy, z)]
    faces = [(0, 1 + k, 1 + (k + 1) % segments) for k in range(segments)]
    for ring in range(len(rings) - 1):
        a, b = 1 + ring * segments, 1 + (ring + 1) * segments
        faces += [(a + k, b + k, b + (k + 1) % segments, a + (k + 1) % segments) for k in range(segments)]
    return vertices, [], faces


def _fade_when_finer_than_pixels(tree, factor, period_m: float, camera_height_m: float, focal_px: float):
    """The texture pattern faded to its mean where one period spans fewer than ~7 pixels. A procedural
    texture has no mipmaps, and a pattern finer than a pixel shimmers from frame to frame as the camera moves
    (aliasing that one sample per pixel cannot resolve). Seen at grazing angles, a pixel at distance d covers
    about d^2 / (camera height * focal length in pixels) of ground, so the fade follows d^2."""
    camera = tree.nodes.new("ShaderNodeCameraData")
    squared = tree.nodes.new("ShaderNodeMath")
    squared.operation = "POWER"
    squared.inputs[1].default_value = 2.0
    tree.links.new(camera.outputs["View Distance"], squared.inputs[0])
    ramp = tree.nodes.new("ShaderNodeMapRange")  # footprint / period: from 1/7 (pattern kept) to 1/3 (mean)
    unit = max(camera_height_m, 0.3) * focal_px * period_m
    ramp.inputs["From Min"].default_value, ramp.inputs["From Max"].default_value = unit / 7, unit / 3
    tree.links.new(squared.outputs["Value"], ramp.inputs["Value"])
    blend = tree.nodes.new("ShaderNodeMix")
    blend.data_type = "FLOAT"
    blend.inputs["B"].default_value = 0.5
    tree.links.new(ramp.outputs["Result"], blend.inputs["Factor"])
    tree.links.new(factor, blend.inputs["A"])
    return blend.outputs["Result"]


def sky_and_sun(env: EnvironmentSpec, hdri_path: Path | None, background_path: Path | None):
    """The world (sky, HDRI or background image) and the sun. Returns the world."""
    world = bpy.data.worlds.new("synthact_sky")
    tree = node_tree(world)
    out = tree.nodes.new("ShaderNodeOutputWorld")
    bg = tree.nodes.new("ShaderNodeBackground")
    elevation, azimuth = math.radians(env.sun_elevation_deg), math.radians(env.sun_azimuth_deg)
    weather = weather_named(env.weather)
    overcast = env.sky == "overcast" or weather.overcast
    hdri = env.sky == "hdri" and hdri_path is not None
    if hdri:
        coords = tree.nodes.new("ShaderNodeTexCoord")
        turn = tree.nodes.new("ShaderNodeMapping")
        turn.inputs["Rotation"].default_value = (0.0, 0.0, math.radians(env.hdri_rotation_deg))
        tex = tree.nodes.new("ShaderNodeTexEnvironment")
        tex.image = bpy.data.images.load(str(hdri_path))
        tree.links.new(coords.outputs["Generated"], turn.inputs["Vector"])
        tree.links.new(turn.outputs["Vector"], tex.inputs["Vector"])
        tree.links.new(tex.outputs["Color"], bg.inputs["Color"])
        bg.inputs["Strength"].default_value = 2.0 ** env.hdri_exposure_ev
    elif overcast and env.sky != "background":
        grey = 0.75 - weather.sky_darkening * env.weather_intensity
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
    # Cycles evaluates the world into an importance map whenever it changes, by default 1024x512 (a sky) or
    # the image's own size (an HDRI): ~2-3 s of one core on every clip's first frame. The map only guides
    # where light is sampled from (the sky itself is evaluated exactly); a coarse one guides as well.
    world.cycles.sampling_method = "MANUAL"
    world.cycles.sample_map_resolution = SKY_MAP_RESOLUTION
    if not hdri:  # an HDRI brings its own sun (its light and shadows come from the map)
        add_sun(env, elevation, azimuth, overcast)
    return world


def add_sun(env: EnvironmentSpec, elevation: float, azimuth: float, overcast: bool) -> None:
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


# Prop families: where they stand (distance from the stage centre), their size and plausible colours
# (sRGB ranges: hue, saturation, value).
PROPS = {  # weight, distance m, builder
    "building": (0.25, (12, 35)), "wall": (0.12, (5, 15)), "crate": (0.12, (3.5, 12)), "pole": (0.12, (3.5, 12)),
    "bench": (0.12, (3.5, 12)), "bush": (0.15, (3.5, 14)), "tree": (0.12, (6, 25)),
}
LIBRARY_ONLY = {"rock": (0.15, (3.5, 14))}  # kinds that only a prop library brings (none are primitive shapes)
PALETTES = {  # (hue, saturation, value) ranges
    "building": ((0.05, 0.12), (0.05, 0.3), (0.45, 0.85)), "wall": ((0.05, 0.1), (0.0, 0.15), (0.45, 0.8)),
    "crate": ((0.07, 0.1), (0.35, 0.6), (0.35, 0.6)), "pole": ((0.0, 1.0), (0.0, 0.1), (0.2, 0.6)),
    "bench": ((0.06, 0.09), (0.3, 0.6), (0.25, 0.5)), "foliage": ((0.22, 0.33), (0.45, 0.8), (0.15, 0.4)),
    "bark": ((0.06, 0.09), (0.3, 0.5), (0.15, 0.3)),
}


def _colour(rng: np.random.Generator, palette: str) -> tuple[float, float, float]:
    hue, sat, val = PALETTES[palette]
    return colorsys.hsv_to_rgb(rng.uniform(*hue), rng.uniform(*sat), rng.uniform(*val))


def _part(name: str, kind: str, location, scale, colour, roughness: float, rotation: float = 0.0, **shape):
    """One primitive (cube, cylinder or icosphere) with its own material."""
    add = {"cube": bpy.ops.mesh.primitive_cube_add, "cylinder": bpy.ops.mesh.primitive_cylinder_add,
           "ico": bpy.ops.mesh.primitive_ico_sphere_add}[kind]
    add(location=location, **shape)
    obj = bpy.context.active_object
    obj.name = name
    obj.scale = scale
    obj.rotation_euler = (0, 0, rotation)
    mat, _, _ = principled(name, colour, roughness)
    obj.data.materials.append(mat)
    return obj


def _build(kind: str, name: str, x: float, y: float, rng: np.random.Generator) -> list:
    """The parts of one prop standing at (x, y)."""
    turn = rng.uniform(0, math.pi)
    if kind == "building":
        w, d, h = rng.uniform(4, 12), rng.uniform(4, 12), rng.uniform(4, 18)
        return [_part(name, "cube", (x, y, h / 2), (w, d, h), _colour(rng, "building"), 0.9, turn, size=1)]
    if kind == "wall":
        w, h = rng.uniform(3, 8), rng.uniform(0.8, 2.2)
        return [_part(name, "cube", (x, y, h / 2), (w, 0.25, h), _colour(rng, "wall"), 0.95, turn, size=1)]
    if kind == "crate":
        a = rng.uniform(0.4, 1.0)
        return [_part(name, "cube", (x, y, a / 2), (a, a, a), _colour(rng, "crate"), 0.8, turn, size=1)]
    if kind == "pole":
        h = rng.uniform(2.5, 5.0)
        return [_part(name, "cylinder", (x, y, h / 2), (1, 1, 1), _colour(rng, "pole"), 0.5, radius=0.06, depth=h,
                      vertices=12)]
    if kind == "bench":
        w = rng.uniform(1.2, 2.0)
        colour = _colour(rng, "bench")
        seat = _part(name, "cube", (x, y, 0.45), (w, 0.42, 0.06), colour, 0.7, turn, size=1)
        legs = [_part(f"{name}_leg{i}", "cube", (x + side * (w / 2 - 0.1) * math.cos(turn),
                                                 y + side * (w / 2 - 0.1) * math.sin(turn), 0.21),
                      (0.08, 0.4, 0.42), (0.15, 0.15, 0.16), 0.5, turn, size=1) for i, side in enumerate((-1, 1))]
        return [seat, *legs]
    if kind == "bush":
        r = rng.uniform(0.4, 1.1)
        return [_part(name, "ico", (x, y, r * 0.6), (1, 1, rng.uniform(0.6, 0.9)), _colour(rng, "foliage"), 0.9,
                      turn, radius=r, subdivisions=2)]
    h, r = rng.uniform(3, 7), rng.uniform(1.2, 2.5)  # tree: a trunk and a crown
    trunk = _part(name, "cylinder", (x, y, h / 2), (1, 1, 1), _colour(rng, "bark"), 0.9, radius=0.15, depth=h,
                  vertices=10)
    crown = _part(f"{name}_crown", "ico", (x, y, h + r * 0.5), (1, 1, 1.2), _colour(rng, "foliage"), 0.9, turn,
                  radius=r, subdivisions=2)
    return [trunk, crown]


def built_seats(meshes, rng: np.random.Generator) -> list:
    """The bench or stool under each actor that has one built (ActorMesh.built_seat): its top at the seat's
    height, its middle at the seat's position, its front the way the sitter faces. Their names say what they are
    (world/semantics.py: bench; a stool is a chair)."""
    made = []
    for a in meshes:
        seat = a.built_seat
        if seat is None:
            continue
        turn = math.radians(seat.facing_deg)  # the seat's local x runs along the sitter's left-right
        x, y, h = *seat.position_xy, seat.height_m
        colour = _colour(rng, "bench")
        if seat.kind == "bench":
            name, width, depth, slab = f"park_bench_{a.index}", rng.uniform(1.2, 1.8), 0.42, 0.06
            legs = [(side * (width / 2 - 0.1), 0.0, (0.08, depth - 0.02)) for side in (-1, 1)]
        else:
            name, width, depth, slab = f"stool_{a.index}", 0.4, 0.4, 0.05
            legs = [(sx * 0.15, sy * 0.15, (0.04, 0.04)) for sx in (-1, 1) for sy in (-1, 1)]
        made.append(_part(name, "cube", (x, y, h - slab / 2), (width, depth, slab), colour, 0.7, turn, size=1))
        for i, (lx, ly, (wx, wy)) in enumerate(legs):
            made.append(_part(f"{name}_leg{i}", "cube", (x + lx * math.cos(turn) - ly * math.sin(turn),
                                                        y + lx * math.sin(turn) + ly * math.cos(turn), (h - slab) / 2),
                              (wx, wy, h - slab), (0.15, 0.15, 0.16), 0.5, turn, size=1))
    return made


def _blocks(point: np.ndarray, radius: float, sightlines: list[tuple[np.ndarray, np.ndarray]]) -> bool:
    """True when a prop of this footprint stands in the way between the camera and the actors."""
    for a, b in sightlines:
        ab = (b - a)[:2]
        t = np.clip(np.dot((point - a)[:2], ab) / max(float(ab @ ab), 1e-9), 0.0, 1.0)
        if np.linalg.norm((a + t * (b - a) - point)[:2]) < radius + 0.6:
            return True
    return False


def props(env: EnvironmentSpec, rng: np.random.Generator, keep_clear: list[tuple[np.ndarray, float]],
          sightlines: list[tuple[np.ndarray, np.ndarray]] = (), assets: dict | None = None,
          flat_radius_m: float = 0.0) -> list:
    """Context around the stage (buildings and trees far away; walls, benches, crates, poles, bushes and rocks
    nearer), never on the stage, and never between the camera and the actors. A kind the prop library has
    (assets: class -> [(file, PropRecord)]) is one of its props, turned and scaled a little; the others, and all
    of them without a library, are primitive shapes."""
    assets = assets or {}
    count = int(round(env.props_density * 30))
    kinds = list(PROPS) + [k for k in LIBRARY_ONLY if k in assets]
    weights = np.array([(PROPS | LIBRARY_ONLY)[k][0] for k in kinds])
    made, loaded = [], {}
    attempts = 0
    while len(made) < count and attempts < count * 20:
        attempts += 1
        kind = kinds[rng.choice(len(kinds), p=weights / weights.sum())]
        r = rng.uniform(*(PROPS | LIBRARY_ONLY)[kind][1])
        theta = rng.uniform(0, 2 * math.pi)
        centre = np.array([r * math.cos(theta), r * math.sin(theta), 0.0])
        asset = assets[kind][rng.integers(len(assets[kind]))] if kind in assets else None
        scale = rng.uniform(0.85, 1.15) if asset else 1.0
        footprint = asset[1].radius_m * scale if asset else \
            {"building": 6.0, "wall": 4.0, "tree": 2.5, "bench": 1.0, "bush": 1.1}.get(kind, 0.7)
        if any(np.linalg.norm((centre - p)[:2]) < footprint + clear for p, clear in keep_clear) or \
                _blocks(centre, footprint, sightlines):
            continue
        name = f"prop_{kind}_{len(made)}"
        # on the terrain: its base at the lowest ground under its footprint, so no edge floats on a slope
        ring = centre[:2] + footprint * np.stack([np.cos(np.arange(8) * math.pi / 4),
                                                  np.sin(np.arange(8) * math.pi / 4)], axis=-1)
        z = float(terrain_height(np.vstack([centre[:2], ring]), env.terrain_height_m, env.props_seed,
                                 flat_radius_m).min()) - 0.1 * (env.terrain_height_m > 0)
        if asset is None:
            parts = _build(kind, name, centre[0], centre[1], rng)
            for part in parts:
                part.location.z += z
            made.extend(parts)
            continue
        path, record = asset
        if record.prop_id not in loaded:
            loaded[record.prop_id] = load_prop(path, record.prop_id)
        instance = loaded[record.prop_id].copy()  # shares the mesh and its baked textures
        instance.name = name
        instance.location = (centre[0], centre[1], z)
        instance.rotation_euler = (0.0, 0.0, rng.uniform(0, 2 * math.pi))
        instance.scale = (scale, scale, scale)
        bpy.context.scene.collection.objects.link(instance)
        made.append(instance)
    return made


def workbench_colours(ground_obj, prop_objs: list, overlay_objs: list, world, env: EnvironmentSpec) -> None:
    """Display colours for Workbench, which shows colour attributes and the world's viewport colour but
    not shader nodes: every object gets its material's base (or emission) colour; the background is a
    flat sky colour."""
    for obj in [o for o in [ground_obj, *prop_objs, *overlay_objs] if o is not None and o.type == "MESH"]:
        colour = (0.5, 0.5, 0.5)
        if obj.active_material is None or obj.active_material.node_tree is None:
            display_colours(obj, colour)
            continue
        for node in obj.active_material.node_tree.nodes:
            socket = node.inputs.get("Base Color") or (node.inputs.get("Color") if node.type == "EMISSION" else None)
            if socket is not None:
                colour = tuple(socket.default_value)[:3]
                break
        display_colours(obj, colour)
    overcast = env.sky == "overcast" or weather_named(env.weather).overcast
    world.color = (0.45, 0.45, 0.47) if overcast else (0.35, 0.55, 0.85)
