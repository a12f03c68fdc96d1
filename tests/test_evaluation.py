"""Evaluation that cannot silently mislead: held-out motions, refusals with reasons, 95% intervals on every
top-1, and both class-folder layouts with any container PyAV reads."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml

from conftest import ROOT
from synthact.clip import ClipReader
from synthact.config import BatchConfig
from synthact.dataset.pack import PackOptions, pack
from synthact.train import evaluate as evaluation
from synthact.train.eval_datasets import Catalogue, EvaluationRefused, Item, catalogue, check_disjoint, check_scorable
from synthact.train.evaluate import (
    Protocol,
    bootstrap_difference,
    evaluate_checkpoint,
    extract,
    linear_predict,
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
    reason = "of the 3 test classes have no train clips" if n == 20 else "no test clips"
    assert "cannot evaluate" in lines[0] and reason in lines[0], lines[0]
    assert not (tmp_path / "eval.json").exists()


def info(labels, splits, groups=None):
    groups = groups or [f"m{i}" for i in range(len(labels))]
    return Catalogue(ROOT, "class_folders", [Item(f"v{i}", label, g, split) for i, (label, g, split)
                                             in enumerate(zip(labels, groups, splits))])


def test_refusals_name_the_reason():
    ok = info(["a", "b"] * 15, ["train"] * 10 + ["test"] * 20)
    check_scorable(ok)
    cases = [
        (info(["a", "b"] * 15, ["train"] * 30), "no test clips"),
        (info(["a", "b"] * 15, ["test"] * 30), "no train clips"),
        (info(["a"] * 10 + ["c"] * 20, ["train"] * 10 + ["test"] * 20), "1 of the 1 test classes have no train"),
        (info(["a", "b"] * 10 + ["a"] * 20, ["train"] * 20 + ["test"] * 20), "all of one class"),
        (info(["a", "b"] * 15, ["train"] * 12 + ["test"] * 18), "only 18 test clips"),
    ]
    for clips, reason in cases:
        with pytest.raises(EvaluationRefused, match=reason):
            check_scorable(clips)
    with pytest.raises(EvaluationRefused, match="no val clips"):
        check_scorable(ok, "val")


def test_splits_that_share_a_motion_or_a_trial_are_refused_with_counts():
    check_disjoint(info(["a", "b"] * 4, ["train", "test"] * 4))
    shared = info(["a", "b", "a", "b"], ["train", "test", "train", "test"], ["m0", "m0", "m1", "m2"])
    with pytest.raises(EvaluationRefused, match=r"share 1 recordings \(e.g. m0 in test and train\)"):
        check_disjoint(shared)
    trials = Catalogue(ROOT, "packed", [Item("s0", "a", "k0", "train", "05_01"), Item("s1", "a", "k1", "test",
                                                                                       "05_01"),
                                        Item("s2", "b", "k2", "test", "06_01")])
    with pytest.raises(EvaluationRefused, match="share 1 trials .*05_01"):
        check_disjoint(trials)


def test_wilson_interval():
    assert wilson_interval(0.5, 100) == pytest.approx([0.4038, 0.5962], abs=1e-4)
    lo, hi = wilson_interval(1.0, 20)
    assert hi == 1.0 and 0.83 < lo < 0.84  # a perfect score on 20 clips is not proof of perfection
    assert wilson_interval(0.3, 1000)[1] - wilson_interval(0.3, 1000)[0] < wilson_interval(0.3, 100)[1] - \
        wilson_interval(0.3, 100)[0]


def test_splits_hold_out_whole_motions_and_every_number_has_an_interval(evaluable, checkpoint, tmp_path):
    index = pq.read_table(evaluable / "index").to_pandas()
    by_split = index.groupby("split").motion_key.apply(set)
    assert not by_split["train"] & by_split["test"]  # the renders of a motion never straddle train and test
    metrics = evaluate_checkpoint(checkpoint, evaluable, tmp_path / "eval.json", workers=0)
    test = index[index.split == "test"]
    assert metrics["test_clips"] == len(test) >= 20
    assert metrics["train_clips"] + metrics["val_clips"] == int((index.split == "train").sum())
    assert metrics["val_clips"] > 0 and "20% of the train groups" in metrics["splits_from"]["val"]
    assert metrics["retrieval_queries"] == int(test.motion_key.duplicated(keep=False).sum()) > 0
    for who in ("model", "random_init"):
        for name in ("knn_top1", "linear_top1", "retrieval_top1"):
            lo, hi = metrics[who][f"{name}_ci95"]
            assert 0 <= lo <= metrics[who][name] <= hi <= 1 and hi - lo > 0.1  # 22 clips: wide, and said so
    assert len(metrics["random_init"]["inits"]) == 3 and len(metrics["random_init"]["linear_top1_inits"]) == 3
    assert metrics["random_init"]["linear_top1"] == pytest.approx(
        np.mean(metrics["random_init"]["linear_top1_inits"]), abs=1e-3)
    for name in ("knn_top1", "linear_top1", "retrieval_top1"):
        gain = metrics["gain_over_random"][name]
        assert gain["ci95"][0] <= gain["value"] <= gain["ci95"][1] and gain["resampled"].endswith("groups")
    assert metrics["model"]["linear_C"] in evaluation.C_GRID and len(metrics["model"]["linear_val_top1_by_C"]) == 6
    assert metrics["checkpoint"]["step"] == 1 and metrics["checkpoint"]["input"] == "RGB frames"
    assert metrics["protocol"]["view"] == "actor" and metrics["layout"] == "packed"
    predictions = metrics["predictions"]
    assert sorted(p["id"] for p in predictions) == sorted(test.scene_id)
    linear = np.mean([p["linear"] == p["label"] for p in predictions])
    assert linear == pytest.approx(metrics["model"]["linear_top1"], abs=1e-3)  # the table is its predictions
    saved = json.loads((tmp_path / "eval.json").read_text())
    assert saved["model"] == metrics["model"] and (tmp_path / "eval.png").is_file()
    assert metrics["majority_top1"] > 0


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
    flat_cat = catalogue(flat)
    assert flat_cat.layout == "class_folders" and len(flat_cat.items) == 2 * len(clips)
    share = sum(i.split == "test" for i in flat_cat.items) / len(flat_cat.items)
    assert {i.split for i in flat_cat.items} == {"train", "val", "test"} and 0.15 < share < 0.45
    assert [i.split for i in catalogue(flat).items] == [i.split for i in flat_cat.items]  # the hash split is stable
    by_group = {}
    for item in flat_cat.items:  # the clips of one group share their split
        by_group.setdefault(item.source.rsplit("_c", 1)[0], set()).add(item.split)
    assert len(by_group) == len(clips) and all(len(splits) == 1 for splits in by_group.values())

    synapt = tmp_path / "synapt"
    pack(evaluable_raw, synapt, PackOptions(layout="synapt"))
    assert sorted(p.name for p in (synapt / "videos").iterdir()) == ["test", "train"]
    by_split = catalogue(synapt / "videos")
    index = pq.read_table(synapt / "index").to_pandas().set_index("scene_id")
    for item in by_split.items:
        scene = item.source.rsplit("/", 1)[1].removesuffix(".mp4")
        assert item.label == index.class_name[scene]
        assert item.split == index.split[scene] or (item.split, index.split[scene]) == ("val", "train")
    metrics = evaluate_checkpoint(checkpoint, synapt / "videos", tmp_path / "videos.json", workers=0, clips=2,
                                  crops=3)
    assert metrics["test_clips"] == int((index.split == "test").sum())
    assert metrics["retrieval_queries"] == 0 and metrics["model"]["retrieval_top1"] is None  # one video per group
    assert metrics["protocol"]["view"] == "frame" and metrics["protocol"]["crops"] == 3
    empty = tmp_path / "empty" / "test" / "a"
    empty.mkdir(parents=True)
    shutil.copy(by_split.items[0].source, empty / "x.mp4")
    with pytest.raises(EvaluationRefused, match="no train clips"):
        check_scorable(catalogue(tmp_path / "empty"))


def test_views_follow_the_standard_protocol():
    frames = np.zeros((40, 60, 100, 3), np.uint8)  # 100 wide, 60 high
    frames[:, :, :33] = 255  # the left third white
    p = Protocol(frames=4, stride=2, size=32, view="frame", clips=3, crops=3)
    v = evaluation.views(frames, None, p)
    assert v.shape == (9, 3, 4, 32, 32)  # 3 clips x 3 crops
    assert p.resize == 37  # the shorter side resized to 8/7 of the crop
    left, centre, right = v[0].mean(), v[1].mean(), v[2].mean()
    assert left > centre > right  # three crops along the longer side, left to right
    one = evaluation.views(frames, None, Protocol(frames=4, stride=2, size=32))
    assert one.shape == (1, 3, 4, 32, 32)
    short = evaluation.views(frames[:3], None, Protocol(frames=8, stride=4, size=32))
    assert short.shape == (1, 3, 8, 32, 32)  # too short: the last frame repeats
    with pytest.raises(ValueError, match="crops: 3 needs view: frame"):
        Protocol(frames=4, stride=1, size=32, view="actor", crops=3)


def ucf_layout(root, clips, missing=0):
    """UCF101's official layout in miniature: UCF-101/<Class>/v_<Class>_gNN_cMM.avi and ucfTrainTestlist/."""
    readers = [ClipReader.from_dir(c) for c in clips]
    classes = sorted({r.spec.actors[0].motion.class_name for r in readers})
    lists = root / "ucfTrainTestlist"
    lists.mkdir(parents=True)
    (lists / "classInd.txt").write_text("".join(f"{i + 1} {c}\n" for i, c in enumerate(classes)))
    train, test = [], []
    for k, reader in enumerate(readers):
        c = reader.spec.actors[0].motion.class_name
        group = k // 2 + 1
        name = f"{c}/v_{c}_g{group:02d}_c{k % 2 + 1:02d}.avi"
        write_avi(root / "UCF-101" / name, reader.rgb())
        (test if group % 3 == 0 else train).append(name)
    for k in range(missing):
        train.append(f"{classes[0]}/v_{classes[0]}_g99_c{k + 1:02d}.avi")
    (lists / "trainlist01.txt").write_text("".join(f"{n} {classes.index(n.split('/')[0]) + 1}\n" for n in train))
    (lists / "testlist01.txt").write_text("".join(f"{n}\n" for n in test))
    return classes


