"""One way to read a YAML file into a validated model, for every command that reads YAML."""
from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from .problems import InvalidFile, Problem, problems_from
from .yaml_source import YamlDocument, YamlError, load_yaml, parse_yaml

Model = TypeVar("Model", bound=BaseModel)


def parse_model(doc: YamlDocument, model: type[Model], empty_ok: bool = False) -> Model:
    """Validate a parsed document; raises InvalidFile with every problem at its file:line."""
    data = doc.data
    if data is None and empty_ok:
        data = {}
    if not isinstance(data, dict):
        raise InvalidFile([Problem(doc.path, 1, "", f"expected a YAML mapping of {model.__name__} fields")])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidFile(problems_from(exc, doc, model)) from None


def read_document(path: str | Path | None = None, text: str | None = None, name: str = "<string>") -> YamlDocument:
    """A YAML document from a file or from text, with YAML errors as InvalidFile."""
    try:
        return parse_yaml(text, name) if text is not None else load_yaml(path)
    except YamlError as exc:
        raise InvalidFile([Problem(exc.file, exc.line, "", exc.message)]) from None


def load_model(path: str | Path, model: type[Model], empty_ok: bool = False) -> Model:
    """Read and validate a YAML file as `model` (an empty file is all defaults when empty_ok)."""
    return parse_model(read_document(path), model, empty_ok)
