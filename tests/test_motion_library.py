"""`synthact motions import-library` on the shared CMU trials: labels from CMU's own descriptions, windows,
incremental reruns, bad files, registration, fetching the files over HTTP, and windows rendered end to end."""
import functools
import hashlib
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT, SHARED
from synthact.config import AssetRegistry
from synthact.human.motions.import_library import import_library
from synthact.human.motions.library import MotionLibrary

CMU = SHARED / "mocap" / "cmu_bvh"
pytestmark = pytest.mark.skipif(not CMU.is_dir(), reason="shared CMU test clips not present")

# The groups of ../shared/mocap/cmu_bvh/SOURCE.md, which a person assigned from the same descriptions.
GROUPS = {"walk": ["02_01", "02_02", "03_01", "05_01", "06_01", "07_01", "07_04", "08_04", "08_07", "08_11", "10_04",
                   "12_01", "131_01"],
          "run": ["02_03", "09_01", "09_03", "09_05", "09_07", "09_11"],
          "jump": ["01_01", "02_04", "13_11", "13_32", "13_39", "13_40", "14_07"],
          "basketball": ["06_02", "06_04", "06_06", "06_08", "06_10", "06_11", "06_12", "06_14", "06_15"]}
SMALL = ["02_01", "02_03", "09_01", "13_11", "06_02", "05_03"]  # walk, run, run, jump, basketball, dance


@pytest.fixture(scope="module")
def cmu(tmp_path_factory):
    root = tmp_path_factory.mktemp("libraries")
    return import_library("cmu", CMU, root=root), root


def copy_trials(folder: Path, names=SMALL) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(CMU / f"{name}.bvh", folder / f"{name}.bvh")
    return folder


def synthact(*args, root: Path, cwd=ROOT):
    env = {**os.environ, "SYNTHACT_MOTION_LIBRARIES": str(root)}
    return subprocess.run([sys.executable, "-m", "synthact", *args], cwd=cwd, capture_output=True, text=True, env=env)


def test_every_trial_imports_with_cmus_own_words(cmu):
    report, _ = cmu
    lib = report.library
    assert len(lib.clips) == 49 and report.skipped == [] and report.label_problems == []
    assert lib.labels_from.startswith("CMU description index") and "NSF EIA-0196217" in lib.attribution
    by_id = {c.clip_id: c for c in lib.clips}
    for label, trials in GROUPS.items():
        assert {by_id[t].label for t in trials} == {label}
    assert {c.label for c in lib.clips if c.clip_id.startswith("05_") and c.clip_id != "05_01"} == {"dance"}
    first = by_id["01_01"]
    assert first.description == "playground - forward jumps, turn around" and first.labels == ["jump", "turn"]
    assert first.frames == 2751 and first.fps == pytest.approx(120, rel=1e-4)  # the T-pose frame is dropped
    assert len(first.energy) == len(first.quality_ok) == 229  # 0.1 s bins of its 687 frames at 30 fps
    assert set(first.quality) == {"max_joint_speed_deg_per_frame", "max_joint_spike_deg", "foot_skate_m",
                                  "foot_float_m", "ground_penetration_m", "joint_limit_excess_deg"}


def test_windows_of_the_trials(cmu):
    lib = cmu[0].library
    table = lib.windows(32 / 30, 32 / 30, 0.05)
    by_clip = {c.clip_id: c for c in lib.clips}
    assert len(table.by_clip["01_01"]) >= 18  # a 23 s trial gives many windows, each with its own key
    for w in table.windows:
        assert w.start_s + w.length_s <= by_clip[w.clip_id].duration_s + 1e-6
    # dance trials with joint flips (a joint turning ~160 degrees in one frame) lose the windows around them
    assert table.excluded["quality"] > 0
    glitched = [c for c in lib.clips if c.quality["max_joint_spike_deg"] > 45]
    assert glitched and all("0" in c.quality_ok for c in glitched)
    assert table.excluded["too_short"] == 1  # 09_03, a 1.04 s run, is shorter than one window
    assert sum(len(v) for v in table.by_label.values()) == len(table.windows)


