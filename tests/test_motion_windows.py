"""Motion windows: every sampled window moves (procedural ones included), imported windows are chosen when
sampling, libraries mix by weight, classes are labels or windows, and every clip has a text."""
import math
from collections import Counter

import numpy as np
import pytest

from conftest import ROOT
from synthact.config import BatchConfig
from synthact.human.motions.library import MotionLibrary
from synthact.human.motions.quality import joint_speed
from synthact.human.motions.windows import BIN_S, active_start, window_starts
from synthact.scene import SceneSampler, load_batch_config
from synthact.scene.loading import reference_problems


def sampler_for(registry, **motion) -> SceneSampler:
    config = BatchConfig.model_validate({"batch": {"name": "w", "seed": 5}, "motion": motion})
    return SceneSampler.create(config, registry)


def played_energy(spec, registry) -> np.ndarray:
    m = spec.actors[0].motion
    return joint_speed(MotionLibrary.open(m.library, registry).play(m, spec.render.fps, spec.render.frames))


def test_window_starts_and_active_start():
    assert window_starts(3.0, 1.0, 1.0) == [0.0, 1.0, 2.0]
    assert window_starts(3.0, 1.0, 0.75) == [0.0, 0.75, 1.5]
    assert window_starts(0.9, 1.0, 1.0) == []
    energy = np.r_[np.zeros(30), np.full(20, 0.5), np.zeros(30)]  # moves for frames 30-49 of 80, at 10 fps
    start, e = active_start(energy, 10, 2.1, 0.0, 0.05)
    assert (start, e) == (2.0, 0.5)  # the first 21-frame window that moves for at least 11 of its frames
    start, _ = active_start(energy, 10, 2.1, 1.0, 0.05)
    assert start == 3.9  # the last one
    start, e = active_start(energy, 10, 2.1, 0.5, 1.0)  # nothing moves that fast: the most active window
    assert e == 0.5 and 2.0 <= start <= 3.9


@pytest.mark.parametrize("name", ["crouch_down", "stretch_arms_up", "point_left_forward", "calf_raise"])
def test_procedural_windows_move(registry, name):
    # The examples: before, these windows were still for 55-100% of their frames.
    sampler = sampler_for(registry, selection={"policy": "explicit", "clips": [name]}, speed=1.0)
    for i in range(12):  # energy is measured at normal speed
        energy = played_energy(sampler.sample(i), registry)
        assert np.median(energy) >= 0.05 and np.mean(energy < 0.05) <= 0.5


def test_default_clips_mostly_move(registry):
    config = load_batch_config(ROOT / "scene_configs" / "default.yaml", registry)
    sampler = SceneSampler.create(config, registry)
    still = [np.median(played_energy(sampler.sample(i), registry)) < 0.05 for i in range(0, 120, 2)]
    # Before windows were chosen by energy, 43% of default clips were still for more than half their frames;
    # what remains are head gestures and small moves whose best window is below 0.05 m/s (see docs/FORMAT.md).
    assert np.mean(still) <= 0.15


def test_imported_windows_are_chosen_when_sampling(registry_with_libraries):
    reg = registry_with_libraries
    lib = MotionLibrary.open("mini", reg)
    sampler = sampler_for(reg, library="mini", renders_per_motion=2, mirror_probability=0)
    table = lib.window_table(32 / 30, 32 / 30, 0.05)
    assert table.excluded["energy"] > 0 and "wave" not in table.by_label  # the wave clip never moves enough
    for i in range(40):
        m = sampler.sample(i).actors[0].motion
        clip = next(c for c in lib.manifest.clips if c.clip_id == m.clip_id)
        assert m.window_start_s in window_starts(clip.duration_s, m.window_length_s, m.window_length_s)
        a, b = int(m.window_start_s / BIN_S + 1e-6), math.ceil((m.window_start_s + m.window_length_s) / BIN_S - 1e-6)
        assert np.median(clip.energy[a:b]) >= 0.05 and m.label == clip.label
        assert m.class_name == clip.label and m.description == clip.description
    a, b = sampler.sample(0).actors[0].motion, sampler.sample(1).actors[0].motion
    assert a.motion_key == b.motion_key and a.window_start_s == b.window_start_s  # GATA pairs: one window
    longer = sampler_for(reg, library="mini", window={"length_s": 2.0, "stride_s": 0.5})
    assert {longer.sample(i).actors[0].motion.window_length_s for i in range(10)} == {2.0}


def test_class_granularity_motion_makes_every_window_a_class(registry_with_libraries):
    reg = registry_with_libraries
    windows = MotionLibrary.open("mini", reg).window_table(32 / 30, 32 / 30, 0.05).windows
    sampler = sampler_for(reg, library="mini", class_granularity="motion", selection={"policy": "balanced"},
                          mirror_probability=0)
    names = Counter(sampler.sample(i).actors[0].motion.class_name for i in range(3 * len(windows)))
    assert names == {w.window_id: 3 for w in windows}  # balanced over windows, each its own class
    procedural = sampler_for(reg, class_granularity="motion", mirror_probability=1.0).sample(0).actors[0].motion
    assert procedural.class_name == f"{procedural.source_class_name}:{procedural.instance_seed}#mirror"


def test_libraries_mix_by_weight_and_stay_balanced(registry_with_libraries):
    reg = registry_with_libraries
    sampler = sampler_for(reg, library={"dist": "choice", "values": ["procedural", "mini"], "weights": [3, 7]},
                          selection={"policy": "balanced", "classes": ["walk", "jump", "bow_deep", "wave_left_low"]},
                          mirror_probability=0)
    motions = [sampler.sample(i).actors[0].motion for i in range(100)]
    for k in range(10):  # every 10 consecutive motions: 3 procedural, 7 mini
        assert Counter(m.library for m in motions[10 * k:10 * k + 10]) == {"procedural": 3, "mini": 7}
    assert Counter(m.class_name for m in motions if m.library == "procedural") == {"bow_deep": 15,
                                                                                    "wave_left_low": 15}
    assert Counter(m.class_name for m in motions if m.library == "mini") == {"walk": 35, "jump": 35}


def test_library_problems_are_reported(registry_with_libraries):
    def problems(**motion):
        config = BatchConfig.model_validate({"batch": {"name": "p"}, "motion": motion})
        return [msg for _, msg in reference_problems(config, registry_with_libraries)]

    assert problems(library="mini") == []
    assert "has no window" in problems(library="mini", selection={"classes": ["wave"]})[0]
    assert "unknown class 'swim'" in problems(library="mini", selection={"classes": ["swim"]})[0]
    assert "only applies to imported motion libraries" in problems(window={"length_s": 2.0})[0]
    assert "motion_libraries.yaml" in problems(library=["procedural", "nope"])[0]
    assert "has no window" in problems(library="mini", window={"min_energy": 9.0})[0]


def test_every_clip_has_a_text(registry):
    sampler = sampler_for(registry, selection={"policy": "explicit", "clips": ["walk_and_wave_left"]},
                          mirror_probability=1.0)
    spec = sampler.sample(0)
    m = spec.actors[0].motion
    assert m.label == "walk_and_wave_right" and m.description == "walk and wave right"
    assert spec.text.endswith(f"{spec.environment.ground} ground") and ": walk and wave right;" in spec.text
    assert spec.text.startswith(("a woman", "a man", "an older", "a girl", "a boy"))
