"""A reader's install, not the render one (issue 28, outcomes 2 and 3): a second virtual environment where
`pip install synthact` (the wheel with its own dependencies, from PyPI: NumPy 2, the newest pyarrow; no Blender,
Ray or torch) and Hugging Face `datasets` read a dataset that this environment packed: `datasets.load_dataset(DIR)`
through the card's `configs:`, the shards' depth and flow through `synthact.decoders` in webdataset, and the
command line, which names the extra a render command needs."""
import json
import subprocess
import sys
import textwrap

import pytest

from support.wheel import build_wheel
from synthact.dataset.pack import PackOptions, pack

CLIENT_PACKAGES = ["datasets"]


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("client")
    wheel = build_wheel(tmp / "dist")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    installed = subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel), *CLIENT_PACKAGES],
                               capture_output=True, text=True, timeout=1200)
    assert installed.returncode == 0, installed.stderr[-3000:]
    return python


@pytest.fixture(scope="module")
def dataset(raw, tmp_path_factory):
    root, _ = raw
    out = tmp_path_factory.mktemp("client-data") / "dataset"
    pack(root, out, PackOptions(layout="gata"))
    return out


READ = textwrap.dedent("""
    import glob, json, sys
    import numpy as np, pyarrow, datasets, webdataset as wds
    from synthact.decoders import decode_sample
    folder = sys.argv[1]
    index = datasets.load_dataset(folder)["train"]
    frames = datasets.load_dataset(folder, "frames")["train"]
    samples = list(wds.WebDataset(sorted(glob.glob(folder + "/shards/*.tar")), shardshuffle=False)
                   .map(decode_sample).decode("rgb", partial=True))
    depth = samples[0]["depth"]
    print(json.dumps({"numpy": np.__version__, "pyarrow": pyarrow.__version__, "clips": index.num_rows,
                      "splits": sorted(set(index["split"])), "frame_rows": frames.num_rows,
                      "position": index[0]["param.actor0.position_xy"], "samples": len(samples),
                      "depth": [str(depth.dtype), list(depth.shape), float(np.nanmin(depth[np.isfinite(depth)]))],
                      "flow": [str(samples[0]["flow_forward"].dtype), list(samples[0]["flow_forward"].shape)],
                      "synthact_modules": sorted(m for m in sys.modules if m.startswith("synthact"))}))
""")


def test_a_reader_with_numpy_2_and_hugging_face_reads_a_packed_dataset(client, dataset, tmp_path):
    import pandas as pd
    done = subprocess.run([str(client), "-c", READ, str(dataset)], cwd=tmp_path, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert int(got["numpy"].split(".")[0]) >= 2 and int(got["pyarrow"].split(".")[0]) >= 21
    index = pd.read_parquet(dataset / "index")
    assert got["clips"] == len(index) and got["splits"] == sorted(set(index.split))
    assert got["frame_rows"] == len(pd.read_parquet(dataset / "frames"))
    assert len(got["position"]) == 2 and got["samples"] == len(index)
    frames, height, width = 3, 48, 48
    assert got["depth"][:2] == ["float32", [frames, height, width]] and got["depth"][2] > 0.1  # metres, not levels
    assert got["flow"] == ["float32", [frames, height, width, 2]]
    assert got["synthact_modules"] == ["synthact", "synthact.decoders"]  # nothing of the render side


def test_the_readers_install_has_no_render_side_and_says_which_extra_a_command_needs(client, dataset, tmp_path):
    probe = ("import importlib.util, json; print(json.dumps({m: importlib.util.find_spec(m) is not None "
             "for m in ('bpy', 'ray', 'torch', 'anny', 'numpy', 'pyarrow', 'cv2')}))")
    found = json.loads(subprocess.run([str(client), "-c", probe], capture_output=True, text=True,
                                      timeout=300).stdout)
    assert found == {"bpy": False, "ray": False, "torch": False, "anny": False, "numpy": True, "pyarrow": True,
                     "cv2": True}
    cli = client.parent / "synthact"
    helped = subprocess.run([str(cli), "--help"], capture_output=True, text=True, timeout=300)
    assert helped.returncode == 0 and "render" in helped.stdout
    report = subprocess.run([str(cli), "report", str(dataset), "--out", str(tmp_path / "report.html")],
                            capture_output=True, text=True, timeout=600)
    assert report.returncode == 0, report.stderr[-2000:]
    assert (tmp_path / "report.html").stat().st_size > 1000
    rendered = subprocess.run([str(cli), "render", "smoke", "--n", "1", "--out", str(tmp_path / "out")],
                              capture_output=True, text=True, timeout=600)
    lines = rendered.stderr.strip().splitlines()
    assert rendered.returncode == 2 and len(lines) == 1 and "Traceback" not in rendered.stderr, rendered.stderr
    assert "pip install 'synthact[render]'" in lines[0]
    trained = subprocess.run([str(cli), "train", "cpu_small", "--shards", str(dataset), "--out",
                              str(tmp_path / "run")], capture_output=True, text=True, timeout=600)
    assert trained.returncode == 2 and "pip install 'synthact[train]'" in trained.stderr, trained.stderr
