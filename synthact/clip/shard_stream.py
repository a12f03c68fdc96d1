"""The one way SynthAct reads its shards: webdataset's reader set up once (shard order kept, no shuffle, empty
shards allowed; who splits the shards among readers is the caller's choice) and the stage that turns samples
into ClipReaders. The trainer's pairs, the evaluation, the loaders of the Python API and the exports all
start here."""
from __future__ import annotations

from .reader import ClipReader


def shard_samples(urls: list[str], split_by_worker: bool = False):
    """webdataset.WebDataset over the shards in the order given, yielding raw samples (bytes by member name,
    `__key__`, `__url__`). split_by_worker: each DataLoader worker reads every n-th shard (webdataset's
    splitter); otherwise the caller has chosen this reader's shards already and all of them are read."""
    import webdataset as wds
    return wds.WebDataset(list(urls), shardshuffle=False, nodesplitter=None,
                          workersplitter=wds.split_by_worker if split_by_worker else None, empty_check=False)


def clip_readers(samples):
    """webdataset stage: samples -> (ClipReader, the shard URL it came from)."""
    for sample in samples:
        yield ClipReader.from_sample(sample), sample.get("__url__", "")
