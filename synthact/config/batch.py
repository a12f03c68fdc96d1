"""BatchConfig: the YAML schema for a batch of scenes, each factor a distribution.

Validated once at the edge (`synthact.scene.load_batch_config` adds the checks against asset packs and
motion libraries); everything downstream gets typed objects.
The reference for every field is docs/FORMAT.md, and docs/batch_config.schema.json is generated
from these models.
"""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from synthact.spec import ENGINES, MODALITY_NAMES
from synthact.world import environments, weather
from synthact.world.grounds import GROUNDS
from synthact.world.skies import SKIES

from .distributions import StrictModel, category_dist, int_dist, name_dist, number_dist

Unit = number_dist(ge=0, le=1)
ASSET_NAME = name_dist(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")  # a garment by name; "all": every one of its kind
PositiveInt = Annotated[int, Field(strict=True, ge=1)]
Seconds = Annotated[float, Field(strict=True, gt=0, le=3600)]
PACK_NAME = r"^[a-z0-9][a-z0-9_\-]*$"

# the world's registries (synthact/world/) are the one list of each
GROUND_FAMILIES = tuple(GROUNDS)
WEATHER_TYPES = tuple(weather.registry())
SKY_TYPES = tuple(SKIES)
ENVIRONMENT_KINDS = tuple(environments.registry())
PATTERNS = ("solid", "stripes", "checker", "dots", "noise", "weave", "denim", "knit")
CAMERA_MOTIONS = ("static", "pan", "orbit", "dolly", "handheld")


class CameraMotionConfig(StrictModel):
    type: category_dist(*CAMERA_MOTIONS) = "static"
    pan_deg_per_s: number_dist(ge=-180, le=180) = {"min": -15, "max": 15}
    orbit_deg_per_s: number_dist(ge=-180, le=180) = {"min": -20, "max": 20}
    dolly_m_per_s: number_dist(ge=-5, le=5) = {"min": -0.5, "max": 0.5}
    shake_amplitude_deg: number_dist(ge=0, le=10) = {"min": 0.2, "max": 1.5}
    shake_frequency_hz: number_dist(gt=0, le=30) = {"min": 0.5, "max": 3}

    @model_validator(mode="after")
    def _used_by_a_type(self):
        types = self.type.options()
        needs = ((("pan_deg_per_s",), "pan"), (("orbit_deg_per_s",), "orbit"), (("dolly_m_per_s",), "dolly"),
                 (("shake_amplitude_deg", "shake_frequency_hz"), "handheld"))
        for fields, kind in needs:
            given = [f for f in fields if f in self.model_fields_set]
            if given and kind not in types:
                raise ValueError(f"{given[0]} only applies to camera motion {kind!r}, which type never is "
                                 f"(type: {', '.join(types)})")
        return self


class CameraConfig(StrictModel):
    focal_length_mm: number_dist(gt=0, le=2000) = {"min": 24, "max": 70}
    fov_deg: number_dist(gt=0, lt=180) | None = None  # horizontal; replaces focal_length_mm when given
    sensor_width_mm: Annotated[float, Field(strict=True, gt=0, le=100)] = 36.0
    distance_m: number_dist(gt=0, le=1000) = {"min": 3, "max": 8}
    height_m: number_dist(ge=-10, le=500) = {"min": 0.6, "max": 2.4}
    yaw_deg: number_dist(ge=-360, le=360) = {"min": -180, "max": 180}
    pitch_offset_deg: number_dist(ge=-60, le=60) = 0  # added to the pitch that looks at the actors
    roll_deg: number_dist(ge=-45, le=45) = {"dist": "normal", "mean": 0, "std": 2, "min": -8, "max": 8}
    motion: CameraMotionConfig = CameraMotionConfig()
    # Shot size: the share of the image height the actors' standing height spans (0.25 wide, 0.5 medium,
    # 0.9 close). Replaces distance_m when given; the camera then travels with the actors (a tracking shot).
    framing: number_dist(ge=0.05, le=1.5) | None = None
    fstop: number_dist(ge=0.5, le=64) | None = None  # depth of field, focused on the actors; none: all sharp
    exposure_ev: number_dist(ge=-4, le=4) = 0  # RGB only
    white_balance_k: number_dist(ge=1500, le=15000) = 6500  # RGB only; 6500: neutral

    @model_validator(mode="after")
    def _one_intrinsic(self):
        if self.fov_deg is not None and "focal_length_mm" in self.model_fields_set:
            raise ValueError("give either focal_length_mm or fov_deg, not both")
        if self.framing is not None and "distance_m" in self.model_fields_set:
            raise ValueError("give either distance_m or framing, not both")
        return self


class TimeOfDayConfig(StrictModel):
    sun_elevation_deg: number_dist(ge=-20, le=90) = {"min": 8, "max": 75}
    sun_azimuth_deg: number_dist(ge=0, le=360) = {"min": 0, "max": 360}


def _default_weather() -> dict:
    """Clear half the time, overcast a fifth, the rest shared by the other types."""
    share = {"clear": 0.5, "overcast": 0.2}
    rest = [w for w in WEATHER_TYPES if w not in share]
    return {"dist": "choice", "values": list(WEATHER_TYPES),
            "weights": [share.get(w, 0.3 / len(rest)) for w in WEATHER_TYPES]}


class WeatherConfig(StrictModel):
    type: category_dist(*WEATHER_TYPES) = _default_weather()
    intensity: Unit = {"min": 0.2, "max": 0.9}


class PackRef(StrictModel):
    pack: str
    probability: Annotated[float, Field(strict=True, ge=0, le=1)] = 1.0  # chance that a scene uses this pack


class PlacesRef(StrictModel):
    library: str = Field(pattern=PACK_NAME)  # a place library (`synthact environments list`)
    room_types: list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]] | None = None  # None: every room type


