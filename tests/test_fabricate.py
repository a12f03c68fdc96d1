"""The numpy clip fabricator (tests/support/fabricate.py) that stands in for Blender in dataset and train tests:
its clips must be valid by the clip registry, pass QC, be geometrically consistent and deterministic."""
import json

import cv2
import numpy as np
import pytest

from support.fabricate import fabricate_clip, fabricate_layers
from synthact.clip import MODALITIES, ClipReader
from synthact.clip.modalities import RECORDS, expected_files
from synthact.config.batch import BatchConfig
from synthact.dataset.qc import check_clip
from synthact.human.bodies import PART_NAMES
from synthact.human.motions.skeleton import NUM_JOINTS, J
from synthact.scene.sampler import SceneSampler
from synthact.world.semantics import CLASSES


def sampler(registry, **sections):
    base = {"batch": {"name": "fab", "seed": 11},
            "camera": {"distance_m": 3.5, "height_m": 1.4, "yaw_deg": {"min": -60, "max": 60},
                       "focal_length_mm": 35},
            "environment": {"weather": {"type": "clear"}, "props_density": 0},
            "motion": {"selection": {"policy": "balanced", "classes": ["wave_right_high", "squat_slow"]},
                       "renders_per_motion": 2, "mirror_probability": 0},
            "render": {"resolution": {"width": 56, "height": 48}, "frames": 4, "device": "cpu"}}
    base.update(sections)
    return SceneSampler.create(BatchConfig.model_validate(base), registry)


def two_actor_spec(registry, precision: str = "compact"):
    """Two actors, an orbiting camera, RGB as mp4 and JPEG frames: every file kind of the registry but the
    other precision's."""
    return sampler(registry, actors={"count": 2, "placement": {"spread_m": 1.0}},
                   camera={"distance_m": 4.0, "height_m": 1.5, "yaw_deg": 10, "focal_length_mm": 30,
                           "motion": {"type": "orbit", "orbit_deg_per_s": 40}},
                   render={"resolution": {"width": 56, "height": 48}, "frames": 4, "device": "cpu",
                           "rgb_format": "both", "precision": precision}).sample(0)


@pytest.fixture(scope="module")
def two_actors(registry, tmp_path_factory):
    return fabricate_clip(two_actor_spec(registry), tmp_path_factory.mktemp("fab"))


def test_fabricated_clips_pass_qc(registry, two_actors, tmp_path):
    for clip in [two_actors] + [fabricate_clip(spec, tmp_path) for spec in sampler(registry).iter_specs(0, 4)]:
        result = check_clip(clip)
        assert result.accepted, (clip.name, result.reasons)
        m = result.metrics
        assert 0.1 < m["mean_luma"] < 0.9 and 0 < m["visible_fraction"] < 0.5 and m["near_fraction"] == 0
        assert m["visible_keypoints_fraction"] >= 0.35 and m["lowest_joint_m"] >= 0


@pytest.mark.parametrize("precision", ["compact", "float32"])
def test_every_registry_array_has_its_dtype_and_shape(registry, two_actors, precision, tmp_path):
    clip = two_actors if precision == "compact" else fabricate_clip(two_actor_spec(registry, precision), tmp_path)
    reader = ClipReader.from_dir(clip)
    spec = reader.spec
    assert spec.render.precision == precision
    dims = {"T": spec.render.frames, "H": spec.render.height, "W": spec.render.width, "A": len(spec.actors),
            "J": NUM_JOINTS, "P": len(PART_NAMES), "C": len(CLASSES),
            "O": len(reader.array("segmentation.npz", "object_names"))}  # O: the scene's static objects
    expected = set(RECORDS) | {"manifest.json"}
    assert set(spec.render.modalities) == set(MODALITIES)
    for f in expected_files(spec.render.modalities, spec.render.rgb_format, precision):
        expected.add(f.name)
        assert reader.exists(f.name), f.name
        for a in f.arrays:
            if f.kind not in ("video", "frames"):  # npz, or a compact PNG decoded to float32
                arr = reader.array(f.name, a.key)
            elif f.kind == "video":
                arr = reader.rgb()
            else:  # a folder of JPEGs
                arr = np.stack([cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB)
                                for p in sorted((clip / f.name).glob("*.jpg"))])
            if a.dtype == "str":
                assert arr.dtype.kind == "U", (f.name, a.key, arr.dtype)
            else:
                assert arr.dtype == np.dtype(a.dtype), (f.name, a.key, arr.dtype)
            shape = tuple(dims[d] if d in dims else int(d) for d in a.shape.split(","))
            assert arr.shape == shape, (f.name, a.key, arr.shape, shape)
    assert {p.name for p in clip.iterdir()} == expected  # nothing more, nothing less