def test_rerun_is_incremental_and_detects_changes(tmp_path):
    folder = copy_trials(tmp_path / "src", SMALL[:3])
    root = tmp_path / "libs"
    first = import_library("lib", folder, root=root)
    assert sorted(first.analysed) == ["02_01.bvh", "02_03.bvh", "09_01.bvh"]
    again = import_library("lib", folder, root=root)
    assert again.analysed == [] and len(again.reused) == 3
    text = (folder / "09_01.bvh").read_text().replace("\n", "\n", 1)
    (folder / "09_01.bvh").write_text(text.replace("Frame Time:", "Frame Time: ", 1) + "\n")  # new bytes
    (folder / "02_03.bvh").unlink()
    shutil.copy(CMU / "13_11.bvh", folder / "13_11.bvh")
    third = import_library("lib", folder, root=root)
    assert sorted(third.analysed) == ["09_01.bvh", "13_11.bvh"] and third.reused == ["02_01.bvh"]
    assert third.removed == ["02_03.bvh"]
    assert [c.clip_id for c in third.library.clips] == ["02_01", "09_01", "13_11"]
    assert third.library.version != first.library.version
    shutil.copy(folder / "02_01.bvh", folder / "walk_copy.bvh")
    fourth = import_library("lib", folder, root=root)
    assert [f for f, _ in fourth.skipped] == ["walk_copy.bvh"] and fourth.analysed == []
    (folder / "02_01.bvh").unlink()  # the copy is no longer a duplicate
    fifth = import_library("lib", folder, root=root)
    assert fifth.analysed == ["walk_copy.bvh"] and fifth.skipped == [] and fifth.removed == ["02_01.bvh"]


def bad_files(folder: Path) -> dict[str, str]:
    """Broken copies of a good trial -> the words their reason must contain."""
    good = (CMU / "02_01.bvh").read_text()
    head, motion = good.split("Frame Time:")
    time_line, *rows = motion.split("\n")
    cells = rows[2].split()
    nan_rows = rows[:2] + [" ".join(cells[:3] + ["nan"] + cells[4:])] + rows[3:]
    cases = {
        "nan.bvh": (head + "Frame Time:" + "\n".join([time_line] + nan_rows), "NaN"),
        "zero.bvh": (good.split("Frames:")[0] + "Frames: 0\nFrame Time: 0.0083\n", "no frames"),
        "channels.bvh": (head + "Frame Time:" + "\n".join([time_line] + rows[:5] + [" ".join(cells[:-1])] + rows[6:]),
                         "frame 6 has 131 values but the HIERARCHY declares 132 channels"),
        "truncated.bvh": (head + "Frame Time:" + "\n".join([time_line] + rows[:100]), "MOTION block is truncated"),
        "copy_of_walk.bvh": (good, "the same content as 02_01.bvh"),
        "junk.npz": ("not a zip", "not a readable .npz"),
    }
    for name, (text, _) in cases.items():
        (folder / name).write_text(text)
    return {name: needle for name, (_, needle) in cases.items()}


