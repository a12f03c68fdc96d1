"""A place library as `synthact environments import` writes it, fabricated without Blender (for tests of the
sampler and config checks)."""
import json

import numpy as np

from synthact.world.places import FORMAT, FloorGrid


def fabricate_library(root, name="rooms", free=True, places=(("dining", "dining_room"),), seated=(),
                      seat_heights=None):
    """A place library as `synthact environments import` writes it, without Blender (no scene file): 6 x 4 m
    rooms whose floor has a 1 x 1 m table in the middle (or no free floor at all); the places named in `seated`
    also have a chair south of the table, facing south (-Y), 0.45 m high or as `seat_heights` says."""
    heights = seat_heights or {}
    records = [_fabricate_place(root / name, place_id, room_type, free, heights.get(place_id, 0.45)
                                if place_id in seated else None) for place_id, room_type in places]
    (root / name / "library.json").write_text(json.dumps({"format": FORMAT, "name": name, "places": records}))
    return root / name


def _fabricate_place(library, place_id, room_type, free, seat_m=None):
    folder = library / place_id
    folder.mkdir(parents=True)
    cell = 0.05
    room = np.ones((80, 120), bool)
    top = np.zeros((80, 120), np.float32)
    top[30:50, 50:70] = 0.75  # the table: x 2.5-3.5, y 1.5-2.5
    if seat_m is not None:
        top[20:30, 55:65] = seat_m  # the chair: x 2.75-3.25, y 1.0-1.5
    if not free:
        top[:] = 0.75
    FloorGrid((0.0, 0.0), cell, room, top).save(folder / "floor.npz")
    return {
        "place_id": place_id, "room_type": room_type, "scene_file": f"{place_id}/scene.blend", "sha256": "0" * 64,
        "bounds_min": [0, 0, 0], "bounds_max": [6, 4, 2.8], "floor_z": 0.0, "ceiling_z": 2.8,
        "free_area_m2": 23.0, "floor_area_m2": 24.0, "triangles": 12,
        "objects": [{"name": "TableDiningFactory(1).spawn_asset(2)", "semantic_class": "table", "instance_id": 1,
                     "bbox_min": [2.5, 1.5, 0], "bbox_max": [3.5, 2.5, 0.75], "triangles": 12}],
        "seats": [{"object_name": "ChairFactory(5).spawn_asset(1)", "kind": "chair", "position_xy": [3.0, 1.25],
                   "facing_deg": 0.0, "height_m": seat_m}] if seat_m is not None else [],
        "lights": [], "generator": {"name": "test"}, "license": "CC0", "attribution": "",
    }


TINY_ROOM = """
import bpy
bpy.ops.wm.read_factory_settings(use_empty=True)
def box(name, lo, hi):
    bpy.ops.mesh.primitive_cube_add(location=[(a + b) / 2 for a, b in zip(lo, hi)])
    obj = bpy.context.active_object
    obj.name = name
    obj.scale = [(b - a) / 2 for a, b in zip(lo, hi)]
    return obj
bpy.ops.mesh.primitive_plane_add(size=5.0, location=(2.5, 2.5, 0.0))
bpy.context.active_object.name = "living-room_0/0.floor"
bpy.ops.mesh.primitive_plane_add(size=5.0, location=(2.5, 2.5, 2.6), rotation=(3.14159, 0, 0))
bpy.context.active_object.name = "living-room_0/0.ceiling"
for i, (lo, hi) in enumerate([((-0.1, -0.1, 0), (5.1, 0, 2.6)), ((-0.1, 5, 0), (5.1, 5.1, 2.6)),
                              ((-0.1, 0, 0), (0, 5, 2.6)), ((5, 0, 0), (5.1, 5, 2.6))]):
    box(f"living-room_0/0.wall{i}", lo, hi)
table = box("TableDiningFactory(1).spawn_asset(1)", (3.2, 3.2, 0.0), (4.2, 4.2, 0.75))
wood = bpy.data.materials.new("wood")  # procedural: baked to textures at import
wood.use_nodes = True
noise = wood.node_tree.nodes.new("ShaderNodeTexNoise")
wood.node_tree.links.new(noise.outputs["Color"], wood.node_tree.nodes["Principled BSDF"].inputs["Base Color"])
table.data.materials.append(wood)
glass = bpy.data.materials.new("glass")  # transmits: keeps its own material
glass.use_nodes = True
tree = glass.node_tree
tree.nodes.remove(tree.nodes["Principled BSDF"])
tree.links.new(tree.nodes.new("ShaderNodeBsdfGlass").outputs[0], tree.nodes["Material Output"].inputs["Surface"])
pane = box("WindowFactory(9).spawn_asset(1)", (1.0, 4.95, 1.0), (2.0, 5.0, 2.0))
pane.data.materials.append(glass)
seat = box("ChairFactory(2).spawn_asset(1)", (3.4, 2.5, 0.0), (3.9, 3.0, 0.48))
back = box("ChairFactory(2).spawn_asset(2)", (3.4, 2.45, 0.0), (3.9, 2.55, 1.0))
light = bpy.data.objects.new("PointLampFactory(3).spawn_asset(1)", bpy.data.lights.new("lamp", "POINT"))
light.data.energy = LAMP_W
light.location = (2.5, 2.5, 2.4)
bpy.context.scene.collection.objects.link(light)
bpy.ops.wm.save_as_mainfile(filepath=OUT)
"""


def tiny_room_scene(path, lamp_w=400.0):
    """A 5 x 5 m room (floor, walls, ceiling, a table, a chair, a lamp) saved as a .blend, made in a subprocess
    (making scenes resets bpy's state)."""
    import subprocess
    import sys

    subprocess.run([sys.executable, "-c", f"OUT = {str(path)!r}\nLAMP_W = {lamp_w}\n" + TINY_ROOM], check=True,
                   capture_output=True, timeout=300)
    return path


def tiny_room_library(root, name="tiny", lamp_w=400.0):
    """A real place library: the tiny room imported by `synthact environments import`."""
    import os
    import subprocess
    import sys

    scene = tiny_room_scene(root / f"{name}-room.blend", lamp_w)
    env = {**os.environ, "SYNTHACT_ENVIRONMENTS": str(root)}
    run = subprocess.run([sys.executable, "-m", "synthact", "environments", "import", name, str(scene),
                          "--license", "CC0-1.0"], env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    return root / name
