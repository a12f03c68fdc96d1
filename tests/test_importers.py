import hashlib
import shutil
import textwrap
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT
from support.mocap import to_amass
from synthact.config.assets import AssetRegistry
from synthact.human.motions import procedural
from synthact.human.motions.importers import BvhError, load_amass, load_bvh, parse_bvh
from synthact.human.motions.library import MotionLibrary
from synthact.human.motions.motion import MotionError
from synthact.human.motions.quality import measure, motion_quality
from synthact.human.motions.retarget import retarget
from synthact.human.motions.skeleton import Skeleton, forward_kinematics
from synthact.spec import MotionSpec

CMU = ROOT.parent / "shared" / "mocap" / "cmu_bvh"
# walking (MotionBuilder and Daz/Poser layouts), running, jumping, basketball, modern dance, 3dsMax layout
CLIPS = ["01_01", "02_01", "09_01", "06_01", "13_11", "05_03", "131_01"]

pytestmark = pytest.mark.skipif(not CMU.is_dir(), reason="shared CMU test clips not present")


def bvh_frames(path: Path) -> tuple[int, float]:
    b = parse_bvh(path.read_text())
    return len(b.frames), b.frame_time


@pytest.mark.parametrize("clip", CLIPS)
def test_cmu_clips_import_with_their_timing_and_retarget_cleanly(clip):
    path = CMU / f"{clip}.bvh"
    motion = load_bvh(path)
    frames, frame_time = bvh_frames(path)
    assert motion.fps == pytest.approx(1 / frame_time)
    assert frames - 5 <= motion.num_frames <= frames  # at most a few calibration frames dropped
    clip30 = motion.resampled(30)
    assert abs(clip30.num_frames / 30 - motion.duration) <= 1 / 30
    body = Skeleton(Skeleton.reference().offsets * [1.0, 1.0, 1.12])  # a taller body
    local, root = retarget(clip30, body)
    scale = body.standing_pelvis_height / clip30.skeleton.standing_pelvis_height
    assert np.allclose(root[:, :2], clip30.root_translation[:, :2] * scale, atol=1e-9)
    assert np.abs(root[:, 2] - clip30.root_translation[:, 2] * scale).max() < 0.12
    q = measure(local, root, clip30.contacts, body, 30)
    assert q.joint_limit_excess_deg < 0.5
    assert q.ground_penetration_m < 0.01
    assert q.foot_skate_m < 0.02
    assert q.foot_float_m < 0.015


def test_walking_clip_walks_forward_on_the_ground():
    m = load_bvh(CMU / "02_01.bvh").resampled(30)
    assert np.linalg.norm(m.root_translation[-1, :2] - m.root_translation[0, :2]) > 1.5
    assert m.contacts.any()
    heights = m.root_translation[:, 2]
    assert 0.75 < np.median(heights) < 1.1  # a standing pelvis height in metres
    q = motion_quality(m)
    assert q.max_joint_spike_deg < 20


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def with_nan(text: str) -> str:
    lines = text.splitlines()
    k = next(i for i, line in enumerate(lines) if line.startswith("Frame Time")) + 2
    values = lines[k].split()
    values[3] = "nan"
    lines[k] = " ".join(values)
    return "\n".join(lines)


