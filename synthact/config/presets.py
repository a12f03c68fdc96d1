"""The configs that ship in the package: batch presets (synthact/presets/scenes/NAME.yaml) and training presets
(synthact/presets/train/NAME.yaml). A command that takes a config file takes a preset's name too, so that an
installed wheel works from any folder: `synthact render smoke`."""
from __future__ import annotations

from pathlib import Path

PRESETS_DIR = Path(__file__).resolve().parents[1] / "presets"
KINDS = {"scenes": "batch", "train": "training"}


def preset_names(kind: str = "scenes") -> list[str]:
    return sorted(p.stem for p in (PRESETS_DIR / kind).glob("*.yaml"))


def config_path(given: str | Path, kind: str = "scenes") -> Path:
    """`given` when it names a file (or anything that exists); else the preset of that name (with or without
    .yaml, without a folder); else `given` unchanged, for the reader to report as not found."""
    path = Path(given)
    if path.exists() or path.parent != Path("."):
        return path
    preset = PRESETS_DIR / kind / f"{path.name.removesuffix('.yaml')}.yaml"
    return preset if preset.is_file() else path


def not_found_hint(kind: str = "scenes") -> str:
    return f"a path, or a {KINDS[kind]} preset: {', '.join(preset_names(kind))}"
