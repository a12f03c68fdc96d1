"""The Parquet tables' Arrow schemas: explicit types for every column (never Arrow's null type), fixed-size
float32 lists for keypoints and boxes, units in the field metadata.

An inferred schema types a column that happens to be empty in one part (no HDRI in any clip, say) as
null, and the next part that has values cannot be read together with it. Here the index's scene
parameters take their types from the SceneSpec dataclasses, so every part of every append agrees.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import types
import typing
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from synthact.spec import ActorSpec, CameraSpec, EnvironmentSpec, RenderSpec, spec_to_dict

# name suffix -> unit, longest first; "1": a dimensionless number (a fraction, a 0-1 phenotype or colour value)
_UNITS = (("_deg_per_s", "deg/s"), ("_m_per_s", "m/s"), ("_mm", "mm"), ("_m", "m"), ("_deg", "deg"), ("_hz", "Hz"),
          ("_ev", "EV"), ("_k", "K"), ("_xy", "m"), ("_s", "s"), ("_seed", "seed"), ("_fraction", "1"),
          ("_density", "1"), ("_intensity", "1"), ("_roughness", "1"), ("_subsurface", "1"), ("_melanin", "1"),
          ("_redness", "1"))
# columns whose name does not say their unit
_NAMED_UNITS = {"camera.framing": "1", "camera.fstop": "f-number", "render.width": "px", "render.height": "px",
                "render.fps": "Hz", "render.frames": "frames", "render.samples": "samples/px",
                "render.sensor_noise": "1", "render.motion_blur": "1", "actor0.actor_index": "index",
                "actor0.skin_tone_monk": "Monk scale", "actor0.motion.min_energy": "m/s", "actor0.motion.speed": "1",
                "actor0.motion.start_fraction": "1", "mean_luma": "1"}
_DIMENSIONLESS_PREFIXES = ("actor0.shape.", "actor0.clothing.top.", "actor0.clothing.bottom.", "actor0.clothing.shoes.")
_SCALARS = {str: pa.string(), int: pa.int64(), float: pa.float64(), bool: pa.bool_()}
# a position [x, y]: a list, not text (a variable-size one: pyarrow < 21 cannot read back a null fixed-size list)
_PAIR = pa.list_(pa.float64())


def field(name: str, kind: pa.DataType, unit: str = "", description: str = "") -> pa.Field:
    meta = {k: v for k, v in (("unit", unit), ("description", description)) if v}
    return pa.field(name, kind, metadata=meta or None)


def _unit_of(name: str) -> str:
    name = name.removeprefix("param.").removeprefix("qc.")
    leaf = name.rsplit(".", 1)[-1]
    if name in _NAMED_UNITS:
        return _NAMED_UNITS[name]
    if leaf == "seed" or leaf.endswith("_seed"):
        return "seed"
    found = next((unit for suffix, unit in _UNITS if leaf.endswith(suffix)), "")
    return found or ("1" if name.startswith(_DIMENSIONLESS_PREFIXES) else "")


def _fixed(size: int, inner: pa.DataType = pa.float32()) -> pa.DataType:
    return pa.list_(inner, size)


INDEX_FIELDS = [
    field("scene_id", pa.string()), field("shard", pa.string()),
    field("offset", pa.int64(), "bytes", "byte offset of the clip's first tar header in its shard"),
    field("class_id", pa.int64(), "id"), field("class_name", pa.string()), field("motion_key", pa.string()),
    field("clip_id", pa.string()), field("motion_group", pa.int64(), "id"),
    field("view_index", pa.int64(), "rank", "rank among the renders of its motion"),
    field("split", pa.string()), field("actors", pa.int64(), "count"), field("frames", pa.int64(), "frames"),
    field("fps", pa.int64(), "Hz"),
    field("measured.camera_distance_m", pa.float64(), "m",
          "mean distance from the camera to the actors' hips over the clip (camera.json and the keypoints)"),
    field("measured.camera_height_m", pa.float64(), "m", "mean height of the camera over the clip"),
]
FRAMES_SCHEMA = pa.schema([
    field("scene_id", pa.string()), field("frame", pa.int32()), field("actor", pa.int32()),
    field("coco2d", _fixed(17, _fixed(3)), "px", "COCO-17 keypoints: x, y, visibility (0 out, 1 occluded, 2 seen)"),
    field("coco3d_world", _fixed(17, _fixed(3)), "m", "COCO-17 keypoints in the world"),
    field("bbox2d", _fixed(4), "px", "visible box x0, y0, x1, y1 (NaN when not seen)"),
    field("bbox2d_amodal", _fixed(4), "px", "box of the whole projected body, clipped to the image"),
])
POSITIVES_SCHEMA = pa.schema([
    field("motion_key", pa.string()), field("scene_id", pa.string()), field("actor", pa.int64()),
    field("start_frame", pa.int64()), field("end_frame", pa.int64()), field("class_name", pa.string()),
])
REJECTIONS_SCHEMA = pa.schema([field("scene_id", pa.string()), field("path", pa.string()),
                               field("reasons", pa.string(), description="comma-separated reason codes"),
                               field("details", pa.string(), description="JSON: code, value, threshold, detail")])


# --- scene parameters -----------------------------------------------------------------------------------


def _hints(cls) -> dict:
    return typing.get_type_hints(cls)


def _optional(hint):
    """X for `X | None` (and X itself otherwise)."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return args[0] if len(args) == 1 else hint
    return hint


