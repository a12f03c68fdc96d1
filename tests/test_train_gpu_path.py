"""The trainer's GPU path, checked on CPU: resuming whatever device a checkpoint's tensors land on, bf16
autocast, and data-parallel runs (each rank its own shards and crops, the cache and the decoder agreeing,
too few shards refused on every rank, the GPU made current before the process group starts)."""
import json
import os
import socket
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from synthact.train import train as trainer
from synthact.train.data import ClipCache, PairStream, check_readers
from synthact.train.moco import Queue
from synthact.train.train import TrainConfig, train

TINY = dict(backbone="r3d_18", width=8, frames=4, size=32, batch_size=4, queue_size=16, dim=8, hidden=16, workers=0)


@pytest.fixture(scope="module")
def one_shard(registry, tmp_path_factory):
    """Three motions rendered twice each (4 frames), in one shard: six pairs, one batch of four per pass."""
    from support.training import gata_dataset
    return gata_dataset(registry, tmp_path_factory.mktemp("one-shard"), 3)


@pytest.fixture(scope="module")
def four_shards(registry, tmp_path_factory):
    """Four motions rendered twice each (4 frames), one motion per shard."""
    from support.training import gata_dataset
    return gata_dataset(registry, tmp_path_factory.mktemp("four-shards"), 4, motions_per_shard=1)


def tars(dataset) -> list[str]:
    return sorted(map(str, (dataset / "shards").glob("*.tar")))


# 1. resuming ---------------------------------------------------------------------------------------------------

def test_resume_does_not_depend_on_where_the_checkpoint_is_loaded(one_shard, tmp_path, monkeypatch):
    """On CUDA, torch.load(map_location=device) put the CPU RNG state on the GPU and torch.set_rng_state refused
    it. Here every tensor of the checkpoint comes back in another form than it was saved in (floats as float64,
    integers and bytes as int64: not the CPU ByteTensor set_rng_state takes), whatever map_location train()
    asks for; the resumed run must still equal the unbroken one, and train() must ask for the CPU."""
    cfg = TrainConfig(**TINY, steps=3, checkpoint_every=1)
    straight = torch.load(train(cfg, str(one_shard), tmp_path / "straight", log=lambda *_: None), weights_only=False)
    train(cfg, str(one_shard), tmp_path / "resumed", log=lambda *_: None, stop_at=1)
    asked, load = [], torch.load

    def elsewhere(f, map_location=None, **kw):
        asked.append(map_location)
        state = load(f, map_location=lambda storage, _: storage, **kw)

        def move(x):
            if isinstance(x, torch.Tensor):
                return x.to(torch.float64 if x.is_floating_point() else torch.int64)
            if isinstance(x, dict):
                return {k: move(v) for k, v in x.items()}
            if isinstance(x, list):
                return [move(v) for v in x]
            return x
        return move(state)
    monkeypatch.setattr(torch, "load", elsewhere)
    resumed = train(cfg, str(one_shard), tmp_path / "resumed", log=lambda *_: None)
    monkeypatch.setattr(torch, "load", load)
    assert asked == ["cpu"]
    resumed = torch.load(resumed, weights_only=False)
    assert resumed["step"] == straight["step"] == 3
    for name, tensor in straight["model"].items():
        assert resumed["model"][name].dtype == tensor.dtype, name
        assert torch.allclose(tensor.float(), resumed["model"][name].float(), atol=1e-5), name
    assert resumed["torch_rng"].dtype == torch.uint8 and "cuda_rng" not in resumed  # no GPU: no GPU generator


def test_the_gpu_generator_travels_as_a_cpu_byte_tensor(monkeypatch):
    """On CUDA a checkpoint also carries this process's GPU generator, and restores it onto this process's GPU."""
    saved, restored = torch.arange(16, dtype=torch.uint8), []
    monkeypatch.setattr(torch.cuda, "get_rng_state", lambda device="cuda": saved.clone())
    monkeypatch.setattr(torch.cuda, "set_rng_state", lambda state, device="cuda": restored.append((state, device)))
    gpu = torch.device("cuda", 1)
    state = trainer.rng_state(gpu)
    assert torch.equal(state["cuda_rng"], saved) and state["torch_rng"].dtype == torch.uint8
    cpu_state = torch.get_rng_state()
    expected = torch.rand(3)
    trainer.restore_rng({"torch_rng": cpu_state.to(torch.int64), "cuda_rng": saved.to(torch.int64)}, gpu)
    assert torch.equal(torch.rand(3), expected)  # the CPU generator is back where it was
    (got, device), = restored
    assert got.device.type == "cpu" and got.dtype == torch.uint8 and torch.equal(got, saved) and device == gpu
    trainer.restore_rng({"torch_rng": cpu_state}, gpu)  # a checkpoint written on CPU resumes on a GPU
    assert len(restored) == 1


