"""Place libraries: rooms (and other built places) stored with what the sampler and renderer need, and props
(trees, bushes, rocks: single objects that outdoor worlds stand around the actors).

`synthact environments import NAME DIR` (.blend/.glb scenes: a user's own, or Infinigen Indoors rooms) writes
`<environment root>/NAME/library.json` and one folder per place:
`scene.blend` (the place as Blender renders it: modifiers applied, heavy meshes simplified once, so the
same triangles serve the render and the annotations) and `floor.npz` (the floor grid below). Deleting the
folder, or `synthact environments remove NAME`, unregisters it. docs/FORMAT.md section 3b documents it.

The floor grid is a 2.5-D map of the place at `cell_m` spacing: `room` (the cell is inside the room's floor),
`obstacle_top_m` (the highest surface above the floor and below head height over the cell; 0 where the
floor is free). Actors stand where the floor is free with room for their motion; the camera stands where
nothing is in the way and looks over what is lower than its line of sight.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

FORMAT = "synthact-place-library/1"
LIBRARY_FILE = "library.json"
HEAD_HEIGHT_M = 2.0  # what stands lower than this above the floor is in an actor's way
FREE_BELOW_M = 0.05  # a surface lower than this above the floor (a rug, a skirting's foot) is walkable


class PlaceLibraryError(ValueError):
    """A library or place that is missing or unreadable: one line naming the file and what is wrong."""


BUILTIN_ROOT = Path(__file__).parent / "data" / "places"  # libraries shipped with the package (`starter`)


def environment_root() -> Path:
    """Where place libraries are made and found: one folder per library (built-in ones are found after it)."""
    default = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "synthact" / "environments"
    return Path(os.environ.get("SYNTHACT_ENVIRONMENTS", default))


@dataclass
class PlacedObject:
    name: str
    semantic_class: str  # world/semantics.py
    instance_id: int  # 1.. within the place, in the order of `objects`
    bbox_min: list[float]
    bbox_max: list[float]
    triangles: int


@dataclass
class Seat:
    """A surface an actor can sit or lie on: its centre, the way a sitter faces, its height above the floor."""

    object_name: str
    kind: str  # chair | sofa | bed | bench
    position_xy: list[float]
    facing_deg: float  # 0 = facing -Y, counter-clockwise (the actors' convention)
    height_m: float


@dataclass
class LightRecord:
    name: str
    type: str  # POINT | AREA | SPOT | SUN
    position: list[float]
    energy_w: float


@dataclass
class PlaceRecord:
    place_id: str
    room_type: str  # dining_room, bedroom, ... ("room" when unknown)
    scene_file: str  # relative to the library folder
    sha256: str
    bounds_min: list[float]  # the room's box (floor to ceiling)
    bounds_max: list[float]
    floor_z: float
    ceiling_z: float
    free_area_m2: float  # floor with nothing on it
    floor_area_m2: float
    triangles: int  # every static triangle the place renders (and the annotations ray-cast)
    objects: list[PlacedObject]
    seats: list[Seat]
    lights: list[LightRecord]
    generator: dict  # name, version, seed, command (or "import" and the source file)
    license: str
    attribution: str


@dataclass
class PropRecord:
    """One object an outdoor world may stand around the actors: standing on z = 0, centred on x = y = 0."""

    prop_id: str
    semantic_class: str  # tree | bush | rock (world/semantics.py)
    scene_file: str  # relative to the library folder; one object, named prop_id
    height_m: float
    radius_m: float  # of its footprint (the farthest point from the vertical axis, on the floor plane)
    triangles: int
    generator: dict
    license: str
    attribution: str


@dataclass
class PlaceLibrary:
    name: str
    places: list[PlaceRecord]
    failures: dict[str, str] = field(default_factory=dict)  # place id or source -> why it was not made
    props: list[PropRecord] = field(default_factory=list)
    format: str = FORMAT
    folder: Path | None = None  # where it was read from (not written)

    def place(self, place_id: str) -> PlaceRecord:
        for p in self.places:
            if p.place_id == place_id:
                return p
        raise PlaceLibraryError(f"{self.folder}: place library {self.name!r} has no place {place_id!r}")

    def scene_path(self, place: PlaceRecord | PropRecord) -> Path:
        return Path(self.folder) / place.scene_file

    def floor(self, place: PlaceRecord) -> "FloorGrid":
        return _floor(str(Path(self.folder) / place.place_id / "floor.npz"))

    def save(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        body = {k: v for k, v in dataclasses.asdict(self).items() if k != "folder"}
        tmp = folder / (LIBRARY_FILE + ".tmp")
        tmp.write_text(json.dumps(body, indent=1) + "\n")
        os.replace(tmp, folder / LIBRARY_FILE)
        return folder / LIBRARY_FILE


@dataclass(frozen=True)
class FloorGrid:
    origin_xy: tuple[float, float]  # world position of cell (0, 0)'s corner
    cell_m: float
    room: np.ndarray  # (H, W) bool: inside the room's floor
    obstacle_top_m: np.ndarray  # (H, W) float32: height of what stands on the cell (0: free)

    @property
    def free(self) -> np.ndarray:
        return self.room & (self.obstacle_top_m <= 0)

    def cell_of(self, xy: np.ndarray) -> np.ndarray:
        """(…, 2) world xy -> (…, 2) integer (row, col); rows follow y, columns x."""
        xy = np.asarray(xy, np.float64)
        col = np.floor((xy[..., 0] - self.origin_xy[0]) / self.cell_m).astype(np.int64)
        row = np.floor((xy[..., 1] - self.origin_xy[1]) / self.cell_m).astype(np.int64)
        return np.stack([row, col], axis=-1)

    def centre_of(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        return np.stack([self.origin_xy[0] + (np.asarray(cols) + 0.5) * self.cell_m,
                         self.origin_xy[1] + (np.asarray(rows) + 0.5) * self.cell_m], axis=-1)

    def lookup(self, grid: np.ndarray, xy: np.ndarray, outside) -> np.ndarray:
        rc = self.cell_of(xy)
        h, w = grid.shape
        inside = (rc[..., 0] >= 0) & (rc[..., 0] < h) & (rc[..., 1] >= 0) & (rc[..., 1] < w)
        out = np.full(rc.shape[:-1], outside, dtype=grid.dtype)
        out[inside] = grid[rc[inside][:, 0], rc[inside][:, 1]]
        return out

    def clearance_m(self) -> np.ndarray:
        """Distance from each cell to the nearest cell that is not free floor (0 on those)."""
        return _clearance(self)

    def save(self, path: Path) -> None:
        np.savez_compressed(path, origin_xy=np.array(self.origin_xy), cell_m=np.array(self.cell_m),
                            room=self.room, obstacle_top_m=self.obstacle_top_m.astype(np.float32))


def _clearance(grid: FloorGrid) -> np.ndarray:
    from scipy.ndimage import distance_transform_edt
    return distance_transform_edt(np.pad(grid.free, 1)).astype(np.float32)[1:-1, 1:-1] * grid.cell_m


@functools.lru_cache(maxsize=64)
def _floor(path: str) -> FloorGrid:
    try:
        with np.load(path) as z:
            return FloorGrid(tuple(float(v) for v in z["origin_xy"]), float(z["cell_m"]), z["room"].astype(bool),
                             z["obstacle_top_m"].astype(np.float32))
    except (OSError, KeyError, ValueError) as exc:
        raise PlaceLibraryError(f"{path}: not a floor grid ({exc})") from exc


def _record(cls, data: dict):
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


@functools.lru_cache(maxsize=32)
def _read(path: str, mtime_ns: int) -> PlaceLibrary:
    try:
        data = json.loads(Path(path).read_text())
        if data.get("format") != FORMAT:
            raise ValueError(f"format is {data.get('format')!r}, expected {FORMAT!r}")
        places = []
        for p in data["places"]:
            p = dict(p)
            p["objects"] = [_record(PlacedObject, o) for o in p["objects"]]
            p["seats"] = [_record(Seat, s) for s in p["seats"]]
            p["lights"] = [_record(LightRecord, x) for x in p["lights"]]
            places.append(_record(PlaceRecord, p))
        props = [_record(PropRecord, p) for p in data.get("props", [])]
        return PlaceLibrary(data["name"], places, dict(data.get("failures", {})), props, folder=Path(path).parent)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PlaceLibraryError(f"{path}: not a place library ({exc})") from exc


def open_place_library(name: str, root: Path | None = None) -> PlaceLibrary:
    """A library from root (default: the environment root, then the built-in libraries)."""
    roots = [Path(root)] if root is not None else [environment_root(), BUILTIN_ROOT]
    for base in roots:
        path = base / name / LIBRARY_FILE
        try:
            mtime = path.stat().st_mtime_ns
        except OSError:
            continue
        return _read(str(path), mtime)
    raise PlaceLibraryError(f"{roots[0] / name / LIBRARY_FILE}: no place library {name!r} (make one with `synthact "
                            f"environments import {name} DIR` or `synthact environments build {name}`)")


def is_builtin(library: PlaceLibrary) -> bool:
    return library.folder is not None and Path(library.folder).parent.resolve() == BUILTIN_ROOT.resolve()


def list_place_libraries(root: Path | None = None) -> list[str]:
    roots = [Path(root)] if root is not None else [environment_root(), BUILTIN_ROOT]
    return sorted({p.parent.name for base in roots for p in base.glob(f"*/{LIBRARY_FILE}")})
