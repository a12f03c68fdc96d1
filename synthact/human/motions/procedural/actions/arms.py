"""Arm actions: gestures, punches, reaching, throwing, picking up, hand-to-head poses."""
from __future__ import annotations

import numpy as np

from ..blocks import bump, ramp, side_vec, window
from ..track import SIDES, SIGN, Track
from .common import Ctx, action, gesture, once, other


@action("wave")
def wave(ctx: Ctx) -> Track:
    tr = ctx.standing()
    a, b = once(ctx, (0.08, 0.18), (0.8, 0.92))
    w = window(ctx.t, a, b, 0.35)
    freq = ctx.u(1.5, 2.5)
    sides = SIDES if ctx.variant["side"] == "both" else (ctx.variant["side"],)
    high = ctx.variant["height"] == "high"
    for side in sides:
        sweep = np.sin(2 * np.pi * freq * ctx.t) * ctx.u(0.15, 0.25)
        base = side_vec(side, 0.45, -0.15, 0.75) if high else side_vec(side, 0.35, -0.55, 0.15)
        target = np.tile(base, (tr.n, 1))
        target[:, 0] += SIGN[side] * sweep
        gesture(tr, side, target, w, (SIGN[side] * 0.6, 0.4, -1.0))
    return tr


@action("clap")
def clap(ctx: Ctx) -> Track:
    tr = ctx.standing()
    style = ctx.variant["style"]
    freq = {"slow": 1.2, "fast": 3.0, "overhead": 1.6}[style] * ctx.u(0.9, 1.1)
    a, b = once(ctx, (0.08, 0.15), (0.85, 0.95))
    w = window(ctx.t, a, b, 0.3)
    gap = 0.5 + 0.5 * np.cos(2 * np.pi * freq * (ctx.t - a))
    for side in SIDES:
        target = np.tile(side_vec(side, -0.34, -0.75, 0.85 if style == "overhead" else -0.1), (tr.n, 1))
        target[:, 0] += SIGN[side] * 0.3 * gap
        gesture(tr, side, target, w, (SIGN[side], 0.3, 0.0) if style == "overhead" else (SIGN[side] * 0.8, 0.3, -1.0))
    return tr


PUNCH_GUARD = (0.05, -0.45, 0.05)


def _punch(ctx: Ctx, tr: Track, side: str, t_hit: float, style: str, dur: float) -> None:
    out = {"straight": (-0.3, -0.98, 0.05), "hook": (-0.55, -0.75, 0.05), "uppercut": (-0.25, -0.6, 0.45)}[style]
    w = bump(ctx.t, t_hit - dur / 2, t_hit + dur / 2)
    gesture(tr, side, side_vec(side, *out), w, (SIGN[side] * 1.0, 0.3, -0.5) if style == "hook" else (0, 0.3, -1))
    tr.spine[:, 2] += -SIGN[side] * 0.35 * w


def guard(ctx: Ctx, tr: Track, a: float, b: float) -> None:
    w = window(ctx.t, a, b, 0.3)
    for side in SIDES:
        gesture(tr, side, side_vec(side, *PUNCH_GUARD), w, (SIGN[side] * 0.5, 0.4, -1))


@action("punch")
def punch(ctx: Ctx) -> Track:
    tr = ctx.standing()
    a, b = once(ctx, (0.05, 0.12), (0.85, 0.95))
    guard(ctx, tr, a, b)
    n = int(ctx.rng.integers(1, 4))
    for k in range(n):
        _punch(ctx, tr, ctx.variant["side"], a + 0.4 + (b - a - 0.8) * (k + 0.5) / n, ctx.variant["style"],
               ctx.u(0.3, 0.45))
    return tr


@action("punch_combo")
def punch_combo(ctx: Ctx) -> Track:
    tr = ctx.standing()
    a, b = once(ctx, (0.05, 0.12), (0.85, 0.95))
    guard(ctx, tr, a, b)
    mid = (a + b) / 2
    first = SIDES[int(ctx.rng.integers(2))]
    _punch(ctx, tr, first, mid - 0.25, "straight", 0.35)
    _punch(ctx, tr, other(first), mid + 0.2, "straight", 0.35)
    return tr


