"""Training on rendered shards: contrastive (MoCo v2, GATA pairs) or supervised, CPU or CUDA, resumable."""
from __future__ import annotations

import contextlib
import json
import math
import os
import random
import time
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .data import ClipCache, LabelledStream, PairStream, check_readers
from .loading import shard_urls
from .moco import MoCo, Supervised
from .models import backbone


class TrainConfig(BaseModel):
    """Defaults follow MoCo v2 and GATA (queue 65,536, momentum 0.999, MLP head, temperature 0.2, cosine lr)."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, allow_inf_nan=False)
    objective: Literal["moco", "supervised"] = "moco"
    """moco: contrastive pretraining; supervised: cross-entropy on the shards' class ids."""
    classes: int | None = Field(None, ge=2)
    """Supervised head size; default: the classes in the dataset's dataset.json."""
    backbone: Literal["r2plus1d_18", "r3d_18", "tsm_r18"] = "r2plus1d_18"
    """The video network."""
    width: int = Field(64, ge=8)
    """Backbone base channels (64 = the published networks; features 8 x width)."""
    frames: int = Field(8, ge=2)
    """Frames per clip the network sees."""
    frame_input: Literal["rgb", "difference", "difference_to_rgb"] = "rgb"
    """difference: the backbone sees consecutive-frame differences (static appearance cancels);
    difference_to_rgb: differences first, faded into RGB over input_schedule (the trained network takes RGB)."""
    input_schedule: tuple[float, float] | None = None
    """difference_to_rgb: the fade from differences to RGB starts and ends at these fractions of `steps`;
    (0.4, 0.8) when unset."""
    min_scale: float = Field(0.5, gt=0, le=1)
    """Lower bound of GATA's random down-scaling (lambda) with padding."""
    frame_stride: int = Field(1, ge=1)
    """Take every n-th rendered frame: a clip spans (frames - 1) x stride + 1 frames."""
    size: int = Field(112, ge=32)
    """Crop side in pixels."""
    pairs: Literal["gata", "classic"] = "gata"
    """gata: two renders of one motion over one window; classic: two augmentations of one render."""
    batch_size: int = Field(32, ge=2)
    """Pairs (or clips) per step."""
    steps: int = Field(1000, ge=1)
    """Optimizer steps in all (a rerun resumes towards this)."""
    lr: float = Field(0.03, gt=0)
    """Peak learning rate of SGD (momentum 0.9) with a cosine schedule."""
    weight_decay: float = Field(1e-4, ge=0)
    """SGD weight decay."""
    momentum: float = Field(0.999, ge=0, lt=1)
    """Momentum of the key encoder's moving average."""
    temperature: float = Field(0.2, gt=0)
    """InfoNCE temperature."""
    queue_size: int = Field(65536, ge=1)
    """Negative keys kept in MoCo's FIFO queue."""
    dim: int = Field(128, ge=8)
    """Embedding size of the projection head."""
    hidden: int = Field(2048, ge=8)
    """Hidden width of the MLP projection head."""
    workers: int = Field(2, ge=0)
    """DataLoader worker processes (each reads its own shards)."""
    cache_clips: bool = False
    """Keep decoded clips in memory after the first pass (small datasets on CPU; needs workers: 0)."""
    real_videos: str | None = None
    """Class folders of real videos: joint training with a second head and queue, 1:1 synthetic:real batches."""
    mining_threshold: float = Field(0.7, ge=-1, le=1)
    """Cosine above which a real key counts as an extra positive of a synthetic query."""
    mining_top_k: int = Field(5, ge=1)
    """At most this many mined real positives per query."""
    bn_groups: int | None = Field(None, ge=1)
    """MoCo: batch norm over this many chunks of a batch, the keys shuffled across them (shuffle BN); 2 when unset."""
    precision: Literal["auto", "fp32", "bf16"] = "auto"
    """Arithmetic of the forward pass. auto: bf16 autocast on a CUDA GPU that has bfloat16 (fp32 on one without),
    fp32 on CPU; bf16: bfloat16 autocast on CPU too (torch.autocast("cpu"); pays off on CPUs with AVX-512 BF16
    or AMX, slower elsewhere); fp32: no autocast. Weights, optimizer state and MoCo's queues stay float32."""
    seed: int = 0
    """Seeds the network's initialisation and the pair stream (with the rank and worker under torchrun)."""
    checkpoint_every: int = Field(100, ge=1)
    """Steps between checkpoints (last.pt)."""

    @model_validator(mode="after")
    def _input_schedule_is_a_fade(self):
        if self.input_schedule is None:
            return self
        if self.frame_input != "difference_to_rgb":
            raise ValueError("input_schedule fades differences into RGB: it needs frame_input: difference_to_rgb")
        start, end = self.input_schedule
        if not 0 <= start < end <= 1:
            raise ValueError(f"input_schedule must be two fractions of the steps, 0 <= start < end <= 1; got "
                             f"{list(self.input_schedule)}")
        return self

    def rgb_share(self, step: int) -> float:
        """difference_to_rgb: how far the fade to RGB has come before `step` (0: differences, 1: RGB)."""
        start, end = self.input_schedule or (0.4, 0.8)
        return min(max((step / self.steps - start) / (end - start), 0.0), 1.0)

    @model_validator(mode="after")
    def _supervised_takes_no_real_videos(self):
        if self.objective == "supervised" and self.real_videos:
            raise ValueError("real_videos (joint contrastive training) needs objective: moco")
        if self.objective == "supervised" and self.bn_groups is not None:
            raise ValueError("bn_groups (shuffle BN) is part of MoCo: it needs objective: moco")
        if self.cache_clips and self.workers:
            raise ValueError("cache_clips keeps clips in the training process: set workers: 0")
        return self


