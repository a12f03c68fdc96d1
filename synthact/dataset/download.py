"""Fetching a packed dataset from a local path, an HTTP(S) server (the manager service) or an object store.

Every file lands as NAME.part first and is renamed when its size and sha256 match the dataset manifest;
an interrupted download resumes from the end of the .part file (HTTP Range requests, or seeking on
object stores), and files already present with the right checksum are skipped.
"""
from __future__ import annotations

import json
import os
import shutil
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from synthact.clip import sha256_file

CHUNK = 1 << 20


@dataclass
class DownloadResult:
    dest: Path
    fetched: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    bytes: int = 0


class Source:
    """Read files of a dataset by relative path, from any of the supported kinds of location."""

    def __init__(self, uri: str, token: str | None = None):
        self.uri = uri.rstrip("/")
        self.token = token
        self.kind = "http" if self.uri.startswith(("http://", "https://")) else "fsspec" if "://" in self.uri \
            else "local"
        if self.kind == "fsspec":
            import fsspec
            self.fs, self.root = fsspec.core.url_to_fs(self.uri)

    def _http(self, rel: str, start: int = 0):
        request = urllib.request.Request(f"{self.uri}/{rel}")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        if start:
            request.add_header("Range", f"bytes={start}-")
        response = urllib.request.urlopen(request, timeout=60)  # noqa: S310 - the user names the server
        return response, response.status == 206

    def read_text(self, rel: str) -> str:
        if self.kind == "http":
            response, _ = self._http(rel)
            return response.read().decode()
        if self.kind == "fsspec":
            with self.fs.open(f"{self.root}/{rel}", "r") as f:
                return f.read()
        return Path(self.uri, rel).read_text()

    def copy_to(self, rel: str, part: Path) -> None:
        """Append the rest of the file (from part's current size) to part."""
        start = part.stat().st_size if part.exists() else 0
        if self.kind == "http":
            response, partial = self._http(rel, start)
            mode = "ab" if partial else "wb"  # a server without Range support sends everything
            with response, open(part, mode) as out:
                shutil.copyfileobj(response, out, CHUNK)
            return
        if self.kind == "fsspec":
            src = self.fs.open(f"{self.root}/{rel}", "rb")
        else:
            src = open(Path(self.uri, rel), "rb")
        with src, open(part, "ab") as out:
            src.seek(start)
            shutil.copyfileobj(src, out, CHUNK)


def _fetch(source: Source, rel: str, dest: Path, sha256: str | None, size: int | None, result: DownloadResult) -> None:
    target = dest / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and (sha256 is None or sha256_file(target) == sha256):
        result.skipped.append(rel)
        return
    part = target.with_name(target.name + ".part")
    if part.exists() and size is not None and part.stat().st_size > size:
        part.unlink()  # longer than the real file: start again
    source.copy_to(rel, part)
    if sha256 is not None and sha256_file(part) != sha256:
        part.unlink()
        raise IOError(f"{rel}: checksum mismatch after download (expected {sha256}); the .part file was removed, "
                      f"run the download again")
    result.bytes += part.stat().st_size
    os.replace(part, target)
    result.fetched.append(rel)


def download(source_uri: str, dest: Path, layout: str | None = None, split: str | None = None,
              token: str | None = None) -> DownloadResult:
    source = Source(source_uri, token)
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    manifest = json.loads(source.read_text("dataset.json"))
    if layout and manifest["layout"] != layout:
        raise ValueError(f"{source_uri} holds a {manifest['layout']} dataset, not {layout}")
    result = DownloadResult(dest)
    tables = [f"{table}/{part}.parquet" for part in manifest["parts"] for table in ("index", "frames", "positives")
              if table != "positives" or manifest["layout"] == "gata"]
    for rel in tables:  # small: no checksums in the manifest, fetched whole each time
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        part = target.with_name(target.name + ".part")
        part.unlink(missing_ok=True)
        try:
            source.copy_to(rel, part)
        except (FileNotFoundError, urllib.error.HTTPError) as exc:
            if isinstance(exc, urllib.error.HTTPError) and exc.code != 404:
                raise
            part.unlink(missing_ok=True)  # e.g. no frames table when keypoints were not packed
            continue
        os.replace(part, target)
        result.fetched.append(rel)
    wanted = {s["name"] for s in manifest["shards"]}
    if split:
        import pandas as pd
        index = pd.read_parquet(dest / "index")
        wanted = set(index.loc[index.split == split, "shard"])
    for shard in manifest["shards"]:
        if shard["name"] in wanted:
            _fetch(source, f"shards/{shard['name']}", dest, shard["sha256"], shard["bytes"], result)
    (dest / "dataset.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return result


def fetch_files(source_uri: str, files: list[tuple[str, str | None, int | None]], dest: Path,
                token: str | None = None, on_file: Callable[[str], None] | None = None) -> DownloadResult:
    """Fetch files given as (path relative to the source, sha256, size) into dest, resumed and verified like
    a dataset's shards (motion libraries use it: `synthact motions fetch`)."""
    source = Source(source_uri, token)
    result = DownloadResult(Path(dest))
    for rel, sha256, size in files:
        try:
            _fetch(source, rel, result.dest, sha256, size, result)
        except urllib.error.URLError as exc:  # HTTP errors do not say which file
            raise IOError(f"{source.uri}/{rel}: {exc}") from exc
        if on_file:
            on_file(rel)
    return result
