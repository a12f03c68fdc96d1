"""Places in Blender: importing a scene file into a place library (baked, simplified once, analysed), and loading
a stored place into the scene being rendered.

Import keeps what the source scene renders (objects in collections hidden from rendering, Infinigen's
placeholders and portal cutters among them, are left out), bakes every mesh with its modifiers applied and
its parent's transform, and simplifies meshes above `MAX_TRIANGLES_PER_OBJECT` (Blender's Decimate, collapse)
so that the same triangles serve the render and the annotations' ray cast. Then, for each furnished room, it
maps the floor (world/places.py: FloorGrid) by casting rays down onto it.
"""
from __future__ import annotations

import hashlib
import math
import re
import shutil
import tempfile
from pathlib import Path

import bpy
import cv2
import numpy as np
from mathutils import Vector
from mathutils.bvhtree import BVHTree

from synthact.world.places import (
    FREE_BELOW_M,
    HEAD_HEIGHT_M,
    FloorGrid,
    LightRecord,
    PlacedObject,
    PlaceRecord,
    PropRecord,
    Seat,
)
from synthact.world.semantics import classify

from . import engine
from .engine import node_tree
from .meshes import world_triangles

MAX_TRIANGLES_PER_OBJECT = 60_000  # a plant of 1.5M triangles renders the same at 224 px with 60k
TEXEL_M = 0.015  # baked material textures: one texel per 1.5 cm of surface, ...
TEXTURE_PX = (64, 1024)  # ... within these sizes (square, powers of two)
_UNBAKED = {"EMISSION", "BSDF_TRANSPARENT", "BSDF_GLASS", "BSDF_REFRACTION", "BSDF_TRANSLUCENT", "HOLDOUT",
            "PRINCIPLED_VOLUME", "VOLUME_ABSORPTION", "VOLUME_SCATTER", "BSDF_HAIR", "BSDF_HAIR_PRINCIPLED"}
CELL_M = 0.05
STRUCTURE = {"floor", "wall", "ceiling", "door", "window", "stairs", "lamp"}  # not furniture
SEATS = {"chair": (0.3, 0.75), "sofa": (0.3, 0.75), "bed": (0.3, 0.9), "bench": (0.3, 0.75)}  # seat heights, m
_ROOM = re.compile(r"^(?P<room>[A-Za-z\-]+)_\d+/\d+\.floor$")  # Infinigen: dining-room_0/0.floor


class PlaceImportError(ValueError):
    """A scene that cannot be a place: one line saying why."""


def _rendered(obj) -> bool:
    if obj.hide_render or obj.type not in ("MESH", "LIGHT", "CURVE", "SURFACE", "META", "FONT"):
        return False
    return not any(c.hide_render for c in _collections_of(obj))


def _collections_of(obj) -> set:
    """Every collection holding obj, and their parents."""
    parents = {c: p for p in bpy.data.collections for c in p.children}
    found, todo = set(), list(obj.users_collection)
    while todo:
        c = todo.pop()
        if c not in found:
            found.add(c)
            if c in parents:
                todo.append(parents[c])
    return found


def open_scene(path: Path) -> None:
    if path.suffix.lower() == ".blend":
        bpy.ops.wm.open_mainfile(filepath=str(path), load_ui=False)
        return
    bpy.ops.wm.read_factory_settings(use_empty=True)
    if path.suffix.lower() in (".glb", ".gltf"):
        bpy.ops.import_scene.gltf(filepath=str(path))
    else:
        raise PlaceImportError(f"{path}: not a scene file Blender can open here (.blend, .glb or .gltf)")


