"""The Ray actor around a render worker: one process, one Blender, many scenes."""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from generator.spec import spec_from_json
from generator.storage import BatchStore


class RenderActor:
    """Created by the manager as a Ray actor (ray.remote(RenderActor).options(...).remote(...))."""

    def __init__(self, renderer: str, device: str = "auto", threads: int = 0, env: dict | None = None,
                 double: dict | None = None, previews: bool = True):
        os.environ.update(env or {})
        self.previews = previews and renderer != "test-double"
        if renderer == "test-double":
            from .test_double import TestDoubleRenderer
            self.worker = TestDoubleRenderer(**(double or {}))
        else:
            from .worker import RenderWorker
            self.worker = RenderWorker(device=device, threads=threads)
        self.pid = os.getpid()
        self.start_rss = None

    def render(self, spec_json: str, store_uri: str) -> dict:
        """Render one scene into the store; a SceneError comes back as a failure, not an exception."""
        from .worker import SceneError
        spec = spec_from_json(spec_json)
        store = BatchStore(store_uri)
        t0 = time.perf_counter()
        try:
            if store.remote:
                with tempfile.TemporaryDirectory(prefix="synthact-clip-") as scratch:
                    clip = self.worker.render(spec, Path(scratch))
                    self._preview(clip, store)
                    store.upload_clip(clip)
            else:
                self._preview(self.worker.render(spec, store.local_clips), store)
        except SceneError as exc:
            return {"ok": False, "reason": exc.reason, "message": str(exc), "seconds": time.perf_counter() - t0}
        rss = self.worker.memory_mb()
        self.start_rss = self.start_rss or rss
        return {"ok": True, "seconds": time.perf_counter() - t0, "rss_mb": rss, "start_rss_mb": self.start_rss,
                "pid": self.pid}

    def _preview(self, clip: Path, store: BatchStore) -> None:
        if not self.previews:
            return
        from .preview import contact_sheet
        with tempfile.TemporaryDirectory() as tmp:
            sheet = contact_sheet(clip, Path(tmp) / f"{clip.name}.png")
            if store.remote:
                store.fs.put_file(str(sheet), store.path("previews", sheet.name))
            else:
                Path(store.path("previews")).mkdir(exist_ok=True)
                os.replace(sheet, store.path("previews", sheet.name))

    def info(self) -> dict:
        return {"pid": self.pid, "rss_mb": self.worker.memory_mb()}
