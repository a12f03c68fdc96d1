"""Every command meets the inputs users get wrong: a missing input, a folder where a file is expected (or a
file where a folder is), an output that cannot be written, an unknown URI scheme. Each answer is one line on
stderr and exit 2, never a traceback (issue 28, outcome 5)."""
import subprocess
import sys

import pytest

from conftest import ROOT

SMOKE = str(ROOT / "scene_configs" / "smoke.yaml")


@pytest.fixture(scope="module")
def places(raw, tmp_path_factory):
    from synthact.dataset.pack import PackOptions, pack
    tmp = tmp_path_factory.mktemp("sweep")
    batch = raw[0]
    clip = sorted(p for p in (batch / "clips").iterdir() if not p.name.startswith("."))[-1]
    dataset = tmp / "dataset"
    pack(batch, dataset, PackOptions(layout="gata"))
    folder = tmp / "a-folder"
    folder.mkdir()
    afile = tmp / "a-file.txt"
    afile.write_text("not a folder\n")
    return {"BATCH": str(batch), "CLIP": str(clip), "DATASET": str(dataset), "DIR": str(folder),
            "FILE": str(afile), "MISSING": str(tmp / "missing"), "SMOKE": SMOKE}


# (arguments, what the one line must say); DIR, FILE, MISSING, CLIP, DATASET, BATCH, SMOKE are filled in
CASES = [
    (["validate", "MISSING"], "file not found"),
    (["validate", "DIR"], "is a folder, not a YAML file"),
    (["sample", "MISSING"], "file not found"),
    (["render", "MISSING"], "file not found"),
    (["render", "SMOKE", "--out", "bogus://bucket/x"], "unknown storage scheme bogus://"),
    (["render", "SMOKE", "--out", "gs://bucket/x"], "gcsfs"),
    (["render", "SMOKE", "--out", "/proc/synthact-out"], "cannot write the batch's output there"),
    (["render", "SMOKE", "--out", "FILE"], "cannot write the batch's output there"),
    (["render-scene", "MISSING", "--index", "0"], "file not found"),
    (["render-scene", "SMOKE", "--index", "0", "--out", "/proc/synthact-out"], "cannot write"),
    (["preview", "MISSING", "--out", "x.png"], "not found (expected a clip directory)"),
    (["preview", "FILE", "--out", "x.png"], "not a folder (expected a clip directory)"),
    (["preview", "DIR", "--out", "x.png"], "not a complete clip directory"),
    (["preview", "CLIP", "--out", "DIR"], "is a folder; --out names the contact sheet file"),
    (["preview", "CLIP", "--out", "x.jpgz"], "--out must end in .png or .jpg or .jpeg"),
    (["preview", "CLIP", "--out", "/proc/sheet.png"], "cannot write the contact sheet there"),
    (["skeletons", "SMOKE", "--out", "/proc/synthact-skeletons"], "cannot write the skeletons there"),
    (["submit", "SMOKE", "--address", "http://127.0.0.1:9", "--out", "bogus://b/x"], "unknown storage scheme"),
    (["serve", "--port", "99999"], "Invalid value for '--port'"),
    (["serve", "--root", "FILE"], "cannot write the service's batches there"),
    (["pack", "MISSING", "--out", "DIR"], "not found (expected a rendered batch folder)"),
    (["pack", "DATASET", "--out", "DIR"], "this is a packed dataset"),
    (["pack", "BATCH", "--out", "/proc/synthact-dataset"], "cannot write the dataset there"),
    (["report", "MISSING"], "not found (expected a packed dataset)"),
    (["report", "DATASET", "--out", "DIR"], "is a folder; --out names the report file"),
    (["report", "DATASET", "--out", "/proc/r.html"], "cannot write the report there"),
    (["report", "DATASET", "--out", "r.pdf"], "--out must end in .html"),
    (["download", "MISSING", "DIR"], "not found (expected a packed dataset)"),
    (["download", "bogus://x/dataset", "DIR"], "unknown storage scheme bogus://"),
    (["download", "DATASET", "/proc/synthact-download"], "cannot write the download there"),
    (["train", "--shards", "MISSING", "--steps", "1"], "MISSING"),
    (["eval", "MISSING", "--dataset", "DATASET"], "MISSING"),
    (["export", "coco", "MISSING", "DIR"], "not found"),
    (["export", "coco", "DATASET", "/proc/synthact-coco"], "cannot write the export there"),
    (["export", "mmaction", "DATASET", "FILE"], "cannot write the export there"),
    (["motions", "show", "wave_right_high", "--out", "DIR"], "is a folder; --out names the preview file"),
    (["motions", "show", "wave_right_high", "--out", "x.jpgz"], "--out must end in .gif or .png"),
    (["motions", "show", "wave_right_high", "--out", "/proc/m.gif"], "cannot write the preview there"),
    (["motions", "import-library", "sweep", "MISSING"], "MISSING"),
    (["environments", "show", "starter", "--out", "DIR"], "is a folder; --out names the picture file"),
    (["environments", "show", "starter", "--out", "x.jpgz"], "--out must end in .png"),
    (["environments", "import", "sweep", "MISSING"], "MISSING"),
    (["schema", "--out", "/proc/synthact-schema"], "cannot write"),
]


@pytest.mark.parametrize("args,says", CASES, ids=[" ".join(a) for a, _ in CASES])
def test_bad_input_is_one_line_and_exit_2(places, tmp_path, args, says):
    filled = [places.get(a, a) for a in args]
    says = places.get(says, says)
    done = subprocess.run([sys.executable, "-m", "synthact", *filled], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-3000:]
    assert len(lines) == 1 and says in lines[0], lines
