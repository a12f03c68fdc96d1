"""RenderWorker: a SceneSpec in, a complete and verified clip directory out (one Blender per process)."""
from __future__ import annotations

import math
import os
import platform
import resource
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from generator.assets import AssetRegistry
from generator.bodies import COCO17_NAMES, PART_NAMES, body_geometry, load_body_model
from generator.motions.library import MotionLibrary
from generator.motions.motion import MotionError
from generator.motions.rotations import rot_z
from generator.motions.skeleton import JOINT_NAMES, PARENTS
from generator.spec import SceneSpec, spec_to_dict

from . import annotate
from .blender_log import blender_output_to, tail
from .camera import CameraTrack, camera_track
from .clipdir import ClipWriter, encode_mp4

BACKGROUND_DEPTH = 1e9  # Cycles writes 1e10 where a ray hits nothing


class SceneError(Exception):
    """A scene that cannot be rendered as specified; the message names the scene and the problem."""

    def __init__(self, scene_id: str, problem: str, reason: str = "invalid_spec"):
        self.scene_id, self.problem, self.reason = scene_id, problem, reason
        super().__init__(f"scene {scene_id}: {problem}")


@dataclass
class PlacedActor:
    index: int
    geometry: object  # BodyGeometry, in world coordinates
    mesh: object  # blender_scene.ActorMesh


@dataclass
class Timings:
    stages: dict[str, float] = field(default_factory=dict)

    def add(self, stage: str, seconds: float) -> None:
        self.stages[stage] = self.stages.get(stage, 0.0) + seconds


def write_jpgs(rgb: np.ndarray, folder: Path) -> None:
    from PIL import Image
    folder.mkdir()
    for i, frame in enumerate(rgb):
        Image.fromarray(frame).save(folder / f"{i:06d}.jpg", quality=95)


def resident_memory_mb() -> float:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _place(geometry, position_xy, facing_deg: float):
    """Turn an actor by its facing and move it to its place (in place on the geometry record)."""
    r = rot_z(np.array(math.radians(facing_deg)))
    offset = np.array([position_xy[0], position_xy[1], 0.0])
    for name in ("vertices", "joints", "canonical_joints", "coco17"):
        arr = getattr(geometry, name)
        setattr(geometry, name, (arr @ r.T + offset).astype(np.float32))
    return geometry