class EnvironmentConfig(StrictModel):
    kind: category_dist(*ENVIRONMENT_KINDS) = "outdoor"  # where clips happen (synthact/world/environments/)
    places: PlacesRef | None = None  # the rooms a 'room' scene is set in
    ground: category_dist(*GROUND_FAMILIES) = [g for g in GROUND_FAMILIES if GROUNDS[g].sky is None]
    props_density: Unit = {"min": 0.0, "max": 0.6}
    terrain_height_m: number_dist(ge=0, le=30) = 0.0  # hills beyond the flat area around actors and camera (0: a plane)
    prop_library: str | None = Field(None, pattern=PACK_NAME)  # a place library's props instead of primitive shapes
    time_of_day: TimeOfDayConfig = TimeOfDayConfig()
    sky: category_dist(*SKY_TYPES) = "physical"
    weather: WeatherConfig = WeatherConfig()
    backgrounds: PackRef | None = None
    hdri: PackRef | None = None
    hdri_rotation_deg: number_dist(ge=0, le=360) = {"min": 0, "max": 360}  # turn about the vertical
    hdri_exposure_ev: number_dist(ge=-4, le=4) = {"min": -0.5, "max": 0.5}  # brightness: strength 2 ** ev

    @model_validator(mode="after")
    def _options_of_sampled_kinds(self):
        kinds = [environments.registry()[k] for k in self.kind.options()]
        read = set().union(*(k.options for k in kinds))
        for name in sorted(self.model_fields_set - read - {"kind"}):
            raise ValueError(f"{name} has no effect: environment.kind is only {', '.join(self.kind.options())}, "
                             f"which never reads it")
        if any(k.uses_places for k in kinds) and self.places is None:
            raise ValueError("environment.kind can be a room but environment.places names no place library")
        return self

    @model_validator(mode="after")
    def _packs_are_used(self):
        skies = self.sky.options()
        for field in ("hdri_rotation_deg", "hdri_exposure_ev"):
            if field in self.model_fields_set and "hdri" not in skies:
                raise ValueError(f"{field} only applies to an HDRI sky, and sky is never 'hdri'")
        if "time_of_day" in self.model_fields_set and skies == ["hdri"]:
            raise ValueError("time_of_day has no effect: the sky is always an HDRI, which brings its own sun")
        # intensity shapes fog, rain and snow, and darkens an overcast sky in clear weather
        types = set(self.weather.type.options())
        shaped = any(weather.registry()[t].shaped_by_intensity for t in types)
        if "intensity" in self.weather.model_fields_set and not shaped and not (
                "clear" in types and "overcast" in skies):
            raise ValueError("weather.intensity has no effect: weather is only clear or overcast and the sky is "
                             "never 'overcast'")
        if "terrain_height_m" in self.model_fields_set and not any(GROUNDS[g].natural for g in self.ground.options()):
            raise ValueError("terrain_height_m has no effect: hills rise only under natural grounds (grass, dirt, "
                             "sand, gravel, snow) and ground is never one")
        grounds = self.ground.options()
        for g in grounds:
            if GROUNDS[g].sky is not None and GROUNDS[g].sky not in skies:
                raise ValueError(f"ground {g!r} needs sky {GROUNDS[g].sky!r} (it shows that sky's photograph), and "
                                 f"sky is never {GROUNDS[g].sky!r}")
        for sky in skies:
            if not any(GROUNDS[g].sky in (None, sky) for g in grounds):
                raise ValueError(f"sky can be {sky!r} but no ground can go under it (ground: {', '.join(grounds)}); "
                                 f"add a ground that needs no particular sky")
        for field, sky in (("backgrounds", "background"), ("hdri", "hdri")):
            if getattr(self, field) is not None and sky not in skies:
                raise ValueError(f"{field} names a pack but sky is never {sky!r} (sky: {', '.join(skies)})")
        return self


