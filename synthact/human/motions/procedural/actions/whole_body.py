"""Whole-body actions: sitting, crouching, kneeling, bowing, head gestures, stretches, twists, dodging."""
from __future__ import annotations

import numpy as np

from ...skeleton import J
from ..blocks import Step, apply_steps, follow_feet, heel_raise, ramp, side_vec, window
from ..track import SIDES, SIGN, Track
from .arms import PUNCH_GUARD, bend_down
from .common import Ctx, action, gesture, once, other, reps

FLOOR_SIT_PELVIS_M = 0.21  # pelvis joint height when sitting on the floor
SEATED_PELVIS_M = 0.11  # pelvis joint above a seat's top (on anny bodies the buttocks are 0.09-0.13 m below it)


def _sit(ctx: Ctx, tr: Track, w: np.ndarray) -> None:
    """Lower onto a seat behind the planted feet, hands on the thighs; with no seat, onto the ground (knees up,
    hands back for support)."""
    stand = tr.pelvis[:, 2].copy()
    if ctx.seat_height_m is None:
        seated, back = FLOOR_SIT_PELVIS_M, 0.45
    else:
        sk = ctx.sk
        seated = ctx.seat_height_m + SEATED_PELVIS_M
        hip_over_knee = seated + sk.offsets[J["left_hip"], 2] - (sk.ankle_height + sk.length("left_ankle"))
        thigh = sk.length("left_knee")  # with the shin upright, the thigh's run from hip to knee sets how far back
        back = float(np.sqrt(max(thigh**2 - hip_over_knee**2, 0.12**2))) + 0.05
    tr.pelvis[:, 2] = stand + (seated - stand) * w
    tr.pelvis[:, 1] += back * w
    if ctx.seat_height_m is None:
        tr.spine[:, 0] += 0.35 * np.sin(np.pi * w) - 0.1 * w
        for side in SIDES:
            gesture(tr, side, side_vec(side, 0.2, 0.25, -0.85), w, (SIGN[side] * 0.2, 1.0, 0.0))
    else:  # lean forward while lowering, sit upright
        tr.spine[:, 0] += 0.45 * np.sin(np.pi * w)
        for side in SIDES:
            gesture(tr, side, side_vec(side, 0.05, -0.35, -0.5), w, (SIGN[side] * 0.5, 0.3, -1.0))


@action("sit_down", "stand_up", "crouch_down", "get_up_from_crouch")
def sit_stand(ctx: Ctx) -> Track:
    tr = ctx.standing()
    fam = ctx.variant["_family"]
    t0 = ctx.duration * ctx.u(0.1, 0.3)
    t1 = min(t0 + ctx.u(1.2, 1.8), ctx.duration * 0.92)
    w = ramp(ctx.t, t0, t1)
    if fam in ("stand_up", "get_up_from_crouch"):
        w = 1 - w
    if fam.startswith(("sit", "stand")):
        _sit(ctx, tr, w)
    else:
        tr.pelvis[:, 2] -= ctx.u(0.45, 0.52) * w
        tr.pelvis[:, 1] += 0.15 * w
        tr.spine[:, 0] += 0.6 * w
        for side in SIDES:
            gesture(tr, side, side_vec(side, 0.0, -0.7, -0.4), w, (SIGN[side] * 0.4, 0.5, -1))
    return tr


@action("kneel_down")
def kneel_down(ctx: Ctx) -> Track:
    tr = ctx.standing()
    side = ctx.side  # the knee that goes down
    a = ctx.duration * ctx.u(0.15, 0.3)
    f0 = tr.feet[side].pos[0].copy()
    apply_steps(tr, [Step(side, a, a + 0.5, f0 + [0, 0.35, 0], 0.0, 0.05)])
    w = ramp(ctx.t, a + 0.4, a + 1.6)
    f = tr.feet[side]
    f.pitch += 0.9 * w  # the back foot rolls onto its toes
    f.pos += heel_raise(ctx.sk, f.pitch)
    follow_feet(tr, ctx.sk.standing_pelvis_height - 0.015 - 0.36 * w, smooth=0.15)
    tr.pelvis[:, 1] += 0.05 * w
    return tr


