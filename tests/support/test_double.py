"""TestDoubleRenderer: a stand-in for the Blender renderer that never starts Blender.

A test double, used only to exercise orchestration (dispatch, retries, resume) at scales and speeds
real rendering cannot reach in a test. It writes a small but well-formed clip directory (spec.json,
stats.json, manifest), or with `fabricate` a complete clip from tests/support/fabricate.py (so previews
and QC have something to work on), and can be told to be slow (to start or per scene), to crash its process,
to hang (or to die half-way through writing its clip), or to meet a full disk. It can also make its worker process
see filesystems as they are on other machines:
`other_device` (a folder on another device: renames into or out of it fail with EXDEV, as on a tmpfs or
a mounted disk) and `full_device` (a folder on a full disk: files moved into it fail with ENOSPC). Dispatch
gets it as a renderer factory (DispatchOptions.renderer, or the CLI's --renderer
support.test_double:TestDoubleRenderer).
"""
from __future__ import annotations

import errno
import json
import os
import shutil
import time
from pathlib import Path

from synthact.clip import ClipWriter
from synthact.render import SceneError
from synthact.spec import SceneSpec, spec_to_dict


class TestDoubleRenderer:
    __test__ = False  # not a pytest test class

    def __init__(self, device: str = "cpu", threads: int = 1, seconds: float = 0.0, crash_index: int | None = None,
                 hang_index: int | None = None, invalid_index: int | None = None, write_clip: bool = True,
                 marker_dir: str | None = None, fabricate: bool = False, disk_full_index: int | None = None,
                 other_device: str | None = None, full_device: str | None = None, start_seconds: float = 0.0,
                 crash_mid_clip_index: int | None = None):
        self.device, self.threads = device, threads
        time.sleep(start_seconds)  # a worker slow to start (a loaded machine, a cold cache)
        self.seconds, self.crash_index, self.hang_index = seconds, crash_index, hang_index
        self.invalid_index, self.disk_full_index, self.fabricate = invalid_index, disk_full_index, fabricate
        self.write_clip, self.marker_dir = write_clip, Path(marker_dir) if marker_dir else None
        self.crash_mid_clip_index = crash_mid_clip_index
        if other_device or full_device:
            _simulate_devices(other_device, full_device)

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

    def warm_up(self, spec: SceneSpec) -> None:
        """Records which scene each worker process warmed up on, its device and threads, and its GPU."""
        if self.marker_dir is not None:
            with open(self.marker_dir / "warm_ups.log", "a") as log:
                log.write(f"{os.getpid()} {spec.scene_id} {self.device} {self.threads} "
                          f"{os.environ.get('CUDA_VISIBLE_DEVICES', '-')}\n")

    def render(self, spec: SceneSpec, out_root: Path) -> Path:
        if self.marker_dir is not None:
            with open(self.marker_dir / "renders.log", "a") as log:
                log.write(spec.scene_id + "\n")
        if spec.index == self.crash_index and self._first_time("crash", spec):
            os._exit(13)  # the worker process dies mid-scene
        if spec.index == self.crash_mid_clip_index and self._first_time("crash-mid-clip", spec):
            ClipWriter(Path(out_root), spec.scene_id).json("spec.json", spec_to_dict(spec))
            os._exit(13)  # dies with its temporary clip folder half-written
        if spec.index == self.hang_index and self._first_time("hang", spec):
            time.sleep(3600)
        if spec.index == self.invalid_index:
            raise SceneError(spec.scene_id, "the test double refuses this scene", "invalid_spec")
        if spec.index == self.disk_full_index and self._first_time("full", spec):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(Path(out_root) / spec.scene_id))
        time.sleep(self.seconds)
        if not self.write_clip:
            return Path(out_root) / spec.scene_id
        if self.fabricate:
            from support.fabricate import fabricate_clip
            return fabricate_clip(spec, Path(out_root))
        writer = ClipWriter(Path(out_root), spec.scene_id)
        writer.json("spec.json", spec_to_dict(spec))
        writer.json("stats.json", {"renderer": "test-double", "pid": os.getpid(),
                                   "timings_s": {"render_rgb": self.seconds}})
        writer.path("frames.txt").write_text(json.dumps({"frames": spec.render.frames}))
        return writer.finish({"scene_id": spec.scene_id, "complete": True})


def _simulate_devices(other_device: str | None, full_device: str | None) -> None:
    """Patch this (worker) process's renames and file copies as if `other_device` were another filesystem and
    `full_device` a full one. shutil.move and everything else that renames or copies goes through these."""
    def inside(path, folder) -> bool:
        return folder is not None and os.path.abspath(path).startswith(os.path.abspath(folder) + os.sep)

    def across(src, dst) -> bool:
        return inside(src, other_device) != inside(dst, other_device)

    def guarded(rename):
        def checked(src, dst, *args, **kwargs):
            if inside(dst, full_device):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dst))
            if across(src, dst):
                raise OSError(errno.EXDEV, os.strerror(errno.EXDEV), str(src), None, str(dst))
            return rename(src, dst, *args, **kwargs)
        return checked

    copyfile = shutil.copyfile

    def checked_copyfile(src, dst, *args, **kwargs):
        if inside(dst, full_device):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dst))
        return copyfile(src, dst, *args, **kwargs)

    os.rename, os.replace, shutil.copyfile = guarded(os.rename), guarded(os.replace), checked_copyfile


def factory(**options):
    """A picklable renderer factory for DispatchOptions.renderer."""
    from functools import partial
    return partial(TestDoubleRenderer, **options)
