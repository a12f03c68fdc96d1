"""The manager on a real Ray runtime. Orchestration runs with TestDoubleRenderer (no Blender) so that
crashes and hangs can be staged; one test renders for real. Killed processes, lost nodes, signals and
full disks are in test_faults.py."""
import json
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
import ray

from support import test_double
from synthact.config.batch import BatchConfig
from synthact.dispatch import DispatchOptions, FailurePolicy, Resources, run_batch
from synthact.dispatch.ledger import progress
from synthact.dispatch.storage import BatchStore
from synthact.scene.sampler import SceneSampler


def config(name="dispatch", count=24):
    return BatchConfig.model_validate({"batch": {"name": name, "seed": 9, "count": count},
                                       "render": {"resolution": {"width": 32, "height": 32}, "frames": 2,
                                                  "samples": 1, "device": "cpu"}})


def scene_ids(cfg, registry, n):
    return {s.scene_id for s in SceneSampler.create(cfg, registry).iter_specs(0, n)}


def complete(out: Path, name: str) -> set[str]:
    return BatchStore(str(out / name)).complete_ids()


def renders(marker: Path) -> Counter:
    log = marker / "renders.log"
    return Counter(log.read_text().split()) if log.exists() else Counter()


@pytest.fixture(scope="module")
def local_ray():
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def options(marker: Path, timeout_s: float = 20, address: str | None = None, **double) -> DispatchOptions:
    return DispatchOptions(resources=Resources(address=address, workers=2, cpus_per_worker=1),
                           failures=FailurePolicy(scene_timeout_s=timeout_s), show_progress=False,
                           renderer=test_double.factory(marker_dir=str(marker), **double))


def test_every_scene_once_and_a_rerun_renders_nothing(local_ray, registry, tmp_path):
    cfg = config()
    result = run_batch(cfg, registry, 24, tmp_path, options(tmp_path))
    assert result.rendered == 24 and not result.failed
    assert complete(tmp_path, "dispatch") == scene_ids(cfg, registry, 24)
    assert set(renders(tmp_path).values()) == {1}
    again = run_batch(cfg, registry, 24, tmp_path, options(tmp_path))
    assert again.rendered == 0 and again.already_complete == 24
    assert sum(renders(tmp_path).values()) == 24
    more = run_batch(cfg, registry, 30, tmp_path, options(tmp_path))  # a bigger batch adds only the new scenes
    assert more.rendered == 6 and more.already_complete == 24
    p = progress(BatchStore(str(tmp_path / "dispatch")))
    assert p["done"] == 30 and p["failed"] == 0


def test_a_worker_dying_mid_scene_is_replaced_and_the_scene_retried(local_ray, registry, tmp_path):
    cfg = config()
    result = run_batch(cfg, registry, 12, tmp_path, options(tmp_path, crash_index=5))
    assert result.rendered == 12 and result.retries == {"crash": 1} and not result.failed
    assert complete(tmp_path, "dispatch") == scene_ids(cfg, registry, 12)
    counts = renders(tmp_path)
    assert max(counts.values()) == 2 and sum(counts.values()) == 13  # only the crashed scene ran twice


def test_hung_scene_times_out_and_a_bad_scene_is_not_retried(local_ray, registry, tmp_path):
    cfg = config()
    opts = options(tmp_path, timeout_s=3, hang_index=2, invalid_index=4)
    result = run_batch(cfg, registry, 8, tmp_path, opts)
    assert result.retries == {"timeout": 1}
    assert result.failed == {"invalid_spec": 1} and result.rendered == 7
    events = [json.loads(line) for f in sorted((tmp_path / "dispatch" / "ledger").glob("*.jsonl"))
              for line in f.read_text().splitlines()]
    assert any(e["outcome"] == "failed" and e["reason"] == "invalid_spec" and e["index"] == 4 for e in events)
    assert any(e["outcome"] == "retry" and e["reason"] == "timeout" and e["index"] == 2 for e in events)


def test_a_worker_slow_to_start_is_not_a_hung_scene(local_ray, registry, tmp_path):
    cfg = config()
    result = run_batch(cfg, registry, 4, tmp_path, options(tmp_path, timeout_s=2, start_seconds=4))
    assert result.rendered == 4 and not result.failed and not result.retries and result.state == "finished"
    stuck = replace(options(tmp_path, start_seconds=60), failures=FailurePolicy(worker_start_timeout_s=2))
    result = run_batch(cfg, registry, 8, tmp_path, stuck)
    assert result.state == "error" and result.rendered == 0
    assert "no render worker could be started for 2 s" in result.reason


def test_tasks_report_each_result_and_each_failure_and_go_on(local_ray):
    """The executor's tasks (room builds use them): a task that raises or whose process dies is reported as
    lost with its reason; the others' results come back."""
    from synthact.dispatch.executor import WorkerLost
    from synthact.dispatch.ray_executor import RayExecutor

    def task(item, scale):  # defined here: Ray ships it by value to its workers
        import os
        if item == 2:
            raise ValueError("two is refused")
        if item == 3:
            os._exit(9)
        return item * scale

    executor = RayExecutor()
    executor.open()  # Ray is already up: this attaches to it and leaves it running
    results = dict(executor.tasks(task, [0, 1, 2, 3, 4], (10,), cpus=1, at_once=2))
    assert {k: v for k, v in results.items() if k not in (2, 3)} == {0: 0, 1: 10, 4: 40}
    assert isinstance(results[2], WorkerLost) and "two is refused" in results[2].message
    assert isinstance(results[3], WorkerLost) and results[3].reason == "crash"


def test_object_store_uri(local_ray, registry, tmp_path):
    cfg = config()
    uri = f"file://{tmp_path}/bucket"
    result = run_batch(cfg, registry, 6, uri, options(tmp_path))
    assert result.rendered == 6
    store = BatchStore(f"{uri}/dispatch")
    assert store.remote and store.complete_ids() == scene_ids(cfg, registry, 6)
    assert run_batch(cfg, registry, 6, uri, options(tmp_path)).rendered == 0


def test_real_blender_workers(registry, tmp_path):
    if ray.is_initialized():
        ray.shutdown()
    cfg = config(name="real", count=2)
    opts = DispatchOptions(resources=Resources(workers=1, cpus_per_worker=2), show_progress=False)
    result = run_batch(cfg, registry, 2, tmp_path, opts)
    assert result.rendered == 2 and not result.failed
    for scene_id in scene_ids(cfg, registry, 2):
        assert (tmp_path / "real" / "clips" / scene_id / "rgb.mp4").is_file()
        assert (tmp_path / "real" / "previews" / f"{scene_id}.png").is_file()


def test_render_writes_to_batch_output_without_out(tmp_path):
    if ray.is_initialized():
        ray.shutdown()
    (tmp_path / "batch.yaml").write_text("batch: {name: here, seed: 1, count: 2, output: elsewhere/data}\n"
                                         "render: {resolution: {width: 32, height: 32}, frames: 2, samples: 1}\n")
    res = subprocess.run([sys.executable, "-m", "synthact", "render", "batch.yaml", "--workers", "1",
                          "--renderer", "support.test_double:TestDoubleRenderer"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert len(list((tmp_path / "elsewhere" / "data" / "here" / "clips").glob("*/manifest.json"))) == 2
