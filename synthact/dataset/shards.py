"""Reading one clip out of a SynthAct shard by the offset the index table records (random access for
reports and tools; training streams whole shards with webdataset)."""
from __future__ import annotations

import tarfile
from pathlib import Path


def read_sample(shard: Path, key: str, offset: int = 0) -> dict[str, bytes]:
    """{member suffix: bytes, "__key__": key} of one clip; offset: its first member's header (index.offset)."""
    sample: dict = {"__key__": key, "__url__": str(shard)}
    with open(shard, "rb") as f:
        f.seek(offset)
        with tarfile.open(fileobj=f, mode="r|") as tar:
            for member in tar:
                name, _, suffix = member.name.partition(".")
                if name != key:
                    if len(sample) > 2:
                        break
                    continue
                sample[suffix] = tar.extractfile(member).read()
    if len(sample) == 2:
        raise KeyError(f"{shard}: no clip {key!r} at offset {offset}")
    return sample
