"""synthact.decoders: shards' compact depth and flow decoded right by a webdataset pipeline that has only NumPy,
OpenCV and this module, from what each sample's JSON says (issue 28, outcome 3)."""
import glob
import json
import subprocess
import sys

import numpy as np
import pytest
import webdataset as wds

from conftest import ROOT
from synthact.clip import ClipReader
from synthact.dataset.pack import PackOptions, pack
from synthact.decoders import DEPTH_MAX_RELATIVE_ERROR, FLOW_MAX_ERROR_PX, decode_sample


@pytest.fixture(scope="module")
def shards(raw, tmp_path_factory):
    root, _ = raw
    out = tmp_path_factory.mktemp("decoders") / "dataset"
    pack(root, out, PackOptions(layout="gata"))
    return root, sorted(glob.glob(str(out / "shards" / "*.tar")))


def test_a_webdataset_pipeline_gets_metres_and_pixels(shards):
    root, urls = shards
    samples = list(wds.WebDataset(urls, shardshuffle=False).map(decode_sample).decode("rgb", partial=True))
    assert samples
    for sample in samples:
        assert not {"depth.png16", "flow_forward.png16", "flow_backward.png16"} & set(sample)  # decoded here
        clip = ClipReader.from_dir(root / "clips" / sample["__key__"])
        depth, flow = clip.depth(), clip.array("flow_forward.png", "flow")
        assert sample["depth"].dtype == np.float32 and sample["depth"].shape == depth.shape
        finite = np.isfinite(depth)
        assert np.array_equal(finite, np.isfinite(sample["depth"]))
        assert np.allclose(sample["depth"][finite], depth[finite], rtol=DEPTH_MAX_RELATIVE_ERROR, atol=0)
        assert sample["flow_forward"].shape == flow.shape == sample["flow_backward"].shape
        valid = np.isfinite(flow)
        assert np.array_equal(valid, np.isfinite(sample["flow_forward"]))
        assert np.allclose(sample["flow_forward"][valid], flow[valid], atol=FLOW_MAX_ERROR_PX)


def test_each_samples_json_says_how_to_decode_its_files(shards):
    _, urls = shards
    sample = next(iter(wds.WebDataset(urls, shardshuffle=False)))
    said = json.loads(sample["json"])["encodings"]
    assert set(said) == {"depth.png16", "flow_forward.png16", "flow_backward.png16"}
    depth = said["depth.png16"]
    assert depth["codec"] == "depth16" and depth["frame_height"] == 48 and "exp" in depth["formula"]
    import cv2  # decoded from the description alone, as another language's reader would
    values = cv2.imdecode(np.frombuffer(sample["depth.png16"], np.uint8), cv2.IMREAD_UNCHANGED).astype(np.float64)
    metres = depth["near_m"] * np.exp((values - 1) * depth["log_step"])
    mine = decode_sample(sample)["depth"].reshape(values.shape)
    ordinary = (values > 0) & (values < 65535)
    assert np.allclose(metres[ordinary], mine[ordinary], rtol=1e-6)


def test_stock_decoders_leave_them_alone_instead_of_misreading_them(shards):
    """webdataset's own "rgb" decoder turns 16-bit depth into 1.0 and flow into 8-bit when the member is a .png;
    as .png16 no stock decoder claims it: the bytes come through untouched, and the same bytes renamed .png
    show what it would have done."""
    _, urls = shards
    raw = next(iter(wds.WebDataset(urls, shardshuffle=False)))
    stock = next(iter(wds.WebDataset(urls, shardshuffle=False).decode("rgb")))
    for member in ("depth.png16", "flow_forward.png16", "flow_backward.png16"):
        assert stock[member] == raw[member] and isinstance(stock[member], bytes)
    assert isinstance(stock["rgb.mp4"], bytes) or stock["rgb.mp4"] is not None
    misread = wds.autodecode.Decoder([wds.autodecode.imagehandler("rgb")]).decode(
        {"__key__": "x", "depth.png": raw["depth.png16"]})["depth.png"]
    assert np.allclose(misread, misread.flat[0]) or misread.max() <= 1.0  # what .png would have given


def test_format_1_shards_still_decode(shards, tmp_path):
    """Shards packed before the rename (members .png) read the same through decode_sample and ClipReader."""
    import tarfile
    _, urls = shards
    old = tmp_path / "old.tar"
    with tarfile.open(urls[0]) as src, tarfile.open(old, "w") as dst:
        for info in src.getmembers():
            data = src.extractfile(info).read()
            info.name = info.name.removesuffix("16") if info.name.endswith(".png16") else info.name
            dst.addfile(info, __import__("io").BytesIO(data))
    new_sample, old_sample = (next(iter(wds.WebDataset([u], shardshuffle=False))) for u in (urls[0], str(old)))
    assert "depth.png" in old_sample and "depth.png16" in new_sample
    a, b = decode_sample(new_sample), decode_sample(old_sample)
    assert np.array_equal(a["depth"], b["depth"], equal_nan=True)
    assert np.array_equal(ClipReader.from_sample(old_sample).depth(), ClipReader.from_sample(new_sample).depth(),
                          equal_nan=True)


def test_the_module_needs_nothing_else_of_synthact():
    loaded = subprocess.run([sys.executable, "-c", "import sys, synthact.decoders; "
                             "print(sorted(m for m in sys.modules if m.startswith(('synthact', 'torch', 'bpy', "
                             "'ray', 'pandas', 'pyarrow'))))"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "['synthact', 'synthact.decoders']"