def train_config_schema() -> dict:
    """The JSON schema of the training YAML (docs/train_config.schema.json), described by the field docstrings."""
    from synthact.config.schema import DIALECT
    schema = TrainConfig.model_json_schema()
    schema.pop("title", None)
    return {"$schema": DIALECT, "title": "SynthAct training config",
            "description": "Keys of `synthact train CONFIG.yaml` (docs/FORMAT.md section 8).", **schema}


def pick_device() -> torch.device:
    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")


def autocast(cfg: TrainConfig, device: torch.device):
    """The forward pass's autocast context for cfg.precision on this device (see TrainConfig.precision)."""
    precision = cfg.precision
    if precision == "auto":
        precision = "bf16" if device.type == "cuda" and torch.cuda.is_bf16_supported() else "fp32"
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def shard_list(shards: str) -> list[str]:
    """A gata dataset folder's shards, a folder of .tar files, a URL or a brace pattern such as
    shard-{000000..000009}.tar."""
    return shard_urls(shards)


def batches(cfg: TrainConfig, shards: list[str], skip: int = 0):
    """Endless batches of pairs; pass k over the shards draws with seed (cfg.seed, k, rank, worker).

    A resumed run replays the stream and drops the first `skip` batches, so it sees exactly the pairs
    the uninterrupted run would have seen (the skipped clips are decoded again: resuming costs time).
    """
    cache = ClipCache() if cfg.cache_clips else None

    def stream(epoch: int):
        return _stream(cfg, shards, epoch, cache)
    return _epochs(cfg, stream, skip, f"the shards gave no full batch of {cfg.batch_size} pairs (too few clips or "
                                      f"views?)")


def _epochs(cfg: TrainConfig, stream, skip: int, empty: str):
    """Batches from stream(0), stream(1), ... without end, the first `skip` dropped."""
    epoch, seen = 0, 0
    while True:
        loader = torch.utils.data.DataLoader(stream(epoch), batch_size=cfg.batch_size, num_workers=cfg.workers,
                                             drop_last=True)
        produced = False
        for a, b in loader:
            produced = True
            seen += 1
            if seen > skip:
                yield a, b
        if not produced:
            raise RuntimeError(empty)
        epoch += 1