@action("reach")
def reach(ctx: Ctx) -> Track:
    tr = ctx.standing()
    a, b = once(ctx)
    w = window(ctx.t, a, b, 0.5)
    d = ctx.variant["direction"]
    sides = SIDES if ctx.variant["side"] == "both" else (ctx.variant["side"],)
    goal = {"up": (0.1, -0.1, 1.0), "forward": (-0.05, -1.0, 0.15), "side": (1.0, -0.1, 0.1)}[d]
    for side in sides:
        pole = (SIGN[side], 0.3, 0.0) if d == "up" else (SIGN[side] * 0.3, 0.4, -1)
        gesture(tr, side, side_vec(side, *goal), w, pole)
    if d == "forward":
        tr.spine[:, 0] += 0.25 * w
    if d == "side" and len(sides) == 1:
        tr.spine[:, 1] += SIGN[sides[0]] * 0.2 * w
    if d == "up":
        tr.spine[:, 0] -= 0.08 * w
    return tr


@action("point")
def point(ctx: Ctx) -> Track:
    tr = ctx.standing()
    a, b = once(ctx)
    goal = {"up": (0.15, -0.4, 0.9), "forward": (-0.1, -1.0, 0.1), "side": (1.0, -0.25, 0.05)}[ctx.variant["direction"]]
    gesture(tr, ctx.side, side_vec(ctx.side, *goal), window(ctx.t, a, b, 0.4), (SIGN[ctx.side] * 0.3, 0.5, -1))
    tr.head[:, 2] += SIGN[ctx.side] * 0.3 * window(ctx.t, a, b, 0.4) * (ctx.variant["direction"] == "side")
    return tr


@action("throw")
def throw(ctx: Ctx) -> Track:
    tr = ctx.standing()
    side = ctx.side
    t_rel = ctx.duration * ctx.u(0.45, 0.6)
    wind = ramp(ctx.t, t_rel - 0.7, t_rel - 0.2) * (1 - ramp(ctx.t, t_rel - 0.2, t_rel))
    release = bump(ctx.t, t_rel - 0.2, t_rel + 0.5)
    if ctx.variant["style"] == "overhand":
        back, fwd = (0.35, 0.45, 0.55), (-0.1, -0.85, 0.35)
    else:
        back, fwd = (0.2, 0.6, -0.7), (-0.05, -0.85, -0.15)
    gesture(tr, side, side_vec(side, *back), wind, (SIGN[side] * 0.5, 0.5, -1))
    gesture(tr, side, side_vec(side, *fwd), release, (SIGN[side] * 0.3, 0.5, -1))
    tr.spine[:, 2] += SIGN[side] * 0.4 * wind - SIGN[side] * 0.4 * release
    tr.spine[:, 0] += 0.2 * release
    gesture(tr, other(side), side_vec(other(side), 0.1, -0.6, 0.1), wind, (0, 0.4, -1))
    return tr


def bend_down(ctx: Ctx, tr: Track, w: np.ndarray, depth: float) -> None:
    """Bend forward at the hips and knees (weight w in [0, 1])."""
    tr.pelvis[:, 2] -= depth * 0.45 * w
    tr.pelvis[:, 1] += depth * 0.18 * w
    tr.spine[:, 0] += depth * 1.2 * w
    tr.pelvis_tilt[:, 0] += depth * 0.5 * w


@action("pick_up")
def pick_up(ctx: Ctx) -> Track:
    tr = ctx.standing()
    a, b = once(ctx, (0.1, 0.2), (0.75, 0.88))
    w = window(ctx.t, a, b, (b - a) * 0.4)
    bend_down(ctx, tr, w, ctx.u(0.8, 1.0))
    sides = SIDES if ctx.variant["side"] == "both" else (ctx.variant["side"],)
    for side in sides:
        gesture(tr, side, side_vec(side, 0.0, -0.25, -0.9), w, (SIGN[side] * 0.3, 1.0, 0.0))
    return tr


@action("push", "pull")
def push_pull(ctx: Ctx) -> Track:
    tr = ctx.standing()
    pushing = ctx.variant["_family"] == "push"
    a, b = once(ctx)
    w = window(ctx.t, a, b, 0.3)
    stroke = ramp(ctx.t, a + 0.3, (a + b) / 2 + 0.2) if pushing else 1 - ramp(ctx.t, a + 0.3, (a + b) / 2 + 0.2)
    sides = SIDES if ctx.variant["side"] == "both" else (ctx.variant["side"],)
    for side in sides:
        target = (np.outer(1 - stroke, side_vec(side, 0.05, -0.35, 0.0))
                  + np.outer(stroke, side_vec(side, -0.1, -0.95, 0.0)))
        gesture(tr, side, target, w, (SIGN[side] * 0.6, 0.4, -1))
    lean = 0.15 * w * (stroke if pushing else (1 - stroke))
    tr.spine[:, 0] += lean if pushing else -0.15 * w * (1 - stroke)
    return tr


