"""Motion libraries: the built-in procedural one and external collections declared in asset manifests.

An external collection is a `motion_library` pack whose `path` is a folder of clips, with
`options.format` (bvh | amass) and `options.classes` mapping class name -> list of clip ids
(file names without extension). Files listed in `sha256` are verified before use.
"""
from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from synthact.config.assets import AssetRegistry, ResolvedPack, display_path

from . import procedural
from .importers import load_amass, load_bvh
from .motion import Motion, MotionError

_SUFFIX = {"bvh": ".bvh", "amass": ".npz"}


class MotionLibrary:
    def __init__(self, pack: ResolvedPack):
        self.pack = pack
        self.name = pack.pack.name
        self.builtin = pack.pack.builtin

    @classmethod
    def open(cls, name: str, registry: AssetRegistry | None = None) -> "MotionLibrary":
        registry = registry or AssetRegistry.load()
        pack = registry.get("motion_library", name)
        if pack is None:
            raise MotionError(registry.missing_message("motion_library", name))
        lib = cls(pack)
        lib.check_present()
        return lib

    def check_present(self) -> None:
        if self.builtin:
            return
        where = self.pack.location()
        manifest = display_path(self.pack.manifest)
        if where is None or not where.is_dir():
            raise MotionError(f"motion library {self.name!r}: folder {where} not found "
                              f"(declared in {manifest}; download the collection or fix its path)")
        fmt = self.pack.pack.options.get("format")
        if fmt not in _SUFFIX:
            raise MotionError(f"motion library {self.name!r} in {manifest}: options.format must be one of "
                              f"{', '.join(_SUFFIX)}, got {fmt!r}")

    def classes(self) -> dict[str, list[str]]:
        """class name -> clip ids (procedural classes have no fixed clips: instances are generated)."""
        if self.builtin:
            return {name: [] for name in procedural.class_names()}
        return {c: list(clips) for c, clips in self.pack.pack.options.get("classes", {}).items()}

    def clip_class(self, clip_id: str) -> str | None:
        for name, clips in self.classes().items():
            if clip_id in clips:
                return name
        return None

    def clip_path(self, clip_id: str) -> Path:
        fmt = self.pack.pack.options["format"]
        return self.pack.location() / f"{clip_id}{_SUFFIX[fmt]}"

    def load_clip(self, clip_id: str) -> Motion:
        if self.builtin:
            return procedural.generate(clip_id)
        path = self.clip_path(clip_id)
        if not path.is_file():
            raise MotionError(f"motion library {self.name!r}: clip {clip_id!r} not found at {path}")
        return _load_external(str(path), self.pack.pack.options["format"], self.clip_class(clip_id) or clip_id,
                              self.pack.pack.license, self.pack.pack.sha256.get(path.name),
                              display_path(self.pack.manifest))

    def motion(self, class_name: str, clip_id: str | None, instance_seed: int, fps: float, frames: int,
               speed: float = 1.0, start_fraction: float = 0.0, mirrored: bool = False) -> Motion:
        """The motion a scene renders: `frames` frames at fps, played at speed, mirrored if asked."""
        source_class = class_name
        needed = frames * speed / fps
        if self.builtin:
            name = clip_id or source_class
            base = procedural.generate(name, instance_seed, fps=fps, duration=max(needed, procedural.DEFAULT_DURATION))
        else:
            clips = [clip_id] if clip_id else self.classes().get(source_class, [])
            if not clips:
                raise MotionError(f"motion library {self.name!r} has no clips of class {source_class!r}")
            base = self.load_clip(clips[instance_seed % len(clips)])
        spare = max(base.duration - needed, 0.0)
        motion = base.resampled(fps, speed=speed, start=spare * start_fraction, num_frames=frames)
        return motion.mirrored() if mirrored else motion


def library_classes(name: str, registry: AssetRegistry) -> list[str]:
    """The class names of a declared library (empty when nobody declares it)."""
    pack = registry.get("motion_library", name)
    return list(MotionLibrary(pack).classes()) if pack is not None else []


@functools.lru_cache(maxsize=32)
def _load_external(path: str, fmt: str, class_name: str, license: str, expected_sha256: str | None,
                   manifest: str) -> Motion:
    if expected_sha256 is not None:
        actual = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        if actual != expected_sha256:
            raise MotionError(f"{path}: sha256 is {actual} but {manifest} says {expected_sha256}")
    loader = load_bvh if fmt == "bvh" else load_amass
    return loader(path, class_name=class_name, license=license)