class ShapeConfig(StrictModel):
    """anny phenotype parameters, each in [0, 1] (see docs/FORMAT.md for what the ends mean)."""

    gender: Unit = {"min": 0, "max": 1}
    age: Unit = {"min": 0.76, "max": 0.92}  # adults: about 18 to 85 years
    muscle: Unit = {"min": 0.2, "max": 0.8}
    weight: Unit = {"min": 0.2, "max": 0.8}
    height: Unit = {"min": 0.2, "max": 0.8}
    proportions: Unit = {"min": 0.3, "max": 0.7}


class GarmentConfig(StrictModel):
    hue_deg: number_dist(ge=0, le=360) = {"min": 0, "max": 360}
    saturation: Unit = {"min": 0.1, "max": 0.9}
    value: Unit = {"min": 0.15, "max": 0.9}
    pattern: category_dist(*PATTERNS) = {"dist": "choice", "values": list(PATTERNS),
                                         "weights": [0.35, 0.1, 0.08, 0.07, 0.1, 0.1, 0.1, 0.1]}


class ClothingConfig(StrictModel):
    """What actors wear. style garments: fitted MakeHuman clothes, shoes, hats, hair, eyebrows and eyelashes
    (names from `synthact garments list`; "all" is every one of a kind); style painted: colours painted on the
    body's skin, the cheap look. top, bottom and shoes give the fabric colours and patterns either way."""

    style: category_dist("garments", "painted") = "garments"
    top: GarmentConfig = GarmentConfig()
    top_sleeves: category_dist("none", "short", "long") = ["short", "long"]  # painted
    bottom: GarmentConfig = GarmentConfig(saturation={"min": 0.05, "max": 0.6}, value={"min": 0.1, "max": 0.6})
    bottom_length: category_dist("shorts", "knee", "long") = {"dist": "choice", "values": ["shorts", "knee", "long"],
                                                              "weights": [0.2, 0.2, 0.6]}  # painted
    shoes: GarmentConfig = GarmentConfig(saturation={"min": 0.0, "max": 0.4}, value={"min": 0.05, "max": 0.7},
                                         pattern="solid")
    outfit: ASSET_NAME = "all"  # an outfit whose name says the body's gender (male_/female_) when "all"
    footwear: ASSET_NAME = "all"
    hat: ASSET_NAME = "all"
    hat_probability: Annotated[float, Field(strict=True, ge=0, le=1)] = 0.1
    hair: ASSET_NAME = "all"
    hair_probability: Annotated[float, Field(strict=True, ge=0, le=1)] = 0.9  # the rest are bald
    hair_melanin: Unit = {"min": 0.05, "max": 0.95}  # 0 blond/grey .. 1 black
    hair_redness: Unit = {"min": 0.0, "max": 0.5}
    eyebrows: ASSET_NAME = "all"
    eyelashes: ASSET_NAME = "all"

    @model_validator(mode="after")
    def _style_fields_used(self):
        styles = self.style.options()
        painted = ("top_sleeves", "bottom_length")
        fitted = ("outfit", "footwear", "hat", "hat_probability", "hair", "hair_probability", "hair_melanin",
                  "hair_redness", "eyebrows", "eyelashes")
        for fields, style in ((painted, "painted"), (fitted, "garments")):
            given = [f for f in fields if f in self.model_fields_set]
            if given and style not in styles:
                raise ValueError(f"{given[0]} only applies to style {style!r}, which style never is")
        return self


