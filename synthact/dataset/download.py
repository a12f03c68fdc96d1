"""Fetching a packed dataset from a local path, an HTTP(S) server (the manager service) or an object store.

Every file (tables and shards) lands as NAME.part first and is renamed when its size and sha256 match the
dataset manifest; an interrupted download keeps the .part and resumes from its end (HTTP Range requests,
or seeking on object stores), and files already present with the right checksum are skipped. Names come
from the source's dataset.json and are checked before anything is written: a relative path of plain
components that stays inside DEST. Nothing is read past what the manifest declares (a file's size; the
manifest itself is capped), and the bearer token goes only to the host the user named: a redirect to any
other host is followed without it.
"""
from __future__ import annotations

import http.client
import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from synthact.clip import sha256_file

CHUNK = 1 << 20
# dataset.json lists the tables, the shards and every scene id (~20 bytes each): 64 MiB holds ~3M clips
MAX_MANIFEST_BYTES = 64 << 20
DOCUMENTS = ("README.md", "report.html")  # the dataset card and the QA report, fetched when the source has them
MAX_DOCUMENT_BYTES = 64 << 20  # the report embeds its sample sheets
ATTEMPTS = 3  # tries per file: a dropped connection resumes, a failed checksum starts again
RETRY_PAUSE_S = 1.0  # before the second try; doubled before each one after


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port