def test_malformed_bvh_files_get_clear_errors(tmp_path):
    good = (CMU / "02_01.bvh").read_text()
    cases = {
        "notbvh.bvh": ("hello world", "does not start with HIERARCHY"),
        "truncated.bvh": (good[: len(good) // 2], "expected"),
        "nan.bvh": (with_nan(good), "NaN"),
        "zero.bvh": (good.split("Frames:")[0] + "Frames: 0\nFrame Time: 0.0083\n", "no frames"),
    }
    for name, (text, needle) in cases.items():
        path = write(tmp_path, name, text)
        with pytest.raises(BvhError) as err:
            load_bvh(path)
        assert str(path) in str(err.value)
        assert needle in str(err.value)
    odd = good.replace("lThigh", "lUpperThing").replace("LeftUpLeg", "LeftUpperThing")
    with pytest.raises(BvhError, match="unknown joint set: no BVH joint for left_hip"):
        load_bvh(write(tmp_path, "odd.bvh", odd))


def test_amass_npz_round_trip(tmp_path):
    source = procedural.generate("walk_circle_left_slow", 3, fps=60, duration=2.0)
    loaded = load_amass(to_amass(source, tmp_path / "walk.npz"), class_name="walk")
    assert loaded.fps == 60 and loaded.num_frames == source.num_frames
    assert np.allclose(loaded.local_matrices()[:, 1:], source.local_matrices()[:, 1:], atol=1e-6)
    _, p = forward_kinematics(loaded.skeleton, loaded.local_matrices(), loaded.root_translation)
    _, q = forward_kinematics(source.skeleton, source.local_matrices(), source.root_translation)
    step = lambda x: np.linalg.norm(np.diff(x[:, 0, :2], axis=0), axis=-1)  # noqa: E731
    assert np.allclose(step(p), step(q), atol=1e-6)  # same path, maybe turned and moved
    assert np.allclose(p[:, :, 2], q[:, :, 2], atol=0.02)


def test_bad_amass_files(tmp_path):
    np.savez(tmp_path / "nokeys.npz", foo=np.zeros(3))
    with pytest.raises(MotionError, match="missing array 'poses'"):
        load_amass(tmp_path / "nokeys.npz")
    np.savez(tmp_path / "nan.npz", poses=np.full((4, 156), np.nan), trans=np.zeros((4, 3)), mocap_framerate=30.0)
    with pytest.raises(MotionError, match="NaN"):
        load_amass(tmp_path / "nan.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(MotionError, match="junk.npz: not a readable .npz"):
        load_amass(tmp_path / "junk.npz")


def make_assets(tmp_path: Path, library_yaml: str) -> AssetRegistry:
    assets = tmp_path / "assets"
    shutil.copytree(ROOT / "synthact" / "assets_manifests", assets)
    (assets / "motion_libraries.yaml").write_text(library_yaml)
    return AssetRegistry.load(assets)


def cmu_manifest(path: Path, digest: str) -> str:
    return textwrap.dedent(f"""\
        kind: motion_library
        packs:
          - name: procedural
            version: "1"
            license: Apache-2.0
            source: generated
            builtin: true
          - name: cmu
            version: "2010"
            license: "CMU: no restrictions"
            source: mocap.cs.cmu.edu
            path: {path}
            sha256: {{02_01.bvh: "{digest}"}}
            options:
              format: bvh
              classes: {{walk: ["02_01", "02_02"], jump: ["09_01"]}}
        """)


def test_external_library_from_a_manifest(tmp_path):
    digest = hashlib.sha256((CMU / "02_01.bvh").read_bytes()).hexdigest()
    registry = make_assets(tmp_path, cmu_manifest(CMU, digest))
    lib = MotionLibrary.open("cmu", registry)
    assert lib.classes() == {"walk": ["02_01", "02_02"], "jump": ["09_01"]}
    spec = motion_spec("cmu", "walk", "02_01", speed=1.2, start_fraction=0.5, mirrored=True)
    m = lib.play(spec, fps=30, frames=48)
    assert m.num_frames == 48 and m.fps == 30
    assert m.class_name == "walk" and m.clip_id == "02_01#mirror"
    bad = make_assets(tmp_path / "b", cmu_manifest(CMU, "0" * 64))
    with pytest.raises(MotionError, match="sha256 is"):
        MotionLibrary.open("cmu", bad).load_clip("02_01")
    missing = make_assets(tmp_path / "c", cmu_manifest(tmp_path / "nowhere", digest))
    with pytest.raises(MotionError, match="motion library 'cmu': folder .* not found .*motion_libraries.yaml"):
        MotionLibrary.open("cmu", missing)


def motion_spec(library: str, label: str, clip_id: str | None, **fields) -> MotionSpec:
    body = dict(library=library, class_name=label, label=label, source_class_name=label, description="",
                clip_id=clip_id, instance_seed=2, window_start_s=None, window_length_s=None, min_energy=0.05,
                start_fraction=0.0, speed=1.0, mirrored=False, motion_key="k")
    return MotionSpec(**{**body, **fields})
