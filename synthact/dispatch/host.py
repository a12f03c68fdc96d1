"""RenderHost: what lives in one worker process: one renderer (one Blender), many scenes."""
from __future__ import annotations

import errno
import json
import os
import tempfile
import time
from pathlib import Path

import psutil

from synthact.clip import ClipReader
from synthact.clip.preview import contact_sheet
from synthact.locks import Owner
from synthact.render.errors import SceneError
from synthact.spec import spec_from_json

from .options import RendererFactory
from .storage import BatchStore

FULL = (errno.ENOSPC, errno.EDQUOT)
# Errors of writing the output that every later scene would meet too (a read-only remount, lost permissions, a
# failing disk): they stop the batch, and no scene is charged with them.
UNWRITABLE = (errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO)


def output_error(exc: OSError, store: BatchStore) -> str:
    """The reason a batch must stop for this error (disk_full, output_unwritable), or '' when the error is the
    scene's own: a read-only filesystem anywhere, other write errors only on a path in the local output."""
    if exc.errno in FULL:
        return "disk_full"
    if exc.errno == errno.EROFS:
        return "output_unwritable"
    if exc.errno in UNWRITABLE and not store.remote and exc.filename is not None:
        inside = os.path.abspath(os.fsdecode(exc.filename)).startswith(store.path() + os.sep)
        return "output_unwritable" if inside else ""
    return ""


def resident_memory_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def stage_seconds(clip: Path) -> tuple[dict[str, float], list[str]]:
    """The clip's per-stage render times (stats.json), and which of them ran beside the RGB render; empty when
    the renderer records none."""
    try:
        stats = json.loads((Path(clip) / "stats.json").read_text())
    except (OSError, ValueError):
        return {}, []
    return stats.get("timings_s", {}), stats.get("beside_render", [])


class RenderHost:
    """Created by an executor in each worker process (as a Ray actor, for the Ray executor)."""

    def __init__(self, renderer: RendererFactory, device: str = "auto", threads: int = 0, env: dict | None = None,
                 previews: bool = True, warm_up: str | None = None):
        os.environ.update(env or {})
        self.renderer = renderer(device, threads)
        self.previews = previews
        self.start_rss: float | None = None
        if warm_up is not None and hasattr(self.renderer, "warm_up"):
            # before the worker counts as started: its first scene then costs what later ones do
            try:
                self.renderer.warm_up(spec_from_json(warm_up))
            except SceneError:
                pass  # that scene's own render reports it

    def identity(self) -> Owner:
        """The worker process (its host and pid), so that a manager can tell when it has ended."""
        return Owner.this_process()

    def render(self, spec_json: str, store_uri: str) -> dict:
        """Render one scene into the store. A SceneError, or a full disk, comes back as a failure, not an
        exception. The preview is made after the clip is complete and can only add a warning."""
        spec = spec_from_json(spec_json)
        store = BatchStore(store_uri)
        t0 = time.perf_counter()
        try:
            if store.remote:
                with tempfile.TemporaryDirectory(prefix="synthact-clip-") as scratch:
                    clip = self.renderer.render(spec, Path(scratch))
                    stages, beside = stage_seconds(clip)
                    preview = self._preview(clip, store)
                    store.upload_clip(clip)
            else:
                clip = self.renderer.render(spec, store.local_clips)
                stages, beside = stage_seconds(clip)
                preview = self._preview(clip, store)
        except SceneError as exc:
            return {"ok": False, "reason": exc.reason, "message": str(exc), "seconds": time.perf_counter() - t0}
        except OSError as exc:
            reason = output_error(exc, store)
            if not reason:
                raise
            return {"ok": False, "reason": reason, "message": f"{exc.strerror}: {exc.filename or store_uri}",
                    "seconds": time.perf_counter() - t0}
        rss = resident_memory_mb()
        self.start_rss = self.start_rss or rss
        return {"ok": True, "seconds": time.perf_counter() - t0, "rss_mb": rss, "start_rss_mb": self.start_rss,
                "pid": os.getpid(), "warning": preview, "stages": stages,
                "beside_render": beside}

    def _preview(self, clip: Path, store: BatchStore) -> str:
        """Write the clip's contact sheet; '' when done (or not wanted), else why there is none."""
        if not self.previews:
            return ""
        try:
            if not ClipReader.from_dir(clip).has("rgb"):
                return ""
            with tempfile.TemporaryDirectory() as tmp:
                sheet = contact_sheet(clip, Path(tmp) / f"{clip.name}.png")
                store.put_file(sheet, f"previews/{sheet.name}")
        except Exception as exc:  # noqa: BLE001 - the clip is complete; a missing preview must not undo that
            return f"no preview: {type(exc).__name__}: {str(exc)[:200]}"
        return ""
