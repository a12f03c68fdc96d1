"""Reusable pieces for procedural actions: timing curves, footsteps, gaits, jumps, arm gestures."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..rotations import rot_z
from ..skeleton import ANKLE_HEIGHT, J, Skeleton
from .track import SIDES, SIGN, Hand, Track

GRAVITY = 9.81


def smoothstep(x):
    x = np.clip(x, 0.0, 1.0)
    return x * x * x * (x * (6 * x - 15) + 10)  # quintic: zero velocity and acceleration at the ends


def ramp(t, t0, t1):
    """0 before t0, 1 after t1, smooth in between."""
    return smoothstep((t - t0) / max(t1 - t0, 1e-6))


def window(t, t0, t1, rise):
    """0 -> 1 over [t0, t0+rise], hold, 1 -> 0 over [t1-rise, t1]."""
    return ramp(t, t0, t0 + rise) * (1 - ramp(t, t1 - rise, t1))


def bump(t, t0, t1):
    """A smooth single hump: 0 at t0, 1 in the middle, 0 at t1."""
    s = np.clip((t - t0) / max(t1 - t0, 1e-6), 0, 1)
    return np.sin(np.pi * s) ** 2


def heading(yaw):
    """Unit forward vectors (T, 3) for facing angles (0 = -Y)."""
    yaw = np.asarray(yaw, dtype=float)
    return np.stack([np.sin(yaw), -np.cos(yaw), np.zeros_like(yaw)], -1)


def left_of(yaw):
    yaw = np.asarray(yaw, dtype=float)
    return np.stack([np.cos(yaw), np.sin(yaw), np.zeros_like(yaw)], -1)


def in_body(yaw, v):
    """Rotate body-frame vectors (T, 3) into the world."""
    return np.einsum("tij,tj->ti", rot_z(np.broadcast_to(yaw, (len(v),))), v)


@dataclass
class Step:
    side: str
    t0: float  # lift-off
    t1: float  # touch-down
    to: np.ndarray  # (3,) ankle position on landing
    yaw: float  # foot heading on landing
    height: float = 0.08  # swing clearance


def apply_steps(track: Track, steps: list[Step]) -> None:
    """Move feet along swing arcs between planted positions; planted feet do not move."""
    t = track.t
    for side in SIDES:
        foot = track.feet[side]
        for step in sorted((s for s in steps if s.side == side), key=lambda s: s.t0):
            i0 = np.searchsorted(t, step.t0)
            start, start_yaw = foot.pos[min(i0, len(t) - 1)].copy(), foot.yaw[min(i0, len(t) - 1)]
            s = np.clip((t - step.t0) / max(step.t1 - step.t0, 1e-6), 0, 1)
            e = smoothstep(s)[:, None]
            swing = (t > step.t0) & (t < step.t1)
            after = t >= step.t1
            arc = np.sin(np.pi * s) * step.height
            moving = swing | after
            foot.pos[moving] = (start + (step.to - start) * e)[moving]
            foot.pos[swing, 2] += arc[swing]
            foot.yaw[moving] = (start_yaw + _wrap(step.yaw - start_yaw) * e[:, 0])[moving]
            foot.pitch[swing] += (0.35 * np.sin(np.pi * s) * (1 - s))[swing]
            foot.planted[swing] = False


def _wrap(a):
    return (a + np.pi) % (2 * np.pi) - np.pi


def follow_feet(track: Track, height: np.ndarray, smooth: float = 0.18, lead: np.ndarray | None = None) -> None:
    """Pelvis over the (smoothed) middle of the feet, at the given height."""
    mid = (track.feet["left"].pos + track.feet["right"].pos) / 2
    dt = track.t[1] - track.t[0] if track.n > 1 else 1.0
    xy = gaussian_smooth(mid[:, :2], smooth / dt)
    if lead is not None:
        xy = xy + lead[:, :2]
    track.pelvis = np.column_stack([xy, height])


def gaussian_smooth(x: np.ndarray, sigma: float) -> np.ndarray:
    if sigma < 0.5:
        return x
    radius = int(3 * sigma)
    k = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    k /= k.sum()
    pad = np.pad(x, [(radius, radius)] + [(0, 0)] * (x.ndim - 1), mode="edge")
    return np.stack([np.convolve(pad[:, i], k, mode="valid") for i in range(x.shape[1])], axis=1)


def gait(track: Track, sk: Skeleton, rng, t_start: float, t_end: float, speed: float, cadence: float,
         travel_yaw, facing_yaw, width: float = 0.2, swing_frac: float = 0.8, height: float = 0.07,
         bob: float = 0.025, crouch: float = 0.0, flight: bool = False) -> None:
    """Alternate steps between t_start and t_end while the body centre moves at `speed`.

    travel_yaw(t) and facing_yaw(t) give the direction of travel and of the body at time t
    (equal for walking forward, opposite for walking backward, 90 degrees apart for sidesteps).
    """
    t = track.t
    period = 1.0 / cadence
    centre = np.array(track.pelvis[np.searchsorted(t, t_start).clip(0, len(t) - 1), :2])
    times = np.arange(t_start, t_end + 1e-9, 1.0 / 240)
    path = np.cumsum(np.column_stack([np.sin(travel_yaw(times)), -np.cos(travel_yaw(times))]) * speed / 240, axis=0)
    path = np.vstack([[0, 0], path[:-1]]) + centre

    def centre_at(time):
        return path[np.clip(np.searchsorted(times, time), 0, len(times) - 1)]

    steps = []
    side_i = int(rng.integers(2))
    k = 0
    lift = t_start
    while lift + period * swing_frac <= t_end + 1e-9:
        side = SIDES[(side_i + k) % 2]
        land = lift + period * swing_frac
        yaw = float(facing_yaw(np.array(land)))
        move = (centre_at(land + period * 0.5) - centre_at(land - period * 0.5))
        target_xy = centre_at(land) + 0.5 * move * 0.5 + left_of(yaw)[:2] * SIGN[side] * width / 2
        steps.append(Step(side, lift, land, np.array([*target_xy, ANKLE_HEIGHT]), yaw, height))
        lift += period
        k += 1
    # a final step brings the feet together where the walk ends
    if steps:
        last = steps[-1]
        other = SIDES[1 - SIDES.index(last.side)]
        yaw = last.yaw
        land = min(lift + period * swing_frac, t_end + period * swing_frac)
        target_xy = last.to[:2] - left_of(yaw)[:2] * SIGN[last.side] * width
        steps.append(Step(other, lift, land, np.array([*target_xy, ANKLE_HEIGHT]), yaw, height))
    apply_steps(track, steps)
    active = ramp(t, t_start, t_start + period) * (1 - ramp(t, t_end, t_end + period))
    phase = 2 * np.pi * cadence * (t - t_start)
    base = sk.standing_pelvis_height - 0.015 - crouch * active
    z = base - bob * active * (0.5 + 0.5 * np.cos(2 * phase)) if not flight else \
        base + bob * active * np.abs(np.sin(phase))
    follow_feet(track, z)
    track.yaw = np.where((t >= t_start), facing_yaw(np.clip(t, t_start, t_end)), track.yaw)
    track.yaw = np.where(t > t_end, facing_yaw(np.array(t_end)), track.yaw)
    # arms swing opposite to the legs
    swing_amp = 0.12 + 0.5 * speed * 0.1
    for side in SIDES:
        hand = track.hands.get(side)
        if hand is None or hand.space != "chest":
            continue
        sgn = 1 if SIDES.index(side) == side_i else -1
        hand.target[:, 1] += (sgn * swing_amp * np.sin(np.pi * cadence * (t - t_start))) * active


def jump(track: Track, sk: Skeleton, t0: float, flight: float, displacement=(0.0, 0.0), spin: float = 0.0,
         tuck: float = 0.0, crouch: float = 0.16) -> tuple[float, float]:
    """A two-footed jump: crouch, take off at t0, fly for `flight` s, land, recover. -> (takeoff, landing)."""
    t = track.t
    land = t0 + flight
    prep = 0.3
    rise = GRAVITY * flight / 2  # vertical take-off speed
    i0 = np.searchsorted(t, t0).clip(0, len(t) - 1)
    start_pelvis = track.pelvis[i0].copy()
    start_yaw = track.yaw[i0]
    d = np.array([*displacement, 0.0])
    stand = sk.standing_pelvis_height - 0.015
    dip = crouch * (bump(t, t0 - prep, t0 + 0.02) + bump(t, land - 0.02, land + prep))
    air = (t > t0) & (t < land)
    s = np.clip((t - t0) / flight, 0, 1)
    z_air = stand + 0.04 + rise * (t - t0) - 0.5 * GRAVITY * (t - t0) ** 2
    track.pelvis[:, 2] = np.where(air, z_air, track.pelvis[:, 2] - dip)
    moved = smoothstep(s)[:, None] * d
    track.pelvis[:, :2] = np.where((t > t0)[:, None], start_pelvis[:2] + moved[:, :2], track.pelvis[:, :2])
    track.yaw = np.where(t > t0, start_yaw + spin * smoothstep(s), track.yaw)
    for side in SIDES:
        foot = track.feet[side]
        start = foot.pos[i0].copy()
        rel = start - np.array([*start_pelvis[:2], 0.0])
        landing_rel = rot_z(np.array(spin)) @ rel
        end = np.array([*start_pelvis[:2], 0.0]) + d + landing_rel
        air_pos = np.column_stack([
            start[0] + (end[0] - start[0]) * smoothstep(s),
            start[1] + (end[1] - start[1]) * smoothstep(s),
            ANKLE_HEIGHT + np.maximum(track.pelvis[:, 2] - (stand + 0.04), 0) + tuck * 0.3 * np.sin(np.pi * s) ** 2,
        ])
        foot.pos[air] = air_pos[air]
        foot.pos[t >= land] = end
        foot.pitch[air] += 0.5 * np.sin(np.pi * s[air])
        foot.yaw = np.where(t > t0, foot.yaw[i0] + spin * smoothstep(s), foot.yaw)
        foot.planted[air] = False
    return t0, land


def hand(n: int, side: str, target, pole=(0.0, 1.0, -0.3), space: str = "chest") -> Hand:
    """A hand target (chest space: in arm lengths from the shoulder) held for all frames."""
    target = np.broadcast_to(np.asarray(target, float), (n, 3)).copy()
    pole = np.broadcast_to(np.asarray(pole, float), (n, 3)).copy()
    return Hand(target, pole, space)


def mix_hand(a: Hand, b: Hand, w: np.ndarray) -> Hand:
    """Blend from hand pose a (w = 0) to b (w = 1), both in chest space.

    Directions from the shoulder are interpolated along the sphere and distances linearly, so
    the hand swings around the shoulder instead of cutting through it (which folds the arm).
    """
    w = np.asarray(w, float)[:, None]
    ra, rb = (np.linalg.norm(h.target, axis=-1, keepdims=True) for h in (a, b))
    da, db = a.target / np.maximum(ra, 1e-9), b.target / np.maximum(rb, 1e-9)
    cos = np.clip(np.sum(da * db, axis=-1, keepdims=True), -1.0, 1.0)
    angle = np.arccos(cos)
    sin = np.sin(angle)
    straight = sin < 1e-6
    wa = np.where(straight, 1 - w, np.sin((1 - w) * angle) / np.where(straight, 1, sin))
    wb = np.where(straight, w, np.sin(w * angle) / np.where(straight, 1, sin))
    direction = wa * da + wb * db
    direction /= np.maximum(np.linalg.norm(direction, axis=-1, keepdims=True), 1e-9)
    return Hand(direction * (ra * (1 - w) + rb * w), a.pole * (1 - w) + b.pole * w, a.space)


def keyframes(tr: Track, side: str, times, targets, poles, lead: float = 0.5) -> None:
    """Drive a hand through key targets (chest space), reaching key k at times[k], easing between."""
    current = tr.hands[side]
    for k, (when, target, pole) in enumerate(zip(times, targets, poles)):
        start = times[k - 1] if k else when - lead
        current = mix_hand(current, hand(tr.n, side, target, pole), ramp(tr.t, start, when))
    tr.hands[side] = current


def heel_raise(sk: Skeleton, pitch) -> np.ndarray:
    """Ankle offset (T, 3) that keeps the ball of the foot in place when the heel lifts by pitch (rad)."""
    ball = sk.offsets[J["left_foot"]]
    pitch = np.asarray(pitch, float)
    c, s = np.cos(pitch), np.sin(pitch)
    rotated = np.stack([np.full_like(pitch, ball[0]), c * ball[1] - s * ball[2], s * ball[1] + c * ball[2]], -1)
    return ball - rotated


def side_vec(side: str, x: float, y: float, z: float) -> np.ndarray:
    """A chest-frame vector with x mirrored for the right side (x > 0 = outward)."""
    return np.array([SIGN[side] * x, y, z])