def _stream(cfg: TrainConfig, shards: list[str], epoch: int, cache: ClipCache | None):
    if cfg.objective == "supervised":
        return LabelledStream(shards, cfg.frames, cfg.size, cfg.seed, epoch, cache, cfg.frame_stride, cfg.min_scale)
    return PairStream(shards, cfg.frames, cfg.size, cfg.pairs, cfg.seed, epoch, cache, cfg.frame_stride,
                      cfg.min_scale)


def real_batches(cfg: TrainConfig, skip: int = 0):
    """Endless batches of real-video pairs (same replay-and-skip resume as the synthetic stream)."""
    from .data import RealPairStream

    def stream(epoch: int):
        return RealPairStream(cfg.real_videos, cfg.frames, cfg.size, cfg.seed, epoch, cfg.frame_stride)
    return _epochs(cfg, stream, skip, f"{cfg.real_videos}: no full batch of {cfg.batch_size} real videos")


def class_count(cfg: TrainConfig, shards: str) -> int:
    """The supervised head's size: cfg.classes, else the number of classes in the dataset's dataset.json."""
    if cfg.classes:
        return cfg.classes
    manifest = Path(shards) / "dataset.json"
    if not manifest.is_file():
        raise ValueError(f"{shards}: no dataset.json to count classes from; set `classes` in the training config")
    return len(json.loads(manifest.read_text())["classes"])


def build(cfg: TrainConfig, shards: str = "") -> MoCo | Supervised:
    encoder = backbone(cfg.backbone, cfg.frames, cfg.width, cfg.frame_input)
    if cfg.objective == "supervised":
        return Supervised(encoder, class_count(cfg, shards))
    return MoCo(encoder, cfg.dim, cfg.hidden, cfg.queue_size, cfg.momentum, cfg.temperature,
                with_real=cfg.real_videos is not None, mining_threshold=cfg.mining_threshold,
                mining_top_k=cfg.mining_top_k, bn_groups=cfg.bn_groups or 2)


def _distributed() -> tuple[int, int, int]:
    """(rank, world size, local rank) under torchrun; (0, 1, 0) otherwise."""
    return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1)), int(os.environ.get("LOCAL_RANK", 0))


def _start(world: int, local_rank: int) -> torch.device:
    """This process's device; with several ranks, its GPU is made current *before* the process group starts
    (NCCL binds a rank's communicator to the current device: otherwise every rank would set up on GPU 0)."""
    device = pick_device()
    if world > 1:
        import torch.distributed as dist
        if device.type == "cuda":
            device = torch.device("cuda", local_rank)
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return device


