"""The contrastive trainer: loss, queue, momentum update, GATA pair sampling, resume."""
import json

import numpy as np
import pytest
import torch
import webdataset as wds

from synthact.dataset.pack import PackOptions, pack
from synthact.train.data import clip_views, grouped_by_motion, pair_from_group
from synthact.train.moco import MoCo, Queue, info_nce
from synthact.train.models import backbone
from synthact.train.train import TrainConfig, train


def test_info_nce_matches_its_definition():
    torch.manual_seed(0)
    q = torch.nn.functional.normalize(torch.randn(4, 8), dim=1)
    k = torch.nn.functional.normalize(torch.randn(4, 8), dim=1)
    queue = torch.nn.functional.normalize(torch.randn(16, 8), dim=1)
    t = 0.2
    expected = []
    for i in range(4):
        pos = torch.exp(q[i] @ k[i] / t)
        expected.append(-torch.log(pos / (pos + torch.exp(queue @ q[i] / t).sum())))
    assert torch.allclose(info_nce(q, k, queue, t), torch.stack(expected).mean(), atol=1e-6)
    # multi-positive: real keys marked for a query join its numerator; unmarked ones take no part
    extra = torch.nn.functional.normalize(torch.randn(5, 8), dim=1)
    mask = torch.zeros(4, 5, dtype=torch.bool)
    mask[0, [1, 3]] = True
    got = info_nce(q, k, queue, t, extra, mask)
    manual = []
    for i in range(4):
        pos = torch.exp(q[i] @ k[i] / t) + sum(torch.exp(q[i] @ extra[j] / t) for j in range(5) if mask[i, j])
        manual.append(-torch.log(pos / (pos + torch.exp(queue @ q[i] / t).sum())))
    assert torch.allclose(got, torch.stack(manual).mean(), atol=1e-6)
    assert got < info_nce(q, k, queue, t) + 1e-6 or mask[0].sum() == 0


def test_queue_is_a_fifo_ring():
    queue = Queue(5, 2)
    for i in range(7):
        queue.push(torch.full((1, 2), float(i)))
    assert queue.keys[:, 0].tolist() == [5.0, 6.0, 2.0, 3.0, 4.0] and int(queue.pointer) == 2
    queue.push(torch.tensor([[7.0, 7.0], [8.0, 8.0], [9.0, 9.0], [10.0, 10.0]]))
    assert queue.keys[:, 0].tolist() == [10.0, 6.0, 7.0, 8.0, 9.0] and int(queue.pointer) == 1


def test_momentum_update_moves_keys_towards_queries():
    model = MoCo(backbone("tsm_r18", 2), dim=8, hidden=16, queue_size=8, momentum=0.9)
    with torch.no_grad():
        for p in model.encoder_q.parameters():
            p.add_(1.0)
    before = [p.clone() for p in model.encoder_k.parameters()]
    model.momentum_update()
    for (q, k, k0) in zip(model.encoder_q.parameters(), model.encoder_k.parameters(), before):
        assert torch.allclose(k, 0.9 * k0 + 0.1 * q, atol=1e-6)
    assert all(not p.requires_grad for p in model.encoder_k.parameters())


def test_moco_step_reports_positive_and_queue_cosines():
    torch.manual_seed(0)
    model = MoCo(backbone("r3d_18", 2, width=8), dim=8, hidden=16, queue_size=8, momentum=0.0)
    clips = torch.randn(4, 3, 2, 32, 32)
    model.eval()  # no batch statistics: the key encoder (momentum 0) is the query encoder
    out = model(clips, clips)
    assert out["cosine_positive"] == pytest.approx(1.0, abs=1e-4)  # a view paired with itself
    assert abs(float(out["cosine_negative"])) < 0.5  # against the random unit vectors the queue starts with
    with torch.no_grad():  # the step's keys entered the queue after being scored against it
        assert torch.allclose(model.queues["synthetic"].keys[:4], model.embed(clips), atol=1e-5)


