import numpy as np
import pytest

from synthact.human.motions import procedural
from synthact.human.motions.motion import MotionError
from synthact.human.motions.quality import motion_quality
from synthact.human.motions.skeleton import JOINT_NAMES, forward_kinematics, mirror_joint_index
from synthact.human.motions.taxonomy import class_names, mirror_name, procedural_classes

CLASSES = procedural.class_names()

# Quality bars for every procedural class (30 fps). A spike is a frame whose rotation exceeds
# 3x its neighbours' by this much (a jump, not a fast but smooth motion).
MAX_SPIKE_DEG = 12.0
MAX_SPEED_DEG_PER_FRAME = 90.0  # 2700 deg/s: a fast throw or swing, but no teleporting limbs
MAX_SKATE_M = 0.02
MAX_FLOAT_M = 0.015
MAX_PENETRATION_M = 0.01


def test_library_has_150_distinct_named_classes():
    names = class_names()
    assert len(names) >= 150
    assert len(set(names)) == len(names)
    assert {"walk_forward_slow", "run_forward", "jump_vertical", "wave_left_high", "clap_fast", "kick_right_front",
            "punch_left_straight", "squat_slow", "sit_down", "stand_up", "bow_deep", "turn_left_180",
            "reach_right_up", "throw_left_overhand", "pick_up_both", "push_both", "pull_both", "stretch_arms_up",
            "jumping_jacks_fast", "dance_step_touch", "walk_and_wave_right"} <= set(names)
    assert sorted(CLASSES) == sorted(names)


def test_mirror_names_are_an_involution_within_the_library():
    names = set(class_names())
    for n in names:
        assert mirror_name(n) in names
        assert mirror_name(mirror_name(n)) == n
    assert mirror_name("wave_left_high") == "wave_right_high"
    assert mirror_name("jumping_jacks_fast") == "jumping_jacks_fast"


@pytest.mark.parametrize("seed", [0, 1])
def test_every_class_is_smooth_planted_and_within_limits(seed):
    failures = []
    for name in CLASSES:
        m = procedural.generate(name, seed)
        q = motion_quality(m)
        checks = {
            "spike": q.max_joint_spike_deg <= MAX_SPIKE_DEG,
            "speed": q.max_joint_speed_deg_per_frame <= MAX_SPEED_DEG_PER_FRAME,
            "skate": q.foot_skate_m <= MAX_SKATE_M,
            "float": q.foot_float_m <= MAX_FLOAT_M,
            "penetration": q.ground_penetration_m <= MAX_PENETRATION_M,
            "limits": q.joint_limit_excess_deg <= 0.5,
            "finite": bool(np.isfinite(m.rotations).all() and np.isfinite(m.root_translation).all()),
        }
        bad = [k for k, ok in checks.items() if not ok]
        if bad:
            failures.append((name, bad, q))
    assert not failures, "\n".join(f"{n}: {b} {q}" for n, b, q in failures)


def test_instances_are_deterministic_and_varied():
    a = procedural.generate("wave_right_high", 5)
    b = procedural.generate("wave_right_high", 5)
    c = procedural.generate("wave_right_high", 6)
    assert np.array_equal(a.rotations, b.rotations) and np.array_equal(a.root_translation, b.root_translation)
    assert np.abs(a.rotations - c.rotations).max() > 0.05


def test_walks_travel_and_jumps_leave_the_ground():
    walk = procedural.generate("walk_forward_fast", 1)
    assert walk.root_translation[-1, 1] - walk.root_translation[0, 1] < -1.5  # forward is -Y
    assert walk.contacts.any(axis=1).all()  # some foot is always on the ground when walking
    jump = procedural.generate("jump_vertical", 1)
    airborne = ~jump.contacts.any(axis=1)
    assert airborne.sum() >= 8
    assert jump.root_translation[airborne, 2].max() > jump.root_translation[0, 2] + 0.1


def test_left_and_right_variants_mirror_each_other():
    left = procedural.generate("wave_left_high", 3)
    _, pos = forward_kinematics(left.skeleton, left.local_matrices(), left.root_translation)
    wrist = JOINT_NAMES.index("left_wrist")
    head = JOINT_NAMES.index("head")
    assert (pos[:, wrist, 2] > pos[:, head, 2]).any()  # the left hand goes above the head
    assert pos[:, wrist, 0].max() > 0  # on the body's left (+X)


def test_mirroring_is_an_involution_and_reflects_the_body():
    m = procedural.generate("kick_left_side", 2)
    mm = m.mirrored()
    assert mm.class_name == "kick_right_side"
    back = mm.mirrored()
    assert back.class_name == m.class_name and back.clip_id == m.clip_id
    assert np.allclose(back.local_matrices(), m.local_matrices(), atol=1e-6)
    assert np.allclose(back.root_translation, m.root_translation)
    _, p = forward_kinematics(m.skeleton, m.local_matrices(), m.root_translation)
    _, q = forward_kinematics(mm.skeleton, mm.local_matrices(), mm.root_translation)
    reflected = p[:, mirror_joint_index()] * [-1, 1, 1]
    assert np.allclose(q, reflected, atol=1e-6)
    assert np.array_equal(mm.contacts, m.contacts[:, ::-1])


def test_resampling_keeps_timing():
    m = procedural.generate("run_forward", 1, fps=60, duration=2.0)
    r = m.resampled(25)
    assert abs(r.duration - m.duration) <= 1 / 25
    slow = m.resampled(30, speed=0.5, num_frames=40)
    assert slow.num_frames == 40
    assert np.allclose(slow.root_translation[20], m.root_translation[20], atol=1e-9)  # t = 20/30*0.5 = 20/60


def test_bad_requests_name_the_problem():
    with pytest.raises(MotionError, match="unknown class 'moonwalk'"):
        procedural.generate("moonwalk")
    with pytest.raises(MotionError, match="must be > 0"):
        procedural.generate("walk_forward_slow", fps=0)


def test_family_of_every_class_is_implemented():
    from synthact.human.motions.procedural import _COMPOSITIONS
    from synthact.human.motions.procedural.actions import ACTIONS
    for c in procedural_classes():
        base = c.name
        for s in ("_left", "_right"):
            base = base.removesuffix(s)
        assert c.family in ACTIONS or base in _COMPOSITIONS, c.name
