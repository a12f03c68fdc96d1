"""Quality control of clip directories: every rejection has a reason code and the value it measured.

Integrity checks run first (manifest, files, checksums, readable records, frame counts); if they pass,
every present modality's content checks from the clip registry run and all their findings are reported.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from synthact.clip import MODALITIES, ClipError, ClipReader, sha256_file
from synthact.clip.checks import Finding, QCThresholds
from synthact.clip.modalities import expected_files

REASONS = {
    "missing_manifest": "the clip has no manifest.json (it never finished)",
    "unreadable_manifest": "manifest.json is not valid JSON (a truncated or damaged clip)",
    "missing_file": "a file listed in the manifest is absent",
    "checksum_mismatch": "a file's sha256 differs from the manifest",
    "unreadable_file": "a record or array cannot be read (damaged file)",
    "missing_modality": "a file of a modality the spec asks for is not in the clip",
    "wrong_array": "an array's dtype or shape is not what the clip format says",
    "frame_count_mismatch": "modalities disagree on the number of frames",
    "undecodable_video": "rgb.mp4 cannot be decoded to the expected frames",
    "qc_error": "QC itself failed on this clip (the detail says how); the clip is set aside, not packed",
    "nan_in_arrays": "NaN or infinite values where there must be none",
    "black_frames": "too many frames are (nearly) black",
    "overexposed_frames": "too many frames are (nearly) white",
    "actor_not_visible": "the actor covers too little of the image",
    "bbox_too_small": "the actor's box is too small",
    "keypoints_not_visible": "too few keypoints are visible",
    "camera_inside_geometry": "a large part of the view is closer than a few centimetres",
    "body_below_ground": "a joint goes below the ground",
}

__all__ = ["QCResult", "QCThresholds", "REASONS", "check_clip"]


@dataclass
class QCResult:
    scene_id: str
    path: str
    accepted: bool
    reasons: list[dict] = field(default_factory=list)  # {"code", "value", "threshold", "detail"}
    metrics: dict = field(default_factory=dict)

    def reject(self, code: str, value, threshold=None, detail: str = "") -> None:
        self.accepted = False
        self.reasons.append({"code": code, "value": value, "threshold": threshold, "detail": detail})

    def as_dict(self) -> dict:
        return asdict(self)


def check_clip(clip: Path, thresholds: QCThresholds | None = None) -> QCResult:
    t = thresholds or QCThresholds()
    clip = Path(clip)
    result = QCResult(clip.name, str(clip), True)
    try:
        _check(ClipReader.from_dir(clip), t, result)
    except Exception as exc:  # noqa: BLE001 - one unreadable clip must not stop QC of all the others
        result.reject("qc_error", None, detail=f"{type(exc).__name__}: {str(exc)[:200]}")
    return result


def _check(reader: ClipReader, t: QCThresholds, result: QCResult) -> None:
    if not _integrity(reader, result):
        return
    for m in MODALITIES.values():
        if reader.has(m.name):
            for check in m.checks:
                try:
                    findings = check(reader, t, result.metrics)
                except ClipError as exc:
                    findings = [Finding("unreadable_file", str(exc)[:200])]
                for f in findings:
                    result.reject(f.code, f.value, f.threshold, f.detail)


def _integrity(reader: ClipReader, result: QCResult) -> bool:
    """Manifest, checksums, readable records and arrays, equal frame counts; False when the clip fails."""
    folder = reader.folder
    try:
        if reader.manifest is None:
            result.reject("missing_manifest", None)
            return False
        files = reader.manifest["files"]
        entries = [(name, e["bytes"], e["sha256"]) for name, e in files.items()]
    except (ClipError, KeyError, TypeError, AttributeError) as exc:
        result.reject("unreadable_manifest", None, detail=str(exc)[:200])
        return False
    for name, size, digest in entries:
        path = folder / name
        if not path.is_file():
            result.reject("missing_file", name)
        elif path.stat().st_size != size or sha256_file(path) != digest:
            result.reject("checksum_mismatch", name)
    if not result.accepted:
        return False
    try:
        frames = reader.frames
        r = reader.spec.render
        absent = [f.name for f in expected_files(r.modalities, r.rgb_format, r.precision) if not reader.exists(f.name)]
        if absent:
            result.reject("missing_modality", absent)
            return False
        counts = {"camera.json:world_to_camera": reader.camera.frames}
        dims = {"T": frames, "H": reader.camera.height, "W": reader.camera.width, "A": len(reader.spec.actors)}
        for m in MODALITIES.values():
            for f in m.files:
                if f.arrays and f.kind not in ("video", "frames") and reader.exists(f.name):
                    for a in f.arrays:
                        array = reader.array(f.name, a.key)
                        problem = array_problem(array, a, dims)
                        if problem:
                            result.reject("wrong_array", f"{f.name}:{a.key}", detail=problem)
                            return False
                        if a.timed:
                            counts[f"{f.name}:{a.key}"] = len(array)
    except ClipError as exc:
        result.reject("unreadable_file", str(exc)[:200])
        return False
    if reader.has("rgb"):
        try:
            decoded = len(reader.rgb())
        except ClipError as exc:
            result.reject("undecodable_video", str(exc)[:200])
            return False
        if decoded != frames:
            result.reject("undecodable_video", decoded, frames, "decoded frames")
            return False
    wrong = {name: n for name, n in counts.items() if n != frames}
    if wrong:
        result.reject("frame_count_mismatch", wrong, frames)
        return False
    return True


def array_problem(array, spec, dims: dict) -> str:
    """What is wrong with an array against its registry entry ('' when nothing): dtype, rank, and the
    T/H/W/A dimensions (frame counts are compared separately, across modalities)."""
    kind = "U" if spec.dtype == "str" else None
    if (kind and array.dtype.kind != kind) or (not kind and array.dtype != spec.dtype):
        return f"dtype {array.dtype}, expected {spec.dtype}"
    axes = spec.shape.split(",")
    if array.ndim != len(axes):
        return f"shape {array.shape}, expected ({spec.shape})"
    for axis, (name, size) in enumerate(zip(axes, array.shape)):
        if name in dims and name != "T" and size != dims[name]:
            return f"shape {array.shape}: axis {axis} ({name}) should be {dims[name]}"
    return ""
