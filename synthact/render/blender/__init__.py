"""Blender (bpy) backend: the only package that imports bpy.

engine: a fresh scene and the RGB render's settings; render: one scene built and rendered, and its static
geometry for the annotations; environment: ground, sky, sun, props; weather/: one module per weather
type; actors: meshes with keyed shape data and clothing materials; camera: the animated camera; log:
Blender's C output.
"""