def rng_state(device: torch.device) -> dict:
    """The generators a checkpoint carries: torch's CPU generator, and on CUDA this process's GPU generator
    (its own device only: each rank restores the state onto the GPU it drives)."""
    state = {"torch_rng": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda_rng"] = torch.cuda.get_rng_state(device)
    return state


def restore_rng(state: dict, device: torch.device) -> None:
    """Set the generators from a checkpoint, wherever its tensors were loaded to: torch.set_rng_state (and
    torch.cuda.set_rng_state) take only a CPU ByteTensor."""
    torch.set_rng_state(_cpu_bytes(state["torch_rng"]))
    if device.type == "cuda" and state.get("cuda_rng") is not None:
        torch.cuda.set_rng_state(_cpu_bytes(state["cuda_rng"]), device)


def _cpu_bytes(tensor) -> torch.Tensor:
    return torch.as_tensor(tensor).detach().to("cpu", torch.uint8).contiguous()


def restore(path: Path, model, optimizer, device: torch.device) -> int:
    """Resume from a checkpoint: model, optimizer, generators; returns its step.

    Loaded onto the CPU whatever the device (the RNG states must stay CPU tensors); load_state_dict copies the
    weights onto the model's device and casts the optimizer's state to its parameters' device.
    """
    state = torch.load(path, map_location="cpu", weights_only=False)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    restore_rng(state, device)
    return state["step"]


def _gather(keys: torch.Tensor) -> torch.Tensor:
    import torch.distributed as dist
    parts = [torch.empty_like(keys) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, keys.contiguous())
    return torch.cat(parts)


PROGRESS_FIELDS = {"loss": "loss", "cosine_positive": "cos+", "cosine_negative": "cos-", "accuracy": "acc"}


def train(cfg: TrainConfig, shards: str, out: Path, log=print, stop_at: int | None = None, progress=None) -> Path:
    """Train (or resume from out/last.pt) and return the checkpoint path.

    stop_at: leave after this step with a checkpoint (a job slot ending); a later call resumes.
    progress(stage, step, steps, **fields): called after every step on rank 0 with the loss (and MoCo's
    query-positive / query-queue cosines, or the supervised accuracy).
    Under torchrun (WORLD_SIZE > 1) each rank reads its own shards (rank r of R: shards[r::R]) and draws its own
    crops, gradients are averaged (DDP) and the keys of all ranks enter every rank's queue; rank 0 writes
    checkpoints and metrics. Fewer shards than ranks x workers is a ValueError on every rank, before any joins
    the process group.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rank, world, local_rank = _distributed()
    urls = shard_list(shards)
    if world > 1:  # decided alike on every rank, before any joins the group: all stop, none waits for the others
        check_readers(urls, world, cfg.workers)
    seed_everything(cfg.seed)
    device = _start(world, local_rank)
    model = build(cfg, shards).to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=cfg.lr, momentum=0.9, weight_decay=cfg.weight_decay)
    step = 0
    last = out / "last.pt"
    if last.exists():
        step = restore(last, model, optimizer, device)
        log(f"resumed from {last} at step {step}")
    if rank == 0:
        (out / "config.json").write_text(cfg.model_dump_json(indent=2))
    runner = model
    if world > 1:
        model.gather = _gather
        runner = torch.nn.parallel.DistributedDataParallel(model, device_ids=[local_rank] if device.type == "cuda"
                                                           else None)
    metrics = open(out / ("metrics.jsonl" if rank == 0 else f"metrics.rank{rank}.jsonl"), "a")
    t0 = time.perf_counter()
    end = min(cfg.steps, stop_at or cfg.steps)
    real = real_batches(cfg, step) if cfg.real_videos else None
    for a, b in batches(cfg, urls, step):
        if step >= end:
            break
        ra, rb = next(real) if real is not None else (None, None)
        for group in optimizer.param_groups:  # cosine schedule
            group["lr"] = cfg.lr * 0.5 * (1 + math.cos(math.pi * step / cfg.steps))
        if cfg.frame_input == "difference_to_rgb":  # the key encoder copies the buffer in its momentum update
            model.encoder_q.alpha.fill_(1 - cfg.rgb_share(step))
        with autocast(cfg, device):
            losses = runner(a.to(device), b.to(device), *(x.to(device) for x in (ra, rb) if x is not None))
        optimizer.zero_grad(set_to_none=True)
        losses["loss"].backward()
        optimizer.step()
        step += 1
        record = {"step": step, **{k: float(v.detach()) for k, v in losses.items()},
                  "lr": optimizer.param_groups[0]["lr"], "seconds": round(time.perf_counter() - t0, 3)}
        metrics.write(json.dumps(record) + "\n")
        metrics.flush()
        if progress is not None and rank == 0:
            progress("train", step, cfg.steps, **{short: record[k] for k, short in PROGRESS_FIELDS.items()
                                                   if k in record})
        if cfg.frame_input == "difference_to_rgb":
            model.encoder_q.alpha.fill_(1 - cfg.rgb_share(step))  # a checkpoint carries the input of its step
        if (step % cfg.checkpoint_every == 0 or step == end) and rank == 0:
            save(model, optimizer, step, last, device)
            log(f"step {step}/{cfg.steps} loss {record['loss']:.4f}")
    metrics.close()
    if world > 1:
        import torch.distributed as dist
        dist.barrier()
        dist.destroy_process_group()
    return last


def save(model, optimizer, step: int, path: Path, device: torch.device | None = None) -> None:
    tmp = path.with_suffix(f".tmp-{os.getpid()}")
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step,
                **rng_state(device or torch.device("cpu"))}, tmp)
    os.replace(tmp, path)

