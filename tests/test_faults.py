"""The fault suite: what an unlucky user or a hostile machine does to a running batch. Every test ends with
every scene complete exactly once and the ledger agreeing with the disk. Scenes are rendered by the test
double (tests/support/test_double.py), which also simulates full disks and other filesystems."""
import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import ray

from conftest import ROOT
from support import test_double
from synthact.clip.writer import temporary_name
from synthact.config.batch import BatchConfig
from synthact.dispatch import DispatchOptions, FailurePolicy, Resources, run_batch
from synthact.dispatch.ledger import STOPPED_UNRECORDED, latest_events, progress
from synthact.dispatch.lock import LOCK
from synthact.dispatch.storage import BatchStore
from synthact.scene.sampler import SceneSampler

SMALL = {"resolution": {"width": 32, "height": 32}, "frames": 2, "samples": 1, "device": "cpu"}


def config(name="faults", count=8):
    return BatchConfig.model_validate({"batch": {"name": name, "seed": 5, "count": count}, "render": SMALL})


def scene_ids(cfg, registry, n) -> list[str]:
    return [s.scene_id for s in SceneSampler.create(cfg, registry).iter_specs(0, n)]


def renders(marker: Path) -> Counter:
    log = marker / "renders.log"
    return Counter(log.read_text().split()) if log.exists() else Counter()


def options(marker: Path, timeout_s: float = 30, workers: int = 2, address: str | None = None, previews=True,
            verify=False, **double) -> DispatchOptions:
    return DispatchOptions(resources=Resources(address=address, workers=workers, cpus_per_worker=1),
                           failures=FailurePolicy(scene_timeout_s=timeout_s), show_progress=False, previews=previews,
                           renderer=test_double.factory(marker_dir=str(marker), **double), verify=verify)


def assert_complete_once_and_ledger_is_disk(batch: Path, expected: list[str]) -> None:
    """Every scene has one complete clip (and nothing half-written is left); the ledger's latest word on
    each scene says done exactly for the complete clips; the last run finished."""
    store = BatchStore(str(batch))
    complete = store.complete_ids()
    assert complete == set(expected)
    assert sorted(p.name for p in (batch / "clips").iterdir()) == sorted(expected)  # no temporaries, no extras
    latest, _ = latest_events(store)
    assert {s for s, e in latest.items() if e["outcome"] == "done"} == complete
    summary = json.loads((batch / "summary.json").read_text())
    assert summary["state"] == "finished" and summary["finished"] is True
    assert not (batch / LOCK).exists()


@pytest.fixture(scope="module")
def local_ray():
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def render_command(cfg_path: Path, out: Path, marker: Path, **double) -> list[str]:
    return [sys.executable, "-m", "synthact", "render", str(cfg_path), "--out", str(out), "--workers", "2",
            "--cpus-per-worker", "1", "--renderer", "support.test_double:TestDoubleRenderer",
            "--renderer-options", json.dumps({"marker_dir": str(marker), **double})]


def write_config(tmp_path: Path, name: str, count: int) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"batch: {{name: {name}, seed: 5, count: {count}}}\nrender: {json.dumps(SMALL)}\n")
    return path


def wait_for_clips(clips: Path, count: int, deadline_s: float = 120) -> None:
    deadline = time.time() + deadline_s
    while (not clips.exists() or len(list(clips.glob("*/manifest.json"))) < count) and time.time() < deadline:
        time.sleep(0.05)


# --- output on another filesystem, full disks ---------------------------------------------------------------


def other_filesystems() -> list[str]:
    """'simulated' always; 'tmpfs' too when /dev/shm is a writable filesystem other than the temp folder's."""
    shm = Path("/dev/shm")
    real = shm.is_dir() and os.access(shm, os.W_OK) and shm.stat().st_dev != Path(tempfile.gettempdir()).stat().st_dev
    return ["simulated"] + (["tmpfs"] if real else [])