class PlacementConfig(StrictModel):
    spread_m: number_dist(ge=0, le=50) = {"min": 0.0, "max": 2.0}  # radius around the scene centre
    min_separation_m: Annotated[float, Field(strict=True, ge=0, le=10)] = 0.8
    facing_deg: number_dist(ge=-360, le=360) = {"min": -180, "max": 180}


class ActorsConfig(StrictModel):
    count: int_dist(ge=1, le=16) = 1
    motion_sharing: Literal["independent", "same"] = "independent"  # same: every actor plays one motion (GATA)
    body_model: category_dist("anny", "smplx") = "anny"
    shape: ShapeConfig = ShapeConfig()
    skin_tone_monk: int_dist(ge=1, le=10) = {"min": 1, "max": 10}  # Monk Skin Tone scale
    skin_roughness: number_dist(ge=0.05, le=1) = {"min": 0.35, "max": 0.55}
    skin_subsurface: number_dist(ge=0, le=1) = {"min": 0.1, "max": 0.3}  # weight of subsurface scattering
    clothing: ClothingConfig = ClothingConfig()
    placement: PlacementConfig = PlacementConfig()

    @model_validator(mode="after")
    def _garments_fit_anny_only(self):
        if "smplx" in self.body_model.options() and "garments" in self.clothing.style.options():
            raise ValueError("body_model smplx cannot wear clothing.style garments (the fitted garments are made on "
                             "anny's mesh); use clothing.style: painted with smplx, or body_model: anny")
        return self

    @model_validator(mode="after")
    def _several_actors_for_group_settings(self):
        if max(self.count.options()) == 1:
            given = [f for f, fields in (("motion_sharing", self.model_fields_set),
                                         ("placement.min_separation_m", self.placement.model_fields_set))
                     if f.rsplit(".", 1)[-1] in fields]
            if given:
                raise ValueError(f"{given[0]} only applies to scenes with several actors, and count is always 1")
        return self


