"""RenderWorker: a SceneSpec in, a complete and verified clip directory out (one Blender per process).

render_layers() turns a spec into the clip's layers (arrays, camera, stats) without writing the clip;
render() writes them as a clip directory through the clip format's writer, the annotation files while
Blender still renders the RGB.
"""
from __future__ import annotations

import math
import os
import platform
import shutil
import tempfile
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np
import psutil
from threadpoolctl import threadpool_limits

from synthact.clip import CameraRecord, Layers, SceneClipWriter
from synthact.config import AssetRegistry
from synthact.human.bodies import body_geometry, load_body_model
from synthact.human.garments import GarmentAssetError, GarmentLibrary
from synthact.human.motions.library import MotionLibrary
from synthact.human.motions.motion import MotionError
from synthact.human.motions.retarget import retarget
from synthact.human.motions.rotations import rot_z
from synthact.human.motions.skeleton import Skeleton, forward_kinematics
from synthact.spec import SceneSpec, SeatSpec
from synthact.world.environments import kind_of
from synthact.world.places import PlaceLibraryError, PropRecord, open_place_library
from synthact.world.weather import weather_named

from .camera import camera_track
from .dressing import combined, dress
from .effects import add_fog, add_sensor_noise
from .errors import SceneError
from .layers import ANNOTATIONS, RenderedFrames
from .places import PlacementError, Room, camera_in_room, fit_paths, seat_gap, seated_pose
from .raster import annotation_hits

BESIDE_RENDER = ("ray_cast", "annotate")  # the annotations' stages: a thread runs them while Blender renders


@dataclass
class Timings:
    stages: dict[str, float] = field(default_factory=dict)

    def add(self, stage: str, seconds: float) -> None:
        self.stages[stage] = self.stages.get(stage, 0.0) + seconds


@dataclass
class RenderedClip:
    layers: Layers
    camera: CameraRecord
    stats: dict
    log: str


def _place(geometry, position_xy, facing_deg: float):
    """Turn an actor by its facing and move it to its place (in place on the geometry record)."""
    r = rot_z(np.array(math.radians(facing_deg)))
    offset = np.array([position_xy[0], position_xy[1], 0.0])
    for name in ("vertices", "joints", "canonical_joints", "coco17"):
        arr = getattr(geometry, name)
        setattr(geometry, name, (arr @ r.T + offset).astype(np.float32))
    return geometry


def _shift(geometry, offset_xy) -> None:
    """Move a placed actor along the floor (in place on the geometry record)."""
    offset = np.array([offset_xy[0], offset_xy[1], 0.0], np.float32)
    for name in ("vertices", "joints", "canonical_joints", "coco17"):
        setattr(geometry, name, (getattr(geometry, name) + offset).astype(np.float32))


def check_spec(spec: SceneSpec) -> None:
    """Ranges and options the renderer relies on (a spec made by hand or edited may break them)."""
    r, c = spec.render, spec.camera
    problems = [
        (r.width >= 16 and r.height >= 16, f"render.width/height must be >= 16, got {r.width}x{r.height}"),
        (r.frames >= 2, f"render.frames must be >= 2, got {r.frames}"),
        (r.fps > 0 and r.samples >= 1, f"render.fps and render.samples must be >= 1, got {r.fps}, {r.samples}"),
        (r.engine in ("cycles", "workbench"), f"render.engine must be cycles or workbench, got {r.engine!r}"),
        (0 < c.fov_deg < 180 and c.focal_length_mm > 0, f"camera.fov_deg must be in (0, 180), got {c.fov_deg}"),
        (c.distance_m > 0 or c.framing > 0, f"camera.distance_m or camera.framing must be > 0, got {c.distance_m}, "
                                            f"{c.framing}"),
        (len(spec.actors) >= 1, "a scene needs at least one actor"),
        (all(a.motion.speed > 0 for a in spec.actors), "actors[].motion.speed must be > 0"),
        (all(1 <= a.skin_tone_monk <= 10 for a in spec.actors), "actors[].skin_tone_monk must be 1..10"),
        (all(m in ANNOTATIONS for m in r.modalities), f"render.modalities must be among {', '.join(ANNOTATIONS)}"),
    ]
    for ok, message in problems:
        if not ok:
            raise SceneError(spec.scene_id, message)