@pytest.mark.parametrize("filesystem", other_filesystems())
def test_output_on_another_filesystem_than_the_temp_folder(local_ray, registry, tmp_path, filesystem):
    cfg = config("elsewhere", 4)
    if filesystem == "tmpfs":
        out = Path(tempfile.mkdtemp(dir="/dev/shm", prefix="synthact-test-"))
        double = {}
    else:
        out = tmp_path / "out"
        double = {"other_device": str(out)}  # previews are made in the temp folder and moved into out
    try:
        result = run_batch(cfg, registry, 4, out, options(tmp_path, fabricate=True, **double))
        assert result.rendered == 4 and not result.failed and not result.retries and not result.warnings
        ids = scene_ids(cfg, registry, 4)
        assert sorted(p.stem for p in (out / "elsewhere" / "previews").glob("*.png")) == sorted(ids)
        assert set(renders(tmp_path).values()) == {1}
        assert_complete_once_and_ledger_is_disk(out / "elsewhere", ids)
    finally:
        if filesystem == "tmpfs":
            shutil.rmtree(out, ignore_errors=True)


def test_a_full_disk_after_the_manifest_costs_only_the_preview(local_ray, registry, tmp_path):
    cfg = config("nopreview", 4)
    out = tmp_path / "out"
    previews = out / "nopreview" / "previews"
    result = run_batch(cfg, registry, 4, out, options(tmp_path, fabricate=True, full_device=str(previews)))
    assert result.rendered == 4 and not result.failed and not result.retries
    assert result.warnings == {"no preview": 4} and not list(previews.glob("*.png"))
    assert set(renders(tmp_path).values()) == {1}
    assert_complete_once_and_ledger_is_disk(out / "nopreview", scene_ids(cfg, registry, 4))


def test_a_full_disk_while_writing_a_clip_stops_the_batch_and_a_rerun_completes_it(local_ray, registry, tmp_path):
    cfg = config("full", 8)
    out = tmp_path / "out"
    stopped = run_batch(cfg, registry, 8, out, options(tmp_path, disk_full_index=3, seconds=0.2))
    assert stopped.state == "error" and "the output location is full" in stopped.reason
    assert os.strerror(errno.ENOSPC) in stopped.reason and not stopped.failed and not stopped.retries
    summary = json.loads((out / "full" / "summary.json").read_text())
    assert summary["state"] == "error" and summary["finished"] is False
    store = BatchStore(str(out / "full"))
    latest, _ = latest_events(store)
    assert {s for s, e in latest.items() if e["outcome"] == "done"} == store.complete_ids()  # ledger = disk
    again = run_batch(cfg, registry, 8, out, options(tmp_path))
    assert again.state == "finished" and again.rendered + again.already_complete == 8
    assert_complete_once_and_ledger_is_disk(out / "full", scene_ids(cfg, registry, 8))


# --- what is on disk decides ----------------------------------------------------------------------------


def test_truncated_or_damaged_clips_are_rendered_again(local_ray, registry, tmp_path):
    cfg = config("damaged", 6)
    out = tmp_path / "out"
    run_batch(cfg, registry, 6, out, options(tmp_path))
    ids = scene_ids(cfg, registry, 6)
    clips = out / "damaged" / "clips"
    (clips / ids[1] / "spec.json").write_text("{")  # truncated after the manifest was written
    (clips / ids[2] / "manifest.json").write_text("")  # an empty manifest
    stats = clips / ids[3] / "stats.json"
    stats.write_text(stats.read_text().replace("test-double", "test-dOuble"))  # same size, other bytes
    again = run_batch(cfg, registry, 6, out, options(tmp_path))
    assert again.rendered == 2 and again.already_complete == 4
    assert renders(tmp_path)[ids[1]] == 2 and renders(tmp_path)[ids[2]] == 2 and renders(tmp_path)[ids[3]] == 1
    store = BatchStore(str(out / "damaged"))
    events = [json.loads(line) for f in sorted((out / "damaged" / "ledger").glob("*.jsonl"))
              for line in f.read_text().splitlines()]
    incomplete = {e["scene_id"]: e["message"] for e in events if e["outcome"] == "incomplete"}
    assert incomplete == {ids[1]: incomplete[ids[1]], ids[2]: incomplete[ids[2]]}
    assert "spec.json has 1 bytes" in incomplete[ids[1]] and "not a readable manifest" in incomplete[ids[2]]
    assert_complete_once_and_ledger_is_disk(out / "damaged", ids)
    verified = run_batch(cfg, registry, 6, out, options(tmp_path, verify=True))  # checksums, not only sizes
    assert verified.rendered == 1 and renders(tmp_path)[ids[3]] == 2
    assert store.is_complete(ids[3], verify=True)
    assert_complete_once_and_ledger_is_disk(out / "damaged", ids)


