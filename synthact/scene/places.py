"""Rooms for the sampler: which places a config may use, and where in a place the actors stand.

The sampler puts the stage (the point the actors spread around) on free floor with room for a motion
(`STAGE_CLEARANCE_M` to the nearest furniture or wall) and each actor on free floor near it; the renderer then
fits each actor's actual root path into the free floor (render/places.py), starting from that spot. Actors whose
action sits (`MotionLibrary.seating`) get the place's seats of their height, and the stage is the free floor in
front of the first; a sitter that no seat fits, and every sitter outdoors, gets a seat the renderer builds.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from synthact.config import BatchConfig
from synthact.config.distributions import DECIMALS
from synthact.rng import Stream
from synthact.spec import PlaceSpec, SeatSpec
from synthact.world.places import FloorGrid, PlaceLibrary, PlaceRecord, open_place_library

STAGE_CLEARANCE_M = 0.6  # free floor around the stage centre: room for most motions' reach and a step or two
ACTOR_CLEARANCE_M = 0.35  # free floor around each actor's spot
NEAR_M = 2.0  # an object this close to the stage names the place in the clip text ("beside a table")
_FURNITURE = ("table", "chair", "sofa", "bed", "cabinet", "shelf", "plant", "lamp", "appliance")  # named first
_OPENINGS = ("window", "door")
_ATTEMPTS = 32
SEAT_MATCH_M = 0.06  # a recorded sit takes a seat this close to the height it was recorded on (reference body)
BUILT_SEAT_M = (0.4, 0.5)  # the height of a seat built for a procedural sit
BENCH_HIGHEST_M = 0.55  # a built seat higher than this is a stool


@dataclass(frozen=True)
class RoomChoice:
    place: PlaceRecord
    grid: FloorGrid
    stages: np.ndarray  # (N, 2) world xy of cells with STAGE_CLEARANCE_M of free floor around them
    clearance: np.ndarray  # the grid's clearance in metres


@dataclass(frozen=True)
class PlacePool:
    library: PlaceLibrary
    rooms: tuple[RoomChoice, ...]  # places of the selected room types with room for a stage, by place id

    @classmethod
    def create(cls, config: BatchConfig) -> "PlacePool | None":
        ref = config.environment.places
        if ref is None:
            return None
        library = open_place_library(ref.library)
        rooms = []
        for place in sorted(library.places, key=lambda p: p.place_id):
            if ref.room_types is not None and place.room_type not in ref.room_types:
                continue
            grid = library.floor(place)
            clearance = grid.clearance_m()
            rows, cols = np.nonzero(clearance >= STAGE_CLEARANCE_M)
            if len(rows):
                rooms.append(RoomChoice(place, grid, grid.centre_of(rows, cols), clearance))
        return cls(library, tuple(rooms))

    def problem(self, config: BatchConfig) -> str | None:
        """Why this pool cannot give a room scene, or None."""
        ref = config.environment.places
        if self.rooms:
            return None
        kinds = f" of room types {', '.join(ref.room_types)}" if ref.room_types else ""
        return (f"place library {ref.library!r} has no place{kinds} with {STAGE_CLEARANCE_M} m of free floor "
                f"around any spot ({len(self.library.places)} places in it): no motion fits")

    def sample(self, s: Stream, seats: list[float | None] = ()) -> PlaceSpec:
        """A place with a seat for each of these heights (None: any) when the pool has one, else any (what is near
        the actors is filled in once they stand somewhere: `near`)."""
        rooms = [r for r in self.rooms if None not in _matched(r.place.seats, seats)] or self.rooms
        room = rooms[s.below("place", len(rooms))]
        return PlaceSpec(self.library.name, room.place.place_id, room.place.room_type, "")

    def room(self, place_id: str) -> RoomChoice:
        return next(r for r in self.rooms if r.place.place_id == place_id)


def stage_in(s: Stream, room: RoomChoice, seat: SeatSpec | None = None) -> tuple[float, float]:
    """The stage centre: a spot with STAGE_CLEARANCE_M of free floor around it (the one nearest the point a metre
    in front of the seat, when an actor sits)."""
    if seat is None:
        stage = room.stages[s.below("stage", len(room.stages))]
    else:
        a = math.radians(seat.facing_deg)
        front = np.array([seat.position_xy[0] + math.sin(a), seat.position_xy[1] - math.cos(a)])
        stage = room.stages[int(np.argmin(np.linalg.norm(room.stages - front, axis=1)))]
    return round(float(stage[0]), DECIMALS), round(float(stage[1]), DECIMALS)


def seats_in(s: Stream, place: PlaceRecord, heights: list[float | None]) -> list[SeatSpec | None]:
    """A seat of the place for each sitter, of its height (None: any; a procedural sit is made for its seat) or
    None where none is left: the first is random, the others are the nearest to it (sitters sit together)."""
    if not heights or not place.seats:
        return [None] * len(heights)
    fitting = [t for t in place.seats if _fits(t.height_m, heights[0])]
    first = fitting[s.below("seat", len(fitting))] if fitting else place.seats[0]
    by_distance = sorted(place.seats, key=lambda t: (math.dist(t.position_xy, first.position_xy), t.object_name))
    return [None if t is None else SeatSpec(
        t.kind, (round(t.position_xy[0], DECIMALS), round(t.position_xy[1], DECIMALS)), round(t.facing_deg, DECIMALS),
        round(t.height_m, DECIMALS)) for t in _matched(by_distance, heights)]


def _fits(seat_m: float, height_m: float | None) -> bool:
    return height_m is None or abs(seat_m - height_m) <= SEAT_MATCH_M


def _matched(seats: list, heights: list[float | None]) -> list:
    """Seats for the heights in turn, each the first left in `seats` that fits (None where none does)."""
    left, out = list(seats), []
    for height in heights:
        seat = next((t for t in left if _fits(t.height_m, height)), None)
        if seat is not None:
            left.remove(seat)
        out.append(seat)
    return out


def built_seat(s: Stream, xy: tuple[float, float], facing_deg: float, height_m: float | None,
               outdoors: bool) -> SeatSpec:
    """A seat the renderer builds under a sitter at its spot: a bench outdoors (a stool for a high recorded
    sit), a stool in a room; a recorded sit's own height, or one a procedural sit is made for."""
    low, high = BUILT_SEAT_M
    height = height_m if height_m is not None else low + (high - low) * s.uniform01("height")
    kind = "bench" if outdoors and height <= BENCH_HIGHEST_M else "stool"
    return SeatSpec(kind, xy, facing_deg, round(height, DECIMALS), built=True)


