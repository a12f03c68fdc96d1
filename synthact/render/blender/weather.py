"""What weather adds to a Blender scene: particles falling through a box around the stage (rain streaks,
snowflakes), one object with keyed motion. The weather types themselves are described in synthact/world/weather/."""
from __future__ import annotations

import math

import bpy
import numpy as np

from synthact.spec import EnvironmentSpec
from synthact.world.weather import weather_named

from .engine import node_tree


def falling_particles(env: EnvironmentSpec, rng: np.random.Generator, centre: np.ndarray, frames: int, fps: float):
    """The weather's particles as one moving object, or None when it has none."""
    particles = weather_named(env.weather).particles
    if particles is None or env.weather_intensity <= 0:
        return None
    n = int(600 + 3000 * env.weather_intensity)
    half, top = 8.0, 8.0
    fall = particles.speed_m_s * frames / fps
    pos = np.column_stack([rng.uniform(-half, half, n), rng.uniform(-half, half, n),
                           rng.uniform(0, top + fall, n)])
    length, width = particles.length_m, particles.width_m
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
    tree = node_tree(mat)
    emit = tree.nodes.new("ShaderNodeEmission")
    emit.inputs["Color"].default_value = (*particles.colour, 1)
    emit.inputs["Strength"].default_value = particles.strength
    transparent = tree.nodes.new("ShaderNodeBsdfTransparent")
    mix = tree.nodes.new("ShaderNodeMixShader")
    mix.inputs["Fac"].default_value = particles.transparency
    tree.links.new(transparent.outputs[0], mix.inputs[1])
    tree.links.new(emit.outputs[0], mix.inputs[2])
    tree.links.new(mix.outputs[0], tree.nodes.new("ShaderNodeOutputMaterial").inputs["Surface"])
    obj.data.materials.append(mat)
    obj.location = (centre[0], centre[1], 0.0)
    obj.keyframe_insert("location", frame=0)
    obj.location = (centre[0], centre[1], -fall)
    obj.keyframe_insert("location", frame=frames)
    return obj
