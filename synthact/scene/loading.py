"""Loading a batch config for sampling: the schema (config/) plus the checks that need the asset
manifests and the motion libraries (every pack, library and class a config names must exist)."""
from __future__ import annotations

import difflib
from pathlib import Path

from synthact.config import AssetRegistry, BatchConfig, InvalidFile, Problem, YamlDocument, parse_model, read_document
from synthact.config.assets import display_path
from synthact.config.problems import format_path
from synthact.human.garments import GarmentLibrary
from synthact.human.motions.library import open_libraries
from synthact.world.places import PlaceLibraryError, open_place_library

from .places import PlacePool
from .sampler import hdri_photographs, library_pool, recording_splits, window_length_and_stride


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
    if env.places is not None and "room" in env.kind.options():
        found += place_problems(config)
    if env.prop_library is not None:
        try:
            if not open_place_library(env.prop_library).props:
                found.append((("environment", "prop_library"), f"place library {env.prop_library!r} has no props "
                              f"(make some: synthact environments build {env.prop_library} --generator "
                              f"infinigen-assets)"))
        except PlaceLibraryError as exc:
            found.append((("environment", "prop_library"), str(exc)))
    skies = env.sky.options() if "outdoor" in env.kind.options() else []
    if "hdri" in skies and env.hdri is None:
        found.append((("environment", "sky"), "sky can be 'hdri' but environment.hdri names no pack"))
    if "hdri" in skies and env.hdri is not None and registry.get("hdri", env.hdri.pack) is not None:
        found += _photograph_problems(config, registry)
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

    return found + motion_problems(config, registry)


def _photograph_problems(config: BatchConfig, registry: AssetRegistry) -> list[tuple[tuple, str]]:
    """An HDRI pack whose photographs are declared wrong, or a weather that can never happen because every scene is
    under a photograph that does not show it."""
    env, pack = config.environment, registry.get("hdri", config.environment.hdri.pack)
    try:
        shows = hdri_photographs(config, registry)
    except ValueError as exc:
        return [(("environment", "hdri", "pack"), f"hdri pack {pack.pack.name!r} in {display_path(pack.manifest)}: "
                                                  f"{exc}")]
    if env.sky.options() != ["hdri"] or env.kind.options() != ["outdoor"] or not shows or None in shows:
        return []
    possible = {w for photo in shows for w in photo.weathers}
    never = [w for w in env.weather.type.options() if w not in possible]
    if never:
        return [(("environment", "weather", "type"), f"weather {never[0]!r} never happens: every scene is under a "
                 f"photograph of hdri pack {pack.pack.name!r}, which shows only {', '.join(sorted(possible))}")]
    return []


def place_problems(config: BatchConfig) -> list[tuple[tuple, str]]:
    """A place library that is missing, holds no room of the selected types, or none a motion fits in."""
    try:
        pool = PlacePool.create(config)
    except PlaceLibraryError as exc:
        return [(("environment", "places", "library"), str(exc))]
    problem = pool.problem(config)
    where = ("environment", "places", "room_types" if config.environment.places.room_types else "library")
    if problem:
        return [(where, problem)]
    sp = config.splits
    needed = 1 + (sp.val > 0) + (sp.test > 0)
    if sp.enabled and "background" in sp.hold_out and config.environment.kind.options() == ["room"] and \
            len(pool.rooms) < needed:
        return [(where, f"splits: holding out backgrounds in rooms needs at least {needed} places (one per split); "
                        f"{config.environment.places.library!r} has {len(pool.rooms)} that fit")]
    return []


def split_problems(config: BatchConfig, pools: list) -> list[tuple[tuple, str]]:
    """Splits over motion files: each class needs recordings in every split, and a scene's actors one split."""
    sp = config.splits
    files = [pool for pool in pools if not pool.library.builtin and pool.units]
    if "motions_by" in sp.model_fields_set and not files:
        return [(("splits", "motions_by"), "motions_by only applies to motion libraries of files (imported or "
                                           "declared); the library here is procedural")]
    if not sp.enabled or not files:
        return []
    found = []
    for pool in files:
        try:
            recording_splits(pool, config)
        except ValueError as exc:
            found.append((("splits", "motions_by"), str(exc)))
    several = max(config.actors.count.options()) > 1 and config.actors.motion_sharing != "same"
    if several and config.motion.selection.policy == "explicit":
        found.append((("actors", "motion_sharing"), "with splits, a second actor's named clip may be a recording "
                      "of another split than the scene's; set motion_sharing: same"))
    return found


def motion_problems(config: BatchConfig, registry: AssetRegistry) -> list[tuple[tuple, str]]:
    """Libraries, classes and clips the motion section names but nobody provides, and libraries that
    would contribute nothing."""
    motion = config.motion
    names = motion.library.options()
    found = [(("motion", "library"), registry.missing_message("motion_library", n))
             for n in names if registry.get("motion_library", n) is None]
    if found:
        return found
    libraries = open_libraries(names, registry)
    known = {c for lib in libraries.values() for c in lib.classes()}
    sel = motion.selection
    where = " or ".join(repr(n) for n in names)

    def check(name: str, loc: tuple) -> None:
        if name not in known:
            hint = difflib.get_close_matches(name, sorted(known), n=1)
            found.append((loc, f"unknown class {name!r} in motion library {where}"
                               + (f" (did you mean {hint[0]!r}?)" if hint else "")))

    if sel.classes != "all":
        for i, name in enumerate(sel.classes):
            check(name, ("motion", "selection", "classes", i))
    for name in sel.quotas or {}:
        check(name, ("motion", "selection", "quotas", name))
    lib = libraries[names[0]]
    if sel.policy == "explicit":
        for i, clip in enumerate(sel.clips or []):
            if lib.builtin:
                check(clip, ("motion", "selection", "clips", i))
            elif lib.clip_class(clip) is None:
                found.append((("motion", "selection", "clips", i), f"no clip {clip!r} in motion library {lib.name!r}"))
    if found:
        return found
    length, stride = window_length_and_stride(config)
    w = motion.window
    moving = f"that passes quality and moves at >= {w.min_energy} m/s (window.length_s {length:g}, stride_s {stride:g})"
    drawable: set[str] = set()
    for name, library in libraries.items():
        pool = library_pool(library, config, length, stride)
        drawable |= {u if isinstance(u, str) else u.label for u in pool.units}
        if not pool.units:
            found.append((("motion", "library"), f"motion library {name!r} has no window of the selected classes "
                          f"{moving}; `synthact motions list --library {name}` shows its windows"))
        elif sel.policy == "explicit" and pool.windows is not None:
            found += [(("motion", "selection", "clips", i), f"clip {clip!r} has no window {moving}")
                      for i, clip in enumerate(sel.clips) if not pool.windows.by_clip.get(clip)]
    found += split_problems(config, [library_pool(lib, config, length, stride) for lib in libraries.values()])
    named = [(("motion", "selection", "classes", i), c) for i, c in enumerate(sel.classes)] \
        if sel.classes != "all" else []
    named += [(("motion", "selection", "quotas", c), c) for c in sel.quotas or {}]
    found += [(loc, f"class {c!r} has no window {moving}") for loc, c in named if c not in drawable]
    if not any(lib.imported for lib in libraries.values()):
        found += [(("motion", "window", field), f"window.{field} only applies to imported motion libraries, and "
                   f"library is only {where}") for field in ("length_s", "stride_s") if field in w.model_fields_set]
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
