import time

import pytest
import ray
from fastapi.testclient import TestClient

from support import test_double
from synthact.config.yaml_source import MAX_NODES
from synthact.dispatch import DispatchOptions, Resources
from synthact.dispatch.service import create_app

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
GOOD = ("batch: {name: team, seed: 1, count: 4}\n"
        "render: {resolution: {width: 32, height: 32}, frames: 2, samples: 1, device: cpu}\n")


@pytest.fixture(scope="module")
def client(registry, tmp_path_factory):
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    root = tmp_path_factory.mktemp("service")
    options = DispatchOptions(resources=Resources(workers=2, cpus_per_worker=1), renderer=test_double.factory())
    with TestClient(create_app(root, TOKEN, registry, options, max_body=4096)) as c:
        c.root = root
        yield c
    ray.shutdown()


def test_every_request_needs_the_token(client):
    assert client.get("/batches").status_code == 401
    assert client.get("/batches", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.post("/batches", content=GOOD).status_code == 401
    assert client.get("/batches", headers=AUTH).status_code == 200


def test_malformed_batches_get_422_with_paths_and_lines(client):
    bad = "batch: {name: team2}\ncamera:\n  distance_m: {min: -1, max: 3}\n  yaww_deg: 3\n"
    res = client.post("/batches", content=bad, headers=AUTH)
    assert res.status_code == 422
    problems = res.json()["problems"]
    assert {"line": 3, "path": "camera.distance_m.min", "message": "must be > 0, got -1"} in \
        [{k: p[k] for k in ("line", "path", "message")} for p in problems]
    assert any(p["path"] == "camera.yaww_deg" and p["line"] == 4 for p in problems)
    broken = client.post("/batches", content="batch: [unclosed\n", headers=AUTH)
    assert broken.status_code == 422 and broken.json()["problems"][0]["line"] >= 1
    unsafe = client.post("/batches", content="batch: !!python/object/apply:os.system [ls]\n", headers=AUTH)
    assert unsafe.status_code == 422


def test_request_size_is_capped(client):
    res = client.post("/batches", content=GOOD + "#" * 5000, headers=AUTH)
    assert res.status_code == 413


def test_submit_render_list_and_download(client):
    res = client.post("/batches", content=GOOD, headers=AUTH)
    assert res.status_code == 202 and res.json()["scenes"] == 4
    deadline = time.time() + 60
    while time.time() < deadline:
        state = client.get("/batches/team", headers=AUTH).json()
        if not state["rendering"] and state["done"] == 4:
            break
        time.sleep(0.5)
    assert state["done"] == 4 and state["failed"] == 0
    files = [f["path"] for f in client.get("/batches/team/files", headers=AUTH).json()["files"]]
    manifest = next(p for p in files if p.endswith("manifest.json"))
    got = client.get(f"/batches/team/files/{manifest}", headers=AUTH)
    assert got.status_code == 200 and "sha256" in got.text
    assert client.get("/batches", headers=AUTH).json()["batches"] == ["team"]


def test_paths_cannot_leave_the_batch(client):
    (client.root / "secret.txt").write_text("no")
    for path in ("../secret.txt", "..%2Fsecret.txt", "clips/../../secret.txt"):
        res = client.get(f"/batches/team/files/{path}", headers=AUTH)
        assert res.status_code in (400, 404), path
        assert "no" != res.text
    assert client.get("/batches/..%2F..%2Fetc/files", headers=AUTH).status_code in (400, 404)
    assert client.get("/batches/nope", headers=AUTH).status_code == 404


# --- hostile input ------------------------------------------------------------------------------------------

BOMB = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(  # 9**9 values once expanded
    f"{n}: &{n} [{','.join(['*' + p] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi"))


def problems_of(res) -> list[str]:
    assert res.status_code == 422, res.text
    return [p["text"] for p in res.json()["problems"]]


