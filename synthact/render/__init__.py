"""Rendering: a SceneSpec in, a clip's layers out. camera, annotate, appearance, effects and layers are
plain numpy; blender/ is the Blender backend and the only place bpy is imported."""
from .errors import SceneError

__all__ = ["SceneError"]
