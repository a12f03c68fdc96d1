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
        "render": {"resolution": {"width": 64, "height": 64}, "frames": 4, "samples": 2, "device": "cpu"}})
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


def test_thresholds_come_from_the_config(clip):
    strict = QCThresholds(min_visible_fraction=0.9, min_bbox_height_fraction=0.99)
    result = check_clip(clip, strict)
    assert not result.accepted and {"actor_not_visible", "bbox_too_small"} <= codes(result)
    reason = next(r for r in result.reasons if r["code"] == "actor_not_visible")
    assert reason["threshold"] == 0.9 and reason["value"] < 0.9