def test_shuffle_bn_keeps_queries_and_keys_in_order_but_apart():
    """Batch norm sees chunks of the batch; keys are shuffled across chunks, and features come back in order."""
    seen = {"q": [], "k": []}

    class Tagging(torch.nn.Module):  # the "features" of a clip are its tag, and every call records its chunk
        feature_dim = 1

        def __init__(self, role):
            super().__init__()
            self.role = role

        def forward(self, x):
            seen[self.role].append(sorted(x[:, 0, 0, 0, 0].tolist()))
            return x[:, 0, 0, 0, :1]

    model = MoCo(Tagging("q"), dim=4, hidden=4, queue_size=8, bn_groups=2)
    model.encoder_k.role = "k"
    torch.manual_seed(0)
    clips = torch.arange(8, dtype=torch.float32)[:, None, None, None, None].expand(8, 3, 2, 4, 4).clone()
    q = model._grouped(model.encoder_q, clips, shuffle=False)
    k = model._grouped(model.encoder_k, clips, shuffle=True)
    assert q.flatten().tolist() == k.flatten().tolist() == list(range(8))  # back in the batch's order
    assert seen["q"] == [[0, 1, 2, 3], [4, 5, 6, 7]] and len(seen["k"]) == 2
    assert seen["k"] != seen["q"] and sorted(sum(seen["k"], [])) == list(range(8))  # keys met other keys
    model.eval()
    assert len(model._grouped(model.encoder_q, clips, shuffle=False)) == 8 and len(seen["q"]) == 3  # one chunk


def test_backbones_give_512_features():
    x = torch.randn(2, 3, 4, 32, 32)
    for name in ("r3d_18", "r2plus1d_18", "tsm_r18"):
        assert backbone(name, 4)(x).shape == (2, 512)
        narrow = backbone(name, 4, width=16)
        assert narrow(x).shape == (2, 128) and narrow.feature_dim == 128
    with pytest.raises(ValueError, match="unknown backbone"):
        backbone("vit", 4)


def test_difference_input_sees_only_what_moves():
    torch.manual_seed(0)
    frames = torch.randn(1, 3, 1, 32, 32).expand(2, 3, 4, 32, 32).clone()  # two static clips
    frames[1] += torch.randn(3, 1, 32, 32)  # the second has another static background
    for name in ("r3d_18", "tsm_r18"):
        model = backbone(name, 4, width=8, frame_input="difference").eval()
        static = model(frames)
        assert torch.allclose(static[0], static[1], atol=1e-5)  # differences cancel any static image
        moving = frames.clone()
        moving[1, :, 2:] += 1.0
        assert not torch.allclose(model(moving)[1], static[1], atol=1e-3)
    with pytest.raises(ValueError, match="frame_input"):
        backbone("r3d_18", 4, frame_input="flow")


def test_difference_to_rgb_fades_from_differences_to_the_frames():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 4, 32, 32)
    model = backbone("r3d_18", 4, width=8, frame_input="difference_to_rgb").eval()
    differences = backbone("r3d_18", 4, width=8, frame_input="difference").eval()
    differences.inner.load_state_dict(model.inner.state_dict())
    assert float(model.alpha) == 1.0 and torch.allclose(model(x), differences(x), atol=1e-5)  # untrained: differences
    model.alpha.fill_(0.0)
    assert torch.allclose(model(x), model.inner(x[:, :, 1:]), atol=1e-6)  # trained: the RGB frames themselves
    cfg = TrainConfig(frame_input="difference_to_rgb", steps=100, input_schedule=(0.2, 0.6))
    assert [cfg.rgb_share(s) for s in (0, 20, 40, 60, 100)] == pytest.approx([0.0, 0.0, 0.5, 1.0, 1.0])
    with pytest.raises(ValueError, match="needs frame_input: difference_to_rgb"):
        TrainConfig(frame_input="rgb", input_schedule=(0.2, 0.6))
    with pytest.raises(ValueError, match="0 <= start < end <= 1"):
        TrainConfig(frame_input="difference_to_rgb", input_schedule=(0.6, 0.2))


