"""Evaluation of a pretrained backbone: linear probe, kNN, same-motion retrieval, fine-tuning and
representation bias, each top-1 with a 95% interval, or a refusal that says why the numbers would mean
nothing.

Datasets: a packed SynthAct dataset (labels = class names, splits from the SceneSpec, which keeps every
render of a motion in one split; motion keys for retrieval) or folders of videos by class, either
ROOT/<split>/<class>/<video> (the synapt layout's videos/ folder; official splits arranged this way) or
ROOT/<class>/<video>, whose videos go to the test split by a stable hash of their path (FLAT_TEST_SHARE), the
clips of one UCF101-style group (v_<Class>_g08_c01, _c02, ...: one actor and scene) kept together.
"""
from __future__ import annotations

import copy
import hashlib
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from synthact.clip import ClipReader
from synthact.clip.video import decode_video

METRICS = ("knn_top1", "linear_top1", "finetune_top1", "retrieval_top1")
MIN_TEST_CLIPS = 20  # fewer, and a top-1's 95% interval is wider than about +-0.2
FLAT_TEST_SHARE = 0.3  # ROOT/<class>/<video>: the share of videos held out for testing
Progress = Callable[..., None]  # progress(stage, done, total, **fields)


class EvaluationRefused(ValueError):
    """The evaluation could not mean anything; the message says why and what would fix it."""


@dataclass
class Clips:
    videos: list  # (T, H, W, 3) uint8 arrays
    labels: list[str]
    groups: list[str]  # motion keys (retrieval positives); unique ids for real videos
    splits: list[str]


def _quiet(stage: str, done: int, total: int, **fields) -> None:
    pass


