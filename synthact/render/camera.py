"""Camera placement and motion from a SceneSpec, in plain numpy (no Blender).

Conventions: world Z up. Blender cameras look along their local -Z with +Y up; exported matrices use
OpenCV's camera frame (x right, y down, z forward) and pixel centres at integer coordinates, so a
point X in the world projects to  K @ (R @ X + t)  with [R | t] = world_to_camera.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from synthact.spec import CameraSpec

BLENDER_TO_OPENCV = np.diag([1.0, -1.0, -1.0])  # camera-frame axes: Blender (-Z forward, +Y up) -> OpenCV
FRAMING_FILL = 0.8  # the actors' whole path stays inside this fraction of the image


@dataclass(frozen=True)
class CameraTrack:
    K: np.ndarray  # (3, 3) pixels
    cam_to_world: np.ndarray  # (T, 4, 4) Blender camera object matrices
    width: int
    height: int
    focal_length_mm: float
    sensor_width_mm: float
    targets: np.ndarray  # (T, 3) the point the camera aims at in each frame (the focus distance for DOF)

    @property
    def world_to_camera(self) -> np.ndarray:
        """(T, 4, 4) OpenCV world-to-camera matrices."""
        w2c = np.linalg.inv(self.cam_to_world)
        w2c[:, :3, :] = BLENDER_TO_OPENCV @ w2c[:, :3, :]
        return w2c

    @property
    def positions(self) -> np.ndarray:
        return self.cam_to_world[:, :3, 3]


def intrinsics(focal_length_mm: float, sensor_width_mm: float, width: int, height: int) -> np.ndarray:
    f = focal_length_mm / sensor_width_mm * width  # horizontal sensor fit, square pixels
    return np.array([[f, 0.0, width / 2 - 0.5], [0.0, f, height / 2 - 0.5], [0.0, 0.0, 1.0]])


def project(points: np.ndarray, K: np.ndarray, world_to_camera: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """points (..., 3) with matching (..., 4, 4) or one (4, 4) -> pixels (..., 2) and camera depth (...); K is a
    pinhole matrix (last row 0 0 1).

    By hand rather than cv2.projectPoints: flow projects whole pixel grids with a camera per point, and the
    depth of each point (to tell what is behind the camera) comes out of the same product."""
    if world_to_camera.ndim == 2:  # one camera for all points: one 3 x 4 product (K's last row is 0 0 1)
        P = K @ world_to_camera[:3]
        uv = points @ P[:, :3].T + P[:, 3]
    else:
        uv = (np.einsum("...ij,...j->...i", world_to_camera[..., :3, :3], points) + world_to_camera[..., :3, 3]) @ K.T
    z = uv[..., 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        return uv[..., :2] / uv[..., 2:3], z


def look_at(eye: np.ndarray, target: np.ndarray, roll: float = 0.0) -> np.ndarray:
    """4x4 Blender camera matrix at eye looking at target (no roll: the horizon is level)."""
    forward = target - eye
    forward = forward / np.linalg.norm(forward)
    up = np.array([0.0, 0.0, 1.0])
    right = np.cross(forward, up)
    if np.linalg.norm(right) < 1e-6:  # looking straight down or up
        right = np.array([1.0, 0.0, 0.0])
    right /= np.linalg.norm(right)
    cam_up = np.cross(right, forward)
    c, s = math.cos(roll), math.sin(roll)
    right, cam_up = c * right + s * cam_up, -s * right + c * cam_up
    m = np.eye(4)
    m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = right, cam_up, -forward, eye
    return m


def _rotate_about(m: np.ndarray, axis: np.ndarray, angle: float) -> np.ndarray:
    """Turn a camera about an axis through its own position."""
    axis = axis / np.linalg.norm(axis)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    r = np.eye(3) + math.sin(angle) * k + (1 - math.cos(angle)) * (k @ k)
    out = m.copy()
    out[:3, :3] = r @ m[:3, :3]
    return out


def framing_distance(points: np.ndarray, target: np.ndarray, fov_h: float, aspect: float) -> float:
    """Smallest distance at which a sphere around all points fits in the framed part of the image."""
    radius = float(np.linalg.norm(points - target, axis=-1).max()) + 0.25
    half = min(math.tan(fov_h / 2), math.tan(fov_h / 2) / aspect) * FRAMING_FILL
    return radius / math.sin(math.atan(half))


def smooth(path: np.ndarray, fps: float, seconds: float = 0.5) -> np.ndarray:
    """A path (T, 3) smoothed with a Gaussian of the given width (a camera operator's lag, not jitter)."""
    from scipy.ndimage import gaussian_filter1d
    return gaussian_filter1d(path, sigma=max(seconds * fps, 1e-3), axis=0, mode="nearest")


def camera_track(spec: CameraSpec, subject: np.ndarray, fps: float, width: int, height: int,
                 turn_deg: float = 0.0, focal_length_mm: float | None = None) -> CameraTrack:
    """A camera path for a clip.

    subject (T, N, 3): points to keep in view (the actors' joints). By distance (framing 0), the camera is
    placed at the spec's yaw, height and distance from the subject's centre, pulled back if needed so the
    whole clip stays in frame. By framing, it stands where the actors' height spans that share of the image
    and travels with their (smoothed) centre, like a tracking shot. Then it moves as the spec's camera
    motion says. turn_deg is added to the spec's yaw, and focal_length_mm replaces the spec's (a room turns the
    camera, and widens the lens keeping the framing, until it fits: places.py).
    """
    frames = subject.shape[0]
    t = np.arange(frames) / fps
    centre = subject.reshape(-1, 3).mean(axis=0)
    focal = spec.focal_length_mm if focal_length_mm is None else focal_length_mm
    fov_h = math.radians(spec.fov_deg) if focal_length_mm is None else 2 * math.atan(spec.sensor_width_mm / (2 * focal))
    if spec.framing > 0:
        stature = float(subject[..., 2].max() - min(subject[..., 2].min(), 0.0)) + 0.12  # the head joint to the crown
        fov_v = 2 * math.atan(math.tan(fov_h / 2) * height / width)
        distance = stature / (2 * math.tan(fov_v / 2) * spec.framing)
        targets = smooth(subject.mean(axis=1), fps)
        targets[:, 2] = stature / 2
        centre = targets.mean(axis=0)
    else:
        distance = max(spec.distance_m, framing_distance(subject.reshape(-1, 3), centre, fov_h, width / height))
        targets = np.tile(centre, (frames, 1))
    m = spec.motion
    yaw = math.radians(spec.yaw_deg + turn_deg)
    mats = np.empty((frames, 4, 4))
    rng = np.random.default_rng(m.shake_seed)
    phases = rng.uniform(0, 2 * math.pi, (3, 3))
    rates = np.array([1.0, 1.7, 2.9])
    for i, ti in enumerate(t):
        orbit = math.radians(m.orbit_deg_per_s) * ti
        d = max(distance - m.dolly_m_per_s * ti, 0.8)
        horizontal = math.sqrt(max(d * d - (spec.height_m - centre[2]) ** 2, 0.25))
        anchor = targets[i] if spec.framing > 0 else centre  # by framing, the camera travels with the actors
        eye = anchor + [horizontal * math.cos(yaw + orbit), horizontal * math.sin(yaw + orbit), 0.0]
        eye[2] = spec.height_m
        cam = look_at(eye, targets[i], math.radians(spec.roll_deg))
        cam = _rotate_about(cam, cam[:3, 0], math.radians(spec.pitch_offset_deg))
        if m.pan_deg_per_s:
            cam = _rotate_about(cam, np.array([0.0, 0.0, 1.0]), math.radians(m.pan_deg_per_s) * ti)
        if m.shake_amplitude_deg:
            wobble = np.sin(2 * math.pi * m.shake_frequency_hz * rates[:, None] * ti + phases).sum(axis=0) / 3
            amp = math.radians(m.shake_amplitude_deg)
            for axis, angle in zip((cam[:3, 0], cam[:3, 1], cam[:3, 2]), wobble * amp):
                cam = _rotate_about(cam, axis, angle)
        mats[i] = cam
    return CameraTrack(K=intrinsics(focal, spec.sensor_width_mm, width, height), cam_to_world=mats,
                       width=width, height=height, focal_length_mm=focal,
                       sensor_width_mm=spec.sensor_width_mm, targets=targets)
