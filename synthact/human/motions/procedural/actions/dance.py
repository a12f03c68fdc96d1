"""Dance: step-touch, twist, sway, bounce, shuffle, arm waves and the disco point."""
from __future__ import annotations

import numpy as np

from ..blocks import Step, apply_steps, follow_feet, side_vec, window
from ..track import SIDES, SIGN, Track
from .common import Ctx, action, gesture, once, other
from .locomotion import in_place_steps


@action("dance")
def dance(ctx: Ctx) -> Track:
    tr = ctx.standing()
    style = ctx.variant["style"]
    beat = ctx.u(1.6, 2.2)  # steps per second
    a, b = once(ctx, (0.05, 0.1), (0.9, 0.95))
    w = window(ctx.t, a, b, 0.4)
    ph = np.pi * beat * (ctx.t - a)
    if style == "step_touch":
        period = 2.0 / beat
        k, steps = 0, []
        c = (tr.feet["left"].pos[0] + tr.feet["right"].pos[0]) / 2
        while a + (k + 1) * period < b:
            lead = SIDES[k % 2]
            shift = SIGN[lead] * 0.3 * (1 if k % 2 == 0 else 0)
            for s, dt in ((lead, 0.0), (other(lead), period / 2)):
                base = c + [SIGN[s] * 0.12 + shift, 0, 0]
                steps.append(Step(s, a + k * period + dt, a + k * period + dt + period * 0.4, base, 0.0, 0.06))
            k += 1
        apply_steps(tr, steps)
        follow_feet(tr, ctx.sk.standing_pelvis_height - 0.04 - 0.03 * np.abs(np.sin(ph)) * w, smooth=0.15)
    elif style in ("twist", "sway", "bounce", "shuffle"):
        amp = {"twist": 0.45, "sway": 0.25, "bounce": 0.05, "shuffle": 0.1}[style]
        if style == "twist":
            tr.spine[:, 2] += amp * np.sin(ph) * w
            tr.pelvis[:, 2] -= 0.08 * w
        elif style == "sway":
            tr.spine[:, 1] += amp * np.sin(ph / 2) * w
            tr.pelvis[:, 0] += 0.05 * np.sin(ph / 2) * w
        elif style == "bounce":
            tr.pelvis[:, 2] -= (0.06 + amp * np.abs(np.sin(ph))) * w
        else:
            apply_steps(tr, in_place_steps(ctx, tr, beat, 0.05, a + 0.2, b - 0.2))
            follow_feet(tr, ctx.sk.standing_pelvis_height - 0.05 - 0.02 * np.abs(np.sin(ph)), smooth=0.2)
        for side in SIDES:
            target = np.tile(side_vec(side, 0.25, -0.5, -0.15), (tr.n, 1))
            target[:, 2] += 0.2 * np.sin(ph + (0 if side == "left" else np.pi))
            gesture(tr, side, target, w, (SIGN[side] * 0.6, 0.4, -1))
    else:  # arm_wave
        for side in SIDES:
            target = np.tile(side_vec(side, 0.95, -0.1, 0.15), (tr.n, 1))
            target[:, 2] += 0.25 * np.sin(ph * 0.7 - SIGN[side] * 1.2)
            gesture(tr, side, target, w, (0, 0.3, -1))
        tr.spine[:, 1] += 0.12 * np.sin(ph * 0.7) * w
    return tr


@action("disco_point")
def disco_point(ctx: Ctx) -> Track:
    tr = ctx.standing()
    side = ctx.side
    beat = ctx.u(0.9, 1.3)
    a, b = once(ctx, (0.05, 0.1), (0.88, 0.95))
    w = window(ctx.t, a, b, 0.3)
    up = 0.5 + 0.5 * np.sin(2 * np.pi * beat * (ctx.t - a))
    target = np.outer(up, side_vec(side, 0.45, -0.3, 0.85)) + np.outer(1 - up, side_vec(side, -0.45, -0.4, -0.6))
    gesture(tr, side, target, w, (SIGN[side] * 0.6, 0.3, -1))
    gesture(tr, other(side), side_vec(other(side), 0.05, 0.02, -0.62), w, (SIGN[other(side)], 0.3, 0))
    tr.pelvis[:, 0] += SIGN[side] * 0.05 * (up - 0.5) * w
    return tr
