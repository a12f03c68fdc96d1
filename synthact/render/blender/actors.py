"""Actors in Blender: the body and what it wears as meshes with keyed shape data per frame (so Blender can
evaluate motion between frames), a face attribute for the material region, and the skin, fabric and hair
materials."""
from __future__ import annotations

from dataclasses import dataclass

import bpy
import numpy as np

from synthact.render.appearance import BOTTOM, HAT, SHOES, SKIN, TOP, garment_linear, hair_linear, skin_linear
from synthact.render.dressing import Surface
from synthact.spec import ActorSpec, GarmentSpec, SeatSpec

from .engine import display_colours, node_tree

# Skin's mean free paths are longest in red (Jensen et al. 2001: about 3.7, 1.4 and 0.7 mm for R, G, B).
SKIN_SCATTER_RADIUS = (1.0, 0.37, 0.19)
SKIN_SCATTER_SCALE_M = 0.0037


@dataclass
class ActorMesh:
    """One actor ready for Blender: its surfaces (body, garments, hair) in world coordinates."""

    index: int
    surfaces: list[Surface]
    canonical_joints: np.ndarray  # (T, 22, 3)
    look: ActorSpec  # skin, clothing and hair
    built_seat: SeatSpec | None = None  # the bench or stool built under it, sized to its body (SeatSpec.built)


def actor(mesh: ActorMesh, workbench: bool = False) -> list:
    """One object per surface, with keyed shape data per frame (so Blender can evaluate motion between
    frames), a face attribute for the material region, and the actor's materials."""
    body_material = actor_material(mesh.index, mesh.look, mesh.surfaces)
    hair = hair_material(mesh.index, mesh.look)
    objects = []
    for surface in mesh.surfaces:
        obj = _keyed_mesh(f"actor{mesh.index}_{surface.name}", surface)
        obj.data.materials.append(hair if surface.name in ("hair", "eyebrows", "eyelashes") else body_material)
        if workbench:
            display_colours(obj, np.repeat(_workbench_palette(mesh.look, surface)[surface.region], 3, axis=0))
        objects.append(obj)
    return objects


def _keyed_mesh(name: str, surface: Surface):
    """The surface as a mesh with one shape key per frame (the vertices the annotations are ray-cast against,
    so Blender's frame and numpy's agree) and its material region as a face attribute."""
    t, v, _ = surface.vertices.shape
    f = len(surface.faces)
    me = bpy.data.meshes.new(name)
    me.vertices.add(v)
    me.vertices.foreach_set("co", surface.vertices[0].astype(np.float32).ravel())
    me.loops.add(3 * f)
    me.loops.foreach_set("vertex_index", surface.faces.astype(np.int32).ravel())
    me.polygons.add(f)
    me.polygons.foreach_set("loop_start", np.arange(0, 3 * f, 3, dtype=np.int32))
    me.update()
    me.validate(clean_customdata=False)
    uv = me.uv_layers.new(name="UVMap")
    uv.data.foreach_set("uv", surface.uv.astype(np.float32).ravel())
    me.polygons.foreach_set("use_smooth", np.ones(f, bool))
    me.attributes.new("region", "FLOAT", "FACE").data.foreach_set("value", surface.region.astype(np.float32))
    obj = bpy.data.objects.new(name, me)
    bpy.context.scene.collection.objects.link(obj)
    obj.shape_key_add(name="Basis", from_mix=False)
    for k in range(t):
        key = obj.shape_key_add(name=f"f{k}", from_mix=False)
        key.data.foreach_set("co", surface.vertices[k].astype(np.float32).ravel())
        for frame, value in ((k - 1, 0.0), (k, 1.0), (k + 1, 0.0)):
            key.value = value
            key.keyframe_insert("value", frame=frame)
    return obj


def _workbench_palette(look: ActorSpec, surface: Surface) -> np.ndarray:
    c = look.clothing
    hair = hair_linear(look.clothing.hair_melanin, look.clothing.hair_redness)
    return np.array([skin_linear(look.skin_tone_monk), garment_linear(c.top), garment_linear(c.bottom),
                     garment_linear(c.shoes), surface.hint_rgb or (0.05, 0.05, 0.05), hair])


def hair_material(index: int, look: ActorSpec):
    """Principled Hair BSDF by melanin (dark brown to black), its redness, and some roughness."""
    mat = bpy.data.materials.new(f"actor{index}_hair")
    tree = node_tree(mat)
    hair = tree.nodes.new("ShaderNodeBsdfHairPrincipled")
    hair.parametrization = "MELANIN"
    hair.inputs["Melanin"].default_value = look.clothing.hair_melanin
    hair.inputs["Melanin Redness"].default_value = look.clothing.hair_redness
    hair.inputs["Roughness"].default_value = 0.35
    tree.links.new(hair.outputs[0], tree.nodes.new("ShaderNodeOutputMaterial").inputs["Surface"])
    return mat


