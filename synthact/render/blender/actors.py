"""Actors in Blender: the body mesh with keyed shape data per frame (so Blender can evaluate motion
between frames), face attributes for body part and garment, and the clothing material."""
from __future__ import annotations

from dataclasses import dataclass

import bpy
import numpy as np

from synthact.render.appearance import BOTTOM, SHOES, TOP, face_majority, garment_linear, skin_linear, vertex_regions
from synthact.spec import ActorSpec, GarmentSpec

from .engine import AOV_NEXT, AOV_PREV, display_colours, node_tree

# Skin's mean free paths are longest in red (Jensen et al. 2001: about 3.7, 1.4 and 0.7 mm for R, G, B).
SKIN_SCATTER_RADIUS = (1.0, 0.37, 0.19)
SKIN_SCATTER_SCALE_M = 0.0037


@dataclass
class ActorMesh:
    """One actor's geometry in world coordinates, ready for Blender."""

    vertices: np.ndarray  # (T, V, 3)
    faces: np.ndarray  # (F, 3)
    uv: np.ndarray  # (F, 3, 2)
    part_labels: np.ndarray  # (V,)
    canonical_joints: np.ndarray  # (T, 22, 3)
    look: ActorSpec  # skin and clothing


def actor(index: int, mesh: ActorMesh, workbench: bool = False) -> object:
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
    regions = vertex_regions(mesh.vertices[0], mesh.part_labels, mesh.canonical_joints[0], mesh.look.clothing)
    face_regions = face_majority(regions, mesh.faces)
    for name, values in (("part", face_majority(mesh.part_labels, mesh.faces)), ("region", face_regions)):
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
    obj.data.materials.append(actor_material(index, mesh.look))
    if workbench:
        c = mesh.look.clothing
        palette = np.array([skin_linear(mesh.look.skin_tone_monk), garment_linear(c.top), garment_linear(c.bottom),
                            garment_linear(c.shoes)])
        display_colours(obj, np.repeat(palette[face_regions], 3, axis=0))
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


def actor_material(index: int, look: ActorSpec):
    """Skin (measured albedo, subsurface scattering) with painted garment regions on the body mesh."""
    clothing = look.clothing
    mat = bpy.data.materials.new(f"actor{index}")
    tree = node_tree(mat)
    bsdf = tree.nodes.new("ShaderNodeBsdfPrincipled")
    bsdf.inputs["Subsurface Radius"].default_value = SKIN_SCATTER_RADIUS
    bsdf.inputs["Subsurface Scale"].default_value = SKIN_SCATTER_SCALE_M
    tree.links.new(bsdf.outputs[0], tree.nodes.new("ShaderNodeOutputMaterial").inputs["Surface"])
    region = tree.nodes.new("ShaderNodeAttribute")
    region.attribute_name = "region"
    uv = tree.nodes.new("ShaderNodeUVMap")
    colour = None
    rough = None
    skin = (*skin_linear(look.skin_tone_monk), 1.0)
    garments = {TOP: clothing.top, BOTTOM: clothing.bottom, SHOES: clothing.shoes}
    for region_id in (0, TOP, BOTTOM, SHOES):
        if region_id == 0:
            c = tree.nodes.new("ShaderNodeRGB")
            c.outputs[0].default_value = skin
            colour_socket, roughness = c.outputs[0], look.skin_roughness
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
    skin_only = tree.nodes.new("ShaderNodeMath")  # scattering on skin faces (region 0), not on paint
    skin_only.operation = "COMPARE"
    skin_only.inputs[1].default_value, skin_only.inputs[2].default_value = 0.0, 0.5
    tree.links.new(region.outputs["Fac"], skin_only.inputs[0])
    weight = tree.nodes.new("ShaderNodeMath")
    weight.operation = "MULTIPLY"
    weight.inputs[1].default_value = look.skin_subsurface
    tree.links.new(skin_only.outputs[0], weight.inputs[0])
    tree.links.new(weight.outputs[0], bsdf.inputs["Subsurface Weight"])
    return mat
