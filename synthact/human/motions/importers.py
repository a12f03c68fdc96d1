"""Importers for recorded motion: BVH files (CMU conversions and similar) and AMASS .npz (SMPL-H poses).

Both produce a Motion on the canonical skeleton: facing -Y at the first frame, starting above the
origin, soles on the ground, with foot contacts detected from foot height and speed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .motion import Motion, MotionError
from .quality import sole_points
from .retarget import contact_segments
from .rotations import axis_angle_to_matrix, euler_to_matrix, matrix_to_axis_angle, rot_z
from .skeleton import (
    JOINT_NAMES,
    NUM_JOINTS,
    PARENTS,
    SMPL_TO_CANONICAL,
    J,
    Skeleton,
    align_to_canonical,
    forward_kinematics,
    local_from_global,
)

# --- shared finishing ----------------------------------------------------------------------------

CONTACT_HEIGHT = 0.04  # a sole point this close to the ground ...
CONTACT_SPEED = 0.5  # ... and moving slower than this (m/s, smoothed over ~50 ms) is planted
MAX_PLANTED_DRIFT = 0.05  # metres a planted foot may drift before the contact is ended


def finish_motion(glob: np.ndarray, root: np.ndarray, skeleton: Skeleton, fps: float, *, class_name: str,
                  clip_id: str, source: str, license: str) -> Motion:
    """Normalise heading, position and ground, detect contacts and build the Motion."""
    glob, root = _face_minus_y(glob, root)
    root = root - [root[0, 0], root[0, 1], 0.0]
    local = local_from_global(glob)
    _, pos = forward_kinematics(skeleton, local, root)
    soles = sole_points(pos, skeleton)  # (T, 2, 2, 3)
    ground = np.percentile(soles[..., 2].min(axis=(1, 2)), 5)
    root = root - [0, 0, ground]
    soles[..., 2] -= ground
    contacts = detect_contacts(soles, fps)
    return Motion(fps=float(fps), root_translation=root, rotations=matrix_to_axis_angle(local), class_name=class_name,
                  clip_id=clip_id, source=source, license=license, contacts=contacts, skeleton=skeleton)


def _face_minus_y(glob: np.ndarray, root: np.ndarray):
    """Turn the whole motion about Z so the pelvis faces -Y in the first frame."""
    forward = glob[0, 0] @ np.array([0.0, -1.0, 0.0])
    yaw = np.arctan2(forward[0], -forward[1])  # 0 when facing -Y
    turn = rot_z(np.array(-yaw))
    return turn @ glob, root @ turn.T


def detect_contacts(soles: np.ndarray, fps: float, min_frames: int = 3) -> np.ndarray:
    """(T, 2) planted flags from sole points (T, 2 feet, 2 points, 3) already on a z = 0 ground."""
    width = max(int(round(0.05 * fps)), 1)
    kernel = np.ones(width) / width
    xy = soles[..., :2].reshape(len(soles), -1)
    smooth = np.stack([np.convolve(np.pad(xy[:, i], (width // 2, width - 1 - width // 2), mode="edge"), kernel,
                                   mode="valid") for i in range(xy.shape[1])], 1).reshape(soles[..., :2].shape)
    speed = np.zeros(soles.shape[:3])
    speed[1:] = np.linalg.norm(np.diff(smooth, axis=0), axis=-1) * fps
    speed[0] = speed[1] if len(speed) > 1 else 0
    point_down = (soles[..., 2] < CONTACT_HEIGHT) & (speed < CONTACT_SPEED)
    planted = point_down.any(axis=-1)
    for k in range(2):
        for a, b in contact_segments(planted[:, k]):
            # a foot that slides (dance pivots) is not planted: end the contact where it drifts away
            anchor = a
            for i in range(a, b):
                drift = np.linalg.norm(smooth[i, k] - smooth[anchor, k], axis=-1).min()
                if drift > MAX_PLANTED_DRIFT:
                    planted[i, k] = False
                    anchor = i + 1
        for a, b in contact_segments(planted[:, k]):  # drop flickers
            if b - a < min_frames:
                planted[a:b, k] = False
    return planted


# --- BVH ---------------------------------------------------------------------------------------

@dataclass
class BvhJoint:
    name: str
    parent: int
    offset: np.ndarray
    channels: list[str] = field(default_factory=list)
    end_site: np.ndarray | None = None


@dataclass
class Bvh:
    joints: list[BvhJoint]
    frame_time: float
    frames: np.ndarray  # (T, channels)

    def names(self) -> list[str]:
        return [j.name for j in self.joints]


class BvhError(MotionError):
    pass


_FRAME_TIME_LINE = re.compile(r"^[ \t]*Frame[ \t]+Time[ \t]*:.*$", re.MULTILINE | re.IGNORECASE)


def parse_bvh(text: str, source: str = "<bvh>") -> Bvh:
    # The header is read as tokens; the frames line by line, so a frame with a wrong count is found.
    end = _FRAME_TIME_LINE.search(text)
    header, data = (text[:end.end()], text[end.end():]) if end else (text, "")
    tokens = header.split()
    pos = 0

    def fail(msg: str):
        raise BvhError(f"{source}: {msg}")

    def take() -> str:
        nonlocal pos
        if pos >= len(tokens):
            fail("unexpected end of file")
        pos += 1
        return tokens[pos - 1]

    def number() -> float:
        tok = take()
        try:
            return float(tok)
        except ValueError:
            fail(f"expected a number, got {tok!r}")

    def count() -> int:
        value = number()
        if not value.is_integer() or value < 0:
            fail(f"expected a count, got {value:g}")
        return int(value)

    if take().upper() != "HIERARCHY":
        fail("does not start with HIERARCHY (not a BVH file)")
    joints: list[BvhJoint] = []
    stack: list[int] = []
    kind = take().upper()
    if kind != "ROOT":
        fail(f"expected ROOT, got {kind!r}")
    pending = "ROOT"
    while True:
        if pending in ("ROOT", "JOINT"):
            name = take()
            if take() != "{":
                fail(f"expected '{{' after joint {name}")
            if take().upper() != "OFFSET":
                fail(f"joint {name} has no OFFSET")
            offset = np.array([number(), number(), number()])
            joint = BvhJoint(name, stack[-1] if stack else -1, offset)
            if pos < len(tokens) and tokens[pos].upper() == "CHANNELS":
                take()
                n = count()
                joint.channels = [take() for _ in range(n)]
            joints.append(joint)
            stack.append(len(joints) - 1)
        elif pending == "END":
            take()  # "Site"
            if take() != "{" or take().upper() != "OFFSET":
                fail("malformed End Site")
            joints[stack[-1]].end_site = np.array([number(), number(), number()])
            if take() != "}":
                fail("End Site not closed")
        elif pending == "}":
            stack.pop()
            if not stack:
                break
        else:
            fail(f"unexpected {pending!r} in HIERARCHY")
        pending = take()
        pending = pending.upper() if pending.upper() in ("JOINT", "END", "MOTION") else pending
        if pending == "MOTION":
            fail("HIERARCHY braces are not balanced")
    if take().upper() != "MOTION":
        fail("no MOTION section")
    if take().rstrip(":").upper() != "FRAMES":
        fail("expected 'Frames:'")
    n_frames = count()
    if take().upper() != "FRAME" or take().rstrip(":").upper() != "TIME":
        fail("expected 'Frame Time:'")
    frame_time = number()
    n_channels = sum(len(j.channels) for j in joints)
    if n_frames <= 0:
        fail("the motion has no frames")
    if frame_time <= 0:
        fail(f"Frame Time must be > 0, got {frame_time}")
    rows = [row for row in (line.split() for line in data.splitlines()) if row]
    if len(rows) < n_frames:
        fail(f"the MOTION block is truncated: expected {n_frames} frames (Frames:), found {len(rows)}")
    for i, row in enumerate(rows[:n_frames]):
        if len(row) != n_channels:
            fail(f"frame {i + 1} has {len(row)} values but the HIERARCHY declares {n_channels} channels")
    try:
        frames = np.array(rows[:n_frames], dtype=np.float64)
    except ValueError:
        fail("MOTION data contains something that is not a number")
    if not np.isfinite(frames).all():
        fail("MOTION data contains NaN or infinite values")
    return Bvh(joints, frame_time, frames)


# Candidate BVH names for each canonical limb joint, in order of preference (case-insensitive).
_BVH_ALIASES = {
    "pelvis": ["hips", "hip", "pelvis", "root"],
    "left_hip": ["leftupleg", "lthigh", "leftthigh", "lefthip", "l_hip", "leftupperleg"],
    "left_knee": ["leftleg", "lshin", "leftknee", "leftlowerleg", "l_knee", "leftshin"],
    "left_ankle": ["leftfoot", "lfoot", "leftankle", "l_ankle"],
    "left_foot": ["lefttoebase", "lefttoe", "ltoe", "lefttoes", "l_toe"],
    "neck": ["neck", "neck1", "neck01"],
    "head": ["head"],
    "left_collar": ["lcollar", "leftcollar", "leftclavicle", "l_clavicle", "leftshoulder"],
    "left_shoulder": ["leftarm", "lshldr", "leftupperarm", "l_shoulder", "leftshoulder"],
    "left_elbow": ["leftforearm", "lforearm", "leftlowerarm", "leftelbow", "l_elbow"],
    "left_wrist": ["lefthand", "lhand", "leftwrist", "l_wrist"],
}


def _aliases(canonical: str) -> list[str]:
    if canonical.startswith("right_"):
        left = _BVH_ALIASES["left_" + canonical[6:]]
        return [a.replace("left", "right").replace("l_", "r_") if a.startswith(("left", "l_"))
                else "r" + a[1:] for a in left]
    return _BVH_ALIASES[canonical]


def bvh_joint_map(bvh: Bvh, source: str) -> dict[str, int]:
    """Canonical joint -> BVH joint index; the spine joints are spread along the pelvis-neck chain."""
    lower = {re.sub(r"[^a-z0-9_]", "", j.name.lower()): i for i, j in enumerate(bvh.joints)}
    found: dict[str, int] = {}
    for name in JOINT_NAMES:
        if name.startswith("spine"):
            continue
        for alias in _aliases(name):
            if alias in lower and lower[alias] not in found.values():
                found[name] = lower[alias]
                break
    required = [n for n in JOINT_NAMES if not n.startswith("spine") and not n.endswith("_foot")]
    missing = [n for n in required if n not in found]
    if missing:
        raise BvhError(f"{source}: unknown joint set: no BVH joint for {', '.join(missing)} "
                       f"(joints in the file: {', '.join(bvh.names()[:40])})")
    chain = []
    j = bvh.joints[found["neck"]].parent
    while j >= 0 and j != found["pelvis"]:
        chain.append(j)
        j = bvh.joints[j].parent
    chain = chain[::-1] or [found["pelvis"]]
    picks = np.linspace(0, len(chain) - 1, 3).round().astype(int)
    for k, name in enumerate(("spine1", "spine2", "spine3")):
        found[name] = chain[picks[k]]
    return found


def _bvh_world(bvh: Bvh) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """World rotations (T, B, 3, 3), positions (T, B, 3) and rest positions (B, 3), in BVH units/axes."""
    t = len(bvh.frames)
    b = len(bvh.joints)
    glob = np.empty((t, b, 3, 3))
    pos = np.empty((t, b, 3))
    rest = np.empty((b, 3))
    col = 0
    for i, joint in enumerate(bvh.joints):
        rot = np.tile(np.eye(3), (t, 1, 1))
        translation = np.zeros((t, 3))
        axes = ""
        angles = []
        for ch in joint.channels:
            kind, axis = ch.lower()[1:], ch.lower()[0]
            if kind == "position":
                translation[:, "xyz".index(axis)] = bvh.frames[:, col]
            elif kind == "rotation":
                axes += axis
                angles.append(bvh.frames[:, col])
            col += 1
        if axes:
            rot = euler_to_matrix(np.radians(np.stack(angles, -1)), axes)
        p = joint.parent
        rest[i] = joint.offset if p < 0 else rest[p] + joint.offset
        if p < 0:
            glob[:, i] = rot
            pos[:, i] = joint.offset + translation
        else:
            glob[:, i] = glob[:, p] @ rot
            pos[:, i] = pos[:, p] + np.einsum("tij,tj->ti", glob[:, p], joint.offset + translation)
    return glob, pos, rest


def _first_motion_frame(pos: np.ndarray, fps: float, rest: np.ndarray) -> int:
    """Skip leading calibration frames (many CMU conversions start with a T-pose frame).

    A frame is a calibration frame when the next one is more than a fast human's reach away
    (joints jumping faster than 15 m/s, measured relative to the figure's size).
    """
    size = max(np.ptp(rest, axis=0).max(), 1e-9)
    start = 0
    while start < min(len(pos) - 2, 10):
        jump = np.linalg.norm(pos[start + 1] - pos[start], axis=-1).max() / size * 1.7 * fps
        if jump < 15.0:
            break
        start += 1
    return start


def load_bvh(path: str | Path, class_name: str | None = None, license: str = "see source") -> Motion:
    path = Path(path)
    try:
        text = path.read_text(errors="strict")
    except (OSError, UnicodeDecodeError) as exc:
        raise BvhError(f"{path}: cannot read: {exc}") from None
    bvh = parse_bvh(text, str(path))
    mapping = bvh_joint_map(bvh, str(path))
    glob_b, pos_b, rest_b = _bvh_world(bvh)
    start = _first_motion_frame(pos_b, 1.0 / bvh.frame_time, rest_b)
    glob_b, pos_b = glob_b[start:], pos_b[start:]
    idx = [mapping.get(n, -1) for n in JOINT_NAMES]
    # Axes: BVH is Y up; which horizontal axis is the body's left comes from the hips.
    up = np.array([0.0, 1.0, 0.0])
    left = rest_b[mapping["left_hip"]] - rest_b[mapping["right_hip"]]
    left = left - up * (left @ up)
    if np.linalg.norm(left) < 1e-9:
        raise BvhError(f"{path}: the left and right hips coincide at rest")
    left /= np.linalg.norm(left)
    to_canonical = np.stack([left, np.cross(up, left), up])  # rows: images of canonical x, y, z
    # Units: scale the rest figure to a 1.62 m eye height (a body is retargeted to its own size later).
    heights = rest_b @ up
    scale = 1.62 / max(heights.max() - heights.min(), 1e-9)
    native = np.zeros((NUM_JOINTS, 3))
    for j, b in enumerate(idx):
        if b >= 0:
            native[j] = to_canonical @ rest_b[b] * scale
        else:  # no toe joint: put the ball of the foot ahead of the ankle
            ankle = native[J[JOINT_NAMES[j].replace("foot", "ankle")]]
            native[j] = ankle + [0.0, -0.12, -0.055]
    alignment, skeleton = align_to_canonical(native)
    glob = np.empty((len(glob_b), NUM_JOINTS, 3, 3))
    for j, b in enumerate(idx):
        source = glob_b[:, b if b >= 0 else mapping[JOINT_NAMES[j].replace("foot", "ankle")]]
        glob[:, j] = to_canonical @ source @ to_canonical.T @ alignment[j].T
    root = pos_b[:, mapping["pelvis"]] @ to_canonical.T * scale
    ankle_height = max(float(native[J["left_ankle"], 2] - native[:, 2].min()), 0.05)
    skeleton = Skeleton(skeleton.offsets, ankle_height=ankle_height)
    return finish_motion(glob, root, skeleton, 1.0 / bvh.frame_time, class_name=class_name or path.stem,
                         clip_id=path.stem, source=str(path), license=license)


# --- AMASS -------------------------------------------------------------------------------------

_SMPL_PELVIS = np.array([0.0014, -0.2222, 0.0287])  # typical SMPL-H rest pelvis joint (template frame)


def load_amass(path: str | Path, class_name: str | None = None, license: str = "AMASS license") -> Motion:
    path = Path(path)
    try:
        data = np.load(path, allow_pickle=False)
    except Exception as exc:  # noqa: BLE001 - numpy raises many kinds for a bad file
        raise MotionError(f"{path}: not a readable .npz file ({exc.__class__.__name__}: {exc})") from None
    for key in ("poses", "trans"):
        if key not in data:
            raise MotionError(f"{path}: missing array {key!r} (an AMASS file has poses, trans, mocap_framerate)")
    fps_key = next((k for k in ("mocap_framerate", "mocap_frame_rate") if k in data), None)
    if fps_key is None:
        raise MotionError(f"{path}: missing mocap_framerate")
    poses, trans, fps = np.asarray(data["poses"], float), np.asarray(data["trans"], float), float(data[fps_key])
    if poses.ndim != 2 or poses.shape[1] < 66 or trans.shape != (len(poses), 3):
        raise MotionError(f"{path}: poses must be (T, >=66) and trans (T, 3), got {poses.shape} and {trans.shape}")
    if len(poses) == 0:
        raise MotionError(f"{path}: the motion has no frames")
    if not (np.isfinite(poses).all() and np.isfinite(trans).all()):
        raise MotionError(f"{path}: poses or trans contain NaN or infinite values")
    local_smpl = axis_angle_to_matrix(poses[:, :66].reshape(-1, 22, 3))
    c = SMPL_TO_CANONICAL
    glob_smpl = np.empty_like(local_smpl)
    for j, p in enumerate(PARENTS):
        glob_smpl[:, j] = local_smpl[:, j] if p < 0 else glob_smpl[:, p] @ local_smpl[:, j]
    glob = glob_smpl @ c.T  # world rotation of each bone relative to the canonical T-pose
    root = trans + _SMPL_PELVIS
    return finish_motion(glob, root, Skeleton.reference(), fps, class_name=class_name or path.stem,
                         clip_id=path.stem, source=str(path), license=license)
