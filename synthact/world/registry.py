"""Registries made of modules: every module of a package that defines a record (WEATHER, KIND) adds one entry,
so a new weather or environment kind is one file and no list to edit."""
from __future__ import annotations

import importlib
import pkgutil


def declared(package: str, path, attribute: str, kind: type) -> dict:
    """{record.name: record} for each module of package (at path) whose `attribute` is a kind, by module name."""
    found = {}
    for info in sorted(pkgutil.iter_modules(path), key=lambda i: i.name):
        record = getattr(importlib.import_module(f"{package}.{info.name}"), attribute, None)
        if isinstance(record, kind):
            found[record.name] = record
    return found
