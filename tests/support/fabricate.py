"""A numpy clip fabricator: valid clip directories for the dataset and training layers, without Blender.

Test support, not a renderer. Each actor is a stick body (capsules along the canonical skeleton's
bones) posed by a few sinusoids drawn from its motion_key, so two renders of one motion (same
motion_key, other camera, body and clothes) move alike and look different. The actors stand on an
infinite ground plane under a flat sky and are seen through the spec's real pinhole camera
(synthact.render.camera.camera_track, OpenCV convention). Every modality is derived from that one
scene, the way synthact/render/layers.py derives them from Blender's passes: depth (planar, +inf for
sky), flow (from the moving capsules and the moving camera; NaN for sky and the last forward / first
backward frame), segmentation (instance and body-part maps), keypoints (COCO-17 and the 22 joints in
the world, projected with K and world_to_camera, visibility from depth and the instance map, boxes).

The clip is written with synthact.clip.write_clip, so file names and array keys come from the clip
registry. The same spec gives identical arrays.
"""
from __future__ import annotations

import colorsys
import json
import math
from dataclasses import dataclass
from hashlib import blake2b
from pathlib import Path

import numpy as np

from synthact.clip import CameraRecord, Layers, write_clip
from synthact.human.bodies.base import COCO17_NAMES, PART_NAMES, PART_OF_CANONICAL_JOINT
from synthact.human.motions.rotations import rot_x, rot_y, rot_z
from synthact.human.motions.skeleton import JOINT_NAMES, PARENTS, J, Skeleton, forward_kinematics
from synthact.render import annotate
from synthact.render.appearance import garment_linear, skin_linear
from synthact.render.camera import camera_track, project
from synthact.spec import ActorSpec, SceneSpec
from synthact.world.semantics import CLASS_IDS, CLASSES

__all__ = ["FabricatedScene", "fabricate_batch", "fabricate_clip", "fabricate_layers", "fabricate_scene"]

MIN_RADIUS_PX = 0.75  # a capsule thinner than this still covers the pixel its axis passes through
FOOT_CLEARANCE_M = 0.025  # the lowest joint of every frame stands this high above the ground
P = {name: i for i, name in enumerate(PART_NAMES)}

# Capsules of the stick body: (from joint, to joint or None for a head ball, radius m, body part).
_BONES = [(JOINT_NAMES[p], JOINT_NAMES[j], 0.05, PART_NAMES[PART_OF_CANONICAL_JOINT[p]])
          for j, p in enumerate(PARENTS) if p >= 0 and JOINT_NAMES[p] != "neck"]
_CAPSULES = _BONES + [
    ("pelvis", "neck", 0.12, "torso"),  # the trunk
    ("left_hip", "right_hip", 0.08, "torso"),
    ("neck", "head", 0.05, "head"),
    ("head", None, 0.1, "head"),
    ("left_wrist", None, 0.045, "left_hand"),
    ("right_wrist", None, 0.045, "right_hand"),
]
_CAP_FROM = np.array([J[a] for a, _, _, _ in _CAPSULES])
_CAP_TO = np.array([J[b] if b else J[a] for a, b, _, _ in _CAPSULES])
_CAP_RADIUS = np.array([r for _, _, r, _ in _CAPSULES])
_CAP_PART = np.array([P[part] for _, _, _, part in _CAPSULES], np.uint8)
_HEAD_TOP = np.array([0.0, -0.02, 0.1])  # head-ball centre offset in the head joint's frame

# COCO face points in the head joint's frame (the body faces -Y, its left side is +X).
_FACE = {"nose": (0.0, -0.11, 0.08), "left_eye": (0.035, -0.09, 0.11), "right_eye": (-0.035, -0.09, 0.11),
         "left_ear": (0.08, 0.0, 0.09), "right_ear": (-0.08, 0.0, 0.09)}

_GROUND_SRGB = {"grass": (0.30, 0.45, 0.22), "asphalt": (0.30, 0.30, 0.32), "concrete": (0.56, 0.55, 0.52),
                "dirt": (0.46, 0.36, 0.26), "sand": (0.74, 0.68, 0.50), "tiles": (0.62, 0.56, 0.50),
                "wood": (0.55, 0.38, 0.22), "gravel": (0.50, 0.48, 0.45), "snow": (0.86, 0.88, 0.91)}


def _seed(*parts) -> int:
    return int.from_bytes(blake2b("/".join(map(str, parts)).encode(), digest_size=8).digest(), "little")


