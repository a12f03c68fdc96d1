"""The batch manager: stream SceneSpecs to a pool of worker processes, exactly once and resumably.

Each worker is its own process with one renderer (one Blender). The manager keeps one scene in flight
per worker (so its memory does not grow with the batch), retries failed scenes a bounded number of
times with the reason recorded, replaces workers that hang, crash or grow, and skips every scene whose
clip is already complete in the output location, which makes any rerun a resume. Work goes only to
workers that have been placed and started, and the pool follows the cluster's capacity as nodes come
and go. One manager per batch (lock.py). Running the workers is the executor's job (executor.py); this
module is the policy and imports no runtime.
"""
from __future__ import annotations

import json
import signal
import threading
import time
from collections import Counter, deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from synthact.config import AssetRegistry, BatchConfig
from synthact.progress import Bars
from synthact.scene import SceneSampler

from .executor import BatchError, Capacity, Executor, WorkerLost
from .ledger import Event, Ledger, latest_events
from .lock import BatchLock
from .options import CPUS_PER_WORKER, DispatchOptions, worker_environment
from .storage import BatchStore

REBALANCE_EVERY_S = 2.0  # how often the pool is matched to the cluster's capacity
STATES = ("running", "finished", "interrupted", "error")
# What a worker reports when the output cannot take more (host.output_error): the batch stops, no scene is charged.
OUTPUT_STOPS = {"disk_full": "the output location is full ({}); free space and rerun to resume",
                "output_unwritable": "the output location cannot be written ({}); make it writable and rerun to resume"}


@dataclass
class BatchResult:
    uri: str
    requested: int
    rendered: int = 0
    already_complete: int = 0
    failed: Counter = field(default_factory=Counter)
    retries: Counter = field(default_factory=Counter)
    warnings: Counter = field(default_factory=Counter)  # e.g. clips without a preview
    seconds: float = 0.0
    state: str = "running"  # one of STATES
    reason: str = ""  # why the run was interrupted or ended in an error
    started: float = field(default_factory=time.time)  # when the run began (seconds since the epoch)

    def as_dict(self) -> dict:
        return {"uri": self.uri, "requested": self.requested, "rendered": self.rendered,
                "already_complete": self.already_complete, "failed": dict(self.failed),
                "retries": dict(self.retries), "warnings": dict(self.warnings), "seconds": round(self.seconds, 2),
                "state": self.state, "reason": self.reason, "finished": self.state == "finished",
                "started": round(self.started, 3)}


class StopRequest:
    """Asks a running batch to stop soon (a signal, a cancel); safe to call from any thread."""

    def __init__(self):
        self._event = threading.Event()
        self.reason = ""

    def request(self, reason: str) -> None:
        if not self._event.is_set():
            self.reason = reason
            self._event.set()

    def __bool__(self) -> bool:
        return self._event.is_set()


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
    started: float = 0.0  # when the task was handed to the (started) worker: the scene's clock


