"""Sitting actions in places: the sampler gives a sitting actor a seat (and prefers places that have one), the
procedural sit is made for the seat's height, and the renderer puts the seated pelvis on the seat facing its way."""
import math

import numpy as np
import pytest

from support.mocap import SITS
from support.places import fabricate_library
from synthact.config.batch import BatchConfig
from synthact.human.motions import procedural
from synthact.human.motions.library import MotionLibrary
from synthact.human.motions.procedural.actions.whole_body import FLOOR_SIT_PELVIS_M, SEATED_PELVIS_M
from synthact.human.motions.rotations import rot_z
from synthact.human.motions.skeleton import J, forward_kinematics
from synthact.render.places import Room, fit_paths, seat_gap, seated_pose
from synthact.scene.places import SEAT_MATCH_M
from synthact.scene.sampler import SceneSampler
from synthact.spec import MotionSpec, SeatSpec
from synthact.world.places import FloorGrid, open_place_library


@pytest.fixture
def places(tmp_path, monkeypatch):
    fabricate_library(tmp_path, "rooms", places=(("bare", "dining_room"), ("seated", "living_room")),
                      seated=("seated",))
    monkeypatch.setenv("SYNTHACT_ENVIRONMENTS", str(tmp_path))
    return tmp_path


def sampler(registry, clips, kind="room", count=1):
    config = BatchConfig.model_validate({
        "batch": {"name": "sitting", "seed": 5},
        "environment": {"kind": kind, **({"places": {"library": "rooms"}} if kind == "room" else {})},
        "actors": {"count": count},
        "motion": {"selection": {"policy": "explicit", "clips": clips}, "mirror_probability": 0},
        "render": {"resolution": {"width": 64, "height": 64}, "fps": 15, "frames": 8}})
    return SceneSampler.create(config, registry)


def joints(motion) -> np.ndarray:
    return forward_kinematics(motion.skeleton, motion.local_matrices(), motion.root_translation)[1]


@pytest.mark.parametrize("height", [0.42, 0.6])
def test_the_procedural_sit_is_made_for_the_seat_and_keeps_the_feet_planted(height):
    seated = joints(procedural.generate("sit_down", 4, seat_height_m=height))
    assert seated[-1, J["pelvis"], 2] == pytest.approx(height + SEATED_PELVIS_M, abs=0.01)
    for ankle in ("left_ankle", "right_ankle"):
        assert np.ptp(seated[:, J[ankle], :2], axis=0).max() < 0.03  # the feet stay where they stood
    floor = joints(procedural.generate("sit_down", 4))
    assert floor[-1, J["pelvis"], 2] == pytest.approx(FLOOR_SIT_PELVIS_M, abs=0.01)


def test_a_sitting_actor_gets_the_seat_of_a_place_that_has_one(places, registry):
    s = sampler(registry, ["sit_down", "sit_down_then_stand_up"])
    chair = open_place_library("rooms").place("seated").seats[0]
    for index in range(6):
        spec = s.sample(index)
        actor = spec.actors[0]
        assert spec.environment.place.place_id == "seated"  # the bare room has no seat
        assert actor.seat == SeatSpec("chair", tuple(chair.position_xy), chair.facing_deg, chair.height_m)
        assert actor.position_xy == actor.seat.position_xy and actor.facing_deg == chair.facing_deg
        assert ", on a chair;" in spec.text and "beside a chair" not in spec.text


def test_standing_actions_get_no_seat_and_outdoor_sits_a_bench_built_for_them(places, registry):
    rooms = {sampler(registry, ["walk_forward_slow"]).sample(i).environment.place.place_id for i in range(12)}
    assert rooms == {"bare", "seated"}  # a standing action goes to any place
    assert all(a.seat is None for i in range(6) for a in sampler(registry, ["walk_forward_slow"]).sample(i).actors)
    for index in range(6):
        outdoors = sampler(registry, ["sit_down"], kind="outdoor").sample(index)
        actor = outdoors.actors[0]
        assert actor.seat.built and actor.seat.kind == "bench" and 0.4 <= actor.seat.height_m <= 0.5
        assert actor.seat.position_xy == actor.position_xy and actor.seat.facing_deg == actor.facing_deg
        assert ", on a bench;" in outdoors.text


def test_with_more_sitters_than_seats_the_others_stand_near_the_seated_one(places, registry):
    s = sampler(registry, ["sit_down", "wave_right_high"], count=2)
    spec = s.sample(0)
    seated, standing = spec.actors
    assert seated.seat is not None and standing.seat is None
    assert 0.3 < math.dist(seated.position_xy, standing.position_xy) < 3.5