def test_a_difference_to_rgb_checkpoint_carries_its_input_and_evaluates_on_rgb(shards, evaluable, tmp_path,
                                                                               monkeypatch):
    from synthact.train import evaluate as evaluation
    cfg = TrainConfig(backbone="tsm_r18", frames=3, size=32, batch_size=2, steps=4, queue_size=16, dim=8, hidden=16,
                      workers=0, frame_input="difference_to_rgb", input_schedule=(0.25, 0.75))
    halfway = train(cfg, str(shards), tmp_path / "run", log=lambda *_: None, stop_at=2)
    assert float(torch.load(halfway, weights_only=False)["model"]["encoder_q.alpha"]) == 0.5
    done = train(cfg, str(shards), tmp_path / "run", log=lambda *_: None)
    state = torch.load(done, weights_only=False)["model"]
    assert float(state["encoder_q.alpha"]) == float(state["encoder_k.alpha"]) == 0.0
    seen, original = [], evaluation.extract
    monkeypatch.setattr(evaluation, "extract", lambda encoders, *args, **kw: seen.append(
        [float(e.alpha) for e in encoders]) or original(encoders, *args, **kw))
    metrics = evaluation.evaluate_checkpoint(done, evaluable, tmp_path / "eval.json", workers=0)
    assert seen == [[0.0, 0.0, 0.0, 0.0]]  # the trained and the three random networks all see RGB
    assert metrics["checkpoint"]["input"].startswith("RGB frames") and metrics["checkpoint"]["step"] == 4


@pytest.fixture(scope="module")
def shards(raw, tmp_path_factory):
    out = tmp_path_factory.mktemp("gata")
    pack(raw[0], out, PackOptions(layout="gata"))
    return out


def test_gata_pairs_are_two_renders_of_one_motion_over_one_window(shards):
    urls = sorted(map(str, (shards / "shards").glob("*.tar")))
    groups = list(wds.WebDataset(urls, shardshuffle=False).compose(clip_views).compose(grouped_by_motion))
    assert any(len(g) >= 2 for g in groups) and all(len({v.motion_key for v in g}) == 1 for g in groups)
    rng = np.random.default_rng(0)
    group = next(g for g in groups if len(g) >= 2)
    a, b, meta = pair_from_group(group, 2, 32, rng, "gata")
    assert a.shape == b.shape == (3, 2, 32, 32)
    assert meta["a"] != meta["b"] and 0 <= meta["start"] <= 1
    _, _, classic = pair_from_group(group, 2, 32, rng, "classic")
    assert classic["a"] == classic["b"]
    assert pair_from_group(group[:1], 2, 32, rng, "gata") is None
    # a stride of 2 over the 3 rendered frames takes frames 0 and 2: the only window that fits
    assert pair_from_group(group, 2, 32, rng, "gata", stride=2)[2]["start"] == 0
    assert pair_from_group(group, 2, 32, rng, "gata", stride=3) is None


def test_strided_crop_takes_every_nth_frame():
    from synthact.train.data import View, crop, span
    frames = np.stack([np.full((16, 16, 3), 10 * t, np.uint8) for t in range(9)])
    view = View("s", 0, "m", "c", frames, np.tile([4.0, 4.0, 11.0, 11.0], (9, 1)))
    clip = crop(view, 1, 4, 8, np.random.default_rng(0), scale_range=(1.0, 1.0), flip=False, stride=2)
    assert span(4, 2) == 7 and clip.shape == (4, 3, 8, 8)
    levels = (clip[:, :, 4, 4].mean(1) * 0.225 + 0.45) * 255
    assert torch.allclose(levels, torch.tensor([10.0, 30.0, 50.0, 70.0]), atol=0.5)