@action("bow")
def bow(ctx: Ctx) -> Track:
    tr = ctx.standing()
    a, b = once(ctx, (0.2, 0.3), (0.7, 0.8))
    w = window(ctx.t, a, b, (b - a) * 0.35)
    depth = ctx.u(0.9, 1.2) if ctx.variant["depth"] == "deep" else ctx.u(0.35, 0.5)
    tr.spine[:, 0] += depth * w
    tr.pelvis_tilt[:, 0] += 0.3 * depth * w
    tr.pelvis[:, 1] += 0.08 * depth * w
    tr.head[:, 0] += 0.2 * w
    return tr


@action("nod_yes", "shake_head_no")
def head_gesture(ctx: Ctx) -> Track:
    tr = ctx.standing()
    osc = reps(ctx, ctx.u(1.5, 2.5))
    if ctx.variant["_family"] == "nod_yes":
        tr.head[:, 0] += 0.3 * (osc + 1) / 2 * np.abs(np.sign(osc))
    else:
        tr.head[:, 2] += 0.5 * osc
    return tr


@action("look_around")
def look_around(ctx: Ctx) -> Track:
    tr = ctx.standing()
    a, b = once(ctx)
    w = window(ctx.t, a, b, 0.6)
    tr.head[:, 2] += SIGN[ctx.side] * 0.9 * w
    tr.spine[:, 2] += SIGN[ctx.side] * 0.4 * w
    return tr


@action("stretch")
def stretch(ctx: Ctx) -> Track:
    tr = ctx.standing()
    style = ctx.variant["style"]
    a, b = once(ctx)
    w = window(ctx.t, a, b, 0.8)
    if style == "toe_touch":
        bend_down(ctx, tr, w, 1.0)
        tr.pelvis[:, 2] += 0.3 * w  # legs stay straight
        for side in SIDES:
            gesture(tr, side, side_vec(side, 0.0, -0.3, -0.95), w, (SIGN[side] * 0.3, 1.0, 0))
        return tr
    for side in SIDES:
        gesture(tr, side, side_vec(side, 0.1, 0.0, 1.0), w, (SIGN[side], 0.3, 0.0))
    if style in ("side_left", "side_right"):
        tr.spine[:, 1] += (1 if style == "side_left" else -1) * 0.45 * w
    else:
        tr.spine[:, 0] -= 0.12 * w
    return tr


@action("arm_stretch")
def arm_stretch(ctx: Ctx) -> Track:
    tr = ctx.standing()
    side = ctx.side
    a, b = once(ctx)
    w = window(ctx.t, a, b, 0.6)
    gesture(tr, side, side_vec(side, -0.9, -0.3, 0.0), w, (SIGN[side] * 0.2, 0.0, -1))
    gesture(tr, other(side), side_vec(other(side), -0.45, -0.5, -0.05), w, (SIGN[other(side)] * 0.5, 0.2, -1))
    return tr


@action("torso_twist")
def torso_twist(ctx: Ctx) -> Track:
    tr = ctx.standing()
    osc = reps(ctx, ctx.tempo(0.4, 0.9))
    tr.spine[:, 2] += 0.6 * osc
    a, b = once(ctx, (0.02, 0.05), (0.95, 0.98))
    w = window(ctx.t, a, b, 0.5)
    for side in SIDES:
        gesture(tr, side, side_vec(side, 0.9, -0.2, 0.0), w, (0, 0.3, -1))
    return tr


@action("dodge")
def dodge(ctx: Ctx) -> Track:
    tr = ctx.standing()
    side = ctx.side
    t0 = ctx.duration * ctx.u(0.3, 0.5)
    w = window(ctx.t, t0, t0 + ctx.u(0.8, 1.2), 0.25)
    tr.spine[:, 1] += SIGN[side] * 0.5 * w
    tr.pelvis[:, 0] += SIGN[side] * 0.06 * w
    tr.pelvis[:, 2] -= 0.1 * w
    for s in SIDES:
        gesture(tr, s, side_vec(s, *PUNCH_GUARD), w, (SIGN[s] * 0.5, 0.4, -1))
    return tr
