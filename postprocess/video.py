"""Decoding the H.264 clips of a dataset (ffmpeg from the imageio-ffmpeg wheel)."""
from __future__ import annotations

import re
import subprocess
import tempfile

import numpy as np

from render_workers.clipdir import ffmpeg_exe


def decode_mp4(data: bytes) -> np.ndarray:
    """mp4 bytes -> (T, H, W, 3) uint8 RGB."""
    with tempfile.NamedTemporaryFile(suffix=".mp4") as f:
        f.write(data)
        f.flush()
        probe = subprocess.run([ffmpeg_exe(), "-i", f.name], capture_output=True, text=True).stderr
        match = re.search(r"Video:.*?(\d{2,5})x(\d{2,5})", probe)
        if match is None:
            raise ValueError("not a decodable video (no video stream found)")
        w, h = int(match.group(1)), int(match.group(2))
        raw = subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-i", f.name, "-f", "rawvideo", "-pix_fmt",
                              "rgb24", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3)
