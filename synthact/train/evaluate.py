"""Evaluation of a pretrained backbone: linear probe, kNN, same-motion retrieval, fine-tuning and
representation bias.

Datasets: a packed SynthAct dataset (labels = class names, splits from the SceneSpec, motion keys for
retrieval) or any folder of videos in class folders (UCF101 / HMDB51 style: ROOT/<class>/<video>.mp4).
"""
from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from synthact.clip import ClipReader
from synthact.clip.video import decode_video


@dataclass
class Clips:
    videos: list  # (T, H, W, 3) uint8 arrays
    labels: list[str]
    groups: list[str]  # motion keys (retrieval positives); unique ids for real videos
    splits: list[str]


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


def load_dataset(path: Path, length: int, size: int, stride: int = 1) -> tuple[torch.Tensor, Clips]:
    """Centre clips (N, 3, T, size, size) and their labels from a packed dataset (the first actor of every
    clip, read with the training data's webdataset stages) or from class folders of videos."""
    import webdataset as wds

    from .data import video_files, views_of
    path = Path(path)
    videos, labels, groups, splits, boxes = [], [], [], [], []
    if (path / "dataset.json").exists():
        shards = sorted(str(p) for p in (path / "shards").glob("*.tar"))
        samples = wds.WebDataset(shards, shardshuffle=False, empty_check=False)
        found = {}
        for sample in samples:
            clip = ClipReader.from_sample(sample)
            found[sample["__key__"]] = (views_of(clip)[0], clip.spec.split)
        for key in sorted(found):
            view, split = found[key]
            videos.append(view.frames)
            boxes.append(view.boxes)
            labels.append(view.class_name)
            groups.append(view.motion_key)
            splits.append(split)
    else:
        for video in video_files(path):
            videos.append(decode_video(video))
            boxes.append(None)
            labels.append(video.parent.name)
            groups.append(video.stem)
            splits.append("train")
    if not videos:
        raise ValueError(f"{path}: no clips (expected a packed dataset with shards/ or class folders of videos)")
    clips = torch.stack([_center_clip(v, b, length, size, stride) for v, b in zip(videos, boxes)])
    return clips, Clips(videos, labels, groups, splits)


@torch.no_grad()
def features(encoder: torch.nn.Module, clips: torch.Tensor, batch: int = 8) -> torch.Tensor:
    encoder.eval()
    return torch.cat([encoder(clips[i:i + batch]) for i in range(0, len(clips), batch)])


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
    counts: dict[str, int] = {}
    for g in groups:
        counts[g] = counts.get(g, 0) + 1
    scored = [i for i, g in enumerate(groups) if counts[g] > 1]
    if not scored:
        return float("nan")
    return sum(groups[nearest[i]] == groups[i] for i in scored) / len(scored)


def representation_bias(accuracy: float, random_accuracy: float) -> float:
    """SynAPT's bias B = log(M / M_rnd): how much better than a random network the task is solved."""
    return math.log(max(accuracy, 1e-6) / max(random_accuracy, 1e-6))


def evaluate(encoder: torch.nn.Module, random_encoder: torch.nn.Module, clips: torch.Tensor, info: Clips,
             test_split: str = "test", finetune_epochs: int = 0) -> dict:
    """Metrics of the encoder and of a random network; fine-tuning (finetune_epochs > 0) trains both whole,
    the random one being the train-from-scratch baseline."""
    names = sorted(set(info.labels))
    y = torch.tensor([names.index(label) for label in info.labels])
    test = torch.tensor([s == test_split for s in info.splits])
    if not test.any() or test.all():  # no held-out split: every other clip is a test clip
        test = torch.arange(len(y)) % 2 == 1
    out = {"clips": len(y), "classes": len(names), "test_clips": int(test.sum())}
    for name, enc in (("model", encoder), ("random_init", random_encoder)):
        x = features(enc, clips)
        out[name] = {"knn_top1": knn_accuracy(x[~test], y[~test], x[test], y[test]),
                     "linear_top1": linear_probe(x[~test], y[~test], x[test], y[test], len(names)),
                     "retrieval_top1": retrieval_top1(x, info.groups)}
        if finetune_epochs > 0:
            out[name]["finetune_top1"] = finetune(enc, clips[~test], y[~test], clips[test], y[test], len(names),
                                                  finetune_epochs)
    out["bias"] = representation_bias(out["model"]["linear_top1"], out["random_init"]["linear_top1"])
    return out


def evaluate_checkpoint(checkpoint: Path, dataset: Path, out: Path | None = None, finetune_epochs: int = 0) -> dict:
    """Metrics of a checkpoint's encoder vs a random one of the same architecture, as JSON and a bar chart."""
    from .models import backbone
    from .train import TrainConfig
    checkpoint = Path(checkpoint)
    cfg = TrainConfig.model_validate_json((checkpoint.parent / "config.json").read_text())
    encoder = backbone(cfg.backbone, cfg.frames, cfg.width, cfg.frame_input)
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)["model"]
    encoder.load_state_dict({k[len("encoder_q."):]: v for k, v in state.items() if k.startswith("encoder_q.")})
    torch.manual_seed(12345)
    random_encoder = backbone(cfg.backbone, cfg.frames, cfg.width, cfg.frame_input)
    clips, info = load_dataset(dataset, cfg.frames, cfg.size, cfg.frame_stride)
    metrics = {"checkpoint": str(checkpoint), "dataset": str(dataset),
               **evaluate(encoder, random_encoder, clips, info, finetune_epochs=finetune_epochs)}
    out = Path(out) if out else checkpoint.parent / "eval.json"
    out.write_text(json.dumps(metrics, indent=2) + "\n")
    _plot(metrics, out.with_suffix(".png"))
    return metrics


def _plot(metrics: dict, path: Path) -> None:
    from PIL import Image, ImageDraw
    names = [n for n in ("knn_top1", "linear_top1", "finetune_top1", "retrieval_top1") if n in metrics["model"]]
    img = Image.new("RGB", (40 + 130 * len(names), 220), "white")
    d = ImageDraw.Draw(img)
    for i, name in enumerate(names):
        for j, (who, colour) in enumerate((("model", (74, 120, 194)), ("random_init", (190, 190, 190)))):
            value = metrics[who][name]
            value = 0.0 if value != value else value  # NaN: nothing to retrieve
            x = 30 + i * 130 + j * 45
            d.rectangle([x, 190 - int(160 * value), x + 40, 190], fill=colour)
            d.text((x, 192 - int(160 * value) - 12), f"{value:.2f}", fill=(0, 0, 0))
        d.text((30 + i * 130, 200), name, fill=(0, 0, 0))
    d.text((10, 5), f"model (blue) vs random init (grey); bias B = {metrics['bias']:.2f}", fill=(0, 0, 0))
    img.save(path)
