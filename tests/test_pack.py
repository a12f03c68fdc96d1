"""Packing tiny clips (conftest's `raw`: fabricated without Blender), read back with webdataset, pyarrow and pandas
(not our own reader)."""
import glob
import hashlib
import json
import shutil
import tarfile

import cv2
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import webdataset as wds

from synthact.dataset.pack import PackOptions, pack


def digests(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_gata_shards_tables_and_positives(raw, tmp_path):
    root, bad = raw
    result = pack(root, tmp_path / "gata", PackOptions(layout="gata", shard_max_clips=2))
    assert result.accepted == 5 and result.rejected == 1 and result.packed == 5
    shards = sorted(glob.glob(str(tmp_path / "gata" / "shards" / "*.tar")))
    samples = list(wds.WebDataset(shards, shardshuffle=False))
    by_shard = {}
    for sample in samples:  # shards close after two clips, but only between motions: renders stay together
        key = json.loads(sample["json"])["spec"]["actors"][0]["motion"]["motion_key"]
        by_shard.setdefault(sample["__url__"], []).append(key)
    assert len(shards) >= 2 and all(len(keys) <= 3 for keys in by_shard.values())
    assert sum(len(set(keys)) for keys in by_shard.values()) == len({k for keys in by_shard.values() for k in keys})
    assert len(samples) == 5 and bad not in {s["__key__"] for s in samples}
    first = samples[0]
    assert {"rgb.mp4", "depth.png16", "flow_forward.png16", "flow_backward.png16", "segmentation.npz",
            "keypoints.npz", "json"} <= set(first)  # .png16: no stock image decoder claims the 16-bit PNGs
    depth = cv2.imdecode(np.frombuffer(first["depth.png16"], np.uint8), cv2.IMREAD_UNCHANGED)
    assert depth.shape == (3 * 48, 48) and depth.dtype == np.uint16  # the frames stacked vertically
    meta = json.loads(first["json"])
    assert meta["spec"]["scene_id"] == first["__key__"]
    index = pd.read_parquet(tmp_path / "gata" / "index")
    assert len(index) == 5 and set(index.scene_id) == {s["__key__"] for s in samples}
    assert {"class_id", "class_name", "motion_key", "view_index", "split", "param.camera.yaw_deg",
            "param.actor0.shape.height", "qc.visible_fraction"} <= set(index.columns)
    for row in index.itertuples():  # the offset points at the clip's first member in its shard
        with open(tmp_path / "gata" / "shards" / row.shard, "rb") as f:
            f.seek(row.offset)
            header = tarfile.TarInfo.frombuf(f.read(512), "utf-8", "surrogateescape")
        assert header.name.startswith(row.scene_id + ".")
    assert (index.groupby("motion_key").shard.nunique() == 1).all()  # a motion's renders share a shard
    positives = pq.read_table(tmp_path / "gata" / "positives").to_pandas()
    views = positives.groupby("motion_key").scene_id.nunique()
    assert (views >= 1).all() and (views == 2).sum() >= 2  # paired renders share a motion key
    assert (positives.end_frame == 3).all() and (positives.start_frame == 0).all()
    frames = pd.read_parquet(tmp_path / "gata" / "frames")
    assert len(frames) == 5 * 3 and np.stack(frames.coco2d.iloc[0]).shape == (17, 3)
    rejected = pd.read_parquet(tmp_path / "gata" / "rejections.parquet")
    assert list(rejected.scene_id) == [bad] and "nan_in_arrays" in rejected.reasons[0]
    manifest = json.loads((tmp_path / "gata" / "dataset.json").read_text())
    assert manifest["layout"] == "gata" and manifest["counts"]["clips"] == 5
    for shard in manifest["shards"]:
        assert hashlib.sha256((tmp_path / "gata" / "shards" / shard["name"]).read_bytes()).hexdigest() == \
            shard["sha256"]
    assert manifest["batch_configs"][0]["batch"]["name"] == "packme"


def test_packing_is_deterministic(raw, tmp_path):
    root, _ = raw
    pack(root, tmp_path / "a", PackOptions(layout="gata"))
    pack(root, tmp_path / "b", PackOptions(layout="gata", workers=1))
    assert digests(tmp_path / "a") == digests(tmp_path / "b")


def test_new_clips_append_new_shards(raw, tmp_path):
    root, bad = raw
    partial = tmp_path / "partial"
    clips = sorted((root / "clips").iterdir())
    for c in clips[:3]:
        shutil.copytree(c, partial / "clips" / c.name)
    first = pack(partial, tmp_path / "ds", PackOptions(layout="gata"))
    before = digests(tmp_path / "ds" / "shards")
    second = pack(root, tmp_path / "ds", PackOptions(layout="gata"))
    after = digests(tmp_path / "ds" / "shards")
    assert all(after[name] == digest for name, digest in before.items())  # old shards untouched
    assert second.already_packed == first.packed and second.packed == 5 - first.packed
    assert len(after) == len(before) + 1
    assert len(pd.read_parquet(tmp_path / "ds" / "index")) == 5
    assert pack(root, tmp_path / "ds", PackOptions(layout="gata")).packed == 0


def test_synapt_class_balance_class_folders_and_modalities(raw, tmp_path):
    root, _ = raw
    out = tmp_path / "synapt"
    result = pack(root, out, PackOptions(layout="synapt", per_class=1, modalities=("rgb", "keypoints")))
    index = pd.read_parquet(out / "index")
    assert result.packed == len(index) == index.class_name.nunique() == 3
    videos = sorted(p.relative_to(out / "videos").as_posix() for p in (out / "videos").rglob("*.mp4"))
    assert len(videos) == 3 and all(v.startswith("train/") for v in videos)
    assert {v.split("/")[1] for v in videos} == set(index.class_name)
    sample = next(iter(wds.WebDataset(sorted(glob.glob(str(out / "shards" / "*.tar"))), shardshuffle=False)))
    assert {k for k in sample if not k.startswith("__")} == {"rgb.mp4", "keypoints.npz", "json"}
    with pytest.raises(ValueError, match="cannot add gata clips"):
        pack(root, out, PackOptions(layout="gata"))
    assert result.short_classes == {}
    short = pack(root, tmp_path / "short", PackOptions(layout="synapt", per_class=1000, modalities=("keypoints",)))
    assert short.short_classes and all(n < 1000 for n in short.short_classes.values())  # the CLI says so


def test_pack_says_when_classes_are_short_of_per_class(raw, tmp_path):
    import subprocess
    import sys

    from conftest import ROOT
    root, _ = raw
    done = subprocess.run([sys.executable, "-m", "synthact", "pack", str(root), "--out", str(tmp_path / "d"),
                           "--layout", "synapt", "--per-class", "1000", "--modalities", "keypoints"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    said = [line for line in done.stderr.splitlines() if "fewer accepted clips than --per-class 1000" in line]
    assert len(said) == 1 and "the dataset is not balanced at 1000 a class" in said[0]


def test_jpeg_only_clips_are_packed_with_video(registry, tmp_path):
    from support.fabricate import fabricate_batch
    from synthact.clip import ClipReader
    from synthact.config import BatchConfig
    cfg = BatchConfig.model_validate({
        "batch": {"name": "jpegs", "seed": 2},
        "camera": {"distance_m": 3.5, "height_m": 1.4, "yaw_deg": 10, "focal_length_mm": 35},
        "environment": {"props_density": 0, "weather": {"type": "clear"}},
        "render": {"resolution": {"width": 48, "height": 48}, "frames": 3, "rgb_format": "jpg"}})
    batch = fabricate_batch(cfg, registry, tmp_path / "raw", 2)
    clips = sorted((batch / "clips").iterdir())
    assert all((c / "rgb").is_dir() and not (c / "rgb.mp4").exists() for c in clips)
    result = pack(batch, tmp_path / "ds", PackOptions(layout="synapt"))
    assert result.packed == 2
    samples = list(wds.WebDataset(sorted(glob.glob(str(tmp_path / "ds" / "shards" / "*.tar"))), shardshuffle=False))
    for sample in samples:
        rgb = ClipReader.from_sample(sample).rgb()
        jpegs = ClipReader.from_dir(batch / "clips" / sample["__key__"]).rgb()
        assert rgb.shape == jpegs.shape == (3, 48, 48, 3) and np.abs(rgb.astype(int) - jpegs).mean() < 6
    assert len(list((tmp_path / "ds" / "videos").rglob("*.mp4"))) == 2


def test_damaged_clips_are_rejected_by_name_and_the_rest_packed(raw, tmp_path):
    from synthact.clip import sha256_file
    root, nan_clip = raw
    copy = tmp_path / "raw"
    shutil.copytree(root, copy)
    clips = sorted(p for p in (copy / "clips").iterdir() if p.name != nan_clip)
    (clips[0] / "manifest.json").write_text("")  # an empty manifest
    with open(clips[1] / "keypoints.npz", "r+b") as f:  # truncated after the manifest was written
        f.truncate(100)
    depth = clips[2] / "depth.npz"  # damaged, with a manifest that agrees
    depth.write_bytes(b"PK\x03\x04 not a zip archive")
    manifest = json.loads((clips[2] / "manifest.json").read_text())
    manifest["files"]["depth.npz"] = {"bytes": depth.stat().st_size, "sha256": sha256_file(depth)}
    (clips[2] / "manifest.json").write_text(json.dumps(manifest))
    result = pack(copy, tmp_path / "ds", PackOptions(layout="gata"))
    assert result.packed == 2 and result.rejected == 4
    rejected = pd.read_parquet(tmp_path / "ds" / "rejections.parquet").set_index("scene_id")
    assert rejected.loc[clips[0].name, "reasons"] == "unreadable_manifest"
    assert rejected.loc[clips[1].name, "reasons"] == "checksum_mismatch"
    assert "keypoints.npz" in rejected.loc[clips[1].name, "details"]
    assert rejected.loc[clips[2].name, "reasons"] == "unreadable_file"
    assert "depth.npz" in rejected.loc[clips[2].name, "details"]
    assert set(json.loads((tmp_path / "ds" / "dataset.json").read_text())["scene_ids"]) == \
        {p.name for p in clips[3:]}
