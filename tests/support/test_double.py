"""TestDoubleRenderer: a stand-in for the Blender renderer that never starts Blender.

A test double, used only to exercise orchestration (dispatch, retries, resume) at scales and speeds
real rendering cannot reach in a test. It writes a small but well-formed clip directory (spec.json,
stats.json, manifest) and can be told to be slow, to crash its process, or to hang. Dispatch gets it as
a renderer factory (DispatchOptions.renderer, or the CLI's --renderer support.test_double:TestDoubleRenderer).
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

from synthact.clip import ClipWriter
from synthact.render import SceneError
from synthact.spec import SceneSpec, spec_to_dict


class TestDoubleRenderer:
    __test__ = False  # not a pytest test class

    def __init__(self, device: str = "cpu", threads: int = 1, seconds: float = 0.0, crash_index: int | None = None,
                 hang_index: int | None = None, invalid_index: int | None = None, write_clip: bool = True,
                 marker_dir: str | None = None):
        self.seconds, self.crash_index, self.hang_index = seconds, crash_index, hang_index
        self.invalid_index = invalid_index
        self.write_clip, self.marker_dir = write_clip, Path(marker_dir) if marker_dir else None

    def _first_time(self, what: str, spec: SceneSpec) -> bool:
        """True once per scene and kind of misbehaviour (a marker file remembers it across processes)."""
        if self.marker_dir is None:
            return True
        marker = self.marker_dir / f"{what}-{spec.scene_id}"
        try:
            marker.touch(exist_ok=False)
            return True
        except FileExistsError:
            return False

    def render(self, spec: SceneSpec, out_root: Path) -> Path:
        if self.marker_dir is not None:
            with open(self.marker_dir / "renders.log", "a") as log:
                log.write(spec.scene_id + "\n")
        if spec.index == self.crash_index and self._first_time("crash", spec):
            os._exit(13)  # the worker process dies mid-scene
        if spec.index == self.hang_index and self._first_time("hang", spec):
            time.sleep(3600)
        if spec.index == self.invalid_index:
            raise SceneError(spec.scene_id, "the test double refuses this scene", "invalid_spec")
        time.sleep(self.seconds)
        if not self.write_clip:
            return Path(out_root) / spec.scene_id
        writer = ClipWriter(Path(out_root), spec.scene_id)
        writer.json("spec.json", spec_to_dict(spec))
        writer.json("stats.json", {"renderer": "test-double", "pid": os.getpid()})
        writer.path("frames.txt").write_text(json.dumps({"frames": spec.render.frames}))
        return writer.finish({"scene_id": spec.scene_id, "complete": True})


def factory(**options):
    """A picklable renderer factory for DispatchOptions.renderer."""
    from functools import partial
    return partial(TestDoubleRenderer, **options)
