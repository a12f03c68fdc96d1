"""Cluster submission against a real Ray head started with `ray start --head` (token auth on)."""
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ray_head(tmp_path_factory):
    ray_tmp = tmp_path_factory.mktemp("ray")
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32),
           "RAY_TMPDIR": str(ray_tmp), "PATH": f"{BIN}:{os.environ['PATH']}"}
    dashboard = free_port()
    ports = [f"--port={free_port()}", f"--dashboard-port={dashboard}",  # own ports: another Ray may be running
             f"--dashboard-agent-listen-port={free_port()}", f"--dashboard-agent-grpc-port={free_port()}",
             f"--runtime-env-agent-port={free_port()}", f"--metrics-export-port={free_port()}"]
    subprocess.run([str(BIN / "ray"), "start", "--head", *ports, "--num-cpus=2", "--disable-usage-stats"], env=env,
                   check=True, capture_output=True, timeout=120)
    try:
        yield f"http://127.0.0.1:{dashboard}", env
    finally:
        # `ray stop` would stop every Ray on the machine: end only the processes of this cluster's session
        import psutil
        for proc in psutil.process_iter(["cmdline"]):
            if any(str(ray_tmp) in part for part in (proc.info["cmdline"] or [])):
                try:
                    proc.kill()
                except psutil.NoSuchProcess:
                    pass


def synthact(env, *args):
    return subprocess.run([sys.executable, "-m", "synthact", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


def test_submit_status_and_logs(ray_head, tmp_path):
    address, env = ray_head
    env = {**env, "SYNTHACT_TOKEN": "the-service-token", "SYNTHACT_PROBE": "forwarded"}
    cfg = tmp_path / "batch.yaml"
    cfg.write_text("batch: {name: cluster, seed: 4, count: 6}\n"
                   "render: {resolution: {width: 32, height: 32}, frames: 2, samples: 1, device: cpu}\n")
    res = synthact(env, "submit", str(cfg), "--address", address, "--out", str(tmp_path / "out"), "--workers", "2",
                   "--renderer", "support.test_double:TestDoubleRenderer", "--renderer-options",
                   json.dumps({"seconds": 0.1}))
    assert res.returncode == 0, res.stderr[-2000:]
    job_id = res.stdout.strip().splitlines()[-1]
    deadline = time.time() + 300
    state = {}
    while time.time() < deadline:
        state = json.loads(synthact(env, "status", job_id, "--address", address).stdout)
        if state["status"] in ("SUCCEEDED", "FAILED", "STOPPED"):
            break
        time.sleep(2)
    assert state["status"] == "SUCCEEDED", state
    assert state["batch"] == "cluster" and state["progress"]["done"] == 6
    clips = list((tmp_path / "out" / "cluster" / "clips").glob("*/manifest.json"))
    assert len(clips) == 6
    log = synthact(env, "logs", job_id, "--address", address)
    assert "6 rendered" in log.stdout
    listed = subprocess.run([str(BIN / "ray"), "job", "list", "--address", address], env=env, capture_output=True,
                            text=True, timeout=120)  # what anyone with the cluster's token sees
    assert listed.returncode == 0 and "SYNTHACT_PROBE" in listed.stdout, listed.stderr[-2000:]
    assert "SYNTHACT_TOKEN" not in listed.stdout and "the-service-token" not in listed.stdout


def test_an_unknown_job_is_one_line(ray_head):
    address, env = ray_head
    for command in ("status", "logs"):
        res = synthact(env, command, "raysubmit_nosuchjob", "--address", address)
        lines = [line for line in res.stderr.splitlines() if line.strip()]
        assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
        assert lines[-1].startswith(f"{address}: ") and "raysubmit_nosuchjob" in lines[-1], lines