# 2. bf16 --------------------------------------------------------------------------------------------------------

def test_queue_keeps_its_dtype_when_bf16_keys_arrive():
    queue = Queue(4, 2)
    queue.push(torch.ones(3, 2, dtype=torch.bfloat16))
    assert queue.keys.dtype == torch.float32 and queue.keys[:3].eq(1).all() and int(queue.pointer) == 3


def test_moco_trains_under_cpu_bf16_autocast(one_shard, tmp_path):
    cfg = TrainConfig(**TINY, steps=3, precision="bf16")
    with trainer.autocast(cfg, torch.device("cpu")):
        assert torch.get_autocast_dtype("cpu") == torch.bfloat16 and torch.is_autocast_enabled("cpu")
    for precision in ("auto", "fp32"):  # on CPU both mean no autocast
        with trainer.autocast(cfg.model_copy(update={"precision": precision}), torch.device("cpu")):
            assert not torch.is_autocast_enabled("cpu")
    last = train(cfg, str(one_shard), tmp_path / "bf16", log=lambda *_: None)
    records = [json.loads(line) for line in (tmp_path / "bf16" / "metrics.jsonl").read_text().splitlines()]
    assert len(records) == 3 and all(np.isfinite(r["loss"]) and np.isfinite(r["cosine_positive"]) for r in records)
    state = torch.load(last, weights_only=False)
    assert state["step"] == 3 and state["model"]["queues.synthetic.keys"].dtype == torch.float32
    assert int(state["model"]["queues.synthetic.pointer"]) == 3 * 4 % 16
    supervised = TrainConfig(**TINY, objective="supervised", steps=1, precision="bf16")
    train(supervised, str(one_shard), tmp_path / "bf16-supervised", log=lambda *_: None)
    assert np.isfinite(json.loads((tmp_path / "bf16-supervised" / "metrics.jsonl").read_text())["loss"])
    with pytest.raises(ValueError, match="precision"):
        TrainConfig(precision="fp16")


# 3-6. data parallelism -------------------------------------------------------------------------------------------

def test_each_rank_reads_its_own_shards_and_draws_its_own_crops(four_shards, monkeypatch):
    urls = tars(four_shards)
    seen = {}
    for rank in (0, 1):
        monkeypatch.setenv("RANK", str(rank))  # as torchrun sets them
        monkeypatch.setenv("WORLD_SIZE", "2")
        stream = PairStream(urls, 4, 32, "gata", seed=3, epoch=0)
        views = [v.scene_id for group in stream.groups(stream.rng(0)) for v in group]
        seen[rank] = {"shards": stream.reader_shards(), "views": views, "draws": stream.rng(0).random(4).tolist(),
                      "pairs": list(stream)}
    assert sorted(seen[0]["shards"] + seen[1]["shards"]) == urls and not set(seen[0]["shards"]) & set(seen[1]["shards"])
    assert len(seen[0]["views"]) == len(seen[1]["views"]) == 4 and not set(seen[0]["views"]) & set(seen[1]["views"])
    assert seen[0]["draws"] != seen[1]["draws"]  # crops, flips and windows are drawn apart
    assert len(seen[0]["pairs"]) == len(seen[1]["pairs"]) == 4
    assert not any(torch.equal(a[0], b[0]) for a in seen[0]["pairs"] for b in seen[1]["pairs"])


def test_cached_and_decoded_passes_of_a_rank_see_the_same_shards(four_shards, monkeypatch):
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    urls, cache = tars(four_shards), ClipCache()
    list(PairStream(urls, 4, 32, "gata", seed=3, epoch=0, cache=cache))
    assert cache.complete and sorted(cache.by_shard) == urls[1::2]  # this rank's shards, and only those
    for epoch in range(4):
        decoded = list(PairStream(urls, 4, 32, "gata", seed=3, epoch=epoch))
        cached = list(PairStream(urls, 4, 32, "gata", seed=3, epoch=epoch, cache=cache))
        assert len(decoded) == len(cached) == 4, epoch
        assert all(torch.equal(a, c) and torch.equal(b, d) for (a, b), (c, d) in zip(decoded, cached)), epoch


def test_a_single_process_may_have_more_workers_than_shards(one_shard):
    """Only ranks need shards of their own: an idle DataLoader worker of a single process gives nothing."""
    loader = torch.utils.data.DataLoader(PairStream(tars(one_shard), 4, 32, "gata", seed=0, rank=0, world=1),
                                         batch_size=None, num_workers=2)
    assert len(list(loader)) == 6


