"""Blender (bpy) render workers: SceneSpec in, clip directory out. The only package that imports bpy."""
