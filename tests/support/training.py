"""Tiny packed gata datasets for trainer tests: fabricated clips (support/fabricate.py, no Blender) packed
with the real packer."""
from __future__ import annotations

from pathlib import Path

from synthact.config import BatchConfig

CLASSES = ("wave_right_high", "squat_slow", "bow_deep", "jumping_jacks")


def gata_dataset(registry, out: Path, motions: int, frames: int = 4, motions_per_shard: int = 1000,
                 name: str = "trainer", seed: int = 8) -> Path:
    """A gata dataset of `motions` motions (balanced over CLASSES) rendered twice each at 48x48 with `frames`
    frames; a shard closes after `motions_per_shard` motions (a motion's two renders stay in one shard)."""
    from support.fabricate import fabricate_batch
    from synthact.dataset.pack import PackOptions, pack
    cfg = BatchConfig.model_validate({
        "batch": {"name": name, "seed": seed},
        "camera": {"distance_m": 3.5, "height_m": 1.4, "focal_length_mm": 35},
        "environment": {"props_density": 0},
        "motion": {"selection": {"policy": "balanced", "classes": list(CLASSES[:max(2, min(motions, 4))])},
                   "renders_per_motion": 2, "mirror_probability": 0},
        "render": {"resolution": {"width": 48, "height": 48}, "frames": frames, "samples": 1, "device": "cpu"}})
    raw = fabricate_batch(cfg, registry, Path(out) / "raw", 2 * motions)
    packed = Path(out) / "dataset"
    pack(raw, packed, PackOptions(layout="gata", shard_max_clips=2 * motions_per_shard))
    return packed
