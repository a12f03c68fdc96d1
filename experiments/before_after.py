"""Render the same scenes in the old look and the new default look, side by side (docs/before_after.jpg).

  python experiments/before_after.py [--scenes 4] [--frames 8] [--out docs/before_after.jpg]

Both looks use scene_configs/default.yaml (same seed: the same motions, bodies, places and cameras'
directions); the old look overrides what the render-fidelity work changed: painted clothing, 4 samples
without a denoiser and a new sample pattern every frame, the physical sky only, cameras by distance.
"""
from __future__ import annotations

import argparse
import copy
from pathlib import Path

import cv2
import numpy as np
import yaml

from synthact.config import AssetRegistry, BatchConfig
from synthact.render.worker import RenderWorker
from synthact.scene import SceneSampler

ROOT = Path(__file__).resolve().parent.parent
OLD_LOOK = {
    "camera": {"distance_m": {"min": 3.0, "max": 7.0}},
    "environment": {"sky": "physical"},
    "actors": {"clothing": {"style": "painted"}},
    "render": {"samples": 4, "denoise": False, "noise_seed": "animated"},
}
DROP = {"camera": ("framing",), "environment": ("hdri",)}  # new-look keys the old look does not have


def config(old: bool, frames: int) -> BatchConfig:
    data = yaml.safe_load((ROOT / "scene_configs" / "default.yaml").read_text())
    data["render"]["frames"] = frames
    if old:
        for section, keys in DROP.items():
            for key in keys:
                data[section].pop(key, None)
        for section, values in OLD_LOOK.items():
            merged = copy.deepcopy(data.get(section, {}))
            for key, value in values.items():
                if isinstance(value, dict) and isinstance(merged.get(key), dict) and "min" not in value:
                    merged[key] = {**merged[key], **value}
                else:
                    merged[key] = value
            data[section] = merged
    return BatchConfig.model_validate(data)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenes", type=int, default=4)
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "before_after.jpg")
    args = parser.parse_args()
    registry = AssetRegistry.load()
    worker = RenderWorker(device="cpu", registry=registry)
    rows = []
    for index in range(0, 2 * args.scenes, 2):  # one render of each motion (the default renders each twice)
        row = []
        for old in (True, False):
            spec = SceneSampler.create(config(old, args.frames), registry).sample(index)
            rgb = worker.render_layers(spec).layers["rgb.mp4"]
            row.append(np.concatenate([rgb[0], rgb[-1]], axis=1))
        rows.append(np.concatenate([row[0], np.full((row[0].shape[0], 8, 3), 255, np.uint8), row[1]], axis=1))
        print(f"scene {index} rendered", flush=True)
    sheet = np.concatenate(rows, axis=0)
    band = np.full((24, sheet.shape[1], 3), 255, np.uint8)
    titles = (("before: painted, 4 spp, no denoiser, sky", 4), ("after: dressed, denoised, HDRI or sky",
                                                                 sheet.shape[1] // 2 + 8))
    for text, x in titles:
        cv2.putText(band, text, (x, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.imwrite(str(args.out), cv2.cvtColor(np.concatenate([band, sheet]), cv2.COLOR_RGB2BGR))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
