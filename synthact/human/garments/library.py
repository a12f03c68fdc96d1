"""The built-in garment and hair assets: listing, loading, fitting to posed anny bodies, and hiding skin.

Files (written by `convert.py`, shipped as package data in `data/`, with ATTRIBUTION.md and LICENSE.txt):
`index.json` lists every asset (kind, name, file, sha256, counts, tags, z_depth, source, material hints)
and the 18 MakeHuman skin materials (`skins`). Each asset is one `.npz` on anny's 13,718-vertex topology:
  faces (F, 3), uv_table (U, 2) and uv_index (F, 3): the mesh and its per-corner UVs;
  point, blend (A,), refs, weights, offsets (A, 3): the anchors (binding.Binding) placing its V vertices;
  hidden_vertices: the anny vertices of its .mhclo delete_verts; covered_vertices: the anny vertices it
  covered on the converter's sample bodies (coverage.py).
"""
from __future__ import annotations

import functools
import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .binding import Binding, fit_binding, vertex_parts

DATA_DIR = Path(__file__).parent / "data"
KINDS = ("outfit", "shoes", "hat", "hair", "eyebrows", "eyelashes")
# Kinds whose covered skin is left out too (MakeHuman's delete_verts leave e.g. the upper arms under short
# sleeves); the skin under hair, hats, eyebrows and eyelashes stays (hair cards have gaps).
HIDING_KINDS = ("outfit", "shoes")
FORMAT = 1
# (name, dtype kind, ndim) of each array in an asset file; shapes are checked against each other on load.
ARRAYS = {"faces": ("iu", 2), "uv_table": ("f", 2), "uv_index": ("iu", 2), "point": ("iu", 1), "blend": ("f", 1),
          "refs": ("iu", 2), "weights": ("f", 2), "offsets": ("f", 2), "hidden_vertices": ("iu", 1),
          "covered_vertices": ("iu", 1)}


class GarmentAssetError(Exception):
    """A garment asset file is missing or corrupt; `path` names the file (a scene's `missing_asset`)."""

    def __init__(self, path: Path | str, reason: str):
        self.path, self.reason = Path(path), reason
        super().__init__(f"{path}: {reason}")


@dataclass(frozen=True)
class GarmentAsset:
    kind: str
    name: str
    faces: np.ndarray  # (F, 3) int32 triangles over the asset's vertices
    uv: np.ndarray  # (F, 3, 2) float32 per face corner
    binding: Binding  # how each vertex rides on the body (anchors on anny's vertices)
    hidden_vertices: np.ndarray  # (H,) int32 anny vertices to leave out under it (MakeHuman's delete_verts)
    covered_vertices: np.ndarray  # (C,) int32 anny vertices under it on sample bodies (for hair: the scalp)
    material: dict = field(default_factory=dict)  # hints for procedural shading (see convert.material_hints)
    body_vertex_count: int = 13718

    @property
    def vertex_count(self) -> int:
        return self.binding.count

    def fit(self, body_vertices: np.ndarray) -> np.ndarray:
        """This asset on posed bodies: (T, 13718, 3) world vertices -> (T, V, 3) float32; (13718, 3) -> (V, 3)."""
        return fit(self, body_vertices)

    def part_labels(self, body_part_labels: np.ndarray) -> np.ndarray:
        """Each vertex's body part (index into bodies.PART_NAMES): that of its strongest reference vertex."""
        return vertex_parts(self.binding, body_part_labels)


def fit(asset: GarmentAsset, body_vertices: np.ndarray) -> np.ndarray:
    """`asset` fitted to a body's per-frame vertices (T, 13718, 3) -> (T, V, 3), or one frame (13718, 3) -> (V, 3)."""
    body = np.asarray(body_vertices)
    if body.ndim not in (2, 3) or body.shape[-2:] != (asset.body_vertex_count, 3):
        raise ValueError(f"{asset.kind}/{asset.name} fits anny bodies with {asset.body_vertex_count} vertices, "
                         f"got vertices of shape {body.shape}")
    return fit_binding(asset.binding, body)


def hidden_faces(assets, body_faces: np.ndarray) -> np.ndarray:
    """(F,) bool: body faces to leave out under an actor's assets so skin never pokes through.

    A face goes if any corner is in an asset's hidden_vertices (as MakeHuman does), or if all its corners
    are covered by outfits and shoes (faces half under a garment's edge stay, leaving no gap).
    """
    body_faces = np.asarray(body_faces)
    n = int(body_faces.max()) + 1
    deleted, covered = np.zeros(n, bool), np.zeros(n, bool)
    for asset in assets:
        deleted[asset.hidden_vertices] = True
        if asset.kind in HIDING_KINDS:
            covered[asset.covered_vertices] = True
    return deleted[body_faces].any(axis=1) | covered[body_faces].all(axis=1)


@dataclass(frozen=True)
class AssetEntry:
    kind: str
    name: str
    file: str  # relative to the library's folder
    sha256: str
    material: dict
    info: dict  # counts, tags, z_depth, source files


