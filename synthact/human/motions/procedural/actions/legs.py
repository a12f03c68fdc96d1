"""Leg actions: kicks and knee strikes, lunges, squats, calf raises, toe taps and leg swings."""
from __future__ import annotations

import numpy as np

from ..blocks import Step, apply_steps, bump, follow_feet, heel_raise, side_vec, window
from ..track import SIDES, SIGN, Track
from .arms import PUNCH_GUARD
from .common import Ctx, action, cycles, gesture, once, other


def _lift_foot(tr: Track, side: str, w: np.ndarray, offset) -> None:
    """Move a foot by offset (body frame, metres) with weight w; it is not planted while lifted."""
    f = tr.feet[side]
    f.pos = f.pos + w[:, None] * np.asarray(offset, float)
    f.planted = f.planted & (w < 0.02)


def _shift_weight(ctx: Ctx, tr: Track, onto: str, w: np.ndarray) -> None:
    """Move the pelvis over the supporting foot."""
    f = tr.feet[onto].pos
    tr.pelvis[:, 0] += w * (f[:, 0] - tr.pelvis[:, 0]) * 0.85


@action("kick")
def kick(ctx: Ctx) -> Track:
    tr = ctx.standing()
    side, style = ctx.side, ctx.variant["style"]
    t_hit = ctx.duration * ctx.u(0.4, 0.6)
    dur = ctx.u(0.6, 0.9)
    w = bump(ctx.t, t_hit - dur / 2, t_hit + dur / 2)
    prep = window(ctx.t, t_hit - dur / 2 - 0.3, t_hit + dur / 2 + 0.3, 0.3)
    _shift_weight(ctx, tr, other(side), prep)
    h = ctx.u(0.45, 0.7)
    offset = {"front": (0.0, -0.55, h), "side": (SIGN[side] * 0.6, 0.0, h * 0.8), "back": (0.0, 0.55, h * 0.6)}[style]
    _lift_foot(tr, side, w, offset)
    tr.feet[side].pitch += 0.6 * w
    tr.spine[:, 0] += {"front": -0.25, "side": 0.0, "back": 0.45}[style] * w
    tr.spine[:, 1] += (-SIGN[side] * 0.4 * w) if style == "side" else 0
    for s in SIDES:
        gesture(tr, s, side_vec(s, *PUNCH_GUARD), prep, (SIGN[s] * 0.5, 0.4, -1))
    return tr


@action("knee_strike")
def knee_strike(ctx: Ctx) -> Track:
    tr = ctx.standing()
    side = ctx.side
    t_hit = ctx.duration * ctx.u(0.4, 0.6)
    w = bump(ctx.t, t_hit - 0.35, t_hit + 0.35)
    prep = window(ctx.t, t_hit - 0.6, t_hit + 0.6, 0.25)
    _shift_weight(ctx, tr, other(side), prep)
    _lift_foot(tr, side, w, (0.0, -0.15, 0.4))
    for s in SIDES:
        gesture(tr, s, side_vec(s, -0.05, -0.9, 0.45), prep * (1 - w) + 0.0, (SIGN[s] * 0.5, 0.4, -1))
        gesture(tr, s, side_vec(s, -0.05, -0.6, -0.2), w, (SIGN[s] * 0.5, 0.4, -1))
    tr.spine[:, 0] += 0.2 * w
    return tr


@action("lunge")
def lunge(ctx: Ctx) -> Track:
    tr = ctx.standing()
    side = ctx.side
    a, b = once(ctx, (0.1, 0.2), (0.75, 0.9))
    length = ctx.u(0.5, 0.75)
    f0 = tr.feet[side].pos[0].copy()
    forward = ctx.variant["direction"] == "forward"
    offset = np.array([0.0, -length, 0.0]) if forward else np.array([SIGN[side] * length, 0, 0])
    apply_steps(tr, [Step(side, a, a + 0.45, f0 + offset, 0.0, 0.06), Step(side, b - 0.45, b, f0, 0.0, 0.06)])
    down = window(ctx.t, a + 0.35, b - 0.35, 0.4)
    follow_feet(tr, ctx.sk.standing_pelvis_height - 0.015 - ctx.u(0.25, 0.35) * down, smooth=0.12)
    if ctx.variant["direction"] == "side":
        tr.pelvis[:, 0] += SIGN[side] * 0.1 * down
    for s in SIDES:
        gesture(tr, s, side_vec(s, 0.05, 0.02, -0.62), down, (SIGN[s], 0.3, 0))
    return tr


@action("squat", "squat_hold", "duck")
def squat(ctx: Ctx) -> Track:
    tr = ctx.standing()
    fam = ctx.variant["_family"]
    depth = ctx.u(0.3, 0.42) if fam != "duck" else ctx.u(0.35, 0.45)
    if fam == "squat_hold":
        a, b = once(ctx, (0.1, 0.2), (0.8, 0.9))
        w = window(ctx.t, a, b, 0.8)
    elif fam == "duck":
        t0 = ctx.duration * ctx.u(0.3, 0.5)
        w = window(ctx.t, t0, t0 + ctx.u(0.9, 1.3), 0.3)
    else:
        w = cycles(ctx, ctx.tempo(0.35, 0.9))
    tr.pelvis[:, 2] -= depth * w
    tr.pelvis[:, 1] += 0.12 * w
    tr.spine[:, 0] += 0.35 * w
    for side in SIDES:
        goal = side_vec(side, 0.05, -0.95, 0.05) if fam != "duck" else side_vec(side, -0.2, -0.35, 0.65)
        gesture(tr, side, goal, w, (SIGN[side] * 0.3, 0.5, -1))
    if fam == "duck":
        tr.head[:, 0] += 0.5 * w
    return tr


@action("calf_raise")
def calf_raise(ctx: Ctx) -> Track:
    tr = ctx.standing()
    w = cycles(ctx, ctx.u(0.5, 0.9))
    pitch = ctx.u(0.5, 0.75) * w
    shift = heel_raise(ctx.sk, pitch)
    tr.pelvis += shift
    for side in SIDES:
        f = tr.feet[side]
        f.pos += shift
        f.pitch += pitch
    return tr


@action("toe_tap")
def toe_tap(ctx: Ctx) -> Track:
    tr = ctx.standing()
    side = ctx.side
    freq = ctx.u(1.0, 1.6)
    a, b = once(ctx, (0.05, 0.12), (0.85, 0.95))
    w = window(ctx.t, a, b, 0.3)
    tap = (0.5 - 0.5 * np.cos(2 * np.pi * freq * (ctx.t - a))) * w
    _lift_foot(tr, side, w, (0.0, -0.25, 0.0))
    tr.feet[side].pos[:, 2] += 0.06 * tap
    tr.feet[side].pitch -= 0.3 * tap
    _shift_weight(ctx, tr, other(side), 0.4 * w)
    return tr


@action("leg_swing")
def leg_swing(ctx: Ctx) -> Track:
    tr = ctx.standing()
    side = ctx.side
    freq = ctx.u(0.7, 1.0)
    a, b = once(ctx, (0.05, 0.12), (0.85, 0.95))
    w = window(ctx.t, a, b, 0.4)
    swing = np.sin(2 * np.pi * freq * (ctx.t - a))
    _shift_weight(ctx, tr, other(side), w)
    f = tr.feet[side]
    f.pos[:, 1] += -0.45 * swing * w
    f.pos[:, 2] += (0.12 + 0.2 * np.abs(swing)) * w
    f.planted = w < 0.02
    gesture(tr, other(side), side_vec(other(side), 0.6, 0.0, 0.0), w, (0, 0.3, -1))
    return tr
