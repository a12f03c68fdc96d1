"""No accepted option is ignored: every BatchConfig field changes the sampled SceneSpecs (or is one of the
few that act elsewhere, each checked here), and the renderer reads every field of a SceneSpec."""
import copy
import os
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from synthact.config import BatchConfig
from synthact.config.distributions import StrictModel
from synthact.scene import SceneSampler
from synthact.spec import SceneSpec, spec_to_dict

BASE = {"batch": {"name": "base", "seed": 3}}

# field path -> (extra settings that make the field matter, a new value for it)
CHANGES = {
    "batch.name": ({}, "other"),
    "batch.seed": ({}, 4),
    "camera.focal_length_mm": ({}, 85),
    "camera.fov_deg": ({}, 40),
    "camera.sensor_width_mm": ({"camera": {"focal_length_mm": 35}}, 24.0),
    "camera.distance_m": ({}, 9),
    "camera.height_m": ({}, 3),
    "camera.yaw_deg": ({}, 33),
    "camera.pitch_offset_deg": ({}, 5),
    "camera.roll_deg": ({}, 3),
    "camera.motion.type": ({}, "pan"),
    "camera.motion.pan_deg_per_s": ({"camera": {"motion": {"type": "pan"}}}, 5),
    "camera.motion.orbit_deg_per_s": ({"camera": {"motion": {"type": "orbit"}}}, 5),
    "camera.motion.dolly_m_per_s": ({"camera": {"motion": {"type": "dolly"}}}, 0.3),
    "camera.motion.shake_amplitude_deg": ({"camera": {"motion": {"type": "handheld"}}}, 2),
    "camera.motion.shake_frequency_hz": ({"camera": {"motion": {"type": "handheld"}}}, 5),
    "environment.kind": ({"environment": {"kind": ["outdoor", "room"], "places": {"library": "rooms"}}}, "room"),
    "environment.places.library": ({"environment": {"kind": "room", "places": {"library": "rooms"}}}, "others"),
    "environment.places.room_types": ({"environment": {"kind": "room", "places": {"library": "rooms"}}},
                                      ["bedroom"]),
    "environment.ground": ({}, "sand"),
    "environment.props_density": ({}, 0.9),
    "environment.prop_library": ({}, "others"),  # a place library's props (the renderer: tests/test_render.py)
    "environment.terrain_height_m": ({}, 5.0),
    "environment.time_of_day.sun_elevation_deg": ({}, 20),
    "environment.time_of_day.sun_azimuth_deg": ({}, 90),
    "environment.sky": ({}, "overcast"),
    "environment.weather.type": ({}, "rain"),
    "environment.weather.intensity": ({}, 0.5),
    "environment.backgrounds": ({"environment": {"sky": "background"}}, {"pack": "city"}),
    "environment.hdri": ({"environment": {"sky": "hdri"}}, {"pack": "studio"}),
    "actors.count": ({}, 2),
    "actors.motion_sharing": ({"actors": {"count": 2}}, "same"),
    "actors.body_model": ({"actors": {"clothing": {"style": "painted"}}}, "smplx"),
    "actors.skin_tone_monk": ({}, 4),
    "actors.clothing.style": ({}, "painted"),
    "actors.clothing.top_sleeves": ({"actors": {"clothing": {"style": "painted"}}}, "none"),
    "actors.clothing.bottom_length": ({"actors": {"clothing": {"style": "painted"}}}, "shorts"),
    "actors.clothing.outfit": ({}, "male_worksuit01"),
    "actors.clothing.footwear": ({}, "shoes03"),
    "actors.clothing.hat": ({"actors": {"clothing": {"hat_probability": 1.0}}}, "fedora_cocked"),
    "actors.clothing.hat_probability": ({}, 1.0),
    "actors.clothing.hair": ({}, "afro01"),
    "actors.clothing.hair_probability": ({}, 0.0),
    "actors.clothing.hair_melanin": ({}, 0.5),
    "actors.clothing.hair_redness": ({}, 0.9),
    "actors.clothing.eyebrows": ({}, "eyebrow003"),
    "actors.clothing.eyelashes": ({}, "eyelashes02"),
    "actors.placement.spread_m": ({}, 5),
    "actors.placement.min_separation_m": ({"actors": {"count": 3, "placement": {"spread_m": 1}}}, 3),
    "actors.placement.facing_deg": ({}, 45),
    "motion.library": ({"motion": {"selection": {"policy": "explicit", "clips": ["bow_deep"]}}}, "procedural_copy"),
    "motion.selection.policy": ({}, "balanced"),
    "motion.selection.classes": ({}, ["wave_left_high"]),
    "motion.selection.quotas": ({"motion": {"selection": {"policy": "quotas", "quotas": {"bow_deep": 1}}}},
                                {"jump_vertical": 2}),
    "motion.selection.clips": ({"motion": {"selection": {"policy": "explicit", "clips": ["bow_deep"]}}},
                               ["jump_vertical"]),
    "motion.renders_per_motion": ({}, 2),
    "motion.window.start_fraction": ({}, 0.3),
    "motion.window.length_s": ({"motion": {"library": "mini"}}, 2.0),
    "motion.window.stride_s": ({"motion": {"library": "mini"}}, 0.5),
    "motion.window.min_energy": ({}, 0.3),
    "motion.class_granularity": ({}, "motion"),
    "motion.speed": ({}, 1.5),
    "motion.mirror_probability": ({}, 1.0),
    "render.engine": ({}, "workbench"),
    "render.device": ({}, "cpu"),
    "render.resolution.width": ({}, 100),
    "render.resolution.height": ({}, 100),
    "render.fps": ({}, 24),
    "render.frames": ({}, 10),
    "render.samples": ({}, 16),
    "render.denoise": ({}, False),
    "render.modalities": ({}, ["rgb"]),
    "render.rgb_format": ({}, "jpg"),
    "render.precision": ({}, "float32"),
    "render.denoiser.quality": ({}, "high"),
    "render.denoiser.prefilter": ({}, "accurate"),
    "render.noise_seed": ({}, "animated"),
    "render.sensor_noise": ({}, 2.0),
    "render.motion_blur": ({}, 0.5),
    "camera.framing": ({}, 0.5),
    "camera.fstop": ({}, 2.8),
    "camera.exposure_ev": ({}, 0.5),
    "camera.white_balance_k": ({}, 5000),
    "environment.hdri_rotation_deg": ({"environment": {"sky": "hdri", "hdri": {"pack": "studio"}}}, 90),
    "environment.hdri_exposure_ev": ({"environment": {"sky": "hdri", "hdri": {"pack": "studio"}}}, 1.0),
    "actors.skin_roughness": ({}, 0.7),
    "actors.skin_subsurface": ({}, 0.6),
    "splits.val": ({}, 0.3),
    "splits.test": ({}, 0.3),
    "splits.hold_out": ({"splits": {"val": 0.3, "test": 0.3}}, ["body"]),
    "splits.motions_by": ({"motion": {"library": "subjects", "selection": {"policy": "balanced",
                                                                          "classes": ["walk", "jump"]}},
                           "splits": {"test": 0.4}}, "trial"),
}
for part in ("gender", "age", "muscle", "weight", "height", "proportions"):
    CHANGES[f"actors.shape.{part}"] = ({}, 0.3)