def test_an_alias_bomb_and_deep_nesting_get_422_at_once(client):
    assert len(BOMB) < 360
    bomb = problems_of(client.post("/batches", content="batch: {name: bomb}\nx:\n" + "".join(
        "  " + line + "\n" for line in BOMB.splitlines()), headers=AUTH))
    assert bomb == [f"request:7 more than {MAX_NODES} values once aliases are expanded"]
    deep = problems_of(client.post("/batches", content="batch: {name: deep}\ncamera: " + "[" * 1000 + "]" * 1000,
                                   headers=AUTH))
    assert deep == ["request:2 nested deeper than 64 levels"]
    assert client.get("/batches/bomb", headers=AUTH).status_code == 404  # nothing was created


def test_work_beyond_the_limits_is_refused_with_the_field(client):
    huge = ("batch: {name: huge, count: 1000000000}\n"
            "render: {resolution: {width: 8192, height: 8192}, frames: 10000, samples: 4096, device: cpu}\n")
    found = problems_of(client.post("/batches", content=huge, headers=AUTH))
    assert found[0] == "request:1 batch.count: 1000000000 clips is more than this service takes (100000 per batch)"
    assert found[1].startswith("request:2 render: 8192x8192 pixels x 10000 frames x 4096 samples = 2.75e+15 per clip")
    assert client.get("/batches/huge", headers=AUTH).status_code == 404


def test_a_bad_content_length_is_a_400(client):
    assert client.post("/batches", content=GOOD, headers={**AUTH, "content-length": "x"}).status_code == 400


def test_a_check_past_its_time_budget_is_ended_and_others_are_answered_meanwhile(registry, tmp_path):
    """Configs are checked in a process of their own: one that runs past the budget gets a 422 and its process
    is ended (it stops using the CPU), the service answers other requests meanwhile, and the next config is
    checked by a fresh process."""
    import threading
    import urllib.error
    import urllib.request

    import psutil

    from support.http import serve
    from synthact.dispatch import service
    limits = service.ServiceLimits(parse_seconds=10)
    app = create_app(tmp_path, TOKEN, registry, limits=limits)
    flat = ("batch: {name: slow, count: 2}\nx: [" + ",".join(["1"] * 120_000) + "]\n").encode()
    answers = {}

    def post(body):
        request = urllib.request.Request(f"{base}/batches", data=body, headers=AUTH, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=60) as res:
                return res.status, res.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def checkers() -> set:
        return {p for p in psutil.Process().children(recursive=True) if "multiprocessing" in " ".join(p.cmdline())
                and "resource_tracker" not in " ".join(p.cmdline())}

    before = checkers()  # other tests' services
    base, stop = serve(app)
    try:
        assert post(GOOD.replace("team", "warm").encode())[0] == 202
        mine = list(checkers() - before)
        assert len(mine) == 1  # this service's checker
        object.__setattr__(limits, "parse_seconds", 0.005)  # too short for any check of this document

        def slow():
            answers["post"] = post(flat)
        poster = threading.Thread(target=slow)
        poster.start()
        with urllib.request.urlopen(urllib.request.Request(f"{base}/batches", headers=AUTH), timeout=10) as res:
            answers["get"] = res.status
        poster.join(timeout=30)
        assert answers["get"] == 200
        assert answers["post"][0] == 422 and "took longer than 0.005 s to validate" in answers["post"][1]
        mine[0].wait(timeout=10)  # ended, not left running
        object.__setattr__(limits, "parse_seconds", 10)
        status, text = post(flat)
        assert status == 422 and f"more than {MAX_NODES} values" in text  # a fresh checker answers
    finally:
        stop()


# --- one manager per batch, queue, cancel -------------------------------------------------------------------


@pytest.fixture()
def queued(registry, tmp_path):
    """A service on its own root that renders one batch at a time, slowly (0.5 s a scene)."""
    from synthact.dispatch.service import ServiceLimits
    options = DispatchOptions(resources=Resources(workers=1, cpus_per_worker=1),
                              renderer=test_double.factory(seconds=0.5))
    app = create_app(tmp_path, TOKEN, registry, options, limits=ServiceLimits(max_running=1, max_queued=1))
    with TestClient(app) as c:
        c.root = tmp_path
        yield c


