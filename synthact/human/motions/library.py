"""Motion libraries: the built-in procedural one, imported mocap libraries and hand-declared collections.

- `procedural` generates every instance in code.
- An imported library has a manifest (`library.json`, collection.py) written by
  `synthact motions import-library`: labels, and energy and quality per 0.1 s of every file, so the sampler
  chooses windows without loading a file. It is registered by its folder under the library root, or
  declared by a pack with `options: {manifest: PATH}`.
- A hand-declared collection is a `motion_library` pack whose `path` is a folder of clips, with
  `options.format` (bvh | amass) and `options.classes` mapping class name -> clip ids (file names
  without extension). Files listed in `sha256` are verified before use.

`MotionLibrary.play(motion_spec, fps, frames)` is what a render worker calls.
"""
from __future__ import annotations

import functools
import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

from synthact.config.assets import AssetRegistry, ResolvedPack, display_path
from synthact.spec import MotionSpec

from . import procedural
from .collection import ClipRecord, LibraryManifest, read_manifest
from .importers import load_amass, load_bvh
from .motion import Motion, MotionError
from .procedural.actions.whole_body import SEATED_PELVIS_M
from .quality import joint_speed
from .skeleton import Skeleton
from .vocabulary import LYING, SITTING, leans_on_something
from .windows import BIN_S, WindowTable, active_start

_SUFFIX = {"bvh": ".bvh", "amass": ".npz"}
# Procedural instances are generated this long (seconds) for the window search; when no window of the
# longest moves enough, the action is generated shorter (its holds are shorter, its moves quicker).
ACTIVE_DURATIONS = (procedural.DEFAULT_DURATION, 2.4, 1.6)
SEATED_BELOW = 0.85  # a recorded window sits when its pelvis drops below this share of the standing pelvis height
LOWEST_SEAT_M = 0.2  # a recorded sit lower than this is on the floor, which holds it: no seat


@dataclass(frozen=True)
class Seating:
    """What a motion sits on: no seat (standing, or a sit on the floor), a seat of any height (a procedural sit is
    made for its seat; a recorded one from a library that did not measure it sits as recorded), or a seat of the
    height the recording sat on."""

    seated: bool
    height_m: float | None = None  # the recorded seat height (on the reference body); None: any


def _unsupported(clip: ClipRecord, first_bin: int, end_bin: int) -> bool:
    """Whether a recorded window rests on something no scene gives it: a lean on or against something (the source
    says so), or the lowered part of a lie that never reaches the floor (on a bed or sofa as recorded; SynthAct
    places seats, not lying surfaces). A lie that reaches the floor is held by it, on the way down too; a library
    without the pelvis measure lies as recorded."""
    if leans_on_something(clip.description):
        return True
    if LYING not in clip.labels or not clip.pelvis_m or min(clip.pelvis_m) < LOWEST_SEAT_M + SEATED_PELVIS_M:
        return False
    lowest = min(clip.pelvis_m[first_bin:end_bin] or clip.pelvis_m[-1:])
    return lowest < SEATED_BELOW * Skeleton.reference().standing_pelvis_height


