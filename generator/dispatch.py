"""The batch manager: stream SceneSpecs to a pool of Ray render actors, exactly once and resumably.

Each actor is its own process with one Blender. The manager keeps one scene in flight per actor (so its
memory does not grow with the batch), retries failed scenes a bounded number of times with the
reason recorded, kills and replaces actors that hang, crash or grow, and skips every scene whose clip
is already complete in the output location, which makes any rerun a resume.
"""
from __future__ import annotations

import json
import os
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, \
    TimeRemainingColumn

from .assets import AssetRegistry
from .config import BatchConfig
from .ledger import Event, Ledger
from .sampler import SceneSampler
from .storage import BatchStore

RETRYABLE = ("crash", "timeout", "out_of_memory")


@dataclass
class DispatchOptions:
    address: str | None = None  # a Ray cluster; None: RAY_ADDRESS, else a local Ray started in-process
    workers: int | None = None  # render actors; default: one per GPU, or one per cpus_per_worker CPUs
    cpus_per_worker: int = 1  # benchmarked: 2 workers x 1 thread beat 1 x 2 threads on 2 cores (BENCHMARKS.md)
    renderer: str = "blender"  # "test-double": no Blender, for orchestration tests and benchmarks
    double: dict = field(default_factory=dict)  # options of the test double
    scene_timeout_s: float = 1800.0
    max_attempts: int = 3
    recycle_after: int = 100  # scenes per actor process before a fresh one takes over
    recycle_memory_growth: float = 0.5  # ... or once its memory grew this much over its first scene
    previews: bool = True
    show_progress: bool = True


@dataclass
class BatchResult:
    uri: str
    requested: int
    rendered: int = 0
    already_complete: int = 0
    failed: Counter = field(default_factory=Counter)
    retries: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {"uri": self.uri, "requested": self.requested, "rendered": self.rendered,
                "already_complete": self.already_complete, "failed": dict(self.failed),
                "retries": dict(self.retries), "seconds": round(self.seconds, 2), "finished": True}


@dataclass
class _Task:
    index: int
    scene_id: str
    spec_json: str
    attempt: int = 1


@dataclass
class _Slot:
    handle: object
    scenes: int = 0
    task: _Task | None = None
    ref: object = None
    started: float = 0.0


def connect(address: str | None) -> bool:
    """Connect to Ray; returns True when this call started a local Ray (to be shut down afterwards)."""
    import ray
    if ray.is_initialized():
        return False
    address = address or os.environ.get("RAY_ADDRESS")
    kwargs = dict(log_to_driver=False, logging_level="WARNING", configure_logging=True)
    if address:
        ray.init(address=address, **kwargs)
        return False
    ray.init(include_dashboard=True, **kwargs)
    return True


