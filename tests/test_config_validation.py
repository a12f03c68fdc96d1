import subprocess
import sys
import textwrap

import pytest

from conftest import PRESETS, ROOT, write
from support.places import fabricate_library
from synthact.config.assets import AssetRegistry
from synthact.config.problems import InvalidFile
from synthact.scene import load_batch_config


def problems_of(tmp_path, registry, text: str) -> list[str]:
    path = write(tmp_path, textwrap.dedent(text))
    with pytest.raises(InvalidFile) as err:
        load_batch_config(path, registry)
    return [str(p).replace(str(path), "CFG") for p in err.value.problems]


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.name)
def test_presets_are_valid(preset, registry, tmp_path, monkeypatch):
    monkeypatch.setenv("SYNTHACT_ENVIRONMENTS", str(tmp_path))
    fabricate_library(tmp_path, "rooms")  # rooms.yaml names a place library, which users import first
    config = load_batch_config(preset, registry)
    assert config.batch.count >= 1


def test_every_problem_is_reported_with_line_and_path(tmp_path, registry):
    found = problems_of(tmp_path, registry, """\
        batch:
          name: demo
        camera:
          distance_m: {min: -1, max: 4}
          fov_deg: 400
          yaw_deg: {dist: unifrom, min: 0, max: 1}
          pich_offset_deg: 3
        actors:
          count: 2.5
        render:
          frames: 1
          modalities: [rgb, depht]
        """)
    assert found == [
        "CFG:4 camera.distance_m.min: must be > 0, got -1",
        "CFG:5 camera.fov_deg: must be < 180, got 400",
        "CFG:6 camera.yaw_deg: unknown dist 'unifrom'; expected one of 'fixed', 'uniform', 'normal', 'choice'",
        "CFG:7 camera.pich_offset_deg: unknown key 'pich_offset_deg' (did you mean 'pitch_offset_deg'?)",
        "CFG:9 actors.count: must be an integer, got 2.5",
        "CFG:11 render.frames: must be >= 2, got 1",
        "CFG:12 render.modalities[1]: must be one of 'rgb', 'depth', 'flow', 'segmentation' or 'keypoints', "
        "got 'depht'",
    ]


def test_distribution_shapes_are_checked(tmp_path, registry):
    found = problems_of(tmp_path, registry, """\
        batch: {name: demo}
        camera:
          distance_m: {min: 9, max: 2}
          roll_deg: {dist: normal, mean: 0, std: 1}
          height_m: {dist: choice, values: [1, 2], weights: [1]}
          focal_length_mm: {dist: normal, mean: 50, std: -3, min: 10, max: 90}
        environment:
          weather: {type: [clear, sunny]}
        """)
    assert found == [
        "CFG:3 camera.distance_m: min (9.0) must be <= max (2.0)",
        "CFG:4 camera.roll_deg: this field is bounded below: give the normal a 'min' to clip at",
        "CFG:5 camera.height_m: weights has 1 entries but values has 2",
        "CFG:6 camera.focal_length_mm.std: must be >= 0, got -3",
        "CFG:8 environment.weather.type[1]: must be one of 'clear', 'fog', 'overcast', 'rain' or 'snow', "
        "got 'sunny'",
    ]


def test_missing_required_section_and_wrong_types(tmp_path, registry):
    found = problems_of(tmp_path, registry, """\
        camera:
          yaw_deg: fast
        render:
          fps: "30"
          denoise: maybe
        """)
    assert found[0] == "CFG:1 batch: required but missing"
    assert "CFG:2 camera.yaw_deg: must be a number, got 'fast'" in found
    assert "CFG:4 render.fps: must be an integer, got '30'" in found
    assert any(p.startswith("CFG:5 render.denoise:") for p in found)


def test_missing_asset_packs_name_the_manifest(tmp_path, registry):
    found = problems_of(tmp_path, registry, """\
        batch: {name: demo}
        environment:
          sky: [physical, hdri, background]
          backgrounds: {pack: city}
        actors:
          body_model: [anny, smplx]
          clothing: {style: painted}
        """)
    assets = registry.directory
    assert len(found) == 3
    assert found[0] == "CFG:3 environment.sky: sky can be 'hdri' but environment.hdri names no pack"
    assert found[1].startswith("CFG:4 environment.backgrounds.pack: backgrounds pack 'city' is not declared; "
                               "add it to ")
    assert found[1].split("add it to ")[1].startswith(str((assets / "backgrounds.yaml").relative_to(ROOT))) \
        or str(assets / "backgrounds.yaml") in found[1]
    assert found[2].startswith("CFG:6 actors.body_model: body_model pack 'smplx' is not declared")
    assert "body_models.yaml" in found[2]