@pytest.mark.parametrize("facing", [0.0, 90.0, -135.0])
def test_the_seated_pelvis_lands_on_the_seat_facing_its_way(facing):
    raw = joints(procedural.generate("sit_down", 2, seat_height_m=0.45))
    seat = SeatSpec("chair", (4.0, -2.0), facing, 0.45)
    xy, turn = seated_pose(raw, seat)
    placed = raw @ rot_z(np.array(math.radians(turn))).T + [xy[0], xy[1], 0.0]
    k = int(np.argmin(placed[:, J["pelvis"], 2]))
    assert np.allclose(placed[k, J["pelvis"], :2], seat.position_xy, atol=1e-6)
    left = placed[k, J["left_hip"], :2] - placed[k, J["right_hip"], :2]
    a = math.radians(facing)
    forward = np.array([math.sin(a), -math.cos(a)])  # the actors' facing convention
    assert np.dot(np.array([left[1], -left[0]]) / np.linalg.norm(left), forward) > 0.999
    assert seat_gap(placed, seat, 1.0) == pytest.approx(0.0, abs=0.01)
    assert seat_gap(placed, SeatSpec("chair", (0, 0), 0, 0.3), 1.0) == pytest.approx(0.15, abs=0.01)


def test_a_seated_actor_keeps_its_spot_and_the_others_keep_their_distance(places):
    library = open_place_library("rooms")
    room = Room.of(library.floor(library.place("seated")), 2.8)
    seated = np.tile([3.0, 1.25, 0.9], (5, 1, 1))  # on the chair: no free floor there
    near = np.tile([3.2, 0.9, 0.9], (5, 1, 1))
    offsets = fit_paths(room, [seated, near], fixed=[True, False])
    assert np.allclose(offsets[0], 0.0)
    assert np.linalg.norm(near[0, 0, :2] + offsets[1] - seated[0, 0, :2]) >= 0.6



def test_a_lying_body_is_moved_until_its_head_and_feet_are_over_free_floor_too():
    """The root alone would fit where a lying body's head lies under a sofa: every low joint needs free floor."""
    room_cells = np.ones((60, 60), bool)  # 6 x 6 m, 0.1 m cells
    top = np.zeros((60, 60), np.float32)
    top[25:35, 36:46] = 0.45  # a sofa: x 3.6-4.6, y 2.5-3.5
    room = Room.of(FloorGrid((0.0, 0.0), 0.1, room_cells, top), 2.8)
    along = np.linspace(-0.85, 0.85, 9)  # head to feet along x, 0.15 m above the floor, the root in the middle
    lying = np.stack([np.array([0.0, 0.0, 0.0]) + [3.0, 3.0, 0.0]] + [[3.0 + d, 3.0, 0.15] for d in along])
    lying[0, 2] = 0.12
    body = np.tile(lying, (4, 1, 1))
    standing = body.copy()
    standing[:, 1:, 2] = 1.0  # the same xy held up high (arms over a table): only the root counts
    assert np.allclose(fit_paths(room, [standing])[0], 0.0)
    shift = fit_paths(room, [body])[0]
    assert np.linalg.norm(shift) > 0
    moved = body[0, :, :2] + shift
    assert (room.grid.lookup(room.clearance, moved[1:], 0.0) >= 0.1).all()
    assert room.grid.lookup(room.clearance, moved[:1], 0.0)[0] >= 0.3


def recorded(library, clip_id, start_s, length_s=1.0) -> MotionSpec:
    return MotionSpec(library, "sit_down", "sit_down", "sit_down", "", clip_id, 0, start_s, length_s, 0.0, 0.0, 1.0,
                      False, "")


def test_a_recorded_sit_knows_the_height_it_sat_at(sits_library):
    library = MotionLibrary.open("sits", sits_library)
    for clip_id, seat_m in SITS.items():
        record = next(c for c in library.manifest.clips if c.clip_id == clip_id)
        lowest = int(np.argmin(record.pelvis_m)) * 0.1
        seating = [library.seating(recorded("sits", clip_id, start)) for start in np.arange(0.0, 4.0, 0.25)]
        assert not seating[0].seated  # it stands for the first second
        sat = library.seating(recorded("sits", clip_id, lowest - 0.5))
        if seat_m is None:  # on the floor, which holds it: no seat
            assert not sat.seated
        else:
            assert sat.seated and sat.height_m == pytest.approx(seat_m, abs=0.02)
            assert all(s.height_m >= seat_m - 0.02 for s in seating if s.seated)  # windows of the descent: higher
    walk = MotionSpec("sits", "walk", "walk", "walk", "", "sit_stool", 0, 2.0, 1.0, 0.0, 0.0, 1.0, False, "")
    assert not library.seating(walk).seated  # sitting is a label's