def bake_geometry(max_triangles: int = MAX_TRIANGLES_PER_OBJECT) -> tuple[list, list]:
    """Replace the open scene by plain meshes and lights in world space. Returns (meshes, lights)."""
    scene = bpy.context.scene
    depsgraph = bpy.context.evaluated_depsgraph_get()
    keep = [o for o in scene.objects if _rendered(o)]
    meshes, lights, names = [], [], {}
    for obj in keep:
        matrix = obj.matrix_world.copy()
        if obj.type == "LIGHT":
            light = bpy.data.objects.new(obj.name, obj.data)
            light.matrix_world = matrix
            lights.append(light)
            names[light] = obj.name
            continue
        data = bpy.data.meshes.new_from_object(obj.evaluated_get(depsgraph), preserve_all_data_layers=False,
                                               depsgraph=depsgraph)
        if not len(data.polygons):
            continue
        _drop_loose_parts(data)
        baked = bpy.data.objects.new(obj.name, data)
        baked.matrix_world = matrix
        meshes.append(baked)
        names[baked] = obj.name
    for obj in list(scene.objects):
        bpy.data.objects.remove(obj)
    for obj, name in names.items():  # the source's names (a new object beside the old one got a suffix)
        obj.name = name
    for obj in meshes + lights:
        scene.collection.objects.link(obj)
    for obj in meshes:
        obj.data.calc_loop_triangles()
        if len(obj.data.loop_triangles) > max_triangles:
            _simplify(obj, max_triangles / len(obj.data.loop_triangles))
    bpy.ops.outliner.orphans_purge(do_recursive=True)
    return meshes, lights


def _drop_loose_parts(mesh) -> None:
    """Vertices and edges that no face uses: generators and Decimate leave them behind (a realized Infinigen tree
    kept 401k of its 594k vertices), and they are never rendered nor ray-cast, only stored."""
    import bmesh  # importable once bpy is (the bpy wheel puts Blender's modules on the path)
    bm = bmesh.new()
    bm.from_mesh(mesh)
    vertices = [v for v in bm.verts if not v.link_faces]
    bmesh.ops.delete(bm, geom=vertices, context="VERTS")  # and their edges
    edges = [e for e in bm.edges if not e.link_faces]  # between vertices that faces use: the vertices stay
    bmesh.ops.delete(bm, geom=edges, context="EDGES")
    if vertices or edges:
        bm.to_mesh(mesh)
    bm.free()


def _simplify(obj, ratio: float) -> None:
    mod = obj.modifiers.new("simplify", "DECIMATE")
    mod.ratio = ratio
    depsgraph = bpy.context.evaluated_depsgraph_get()
    obj.data = bpy.data.meshes.new_from_object(obj.evaluated_get(depsgraph), depsgraph=depsgraph)
    obj.modifiers.clear()
    _drop_loose_parts(obj.data)  # Decimate leaves some (a fern: 113k of its 195k vertices)


def _bakeable(material) -> bool:
    """A material whose look is its albedo and roughness: no light, glass, transparency or volume (lamps,
    windows and leaves keep their own)."""
    return material is not None and material.node_tree is not None and _opaque(material.node_tree)


def _opaque(tree) -> bool:
    for node in tree.nodes:
        if node.type in _UNBAKED:
            return False
        if node.type == "GROUP" and node.node_tree is not None and not _opaque(node.node_tree):
            return False
        if node.type == "BSDF_PRINCIPLED":
            inputs = node.inputs
            if inputs["Transmission Weight"].links or inputs["Transmission Weight"].default_value > 0 or \
                    inputs["Alpha"].links or inputs["Alpha"].default_value < 1 or \
                    inputs["Emission Strength"].links or (inputs["Emission Strength"].default_value > 0 and
                                                          any(inputs["Emission Color"].default_value[:3])):
                return False
    return True


