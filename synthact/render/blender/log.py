"""Keep Blender's own output (render progress, 'Saved:' lines, C-level warnings) off the terminal.

Blender prints from C, so Python's sys.stdout redirection does not catch it: the file descriptors
themselves are pointed at a log file while Blender works, and errors still surface as exceptions.
"""
from __future__ import annotations

import ctypes
import os
import sys
from contextlib import contextmanager
from pathlib import Path

_libc = ctypes.CDLL(None)


@contextmanager
def blender_output_to(log_path: Path):
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(log_path, "ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            _libc.fflush(None)
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def tail(log_path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(Path(log_path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
