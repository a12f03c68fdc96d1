"""Writing a clip directory: files go to a temporary folder that is renamed into place when complete.

The manifest (every file with size and sha256) is written last, so a folder with a manifest is a
finished clip and anything else is not. A crash leaves only a `.tmp-` folder, never a half clip.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from synthact.spec import SceneSpec, spec_to_dict

from .files import MANIFEST, sha256_file, write_npz
from .modalities import expected_files
from .quantise import CODECS
from .records import CameraRecord
from .video import encode_mp4

# A clip's layers: for each file of the registry, its content (frames for video and frames files,
# {key: array} for npz files).
Layers = dict[str, "np.ndarray | dict[str, np.ndarray]"]


TEMPORARY_PREFIX = ".tmp-"


def temporary_name(scene_id: str) -> str:
    """The folder a clip is written in before it is renamed into place, naming its writer (pid@host)."""
    return f"{TEMPORARY_PREFIX}{scene_id}-{os.getpid()}@{socket.gethostname()}"


def temporary_owner(name: str) -> tuple[str, int] | None:
    """(host, pid) of the process that writes a temporary clip folder; None for names in another form."""
    if not name.startswith(TEMPORARY_PREFIX) or "@" not in name:
        return None
    rest, _, host = name.rpartition("@")
    pid = rest.rpartition("-")[2]
    return (host, int(pid)) if pid.isdigit() and host else None


class ClipWriter:
    def __init__(self, root: Path, scene_id: str):
        self.final = Path(root) / scene_id
        self.tmp = Path(root) / temporary_name(scene_id)
        if self.tmp.exists():
            shutil.rmtree(self.tmp)
        self.tmp.mkdir(parents=True)

    def path(self, name: str) -> Path:
        return self.tmp / name

    def json(self, name: str, data) -> None:
        self.path(name).write_text(json.dumps(data, indent=2, sort_keys=True, allow_nan=True) + "\n")

    def file(self, name: str, kind: str, content, fps: float) -> None:
        """One file of the registry from its layer content."""
        if kind == "video":
            self.path(name).write_bytes(encode_mp4(content, fps))
        elif kind == "frames":
            folder = self.path(name)
            folder.mkdir()
            for i, frame in enumerate(content):
                cv2.imwrite(str(folder / f"{i:06d}.jpg"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR),
                            [cv2.IMWRITE_JPEG_QUALITY, 95])
        elif kind == "npz":
            write_npz(self.path(name), content)
        elif kind in CODECS:
            codec = CODECS[kind]
            self.path(name).write_bytes(codec.encode(content[codec.key]))
        else:
            raise ValueError(f"unknown clip file kind {kind!r}")

    def finish(self, extra: dict | None = None) -> Path:
        """Write the manifest last and move the folder into place (replacing an incomplete one)."""
        files = sorted(p for p in self.tmp.rglob("*") if p.is_file())
        manifest = {
            "files": {str(p.relative_to(self.tmp)): {"bytes": p.stat().st_size, "sha256": sha256_file(p)}
                      for p in files},
            **(extra or {}),
        }
        self.json(MANIFEST, manifest)
        if self.final.exists():
            shutil.rmtree(self.final)
        os.replace(self.tmp, self.final)
        return self.final

    def abandon(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


class SceneClipWriter:
    """A scene's clip, written as its layers arrive: each file of the spec's modalities when add() brings its
    layer (the worker adds the annotations while Blender still renders the RGB), then finish() writes the
    records and the manifest. Used as a context manager, a clip that is not finished is removed."""

    def __init__(self, out_root: Path, spec: SceneSpec):
        self.spec = spec
        r = spec.render
        self._files = {f.name: f for f in expected_files(r.modalities, r.rgb_format, r.precision)}
        self._written: set[str] = set()
        self._writer = ClipWriter(Path(out_root), spec.scene_id)

    def __enter__(self) -> "SceneClipWriter":
        return self

    def __exit__(self, kind, *_) -> None:
        if kind is not None:
            self._writer.abandon()

    def add(self, layers: Layers) -> None:
        """Write every file of the clip whose layer is in `layers` (a file already written is left as it is)."""
        jobs = [f for f in self._files.values() if f.source in layers and f.name not in self._written]
        # files are compressed and encoded in parallel (zlib and the H.264 encoder release the GIL)
        with ThreadPoolExecutor(max_workers=2) as pool:
            for future in [pool.submit(self._writer.file, f.name, f.kind, layers[f.source], self.spec.render.fps)
                           for f in jobs]:
                future.result()
        self._written.update(f.name for f in jobs)

    def finish(self, camera: CameraRecord, stats: dict, log_text: str | None = None) -> Path:
        """camera.json, spec.json, stats.json and the renderer's log, the manifest last, and the folder moved
        into place; refuses a clip that lacks a file of its modalities."""
        missing = sorted({f.source for f in self._files.values() if f.name not in self._written})
        if missing:
            raise ValueError(f"scene {self.spec.scene_id}: the layers lack {', '.join(missing)}")
        self._writer.json("camera.json", camera.to_json())
        self._writer.json("spec.json", spec_to_dict(self.spec))
        if log_text is not None:
            self._writer.path("blender.log").write_text(log_text)
        self._writer.json("stats.json", stats)
        return self._writer.finish({"scene_id": self.spec.scene_id, "complete": True})


def write_clip(out_root: Path, spec: SceneSpec, layers: Layers, camera: CameraRecord, stats: dict,
               log_text: str | None = None) -> Path:
    """Write the clip directory out_root/<scene_id>/: every file of the spec's modalities that the layers
    hold, camera.json, spec.json, stats.json, the renderer's log, and the manifest last."""
    with SceneClipWriter(out_root, spec) as clip:
        clip.add(layers)
        return clip.finish(camera, stats, log_text)
