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



def recording_of(clip_id: str, by: str) -> str:
    """The unit an imported motion's split goes by: its subject where the file name gives one (CMU's and
    AMASS's 02_01 is subject 2, trial 1), else the trial (the clip)."""
    from synthact.human.motions.vocabulary import cmu_trial
    parsed = cmu_trial(clip_id) if by == "subject" else None
    return f"subject {parsed[0]:02d}" if parsed else f"trial {clip_id}"


def deal_recordings(library: str, clips_by_label: dict[str, list[str]], by: str, val: float, test: float,
                    seed: int) -> dict[str, str]:
    """clip id -> split, so that no recording (a trial, or a subject's trials) is in two splits and every label
    has recordings in train and in each held-out split; raises ValueError naming the label that cannot.

    By trial the deal is stratified (each label's trials are dealt on their own: a trial has one label); by
    subject it is one deal over the subjects, as a subject's trials span labels."""
    needed = ["train"] + [s for s, share in (("val", val), ("test", test)) if share > 0]
    out: dict[str, str] = {}
    if by == "trial":
        for label, clips in sorted(clips_by_label.items()):
            if len(set(clips)) < len(needed):
                raise ValueError(f"motion library {library!r}: class {label!r} has {len(set(clips))} trial(s); "
                                 f"holding out by trial needs one per split ({', '.join(needed)})")
            out.update(partition(clips, val, test, seed, f"trials/{library}/{label}"))
        return out
    owners = {clip: recording_of(clip, by) for clips in clips_by_label.values() for clip in clips}
    try:
        dealt = partition(owners.values(), val, test, seed, f"subjects/{library}")
    except ValueError:
        raise ValueError(f"motion library {library!r}: {len(set(owners.values()))} subject(s) cannot be split "
                         f"into {', '.join(needed)}; hold out by trial (splits.motions_by: trial)") from None
    for label, clips in sorted(clips_by_label.items()):
        reached = {dealt[owners[c]] for c in clips}
        if not set(needed) <= reached:
            subjects = sorted({owners[c] for c in clips})
            raise ValueError(f"motion library {library!r}: class {label!r} comes from {len(subjects)} subject(s) "
                             f"({', '.join(subjects[:4])}{', ...' if len(subjects) > 4 else ''}) dealt only to "
                             f"{', '.join(sorted(reached))}; it needs recordings in {', '.join(needed)}: hold out "
                             f"by trial (splits.motions_by: trial) or leave the class out")
    return {clip: dealt[owner] for clip, owner in owners.items()}
