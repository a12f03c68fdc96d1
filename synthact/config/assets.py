"""Asset packs (body models, motion libraries, backgrounds, HDRIs) from assets_manifests/.

Each manifest is a YAML file with a `kind` and a list of `packs`. Packs are referenced by name
from BatchConfigs; an unknown name is reported with the manifest that should provide it.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .problems import InvalidFile, Problem, problems_from
from .yaml_source import YamlError, load_yaml

IMAGE_SUFFIXES = (".hdr", ".exr", ".png", ".jpg", ".jpeg")  # what a backgrounds or hdri pack's items are

AssetKind = Literal["body_model", "motion_library", "backgrounds", "hdri"]

# The manifest file that conventionally provides each kind of pack.
MANIFEST_FOR_KIND: dict[str, str] = {
    "body_model": "body_models.yaml",
    "motion_library": "motion_libraries.yaml",
    "backgrounds": "backgrounds.yaml",
    "hdri": "hdris.yaml",
}

# the manifests that ship in the package (in a checkout, assets_manifests/ at the top links here); users declare
# their own packs in a copy named by SYNTHACT_ASSETS_DIR or --assets-dir
BUILTIN_ASSETS_DIR = Path(__file__).resolve().parents[1] / "assets_manifests"


def display_path(path: Path) -> str:
    """The path relative to the working directory when it lies below it (shorter messages)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def default_assets_dir() -> Path:
    return Path(os.environ.get("SYNTHACT_ASSETS_DIR", BUILTIN_ASSETS_DIR))


LIBRARY_MANIFEST = "library.json"  # what `synthact motions import-library` writes in <library root>/<name>/


def motion_library_root() -> Path:
    """Where `synthact motions import-library` registers libraries: one folder per library."""
    default = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "synthact" / "motion_libraries"
    return Path(os.environ.get("SYNTHACT_MOTION_LIBRARIES", default))


class AssetPack(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$")
    version: str
    license: str
    source: str
    description: str = ""
    builtin: bool = False  # shipped with a pip dependency or generated in code; no files to fetch
    path: str | None = None  # folder or file; relative to the manifest; $VARS are expanded
    sha256: dict[str, str] = Field(default_factory=dict)  # relative file path -> hex digest
    options: dict[str, Any] = Field(default_factory=dict)  # kind-specific settings


class AssetManifest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: AssetKind
    packs: list[AssetPack] = Field(default_factory=list)


@dataclass(frozen=True)
class ResolvedPack:
    kind: str
    pack: AssetPack
    manifest: Path

    def location(self) -> Path | None:
        if self.pack.path is None:
            return None
        p = Path(os.path.expandvars(os.path.expanduser(self.pack.path)))
        return p if p.is_absolute() else (self.manifest.parent / p).resolve()

    def item_names(self, present: list[str] | None = None) -> list[str]:
        """The pack's images in item order (a scene's item is item_seed mod their count): the names present (in its
        folder; the renderer lists it) that are images and, when options.files lists some, among them. Without
        present: options.files, else the folder's listing."""
        files = self.pack.options.get("files")
        if present is None:
            folder = self.location()
            present = list(files) if files else [p.name for p in folder.iterdir()] if folder and folder.is_dir() else []
        return sorted(n for n in present if Path(n).suffix.lower() in IMAGE_SUFFIXES and (not files or n in files))


class AssetRegistry:
    """All packs declared under one assets_manifests/ directory."""

    def __init__(self, directory: Path, packs: dict[tuple[str, str], ResolvedPack]):
        self.directory = directory
        self._packs = packs

    @classmethod
    def load(cls, directory: str | Path | None = None, library_root: str | Path | None = None) -> "AssetRegistry":
        """The packs declared in directory's manifests, and the motion libraries imported under library_root."""
        directory = Path(directory) if directory is not None else default_assets_dir()
        if not directory.is_dir():
            raise InvalidFile([Problem(str(directory), 1, "", "asset manifest directory not found")])
        packs: dict[tuple[str, str], ResolvedPack] = {}
        problems: list[Problem] = []
        for path in sorted(directory.glob("*.yaml")):
            try:
                doc = load_yaml(path)
                manifest = AssetManifest.model_validate(doc.data)
            except YamlError as exc:
                problems.append(Problem(exc.file, exc.line, "", exc.message))
                continue
            except ValidationError as exc:
                problems.extend(problems_from(exc, doc, AssetManifest))
                continue
            for i, pack in enumerate(manifest.packs):
                key = (manifest.kind, pack.name)
                if key in packs:
                    line, _ = doc.locate(("packs", i, "name"))
                    problems.append(Problem(str(path), line, f"packs[{i}].name",
                                            f"{manifest.kind} pack {pack.name!r} is already declared in "
                                            f"{packs[key].manifest.name}"))
                packs[key] = ResolvedPack(manifest.kind, pack, path)
        root = Path(library_root) if library_root is not None else motion_library_root()
        for path in sorted(root.glob(f"*/{LIBRARY_MANIFEST}")):
            try:
                pack = AssetPack(**json.loads(path.read_text())["pack"], options={"manifest": LIBRARY_MANIFEST})
            except (OSError, ValueError, KeyError, TypeError) as exc:
                problems.append(Problem(str(path), 1, "", f"not a motion library manifest ({exc})"))
                continue
            key = ("motion_library", pack.name)
            if key in packs:
                problems.append(Problem(str(path), 1, "pack.name", f"motion_library pack {pack.name!r} is already "
                                                                    f"declared in {packs[key].manifest}"))
            packs[key] = ResolvedPack("motion_library", pack, path)
        if problems:
            raise InvalidFile(problems)
        return cls(directory, packs)

    def get(self, kind: str, name: str) -> ResolvedPack | None:
        return self._packs.get((kind, name))

    def names(self, kind: str) -> list[str]:
        return sorted(n for k, n in self._packs if k == kind)

    def missing_message(self, kind: str, name: str) -> str:
        manifest = display_path(self.directory / MANIFEST_FOR_KIND[kind])
        known = ", ".join(self.names(kind)) or "none"
        return (f"{kind} pack {name!r} is not declared; add it to {manifest} "
                f"(declared {kind} packs: {known})")
