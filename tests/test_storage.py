"""Compact depth and flow (16-bit PNGs, render.precision: compact) against their documented bounds, and
readers that return the same arrays whichever precision a clip was written with."""
import json
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest

from support.fabricate import fabricate_clip
from synthact.clip import ClipReader, sha256_file
from synthact.clip.quantise import (
    DEPTH_FAR_M,
    DEPTH_MAX_RELATIVE_ERROR,
    DEPTH_NEAR_M,
    FLOW_LIMIT_PX,
    FLOW_MAX_ERROR_PX,
    decode_depth,
    decode_flow,
    encode_depth,
    encode_flow,
)
from synthact.config.batch import BatchConfig
from synthact.dataset.qc import check_clip
from synthact.scene.sampler import SceneSampler


def test_depth_error_is_relative_and_bounded():
    rng = np.random.default_rng(0)
    depth = np.exp(rng.uniform(np.log(DEPTH_NEAR_M), np.log(DEPTH_FAR_M), (3, 40, 50))).astype(np.float32)
    depth[0, 0, :4] = [np.inf, np.nan, -np.inf, 0.0]
    back = decode_depth(encode_depth(depth), 40)
    assert back.dtype == np.float32 and back.shape == depth.shape
    finite = np.isfinite(depth) & (depth > 0)
    relative = np.abs(back[finite] - depth[finite]) / depth[finite]
    assert relative.max() <= DEPTH_MAX_RELATIVE_ERROR < 1.5e-4
    assert relative.max() > DEPTH_MAX_RELATIVE_ERROR / 3  # the bound is tight, not loose by orders
    assert np.isposinf(back[0, 0, 0]) and np.isnan(back[0, 0, 1]) and np.isnan(back[0, 0, 2])  # -inf stays invalid
    assert back[0, 0, 3] == pytest.approx(DEPTH_NEAR_M)  # clamped to the range
    assert decode_depth(encode_depth(np.full((1, 2, 2), 1e7, np.float32)), 2).max() == pytest.approx(DEPTH_FAR_M)
    plain = cv2.imdecode(np.frombuffer(encode_depth(depth), np.uint8), cv2.IMREAD_UNCHANGED)
    assert plain.dtype == np.uint16 and plain.shape == (3 * 40, 50)  # any PNG reader opens it


def test_flow_error_is_at_most_a_128th_pixel():
    rng = np.random.default_rng(1)
    flow = rng.uniform(-FLOW_LIMIT_PX, FLOW_LIMIT_PX, (4, 30, 20, 2)).astype(np.float32)
    flow[1, 2, 3, 0] = np.nan  # one component missing: the whole vector is invalid
    flow[2, 0, 0] = [900.0, -900.0]  # beyond the range: clamped
    back = decode_flow(encode_flow(flow), 30)
    valid = np.isfinite(flow).all(-1)
    inside = valid & (np.abs(flow) <= FLOW_LIMIT_PX).all(-1)
    assert np.abs(back[inside] - flow[inside]).max() <= FLOW_MAX_ERROR_PX <= 1 / 128 + 1e-6
    assert np.isnan(back[1, 2, 3]).all() and (np.isfinite(back).all(-1) == valid).all()
    assert np.allclose(back[2, 0, 0], [FLOW_LIMIT_PX, -32768 / 64])
    image = cv2.imdecode(np.frombuffer(encode_flow(flow), np.uint8), cv2.IMREAD_UNCHANGED)
    assert image.shape == (4 * 30, 20, 3) and image[..., 0].max() == 1  # KITTI: blue = valid


@pytest.fixture(scope="module")
def both(registry, tmp_path_factory):
    """One scene written with each precision."""
    out = tmp_path_factory.mktemp("precision")
    clips = {}
    for precision in ("compact", "float32"):
        cfg = BatchConfig.model_validate({
            "batch": {"name": "store", "seed": 4}, "camera": {"distance_m": 3.5, "motion": {"type": "orbit"}},
            "environment": {"weather": {"type": "clear"}, "props_density": 0},
            "render": {"resolution": {"width": 64, "height": 48}, "frames": 4, "precision": precision}})
        clips[precision] = fabricate_clip(SceneSampler.create(cfg, registry).sample(0), out / precision)
    return clips