def test_keypoints_project_with_the_camera(two_actors):
    reader = ClipReader.from_dir(two_actors)
    cam = reader.camera
    kp = reader.arrays("keypoints.npz")
    world = kp["coco3d_world"].astype(np.float64)
    r, t = cam.world_to_camera[:, :3, :3], cam.world_to_camera[:, None, None, :3, 3]
    in_camera = np.einsum("tij,takj->taki", r, world) + t  # OpenCV: x right, y down, z forward
    assert np.allclose(in_camera, kp["coco3d_camera"], atol=1e-4)
    assert (in_camera[..., 2] > 0).all()
    uvw = in_camera @ cam.K.T
    assert np.allclose(uvw[..., :2] / uvw[..., 2:], kp["coco2d"][..., :2], atol=1e-3)
    visibility = kp["coco2d"][..., 2]
    assert set(np.unique(visibility)) <= {0, 1, 2} and (visibility == 2).mean() > 0.35
    # a keypoint seen (2) has its own actor's pixels within one pixel; the visible box lies inside the amodal box
    instance = reader.array("segmentation.npz", "instance")
    for ti, a, k in zip(*np.nonzero(visibility == 2)):
        x, y = np.round(kp["coco2d"][ti, a, k, :2]).astype(int)
        assert (instance[ti, max(y - 1, 0):y + 2, max(x - 1, 0):x + 2] == a + 1).any()
    box, amodal = kp["bbox2d"], kp["bbox2d_amodal"]
    seen = np.isfinite(box).all(-1)
    assert seen.all()
    assert (box[..., :2] >= amodal[..., :2] - 1e-3).all() and (box[..., 2:] <= amodal[..., 2:] + 1e-3).all()
    assert (kp["joints3d_world"][..., 2] >= 0).all()


def test_depth_flow_and_segmentation_agree(two_actors):
    reader = ClipReader.from_dir(two_actors)
    depth = reader.depth()
    instance = reader.array("segmentation.npz", "instance")
    part = reader.array("segmentation.npz", "body_part")
    assert not np.isnan(depth).any() and (depth > 0).all()
    assert np.isinf(depth).any() and np.isfinite(depth).any()  # sky above the horizon, and the ground
    assert ((instance > 0) == (part > 0)).all() and np.isfinite(depth[instance > 0]).all()
    assert set(np.unique(instance)) == {0, 1, 2}
    forward, backward = reader.flow("forward"), reader.flow("backward")
    assert np.isnan(forward[-1]).all() and np.isnan(backward[0]).all()
    sky = np.isinf(depth)
    assert np.isnan(forward[:-1][sky[:-1]]).all() and np.isfinite(forward[:-1][~sky[:-1]]).all()
    assert np.isnan(backward[1:][sky[1:]]).all() and np.isfinite(backward[1:][~sky[1:]]).all()
    assert np.abs(forward[:-1][~sky[:-1]]).max() > 0.1  # the orbiting camera moves the ground