@action("arm_circles")
def arm_circles(ctx: Ctx) -> Track:
    tr = ctx.standing()
    a, b = once(ctx, (0.05, 0.12), (0.85, 0.95))
    w = window(ctx.t, a, b, 0.4)
    freq = ctx.u(0.8, 1.3) * (1 if ctx.variant["direction"] == "forward" else -1)
    r = ctx.u(0.25, 0.4)
    ph = 2 * np.pi * freq * ctx.t
    for side in SIDES:
        target = np.column_stack([np.full(tr.n, SIGN[side] * 0.95), -r * np.sin(ph), r * np.cos(ph)])
        gesture(tr, side, target, w, (0, 0.3, -1))
    return tr


_TO_HEAD = {
    "salute": (-0.45, -0.3, 0.6), "scratch_head": (-0.3, -0.05, 0.72), "phone_call": (-0.22, -0.05, 0.45),
    "drink": (-0.45, -0.35, 0.38), "facepalm": (-0.45, -0.4, 0.55),
}


@action("salute", "scratch_head", "phone_call", "drink", "facepalm")
def hand_to_head(ctx: Ctx) -> Track:
    tr = ctx.standing()
    fam = ctx.variant["_family"]
    side = ctx.variant.get("side", SIDES[int(ctx.rng.integers(2))])
    a, b = once(ctx)
    w = window(ctx.t, a, b, 0.45)
    target = np.tile(side_vec(side, *_TO_HEAD[fam]), (tr.n, 1))
    if fam == "scratch_head":
        target[:, 1] += 0.06 * np.sin(2 * np.pi * 4 * ctx.t)
    if fam == "drink":
        tr.head[:, 0] -= 0.35 * bump(ctx.t, (a + b) / 2 - 0.5, (a + b) / 2 + 0.5)
    if fam == "facepalm":
        tr.head[:, 0] += 0.35 * w
    gesture(tr, side, target, w, (SIGN[side] * 1.0, -0.2, 0.1))
    return tr


@action("check_watch")
def check_watch(ctx: Ctx) -> Track:
    tr = ctx.standing()
    a, b = once(ctx)
    w = window(ctx.t, a, b, 0.4)
    side = ctx.side
    gesture(tr, side, side_vec(side, -0.3, -0.6, -0.15), w, (SIGN[side] * 0.6, 0.3, -1))
    tr.head[:, 0] += 0.4 * w
    tr.head[:, 2] -= SIGN[side] * 0.2 * w
    return tr


@action("shrug")
def shrug(ctx: Ctx) -> Track:
    tr = ctx.standing()
    a, b = once(ctx, (0.25, 0.35), (0.6, 0.75))
    w = window(ctx.t, a, b, 0.25)
    tr.shrug += ctx.u(0.3, 0.45) * w
    for side in SIDES:
        gesture(tr, side, side_vec(side, 0.35, -0.45, -0.45), w, (SIGN[side] * 0.3, 1.0, -0.5))
    tr.head[:, 1] += 0.15 * w
    return tr


@action("cross_arms", "hands_on_hips")
def arms_pose(ctx: Ctx) -> Track:
    tr = ctx.standing()
    a, b = once(ctx, (0.1, 0.25), (0.8, 0.95))
    w = window(ctx.t, a, b, 0.5)
    crossed = ctx.variant["_family"] == "cross_arms"
    for k, side in enumerate(SIDES):
        if crossed:
            goal = side_vec(side, -0.55, -0.42, -0.25 + 0.05 * k)
            pole = (SIGN[side] * 0.8, 0.0, -1)
        else:
            goal = side_vec(side, 0.05, 0.02, -0.62)
            pole = (SIGN[side] * 1.0, 0.3, 0.0)
        gesture(tr, side, goal, w, pole)
    return tr


@action("cheer")
def cheer(ctx: Ctx) -> Track:
    tr = ctx.standing()
    a, b = once(ctx)
    w = window(ctx.t, a, b, 0.35)
    pump = 0.12 * np.sin(2 * np.pi * ctx.u(1.5, 2.5) * ctx.t)
    for side in SIDES:
        target = np.tile(side_vec(side, 0.35, -0.1, 0.9), (tr.n, 1))
        target[:, 2] += pump
        gesture(tr, side, target, w, (SIGN[side], 0.3, 0.0))
    tr.head[:, 0] -= 0.25 * w
    return tr
