"""The procedural action families. Each turns (time grid, skeleton, rng, variant) into a Track.

Every action starts standing at the origin facing -Y; the instance rng varies tempo, amplitude,
timing and style so that one class yields many distinct clips.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..skeleton import ANKLE_HEIGHT, Skeleton
from .blocks import (Step, apply_steps, bump, follow_feet, gait, hand, heel_raise, jump, keyframes, left_of, mix_hand,
                     ramp, side_vec, smoothstep, window)
from .track import SIDES, SIGN, Track, relaxed_hand, standing_track


@dataclass
class Ctx:
    t: np.ndarray
    sk: Skeleton
    rng: np.random.Generator
    variant: dict
    duration: float
    stance_rng_seed: int = 0  # the neutral stance, shared by the parts of a composed action

    def u(self, lo: float, hi: float) -> float:
        return float(self.rng.uniform(lo, hi))

    @property
    def stance_width(self) -> float:
        return float(np.random.default_rng(self.stance_rng_seed).uniform(0.16, 0.26))

    def standing(self) -> Track:
        """The neutral pose every action starts and ends in (same for every part of a composition)."""
        r = np.random.default_rng(self.stance_rng_seed)
        width, spread, fwd = r.uniform(0.16, 0.26), r.uniform(0.05, 0.12), r.uniform(0, 0.1)
        tr = standing_track(self.t, self.sk, width=width)
        for side in SIDES:
            tr.hands[side] = relaxed_hand(len(self.t), side, spread=spread, forward=fwd)
        return tr

    @property
    def side(self) -> str:
        return self.variant.get("side", "right")

    def tempo(self, slow: float, fast: float) -> float:
        return {"slow": slow, "fast": fast}.get(self.variant.get("tempo", ""), (slow + fast) / 2) * self.u(0.88, 1.12)


ACTIONS: dict[str, Callable[[Ctx], Track]] = {}


def action(*families: str):
    def register(fn):
        for f in families:
            ACTIONS[f] = fn
        return fn
    return register


def other(side: str) -> str:
    return "left" if side == "right" else "right"


_VIA = (0.35, -0.75, -0.3)  # in front of the body, a little out and down: the way round for big swings


def gesture(tr: Track, side: str, target, w, pole=(0.0, 1.0, -0.3)) -> None:
    """Blend a hand from its current pose to target (chest space) by weight w(t).

    When start and goal point nearly opposite ways from the shoulder, the hand goes round
    through a point in front of the body instead of across it (which would twist the arm).
    """
    n = tr.n
    start = tr.hands[side]
    goal = hand(n, side, np.broadcast_to(target, (n, 3)), np.broadcast_to(pole, (n, 3)))
    w = np.asarray(w, float)
    direct = mix_hand(start, goal, w)
    via = hand(n, side, side_vec(side, *_VIA), (SIGN[side] * 0.6, 0.6, -1.0))
    around = mix_hand(mix_hand(start, via, np.clip(2 * w, 0, 1)), goal, np.clip(2 * w - 1, 0, 1))
    cos = np.sum(_unit(start.target) * _unit(goal.target), axis=-1)
    detour = smoothstep((np.degrees(np.arccos(np.clip(cos, -1, 1))) - 80.0) / 40.0)
    tr.hands[side] = mix_hand(direct, around, detour)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def once(ctx: Ctx, lo=(0.12, 0.25), hi=(0.7, 0.85)) -> tuple[float, float]:
    return ctx.duration * ctx.u(*lo), ctx.duration * ctx.u(*hi)


def cycles(ctx: Ctx, freq: float) -> np.ndarray:
    """Whole down-and-up cycles in [0, 1] at freq Hz, starting and ending at 0."""
    a = ctx.duration * ctx.u(0.05, 0.12)
    count = max(int((ctx.duration * 0.95 - a) * freq), 1)
    freq = count / (ctx.duration * 0.95 - a)
    phase = np.clip(ctx.t - a, 0, count / freq)
    return smoothstep(0.5 - 0.5 * np.cos(2 * np.pi * freq * phase))


def reps(ctx: Ctx, freq: float) -> np.ndarray:
    """A smooth oscillation in [-1, 1] at freq Hz, faded in and out."""
    a, b = once(ctx, (0.05, 0.12), (0.88, 0.97))
    return np.sin(2 * np.pi * freq * (ctx.t - a)) * window(ctx.t, a, b, 0.3)


# --- locomotion ----------------------------------------------------------------------------------

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


def _in_place_steps(ctx: Ctx, tr: Track, cadence: float, lift: float, t0: float, t1: float,
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
    apply_steps(tr, _in_place_steps(ctx, tr, cadence, lift * ctx.u(0.85, 1.15), t0, t1))
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
    apply_steps(tr, _in_place_steps(ctx, tr, cadence, 0.06, t0, t1, turn=angle))
    tr.yaw = angle * ramp(ctx.t, t0, t1 + 0.5 / cadence)
    follow_feet(tr, np.full(tr.n, tr.pelvis[0, 2]), smooth=0.25)
    return tr


# --- jumps ---------------------------------------------------------------------------------------

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
    tr.pelvis[:, 2] += 0.05 * np.abs(np.sin(2 * np.pi * freq * (ctx.t - t0))) * window(ctx.t, t0, t0 + count * period, 0.1)
    for side in SIDES:
        gesture(tr, side, side_vec(side, 0.35, 0.0, 0.93), arms, (0, 0.2, -1))
    return tr


# --- arms ----------------------------------------------------------------------------------------

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


_PUNCH_GUARD = (0.05, -0.45, 0.05)


def _punch(ctx: Ctx, tr: Track, side: str, t_hit: float, style: str, dur: float) -> None:
    out = {"straight": (-0.3, -0.98, 0.05), "hook": (-0.55, -0.75, 0.05), "uppercut": (-0.25, -0.6, 0.45)}[style]
    w = bump(ctx.t, t_hit - dur / 2, t_hit + dur / 2)
    gesture(tr, side, side_vec(side, *out), w, (SIGN[side] * 1.0, 0.3, -0.5) if style == "hook" else (0, 0.3, -1))
    tr.spine[:, 2] += -SIGN[side] * 0.35 * w


def _guard(ctx: Ctx, tr: Track, a: float, b: float) -> None:
    w = window(ctx.t, a, b, 0.3)
    for side in SIDES:
        gesture(tr, side, side_vec(side, *_PUNCH_GUARD), w, (SIGN[side] * 0.5, 0.4, -1))


@action("punch")
def punch(ctx: Ctx) -> Track:
    tr = ctx.standing()
    a, b = once(ctx, (0.05, 0.12), (0.85, 0.95))
    _guard(ctx, tr, a, b)
    n = int(ctx.rng.integers(1, 4))
    for k in range(n):
        _punch(ctx, tr, ctx.variant["side"], a + 0.4 + (b - a - 0.8) * (k + 0.5) / n, ctx.variant["style"],
               ctx.u(0.3, 0.45))
    return tr


@action("punch_combo")
def punch_combo(ctx: Ctx) -> Track:
    tr = ctx.standing()
    a, b = once(ctx, (0.05, 0.12), (0.85, 0.95))
    _guard(ctx, tr, a, b)
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
        gesture(tr, side, side_vec(side, *goal), w, (SIGN[side], 0.3, 0.0) if d == "up" else (SIGN[side] * 0.3, 0.4, -1))
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


def _bend_down(ctx: Ctx, tr: Track, w: np.ndarray, depth: float) -> None:
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
    _bend_down(ctx, tr, w, ctx.u(0.8, 1.0))
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
        target = np.outer(1 - stroke, side_vec(side, 0.05, -0.35, 0.0)) + np.outer(stroke, side_vec(side, -0.1, -0.95, 0.0))
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


# --- legs ----------------------------------------------------------------------------------------

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
        gesture(tr, s, side_vec(s, *_PUNCH_GUARD), prep, (SIGN[s] * 0.5, 0.4, -1))
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
    offset = np.array([0.0, -length, 0.0]) if ctx.variant["direction"] == "forward" else np.array([SIGN[side] * length, 0, 0])
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


# --- whole body ----------------------------------------------------------------------------------

def _sit(ctx: Ctx, tr: Track, w: np.ndarray) -> None:
    """Lower onto the ground behind the planted feet (knees up), hands back for support."""
    ground = 0.21  # pelvis joint height when sitting on the floor
    stand = tr.pelvis[:, 2].copy()
    tr.pelvis[:, 2] = stand + (ground - stand) * w
    tr.pelvis[:, 1] += 0.45 * w
    tr.spine[:, 0] += 0.35 * np.sin(np.pi * w) - 0.1 * w
    for side in SIDES:
        gesture(tr, side, side_vec(side, 0.2, 0.25, -0.85), w, (SIGN[side] * 0.2, 1.0, 0.0))


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
        _bend_down(ctx, tr, w, 1.0)
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
        gesture(tr, s, side_vec(s, *_PUNCH_GUARD), w, (SIGN[s] * 0.5, 0.4, -1))
    return tr


# --- sports --------------------------------------------------------------------------------------

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
    _guard(ctx, tr, a, b)
    freq = ctx.u(2.0, 2.6)
    apply_steps(tr, _in_place_steps(ctx, tr, freq, 0.04, a + 0.3, b - 0.3))
    follow_feet(tr, ctx.sk.standing_pelvis_height - 0.06 - 0.02 * np.abs(np.sin(np.pi * freq * ctx.t)), smooth=0.2)
    tr.spine[:, 0] += 0.15
    return tr


# --- dance ---------------------------------------------------------------------------------------

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
            apply_steps(tr, _in_place_steps(ctx, tr, beat, 0.05, a + 0.2, b - 0.2))
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