def test_renders_of_one_motion_move_alike_and_look_different(registry):
    specs = list(sampler(registry).iter_specs(0, 3))
    assert specs[0].actors[0].motion.motion_key == specs[1].actors[0].motion.motion_key \
        != specs[2].actors[0].motion.motion_key
    scenes = [fabricate_layers(s)[2] for s in specs]

    def bends(scene):  # elbow and knee angles: independent of placement, body size and camera
        j = scene.joints[:, 0].astype(np.float64)
        out = []
        for a, b, c in (("left_shoulder", "left_elbow", "left_wrist"), ("right_shoulder", "right_elbow", "right_wrist"),
                        ("left_hip", "left_knee", "left_ankle"), ("right_hip", "right_knee", "right_ankle")):
            u, v = j[:, J[a]] - j[:, J[b]], j[:, J[c]] - j[:, J[b]]
            out.append(np.sum(u * v, -1) / np.linalg.norm(u, axis=-1) / np.linalg.norm(v, axis=-1))
        return np.stack(out)

    assert np.allclose(bends(scenes[0]), bends(scenes[1]), atol=1e-5)
    assert not np.allclose(bends(scenes[0]), bends(scenes[2]), atol=1e-2)
    assert np.abs(scenes[0].rgb.astype(int) - scenes[1].rgb.astype(int)).mean() > 2
    assert np.abs(np.diff(scenes[0].joints, axis=0)).max() > 0.01  # the body moves


def test_the_same_spec_gives_the_same_bytes(registry, tmp_path):
    spec = sampler(registry).sample(1)
    a, b = fabricate_clip(spec, tmp_path / "a"), fabricate_clip(spec, tmp_path / "b")
    npz = sorted(p.name for p in a.iterdir() if p.suffix in (".npz", ".png"))
    assert len(npz) == 5
    for name in npz:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert (a / "manifest.json").read_bytes() == (b / "manifest.json").read_bytes()  # every file's sha256


def test_the_video_encoder_gives_the_same_bytes_every_time():
    """x264's macroblock-tree rate control made nearly every encode of the same rendered frames differ."""
    from synthact.clip.video import encode_mp4
    rng = np.random.default_rng(0)
    # independent blurred noise: content on which mbtree differed in 2-5 of 6 encodes (seeds 0-3)
    frames = np.stack([cv2.GaussianBlur((rng.random((144, 176, 3)) * 255).astype(np.uint8), (0, 0), 3)
                       for _ in range(32)])
    assert len({encode_mp4(frames, 30) for _ in range(6)}) == 1


def test_a_clip_written_as_its_layers_arrive_is_the_clip_written_at_once(registry, tmp_path):
    from synthact.clip import SceneClipWriter, write_clip
    spec = two_actor_spec(registry)
    layers, camera, _ = fabricate_layers(spec)
    at_once = write_clip(tmp_path / "a", spec, layers, camera, {"timings_s": {}})
    with SceneClipWriter(tmp_path / "b", spec) as clip:
        clip.add({k: v for k, v in layers.items() if not k.startswith("rgb")})  # the annotations first
        assert not (tmp_path / "b" / spec.scene_id).exists()  # nothing in place before finish()
        clip.add({k: v for k, v in layers.items() if k.startswith("rgb")})
        streamed = clip.finish(camera, {"timings_s": {}})
    files = [json.loads((c / "manifest.json").read_text())["files"] for c in (at_once, streamed)]
    assert "rgb.mp4" in files[0] and files[0] == files[1]  # every file's sha256, the video's included


def test_an_unfinished_or_incomplete_clip_leaves_nothing(registry, tmp_path):
    from synthact.clip import SceneClipWriter
    spec = two_actor_spec(registry)
    layers, camera, _ = fabricate_layers(spec)
    with pytest.raises(ValueError, match=f"scene {spec.scene_id}: the layers lack flow_forward.npz"):
        with SceneClipWriter(tmp_path, spec) as clip:
            clip.add({k: v for k, v in layers.items() if k != "flow_forward.npz"})
            clip.finish(camera, {})
    with pytest.raises(RuntimeError, match="the render failed"):
        with SceneClipWriter(tmp_path, spec) as clip:
            clip.add({"depth.npz": layers["depth.npz"]})
            raise RuntimeError("the render failed")
    assert list(tmp_path.iterdir()) == []  # no clip, no temporary folder
