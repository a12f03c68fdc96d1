"""The Blender camera object, keyed from a CameraTrack (render/camera.py computes the path)."""
from __future__ import annotations

import bpy
import numpy as np
from mathutils import Matrix

from synthact.render.camera import CameraTrack


def camera(track: CameraTrack, fstop: float = 0.0):
    """The camera object keyed per frame; with an f-stop, depth of field focused on the track's target."""
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
        if fstop > 0:
            data.dof.focus_distance = float(np.linalg.norm(track.targets[frame] - m[:3, 3]))
            data.dof.keyframe_insert("focus_distance", frame=frame)
    data.dof.aperture_fstop = fstop if fstop > 0 else 2.8
    return obj
