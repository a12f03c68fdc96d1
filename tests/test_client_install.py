"""A reader's environment, not the render one (issue 28, outcomes 2 and 3): a second virtual environment with
NumPy 2, the newest pyarrow, Hugging Face `datasets`, webdataset and OpenCV from PyPI, and the synthact wheel
without its (render) dependencies, reads a dataset that this environment packed: `datasets.load_dataset(DIR)`
through the card's `configs:`, and the shards' depth and flow through `synthact.decoders` in webdataset."""
import json
import subprocess
import sys
import textwrap

import pytest

from support.wheel import build_wheel
from synthact.dataset.pack import PackOptions, pack

CLIENT_PACKAGES = ["datasets", "webdataset", "opencv-python-headless", "pillow", "numpy>=2", "pyarrow>=21"]


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("client")
    wheel = build_wheel(tmp / "dist")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    installed = subprocess.run([str(python), "-m", "pip", "install", "-q", *CLIENT_PACKAGES], capture_output=True,
                               text=True, timeout=900)
    assert installed.returncode == 0, installed.stderr[-3000:]
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True,
                   capture_output=True, timeout=300)
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
