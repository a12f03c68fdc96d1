"""The deterministic scene sampler: SceneSpec i is a pure function of (config, seed, i).

Every factor is drawn from a keyed stream (see rng.py): the scene's appearance and camera are
keyed by the scene index, the motion by the motion group (index // renders_per_motion), so the
renders of one motion share it exactly while everything else varies.
"""
from __future__ import annotations

import functools
import math
import re
import threading
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import cached_property

from synthact.config import AssetRegistry, BatchConfig
from synthact.config.batch import GarmentConfig
from synthact.config.distributions import DECIMALS, weighted_index
from synthact.human.garments import GarmentLibrary
from synthact.human.motions.library import MotionLibrary, open_libraries
from synthact.human.motions.taxonomy import mirror_name
from synthact.human.motions.vocabulary import UNLABELLED
from synthact.human.motions.windows import Window, WindowTable
from synthact.rng import Stream
from synthact.spec import (
    SPEC_VERSION,
    ActorSpec,
    BodyShapeSpec,
    CameraMotionSpec,
    CameraSpec,
    ClothingSpec,
    EnvironmentSpec,
    GarmentSpec,
    MotionSpec,
    PackItemSpec,
    RenderSpec,
    SceneSpec,
    SeatSpec,
    identify,
    spec_to_dict,
    stable_hash,
)
from synthact.world.grounds import GROUNDS
from synthact.world.skies import Photograph, photographs
from synthact.world.weather import registry as weather_registry

from . import splits
from .places import PlacePool, built_seat, near, positions_in_room, seats_in, stage_in
from .text import clip_text

_PLACEMENT_ATTEMPTS = 32


@dataclass(frozen=True)
class HeldOut:
    """Which split each bucket of a held-out factor belongs to (see splits.py)."""

    body: dict | None
    ground: dict | None
    camera: dict | None
    camera_edges: tuple | None  # tercile edges of (distance, height)


@dataclass(frozen=True)
class LibraryPool:
    """What one library contributes: the units a selection policy goes through, in a fixed order."""

    library: MotionLibrary
    units: tuple  # labels, or (imported library, class_granularity motion) windows
    windows: WindowTable | None  # an imported library's windows that may be sampled
    recordings: dict[str, str] | None = None  # splits on, a library of files: clip id -> the split of its recording

    def choices(self, unit: str, clip_id: str | None) -> list:
        """What a motion of this unit (a label, or a named clip) is drawn from: windows, or clip ids."""
        if self.windows is not None:
            return self.windows.by_clip[clip_id] if clip_id else self.windows.by_label[unit]
        return [clip_id] if clip_id else self.library.classes()[unit]

    def clips_by_label(self) -> dict[str, list[str]]:
        """The clips each drawable label's motions can come from (what splits deal)."""
        labels = {u.label if isinstance(u, Window) else u for u in self.units}
        if self.windows is not None:
            return {label: sorted({w.clip_id for w in self.windows.by_label[label]}) for label in labels}
        return {label: list(self.library.classes()[label]) for label in labels}


def recording_splits(pool: LibraryPool, cfg: BatchConfig) -> dict[str, str] | None:
    """Imported (or hand-declared) motion files with splits on: each clip's split, by subject or by trial."""
    sp = cfg.splits
    if not sp.enabled or pool.library.builtin:
        return None
    return splits.deal_recordings(pool.library.name, pool.clips_by_label(), sp.motions_by, sp.val, sp.test,
                                  cfg.batch.seed)