def test_ucf101_official_layout_and_its_refusals(evaluable_raw, checkpoint, tmp_path, monkeypatch):
    clips = sorted((evaluable_raw / "clips").iterdir())
    ucf_layout(tmp_path / "ucf", clips)
    cat = catalogue(tmp_path / "ucf")
    assert cat.layout == "ucf101" and cat.notes["fold"] == 1 and len(cat.items) == len(clips)
    tested = {i.source.rsplit("/", 1)[1] for i in cat.items if i.split == "test"}
    assert tested == {Path(p).name for p in (tmp_path / "ucf" / "ucfTrainTestlist" / "testlist01.txt").read_text()
                      .split()}
    assert {i.split for i in cat.items} == {"train", "val", "test"}  # val: a fifth of the train groups
    metrics = evaluate_checkpoint(checkpoint, tmp_path / "ucf", tmp_path / "ucf.json", workers=0, clips=2)
    assert metrics["layout"] == "ucf101" and metrics["protocol"]["resize_shorter_side"] == 37
    assert metrics["skipped_videos"]["count"] == 0

    ucf_layout(tmp_path / "gaps", clips, missing=4)
    with pytest.raises(EvaluationRefused, match="4 of the .* videos its split files name do not exist .*g99_c01"):
        catalogue(tmp_path / "gaps")

    broken = tmp_path / "ucf" / "UCF-101"
    victim = sorted(broken.rglob("*.avi"))[0]
    victim.write_bytes(b"not a video")
    with pytest.raises(EvaluationRefused, match="1 of .* videos could not be decoded .*more than 1%"):
        evaluate_checkpoint(checkpoint, tmp_path / "ucf", tmp_path / "broken.json", workers=0)
    monkeypatch.setattr(evaluation, "MAX_DECODE_FAILURES", 0.05)
    metrics = evaluate_checkpoint(checkpoint, tmp_path / "ucf", tmp_path / "broken.json", workers=0)
    assert metrics["skipped_videos"]["count"] == 1 and victim.name in metrics["skipped_videos"]["examples"][0]