def test_bad_files_are_reported_and_left_out(tmp_path):
    folder = copy_trials(tmp_path / "src", ["02_01"])
    expected = bad_files(folder)
    (folder / "labels.csv").write_text("file,label,description\n02_01.bvh,,walk\nmissing.bvh,walk,walk\n")
    res = synthact("motions", "import-library", "messy", str(folder), root=tmp_path / "libs")
    assert res.returncode == 0, res.stderr
    lines = [line for line in res.stderr.strip().splitlines()
             if not re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d import messy: ", line)]  # progress, piped
    assert "Traceback" not in res.stderr and len(lines) == len(expected) + 1
    for name, needle in expected.items():
        assert any(f"{folder / name}" in line and needle in line for line in lines), (name, lines)
    assert any("names missing.bvh, which is not a motion file" in line for line in lines)
    manifest = json.loads((tmp_path / "libs" / "messy" / "library.json").read_text())
    assert [c["file"] for c in manifest["clips"]] == ["02_01.bvh"]
    assert {s["file"] for s in manifest["skipped"]} == set(expected)
    (tmp_path / "empty").mkdir()
    empty = synthact("motions", "import-library", "none", str(tmp_path / "empty"), root=tmp_path / "libs")
    assert empty.returncode == 2 and empty.stderr.strip() == f"{tmp_path / 'empty'}: no motion files (.bvh, .npz) " \
                                                              f"in it or below it"


def test_a_config_names_the_library_right_after_the_import(tmp_path):
    root = tmp_path / "libs"
    res = synthact("motions", "import-library", "cmu", str(copy_trials(tmp_path / "cmu")), root=root)
    assert res.returncode == 0, res.stderr
    listed = synthact("motions", "list", "--library", "cmu", root=root)
    assert listed.returncode == 0
    rows = {line.split()[0]: line.split()[1:] for line in listed.stdout.splitlines()[1:-1]}
    assert rows["run"] == ["2", "2.6", "2"] and rows["walk"] == ["1", "2.8", "2"]  # clips, seconds, windows
    assert "6 clips" in listed.stdout.splitlines()[-1]
    config = tmp_path / "cmu.yaml"
    config.write_text("batch: {name: cmu_batch, seed: 1}\nmotion: {library: cmu, renders_per_motion: 2}\n")
    assert synthact("validate", str(config), root=root).returncode == 0
    sampled = synthact("sample", str(config), "--count", "4", root=root)
    specs = [json.loads(line) for line in sampled.stdout.splitlines()]
    motions = [s["actors"][0]["motion"] for s in specs]
    assert {m["library"] for m in motions} == {"cmu"} and motions[0]["motion_key"] == motions[1]["motion_key"]
    assert all(m["description"] in s["text"] or m["label"] in s["text"] for m, s in zip(motions, specs))
    gif = tmp_path / "window.gif"
    shown = synthact("motions", "show", f"{motions[0]['clip_id']}@{motions[0]['window_start_s']}", "--library",
                     "cmu", "--out", str(gif), root=root)
    assert shown.returncode == 0 and "32 frames" in shown.stdout and gif.stat().st_size > 0
    taken = synthact("motions", "import-library", "procedural", str(tmp_path / "cmu"), root=root)
    assert taken.returncode == 2 and "already declared in" in taken.stderr and "motion_libraries.yaml" in taken.stderr
    removed = synthact("motions", "remove", "cmu", root=root)
    assert removed.returncode == 0 and not (root / "cmu").exists()
    assert synthact("validate", str(config), root=root).returncode == 2


@pytest.fixture
def http_server():
    handler = functools.partial(_QuietHandler, directory=str(CMU))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_fetch_downloads_a_librarys_files(tmp_path, http_server):
    here, there = tmp_path / "here", tmp_path / "there"
    res = synthact("motions", "import-library", "cmu", str(copy_trials(tmp_path / "cmu", SMALL[:3])),
                   "--download-url", http_server, root=here)
    assert res.returncode == 0, res.stderr
    (there / "cmu").mkdir(parents=True)  # another machine: the manifest, without the files
    shutil.copy(here / "cmu" / "library.json", there / "cmu" / "library.json")
    shutil.rmtree(tmp_path / "cmu")
    missing = synthact("motions", "show", "02_01", "--library", "cmu", "--out", str(tmp_path / "x.gif"), root=there)
    assert missing.returncode == 2 and "motions fetch cmu --to DIR" in missing.stderr
    dest = tmp_path / "downloaded"
    dest.mkdir()
    (dest / "09_01.bvh.part").write_bytes((CMU / "09_01.bvh").read_bytes()[:1000])  # an interrupted download
    fetched = synthact("motions", "fetch", "cmu", "--to", str(dest), root=there)
    assert fetched.returncode == 0, fetched.stderr
    for name in SMALL[:3]:
        assert hashlib.sha256((dest / f"{name}.bvh").read_bytes()).digest() == \
            hashlib.sha256((CMU / f"{name}.bvh").read_bytes()).digest()
    assert not list(dest.glob("*.part"))
    lib = MotionLibrary.open("cmu", AssetRegistry.load(ROOT / "synthact" / "assets_manifests", library_root=there))
    assert lib.folder() == dest.resolve() and lib.load_clip("02_01").num_frames > 300
    again = synthact("motions", "fetch", "cmu", "--to", str(dest), root=there)
    assert "0 files downloaded" in again.stdout and "3 already present" in again.stdout
    manifest = json.loads((there / "cmu" / "library.json").read_text())
    manifest["clips"][0]["file"] = "gone.bvh"  # the server has no such file
    (there / "cmu" / "library.json").write_text(json.dumps(manifest))
    gone = synthact("motions", "fetch", "cmu", "--to", str(tmp_path / "elsewhere"), root=there)
    assert gone.returncode == 2  # the last line says why (the lines before: progress, timestamped when piped)
    assert gone.stderr.strip().splitlines()[-1].startswith(f"fetch cmu: {http_server}/gone.bvh: HTTP Error 404")


def test_fetch_sends_a_token_only_to_the_host_the_user_names(tmp_path, monkeypatch):
    seen = []

    class Recording(_QuietHandler):
        def do_GET(self):
            seen.append(self.headers.get("Authorization"))
            super().do_GET()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Recording, directory=str(CMU)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        res = synthact("motions", "import-library", "cmu", str(copy_trials(tmp_path / "cmu", SMALL[:1])),
                       "--download-url", url, root=tmp_path / "libs")
        assert res.returncode == 0, res.stderr
        monkeypatch.setenv("SYNTHACT_TOKEN", "s3cret")  # set for another tool: the manifest's host must not get it
        plain = synthact("motions", "fetch", "cmu", "--to", str(tmp_path / "a"), root=tmp_path / "libs")
        assert plain.returncode == 0, plain.stderr
        assert seen and set(seen) == {None}
        elsewhere = synthact("motions", "fetch", "cmu", "--to", str(tmp_path / "b"), "--send-token-to",
                             "data.example.org", root=tmp_path / "libs")
        assert elsewhere.returncode == 2 and elsewhere.stderr.strip() == (
            f"--send-token-to data.example.org: library 'cmu' downloads from 127.0.0.1:{server.server_address[1]}, "
            f"not from data.example.org; no token was sent")
        seen.clear()
        named = synthact("motions", "fetch", "cmu", "--to", str(tmp_path / "c"), "--send-token-to", "127.0.0.1",
                         root=tmp_path / "libs")
        assert named.returncode == 0, named.stderr
        assert seen and set(seen) == {"Bearer s3cret"}
        argument = synthact("motions", "fetch", "cmu", "--to", str(tmp_path / "d"), "--token", "x",
                            root=tmp_path / "libs")
        assert argument.returncode == 2 and "No such option: --token" in argument.stderr  # `ps` would show it
    finally:
        server.shutdown()


def test_windows_render_end_to_end(tmp_path):
    """import-library, a config naming the library, render two windows twice each, pack, train."""
    pytest.importorskip("bpy")
    from synthact.clip import ClipReader
    from synthact.config.batch import BatchConfig
    from synthact.dataset.pack import PackOptions, pack
    from synthact.dataset.qc import QCThresholds
    from synthact.render.worker import RenderWorker
    from synthact.scene.sampler import SceneSampler
    from synthact.train.train import TrainConfig, train

    root = tmp_path / "libs"
    import_library("cmu", copy_trials(tmp_path / "cmu", ["02_01", "13_11"]), root=root)
    registry = AssetRegistry.load(ROOT / "synthact" / "assets_manifests", library_root=root)
    config = BatchConfig.model_validate({
        "batch": {"name": "e2e", "seed": 3},
        "camera": {"distance_m": 3.0, "height_m": 1.2, "focal_length_mm": 30, "roll_deg": 0, "pitch_offset_deg": 0},
        "environment": {"weather": {"type": "clear"}, "props_density": 0, "time_of_day": {"sun_elevation_deg": 50}},
        "actors": {"placement": {"spread_m": 0}},
        "motion": {"library": "cmu", "selection": {"policy": "balanced"}, "renders_per_motion": 2},
        "render": {"resolution": {"width": 32, "height": 32}, "frames": 4, "samples": 1, "device": "cpu"}})
    worker = RenderWorker(device="cpu", registry=registry)
    sampler = SceneSampler.create(config, registry)
    raw = tmp_path / "raw" / "clips"
    clips = [worker.render(sampler.sample(i), raw) for i in range(4)]
    motions = [ClipReader.from_dir(c).spec.actors[0].motion for c in clips]
    assert motions[0].motion_key == motions[1].motion_key and motions[2].motion_key == motions[3].motion_key
    assert {m.label for m in motions} == {"walk", "jump"} and motions[0].window_start_s is not None
    for clip in clips:  # every window moves: the joints travel between the first and the last frame
        joints = ClipReader.from_dir(clip).keypoints().joints3d_world[:, 0]
        assert np.linalg.norm(joints[-1] - joints[0], axis=-1).mean() > 0.02
    lenient = QCThresholds(min_bbox_height_fraction=0, min_visible_fraction=0, min_visible_keypoints_fraction=0)
    out = tmp_path / "dataset"
    result = pack(tmp_path / "raw", out, PackOptions(layout="gata", thresholds=lenient))
    assert result.packed == 4, result
    import pyarrow.parquet as pq
    index = pq.read_table(out / "index").to_pandas()
    assert set(index.label) == {"jump", "walk"} and all(index.text.str.contains("ground"))
    assert set(index.description) == {"walk", "forward jump"}
    cfg = TrainConfig(objective="supervised", backbone="tsm_r18", frames=2, size=32, batch_size=2, steps=2,
                      workers=0, lr=0.01)
    last = train(cfg, str(out), tmp_path / "run", log=lambda *_: None)
    assert last.is_file() and len((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()) == 2


@pytest.mark.parametrize("name", ["heldout_cmu.yaml", "pretrain_cmu.yaml"])
def test_cmu_experiments_keep_trials_and_windows_apart(cmu, name):
    """The CMU transfer sets share no trial or window between splits (issue 27: 16 windows were in both)."""
    from test_clean_splits import overlaps

    from synthact.scene import load_batch_config
    from synthact.scene.sampler import SceneSampler
    registry = AssetRegistry.load(ROOT / "synthact" / "assets_manifests", library_root=cmu[1])
    cfg = load_batch_config(ROOT / "experiments" / name, registry)
    specs = list(SceneSampler.create(cfg, registry).iter_specs(0, cfg.batch.count))
    found = overlaps(specs)
    assert found["trial"] == found["window"] == found["motion"] == 0, found
    if cfg.splits.enabled:
        assert cfg.splits.motions_by == "trial"  # each CMU subject here did one kind of action
    table = SceneSampler.create(cfg, registry).pools["cmu"].windows
    firsts = [s.actors[0].motion for s in specs if s.index % cfg.motion.renders_per_motion == 0]
    for label in {m.label for m in firsts}:  # no window is drawn twice before its class's windows run out
        windows = [(m.clip_id, m.window_start_s) for m in firsts if m.label == label]
        assert len(set(windows)) == min(len(windows), len(table.by_label[label])), label