class MotionLibrary:
    def __init__(self, pack: ResolvedPack):
        self.pack = pack
        self.name = pack.pack.name
        self.builtin = pack.pack.builtin
        self.imported = "manifest" in pack.pack.options

    @classmethod
    def open(cls, name: str, registry: AssetRegistry | None = None) -> "MotionLibrary":
        registry = registry or AssetRegistry.load()
        pack = registry.get("motion_library", name)
        if pack is None:
            raise MotionError(registry.missing_message("motion_library", name))
        lib = cls(pack)
        lib.check_present()
        return lib

    @functools.cached_property
    def manifest(self) -> LibraryManifest | None:
        """An imported library's manifest (None for the others)."""
        if not self.imported:
            return None
        path = self.pack.manifest.parent / self.pack.pack.options["manifest"]
        try:
            return read_manifest(path)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise MotionError(f"motion library {self.name!r}: cannot read its manifest {path}: {exc}") from None

    def folder(self) -> Path | None:
        return self.pack.location() or (Path(self.manifest.path) if self.manifest else None)

    def check_present(self) -> None:
        if self.builtin:
            return
        where = self.folder()
        declared = display_path(self.pack.manifest)
        if where is None or not where.is_dir():
            hint = f"`synthact motions fetch {self.name} --to DIR`" if self.manifest and self.manifest.download_url \
                else "download the collection"
            raise MotionError(f"motion library {self.name!r}: folder {where} not found "
                              f"(declared in {declared}; {hint} or fix its path)")
        fmt = self.pack.pack.options.get("format")
        if not self.imported and fmt not in _SUFFIX:
            raise MotionError(f"motion library {self.name!r} in {declared}: options.format must be one of "
                              f"{', '.join(_SUFFIX)}, got {fmt!r}")

    def classes(self) -> dict[str, list[str]]:
        """class (label) -> clip ids (procedural classes have no fixed clips: instances are generated)."""
        if self.builtin:
            return {name: [] for name in procedural.class_names()}
        if self.manifest is not None:
            out: dict[str, list[str]] = {}
            for clip in self.manifest.clips:
                out.setdefault(clip.label, []).append(clip.clip_id)
            return out
        return {c: list(clips) for c, clips in self.pack.pack.options.get("classes", {}).items()}

    @functools.cached_property
    def _records(self) -> dict[str, ClipRecord]:
        return {c.clip_id: c for c in self.manifest.clips} if self.manifest else {}

    def clip_class(self, clip_id: str) -> str | None:
        if clip_id in self._records:
            return self._records[clip_id].label
        return next((name for name, clips in self.classes().items() if clip_id in clips), None)

    def description(self, clip_id: str | None, class_name: str) -> str:
        """The source's words for a clip (procedural: the class name in words)."""
        record = self._records.get(clip_id or "")
        return record.description if record else class_name.replace("_", " ")

    def seating(self, m: MotionSpec) -> Seating:
        """What the spec's motion sits on: from its label, and for a recorded window from its pelvis's lowest
        height in the window (the frames `play(..., whole=True)` gives)."""
        if m.source_class_name not in SITTING:
            return Seating(False)
        record = self._records.get(m.clip_id or "")
        if m.window_start_s is None or record is None or not record.pelvis_m:
            return Seating(True)
        a = min(int(m.window_start_s / BIN_S + 1e-6), len(record.pelvis_m) - 1)
        b = max(math.ceil((m.window_start_s + m.window_length_s) / BIN_S - 1e-6), a + 1)
        lowest = min(record.pelvis_m[a:b])
        if lowest > SEATED_BELOW * Skeleton.reference().standing_pelvis_height:
            return Seating(False)  # the window shows the standing before or after the sit
        height = round(lowest - SEATED_PELVIS_M, 3)
        return Seating(True, height) if height >= LOWEST_SEAT_M else Seating(False)

    @functools.lru_cache(maxsize=8)
    def window_table(self, length_s: float, stride_s: float, min_energy: float) -> WindowTable | None:
        """An imported library's windows that move enough, passed quality and need no support a scene cannot give
        (None for the others)."""
        return self.manifest.windows(length_s, stride_s, min_energy, _unsupported) if self.manifest else None

    def clip_path(self, clip_id: str) -> Path:
        if clip_id in self._records:
            return self.folder() / self._records[clip_id].file
        if self.imported:
            raise MotionError(f"motion library {self.name!r} has no clip {clip_id!r}")
        return self.folder() / f"{clip_id}{_SUFFIX[self.pack.pack.options['format']]}"

    def load_clip(self, clip_id: str) -> Motion:
        if self.builtin:
            return procedural.generate(clip_id)
        path = self.clip_path(clip_id)
        if not path.is_file():
            raise MotionError(f"motion library {self.name!r}: clip {clip_id!r} not found at {path}")
        record = self._records.get(clip_id)
        fmt = record.format if record else self.pack.pack.options["format"]
        digest = record.sha256 if record else self.pack.pack.sha256.get(path.name)
        return _load_external(str(path), fmt, self.clip_class(clip_id) or clip_id, self.pack.pack.license, digest,
                              display_path(self.pack.manifest))

    def play(self, m: MotionSpec, fps: float, frames: int, seat_height_m: float | None = None,
             whole: bool = False) -> Motion:
        """The motion a scene renders: `frames` frames at fps of the spec's window, at its speed, mirrored if asked.
        A procedural sitting action sits on a seat seat_height_m high (in the reference skeleton's scale); a
        recorded one sits as it was recorded. `whole`: every frame the rendered ones are taken from (the
        imported window, or the procedural instance or clip), in the same coordinates."""
        span = frames * m.speed / fps  # seconds of the source
        if m.window_start_s is not None:
            base = self.load_clip(m.clip_id)
            start = m.window_start_s + max(m.window_length_s - span, 0.0) * m.start_fraction
        elif self.builtin:
            base, start = _procedural_window(m.clip_id or m.source_class_name, m.instance_seed, fps, span,
                                             m.start_fraction, m.min_energy, seat_height_m)
        else:
            if not m.clip_id:
                raise MotionError(f"motion library {self.name!r}: the spec names no clip")
            base = self.load_clip(m.clip_id)
            start, _ = active_start(joint_speed(base), base.fps, span, m.start_fraction, m.min_energy)
        if whole:
            start = m.window_start_s or 0.0
            frames = max(int(m.window_length_s * fps / m.speed), 1) if m.window_length_s else None
        motion = base.resampled(fps, speed=m.speed, start=start, num_frames=frames)
        return motion.mirrored() if m.mirrored else motion


def _procedural_window(name: str, seed: int, fps: float, span: float, start_fraction: float,
                       min_energy: float, seat_height_m: float | None = None) -> tuple[Motion, float]:
    """(instance, window start): the longest generation that has a window with min_energy, else the most
    active window of the longest."""
    first = None
    for duration in dict.fromkeys(max(span, d) for d in ACTIVE_DURATIONS):
        base = procedural.generate(name, seed, fps=fps, duration=duration, seat_height_m=seat_height_m)
        start, energy = active_start(joint_speed(base), fps, span, start_fraction, min_energy)
        if energy >= min_energy:
            return base, start
        first = first or (base, start)
    return first


def open_libraries(names, registry: AssetRegistry) -> dict[str, MotionLibrary]:
    """The declared libraries among names (without checking that their files are present)."""
    return {n: MotionLibrary(registry.get("motion_library", n)) for n in names
            if registry.get("motion_library", n) is not None}


@functools.lru_cache(maxsize=32)
def _load_external(path: str, fmt: str, class_name: str, license: str, expected_sha256: str | None,
                   manifest: str) -> Motion:
    if expected_sha256 is not None:
        actual = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        if actual != expected_sha256:
            raise MotionError(f"{path}: sha256 is {actual} but {manifest} says {expected_sha256}")
    loader = load_bvh if fmt == "bvh" else load_amass
    return loader(path, class_name=class_name, license=license)
