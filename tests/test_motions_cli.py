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


TINY_BVH = """HIERARCHY
ROOT Hips
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  JOINT Spine
  {
    OFFSET 0 10 0
    CHANNELS 3 Zrotation Xrotation Yrotation
    End Site
    {
      OFFSET 0 10 0
    }
  }
}
MOTION
Frames: 2
Frame Time: 0.033333
0 90 0 0 0 0 0 0 0
0 90 0 0 0 0 0 0 0
"""


def test_a_bvh_cut_anywhere_is_a_clear_error_and_the_import_goes_on(tmp_path):
    from synthact.human.motions.importers import BvhError, parse_bvh
    assert len(parse_bvh(TINY_BVH).frames) == 2
    for cut in range(len(TINY_BVH.split()) - 1):  # every truncation point, inside HIERARCHY and after
        with pytest.raises(BvhError):
            parse_bvh(" ".join(TINY_BVH.split()[:cut]), "cut.bvh")
    truncated, junk = tmp_path / "truncated.bvh", tmp_path / "junk.bvh"
    truncated.write_text(TINY_BVH[:TINY_BVH.index("CHANNELS")])  # ends right after the root's OFFSET
    junk.write_text("not a bvh")
    res = synthact("import-bvh", str(truncated), str(junk))
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    assert f"FAIL {truncated}: unexpected end of file" in res.stderr
    assert f"FAIL {junk}: does not start with HIERARCHY" in res.stderr and "2 of 2 files failed" in res.stderr
