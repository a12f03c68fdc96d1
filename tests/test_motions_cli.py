import subprocess
import sys

import pytest
from PIL import Image

from conftest import ROOT

CMU = ROOT.parent / "shared" / "mocap" / "cmu_bvh"


def synthact(*args):
    return subprocess.run([sys.executable, "-m", "synthact", "motions", *args], cwd=ROOT,
                          capture_output=True, text=True)


def test_list_shows_every_class():
    res = synthact("list")
    assert res.returncode == 0
    lines = res.stdout.strip().splitlines()
    assert lines[-1].startswith("181 classes in library 'procedural'")
    assert any(line.startswith("wave_left_high") for line in lines)
    missing = synthact("list", "--library", "cmu")
    assert missing.returncode == 2 and "motion_libraries.yaml" in missing.stderr


def test_show_writes_an_animated_gif_and_a_filmstrip(tmp_path):
    gif = tmp_path / "wave.gif"
    res = synthact("show", "wave_left_high", "--out", str(gif), "--seed", "3")
    assert res.returncode == 0, res.stderr
    with Image.open(gif) as im:
        assert im.n_frames == 96 and im.size == (256, 256)
    png = tmp_path / "kick.png"
    assert synthact("show", "kick_right_side", "--out", str(png), "--mirror").returncode == 0
    with Image.open(png) as im:
        assert im.size[0] > im.size[1]
    bad = synthact("show", "moonwalk", "--out", str(tmp_path / "x.gif"))
    assert bad.returncode == 2 and "unknown class 'moonwalk'" in bad.stderr


@pytest.mark.skipif(not CMU.is_dir(), reason="shared CMU test clips not present")
def test_import_bvh_reports_and_fails_on_bad_files(tmp_path):
    junk = tmp_path / "junk.bvh"
    junk.write_text("not a bvh")
    res = synthact("import-bvh", str(CMU / "02_01.bvh"), str(junk))
    assert res.returncode == 2
    assert "ok   " in res.stdout and "120 fps" in res.stdout and "foot skate" in res.stdout
    assert f"FAIL {junk}: does not start with HIERARCHY" in res.stderr
