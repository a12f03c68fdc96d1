"""Reading packed datasets from Python: a webdataset pipeline that decodes every member to typed arrays, and a
collate for PyTorch that pads the actor axis (clips hold different numbers of actors).

    pipeline = synthact.webdataset_pipeline("datasets/default", modalities=("rgb", "keypoints"))
    loader = torch.utils.data.DataLoader(pipeline, batch_size=8, collate_fn=synthact.collate_clips)
"""
from __future__ import annotations

import glob
import json
from pathlib import Path

import numpy as np

from synthact.clip import ClipReader
from synthact.clip.modalities import MODALITIES
from synthact.clip.shard_stream import clip_readers, shard_samples

# Arrays whose second axis is the actor: padded with NaN by collate_clips.
ACTOR_ARRAYS = ("coco2d", "coco3d_world", "coco3d_camera", "joints3d_world", "bbox2d", "bbox2d_amodal")


def shard_urls(source: str | Path) -> list[str]:
    """The shards of a dataset folder (DATASET/shards/*.tar), a folder of .tar files, or a brace pattern / URL."""
    path = Path(source)
    if path.is_dir():
        found = sorted(glob.glob(str(path / "shards" / "*.tar"))) or sorted(glob.glob(str(path / "*.tar")))
        if not found:
            raise FileNotFoundError(f"no .tar shards under {source}")
        return found
    from braceexpand import braceexpand
    return list(braceexpand(str(source)))


def decoded(clip: ClipReader, modalities=tuple(MODALITIES)) -> dict:
    """A clip's arrays by name (rgb (T, H, W, 3) uint8, depth, flow_forward, flow_backward, instance, body_part,
    the keypoint arrays) plus scene_id, class_id, class_name and split."""
    spec = clip.spec
    out = {"scene_id": clip.name, "class_id": clip.class_id, "class_name": spec.actors[0].motion.class_name,
           "split": spec.split}
    for name in modalities:
        if name == "rgb":
            out["rgb"] = clip.rgb()
        elif name == "depth":
            out["depth"] = clip.depth()
        elif name == "flow":
            out["flow_forward"], out["flow_backward"] = clip.flow("forward"), clip.flow("backward")
        elif name == "segmentation":
            out["instance"] = clip.array("segmentation.npz", "instance")
            out["body_part"] = clip.array("segmentation.npz", "body_part")
        elif name == "keypoints":
            out.update({key: clip.array("keypoints.npz", key) for key in ACTOR_ARRAYS})
        else:
            raise ValueError(f"unknown modality {name!r}; choose from {', '.join(MODALITIES)}")
    return out


def webdataset_pipeline(source: str | Path, modalities=("rgb", "keypoints"), split: str | None = None,
                        shuffle: int = 0):
    """A webdataset.WebDataset over a dataset's shards that yields decoded(clip) dicts (only clips of `split`
    when given; `shuffle`: a buffer of that many samples). Each DataLoader worker reads its own shards."""
    unknown = set(modalities) - set(MODALITIES)
    if unknown:
        raise ValueError(f"unknown modalities {sorted(unknown)}; choose from {', '.join(MODALITIES)}")
    pipeline = shard_samples(shard_urls(source), split_by_worker=True)
    if split is not None:
        pipeline = pipeline.select(lambda sample: json.loads(sample["json"])["spec"]["split"] == split)
    if shuffle:
        pipeline = pipeline.shuffle(shuffle)
    return pipeline.compose(clip_readers).map(lambda read: decoded(read[0], modalities))


def collate_clips(samples: list[dict]) -> dict:
    """A batch of decoded clips as torch tensors: arrays stacked on a new first axis, actor arrays padded with
    NaN to the most actors in the batch, `actors` (B,) the real counts; names and splits as lists."""
    import torch
    out: dict = {"actors": torch.tensor([len(s["coco2d"][0]) if "coco2d" in s else 1 for s in samples])}
    for key in samples[0]:
        values = [s[key] for s in samples]
        if not isinstance(values[0], np.ndarray):
            out[key] = torch.tensor(values) if key == "class_id" else values
            continue
        if key in ACTOR_ARRAYS:
            most = max(v.shape[1] for v in values)
            values = [np.pad(v, [(0, 0), (0, most - v.shape[1])] + [(0, 0)] * (v.ndim - 2), constant_values=np.nan)
                      for v in values]
        shapes = {v.shape for v in values}
        if len(shapes) > 1:
            raise ValueError(f"cannot batch {key}: the clips' shapes differ ({sorted(shapes)}); batch clips of one "
                             f"resolution and length")
        out[key] = torch.from_numpy(np.stack(values))
    return out


def loader(source: str | Path, batch_size: int = 8, modalities=("rgb", "keypoints"), split: str | None = None,
           workers: int = 0, shuffle: int = 0):
    """A torch DataLoader of collated batches (collate_clips) from webdataset_pipeline."""
    import torch
    return torch.utils.data.DataLoader(webdataset_pipeline(source, modalities, split, shuffle), batch_size=batch_size,
                                       num_workers=workers, collate_fn=collate_clips)


def clips(source: str | Path, split: str | None = None):
    """Every clip of a dataset (shards) as a ClipReader, in shard order; only `split` when given."""
    for clip, _ in shard_samples(shard_urls(source)).compose(clip_readers):
        if split is None or clip.spec.split == split:
            yield clip