def test_clips_finished_without_an_event_are_recorded_by_the_next_run(local_ray, registry, tmp_path):
    cfg = config("unrecorded", 6)
    out = tmp_path / "out"
    run_batch(cfg, registry, 6, out, options(tmp_path))
    ledger = out / "unrecorded" / "ledger"
    for segment in ledger.glob("*.jsonl"):  # as if the manager was killed before it wrote its ledger
        segment.unlink()
    again = run_batch(cfg, registry, 6, out, options(tmp_path))
    assert again.rendered == 0 and again.already_complete == 6
    events = [json.loads(line) for f in ledger.glob("*.jsonl") for line in f.read_text().splitlines()]
    assert len(events) == 6 and {e["message"] for e in events} == {"found complete on disk"}
    assert_complete_once_and_ledger_is_disk(out / "unrecorded", scene_ids(cfg, registry, 6))


# --- processes killed, stopped, doubled ---------------------------------------------------------------------


def test_a_killed_worker_process_loses_nothing(local_ray, registry, tmp_path):
    import psutil
    cfg = config("killed", 16)
    clips = tmp_path / "out" / "killed" / "clips"

    def kill_a_worker():
        wait_for_clips(clips, 4)
        for proc in psutil.Process().children(recursive=True):  # this test's Ray only, not other jobs' workers
            if any("RenderHost" in part for part in proc.cmdline()):
                os.kill(proc.pid, signal.SIGKILL)
                return

    killer = threading.Thread(target=kill_a_worker, daemon=True)
    killer.start()
    result = run_batch(cfg, registry, 16, tmp_path / "out", options(tmp_path, seconds=0.3))
    killer.join(timeout=5)
    # the killed scene is retried, or, when the kill landed after its clip was complete on disk, recorded done
    # from the disk with a warning; either way nothing is lost
    finished_before_the_kill = any(w.startswith("no report (crash") for w in result.warnings)
    assert (result.retries.get("crash", 0) >= 1 or finished_before_the_kill) and not result.failed
    assert_complete_once_and_ledger_is_disk(tmp_path / "out" / "killed", scene_ids(cfg, registry, 16))


def test_a_killed_manager_resumes_and_the_ledger_catches_up(registry, tmp_path):
    if ray.is_initialized():
        ray.shutdown()
    cmd = render_command(write_config(tmp_path, "restart", 20), tmp_path / "out", tmp_path, seconds=0.4)
    manager = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    batch = tmp_path / "out" / "restart"
    wait_for_clips(batch / "clips", 6)
    os.killpg(manager.pid, signal.SIGKILL)  # the manager and the Ray it started, without a word
    manager.wait()
    before = BatchStore(str(batch)).complete_ids()
    assert 6 <= len(before) < 20
    assert json.loads((batch / "summary.json").read_text())["state"] == "running"  # what it wrote last
    seen = progress(BatchStore(str(batch)))  # as `synthact status` and the service read it: its manager is gone
    assert seen["state"] == "interrupted" and seen["reason"] == STOPPED_UNRECORDED
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "the last run stopped without recording its end" in " ".join(res.stderr.split())
    cfg = BatchConfig.model_validate({"batch": {"name": "restart", "seed": 5, "count": 20}, "render": SMALL})
    assert all(renders(tmp_path)[s] == 1 for s in before)  # finished clips were not rendered again
    assert_complete_once_and_ledger_is_disk(batch, scene_ids(cfg, registry, 20))



