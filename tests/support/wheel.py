"""The synthact wheel, built from this checkout's files (tests/test_wheel.py, tests/test_client_install.py)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def build_wheel(dist: Path) -> Path:
    """Build it from a copy of the tracked and untracked-but-not-ignored files (not from the checkout itself,
    whose build/ and egg-info leftovers setuptools would reuse); returns the wheel's path."""
    source = dist.parent / "wheel-source"
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / name).is_symlink():
            target.symlink_to(os.readlink(ROOT / name))
        elif (ROOT / name).is_file():
            shutil.copy2(ROOT / name, target)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", str(source), "-w",
                    str(dist)], check=True, capture_output=True, timeout=600)
    return next(dist.glob("synthact-*.whl"))