def test_training_runs_and_resumes_exactly(shards, tmp_path):
    cfg = TrainConfig(backbone="tsm_r18", frames=2, size=32, batch_size=2, steps=4, queue_size=16, dim=8,
                      hidden=16, workers=0, checkpoint_every=2)
    straight = train(cfg, str(shards), tmp_path / "straight", log=lambda *_: None)
    halfway = train(cfg, str(shards), tmp_path / "resumed", log=lambda *_: None, stop_at=2)
    assert torch.load(halfway, weights_only=False)["step"] == 2
    resumed = train(cfg, str(shards), tmp_path / "resumed", log=lambda *_: None)
    a, b = torch.load(straight, weights_only=False), torch.load(resumed, weights_only=False)
    assert a["step"] == b["step"] == 4
    for name, tensor in a["model"].items():
        assert torch.allclose(tensor.float(), b["model"][name].float(), atol=1e-5), name
    losses = [json.loads(line)["loss"] for line in (tmp_path / "straight" / "metrics.jsonl").read_text().splitlines()]
    assert len(losses) == 4 and all(np.isfinite(losses))


def test_evaluation_metrics_on_known_features():
    from synthact.train.evaluate import evaluate_features, knn_predict, representation_bias, retrieval_hits
    torch.manual_seed(0)
    centres = torch.randn(3, 16) * 5
    y = torch.arange(30) % 3
    x = centres[y] + 0.1 * torch.randn(30, 16)
    assert torch.equal(knn_predict(x[:15], y[:15], x[15:]), y[15:])
    noise = torch.randn(30, 16)
    assert (knn_predict(noise[:15], y[:15], noise[15:]) == y[15:]).float().mean() < 0.8
    groups = [f"m{i // 2}" for i in range(30)]
    paired = torch.randn(15, 16).repeat_interleave(2, 0) * 3 + 0.01 * torch.randn(30, 16)
    queries, hits = retrieval_hits(paired, groups)
    assert len(queries) == 30 and hits.mean() == 1.0
    assert representation_bias(0.5, 0.25) == pytest.approx(np.log(2))
    labels = [f"c{int(v)}" for v in y]
    splits = ["train"] * 12 + ["val"] * 6 + ["test"] * 12
    out = evaluate_features(x, [noise, noise + 0.1 * torch.randn(30, 16)], labels, [f"m{i}" for i in range(30)],
                            splits)
    assert out["model"]["knn_top1"] == out["model"]["linear_top1"] == 1.0
    assert out["gain_over_random"]["linear_top1"]["value"] > 0.3 and len(out["random_init"]["inits"]) == 2
    assert out["majority_top1"] == pytest.approx(4 / 12, abs=1e-4) and len(out["predictions"]) == 12


def test_joint_training_with_real_videos_mines_cross_domain_positives(raw, shards, tmp_path):
    real = tmp_path / "real"
    for clip in sorted((raw[0] / "clips").iterdir())[:4]:
        target = real / f"class{len(list(real.glob('*'))) % 2}" / f"{clip.name}.mp4"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((clip / "rgb.mp4").read_bytes())
    cfg = TrainConfig(backbone="tsm_r18", frames=2, size=32, batch_size=2, steps=2, queue_size=8, dim=8,
                      hidden=16, workers=0, real_videos=str(real), mining_threshold=-1.0, mining_top_k=3)
    train(cfg, str(shards), tmp_path / "joint", log=lambda *_: None)
    records = [json.loads(line) for line in (tmp_path / "joint" / "metrics.jsonl").read_text().splitlines()]
    assert len(records) == 2
    assert all(np.isfinite(r["loss_real"]) and np.isfinite(r["loss_synthetic"]) for r in records)
    assert all(r["mined_per_query"] == 3 for r in records)  # every query takes its top-3 real keys
    strict = cfg.model_copy(update={"mining_threshold": 1.0, "steps": 1})
    train(strict, str(shards), tmp_path / "strict", log=lambda *_: None)
    first = json.loads((tmp_path / "strict" / "metrics.jsonl").read_text().splitlines()[0])
    assert first["mined_per_query"] == 0  # nothing is that similar