def test_hmdb51_official_layout(evaluable_raw, tmp_path):
    clips = sorted((evaluable_raw / "clips").iterdir())
    root = tmp_path / "hmdb"
    lines = {}
    for k, clip in enumerate(clips):
        reader = ClipReader.from_dir(clip)
        c = reader.spec.actors[0].motion.class_name
        name = f"movie{k // 2}_{c}_f_cm_np1_fr_med_{k % 2}.avi"
        write_avi(root / c / name, reader.rgb())
        lines.setdefault(c, []).append(f"{name} {0 if k % 7 == 6 else 2 if (k // 2) % 3 == 0 else 1}")
    splits = root / "testTrainMulti_7030_splits"
    splits.mkdir()
    for c, rows in lines.items():
        (splits / f"{c}_test_split1.txt").write_text("\n".join(rows) + "\n")
    cat = catalogue(root)
    unused = sum(row.endswith(" 0") for rows in lines.values() for row in rows)
    assert cat.layout == "hmdb51" and len(cat.items) == len(clips) - unused > 0
    assert {i.split for i in cat.items} == {"train", "val", "test"}
    groups = {}
    for item in cat.items:  # a movie's clips (_0, _1) stay together
        groups.setdefault(item.group, set()).add(item.split)
    assert all(len(s) == 1 for s in groups.values()) and any(g.endswith("_med") for g in groups)


