"""The batch manager: stream SceneSpecs to a pool of worker processes, exactly once and resumably.

Each worker is its own process with one renderer (one Blender). The manager keeps one scene in flight
per worker (so its memory does not grow with the batch), retries failed scenes a bounded number of
times with the reason recorded, replaces workers that hang, crash or grow, and skips every scene whose
clip is already complete in the output location, which makes any rerun a resume. Running the workers
is the executor's job (executor.py); this module is the policy and imports no runtime.
"""
from __future__ import annotations

import json
import os
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from synthact.config import AssetRegistry, BatchConfig
from synthact.scene import SceneSampler

from .executor import Executor, WorkerLost
from .ledger import Event, Ledger
from .options import DispatchOptions
from .storage import BatchStore


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
    worker: object
    scenes: int = 0
    task: _Task | None = None
    pending: object = None
    started: float = 0.0


class Dispatcher:
    def __init__(self, config: BatchConfig, registry: AssetRegistry, n: int, out: str, options: DispatchOptions,
                 executor: Executor, console: Console | None = None):
        self.config, self.registry, self.n, self.options, self.executor = config, registry, n, options, executor
        self.store = BatchStore(f"{str(out).rstrip('/')}/{config.batch.name}")
        self.console = console or Console(stderr=True)
        self.result = BatchResult(self.store.uri, n)
        self.ledger = Ledger(self.store)

    # --- workers ---------------------------------------------------------------------------------

    def _plan_workers(self) -> None:
        """GPU workers when the cluster has GPUs (and the batch allows them), else CPU workers; as many as
        the cluster can hold (never more: an unplaceable worker would stall its scenes)."""
        capacity = self.executor.open()
        if capacity.dashboard and self.options.show_progress:
            self.console.print(capacity.dashboard, highlight=False)
        res = self.options.resources
        self._gpu = capacity.gpus >= 1 and self.config.render.device != "cpu"
        room = capacity.gpus if self._gpu else capacity.cpus // res.cpus_per_worker
        if room < 1:
            raise RuntimeError(f"the cluster has no room for a render worker ({res.cpus_per_worker} CPUs each; "
                               f"it has {capacity.cpus} CPUs, {capacity.gpus} GPUs)")
        if res.workers and res.workers > room:
            self.console.print(f"[yellow]{res.workers} workers requested but the cluster holds {room}; using {room}")
        self._count = min(res.workers or room, room)

    def _spawn(self):
        env = {k: v for k, v in os.environ.items() if k.startswith(("SYNTHACT_", "ANNY_"))}
        env["SYNTHACT_ASSETS_DIR"] = str(self.registry.directory)
        env.update(self.options.env)
        device, threads = ("gpu", 0) if self._gpu else ("cpu", self.options.resources.cpus_per_worker)
        host_args = (self.options.renderer, device, threads, env, self.options.previews)
        return self.executor.spawn(host_args, self._gpu, self.options.resources.cpus_per_worker)

    def _replace(self, slot: _Slot) -> None:
        self.executor.kill(slot.worker)
        slot.worker, slot.scenes = self._spawn(), 0

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
        try:
            self._plan_workers()
            self.store.remove_stale_temporaries()
            self.store.write_text("config.json", json.dumps(self.config.model_dump(mode="json"), indent=2))
            self.store.write_text("summary.json", json.dumps({"requested": self.n, "finished": False}))
            t0 = time.perf_counter()
            slots = [_Slot(self._spawn()) for _ in range(self._count)]
            self._loop(slots)
            self.result.seconds = time.perf_counter() - t0
            for slot in slots:
                self.executor.kill(slot.worker)
        finally:
            self.ledger.flush()
            self.store.write_text("summary.json", json.dumps(self.result.as_dict(), indent=2) + "\n")
            self.executor.close()
        return self.result

    def _loop(self, slots: list[_Slot]) -> None:
        tasks = self._tasks()
        retry: deque[_Task] = deque()
        exhausted = False
        timeout = self.options.failures.scene_timeout_s
        t0 = time.perf_counter()
        columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("{task.fields[rate]} clips/min"), TextColumn("failed {task.fields[failed]}"),
                   TimeElapsedColumn(), TimeRemainingColumn())
        with Progress(*columns, console=self.console, disable=not self.options.show_progress) as bar:
            task_bar = bar.add_task(f"render {self.config.batch.name}", total=self.n, rate="-", failed=0)

            def tick():
                minutes = (time.perf_counter() - t0) / 60
                rate = f"{self.result.rendered / minutes:.1f}" if self.result.rendered and minutes > 0 else "-"
                failed = sum(self.result.failed.values())
                bar.update(task_bar, completed=self.result.rendered + self.result.already_complete + failed,
                           rate=rate, failed=failed)

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
                            slot.pending = self.executor.submit(slot.worker, task.spec_json, self.store.uri)
                busy = [s for s in slots if s.task is not None]
                if not busy:
                    break
                ready = self.executor.wait([s.pending for s in busy], timeout_s=0.5)
                for slot in busy:
                    if any(slot.pending is r for r in ready):
                        self._finish(slot, retry)
                    elif time.monotonic() - slot.started > timeout:
                        self._failed(slot, "timeout", f"no result after {timeout:.0f} s", retry, replace=True)
                tick()

    def _finish(self, slot: _Slot, retry: deque) -> None:
        task = slot.task
        try:
            out = self.executor.result(slot.pending)
        except WorkerLost as lost:
            self._failed(slot, lost.reason, lost.message, retry, replace=lost.replace)
            return
        slot.task = None
        if not out["ok"]:  # the scene itself is at fault: no retry
            self._record_failure(task, out["reason"], out["message"])
            return
        self.result.rendered += 1
        self.ledger.record(Event(task.index, task.scene_id, "done", task.attempt, seconds=round(out["seconds"], 3)))
        slot.scenes += 1
        recycle = self.options.recycling
        grown = out["rss_mb"] > out["start_rss_mb"] * (1 + recycle.memory_growth)
        if slot.scenes >= recycle.after_scenes or grown:
            self._replace(slot)

    def _failed(self, slot: _Slot, reason: str, message: str, retry: deque, replace: bool) -> None:
        task = slot.task
        if replace:
            self._replace(slot)
        slot.task = None
        if task.attempt < self.options.failures.max_attempts:
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
              options: DispatchOptions | None = None, console: Console | None = None,
              executor: Executor | None = None) -> BatchResult:
    """Render scenes 0..n-1 of a batch into OUT/<batch>/ (resuming); Ray runs the workers unless an
    executor is given."""
    options = options or DispatchOptions()
    if executor is None:
        from .ray_executor import RayExecutor
        executor = RayExecutor(options.resources.address)
    return Dispatcher(config, registry, n, str(out), options, executor, console).run()
