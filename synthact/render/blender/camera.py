"""The Blender camera object, keyed from a CameraTrack (render/camera.py computes the path)."""
from __future__ import annotations

import bpy
from mathutils import Matrix

from synthact.render.camera import CameraTrack


def camera(track: CameraTrack):
    data = bpy.data.cameras.new("camera")
    data.lens = track.focal_length_mm
    data.sensor_width = track.sensor_width_mm
    data.sensor_fit = "HORIZONTAL"
    data.clip_start, data.clip_end = 0.05, 1000.0
    obj = bpy.data.objects.new("camera", data)
    bpy.context.scene.collection.objects.link(obj)
    bpy.context.scene.camera = obj
    obj.rotation_mode = "QUATERNION"
    previous = None
    for frame, m in enumerate(track.cam_to_world):
        obj.matrix_world = Matrix(m.tolist())
        q = obj.rotation_quaternion.copy()
        if previous is not None and q.dot(previous) < 0:  # keep quaternions on one hemisphere
            q.negate()
            obj.rotation_quaternion = q
        previous = q
        obj.keyframe_insert("location", frame=frame)
        obj.keyframe_insert("rotation_quaternion", frame=frame)
    return obj
