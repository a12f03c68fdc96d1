"""Evaluation of a pretrained backbone against random networks: kNN, a linear probe whose regularisation is
chosen on val, same-motion retrieval and (optionally) fine-tuning, every top-1 with a 95% interval and the
model's gain over random with a bootstrap interval that resamples groups (motions, recordings), not clips.

Videos stream: each is decoded, cut into views and passed through every network once (DataLoader workers
decode ahead), and only its mean feature is kept, so memory does not grow with the dataset. Real videos get
the standard protocol (shorter side resized to 8/7 of the crop, a centre crop or three crops along the
longer side, several clips spread over the video, no boxes); a packed SynthAct dataset's clips are by
default seen as the trainer sees them (a square around the first actor; `view: frame` gives the real
protocol). Datasets and their splits: eval_datasets.py.
"""
from __future__ import annotations

import copy
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from .eval_datasets import Catalogue, EvaluationRefused, Item, catalogue, check_scorable

__all__ = ["EvaluationRefused", "Protocol", "evaluate_checkpoint", "evaluate_features", "extract"]

METRICS = ("knn_top1", "linear_top1", "finetune_top1", "retrieval_top1")
C_GRID = (0.001, 0.01, 0.1, 1.0, 10.0, 100.0)  # inverse L2 strength of the linear probe, chosen on val
MAX_DECODE_FAILURES = 0.01  # more videos than this share that cannot be decoded, and the run refuses
BOOTSTRAP_RESAMPLES = 2000
RANDOM_SEED = 12345  # random networks: torch.manual_seed(RANDOM_SEED + i)
Progress = Callable[..., None]  # progress(stage, done, total, **fields)


def _quiet(stage: str, done: int, total: int, **fields) -> None:
    pass


@dataclass(frozen=True)
class Protocol:
    """How a video becomes the network's input: `clips` windows of `frames` frames every `stride`-th, spread
    evenly over the video, each seen as `crops` squares of `size` pixels (view "frame": shorter side resized to
    size * 8/7; view "actor": the square around the first actor that training crops)."""

    frames: int
    stride: int
    size: int
    view: str = "frame"
    clips: int = 1
    crops: int = 1

    def __post_init__(self):
        if self.view not in ("frame", "actor"):
            raise ValueError(f"view must be frame or actor, not {self.view!r}")
        if self.crops not in (1, 3):
            raise ValueError(f"crops must be 1 (centre) or 3 (along the longer side), not {self.crops}")
        if self.view == "actor" and self.crops != 1:
            raise ValueError("crops: 3 needs view: frame (the actor view is one square around the actor)")
        if self.clips < 1:
            raise ValueError(f"clips must be at least 1, not {self.clips}")

    @property
    def resize(self) -> int:
        return round(self.size * 8 / 7)


def _normalise(x: torch.Tensor) -> torch.Tensor:
    return (x - 0.45) / 0.225  # as training's crop(): roughly zero-mean, unit-variance pixels