def test_two_process_data_parallel_training(registry, tmp_path):
    import subprocess
    import sys

    from support.fabricate import fabricate_batch
    from synthact.config import BatchConfig
    cfg = BatchConfig.model_validate({
        "batch": {"name": "ddp", "seed": 3}, "camera": {"distance_m": 3.5, "height_m": 1.4, "focal_length_mm": 35},
        "motion": {"selection": {"policy": "balanced", "classes": ["wave_right_high", "squat_slow"]},
                   "renders_per_motion": 2},
        "render": {"resolution": {"width": 48, "height": 48}, "frames": 3}})
    raw = fabricate_batch(cfg, registry, tmp_path / "raw", 4)  # two motions, two renders each
    packed = tmp_path / "gata"
    pack(raw, packed, PackOptions(layout="gata", shard_max_clips=1))  # one motion per shard: each rank gets one
    script = tmp_path / "run.py"
    script.write_text(
        "import sys\nfrom synthact.train.train import TrainConfig, train\n"
        "cfg = TrainConfig(backbone='tsm_r18', frames=2, size=32, batch_size=2, steps=2, queue_size=8, dim=8, "
        "hidden=16, workers=0, checkpoint_every=1)\n"
        f"train(cfg, {str(packed)!r}, {str(tmp_path / 'ddp')!r}, log=lambda *_: None)\n")
    res = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
                          str(script)], capture_output=True, text=True, timeout=300,
                         cwd=str(__import__("conftest").ROOT))
    assert res.returncode == 0, res.stderr[-3000:]
    state = torch.load(tmp_path / "ddp" / "last.pt", weights_only=False)
    assert state["step"] == 2
    # every rank enqueued the keys of both ranks: 2 steps x 2 ranks x batch 2 = 8 keys, the queue wrapped once
    assert int(state["model"]["queues.synthetic.pointer"]) == 0
    assert (tmp_path / "ddp" / "metrics.rank1.jsonl").exists()


def test_supervised_training_learns_class_ids_and_evaluates(shards, evaluable, tmp_path):
    from synthact.train.evaluate import evaluate_checkpoint
    classes = json.loads((shards / "dataset.json").read_text())["classes"]
    cfg = TrainConfig(objective="supervised", backbone="tsm_r18", frames=2, size=32, batch_size=2, steps=3,
                      workers=0, lr=0.01)
    last = train(cfg, str(shards), tmp_path / "sup", log=lambda *_: None)
    state = torch.load(last, weights_only=False)["model"]
    assert state["classifier.weight"].shape == (len(classes), 512)
    records = [json.loads(line) for line in (tmp_path / "sup" / "metrics.jsonl").read_text().splitlines()]
    assert len(records) == 3 and all(np.isfinite(r["loss"]) and 0 <= r["accuracy"] <= 1 for r in records)
    metrics = evaluate_checkpoint(last, evaluable, tmp_path / "sup" / "eval.json")
    assert 0 <= metrics["model"]["linear_top1"] <= 1 and (tmp_path / "sup" / "eval.png").exists()
    with pytest.raises(ValueError, match="objective: moco"):
        TrainConfig(objective="supervised", real_videos=str(tmp_path))
    with pytest.raises(ValueError, match="set `classes`"):
        train(cfg, str(tmp_path / "no-manifest.tar"), tmp_path / "bad", log=lambda *_: None)


