"""The Python API as README.md documents it (its "Python API" block runs here on a small dataset), and a plain
webdataset + DataLoader reading the shards without SynthAct's pipeline."""
import io
import json
import re

import numpy as np
import torch
import webdataset as wds

from conftest import ROOT
from synthact.train.loading import collate_clips, decoded


def readme_block(title: str) -> str:
    section = (ROOT / "README.md").read_text().split(f"## {title}\n", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_readme_python_api_runs(evaluable, evaluable_raw, tmp_path, monkeypatch, capsys):
    (tmp_path / "output").mkdir()
    (tmp_path / "output" / "default").symlink_to(evaluable_raw)
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "default").symlink_to(evaluable)
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(compile(readme_block("Python API"), "README.md", "exec"), scope)
    clip, batch = scope["clip"], scope["batch"]
    t, h, w = clip.spec.render.frames, clip.spec.render.height, clip.spec.render.width
    assert scope["rgb"].shape == scope["frames"].shape == (t, h, w, 3) and scope["rgb"].dtype == np.uint8
    assert scope["depth"].shape == (t, h, w) and scope["depth"].dtype == np.float32
    assert scope["flow"].shape == (t, h, w, 2) and scope["world_to_camera"].shape == (t, 4, 4)
    assert batch["rgb"].shape == (4, t, h, w, 3) and batch["depth"].shape == (4, t, h, w)
    assert batch["coco2d"].shape == (4, t, 1, 17, 3) and batch["class_id"].tolist() and batch["actors"].tolist()
    printed = capsys.readouterr().out.splitlines()
    index = __import__("pandas").read_parquet(evaluable / "index")
    assert len(printed) == int((index.split == "test").sum())  # one line per test clip


def test_collate_pads_the_actor_axis():
    one = {"scene_id": "a", "class_id": 1, "rgb": np.zeros((2, 4, 4, 3), np.uint8),
           "coco2d": np.ones((2, 1, 17, 3), np.float32)}
    three = {"scene_id": "b", "class_id": 2, "rgb": np.zeros((2, 4, 4, 3), np.uint8),
             "coco2d": np.ones((2, 3, 17, 3), np.float32)}
    batch = collate_clips([one, three])
    assert batch["coco2d"].shape == (2, 2, 3, 17, 3) and batch["actors"].tolist() == [1, 3]
    assert torch.isnan(batch["coco2d"][0, :, 1:]).all() and not torch.isnan(batch["coco2d"][1]).any()
    assert batch["scene_id"] == ["a", "b"] and batch["class_id"].tolist() == [1, 2]


def test_a_plain_webdataset_dataloader(evaluable):
    """No SynthAct reader: webdataset's own decoders, PyAV for the video, OpenCV for the 16-bit PNGs."""
    import av
    import cv2

    def video(data):
        with av.open(io.BytesIO(data)) as container:
            return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])

    def sample(s):
        depth = cv2.imdecode(np.frombuffer(s["depth.png16"], np.uint8), cv2.IMREAD_UNCHANGED)
        return torch.from_numpy(video(s["rgb.mp4"])), torch.from_numpy(depth.astype(np.int32)), \
            json.loads(s["json"])["class_id"]
    urls = sorted(str(p) for p in (evaluable / "shards").glob("*.tar"))
    loader = torch.utils.data.DataLoader(wds.WebDataset(urls, shardshuffle=False).map(sample), batch_size=5)
    rgb, depth, labels = next(iter(loader))
    assert rgb.shape == (5, 3, 32, 32, 3) and depth.shape == (5, 3 * 32, 32) and labels.shape == (5,)
    # and SynthAct's decoder of the same sample: the same frames, the depth in metres
    first = next(iter(wds.WebDataset(urls, shardshuffle=False)))
    from synthact.clip import ClipReader
    arrays = decoded(ClipReader.from_sample(first), ("rgb", "depth"))
    assert np.array_equal(arrays["rgb"], rgb[0].numpy()) and arrays["depth"].shape == (3, 32, 32)
