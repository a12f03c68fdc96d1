"""A real Blender render in a room (a tiny room made and imported here, so CI needs no ../shared): the actor on
free floor, the camera inside, and every pixel's semantic class and object, furniture included."""
import numpy as np
import pytest

from support.places import tiny_room_library
from synthact.clip import ClipReader
from synthact.config.batch import BatchConfig
from synthact.render import SceneError
from synthact.render.places import BODY_RADIUS_M
from synthact.render.worker import RenderWorker
from synthact.scene.sampler import SceneSampler
from synthact.world.places import open_place_library
from synthact.world.semantics import CLASS_IDS


@pytest.fixture(scope="module")
def room_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("environments")
    tiny_room_library(root)
    return root


def room_spec(registry, index=0, library="tiny", clips=("walk_forward_slow",), frames=4, **camera):
    config = BatchConfig.model_validate({
        "batch": {"name": "tiny-room", "seed": 3},
        "camera": {"fov_deg": 80, "framing": 0.5, "height_m": 1.6, "roll_deg": 0, "pitch_offset_deg": -8, **camera},
        "environment": {"kind": "room", "places": {"library": library}},
        "motion": {"selection": {"policy": "explicit", "clips": list(clips)}, "mirror_probability": 0},
        "render": {"resolution": {"width": 64, "height": 64}, "fps": 15, "frames": frames, "samples": 1}})
    return SceneSampler.create(config, registry).sample(index)


def test_a_room_clip_labels_the_actor_the_room_and_its_furniture(room_root, registry, tmp_path, monkeypatch):
    monkeypatch.setenv("SYNTHACT_ENVIRONMENTS", str(room_root))
    library = open_place_library("tiny")
    grid = library.floor(library.places[0])
    clearance = grid.clearance_m()
    semantic_seen: set[str] = set()
    for index in range(3):
        spec = room_spec(registry, index)
        clip = ClipReader.from_dir(RenderWorker(device="cpu", registry=registry).render(spec, tmp_path))
        seg = clip.arrays("segmentation.npz")
        names = list(seg["semantic_names"])
        semantic_seen |= {names[i] for i in np.unique(seg["semantic"])}
        assert (seg["semantic"][seg["instance"] > 0] == CLASS_IDS["person"]).all()
        objects = seg["object"]
        assert objects.max() <= len(seg["object_names"]) and ((objects > 0) == (seg["semantic"] != CLASS_IDS["person"])
                                                               ).mean() > 0.99  # walls all round: little sky
        for k in np.unique(objects[objects > 0]):
            assert names[np.bincount(seg["semantic"][objects == k]).argmax()] == seg["object_classes"][k - 1]
        assert ((seg["visible_fraction"] >= 0) & (seg["visible_fraction"] <= 1)).all()
        pelvis = clip.array("keypoints.npz", "joints3d_world")[:, 0, 0, :2]
        assert (grid.lookup(clearance, pelvis, 0.0) >= BODY_RADIUS_M - 0.05).all()
        eye = np.array([np.linalg.inv(m)[:3, 3] for m in clip.camera.world_to_camera])
        assert grid.lookup(grid.room, eye[:, :2], False).all() and (eye[:, 2] < 2.6).all()
        assert "in a living room" in spec.text
    assert {"person", "floor", "wall"} <= semantic_seen and semantic_seen & {"table", "chair"}


def test_a_sitting_actor_sits_on_the_chair_facing_away_from_its_back(room_root, registry, tmp_path, monkeypatch):
    monkeypatch.setenv("SYNTHACT_ENVIRONMENTS", str(room_root))
    place = open_place_library("tiny").places[0]
    chair = place.seats[0]
    assert chair.kind == "chair" and chair.height_m == pytest.approx(0.48, abs=0.03)
    spec = room_spec(registry, clips=("sit_down",), frames=30)
    assert spec.actors[0].seat is not None and ", on a chair;" in spec.text
    clip = ClipReader.from_dir(RenderWorker(device="cpu", registry=registry).render(spec, tmp_path))
    assert clip.stats["placement"]["seat_gap_m"] == [pytest.approx(0.0, abs=0.02)]
    joints = clip.array("keypoints.npz", "joints3d_world")[:, 0]  # (T, J, 3)
    seated = joints[np.argmin(joints[:, 0, 2])]
    assert np.linalg.norm(seated[0, :2] - chair.position_xy) < 0.05  # the pelvis over the seat's middle
    assert seated[0, 2] < chair.height_m + 0.2  # sitting, not standing
    feet = joints[:, [7, 8], :2].reshape(-1, 2)  # ankles: in front of the chair (its back is at y = 2.5)
    assert (feet[:, 1] > chair.position_xy[1] + 0.15).all()
    seg = clip.arrays("segmentation.npz")
    assert (seg["semantic"] == CLASS_IDS["person"]).any() and (seg["semantic"] == CLASS_IDS["chair"]).any()


def test_a_shot_too_wide_for_the_room_fails_with_the_reason(room_root, registry, tmp_path, monkeypatch):
    monkeypatch.setenv("SYNTHACT_ENVIRONMENTS", str(room_root))
    spec = room_spec(registry, framing=0.1)  # the whole body in a tenth of the image: the camera 15 m away
    with pytest.raises(SceneError, match="no camera yaw puts the camera inside the room") as err:
        RenderWorker(device="cpu", registry=registry).render(spec, tmp_path)
    assert err.value.reason == "invalid_spec"


