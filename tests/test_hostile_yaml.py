"""Hostile batch configs, as an attacker or a careless script writes them: each is refused by `synthact
validate` and `synthact render` with exit 2 and one line naming the file, line and field, before it costs
anything (time and memory are measured in benchmarks/bench_hostile.py; here: the answer)."""
import subprocess
import sys

import pytest

from conftest import ROOT
from support.hostile import CASES, write_cases


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    return write_cases(tmp_path_factory.mktemp("hostile"))


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("command", ["validate", "render"])
def test_a_hostile_config_gets_one_line_and_exit_2(cases, name, command):
    path, says = cases[name]
    args = [sys.executable, "-m", "synthact", command, str(path)]
    if command == "render":
        args += ["--renderer", "support.test_double:TestDoubleRenderer"]  # nothing may start rendering anyway
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=120)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-2000:]
    assert len(lines) == 1 and lines[0].startswith(str(path)) and says in lines[0], lines