@functools.cache
def _param_types(cls, prefix: str) -> tuple[tuple[str, pa.DataType], ...]:
    """(column, type) of every leaf of a spec dataclass; positions are pairs of floats, other sequences JSON
    text."""
    out = []
    for name, hint in _hints(cls).items():
        hint, column = _optional(hint), f"{prefix}.{name}"
        if dataclasses.is_dataclass(hint):
            out += _param_types(hint, column)
        else:
            out.append((column, _PAIR if hint == tuple[float, float] else _SCALARS.get(hint, pa.string())))
    return tuple(out)


PARAM_SECTIONS = (("camera", CameraSpec), ("environment", EnvironmentSpec), ("render", RenderSpec),
                  ("actor0", ActorSpec))


def param_fields() -> list[pa.Field]:
    return [field(f"param.{name}", kind, _unit_of(name))
            for section, cls in PARAM_SECTIONS for name, kind in _param_types(cls, section)]


def param_values(spec) -> dict:
    """param.<path> -> value of the scene's camera, environment, render and first actor (None where an optional
    part is absent); positions as [x, y], other sequences as JSON text."""
    out = {}
    for section, cls in PARAM_SECTIONS:
        value = spec.actors[0] if section == "actor0" else getattr(spec, section)
        _leaves(spec_to_dict(value), cls, f"param.{section}", out)
    return out


def _leaves(value, cls, prefix: str, out: dict) -> None:
    for name, hint in _hints(cls).items():
        hint, column = _optional(hint), f"{prefix}.{name}"
        v = None if value is None else value[name]
        if dataclasses.is_dataclass(hint):
            _leaves(v, hint, column, out)
        else:
            out[column] = (list(v) if v is not None else None) if hint == tuple[float, float] \
                else json.dumps(v) if isinstance(v, list) else v


def index_schema(row: dict, qc_metrics: list[str]) -> pa.Schema:
    """The index's schema for rows like `row`: declared columns, scene parameters typed by the spec, QC metrics
    as float64; any other column (added by a later version) typed by its value, as text when it is None."""
    known = {f.name: f for f in INDEX_FIELDS + param_fields()}
    known.update({f"qc.{m}": field(f"qc.{m}", pa.float64(), _unit_of(m)) for m in qc_metrics})
    fields = []
    for name, value in row.items():
        if name in known:
            fields.append(known[name])
        else:
            inferred = pa.array([value]).type
            fields.append(field(name, pa.string() if pa.types.is_null(inferred) else inferred))
    return pa.schema(fields)


# --- frames ---------------------------------------------------------------------------------------------


def frames_table(scene_id: str, keypoints) -> pa.Table:
    """One row per frame and actor of a clip's keypoints (synthact.clip.Keypoints)."""
    t, a = keypoints.coco2d.shape[:2]

    def nested(array: np.ndarray, *sizes: int) -> pa.Array:
        out = pa.array(np.ascontiguousarray(array, np.float32).reshape(-1))
        for size in reversed(sizes):
            out = pa.FixedSizeListArray.from_arrays(out, size)
        return out
    columns = [pa.array([scene_id] * (t * a), pa.string()), pa.array(np.repeat(np.arange(t), a), pa.int32()),
               pa.array(np.tile(np.arange(a), t), pa.int32()), nested(keypoints.coco2d, 17, 3),
               nested(keypoints.coco3d_world, 17, 3), nested(keypoints.bbox2d, 4), nested(keypoints.bbox2d_amodal, 4)]
    return pa.Table.from_arrays(columns, schema=FRAMES_SCHEMA)


def write_table(path: Path, table: pa.Table) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd", write_statistics=True)