def test_sigterm_stops_the_manager_cleanly_and_a_rerun_resumes(registry, tmp_path):
    if ray.is_initialized():
        ray.shutdown()
    cfg_path = write_config(tmp_path, "sigterm", 16)
    cmd = render_command(cfg_path, tmp_path / "out", tmp_path, seconds=0.4)
    manager = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    batch = tmp_path / "out" / "sigterm"
    wait_for_clips(batch / "clips", 3)
    manager.send_signal(signal.SIGTERM)
    _, stderr = manager.communicate(timeout=120)
    assert manager.returncode == 128 + signal.SIGTERM, stderr
    lines = [line for line in stderr.splitlines() if "interrupted" in line]
    assert len(lines) == 1 and "interrupted by SIGTERM" in lines[0] and "rerun the same command" in lines[0]
    assert "Traceback" not in stderr
    summary = json.loads((batch / "summary.json").read_text())
    assert summary["state"] == "interrupted" and summary["reason"] == "SIGTERM" and summary["finished"] is False
    store = BatchStore(str(batch))
    assert 3 <= len(store.complete_ids()) < 16 and not (batch / LOCK).exists()
    latest, _ = latest_events(store)
    assert {s for s, e in latest.items() if e["outcome"] == "done"} == store.complete_ids()
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    cfg = BatchConfig.model_validate({"batch": {"name": "sigterm", "seed": 5, "count": 16}, "render": SMALL})
    assert_complete_once_and_ledger_is_disk(batch, scene_ids(cfg, registry, 16))