def test_readers_return_the_same_arrays_from_either_precision(both):
    compact, exact = (ClipReader.from_dir(both[p]) for p in ("compact", "float32"))
    assert compact.exists("depth.png") and not compact.exists("depth.npz") and exact.exists("depth.npz")
    d, e = compact.depth(), exact.depth()
    assert d.dtype == e.dtype == np.float32 and d.shape == e.shape
    assert (np.isfinite(d) == np.isfinite(e)).all()
    seen = np.isfinite(e)
    assert (np.abs(d[seen] - e[seen]) <= DEPTH_MAX_RELATIVE_ERROR * e[seen]).all()
    for direction in ("forward", "backward"):
        f, g = compact.flow(direction), exact.flow(direction)
        valid = np.isfinite(g).all(-1)
        assert (np.isfinite(f).all(-1) == valid).all()
        assert np.abs(f[valid] - g[valid]).max() <= FLOW_MAX_ERROR_PX
    size = {p: sum(f.stat().st_size for f in both[p].iterdir() if f.stem.startswith(("depth", "flow"))) for p in both}
    assert size["compact"] * 3 < size["float32"]  # even at 64 x 48 (BENCHMARKS.md: 224 x 224 x 32)
    sample = {"__key__": compact.name, "json": json.dumps({"spec": compact.spec_json, "camera": compact.camera_json}),
              **{p.name: p.read_bytes() for p in both["compact"].iterdir() if p.is_file()}}
    assert np.array_equal(ClipReader.from_sample(sample).depth(), d, equal_nan=True)  # shard samples too


def reseal(clip):
    manifest = json.loads((clip / "manifest.json").read_text())
    for name in manifest["files"]:
        manifest["files"][name] = {"bytes": (clip / name).stat().st_size, "sha256": sha256_file(clip / name)}
    (clip / "manifest.json").write_text(json.dumps(manifest))


def test_qc_reads_compact_files(both, tmp_path):
    assert check_clip(both["compact"]).accepted
    depth = ClipReader.from_dir(both["compact"]).depth()
    edits = {"short": encode_depth(depth[:-1]), "nan": encode_depth(np.where(depth > 0, np.nan, depth)),
             "junk": b"\x89PNG not really"}
    expected = {"short": "frame_count_mismatch", "nan": "nan_in_arrays", "junk": "unreadable_file"}
    for name, data in edits.items():
        clip = shutil.copytree(both["compact"], tmp_path / name / both["compact"].name)
        (clip / "depth.png").write_bytes(data)
        reseal(clip)
        result = check_clip(clip)
        assert not result.accepted and expected[name] in {r["code"] for r in result.reasons}, (name, result.reasons)


def test_render_takes_precision_from_the_command_line(tmp_path):
    (tmp_path / "batch.yaml").write_text("batch: {name: exact, seed: 1, count: 1}\n"
                                         "render: {resolution: {width: 32, height: 32}, frames: 2, samples: 1}\n")
    args = [sys.executable, "-m", "synthact", "render", "batch.yaml", "--workers", "1", "--out", "out",
            "--renderer", "support.test_double:TestDoubleRenderer"]
    res = subprocess.run(args + ["--precision", "half"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and res.stderr.strip() == "--precision must be compact or float32, got 'half'"
    res = subprocess.run(args + ["--precision", "float32", "--dashboard"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    # a Ray of its own, and, when asked for, where to watch it (Ray 2.60 asks for a token)
    assert "Ray dashboard: http://127.0.0.1:" in res.stderr and "ray get-auth-token" in res.stderr
    specs = [json.loads(p.read_text()) for p in (tmp_path / "out" / "exact" / "clips").glob("*/spec.json")]
    assert len(specs) == 1 and specs[0]["render"]["precision"] == "float32"