def batch_yaml(name: str, count: int, seed: int = 1) -> str:
    return (f"batch: {{name: {name}, seed: {seed}, count: {count}}}\n"
            "render: {resolution: {width: 32, height: 32}, frames: 2, samples: 1, device: cpu}\n")


def wait_for(c, name: str, condition, deadline_s: float = 60) -> dict:
    deadline = time.time() + deadline_s
    while time.time() < deadline:
        state = c.get(f"/batches/{name}", headers=AUTH).json()
        if condition(state):
            return state
        time.sleep(0.2)
    raise AssertionError(state)


def test_batches_queue_and_are_cancelled(queued):
    assert queued.post("/batches", content=batch_yaml("first", 40), headers=AUTH).json()["state"] == "running"
    assert queued.post("/batches", content=batch_yaml("second", 2), headers=AUTH).json()["state"] == "queued"
    full = queued.post("/batches", content=batch_yaml("third", 2), headers=AUTH)
    assert full.status_code == 429
    again = queued.post("/batches", content=batch_yaml("first", 40), headers=AUTH)
    assert again.status_code == 409 and "already running" in again.json()["detail"]
    assert queued.get("/batches/second", headers=AUTH).json()["state"] == "queued"
    assert queued.post("/batches/second/cancel", headers=AUTH).json()["state"] == "cancelled"
    wait_for(queued, "first", lambda s: s["done"] >= 2)
    assert queued.post("/batches/first/cancel", headers=AUTH).json()["state"] == "cancelling"
    state = wait_for(queued, "first", lambda s: s["state"] == "cancelled")
    assert state["reason"] == "cancelled" and state["finished"] is False and state["done"] < 40, state
    assert state["retries"] == 0 and state["failed"] == 0
    # ledger = disk: complete clips (a clip cut off while it was finishing leaves only a hidden temp folder)
    assert state["done"] == len([m for m in (queued.root / "first" / "clips").glob("*/manifest.json")
                                 if not m.parent.name.startswith(".")])
    assert queued.post("/batches/first/cancel", headers=AUTH).status_code == 409  # nothing left to cancel
    assert not list((queued.root / "second").glob("clips/*"))  # never started


def test_a_name_with_another_config_or_a_cli_manager_gets_409(queued):
    import json
    import os

    from synthact.locks import FolderLock
    assert queued.post("/batches", content=batch_yaml("mine", 1), headers=AUTH).status_code == 202
    wait_for(queued, "mine", lambda s: s["state"] == "finished" and s["done"] == 1)
    other = queued.post("/batches", content=batch_yaml("mine", 1, seed=2), headers=AUTH)
    assert other.status_code == 409 and "differs at batch.seed" in other.json()["detail"]
    config = (queued.root / "mine" / "config.json").read_text()
    assert json.loads(config)["batch"]["seed"] == 1  # not overwritten
    cli = queued.root / "busy"
    cli.mkdir()
    manager = FolderLock(cli / "manager.lock")  # as a CLI manager holds it
    manager.acquire()
    try:
        taken = queued.post("/batches", content=batch_yaml("busy", 1), headers=AUTH)
        assert taken.status_code == 409 and f"process {os.getpid()}" in taken.json()["detail"]
        assert queued.get("/batches/busy", headers=AUTH).json()["state"] == "running"  # the CLI run is seen
    finally:
        manager.release()
    assert queued.get("/batches/busy", headers=AUTH).json()["state"] == "idle"


# --- files --------------------------------------------------------------------------------------------------


