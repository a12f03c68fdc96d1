"""Jumps: jumps in every direction, hops and jumping jacks."""
from __future__ import annotations

import numpy as np

from ...skeleton import ANKLE_HEIGHT
from ..blocks import Step, apply_steps, bump, follow_feet, jump, side_vec, window
from ..track import SIDES, SIGN, Track
from .common import Ctx, action, gesture, other


@action("jump")
def jump_action(ctx: Ctx) -> Track:
    tr = ctx.standing()
    style = ctx.variant["style"]
    flight = ctx.u(0.38, 0.5) if style != "tuck" else ctx.u(0.5, 0.58)
    t0 = ctx.duration * ctx.u(0.3, 0.4)
    reach = ctx.u(0.5, 0.9)
    disp = {"forward": (0, -reach), "backward": (0, reach * 0.5), "left": (reach * 0.6, 0),
            "right": (-reach * 0.6, 0)}.get(style, (0, 0))
    spin = {"spin_left": np.pi, "spin_right": -np.pi}.get(style, 0.0) * ctx.u(0.9, 1.0)
    _, land = jump(tr, ctx.sk, t0, flight, disp, spin, tuck=1.0 if style == "tuck" else 0.0)
    arms_up = bump(ctx.t, t0 - 0.25, land)
    for side in SIDES:
        gesture(tr, side, side_vec(side, 0.25, -0.5, 0.6), arms_up, (0, 0.3, -1))
    tr.spine[:, 0] += 0.35 * bump(ctx.t, t0 - 0.35, t0 + 0.05) + 0.3 * bump(ctx.t, land - 0.05, land + 0.35)
    return tr


@action("hop")
def hop(ctx: Ctx) -> Track:
    tr = ctx.standing()
    foot = ctx.variant["foot"]
    forward = ctx.variant["direction"] == "forward"
    hops = int(ctx.rng.integers(2, 4))
    t0 = ctx.duration * 0.2
    gap = (ctx.duration * 0.75 - t0) / hops
    flight = min(0.3, gap * 0.55)
    if foot != "both":
        raised = other(foot)
        lift = window(ctx.t, 0.05 * ctx.duration, 0.92 * ctx.duration, 0.25)
        f = tr.feet[raised]
        f.pos[:, 2] += 0.25 * lift
        f.pos[:, 1] += 0.12 * lift
        f.planted[lift > 0.02] = False
    for k in range(hops):
        disp = (0.0, -ctx.u(0.2, 0.35)) if forward else (0.0, 0.0)
        jump(tr, ctx.sk, t0 + k * gap, flight, disp, crouch=0.08)
    if foot != "both":  # keep the raised foot hanging under the pelvis while hopping
        f = tr.feet[raised]
        lift = window(ctx.t, 0.05 * ctx.duration, 0.92 * ctx.duration, 0.25)
        hang = tr.pelvis - [0, 0, ctx.sk.standing_pelvis_height - ANKLE_HEIGHT - 0.25]
        hang[:, 0] += SIGN[raised] * 0.1
        hang[:, 1] += 0.12
        rest = tr.feet[foot].pos + np.array([SIGN[raised] * 0.2, 0, 0])
        f.pos = rest * (1 - lift[:, None]) + hang * lift[:, None]
        f.pos[:, 2] = np.maximum(f.pos[:, 2], ANKLE_HEIGHT)
        f.planted = lift < 0.02
    return tr


@action("jumping_jacks")
def jumping_jacks(ctx: Ctx) -> Track:
    tr = ctx.standing()
    freq = ctx.tempo(0.8, 1.3)
    t0 = ctx.duration * 0.12
    count = max(1, int((ctx.duration * 0.8 - t0) * freq))
    period = 1.0 / freq
    centre = (tr.feet["left"].pos[0] + tr.feet["right"].pos[0]) / 2
    wide, narrow = ctx.u(0.22, 0.3), 0.1
    arms = np.zeros(tr.n)
    for k in range(count):
        for half, w in ((0.0, wide), (0.5, narrow)):
            ta = t0 + (k + half) * period
            steps = [Step(s, ta, ta + period * 0.3, centre + [SIGN[s] * w, 0, 0], 0.0, 0.05) for s in SIDES]
            apply_steps(tr, steps)
        arms += bump(ctx.t, t0 + k * period, t0 + (k + 1) * period)
    follow_feet(tr, tr.pelvis[:, 2] - 0.015 * arms, smooth=0.1)
    bounce = np.abs(np.sin(2 * np.pi * freq * (ctx.t - t0)))
    tr.pelvis[:, 2] += 0.05 * bounce * window(ctx.t, t0, t0 + count * period, 0.1)
    for side in SIDES:
        gesture(tr, side, side_vec(side, 0.35, 0.0, 0.93), arms, (0, 0.2, -1))
    return tr
