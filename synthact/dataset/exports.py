"""Exports of a packed dataset to the formats other tools read: COCO keypoints (pycocotools), COCO panoptic
segmentation (stuff and things), mmaction2 video lists, and skeleton sequences (mmaction2's PoseDataset layout,
NTU-like). Clips are read from the shards
through ClipReader, one at a time.
"""
from __future__ import annotations

import colorsys
import json
from pathlib import Path
from typing import Callable, Iterator

import cv2
import numpy as np

from synthact.clip import ClipReader
from synthact.clip.skeletons import canonical_joints, coco_joints, skeleton_annotations, write_skeletons
from synthact.human.bodies import COCO17_SKELETON
from synthact.world.semantics import CLASS_IDS, CLASSES

Progress = Callable[..., None]  # progress(stage, done, total, **fields)


def _quiet(stage: str, done: int, total: int, **fields) -> None:
    pass


def read_manifest(dataset: Path) -> dict:
    path = Path(dataset) / "dataset.json"
    if not path.is_file():
        raise ValueError(f"{dataset}: no dataset.json (expected a packed dataset)")
    return json.loads(path.read_text())


def class_names(manifest: dict) -> list[str]:
    """Class names in id order (line i of classes.txt is the name of class id i)."""
    return [name for name, _ in sorted(manifest["classes"].items(), key=lambda item: item[1])]


def iter_clips(dataset: Path, progress: Progress = _quiet, stage: str = "export") -> Iterator[ClipReader]:
    """Every clip of a packed dataset, in shard order."""
    from synthact.clip.shard_stream import clip_readers, shard_samples
    dataset = Path(dataset)
    manifest = read_manifest(dataset)
    shards = [str(dataset / "shards" / s["name"]) for s in manifest["shards"]]
    total = manifest["counts"]["clips"]
    for done, (clip, _) in enumerate(shard_samples(shards).compose(clip_readers), 1):
        yield clip
        progress(stage, done, total)


# --- COCO -----------------------------------------------------------------------------------------------


def coco_category(names) -> dict:
    return {"id": 1, "name": "person", "supercategory": "person", "keypoints": [str(n) for n in names],
            "skeleton": [[a + 1, b + 1] for a, b in COCO17_SKELETON]}


def coco_annotations(clip: ClipReader, frame: int, image_id: int, first_id: int) -> list[dict]:
    """One annotation per actor seen in the frame: keypoints (v: 0 outside, 1 occluded, 2 seen, as COCO), the
    visible box and its RLE instance mask."""
    from pycocotools import mask as rle
    kp = clip.keypoints()
    instance = clip.array("segmentation.npz", "instance")[frame]
    out = []
    for actor in range(kp.coco2d.shape[1]):
        mask = instance == actor + 1
        x0, y0, x1, y1 = kp.bbox2d[frame, actor]
        if not mask.any() or not np.isfinite([x0, y0, x1, y1]).all():
            continue
        points = kp.coco2d[frame, actor].astype(float)
        points[points[:, 2] == 0, :2] = 0.0  # COCO: an unlabelled keypoint is (0, 0, 0)
        encoded = rle.encode(np.asfortranarray(mask.astype(np.uint8)))
        out.append({"id": first_id + len(out), "image_id": image_id, "category_id": 1, "iscrowd": 0,
                    "keypoints": [round(v, 2) for v in points.ravel().tolist()],
                    "num_keypoints": int((points[:, 2] > 0).sum()),
                    # COCO's pixel i spans [i, i+1) (pycocotools' toBbox of the mask); the clip's is [i-0.5, i+0.5)
                    "bbox": [round(float(v), 2) for v in (x0 + 0.5, y0 + 0.5, x1 - x0, y1 - y0)],
                    "area": float(mask.sum()), "actor": actor,
                    "segmentation": {"size": encoded["size"], "counts": encoded["counts"].decode("ascii")}})
    return out


