import json
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest

from synthact.config import BatchConfig
from synthact.config.assets import AssetRegistry
from synthact.scene import load_batch_config

ROOT = Path(__file__).resolve().parent.parent
# Worker processes (Ray's, and the CLI's in subprocesses) import the test double from tests/support.
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "tests"), os.environ.get("PYTHONPATH")]))
# Motion libraries the user imported are registered there; the tests (and their subprocesses) use their own.
os.environ["SYNTHACT_MOTION_LIBRARIES"] = tempfile.mkdtemp(prefix="synthact-test-libraries-")
SHARED = ROOT.parent / "shared"  # test data shared by the project's checkouts (never needed at run time)
PRESETS = sorted((ROOT / "scene_configs").glob("*.yaml"))


@pytest.fixture(scope="session")
def registry() -> AssetRegistry:
    return AssetRegistry.load(ROOT / "synthact" / "assets_manifests")


@pytest.fixture(scope="session")
def smoke_config(registry) -> BatchConfig:
    return load_batch_config(ROOT / "scene_configs" / "smoke.yaml", registry)


def write(tmp_path: Path, text: str, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.fixture(scope="session")
def raw(registry, tmp_path_factory):
    """Six tiny fabricated clips (tests/support/fabricate.py, no Blender): motions shown twice each (GATA
    pairs), plus one clip with NaN depth. Depth and flow are compact 16-bit PNGs (the default)."""
    from support.fabricate import fabricate_batch
    from synthact.clip import ClipReader, sha256_file
    from synthact.clip.quantise import encode_depth
    cfg = BatchConfig.model_validate({
        "batch": {"name": "packme", "seed": 8},
        "camera": {"distance_m": 3.5, "height_m": 1.4, "yaw_deg": {"min": -40, "max": 40}, "focal_length_mm": 35},
        "environment": {"weather": {"type": "clear"}, "props_density": 0, "time_of_day": {"sun_elevation_deg": 50}},
        "motion": {"selection": {"policy": "balanced", "classes": ["wave_right_high", "squat_slow", "bow_deep"]},
                   "renders_per_motion": 2, "mirror_probability": 0},
        "render": {"resolution": {"width": 48, "height": 48}, "frames": 3, "samples": 1, "device": "cpu"}})
    root = fabricate_batch(cfg, registry, tmp_path_factory.mktemp("raw"), 6)
    bad = sorted((root / "clips").iterdir())[0]
    depth = ClipReader.from_dir(bad).depth().copy()
    depth[1, :4, :4] = np.nan
    (bad / "depth.png").write_bytes(encode_depth(depth))
    manifest = json.loads((bad / "manifest.json").read_text())
    manifest["files"]["depth.png"] = {"bytes": (bad / "depth.png").stat().st_size,
                                      "sha256": sha256_file(bad / "depth.png")}
    (bad / "manifest.json").write_text(json.dumps(manifest))
    return root, bad.name


@pytest.fixture(scope="session")
def library_root(tmp_path_factory) -> Path:
    """A library root holding `mini`, imported with the real importer from five AMASS files made from
    procedural motions (tests/support/mocap.py), so library tests do not need ../shared."""
    from support.mocap import mini_mocap_folder
    from synthact.human.motions.import_library import import_library
    root = tmp_path_factory.mktemp("libraries")
    report = import_library("mini", mini_mocap_folder(tmp_path_factory.mktemp("mini")), root=root)
    assert len(report.library.clips) == 5, report.skipped
    return root


@pytest.fixture(scope="session")
def subjects_library(library_root, tmp_path_factory) -> str:
    """`subjects` beside `mini`: AMASS files with CMU-style subject_trial names (tests/support/mocap.py)."""
    from support.mocap import SUBJECT_TRIALS, subjects_mocap_folder
    from synthact.human.motions.import_library import import_library
    report = import_library("subjects", subjects_mocap_folder(tmp_path_factory.mktemp("subjects")), root=library_root)
    assert len(report.library.clips) == len(SUBJECT_TRIALS), report.skipped
    return "subjects"


@pytest.fixture(scope="session")
def registry_with_libraries(library_root) -> AssetRegistry:
    return AssetRegistry.load(ROOT / "synthact" / "assets_manifests", library_root=library_root)


EVALUABLE = {  # three classes, two renders per motion, 40% of the motions in test
    "batch": {"name": "heldout", "seed": 3},
    "camera": {"distance_m": {"min": 3, "max": 4}, "height_m": {"min": 1.2, "max": 1.6},
               "yaw_deg": {"min": -40, "max": 40}, "focal_length_mm": 35},
    "environment": {"weather": {"type": "clear"}, "props_density": 0},
    "motion": {"selection": {"policy": "balanced", "classes": ["wave_right_high", "squat_slow", "bow_deep"]},
               "renders_per_motion": 2, "mirror_probability": 0},
    "render": {"resolution": {"width": 32, "height": 32}, "frames": 3},
    "splits": {"test": 0.4}}


@pytest.fixture(scope="session")
def evaluable_raw(registry, tmp_path_factory):
    """60 fabricated clips whose test split (22 clips, held-out motions) an evaluation can score."""
    from support.fabricate import fabricate_batch
    return fabricate_batch(BatchConfig.model_validate(EVALUABLE), registry, tmp_path_factory.mktemp("heldout"), 60)


@pytest.fixture(scope="session")
def evaluable(evaluable_raw, tmp_path_factory):
    """evaluable_raw packed (gata layout)."""
    from synthact.dataset.pack import PackOptions, pack
    out = tmp_path_factory.mktemp("heldout-dataset")
    pack(evaluable_raw, out, PackOptions(layout="gata"))
    return out


@pytest.fixture(scope="session")
def sits_library(library_root, tmp_path_factory) -> AssetRegistry:
    """A registry seeing `sits` beside `mini`: recorded sits onto seats of known heights (tests/support/mocap.py)."""
    from support.mocap import SITS, sits_mocap_folder
    from synthact.human.motions.import_library import import_library
    report = import_library("sits", sits_mocap_folder(tmp_path_factory.mktemp("sits")), root=library_root)
    assert len(report.library.clips) == len(SITS), report.skipped
    return AssetRegistry.load(ROOT / "synthact" / "assets_manifests", library_root=library_root)