class _CredentialsStayHome(urllib.request.HTTPRedirectHandler):
    """Follows redirects, but sends the Authorization header only to the origin (scheme, host, port) that the
    user named (urllib copies every header to wherever a server redirects)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and _origin(newurl) != _origin(req.full_url):
            new.remove_header("Authorization")
        return new


_opener = urllib.request.build_opener(_CredentialsStayHome)


class TooLarge(IOError):
    """The source sends more than the manifest declares."""


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
        response = _opener.open(request, timeout=60)
        return response, response.status == 206

    def _open(self, rel: str):
        if self.kind == "http":
            return self._http(rel)[0]
        return self.fs.open(f"{self.root}/{rel}", "rb") if self.kind == "fsspec" else open(Path(self.uri, rel), "rb")

    def read_text(self, rel: str, limit: int) -> str:
        """A small file, refused (TooLarge) past `limit` bytes without reading more."""
        with self._open(rel) as src:
            data = src.read(limit + 1)
        if len(data) > limit:
            raise TooLarge(f"{rel}: larger than {limit} bytes; refused")
        return data.decode()

    def copy_to(self, rel: str, part: Path, size: int) -> None:
        """Append the rest of the file (from part's current size) to part, stopping (TooLarge) once the source
        sends more than `size` bytes in all."""
        start = part.stat().st_size if part.exists() else 0
        if self.kind == "http":
            src, partial = self._http(rel, start)
            if not partial:  # a server without Range support sends everything
                start = 0
        else:
            src = self._open(rel)
            src.seek(start)
        with src, open(part, "ab" if start else "wb") as out:
            left = size - start
            while chunk := src.read(min(CHUNK, left + 1)):
                out.write(chunk)
                left -= len(chunk)
                if left < 0:
                    raise TooLarge(f"{rel}: the source sends more than the {size} bytes the manifest declares")


# What breaks a connection mid-file: the .part is kept and the next run resumes it.
INTERRUPTIONS = (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError)


def safe_target(dest: Path, rel: object, folder: str = "") -> Path:
    """dest/folder/rel for a name taken from a manifest, refused (ValueError) unless it is a relative path of
    plain components (none empty, '.' or '..'; no absolute path, backslash or control character) that stays
    inside dest."""
    text = rel if isinstance(rel, str) else ""
    if (not text or any(part in ("", ".", "..") for part in text.split("/")) or "\\" in text
            or any(ord(c) < 32 for c in text)):
        raise ValueError(f"the manifest names a file {rel!r}, which is not a plain relative path; nothing was "
                         f"downloaded from this source")
    target = dest / folder / text
    if not target.resolve().is_relative_to(dest.resolve()):
        raise ValueError(f"the manifest names a file {rel!r} that would land outside {dest}")
    return target


def _fetch(source: Source, rel: str, target: Path, sha256: str, size: int, result: DownloadResult,
           attempts: int = ATTEMPTS) -> None:
    """One file into target, verified. A dropped connection is resumed from the .part (HTTP Range, or a seek),
    and a file that fails its checksum is fetched again from scratch, up to `attempts` tries in all with a
    growing pause between them; then it is refused, naming the file, and a dropped transfer's .part is kept for
    the next run to resume."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and target.stat().st_size == size and sha256_file(target) == sha256:
        result.skipped.append(rel)
        return
    part = target.with_name(target.name + ".part")
    problem = ""
    for attempt in range(1, attempts + 1):
        if attempt > 1:
            time.sleep(RETRY_PAUSE_S * 2 ** (attempt - 2))
        if part.exists() and part.stat().st_size > size:
            part.unlink()  # longer than the real file: start again
        try:
            if not part.exists() or part.stat().st_size < size:
                source.copy_to(rel, part, size)
        except TooLarge:
            part.unlink(missing_ok=True)
            raise
        except INTERRUPTIONS as exc:
            if isinstance(exc, urllib.error.HTTPError) and exc.code < 500:
                raise  # the server's answer (no such file, no access): asking again changes nothing
            problem = f"interrupted after {part.stat().st_size if part.exists() else 0} of {size} bytes ({exc})"
            continue
        got = part.stat().st_size
        if got < size:
            problem = f"interrupted after {got} of {size} bytes"
            continue
        if sha256_file(part) != sha256:
            part.unlink()
            problem = f"checksum mismatch (expected {sha256})"
            continue
        result.bytes += got
        os.replace(part, target)
        result.fetched.append(rel)
        return
    if problem.startswith("checksum"):
        raise IOError(f"{rel}: {problem} in each of {attempts} downloads; the .part file was removed, nothing was "
                      f"kept under its name")
    raise IOError(f"{rel}: {problem}, {attempts} tries; rerun to resume")


def _checked(entries: object, what: str) -> list[dict]:
    """Manifest entries with a name, a sha256 and a size, or ValueError naming what is wrong."""
    ok = isinstance(entries, list) and all(
        isinstance(e, dict) and isinstance(e.get("sha256"), str) and isinstance(e.get("bytes"), int)
        and e["bytes"] >= 0 for e in entries)
    if not ok:
        raise ValueError(f"dataset.json: {what} must be a list of {{name, sha256, bytes}}"
                         + (" (a dataset packed before tables were checksummed: pack it again)"
                            if entries is None else ""))
    return entries


def download(source_uri: str, dest: Path, layout: str | None = None, split: str | None = None,
             token: str | None = None, progress: Callable[..., None] | None = None) -> DownloadResult:
    source = Source(source_uri, token)
    dest = Path(dest)
    try:
        manifest = json.loads(source.read_text("dataset.json", MAX_MANIFEST_BYTES))
    except INTERRUPTIONS as exc:
        if isinstance(exc, urllib.error.HTTPError):
            raise
        raise IOError(f"dataset.json: the connection failed ({exc}); rerun the download") from None
    if not isinstance(manifest, dict) or "layout" not in manifest:
        raise ValueError("dataset.json is not a dataset manifest")
    if layout and manifest["layout"] != layout:
        raise ValueError(f"{source_uri} holds a {manifest['layout']} dataset, not {layout}")
    tables = [(t, safe_target(dest, t["name"])) for t in _checked(manifest.get("tables"), "tables")]
    shards = [(s, safe_target(dest, s.get("name"), "shards")) for s in _checked(manifest.get("shards"), "shards")]
    result = DownloadResult(dest)
    dest.mkdir(parents=True, exist_ok=True)
    report = progress or (lambda *args, **kwargs: None)
    for done, (table, target) in enumerate(tables, 1):
        _fetch(source, table["name"], target, table["sha256"], table["bytes"], result)
        report("tables", done, len(tables))
    wanted = {s["name"] for s in manifest["shards"]}
    if split:
        import pandas as pd
        index = pd.read_parquet(dest / "index")
        wanted = set(index.loc[index.split == split, "shard"])
    chosen = [(shard, target) for shard, target in shards if shard["name"] in wanted]
    for done, (shard, target) in enumerate(chosen, 1):
        _fetch(source, f"shards/{shard['name']}", target, shard["sha256"], shard["bytes"], result)
        report("shards", done, len(chosen), detail=f"{result.bytes / 1e6:.1f} MB fetched")
    for name in DOCUMENTS:
        _fetch_document(source, name, dest, result)
    (dest / "dataset.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return result


def _fetch_document(source: Source, name: str, dest: Path, result: DownloadResult) -> None:
    """The card or the report, when the source has it: size-capped, written whole or not at all. They are
    written after dataset.json is (the report whenever `synthact report` runs), so no checksum vouches for them."""
    part = dest / f"{name}.part"
    try:
        text = source.read_text(name, MAX_DOCUMENT_BYTES)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return
        raise
    except FileNotFoundError:
        return
    except INTERRUPTIONS as exc:
        raise IOError(f"{name}: the connection failed ({exc}); rerun the download") from None
    part.write_text(text)
    os.replace(part, dest / name)
    result.fetched.append(name)
    result.bytes += len(text.encode())


def fetch_files(source_uri: str, files: list[tuple[str, str, int]], dest: Path,
                token: str | None = None, on_file: Callable[[str], None] | None = None) -> DownloadResult:
    """Fetch files given as (path relative to the source, sha256, size) into dest, resumed and verified like
    a dataset's shards (motion libraries use it: `synthact motions fetch`)."""
    source = Source(source_uri, token)
    result = DownloadResult(Path(dest))
    for rel, sha256, size in files:
        try:
            _fetch(source, rel, safe_target(result.dest, rel), sha256, size, result)
        except urllib.error.URLError as exc:  # HTTP errors do not say which file
            raise IOError(f"{source.uri}/{rel}: {exc}") from exc
        if on_file:
            on_file(rel)
    return result
