"""Blender (bpy) backend: the only package that imports bpy.

engine: a fresh scene, render settings, the RGB and annotation passes; environment: ground, sky, sun,
props; weather/: one module per weather type; actors: meshes with keyed shape data and clothing
materials; camera: the animated camera; passes: reading the annotation EXR; log: Blender's C output.
"""
