"""Rooms from a real engine: the Infinigen dining room in ../shared/places imported into a place library, and an
actor rendered in it by Blender, with annotations that include the room's furniture."""
import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, SHARED
from synthact.clip import ClipReader
from synthact.config.batch import BatchConfig
from synthact.render.places import BODY_RADIUS_M
from synthact.render.worker import RenderWorker
from synthact.scene.sampler import SceneSampler
from synthact.world.places import open_place_library

ROOM = SHARED / "places" / "infinigen-dining-seed0" / "scene.blend"
pytestmark = pytest.mark.skipif(not ROOM.is_file(), reason="needs ../shared/places (the Infinigen test room)")


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    root = tmp_path_factory.mktemp("environments")
    env = {"SYNTHACT_ENVIRONMENTS": str(root), "PATH": str(ROOT / ".venv" / "bin") + ":/usr/bin:/bin"}
    run = subprocess.run([sys.executable, "-m", "synthact", "environments", "import", "rooms", str(ROOM),
                          "--license", "BSD-3-Clause", "--attribution", "Infinigen"], env=env, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    return root


def test_the_furnished_room_is_imported_with_its_floor_seats_and_objects(library):
    lib = open_place_library("rooms", library)
    assert [p.room_type for p in lib.places] == ["dining_room"]  # the bare shells of the floor plan are left out
    place = lib.places[0]
    classes = {o.semantic_class for o in place.objects}
    assert {"floor", "wall", "ceiling", "table", "chair", "door", "window", "lamp", "plant"} <= classes
    assert place.floor_z == 0.0 and 2.5 < place.ceiling_z < 3.0  # the floor moved to z = 0
    assert 10 < place.free_area_m2 < place.floor_area_m2 < 20
    assert len(place.seats) == 3 and all(0.4 < s.height_m < 0.6 for s in place.seats)  # the dining chairs
    assert 200_000 < place.triangles < 1_000_000  # simplified once from 2.39M (the plant), the same for both uses
    grid = lib.floor(place)
    table = next(o for o in place.objects if o.semantic_class == "table")
    centre = (np.array(table.bbox_min[:2]) + table.bbox_max[:2]) / 2
    assert 0.6 < grid.lookup(grid.obstacle_top_m, centre, 0.0) < 0.9  # its top, over the floor under it
    assert (lib.scene_path(place)).stat().st_size < 20e6


def test_an_actor_in_the_room_stands_on_free_floor_and_the_furniture_is_annotated(library, registry, tmp_path,
                                                                                   monkeypatch):
    monkeypatch.setenv("SYNTHACT_ENVIRONMENTS", str(library))
    config = BatchConfig.model_validate({
        "batch": {"name": "room-test", "seed": 2},
        "camera": {"fov_deg": 75, "framing": 0.6, "height_m": 1.5, "roll_deg": 0},
        "environment": {"kind": "room", "places": {"library": "rooms"}},
        "motion": {"selection": {"policy": "explicit", "clips": ["walk_forward_slow"]}, "mirror_probability": 0},
        "render": {"resolution": {"width": 64, "height": 64}, "fps": 15, "frames": 4, "samples": 1}})
    spec = SceneSampler.create(config, registry).sample(0)
    assert "in a dining room" in spec.text
    clip = RenderWorker(device="cpu", registry=registry).render(spec, tmp_path)
    stats = json.loads((clip / "stats.json").read_text())
    place = open_place_library("rooms", library).places[0]
    grid = open_place_library("rooms", library).floor(place)
    cam = json.loads((clip / "camera.json").read_text())
    positions = np.array([np.linalg.inv(np.array(m))[:3, 3] for m in cam["world_to_camera"]])
    assert (grid.lookup(grid.room, positions[:, :2], False)).all()  # the camera is inside the room
    assert (positions[:, 2] < place.ceiling_z).all()
    reader = ClipReader.from_dir(clip)
    depth = reader.depth()
    instance = reader.array("segmentation.npz", "instance")
    assert (instance == 1).any(axis=(1, 2)).all()  # the actor is seen in every frame
    assert np.isfinite(depth).mean() > 0.9 and np.nanmax(depth[np.isfinite(depth)]) < 12  # walls all round
    assert "camera_yaw_deg" in stats["placement"]
    feet = reader.array("keypoints.npz", "joints3d_world")[:, 0, 0, :2]  # the pelvis over the clip
    assert (grid.lookup(grid.clearance_m(), feet, 0.0) >= BODY_RADIUS_M - 0.05).all()  # on free floor
