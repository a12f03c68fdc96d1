"""Locomotion: walking and running gaits, stepping in place, turning on the spot."""
from __future__ import annotations

import numpy as np

from ..blocks import Step, apply_steps, follow_feet, gait, hand, left_of, mix_hand, ramp, side_vec, window
from ..track import SIDES, SIGN, Track
from .common import Ctx, action

_DIRECTIONS = {"forward": (0.0, 0.0), "backward": (np.pi, -np.pi), "left": (np.pi / 2, -np.pi / 2),
               "right": (-np.pi / 2, np.pi / 2)}


def _walk(ctx: Ctx, speed: float, cadence: float, **kw) -> Track:
    tr = ctx.standing()
    d = ctx.variant.get("direction", "forward")
    t0 = ctx.duration * ctx.u(0.03, 0.1)
    t1 = max(ctx.duration * ctx.u(0.85, 0.95) - 1.6 / cadence, t0 + 1.0 / cadence)
    if d.startswith("circle"):
        radius = ctx.u(1.2, 2.0)
        sgn = 1.0 if d == "circle_left" else -1.0

        def travel(t):
            return sgn * speed / radius * np.clip(t - t0, 0, None)
        facing = travel
    else:
        travel_off, face_off = _DIRECTIONS[d]

        def travel(t):
            return np.full_like(np.asarray(t, float), travel_off)

        def facing(t):
            return np.full_like(np.asarray(t, float), travel_off + face_off)
        if d in ("left", "right"):
            speed *= 0.45
        if d == "backward":
            speed *= 0.6
    gait(tr, ctx.sk, ctx.rng, t0, t1, speed, cadence, travel, facing, width=ctx.stance_width, **kw)
    return tr


@action("walk")
def walk(ctx: Ctx) -> Track:
    slow = ctx.variant.get("tempo") == "slow"
    return _walk(ctx, ctx.u(0.7, 0.9) if slow else ctx.u(1.3, 1.6), ctx.u(1.5, 1.7) if slow else ctx.u(1.9, 2.1))


@action("run")
def run(ctx: Ctx) -> Track:
    return _walk(ctx, ctx.u(2.1, 2.5), ctx.u(2.8, 3.1), swing_frac=1.2, height=0.16, bob=0.04, flight=True,
                 crouch=0.06)


@action("tiptoe_forward")
def tiptoe(ctx: Ctx) -> Track:
    return _walk(ctx, ctx.u(0.45, 0.6), ctx.u(1.7, 2.0), height=0.05, bob=0.01)


@action("crouch_walk_forward")
def crouch_walk(ctx: Ctx) -> Track:
    tr = _walk(ctx, ctx.u(0.5, 0.7), ctx.u(1.4, 1.6), crouch=ctx.u(0.18, 0.26), bob=0.015)
    tr.spine[:, 0] += 0.45 * window(ctx.t, 0, ctx.duration, 0.4)
    return tr


@action("skip_forward")
def skip(ctx: Ctx) -> Track:
    return _walk(ctx, ctx.u(1.3, 1.6), ctx.u(2.3, 2.6), swing_frac=1.1, height=0.2, bob=0.05, flight=True, crouch=0.04)


@action("gallop")
def gallop(ctx: Ctx) -> Track:
    ctx.variant = {**ctx.variant, "direction": ctx.variant["side"]}
    return _walk(ctx, ctx.u(2.6, 3.0), ctx.u(2.4, 2.7), swing_frac=1.1, height=0.12, bob=0.06, flight=True)


def in_place_steps(ctx: Ctx, tr: Track, cadence: float, lift: float, t0: float, t1: float,
                    turn: float = 0.0) -> list[Step]:
    steps, period, k = [], 1.0 / cadence, 0
    start = {s: tr.feet[s].pos[0].copy() for s in SIDES}
    centre = (start["left"] + start["right"]) / 2
    width = np.linalg.norm(start["left"] - start["right"])
    count = max(int((t1 - t0) * cadence), 1)
    for k in range(count):
        side = SIDES[k % 2]
        yaw = turn * (k + 1) / count
        to = centre + np.array([*left_of(yaw)[:2] * SIGN[side] * width / 2, 0.0])
        steps.append(Step(side, t0 + k * period, t0 + k * period + period * 0.75, to, yaw, lift))
    if turn:  # bring the other foot round to the final heading too
        side = SIDES[count % 2]
        to = centre + np.array([*left_of(turn)[:2] * SIGN[side] * width / 2, 0.0])
        steps.append(Step(side, t0 + count * period, t0 + count * period + period * 0.75, to, turn, lift))
    return steps


@action("jog_in_place", "march_in_place", "high_knees")
def step_in_place(ctx: Ctx) -> Track:
    name = ctx.variant["_family"]
    cadence, lift, bob = {"jog_in_place": (2.8, 0.12, 0.03), "march_in_place": (1.8, 0.2, 0.02),
                          "high_knees": (2.6, 0.38, 0.03)}[name]
    cadence *= ctx.u(0.9, 1.1)
    tr = ctx.standing()
    t0, t1 = ctx.duration * 0.08, ctx.duration * 0.9
    apply_steps(tr, in_place_steps(ctx, tr, cadence, lift * ctx.u(0.85, 1.15), t0, t1))
    z = tr.pelvis[0, 2] - bob * np.abs(np.sin(np.pi * cadence * (ctx.t - t0))) * window(
        ctx.t, t0, t1, 0.3)
    follow_feet(tr, z, smooth=0.3)
    osc = np.sin(np.pi * cadence * (ctx.t - t0)) * window(ctx.t, t0, t1, 0.3)
    for k, side in enumerate(SIDES):
        sgn = 1 if k == 0 else -1
        bend = hand(tr.n, side, side_vec(side, 0.15, -0.35, -0.55), (0, 1, -0.5))
        tr.hands[side] = mix_hand(tr.hands[side], bend, window(ctx.t, t0, t1, 0.3) * 0.8)
        tr.hands[side].target[:, 1] -= 0.25 * sgn * osc
    return tr


@action("turn")
def turn(ctx: Ctx) -> Track:
    tr = ctx.standing()
    angle = np.radians(float(ctx.variant["angle"])) * (1 if ctx.variant["side"] == "left" else -1)
    n_steps = max(2, int(abs(angle) / np.radians(60)) + 1)
    t0 = ctx.duration * ctx.u(0.05, 0.15)
    cadence = max(ctx.u(1.6, 2.0), (n_steps + 1) / (ctx.duration * 0.8 - t0))  # finish in time
    t1 = t0 + n_steps / cadence
    apply_steps(tr, in_place_steps(ctx, tr, cadence, 0.06, t0, t1, turn=angle))
    tr.yaw = angle * ramp(ctx.t, t0, t1 + 0.5 / cadence)
    follow_feet(tr, np.full(tr.n, tr.pelvis[0, 2]), smooth=0.25)
    return tr