def _pattern(tree, garment: GarmentSpec, uv_socket):
    """A 0..1 pattern factor on a garment's UVs (solid: None): prints, stripes, checks, dots, and weave,
    denim and knit textures."""
    rng = np.random.default_rng(garment.pattern_seed)
    kind = garment.pattern
    if kind == "solid":
        return None
    node = tree.nodes.new({"stripes": "ShaderNodeTexWave", "checker": "ShaderNodeTexChecker",
                           "dots": "ShaderNodeTexVoronoi", "noise": "ShaderNodeTexNoise", "weave": "ShaderNodeTexBrick",
                           "denim": "ShaderNodeTexWave", "knit": "ShaderNodeTexVoronoi"}[kind])
    tree.links.new(uv_socket, node.inputs["Vector"])
    scale = {"weave": (150, 250), "denim": (200, 320), "knit": (90, 160)}.get(kind, (15, 45))
    node.inputs["Scale"].default_value = float(rng.uniform(*scale))
    if kind in ("stripes", "denim"):
        node.wave_type = "BANDS"
        node.bands_direction = "DIAGONAL" if kind == "denim" else str(rng.choice(["X", "Y", "DIAGONAL"]))
        if kind == "denim":  # a fine twill: thin diagonal ridges with noisy thread
            node.inputs["Distortion"].default_value = 2.0
            node.inputs["Detail"].default_value = 4.0
            return node.outputs["Fac"]
        return _threshold(tree, node.outputs["Fac"], "GREATER_THAN", 0.5)
    if kind == "dots":
        return _threshold(tree, node.outputs["Distance"], "LESS_THAN", float(rng.uniform(0.2, 0.35)))
    if kind == "weave":  # warp and weft as tiny alternating bricks
        node.inputs["Mortar Size"].default_value = 0.05
        return node.outputs["Fac"]
    if kind == "knit":  # stitches: elongated cells
        node.feature = "F1"
        return node.outputs["Distance"]
    return node.outputs["Fac"]


def _threshold(tree, socket, operation: str, value: float):
    node = tree.nodes.new("ShaderNodeMath")
    node.operation = operation
    tree.links.new(socket, node.inputs[0])
    node.inputs[1].default_value = value
    return node.outputs[0]


def _fabric(tree, garment: GarmentSpec, uv_socket):
    """The garment's colour, and a darker or complementary second colour where the pattern says."""
    base = np.array(garment_linear(garment))
    rng = np.random.default_rng(garment.pattern_seed + 1)
    other = base * 0.45 if rng.uniform() < 0.6 else np.array(
        garment_linear(GarmentSpec((garment.hue_deg + 180) % 360, garment.saturation, garment.value, "solid", 0)))
    if garment.pattern in ("weave", "denim", "knit"):
        other = base * 0.7  # texture, not a second colour
    mix = tree.nodes.new("ShaderNodeMix")
    mix.data_type = "RGBA"
    mix.inputs["A"].default_value = (*base, 1)
    mix.inputs["B"].default_value = (*other, 1)
    factor = _pattern(tree, garment, uv_socket)
    if factor is None:
        mix.inputs["Factor"].default_value = 0.0
    else:
        tree.links.new(factor, mix.inputs["Factor"])
    return mix.outputs["Result"]


def actor_material(index: int, look: ActorSpec, surfaces: list[Surface] = ()):
    """Skin (measured albedo, subsurface scattering), fabric of the top, bottom and shoes (colours and
    patterns on the UVs), and hats in their asset's colour: one material, chosen per face by its region."""
    clothing = look.clothing
    mat = bpy.data.materials.new(f"actor{index}")
    tree = node_tree(mat)
    bsdf = tree.nodes.new("ShaderNodeBsdfPrincipled")
    bsdf.inputs["Subsurface Radius"].default_value = SKIN_SCATTER_RADIUS
    bsdf.inputs["Subsurface Scale"].default_value = SKIN_SCATTER_SCALE_M
    tree.links.new(bsdf.outputs[0], tree.nodes.new("ShaderNodeOutputMaterial").inputs["Surface"])
    region = tree.nodes.new("ShaderNodeAttribute")
    region.attribute_name = "region"
    uv = tree.nodes.new("ShaderNodeUVMap").outputs["UV"]
    skin = tree.nodes.new("ShaderNodeRGB")
    skin.outputs[0].default_value = (*skin_linear(look.skin_tone_monk), 1.0)
    hat = tree.nodes.new("ShaderNodeRGB")
    hat.outputs[0].default_value = (*next((s.hint_rgb for s in surfaces if s.name == "hat" and s.hint_rgb),
                                          (0.04, 0.035, 0.03)), 1.0)
    looks = [(SKIN, skin.outputs[0], look.skin_roughness), (TOP, _fabric(tree, clothing.top, uv), 0.85),
             (BOTTOM, _fabric(tree, clothing.bottom, uv), 0.85), (SHOES, _fabric(tree, clothing.shoes, uv), 0.5),
             (HAT, hat.outputs[0], 0.7)]
    colour, rough = looks[0][1], looks[0][2]
    for region_id, colour_socket, roughness in looks[1:]:
        is_region = _threshold(tree, region.outputs["Fac"], "COMPARE", float(region_id))
        is_region.node.inputs[2].default_value = 0.5
        blend = tree.nodes.new("ShaderNodeMix")
        blend.data_type = "RGBA"
        tree.links.new(is_region, blend.inputs["Factor"])
        tree.links.new(colour, blend.inputs["A"])
        tree.links.new(colour_socket, blend.inputs["B"])
        colour = blend.outputs["Result"]
        r = tree.nodes.new("ShaderNodeMix")
        r.data_type = "FLOAT"
        tree.links.new(is_region, r.inputs["Factor"])
        if isinstance(rough, float):
            r.inputs["A"].default_value = rough
        else:
            tree.links.new(rough, r.inputs["A"])
        r.inputs["B"].default_value = roughness
        rough = r.outputs["Result"]
    tree.links.new(colour, bsdf.inputs["Base Color"])
    tree.links.new(rough, bsdf.inputs["Roughness"])
    skin_only = _threshold(tree, region.outputs["Fac"], "COMPARE", 0.0)  # scattering on skin, not on cloth
    skin_only.node.inputs[2].default_value = 0.5
    weight = _threshold(tree, skin_only, "MULTIPLY", look.skin_subsurface)
    tree.links.new(weight, bsdf.inputs["Subsurface Weight"])
    return mat
