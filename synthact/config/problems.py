"""Turn validation failures into messages that name file, line and field path."""
from __future__ import annotations

import difflib
import reprlib
import types
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from .yaml_source import YamlDocument

MAX_PROBLEMS = 100  # per file; a document with thousands of bad keys gets these and a count of the rest
_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxdict, _SHORT.maxlist, _SHORT.maxstring, _SHORT.maxother = 2, 4, 4, 40, 40


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        return f"{where} {self.path}: {self.message}" if self.path else f"{where} {self.message}"


class InvalidFile(Exception):
    """Raised with every problem found in one file, not just the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def format_path(path: tuple[Any, ...]) -> str:
    out = ""
    for comp in path:
        out += f"[{comp}]" if isinstance(comp, int) else (f".{comp}" if out else str(comp))
    return out


def _show(value: Any) -> str:
    """A value for a message, shortened while it is built (never the repr of a huge value, then cut)."""
    if isinstance(value, (int, float, bool)) or value is None:
        return str(value)
    return _SHORT.repr(value)


def describe(error: dict, allowed_keys: list[str] | None) -> str:
    kind, ctx, value = error["type"], error.get("ctx", {}), error.get("input")
    comparisons = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}
    if kind in comparisons:
        bound = next(iter(ctx.values()))
        return f"must be {comparisons[kind]} {bound:g}, got {_show(value)}"
    if kind == "extra_forbidden":
        key = str(error["loc"][-1])
        hint = difflib.get_close_matches(key, allowed_keys or [], n=1, cutoff=0.5)
        return f"unknown key {key!r}" + (f" (did you mean {hint[0]!r}?)" if hint else "")
    if kind == "missing":
        return "required but missing"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')}, got {_show(value)}"
    if kind == "union_tag_invalid":
        return f"unknown dist {ctx.get('tag')!r}; expected one of {ctx.get('expected_tags')}"
    if kind == "union_tag_not_found":
        return "give a value, a list of choices, or a mapping with 'dist' (fixed, uniform, normal, choice, int_range)"
    if kind in ("float_parsing", "float_type", "int_parsing", "int_type", "int_from_float"):
        what = "an integer" if kind.startswith("int") else "a number"
        return f"must be {what}, got {_show(value)}"
    if kind in ("too_short", "too_long"):
        return error["msg"][0].lower() + error["msg"][1:]
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return f"{error['msg'][0].lower()}{error['msg'][1:]}, got {_show(value)}"


def allowed_keys_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names of the model that owns the last component of loc (for typo hints)."""
    current: Any = model
    for comp in loc[:-1]:
        current = _step(current, comp)
        if current is None:
            return []
    current = _unwrap(current, None)
    return list(current.model_fields) if _is_model(current) else []


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _unwrap(tp: Any, tag: Any) -> Any:
    """Strip Annotated and Optional; pick the union member named by a distribution tag."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(tp) if a is not type(None)]
            tagged = [m for m in members if _is_model(m) and "dist" in m.model_fields
                      and m.model_fields["dist"].default == tag]
            if tagged:
                return tagged[0]
            if len(members) != 1:
                return None
            tp = members[0]
        else:
            return tp


def _step(tp: Any, comp: Any) -> Any:
    tp = _unwrap(tp, comp)
    if _is_model(tp):
        if "dist" in tp.model_fields and tp.model_fields["dist"].default == comp:
            return tp  # the union tag component pydantic adds to locations
        field = tp.model_fields.get(comp)
        return None if field is None else field.annotation
    origin = typing.get_origin(tp)
    if origin is list:
        return typing.get_args(tp)[0]
    if origin is dict:
        return typing.get_args(tp)[1]
    return None


def problems_from(error: ValidationError, doc: YamlDocument, model: type[BaseModel]) -> list[Problem]:
    problems = []
    errors = error.errors()
    for e in errors[:MAX_PROBLEMS]:
        line, path = doc.locate(tuple(e["loc"]), missing=e["type"] == "missing")
        allowed = allowed_keys_at(model, tuple(e["loc"])) if e["type"] == "extra_forbidden" else None
        problems.append(Problem(doc.path, line, format_path(path), describe(e, allowed)))
    problems = sorted(set(problems), key=lambda p: (p.line, p.path, p.message))
    if len(errors) > MAX_PROBLEMS:
        more = len(errors) - MAX_PROBLEMS
        problems.append(Problem(doc.path, problems[-1].line, "", f"... and {more} more problems"))
    return problems