class SelectionConfig(StrictModel):
    """Which class (or clip) each motion is: see docs/FORMAT.md for the policies."""

    policy: Literal["uniform_classes", "balanced", "quotas", "explicit"] = "uniform_classes"
    classes: list[str] | Literal["all"] = "all"
    quotas: dict[str, PositiveInt] | None = None
    clips: list[str] | None = None

    @model_validator(mode="after")
    def _policy_inputs(self):
        if self.policy == "quotas" and not self.quotas:
            raise ValueError("policy 'quotas' needs a non-empty 'quotas' mapping of class -> count")
        if self.policy == "explicit" and not self.clips:
            raise ValueError("policy 'explicit' needs a non-empty 'clips' list")
        if self.classes != "all" and not self.classes:
            raise ValueError("classes must be 'all' or a non-empty list")
        used = {"uniform_classes": {"classes"}, "balanced": {"classes"}, "quotas": {"quotas"}, "explicit": {"clips"}}
        for field in ("classes", "quotas", "clips"):
            if field in self.model_fields_set and field not in used[self.policy]:
                raise ValueError(f"{field} is not used by policy {self.policy!r} (it uses "
                                 f"{', '.join(sorted(used[self.policy]))})")
        return self


class WindowConfig(StrictModel):
    """The stretch of a source motion that a clip shows: see docs/FORMAT.md, Motion windows."""

    start_fraction: Unit = {"min": 0, "max": 1}  # where the rendered frames start in the window's spare time
    length_s: Seconds | None = None  # imported libraries' windows; default: render.frames / render.fps
    stride_s: Seconds | None = None  # between window starts; default: length_s (windows do not overlap)
    min_energy: Annotated[float, Field(strict=True, ge=0, le=10)] = 0.05  # m/s: median mean-joint speed


class MotionConfig(StrictModel):
    library: name_dist(PACK_NAME) = "procedural"  # several, with weights: motions interleave by weight
    class_granularity: Literal["label", "motion"] = "label"  # motion: every window (instance) is its own class
    selection: SelectionConfig = SelectionConfig()
    renders_per_motion: Annotated[int, Field(strict=True, ge=1, le=10000)] = 1
    window: WindowConfig = WindowConfig()
    speed: number_dist(gt=0, le=4) = {"min": 0.85, "max": 1.15}
    mirror_probability: Annotated[float, Field(strict=True, ge=0, le=1)] = 0.5

    @model_validator(mode="after")
    def _one_library_for_named_clips(self):
        libraries = self.library.options()
        if len(libraries) > 1 and self.selection.policy in ("quotas", "explicit"):
            raise ValueError(f"selection policy {self.selection.policy!r} draws from one library, but library names "
                             f"{len(libraries)}; mix libraries with policy uniform_classes or balanced")
        return self


class ResolutionConfig(StrictModel):
    width: Annotated[int, Field(strict=True, ge=16, le=8192)] = 224
    height: Annotated[int, Field(strict=True, ge=16, le=8192)] = 224


class DenoiserConfig(StrictModel):
    """OpenImageDenoise on the RGB render (with albedo and normal guides)."""

    quality: Literal["fast", "balanced", "high"] = "fast"  # as clean as balanced here at half its cost (BENCHMARKS.md)
    prefilter: Literal["none", "fast", "accurate"] = "fast"  # how the albedo/normal guides are cleaned first


