"""SceneSpec: the fully resolved description of one clip, the contract between sampler and renderer.

Plain frozen dataclasses, JSON-serialisable via `spec_to_dict`; docs/scene_spec.schema.json is
generated from them. `scene_id` is a short stable hash of everything else in the spec.
"""
from __future__ import annotations

import dataclasses
import functools
import json
from dataclasses import dataclass
from hashlib import blake2b
from typing import Any

SPEC_VERSION = 12  # 2: scenes carry their split; 3: denoiser, noise seed, sensor noise, HDRI turn and exposure,
#                  camera framing/DOF/exposure, skin variation, fitted garments and hair; 4: motion windows,
#                  labels and text per clip; 5: both together; 6: render.precision; 7: fast denoiser by default;
#                  8: environment kinds (outdoor | room) and places; 9: seats for sitting actions, outdoor props from a
#                  place library, terrain; 10: seats the renderer builds (a stool or bench where a place has
#                  no seat of a sit's height, and outdoors); 11: the photo ground (an HDRI's own ground); 12: the
#                  weather under an HDRI is one its photograph shows; recorded windows that lean on something or
#                  lie raised are not sampled
# The modalities a clip can hold; clip/modalities.py says what each one's files and arrays are.
MODALITY_NAMES = ("rgb", "depth", "flow", "segmentation", "keypoints")
ENGINES = ("cycles", "workbench")  # Cycles: the look; Workbench: flat studio shading, for fast previews


@dataclass(frozen=True, slots=True)
class CameraMotionSpec:
    type: str  # static | pan | orbit | dolly | handheld
    pan_deg_per_s: float = 0.0
    orbit_deg_per_s: float = 0.0
    dolly_m_per_s: float = 0.0
    shake_amplitude_deg: float = 0.0
    shake_frequency_hz: float = 0.0
    shake_seed: int = 0


@dataclass(frozen=True, slots=True)
class CameraSpec:
    focal_length_mm: float
    sensor_width_mm: float
    fov_deg: float  # horizontal, derived from focal length and sensor width
    distance_m: float
    height_m: float
    yaw_deg: float
    pitch_offset_deg: float
    roll_deg: float
    motion: CameraMotionSpec
    framing: float  # share of the image height the actors span; 0: placed by distance_m, keeping all in view
    fstop: float  # depth of field; 0: none
    exposure_ev: float
    white_balance_k: float


@dataclass(frozen=True, slots=True)
class PackItemSpec:
    pack: str
    item_seed: int  # the renderer picks item (item_seed mod number of items in the pack)


@dataclass(frozen=True, slots=True)
class PlaceSpec:
    library: str  # a place library (world/places.py)
    place_id: str
    room_type: str
    near: str  # the semantic class of the object nearest the actors ("" when none is within 2 m)


@dataclass(frozen=True, slots=True)
class EnvironmentSpec:
    kind: str  # outdoor | room (world/environments/)
    ground: str  # outdoors: the ground family ("" in a room)
    props_density: float
    props_seed: int
    prop_library: str  # the place library whose props (trees, bushes, rocks) stand outdoors ("": primitive shapes)
    terrain_height_m: float  # outdoors: hills of about this height beyond the flat area (0: a plane; world/terrain.py)
    sun_elevation_deg: float
    sun_azimuth_deg: float
    sky: str
    weather: str
    weather_intensity: float
    background: PackItemSpec | None
    hdri: PackItemSpec | None
    hdri_rotation_deg: float  # turn of the HDRI about the vertical (0 without an HDRI)
    hdri_exposure_ev: float  # its brightness: strength 2 ** ev (0 without an HDRI)
    place: PlaceSpec | None  # a room's place (None outdoors)


@dataclass(frozen=True, slots=True)
class BodyShapeSpec:
    gender: float
    age: float
    muscle: float
    weight: float
    height: float
    proportions: float


@dataclass(frozen=True, slots=True)
class GarmentSpec:
    hue_deg: float
    saturation: float
    value: float
    pattern: str
    pattern_seed: int


@dataclass(frozen=True, slots=True)
class ClothingSpec:
    style: str  # garments (fitted assets) | painted (colours on the skin)
    top: GarmentSpec  # fabric of the upper garment (outfit above the waist, or painted)
    top_sleeves: str  # painted only ("" for garments)
    bottom: GarmentSpec
    bottom_length: str  # painted only ("" for garments)
    shoes: GarmentSpec
    outfit: str | None  # garment asset names (None: not worn, or painted style)
    footwear: str | None
    hat: str | None
    hair: str | None
    hair_melanin: float
    hair_redness: float
    eyebrows: str | None
    eyelashes: str | None


@dataclass(frozen=True, slots=True)
class MotionSpec:
    library: str
    class_name: str  # the dataset class: the label, or the motion's own id (motion.class_granularity)
    label: str  # the label of what is seen (a vocabulary label or procedural class), after mirroring
    source_class_name: str  # the label the motion was generated or recorded as (before mirroring)
    description: str  # the source's words for the motion ("" when it has none)
    clip_id: str | None  # a clip of a recorded library; procedural: None (or the class, policy explicit)
    instance_seed: int  # drives the procedural parameters (or the window choice) of this instance
    window_start_s: float | None  # the window's start in the clip (imported libraries); None: the renderer
    window_length_s: float | None  # picks it by motion energy (procedural and hand-declared clips)
    min_energy: float  # the window's motion energy is at least this (m/s; see motions/windows.py)
    start_fraction: float  # where the rendered frames start inside the window's spare time
    speed: float
    mirrored: bool
    motion_key: str  # equal for every render of the same motion instance (GATA positives)