def _center_clip(frames: np.ndarray, boxes: np.ndarray | None, length: int, size: int,
                 stride: int = 1) -> torch.Tensor:
    """A deterministic view: `length` frames every `stride`-th around the middle (a smaller stride for short
    videos), a square around the actor (or the frame centre)."""
    from .data import View, crop, span
    stride = max(min(stride, (len(frames) - 1) // max(length - 1, 1)), 1)
    start = max((len(frames) - span(length, stride)) // 2, 0)
    if boxes is None:
        h, w = frames.shape[1:3]
        boxes = np.tile([0.0, 0.0, w - 1.0, h - 1.0], (len(frames), 1))
    view = View("", 0, "", "", frames, boxes)
    frames_needed = min(length, len(frames))
    clip = crop(view, start, frames_needed, size, np.random.default_rng(0), scale_range=(1.0, 1.0), flip=False,
                stride=stride)
    if frames_needed < length:  # pad short clips by repeating the last frame
        clip = torch.cat([clip, clip[-1:].expand(length - frames_needed, -1, -1, -1)])
    return clip.permute(1, 0, 2, 3)


def catalogue(path: Path) -> tuple[list[str], Clips]:
    """Without decoding anything: each clip's source (a scene id or a video path), label, group and split."""
    path = Path(path)
    if (path / "dataset.json").exists():
        import pyarrow.parquet as pq
        index = pq.read_table(path / "index", columns=["scene_id", "class_name", "motion_key", "split"]).to_pylist()
        index.sort(key=lambda row: row["scene_id"])
        return [r["scene_id"] for r in index], Clips([], [r["class_name"] for r in index],
                                                    [r["motion_key"] for r in index], [r["split"] for r in index])
    from .data import has_split_folders, video_files
    videos = video_files(path)
    if has_split_folders(path):
        splits = [v.parent.parent.name for v in videos]
    else:
        splits = ["test" if _share(_split_group(v.relative_to(path))) < FLAT_TEST_SHARE else "train" for v in videos]
    return [str(v) for v in videos], Clips([], [v.parent.name for v in videos],
                                           [v.relative_to(path).as_posix() for v in videos], splits)


def _split_group(relative: Path) -> str:
    """What decides a flat-layout video's split: its path without a trailing _cNN clip number, so that the
    clips of one UCF101 group, cut from one recording, never straddle train and test."""
    return (relative.parent / re.sub(r"_c\d+$", "", relative.stem)).as_posix()


def _share(text: str) -> float:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little") / 2**64


def split_masks(info: Clips, split: str = "test") -> tuple[torch.Tensor, torch.Tensor]:
    """(train, test) masks over the clips; refuses when a top-1 on `split` could not mean anything."""
    train = torch.tensor([s == "train" for s in info.splits], dtype=torch.bool)
    test = torch.tensor([s == split for s in info.splits], dtype=torch.bool)
    if not test.any():
        raise EvaluationRefused(f"no {split} clips: the dataset has no {split} split, so every clip would be "
                                f"scored by a classifier fitted on it; render with splits (splits.{split} above 0 "
                                f"in the batch config, as in scene_configs/synapt.yaml)")
    if not train.any():
        raise EvaluationRefused("no train clips to fit the probe on")
    trained = {label for label, t in zip(info.labels, train.tolist()) if t}
    tested = sorted({label for label, t in zip(info.labels, test.tolist()) if t})
    unseen = [label for label in tested if label not in trained]
    if unseen:
        raise EvaluationRefused(f"{len(unseen)} of the {len(tested)} {split} classes have no train clips "
                                f"({', '.join(unseen[:3])}{', ...' if len(unseen) > 3 else ''}): no classifier can "
                                f"name them; render more clips per class (policy: balanced) or evaluate on "
                                f"another dataset")
    if len(tested) < 2:
        raise EvaluationRefused(f"the {split} clips are all of one class ({tested[0]}): any top-1 would be 1.0")
    if int(test.sum()) < MIN_TEST_CLIPS:
        raise EvaluationRefused(f"only {int(test.sum())} {split} clips (at least {MIN_TEST_CLIPS} are needed: a "
                                f"top-1 over fewer has a 95% interval wider than about +-0.2); render more clips")
    return train, test


def load_dataset(path: Path, length: int, size: int, stride: int = 1, split: str = "test",
                 progress: Progress = _quiet) -> tuple[torch.Tensor, Clips]:
    """Centre clips (N, 3, T, size, size) and their labels of the train and `split` clips, from a packed dataset
    (the first actor of every clip, read with the training data's webdataset stages) or from class folders of
    videos. Refuses (EvaluationRefused) before decoding anything when the split cannot give a meaningful top-1."""
    path = Path(path)
    sources, info = catalogue(path)
    if not sources:
        raise ValueError(f"{path}: no clips (expected a packed dataset with shards/ or class folders of videos)")
    split_masks(info, split)
    wanted = [i for i, s in enumerate(info.splits) if s in ("train", split)]
    frames, boxes = _decode(path, [sources[i] for i in wanted], progress)
    info = Clips(frames, [info.labels[i] for i in wanted], [info.groups[i] for i in wanted],
                 [info.splits[i] for i in wanted])
    clips = torch.stack([_center_clip(v, b, length, size, stride) for v, b in zip(frames, boxes)])
    return clips, info


def _decode(path: Path, sources: list[str], progress: Progress) -> tuple[list, list]:
    """Frames and actor boxes (None: the whole frame) of each source, in order."""
    if not (path / "dataset.json").exists():
        out = []
        for i, video in enumerate(sources):
            out.append(decode_video(video))
            progress("decode", i + 1, len(sources))
        return out, [None] * len(out)
    import webdataset as wds

    from .data import views_of
    wanted, found = set(sources), {}
    shards = sorted(str(p) for p in (path / "shards").glob("*.tar"))
    for sample in wds.WebDataset(shards, shardshuffle=False, empty_check=False):
        if sample["__key__"] in wanted:
            found[sample["__key__"]] = views_of(ClipReader.from_sample(sample))[0]
            progress("decode", len(found), len(sources))
    missing = wanted - set(found)
    if missing:
        raise ValueError(f"{path}: {len(missing)} clips of the index are in no shard (e.g. {sorted(missing)[0]})")
    return [found[s].frames for s in sources], [found[s].boxes for s in sources]


@torch.no_grad()
def features(encoder: torch.nn.Module, clips: torch.Tensor, batch: int = 8, progress: Progress = _quiet,
             stage: str = "features") -> torch.Tensor:
    encoder.eval()
    out = []
    for i in range(0, len(clips), batch):
        out.append(encoder(clips[i:i + batch]))
        progress(stage, min(i + batch, len(clips)), len(clips))
    return torch.cat(out)


def knn_accuracy(train_x, train_y, test_x, test_y, k: int = 1) -> float:
    a, b = F.normalize(train_x, dim=1), F.normalize(test_x, dim=1)
    nearest = (b @ a.T).topk(k, dim=1).indices
    votes = train_y[nearest]
    predicted = torch.mode(votes, dim=1).values
    return float((predicted == test_y).float().mean())


def linear_probe(train_x, train_y, test_x, test_y, classes: int, epochs: int = 200, lr: float = 0.1) -> float:
    """Top-1 of a linear classifier trained on frozen features (full-batch, standardised features)."""
    mean, std = train_x.mean(0), train_x.std(0) + 1e-6
    xa, xb = (train_x - mean) / std, (test_x - mean) / std
    layer = torch.nn.Linear(xa.shape[1], classes)
    opt = torch.optim.Adam(layer.parameters(), lr=lr * 0.1, weight_decay=1e-4)
    for _ in range(epochs):
        opt.zero_grad()
        F.cross_entropy(layer(xa), train_y).backward()
        opt.step()
    return float((layer(xb).argmax(1) == test_y).float().mean())


def finetune(encoder: torch.nn.Module, train_clips, train_y, test_clips, test_y, classes: int, epochs: int = 10,
             lr: float = 0.01, batch: int = 8, seed: int = 0) -> float:
    """Top-1 after training a copy of the whole network plus a linear head on the train clips (SGD, cosine lr,
    random horizontal flips); the encoder passed in is left untouched."""
    generator = torch.Generator().manual_seed(seed)
    model = copy.deepcopy(encoder)
    head = torch.nn.Linear(model.feature_dim, classes)
    params = list(model.parameters()) + list(head.parameters())
    opt = torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=1e-4)
    steps = epochs * max(len(train_clips) // batch, 1)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(train_clips), generator=generator)
        for i in range(0, max(len(order) - batch + 1, 1), batch):  # whole batches: BatchNorm needs > 1 clip
            idx = order[i:i + batch]
            x = train_clips[idx]
            flip = torch.rand(len(idx), generator=generator) < 0.5
            x = torch.where(flip[:, None, None, None, None], x.flip(-1), x)
            opt.zero_grad()
            F.cross_entropy(head(model(x)), train_y[idx]).backward()
            opt.step()
            schedule.step()
    predicted = torch.cat([head(f).argmax(1) for f in features(model, test_clips).split(batch)])
    return float((predicted == test_y).float().mean())


def retrieval_top1(x: torch.Tensor, groups: list[str]) -> float:
    """Share of clips whose nearest other clip shows the same motion (only clips with a partner count)."""
    x = F.normalize(x, dim=1)
    sim = x @ x.T
    sim.fill_diagonal_(-math.inf)
    nearest = sim.argmax(1).tolist()
    scored = _paired(groups)
    if not scored:
        return float("nan")
    return sum(groups[nearest[i]] == groups[i] for i in scored) / len(scored)


def _paired(groups: list[str]) -> list[int]:
    """The clips that share their group with another clip (retrieval queries)."""
    counts: dict[str, int] = {}
    for g in groups:
        counts[g] = counts.get(g, 0) + 1
    return [i for i, g in enumerate(groups) if counts[g] > 1]


def wilson_interval(accuracy: float, n: int, z: float = 1.96) -> list[float]:
    """95% Wilson score interval of a proportion measured on n trials."""
    centre = (accuracy + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(accuracy * (1 - accuracy) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [round(max(centre - half, 0.0), 4), round(min(centre + half, 1.0), 4)]


def representation_bias(accuracy: float, random_accuracy: float) -> float:
    """SynAPT's bias B = log(M / M_rnd): how much better than a random network the task is solved."""
    return math.log(max(accuracy, 1e-6) / max(random_accuracy, 1e-6))


def evaluate(encoder: torch.nn.Module, random_encoder: torch.nn.Module, clips: torch.Tensor, info: Clips,
             test_split: str = "test", finetune_epochs: int = 0, progress: Progress = _quiet) -> dict:
    """Metrics of the encoder and of a random network on the `test_split` clips, each top-1 with its 95% interval
    (`<metric>_ci95`); fine-tuning (finetune_epochs > 0) trains both whole, the random one being the
    train-from-scratch baseline. Same-motion retrieval runs among the test clips (held-out motions)."""
    train, test = split_masks(info, test_split)
    names = sorted(set(info.labels))
    y = torch.tensor([names.index(label) for label in info.labels])
    test_groups = [g for g, t in zip(info.groups, test.tolist()) if t]
    n_test, queries = int(test.sum()), len(_paired(test_groups))
    majority = max(int((y[test] == c).sum()) for c in y[test].unique()) / n_test
    out = {"split": test_split, "train_clips": int(train.sum()), "test_clips": n_test, "classes": len(names),
           "majority_top1": round(majority, 4), "retrieval_queries": queries}
    for name, enc in (("model", encoder), ("random_init", random_encoder)):
        x = features(enc, clips, progress=progress, stage=f"features ({name})")
        m = {"knn_top1": knn_accuracy(x[train], y[train], x[test], y[test]),
             "linear_top1": linear_probe(x[train], y[train], x[test], y[test], len(names))}
        if finetune_epochs > 0:
            m["finetune_top1"] = finetune(enc, clips[train], y[train], clips[test], y[test], len(names),
                                          finetune_epochs)
        for metric in list(m):
            m[f"{metric}_ci95"] = wilson_interval(m[metric], n_test)
        if queries:
            m["retrieval_top1"] = retrieval_top1(x[test], test_groups)
            m["retrieval_top1_ci95"] = wilson_interval(m["retrieval_top1"], queries)
        else:
            m["retrieval_top1"] = None  # no held-out motion has two renders
        out[name] = m
    out["bias"] = representation_bias(out["model"]["linear_top1"], out["random_init"]["linear_top1"])
    return out


def evaluate_checkpoint(checkpoint: Path, dataset: Path, out: Path | None = None, finetune_epochs: int = 0,
                        split: str = "test", progress: Progress = _quiet) -> dict:
    """Metrics of a checkpoint's encoder vs a random one of the same architecture, as JSON and a bar chart."""
    from .models import backbone
    from .train import TrainConfig
    checkpoint = Path(checkpoint)
    cfg = TrainConfig.model_validate_json((checkpoint.parent / "config.json").read_text())
    clips, info = load_dataset(dataset, cfg.frames, cfg.size, cfg.frame_stride, split, progress)
    encoder = backbone(cfg.backbone, cfg.frames, cfg.width, cfg.frame_input)
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)["model"]
    encoder.load_state_dict({k[len("encoder_q."):]: v for k, v in state.items() if k.startswith("encoder_q.")})
    torch.manual_seed(12345)
    random_encoder = backbone(cfg.backbone, cfg.frames, cfg.width, cfg.frame_input)
    if hasattr(encoder, "alpha"):  # difference_to_rgb: the random network sees the input the trained one does
        random_encoder.alpha.copy_(encoder.alpha)
    metrics = {"checkpoint": str(checkpoint), "dataset": str(dataset),
               **evaluate(encoder, random_encoder, clips, info, split, finetune_epochs, progress)}
    out = Path(out) if out else checkpoint.parent / "eval.json"
    out.write_text(json.dumps(metrics, indent=2) + "\n")
    _plot(metrics, out.with_suffix(".png"))
    return metrics


def _plot(metrics: dict, path: Path) -> None:
    from PIL import Image, ImageDraw
    names = [n for n in METRICS if metrics["model"].get(n) is not None]
    img = Image.new("RGB", (40 + 130 * len(names), 220), "white")
    d = ImageDraw.Draw(img)
    y = lambda value: 190 - int(160 * value)  # noqa: E731
    for i, name in enumerate(names):
        for j, (who, colour) in enumerate((("model", (74, 120, 194)), ("random_init", (190, 190, 190)))):
            value, (lo, hi) = metrics[who][name], metrics[who][f"{name}_ci95"]
            x = 30 + i * 130 + j * 45
            d.rectangle([x, y(value), x + 40, 190], fill=colour)
            d.line([x + 20, y(lo), x + 20, y(hi)], fill=(0, 0, 0), width=2)  # the 95% interval
            d.text((x, min(y(hi), y(value)) - 12), f"{value:.2f}", fill=(0, 0, 0))
        d.text((30 + i * 130, 200), name, fill=(0, 0, 0))
    d.text((10, 5), f"model (blue) vs random init (grey), 95% intervals; {metrics['test_clips']} "
                    f"{metrics['split']} clips; bias B = {metrics['bias']:.2f}", fill=(0, 0, 0))
    img.save(path)
