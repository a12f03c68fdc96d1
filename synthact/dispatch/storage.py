"""Where a batch's outputs live: a local folder, or any fsspec URI (s3://, gs://, file://, ...).

Layout under the batch root:  clips/<scene_id>/...  previews/  ledger/  specs.jsonl  summary.json
A clip is complete when its manifest.json exists. Locally clips are written to a temporary folder and
renamed into place; on object stores, which cannot rename, every file is uploaded first and the
manifest last, so readers see either no manifest (incomplete) or a complete clip.
"""
from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from synthact.clip import MANIFEST


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
            Path(self._root, "clips").mkdir(parents=True, exist_ok=True)

    def path(self, *parts: str) -> str:
        return "/".join([self._root, *parts]) if self.remote else str(Path(self._root, *parts))

    @property
    def local_clips(self) -> Path:
        """The folder render workers write clips into directly (local stores only)."""
        assert not self.remote
        return Path(self._root, "clips")

    def is_complete(self, scene_id: str) -> bool:
        target = self.path("clips", scene_id, MANIFEST)
        return self.fs.exists(target) if self.remote else os.path.isfile(target)

    def complete_ids(self) -> set[str]:
        """Scene ids with a finished clip (one listing; for object stores, instead of one request per scene)."""
        if self.remote:
            found = self.fs.glob(self.path("clips", "*", MANIFEST))
            return {p.rstrip("/").split("/")[-2] for p in found}
        clips = self.local_clips
        return {d.name for d in clips.iterdir() if (d / MANIFEST).is_file()}

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
        """Delete `.tmp-*` clip folders left by killed workers (no manager may be running on this batch)."""
        if self.remote:
            return 0
        stale = [d for d in self.local_clips.glob(".tmp-*") if d.is_dir()]
        for d in stale:
            shutil.rmtree(d, ignore_errors=True)
        return len(stale)

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