class RenderWorker:
    """Renders scenes one after another in this process; call `render(spec, out_root)`."""

    def __init__(self, device: str = "auto", threads: int = 0, registry: AssetRegistry | None = None,
                 log_dir: Path | None = None, garments: GarmentLibrary | None = None):
        from .blender import engine  # fail early if Blender is missing
        self._engine = engine
        # numpy's OpenBLAS threads busy-wait after every call; beside a Blender that has the worker's cores they
        # doubled the CPU time of the annotation maths (BENCHMARKS.md, throughput). One thread for this process.
        threadpool_limits(limits=1, user_api="blas")
        self.registry = registry or AssetRegistry.load()
        self.garments = garments  # None: the built-in library
        self.threads = threads
        self.device = self._resolve_device(device, engine.gpu_backend_available)
        self.blender_version = engine.version()
        self.log_dir = Path(log_dir or tempfile.mkdtemp(prefix="synthact-blender-"))
        self.log_dir.mkdir(parents=True, exist_ok=True)
        if log_dir is None:  # a scratch folder of this worker's: gone with the worker (a scene's log is in its clip)
            weakref.finalize(self, shutil.rmtree, self.log_dir, True)
        self._bodies: dict[str, object] = {}
        self._libraries: dict[str, MotionLibrary] = {}
        self.scenes_rendered = 0

    @staticmethod
    def _resolve_device(device: str, gpu_available) -> str:
        if device == "cpu":
            return "cpu"
        if gpu_available():
            return "gpu"
        if device == "gpu":
            raise RuntimeError("render.device is 'gpu' but Cycles finds no GPU on this machine")
        return "cpu"

    # --- inputs ----------------------------------------------------------------------------------

    def _body(self, name: str):
        if name not in self._bodies:
            self._bodies[name] = load_body_model(name, self.registry)
        return self._bodies[name]

    def _library(self, name: str) -> MotionLibrary:
        if name not in self._libraries:
            self._libraries[name] = MotionLibrary.open(name, self.registry)
        return self._libraries[name]

    def _pack_item(self, item, kind: str) -> Path | None:
        if item is None:
            return None
        pack = self.registry.get(kind, item.pack)
        if pack is None:
            raise FileNotFoundError(f"{kind} pack {item.pack!r} is not declared")
        options = pack.pack.options
        # a pack may point into Blender's own data files (the HDRIs shipped in the bpy wheel)
        bundled = options.get("blender_datafiles")
        folder = self._engine.datafiles(bundled) if bundled else pack.location()
        if folder is None or not folder.is_dir():
            raise FileNotFoundError(f"{kind} pack {item.pack!r} has no folder of files")
        names = pack.item_names([p.name for p in folder.iterdir()])
        if not names:
            raise FileNotFoundError(f"{kind} pack {item.pack!r}: no images in {folder}")
        return folder / names[item.item_seed % len(names)]

    def geometries(self, spec: SceneSpec) -> list:
        """Each actor's body, posed by its motion and placed in the world."""
        return self._posed(spec)[0]

    def _posed(self, spec: SceneSpec) -> tuple[list, list[float | None], list[SeatSpec | None]]:
        """(each actor's body, posed and placed; how far a seated actor's buttocks are above its seat; the seat
        built under it, if any). A built seat's height is the spec's for the reference body, scaled to the actor's:
        a recorded sit then sits on it as recorded, whatever the body's size."""
        r = spec.render
        out, gaps, built = [], [], []
        for a in spec.actors:
            m, body = a.motion, self._body(a.body_model)
            if a.seat is None:
                motion = self._library(m.library).play(m, r.fps, r.frames)
                out.append(_place(body_geometry(body, a.shape, motion), a.position_xy, a.facing_deg))
                gaps.append(None)
                built.append(None)
                continue
            skeleton = body.skeleton(a.shape)
            scale = skeleton.standing_pelvis_height / Skeleton.reference().standing_pelvis_height
            seat = replace(a.seat, height_m=round(a.seat.height_m * scale, 3)) if a.seat.built else a.seat
            library, seat_height = self._library(m.library), seat.height_m / scale
            motion = library.play(m, r.fps, r.frames, seat_height_m=seat_height)
            whole = library.play(m, r.fps, r.frames, seat_height_m=seat_height, whole=True)
            local, root = retarget(whole, skeleton)  # placed by the frame it sits in, which may not be rendered
            joints = forward_kinematics(skeleton, local, root)[1]
            out.append(_place(body_geometry(body, a.shape, motion), *seated_pose(joints, seat)))
            gaps.append(round(seat_gap(joints, seat, scale), 3))
            built.append(seat if seat.built else None)
        return out, gaps, built

    # --- rendering -------------------------------------------------------------------------------

    def warm_up(self, spec: SceneSpec) -> None:
        """What a worker prepares once, before its first scene: a tiny render of `spec` loads its body models,
        motion library and garments and starts Cycles and the denoiser. Nothing is written."""
        small = replace(spec.render, width=32, height=32, frames=2)
        self.render_layers(replace(spec, render=small))

    def render(self, spec: SceneSpec, out_root: Path) -> Path:
        """Render one clip into out_root/<scene_id>/ and return that folder."""
        with SceneClipWriter(Path(out_root), spec) as clip:
            rendered = self.render_layers(spec, on_layers=clip.add)
            folder = clip.finish(rendered.camera, rendered.stats, rendered.log)
        self.scenes_rendered += 1
        return folder

    def render_layers(self, spec: SceneSpec, on_layers: Callable[[Layers], None] | None = None) -> RenderedClip:
        """The clip's layers, camera, stats and Blender log, without writing the clip. on_layers, when given,
        receives the layers as they are made: the annotations while Blender renders the RGB, then the RGB."""
        from .blender.actors import ActorMesh
        from .blender.log import blender_output_to, tail
        from .blender.render import build_scene, render_rgb
        timings = Timings()
        log = self.log_dir / f"{spec.scene_id}.blender.log"
        log.write_text("")
        t0 = time.perf_counter()
        check_spec(spec)
        try:
            geometries, seat_gaps, built_seats = self._posed(spec)
            hdri = self._pack_item(spec.environment.hdri, "hdri")
            background = self._pack_item(spec.environment.background, "backgrounds")
            place, room = self._place(spec)
            prop_assets = self._prop_assets(spec)
        except (MotionError, FileNotFoundError, KeyError, PlaceLibraryError) as exc:
            raise SceneError(spec.scene_id, str(exc), "missing_asset") from exc
        timings.add("motion_and_bodies", time.perf_counter() - t0)
        r = spec.render
        if r.device == "gpu" and self.device != "gpu":
            raise SceneError(spec.scene_id, "render.device is 'gpu' but this worker has no GPU")
        device = "cpu" if r.device == "cpu" else self.device
        placement = {}
        if room is not None:
            try:
                offsets = fit_paths(room, [g.canonical_joints for g in geometries],
                                    [a.seat is not None for a in spec.actors])
                for g, offset in zip(geometries, offsets):
                    _shift(g, offset)
                subject = np.concatenate([g.canonical_joints for g in geometries], axis=1)
                chests = np.stack([g.canonical_joints[:, 0] + [0.0, 0.0, 0.3] for g in geometries], axis=1)
                track, yaw, focal = camera_in_room(room, spec.camera, subject, r.fps, r.width, r.height, chests)
            except PlacementError as exc:
                raise SceneError(spec.scene_id, f"placement in {spec.environment.place.place_id}: {exc}") from exc
            placement = {"actor_shift_m": [[round(float(v), 3) for v in o] for o in offsets], "camera_yaw_deg": yaw,
                         "focal_length_mm": focal}
        else:
            subject = np.concatenate([g.canonical_joints for g in geometries], axis=1)
            track = camera_track(spec.camera, subject, r.fps, r.width, r.height)
        if any(a.seat for a in spec.actors):
            placement["seat_gap_m"] = seat_gaps
        if any(built_seats):
            placement["built_seat_height_m"] = [seat.height_m if seat else None for seat in built_seats]
        if track.positions[:, 2].min() < 0.05:
            raise SceneError(spec.scene_id, f"camera inside geometry: it goes down to z = "
                                            f"{track.positions[:, 2].min():.2f} m, at or below the ground")
        try:
            meshes = [ActorMesh(a.actor_index, dress(g, a, self.garments), g.canonical_joints, a, seat)
                      for g, a, seat in zip(geometries, spec.actors, built_seats)]
        except (GarmentAssetError, KeyError) as exc:
            raise SceneError(spec.scene_id, str(exc), "missing_asset") from exc
        surfaces = [combined(m.surfaces) for m in meshes]

        def annotations(static) -> tuple[RenderedFrames, Layers]:
            t = time.perf_counter()
            hits = annotation_hits(static, surfaces, track.K, track.world_to_camera, r.width, r.height)
            timings.add("ray_cast", time.perf_counter() - t)
            t = time.perf_counter()
            frames = RenderedFrames(spec, None, hits, geometries, surfaces, track, (static[2], static[3]))
            layers: Layers = {}
            for name in r.modalities:
                if name != "rgb":
                    layers.update(ANNOTATIONS[name](frames))
            timings.add("annotate", time.perf_counter() - t)
            if on_layers is not None:
                on_layers(layers)
            return frames, layers

        # the annotations need only the scene's geometry: they are made (and written) while Blender renders the
        # frames; on a GPU worker the CPU is otherwise idle then, on CPU they fill the cores Cycles leaves idle
        with ThreadPoolExecutor(1, thread_name_prefix="annotations") as pool:
            try:
                with blender_output_to(log):
                    static, metered_ev = build_scene(spec, meshes, track, hdri, background, place, prop_assets,
                                                     device, self.threads, timings)
                    annotated = pool.submit(annotations, static)
                    rgb = render_rgb(spec, timings)
            except Exception as exc:
                raise RuntimeError(f"scene {spec.scene_id}: rendering failed: {exc}\n--- Blender log ---\n"
                                   f"{tail(log)}") from exc
            frames, layers = annotated.result()
        t1 = time.perf_counter()
        env = spec.environment
        frames.rgb = add_fog(rgb, frames.depth, env.weather_intensity, env.sun_elevation_deg) \
            if weather_named(env.weather).fog else rgb
        if r.sensor_noise > 0:
            frames.rgb = add_sensor_noise(frames.rgb, r.sensor_noise, r.sensor_noise_seed)
        rgb_layers = ANNOTATIONS["rgb"](frames) if "rgb" in r.modalities else {}
        layers.update(rgb_layers)
        timings.add("effects", time.perf_counter() - t1)
        if on_layers is not None and rgb_layers:
            on_layers(rgb_layers)
        camera = CameraRecord(r.width, r.height, r.fps, track.K, track.world_to_camera, track.focal_length_mm,
                              track.sensor_width_mm)
        stats = self._stats(spec, timings, device)
        if placement:
            stats["placement"] = {**placement, "metered_exposure_ev": round(metered_ev, 3)}
        log_text = log.read_text(errors="replace")
        log.unlink()  # the clip keeps it: a worker that renders 100,000 scenes must not leave 100,000 logs behind
        return RenderedClip(layers, camera, stats, log_text)

    def _place(self, spec: SceneSpec) -> tuple[Path | None, Room | None]:
        """A room's scene file and floor map (None, None outdoors)."""
        p = spec.environment.place
        if not kind_of(spec.environment).uses_places:
            return None, None
        if p is None:
            raise KeyError(f"environment.kind {spec.environment.kind!r} is set in a place, but the spec names none")
        library = open_place_library(p.library)
        record = library.place(p.place_id)
        path = library.scene_path(record)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: place {p.place_id!r} of library {p.library!r} has no scene file")
        return path, Room.of(library.floor(record), record.ceiling_z - record.floor_z)

    def _prop_assets(self, spec: SceneSpec) -> dict[str, list[tuple[Path, PropRecord]]]:
        """The props of the spec's prop library by semantic class, with their files ({} for primitive shapes)."""
        name = spec.environment.prop_library
        if not name:
            return {}
        library = open_place_library(name)
        out: dict[str, list[tuple[Path, PropRecord]]] = {}
        for prop in sorted(library.props, key=lambda p: p.prop_id):
            path = library.scene_path(prop)
            if not path.is_file():
                raise FileNotFoundError(f"{path}: prop {prop.prop_id!r} of library {name!r} has no file")
            out.setdefault(prop.semantic_class, []).append((path, prop))
        if not out:
            raise KeyError(f"environment.prop_library {name!r} has no props")
        return out

    def _stats(self, spec: SceneSpec, timings: Timings, device: str) -> dict:
        r = spec.render
        return {
            "scene_id": spec.scene_id, "engine": r.engine.upper(), "device": device,
            "blender_version": self.blender_version, "frames": r.frames, "width": r.width, "height": r.height,
            "samples": {"rgb": r.samples, "annotations": 1}, "denoise": r.denoise,
            "denoiser": {"quality": r.denoise_quality, "prefilter": r.denoise_prefilter} if r.denoise else None,
            "noise_seed": r.noise_seed, "sensor_noise": r.sensor_noise,
            "timings_s": {k: round(v, 4) for k, v in timings.stages.items()},
            "beside_render": list(BESIDE_RENDER),  # stages of timings_s that ran while Blender rendered the RGB
            "seconds_per_frame": round(sum(v for k, v in timings.stages.items() if k not in BESIDE_RENDER) / r.frames,
                                       4),
            "worker_rss_mb": round(psutil.Process().memory_info().rss / 2**20, 1),
            "scenes_rendered_by_worker": self.scenes_rendered + 1, "host": platform.node(), "pid": os.getpid(),
        }