def test_a_second_manager_is_refused_and_the_first_finishes_alone(registry, tmp_path):
    if ray.is_initialized():
        ray.shutdown()
    cfg_path = write_config(tmp_path, "twice", 8)
    first_marker, second_marker = tmp_path / "first", tmp_path / "second"
    first_marker.mkdir()
    second_marker.mkdir()
    first = subprocess.Popen(render_command(cfg_path, tmp_path / "out", first_marker, seconds=1.5), cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    batch = tmp_path / "out" / "twice"
    wait_for_clips(batch / "clips", 1)
    second = subprocess.run(render_command(cfg_path, tmp_path / "out", second_marker), cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert second.returncode == 2, second.stderr[-2000:]
    lines = [line for line in second.stderr.splitlines() if line.strip()]
    assert "another manager is rendering this batch" in lines[-1] and f"process {first.pid}" in lines[-1]
    assert "Traceback" not in second.stderr and not renders(second_marker)
    _, stderr = first.communicate(timeout=300)
    assert first.returncode == 0, stderr[-2000:]
    cfg = BatchConfig.model_validate({"batch": {"name": "twice", "seed": 5, "count": 8}, "render": SMALL})
    assert set(renders(first_marker).values()) == {1} and sum(renders(first_marker).values()) == 8
    assert_complete_once_and_ledger_is_disk(batch, scene_ids(cfg, registry, 8))


def test_stale_locks_and_temporaries_of_dead_owners_are_cleaned_live_ones_never(local_ray, registry, tmp_path):
    cfg = config("stale", 4)
    batch = tmp_path / "out" / "stale"
    clips = batch / "clips"
    clips.mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    host = os.uname().nodename
    (batch / LOCK).write_text(json.dumps({"host": host, "pid": dead.pid, "started": 1.0, "since": 1.0}))
    leftover = clips / f".tmp-abc-{dead.pid}@{host}"  # a worker of a manager that was killed
    leftover.mkdir()
    live = clips / temporary_name("def")  # a writer that still runs (this process)
    live.mkdir()
    result = run_batch(cfg, registry, 4, tmp_path / "out", options(tmp_path))
    assert result.state == "finished" and result.rendered == 4
    assert not leftover.exists() and live.exists()
    live.rmdir()
    assert_complete_once_and_ledger_is_disk(batch, scene_ids(cfg, registry, 4))


def test_a_live_lock_on_another_host_is_respected(local_ray, registry, tmp_path):
    from synthact.dispatch import BatchError
    batch = tmp_path / "out" / "held"
    batch.mkdir(parents=True)
    (batch / LOCK).write_text(json.dumps({"host": "render-node-7", "pid": 4242, "started": 1.0, "since": 1.0}))
    with pytest.raises(BatchError, match="process 4242 on render-node-7 .*if it is gone, delete .*manager.lock"):
        run_batch(config("held", 2), registry, 2, tmp_path / "out", options(tmp_path))
    assert not renders(tmp_path) and not (batch / "clips").exists()


def test_another_config_under_the_same_batch_name_is_refused(local_ray, registry, tmp_path):
    from synthact.dispatch import BatchError
    run_batch(config("mixed", 2), registry, 2, tmp_path / "out", options(tmp_path))
    before = (tmp_path / "out" / "mixed" / "config.json").read_text()
    other = BatchConfig.model_validate({"batch": {"name": "mixed", "seed": 6, "count": 2}, "render": SMALL})
    with pytest.raises(BatchError, match=r"rendered from another config \(config.json differs at batch.seed\)"):
        run_batch(other, registry, 2, tmp_path / "out", options(tmp_path))
    assert (tmp_path / "out" / "mixed" / "config.json").read_text() == before
    more = BatchConfig.model_validate({"batch": {"name": "mixed", "seed": 5, "count": 3}, "render": SMALL})
    assert run_batch(more, registry, 3, tmp_path / "out", options(tmp_path)).rendered == 1  # a longer batch is fine


# --- the cluster --------------------------------------------------------------------------------------------


def test_nodes_lost_and_added_mid_batch(registry, tmp_path, monkeypatch):
    """Two nodes of one CPU each; one is lost mid-batch, later another joins. The scene the lost node was
    rendering is retried at once on the node that is left (the worker that cannot be placed any more never
    gets work, so no scene waits out its timeout), and the pool grows again when the new node comes. The
    cluster keeps its address file in its own temp folder."""
    from ray.cluster_utils import Cluster
    if ray.is_initialized():
        ray.shutdown()
    ray_tmp = tempfile.mkdtemp(prefix="sa-ray-", dir="/tmp")  # short: Ray's socket paths have a length limit
    monkeypatch.setenv("RAY_TMPDIR", ray_tmp)
    cluster = Cluster(initialize_head=True, shutdown_at_exit=False, head_node_args={  # nodes added from a thread
        "num_cpus": 0, "include_dashboard": False,
        "_system_config": {"health_check_period_ms": 500, "health_check_failure_threshold": 4}})
    nodes = [cluster.add_node(num_cpus=1), cluster.add_node(num_cpus=1)]
    cluster.wait_for_nodes()
    assert Path(ray_tmp, "ray", "ray_current_cluster").is_file()  # not /tmp/ray/ray_current_cluster
    cfg = config("lost", 24)
    clips = tmp_path / "out" / "lost" / "clips"
    added = []

    def lose_a_node_then_add_one():
        wait_for_clips(clips, 3)
        cluster.remove_node(nodes[0])
        wait_for_clips(clips, 5)
        added.append(time.time())
        cluster.add_node(num_cpus=1)

    changer = threading.Thread(target=lose_a_node_then_add_one, daemon=True)
    changer.start()
    try:
        opts = options(tmp_path, timeout_s=60, address=cluster.address, seconds=0.8)
        result = run_batch(cfg, registry, 24, tmp_path / "out", opts)
        changer.join(timeout=30)
        assert result.state == "finished" and not result.failed
        assert "timeout" not in result.retries and result.retries.get("crash", 0) >= 1
        ids = scene_ids(cfg, registry, 24)
        assert_complete_once_and_ledger_is_disk(tmp_path / "out" / "lost", ids)
        late = [json.loads((clips / s / "stats.json").read_text())["pid"] for s in ids
                if (clips / s / "manifest.json").stat().st_mtime > added[0]]
        assert len(set(late)) == 2  # two workers again once the new node was there
    finally:
        ray.shutdown()
        cluster.shutdown()
        shutil.rmtree(ray_tmp, ignore_errors=True)


def test_a_ledger_that_cannot_be_written_keeps_its_events(tmp_path, monkeypatch):
    from synthact.dispatch.ledger import Event, Ledger
    store = BatchStore(str(tmp_path / "batch"))
    ledger = Ledger(store)
    ledger.record(Event(0, "a", "done", 1))
    real = store.write_text

    def full(rel, text):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), rel)

    monkeypatch.setattr(store, "write_text", full)
    ledger.flush()  # no exception: the clip is complete whatever the ledger says
    assert "1 events kept" in ledger.write_error
    monkeypatch.setattr(store, "write_text", real)
    ledger.record(Event(1, "b", "done", 1))
    ledger.flush()
    assert ledger.write_error == "" and set(latest_events(store)[0]) == {"a", "b"}