@dataclass(frozen=True)
class SceneSampler:
    config: BatchConfig
    pools: dict[str, LibraryPool]
    schedule: tuple[str, ...]  # the libraries of consecutive motions, repeating (interleaved by weight)
    held_out: HeldOut | None = None
    places: PlacePool | None = None  # the rooms 'room' scenes are set in
    photographs: tuple[Photograph | None, ...] = ()  # what each item of the HDRI pack shows (None: not declared)

    @classmethod
    def create(cls, config: BatchConfig, registry: AssetRegistry) -> "SceneSampler":
        m = config.motion
        names = m.library.options()
        libraries = open_libraries(names, registry)
        missing = [n for n in names if n not in libraries]
        if missing:
            raise ValueError(registry.missing_message("motion_library", missing[0]))
        length, stride = window_length_and_stride(config)
        pools = {name: library_pool(lib, config, length, stride) for name, lib in libraries.items()}
        empty = [name for name, pool in pools.items() if not pool.units]
        if empty:  # load_batch_config reports this with the config's line
            raise ValueError(f"motion library {empty[0]!r} has no window of the selected classes to sample")
        pools = {name: replace(pool, recordings=recording_splits(pool, config)) for name, pool in pools.items()}
        schedule = interleaved(names, getattr(m.library, "weights", None))
        places = PlacePool.create(config) if "room" in config.environment.kind.options() else None
        if places is not None and places.problem(config):  # load_batch_config reports this with the config's line
            raise ValueError(places.problem(config))
        held = _held_out(config, places) if config.splits.enabled else None
        return cls(config, pools, schedule, held, places, hdri_photographs(config, registry))

    @cached_property
    def _schedule_counts(self) -> tuple[dict[str, int], tuple[int, ...]]:
        """(uses of each library per period, for each place in the period: earlier uses of its library)."""
        totals: dict[str, int] = {}
        before = []
        for name in self.schedule:
            before.append(totals.get(name, 0))
            totals[name] = totals.get(name, 0) + 1
        return totals, tuple(before)

    def _library_at(self, position: int) -> tuple[str, int]:
        """The library of the motion at position, and how many earlier positions drew from it."""
        totals, before = self._schedule_counts
        period = len(self.schedule)
        name = self.schedule[position % period]
        return name, (position // period) * totals[name] + before[position % period]

    @cached_property
    def _quota_sequence(self) -> tuple[str, ...]:
        """Classes repeated by quota and interleaved, so any prefix is close to proportional."""
        quotas = self.config.motion.selection.quotas or {}
        slots = [((j + 0.5) / n, name) for name, n in sorted(quotas.items()) for j in range(n)]
        return tuple(name for _, name in sorted(slots))

    def sample(self, index: int) -> SceneSpec:
        return self.sample_with_json(index)[0]

    def sample_json(self, index: int) -> str:
        """The spec as one canonical JSON line (what `synthact sample` prints)."""
        return self.sample_with_json(index)[1]

    def sample_with_json(self, index: int) -> tuple[SceneSpec, str]:
        if index < 0:
            raise ValueError(f"scene index must be >= 0, got {index}")
        cfg = self.config
        scene = Stream(cfg.batch.seed, f"scene/{index}")
        group = index // cfg.motion.renders_per_motion
        split = self._split(group)
        held = self.held_out
        count = cfg.actors.count.sample(scene, "actors/count")
        shared = cfg.actors.motion_sharing == "same"
        motions = [self._motion(group, 0 if shared else k, split) for k in range(count)]
        seating = [self.pools[m.library].library.seating(m) for m in motions]
        sitting = [k for k, st in enumerate(seating) if st.seated]
        heights = [seating[k].height_m for k in sitting]
        environment = _held_environment(scene.child("environment"), cfg, held, split, self.places, heights)
        photo = self.photographs[environment.hdri.item_seed % len(self.photographs)] \
            if environment.hdri is not None and self.photographs else None
        if photo is not None and environment.weather not in photo.weathers:
            environment = replace(environment, weather=_weather_in(scene.child("environment"), cfg, photo))
        seats: dict[int, SeatSpec] = {}
        if environment.place is not None:
            room = self.places.room(environment.place.place_id)
            offered = seats_in(scene.child("seats"), room.place, heights)
            seats = {k: seat for k, seat in zip(sitting, offered) if seat is not None}
        positions = self._positions(scene.child("placement"), environment, count, seats)
        facings = [cfg.actors.placement.facing_deg.sample(scene, f"actor{k}/facing") for k in range(count)]
        for k in sitting:  # no seat of the place fits (or outdoors): the renderer builds one where the actor is
            if k not in seats:
                seats[k] = built_seat(scene.child(f"actor{k}/seat"), positions[k], facings[k], seating[k].height_m,
                                      environment.place is None)
        if environment.place is not None:
            besides = tuple(seat.kind for seat in seats.values()) if len(seats) == count else ()
            environment = replace(environment, place=replace(environment.place,
                                                             near=near(room.place, positions, besides)))
        shapes = [_held_shape(scene.child(f"actor{k}/shape"), cfg, held, split) for k in range(count)]
        actors = tuple(
            ActorSpec(
                actor_index=k,
                body_model=cfg.actors.body_model.sample(scene, f"actor{k}/body_model"),
                shape=shapes[k],
                skin_tone_monk=cfg.actors.skin_tone_monk.sample(scene, f"actor{k}/skin_tone"),
                skin_roughness=cfg.actors.skin_roughness.sample(scene, f"actor{k}/skin_roughness"),
                skin_subsurface=cfg.actors.skin_subsurface.sample(scene, f"actor{k}/skin_subsurface"),
                clothing=_clothing(scene.child(f"actor{k}/clothing"), cfg, shapes[k]),
                position_xy=positions[k],
                facing_deg=seats[k].facing_deg if k in seats else facings[k],
                motion=motions[k],
                seat=seats.get(k),
            )
            for k in range(count)
        )
        body = dict(
            spec_version=SPEC_VERSION,
            batch=cfg.batch.name,
            seed=cfg.batch.seed,
            index=index,
            motion_group=group,
            split=split,
            camera=_held_camera(scene.child("camera"), cfg, held, split),
            environment=environment,
            actors=actors,
            render=_render(cfg, scene.child("render")),
        )
        body["text"] = clip_text(actors, body["camera"], body["environment"], photo)
        scene_id, line = identify(spec_to_dict(body))
        return SceneSpec(scene_id=scene_id, **body), line

    def _positions(self, s: Stream, environment: EnvironmentSpec, count: int,
                   seats: dict[int, SeatSpec]) -> list[tuple[float, float]]:
        """Where each actor stands (a sitting actor: its seat; the others around the stage in front of it)."""
        if environment.place is None:
            return _place_actors(s, self.config, count)
        placement = self.config.actors.placement
        room = self.places.room(environment.place.place_id)
        stage = stage_in(s, room, seats[min(seats)] if seats else None)
        standing = positions_in_room(s, room, stage, count - len(seats), placement.spread_m.sample(s, "spread"),
                                     placement.min_separation_m)
        return [seats[k].position_xy if k in seats else standing.pop(0) for k in range(count)]

    def iter_specs(self, start: int, count: int) -> Iterator[SceneSpec]:
        for index in range(start, start + count):
            yield self.sample(index)

    def iter_json(self, start: int, count: int) -> Iterator[str]:
        for index in range(start, start + count):
            yield self.sample_json(index)

    def _split(self, group: int) -> str:
        """A motion group's split: its first motion's recording's where that is a file of an imported library
        (so no trial or subject crosses splits), else drawn per group."""
        sp = self.config.splits
        if not sp.enabled:
            return "train"
        name, _ = self._library_at(group)
        pool = self.pools[name]
        if pool.recordings is None:
            return splits.split_of_group(self.config.batch.seed, group, sp.val, sp.test)
        _, clip_id, _ = self._first_choice(group)
        return pool.recordings[clip_id]

    def _first_choice(self, group: int) -> tuple[str, str | None, Window | None]:
        """(label, clip id, window) of a group's first motion."""
        s = Stream(self.config.batch.seed, f"motion/{group}/0")
        name, earlier = self._library_at(group)
        return self._choose(self.pools[name], s, group, earlier, s.bits64("instance") >> 1, group=group)

    def _motion(self, group: int, slot: int, split: str = "train") -> MotionSpec:
        cfg = self.config.motion
        s = Stream(self.config.batch.seed, f"motion/{group}/{slot}")
        position = group + slot  # extra actors of one scene shift along the class order
        name, earlier = self._library_at(position)
        pool = self.pools[name]
        lib = pool.library
        instance = s.bits64("instance") >> 1
        if slot == 0:
            label, clip_id, window = self._first_choice(group)
        else:
            label, clip_id, window = self._choose(pool, s, position, earlier, instance, split=split)
        mirrored = s.uniform01("mirror") < cfg.mirror_probability
        seen = mirror_name(label) if mirrored else label
        if cfg.class_granularity == "label":
            class_name = seen
        else:  # the motion's own id: its window, its procedural instance, or its clip
            own = window.window_id if window else f"{label}:{instance}" if lib.builtin else clip_id
            class_name = own + ("#mirror" if mirrored else "")
        description = lib.description(clip_id, label)
        fields = dict(
            library=name,
            class_name=class_name,
            label=seen,
            source_class_name=label,
            description=mirrored_words(description) if mirrored else description,
            clip_id=clip_id,
            instance_seed=instance,
            window_start_s=window.start_s if window else None,
            window_length_s=window.length_s if window else None,
            min_energy=cfg.window.min_energy,
            start_fraction=cfg.window.start_fraction.sample(s, "window/start"),
            speed=cfg.speed.sample(s, "speed"),
            mirrored=mirrored,
        )
        return MotionSpec(motion_key=stable_hash(fields), **fields)

    def _unit(self, pool: LibraryPool, s: Stream, position: int, earlier: int) -> tuple:
        """What the selection policy picks for a motion: (a label or a window, the clip it names or None)."""
        sel, lib = self.config.motion.selection, pool.library
        if sel.policy == "explicit":
            clip_id = sel.clips[position % len(sel.clips)]
            return (clip_id if lib.builtin else lib.clip_class(clip_id)), clip_id
        if sel.policy == "quotas":
            return self._quota_sequence[position % len(self._quota_sequence)], None
        if sel.policy == "balanced":
            return pool.units[earlier % len(pool.units)], None
        return pool.units[s.below("class", len(pool.units))], None

    def _choose(self, pool: LibraryPool, s: Stream, position: int, earlier: int, instance: int,
                group: int | None = None, split: str | None = None) -> tuple[str, str | None, Window | None]:
        """(label, clip id, window) of a motion: the policy picks a label (or clip, or window); an imported
        library's label then gets one of its windows, a hand-declared class one of its clips.

        A group's first motion (`group` given) takes its label's windows (or clips) without replacement: the
        n-th motion of a label in the batch takes the n-th of a keyed shuffle of them, reshuffled each time
        they run out. Another actor's motion (`split` given) draws among those of the scene's split."""
        unit, clip_id = self._unit(pool, s, position, earlier)
        if isinstance(unit, Window):
            return unit.label, unit.clip_id, unit
        if pool.library.builtin:
            return unit, clip_id, None
        choices = pool.choices(unit, clip_id)
        if group is not None:
            n = self._tally.occurrence(group)
            cycle, k = divmod(n, len(choices))
            picked = choices[_shuffled(self.config.batch.seed, f"{pool.library.name}/{unit}/{clip_id}", cycle,
                                       len(choices))[k]]
        else:
            if pool.recordings is not None:
                choices = [c for c in choices if pool.recordings[c if isinstance(c, str) else c.clip_id] == split]
                if not choices:
                    raise ValueError(f"motion library {pool.library.name!r}: class {unit!r} has no recording in the "
                                     f"{split} split for a second actor; set actors.motion_sharing: same")
            picked = choices[instance % len(choices)]
        if isinstance(picked, Window):
            return unit, picked.clip_id, picked
        return unit, picked, None

    @cached_property
    def _tally(self) -> "_Tally":
        return _Tally(self)


@functools.lru_cache(maxsize=4096)
def _shuffled(seed: int, key: str, cycle: int, n: int) -> tuple[int, ...]:
    """A keyed permutation of range(n), a new one each cycle."""
    stream = Stream(seed, f"motion/shuffle/{key}/{cycle}")
    return tuple(sorted(range(n), key=lambda i: stream.bits64(str(i))))


class _Tally:
    """How many earlier groups' first motions drew the same unit (library, label or clip) as a group's: the
    index into that unit's shuffle. Counted forward once and kept (a few bytes per group), so sampling stays
    a pure function of the index and costs O(1) per scene in order."""

    def __init__(self, sampler: "SceneSampler"):
        self.sampler, self.counts, self.seen = sampler, {}, array("q")
        self.lock = threading.Lock()

    def occurrence(self, group: int) -> int:
        with self.lock:
            while len(self.seen) <= group:
                g = len(self.seen)
                s = Stream(self.sampler.config.batch.seed, f"motion/{g}/0")
                name, earlier = self.sampler._library_at(g)
                unit, clip_id = self.sampler._unit(self.sampler.pools[name], s, g, earlier)
                key = (name, unit if isinstance(unit, str) else unit.window_id, clip_id)
                self.seen.append(self.counts.get(key, 0))
                self.counts[key] = self.seen[-1] + 1
            return self.seen[group]


def window_length_and_stride(cfg: BatchConfig) -> tuple[float, float]:
    """Imported libraries' window length (default: the rendered span at speed 1) and stride (default: length)."""
    w = cfg.motion.window
    length = w.length_s if w.length_s is not None else round(cfg.render.frames / cfg.render.fps, DECIMALS)
    return length, w.stride_s if w.stride_s is not None else length


def library_pool(lib: MotionLibrary, cfg: BatchConfig, length: float, stride: float) -> LibraryPool:
    """The labels (or windows) of one library that the selection can draw; labels without a window that
    moves enough and passed quality are left out."""
    m = cfg.motion
    table = lib.window_table(length, stride, m.window.min_energy)
    known = [c for c in lib.classes() if table is None or table.by_label.get(c)]
    if m.selection.classes == "all":
        labels = [c for c in known if c != UNLABELLED or m.class_granularity == "motion"]
    else:
        labels = [c for c in m.selection.classes if c in known]
    if table is not None and m.class_granularity == "motion":
        return LibraryPool(lib, tuple(w for c in labels for w in table.by_label[c]), table)
    return LibraryPool(lib, tuple(labels), table)


def interleaved(names: list[str], weights: list[float] | None) -> tuple[str, ...]:
    """One period of library names in which each appears in proportion to its weight, spread evenly."""
    weights = weights or [1.0] * len(names)
    counts = [round(1000 * w / sum(weights)) for w in weights]
    divisor = math.gcd(*counts)
    slots = [((j + 0.5) / n, i) for i, n in enumerate(c // divisor for c in counts) for j in range(n)]
    return tuple(names[i] for _, i in sorted(slots))


_SIDE = {"left": "right", "right": "left", "Left": "Right", "Right": "Left", "LEFT": "RIGHT", "RIGHT": "LEFT"}


def mirrored_words(text: str) -> str:
    """A description of the mirrored motion: left and right swapped."""
    return re.sub(r"\b(left|right|Left|Right|LEFT|RIGHT)\b", lambda m: _SIDE[m.group(0)], text)


def _background(e: EnvironmentSpec) -> str:
    """What holding out backgrounds holds out: the ground family outdoors, the place in a room."""
    return f"place:{e.place.place_id}" if e.place is not None else e.ground


def _held_out(cfg: BatchConfig, places: PlacePool | None) -> HeldOut:
    """Deal the reachable buckets of each held-out factor to the splits (probing the distributions)."""
    sp, seed = cfg.splits, cfg.batch.seed
    probe = [Stream(seed, f"splits/probe/{i}") for i in range(512)]
    body = ground = camera = edges = None
    if "body" in sp.hold_out:
        body = splits.partition([splits.body_bucket(_shape(s, cfg)) for s in probe], sp.val, sp.test, seed, "body")
    if "background" in sp.hold_out:
        kinds = cfg.environment.kind.options()
        ground = splits.partition(cfg.environment.ground.options(), sp.val, sp.test, seed, "ground") \
            if "outdoor" in kinds else {}
        rooms = [f"place:{r.place.place_id}" for r in places.rooms] if places is not None else []
        if len(rooms) >= 1 + (sp.val > 0) + (sp.test > 0):
            ground.update(splits.partition(rooms, sp.val, sp.test, seed, "place"))
        else:  # too few places to hold out: all in train (validation refuses this when every scene is in a room)
            ground.update({key: "train" for key in rooms})
    if "camera" in sp.hold_out:
        cams = [_camera(s, cfg) for s in probe]
        edges = (splits.tercile_edges([_shot(c) for c in cams]), splits.tercile_edges([c.height_m for c in cams]))
        keys = [_camera_bucket(c, edges) for c in cams]
        camera = splits.partition(keys, sp.val, sp.test, seed, "camera")
    return HeldOut(body, ground, camera, edges)


def _shot(c: CameraSpec) -> float:
    """How far the camera is, as the spec gives it: by distance, or by framing (closer: larger)."""
    return c.distance_m if c.framing == 0 else -c.framing


def _camera_bucket(c: CameraSpec, edges) -> tuple[int, int]:
    return splits.tercile(_shot(c), edges[0]), splits.tercile(c.height_m, edges[1])


def _first_in_split(draws, bucket_of, buckets: dict | None, split: str):
    """The first draw whose bucket belongs to the split (all draws are keyed: deterministic)."""
    first = None
    for draw in draws:
        first = first or draw
        if buckets is None or buckets.get(bucket_of(draw)) == split:
            return draw
    raise ValueError(f"no {split} value found in {splits.MAX_ATTEMPTS} draws; widen the distribution")


def _held_shape(s: Stream, cfg: BatchConfig, held: HeldOut | None, split: str) -> BodyShapeSpec:
    if held is None or held.body is None:
        return _shape(s, cfg)
    return _first_in_split((_shape(a, cfg) for a in splits.attempts(s)), splits.body_bucket, held.body, split)


def _held_camera(s: Stream, cfg: BatchConfig, held: HeldOut | None, split: str) -> CameraSpec:
    if held is None or held.camera is None:
        return _camera(s, cfg)
    return _first_in_split((_camera(a, cfg) for a in splits.attempts(s)),
                           lambda c: _camera_bucket(c, held.camera_edges), held.camera, split)


def _held_environment(s: Stream, cfg: BatchConfig, held: HeldOut | None, split: str, places: PlacePool | None,
                      seats: list[float | None]) -> EnvironmentSpec:
    """The environment, in a place of the split (with seats of these heights, None: any, when the split has such a
    place)."""
    if held is None or held.ground is None:
        return _environment(s, cfg, places, seats)
    try:
        return _first_in_split((_environment(a, cfg, places, seats) for a in splits.attempts(s)), _background,
                               held.ground, split)
    except ValueError:
        if not seats:
            raise
        return _first_in_split((_environment(a, cfg, places, []) for a in splits.attempts(s)), _background,
                               held.ground, split)


def _camera(s: Stream, cfg: BatchConfig) -> CameraSpec:
    cam = cfg.camera
    if cam.fov_deg is not None:
        fov = cam.fov_deg.sample(s, "fov")
        focal = round(cam.sensor_width_mm / (2.0 * math.tan(math.radians(fov) / 2.0)), DECIMALS)
    else:
        focal = cam.focal_length_mm.sample(s, "focal")
        fov = round(math.degrees(2.0 * math.atan(cam.sensor_width_mm / (2.0 * focal))), DECIMALS)
    m = cam.motion
    kind = m.type.sample(s, "motion/type")
    motion = CameraMotionSpec(
        type=kind,
        pan_deg_per_s=m.pan_deg_per_s.sample(s, "motion/pan") if kind == "pan" else 0.0,
        orbit_deg_per_s=m.orbit_deg_per_s.sample(s, "motion/orbit") if kind == "orbit" else 0.0,
        dolly_m_per_s=m.dolly_m_per_s.sample(s, "motion/dolly") if kind == "dolly" else 0.0,
        shake_amplitude_deg=m.shake_amplitude_deg.sample(s, "motion/shake_amp") if kind == "handheld" else 0.0,
        shake_frequency_hz=m.shake_frequency_hz.sample(s, "motion/shake_freq") if kind == "handheld" else 0.0,
        shake_seed=(s.bits64("motion/shake_seed") >> 1) if kind == "handheld" else 0,
    )
    return CameraSpec(
        focal_length_mm=focal,
        sensor_width_mm=cam.sensor_width_mm,
        fov_deg=fov,
        distance_m=cam.distance_m.sample(s, "distance") if cam.framing is None else 0.0,
        height_m=cam.height_m.sample(s, "height"),
        yaw_deg=cam.yaw_deg.sample(s, "yaw"),
        pitch_offset_deg=cam.pitch_offset_deg.sample(s, "pitch_offset"),
        roll_deg=cam.roll_deg.sample(s, "roll"),
        motion=motion,
        framing=cam.framing.sample(s, "framing") if cam.framing is not None else 0.0,
        fstop=cam.fstop.sample(s, "fstop") if cam.fstop is not None else 0.0,
        exposure_ev=cam.exposure_ev.sample(s, "exposure"),
        white_balance_k=cam.white_balance_k.sample(s, "white_balance"),
    )


def _pack_item(s: Stream, name: str, ref) -> PackItemSpec | None:
    if ref is None or s.uniform01(name + "/use") >= ref.probability:
        return None
    return PackItemSpec(pack=ref.pack, item_seed=s.bits64(name + "/item") >> 1)


def _environment(s: Stream, cfg: BatchConfig, places: PlacePool | None,
                 seats: list[float | None] = ()) -> EnvironmentSpec:
    env = cfg.environment
    kind = env.kind.sample(s, "kind")
    if kind == "room":  # daylight through the windows at the sampled time of day; no weather indoors
        place = places.sample(s.child("place"), seats)
        return EnvironmentSpec(
            kind=kind, ground="", props_density=0.0, props_seed=0, prop_library="", terrain_height_m=0.0,
            sun_elevation_deg=env.time_of_day.sun_elevation_deg.sample(s, "sun_elevation"),
            sun_azimuth_deg=env.time_of_day.sun_azimuth_deg.sample(s, "sun_azimuth"),
            sky="physical", weather="clear", weather_intensity=0.0, background=None, hdri=None,
            hdri_rotation_deg=0.0, hdri_exposure_ev=0.0, place=place)
    sky = env.sky.sample(s, "sky")
    hdri = _pack_item(s, "hdri", env.hdri) if sky == "hdri" else None
    ground = env.ground.sample(s, "ground")
    if GROUNDS[ground].sky not in (None, sky):  # a ground this sky cannot have: another of the config's, by weight
        ground = _ground_under(s, env.ground, sky)
    return EnvironmentSpec(
        kind=kind,
        ground=ground,
        props_density=env.props_density.sample(s, "props_density") if GROUNDS[ground].props else 0.0,
        props_seed=s.bits64("props_seed") >> 1,
        prop_library=env.prop_library or "",
        terrain_height_m=env.terrain_height_m.sample(s, "terrain_height") if GROUNDS[ground].natural else 0.0,
        sun_elevation_deg=env.time_of_day.sun_elevation_deg.sample(s, "sun_elevation"),
        sun_azimuth_deg=env.time_of_day.sun_azimuth_deg.sample(s, "sun_azimuth"),
        sky=sky,
        weather=env.weather.type.sample(s, "weather"),
        weather_intensity=env.weather.intensity.sample(s, "weather_intensity"),
        background=_pack_item(s, "background", env.backgrounds) if sky == "background" else None,
        hdri=hdri,
        hdri_rotation_deg=env.hdri_rotation_deg.sample(s, "hdri_rotation") if hdri else 0.0,
        hdri_exposure_ev=env.hdri_exposure_ev.sample(s, "hdri_exposure") if hdri else 0.0,
        place=None,
    )


def _ground_under(s: Stream, grounds, sky: str) -> str:
    """One of the configured grounds that can go under sky, by the config's weights (validation made sure there
    is one)."""
    options = grounds.options()
    weights = getattr(grounds, "weights", None) or [1.0] * len(options)
    allowed = [(g, w) for g, w in zip(options, weights) if GROUNDS[g].sky in (None, sky)]
    chances = tuple(w for _, w in allowed) if sum(w for _, w in allowed) > 0 else None
    return allowed[weighted_index(s, "ground/under_" + sky, chances, len(allowed))][0]


def hdri_photographs(cfg: BatchConfig, registry: AssetRegistry) -> tuple[Photograph | None, ...]:
    """What each item of the config's HDRI pack shows, in item order (() when the pack declares none)."""
    ref = cfg.environment.hdri
    pack = registry.get("hdri", ref.pack) if ref is not None else None
    if pack is None or not pack.pack.options.get("photographs"):
        return ()
    shows = photographs(pack.pack.options, set(weather_registry()))
    return tuple(shows.get(name) for name in pack.item_names())


def _weather_in(s: Stream, cfg: BatchConfig, photo: Photograph) -> str:
    """A weather the photograph can stand for, by the config's weights; the photograph's own when the config gives
    none of them a chance (loading refuses a config whose weathers could never happen)."""
    types = cfg.environment.weather.type
    options = types.options()
    weights = getattr(types, "weights", None) or [1.0] * len(options)
    allowed = [(w, chance) for w, chance in zip(options, weights) if w in photo.weathers and chance > 0]
    if not allowed:
        return photo.weathers[0]
    return allowed[weighted_index(s, "weather/under_photograph", tuple(c for _, c in allowed), len(allowed))][0]


def _shape(s: Stream, cfg: BatchConfig) -> BodyShapeSpec:
    shape = cfg.actors.shape
    return BodyShapeSpec(**{name: getattr(shape, name).sample(s, name) for name in BodyShapeSpec.__slots__})


def _garment(s: Stream, g: GarmentConfig) -> GarmentSpec:
    return GarmentSpec(
        hue_deg=g.hue_deg.sample(s, "hue"),
        saturation=g.saturation.sample(s, "saturation"),
        value=g.value.sample(s, "value"),
        pattern=g.pattern.sample(s, "pattern"),
        pattern_seed=s.bits64("pattern_seed") >> 1,
    )


def _asset(s: Stream, name: str, dist, kind: str, prefer: str = "") -> str:
    """An asset name from a name distribution; "all" draws among every asset of the kind (those whose name
    starts with `prefer` when there are any)."""
    chosen = dist.sample(s, name)
    if chosen != "all":
        return chosen
    names = GarmentLibrary.builtin().names(kind)
    preferred = [n for n in names if prefer and n.startswith(prefer)]
    pool = preferred or names
    return pool[s.below(name + "/all", len(pool))]


def _clothing(s: Stream, cfg: BatchConfig, shape: BodyShapeSpec) -> ClothingSpec:
    c = cfg.actors.clothing
    style = c.style.sample(s, "style")
    painted, fitted = style == "painted", style == "garments"
    gender = "female_" if shape.gender > 0.6 else "male_" if shape.gender < 0.4 else ""
    return ClothingSpec(
        style=style,
        top=_garment(s.child("top"), c.top),
        top_sleeves=c.top_sleeves.sample(s, "top_sleeves") if painted else "",
        bottom=_garment(s.child("bottom"), c.bottom),
        bottom_length=c.bottom_length.sample(s, "bottom_length") if painted else "",
        shoes=_garment(s.child("shoes"), c.shoes),
        outfit=_asset(s, "outfit", c.outfit, "outfit", gender) if fitted else None,
        footwear=_asset(s, "footwear", c.footwear, "shoes") if fitted else None,
        hat=_asset(s, "hat", c.hat, "hat") if fitted and s.uniform01("hat/use") < c.hat_probability else None,
        hair=_asset(s, "hair", c.hair, "hair") if fitted and s.uniform01("hair/use") < c.hair_probability else None,
        hair_melanin=c.hair_melanin.sample(s, "hair_melanin") if fitted else 0.0,
        hair_redness=c.hair_redness.sample(s, "hair_redness") if fitted else 0.0,
        eyebrows=_asset(s, "eyebrows", c.eyebrows, "eyebrows") if fitted else None,
        eyelashes=_asset(s, "eyelashes", c.eyelashes, "eyelashes") if fitted else None,
    )


def _place_actors(s: Stream, cfg: BatchConfig, count: int) -> list[tuple[float, float]]:
    """Positions in a disk of the sampled spread radius, at least min_separation apart when possible."""
    placement = cfg.actors.placement
    radius = placement.spread_m.sample(s, "spread")
    sep = placement.min_separation_m
    placed: list[tuple[float, float]] = []
    for k in range(count):
        for attempt in range(_PLACEMENT_ATTEMPTS):
            r = radius * math.sqrt(s.uniform01(f"{k}/{attempt}/r"))
            theta = 2.0 * math.pi * s.uniform01(f"{k}/{attempt}/theta")
            x, y = r * math.cos(theta), r * math.sin(theta)
            if all(math.hypot(x - px, y - py) >= sep for px, py in placed):
                break
        else:  # the disk is too crowded: continue on a ring just outside it
            theta = 2.0 * math.pi * k / count
            x, y = (radius + sep) * math.cos(theta), (radius + sep) * math.sin(theta)
        placed.append((round(x, DECIMALS), round(y, DECIMALS)))
    return placed


def _render(cfg: BatchConfig, s: Stream) -> RenderSpec:
    r = cfg.render
    noise = r.sensor_noise.sample(s, "sensor_noise")
    return RenderSpec(
        engine=r.engine, device=r.device, width=r.resolution.width, height=r.resolution.height,
        fps=r.fps, frames=r.frames, samples=r.samples, denoise=r.denoise, denoise_quality=r.denoiser.quality,
        denoise_prefilter=r.denoiser.prefilter, noise_seed=r.noise_seed, sensor_noise=noise,
        sensor_noise_seed=(s.bits64("sensor_noise_seed") >> 1) if noise > 0 else 0,
        motion_blur=r.motion_blur.sample(s, "motion_blur"),
        modalities=tuple(r.modalities), rgb_format=r.rgb_format, precision=r.precision,
    )