def test_a_folder_in_no_known_layout_gets_one_line(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(EvaluationRefused, match="no videos or clips in any known layout .*UCF101.*HMDB51"):
        catalogue(tmp_path)
    res = synthact("eval", tmp_path / "none.pt", "--dataset", tmp_path)
    assert res.returncode == 2 and "Traceback" not in res.stderr


def test_a_checkpoint_in_the_middle_of_its_curriculum_is_refused(evaluable, tmp_path):
    cfg = TrainConfig(backbone="tsm_r18", frames=3, size=32, batch_size=2, steps=10, queue_size=8, dim=8, hidden=16,
                      workers=0, frame_input="difference_to_rgb")
    last = train(cfg, str(evaluable), tmp_path / "run", log=lambda *_: None, stop_at=5)
    with pytest.raises(EvaluationRefused, match="middle of its curriculum .*--allow-partial-curriculum"):
        evaluate_checkpoint(last, evaluable, tmp_path / "e.json", workers=0)
    res = synthact("eval", last, "--dataset", evaluable, "--workers", "0")
    assert res.returncode == 2 and "--allow-partial-curriculum" in res.stderr
    metrics = evaluate_checkpoint(last, evaluable, tmp_path / "e.json", workers=0, random_inits=1,
                                  allow_partial_curriculum=True)
    assert 0 < metrics["checkpoint"]["alpha"] <= 1 and "had not reached RGB" in metrics["checkpoint"]["input"]


def test_the_bootstrap_resamples_motions_not_clips():
    rng = np.random.default_rng(0)
    motion = rng.integers(0, 2, 30).astype(float)  # 30 motions, each right or wrong for all of its 10 renders
    a, b = np.repeat(motion, 10), np.zeros(300)
    by_motion = bootstrap_difference(a, b, [f"m{i // 10}" for i in range(300)])
    by_clip = bootstrap_difference(a, b, [f"c{i}" for i in range(300)])
    assert by_motion[0] <= a.mean() <= by_motion[1]
    assert (by_motion[1] - by_motion[0]) > 2 * (by_clip[1] - by_clip[0])  # correlated clips are one sample


def test_the_probe_chooses_its_regularisation_on_val():
    import torch
    torch.manual_seed(0)
    y = torch.arange(60) % 3
    x = torch.randn(60, 40) + torch.nn.functional.one_hot(y, 40).float() * 6
    predicted, c, by_c = linear_predict(x[:30], y[:30], x[30:45], y[30:45], x[45:])
    assert list(map(float, by_c)) == list(evaluation.C_GRID) and by_c[str(c)] == max(by_c.values())
    assert (torch.from_numpy(predicted) == y[45:]).float().mean() > 0.8
    _, c_none, none = linear_predict(x[:30], y[:30], x[:0], y[:0], x[45:])
    assert c_none == 1.0 and none == {}


def test_extract_streams_each_video_once_for_every_network(evaluable, monkeypatch):
    import torch

    from synthact.train.models import backbone
    cat = catalogue(evaluable)
    items = cat.of("train", "val", "test")
    nets = [backbone("r3d_18", 2, 8), backbone("r3d_18", 2, 8)]
    decoded = []
    original = evaluation.views
    monkeypatch.setattr(evaluation, "views", lambda *a, **k: decoded.append(1) or original(*a, **k))
    (x1, x2), failed = extract(nets, cat, items, Protocol(2, 1, 32, "actor"), workers=0, batch=4)
    assert x1.shape == x2.shape == (len(items), 64) and failed == {} and len(decoded) == len(items)
    assert not torch.equal(x1, x2) and torch.isfinite(x1).all()


def test_val_is_carved_by_trial_where_clips_come_from_recorded_trials():
    """A recorded trial's windows are several motions (groups): val must take whole trials, or the carved val
    and train would share a trial and the evaluation would refuse its own split."""
    from synthact.train.eval_datasets import _carve_val
    items = [Item(f"s{i}", "ab"[i % 2], f"motion{i}", "train", f"cmu/{i // 5:02d}_01") for i in range(200)]
    items += [Item(f"t{i}", "ab"[i % 2], f"tmotion{i}", "test", f"cmu/{50 + i // 5:02d}_01") for i in range(40)]
    cat = Catalogue(ROOT, "packed", items)
    _carve_val(cat)
    assert 0 < sum(i.split == "val" for i in cat.items) < 100
    check_disjoint(cat)  # no trial in train and val