@dataclass(frozen=True, slots=True)
class SeatSpec:
    kind: str  # what it is: chair | sofa | bed | bench | stool (the text names it)
    position_xy: tuple[float, float]  # the middle of its top, where the actor's pelvis comes to rest
    facing_deg: float  # the way a sitter faces (0: -Y, as actors' facing_deg)
    height_m: float  # its top above the floor
    built: bool = False  # the renderer builds it (a bench or stool); False: a seat of the place


@dataclass(frozen=True, slots=True)
class ActorSpec:
    actor_index: int
    body_model: str
    shape: BodyShapeSpec
    skin_tone_monk: int
    skin_roughness: float
    skin_subsurface: float
    clothing: ClothingSpec
    position_xy: tuple[float, float]
    facing_deg: float
    motion: MotionSpec
    seat: SeatSpec | None  # where a sitting action sits (None: not sitting, or a recorded sit on the floor)


@dataclass(frozen=True, slots=True)
class RenderSpec:
    engine: str
    device: str
    width: int
    height: int
    fps: int
    frames: int
    samples: int
    denoise: bool
    denoise_quality: str  # fast | balanced | high (OpenImageDenoise)
    denoise_prefilter: str  # none | fast | accurate
    noise_seed: str  # fixed | animated: the path tracer's sample pattern over frames
    sensor_noise: float  # std in grey levels of Gaussian noise added to the frames (0: none)
    sensor_noise_seed: int
    motion_blur: float  # shutter as a share of the frame time (RGB only); 0: none
    modalities: tuple[str, ...]
    rgb_format: str
    precision: str  # compact (depth and flow as 16-bit PNGs) | float32


@dataclass(frozen=True, slots=True)
class SceneSpec:
    scene_id: str
    spec_version: int
    batch: str
    seed: int
    index: int
    motion_group: int  # scenes with equal motion_group render the same motion(s)
    split: str  # train | val | test (their bodies, backgrounds and camera setups do not overlap)
    camera: CameraSpec
    environment: EnvironmentSpec
    actors: tuple[ActorSpec, ...]
    render: RenderSpec
    text: str  # a short description of the clip: who does what, the camera, the weather and the ground


_SCALARS = (str, int, float, bool, type(None))


@functools.cache
def _field_names(cls: type) -> tuple[str, ...] | None:
    return tuple(f.name for f in dataclasses.fields(cls)) if dataclasses.is_dataclass(cls) else None


def _plain(value: Any) -> Any:
    if isinstance(value, _SCALARS):
        return value
    names = _field_names(type(value))
    if names is not None:
        out = {}
        for name in names:
            v = getattr(value, name)
            out[name] = v if isinstance(v, _SCALARS) else _plain(v)
        return out
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value


def spec_to_dict(spec: Any) -> dict:
    return _plain(spec)


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)


def stable_hash(data: Any, length: int = 16) -> str:
    return blake2b(canonical_json(data).encode(), digest_size=length // 2).hexdigest()


@functools.cache
def _spec_adapter():
    from pydantic import TypeAdapter

    return TypeAdapter(SceneSpec)


def scene_spec_json_schema() -> dict:
    return _spec_adapter().json_schema()


def spec_from_dict(data: dict) -> SceneSpec:
    """Rebuild a SceneSpec from its JSON form, checking that scene_id still matches the content. Specs of earlier
    versions read as they were written (what they lack has its default); a later version's may mean what this
    SynthAct cannot know, so it is refused."""
    version = data.get("spec_version") if isinstance(data, dict) else None
    if isinstance(version, int) and version > SPEC_VERSION:
        raise ValueError(f"scene {data.get('scene_id', '?')}: spec_version {version} was written by a newer SynthAct "
                         f"(this one reads up to {SPEC_VERSION}); upgrade synthact to read it")
    spec = _spec_adapter().validate_python(data)
    expected = scene_id_of(spec_to_dict(spec))
    if spec.scene_id != expected and _written_id(data) != spec.scene_id:  # an older spec lacks later fields
        raise ValueError(f"scene_id {spec.scene_id} does not match the spec's content (expected {expected})")
    return spec


def _written_id(data: dict) -> str | None:
    """The id of the content as written (what a spec of an earlier version, without the fields added since, was
    hashed as)."""
    try:
        return scene_id_of(data)
    except (TypeError, ValueError):
        return None


def scene_id_of(spec_dict: dict) -> str:
    return identify({k: v for k, v in spec_dict.items() if k != "scene_id"})[0]


def identify(body: dict) -> tuple[str, str]:
    """(scene_id, the spec as one canonical JSON line) for a spec's content without its id."""
    text = canonical_json(body)
    scene_id = blake2b(text.encode(), digest_size=8).hexdigest()
    return scene_id, f'{{"scene_id":"{scene_id}",{text[1:]}'


def spec_from_json(line: str) -> SceneSpec:
    return spec_from_dict(json.loads(line))