def _starts(n: int, length: int, stride: int, clips: int) -> tuple[list[int], int]:
    """Window starts spread over n frames, and the stride used (smaller for videos too short for it)."""
    from .data import span
    stride = max(min(stride, (n - 1) // max(length - 1, 1)), 1)
    last = max(n - span(length, stride), 0)
    return sorted({int(round(s)) for s in np.linspace(0, last, clips)}) if clips > 1 else [last // 2], stride


def _take(frames: np.ndarray, start: int, length: int, stride: int) -> np.ndarray:
    picked = frames[start:start + (length - 1) * stride + 1:stride]
    if len(picked) < length:  # short videos: the last frame repeated
        picked = np.concatenate([picked, np.repeat(picked[-1:], length - len(picked), 0)])
    return picked


def views(frames: np.ndarray, boxes: np.ndarray | None, p: Protocol, rng: np.random.Generator | None = None,
          ) -> torch.Tensor:
    """(clips x crops, 3, T, size, size) normalised views of one video; with rng, one random training view
    (random window, crop and mirror) instead."""
    if p.view == "actor":
        return _actor_views(frames, boxes, p, rng)
    import cv2
    h, w = frames.shape[1:3]
    scale = p.resize / min(h, w)
    size_hw = (max(p.resize, round(h * scale)), max(p.resize, round(w * scale)))
    starts, stride = _starts(len(frames), p.frames, p.stride, p.clips)
    if rng is not None:
        starts = [int(rng.integers(0, max(len(frames) - (p.frames - 1) * stride, 1)))]
    out = []
    for start in starts:
        clip = _take(frames, start, p.frames, stride)
        resized = np.stack([cv2.resize(f, (size_hw[1], size_hw[0]), interpolation=cv2.INTER_AREA) for f in clip])
        long_axis, spare = (1, size_hw[0] - p.size) if size_hw[0] > size_hw[1] else (2, size_hw[1] - p.size)
        across = (size_hw[1] - p.size) // 2 if long_axis == 1 else (size_hw[0] - p.size) // 2
        if rng is not None:
            offsets = [int(rng.integers(0, spare + 1))]
        else:
            offsets = [spare // 2] if p.crops == 1 else [0, spare // 2, spare]
        for offset in offsets:
            y, x = (offset, across) if long_axis == 1 else (across, offset)
            crop = torch.from_numpy(np.ascontiguousarray(resized[:, y:y + p.size, x:x + p.size]))
            view = crop.permute(3, 0, 1, 2).float() / 255
            if rng is not None and rng.uniform() < 0.5:
                view = view.flip(-1)
            out.append(_normalise(view))
    return torch.stack(out)


def _actor_views(frames: np.ndarray, boxes: np.ndarray | None, p: Protocol, rng) -> torch.Tensor:
    from .data import View, crop
    if boxes is None:
        h, w = frames.shape[1:3]
        boxes = np.tile([0.0, 0.0, w - 1.0, h - 1.0], (len(frames), 1))
    view = View("", 0, "", "", frames, boxes)
    starts, stride = _starts(len(frames), p.frames, p.stride, p.clips)
    length = min(p.frames, len(range(0, len(frames), stride)))
    out = []
    if rng is not None:
        start = int(rng.integers(0, max(len(frames) - (length - 1) * stride, 1)))
        clip = crop(view, start, length, p.size, rng, scale_range=(0.8, 1.0), flip=True, stride=stride)
        out.append(clip)
    else:
        for start in starts:
            out.append(crop(view, start, length, p.size, np.random.default_rng(0), scale_range=(1.0, 1.0),
                            flip=False, stride=stride))
    padded = []
    for clip in out:  # (T, 3, S, S); short clips: the last frame repeated
        if len(clip) < p.frames:
            clip = torch.cat([clip, clip[-1:].expand(p.frames - len(clip), -1, -1, -1)])
        padded.append(clip.permute(1, 0, 2, 3))
    return torch.stack(padded)


class _VideoStream(torch.utils.data.IterableDataset):
    """(position, views or None, error) for each item, decoded by whichever DataLoader worker owns it. A packed
    dataset's shards are read in order, each worker its own shards; videos are split round-robin."""

    def __init__(self, cat: Catalogue, items: list[Item], p: Protocol, seed: int | None = None):
        self.root, self.packed, self.items, self.p, self.seed = cat.root, cat.packed, items, p, seed

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        worker, workers = (info.id, info.num_workers) if info else (0, 1)
        rng = np.random.default_rng([self.seed, worker]) if self.seed is not None else None
        if self.packed:
            yield from self._packed(worker, workers, rng)
            return
        from synthact.clip.video import decode_video
        for position in range(worker, len(self.items), workers):
            try:
                frames = decode_video(self.items[position].source)
            except (ValueError, OSError) as exc:
                yield position, None, str(exc)
                continue
            yield position, views(frames, None, self.p, rng), ""

    def _packed(self, worker: int, workers: int, rng):
        from synthact.clip import ClipReader
        from synthact.clip.shard_stream import shard_samples

        from .data import views_of
        wanted = {item.source: i for i, item in enumerate(self.items)}
        shards = sorted(str(p) for p in (self.root / "shards").glob("*.tar"))[worker::workers]
        if not shards:  # more workers than shards
            return
        for sample in shard_samples(shards):
            position = wanted.get(sample["__key__"])
            if position is None:  # read the clip only when it is one of the items
                continue
            try:
                first = views_of(ClipReader.from_sample(sample))[0]
            except (ValueError, KeyError, OSError) as exc:
                yield position, None, str(exc)
                continue
            yield position, views(first.frames, first.boxes if self.p.view == "actor" else None, self.p, rng), ""


def _loader(stream: torch.utils.data.IterableDataset, workers: int):
    return torch.utils.data.DataLoader(stream, batch_size=None, num_workers=workers,
                                       prefetch_factor=2 if workers else None)


def device_of(module: torch.nn.Module) -> torch.device:
    return next(module.parameters()).device


@torch.no_grad()
def extract(encoders: list[torch.nn.Module], cat: Catalogue, items: list[Item], p: Protocol, workers: int = 2,
            batch: int = 16, progress: Progress = _quiet) -> tuple[list[torch.Tensor], dict[int, str]]:
    """Each network's mean feature over every view of each item (N, D) on the CPU, and the items that could not
    be decoded (position -> error; their rows are zero). Decodes each video once for all networks."""
    for encoder in encoders:
        encoder.eval()
    out: list[torch.Tensor | None] = [None] * len(encoders)
    failed: dict[int, str] = {}
    pending: list[tuple[int, torch.Tensor]] = []
    done = 0

    def flush():
        if not pending:
            return
        x = torch.cat([v for _, v in pending])
        for e, encoder in enumerate(encoders):
            y = encoder(x.to(device_of(encoder))).float().cpu()
            if out[e] is None:
                out[e] = torch.zeros(len(items), y.shape[1])
            for (position, v), part in zip(pending, y.split([len(v) for _, v in pending])):
                out[e][position] = part.mean(0)
        pending.clear()

    for position, item_views, error in _loader(_VideoStream(cat, items, p), workers):
        done += 1
        if item_views is None:
            failed[int(position)] = error
        else:
            pending.append((int(position), item_views))
            if sum(len(v) for _, v in pending) >= batch:
                flush()
        progress("features", done, len(items))
    flush()
    if any(o is None for o in out):
        raise EvaluationRefused("no video could be decoded")
    return out, failed


def knn_predict(train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor) -> torch.Tensor:
    """1-nearest neighbour by cosine similarity."""
    a, b = F.normalize(train_x, dim=1), F.normalize(test_x, dim=1)
    return train_y[(b @ a.T).argmax(1)]


def linear_predict(train_x, train_y, val_x, val_y, test_x, seed: int = 0) -> tuple[np.ndarray, float, dict]:
    """Test predictions of an L2-regularised logistic regression on standardised features, its C chosen by val
    top-1 from C_GRID (the first best; C = 1 when there is no val), then refit on train. Returns (predictions,
    C, val top-1 per C)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler
    scaler = StandardScaler().fit(train_x.numpy())
    xa, xv, xt = (scaler.transform(x.numpy()) if len(x) else x.numpy() for x in (train_x, val_x, test_x))

    def fit(c: float):
        return LogisticRegression(C=c, max_iter=2000, random_state=seed).fit(xa, train_y.numpy())
    scores = {}
    if len(val_y):
        for c in C_GRID:
            scores[c] = float((fit(c).predict(xv) == val_y.numpy()).mean())
    chosen = max(scores, key=lambda c: (scores[c], -abs(math.log10(c)))) if scores else 1.0
    return fit(chosen).predict(xt), chosen, {str(c): round(v, 4) for c, v in scores.items()}


def retrieval_hits(x: torch.Tensor, groups: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(query positions, 1 where the query's nearest other clip shows the same motion); queries are the clips
    whose group has another clip."""
    counts: dict[str, int] = {}
    for g in groups:
        counts[g] = counts.get(g, 0) + 1
    queries = np.array([i for i, g in enumerate(groups) if counts[g] > 1], dtype=int)
    if not len(queries):
        return queries, np.zeros(0)
    x = F.normalize(x, dim=1)
    sim = x @ x.T
    sim.fill_diagonal_(-math.inf)
    nearest = sim.argmax(1).numpy()
    return queries, np.array([groups[nearest[i]] == groups[i] for i in queries], dtype=float)


def wilson_interval(accuracy: float, n: int, z: float = 1.96) -> list[float]:
    """95% Wilson score interval of a proportion measured on n trials."""
    centre = (accuracy + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(accuracy * (1 - accuracy) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [round(max(centre - half, 0.0), 4), round(min(centre + half, 1.0), 4)]


def bootstrap_difference(a: np.ndarray, b: np.ndarray, groups: list[str], resamples: int = BOOTSTRAP_RESAMPLES,
                         seed: int = 0) -> list[float]:
    """95% percentile interval of mean(a) - mean(b) (per-clip scores) when whole groups are resampled: clips of
    one motion are not independent, so resampling them one by one would give too narrow an interval."""
    names = sorted(set(groups))
    index = {g: i for i, g in enumerate(names)}
    g = np.array([index[x] for x in groups])
    sums = np.bincount(g, weights=a - b, minlength=len(names))
    counts = np.bincount(g, minlength=len(names)).astype(float)
    draws = np.random.default_rng(seed).integers(0, len(names), size=(resamples, len(names)))
    diffs = sums[draws].sum(1) / counts[draws].sum(1)
    return [round(float(np.percentile(diffs, 2.5)), 4), round(float(np.percentile(diffs, 97.5)), 4)]


def representation_bias(accuracy: float, random_accuracy: float) -> float:
    """SynAPT's bias B = log(M / M_rnd): how much better than a random network the task is solved."""
    return math.log(max(accuracy, 1e-6) / max(random_accuracy, 1e-6))


def _scores(x: torch.Tensor, y: torch.Tensor, parts: dict, groups: list[str]) -> tuple[dict, dict]:
    """Per-clip correctness (test positions) of each probe on features x, and the probe's predictions."""
    train, val, test = parts["train"], parts["val"], parts["test"]
    knn = knn_predict(x[train], y[train], x[test]).numpy()
    linear, c, by_c = linear_predict(x[train], y[train], x[val], y[val], x[test])
    correct = {"knn_top1": (knn == y[test].numpy()).astype(float),
               "linear_top1": (linear == y[test].numpy()).astype(float)}
    queries, hits = retrieval_hits(x[test], [groups[i] for i in test.tolist()])
    if len(queries):
        correct["retrieval_top1"] = hits
    return correct, {"knn": knn, "linear": linear, "linear_C": c, "linear_val_top1_by_C": by_c,
                     "retrieval_queries": queries}


def evaluate_features(model_x: torch.Tensor, random_xs: list[torch.Tensor], labels: list[str], groups: list[str],
                      splits: list[str], split: str = "test", extra: dict | None = None) -> dict:
    """Every metric of the model's and of the random networks' features on the `split` clips. extra: per-clip
    correctness of further metrics (fine-tuning), {"model": {metric: array}, "random": [{metric: array}]}."""
    names = sorted(set(labels))
    y = torch.tensor([names.index(label) for label in labels])
    parts = {s: torch.tensor([i for i, x in enumerate(splits) if x == s], dtype=torch.long)
             for s in ("train", "val", "test")}
    parts["test"] = parts[split]  # scoring val (a selection score): the probe's C is chosen on it too
    test_groups = [groups[i] for i in parts["test"].tolist()]
    n_test = len(parts["test"])
    counts = np.bincount(y[parts["test"]].numpy())
    out = {"split": split, "train_clips": len(parts["train"]), "val_clips": len(parts["val"]), "test_clips": n_test,
           "classes": len(names), "majority_top1": round(float(counts.max() / n_test), 4),
           "test_groups": len(set(test_groups))}
    model_correct, model_pred = _scores(model_x, y, parts, groups)
    random_runs = [_scores(x, y, parts, groups) for x in random_xs]
    if extra:
        model_correct.update(extra["model"])
        for run, more in zip(random_runs, extra["random"]):
            run[0].update(more)
    out["retrieval_queries"] = len(model_pred["retrieval_queries"])
    query_groups = [test_groups[i] for i in model_pred["retrieval_queries"]]

    def summary(correct: dict) -> dict:
        m = {}
        for metric, c in correct.items():
            m[metric] = round(float(c.mean()), 4)
            m[f"{metric}_ci95"] = wilson_interval(float(c.mean()), len(c))
        return m
    out["model"] = {**summary(model_correct), "linear_C": model_pred["linear_C"],
                    "linear_val_top1_by_C": model_pred["linear_val_top1_by_C"]}
    if "retrieval_top1" not in out["model"]:
        out["model"]["retrieval_top1"] = None  # no held-out motion has two renders
    inits = [{**summary(c), "linear_C": p["linear_C"]} for c, p in random_runs]
    mean = {}
    for metric in model_correct:
        per_init = np.stack([c[metric] for c, _ in random_runs])
        value = float(per_init.mean())
        mean[metric] = round(value, 4)
        mean[f"{metric}_ci95"] = wilson_interval(value, per_init.shape[1])
        mean[f"{metric}_inits"] = [round(float(r.mean()), 4) for r in per_init]
        who = query_groups if metric == "retrieval_top1" else test_groups
        out.setdefault("gain_over_random", {})[metric] = {
            "value": round(float(model_correct[metric].mean() - value), 4),
            "ci95": bootstrap_difference(model_correct[metric], per_init.mean(0), who),
            "resampled": f"{len(set(who))} groups"}
    if "retrieval_top1" not in mean:
        mean["retrieval_top1"] = None
    out["random_init"] = {**mean, "inits": inits}
    out["bias"] = representation_bias(out["model"]["linear_top1"], out["random_init"]["linear_top1"])
    test_ids = parts["test"].tolist()
    out["predictions"] = [
        {"position": i, "label": labels[i], "group": groups[i], "knn": names[int(model_pred["knn"][k])],
         "linear": names[int(model_pred["linear"][k])],
         "random_knn": [names[int(p["knn"][k])] for _, p in random_runs],
         "random_linear": [names[int(p["linear"][k])] for _, p in random_runs]}
        for k, i in enumerate(test_ids)]
    return out


def finetune_correct(encoder: torch.nn.Module, cat: Catalogue, items: list[Item], labels: list[str],
                     splits: list[str], p: Protocol, split: str, epochs: int, workers: int = 2, lr: float = 0.01,
                     batch: int = 8, seed: int = 0, progress: Progress = _quiet) -> np.ndarray:
    """Per-clip correctness on the `split` clips after training a copy of the whole network plus a linear head on
    the train clips (SGD, cosine lr, one random view per video per epoch, streamed); the encoder passed in is
    left untouched."""
    names = sorted(set(labels))
    y = torch.tensor([names.index(label) for label in labels])
    train = [i for i, s in enumerate(splits) if s == "train"]
    test = [i for i, s in enumerate(splits) if s == split]
    torch.manual_seed(seed)
    model = copy.deepcopy(encoder)
    device = device_of(model)
    head = torch.nn.Linear(model.feature_dim, len(names)).to(device)
    params = list(model.parameters()) + list(head.parameters())
    opt = torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=1e-4)
    steps = max(epochs * (len(train) // batch), 1)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    order_rng = np.random.default_rng(seed)
    for epoch in range(epochs):
        model.train()
        order = [train[i] for i in order_rng.permutation(len(train))]
        stream = _VideoStream(cat, [items[i] for i in order], p, seed=seed * 1000 + epoch)
        xs, ys = [], []
        for position, v, _ in _loader(stream, workers):
            if v is None:
                continue
            xs.append(v[0])
            ys.append(y[order[int(position)]])
            if len(xs) == batch:  # whole batches: BatchNorm needs more than one clip
                opt.zero_grad()
                F.cross_entropy(head(model(torch.stack(xs).to(device))), torch.stack(ys).to(device)).backward()
                opt.step()
                schedule.step()
                xs, ys = [], []
        progress("fine-tune", epoch + 1, epochs)
    scorer = torch.nn.Sequential(model, head)
    scorer.feature_dim = len(names)
    (logits,), _ = extract([scorer], cat, [items[i] for i in test], p, workers)
    return (logits.argmax(1) == y[test]).numpy().astype(float)


def checkpoint_info(checkpoint: Path) -> tuple[dict, object, dict]:
    """(the checkpoint's model state, its TrainConfig, what it expects as input: transform, step, curriculum)."""
    from .train import TrainConfig
    cfg = TrainConfig.model_validate_json((checkpoint.parent / "config.json").read_text())
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    model = state["model"]
    alpha = model.get("encoder_q.alpha")
    info = {"path": str(checkpoint), "step": int(state.get("step", 0)), "steps": cfg.steps,
            "backbone": cfg.backbone, "width": cfg.width, "objective": cfg.objective, "frame_input": cfg.frame_input,
            "frames": cfg.frames, "frame_stride": cfg.frame_stride, "size": cfg.size,
            "pixels": "RGB / 255, then (x - 0.45) / 0.225"}
    if alpha is not None:
        info["alpha"] = round(float(alpha), 6)
        info["input"] = ("RGB frames (the last frames - 1 of them)" if float(alpha) == 0 else
                         f"x_t - {float(alpha):.3f} x_(t-1): the curriculum had not reached RGB")
    elif cfg.frame_input == "difference":
        info["input"] = "differences of consecutive frames"
    else:
        info["input"] = "RGB frames"
    return model, cfg, info


def evaluate_checkpoint(checkpoint: Path, dataset: Path, out: Path | None = None, finetune_epochs: int = 0,
                        split: str = "test", progress: Progress = _quiet, *, view: str | None = None, clips: int = 1,
                        crops: int = 1, random_inits: int = 3, fold: int = 1, workers: int = 2,
                        allow_partial_curriculum: bool = False) -> dict:
    """Metrics of a checkpoint's encoder against `random_inits` random networks of the same architecture on a
    dataset (eval_datasets.py's layouts), written as JSON (with per-clip predictions) and a bar chart."""
    from .models import backbone, load_encoder_state
    checkpoint, dataset = Path(checkpoint), Path(dataset)
    model_state, cfg, info = checkpoint_info(checkpoint)
    if info.get("alpha") not in (None, 0.0) and not allow_partial_curriculum:
        raise EvaluationRefused(f"{checkpoint} is from the middle of its curriculum (step {info['step']} of "
                                f"{info['steps']}, alpha {info['alpha']}: it does not take RGB yet); evaluate the "
                                f"finished run, or pass --allow-partial-curriculum")
    if random_inits < 1:
        raise EvaluationRefused("random_inits must be at least 1: the gain over random needs a random network")
    cat = catalogue(dataset, fold)
    check_scorable(cat, split)
    view = view or ("actor" if cat.packed else "frame")
    if view == "actor" and not cat.packed:
        raise EvaluationRefused("view: actor needs a packed SynthAct dataset (real videos have no actor boxes)")
    p = Protocol(cfg.frames, cfg.frame_stride, cfg.size, view, clips, crops)
    items = cat.of("train", "val", split)
    device = torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
    encoder = backbone(cfg.backbone, cfg.frames, cfg.width, cfg.frame_input)
    load_encoder_state(encoder, model_state)
    randoms = []
    for r in range(random_inits):
        torch.manual_seed(RANDOM_SEED + r)
        random_encoder = backbone(cfg.backbone, cfg.frames, cfg.width, cfg.frame_input)
        if hasattr(encoder, "alpha"):  # the random networks see the input the trained one does
            random_encoder.alpha.copy_(encoder.alpha)
        randoms.append(random_encoder.to(device))
    encoder.to(device)
    (model_x, *random_xs), failed = extract([encoder, *randoms], cat, items, p, workers, progress=progress)
    if len(failed) > MAX_DECODE_FAILURES * len(items):
        first = sorted(failed)[:3]
        raise EvaluationRefused(f"{len(failed)} of {len(items)} videos could not be decoded (more than "
                                f"{MAX_DECODE_FAILURES:.0%}; e.g. {items[first[0]].source}: {failed[first[0]]})")
    keep = [i for i in range(len(items)) if i not in failed]
    kept = [items[i] for i in keep]
    labels, groups, splits = [i.label for i in kept], [i.group for i in kept], [i.split for i in kept]
    model_x, random_xs = model_x[keep], [x[keep] for x in random_xs]
    extra = None
    if finetune_epochs > 0:
        def tune(enc):
            return {"finetune_top1": finetune_correct(enc, cat, kept, labels, splits, p, split, finetune_epochs,
                                                      workers, progress=progress)}
        extra = {"model": tune(encoder), "random": [tune(r) for r in randoms]}
    metrics = {"checkpoint": info, "dataset": str(dataset), "layout": cat.layout, "splits_from": cat.notes,
               "protocol": {**asdict(p), "resize_shorter_side": p.resize if view == "frame" else None,
                            "random_inits": random_inits, "linear_C_grid": list(C_GRID),
                            "bootstrap_resamples": BOOTSTRAP_RESAMPLES, "device": device.type},
               "skipped_videos": {"count": len(failed),
                                  "examples": [f"{items[i].source}: {failed[i]}" for i in sorted(failed)[:5]]},
               **evaluate_features(model_x, random_xs, labels, groups, splits, split, extra)}
    for row in metrics["predictions"]:
        row["id"] = kept[row.pop("position")].source
    out = Path(out) if out else checkpoint.parent / "eval.json"
    out.write_text(json.dumps(metrics, indent=2) + "\n")
    _plot(metrics, out.with_suffix(".png"))
    return metrics


def _plot(metrics: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    names = [n for n in METRICS if metrics["model"].get(n) is not None]
    fig, ax = plt.subplots(figsize=(1.9 * len(names) + 1.5, 3.2), dpi=100)
    for j, (who, colour) in enumerate((("model", "#4a78c2"), ("random_init", "#bbbbbb"))):
        values = [metrics[who][n] for n in names]
        low = [v - metrics[who][f"{n}_ci95"][0] for v, n in zip(values, names)]
        high = [metrics[who][f"{n}_ci95"][1] - v for v, n in zip(values, names)]
        xs = np.arange(len(names)) + (j - 0.5) * 0.38
        ax.bar(xs, values, 0.36, yerr=[low, high], capsize=3, color=colour,
               label="model" if who == "model" else f"random init (mean of {len(metrics['random_init']['inits'])})")
    ax.axhline(metrics["majority_top1"], color="#aa3333", lw=1, ls="--", label="majority class")
    ax.set_xticks(np.arange(len(names)), names)
    ax.set_ylim(0, 1)
    ax.set_ylabel("top-1 (95% interval)")
    ax.set_title(f"{metrics['test_clips']} {metrics['split']} clips, {metrics['classes']} classes", fontsize=9)
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