def test_symlinks_nul_bytes_and_temporaries_are_not_served(client, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("no")
    (client.root / "linked").symlink_to(outside)
    assert client.get("/batches/linked/files/secret.txt", headers=AUTH).status_code == 400
    assert client.get("/batches/linked/files", headers=AUTH).status_code == 400
    assert "linked" not in client.get("/batches", headers=AUTH).json()["batches"]
    team = client.root / "team"
    (team / "leak.txt").symlink_to(outside / "secret.txt")
    assert client.get("/batches/team/files/leak.txt", headers=AUTH).status_code == 400
    assert client.get("/batches/team/files/leak%00.txt", headers=AUTH).status_code == 400
    temporary = team / "clips" / ".tmp-abc-1@host"
    temporary.mkdir(parents=True)
    (temporary / "spec.json").write_text("{}")
    assert client.get("/batches/team/files/clips/.tmp-abc-1@host/spec.json", headers=AUTH).status_code == 404
    listed = [f["path"] for f in client.get("/batches/team/files", headers=AUTH).json()["files"]]
    assert listed and not any(".tmp-" in p or "leak" in p for p in listed)


# --- the service as a process: its token, its stop ------------------------------------------------------------


def test_the_token_stays_in_the_service_and_sigterm_ends_its_batches_truthfully(tmp_path):
    """`synthact serve` started with SYNTHACT_TOKEN: no process it starts (Ray's, the render workers) has the
    token in its environment; SIGTERM while a batch renders stops the batch, which records `interrupted`, and
    a service started again on the same root says so (not `running`)."""
    import json
    import os
    import signal
    import subprocess
    import sys
    import urllib.request

    import psutil

    from conftest import ROOT
    from support.http import free_port

    if ray.is_initialized():
        ray.shutdown()
    secret = "tok-" + os.urandom(8).hex()
    port = free_port()
    env = {**os.environ, "SYNTHACT_TOKEN": secret}
    env.pop("RAY_ADDRESS", None)
    cmd = [sys.executable, "-m", "synthact", "serve", "--root", str(tmp_path / "root"), "--port", str(port),
           "--renderer", "support.test_double:TestDoubleRenderer", "--renderer-options",
           json.dumps({"seconds": 0.5, "marker_dir": str(tmp_path)})]
    service = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base, auth = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {secret}"}

    def call(method: str, path: str, body: str | None = None) -> dict:
        request = urllib.request.Request(base + path, data=body.encode() if body else None, method=method,
                                         headers=auth)
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())

    try:
        deadline = time.time() + 120
        while True:
            try:
                call("GET", "/batches")
                break
            except OSError:
                assert service.poll() is None and time.time() < deadline, service.stderr.read()[-2000:]
                time.sleep(0.3)
        call("POST", "/batches", batch_yaml("longrun", 40))
        clips = tmp_path / "root" / "longrun" / "clips"
        while len(list(clips.glob("*/manifest.json"))) < 2:
            assert time.time() < deadline + 60
            time.sleep(0.1)
        started = psutil.Process(service.pid).children(recursive=True)
        assert any("RenderHost" in " ".join(p.cmdline()) for p in started)  # the workers are among them
        leaking = [p.pid for p in started if secret in " ".join(f"{k}={v}" for k, v in p.environ().items())]
        assert leaking == [] and len(started) >= 3
        service.send_signal(signal.SIGTERM)
        service.wait(timeout=120)
    finally:
        if service.poll() is None:
            service.kill()
            service.wait()
    summary = json.loads((tmp_path / "root" / "longrun" / "summary.json").read_text())
    assert summary["state"] == "interrupted" and summary["reason"] == "the service stopped"
    assert 2 <= len(list(clips.glob("*/manifest.json"))) < 40
    from synthact.dispatch.ledger import progress
    from synthact.dispatch.storage import BatchStore
    seen = progress(BatchStore(str(tmp_path / "root" / "longrun")))
    assert seen["state"] == "interrupted" and seen["done"] == len(list(clips.glob("*/manifest.json")))


def test_a_path_too_long_for_the_filesystem_is_a_400(client):
    answer = client.get("/batches/team/files/" + "a" * 10_000, headers=AUTH)
    if answer.status_code == 404 and "no batch" in answer.text:  # the batch of another test is not there yet
        client.post("/batches", content=GOOD, headers=AUTH)
        answer = client.get("/batches/team/files/" + "a" * 10_000, headers=AUTH)
    assert answer.status_code == 400 and "File name too long" in answer.json()["detail"]
