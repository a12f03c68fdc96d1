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


def write_clip(out_root: Path, spec: SceneSpec, layers: Layers, camera: CameraRecord, stats: dict,
               log_text: str | None = None) -> Path:
    """Write the clip directory out_root/<scene_id>/: every file of the spec's modalities that the layers
    hold, camera.json, spec.json, stats.json, the renderer's log, and the manifest last."""
    writer = ClipWriter(Path(out_root), spec.scene_id)
    try:
        r = spec.render
        files = expected_files(r.modalities, r.rgb_format, r.precision)
        missing = [f.source for f in files if f.source not in layers]
        if missing:
            raise ValueError(f"scene {spec.scene_id}: the layers lack {', '.join(missing)}")
        jobs = [(f.name, f.kind, layers[f.source]) for f in files]
        # files are compressed and encoded in parallel (zlib and the H.264 encoder release the GIL)
        with ThreadPoolExecutor(max_workers=2) as pool:
            for future in [pool.submit(writer.file, name, kind, content, spec.render.fps)
                           for name, kind, content in jobs]:
                future.result()
        writer.json("camera.json", camera.to_json())
        writer.json("spec.json", spec_to_dict(spec))
        if log_text is not None:
            writer.path("blender.log").write_text(log_text)
        writer.json("stats.json", stats)
        return writer.finish({"scene_id": spec.scene_id, "complete": True})
    except BaseException:
        writer.abandon()
        raise