def test_too_few_shards_is_refused_alike_everywhere():
    check_readers(["a", "b", "c", "d"], 2, 2)
    check_readers(["a", "b"], 2, 0)
    with pytest.raises(ValueError, match=r"3 shards for 2 ranks x 2 workers: each reader needs at least one shard"):
        check_readers(["a", "b", "c"], 2, 2)


def test_the_gpu_is_made_current_before_the_process_group_starts(tmp_path, monkeypatch):
    calls = []

    class Started(Exception):
        pass

    def init_process_group(backend, *args, **kw):
        calls.append(("init_process_group", backend))
        raise Started
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setattr(trainer, "pick_device", lambda: torch.device("cuda"))
    monkeypatch.setattr(torch.cuda, "set_device", lambda device: calls.append(("set_device", device)))
    monkeypatch.setattr(torch.distributed, "init_process_group", init_process_group)
    with pytest.raises(Started):
        train(TrainConfig(**TINY), "shard-{000000..000003}.tar", tmp_path / "run", log=lambda *_: None)
    assert calls == [("set_device", torch.device("cuda", 1)), ("init_process_group", "nccl")]


RANK_SCRIPT = textwrap.dedent("""
    import json, sys
    import synthact.train.data as data
    from synthact.train.train import TrainConfig, train
    shards, out, config = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    seen, pair = [], data.pair_from_group

    def recording(group, frames, size, rng, *args, **kw):  # what this rank drew: the clips and the generator
        state = rng.bit_generator.state["state"]["state"]
        got = pair(group, frames, size, rng, *args, **kw)
        if got is not None:
            seen.append({"a": got[2]["a"], "b": got[2]["b"], "rng": str(state), "sum": float(got[0].sum())})
        return got
    data.pair_from_group = recording
    train(TrainConfig(**config), shards, out, log=lambda *_: None)
    import os
    (__import__("pathlib").Path(out) / f"seen.rank{os.environ['RANK']}.json").write_text(json.dumps(seen))
""")


def run_ranks(tmp_path, shards: str, out, config: dict, world: int = 2, timeout: float = 240):
    """`world` processes as torchrun starts them (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR/PORT), each calling
    train(); returns their (returncode, stderr)."""
    script = tmp_path / "rank.py"
    script.write_text(RANK_SCRIPT)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    procs = []
    for rank in range(world):
        env = {**os.environ, "RANK": str(rank), "WORLD_SIZE": str(world), "LOCAL_RANK": str(rank),
               "LOCAL_WORLD_SIZE": str(world), "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port),
               "OMP_NUM_THREADS": "1"}
        procs.append(subprocess.Popen([sys.executable, str(script), shards, str(out), json.dumps(config)], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
    results = []
    try:
        for proc in procs:
            _, err = proc.communicate(timeout=timeout)
            results.append((proc.returncode, err))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return results


def test_two_rank_gloo_run_reads_apart_and_checkpoints_on_rank_0(four_shards, tmp_path):
    config = {**TINY, "batch_size": 2, "steps": 3, "checkpoint_every": 1}
    results = run_ranks(tmp_path, str(four_shards), tmp_path / "ddp", config)
    assert [code for code, _ in results] == [0, 0], "\n".join(err[-3000:] for _, err in results)
    state = torch.load(tmp_path / "ddp" / "last.pt", weights_only=False)
    assert state["step"] == 3
    assert int(state["model"]["queues.synthetic.pointer"]) == 3 * 2 * 2 % 16  # both ranks' keys in the queue
    assert (tmp_path / "ddp" / "metrics.jsonl").exists() and (tmp_path / "ddp" / "metrics.rank1.jsonl").exists()
    seen = [json.loads((tmp_path / "ddp" / f"seen.rank{r}.json").read_text()) for r in (0, 1)]
    clips = [{p["a"] for p in s} | {p["b"] for p in s} for s in seen]
    assert clips[0] and clips[1] and not clips[0] & clips[1]  # each rank its own clips
    assert seen[0][0]["rng"] != seen[1][0]["rng"]  # and its own crops, flips and windows
    assert {p["sum"] for p in seen[0]}.isdisjoint(p["sum"] for p in seen[1])


def test_too_few_shards_stops_every_rank_without_a_hang(one_shard, tmp_path):
    results = run_ranks(tmp_path, str(one_shard), tmp_path / "few", {**TINY, "steps": 2}, timeout=120)
    for code, err in results:
        assert code != 0
        assert ("ValueError: 1 shards for 2 ranks x 1 workers: each reader needs at least one shard; pack with more "
                "shards") in err, err[-3000:]