def export_coco(dataset: Path, out: Path, frame_step: int = 1, progress: Progress = _quiet) -> dict[str, Path]:
    """out/annotations/person_keypoints_<split>.json and out/images/<split>/<scene_id>_<frame>.jpg for every
    frame_step-th frame; returns the annotation file of each split."""
    out = Path(out)
    coco: dict[str, dict] = {}
    ids = {"image": 1, "annotation": 1}
    for clip in iter_clips(dataset, progress, "coco"):
        if not (clip.has("keypoints") and clip.has("segmentation") and clip.has("rgb")):
            raise ValueError(f"{clip.name}: COCO export needs the rgb, segmentation and keypoints modalities")
        split = clip.spec.split
        doc = coco.setdefault(split, {"info": {"description": f"SynthAct {Path(dataset).name} ({split})"},
                                      "images": [], "annotations": [],
                                      "categories": [coco_category(clip.array("keypoints.npz", "coco_names"))]})
        rgb = clip.rgb()
        for frame in range(0, len(rgb), frame_step):
            name = f"{split}/{clip.name}_{frame:04d}.jpg"
            (out / "images" / split).mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(out / "images" / name), cv2.cvtColor(rgb[frame], cv2.COLOR_RGB2BGR),
                        [cv2.IMWRITE_JPEG_QUALITY, 95])
            doc["images"].append({"id": ids["image"], "file_name": name, "width": int(rgb.shape[2]),
                                  "height": int(rgb.shape[1]), "scene_id": clip.name, "frame": frame,
                                  "class_name": clip.spec.actors[0].motion.class_name})
            found = coco_annotations(clip, frame, ids["image"], ids["annotation"])
            doc["annotations"] += found
            ids["image"] += 1
            ids["annotation"] += len(found)
    written = {}
    for split, doc in coco.items():
        path = out / "annotations" / f"person_keypoints_{split}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc))
        written[split] = path
    return written


# --- COCO panoptic -------------------------------------------------------------------------------------


def panoptic_categories() -> list[dict]:
    """Every semantic class but `unlabelled` (void), with its stable id; stuff as COCO-panoptic has it."""
    return [{"id": c.id, "name": c.name, "supercategory": "stuff" if c.stuff else "thing",
             "isthing": 0 if c.stuff else 1, "color": [int(v) for v in _category_colour(c.id)]}
            for c in CLASSES if c.name != "unlabelled"]


def _category_colour(class_id: int) -> tuple[int, int, int]:
    hue = (class_id * 0.618034) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.6, 0.9)
    return round(r * 255), round(g * 255), round(b * 255)


def panoptic_frame(semantic: np.ndarray, instance: np.ndarray, objects: np.ndarray,
                   object_classes) -> tuple[np.ndarray, list[dict]]:
    """(H, W) segment ids (0: void) and their segments_info for one frame: one segment per actor (person), one
    per object of a thing class, one per stuff class (COCO-panoptic merges stuff); what no object claims (a
    thing-class pixel without an object) joins its class as a crowd segment."""
    ids = np.zeros(semantic.shape, np.int32)
    info: list[dict] = []

    def add(mask: np.ndarray, category: int, crowd: int = 0) -> None:
        if not mask.any():
            return
        ids[mask] = len(info) + 1
        rows, cols = np.nonzero(mask)
        x0, y0 = int(cols.min()), int(rows.min())
        info.append({"id": len(info) + 1, "category_id": int(category), "iscrowd": crowd, "area": int(mask.sum()),
                     "bbox": [x0, y0, int(cols.max()) - x0 + 1, int(rows.max()) - y0 + 1]})

    for actor in np.unique(instance[instance > 0]):
        add(instance == actor, CLASS_IDS["person"])
    free = instance == 0
    for obj in np.unique(objects[(objects > 0) & free]):
        category = CLASS_IDS.get(str(object_classes[obj - 1]), CLASS_IDS["object"])
        if not CLASSES[category].stuff:
            add((objects == obj) & free, category)
    for c in CLASSES[1:]:
        add((semantic == c.id) & (ids == 0) & free, c.id, crowd=0 if c.stuff else 1)
    return ids, info