class Dispatcher:
    def __init__(self, config: BatchConfig, registry: AssetRegistry, n: int, out: str, options: DispatchOptions,
                 console: Console | None = None):
        self.config, self.registry, self.n, self.options = config, registry, n, options
        self.store = BatchStore(f"{str(out).rstrip('/')}/{config.batch.name}")
        self.console = console or Console(stderr=True)
        self.result = BatchResult(self.store.uri, n)
        self.ledger = Ledger(self.store)

    # --- actors ----------------------------------------------------------------------------------

    def _actor_options(self) -> tuple[dict, str]:
        import ray
        resources = ray.cluster_resources()
        device = self.config.render.device
        use_gpu = resources.get("GPU", 0) >= 1 and device != "cpu"
        if use_gpu:
            return {"num_gpus": 1, "num_cpus": 1}, "gpu"
        return {"num_cpus": self.options.cpus_per_worker}, "cpu"

    def _worker_count(self, use_gpu: bool) -> int:
        """As many actors as the cluster can hold (never more: an unplaceable actor would stall its scenes)."""
        import ray
        resources = ray.cluster_resources()
        if use_gpu:
            capacity = int(resources.get("GPU", 0))
        else:
            capacity = int(resources.get("CPU", 0)) // self.options.cpus_per_worker
        if capacity < 1:
            raise RuntimeError(f"the Ray cluster has no room for a render actor ({self.options.cpus_per_worker} CPUs "
                               f"each; cluster resources: {resources})")
        if self.options.workers and self.options.workers > capacity:
            self.console.print(f"[yellow]{self.options.workers} workers requested but the cluster holds {capacity}; "
                               f"using {capacity}")
        return min(self.options.workers or capacity, capacity)

    def _new_actor(self):
        import ray

        from render_workers.actor import RenderActor
        env = {k: v for k, v in os.environ.items() if k.startswith(("SYNTHACT_", "ANNY_"))}
        env["SYNTHACT_ASSETS_DIR"] = str(self.registry.directory)
        remote = ray.remote(RenderActor).options(max_restarts=0, max_task_retries=0, **self._resources)
        return remote.remote(self.options.renderer, self._device, self._threads, env, self.options.double,
                             self.options.previews)

    # --- the loop --------------------------------------------------------------------------------

    def _tasks(self):
        sampler = SceneSampler.create(self.config, self.registry)
        known = self.store.complete_ids() if self.store.remote else None
        for index in range(self.n):
            spec, line = sampler.sample_with_json(index)
            done = spec.scene_id in known if known is not None else self.store.is_complete(spec.scene_id)
            if done:
                self.result.already_complete += 1
                yield None
            else:
                yield _Task(index, spec.scene_id, line)

    def run(self) -> BatchResult:
        import ray
        started_ray = connect(self.options.address)
        try:
            self._resources, self._device = self._actor_options()
            self._threads = 0 if self._device == "gpu" else self.options.cpus_per_worker
            self.store.remove_stale_temporaries()
            self.store.write_text("config.json", json.dumps(self.config.model_dump(mode="json"), indent=2))
            self.store.write_text("summary.json", json.dumps({"requested": self.n, "finished": False}))
            t0 = time.perf_counter()
            slots = [_Slot(self._new_actor()) for _ in range(self._worker_count(self._device == "gpu"))]
            self._loop(slots)
            self.result.seconds = time.perf_counter() - t0
            for slot in slots:
                ray.kill(slot.handle)
        finally:
            self.ledger.flush()
            self.store.write_text("summary.json", json.dumps(self.result.as_dict(), indent=2) + "\n")
            if started_ray:
                ray.shutdown()
        return self.result

    def _loop(self, slots: list[_Slot]) -> None:
        import ray
        tasks = self._tasks()
        retry: deque[_Task] = deque()
        exhausted = False
        t0 = time.perf_counter()
        columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("{task.fields[rate]} clips/min"), TextColumn("failed {task.fields[failed]}"),
                   TimeElapsedColumn(), TimeRemainingColumn())
        with Progress(*columns, console=self.console, disable=not self.options.show_progress) as bar:
            task_bar = bar.add_task(f"render {self.config.batch.name}", total=self.n, rate="-", failed=0)

            def tick():
                minutes = (time.perf_counter() - t0) / 60
                rate = f"{self.result.rendered / minutes:.1f}" if self.result.rendered and minutes > 0 else "-"
                bar.update(task_bar, completed=self.result.rendered + self.result.already_complete
                           + sum(self.result.failed.values()), rate=rate, failed=sum(self.result.failed.values()))

            while True:
                for slot in slots:
                    while slot.task is None and (retry or not exhausted):
                        task = retry.popleft() if retry else next(tasks, "end")
                        if task == "end":
                            exhausted = True
                        elif task is None:
                            tick()  # already complete
                        else:
                            slot.task, slot.started = task, time.monotonic()
                            slot.ref = slot.handle.render.remote(task.spec_json, self.store.uri)
                busy = [s for s in slots if s.task is not None]
                if not busy:
                    break
                ready, _ = ray.wait([s.ref for s in busy], num_returns=1, timeout=0.5)
                for slot in busy:
                    if slot.ref in ready:
                        self._finish(slot, slots, retry)
                    elif time.monotonic() - slot.started > self.options.scene_timeout_s:
                        self._failed(slot, "timeout", f"no result after {self.options.scene_timeout_s:.0f} s",
                                     retry, replace=True)
                tick()

    def _finish(self, slot: _Slot, slots: list[_Slot], retry: deque) -> None:
        import ray
        from ray.exceptions import OutOfMemoryError, RayActorError, RayTaskError
        task = slot.task
        try:
            out = ray.get(slot.ref)
        except OutOfMemoryError as exc:
            self._failed(slot, "out_of_memory", str(exc).splitlines()[0], retry, replace=True)
            return
        except RayActorError as exc:  # the process died: killed, crashed, or its node went away
            self._failed(slot, "crash", str(exc).splitlines()[0][:300], retry, replace=True)
            return
        except RayTaskError as exc:  # an exception inside the render; the process lives on
            self._failed(slot, "crash", str(exc.cause if exc.cause else exc)[:300], retry, replace=False)
            return
        if not out["ok"]:  # the scene itself is at fault: no retry
            self._record_failure(task, out["reason"], out["message"])
            slot.task = None
            return
        self.result.rendered += 1
        self.ledger.record(Event(task.index, task.scene_id, "done", task.attempt, seconds=round(out["seconds"], 3)))
        slot.task = None
        slot.scenes += 1
        grown = out["rss_mb"] > out["start_rss_mb"] * (1 + self.options.recycle_memory_growth)
        if slot.scenes >= self.options.recycle_after or grown:
            ray.kill(slot.handle)
            slot.handle, slot.scenes = self._new_actor(), 0

    def _failed(self, slot: _Slot, reason: str, message: str, retry: deque, replace: bool) -> None:
        import ray
        task = slot.task
        if replace:
            ray.kill(slot.handle)
            slot.handle, slot.scenes = self._new_actor(), 0
        slot.task = None
        if task.attempt < self.options.max_attempts:
            self.result.retries[reason] += 1
            self.ledger.record(Event(task.index, task.scene_id, "retry", task.attempt, reason, message=message))
            retry.append(_Task(task.index, task.scene_id, task.spec_json, task.attempt + 1))
        else:
            self._record_failure(task, reason, message)

    def _record_failure(self, task: _Task, reason: str, message: str) -> None:
        self.result.failed[reason] += 1
        self.ledger.record(Event(task.index, task.scene_id, "failed", task.attempt, reason, message=message))
        self.console.print(f"[red]scene {task.index} ({task.scene_id}) failed: {reason}: {message[:200]}")


def run_batch(config: BatchConfig, registry: AssetRegistry, n: int, out: str | Path,
              options: DispatchOptions | None = None, console: Console | None = None) -> BatchResult:
    return Dispatcher(config, registry, n, str(out), options or DispatchOptions(), console).run()