class RenderConfig(StrictModel):
    engine: Literal[ENGINES] = "cycles"  # type: ignore[valid-type]
    device: Literal["auto", "cpu", "gpu"] = "auto"
    resolution: ResolutionConfig = ResolutionConfig()
    fps: Annotated[int, Field(strict=True, ge=1, le=240)] = 30
    frames: Annotated[int, Field(strict=True, ge=2, le=10000)] = 32
    # Defaults from the measured frontier (BENCHMARKS.md): 1 sample, denoised, the same sample pattern every
    # frame, is flicker-free and ~2.4x faster than 4 noisy samples.
    samples: Annotated[int, Field(strict=True, ge=1, le=4096)] = 1
    denoise: bool = True
    denoiser: DenoiserConfig = DenoiserConfig()
    noise_seed: Literal["fixed", "animated"] = "fixed"  # animated: a new sample pattern every frame
    sensor_noise: number_dist(ge=0, le=30) = 0  # Gaussian noise added to the frames, std in grey levels, seeded
    motion_blur: number_dist(ge=0, le=1) = 0  # shutter open for this share of a frame (RGB only); 0: none
    modalities: list[Literal[MODALITY_NAMES]] = Field(default=list(MODALITY_NAMES), min_length=1)  # type: ignore[valid-type]
    rgb_format: Literal["mp4", "jpg", "both"] = "mp4"
    # compact: depth and flow as 16-bit PNGs with bounded error (docs/FORMAT.md); float32: exact arrays
    precision: Literal["compact", "float32"] = "compact"

    @field_validator("engine", mode="before")
    @classmethod
    def _no_eevee(cls, value):
        if value == "eevee":
            raise ValueError("engine 'eevee' is not supported: Blender's Python module renders EEVEE only with a GPU "
                             "and a display (about 40 s per frame without); use cycles (on the GPU when there is one) "
                             "or workbench for fast flat previews")
        return value

    @model_validator(mode="after")
    def _unique_modalities(self):
        if len(set(self.modalities)) != len(self.modalities):
            raise ValueError("modalities must not repeat")
        if "rgb_format" in self.model_fields_set and "rgb" not in self.modalities:
            raise ValueError("rgb_format is set but modalities has no rgb")
        if "precision" in self.model_fields_set and not {"depth", "flow"} & set(self.modalities):
            raise ValueError("precision is set but modalities has neither depth nor flow")
        if self.engine == "workbench":
            given = [f for f in ("samples", "denoise", "denoiser", "noise_seed", "motion_blur")
                     if f in self.model_fields_set]
            if given:
                raise ValueError(f"{given[0]} only applies to engine cycles (workbench does not sample or denoise)")
        if "denoiser" in self.model_fields_set and not self.denoise:
            raise ValueError("denoiser settings are given but denoise is false")
        return self


BATCH_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"  # a folder name on every filesystem and in URLs


class BatchSection(StrictModel):
    name: str = Field(pattern=BATCH_NAME_PATTERN)
    seed: Annotated[int, Field(strict=True, ge=0, lt=2**63)] = 0
    count: Annotated[int, Field(strict=True, ge=1, le=10**9)] = 8
    output: str = "output"  # a directory or URI; clips go to OUTPUT/<name>/


class SplitsConfig(StrictModel):
    """Fractions of motions in val and test; their bodies, backgrounds and camera setups are held out."""

    val: Annotated[float, Field(strict=True, ge=0, le=0.5)] = 0.0
    test: Annotated[float, Field(strict=True, ge=0, le=0.5)] = 0.0
    hold_out: list[Literal["body", "background", "camera"]] = ["body", "background", "camera"]
    motions_by: Literal["subject", "trial"] = "subject"  # imported libraries: what never crosses splits

    @property
    def enabled(self) -> bool:
        return self.val > 0 or self.test > 0

    @model_validator(mode="after")
    def _hold_out_needs_splits(self):
        for name in ("hold_out", "motions_by"):
            if name in self.model_fields_set and not self.enabled:
                raise ValueError(f"{name} only applies when val or test is above 0")
        return self


class BatchConfig(StrictModel):
    version: Literal[1] = 1
    batch: BatchSection
    camera: CameraConfig = CameraConfig()
    environment: EnvironmentConfig = EnvironmentConfig()
    actors: ActorsConfig = ActorsConfig()
    motion: MotionConfig = MotionConfig()
    render: RenderConfig = RenderConfig()
    splits: SplitsConfig = SplitsConfig()

    @model_validator(mode="after")
    def _splits_possible(self):
        s = self.splits
        if s.enabled and "background" in s.hold_out:
            needed = 1 + (s.val > 0) + (s.test > 0)  # rooms: places are held out (checked against the library)
            if self.environment.kind.options() == ["outdoor"] and len(self.environment.ground.options()) < needed:
                raise ValueError(f"splits: holding out backgrounds needs at least {needed} ground families in "
                                 f"environment.ground (one per split)")
        return self
