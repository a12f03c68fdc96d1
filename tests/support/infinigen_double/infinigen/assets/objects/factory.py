"""Test double of Infinigen's asset factories: `Factory(seed).spawn_asset(i)` makes a small object (a stem and a
crown, 3 m off the origin: a child part with a modifier to apply; a procedural material to bake; 50 loose
vertices) and crashes on seeds listed in SYNTHACT_TEST_CRASH_SEEDS. Orchestration tests only."""
import os
import sys

import bpy


class DoubleFactory:
    height = 1.0

    def __init__(self, seed):
        self.seed = seed

    def spawn_asset(self, i):
        if str(self.seed) in os.environ.get("SYNTHACT_TEST_CRASH_SEEDS", "").split(","):
            print("Traceback: the factory failed", flush=True)
            sys.exit(3)
        h = self.height * (1 + 0.1 * self.seed)
        bpy.ops.mesh.primitive_cylinder_add(radius=0.15, depth=h, location=(3.0, -1.0, h / 2))
        base = bpy.context.active_object
        base.name = f"{type(self).__name__}({self.seed}).spawn_asset({i})"
        material = bpy.data.materials.new("bark")
        material.use_nodes = True
        noise = material.node_tree.nodes.new("ShaderNodeTexNoise")
        material.node_tree.links.new(noise.outputs["Color"],
                                     material.node_tree.nodes["Principled BSDF"].inputs["Base Color"])
        base.data.materials.append(material)
        base.data.vertices.add(50)  # working data a generator leaves behind: vertices no face uses
        bpy.ops.mesh.primitive_ico_sphere_add(radius=0.5 * h, subdivisions=1, location=(3.0, -1.0, h))
        part = bpy.context.active_object
        part.modifiers.new("smooth", "SUBSURF").levels = 2
        part.parent = base
        part.matrix_parent_inverse = base.matrix_world.inverted()
        bpy.ops.mesh.primitive_cube_add(location=(20, 20, 0))  # a helper Infinigen leaves behind: not the asset
        return base
