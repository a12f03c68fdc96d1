"""What every action family shares: the context it gets, the registry, and timing and gesture helpers."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ...skeleton import Skeleton
from ..blocks import hand, mix_hand, side_vec, smoothstep, window
from ..track import SIDES, SIGN, Track, relaxed_hand, standing_track


@dataclass
class Ctx:
    t: np.ndarray
    sk: Skeleton
    rng: np.random.Generator
    variant: dict
    duration: float
    stance_rng_seed: int = 0  # the neutral stance, shared by the parts of a composed action
    seat_height_m: float | None = None  # sitting actions: the seat's top above the floor (None: on the floor)

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