class GarmentLibrary:
    """Assets by kind and name (sorted, stable), read from a folder holding index.json."""

    def __init__(self, root: Path | str = DATA_DIR):
        self.root = Path(root)
        index_path = self.root / "index.json"
        index = _read_index(index_path)
        self.index = index
        self.body = index.get("body", {})
        self.skins: list[dict] = index.get("skins", [])
        self._entries: dict[tuple[str, str], AssetEntry] = {}
        for item in index.get("assets", []):
            try:
                entry = AssetEntry(item["kind"], item["name"], item["file"], item["sha256"], item.get("material", {}),
                                   {k: v for k, v in item.items() if k not in ("kind", "name", "file", "sha256",
                                                                                 "material")})
            except (KeyError, TypeError) as e:
                raise GarmentAssetError(index_path, f"asset entry {item!r} lacks {e}") from None
            self._entries[(entry.kind, entry.name)] = entry

    @classmethod
    def builtin(cls) -> GarmentLibrary:
        return _builtin()

    def kinds(self) -> list[str]:
        return [k for k in KINDS if any(kind == k for kind, _ in self._entries)]

    def names(self, kind: str) -> list[str]:
        if kind not in KINDS:
            raise KeyError(f"unknown garment kind {kind!r} (known: {', '.join(KINDS)})")
        return sorted(name for k, name in self._entries if k == kind)

    def entry(self, kind: str, name: str) -> AssetEntry:
        if (kind, name) not in self._entries:
            raise KeyError(f"no {kind} named {name!r} (known: {', '.join(self.names(kind))})")
        return self._entries[(kind, name)]

    def load(self, kind: str, name: str) -> GarmentAsset:
        """The asset, checked against its recorded checksum; GarmentAssetError names a missing or corrupt file."""
        entry = self.entry(kind, name)
        return _load_asset(self.root / entry.file, entry, self.body.get("vertices", 13718))


def _read_index(path: Path) -> dict:
    try:
        index = json.loads(path.read_text())
    except FileNotFoundError:
        raise GarmentAssetError(path, "missing (run `python -m synthact.human.garments.convert`)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise GarmentAssetError(path, f"unreadable index: {e}") from None
    if not isinstance(index, dict) or index.get("format") != FORMAT:
        raise GarmentAssetError(path, f"not a garment index of format {FORMAT}")
    return index


@functools.cache
def _builtin() -> GarmentLibrary:
    return GarmentLibrary(DATA_DIR)


def _load_asset(path: Path, entry: AssetEntry, body_vertex_count: int) -> GarmentAsset:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise GarmentAssetError(path, f"missing file of {entry.kind} {entry.name!r}") from None
    except OSError as e:
        raise GarmentAssetError(path, f"unreadable: {e}") from None
    if hashlib.sha256(raw).hexdigest() != entry.sha256:
        raise GarmentAssetError(path, "corrupt: checksum differs from index.json")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in ARRAYS}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as e:
        raise GarmentAssetError(path, f"corrupt: {e}") from None
    problem = _check_arrays(arrays, int(entry.info.get("vertices", -1)), body_vertex_count)
    if problem:
        raise GarmentAssetError(path, f"corrupt: {problem}")
    binding = Binding(arrays["point"].astype(np.int32), arrays["blend"].astype(np.float32),
                      arrays["refs"].astype(np.int32), arrays["weights"].astype(np.float32),
                      arrays["offsets"].astype(np.float32), int(entry.info.get("vertices", -1)))
    uv = arrays["uv_table"].astype(np.float32)[arrays["uv_index"].astype(np.int64)]
    return GarmentAsset(entry.kind, entry.name, arrays["faces"].astype(np.int32), uv, binding,
                        arrays["hidden_vertices"].astype(np.int32), arrays["covered_vertices"].astype(np.int32),
                        entry.material, body_vertex_count)


def _check_arrays(arrays: dict[str, np.ndarray], vertex_count: int, body_vertex_count: int) -> str | None:
    for key, (kinds, ndim) in ARRAYS.items():
        a = arrays[key]
        if a.dtype.kind not in kinds or a.ndim != ndim:
            return f"{key} has dtype {a.dtype} and {a.ndim} dimensions"
    anchors = len(arrays["point"])
    shapes_agree = (arrays["faces"].shape[1] == 3 and arrays["uv_index"].shape == arrays["faces"].shape
                    and arrays["refs"].shape == arrays["weights"].shape == arrays["offsets"].shape == (anchors, 3)
                    and arrays["blend"].shape == (anchors,) and arrays["uv_table"].shape[1] == 2)
    if not shapes_agree:
        return "array shapes disagree"
    point = arrays["point"].astype(np.int64)
    step = np.diff(point)
    if anchors == 0 or point[0] != 0 or point[-1] != vertex_count - 1 or (step < 0).any() or (step > 1).any():
        return f"anchors do not cover the {vertex_count} vertices in order"
    if not (_within(arrays["faces"], vertex_count) and _within(arrays["uv_index"], len(arrays["uv_table"]))
            and all(_within(arrays[k], body_vertex_count)
                    for k in ("refs", "hidden_vertices", "covered_vertices"))):
        return "an index is out of range"
    if not all(np.isfinite(arrays[k]).all() for k in ("blend", "weights", "offsets", "uv_table")):
        return "non-finite values"
    return None


def _within(index: np.ndarray, n: int) -> bool:
    return index.size == 0 or (int(index.min()) >= 0 and int(index.max()) < n)