for garment in ("top", "bottom", "shoes"):
    for field, value in (("hue_deg", 200), ("saturation", 0.5), ("value", 0.5), ("pattern", "checker")):
        CHANGES[f"actors.clothing.{garment}.{field}"] = ({}, value)

# Fields that do not enter the spec, and where each one acts (checked below).
ELSEWHERE = {
    "version": "the format version: any other value is rejected",
    "batch.count": "how many scenes `synthact render` and `synthact sample` take by default",
    "batch.output": "where `synthact render` writes without --out",
}


def leaf_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every field of the config that a user sets (sections are walked into, distributions are leaves)."""
    out = []
    for name, field in model.model_fields.items():
        tp = field.annotation
        args = [a for a in typing.get_args(tp) if a is not type(None)] or [tp]
        section = args[0] if len(args) == 1 else None
        if isinstance(section, type) and issubclass(section, StrictModel) and "dist" not in section.model_fields \
                and section.__name__ != "PackRef":
            out += leaf_paths(section, f"{prefix}{name}.")
        else:
            out.append(prefix + name)
    return out


def merged(base: dict, extra: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in extra.items():
        out[key] = merged(out.get(key, {}), value) if isinstance(value, dict) and key in out else value
    return out


def with_value(data: dict, path: str, value) -> dict:
    out = copy.deepcopy(data)
    node = out
    *parents, leaf = path.split(".")
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = value
    return out


@pytest.fixture(scope="module")
def registry_with_copy(registry, library_root, subjects_library, tmp_path_factory):
    """The project's packs plus a second motion library, so motion.library has somewhere else to point, and
    the imported library `mini` (conftest.py)."""
    from synthact.config import AssetRegistry
    folder = tmp_path_factory.mktemp("assets")
    for f in registry.directory.glob("*.yaml"):
        text = f.read_text()
        if f.name == "motion_libraries.yaml":
            text += ('  - {name: procedural_copy, version: "1", license: CC0-1.0, source: test, builtin: true,\n'
                     '     options: {classes: {bow_deep: [], jump_vertical: []}}}\n')
        (folder / f.name).write_text(text)
    return AssetRegistry.load(folder, library_root=library_root)


def specs(data: dict, registry, n: int = 6) -> list[dict]:
    config = BatchConfig.model_validate(data)
    return [spec_to_dict(s) for s in SceneSampler.create(config, registry).iter_specs(0, n)]


@pytest.fixture(autouse=True)
def place_libraries(tmp_path_factory, monkeypatch):
    """Place libraries for environment.places to point at (fabricated: sampling reads only their records)."""
    from support.places import fabricate_library
    root = tmp_path_factory.getbasetemp() / "environments"
    if not root.exists():
        fabricate_library(root, "rooms", places=(("dining", "dining_room"), ("bed", "bedroom")))
        fabricate_library(root, "others", places=(("study", "study"),))
    monkeypatch.setenv("SYNTHACT_ENVIRONMENTS", str(root))


def test_every_field_is_covered():
    assert sorted(set(CHANGES) | set(ELSEWHERE)) == sorted(leaf_paths(BatchConfig)), \
        "a BatchConfig field was added or removed: say how it changes the spec (CHANGES) or where it acts"


@pytest.mark.parametrize("path", sorted(CHANGES))
def test_field_changes_the_specs(path, registry_with_copy):
    extra, value = CHANGES[path]
    base = merged(BASE, extra)
    before = specs(base, registry_with_copy)
    after = specs(with_value(base, path, value), registry_with_copy)
    assert before != after, f"{path} = {value!r} changes no SceneSpec"


def test_fields_that_act_elsewhere(tmp_path):
    from typer.testing import CliRunner

    from synthact.cli import app
    with pytest.raises(Exception, match="version"):
        BatchConfig.model_validate({**BASE, "version": 2})
    runner = CliRunner()
    (tmp_path / "batch.yaml").write_text("batch: {name: counted, count: 3}\n")
    result = runner.invoke(app, ["sample", str(tmp_path / "batch.yaml")])
    assert result.exit_code == 0 and len(result.stdout.splitlines()) == 3
    # batch.output: tests/test_dispatch.py::test_render_writes_to_batch_output_without_out
    assert "batch.output" in ELSEWHERE


def test_the_renderer_reads_every_spec_field(registry_with_libraries):
    """Render tiny scenes with a spec that records which fields the renderer reads; every field must be
    read by at least one scene (identity fields excepted: they name the clip, they do not shape it)."""
    pytest.importorskip("bpy")
    from synthact.render.worker import RenderWorker
    identity = {"scene_id", "spec_version", "batch", "seed", "index", "motion_group", "split", "actors.actor_index",
                "actors.motion.class_name", "actors.motion.motion_key",  # labels of what is seen, not inputs
                "actors.motion.label", "actors.motion.description", "text",
                "camera.motion.type",  # names the motion; its parameters (0 for other types) are read
                "environment.place.room_type", "environment.place.near",  # the clip text's words for the place
                "actors.seat.kind"}
    packs = ("environment.background.",)  # needs an image pack: tests/test_render.py
    identity |= {"render.precision"}  # how write_clip stores depth and flow: tests/test_storage.py
    base = {"batch": {"name": "reads", "seed": 1},
            "render": {"resolution": {"width": 16, "height": 16}, "frames": 2, "samples": 1, "device": "cpu"},
            "environment": {"props_density": 0.1}}
    variants = [
        {},
        {"camera": {"motion": {"type": "handheld"}}, "environment": {"weather": {"type": "rain"}, "sky": "overcast"}},
        {"camera": {"motion": {"type": "pan"}}, "actors": {"count": 2}},
        {"camera": {"motion": {"type": "orbit"}}},
        {"camera": {"motion": {"type": "dolly"}}, "render": {"rgb_format": "jpg"}},
        {"motion": {"library": "mini"}},  # an imported library: windows chosen when sampling
        {"environment": {"sky": "hdri", "hdri": {"pack": "blender_outdoor"}}, "render": {"sensor_noise": 2.0}},
        {"actors": {"clothing": {"style": "painted"}}},
        {"environment": {"kind": "room", "places": {"library": "tiny"}},  # a real room, made and imported here
         "camera": {"framing": 0.6, "fov_deg": 75, "height_m": 1.5},  # and a chair to sit on
         "motion": {"selection": {"policy": "explicit", "clips": ["sit_down"]}}},
    ]
    registry = registry_with_libraries
    from support.places import tiny_room_library
    tiny_room_library(Path(os.environ["SYNTHACT_ENVIRONMENTS"]))
    worker = RenderWorker(device="cpu", registry=registry)
    read: set[str] = set()
    for variant in variants:
        data = merged(base, variant)
        if data["environment"].get("kind") == "room":  # props are outdoor things
            del data["environment"]["props_density"]
        config = BatchConfig.model_validate(data)
        spec = SceneSampler.create(config, registry).sample(0)
        worker.render_layers(Recorder(spec, "", read))
    every = {p for p in field_paths(SceneSpec)}
    missing = sorted(p for p in every - read - identity if not p.startswith(packs))
    assert not missing, f"SceneSpec fields the renderer never reads: {missing}"


def field_paths(cls, prefix: str = "") -> list[str]:
    import dataclasses
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        args = typing.get_args(tp)
        inner = args[0] if typing.get_origin(tp) is tuple and args and args[-1] is Ellipsis else tp
        inner = next((a for a in typing.get_args(inner) if dataclasses.is_dataclass(a)), inner)
        if dataclasses.is_dataclass(inner):
            out += field_paths(inner, f"{prefix}{f.name}.")
        else:
            out.append(prefix + f.name)
    return out


class Recorder:
    """Wraps a spec (or part of one) and records the dotted path of every field read through it."""

    def __init__(self, target, prefix: str, read: set):
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_prefix", prefix)
        object.__setattr__(self, "_read", read)

    def __getattr__(self, name):
        import dataclasses
        value = getattr(self._target, name)
        path = f"{self._prefix}{name}"
        if dataclasses.is_dataclass(value):
            return Recorder(value, path + ".", self._read)
        if isinstance(value, tuple) and value and dataclasses.is_dataclass(value[0]):
            return tuple(Recorder(v, path + ".", self._read) for v in value)
        self._read.add(path)
        return value