def test_finetuning_trains_a_copy_to_separate_the_classes(evaluable):
    from synthact.train.eval_datasets import catalogue
    from synthact.train.evaluate import Protocol, finetune_correct
    cat = catalogue(evaluable)
    items = cat.of("train", "val", "test")
    encoder = backbone("tsm_r18", 2)
    before = {k: v.clone() for k, v in encoder.state_dict().items()}
    correct = finetune_correct(encoder, cat, items, [i.label for i in items], [i.split for i in items],
                               Protocol(2, 1, 32, "actor"), "test", epochs=2, workers=0, batch=4)
    assert len(correct) == sum(i.split == "test" for i in items) and set(np.unique(correct)) <= {0.0, 1.0}
    assert all(torch.equal(v, encoder.state_dict()[k]) for k, v in before.items())  # the caller's encoder is kept


def test_clip_cache_gives_the_same_pairs_as_streaming(shards):
    from synthact.train.data import ClipCache, PairStream
    tars = sorted(map(str, (shards / "shards").glob("*.tar")))
    cache = ClipCache()
    first = list(PairStream(tars, 2, 32, "gata", seed=3, epoch=0, cache=cache))
    assert cache.complete and sum(len(g) for gs in cache.by_shard.values() for g in gs) >= 4
    for epoch in (0, 1):
        streamed = list(PairStream(tars, 2, 32, "gata", seed=3, epoch=epoch))
        cached = list(PairStream(tars, 2, 32, "gata", seed=3, epoch=epoch, cache=cache))
        assert len(streamed) == len(cached) == len(first)
        assert all(torch.equal(a, c) and torch.equal(b, d) for (a, b), (c, d) in zip(streamed, cached))
    with pytest.raises(ValueError, match="workers: 0"):
        TrainConfig(cache_clips=True, workers=2)
    # the motion order is reshuffled every epoch and every motion comes once per pass
    stream = PairStream(tars, 2, 32, "gata", seed=3, epoch=0, cache=cache)
    orders = []
    for epoch in range(6):
        stream.epoch = epoch
        orders.append(tuple(g[0].motion_key for g in stream.groups(stream.rng(0))))
    assert len(set(orders)) > 1 and all(sorted(o) == sorted(orders[0]) and len(set(o)) == len(o) for o in orders)


def test_train_and_eval_commands(shards, evaluable, tmp_path):
    import subprocess
    import sys
    root = __import__("conftest").ROOT

    def synthact(*args):
        return subprocess.run([sys.executable, "-m", "synthact", *args], cwd=root, capture_output=True,
                              text=True, timeout=600)
    bad = tmp_path / "bad.yaml"
    bad.write_text("backbone: tsm_r18\nbatch_size: 1\nqueue: 8\n")
    res = synthact("train", str(bad), "--shards", str(shards), "--out", str(tmp_path / "run"))
    assert res.returncode == 2
    assert f"{bad}:2" in res.stderr and "batch_size" in res.stderr and f"{bad}:3" in res.stderr
    good = tmp_path / "sup.yaml"
    good.write_text("objective: supervised\nbackbone: tsm_r18\nframes: 2\nsize: 32\nbatch_size: 2\nworkers: 0\n")
    res = synthact("train", str(good), "--shards", str(shards), "--out", str(tmp_path / "run"), "--steps", "2",
                   "--seed", "7")
    assert res.returncode == 0, res.stderr[-2000:]
    assert json.loads((tmp_path / "run" / "config.json").read_text())["seed"] == 7  # the override is honoured
    assert "train" in res.stderr and "steps/" in res.stderr and "loss" in res.stderr  # the progress bar
    res = synthact("eval", str(tmp_path / "run" / "last.pt"), "--dataset", str(evaluable), "--finetune-epochs", "1")
    assert res.returncode == 0, res.stderr[-2000:]
    metrics = json.loads((tmp_path / "run" / "eval.json").read_text())
    assert {"knn_top1", "linear_top1", "finetune_top1", "retrieval_top1"} <= set(metrics["model"])
    assert "finetune_top1" in res.stdout and "[" in res.stdout  # the table shows each 95% interval
    assert "features: 60/60" in res.stderr and "clips/s" in res.stderr