def export_coco_panoptic(dataset: Path, out: Path, frame_step: int = 1,
                         progress: Progress = _quiet) -> dict[str, Path]:
    """COCO panoptic segmentation: out/annotations/panoptic_<split>.json with out/annotations/panoptic_<split>/
    <scene_id>_<frame>.png (segment id = R + 256 G + 256^2 B) and out/images/<split>/<scene_id>_<frame>.jpg for
    every frame_step-th frame; returns the annotation file of each split."""
    out = Path(out)
    docs: dict[str, dict] = {}
    image_id = 1
    for clip in iter_clips(dataset, progress, "panoptic"):
        if not (clip.has("segmentation") and clip.has("rgb")):
            raise ValueError(f"{clip.name}: the panoptic export needs the rgb and segmentation modalities")
        seg = clip.arrays("segmentation.npz")
        if "semantic" not in seg:
            raise ValueError(f"{clip.name}: its segmentation has no semantic classes (rendered before places)")
        split = clip.spec.split
        doc = docs.setdefault(split, {"info": {"description": f"SynthAct {Path(dataset).name} ({split}), panoptic"},
                                      "images": [], "annotations": [], "categories": panoptic_categories()})
        folder = out / "annotations" / f"panoptic_{split}"
        folder.mkdir(parents=True, exist_ok=True)
        (out / "images" / split).mkdir(parents=True, exist_ok=True)
        rgb = clip.rgb()
        for frame in range(0, len(rgb), frame_step):
            stem = f"{clip.name}_{frame:04d}"
            cv2.imwrite(str(out / "images" / split / f"{stem}.jpg"), cv2.cvtColor(rgb[frame], cv2.COLOR_RGB2BGR),
                        [cv2.IMWRITE_JPEG_QUALITY, 95])
            ids, info = panoptic_frame(seg["semantic"][frame], seg["instance"][frame], seg["object"][frame],
                                       seg["object_classes"])
            encoded = np.stack([ids % 256, ids // 256 % 256, ids // 65536], axis=-1).astype(np.uint8)
            cv2.imwrite(str(folder / f"{stem}.png"), cv2.cvtColor(encoded, cv2.COLOR_RGB2BGR))
            doc["images"].append({"id": image_id, "file_name": f"{split}/{stem}.jpg", "width": int(rgb.shape[2]),
                                  "height": int(rgb.shape[1]), "scene_id": clip.name, "frame": frame})
            doc["annotations"].append({"image_id": image_id, "file_name": f"{stem}.png", "segments_info": info})
            image_id += 1
    written = {}
    for split, doc in docs.items():
        path = out / "annotations" / f"panoptic_{split}.json"
        path.write_text(json.dumps(doc))
        written[split] = path
    return written


# --- mmaction2 ------------------------------------------------------------------------------------------


def export_mmaction(dataset: Path, out: Path, progress: Progress = _quiet) -> dict[str, Path]:
    """out/videos/<class>/<scene_id>.mp4, out/classes.txt (line i: class id i) and out/<split>_list.txt with
    lines `<class>/<scene_id>.mp4 <class id>` (mmaction2's VideoDataset with data_prefix out/videos)."""
    out = Path(out)
    names = class_names(read_manifest(dataset))
    lines: dict[str, list[str]] = {}
    for clip in iter_clips(dataset, progress, "mmaction"):
        video = clip.video_bytes()
        if video is None:
            raise ValueError(f"{clip.name}: no rgb.mp4 in the shards (pack with the rgb modality)")
        label = clip.spec.actors[0].motion.class_name
        target = out / "videos" / label / f"{clip.name}.mp4"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(video)
        lines.setdefault(clip.spec.split, []).append(f"{label}/{clip.name}.mp4 {names.index(label)}\n")
    (out / "classes.txt").write_text("".join(f"{name}\n" for name in names))
    written = {}
    for split, rows in sorted(lines.items()):
        written[split] = out / f"{split}_list.txt"
        written[split].write_text("".join(sorted(rows)))
    return written


# --- skeletons ------------------------------------------------------------------------------------------


SKELETON_LAYOUTS = {"coco": ("coco3d_world", coco_joints), "synthact22": ("joints3d_world", canonical_joints)}


def export_skeletons(dataset: Path, out: Path, progress: Progress = _quiet, joints: str = "coco") -> list[Path]:
    """skeletons_2d.pkl / skeletons_3d.pkl (synthact/clip/skeletons.py) of every clip's COCO-17 keypoints (`coco`,
    mmaction2's `coco` graph) or 22 canonical joints (`synthact22`, as `synthact skeletons` samples them)."""
    if joints not in SKELETON_LAYOUTS:
        raise ValueError(f"joints must be one of {', '.join(SKELETON_LAYOUTS)}, got {joints!r}")
    array, layout = SKELETON_LAYOUTS[joints]
    names = class_names(read_manifest(dataset))
    annotations = []
    for clip in iter_clips(dataset, progress, "skeletons"):
        if not clip.has("keypoints"):
            raise ValueError(f"{clip.name}: skeleton export needs the keypoints modality")
        cam = clip.camera
        a2, a3 = skeleton_annotations(clip.name, names.index(clip.spec.actors[0].motion.class_name),
                                      clip.array("keypoints.npz", array), cam.K, cam.world_to_camera,
                                      cam.width, cam.height)
        annotations.append((a2, a3, clip.spec.split))
    if not annotations:
        raise ValueError(f"{dataset}: no clips to export")
    return write_skeletons(out, annotations, names, layout())
