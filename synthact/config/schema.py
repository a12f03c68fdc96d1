"""JSON schemas of the configs, for editors and validators (`synthact schema` writes docs/*.schema.json).

pydantic's schema describes what the models hold after validation; a batch config as people write it also
uses the shorthand forms of docs/FORMAT.md ("Distributions": `50` for fixed, `[a, b]` for a uniform choice),
which the models accept through before-validators. batch_config_schema() adds them, the `$schema` dialect,
and a description for every field from the field table of docs/FORMAT.md, the reference the docs and tests
keep complete (`make schema` regenerates both).
"""
from __future__ import annotations

import copy
import re
from pathlib import Path

from .batch import BatchConfig

DIALECT = "https://json-schema.org/draft/2020-12/schema"
_ROW = re.compile(r"^\| (`[^|]+`(?: / `[^|]+`)*) \| (.+?) \| (.+?) \|$")


def field_docs(format_md: Path) -> dict[str, str]:
    """Field path -> description from docs/FORMAT.md's BatchConfig field table (`a.b` / `.c` rows included)."""
    docs = {}
    section = Path(format_md).read_text().split("### Fields", 1)[-1].split("\n### ", 1)[0]
    for line in section.splitlines():
        match = _ROW.match(line.strip())
        if not match:
            continue
        names = re.findall(r"`([^`]+)`", match.group(1))
        first = names[0]
        text = f"{match.group(2)}. Default: {match.group(3)}.".replace("`", "")
        for name in names:
            path = name if not name.startswith(".") else first.rsplit(".", 1)[0] + name
            docs[path] = text
    return docs


def batch_config_schema(format_md: Path | None = None) -> dict:
    schema = copy.deepcopy(BatchConfig.model_json_schema())
    _add_shorthands(schema)
    if format_md is not None and Path(format_md).is_file():
        _describe(schema, schema, "", field_docs(format_md))
    schema.pop("title", None)
    return {"$schema": DIALECT, "title": "SynthAct batch config",
            "description": "Distributions of scene settings for a batch of synthetic clips (docs/FORMAT.md "
                           "section 1); `synthact validate` checks a file against the same models.",
            **schema}


def _walk(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _add_shorthands(schema: dict) -> None:
    """Every distribution (a union discriminated by `dist`) also takes its fixed value alone and a plain list
    (a uniform choice)."""
    defs = schema.get("$defs", {})
    for node in _walk(schema):
        mapping = node.get("discriminator", {}).get("mapping", {}) if node.get("discriminator", {}).get(
            "propertyName") == "dist" else {}
        if "fixed" not in mapping or "choice" not in mapping:
            continue
        fixed = defs[mapping["fixed"].rsplit("/", 1)[-1]]["properties"]["value"]
        choice = defs[mapping["choice"].rsplit("/", 1)[-1]]["properties"]["values"]
        shorthands = [{**fixed, "title": "fixed (shorthand)"}, {**choice, "title": "choice (shorthand)"}]
        node["oneOf"] = node["oneOf"] + [s for s in shorthands if s not in node["oneOf"]]


def _ref(prop: dict) -> str | None:
    """The model a property holds (directly or as `X | None`), None for distributions and scalars."""
    for option in [prop] + prop.get("anyOf", []):
        if "$ref" in option:
            return option["$ref"].rsplit("/", 1)[-1]
    return None


SECTIONS = {
    "batch": "The batch: name (its output folder), seed and number of scenes.",
    "camera": "Camera placement, intrinsics, motion and the RGB's exposure and white balance.",
    "environment": ("Where clips happen: outdoors (ground, props, sun, sky, HDRI or background image, weather) or "
                    "in rooms from a place library."),
    "actors": "How many actors, their bodies, skin, clothing and placement.",
    "motion": "Which motion library and classes, renders per motion, window, speed and mirroring.",
    "render": "Engine, device, resolution, frames, sampling, modalities and how they are stored.",
    "splits": "Shares of motions in val and test, and which factors never cross splits.",
}


def _describe(schema: dict, model: dict, prefix: str, docs: dict[str, str], parent: str = "") -> None:
    """Descriptions by field path; a field the table documents only as part of its parent (a garment's hue, a
    pack reference's probability) gets the parent's row."""
    for name, prop in model.get("properties", {}).items():
        path = prefix + name
        target = _ref(prop)
        nested = target and "dist" not in schema["$defs"][target].get("properties", {})
        if path in docs or path in SECTIONS:
            prop["description"] = docs.get(path) or SECTIONS[path]
        elif nested:  # a group of fields, each described below it
            own = schema["$defs"][target].get("description", "")
            prop["description"] = f"{own} The {path}.* fields.".strip()
        elif parent:  # (a model such as GarmentConfig may serve several parents with one row)
            prop["description"] = parent
        if nested:
            _describe(schema, schema["$defs"][target], f"{path}.", docs, docs.get(path, ""))
