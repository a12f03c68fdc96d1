"""Progress people can read (issue 28, outcome 4): on an 80-column terminal the bar shows done/total, the rate
and the ETA with the stage split on a line of its own; piped to a file, timestamped lines at the start, every
SYNTHACT_PROGRESS_EVERY_S seconds, at each failure and at the end, and the runtime's start and the workers'
warm-up say what they are doing. Rendered by the test double (tests/support/test_double.py)."""
import io
import json
import os
import re
import select
import subprocess
import sys

import pytest
from rich.console import Console

from conftest import ROOT
from synthact.progress import Bars

STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d "


def plain(every: float) -> tuple[Bars, io.StringIO]:
    out = io.StringIO()
    return Bars("clips", console=Console(file=out, width=200), interactive=False, every=every), out


def test_a_log_gets_a_line_at_the_start_at_failures_and_at_the_end():
    bars, out = plain(every=3600)
    with bars:
        bars("render x", 0, 4)
        bars("render x", 1, 4)  # not due: no line
        bars("render x", 2, 4, failed=1)  # a failure: a line
        bars("render x", 4, 4, failed=1, detail="rgb 80% writing 20%")
    lines = out.getvalue().splitlines()
    assert len(lines) == 3 and all(re.match(STAMP, line) for line in lines)
    assert lines[0].endswith("render x: 0/4 clips, - clips/min, eta -:--:--")
    assert "render x: 2/4 clips" in lines[1] and lines[1].endswith(", failed 1")
    assert re.search(r"render x: 4/4 clips, .* in 0:00:00, failed 1; rgb 80% writing 20%$", lines[2])


def test_a_log_gets_a_line_every_interval_and_says_when_a_stage_stopped_short():
    bars, out = plain(every=0)
    with bars:
        for done in range(3):
            bars("pack", done, 10, loss=0.25)
    lines = out.getvalue().splitlines()
    assert len(lines) == 4 and "pack: 2/10 clips" in lines[2] and lines[2].endswith("; loss 0.25")
    assert lines[3].endswith("(stopped)")


def test_a_resumed_stage_rates_only_this_runs_work():
    bars, _ = plain(every=3600)
    bars("render x", 50, 100)  # found done by an earlier run
    stage = bars._stages["render x"]
    stage.started -= 60
    bars("render x", 60, 100, skipped=5)  # 5 of them complete on disk, not rendered now
    assert stage.rate() == pytest.approx(5 / 60, rel=0.05) and stage.eta() == pytest.approx(40 / (5 / 60), rel=0.05)


def render_args(tmp_path, name: str) -> list[str]:
    config = tmp_path / "batch.yaml"
    config.write_text(f"batch: {{name: {name}, seed: 5, count: 6}}\n"
                      "render: {resolution: {width: 32, height: 32}, frames: 2, samples: 1, device: cpu}\n")
    return [sys.executable, "-m", "synthact", "render", str(config), "--out", str(tmp_path / "out"), "--workers", "1",
            "--cpus-per-worker", "1", "--renderer", "support.test_double:TestDoubleRenderer",
            "--renderer-options", json.dumps({"seconds": 0.6, "invalid_index": 3})]


def test_on_an_80_column_terminal_the_row_fits_and_the_split_has_its_own_line(tmp_path):
    import fcntl
    import pty
    import struct
    import termios
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    run = subprocess.Popen(render_args(tmp_path, "a_rather_long_batch_name_for_a_bar"), cwd=ROOT, env=env,
                           stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    raw = b""
    while True:
        ready, _, _ = select.select([master], [], [], 1.0)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            raw += chunk
        elif run.poll() is not None:
            break
    assert run.wait(timeout=300) == 1  # one scene refused: exit 1 after the batch
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", raw.decode(errors="replace"))
    lines = [line for line in re.split(r"[\r\n]+", text) if line.strip()]
    rows = [line for line in lines if "━" in line]
    assert rows and all(len(line) <= 80 for line in rows + [line for line in lines if line.startswith("  ")])
    last = rows[-1]
    assert last.startswith("render a_rather_long_…") and " 6/6 " in last and "clips/" in last
    assert re.search(r"in 0:00:\d\d failed 1$", last)
    assert any(line.startswith("  render a_rather_long_batch_name_for_a_bar: rgb") for line in lines)


def test_piped_to_a_file_the_progress_is_timestamped_lines(tmp_path):
    env = {**os.environ, "SYNTHACT_PROGRESS_EVERY_S": "1"}
    done = subprocess.run(render_args(tmp_path, "logged"), cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 1, done.stderr[-2000:]
    lines = done.stderr.splitlines()
    assert "━" not in done.stderr and "\x1b[" not in done.stderr
    said = [line for line in lines if re.match(STAMP, line)]
    assert any(line.endswith("logged: starting the runtime (a Ray started here)") for line in said)
    assert any("starting 1 render worker of 1 CPU: each loads Blender" in line for line in said)
    assert any(re.search(r"logged: workers started in \d+ s; rendering$", line) for line in said)
    failed = [line for line in said if "failed 1" in line]
    assert failed and re.search(r"render logged: [1-5]/6 clips, .*, failed 1", failed[0])  # the failure's own line
    assert re.search(r"render logged: 6/6 clips, [\d.]+ clips/(s|min), in 0:00:\d\d, failed 1; rgb", said[-1])
    assert any("scene 3" in line and "failed: invalid_spec" in line for line in lines)
