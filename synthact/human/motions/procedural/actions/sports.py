"""Sports: racket, bat and club swings, bowling, a basketball shot, a boxing shuffle."""
from __future__ import annotations

import numpy as np

from ..blocks import apply_steps, bump, follow_feet, jump, keyframes, ramp, side_vec, window
from ..track import SIDES, SIGN, Track
from .arms import guard
from .common import Ctx, action, gesture, once
from .locomotion import in_place_steps


def _swing(ctx: Ctx, side: str, keys, low: bool, two_hands: bool) -> Track:
    """Hands through back-swing, contact and follow-through keys (chest space, `side`'s view)."""
    tr = ctx.standing()
    t_hit = ctx.duration * ctx.u(0.45, 0.6)
    times = [t_hit - 1.1, t_hit - 0.35, t_hit, t_hit + 0.35, t_hit + 1.1]
    for s in SIDES if two_hands else (side,):
        flip = np.array([SIGN[s] * SIGN[side], 1, 1])
        targets = [side_vec(side, *k) * flip for k in keys] + [tr.hands[s].target[0]]
        poles = [(SIGN[s] * 0.5, 0.5, -1)] * len(keys) + [tr.hands[s].pole[0]]
        keyframes(tr, s, times, targets, poles)
    turn = ramp(ctx.t, times[0], times[1]) - 2 * ramp(ctx.t, times[1], times[3]) + ramp(ctx.t, times[3], times[4])
    tr.spine[:, 2] += SIGN[side] * 0.6 * turn
    if low:
        tr.spine[:, 0] += 0.4 * window(ctx.t, times[0] - 0.2, times[-1] + 0.2, 0.4)
    return tr


@action("tennis_forehand")
def tennis(ctx: Ctx) -> Track:
    return _swing(ctx, ctx.side, [(0.7, 0.4, 0.0), (0.2, -0.9, 0.05), (-0.6, -0.6, 0.25), (-0.3, -0.2, 0.6)],
                  False, False)


@action("baseball_swing")
def baseball(ctx: Ctx) -> Track:
    return _swing(ctx, ctx.side, [(0.35, 0.3, 0.35), (0.1, -0.8, 0.1), (-0.45, -0.6, 0.1), (-0.4, 0.1, 0.4)],
                  False, True)


@action("golf_swing")
def golf(ctx: Ctx) -> Track:
    return _swing(ctx, ctx.side, [(0.4, 0.2, 0.45), (0.0, -0.6, -0.7), (-0.35, -0.5, -0.2), (-0.45, -0.3, 0.4)],
                  True, True)


@action("bowling")
def bowling(ctx: Ctx) -> Track:
    return _swing(ctx, ctx.side, [(0.1, 0.7, -0.6), (0.0, -0.2, -0.95), (-0.05, -0.9, -0.3), (0.0, -0.7, 0.5)],
                  True, False)


@action("basketball_shot")
def basketball(ctx: Ctx) -> Track:
    tr = ctx.standing()
    t_rel = ctx.duration * ctx.u(0.45, 0.6)
    load = window(ctx.t, t_rel - 1.0, t_rel + 0.5, 0.4)
    shoot = bump(ctx.t, t_rel - 0.3, t_rel + 0.6)
    for side in SIDES:
        gesture(tr, side, side_vec(side, -0.15, -0.45, 0.3), load, (SIGN[side] * 0.5, 0.3, -1))
    gesture(tr, "right", side_vec("right", 0.0, -0.4, 0.95), shoot, (-0.7, -0.5, 0.0))
    if ctx.variant["tempo"] == "jumping":
        jump(tr, ctx.sk, t_rel - 0.2, ctx.u(0.35, 0.45))
    else:
        tr.pelvis[:, 2] -= 0.12 * bump(ctx.t, t_rel - 0.8, t_rel)
    return tr


@action("boxing_shuffle")
def boxing_shuffle(ctx: Ctx) -> Track:
    tr = ctx.standing()
    a, b = once(ctx, (0.05, 0.1), (0.9, 0.95))
    guard(ctx, tr, a, b)
    freq = ctx.u(2.0, 2.6)
    apply_steps(tr, in_place_steps(ctx, tr, freq, 0.04, a + 0.3, b - 0.3))
    follow_feet(tr, ctx.sk.standing_pelvis_height - 0.06 - 0.02 * np.abs(np.sin(np.pi * freq * ctx.t)), smooth=0.2)
    tr.spine[:, 0] += 0.15
    return tr
