"""Warm-up once (the body-model cache per machine, the rest per worker), the progress bar's stage split, and
GPU workers: one per GPU, pinned, with Cycles pointed at it. No GPU is needed: Ray is told it has two, and
Cycles' device preferences are faked."""
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest
import ray

from support import test_double
from synthact.config.batch import BatchConfig
from synthact.dispatch import DispatchOptions, run_batch
from synthact.dispatch.host import RenderHost
from synthact.dispatch.manager import stage_split
from synthact.human.bodies import anny_body
from synthact.scene.sampler import SceneSampler


def config(name: str, count: int, device: str = "cpu") -> BatchConfig:
    return BatchConfig.model_validate({"batch": {"name": name, "seed": 4, "count": count},
                                       "render": {"resolution": {"width": 32, "height": 32}, "frames": 2,
                                                  "samples": 1, "device": device}})


HOLD_THE_BUILD = """
import sys, time, pathlib
from synthact.human.bodies import anny_body
log, name, seconds = pathlib.Path(sys.argv[1]), sys.argv[2], float(sys.argv[3])
with anny_body._cache_built():
    with open(log, "a") as f: f.write(name + " in\\n")
    time.sleep(seconds)
    with open(log, "a") as f: f.write(name + " out\\n")
"""


def test_the_body_model_cache_is_built_by_one_process_at_a_time(tmp_path, monkeypatch):
    """Two processes that find no cache: the second waits until the first has built (and marked) it."""
    env = {**os.environ, "SYNTHACT_CACHE_DIR": str(tmp_path / "cache")}
    log = tmp_path / "log"
    first = subprocess.Popen([sys.executable, "-c", HOLD_THE_BUILD, str(log), "first", "3"], env=env)
    while not (log.exists() and "first in" in log.read_text()):
        assert first.poll() is None, "the first process ended before it held the lock"
        time.sleep(0.05)
    second = subprocess.run([sys.executable, "-c", HOLD_THE_BUILD, str(log), "second", "0"], env=env)
    assert first.wait() == 0 and second.returncode == 0
    assert log.read_text().split("\n")[:4] == ["first in", "first out", "second in", "second out"]
    monkeypatch.setenv("SYNTHACT_CACHE_DIR", str(tmp_path / "cache"))
    announced = []
    assert anny_body._built_marker().is_file()
    assert anny_body.prepare_cache(announced.append) is False and not announced  # built: nothing to do


def test_stage_split_names_the_shares_largest_first():
    assert stage_split(Counter({"render_rgb": 6.0, "writing": 1.0, "scene_build": 3.0})) == \
        "rgb 60% scene_build 30% writing 10%"
    assert stage_split(Counter({"render_rgb": 8.0, "writing": 2.0}), Counter({"annotate": 1.0, "ray_cast": 2.0})) \
        == "rgb 80% writing 20% (beside rgb: ray_cast 20% annotate 10%)"
    assert stage_split(Counter()) == ""


def test_a_worker_warms_up_on_the_first_scene_before_it_renders_and_reports_stages(registry, tmp_path):
    cfg = config("warm", 2)
    sampler = SceneSampler.create(cfg, registry)
    first, second = sampler.sample_with_json(0), sampler.sample_with_json(1)
    host = RenderHost(test_double.factory(marker_dir=str(tmp_path), seconds=0.25), "cpu", 1, warm_up=first[1])
    assert (tmp_path / "warm_ups.log").read_text().split()[:2] == [str(os.getpid()), first[0].scene_id]
    assert not (tmp_path / "renders.log").exists()  # warming up renders nothing into the batch
    out = host.render(second[1], str(tmp_path / "batch"))
    assert out["ok"] and out["stages"] == {"render_rgb": 0.25}


class FakePrefs:
    """Cycles' add-on preferences on a machine with the given devices (type names)."""

    def __init__(self, found: list[str], backends=("CUDA", "OPTIX", "HIP", "ONEAPI")):
        self._type, self._backends = "NONE", backends
        self._found = [SimpleNamespace(type=t, use=True, name=f"{t} {i}") for i, t in enumerate(found)]
        self.devices = []

    @property
    def compute_device_type(self):
        return self._type

    @compute_device_type.setter
    def compute_device_type(self, kind):
        if kind not in (*self._backends, "NONE"):
            raise TypeError(kind)
        self._type = kind

    def get_devices(self):  # Cycles lists the chosen backend's devices and the CPU
        self.devices = [d for d in self._found if d.type in (self._type, "CPU")]


def test_cycles_uses_the_preferred_gpu_backend_and_not_the_cpu():
    from synthact.render.blender.engine import use_gpu
    prefs = FakePrefs(["CPU", "CUDA", "OPTIX"])
    assert use_gpu(prefs) == "OPTIX" and prefs.compute_device_type == "OPTIX"
    assert {d.type: d.use for d in prefs.devices} == {"CPU": False, "OPTIX": True}
    assert use_gpu(FakePrefs(["CPU", "CUDA"], backends=("CUDA",))) == "CUDA"  # a build without OptiX
    none = FakePrefs(["CPU"])
    assert use_gpu(none) is None and none.compute_device_type == "NONE"


@pytest.fixture()
def two_gpu_ray():
    if ray.is_initialized():
        ray.shutdown()
    ray.init(address="local", num_cpus=2, num_gpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def clip_pids(batch: Path) -> list[int]:
    return [json.loads(p.read_text())["pid"] for p in (batch / "clips").glob("*/stats.json")]


def test_one_worker_per_gpu_each_pinned_to_its_own(two_gpu_ray, registry, tmp_path):
    cfg = config("gpus", 6, device="auto")
    opts = DispatchOptions(show_progress=False, renderer=test_double.factory(marker_dir=str(tmp_path), seconds=1.0))
    result = run_batch(cfg, registry, 6, tmp_path / "out", opts)
    assert result.rendered == 6
    assert len(set(clip_pids(tmp_path / "out" / "gpus"))) == 2
    warm = [line.split() for line in (tmp_path / "warm_ups.log").read_text().splitlines()]
    first = SceneSampler.create(cfg, registry).sample(0).scene_id
    assert len({pid for pid, *_ in warm}) == 2  # two GPUs: two workers (the 2 CPUs would allow more)
    assert {(scene, device, threads) for _, scene, device, threads, _ in warm} == {(first, "gpu", "0")}
    assert sorted(gpu for *_, gpu in warm) == ["0", "1"]  # each worker sees its own GPU only


@pytest.mark.parametrize("cpus, workers, threads", [(2, 1, 2), (1, 1, 1), (8, 4, 2)])
def test_cpu_workers_are_two_threads_each_by_default(registry, tmp_path, cpus, workers, threads):
    """The measured best on 2 cores (BENCHMARKS.md): a 1-thread Blender keeps two threads busy anyway."""
    from synthact.dispatch.executor import Capacity
    from synthact.dispatch.manager import Dispatcher
    executor = SimpleNamespace(open=lambda: Capacity(gpus=0, cpus=cpus))
    dispatcher = Dispatcher(config("sizes", 1), registry, 1, str(tmp_path), DispatchOptions(show_progress=False),
                            executor)
    dispatcher._plan_workers()
    assert (dispatcher._count, dispatcher._cpus) == (workers, threads)
