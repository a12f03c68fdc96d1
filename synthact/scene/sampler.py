"""The deterministic scene sampler: SceneSpec i is a pure function of (config, seed, i).

Every factor is drawn from a keyed stream (see rng.py): the scene's appearance and camera are
keyed by the scene index, the motion by the motion group (index // renders_per_motion), so the
renders of one motion share it exactly while everything else varies.
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

from synthact.config import AssetRegistry, BatchConfig
from synthact.config.batch import GarmentConfig
from synthact.config.distributions import DECIMALS
from synthact.human.motions.library import library_classes
from synthact.human.motions.taxonomy import mirror_name
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
    identify,
    spec_to_dict,
    stable_hash,
)

from . import splits

_PLACEMENT_ATTEMPTS = 32


@dataclass(frozen=True)
class HeldOut:
    """Which split each bucket of a held-out factor belongs to (see splits.py)."""

    body: dict | None
    ground: dict | None
    camera: dict | None
    camera_edges: tuple | None  # tercile edges of (distance, height)


@dataclass(frozen=True)
class SceneSampler:
    config: BatchConfig
    class_pool: tuple[str, ...]  # the classes the selection policy draws from, in a fixed order
    held_out: HeldOut | None = None

    @classmethod
    def create(cls, config: BatchConfig, registry: AssetRegistry) -> "SceneSampler":
        sel = config.motion.selection
        known = library_classes(config.motion.library, registry)
        pool = known if sel.classes == "all" else list(sel.classes)
        return cls(config, tuple(pool), _held_out(config) if config.splits.enabled else None)

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
        sp = cfg.splits
        split = splits.split_of_group(cfg.batch.seed, group, sp.val, sp.test) if sp.enabled else "train"
        held = self.held_out
        count = cfg.actors.count.sample(scene, "actors/count")
        shared = cfg.actors.motion_sharing == "same"
        positions = _place_actors(scene.child("placement"), cfg, count)
        actors = tuple(
            ActorSpec(
                actor_index=k,
                body_model=cfg.actors.body_model.sample(scene, f"actor{k}/body_model"),
                shape=_held_shape(scene.child(f"actor{k}/shape"), cfg, held, split),
                skin_tone_monk=cfg.actors.skin_tone_monk.sample(scene, f"actor{k}/skin_tone"),
                skin_roughness=cfg.actors.skin_roughness.sample(scene, f"actor{k}/skin_roughness"),
                skin_subsurface=cfg.actors.skin_subsurface.sample(scene, f"actor{k}/skin_subsurface"),
                clothing=_clothing(scene.child(f"actor{k}/clothing"), cfg),
                position_xy=positions[k],
                facing_deg=cfg.actors.placement.facing_deg.sample(scene, f"actor{k}/facing"),
                motion=self._motion(group, 0 if shared else k),
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
            environment=_held_environment(scene.child("environment"), cfg, held, split),
            actors=actors,
            render=_render(cfg, scene.child("render")),
        )
        scene_id, line = identify(spec_to_dict(body))
        return SceneSpec(scene_id=scene_id, **body), line

    def iter_specs(self, start: int, count: int) -> Iterator[SceneSpec]:
        for index in range(start, start + count):
            yield self.sample(index)

    def iter_json(self, start: int, count: int) -> Iterator[str]:
        for index in range(start, start + count):
            yield self.sample_json(index)

    def _motion(self, group: int, slot: int) -> MotionSpec:
        cfg = self.config.motion
        s = Stream(self.config.batch.seed, f"motion/{group}/{slot}")
        sel = cfg.selection
        position = group + slot  # extra actors of one scene shift along the class order
        clip_id = None
        if sel.policy == "explicit":
            clip_id = sel.clips[position % len(sel.clips)]
            source_class = clip_id if cfg.library == "procedural" else _clip_class(clip_id)
        elif sel.policy == "quotas":
            source_class = self._quota_sequence[position % len(self._quota_sequence)]
        elif sel.policy == "balanced":
            source_class = self.class_pool[position % len(self.class_pool)]
        else:
            source_class = self.class_pool[s.below("class", len(self.class_pool))]
        mirrored = s.uniform01("mirror") < cfg.mirror_probability
        fields = dict(
            library=cfg.library,
            class_name=mirror_name(source_class) if mirrored else source_class,
            source_class_name=source_class,
            clip_id=clip_id,
            instance_seed=s.bits64("instance") >> 1,
            start_fraction=cfg.window.start_fraction.sample(s, "window/start"),
            speed=cfg.speed.sample(s, "speed"),
            mirrored=mirrored,
        )
        return MotionSpec(motion_key=stable_hash(fields), **fields)


def _held_out(cfg: BatchConfig) -> HeldOut:
    """Deal the reachable buckets of each held-out factor to the splits (probing the distributions)."""
    sp, seed = cfg.splits, cfg.batch.seed
    probe = [Stream(seed, f"splits/probe/{i}") for i in range(512)]
    body = ground = camera = edges = None
    if "body" in sp.hold_out:
        body = splits.partition([splits.body_bucket(_shape(s, cfg)) for s in probe], sp.val, sp.test, seed, "body")
    if "background" in sp.hold_out:
        ground = splits.partition(cfg.environment.ground.options(), sp.val, sp.test, seed, "ground")
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


def _held_environment(s: Stream, cfg: BatchConfig, held: HeldOut | None, split: str) -> EnvironmentSpec:
    if held is None or held.ground is None:
        return _environment(s, cfg)
    return _first_in_split((_environment(a, cfg) for a in splits.attempts(s)), lambda e: e.ground, held.ground, split)


def _clip_class(clip_id: str) -> str:
    # External clips are named "<class>/<clip>" in library indexes; a bare clip id is its own class.
    return clip_id.split("/", 1)[0]


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


def _environment(s: Stream, cfg: BatchConfig) -> EnvironmentSpec:
    env = cfg.environment
    sky = env.sky.sample(s, "sky")
    hdri = _pack_item(s, "hdri", env.hdri) if sky == "hdri" else None
    return EnvironmentSpec(
        ground=env.ground.sample(s, "ground"),
        props_density=env.props_density.sample(s, "props_density"),
        props_seed=s.bits64("props_seed") >> 1,
        sun_elevation_deg=env.time_of_day.sun_elevation_deg.sample(s, "sun_elevation"),
        sun_azimuth_deg=env.time_of_day.sun_azimuth_deg.sample(s, "sun_azimuth"),
        sky=sky,
        weather=env.weather.type.sample(s, "weather"),
        weather_intensity=env.weather.intensity.sample(s, "weather_intensity"),
        background=_pack_item(s, "background", env.backgrounds) if sky == "background" else None,
        hdri=hdri,
        hdri_rotation_deg=env.hdri_rotation_deg.sample(s, "hdri_rotation") if hdri else 0.0,
        hdri_exposure_ev=env.hdri_exposure_ev.sample(s, "hdri_exposure") if hdri else 0.0,
    )


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


def _clothing(s: Stream, cfg: BatchConfig) -> ClothingSpec:
    c = cfg.actors.clothing
    return ClothingSpec(
        top=_garment(s.child("top"), c.top),
        top_sleeves=c.top_sleeves.sample(s, "top_sleeves"),
        bottom=_garment(s.child("bottom"), c.bottom),
        bottom_length=c.bottom_length.sample(s, "bottom_length"),
        shoes=_garment(s.child("shoes"), c.shoes),
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
