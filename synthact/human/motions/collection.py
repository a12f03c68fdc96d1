"""An imported motion library's manifest (`library.json`): where its files are, what each one holds.

`synthact motions import-library NAME DIR` writes it to `<library root>/NAME/library.json`
(`config.assets.motion_library_root()`), which registers the library; deleting that folder (or
`synthact motions remove NAME`) unregisters it. A pack in assets_manifests/ may also point at one with
`options: {manifest: PATH}`. docs/FORMAT.md section 3 documents every field.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .windows import WindowTable, clip_windows

FORMAT = "synthact-motion-library/1"


@dataclass(frozen=True)
class QualityThresholds:
    """Retarget quality a 0.1 s bin must meet; windows holding a bin that fails are excluded."""

    foot_skate_m: float = 0.03
    foot_float_m: float = 0.03
    ground_penetration_m: float = 0.02
    joint_limit_excess_deg: float = 1.0
    max_joint_spike_deg: float = 45.0  # a frame that turns a joint 3x faster than its neighbours: a glitch


@dataclass
class ClipRecord:
    clip_id: str  # the file name without its extension
    file: str  # relative to the library's path, with forward slashes
    format: str  # bvh | amass
    sha256: str
    bytes: int
    frames: int  # as recorded (leading calibration frames dropped)
    fps: float
    duration_s: float
    label: str  # the class: the first label, or "unlabelled"
    labels: list[str]
    description: str  # the source's own words ("" when it gives none)
    quality: dict  # MotionQuality after retargeting to the reference body (maxima over the clip)
    energy: list[float]  # motion energy per 0.1 s bin (mean joint speed, m/s)
    quality_ok: str  # per 0.1 s bin: "1" when every quality threshold is met, else "0"
    # per 0.1 s bin: the pelvis joint's lowest height above the floor (m, on the reference body), from which the
    # sampler knows how high a recorded sit sits; [] in a library imported before it was measured
    pelvis_m: list[float] = field(default_factory=list)


@dataclass
class LibraryManifest:
    name: str
    version: str
    license: str
    source: str
    path: str  # the folder holding the files (absolute)
    description: str = ""
    attribution: str = ""
    download_url: str | None = None  # files are fetched from download_url + "/" + file
    labels_from: str = ""
    settings: dict = field(default_factory=dict)  # what the analysis depends on; a change redoes every file
    clips: list[ClipRecord] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)  # {file, sha256, reason}: reported again on every rerun

    def content_version(self) -> str:
        digest = hashlib.sha256()
        for clip in sorted(self.clips, key=lambda c: c.file):
            digest.update(f"{clip.file}\0{clip.sha256}\0{clip.label}\n".encode())
        return digest.hexdigest()[:12]

    def to_json(self) -> dict:
        pack = {"name": self.name, "version": self.version, "license": self.license, "source": self.source,
                "description": self.description, "path": self.path}
        return {"format": FORMAT, "pack": pack, "attribution": self.attribution, "download_url": self.download_url,
                "labels_from": self.labels_from, "settings": self.settings,
                "clips": [dataclasses.asdict(c) for c in self.clips], "skipped": self.skipped}

    @classmethod
    def from_json(cls, data: dict) -> "LibraryManifest":
        if data.get("format") != FORMAT:
            raise ValueError(f"format is {data.get('format')!r}, expected {FORMAT!r}")
        body = {k: v for k, v in data.items() if k not in ("format", "pack", "clips")}
        return cls(**data["pack"], **body, clips=[ClipRecord(**c) for c in data["clips"]])

    def windows(self, length_s: float, stride_s: float, min_energy: float,
                unsupported: Callable[[ClipRecord, int, int], bool] | None = None) -> WindowTable:
        """The windows that may be sampled; unsupported(clip, first bin, end bin) leaves out those that rest on
        something a scene cannot give them."""
        table = WindowTable()
        for clip in self.clips:
            test = functools.partial(unsupported, clip) if unsupported is not None else None
            clip_windows(clip.clip_id, clip.label, clip.duration_s, clip.energy, clip.quality_ok, length_s, stride_s,
                         min_energy, table, test)
        return table


def read_manifest(path: Path) -> LibraryManifest:
    return LibraryManifest.from_json(json.loads(Path(path).read_text()))


def write_manifest(manifest: LibraryManifest, path: Path) -> None:
    """Atomically (temp file + rename): a reader sees the old manifest or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(manifest.to_json(), indent=1) + "\n")
    os.replace(tmp, path)
