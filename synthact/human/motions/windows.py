"""Motion windows: the segments of a motion that clips show, and the motion energy that says whether they move.

Motion energy is the body's mean joint speed (m/s, `quality.joint_speed`); a window's energy is the
median over its frames, so a window with energy e moves at e or faster for at least half of its frames.
Imported libraries store energy and retarget quality per 0.1 s bin (`profile`), so windows of any length
and stride are chosen at sampling time without loading a file; procedural and hand-declared clips are
generated or loaded when rendered, and `active_start` picks the start there.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

BIN_S = 0.1  # seconds per profile bin
_EPS = 1e-6


def bins(values: np.ndarray, fps: float, reduce=np.mean) -> np.ndarray:
    """Per-frame values (T,) reduced over consecutive BIN_S bins (the last bin may be shorter)."""
    edges = np.round(np.arange(0, len(values) / fps + BIN_S - _EPS, BIN_S) * fps).astype(int)
    edges = np.unique(np.clip(edges, 0, len(values)))
    return np.array([reduce(values[a:b]) for a, b in zip(edges[:-1], edges[1:]) if b > a])


@dataclass(frozen=True)
class Window:
    clip_id: str
    start_s: float
    length_s: float
    label: str

    @property
    def window_id(self) -> str:
        """The window's name as a class (class_granularity: motion)."""
        return f"{self.clip_id}@{np.format_float_positional(round(self.start_s, 3), trim='-')}"


@dataclass
class WindowTable:
    """Every window of a library that may be sampled, and how many were left out and why."""

    windows: list[Window] = field(default_factory=list)
    by_label: dict[str, list[Window]] = field(default_factory=dict)
    by_clip: dict[str, list[Window]] = field(default_factory=dict)
    excluded: Counter = field(default_factory=Counter)  # reason -> windows (clips, for too_short)

    def add(self, window: Window) -> None:
        self.windows.append(window)
        self.by_label.setdefault(window.label, []).append(window)
        self.by_clip.setdefault(window.clip_id, []).append(window)


def window_starts(duration_s: float, length_s: float, stride_s: float) -> list[float]:
    """Starts k * stride of the windows that fit in the clip."""
    count = math.floor((duration_s - length_s) / stride_s + _EPS) + 1 if duration_s + _EPS >= length_s else 0
    return [round(k * stride_s, 6) for k in range(max(count, 0))]


def clip_windows(clip_id: str, label: str, duration_s: float, energy: list[float], quality_ok: str,
                 length_s: float, stride_s: float, min_energy: float, table: WindowTable,
                 unsupported: Callable[[int, int], bool] | None = None) -> None:
    """Add a clip's windows to the table: those that move enough, whose retarget quality passed and that do not rest
    on something a scene cannot give them (unsupported(first bin, end bin))."""
    starts = window_starts(duration_s, length_s, stride_s)
    if not starts:
        table.excluded["too_short"] += 1
        return
    for start in starts:
        a = min(int(start / BIN_S + _EPS), len(energy) - 1)
        b = max(min(math.ceil((start + length_s) / BIN_S - _EPS), len(energy)), a + 1)
        if "0" in quality_ok[a:b]:
            table.excluded["quality"] += 1
        elif unsupported is not None and unsupported(a, b):
            table.excluded["unsupported"] += 1
        elif float(np.median(energy[a:b])) < min_energy:
            table.excluded["energy"] += 1
        else:
            table.add(Window(clip_id, start, length_s, label))


def window_energies(energy: np.ndarray, frames: int) -> np.ndarray:
    """Energy (median of per-frame energy) of the window of `frames` frames starting at each frame."""
    frames = max(min(frames, len(energy)), 1)
    return np.median(np.lib.stride_tricks.sliding_window_view(energy, frames), axis=-1)


def active_start(energy: np.ndarray, fps: float, span_s: float, start_fraction: float,
                 min_energy: float) -> tuple[float, float]:
    """(start in seconds, its window's energy) for a window of span_s seconds of a motion with per-frame
    energy at fps: start_fraction places it among the starts whose window has at least min_energy, or, when
    none has, it is the start with the most."""
    frames = int(round(span_s * fps))
    medians = window_energies(energy, frames)
    good = np.flatnonzero(medians >= min_energy)
    k = good[min(int(start_fraction * len(good)), len(good) - 1)] if len(good) else int(np.argmax(medians))
    return k / fps, float(medians[k])