class Dispatcher:
    def __init__(self, config: BatchConfig, registry: AssetRegistry, n: int, out: str, options: DispatchOptions,
                 executor: Executor, console: Console | None = None, stop: StopRequest | None = None):
        self.config, self.registry, self.n, self.options, self.executor = config, registry, n, options, executor
        self.store = BatchStore(f"{str(out).rstrip('/')}/{config.batch.name}")
        self.console = console or Console(stderr=True)
        self.bars = Bars("clips", enabled=options.show_progress, console=self.console)
        self.result = BatchResult(self.store.uri, n)
        self.ledger = Ledger(self.store)
        self.lock = BatchLock(self.store)
        self.stop = stop if stop is not None else StopRequest()
        self._error = ""  # set when the batch cannot go on (a full disk, no worker can be placed)
        self._rebalanced = 0.0
        self._unplaced_since: float | None = None
        self._stages: Counter = Counter()  # seconds per render stage over the clips rendered
        self._beside: Counter = Counter()  # seconds of the stages that ran beside the RGB render
        self._warm_up: str | None = None  # the batch's first scene: what each worker renders small when it starts

    # --- workers ---------------------------------------------------------------------------------

    def _room(self, capacity: Capacity) -> int:
        return capacity.gpus if self._gpu else capacity.cpus // self._cpus

    def _plan_workers(self) -> None:
        """GPU workers when the cluster has GPUs (and the batch allows them), else CPU workers; as many as
        the cluster can hold (never more: an unplaceable worker would stall its scenes)."""
        self.bars.log(f"{self.config.batch.name}: starting the runtime "
                      f"({self.options.resources.address or 'a Ray started here'})")
        capacity = self.executor.open()
        res = self.options.resources
        self._gpu = capacity.gpus >= 1 and self.config.render.device != "cpu"
        self._cpus = res.cpus_per_worker or max(min(CPUS_PER_WORKER, capacity.cpus), 1)
        room = self._room(capacity)
        if room < 1:
            raise BatchError(f"the cluster has no room for a render worker of {self._cpus} CPUs (it has "
                             f"{capacity.cpus} CPUs and {capacity.gpus} GPUs); lower --cpus-per-worker")
        if capacity.dashboard and self.options.show_progress:
            self.bars.log(capacity.dashboard)
        if res.workers and res.workers > room:
            self.bars.log(f"[yellow]{res.workers} workers requested but the cluster holds {room}; using {room}",
                          always=True)
        self._count = min(res.workers or room, room)
        each = "a GPU" if self._gpu else f"{self._cpus} CPU{'s' if self._cpus > 1 else ''}"
        self.bars.log(f"{self.config.batch.name}: the cluster has {capacity.cpus} CPUs and {capacity.gpus} GPUs; "
                      f"starting {self._count} render worker{'s' if self._count > 1 else ''} of {each}: each loads "
                      f"Blender and the body models, then renders a small warm-up scene (~10-60 s)")

    def _spawn(self):
        env = {**worker_environment(), "SYNTHACT_ASSETS_DIR": str(self.registry.directory), **self.options.env}
        device, threads = ("gpu", 0) if self._gpu else ("cpu", self._cpus)
        if self._warm_up is None and self.n:
            self._warm_up = SceneSampler.create(self.config, self.registry).sample_with_json(0)[1]
        host_args = (self.options.renderer, device, threads, env, self.options.previews, self._warm_up)
        return self.executor.spawn(host_args, self._gpu, self._cpus)

    def _replace(self, slot: _Slot) -> None:
        self.executor.kill(slot.worker)
        slot.worker, slot.scenes = self._spawn(), 0

    def _rebalance(self, slots: list[_Slot]) -> None:
        """Match the pool to the capacity the cluster has now: when nodes are lost, workers that cannot be
        placed are dropped (they hold no scene: work goes only to started workers); when nodes come, workers
        are added up to --workers (or as many as fit)."""
        now = time.monotonic()
        if now - self._rebalanced < REBALANCE_EVERY_S:
            return
        self._rebalanced = now
        room = self._room(self.executor.capacity())
        waiting = [s for s in slots if not self.executor.ready(s.worker)]
        while len(slots) > max(room, 1) and waiting:
            slot = waiting.pop()
            self.executor.kill(slot.worker)
            slots.remove(slot)
        while len(slots) < min(self.options.resources.workers or room, room):
            slots.append(_Slot(self._spawn()))
        if waiting and len(waiting) == len(slots):  # not one worker is running
            self._unplaced_since = self._unplaced_since or now
            limit = self.options.failures.worker_start_timeout_s
            if now - self._unplaced_since > limit:
                self._error = (f"no render worker could be started for {limit:.0f} s (the cluster has room for "
                               f"{room}); rerun when it has capacity")
        else:
            self._unplaced_since = None

    # --- the run ---------------------------------------------------------------------------------

    def run(self) -> BatchResult:
        try:
            self.lock.check()  # refuse early, before starting a runtime; acquire() below decides
            if self._all_complete():
                return self._record_all_complete()
            try:
                self._plan_workers()  # starts the runtime, which installs its own SIGTERM handler
                with self._signals_stop_the_batch():
                    self.lock.acquire()  # before anything is written
                    try:
                        self._check_config()
                        self._render()
                    finally:
                        self.lock.release()
            finally:
                self.executor.close()
        except OSError as exc:  # the manager's own writes (the lock, config.json): the output cannot be written
            where = exc.filename or self.store.uri
            raise BatchError(f"{self.store.uri}: the output cannot be written ({exc.strerror or exc}: {where}); "
                             f"fix it and rerun to resume") from None
        return self.result

    def _all_complete(self) -> bool:
        """Every scene's clip is complete already (one listing; the scenes are sampled only when it holds
        enough clips)."""
        if self.n == 0:
            return True
        try:
            if len([name for name in self.store.list("clips") if not name.startswith(".")]) < self.n:
                return False  # too few clip folders (one listing): no need to read their manifests
            complete = self.store.complete_ids(self.options.verify)
        except OSError:
            return False  # the run itself reports what is wrong with the output
        if len(complete) < self.n:
            return False
        sampler = SceneSampler.create(self.config, self.registry)
        return all(spec.scene_id in complete for spec in sampler.iter_specs(0, self.n))

    def _record_all_complete(self) -> BatchResult:
        """Nothing to render: no runtime and no workers are started; the ledger and summary are brought up to
        date under the lock."""
        t0 = time.perf_counter()
        self.lock.acquire()
        try:
            self._check_config()
            for _ in self._tasks():
                pass
            self.result.state = "finished"
            self.result.seconds = time.perf_counter() - t0
            self.ledger.flush()
            self._write_summary()
        finally:
            self.lock.release()
        if self.options.show_progress:
            self.bars.log(f"{self.store.uri}: all {self.n} clips are complete already; nothing to render")
        return self.result

    @contextmanager
    def _signals_stop_the_batch(self):
        """SIGTERM and SIGINT stop the batch cleanly (main thread only; signals go to the main thread)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
        for sig in previous:
            signal.signal(sig, lambda signum, _: self.stop.request(signal.Signals(signum).name))
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _check_config(self) -> None:
        """Refuse to mix two configs in one batch folder (batch.count and batch.output may differ)."""
        before = self.store.read_json("config.json")
        where = config_difference(before, self.config) if before is not None else ""
        if where:
            raise BatchError(f"{self.store.uri} holds batch {self.config.batch.name!r} rendered from another config "
                             f"(config.json differs at {where}); use another batch name or output folder")

    def _render(self) -> None:
        t0 = time.perf_counter()
        slots: list[_Slot] = []
        try:
            before = self.store.read_json("summary.json") or {}
            if before.get("state") == "running":  # its manager is gone: this run holds the lock now
                self.bars.log(f"[yellow]{self.store.uri}: the last run stopped without recording its end (killed, or "
                              f"its machine went down); resuming", always=True)
            self.store.create()
            self.store.remove_stale_temporaries()
            self.store.write_text("config.json", json.dumps(self.config.model_dump(mode="json"), indent=2))
            self._write_summary()
            slots = [_Slot(self._spawn()) for _ in range(self._count)]
            self._loop(slots)
            if self._error:
                self.result.state, self.result.reason = "error", self._error
            elif self.stop:
                self.result.state, self.result.reason = "interrupted", self.stop.reason
            else:
                self.result.state = "finished"
        except BaseException as exc:
            self.result.state, self.result.reason = "error", f"{type(exc).__name__}: {str(exc)[:300]}"
            raise
        finally:
            self._settle(slots)
            self.result.seconds = time.perf_counter() - t0
            self.ledger.flush()
            if self.ledger.write_error:
                self.bars.log(f"[yellow]{self.store.uri}: the ledger could not be written: "
                              f"{self.ledger.write_error}; the next run records what it finds", always=True)
            self._write_summary()

    def _write_summary(self) -> None:
        """Best-effort: the summary describes the run; the clips are the record."""
        try:
            self.store.write_text("summary.json", json.dumps(self.result.as_dict(), indent=2) + "\n")
        except OSError as exc:
            self.bars.log(f"[yellow]{self.store.uri}: summary.json could not be written ({exc.strerror or exc})",
                          always=True)

    def _settle(self, slots: list[_Slot], grace_s: float = 10.0) -> None:
        """Stop every worker; once their processes have ended (kills are asynchronous), a scene that was in
        flight and whose clip is complete on disk is recorded as done."""
        deadline = time.monotonic() + grace_s
        for slot in slots:
            self.executor.kill(slot.worker, wait_s=max(deadline - time.monotonic(), 0.1) if slot.task else 0.0)
        for slot in slots:
            if slot.task is not None and self.store.is_complete(slot.task.scene_id):
                self._record_done(slot.task, time.monotonic() - slot.started, "complete on disk when the run stopped")
        self._remove_temporaries()

    def _remove_temporaries(self) -> None:
        """Half-written clips of workers that have ended (a read-only output keeps them: the next run cleans)."""
        try:
            self.store.remove_stale_temporaries()
        except OSError:
            pass

    # --- the loop --------------------------------------------------------------------------------

    def _tasks(self):
        """Every scene to render, or None for a scene complete on disk; the ledger is brought in line with
        the disk on the way (found clips recorded done, vanished ones incomplete)."""
        sampler = SceneSampler.create(self.config, self.registry)
        verify = self.options.verify
        known = self.store.complete_ids(verify) if self.store.remote else None
        latest, _ = latest_events(self.store)
        for index in range(self.n):
            spec, line = sampler.sample_with_json(index)
            problem = ("" if spec.scene_id in known else "not complete in the store") if known is not None \
                else self.store.clip_problem(spec.scene_id, verify)
            recorded = latest.get(spec.scene_id, {}).get("outcome")
            if not problem:
                self.result.already_complete += 1
                if recorded != "done":
                    self.ledger.record(Event(index, spec.scene_id, "done", 0, message="found complete on disk"))
                yield None
            else:
                if recorded == "done":
                    self.ledger.record(Event(index, spec.scene_id, "incomplete", 0, message=problem))
                yield _Task(index, spec.scene_id, line)

    def _loop(self, slots: list[_Slot]) -> None:
        tasks = self._tasks()
        retry: deque[_Task] = deque()
        exhausted = False
        timeout = self.options.failures.scene_timeout_s
        started, t0 = False, time.monotonic()
        name = f"render {self.config.batch.name}"

        def tick():
            if not started:  # the rate and ETA count from when workers render, not from their warm-up
                return
            failed = sum(self.result.failed.values())
            self.bars(name, self.result.rendered + self.result.already_complete + failed, self.n, failed=failed,
                      skipped=self.result.already_complete, detail=stage_split(self._stages, self._beside))

        with self.bars:
            while not self.stop and not self._error:
                self._rebalance(slots)
                if not started and any(self.executor.ready(s.worker) for s in slots):
                    started = True
                    self.bars.log(f"{self.config.batch.name}: workers started in {time.monotonic() - t0:.0f} s; "
                                  f"rendering")
                for slot in slots:
                    while slot.task is None and (retry or not exhausted) and self.executor.ready(slot.worker):
                        task = retry.popleft() if retry else next(tasks, "end")
                        if task == "end":
                            exhausted = True
                        elif task is None:
                            tick()  # already complete
                        else:
                            slot.task, slot.started = task, time.monotonic()
                            slot.pending = self.executor.submit(slot.worker, task.spec_json, self.store.uri)
                busy = [s for s in slots if s.task is not None]
                if not busy and exhausted and not retry:
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
        if not out["ok"] and out["reason"] in OUTPUT_STOPS:  # nothing more can be written: stop, uncharged
            self._error = OUTPUT_STOPS[out["reason"]].format(out["message"])
            return
        if not out["ok"]:  # the scene itself is at fault: no retry
            self._record_failure(task, out["reason"], out["message"])
            return
        self._record_done(task, out["seconds"], out.get("warning", ""))
        stages, beside = out.get("stages", {}), set(out.get("beside_render", ()))
        waited = {k: v for k, v in stages.items() if k not in beside}  # what the clip's time is made of
        self._stages.update(waited)
        self._beside.update({k: v for k, v in stages.items() if k in beside})
        if stages:
            self._stages["writing"] += max(out["seconds"] - sum(waited.values()), 0.0)  # the clip and its preview
        slot.scenes += 1
        recycle = self.options.recycling
        grown = out["rss_mb"] > out["start_rss_mb"] * (1 + recycle.memory_growth)
        if slot.scenes >= recycle.after_scenes or grown:
            self._replace(slot)

    def _record_done(self, task: _Task, seconds: float, warning: str = "") -> None:
        self.result.rendered += 1
        self.ledger.record(Event(task.index, task.scene_id, "done", task.attempt, seconds=round(seconds, 3),
                                 message=warning))
        if warning:
            kind = warning.split(":", 1)[0]
            if not self.result.warnings[kind]:
                self.bars.log(f"[yellow]scene {task.index} ({task.scene_id}): {warning[:200]}", always=True)
            self.result.warnings[kind] += 1

    def _failed(self, slot: _Slot, reason: str, message: str, retry: deque, replace: bool) -> None:
        task = slot.task
        if replace:
            self._replace(slot)
            self._remove_temporaries()  # the lost worker's half-written clip, once its process has ended
        slot.task = None
        if self.store.is_complete(task.scene_id):  # the worker went after the clip was finished
            self._record_done(task, time.monotonic() - slot.started, f"no report ({reason}: {message[:150]})")
            return
        if task.attempt < self.options.failures.max_attempts:
            self.result.retries[reason] += 1
            self.ledger.record(Event(task.index, task.scene_id, "retry", task.attempt, reason, message=message))
            retry.append(_Task(task.index, task.scene_id, task.spec_json, task.attempt + 1))
        else:
            self._record_failure(task, reason, message)

    def _record_failure(self, task: _Task, reason: str, message: str) -> None:
        self.result.failed[reason] += 1
        self.ledger.record(Event(task.index, task.scene_id, "failed", task.attempt, reason, message=message))
        self.bars.log(f"[red]scene {task.index} ({task.scene_id}) failed: {reason}: {message[:200]}", always=True)


def stage_split(seconds: Counter, beside: Counter | None = None) -> str:
    """Where the clips' time went, as shares of it: "rgb 71% writing 12% ..." (largest first), then the stages
    that ran beside the RGB render, as shares of the same time: "(beside rgb: ray_cast 9% ...)"."""
    total = sum(seconds.values())
    if total <= 0:
        return ""
    text = " ".join(f"{stage.removeprefix('render_')} {100 * s / total:.0f}%" for stage, s in seconds.most_common())
    if beside:
        text += " (beside rgb: " + " ".join(f"{stage} {100 * s / total:.0f}%" for stage, s in beside.most_common())
        text += ")"
    return text


def config_difference(recorded: dict, config: BatchConfig) -> str:
    """The first field (dotted path) where a batch folder's config.json and `config` would make different
    scenes; '' when they agree. How many scenes and where they go (batch.count, batch.output) may differ, and
    fields that config.json lacks (added by a later version, with their defaults) are not compared."""
    def first(old, new, path: str) -> str:
        if isinstance(old, dict) and isinstance(new, dict):
            for key in old:
                if f"{path}.{key}".strip(".") in ("batch.count", "batch.output"):
                    continue
                if key not in new:
                    return f"{path}.{key}".strip(".")
                found = first(old[key], new[key], f"{path}.{key}")
                if found:
                    return found
            return ""
        return "" if old == new else path.strip(".")
    return first(recorded, config.model_dump(mode="json"), "")


def run_batch(config: BatchConfig, registry: AssetRegistry, n: int, out: str | Path,
              options: DispatchOptions | None = None, console: Console | None = None,
              executor: Executor | None = None, stop: StopRequest | None = None) -> BatchResult:
    """Render scenes 0..n-1 of a batch into OUT/<batch>/ (resuming); Ray runs the workers unless an
    executor is given. Raises BatchError (one line) when the batch cannot start; a run that stops early
    (a signal, `stop`, a full disk) returns with state interrupted or error and the reason."""
    options = options or DispatchOptions()
    if executor is None:
        from .ray_executor import RayExecutor
        executor = RayExecutor(options.resources.address, options.resources.dashboard)
    return Dispatcher(config, registry, n, str(out), options, executor, console, stop).run()