# --- bodies -------------------------------------------------------------------------------------------


def _motion_angles(actor: ActorSpec, t: np.ndarray) -> dict[str, np.ndarray]:
    """Joint angles (radians) over time t (seconds), drawn from the motion key alone."""
    rng = np.random.default_rng(_seed("motion", actor.motion.motion_key))
    time = t * actor.motion.speed + actor.motion.start_fraction * 2.0

    def wave(base, amp, lo=0.6, hi=1.6):
        f, phase = rng.uniform(lo, hi), rng.uniform(0, 2 * math.pi)
        return base + amp * np.sin(2 * math.pi * f * time + phase)

    def flex(amp):  # 0 .. amp
        return amp * (1 - np.cos(2 * math.pi * rng.uniform(0.5, 1.2) * time + rng.uniform(0, 2 * math.pi))) / 2

    out = {
        "left_abduct": wave(1.2, rng.uniform(0.2, 0.9)), "right_abduct": wave(1.2, rng.uniform(0.2, 0.9)),
        "left_swing": wave(0.0, rng.uniform(0.1, 0.8)), "right_swing": wave(0.0, rng.uniform(0.1, 0.8)),
        "left_elbow": flex(rng.uniform(0.2, 1.6)), "right_elbow": flex(rng.uniform(0.2, 1.6)),
        "left_hip": wave(0.0, rng.uniform(0.05, 0.5)), "right_hip": wave(0.0, rng.uniform(0.05, 0.5)),
        "left_knee": flex(rng.uniform(0.05, 1.0)), "right_knee": flex(rng.uniform(0.05, 1.0)),
        "bend": flex(rng.uniform(0.0, 0.6)),
        "yaw": rng.uniform(-0.3, 0.3) * time,
    }
    drift = rng.uniform(-0.4, 0.4, 2)
    out["drift"] = time[:, None] * drift - (actor.motion.start_fraction * 2.0) * drift
    if actor.motion.mirrored:  # a mirrored motion swaps the sides
        for a, b in (("left_abduct", "right_abduct"), ("left_swing", "right_swing"), ("left_elbow", "right_elbow"),
                     ("left_hip", "right_hip"), ("left_knee", "right_knee")):
            out[a], out[b] = out[b], out[a]
        out["yaw"] = -out["yaw"]
        out["drift"] = out["drift"] * [-1, 1]
    return out