def test_without_an_address_a_private_ray_is_started_whatever_the_address_file_says(monkeypatch):
    """A stale address file (left by `ray start` or a test cluster) must not be attached to."""
    from synthact.dispatch.ray_executor import connect
    if ray.is_initialized():
        ray.shutdown()
    ray_tmp = tempfile.mkdtemp(prefix="sa-ray-", dir="/tmp")
    Path(ray_tmp, "ray").mkdir()
    Path(ray_tmp, "ray", "ray_current_cluster").write_text("127.0.0.1:1")  # nobody listens there
    monkeypatch.setenv("RAY_TMPDIR", ray_tmp)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    try:
        assert connect(None) is True  # started here, to be shut down by its owner
        assert ray.is_initialized() and ray.cluster_resources().get("CPU", 0) >= 1
    finally:
        ray.shutdown()
        shutil.rmtree(ray_tmp, ignore_errors=True)


# --- round two (issue 29) -------------------------------------------------------------------------------------


def _race(batch_dirs: list[str], start, held, index: int, results) -> None:
    """One of several managers: in each round, try to take the batch's lock while the others try too; a holder
    keeps it until everyone has tried."""
    from synthact.dispatch.lock import BatchLock, BatchLocked
    took = []
    for folder in batch_dirs:
        start.wait()
        lock = BatchLock(BatchStore(folder))
        try:
            lock.acquire()
            took.append(folder)
        except BatchLocked:
            pass
        held.wait()
        lock.release()
    results.put((index, took))


@pytest.mark.parametrize("before", ["fresh", "stale", "empty"])
def test_one_lock_holder_among_racing_managers(tmp_path, before):
    """8 managers race for the lock of 150 batch folders, each new, or holding the lock file of a manager
    killed on this host, or an empty one (killed before it wrote its record): every folder has exactly one
    holder."""
    import multiprocessing
    context = multiprocessing.get_context("fork")
    racers, rounds = 8, 150
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    folders = []
    for r in range(rounds):
        folder = tmp_path / f"batch-{r}"
        folder.mkdir()
        if before == "stale":
            (folder / LOCK).write_text(json.dumps({"host": os.uname().nodename, "pid": dead.pid, "started": 1.0,
                                                   "since": 1.0}))
        elif before == "empty":
            (folder / LOCK).touch()
        folders.append(str(folder))
    start, held, results = context.Barrier(racers), context.Barrier(racers), context.Queue()
    processes = [context.Process(target=_race, args=(folders, start, held, i, results)) for i in range(racers)]
    for p in processes:
        p.start()
    taken = Counter()
    for _ in processes:
        _, took = results.get(timeout=300)
        taken.update(took)
    for p in processes:
        p.join(timeout=30)
    assert [f for f in folders if taken[f] != 1] == []
    assert not any((Path(f) / LOCK).exists() for f in folders)  # every holder let go