def test_declared_pack_is_accepted(tmp_path):
    assets = tmp_path / "assets"
    assets.mkdir()
    for f in (ROOT / "synthact" / "assets_manifests").glob("*.yaml"):
        (assets / f.name).write_text(f.read_text())
    (assets / "backgrounds.yaml").write_text(textwrap.dedent("""\
        kind: backgrounds
        packs:
          - {name: city, version: "1", license: CC0-1.0, source: test, path: imgs}
        """))
    registry = AssetRegistry.load(assets)
    path = write(tmp_path, "batch: {name: demo}\nenvironment:\n  sky: [physical, background]\n"
                           "  backgrounds: {pack: city, probability: 0.5}\n")
    config = load_batch_config(path, registry)
    assert registry.get("backgrounds", "city").location() == assets / "imgs"
    assert config.environment.backgrounds.pack == "city"


def test_photographs_of_an_hdri_pack_are_checked_and_a_weather_they_never_show_is_refused(tmp_path, registry):
    found = problems_of(tmp_path, registry, """\
        batch: {name: demo}
        environment:
          sky: hdri
          hdri: {pack: blender_outdoor}
          weather: {type: [clear, snow]}
        """)
    assert found == ["CFG:5 environment.weather.type: weather 'snow' never happens: every scene is under a "
                     "photograph of hdri pack 'blender_outdoor', which shows only clear, fog, overcast"]
    assets = tmp_path / "assets"
    assets.mkdir()
    for f in (ROOT / "synthact" / "assets_manifests").glob("*.yaml"):
        (assets / f.name).write_text(f.read_text().replace("weather: [clear, fog]", "weather: [clear, hail]"))
    found = problems_of(tmp_path, AssetRegistry.load(assets), """\
        batch: {name: demo}
        environment: {sky: [hdri, physical], hdri: {pack: blender_outdoor}}
        """)
    assert len(found) == 1 and found[0].startswith("CFG:2 environment.hdri.pack: hdri pack 'blender_outdoor' in ")
    assert found[0].endswith("hdris.yaml: options.photographs.sunrise.exr.weather: unknown weather 'hail' (known: "
                             "clear, fog, overcast, rain, snow)")


def test_unknown_classes_get_suggestions(tmp_path, registry):
    found = problems_of(tmp_path, registry, """\
        batch: {name: demo}
        motion:
          selection:
            policy: quotas
            quotas: {walk_forward_slow: 3, wave_rigth_high: 2}
        """)
    assert found == [
        "CFG:5 motion.selection.quotas.wave_rigth_high: unknown class 'wave_rigth_high' in motion library "
        "'procedural' (did you mean 'wave_right_high'?)"]
    found = problems_of(tmp_path, registry, """\
        batch: {name: demo}
        motion:
          selection:
            classes: [walk_forward_slow, jmup_vertical]
        """)
    assert found == [
        "CFG:4 motion.selection.classes[1]: unknown class 'jmup_vertical' in motion library 'procedural' "
        "(did you mean 'jump_vertical'?)"]


@pytest.mark.parametrize("yaml, message", [
    ("camera: {motion: {type: [static, orbit], pan_deg_per_s: 5}}",
     "camera.motion: pan_deg_per_s only applies to camera motion 'pan', which type never is (type: static, orbit)"),
    ("environment: {sky: physical, hdri: {pack: studio}}",
     "environment: hdri names a pack but sky is never 'hdri' (sky: physical)"),
    ("environment: {weather: {type: [clear, overcast], intensity: 0.5}}",
     "environment: weather.intensity has no effect: weather is only clear or overcast and the sky is never "
     "'overcast'"),
    ("actors: {motion_sharing: same}",
     "actors: motion_sharing only applies to scenes with several actors, and count is always 1"),
    ("motion: {selection: {policy: balanced, quotas: {bow_deep: 2}}}",
     "motion.selection: quotas is not used by policy 'balanced' (it uses classes)"),
    ("motion: {selection: {policy: explicit, clips: [bow_deep], classes: [bow_deep]}}",
     "motion.selection: classes is not used by policy 'explicit' (it uses clips)"),
    ("splits: {hold_out: [body]}", "splits: hold_out only applies when val or test is above 0"),
    ("render: {modalities: [depth], rgb_format: jpg}", "render: rgb_format is set but modalities has no rgb"),
    ("render: {engine: workbench, samples: 64}",
     "render: samples only applies to engine cycles (workbench does not sample or denoise)"),
    ("render: {engine: eevee}", "render.engine: engine 'eevee' is not supported"),
    ("environment: {ground: [grass, photo], sky: [physical, overcast]}",
     "environment: ground 'photo' needs sky 'hdri' (it shows that sky's photograph), and sky is never 'hdri'"),
    ("environment: {ground: photo, sky: [hdri, physical], hdri: {pack: blender_outdoor}}",
     "environment: sky can be 'physical' but no ground can go under it (ground: photo); add a ground that needs "
     "no particular sky"),
])
def test_options_that_would_be_ignored_are_rejected(tmp_path, registry, yaml, message):
    found = problems_of(tmp_path, registry, "batch: {name: demo}\n" + yaml + "\n")
    assert len(found) == 1 and found[0].startswith("CFG:2 " + message), found