def bake_materials(meshes: list, log=print) -> int:
    """Replace the procedural materials of each mesh by its baked albedo and roughness (image textures on a new UV
    map), once, at import. Infinigen's node materials (a floor of 140 nodes, 18 noise textures, bump) are
    evaluated at every sample of every frame; baked, a room renders ~2.8x faster and looks the same at 224 px
    (BENCHMARKS.md "Places"). Meshes with a material that emits, transmits or is transparent keep theirs.
    Returns how many meshes were baked."""
    scene = bpy.context.scene
    scene.render.engine = "CYCLES"
    scene.cycles.device, scene.cycles.samples = "CPU", 1
    baked = 0
    for obj in meshes:
        materials = [m for m in obj.data.materials if m is not None]
        if not materials or not all(_bakeable(m) for m in materials) or not len(obj.data.polygons):
            continue
        area = sum(p.area for p in obj.data.polygons) * float(np.prod(obj.scale))
        size = int(np.clip(2 ** math.ceil(math.log2(max(math.sqrt(area) / TEXEL_M, 1))), *TEXTURE_PX))
        obj.data.uv_layers.active = obj.data.uv_layers.new(name="baked")
        for other in scene.objects:
            other.select_set(False)
        obj.select_set(True)
        bpy.context.view_layer.objects.active = obj
        bpy.ops.object.mode_set(mode="EDIT")
        bpy.ops.mesh.select_all(action="SELECT")
        bpy.ops.uv.smart_project(angle_limit=math.radians(66), island_margin=0.003)
        bpy.ops.object.mode_set(mode="OBJECT")
        images = {"albedo": bpy.data.images.new(f"{obj.name}.albedo", size, size),
                  "roughness": bpy.data.images.new(f"{obj.name}.roughness", size // 2, size // 2, is_data=True)}
        targets = [m.node_tree.nodes.new("ShaderNodeTexImage") for m in materials]
        for kind, settings in (("albedo", {"type": "DIFFUSE", "pass_filter": {"COLOR"}}),
                               ("roughness", {"type": "ROUGHNESS"})):
            for material, target in zip(materials, targets):
                target.image = images[kind]
                material.node_tree.nodes.active = target
            bpy.ops.object.bake(margin=2, uv_layer="baked", **settings)
        with tempfile.TemporaryDirectory(prefix="synthact-bake-") as tmp:  # albedo as JPEG: a third of the bytes
            for kind, fmt in (("albedo", "JPEG"), ("roughness", "PNG")):
                image = images[kind]
                image.filepath_raw, image.file_format = str(Path(tmp) / f"{kind}.{fmt.lower()}"), fmt
                image.save(quality=90)
                image.pack()
        obj.data.materials.clear()
        obj.data.materials.append(_textured(f"{obj.name}.baked", images))
        baked += 1
    log(f"baked the materials of {baked} of {len(meshes)} meshes")
    return baked


def _textured(name: str, images: dict):
    material = bpy.data.materials.new(name)
    tree = node_tree(material)
    bsdf = tree.nodes.new("ShaderNodeBsdfPrincipled")
    tree.links.new(bsdf.outputs[0], tree.nodes.new("ShaderNodeOutputMaterial").inputs["Surface"])
    uv = tree.nodes.new("ShaderNodeUVMap")
    uv.uv_map = "baked"
    for kind, socket in (("albedo", "Base Color"), ("roughness", "Roughness")):
        texture = tree.nodes.new("ShaderNodeTexImage")
        texture.image = images[kind]
        tree.links.new(uv.outputs["UV"], texture.inputs["Vector"])
        tree.links.new(texture.outputs["Color"], bsdf.inputs[socket])
    return material


def triangles_of(meshes: list) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """World-space vertices, triangles, and each object's triangle count."""
    vertices, triangles, counts, first = [], [], [], 0
    for obj in meshes:
        v, t = world_triangles(obj.data, obj.matrix_world)
        vertices.append(v)
        triangles.append(t + first)
        counts.append(len(t))
        first += len(v)
    return np.concatenate(vertices), np.concatenate(triangles), counts


def _bbox(obj) -> tuple[np.ndarray, np.ndarray]:
    corners = np.array([obj.matrix_world @ Vector(c) for c in obj.bound_box])
    return corners.min(axis=0), corners.max(axis=0)


def _floors(meshes: list) -> list[tuple[str, object]]:
    """(room type, floor object) of each room: Infinigen's `<room>_N/M.floor`, else every object named a floor."""
    found = []
    for obj in meshes:
        m = _ROOM.match(obj.name)
        if m:
            found.append((m.group("room").replace("-", "_"), obj))
    if not found:
        found = [("room", o) for o in meshes if classify(o.name) == "floor"]
    return found


def _floor_mask(floor_obj, origin: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, float]:
    """Cells whose centre lies over the floor object's triangles, and the floor's height."""
    v, t, _ = triangles_of([floor_obj])
    rows, cols = np.mgrid[0:shape[0], 0:shape[1]]
    centres = np.stack([origin[0] + (cols + 0.5) * CELL_M, origin[1] + (rows + 0.5) * CELL_M], axis=-1)
    mask = np.zeros(shape, bool)
    for a, b, c in v[t][:, :, :2]:
        e0, e1 = b - a, c - a
        det = e0[0] * e1[1] - e0[1] * e1[0]
        if abs(det) < 1e-12:
            continue
        d = centres - a
        u = (d[..., 0] * e1[1] - d[..., 1] * e1[0]) / det
        w = (e0[0] * d[..., 1] - e0[1] * d[..., 0]) / det
        mask |= (u >= -1e-9) & (w >= -1e-9) & (u + w <= 1 + 1e-9)
    return mask, float(np.median(v[:, 2]))


def _obstacles(bvh: BVHTree, origin: np.ndarray, shape: tuple[int, int], floor_z: float,
               room: np.ndarray) -> np.ndarray:
    """Over each room cell: the height above the floor of the highest surface below head height (0: free)."""
    top = np.zeros(shape, np.float32)
    down = Vector((0.0, 0.0, -1.0))
    for r, c in zip(*np.nonzero(room)):
        x, y = origin[0] + (c + 0.5) * CELL_M, origin[1] + (r + 0.5) * CELL_M
        hit, *_ = bvh.ray_cast(Vector((x, y, floor_z + HEAD_HEIGHT_M)), down, HEAD_HEIGHT_M)
        if hit is not None and hit.z - floor_z > FREE_BELOW_M:
            top[r, c] = hit.z - floor_z
    return top


def _seat(obj, cls: str, grid: FloorGrid, floor_z: float) -> Seat | None:
    """A seat from the floor map under a chair, sofa or bed: the most common surface height in the seat range is
    the seat; the backrest (what rises 0.2 m above it) is behind the sitter."""
    lo, hi = _bbox(obj)
    r0, c0 = grid.cell_of(lo[:2])
    r1, c1 = grid.cell_of(hi[:2])
    r0, c0 = max(r0, 0), max(c0, 0)
    patch = grid.obstacle_top_m[r0:r1 + 1, c0:c1 + 1]
    low, high = SEATS[cls]
    heights = patch[(patch >= low) & (patch <= high)]
    if heights.size < 4:
        return None
    seat = float(np.median(np.round(heights / 0.02) * 0.02))
    rows, cols = np.mgrid[r0:r0 + patch.shape[0], c0:c0 + patch.shape[1]]
    on = np.abs(patch - seat) < 0.04
    back = patch > seat + 0.2
    centre = grid.centre_of(rows[on], cols[on]).mean(axis=0)
    facing = 0.0
    if back.any():
        away = centre - grid.centre_of(rows[back], cols[back]).mean(axis=0)
        facing = math.degrees(math.atan2(away[0], -away[1]))  # 0 = facing -Y, counter-clockwise
    return Seat(obj.name, cls, [round(float(centre[0]), 3), round(float(centre[1]), 3)], round(facing, 1),
                round(seat, 3))


def import_scene(source: Path, place_dir: Path, place_id: str, generator: dict, license: str, attribution: str,
                 max_triangles: int = MAX_TRIANGLES_PER_OBJECT, bake_textures: bool = True) -> list[PlaceRecord]:
    """One place per furnished room of the scene file (or the one room of a scene without Infinigen's room
    names), stored under place_dir/<place id>/. Raises PlaceImportError when the scene has no floor."""
    open_scene(source)
    meshes, lights = bake_geometry(max_triangles)
    if bake_textures:
        bake_materials(meshes, log=lambda *_: None)
    floors = _floors(meshes)
    if not floors:
        raise PlaceImportError(f"{source}: no floor (no object named '*.floor' or 'floor'): an actor needs "
                               f"somewhere to stand")
    # the floor at z = 0, as actors stand and camera heights are measured
    floor_z = float(np.median(triangles_of([floors[0][1]])[0][:, 2]))
    for obj in meshes + lights:
        if obj.parent is None:
            obj.location.z -= floor_z
    bpy.context.view_layer.update()
    vertices, triangles, counts = triangles_of(meshes)
    bvh = BVHTree.FromPolygons([tuple(v) for v in vertices], [tuple(t) for t in triangles])
    objects = []
    for obj, count in zip(meshes, counts):
        lo, hi = _bbox(obj)
        objects.append(PlacedObject(obj.name, classify(obj.name), len(objects) + 1, [round(float(x), 3) for x in lo],
                                    [round(float(x), 3) for x in hi], count))
    furniture = [o for o in objects if o.semantic_class not in STRUCTURE]
    rooms = []
    for room_type, floor in floors:
        lo, hi = _bbox(floor)
        origin = lo[:2] - CELL_M
        shape = (int(math.ceil((hi[1] - lo[1]) / CELL_M)) + 2, int(math.ceil((hi[0] - lo[0]) / CELL_M)) + 2)
        room, floor_z = _floor_mask(floor, origin, shape)
        grid = FloorGrid((float(origin[0]), float(origin[1])), CELL_M, room, np.zeros(shape, np.float32))
        inside = [o for o in furniture
                  if grid.lookup(room, (np.array(o.bbox_min[:2]) + o.bbox_max[:2]) / 2, False)]
        if len(floors) == 1 or len(inside) >= 2:  # else an empty shell of the floor plan: no place to act in
            rooms.append((room_type, floor, lo, hi, origin, shape, room, floor_z, inside))
    records = []
    for room_type, floor, lo, hi, origin, shape, room, floor_z, inside in rooms:
        top = _obstacles(bvh, origin, shape, floor_z, room)
        grid = FloorGrid((float(origin[0]), float(origin[1])), CELL_M, room, top)
        ceiling = [o for o in objects if o.semantic_class == "ceiling" and
                   all(o.bbox_min[i] <= (lo[i] + hi[i]) / 2 <= o.bbox_max[i] for i in (0, 1))]
        ceiling_z = min((o.bbox_min[2] for o in ceiling), default=floor_z + 2.8)
        seats = [s for o, obj in zip(objects, meshes) if any(o is i for i in inside) and o.semantic_class in SEATS
                 for s in [_seat(obj, o.semantic_class, grid, floor_z)] if s is not None]
        pid = place_id if len(rooms) == 1 else f"{place_id}-{floor.name.split('/')[0].split('.')[0]}"
        folder = place_dir / pid
        folder.mkdir(parents=True, exist_ok=True)
        grid.save(folder / "floor.npz")
        records.append(PlaceRecord(
            place_id=pid, room_type=room_type, scene_file=f"{pid}/scene.blend", sha256="",
            bounds_min=[round(float(lo[0]), 3), round(float(lo[1]), 3), round(floor_z, 3)],
            bounds_max=[round(float(hi[0]), 3), round(float(hi[1]), 3), round(ceiling_z, 3)],
            floor_z=round(floor_z, 3), ceiling_z=round(ceiling_z, 3),
            free_area_m2=round(float(grid.free.sum()) * CELL_M ** 2, 2),
            floor_area_m2=round(float(room.sum()) * CELL_M ** 2, 2), triangles=int(len(triangles)),
            objects=objects, seats=seats,
            lights=[LightRecord(x.name, x.data.type, [round(float(v), 3) for v in x.matrix_world.translation],
                                round(float(x.data.energy), 2)) for x in lights],
            generator=generator, license=license, attribution=attribution))
    if not records:
        raise PlaceImportError(f"{source}: no furnished room (rooms: {', '.join(r for r, _ in floors)})")
    first = place_dir / records[0].scene_file
    bpy.data.libraries.write(str(first), set(meshes + lights), path_remap="ABSOLUTE", compress=True)
    digest = hashlib.sha256(first.read_bytes()).hexdigest()
    for record in records[1:]:  # rooms of one house share its scene
        shutil.copyfile(first, place_dir / record.scene_file)
    for record in records:
        record.sha256 = digest
    return records


def import_prop(source: Path, library_dir: Path, prop_id: str, semantic_class: str, generator: dict, license: str,
                attribution: str, max_triangles: int, bake_textures: bool = True) -> PropRecord:
    """One prop from a scene file that holds one object (and its parts): simplified once to max_triangles in all,
    its procedural materials baked, joined into one object named prop_id standing on z = 0 around x = y = 0, and
    stored as library_dir/<prop_id>/prop.blend."""
    open_scene(source)
    meshes, _ = bake_geometry(max_triangles=2**62)
    if not meshes:
        raise PlaceImportError(f"{source}: no mesh to make a prop of")
    total = sum(len(m.data.loop_triangles) for m in meshes)
    for obj in meshes:  # one budget for the whole prop (leaves and branches alike)
        if total > max_triangles:
            _simplify(obj, max_triangles / total)
    if bake_textures:
        bake_materials(meshes, log=lambda *_: None)
    bpy.ops.object.select_all(action="DESELECT")
    for obj in meshes:
        obj.select_set(True)
    bpy.context.view_layer.objects.active = meshes[0]
    bpy.ops.object.join()
    prop = bpy.context.view_layer.objects.active
    prop.name = prop.data.name = prop_id
    vertices, triangles, _ = triangles_of([prop])
    lo, hi = vertices.min(axis=0), vertices.max(axis=0)
    prop.location -= Vector(((lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, lo[2]))
    bpy.ops.object.transform_apply(location=True, rotation=True, scale=True)
    vertices, triangles, _ = triangles_of([prop])
    folder = library_dir / prop_id
    folder.mkdir(parents=True, exist_ok=True)
    bpy.data.libraries.write(str(folder / "prop.blend"), {prop}, path_remap="ABSOLUTE", compress=True)
    return PropRecord(prop_id, semantic_class, f"{prop_id}/prop.blend", round(float(vertices[:, 2].max()), 3),
                      round(float(np.linalg.norm(vertices[:, :2], axis=1).max()), 3), int(len(triangles)),
                      generator, license, attribution)


def load_prop(path: Path, name: str):
    """Append a stored prop's object to the blend data (not to the scene: instances of it are linked copies)."""
    with bpy.data.libraries.load(str(path), link=False) as (source, target):
        target.objects = [name]
    if target.objects[0] is None:
        raise RuntimeError(f"{path}: no object {name!r}")
    return target.objects[0]


def load_place(path: Path) -> list:
    """Append a stored place's objects to the scene being built. Returns them."""
    with bpy.data.libraries.load(str(path), link=False) as (source, target):
        target.objects = list(source.objects)
    objects = [o for o in target.objects if o is not None]
    for obj in objects:
        bpy.context.scene.collection.objects.link(obj)
    return objects


def top_view(scene_file: Path, place: PlaceRecord, grid: FloorGrid, pixels_per_m: int = 60) -> np.ndarray:
    """(H, W, 3) uint8: the place seen from straight above (ceilings left out, Workbench with the baked textures),
    framed on its floor grid so that a pixel maps to a grid position as in world/preview.py (north up)."""
    engine.reset()
    objects = load_place(scene_file)
    for obj in objects:
        if obj.type == "MESH" and classify(obj.name) == "ceiling":
            obj.hide_render = True
    rows, cols = grid.room.shape
    width_m, height_m = cols * grid.cell_m, rows * grid.cell_m
    camera_data = bpy.data.cameras.new("top")
    camera_data.type = "ORTHO"
    camera_data.ortho_scale = max(width_m, height_m)
    camera_data.clip_start, camera_data.clip_end = 0.01, 100.0
    top = bpy.data.objects.new("top", camera_data)
    top.location = (grid.origin_xy[0] + width_m / 2, grid.origin_xy[1] + height_m / 2, place.ceiling_z - 0.05)
    scene = bpy.context.scene
    scene.collection.objects.link(top)
    scene.camera = top
    scene.render.engine = "BLENDER_WORKBENCH"
    scene.render.resolution_x, scene.render.resolution_y = cols * pixels_per_m // 20, rows * pixels_per_m // 20
    scene.render.resolution_percentage = 100
    scene.display.shading.light, scene.display.shading.color_type = "STUDIO", "TEXTURE"
    scene.render.image_settings.file_format = "PNG"
    with tempfile.TemporaryDirectory(prefix="synthact-top-") as tmp:
        scene.render.filepath = str(Path(tmp) / "top.png")
        bpy.ops.render.render(write_still=True)
        image = cv2.cvtColor(cv2.imread(scene.render.filepath, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    return image


def prop_lineup(props: list[tuple[Path, PropRecord]], height_px: int = 360) -> np.ndarray:
    """(H, W, 3) uint8: the props side by side on a grey floor, seen from the front (orthographic) in daylight
    (Cycles, 32 samples)."""
    engine.reset()
    scene = bpy.context.scene
    x = 0.0
    for path, record in props:
        x += record.radius_m
        instance = load_prop(path, record.prop_id)
        scene.collection.objects.link(instance)
        instance.location = (x, 0.0, 0.0)
        x += record.radius_m + 0.3
    width_m = max(x - 0.3, 0.5)
    top_m = max(r.height_m for _, r in props) * 1.1
    bpy.ops.mesh.primitive_plane_add(size=1, location=(width_m / 2, 0, 0))
    floor = bpy.context.active_object
    floor.scale = (width_m * 3, 40, 1)
    grey = bpy.data.materials.new("floor")
    tree = node_tree(grey)
    bsdf = tree.nodes.new("ShaderNodeBsdfPrincipled")
    bsdf.inputs["Base Color"].default_value = (0.35, 0.35, 0.35, 1)
    tree.links.new(bsdf.outputs[0], tree.nodes.new("ShaderNodeOutputMaterial").inputs["Surface"])
    floor.data.materials.append(grey)
    camera_data = bpy.data.cameras.new("front")
    camera_data.type = "ORTHO"
    camera = bpy.data.objects.new("front", camera_data)
    camera.location = (width_m / 2, -50.0, top_m / 2)
    camera.rotation_euler = (math.pi / 2, 0, 0)
    scene.collection.objects.link(camera)
    scene.camera = camera
    sun = bpy.data.objects.new("sun", bpy.data.lights.new("sun", "SUN"))
    sun.data.energy, sun.rotation_euler = 3.0, (math.radians(40), 0, math.radians(30))
    scene.collection.objects.link(sun)
    world = bpy.data.worlds.new("sky")
    tree = node_tree(world)
    background = tree.nodes.new("ShaderNodeBackground")
    background.inputs["Color"].default_value = (0.55, 0.65, 0.8, 1)
    tree.links.new(background.outputs[0], tree.nodes.new("ShaderNodeOutputWorld").inputs["Surface"])
    scene.world = world
    scene.render.engine = "CYCLES"
    scene.cycles.device, scene.cycles.samples = "CPU", 32
    scene.render.resolution_y = height_px
    scene.render.resolution_x = int(round(height_px * width_m / top_m))
    camera_data.sensor_fit, camera_data.ortho_scale = "VERTICAL", top_m
    scene.render.resolution_percentage = 100
    scene.render.image_settings.file_format = "PNG"
    with tempfile.TemporaryDirectory(prefix="synthact-props-") as tmp:
        scene.render.filepath = str(Path(tmp) / "props.png")
        bpy.ops.render.render(write_still=True)
        return cv2.cvtColor(cv2.imread(scene.render.filepath, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