def near(place: PlaceRecord, positions: list[tuple[float, float]], besides: tuple[str, ...] = ()) -> str:
    """The semantic class of the object nearest the actors' centre ("" when none is within NEAR_M), other than
    `besides` (what the actors sit on, which the text names already)."""
    xy = np.mean(np.array(positions, np.float64), axis=0)
    for classes in (tuple(c for c in _FURNITURE if c not in besides), _OPENINGS):
        best, name = NEAR_M, ""
        for o in place.objects:
            if o.semantic_class in classes and o.bbox_min[2] - place.floor_z < 1.5:  # not a ceiling light
                lo, hi = np.array(o.bbox_min[:2]), np.array(o.bbox_max[:2])
                d = float(np.linalg.norm(np.maximum(0.0, np.maximum(lo - xy, xy - hi))))
                if d < best:
                    best, name = d, o.semantic_class
        if name:
            return name
    return ""


def positions_in_room(s: Stream, room: RoomChoice, stage_xy: tuple[float, float], count: int, spread_m: float,
                      separation_m: float) -> list[tuple[float, float]]:
    """Actor spots around the stage on free floor (ACTOR_CLEARANCE_M around each), min separation apart when
    possible; the stage itself when nothing else fits."""
    placed: list[tuple[float, float]] = []
    for k in range(count):
        spot = None
        for attempt in range(_ATTEMPTS):
            r = spread_m * math.sqrt(s.uniform01(f"{k}/{attempt}/r"))
            theta = 2.0 * math.pi * s.uniform01(f"{k}/{attempt}/theta")
            xy = np.array([stage_xy[0] + r * math.cos(theta), stage_xy[1] + r * math.sin(theta)])
            if room.grid.lookup(room.clearance, xy, 0.0) < ACTOR_CLEARANCE_M:
                continue
            if all(math.hypot(xy[0] - px, xy[1] - py) >= separation_m for px, py in placed):
                spot = xy
                break
        if spot is None:  # crowded: the free spot of most clearance among a few near the stage
            cells = room.stages[np.argsort(np.linalg.norm(room.stages - np.array(stage_xy), axis=1))[:64]]
            far = [c for c in cells if all(math.hypot(c[0] - px, c[1] - py) >= separation_m for px, py in placed)]
            spot = far[0] if far else np.array(stage_xy)
        placed.append((round(float(spot[0]), DECIMALS), round(float(spot[1]), DECIMALS)))
    return placed
