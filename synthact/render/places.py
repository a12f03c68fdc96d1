"""Actors and camera in a place, in numpy: each actor's motion fitted into the free floor, the camera inside the
room with a line of sight to the actors (world/places.py: FloorGrid). Pure functions of the spec and the place.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from synthact.human.motions.procedural.actions.whole_body import SEATED_PELVIS_M
from synthact.human.motions.rotations import rot_z
from synthact.human.motions.skeleton import J
from synthact.spec import CameraSpec, SeatSpec
from synthact.world.places import FloorGrid

from .camera import CameraTrack, camera_track

BODY_RADIUS_M = 0.3  # free floor kept around an actor's root along its whole path (arms and a step)
LOW_JOINT_M = 0.5  # joints lower than this (a lying body, a crawl, a kick) must be over free floor, as the root is
LIMB_RADIUS_M = 0.1  # ... with this much of it around them
ACTOR_GAP_M = 0.6  # two actors' roots are never closer than this in any frame
CAMERA_WALL_M = 0.2  # the camera keeps this far from walls and furniture
CAMERA_CEILING_M = 0.15
STEP_M = 0.1
MAX_SHIFT_M = 3.0
YAW_STEP_DEG = 10.0
WIDER = 0.8  # when no yaw fits, the lens is widened by this factor (the framing kept: the camera comes closer)
WIDEST_MM = 12.0  # ... down to this focal length (on the spec's sensor)


class PlacementError(ValueError):
    """No way to fit the motion or the camera into the place."""


@dataclass(frozen=True)
class Room:
    grid: FloorGrid
    clearance: np.ndarray
    ceiling_m: float  # above the floor

    @classmethod
    def of(cls, grid: FloorGrid, ceiling_m: float) -> "Room":
        return cls(grid, grid.clearance_m(), ceiling_m)


def _shifts() -> np.ndarray:
    """Offsets tried in order: none, then rings of growing radius (16 directions each)."""
    out = [np.zeros(2)]
    for ring in range(1, int(MAX_SHIFT_M / STEP_M) + 1):
        r = ring * STEP_M
        out += [np.array([r * math.cos(a), r * math.sin(a)]) for a in np.linspace(0, 2 * math.pi, 16, endpoint=False)]
    return np.array(out)


def seated_pose(joints: np.ndarray, seat: SeatSpec) -> tuple[tuple[float, float], float]:
    """(position_xy, facing_deg) that put an actor's joints (T, 22, 3, as posed, not yet placed) on a seat: in the
    frame where the pelvis is lowest (the sitting one) the pelvis is over the seat's middle and the hips face
    the way the seat does."""
    k = int(np.argmin(joints[:, J["pelvis"], 2]))
    left = joints[k, J["left_hip"], :2] - joints[k, J["right_hip"], :2]
    forward = np.array([left[1], -left[0]])  # the hips' left turned a quarter to the right, on the floor
    facing = seat.facing_deg - math.degrees(math.atan2(forward[0], -forward[1]))
    a = math.radians(facing)
    pelvis = joints[k, J["pelvis"], :2]
    turned = rot_z(np.array(a))[:2, :2] @ pelvis
    return (seat.position_xy[0] - float(turned[0]), seat.position_xy[1] - float(turned[1])), facing


def seat_gap(joints: np.ndarray, seat: SeatSpec, scale: float) -> float:
    """How far above the seat's top a seated body's buttocks are (m; negative: sunk in), from its lowest pelvis:
    0 for a procedural sit, which is made for the seat; a recorded one sits as it was recorded."""
    return float(joints[:, J["pelvis"], 2].min() - SEATED_PELVIS_M * scale - seat.height_m)


def fit_paths(room: Room, bodies: list[np.ndarray], fixed: list[bool] | None = None) -> list[np.ndarray]:
    """An xy offset per actor so that, in every frame, its root (joint 0 of its joints, (T, J, 3)) keeps
    BODY_RADIUS_M of free floor around it, every joint lower than LOW_JOINT_M (a lying body, a crawl, a low kick)
    keeps LIMB_RADIUS_M, and it stays ACTOR_GAP_M from the actors fitted before it: no offset when the spot the
    spec gives fits, else the nearest that does. Raises PlacementError when none within MAX_SHIFT_M does. A fixed
    actor (one on a seat, where the floor map sees furniture) keeps its spot; the others keep their distance
    from it."""
    fixed = fixed or [False] * len(bodies)
    shifts = _shifts()
    paths = [body[:, 0, :2] for body in bodies]
    fitted = [path for path, f in zip(paths, fixed) if f]
    offsets = [np.zeros(2) if f else None for f in fixed]
    for k, path in enumerate(paths):
        if fixed[k]:
            continue
        low = bodies[k][..., :2][bodies[k][..., 2] < LOW_JOINT_M]
        for shift in shifts:
            moved = path + shift
            if (room.grid.lookup(room.clearance, moved, 0.0) < BODY_RADIUS_M).any():
                continue
            if len(low) and (room.grid.lookup(room.clearance, low + shift, 0.0) < LIMB_RADIUS_M).any():
                continue
            if any((np.linalg.norm(moved - other, axis=1) < ACTOR_GAP_M).any() for other in fitted):
                continue
            break
        else:
            raise PlacementError(f"actor {k}'s motion (it travels {np.ptp(path, axis=0).max():.1f} m) fits nowhere "
                                 f"within {MAX_SHIFT_M} m of its spot on the free floor")
        fitted.append(moved)
        offsets[k] = shift
    return offsets


def camera_fits(room: Room, track: CameraTrack, targets: np.ndarray) -> bool:
    """The camera stays inside the room, off walls and furniture and below the ceiling, and sees each target
    (T, A, 3) over what stands between: a 2.5-D test on the floor grid (furniture lower than the line of sight
    does not block it; partial occlusion is measured afterwards from the rendered masks)."""
    pos = track.positions
    if (pos[:, 2] > room.ceiling_m - CAMERA_CEILING_M).any() or (pos[:, 2] < 0.2).any():
        return False
    if (room.grid.lookup(room.clearance, pos[:, :2], 0.0) < CAMERA_WALL_M).any():
        return False
    for frame in sorted({0, len(pos) // 2, len(pos) - 1}):
        for target in targets[frame]:
            ray = target - pos[frame]
            length = float(np.linalg.norm(ray[:2]))
            steps = np.arange(0.0, max(length - BODY_RADIUS_M, 0.0), room.grid.cell_m / 2) / max(length, 1e-9)
            points = pos[frame] + steps[:, None] * ray
            if not room.grid.lookup(room.grid.room, points[:, :2], False).all():
                return False  # through a wall
            if (room.grid.lookup(room.grid.obstacle_top_m, points[:, :2], 0.0) > points[:, 2]).any():
                return False
    return True


def camera_in_room(room: Room, camera: CameraSpec, subject: np.ndarray, fps: int, width: int, height: int,
                   targets: np.ndarray) -> tuple[CameraTrack, float, float]:
    """The spec's camera, turned about the actors by the smallest yaw change that fits it into the room (0, +10,
    -10, +20, ... degrees); when no turn does, the same with a wider lens (the focal length times 0.8 each time,
    down to 12 mm), which keeps the shot's framing from closer by. A camera placed by distance keeps its lens.
    Returns the track, the yaw and the focal length used."""
    focal = camera.focal_length_mm
    while True:
        for k in range(int(360 / YAW_STEP_DEG)):
            turn = YAW_STEP_DEG * ((k + 1) // 2) * (1 if k % 2 else -1) if k else 0.0
            track = camera_track(camera, subject, fps, width, height, turn_deg=turn,
                                 focal_length_mm=None if focal == camera.focal_length_mm else focal)
            if camera_fits(room, track, targets):
                return track, round((camera.yaw_deg + turn + 180.0) % 360.0 - 180.0, 6), round(focal, 4)
        if camera.framing <= 0 or focal * WIDER < WIDEST_MM:
            break
        focal *= WIDER
    raise PlacementError("no camera yaw puts the camera inside the room with a line of sight to the actors, down to "
                         f"a {min(focal, camera.focal_length_mm):.0f} mm lens (use a tighter framing)")
