"""ClipReader: the one typed way to read a clip, from a clip directory or from a shard sample.

Every stage after rendering (QC, packing, previews, the report, training and evaluation) reads clips
through this class, so file names and array keys live only in the modality registry.
"""
from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from synthact.spec import SceneSpec, spec_from_dict

from .files import MANIFEST, read_npz
from .modalities import MODALITIES, clip_file_name, modality
from .quantise import CODECS
from .records import CameraRecord
from .video import decode_video


@dataclass(frozen=True)
class Keypoints:
    """The keypoints modality of a clip (see the registry for shapes and meanings)."""

    coco2d: np.ndarray
    coco3d_world: np.ndarray
    coco3d_camera: np.ndarray
    joints3d_world: np.ndarray
    bbox2d: np.ndarray
    bbox2d_amodal: np.ndarray


class ClipError(ValueError):
    """A clip that cannot be read as the format says; the message names the clip and the file."""


class ClipReader:
    """Lazy, cached access to one clip's records and arrays."""

    def __init__(self, name: str, files: Mapping[str, bytes] | None = None, folder: Path | None = None,
                 records: dict | None = None):
        self.name = name
        self._files = files  # shard sample: member suffix -> bytes
        self._folder = folder  # clip directory
        self._records = records or {}  # shard sample: spec, camera (and qc, class_id) from its json member
        self._arrays: dict[str, dict[str, np.ndarray]] = {}
        self._rgb: np.ndarray | None = None

    @classmethod
    def from_dir(cls, folder: str | Path) -> "ClipReader":
        folder = Path(folder)
        if not folder.is_dir():
            raise ClipError(f"{folder}: not a clip directory")
        return cls(folder.name, folder=folder)

    @classmethod
    def from_sample(cls, sample: Mapping) -> "ClipReader":
        """A webdataset sample of a SynthAct shard (members rgb.mp4, depth.npz, ..., json)."""
        try:
            records = json.loads(sample["json"])
        except (KeyError, ValueError) as exc:
            raise ClipError(f"shard sample {sample.get('__key__', '?')}: no readable json member ({exc})") from None
        files = {clip_file_name(k): v for k, v in sample.items() if not k.startswith("__") and k != "json"}
        return cls(str(sample.get("__key__", records.get("spec", {}).get("scene_id", ""))), files=files,
                   records=records)

    @property
    def folder(self) -> Path | None:
        return self._folder

    # --- raw access ------------------------------------------------------------------------------

    def exists(self, file: str) -> bool:
        if self._folder is not None:
            return (self._folder / file).exists()
        return file in self._files

    def read_bytes(self, file: str) -> bytes:
        try:
            if self._folder is not None:
                return (self._folder / file).read_bytes()
            return self._files[file]
        except (OSError, KeyError):
            raise ClipError(f"{self.name}: no {file}") from None

    def _json(self, file: str) -> dict:
        key = file.removesuffix(".json")
        if key in self._records:
            return self._records[key]
        try:
            return json.loads(self.read_bytes(file))
        except ValueError as exc:
            raise ClipError(f"{self.name}/{file}: not valid JSON ({exc})") from None

    # --- records ---------------------------------------------------------------------------------

    @functools.cached_property
    def manifest(self) -> dict | None:
        """The manifest of a clip directory (None when absent, or for shard samples)."""
        if self._folder is None or not (self._folder / MANIFEST).is_file():
            return None
        return self._json(MANIFEST)

    @functools.cached_property
    def spec_json(self) -> dict:
        return self._json("spec.json")

    @functools.cached_property
    def spec(self) -> SceneSpec:
        return self._typed("spec.json", spec_from_dict)

    @functools.cached_property
    def stats(self) -> dict:
        """What the renderer measured (timings, device, engine), clip directories only."""
        return self._json("stats.json")

    @functools.cached_property
    def camera_json(self) -> dict:
        return self._json("camera.json")

    @functools.cached_property
    def camera(self) -> CameraRecord:
        return self._typed("camera.json", CameraRecord.from_json)

    def _typed(self, file: str, parse):
        try:
            return parse(self._json(file))
        except ClipError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise ClipError(f"{self.name}/{file}: {str(exc).splitlines()[0]}") from None

    @property
    def class_id(self) -> int:
        """The dataset's stable class id of a shard sample (-1 for a clip directory)."""
        return int(self._records.get("class_id", -1))

    @property
    def frames(self) -> int:
        return self.spec.render.frames

    # --- arrays ----------------------------------------------------------------------------------

    def has(self, name: str) -> bool:
        """True when the clip holds the modality (any of its files)."""
        return any(self.exists(f.name) for f in modality(name).files)

    def present(self) -> list[str]:
        return [name for name in MODALITIES if self.has(name)]

    def arrays(self, file: str) -> dict[str, np.ndarray]:
        """The arrays of an npz file, or of a compact PNG (decoded to float32)."""
        if file not in self._arrays:
            data = self.read_bytes(file)
            codec = CODECS.get(_kind(file))
            try:
                if codec is None:
                    self._arrays[file] = read_npz(data)
                else:
                    self._arrays[file] = {codec.key: codec.decode(data, self.camera.height)}
            except ClipError:
                raise
            except Exception as exc:  # noqa: BLE001 - zip, pickle, PNG and format errors all mean a broken file
                kind = "npz" if codec is None else "16-bit PNG"
                raise ClipError(f"{self.name}/{file}: not a readable {kind} ({exc})") from None
        return self._arrays[file]

    def _first_present(self, stem: str) -> str:
        """The file of a layer as this clip stores it (compact PNG or float32 npz)."""
        for suffix in (".png", ".npz"):
            if self.exists(stem + suffix):
                return stem + suffix
        raise ClipError(f"{self.name}: no {stem}.png or {stem}.npz")

    def array(self, file: str, key: str) -> np.ndarray:
        arrays = self.arrays(file)
        if key not in arrays:
            raise ClipError(f"{self.name}/{file}: no array {key!r} (has {', '.join(sorted(arrays))})")
        return arrays[key]

    def rgb(self) -> np.ndarray:
        """(T, H, W, 3) uint8, from rgb.mp4 or the rgb/ JPEG folder."""
        if self._rgb is None:
            self._rgb = self._decode_rgb()
        return self._rgb

    def _decode_rgb(self) -> np.ndarray:
        size = (self.camera.width, self.camera.height)
        if self.exists("rgb.mp4"):
            try:
                return decode_video(self.read_bytes("rgb.mp4"), size)
            except ValueError as exc:
                raise ClipError(f"{self.name}/rgb.mp4: {exc}") from None
        if self._folder is not None and (self._folder / "rgb").is_dir():
            import cv2
            frames = []
            for path in sorted((self._folder / "rgb").glob("*.jpg")):
                image = cv2.imread(str(path))
                if image is None:
                    raise ClipError(f"{self.name}/rgb/{path.name}: not a readable JPEG")
                frames.append(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
            if not frames:
                raise ClipError(f"{self.name}/rgb/: no frames")
            return np.stack(frames)
        raise ClipError(f"{self.name}: no rgb.mp4 or rgb/ frames")

    def depth(self) -> np.ndarray:
        """(T, H, W) float32 metres, +inf where no surface is seen (from depth.png or depth.npz)."""
        return self.array(self._first_present("depth"), "depth")

    def flow(self, direction: str = "forward") -> np.ndarray:
        """(T, H, W, 2) float32 pixels to frame t+1 (forward) or t-1 (backward), NaN where there is none."""
        return self.array(self._first_present(f"flow_{direction}"), "flow")

    def keypoints(self) -> Keypoints:
        return Keypoints(**{f.name: self.array("keypoints.npz", f.name) for f in fields(Keypoints)})

    def video_bytes(self) -> bytes | None:
        """The encoded RGB video, when the clip has one (for copying without decoding)."""
        return self.read_bytes("rgb.mp4") if self.exists("rgb.mp4") else None

    def boxes(self, actor: int, amodal: bool = True) -> np.ndarray:
        """(T, 4) box of one actor: x0, y0, x1, y1."""
        return self.array("keypoints.npz", "bbox2d_amodal" if amodal else "bbox2d")[:, actor]


def load_clip(source) -> ClipReader:
    """A clip directory (path) or a webdataset sample of a SynthAct shard (dict) as a ClipReader."""
    if isinstance(source, Mapping):
        return ClipReader.from_sample(source)
    return ClipReader.from_dir(source)


def _kind(file: str) -> str:
    """The registry kind of a clip file by its name."""
    for m in MODALITIES.values():
        for f in m.files:
            if f.name == file:
                return f.kind
    return "npz"
