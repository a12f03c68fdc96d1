"""Rendering: a SceneSpec in, a clip's layers out. camera, raster, annotate, appearance, effects and layers
are plain numpy; blender/ is the Blender backend (the RGB frames) and the only place bpy is imported."""
from .errors import SceneError

__all__ = ["SceneError"]