def _pose(actor: ActorSpec, frames: int, fps: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """World joints (T, 22, 3), COCO-17 keypoints (T, 17, 3) and head-ball centres (T, 3) of one actor."""
    t = np.arange(frames) / fps
    a = _motion_angles(actor, t)
    scale = 0.9 + 0.2 * float(np.clip(actor.shape.height, 0, 1))
    skeleton = Skeleton(Skeleton.reference().offsets * scale)
    local = np.broadcast_to(np.eye(3), (frames, 22, 3, 3)).copy()
    local[:, J["left_shoulder"]] = rot_x(-a["left_swing"]) @ rot_y(a["left_abduct"])
    local[:, J["right_shoulder"]] = rot_x(-a["right_swing"]) @ rot_y(-a["right_abduct"])
    local[:, J["left_elbow"]] = rot_z(-a["left_elbow"])
    local[:, J["right_elbow"]] = rot_z(a["right_elbow"])
    local[:, J["left_hip"]] = rot_x(a["left_hip"])
    local[:, J["right_hip"]] = rot_x(a["right_hip"])
    local[:, J["left_knee"]] = rot_x(a["left_knee"])
    local[:, J["right_knee"]] = rot_x(a["right_knee"])
    local[:, J["spine1"]] = rot_x(a["bend"])
    local[:, J["pelvis"]] = rot_z(a["yaw"])
    root = np.zeros((frames, 3))
    root[:, :2] = a["drift"]
    root[:, 2] = skeleton.standing_pelvis_height
    glob, joints = forward_kinematics(skeleton, local, root)
    head_rot = glob[:, J["head"]]
    coco = np.empty((frames, 17, 3))
    for k, name in enumerate(COCO17_NAMES):
        if name in _FACE:
            coco[:, k] = joints[:, J["head"]] + head_rot @ (np.array(_FACE[name]) * scale)
        else:
            coco[:, k] = joints[:, J[name]]
    ball = joints[:, J["head"]] + head_rot @ (_HEAD_TOP * scale)
    # stand on the ground: the lowest joint of every frame just above z = 0
    lift = FOOT_CLEARANCE_M - joints[..., 2].min(axis=1)
    joints[..., 2] += lift[:, None]
    coco[..., 2] += lift[:, None]
    ball[:, 2] += lift
    facing = rot_z(np.array(math.radians(actor.facing_deg)))
    offset = np.array([actor.position_xy[0], actor.position_xy[1], 0.0])
    place = lambda p: p @ facing.T + offset  # noqa: E731
    return place(joints), place(coco), place(ball)


# --- rasterising ----------------------------------------------------------------------------------------


@dataclass
class FabricatedScene:
    """Everything the layers are made from (handy for tests that want more than the files)."""

    spec: SceneSpec
    camera: CameraRecord
    joints: np.ndarray  # (T, A, 22, 3) world
    coco: np.ndarray  # (T, A, 17, 3) world
    rgb: np.ndarray  # (T, H, W, 3) uint8
    depth: np.ndarray  # (T, H, W) float32, +inf: sky
    instance: np.ndarray  # (T, H, W) uint8
    body_part: np.ndarray  # (T, H, W) uint8
    flow_forward: np.ndarray  # (T, H, W, 2) float32
    flow_backward: np.ndarray
    amodal: np.ndarray  # (T, A, 4) float32


def _capsule_ends(joints: np.ndarray, balls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(A, C, 3) start and end points of every actor's capsules in one frame."""
    start, end = joints[:, _CAP_FROM].copy(), joints[:, _CAP_TO].copy()
    head_ball = [i for i, (a, b, _, _) in enumerate(_CAPSULES) if a == "head" and b is None][0]
    start[:, head_ball] = end[:, head_ball] = balls
    return start, end


def _rasterise(start, end, K, w2c, width, height):
    """Nearest capsule surface per pixel: depth (+inf: none), capsule index (-1: none), position along the
    capsule's axis (0 .. 1) and a shading term; plus each capsule's projected extent and whether it is in
    front of the camera. Only the pixels around the capsules are computed."""
    a, b = start.reshape(-1, 3), end.reshape(-1, 3)
    radius = np.tile(_CAP_RADIUS, len(start))
    uva, za = project(a, K, w2c)
    uvb, zb = project(b, K, w2c)
    ok = (za > 0.05) & (zb > 0.05)
    f = K[0, 0]
    rad = np.ones((len(a), 2, 1))
    rad[ok] = np.stack([np.maximum(f * radius[ok] / za[ok], MIN_RADIUS_PX),
                        np.maximum(f * radius[ok] / zb[ok], MIN_RADIUS_PX)], 1)[..., None] + 0.5
    ends = np.stack([uva, uvb], 1)  # (C, 2, 2)
    lo, hi = ends - rad, ends + rad  # the projected extent of each capsule, with the mask's half-pixel edges
    depth = np.full((height, width), np.inf)
    index = np.full((height, width), -1, np.int64)
    along = np.zeros((height, width))
    shade = np.zeros((height, width))
    if not ok.any():
        return depth, index, along, shade, lo, hi, ok
    x0, y0 = np.maximum(np.floor(lo[ok].min((0, 1))).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(hi[ok].max((0, 1))).astype(int) + 1, [width, height])
    if x0 >= x1 or y0 >= y1:
        return depth, index, along, shade, lo, hi, ok
    keep = np.flatnonzero(ok)
    pa, ab, r = uva[keep], uvb[keep] - uva[keep], radius[keep]
    za_, dz = za[keep], zb[keep] - za[keep]
    ys, xs = np.mgrid[y0:y1, x0:x1]
    pix = np.stack([xs.ravel(), ys.ravel()], -1).astype(np.float64)
    rel = pix[:, None, :] - pa  # (N, C, 2)
    s = np.clip((rel * ab).sum(-1) / np.maximum((ab * ab).sum(-1), 1e-12), 0, 1)
    d = np.linalg.norm(rel - s[..., None] * ab, axis=-1)
    z = za_ + s * dz
    rpx = np.maximum(f * r / z, MIN_RADIUS_PX)
    bulge = np.sqrt(np.clip(1 - (d / rpx) ** 2, 0, 1))
    surface = np.where(d <= rpx, z - r * bulge, np.inf)
    best = surface.argmin(axis=1)
    rows = np.arange(len(pix))
    win = (slice(y0, y1), slice(x0, x1))
    hit = surface[rows, best]
    depth[win] = hit.reshape(y1 - y0, x1 - x0)
    index[win] = np.where(np.isfinite(hit), keep[best], -1).reshape(y1 - y0, x1 - x0)
    along[win] = s[rows, best].reshape(y1 - y0, x1 - x0)
    shade[win] = bulge[rows, best].reshape(y1 - y0, x1 - x0)
    return depth, index, along, shade, lo, hi, ok


def _ground(K, w2c, width, height):
    """Planar depth of the ground plane z = 0 (+inf above the horizon) and the world points seen."""
    ys, xs = np.mgrid[0:height, 0:width]
    rays = np.stack([xs, ys, np.ones_like(xs)], -1).astype(np.float64) @ np.linalg.inv(K).T  # camera z = 1
    r, t = w2c[:3, :3], w2c[:3, 3]
    centre = -r.T @ t
    world = rays @ r  # R^T @ ray for every pixel
    with np.errstate(divide="ignore", invalid="ignore"):
        depth = np.where(world[..., 2] < -1e-9, -centre[2] / world[..., 2], np.inf)
    depth = np.where(depth > 0, depth, np.inf)
    points = centre + np.where(np.isfinite(depth), depth, 0)[..., None] * world
    return depth, points


def _srgb(linear) -> np.ndarray:
    c = np.clip(np.asarray(linear, float), 0, 1)
    return np.where(c <= 0.0031308, 12.92 * c, 1.055 * c ** (1 / 2.4) - 0.055)


def _actor_palette(actor: ActorSpec) -> np.ndarray:
    """(P, 3) sRGB colour of each body part, and a stripe flag per part in column 3."""
    c = actor.clothing
    skin = _srgb(skin_linear(actor.skin_tone_monk))
    top, bottom, shoes = (_srgb(garment_linear(g)) for g in (c.top, c.bottom, c.shoes))
    palette = np.zeros((len(PART_NAMES), 4))
    for side in ("left", "right"):
        palette[P[f"{side}_upper_arm"], :3] = top if c.top_sleeves != "none" else skin
        palette[P[f"{side}_lower_arm"], :3] = top if c.top_sleeves == "long" else skin
        palette[P[f"{side}_hand"], :3] = skin
        palette[P[f"{side}_upper_leg"], :3] = bottom
        palette[P[f"{side}_lower_leg"], :3] = bottom if c.bottom_length != "shorts" else skin
        palette[P[f"{side}_foot"], :3] = shoes
    palette[P["torso"], :3] = top
    palette[P["head"], :3] = skin
    palette[P["torso"], 3] = c.top.pattern != "solid"
    for side in ("left", "right"):
        palette[P[f"{side}_upper_leg"], 3] = palette[P[f"{side}_lower_leg"], 3] = c.bottom.pattern != "solid"
    return palette


def _sky_srgb(spec: SceneSpec) -> np.ndarray:
    env = spec.environment
    if env.sky == "overcast" or env.weather != "clear":
        return np.array([0.72, 0.74, 0.77])
    if env.sky in ("hdri", "background"):
        item = env.hdri if env.sky == "hdri" else env.background
        hue = (_seed("sky", item.item_seed if item else 0) % 360) / 360
        return np.array(colorsys.hsv_to_rgb(hue, 0.35, 0.75))
    high = float(np.clip(env.sun_elevation_deg / 90, 0, 1))
    return np.array([0.45 + 0.1 * (1 - high), 0.62 + 0.05 * high, 0.88])


def fabricate_scene(spec: SceneSpec) -> FabricatedScene:
    """Pose the actors, place the camera and rasterise every frame."""
    r = spec.render
    T, H, W = r.frames, r.height, r.width
    posed = [_pose(a, T, r.fps) for a in spec.actors]
    joints = np.stack([p[0] for p in posed], 1)  # (T, A, 22, 3)
    coco = np.stack([p[1] for p in posed], 1)
    balls = np.stack([p[2] for p in posed], 1)  # (T, A, 3)
    track = camera_track(spec.camera, joints.reshape(T, -1, 3), r.fps, W, H)
    K, w2c = track.K, track.world_to_camera
    A = len(spec.actors)
    C = len(_CAPSULES)
    ends = [_capsule_ends(joints[i], balls[i]) for i in range(T)]

    sun = 0.75 + 0.25 * math.sin(math.radians(float(np.clip(spec.environment.sun_elevation_deg, 0, 90))))
    ground_rgb = np.array(_GROUND_SRGB.get(spec.environment.ground, (0.5, 0.5, 0.5))) * sun
    sky_rgb = _sky_srgb(spec)
    palettes = np.stack([_actor_palette(a) for a in spec.actors])  # (A, P, 4)

    rgb = np.empty((T, H, W, 3), np.uint8)
    depth = np.empty((T, H, W), np.float32)
    instance = np.zeros((T, H, W), np.uint8)
    body_part = np.zeros((T, H, W), np.uint8)
    amodal = np.full((T, A, 4), np.nan, np.float32)
    which = np.empty((T, H, W), np.int64)  # capsule index (actor * C + capsule), -1: ground or sky
    along = np.empty((T, H, W))
    for i in range(T):
        gdepth, gpoints = _ground(K, w2c[i], W, H)
        adepth, index, s, shade, lo, hi, ok = _rasterise(*ends[i], K, w2c[i], W, H)
        actor_wins = adepth < gdepth
        index = np.where(actor_wins, index, -1)
        depth[i] = np.where(actor_wins, adepth, gdepth)
        which[i], along[i] = index, s
        seen = index >= 0
        actor_of = np.where(seen, index // C, 0)
        part = np.where(seen, _CAP_PART[np.where(seen, index % C, 0)], 0)
        instance[i] = np.where(seen, actor_of + 1, 0)
        body_part[i] = part
        # colour: a checker on the ground (1 m tiles, world-fixed), a flat sky, shaded and striped capsules
        checker = (np.floor(gpoints[..., 0]) + np.floor(gpoints[..., 1])) % 2
        fade = np.exp(-np.where(np.isfinite(gdepth), gdepth, 1e3) / 60.0)
        ground = ground_rgb * (0.85 + 0.15 * checker)[..., None]
        image = np.where(np.isfinite(gdepth)[..., None], ground * fade[..., None] + sky_rgb * (1 - fade[..., None]),
                         sky_rgb)
        colour = palettes[actor_of, part]  # (H, W, 4)
        stripes = np.where(colour[..., 3] > 0, 0.75 + 0.25 * (np.floor(s * 6) % 2), 1.0)
        body = colour[..., :3] * ((0.55 + 0.45 * shade) * stripes)[..., None]
        image = np.where(seen[..., None], body, image)
        rgb[i] = np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)
        for k in range(A):
            cap = slice(k * C, (k + 1) * C)
            if ok[cap].any():
                box_lo, box_hi = lo[cap][ok[cap]].min((0, 1)), hi[cap][ok[cap]].max((0, 1))
                box_lo = np.clip(box_lo, -0.5, [W - 0.5, H - 0.5])
                box_hi = np.clip(box_hi, -0.5, [W - 0.5, H - 0.5])
                amodal[i, k] = [box_lo[0], box_lo[1], box_hi[0], box_hi[1]]

    forward = np.full((T, H, W, 2), np.nan, np.float32)
    backward = np.full((T, H, W, 2), np.nan, np.float32)
    rays = np.stack(np.meshgrid(np.arange(W), np.arange(H)) + [np.ones((H, W))], -1).astype(np.float64) \
        @ np.linalg.inv(K).T
    for i in range(T):
        hit = np.isfinite(depth[i])
        cam = rays * np.where(hit, depth[i], 0)[..., None]
        world = (cam - w2c[i, :3, 3]) @ w2c[i, :3, :3]  # R^T (cam - t)
        moving = which[i] >= 0
        idx = np.where(moving, which[i], 0)
        for j, out in ((i + 1, forward), (i - 1, backward)):
            if not 0 <= j < T:
                continue
            # an actor's surface point moves with the point of its capsule axis it lies beside
            sa, sb = (e.reshape(-1, 3) for e in ends[i])
            ta, tb = (e.reshape(-1, 3) for e in ends[j])
            u = along[i][..., None]
            shift = (ta[idx] - sa[idx]) * (1 - u) + (tb[idx] - sb[idx]) * u
            other = np.where(moving[..., None], world + shift, world)
            out[i] = annotate.flow_to(other, hit, K, w2c[j])

    camera = CameraRecord(W, H, float(r.fps), K, w2c, track.focal_length_mm, track.sensor_width_mm)
    return FabricatedScene(spec, camera, joints.astype(np.float32), coco.astype(np.float32), rgb, depth, instance,
                           body_part, forward, backward, amodal)


# --- layers and files -------------------------------------------------------------------------------------


def _keypoint_arrays(scene: FabricatedScene) -> dict:
    cam = scene.camera
    K, w2c = cam.K, cam.world_to_camera
    T, A = scene.coco.shape[:2]
    coco_world = scene.coco.astype(np.float64)
    coco2d = np.zeros((T, A, 17, 3), np.float32)
    bbox = np.full((T, A, 4), np.nan, np.float32)
    for i in range(T):
        for k in range(A):
            coco2d[i, k] = annotate.keypoints_2d(coco_world[i, k], K, w2c[i], scene.depth[i], scene.instance[i], k + 1)
            bbox[i, k] = annotate.mask_box(scene.instance[i] == k + 1)
    coco_cam = np.einsum("tij,takj->taki", w2c[:, :3, :3], coco_world) + w2c[:, None, None, :3, 3]
    return {"coco2d": coco2d, "coco3d_world": scene.coco, "coco3d_camera": coco_cam.astype(np.float32),
            "coco_names": np.array(COCO17_NAMES), "joints3d_world": scene.joints,
            "joint_names": np.array(JOINT_NAMES), "joint_parents": np.array(PARENTS),
            "bbox2d": bbox, "bbox2d_amodal": scene.amodal}


def fabricate_layers(spec: SceneSpec) -> tuple[Layers, CameraRecord, FabricatedScene]:
    """The clip's layers for the spec's modalities (file name -> content, as the renderer's layers.py)."""
    scene = fabricate_scene(spec)
    layers: Layers = {}
    for name in spec.render.modalities:
        if name == "rgb":
            fmt = spec.render.rgb_format
            if fmt in ("mp4", "both"):
                layers["rgb.mp4"] = scene.rgb
            if fmt in ("jpg", "both"):
                layers["rgb"] = scene.rgb
        elif name == "depth":
            layers["depth.npz"] = {"depth": scene.depth}
        elif name == "flow":
            layers["flow_forward.npz"] = {"flow": scene.flow_forward}
            layers["flow_backward.npz"] = {"flow": scene.flow_backward}
        elif name == "segmentation":
            ground = np.isfinite(scene.depth) & (scene.instance == 0)  # nothing but the ground, the actors and sky
            semantic = np.where(ground, CLASS_IDS["ground"], CLASS_IDS["sky"]).astype(np.uint8)
            semantic[scene.instance > 0] = CLASS_IDS["person"]
            layers["segmentation.npz"] = {
                "instance": scene.instance, "body_part": scene.body_part, "body_part_names": np.array(PART_NAMES),
                "semantic": semantic, "semantic_names": np.array([c.name for c in CLASSES]),
                "object": ground.astype(np.uint16), "object_names": np.array(["ground"]),
                "object_classes": np.array(["ground"]),
                "visible_fraction": np.ones((spec.render.frames, len(spec.actors)), np.float32)}
        elif name == "keypoints":
            layers["keypoints.npz"] = _keypoint_arrays(scene)
        else:
            raise ValueError(f"the fabricator does not know modality {name!r}")
    return layers, scene.camera, scene


def fabricate_clip(spec: SceneSpec, out_root: Path, log_text: str | None = None) -> Path:
    """Write the clip directory out_root/<scene_id>/ through synthact.clip.write_clip; returns it."""
    layers, camera, _ = fabricate_layers(spec)
    r = spec.render
    stats = {"scene_id": spec.scene_id, "engine": "FABRICATED", "renderer": "tests/support/fabricate.py",
             "device": "cpu", "frames": r.frames, "width": r.width, "height": r.height,
             "samples": {"rgb": 1, "annotations": 1}, "denoise": False, "timings_s": {}, "seconds_per_frame": 0.0}
    return write_clip(Path(out_root), spec, layers, camera, stats, log_text)


def fabricate_batch(config, registry, out: Path, n: int, start: int = 0) -> Path:
    """A batch folder like the renderer's: out/<batch>/clips/<scene_id>/ for scenes start .. start+n-1 of the
    config, and out/<batch>/config.json. Returns out/<batch>."""
    from synthact.scene.sampler import SceneSampler
    root = Path(out) / config.batch.name
    (root / "clips").mkdir(parents=True, exist_ok=True)
    for spec in SceneSampler.create(config, registry).iter_specs(start, n):
        fabricate_clip(spec, root / "clips")
    (root / "config.json").write_text(json.dumps(config.model_dump(mode="json"), indent=2))
    return root