def test_the_lock_is_free_once_its_holder_is_killed(tmp_path):
    from synthact.dispatch.lock import BatchLock
    batch = tmp_path / "b"
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; sys.path.insert(0, sys.argv[1]); "
                               "from synthact.dispatch.lock import BatchLock; from synthact.dispatch.storage import "
                               "BatchStore; BatchLock(BatchStore(sys.argv[2])).acquire(); print('held', flush=True); "
                               "time.sleep(60)", str(ROOT), str(batch)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    lock = BatchLock(BatchStore(str(batch)))
    assert lock.holder() is not None and f"process {holder.pid}" in lock.holder().describe()
    holder.kill()
    holder.wait()
    assert (batch / LOCK).exists() and lock.holder() is None  # its file stays; its lock went with it
    lock.acquire()
    lock.release()


def test_two_packs_into_one_dataset_are_not_run_at_once(raw, tmp_path):
    from synthact.locks import FolderLock
    out = tmp_path / "dataset"
    other = FolderLock(out / "pack.lock")  # a pack of another batch, writing this dataset
    other.acquire()
    try:
        cmd = [sys.executable, "-m", "synthact", "pack", str(raw[0]), "--out", str(out)]
        refused = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    finally:
        other.release()
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert refused.stderr.strip().splitlines()[-1].startswith(f"{out}: another pack is writing this dataset (process "
                                                              f"{os.getpid()} on")
    assert not (out / "dataset.json").exists() and not list((out / "shards").glob("*.tar"))
    packed = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert packed.returncode == 0, packed.stderr[-2000:]
    assert (out / "dataset.json").exists() and not (out / "pack.lock").exists()


def test_a_worker_killed_mid_clip_leaves_no_temporary_behind(local_ray, registry, tmp_path):
    cfg = config("midclip", 6)
    result = run_batch(cfg, registry, 6, tmp_path / "out", options(tmp_path, crash_mid_clip_index=2))
    assert result.retries["crash"] == 1 and not result.failed
    assert_complete_once_and_ledger_is_disk(tmp_path / "out" / "midclip", scene_ids(cfg, registry, 6))


def test_with_every_clip_complete_no_worker_is_started(registry, tmp_path):
    if ray.is_initialized():
        ray.shutdown()
    cmd = render_command(write_config(tmp_path, "done", 3), tmp_path / "out", tmp_path)
    first = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr[-2000:]
    warm_ups = (tmp_path / "warm_ups.log").read_text()
    shutil.rmtree(tmp_path / "out" / "done" / "ledger")  # the ledger is brought up to date all the same
    again = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "all 3 clips are complete already; nothing to render" in " ".join(again.stderr.split())
    assert "0 rendered, 3 already complete, 0 failed" in again.stdout
    assert (tmp_path / "warm_ups.log").read_text() == warm_ups  # no worker started
    cfg = BatchConfig.model_validate({"batch": {"name": "done", "seed": 5, "count": 3}, "render": SMALL})
    assert_complete_once_and_ledger_is_disk(tmp_path / "out" / "done", scene_ids(cfg, registry, 3))


def _mount_tmpfs(folder: Path, size: str) -> bool:
    """A small tmpfs at folder (a real full disk, a real read-only remount), where this machine allows it."""
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True)
    return done.returncode == 0


