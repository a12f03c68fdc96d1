"""A contact sheet of a batch's places with their actors (docs/places.png): per clip, the middle RGB frame over
its semantic segmentation, captioned with where the clip happens.

    python experiments/places_sheet.py output/default [more batch folders] --out docs/places.png [--frame lowest]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from synthact.clip import ClipReader
from synthact.clip.preview import segmentation_image

CELL = 192


def caption(image: np.ndarray, text: str) -> np.ndarray:
    band = np.full((22, image.shape[1], 3), 255, np.uint8)
    cv2.putText(band, text, (4, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (20, 20, 20), 1, cv2.LINE_AA)
    return np.concatenate([band, image])


def column(clip: ClipReader, frame: str = "middle") -> np.ndarray:
    if frame == "lowest":  # where the first actor's pelvis is lowest: a sitter seated
        middle = int(np.argmin(clip.array("keypoints.npz", "joints3d_world")[:, 0, 0, 2]))
    else:
        middle = clip.frames // 2
    seg = clip.arrays("segmentation.npz")
    rgb = cv2.resize(clip.rgb()[middle], (CELL, CELL), interpolation=cv2.INTER_AREA)
    labels = segmentation_image(seg["instance"][middle], seg["body_part"][middle], seg["semantic"][middle])
    labels = cv2.resize(labels, (CELL, CELL), interpolation=cv2.INTER_NEAREST)
    where = clip.spec.text.rsplit("camera, ", 1)[-1].replace("a photographed sky, on the photographed ground",
                                                             "photographed sky and ground")
    seat = clip.spec.actors[0].seat
    return caption(np.concatenate([rgb, labels]), (f"on a {seat.kind}, " if seat else "") + where[:34])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("batches", type=Path, nargs="+", help="Batch folders (their clips/ are read).")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--frame", choices=("middle", "lowest"), default="middle",
                        help="Each clip's middle frame, or the one where its first actor's pelvis is lowest.")
    args = parser.parse_args()
    folders = [p for batch in args.batches for p in sorted((batch / "clips").iterdir())]
    clips = [ClipReader.from_dir(p) for p in folders if (p / "manifest.json").is_file()]
    clips.sort(key=lambda c: (c.spec.environment.kind, c.spec.batch, c.spec.index))
    sheet = np.concatenate([np.pad(column(c, args.frame), ((0, 0), (2, 2), (0, 0)), constant_values=255)
                            for c in clips], axis=1)
    cv2.imwrite(str(args.out), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    print(f"{len(clips)} clips -> {args.out}")


if __name__ == "__main__":
    main()
