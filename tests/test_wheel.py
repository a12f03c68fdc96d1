"""The wheel alone works (issue 28, outcome 1): built from this checkout and installed into a fresh virtual
environment, with no checkout in sight (another working folder, no PYTHONPATH, no SYNTHACT_ASSETS_DIR), the
commands find their asset manifests, presets, vocabularies and built-in libraries in the package. The fresh
environment borrows the project environment's dependencies through a .pth file (installing bpy, torch and Ray
again would take minutes and gigabytes); the project environment's own editable SynthAct is not among them,
because .pth files of a folder added that way are not run."""
import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from support.wheel import build_wheel


@pytest.fixture(scope="module")
def wheel_env(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wheel")
    wheel = build_wheel(tmp / "dist")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp / "venv")], check=True, timeout=120)
    python = tmp / "venv" / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", str(wheel)],
                   check=True, capture_output=True, timeout=600)
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "project-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SYNTHACT_ASSETS_DIR")}
    work = tmp / "elsewhere"
    work.mkdir()

    def run(*args, timeout=600):
        return subprocess.run([str(tmp / "venv" / "bin" / "synthact"), *args], cwd=work, env=env, capture_output=True,
                              text=True, timeout=timeout)
    run.python, run.wheel, run.work, run.env, run.site = python, wheel, work, env, site
    return run


def test_the_wheel_carries_what_the_package_reads_at_run_time(wheel_env):
    names = set(zipfile.ZipFile(wheel_env.wheel).namelist())
    for needed in ("synthact/assets_manifests/body_models.yaml", "synthact/assets_manifests/hdris.yaml",
                   "synthact/presets/scenes/default.yaml", "synthact/presets/scenes/smoke.yaml",
                   "synthact/presets/train/cpu_small.yaml", "synthact/human/motions/data/cmu-mocap-index-text.txt",
                   "synthact/world/data/places/starter/library.json"):
        assert needed in names, needed
    where = subprocess.run([str(wheel_env.python), "-c", "import synthact; print(synthact.__file__)"],
                           cwd=wheel_env.work, env=wheel_env.env, capture_output=True, text=True, check=True)
    assert where.stdout.strip().startswith(str(wheel_env.site))  # the wheel's copy, not the checkout


def test_commands_work_from_any_folder_with_presets_by_name(wheel_env):
    validated = wheel_env("validate", "smoke", "default", "gata", "synapt", "rooms")
    assert validated.returncode == 0, validated.stderr[-2000:]
    assert validated.stdout.count(": ok (batch") == 5
    sampled = wheel_env("sample", "smoke", "--count", "2")
    assert sampled.returncode == 0, sampled.stderr[-2000:]
    assert [json.loads(line)["index"] for line in sampled.stdout.splitlines()] == [0, 1]
    listed = wheel_env("motions", "list")
    assert listed.returncode == 0 and "walk_forward_slow" in listed.stdout, listed.stderr[-2000:]
    places = wheel_env("environments", "list")
    assert places.returncode == 0 and "starter" in places.stdout, places.stderr[-2000:]
    missing = wheel_env("validate", "nope")
    assert missing.returncode == 2 and missing.stderr.strip() == (
        "nope:1 file not found (a path, or a batch preset: default, gata, rooms, smoke, synapt)")


def test_render_scene_renders_a_preset_from_the_wheel(wheel_env):
    pytest.importorskip("bpy")
    done = wheel_env("render-scene", "smoke", "--index", "0", "--out", "scenes")
    assert done.returncode == 0, done.stderr[-3000:]
    clips = [p for p in (wheel_env.work / "scenes").iterdir() if p.is_dir()]
    assert len(clips) == 1 and (clips[0] / "manifest.json").is_file() and (clips[0] / "rgb.mp4").is_file()