@pytest.fixture
def tmpfs(tmp_path):
    mounted = []

    def make(size: str) -> Path:
        folder = tmp_path / f"tmpfs{len(mounted)}"
        if not _mount_tmpfs(folder, size):
            pytest.skip("this machine does not let tests mount a tmpfs (needs root)")
        mounted.append(folder)
        return folder
    yield make
    for folder in mounted:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def test_output_remounted_read_only_mid_batch_stops_it_uncharged(local_ray, registry, tmp_path, tmpfs):
    out = tmpfs("64m")
    cfg = config("readonly", 12)
    clips = out / "readonly" / "clips"

    def remount():
        wait_for_clips(clips, 3)
        deadline = time.time() + 30
        while subprocess.run(["mount", "-o", "remount,ro", str(out)], capture_output=True).returncode != 0:
            assert time.time() < deadline, "could not remount read-only"
            time.sleep(0.01)  # busy while a worker has a file open for writing

    thread = threading.Thread(target=remount, daemon=True)
    thread.start()
    result = run_batch(cfg, registry, 12, out, options(tmp_path, seconds=0.3))
    thread.join(timeout=30)
    assert result.state == "error" and not result.failed and not result.retries
    assert result.reason.startswith("the output location cannot be written (Read-only file system: ")
    assert str(clips) in result.reason and "rerun to resume" in result.reason
    seen = progress(BatchStore(str(out / "readonly")))  # summary.json could not be written, and says running
    assert seen["state"] == "interrupted" and seen["failed"] == 0
    subprocess.run(["mount", "-o", "remount,rw", str(out)], check=True)
    again = run_batch(cfg, registry, 12, out, options(tmp_path, seconds=0.0))
    assert again.state == "finished" and again.already_complete >= 3
    assert_complete_once_and_ledger_is_disk(out / "readonly", scene_ids(cfg, registry, 12))


def test_a_really_full_disk_stops_the_batch_and_a_rerun_completes_it(local_ray, registry, tmp_path, tmpfs):
    out = tmpfs("4m")
    filler = out / "filler"
    with open(filler, "wb") as f:  # leaves room for a few clips of the test double
        try:
            while True:
                f.write(b"\0" * 65536)
        except OSError:
            pass
    filler.write_bytes(b"\0" * (filler.stat().st_size - 96 * 1024))
    cfg = config("fulldisk", 40)
    result = run_batch(cfg, registry, 40, out, options(tmp_path, previews=False))
    assert result.state == "error" and result.reason.startswith("the output location is full (No space left")
    assert not result.failed and result.rendered < 40
    filler.unlink()
    again = run_batch(cfg, registry, 40, out, options(tmp_path, previews=False))
    assert again.state == "finished"
    assert_complete_once_and_ledger_is_disk(out / "fulldisk", scene_ids(cfg, registry, 40))


def test_which_write_errors_stop_the_batch(tmp_path):
    from synthact.dispatch.host import output_error
    store = BatchStore(str(tmp_path / "b"))
    inside = str(tmp_path / "b" / "clips" / ".tmp-x" / "rgb.mp4")
    assert output_error(OSError(errno.ENOSPC, "full", inside), store) == "disk_full"
    assert output_error(OSError(errno.EDQUOT, "quota", "/elsewhere"), store) == "disk_full"
    assert output_error(OSError(errno.EROFS, "read-only", "/anywhere"), store) == "output_unwritable"
    for code in (errno.EACCES, errno.EPERM, errno.EIO):
        assert output_error(OSError(code, "denied", inside), store) == "output_unwritable"
        assert output_error(OSError(code, "denied", "/usr/share/asset.npz"), store) == ""  # the scene's own
        assert output_error(OSError(code, "denied"), store) == ""
    assert output_error(OSError(errno.ENOENT, "missing", inside), store) == ""


def test_looking_at_the_lock_never_keeps_a_manager_from_taking_it(tmp_path):
    """holder() holds a shared flock for an instant; a manager acquiring at that instant waits it out."""
    from synthact.dispatch.lock import BatchLock
    store = BatchStore(str(tmp_path / "b"))
    (tmp_path / "b").mkdir()
    looking, stop = threading.Event(), threading.Event()

    def look():
        while not stop.is_set():
            BatchLock(store).holder()
            looking.set()

    watcher = threading.Thread(target=look, daemon=True)
    watcher.start()
    looking.wait(5)
    try:
        for _ in range(300):
            (tmp_path / "b" / LOCK).touch()  # the file of a manager killed before it wrote it, looked at meanwhile
            lock = BatchLock(store)
            lock.acquire()  # raises BatchLocked if a look were taken for a manager
            lock.release()
    finally:
        stop.set()
        watcher.join(5)
