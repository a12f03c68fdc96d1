"""Building a motion library from a folder of BVH and AMASS files (`synthact motions import-library`).

Every file is read, retargeted to the reference body and measured per 0.1 s bin (quality, motion energy, the
pelvis's lowest height); labels come from the source's descriptions (vocabulary.py). A file that cannot be used
is reported with its reason and left out; the library is written for the others. A rerun reuses every file
whose sha256 and analysis settings are unchanged, so it only reads what is new or changed.
"""
from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from synthact.config.assets import LIBRARY_MANIFEST, motion_library_root

from .collection import ClipRecord, LibraryManifest, QualityThresholds, read_manifest, write_manifest
from .importers import load_amass, load_bvh
from .motion import MotionError
from .quality import joint_speed, quality_series
from .retarget import retarget
from .skeleton import J, Skeleton, forward_kinematics
from .vocabulary import (
    CMU_ATTRIBUTION,
    CMU_INDEX,
    CMU_LICENSE,
    CMU_SOURCE,
    UNLABELLED,
    LabelFileError,
    cmu_descriptions,
    cmu_trial,
    labels_of,
    read_label_file,
)
from .windows import BIN_S, bins

FORMATS = {".bvh": "bvh", ".npz": "amass"}
ANALYSIS_FPS = 30  # motions are measured at this rate (retargeting, quality, energy)
MEASURES = ("quality", "energy", "pelvis")  # what analyse() records per bin; a library missing one is read again
LABEL_FILE = "labels.csv"  # read from the imported folder when --labels is auto
SAVE_EVERY_S = 20.0  # a long import writes its manifest this often, so an interrupted one resumes


class LibraryImportError(ValueError):
    """The import cannot run at all (no folder, no motion files, an unreadable label file)."""


@dataclass
class ImportOptions:
    labels: str = "auto"  # auto | cmu | none | a CSV file (file, label, description)
    license: str | None = None
    source: str | None = None
    version: str | None = None  # default: a digest of the files and labels
    description: str = ""
    download_url: str | None = None
    workers: int = 1
    thresholds: QualityThresholds = field(default_factory=QualityThresholds)


@dataclass
class ImportReport:
    manifest: Path
    library: LibraryManifest
    analysed: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    label_problems: list[str] = field(default_factory=list)
    seconds: float = 0.0


def library_path(name: str, root: Path | None = None) -> Path:
    return (root or motion_library_root()) / name / LIBRARY_MANIFEST


def find_motion_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in FORMATS and p.is_file())


