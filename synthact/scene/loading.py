"""Loading a batch config for sampling: the schema (config/) plus the checks that need the asset
manifests and the motion libraries (every pack, library and class a config names must exist)."""
from __future__ import annotations

import difflib
from pathlib import Path

from synthact.config import AssetRegistry, BatchConfig, InvalidFile, Problem, YamlDocument, parse_model, read_document
from synthact.config.problems import format_path
from synthact.human.garments import GarmentLibrary
from synthact.human.motions.library import library_classes


def reference_problems(config: BatchConfig, registry: AssetRegistry) -> list[tuple[tuple, str]]:
    """(location, message) for every asset pack or class name the config names but nobody provides."""
    found: list[tuple[tuple, str]] = []
    for model in config.actors.body_model.options():
        if registry.get("body_model", model) is None:
            found.append((("actors", "body_model"), registry.missing_message("body_model", model)))
    env = config.environment
    for field, kind in (("backgrounds", "backgrounds"), ("hdri", "hdri")):
        ref = getattr(env, field)
        if ref is not None and registry.get(kind, ref.pack) is None:
            found.append((("environment", field, "pack"), registry.missing_message(kind, ref.pack)))
    skies = env.sky.options()
    if "hdri" in skies and env.hdri is None:
        found.append((("environment", "sky"), "sky can be 'hdri' but environment.hdri names no pack"))
    if "background" in skies and env.backgrounds is None:
        found.append((("environment", "sky"), "sky can be 'background' but environment.backgrounds names no pack"))

    clothing = config.actors.clothing
    if "garments" in clothing.style.options():
        library = GarmentLibrary.builtin()
        for field, kind in (("outfit", "outfit"), ("footwear", "shoes"), ("hat", "hat"), ("hair", "hair"),
                            ("eyebrows", "eyebrows"), ("eyelashes", "eyelashes")):
            known = library.names(kind)
            for name in getattr(clothing, field).options():
                if name != "all" and name not in known:
                    hint = difflib.get_close_matches(name, known, n=1)
                    hint = f" (did you mean {hint[0]!r}?)" if hint else ""
                    found.append((("actors", "clothing", field), f"unknown {kind} {name!r}{hint}; known: "
                                                                  f"{', '.join(known)}"))

    motion = config.motion
    if registry.get("motion_library", motion.library) is None:
        found.append((("motion", "library"), registry.missing_message("motion_library", motion.library)))
        return found
    known = set(library_classes(motion.library, registry))
    sel = motion.selection

    def check(name: str, loc: tuple) -> None:
        if name not in known:
            hint = difflib.get_close_matches(name, sorted(known), n=1)
            found.append((loc, f"unknown class {name!r} in motion library {motion.library!r}"
                               + (f" (did you mean {hint[0]!r}?)" if hint else "")))

    if sel.classes != "all":
        for i, name in enumerate(sel.classes):
            check(name, ("motion", "selection", "classes", i))
    for name in sel.quotas or {}:
        check(name, ("motion", "selection", "quotas", name))
    if sel.policy == "explicit" and motion.library == "procedural":
        for i, name in enumerate(sel.clips or []):
            check(name, ("motion", "selection", "clips", i))
    return found


def parse_batch_config(doc: YamlDocument, registry: AssetRegistry) -> BatchConfig:
    """Validate a parsed YAML document; raises InvalidFile listing every problem with its line."""
    config = parse_model(doc, BatchConfig)
    problems = []
    for loc, message in reference_problems(config, registry):
        line, path = doc.locate(loc)
        problems.append(Problem(doc.path, line, format_path(path), message))
    if problems:
        raise InvalidFile(sorted(problems, key=lambda p: p.line))
    return config


def load_batch_config(path: str | Path, registry: AssetRegistry | None = None) -> BatchConfig:
    return parse_batch_config(read_document(path), registry or AssetRegistry.load())