def test_policy_needs_its_inputs_and_intrinsics_are_exclusive(tmp_path, registry):
    found = problems_of(tmp_path, registry, """\
        batch: {name: demo}
        camera:
          focal_length_mm: 35
          fov_deg: 60
        motion:
          library: cmu
          selection: {policy: quotas}
        """)
    assert found == [
        "CFG:2 camera: give either focal_length_mm or fov_deg, not both",
        "CFG:7 motion.selection: policy 'quotas' needs a non-empty 'quotas' mapping of class -> count",
    ]


def test_unknown_motion_library_names_the_manifest(tmp_path, registry):
    found = problems_of(tmp_path, registry, "batch: {name: demo}\nmotion: {library: cmu}\n")
    assert len(found) == 1
    assert found[0].startswith("CFG:2 motion.library: motion_library pack 'cmu' is not declared; add it to ")
    assert "motion_libraries.yaml (declared motion_library packs: procedural)" in found[0]


def test_broken_manifest_is_reported_with_its_line(tmp_path):
    (tmp_path / "hdris.yaml").write_text("kind: hdri\npacks:\n  - name: studio\n    version: 1\n    lisence: x\n")
    with pytest.raises(InvalidFile) as err:
        AssetRegistry.load(tmp_path)
    text = str(err.value)
    assert f"{tmp_path / 'hdris.yaml'}:5 packs[0].lisence: unknown key 'lisence' (did you mean 'license'?)" in text
    assert f"{tmp_path / 'hdris.yaml'}:3 packs[0].license: required but missing" in text


def run_cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "synthact", *args], cwd=cwd, capture_output=True, text=True)


def test_cli_validate_exit_codes(tmp_path):
    ok = run_cli("validate", "scene_configs/smoke.yaml", "scene_configs/default.yaml")
    assert ok.returncode == 0, ok.stderr
    assert "scene_configs/smoke.yaml: ok" in ok.stdout
    bad = write(tmp_path, "batch: {name: demo}\ncamera:\n  distance_m: {min: -1, max: 2}\n")
    res = run_cli("validate", str(bad))
    assert res.returncode == 2
    assert res.stderr.strip() == f"{bad}:3 camera.distance_m.min: must be > 0, got -1"
    broken = write(tmp_path, "batch: [\n", "broken.yaml")
    res = run_cli("validate", str(broken))
    assert res.returncode == 2 and str(broken) in res.stderr
    missing = run_cli("validate", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 2 and "file not found" in missing.stderr


def test_unknown_garments_are_named_with_the_valid_names(tmp_path, registry):
    found = problems_of(tmp_path, registry, """\
        batch: {name: demo}
        actors:
          clothing:
            outfit: [male_worksuit01, tuxedo]
            hair: bob03
        """)
    assert found[0].startswith("CFG:4 actors.clothing.outfit: unknown outfit 'tuxedo'; known: female_casualsuit01,")
    assert found[1].startswith("CFG:5 actors.clothing.hair: unknown hair 'bob03' (did you mean 'bob02'?); known: ")


def test_problems_are_capped_and_values_shortened_while_shown(tmp_path, registry):
    keys = "".join(f"  unknown_{i}: 1\n" for i in range(300))
    found = problems_of(tmp_path, registry, "batch: {name: many}\ncamera:\n" + keys)
    assert len(found) == 101 and found[-1] == "CFG:102 ... and 200 more problems"
    shown = problems_of(tmp_path, registry, "batch: {name: big}\nrender:\n  frames: [" +
                        ", ".join(["123456789"] * 5000) + "]\n")
    assert shown == ["CFG:3 render.frames: must be an integer, got [123456789, 123456789, 123456789, "
                     "123456789, ...]"]


def test_a_body_model_that_cannot_wear_the_garments_is_refused(tmp_path, registry):
    found = problems_of(tmp_path, registry, """\
        batch: {name: demo}
        actors:
          body_model: [anny, smplx]
        """)
    assert len(found) == 1 and found[0].startswith("CFG:2 actors: ")
    assert "body_model smplx cannot wear clothing.style garments" in found[0]