def test_a_recorded_sit_gets_a_seat_of_its_height_or_a_stool_built_for_it(tmp_path, monkeypatch, sits_library):
    fabricate_library(tmp_path, "rooms", places=(("low", "dining_room"), ("high", "kitchen")), seated=("low", "high"),
                      seat_heights={"high": 0.62})
    fabricate_library(tmp_path, "lows", places=(("low", "dining_room"),), seated=("low",))
    monkeypatch.setenv("SYNTHACT_ENVIRONMENTS", str(tmp_path))
    library = MotionLibrary.open("sits", sits_library)
    seen = set()
    for places in ("rooms", "lows"):
        config = BatchConfig.model_validate({
            "batch": {"name": "recorded-sits", "seed": 2},
            "environment": {"kind": "room", "places": {"library": places}},
            "motion": {"library": "sits", "mirror_probability": 0},
            "render": {"resolution": {"width": 64, "height": 64}, "fps": 15, "frames": 16}})
        s = SceneSampler.create(config, sits_library)
        for index in range(40):
            spec = s.sample(index)
            actor, seating = spec.actors[0], library.seating(spec.actors[0].motion)
            if not seating.seated:
                assert actor.seat is None
                continue
            if actor.seat.built:  # no seat of any place is within SEAT_MATCH_M of the recorded one
                assert actor.seat.kind == "stool" and actor.seat.height_m == pytest.approx(seating.height_m)
                assert places == "lows" or seating.height_m > 0.62 + SEAT_MATCH_M
            else:
                assert abs(actor.seat.height_m - seating.height_m) <= SEAT_MATCH_M
                assert spec.environment.place.place_id == ("high" if actor.seat.height_m > 0.5 else "low")
            seen.add((places, actor.seat.built, actor.seat.height_m > 0.5))
    assert {("rooms", False, True), ("rooms", False, False), ("lows", True, True)} <= seen


def test_outdoors_a_recorded_sit_gets_a_seat_built_at_its_height_and_a_floor_sit_none(sits_library):
    config = BatchConfig.model_validate({
        "batch": {"name": "recorded-sits", "seed": 2},
        "motion": {"library": "sits", "mirror_probability": 0},
        "render": {"resolution": {"width": 64, "height": 64}, "fps": 15, "frames": 16}})
    s, library = SceneSampler.create(config, sits_library), MotionLibrary.open("sits", sits_library)
    kinds = set()
    for index in range(30):
        actor = s.sample(index).actors[0]
        seating = library.seating(actor.motion)
        assert (actor.seat is not None) == seating.seated
        if actor.seat is not None:
            assert actor.seat.built and actor.seat.height_m == pytest.approx(seating.height_m)
            kinds.add(actor.seat.kind)
    assert kinds == {"bench", "stool"}  # the chair's height on a bench, the high stool's on a stool


def test_a_recorded_lie_on_something_raised_or_a_lean_on_something_is_not_sampled(tmp_path):
    """Lying goes on the floor, which holds it; a lie whose pelvis stays raised (a bed as recorded) and a lean on
    or against something (the source says so) would rest on air in a scene: their windows are left out, counted
    as `unsupported`. A lean without a support is sampled. The pelvis heights come from procedural sits on the
    floor (0.21 m) and on a 0.45 m seat, imported with the real importer."""
    from support.mocap import labelled_folder
    from synthact.config import AssetRegistry
    from synthact.human.motions.import_library import import_library
    folder = labelled_folder(tmp_path / "src", {
        "floor_lie": (procedural.generate("sit_down", 1, fps=30, duration=4.0), "", "lie down on the floor"),
        "bed_lie": (procedural.generate("sit_down", 2, fps=30, duration=4.0, seat_height_m=0.45), "",
                    "lying down on a bed"),
        "stool_lean": (procedural.generate("walk_forward_slow", 3, fps=30, duration=4.0), "",
                       "leans with hands on high stool"),
        "free_lean": (procedural.generate("walk_forward_slow", 4, fps=30, duration=4.0), "", "lean forward, reach for"),
    })
    import_library("lying", folder, root=tmp_path / "libs")
    library = MotionLibrary.open("lying", AssetRegistry.load(library_root=tmp_path / "libs"))
    assert {c.clip_id: c.label for c in library.manifest.clips} == {
        "floor_lie": "lie_down", "bed_lie": "lie_down", "stool_lean": "lean", "free_lean": "lean"}
    table = library.window_table(1.0, 0.5, 0.0)
    kept = {clip: len(ws) for clip, ws in table.by_clip.items()}
    assert set(kept) == {"floor_lie", "bed_lie", "free_lean"} and kept["free_lean"] == 7
    assert kept["floor_lie"] == 7  # a lie that reaches the floor, the way down included
    assert kept["bed_lie"] < 7  # only the standing before the body lowers onto the bed
    assert table.excluded["unsupported"] == 7 + 7 - kept["bed_lie"]
