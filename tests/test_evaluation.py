"""Evaluation that cannot silently mislead: held-out motions, refusals with reasons, 95% intervals on every
top-1, and both class-folder layouts with any container PyAV reads."""
import json
import shutil
import subprocess
import sys

import av
import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml

from conftest import ROOT
from synthact.clip import ClipReader
from synthact.config import BatchConfig
from synthact.dataset.pack import PackOptions, pack
from synthact.train.evaluate import (
    Clips,
    EvaluationRefused,
    catalogue,
    evaluate_checkpoint,
    load_dataset,
    split_masks,
    wilson_interval,
)
from synthact.train.train import TrainConfig, train


@pytest.fixture(scope="module")
def checkpoint(evaluable, tmp_path_factory):
    cfg = TrainConfig(backbone="tsm_r18", frames=2, size=32, batch_size=2, steps=1, queue_size=8, dim=8, hidden=16,
                      workers=0)
    return train(cfg, str(evaluable), tmp_path_factory.mktemp("run"), log=lambda *_: None)


def synthact(*args):
    return subprocess.run([sys.executable, "-m", "synthact", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)


@pytest.mark.parametrize("with_splits, n", [(False, 8), (True, 8), (True, 20)])
def test_make_renders_default_batch_is_refused_with_a_reason(registry, checkpoint, tmp_path, with_splits, n):
    """Today's zero case: `make render N=8` (scene_configs/default.yaml) then `synthact eval` printed 0.00 for every
    metric. Without splits nothing is held out; with them, 8 clips (4 motions) hold none out either, and at 20
    clips most test classes (drawn from 181) never occur in train."""
    from support.fabricate import fabricate_batch
    data = yaml.safe_load((ROOT / "scene_configs" / "default.yaml").read_text())
    assert "splits" in data  # the preset now holds out val and test motions
    if not with_splits:
        del data["splits"]
    data["render"].update(resolution={"width": 32, "height": 32}, frames=3)  # small, same sampling otherwise
    raw = fabricate_batch(BatchConfig.model_validate(data), registry, tmp_path / "out", n)
    pack(raw, tmp_path / "dataset", PackOptions())
    res = synthact("eval", checkpoint, "--dataset", tmp_path / "dataset", "--out", tmp_path / "eval.json")
    lines = res.stderr.strip().splitlines()
    assert res.returncode == 2 and len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
    reason = "2 of the 3 test classes have no train clips" if n == 20 else "no test clips"
    assert "cannot evaluate" in lines[0] and reason in lines[0], lines[0]
    assert not (tmp_path / "eval.json").exists()


def info(labels, splits, groups=None):
    return Clips([], labels, groups or [f"m{i}" for i in range(len(labels))], splits)


def test_refusals_name_the_reason():
    ok = info(["a", "b"] * 15, ["train"] * 10 + ["test"] * 20)
    train, test = split_masks(ok)
    assert int(train.sum()) == 10 and int(test.sum()) == 20
    cases = [
        (info(["a", "b"] * 15, ["train"] * 30), "no test clips"),
        (info(["a", "b"] * 15, ["test"] * 30), "no train clips"),
        (info(["a"] * 10 + ["c"] * 20, ["train"] * 10 + ["test"] * 20), "1 of the 1 test classes have no train"),
        (info(["a", "b"] * 10 + ["a"] * 20, ["train"] * 20 + ["test"] * 20), "all of one class"),
        (info(["a", "b"] * 15, ["train"] * 12 + ["test"] * 18), "only 18 test clips"),
    ]
    for clips, reason in cases:
        with pytest.raises(EvaluationRefused, match=reason):
            split_masks(clips)
    with pytest.raises(EvaluationRefused, match="no val clips"):
        split_masks(ok, "val")


def test_wilson_interval():
    assert wilson_interval(0.5, 100) == pytest.approx([0.4038, 0.5962], abs=1e-4)
    lo, hi = wilson_interval(1.0, 20)
    assert hi == 1.0 and 0.83 < lo < 0.84  # a perfect score on 20 clips is not proof of perfection
    assert wilson_interval(0.3, 1000)[1] - wilson_interval(0.3, 1000)[0] < wilson_interval(0.3, 100)[1] - \
        wilson_interval(0.3, 100)[0]


def test_splits_hold_out_whole_motions_and_every_top1_has_an_interval(evaluable, checkpoint, tmp_path):
    index = pq.read_table(evaluable / "index").to_pandas()
    by_split = index.groupby("split").motion_key.apply(set)
    assert not by_split["train"] & by_split["test"]  # the renders of a motion never straddle train and test
    metrics = evaluate_checkpoint(checkpoint, evaluable, tmp_path / "eval.json")
    test = index[index.split == "test"]
    assert metrics["test_clips"] == len(test) >= 20 and metrics["train_clips"] == int((index.split == "train").sum())
    assert metrics["retrieval_queries"] == int(test.motion_key.duplicated(keep=False).sum()) > 0
    for who in ("model", "random_init"):
        for name in ("knn_top1", "linear_top1", "retrieval_top1"):
            lo, hi = metrics[who][f"{name}_ci95"]
            assert 0 <= lo <= metrics[who][name] <= hi <= 1 and hi - lo > 0.1  # 22 clips: wide, and said so
    assert json.loads((tmp_path / "eval.json").read_text())["model"] == metrics["model"]
    assert (tmp_path / "eval.png").is_file()


def write_avi(path, frames):
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", format="avi") as container:
        stream = container.add_stream("mpeg4", rate=15)
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode(None))


