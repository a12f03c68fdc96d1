"""QC over a tiny fabricated clip (tests/support/fabricate.py: a valid clip directory without Blender), and
over copies corrupted on purpose. The real renderer's output is tested in test_render.py."""
import json
import shutil

import numpy as np
import pytest

from support.fabricate import fabricate_clip
from synthact.clip import sha256_file
from synthact.config.batch import BatchConfig
from synthact.dataset.qc import QCThresholds, check_clip
from synthact.scene.sampler import SceneSampler


@pytest.fixture(scope="module")
def clip(registry, tmp_path_factory):
    cfg = BatchConfig.model_validate({
        "batch": {"name": "qc", "seed": 3},
        "camera": {"distance_m": 3.5, "height_m": 1.4, "yaw_deg": 20, "focal_length_mm": 35},
        "environment": {"weather": {"type": "clear"}, "props_density": 0,
                        "time_of_day": {"sun_elevation_deg": 50}},
        "motion": {"selection": {"policy": "explicit", "clips": ["wave_right_high"]}},
        "render": {"resolution": {"width": 64, "height": 64}, "frames": 4, "samples": 2, "device": "cpu",
                   "precision": "float32"}})  # npz arrays, edited below (compact files: tests/test_storage.py)
    spec = SceneSampler.create(cfg, registry).sample(0)
    return fabricate_clip(spec, tmp_path_factory.mktemp("qc"))


def copy(clip, tmp_path):
    dst = tmp_path / clip.name
    shutil.copytree(clip, dst)
    return dst


def reseal(clip):
    """Rewrite the manifest after an edit (as a buggy renderer would have written it)."""
    manifest = json.loads((clip / "manifest.json").read_text())
    for name in list(manifest["files"]):
        path = clip / name
        manifest["files"][name] = {"bytes": path.stat().st_size, "sha256": sha256_file(path)}
    (clip / "manifest.json").write_text(json.dumps(manifest))


def codes(result):
    return {r["code"] for r in result.reasons}


def test_a_good_clip_passes_with_metrics(clip):
    result = check_clip(clip)
    assert result.accepted, result.reasons
    assert 0 < result.metrics["visible_fraction"] < 1 and result.metrics["mean_luma"] > 0.1


def test_incomplete_and_tampered_clips(clip, tmp_path):
    no_manifest = copy(clip, tmp_path / "a")
    (no_manifest / "manifest.json").unlink()
    assert codes(check_clip(no_manifest)) == {"missing_manifest"}
    truncated = copy(clip, tmp_path / "b")
    data = (truncated / "rgb.mp4").read_bytes()
    (truncated / "rgb.mp4").write_bytes(data[: len(data) // 3])
    assert codes(check_clip(truncated)) == {"checksum_mismatch"}
    reseal(truncated)
    assert codes(check_clip(truncated)) == {"undecodable_video"}
    gone = copy(clip, tmp_path / "c")
    (gone / "depth.npz").unlink()
    assert codes(check_clip(gone)) == {"missing_file"}


def test_deleted_frame_and_nan_depth(clip, tmp_path):
    short = copy(clip, tmp_path / "d")
    depth = np.load(short / "depth.npz")["depth"]
    np.savez_compressed(short / "depth.npz", depth=depth[:-1])
    reseal(short)
    result = check_clip(short)
    assert codes(result) == {"frame_count_mismatch"}
    assert result.reasons[0]["value"] == {"depth.npz:depth": 3} and result.reasons[0]["threshold"] == 4
    nan = copy(clip, tmp_path / "e")
    depth[2, 10:20, 10:20] = np.nan
    np.savez_compressed(nan / "depth.npz", depth=depth)
    reseal(nan)
    result = check_clip(nan)
    assert "nan_in_arrays" in codes(result)
    assert any(r["code"] == "nan_in_arrays" and r["value"] == 100 for r in result.reasons)


def test_a_sit_that_floats_above_its_seat_is_rejected(clip, tmp_path):
    for gap, rejected in ((0.04, False), (-0.18, True)):
        seated = copy(clip, tmp_path / f"seat{gap}")
        stats = json.loads((seated / "stats.json").read_text())
        stats["placement"] = {"seat_gap_m": [gap]}
        (seated / "stats.json").write_text(json.dumps(stats))
        reseal(seated)
        result = check_clip(seated)
        assert ("seat_mismatch" in codes(result)) == rejected and result.metrics["seat_gap_m"] == gap


def test_thresholds_come_from_the_config(clip):
    strict = QCThresholds(min_visible_fraction=0.9, min_bbox_height_fraction=0.99)
    result = check_clip(clip, strict)
    assert not result.accepted and {"actor_not_visible", "bbox_too_small"} <= codes(result)
    reason = next(r for r in result.reasons if r["code"] == "actor_not_visible")
    assert reason["threshold"] == 0.9 and reason["value"] < 0.9


def test_missing_modalities_wrong_arrays_and_damaged_files_are_rejected_not_raised(clip, tmp_path):
    from synthact.clip.files import write_npz
    absent = copy(clip, tmp_path / "a")
    for name in ("depth.npz", "flow_forward.npz"):
        (absent / name).unlink()
    manifest = json.loads((absent / "manifest.json").read_text())
    for name in ("depth.npz", "flow_forward.npz"):
        del manifest["files"][name]
    (absent / "manifest.json").write_text(json.dumps(manifest))
    result = check_clip(absent)
    assert codes(result) == {"missing_modality"} and result.reasons[0]["value"] == ["depth.npz", "flow_forward.npz"]
    small = copy(clip, tmp_path / "b")
    write_npz(small / "depth.npz", {"depth": np.ones((4, 10, 10), np.float32)})
    reseal(small)
    result = check_clip(small)
    assert codes(result) == {"wrong_array"} and "axis 1 (H) should be 64" in result.reasons[0]["detail"]
    typed = copy(clip, tmp_path / "c")
    write_npz(typed / "depth.npz", {"depth": np.ones((4, 64, 64), np.float64)})
    reseal(typed)
    assert codes(check_clip(typed)) == {"wrong_array"}
    garbage = copy(clip, tmp_path / "d")
    (garbage / "camera.json").write_text("{not json")
    reseal(garbage)
    assert codes(check_clip(garbage)) == {"unreadable_file"}


def test_minus_infinite_depth_is_counted(clip, tmp_path):
    from synthact.clip.files import write_npz
    bad = copy(clip, tmp_path / "a")
    depth = np.load(bad / "depth.npz")["depth"].copy()
    depth[0, :2, :3] = -np.inf
    write_npz(bad / "depth.npz", {"depth": depth})
    reseal(bad)
    result = check_clip(bad)
    assert {"code": "nan_in_arrays", "value": 6, "threshold": 0, "detail": "depth"} in result.reasons
