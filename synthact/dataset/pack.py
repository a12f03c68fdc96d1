"""Packing clip directories into training shards: WebDataset tars + Parquet tables + a dataset manifest.

Deterministic (the same clips give the same bytes), streaming (one clip in memory at a time),
incremental (clips not yet in the dataset go to new shards; old shards are never rewritten).

Layouts: `gata` keeps the renders of one motion together and writes a positives index (which clips
show the same motion over the same frames); `synapt` selects clips class-balanced and exports
class-folder videos for tools such as mmaction2.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import tarfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from synthact import __version__
from synthact.clip import MODALITIES, ClipReader, sha256_file
from synthact.clip.modalities import packed_files, qc_metric_names
from synthact.clip.video import encode_mp4
from synthact.decoders import encodings
from synthact.locks import FolderLock, Locked
from synthact.spec import MODALITY_NAMES, SceneSpec

from . import tables
from .card import write_card
from .qc import QCThresholds, check_clip

DATASET_MANIFEST = "dataset.json"
PACK_LOCK = "pack.lock"
FORMAT_VERSION = 2  # 2: compact depth and flow members are .png16 in shards (1: .png; readers take both)


@dataclass
class PackOptions:
    layout: str = "gata"  # gata | synapt
    modalities: tuple[str, ...] = MODALITY_NAMES
    shard_max_clips: int = 1000
    shard_max_bytes: int = 1_000_000_000
    per_class: int | None = None  # synapt: at most this many clips of each class
    workers: int = 2
    thresholds: QCThresholds = field(default_factory=QCThresholds)


@dataclass
class PackResult:
    out: Path
    accepted: int = 0
    rejected: int = 0
    packed: int = 0  # new clips written by this run
    already_packed: int = 0
    new_shards: list[str] = field(default_factory=list)
    short_classes: dict[str, int] = field(default_factory=dict)  # synapt: classes with fewer clips than per_class


def find_clips(raw: Path) -> list[Path]:
    """Clip folders under a batch folder (raw/clips/*) or a folder of clips, sorted by scene id."""
    raw = Path(raw)
    base = raw / "clips" if (raw / "clips").is_dir() else raw
    return sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith("."))


def _stable_rank(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


class _ShardWriter:
    """Deterministic tar shards: sorted members, zero mtimes and owners.

    Written by hand on tarfile rather than with webdataset's ShardWriter, which cannot do three things the
    dataset needs: it rolls over to a new shard at a count or size only, so it would split the renders of one
    motion across shards (readers that give each worker its own shards would lose GATA pairs), and it does not
    say at which byte offset a sample starts (the index's `offset`, for reading one clip without scanning).
    (Its members' time and owner could be fixed through TarWriter's mtime, user and group.)"""

    def __init__(self, folder: Path, first_number: int, options: PackOptions):
        self.folder, self.number, self.options = folder, first_number, options
        self.tar: tarfile.TarFile | None = None
        self.name = ""
        self.clips = 0
        self.group = ""
        self.written: list[dict] = []

    def _open(self) -> None:
        self.name = f"shard-{self.number:06d}.tar"
        self.tar = tarfile.open(self.folder / self.name, "w", format=tarfile.USTAR_FORMAT)
        self.clips = 0

    def _close(self) -> None:
        if self.tar is None:
            return
        self.tar.close()
        path = self.folder / self.name
        digest = sha256_file(path)
        self.written.append({"name": self.name, "sha256": digest, "bytes": path.stat().st_size, "clips": self.clips})
        self.tar = None
        self.number += 1

    def add(self, key: str, members: list[tuple[str, bytes]], group: str = "") -> tuple[str, int]:
        """Append a clip; a new shard starts when a limit is reached, but only between groups (the renders
        of one motion stay in one shard, so readers that split shards across workers still see pairs),
        unless one group alone exceeds twice the limits."""
        size = sum(len(data) + 512 for _, data in members)
        full = self.tar is not None and (self.clips >= self.options.shard_max_clips
                                         or self.tar.offset + size > self.options.shard_max_bytes)
        overfull = self.tar is not None and (self.clips >= 2 * self.options.shard_max_clips
                                             or self.tar.offset + size > 2 * self.options.shard_max_bytes)
        if (full and group != self.group) or overfull:
            self._close()
        self.group = group
        if self.tar is None:
            self._open()
        offset = self.tar.offset
        for suffix, data in sorted(members):
            info = tarfile.TarInfo(f"{key}.{suffix}")
            info.size, info.mtime, info.mode, info.uid, info.gid = len(data), 0, 0o644, 0, 0
            info.uname = info.gname = ""
            self.tar.addfile(info, io.BytesIO(data))
        self.clips += 1
        return self.name, offset

    def finish(self) -> list[dict]:
        self._close()
        return self.written


class _TableParts:
    """Index, frame and positive rows, written as a new part every `clips_per_part` clips (bounded memory), each
    with its explicit schema (tables.py)."""

    def __init__(self, out: Path, first_part: int, layout: str, clips_per_part: int = 1000):
        self.out, self.part, self.layout, self.clips_per_part = out, first_part, layout, clips_per_part
        self.rows: dict[str, list] = {"index": [], "frames": [], "positives": []}

    def add(self, index_row: dict, frames: pa.Table | None, positive_rows: list) -> None:
        self.rows["index"].append(index_row)
        self.rows["frames"] += [frames] if frames is not None else []
        self.rows["positives"] += positive_rows
        if len(self.rows["index"]) >= self.clips_per_part:
            self._flush()

    def _flush(self) -> None:
        rows = self.rows
        if not rows["index"]:
            return
        part = f"part-{self.part:05d}.parquet"
        schema = tables.index_schema(rows["index"][0], qc_metric_names())
        tables.write_table(self.out / "index" / part, pa.Table.from_pylist(rows["index"], schema=schema))
        if rows["frames"]:
            tables.write_table(self.out / "frames" / part, pa.concat_tables(rows["frames"]))
        if rows["positives"]:
            tables.write_table(self.out / "positives" / part,
                               pa.Table.from_pylist(rows["positives"], schema=tables.POSITIVES_SCHEMA))
        self.rows = {"index": [], "frames": [], "positives": []}
        self.part += 1

    def finish(self) -> int:
        """Flush the last part; returns how many parts the dataset now has."""
        self._flush()
        return self.part


def _check(args):
    clip, thresholds = args
    return check_clip(Path(clip), thresholds).as_dict()


def _quiet(stage: str, done: int, total: int, **fields) -> None:
    pass


def pack(raw: Path, out: Path, options: PackOptions | None = None, progress=_quiet) -> PackResult:
    """progress(stage, done, total): called as clips are checked (qc) and written (pack)."""
    options = options or PackOptions()
    if options.layout not in ("gata", "synapt"):
        raise ValueError(f"layout must be gata or synapt, got {options.layout!r}")
    unknown = set(options.modalities) - set(MODALITIES)
    if unknown:
        raise ValueError(f"unknown modalities {sorted(unknown)}; choose from {', '.join(MODALITIES)}")
    out = Path(out)
    (out / "shards").mkdir(parents=True, exist_ok=True)
    lock = FolderLock(out / PACK_LOCK)  # two packers into one dataset would interleave shards and manifests
    try:
        lock.acquire()
    except Locked as exc:
        raise ValueError(f"{out}: another pack is writing this dataset ({exc.holder.describe()}); run again when "
                         f"it has finished") from None
    try:
        return _pack(raw, out, options, progress)
    finally:
        lock.release()


def _pack(raw: Path, out: Path, options: PackOptions, progress) -> PackResult:
    manifest = json.loads((out / DATASET_MANIFEST).read_text()) if (out / DATASET_MANIFEST).exists() else None
    if manifest and manifest["layout"] != options.layout:
        raise ValueError(f"{out} holds a {manifest['layout']} dataset; cannot add {options.layout} clips to it")
    packed_before = set(manifest["scene_ids"]) if manifest else set()
    result = PackResult(out)
    clips = find_clips(raw)
    checks = []
    with ProcessPoolExecutor(max_workers=max(options.workers, 1)) as pool:
        for check in pool.map(_check, [(str(c), options.thresholds) for c in clips], chunksize=4):
            checks.append(check)
            progress("qc", len(checks), len(clips))
    accepted = [(Path(c["path"]), c) for c in checks if c["accepted"]]
    rejected = [c for c in checks if not c["accepted"]]
    result.accepted, result.rejected = len(accepted), len(rejected)
    readers = {p.name: ClipReader.from_dir(p) for p, _ in accepted}
    specs = {name: reader.spec for name, reader in readers.items()}
    chosen = _select(accepted, specs, options)
    if options.layout == "synapt" and options.per_class:
        counts: dict[str, int] = {}
        for p, _ in chosen:
            counts[specs[p.name].actors[0].motion.class_name] = counts.get(specs[p.name].actors[0].motion.class_name,
                                                                           0) + 1
        result.short_classes = {name: n for name, n in sorted(counts.items()) if n < options.per_class}
    new = [(p, qc) for p, qc in chosen if p.name not in packed_before]
    result.already_packed = len(chosen) - len(new)
    part = len(manifest["parts"]) if manifest else 0
    classes = dict(manifest["classes"]) if manifest else {}
    for name in sorted({specs[p.name].actors[0].motion.class_name for p, _ in new} - set(classes)):
        classes[name] = len(classes)
    views = _view_numbers(chosen, specs)
    writer = _ShardWriter(out / "shards", len(manifest["shards"]) if manifest else 0, options)
    table_parts = _TableParts(out, part, options.layout)
    files = packed_files(options.modalities)
    for done, (path, qc) in enumerate(new, 1):
        reader, spec = readers[path.name], specs[path.name]
        members = [(f.member, reader.read_bytes(f.name)) for f in files if reader.exists(f.name)]
        if "rgb" in options.modalities and reader.has("rgb") and reader.video_bytes() is None:
            members.append(("rgb.mp4", encode_mp4(reader.rgb(), spec.render.fps)))  # shards always carry video
        meta = {"spec": reader.spec_json, "camera": reader.camera_json, "qc": qc["metrics"],
                "class_id": classes[spec.actors[0].motion.class_name],
                "encodings": encodings(spec.render.height, [name for name, _ in members])}
        members.append(("json", json.dumps(meta, sort_keys=True).encode()))
        group = spec.actors[0].motion.motion_key if options.layout == "gata" else ""
        shard, offset = writer.add(path.name, members, group)
        row = _index_row(path.name, shard, offset, spec, qc, classes, views[path.name])
        row.update(_measured_camera(reader))
        table_parts.add(row,
                        tables.frames_table(path.name, reader.keypoints()) if reader.has("keypoints") else None,
                        _positive_rows(path.name, spec) if options.layout == "gata" else [])
        if options.layout == "synapt":
            _export_video(out, reader, spec)
        progress("pack", done, len(new))
    shards = writer.finish()
    parts = table_parts.finish()
    result.packed, result.new_shards = len(new), [s["name"] for s in shards]
    tables.write_table(out / "rejections.parquet", pa.Table.from_pylist([  # the latest QC over the raw folder
        {"scene_id": c["scene_id"], "path": c["path"], "reasons": ",".join(r["code"] for r in c["reasons"]),
         "details": json.dumps(c["reasons"], sort_keys=True, default=str)} for c in rejected],
        schema=tables.REJECTIONS_SCHEMA))
    _write_manifest(out, options, manifest, shards, classes, packed_before | {p.name for p, _ in new}, raw,
                    parts, result)
    write_card(out)
    return result


def _select(accepted, specs: dict[str, SceneSpec], options: PackOptions):
    """The clips that belong in the dataset, in the order they are written."""
    def motion(p):
        return specs[p.name].actors[0].motion

    if options.layout == "gata":  # renders of one motion next to each other
        return sorted(accepted, key=lambda item: (motion(item[0]).motion_key, item[0].name))
    by_class: dict[str, list] = {}
    for item in accepted:
        by_class.setdefault(motion(item[0]).class_name, []).append(item)
    chosen = []
    for name in sorted(by_class):
        ranked = sorted(by_class[name], key=lambda item: _stable_rank(item[0].name))
        chosen += ranked[: options.per_class] if options.per_class else ranked
    return chosen


def _view_numbers(chosen, specs: dict[str, SceneSpec]) -> dict[str, int]:
    """Per clip, its rank among the renders of the same motion (by scene index)."""
    groups: dict[str, list] = {}
    for p, _ in chosen:
        spec = specs[p.name]
        groups.setdefault(spec.actors[0].motion.motion_key, []).append((spec.index, p.name))
    return {name: rank for members in groups.values() for rank, (_, name) in enumerate(sorted(members))}


def _index_row(scene_id, shard, offset, spec: SceneSpec, qc, classes, view) -> dict:
    m = spec.actors[0].motion
    row = {"scene_id": scene_id, "shard": shard, "offset": offset, "class_id": classes[m.class_name],
           "class_name": m.class_name, "label": m.label, "description": m.description, "text": spec.text,
           "library": m.library, "motion_key": m.motion_key, "clip_id": m.clip_id or "",
           "motion_group": spec.motion_group, "view_index": view, "split": spec.split,
           "actors": len(spec.actors), "frames": spec.render.frames, "fps": spec.render.fps}
    row.update(tables.param_values(spec))
    row.update({f"qc.{k}": qc["metrics"].get(k) for k in qc_metric_names()})
    return row


def _measured_camera(reader: ClipReader) -> dict:
    """Where the camera really was, from camera.json and the keypoints: the spec's camera.distance_m is 0 when
    framing placed the camera (the default), and its height_m is before the framing's adjustments."""
    if not (reader.exists("camera.json") and reader.has("keypoints")):
        return {"measured.camera_distance_m": None, "measured.camera_height_m": None}
    w2c = reader.camera.world_to_camera
    centres = -np.einsum("tji,tj->ti", w2c[:, :3, :3], w2c[:, :3, 3])  # C = -R^T t, (T, 3)
    hips = reader.keypoints().coco3d_world[:, :, 11:13].mean(axis=(1, 2))  # the actors' hips, (T, 3)
    return {"measured.camera_distance_m": round(float(np.linalg.norm(centres - hips, axis=1).mean()), 3),
            "measured.camera_height_m": round(float(centres[:, 2].mean()), 3)}


def _positive_rows(scene_id: str, spec: SceneSpec) -> list[dict]:
    """Each actor of the clip is one view; all views of a motion_key share frames [0, frames)."""
    return [{"motion_key": a.motion.motion_key, "scene_id": scene_id, "actor": a.actor_index,
             "start_frame": 0, "end_frame": spec.render.frames, "class_name": a.motion.class_name}
            for a in spec.actors]


def _export_video(out: Path, clip: ClipReader, spec: SceneSpec) -> None:
    video = clip.video_bytes()
    if video is None and clip.has("rgb"):
        video = encode_mp4(clip.rgb(), spec.render.fps)
    if video is None:
        return
    target = out / "videos" / spec.split / spec.actors[0].motion.class_name / f"{clip.name}.mp4"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(video)


TABLES = ("index", "frames", "positives")


def _table_checksums(out: Path, parts: int, previous: list[dict]) -> list[dict]:
    """name, sha256 and bytes of every table file: those recorded before are kept as recorded (parts are never
    rewritten), new parts and rejections.parquet (rewritten by every pack) are measured."""
    recorded = {t["name"]: t for t in previous if t["name"] != "rejections.parquet"}
    names = [f"{table}/part-{i:05d}.parquet" for i in range(parts) for table in TABLES] + ["rejections.parquet"]
    return [recorded.get(name) or {"name": name, "sha256": sha256_file(out / name),
                                   "bytes": (out / name).stat().st_size}
            for name in names if name in recorded or (out / name).is_file()]


def _write_manifest(out, options, manifest, shards, classes, scene_ids, raw, parts, result) -> None:
    import webdataset

    previous = manifest or {"shards": [], "batch_configs": [], "counts": {"clips": 0, "rejected": 0}}
    config_path = Path(raw) / "config.json"
    configs = previous["batch_configs"]
    if config_path.is_file():
        config = json.loads(config_path.read_text())
        if config not in configs:
            configs.append(config)
    body = {
        "format_version": FORMAT_VERSION, "layout": options.layout, "modalities": list(options.modalities),
        "classes": classes, "parts": [f"part-{i:05d}" for i in range(parts)],
        "tables": _table_checksums(out, parts, previous.get("tables", [])),
        "shards": previous["shards"] + shards,
        "counts": {"clips": len(scene_ids), "rejected_last_pack": result.rejected},
        "scene_ids": sorted(scene_ids), "batch_configs": configs,
        "software": {"synthact": __version__, "pyarrow": pa.__version__,
                     "webdataset": getattr(webdataset, "__version__", "unknown"), "python": platform.python_version()},
        "pack_options": {"shard_max_clips": options.shard_max_clips, "shard_max_bytes": options.shard_max_bytes,
                         "per_class": options.per_class},
    }
    tmp = out / f"{DATASET_MANIFEST}.tmp-{os.getpid()}"
    tmp.write_text(json.dumps(body, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, out / DATASET_MANIFEST)
