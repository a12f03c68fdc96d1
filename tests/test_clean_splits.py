"""Splits that share no motion, window, trial or subject (issue 27, outcome 1): windows drawn without replacement,
imported libraries dealt to splits by subject or by trial, every preset checked, and evaluation refusing a
dataset whose splits overlap."""
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from synthact.config import AssetRegistry, BatchConfig, InvalidFile
from synthact.scene import load_batch_config
from synthact.scene.sampler import SceneSampler
from synthact.scene.splits import recording_of


@pytest.fixture(scope="module")
def subjects_registry(subjects_library, library_root) -> AssetRegistry:
    return AssetRegistry.load(ROOT / "synthact" / "assets_manifests", library_root=library_root)


def config(tmp_path: Path, **splits) -> Path:
    body = {"batch": {"name": "clean", "seed": 5, "count": 120},
            "motion": {"library": "subjects", "selection": {"policy": "balanced", "classes": ["walk", "jump"]},
                       "renders_per_motion": 2, "mirror_probability": 0, "speed": {"min": 0.85, "max": 1.15}},
            "render": {"resolution": {"width": 32, "height": 32}, "frames": 15, "fps": 15},
            "splits": {"test": 0.3, "val": 0.2, **splits}}
    path = tmp_path / "clean.yaml"
    path.write_text(yaml.safe_dump(body))
    return path


def overlaps(specs) -> dict[str, int]:
    """How many motions, trials, windows and subjects appear in more than one split."""
    seen = defaultdict(lambda: defaultdict(set))
    for spec in specs:
        for actor in spec.actors:
            m = actor.motion
            seen["motion"][m.motion_key].add(spec.split)
            if m.clip_id is not None and m.library != "procedural":
                seen["trial"][(m.library, m.clip_id)].add(spec.split)
                seen["subject"][(m.library, recording_of(m.clip_id, "subject"))].add(spec.split)
                if m.window_start_s is not None:
                    seen["window"][(m.library, m.clip_id, m.window_start_s)].add(spec.split)
    return {kind: sum(len(splits) > 1 for splits in keys.values()) for kind, keys in seen.items()}


def test_by_subject_no_subject_trial_or_window_crosses_splits(subjects_registry, tmp_path):
    cfg = load_batch_config(config(tmp_path), subjects_registry)
    specs = list(SceneSampler.create(cfg, subjects_registry).iter_specs(0, 120))
    assert {s.split for s in specs} == {"train", "val", "test"}
    found = overlaps(specs)
    assert found["trial"] == found["window"] == found["subject"] == found["motion"] == 0, found


def test_by_trial_is_stratified_and_keeps_trials_apart(subjects_registry, tmp_path):
    cfg = load_batch_config(config(tmp_path, motions_by="trial"), subjects_registry)
    specs = list(SceneSampler.create(cfg, subjects_registry).iter_specs(0, 120))
    found = overlaps(specs)
    assert found["trial"] == found["window"] == found["motion"] == 0, found
    for label in ("walk", "jump"):  # every class is in every split
        assert {s.split for s in specs if s.actors[0].motion.label == label} == {"train", "val", "test"}


def test_windows_are_drawn_without_replacement(subjects_registry, tmp_path):
    cfg = load_batch_config(config(tmp_path, motions_by="trial"), subjects_registry)
    sampler = SceneSampler.create(cfg, subjects_registry)
    specs = list(sampler.iter_specs(0, 120))
    table = sampler.pools["subjects"].windows
    firsts = [s for s in specs if s.index % 2 == 0]  # one spec per motion group
    for label in ("walk", "jump"):
        windows = [(s.actors[0].motion.clip_id, s.actors[0].motion.window_start_s) for s in firsts
                   if s.actors[0].motion.label == label]
        available = len(table.by_label[label])
        # until the label's windows run out none repeats; then each is used again before any a third time
        assert len(set(windows[:available])) == min(len(windows), available)
        counts = Counter(windows)
        assert max(counts.values()) - min(counts.values()) <= 1, counts
    # a fresh sampler asked out of order gives the same scenes (the draw is a pure function of the index)
    again = SceneSampler.create(cfg, subjects_registry)
    assert [again.sample(i).scene_id for i in (117, 3, 64)] == [specs[i].scene_id for i in (117, 3, 64)]


def test_a_class_that_cannot_be_split_is_refused_with_its_line(subjects_registry, tmp_path):
    path = config(tmp_path)
    body = yaml.safe_load(path.read_text())
    body["motion"]["selection"]["classes"] = ["walk", "jump", "wave"]
    path.write_text(yaml.safe_dump(body))
    with pytest.raises(InvalidFile) as err:  # every wave is subject 06's: it cannot be in train and in test
        load_batch_config(path, subjects_registry)
    message = str(err.value)
    assert "splits.motions_by" in message and "'wave'" in message and "subject 06" in message
    assert "motions_by: trial" in message
    body["splits"]["motions_by"] = "trial"  # three trials: one for each split
    path.write_text(yaml.safe_dump(body))
    cfg = load_batch_config(path, subjects_registry)
    specs = list(SceneSampler.create(cfg, subjects_registry).iter_specs(0, 120))
    assert overlaps(specs)["trial"] == 0


def test_motions_by_without_files_or_splits_is_refused(registry, tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump({"batch": {"name": "p", "seed": 1}, "splits": {"test": 0.2,
                                                                                    "motions_by": "trial"}}))
    with pytest.raises(InvalidFile, match="motions_by only applies to motion libraries of files"):
        load_batch_config(path, registry)
    with pytest.raises(ValueError, match="motions_by only applies when val or test is above 0"):
        BatchConfig.model_validate({"batch": {"name": "p", "seed": 1}, "splits": {"motions_by": "trial"}})


PRESETS = sorted((ROOT / "synthact" / "presets" / "scenes").glob("*.yaml")) + sorted(
    p for p in (ROOT / "experiments").glob("*.yaml") if "library: cmu" not in p.read_text()
    and "objective" not in p.read_text() and "backbone" not in p.read_text())


@pytest.mark.parametrize("path", PRESETS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_preset_keeps_its_splits_apart(registry, path):
    cfg = load_batch_config(path, registry)
    specs = list(SceneSampler.create(cfg, registry).iter_specs(0, min(cfg.batch.count, 240)))
    found = overlaps(specs)
    assert all(v == 0 for v in found.values()), found