def test_class_folders_flat_with_avi_and_by_split(evaluable_raw, checkpoint, tmp_path):
    flat = tmp_path / "ucf"
    clips = sorted((evaluable_raw / "clips").iterdir())
    for clip in clips:  # two clips of one group, as UCF101 names them (v_<Class>_g08_c01, _c02)
        reader = ClipReader.from_dir(clip)
        for number in ("c01", "c02"):
            write_avi(flat / reader.spec.actors[0].motion.class_name / f"v_{clip.name}_g01_{number}.avi",
                      reader.rgb())
    sources, flat_info = catalogue(flat)
    assert len(sources) == 2 * len(clips) and all(s.endswith(".avi") for s in sources)
    share = flat_info.splits.count("test") / len(sources)
    assert set(flat_info.splits) == {"train", "test"} and 0.15 < share < 0.45
    assert catalogue(flat)[1].splits == flat_info.splits  # the hash split is stable
    by_group = {}
    for source, split in zip(sources, flat_info.splits):  # the clips of one group share their split
        by_group.setdefault(source.rsplit("_c", 1)[0], set()).add(split)
    assert len(by_group) == len(clips) and all(len(splits) == 1 for splits in by_group.values())
    videos, got = load_dataset(flat, 2, 32)
    assert videos.shape[1:] == (3, 2, 32, 32) and len(videos) == 2 * len(clips)

    synapt = tmp_path / "synapt"
    pack(evaluable_raw, synapt, PackOptions(layout="synapt"))
    assert sorted(p.name for p in (synapt / "videos").iterdir()) == ["test", "train"]
    sources, by_split = catalogue(synapt / "videos")
    index = pq.read_table(synapt / "index").to_pandas().set_index("scene_id")
    for source, label, split in zip(sources, by_split.labels, by_split.splits):
        scene = source.rsplit("/", 1)[1].removesuffix(".mp4")
        assert (label, split) == (index.class_name[scene], index.split[scene])
    metrics = evaluate_checkpoint(checkpoint, synapt / "videos", tmp_path / "videos.json")
    assert metrics["test_clips"] == int((index.split == "test").sum())
    assert metrics["retrieval_queries"] == 0 and metrics["model"]["retrieval_top1"] is None  # one video per group
    empty = tmp_path / "empty" / "test" / "a"
    empty.mkdir(parents=True)
    shutil.copy(sources[0], empty / "x.mp4")
    with pytest.raises(EvaluationRefused, match="no train clips"):
        load_dataset(tmp_path / "empty", 2, 32)
    assert np.isfinite(videos.numpy()).all() and got.labels
