import math

import numpy as np

from synthact.render.camera import camera_track, intrinsics, look_at, project
from synthact.spec import CameraMotionSpec, CameraSpec


def spec(**kw):
    base = dict(focal_length_mm=36.0, sensor_width_mm=36.0, fov_deg=2 * math.degrees(math.atan(0.5)),
                distance_m=5.0, height_m=1.0, yaw_deg=0.0, pitch_offset_deg=0.0, roll_deg=0.0,
                motion=CameraMotionSpec("static"), framing=0.0, fstop=0.0, exposure_ev=0.0, white_balance_k=6500.0)
    base.update(kw)
    return CameraSpec(**base)


def test_opencv_conventions():
    K = intrinsics(36.0, 36.0, 101, 81)
    assert K[0, 0] == K[1, 1] == 101 and K[0, 2] == 50 and K[1, 2] == 40
    cam = look_at(np.array([5.0, 0.0, 1.0]), np.array([0.0, 0.0, 1.0]))
    w2c = np.linalg.inv(cam)
    w2c[:3] = np.diag([1.0, -1.0, -1.0]) @ w2c[:3]
    centre, z = project(np.array([0.0, 0.0, 1.0]), K, w2c)
    assert np.allclose(centre, [50, 40]) and np.isclose(z, 5.0)
    above, _ = project(np.array([0.0, 0.0, 2.0]), K, w2c)
    assert above[1] < 40  # y points down in the image
    right, _ = project(np.array([0.0, 1.0, 1.0]), K, w2c)  # camera on +X looking at -X: +Y is on its right
    assert right[0] > 50


def test_static_camera_keeps_the_subject_framed_and_level():
    subject = np.zeros((10, 2, 3))
    subject[:, 0, 1] = np.linspace(-3, 3, 10)  # walks 6 m sideways
    subject[:, 1, 2] = 1.8
    track = camera_track(spec(distance_m=2.0), subject, 30, 160, 120)
    assert np.allclose(track.positions, track.positions[0])
    for t in range(10):
        uv, z = project(subject[t], track.K, track.world_to_camera[t])
        assert (z > 0).all() and (uv[:, 0] > 0).all() and (uv[:, 0] < 160).all()
        assert (uv[:, 1] > 0).all() and (uv[:, 1] < 120).all()
    right = track.cam_to_world[0, :3, 0]
    assert abs(right[2]) < 1e-9  # no roll: the horizon is level


def test_camera_motions_move_the_camera_as_named():
    subject = np.zeros((31, 1, 3)) + [0, 0, 1]
    orbit = camera_track(spec(motion=CameraMotionSpec("orbit", orbit_deg_per_s=90.0)), subject, 30, 64, 64)
    p0, p1 = orbit.positions[0], orbit.positions[30]
    angle = math.degrees(math.atan2(p1[1], p1[0]) - math.atan2(p0[1], p0[0]))
    assert abs(angle - 90) < 1e-6
    dolly = camera_track(spec(motion=CameraMotionSpec("dolly", dolly_m_per_s=1.0)), subject, 30, 64, 64)
    assert np.linalg.norm(dolly.positions[30] - [0, 0, 1]) < np.linalg.norm(dolly.positions[0] - [0, 0, 1]) - 0.9
    shake = camera_track(spec(motion=CameraMotionSpec("handheld", shake_amplitude_deg=1.0, shake_frequency_hz=2.0,
                                                      shake_seed=4)), subject, 30, 64, 64)
    assert np.allclose(shake.positions, shake.positions[0])
    turns = [math.degrees(math.acos(np.clip((np.trace(shake.cam_to_world[0, :3, :3].T @ m[:3, :3]) - 1) / 2, -1, 1)))
             for m in shake.cam_to_world]
    assert 0.1 < max(turns) < 5


def test_framing_sets_the_shot_size_and_follows_a_moving_subject():
    t = 30
    walk = np.linspace(-2.0, 2.0, t)  # a subject 1.8 m tall walking 4 m along y
    subject = np.stack([np.stack([np.zeros(t), walk, np.full(t, z)], -1) for z in (0.0, 0.9, 1.68)], axis=1)
    for framing in (0.3, 0.8):
        track = camera_track(spec(framing=framing, distance_m=0.0), subject, 30, 120, 160)
        for i in (0, t // 2, t - 1):
            uv, _ = project(subject[i], track.K, track.world_to_camera[i])
            height = (uv[0, 1] - uv[2, 1] + 0.12 / 1.68 * (uv[0, 1] - uv[2, 1])) / 160
            assert abs(height - framing) < 0.08 * framing, (framing, i, height)
            assert 0 < uv[:, 0].min() and uv[:, 0].max() < 120  # followed: in view at both ends of the walk
