"""Training pairs streamed from gata shards.

A view is one actor in one rendered clip. The gata layout writes the renders of a motion next to each
other, so a streaming reader groups consecutive samples by motion_key and draws positive pairs inside a
group: two different views (different renders, or different actors of one render) cropped around the
actor over the *same* frame window (the two halves of a motion mean different things). The classic
MoCo baseline instead pairs two augmentations of a single view.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from synthact.clip import ClipReader
from synthact.clip.shard_stream import clip_readers, shard_samples
from synthact.clip.video import decode_video

VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".webm", ".mov", ".m4v", ".mpg", ".mpeg")


@dataclass
class View:
    scene_id: str
    actor: int
    motion_key: str
    class_name: str
    frames: np.ndarray  # (T, H, W, 3) uint8
    boxes: np.ndarray  # (T, 4) amodal box of this actor, pixels
    class_id: int = -1  # the dataset's stable class id (dataset.json "classes")
    shard: str = ""  # the shard URL it was read from


def views_of(clip: ClipReader, url: str = "") -> list[View]:
    """One view per actor of a clip (the class id goes with the first actor, whose class the clip is)."""
    rgb = clip.rgb()
    views = []
    for a in clip.spec.actors:
        boxes = clip.boxes(a.actor_index)
        views.append(View(clip.spec.scene_id, a.actor_index, a.motion.motion_key, a.motion.class_name,
                          rgb[: len(boxes)], boxes, clip.class_id if a.actor_index == 0 else -1, url))
    return views


def clip_views(samples):
    """webdataset stage: shard samples -> views."""
    for clip, url in clip_readers(samples):
        yield from views_of(clip, url)


def grouped_by_motion(views):
    """webdataset stage: consecutive views with the same motion key, as lists (the gata shard order)."""
    group, key = [], None
    for view in views:
        if key is not None and view.motion_key != key:
            yield group
            group = []
        key = view.motion_key
        group.append(view)
    if group:
        yield group


SPLIT_FOLDERS = ("train", "val", "test")


def has_split_folders(root: str | Path) -> bool:
    """True for ROOT/<split>/<class>/<video> (the synapt layout's videos/ folder), False for ROOT/<class>/."""
    folders = [p for p in Path(root).iterdir() if p.is_dir()] if Path(root).is_dir() else []
    return bool(folders) and all(p.name in SPLIT_FOLDERS for p in folders)


def video_files(root: str | Path) -> list[Path]:
    """Videos in class folders, any container PyAV reads, sorted: ROOT/<class>/<video>, or
    ROOT/<split>/<class>/<video>. The class is always the video's folder."""
    pattern = "*/*/*" if has_split_folders(root) else "*/*"
    return sorted(p for p in Path(root).glob(pattern) if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)


def span(frames: int, stride: int) -> int:
    """Source frames covered by `frames` frames taken every `stride`-th."""
    return (frames - 1) * stride + 1


def crop(view: View, start: int, length: int, size: int, rng: np.random.Generator, scale_range=(0.5, 1.0),
         flip: bool = True, stride: int = 1) -> torch.Tensor:
    """(3, length, size, size) float tensor: a square around the actor over the window, shrunk by a random
    scale and padded (GATA's remedy for near-constant body size), randomly shifted, maybe mirrored."""
    frames = view.frames[start:start + span(length, stride):stride]
    box = view.boxes[start:start + span(length, stride):stride]
    box = box[np.isfinite(box).all(1)]
    h, w = frames.shape[1:3]
    if len(box):
        x0, y0, x1, y1 = box[:, 0].min(), box[:, 1].min(), box[:, 2].max(), box[:, 3].max()
    else:
        x0, y0, x1, y1 = 0, 0, w - 1, h - 1
    side = max(x1 - x0, y1 - y0) * 1.15 + 4
    cx, cy = (x0 + x1) / 2 + rng.uniform(-0.05, 0.05) * side, (y0 + y1) / 2 + rng.uniform(-0.05, 0.05) * side
    clip = torch.from_numpy(np.array(frames)).permute(3, 0, 1, 2).float() / 255  # (3, T, H, W)
    grid_y = torch.linspace(cy - side / 2, cy + side / 2, size) / max(h - 1, 1) * 2 - 1
    grid_x = torch.linspace(cx - side / 2, cx + side / 2, size) / max(w - 1, 1) * 2 - 1
    gy, gx = torch.meshgrid(grid_y, grid_x, indexing="ij")
    grid = torch.stack([gx, gy], -1).unsqueeze(0).expand(clip.shape[1], -1, -1, -1)
    crops = torch.nn.functional.grid_sample(clip.transpose(0, 1), grid.float(), align_corners=True,
                                            padding_mode="zeros")  # (T, 3, size, size)
    scale = rng.uniform(*scale_range)
    inner = max(int(round(size * scale)), 8)
    small = torch.nn.functional.interpolate(crops, size=(inner, inner), mode="bilinear", align_corners=False)
    out = torch.full((crops.shape[0], 3, size, size), 0.5)
    oy, ox = rng.integers(0, size - inner + 1, 2)
    out[:, :, oy:oy + inner, ox:ox + inner] = small
    if flip and rng.uniform() < 0.5:
        out = out.flip(-1)
    return (out - 0.45) / 0.225  # roughly zero-mean, unit-variance pixels


def pair_from_group(group: list[View], frames: int, size: int, rng: np.random.Generator, mode: str = "gata",
                    stride: int = 1, min_scale: float = 0.5):
    """Two views of one motion over one window (gata), or two augmentations of one view (classic)."""
    if mode == "gata":
        if len(group) < 2:
            return None
        i, j = rng.choice(len(group), 2, replace=False)
        a, b = group[i], group[j]
    else:
        a = b = group[rng.integers(len(group))]
    length = min(len(a.frames), len(b.frames))
    if length < span(frames, stride):
        return None
    start = int(rng.integers(0, length - span(frames, stride) + 1))
    to_tensor = lambda v: crop(v, start, frames, size, rng, (min_scale, 1.0), stride=stride).permute(1, 0, 2, 3)  # noqa: E731  (3, T, H, W)
    return to_tensor(a), to_tensor(b), {"a": a.scene_id, "b": b.scene_id, "start": start, "motion_key": a.motion_key,
                                        "class_name": a.class_name}


SHUFFLE_GROUPS = 64  # motion groups held in the shuffle buffer


class ClipCache:
    """Decoded motion groups kept in memory after one full pass over the shards (small datasets, CPU).

    Only single-process loading fills it (DataLoader workers get copies that are thrown away), and it is
    used only once a pass has completed, so a pass cut short never leaves a partial epoch behind.
    """

    def __init__(self):
        self.by_shard: dict[str, list[list[View]]] = {}
        self.complete = False


def node() -> tuple[int, int]:
    """(rank, world size) of this process: torchrun's RANK and WORLD_SIZE, else an initialised process
    group's, else (0, 1). DataLoader workers inherit them with the environment."""
    if "RANK" in os.environ and "WORLD_SIZE" in os.environ:
        return int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    import torch.distributed as dist
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def check_readers(shards: list[str], world: int, workers: int) -> None:
    """Every reader (rank x DataLoader worker) needs a shard of its own: with fewer, one rank finds no batch
    and stops while the others wait for it in the gradient all-reduce. Depends only on its arguments, so every
    rank decides alike (before any of them joins the process group)."""
    readers = world * max(workers, 1)
    if len(shards) < readers:
        raise ValueError(f"{len(shards)} shards for {world} ranks x {max(workers, 1)} workers: each reader needs "
                         f"at least one shard; pack with more shards (synthact pack --shard-clips) or use fewer "
                         f"workers")


class _ShardStream(torch.utils.data.IterableDataset):
    """Motion groups of this reader's shards. Under data parallelism rank r of R keeps shards[r::R] in every
    epoch (so a clip cache filled in the first pass holds exactly the shards of every later pass); DataLoader
    workers split the rank's shards of the epoch among themselves. rank and world default to node()."""

    def __init__(self, shards: list[str], frames: int, size: int, seed: int, epoch: int,
                 cache: ClipCache | None = None, stride: int = 1, min_scale: float = 0.5,
                 rank: int | None = None, world: int | None = None):
        super().__init__()
        self.shards, self.frames, self.size, self.seed, self.epoch = shards, frames, size, seed, epoch
        self.cache = cache
        self.stride, self.min_scale = stride, min_scale
        here = node()
        self.rank = here[0] if rank is None else rank
        self.world = here[1] if world is None else world
        if not 0 <= self.rank < self.world:
            raise ValueError(f"rank {self.rank} is not one of world size {self.world}")

    def reader_shards(self) -> list[str]:
        """This rank's shards in this epoch's order (drawn from seed, epoch and rank), then this worker's share."""
        mine = self.shards[self.rank::self.world]
        order = np.random.default_rng([self.seed, self.epoch, self.rank]).permutation(len(mine))
        mine = [mine[i] for i in order]
        info = torch.utils.data.get_worker_info()
        return mine[info.id::info.num_workers] if info else mine

    def groups(self, rng: np.random.Generator):
        """Motion groups of this epoch: this reader's shards in an order drawn per epoch, then a buffer shuffle.

        The order depends only on (seed, epoch, rank, worker), so cached and decoded passes agree and a resumed
        run replays the same stream.
        """
        shards = self.reader_shards()
        if self.cache is not None and self.cache.complete:
            source = (group for shard in shards for group in self.cache.by_shard.get(shard, []))
        else:
            source = self._decoded(shards)
        buffer = []
        for group in source:
            buffer.append(group)
            if len(buffer) >= SHUFFLE_GROUPS:
                yield buffer.pop(int(rng.integers(len(buffer))))
        while buffer:
            yield buffer.pop(int(rng.integers(len(buffer))))

    def _decoded(self, shards: list[str]):
        """The groups of these shards, read in this order (split by rank and worker already: webdataset's
        splitters would split them again). A worker with no shard (more workers than a single process's shards)
        gives nothing."""
        if not shards:
            return
        dataset = shard_samples(shards).compose(clip_views)
        filling = self.cache is not None and torch.utils.data.get_worker_info() is None
        if filling:
            self.cache.by_shard = {}
        for group in grouped_by_motion(dataset):
            if filling:
                self.cache.by_shard.setdefault(group[0].shard, []).append(group)
            yield group
        if filling:
            self.cache.complete = True

    def rng(self, salt: int) -> np.random.Generator:
        """The crops', flips' and windows' generator of this reader: (seed, epoch, rank, worker, salt)."""
        info = torch.utils.data.get_worker_info()
        return np.random.default_rng([self.seed, self.epoch, self.rank, info.id if info else 0, salt])


class PairStream(_ShardStream):
    """Pairs from shards; each rank, and each of its DataLoader workers, reads its own shards."""

    def __init__(self, shards: list[str], frames: int = 8, size: int = 112, mode: str = "gata", seed: int = 0,
                 epoch: int = 0, cache: ClipCache | None = None, stride: int = 1, min_scale: float = 0.5,
                 rank: int | None = None, world: int | None = None):
        super().__init__(shards, frames, size, seed, epoch, cache, stride, min_scale, rank, world)
        self.mode = mode

    def __iter__(self):
        rng = self.rng(0)
        for group in self.groups(rng):
            for _ in range(len(group)):  # each view anchors one pair per pass
                pair = pair_from_group(group, self.frames, self.size, rng, self.mode, self.stride, self.min_scale)
                if pair is not None:
                    yield pair[0], pair[1]


class LabelledStream(_ShardStream):
    """(clip, class id) of the first actor of every sample, for supervised training: a random window and
    the same crop, scale and flip augmentation as the contrastive pairs."""

    def __iter__(self):
        rng = self.rng(3)
        for group in self.groups(rng):
            for view in group:
                window = span(self.frames, self.stride)
                if view.class_id < 0 or len(view.frames) < window:
                    continue
                start = int(rng.integers(0, len(view.frames) - window + 1))
                clip = crop(view, start, self.frames, self.size, rng, (self.min_scale, 1.0), stride=self.stride)
                yield clip.permute(1, 0, 2, 3), view.class_id


class RealPairStream(torch.utils.data.IterableDataset):
    """Pairs from real videos in class folders (ROOT/<class>/<video>): two augmented crops of one video
    over one window (real clips have no second render), for MoCo's separate real head and queue.

    DataLoader workers split the videos; every rank reads all of them, in its own order with its own crops
    (seeded with the rank: a small real set is not split further)."""

    def __init__(self, root: str, frames: int = 8, size: int = 112, seed: int = 0, epoch: int = 0, stride: int = 1,
                 rank: int | None = None):
        super().__init__()
        self.root, self.frames, self.size, self.seed, self.epoch, self.stride = root, frames, size, seed, epoch, stride
        self.rank = node()[0] if rank is None else rank

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        worker, workers = (info.id, info.num_workers) if info else (0, 1)
        rng = np.random.default_rng([self.seed, self.epoch, self.rank, worker, 7])
        videos = video_files(self.root)[worker::workers]
        for i in rng.permutation(len(videos)):
            frames = decode_video(videos[i])
            h, w = frames.shape[1:3]
            view = View(videos[i].stem, 0, videos[i].stem, videos[i].parent.name, frames,
                        np.tile([0.0, 0.0, w - 1.0, h - 1.0], (len(frames), 1)))
            pair = pair_from_group([view], self.frames, self.size, rng, "classic", self.stride)
            if pair is not None:
                yield pair[0], pair[1]
