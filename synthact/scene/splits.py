"""Train/val/test splits decided at sampling time, with factors held out across splits.

Sampling each split's factors from disjoint buckets is the only way to hold out bodies, backgrounds
and camera setups without throwing clips away: a clip whose factors came from different splits would
leak one of them. The split of a scene is drawn per motion group (all renders of a motion share it);
each held-out factor's buckets are dealt to the splits (at least one each), and a scene's factor is
re-drawn (with keyed attempts, so deterministically) until it falls in a bucket of its split.
"""
from __future__ import annotations

from synthact.rng import Stream

SPLITS = ("train", "val", "test")
MAX_ATTEMPTS = 256


def split_of_group(seed: int, group: int, val: float, test: float) -> str:
    u = Stream(seed, f"motion/{group}").uniform01("split")
    return "test" if u < test else "val" if u < test + val else "train"


def partition(keys, val: float, test: float, seed: int, name: str) -> dict:
    """Deal bucket keys to splits in proportion (at least one each for a non-zero share)."""
    keys = sorted(set(keys), key=lambda k: Stream(seed, f"splits/{name}").bits64(repr(k)))
    n = len(keys)
    n_test = max(1, round(test * n)) if test > 0 else 0
    n_val = max(1, round(val * n)) if val > 0 else 0
    if n - n_test - n_val < 1:
        raise ValueError(f"{name}: {n} distinct values cannot be split into train/val/test without overlap")
    return {k: "test" if i < n_test else "val" if i < n_test + n_val else "train" for i, k in enumerate(keys)}


def body_bucket(shape) -> tuple:
    return (int(shape.gender >= 0.5), min(int(shape.height * 3), 2), min(int(shape.weight * 3), 2))


def tercile_edges(values: list[float]) -> tuple[float, float]:
    values = sorted(values)
    return values[len(values) // 3], values[2 * len(values) // 3]


def tercile(value: float, edges: tuple[float, float]) -> int:
    return 0 if value < edges[0] else 1 if value < edges[1] else 2


def attempts(stream: Stream):
    """The same stream first (so scenes without splits are unchanged), then keyed re-draws."""
    yield stream
    for k in range(1, MAX_ATTEMPTS):
        yield stream.child(f"retry{k}")