def sha256_of(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def analyse(path: str, fmt: str, thresholds: QualityThresholds) -> dict:
    """Read one file and measure it on the reference body: the record's motion fields."""
    motion = (load_bvh if fmt == "bvh" else load_amass)(path)
    clip = motion.resampled(ANALYSIS_FPS)
    body = Skeleton.reference()
    local, root = retarget(clip, body)
    series = quality_series(local, root, clip.contacts, body, clip.fps)
    pelvis = forward_kinematics(body, local, root)[1][:, J["pelvis"], 2]
    ok = np.ones(len(bins(series["foot_skate_m"], clip.fps)), bool)
    for name, limit in dataclasses.asdict(thresholds).items():
        ok &= bins(series[name], clip.fps, np.max) <= limit
    return {"frames": motion.num_frames, "fps": motion.fps, "duration_s": round(motion.duration, 6),
            "quality": {name: round(float(values.max()), 6) for name, values in series.items()},
            "energy": [round(float(e), 4) for e in bins(joint_speed(clip), clip.fps)],
            "quality_ok": "".join("1" if x else "0" for x in ok),
            "pelvis_m": [round(float(z), 3) for z in bins(pelvis, clip.fps, np.min)]}


def _analyse_or_reason(path: str, fmt: str, thresholds: QualityThresholds) -> dict | str:
    try:
        return analyse(path, fmt, thresholds)
    except MotionError as exc:
        return str(exc)
    except Exception as exc:  # noqa: BLE001 - a bad file is reported and skipped, never fatal
        return f"{path}: cannot be imported ({exc.__class__.__name__}: {exc})"


class Labeller:
    """Description and labels of each file, from a label file, CMU's index or nowhere."""

    def __init__(self, folder: Path, files: list[str], choice: str):
        self.rows, self.problems, self.source = {}, [], "none"
        path = folder / LABEL_FILE if choice == "auto" else None if choice in ("cmu", "none") else Path(choice)
        if path is not None and (choice != "auto" or path.is_file()):
            try:
                self.rows, self.problems = read_label_file(path)
            except LabelFileError as exc:
                raise LibraryImportError(str(exc)) from None
            self.source = f"label file {path.name}"
            known = set(files) | {Path(f).name for f in files}
            self.problems += [f"{path}: names {name}, which is not a motion file in {folder}"
                              for name in self.rows if name not in known]
        elif choice in ("auto", "cmu") and any(cmu_trial(Path(f).stem) for f in files):
            self.source = f"CMU description index ({CMU_INDEX}, shipped with SynthAct)"

    def describe(self, file: str) -> tuple[list[str], str]:
        """(labels, description) of a file; labels are [] when nothing names one."""
        row = self.rows.get(file) or self.rows.get(Path(file).name)
        if row is not None:
            return ([row.label] if row.label else labels_of(row.description)), row.description
        trial = cmu_trial(Path(file).stem) if self.source.startswith("CMU") else None
        description = cmu_descriptions().get(trial, "") if trial else ""
        return labels_of(description), description


def import_library(name: str, folder: Path, options: ImportOptions | None = None, root: Path | None = None,
                   on_file: Callable[[str, str, float], None] | None = None) -> ImportReport:
    """Import (or update) library `name` from the motion files under folder; on_file(file, outcome, seconds
    of motion) is called once per file, outcome being analysed, reused or skipped. Nothing is written when
    no file could be imported."""
    options = options or ImportOptions()
    folder = Path(folder).resolve()
    if not folder.is_dir():
        raise LibraryImportError(f"{folder}: not a folder")
    paths = find_motion_files(folder)
    if not paths:
        raise LibraryImportError(f"{folder}: no motion files (.bvh, .npz) in it or below it")
    t0 = time.perf_counter()
    files = [p.relative_to(folder).as_posix() for p in paths]
    labeller = Labeller(folder, files, options.labels)
    target = library_path(name, root)
    settings = {"analysis_fps": ANALYSIS_FPS, "bin_s": BIN_S, "thresholds": dataclasses.asdict(options.thresholds),
                "measures": list(MEASURES)}
    before = _previous(target, settings)
    run = _Run(folder, _new_manifest(name, folder, options, labeller, settings, before), labeller, options, target,
               on_file, before)
    todo = run.triage(files, paths)
    run.analyse(todo)
    run.report.removed = sorted(set(run.old) - set(files))
    run.finish()
    run.report.seconds = time.perf_counter() - t0
    return run.report


def _new_manifest(name: str, folder: Path, options: ImportOptions, labeller: Labeller, settings: dict,
                  before: LibraryManifest | None) -> LibraryManifest:
    cmu = labeller.source.startswith("CMU")
    return LibraryManifest(
        name=name, version="", license=options.license or (CMU_LICENSE if cmu else "unspecified (see --license)"),
        source=options.source or (CMU_SOURCE if cmu else str(folder)), path=str(folder),
        description=options.description, attribution=CMU_ATTRIBUTION if cmu else "",
        download_url=options.download_url or (before.download_url if before else None),
        labels_from=labeller.source, settings=settings)


class _Run:
    """One import: which files to read, the records kept and made, the files left out and why."""

    def __init__(self, folder, library, labeller, options, target, on_file, before):
        self.folder, self.labeller, self.options, self.target, self.on_file = folder, labeller, options, target, on_file
        self.report = ImportReport(target, library, label_problems=labeller.problems)
        self.old = {c.file: c for c in before.clips} if before else {}
        self.old_skips = {s["file"]: s for s in before.skipped if s.get("cause") == "file"} if before else {}
        self.records: dict[str, ClipRecord] = dict(self.old)  # old records stay until checked (a resumable save)
        self.skipped: dict[str, dict] = {}

    def skip(self, file: str, digest: str, reason: str, cause: str) -> None:
        """Leave a file out; cause 'file' (the file itself is bad) is not read again while it is unchanged,
        'conflict' (a duplicate, a clip id used twice) is checked again on every run."""
        self.records.pop(file, None)
        self.skipped[file] = {"file": file, "sha256": digest, "reason": reason, "cause": cause}
        self.report.skipped.append((file, reason))
        self._tell(file, "skipped", 0.0)

    def _tell(self, file: str, outcome: str, seconds: float) -> None:
        if self.on_file:
            self.on_file(file, outcome, seconds)

    def triage(self, files: list[str], paths: list[Path]) -> list[tuple[str, str]]:
        """Reuse, skip or queue every file; returns the (file, sha256) to read."""
        by_digest: dict[str, str] = {}
        by_clip_id: dict[str, str] = {}
        todo = []
        for file in set(self.records) - set(files):
            del self.records[file]
        for file, path in zip(files, paths):
            digest = sha256_of(path)
            if digest in by_digest:
                self.skip(file, digest, f"{path}: the same content as {by_digest[digest]} (a duplicate); left out",
                          "conflict")
            elif path.stem in by_clip_id:
                self.skip(file, digest, f"{path}: clip id {path.stem!r} is already used by {by_clip_id[path.stem]}; "
                                        f"rename one", "conflict")
            elif file in self.old and self.old[file].sha256 == digest:
                self.report.reused.append(file)
                self._tell(file, "reused", self.old[file].duration_s)
            elif file in self.old_skips and self.old_skips[file]["sha256"] == digest:
                self.skip(file, digest, self.old_skips[file]["reason"], "file")
            else:
                todo.append((file, digest))
            by_digest.setdefault(digest, file)
            by_clip_id.setdefault(path.stem, file)
        return todo

    def analyse(self, todo: list[tuple[str, str]]) -> None:
        last_save = time.monotonic()
        for file, digest, result in _analysed(self.folder, todo, self.options):
            if isinstance(result, str):
                self.skip(file, digest, result, "file")
                continue
            labels, description = self.labeller.describe(file)
            self.records[file] = ClipRecord(
                clip_id=Path(file).stem, file=file, format=FORMATS[Path(file).suffix.lower()], sha256=digest,
                bytes=(self.folder / file).stat().st_size, label=labels[0] if labels else UNLABELLED, labels=labels,
                description=description, **result)
            self.report.analysed.append(file)
            self._tell(file, "analysed", result["duration_s"])
            if time.monotonic() - last_save > SAVE_EVERY_S:
                self.save()
                last_save = time.monotonic()

    def finish(self) -> None:
        for record in self.records.values():  # labels are cheap: always from the current descriptions
            labels, record.description = self.labeller.describe(record.file)
            record.labels, record.label = labels, labels[0] if labels else UNLABELLED
        self.save()

    def save(self) -> None:
        if not self.records:  # a library of nothing is not written
            return
        library = self.report.library
        library.clips = [self.records[f] for f in sorted(self.records)]
        library.skipped = [self.skipped[f] for f in sorted(self.skipped)]
        library.version = self.options.version or library.content_version()
        write_manifest(library, self.target)


def _previous(target: Path, settings: dict) -> LibraryManifest | None:
    """The library's last manifest when its files can be reused (same analysis settings), else None."""
    if not target.is_file():
        return None
    try:
        before = read_manifest(target)
    except (OSError, ValueError, KeyError, TypeError):
        return None  # unreadable: everything is read again and the file is replaced
    return before if before.settings == settings else None


def _analysed(folder: Path, todo: list[tuple[str, str]], options: ImportOptions):
    """(file, sha256, analysis or reason) for each file, with a bounded number in flight (flat memory)."""
    fmt = {file: FORMATS[Path(file).suffix.lower()] for file, _ in todo}
    if options.workers <= 1:
        for file, digest in todo:
            yield file, digest, _analyse_or_reason(str(folder / file), fmt[file], options.thresholds)
        return
    with ProcessPoolExecutor(max_workers=options.workers) as pool:
        pending, queue = {}, iter(todo)
        while True:
            for file, digest in queue:
                future = pool.submit(_analyse_or_reason, str(folder / file), fmt[file], options.thresholds)
                pending[future] = (file, digest)
                if len(pending) >= 2 * options.workers:
                    break
            if not pending:
                return
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                file, digest = pending.pop(future)
                yield file, digest, future.result()