def test_a_missing_scene_file_is_a_missing_asset(room_root, registry, tmp_path, monkeypatch):
    import shutil
    copy = tmp_path / "envs"
    shutil.copytree(room_root, copy)
    monkeypatch.setenv("SYNTHACT_ENVIRONMENTS", str(copy))
    spec = room_spec(registry)
    (copy / "tiny" / open_place_library("tiny").places[0].scene_file).unlink()
    with pytest.raises(SceneError, match="has no scene file") as err:
        RenderWorker(device="cpu", registry=registry).render(spec, tmp_path / "out")
    assert err.value.reason == "missing_asset"


def test_the_exposure_is_metered_from_the_room_light(room_root, registry, tmp_path, monkeypatch):
    """The same room with a lamp ten times dimmer is metered about log2(10) = 3.3 EV brighter, and both clips
    come out about equally bright."""
    monkeypatch.setenv("SYNTHACT_ENVIRONMENTS", str(room_root))
    tiny_room_library(room_root, "dim", lamp_w=40.0)
    clips = {}
    for name in ("tiny", "dim"):
        spec = room_spec(registry, library=name)
        clips[name] = ClipReader.from_dir(RenderWorker(device="cpu", registry=registry).render(spec, tmp_path / name))
    ev = {name: clip.stats["placement"]["metered_exposure_ev"] for name, clip in clips.items()}
    assert 2.8 < ev["dim"] - ev["tiny"] < 3.8, ev
    luma = {name: clip.rgb().mean() for name, clip in clips.items()}
    assert abs(luma["tiny"] - luma["dim"]) < 0.12 * luma["tiny"], luma


def test_static_meshes_get_bvh_twins_that_no_pixel_or_annotation_sees(room_root, registry, monkeypatch):
    """Every static mesh gets a twin sharing its data (so Cycles keeps its BVH across frames); the twins change
    the RGB no more than float rounding does, and the annotations never see them."""
    import bpy

    from synthact.render.blender import engine
    monkeypatch.setenv("SYNTHACT_ENVIRONMENTS", str(room_root))
    spec = room_spec(registry, frames=3)
    worker = RenderWorker(device="cpu", registry=registry)
    with_twins = worker.render_layers(spec)
    scene = bpy.context.scene.objects
    twins = [o for o in scene if o.name.endswith(".bvh_twin")]
    static = [o for o in scene if o.type == "MESH" and not o.name.startswith("actor") and o not in twins]
    assert twins and len(twins) == len(static) and all(t.data is bpy.data.objects[t.name[:-9]].data for t in twins)
    assert all(t.matrix_world.translation.z < -9000 and not t.visible_camera and not t.visible_shadow for t in twins)
    monkeypatch.setattr(engine, "keep_static_bvhs", lambda objects: [])
    without = worker.render_layers(spec)
    rgb = [np.asarray(clip.layers[next(k for k in clip.layers if k.startswith("rgb"))], float)
           for clip in (with_twins, without)]
    assert np.abs(rgb[0] - rgb[1]).mean() < 1.0
    seg = [clip.layers["segmentation.npz"] for clip in (with_twins, without)]
    assert list(seg[0]["object_names"]) == list(seg[1]["object_names"])
    assert not any(name.endswith(".bvh_twin") for name in seg[0]["object_names"])
    assert np.array_equal(seg[0]["object"], seg[1]["object"])


@pytest.mark.parametrize("library", ["builtin", "sits"])
def test_outdoors_a_sitter_sits_on_the_bench_or_stool_built_for_it(library, sits_library, tmp_path):
    """A procedural sit on the bench built at a sampled height; a recorded sit (tests/support/mocap.py: SITS) on a
    stool built at the height it was recorded on; both heights scaled to the actor's body."""
    motion = {"selection": {"policy": "explicit", "clips": ["sit_down"]}} if library == "builtin" else \
        {"library": "sits", "selection": {"policy": "explicit", "clips": ["sit_stool"]}}
    config = BatchConfig.model_validate({
        "batch": {"name": "outdoor-sit", "seed": 4},
        "camera": {"fov_deg": 60, "framing": 0.6, "height_m": 1.2, "roll_deg": 0, "pitch_offset_deg": -5},
        "environment": {"kind": "outdoor", "props_density": 0, "weather": {"type": "clear"}},
        "motion": {**motion, "mirror_probability": 0, "window": {"min_energy": 0.0, "start_fraction": 1.0}},
        "render": {"resolution": {"width": 64, "height": 64}, "fps": 15, "frames": 24, "samples": 1}})
    sampler = SceneSampler.create(config, sits_library)
    spec = next(s for s in (sampler.sample(i) for i in range(40)) if s.actors[0].seat is not None)
    seat = spec.actors[0].seat
    assert seat.built and seat.kind == ("bench" if library == "builtin" else "stool")
    clip = ClipReader.from_dir(RenderWorker(device="cpu", registry=sits_library).render(spec, tmp_path))
    placement = clip.stats["placement"]
    assert abs(placement["seat_gap_m"][0]) < 0.01  # the seat is sized to the body: a recorded sit fits it too
    built_m = placement["built_seat_height_m"][0]
    assert 0.6 * seat.height_m < built_m < 1.4 * seat.height_m
    joints = clip.array("keypoints.npz", "joints3d_world")[:, 0]
    seated = joints[np.argmin(joints[:, 0, 2])]
    assert np.linalg.norm(seated[0, :2] - seat.position_xy) < 0.05
    assert seated[0, 2] == pytest.approx(built_m + 0.11 * built_m / seat.height_m, abs=0.03)  # on its top
    seg = clip.arrays("segmentation.npz")
    assert (seg["semantic"] == CLASS_IDS["bench" if library == "builtin" else "chair"]).any()
    assert any(name.startswith("park_bench" if library == "builtin" else "stool") for name in seg["object_names"])