class RenderWorker:
    """Renders scenes one after another in this process; call `render(spec, out_root)`."""

    def __init__(self, device: str = "auto", threads: int = 0, registry: AssetRegistry | None = None,
                 log_dir: Path | None = None):
        import bpy  # noqa: F401  (fail early if Blender is missing)
        self.registry = registry or AssetRegistry.load()
        self.threads = threads
        self.device = self._resolve_device(device)
        self.log_dir = Path(log_dir or tempfile.mkdtemp(prefix="synthact-blender-"))
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._bodies: dict[str, object] = {}
        self._libraries: dict[str, MotionLibrary] = {}
        self.scenes_rendered = 0

    @staticmethod
    def _resolve_device(device: str) -> str:
        if device == "cpu":
            return "cpu"
        try:
            import bpy
            prefs = bpy.context.preferences.addons["cycles"].preferences
            for kind in ("OPTIX", "CUDA", "HIP", "METAL", "ONEAPI"):
                try:
                    prefs.compute_device_type = kind
                except TypeError:
                    continue
                prefs.get_devices()
                if any(d.type == kind for d in prefs.devices):
                    return "gpu"
        except Exception:  # noqa: BLE001 - no GPU backend is not an error on CPU machines
            pass
        if device == "gpu":
            raise RuntimeError("render.device is 'gpu' but Cycles finds no GPU on this machine")
        return "cpu"

    def memory_mb(self) -> float:
        return resident_memory_mb()

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
        if pack is None or pack.location() is None or not pack.location().is_dir():
            raise FileNotFoundError(f"{kind} pack {item.pack!r} has no folder of files")
        files = sorted(p for p in pack.location().iterdir() if p.suffix.lower() in
                       (".hdr", ".exr", ".png", ".jpg", ".jpeg"))
        if not files:
            raise FileNotFoundError(f"{kind} pack {item.pack!r}: no images in {pack.location()}")
        return files[item.item_seed % len(files)]

    def _actors(self, spec: SceneSpec) -> list[PlacedActor]:
        from .blender_scene import ActorMesh
        r = spec.render
        placed = []
        for a in spec.actors:
            m = a.motion
            motion = self._library(m.library).motion(m.source_class_name, m.clip_id, m.instance_seed, r.fps, r.frames,
                                                     m.speed, m.start_fraction, m.mirrored)
            g = _place(body_geometry(self._body(a.body_model), a.shape, motion), a.position_xy, a.facing_deg)
            placed.append(PlacedActor(a.actor_index, g, ActorMesh(
                vertices=g.vertices, faces=g.faces, uv=g.uv, part_labels=g.part_labels,
                canonical_joints=g.canonical_joints, clothing=a.clothing, skin_tone_monk=a.skin_tone_monk)))
        return placed

    @staticmethod
    def _check_spec(spec: SceneSpec) -> None:
        """Ranges the renderer relies on (a spec made by hand or edited may break them)."""
        r, c = spec.render, spec.camera
        problems = [
            (r.width >= 16 and r.height >= 16, f"render.width/height must be >= 16, got {r.width}x{r.height}"),
            (r.frames >= 2, f"render.frames must be >= 2, got {r.frames}"),
            (r.fps > 0 and r.samples >= 1, f"render.fps and render.samples must be >= 1, got {r.fps}, {r.samples}"),
            (0 < c.fov_deg < 180 and c.focal_length_mm > 0, f"camera.fov_deg must be in (0, 180), got {c.fov_deg}"),
            (c.distance_m > 0, f"camera.distance_m must be > 0, got {c.distance_m}"),
            (len(spec.actors) >= 1, "a scene needs at least one actor"),
            (all(a.motion.speed > 0 for a in spec.actors), "actors[].motion.speed must be > 0"),
            (all(1 <= a.skin_tone_monk <= 10 for a in spec.actors), "actors[].skin_tone_monk must be 1..10"),
        ]
        for ok, message in problems:
            if not ok:
                raise SceneError(spec.scene_id, message)

    def _check(self, spec: SceneSpec, track: CameraTrack) -> None:
        if track.positions[:, 2].min() < 0.05:
            raise SceneError(spec.scene_id, f"camera inside geometry: it goes down to z = "
                                            f"{track.positions[:, 2].min():.2f} m, at or below the ground")

    # --- rendering -------------------------------------------------------------------------------

    def render(self, spec: SceneSpec, out_root: Path) -> Path:
        """Render one clip into out_root/<scene_id>/ and return that folder."""
        out_root = Path(out_root)
        out_root.mkdir(parents=True, exist_ok=True)
        timings = Timings()
        log = self.log_dir / f"{spec.scene_id}.blender.log"
        log.write_text("")
        t0 = time.perf_counter()
        self._check_spec(spec)
        try:
            actors = self._actors(spec)
        except (MotionError, FileNotFoundError, KeyError) as exc:
            raise SceneError(spec.scene_id, str(exc), "missing_asset") from exc
        timings.add("motion_and_bodies", time.perf_counter() - t0)
        r = spec.render
        subject = np.concatenate([a.geometry.canonical_joints for a in actors], axis=1)
        track = camera_track(spec.camera, subject, r.fps, r.width, r.height)
        self._check(spec, track)
        writer = ClipWriter(out_root, spec.scene_id)
        try:
            with blender_output_to(log):
                rgb, passes = self._render_blender(spec, actors, track, timings)
            t1 = time.perf_counter()
            self._write(writer, spec, actors, track, rgb, passes, timings, log)
            timings.add("annotate_and_write", time.perf_counter() - t1)
            writer.json("stats.json", self._stats(spec, timings))
            clip = writer.finish({"scene_id": spec.scene_id, "complete": True})
        except SceneError:
            writer.abandon()
            raise
        except Exception as exc:
            writer.abandon()
            raise RuntimeError(f"scene {spec.scene_id}: rendering failed: {exc}\n--- Blender log ---\n{tail(log)}") \
                from exc
        self.scenes_rendered += 1
        return clip

    def _render_blender(self, spec: SceneSpec, actors: list[PlacedActor], track: CameraTrack, timings: Timings):
        import bpy

        from . import blender_scene as bs
        from .passes import read_exr_passes
        t0 = time.perf_counter()
        r = spec.render
        bs.reset()
        bs.configure(r, self.device, self.threads)
        bs.annotation_material()
        dark = bs.dark_world()
        rng = np.random.default_rng(spec.environment.props_seed)
        bs.ground(spec.environment, rng)
        world = bs.sky_and_sun(spec.environment, self._pack_item(spec.environment.hdri, "hdri"),
                               self._pack_item(spec.environment.background, "backgrounds"))
        stage = [(np.array([*p[:2], 0.0]), 1.2) for a in actors for p in a.geometry.canonical_joints[:, 0]]
        stage += [(np.array([*p[:2], 0.0]), 1.5) for p in track.positions]
        bs.props(spec.environment, rng, stage)
        centre = np.concatenate([a.geometry.canonical_joints[:, 0] for a in actors]).mean(axis=0)
        overlay = [o for o in [bs.precipitation(spec.environment, rng, centre, r.frames, r.fps)] if o is not None]
        objects = [bs.actor(a.index, a.mesh) for a in actors]
        bs.camera(track)
        timings.add("scene_build", time.perf_counter() - t0)

        scene = bpy.context.scene
        work = Path(tempfile.mkdtemp(prefix=f"synthact-{spec.scene_id}-"))
        try:
            t0 = time.perf_counter()
            bs.set_mode("rgb", r, world, dark, overlay)
            rgb = np.empty((r.frames, r.height, r.width, 3), np.uint8)
            from PIL import Image
            for frame in range(r.frames):
                scene.frame_set(frame)
                scene.render.filepath = str(work / f"rgb_{frame:06d}.png")
                bpy.ops.render.render(write_still=True)
                with Image.open(scene.render.filepath) as im:
                    rgb[frame] = np.asarray(im.convert("RGB"))
            timings.add("render_rgb", time.perf_counter() - t0)

            t0 = time.perf_counter()
            bs.set_mode("annotation", r, world, dark, overlay)
            passes = []
            for frame in range(r.frames):
                scene.frame_set(frame)
                for obj, a in zip(objects, actors):
                    bs.set_annotation_attributes(obj, a.mesh, frame)
                scene.render.filepath = str(work / f"ann_{frame:06d}.exr")
                bpy.ops.render.render(write_still=True)
                passes.append(read_exr_passes(Path(scene.render.filepath)))
            timings.add("render_annotations", time.perf_counter() - t0)
        finally:
            for p in work.iterdir():
                p.unlink()
            work.rmdir()
        return rgb, passes

    def _write(self, writer: ClipWriter, spec: SceneSpec, actors: list[PlacedActor], track: CameraTrack,
               rgb: np.ndarray, passes: list[dict], timings: Timings, log: Path) -> None:
        r = spec.render
        t, h, w = r.frames, r.height, r.width
        K, w2c = track.K, track.world_to_camera
        depth = np.stack([p["depth"] for p in passes]).astype(np.float32)
        hit = depth < BACKGROUND_DEPTH
        depth[~hit] = np.inf
        if spec.environment.weather == "fog":
            rgb = annotate.add_fog(rgb, depth, spec.environment.weather_intensity, spec.environment.sun_elevation_deg)
        instance = np.stack([p["object_index"] for p in passes]).round().astype(np.uint8)
        body_part = np.where(instance > 0, np.stack([p["part"] for p in passes]).round(), 0).astype(np.uint8)
        mods = set(r.modalities)
        jobs = []  # files are compressed and encoded in parallel (zlib and ffmpeg release the GIL)
        if "rgb" in mods:
            if r.rgb_format in ("mp4", "both"):
                jobs.append(lambda: encode_mp4(rgb, r.fps, writer.path("rgb.mp4")))
            if r.rgb_format in ("jpg", "both"):
                jobs.append(lambda: write_jpgs(rgb, writer.path("rgb")))
        if "depth" in mods:
            jobs.append(lambda: writer.npz("depth.npz", depth=depth))
        if "flow" in mods:
            forward = np.full((t, h, w, 2), np.nan, np.float32)
            backward = np.full((t, h, w, 2), np.nan, np.float32)
            for i, p in enumerate(passes):
                moving = instance[i] > 0  # actors carry their own next/previous positions; the rest is static
                if i + 1 < t:
                    other = np.where(moving[..., None], p["pos_next"], p["position"])
                    forward[i] = annotate.flow_to(other, hit[i], K, w2c[i + 1])
                if i > 0:
                    other = np.where(moving[..., None], p["pos_prev"], p["position"])
                    backward[i] = annotate.flow_to(other, hit[i], K, w2c[i - 1])
            jobs.append(lambda: writer.npz("flow_forward.npz", flow=forward))
            jobs.append(lambda: writer.npz("flow_backward.npz", flow=backward))
        if "segmentation" in mods:
            jobs.append(lambda: writer.npz("segmentation.npz", instance=instance, body_part=body_part,
                                           body_part_names=np.array(PART_NAMES)))
        coco_world = np.stack([a.geometry.coco17 for a in actors], axis=1)  # (T, A, 17, 3)
        if "keypoints" in mods:
            a_count = len(actors)
            coco2d = np.zeros((t, a_count, 17, 3), np.float32)
            bbox = np.full((t, a_count, 4), np.nan, np.float32)
            amodal = np.full((t, a_count, 4), np.nan, np.float32)
            for i in range(t):
                for k, a in enumerate(actors):
                    coco2d[i, k] = annotate.keypoints_2d(coco_world[i, k], K, w2c[i], depth[i], instance[i], k + 1)
                    bbox[i, k] = annotate.mask_box(instance[i] == k + 1)
                    amodal[i, k] = annotate.projected_box(a.geometry.vertices[i], K, w2c[i], w, h)
            cam = np.einsum("tij,takj->taki", w2c[:, :3, :3], coco_world) + w2c[:, None, None, :3, 3]
            writer.npz("keypoints.npz", coco2d=coco2d, coco3d_world=coco_world.astype(np.float32),
                       coco3d_camera=cam.astype(np.float32), coco_names=np.array(COCO17_NAMES),
                       joints3d_world=np.stack([a.geometry.canonical_joints for a in actors], 1).astype(np.float32),
                       joint_names=np.array(JOINT_NAMES), joint_parents=np.array(PARENTS),
                       bbox2d=bbox, bbox2d_amodal=amodal)
        with ThreadPoolExecutor(max_workers=2) as pool:
            for future in [pool.submit(job) for job in jobs]:
                future.result()
        writer.json("camera.json", {
            "width": w, "height": h, "fps": r.fps, "K": K.tolist(),
            "world_to_camera": w2c.tolist(), "convention": "OpenCV: x right, y down, z forward; pixel centres "
                                                           "at integer coordinates; world Z up, metres",
            "focal_length_mm": track.focal_length_mm, "sensor_width_mm": track.sensor_width_mm,
        })
        writer.json("spec.json", spec_to_dict(spec))
        log_copy = writer.path("blender.log")
        log_copy.write_text(log.read_text(errors="replace"))

    def _stats(self, spec: SceneSpec, timings: Timings) -> dict:
        import bpy
        r = spec.render
        return {
            "scene_id": spec.scene_id, "engine": "CYCLES", "device": self.device,
            "blender_version": bpy.app.version_string, "frames": r.frames, "width": r.width, "height": r.height,
            "samples": {"rgb": r.samples, "annotations": 1}, "denoise": r.denoise,
            "timings_s": {k: round(v, 4) for k, v in timings.stages.items()},
            "seconds_per_frame": round(sum(timings.stages.values()) / r.frames, 4),
            "worker_rss_mb": round(resident_memory_mb(), 1), "scenes_rendered_by_worker": self.scenes_rendered + 1,
            "host": platform.node(), "pid": os.getpid(),
        }
