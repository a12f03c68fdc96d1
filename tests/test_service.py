import time

import pytest
import ray
from fastapi.testclient import TestClient

from support import test_double
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
