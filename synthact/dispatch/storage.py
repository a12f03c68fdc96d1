"""Where a batch's outputs live: a local folder, or any fsspec URI (s3://, gs://, file://, ...).

Layout under the batch root:  clips/<scene_id>/...  previews/  ledger/  config.json  summary.json  manager.lock
A clip is complete when its manifest.json parses and every file it lists has the listed size (with
`verify`, also the listed sha256); anything else is rendered again. Locally clips are written to a
temporary folder and renamed into place; on object stores, which cannot rename, every file is uploaded
first and the manifest last, so readers see either no manifest (incomplete) or a complete clip.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from pathlib import Path

from synthact.clip import MANIFEST, clip_problem, manifest_problem
from synthact.clip.writer import TEMPORARY_PREFIX, temporary_owner
from synthact.locks import Owner

ABANDONED_AFTER_S = 6 * 3600  # a temporary clip of a writer on another host is abandoned after this long


def is_remote(uri: str) -> bool:
    return "://" in str(uri)


class BatchStore:
    """A batch's output location."""

    def __init__(self, uri: str):
        self.uri = str(uri).rstrip("/")
        self.remote = is_remote(self.uri)
        if self.remote:
            import fsspec
            self.fs, self._root = fsspec.core.url_to_fs(self.uri)
        else:
            self.fs, self._root = None, str(Path(self.uri).resolve())

    def create(self) -> None:
        """Create the batch folder (locally; object stores have no folders)."""
        if not self.remote:
            self.local_clips.mkdir(parents=True, exist_ok=True)

    def path(self, *parts: str) -> str:
        return "/".join([self._root, *parts]) if self.remote else str(Path(self._root, *parts))

    @property
    def local_clips(self) -> Path:
        """The folder render workers write clips into directly (local stores only)."""
        assert not self.remote
        return Path(self._root, "clips")

    def clip_problem(self, scene_id: str, verify: bool = False) -> str:
        """Why the scene's clip is not complete in the store ('' when it is)."""
        if not self.remote:
            return clip_problem(self.local_clips / scene_id, verify)
        return self._remote_problems([scene_id], verify)[scene_id]

    def is_complete(self, scene_id: str, verify: bool = False) -> bool:
        return not self.clip_problem(scene_id, verify)

    def complete_ids(self, verify: bool = False) -> set[str]:
        """Scene ids with a complete clip (for object stores: one listing and one batched read of the
        manifests, instead of requests per scene)."""
        if not self.remote:
            clips = self.local_clips
            names = [d.name for d in clips.iterdir() if d.is_dir()] if clips.is_dir() else []
            return {n for n in names if not n.startswith(".") and not clip_problem(clips / n, verify)}
        return {scene_id for scene_id, problem in self._remote_problems(None, verify).items() if not problem}

    def _remote_problems(self, scene_ids: list[str] | None, verify: bool) -> dict[str, str]:
        """Problems of the given clips (None: of every clip with a manifest) from one listing and one batched
        read of their manifests."""
        clips = self.path("clips")
        base = self.path("clips", scene_ids[0]) if scene_ids and len(scene_ids) == 1 else clips
        listing = self.fs.find(base, detail=True) if self.fs.exists(base) else {}
        sizes = {p.rstrip("/")[len(clips) + 1:]: int(info.get("size") or 0) for p, info in listing.items()}
        if scene_ids is None:
            scene_ids = [rel.split("/")[0] for rel in sizes if rel.count("/") == 1 and rel.endswith(f"/{MANIFEST}")]
        wanted = [self.path("clips", s, MANIFEST) for s in scene_ids if f"{s}/{MANIFEST}" in sizes]
        read = self.fs.cat(wanted, on_error="omit") if wanted else {}  # one batched read
        manifests = {path.rstrip("/").split("/")[-2]: text for path, text in read.items()}

        def problem(scene_id: str) -> str:
            def sha256(name: str) -> str:
                return hashlib.sha256(self.fs.cat_file(self.path("clips", scene_id, name))).hexdigest()
            return manifest_problem(manifests.get(scene_id), lambda name: sizes.get(f"{scene_id}/{name}"),
                                    sha256 if verify else None)

        return {s: problem(s) for s in scene_ids}

    def upload_clip(self, local_clip: Path) -> str:
        """Copy a finished local clip into the store, manifest last; then remove the local copy."""
        target = self.path("clips", local_clip.name)
        files = sorted((p for p in local_clip.rglob("*") if p.is_file()), key=lambda p: p.name == MANIFEST)
        for p in files:
            dest = f"{target}/{p.relative_to(local_clip).as_posix()}"
            self.fs.makedirs(dest.rsplit("/", 1)[0], exist_ok=True)
            self.fs.put_file(str(p), dest)
        shutil.rmtree(local_clip)
        return target

    def put_file(self, local: Path, rel: str) -> None:
        """Move a finished local file into the store (works across filesystems)."""
        target = self.path(*rel.split("/"))
        if self.remote:
            self.fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
            self.fs.put_file(str(local), target)
            return
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(local), target)

    def remove_stale_temporaries(self) -> int:
        """Delete temporary clip folders whose writer is gone: a process of this host that no longer runs,
        or (writers on other hosts, or names without a writer) untouched for ABANDONED_AFTER_S. Folders of
        live writers are never touched. Object stores hold no temporaries (clips are uploaded finished)."""
        if self.remote or not self.local_clips.is_dir():
            return 0
        removed = 0
        for folder in self.local_clips.glob(f"{TEMPORARY_PREFIX}*"):
            owner = temporary_owner(folder.name)
            alive = Owner(owner[0], owner[1]).alive() if owner else None
            if alive is False or (alive is None and time.time() - folder.stat().st_mtime > ABANDONED_AFTER_S):
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        return removed

    def create_exclusive(self, rel: str, text: str) -> bool:
        """Write a small file only if it does not exist yet; False when it does. Atomic on local disks (and on
        object stores that support exclusive creation; elsewhere a check, then a write)."""
        target = self.path(*rel.split("/"))
        if self.remote:
            self.fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
            try:
                with self.fs.open(target, "xb") as f:
                    f.write(text.encode())
                return True
            except FileExistsError:
                return False
            except (ValueError, NotImplementedError):  # this store cannot create exclusively
                if self.fs.exists(target):
                    return False
                self.write_text(rel, text)
                return True
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w") as f:
            f.write(text)
        return True

    def remove(self, rel: str) -> None:
        target = self.path(*rel.split("/"))
        try:
            self.fs.rm(target) if self.remote else os.unlink(target)
        except FileNotFoundError:
            pass

    def read_json(self, rel: str) -> dict | None:
        """A small JSON file of the store; None when it is absent or unreadable."""
        try:
            data = json.loads(self.read_text(rel) or "null")
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def write_text(self, rel: str, text: str) -> None:
        """Write a small file atomically (locally: temp + rename; object stores: one PUT)."""
        target = self.path(*rel.split("/"))
        if self.remote:
            self.fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
            with self.fs.open(target, "w") as f:
                f.write(text)
            return
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        tmp = f"{target}.tmp-{uuid.uuid4().hex[:8]}"
        Path(tmp).write_text(text)
        os.replace(tmp, target)

    def read_text(self, rel: str) -> str | None:
        target = self.path(*rel.split("/"))
        try:
            if self.remote:
                with self.fs.open(target, "r") as f:
                    return f.read()
            return Path(target).read_text()
        except (FileNotFoundError, OSError):
            return None

    def list(self, rel: str) -> list[str]:
        """Names directly inside a folder of the store (empty if it does not exist)."""
        target = self.path(*rel.split("/"))
        if self.remote:
            if not self.fs.exists(target):
                return []
            return sorted(p.rstrip("/").split("/")[-1] for p in self.fs.ls(target, detail=False))
        folder = Path(target)
        return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
