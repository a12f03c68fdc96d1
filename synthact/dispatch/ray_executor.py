"""The Ray executor: one Ray actor per worker process (the only dispatch module that imports ray)."""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import ray
from ray.exceptions import OutOfMemoryError, RayActorError, RayTaskError, WorkerCrashedError

from .executor import Capacity, WorkerLost
from .host import RenderHost


def connect(address: str | None, dashboard: bool = False) -> bool:
    """Connect to Ray; returns True when this call started a local Ray (to be shut down afterwards), with its
    dashboard when asked.

    Without an address (and no RAY_ADDRESS) Ray is started in this process: a plain ray.init() would
    attach to whatever cluster was last started on the machine (/tmp/ray/ray_current_cluster).
    """
    if ray.is_initialized():
        return False
    address = address or os.environ.get("RAY_ADDRESS")
    kwargs = dict(log_to_driver=False, logging_level="ERROR", configure_logging=True)
    if address:
        ray.init(address=address, **kwargs)
        return False
    ray.init(address="local", include_dashboard=dashboard, **kwargs)
    return True


def dashboard_line(local: bool) -> str:
    """The Ray dashboard's URL and how to get past its token authentication (Ray 2.60 enables it by default)."""
    node = getattr(ray._private.worker.global_worker, "node", None)  # None for Ray Client (ray://) drivers
    url = getattr(node, "webui_url", "") or ""
    if not url:
        return ""
    url = url if "://" in url else f"http://{url}"
    if os.environ.get("RAY_AUTH_MODE", "").lower() == "disabled":
        return f"Ray dashboard: {url}"
    token = "`ray get-auth-token` prints it" if local else "the cluster's RAY_AUTH_TOKEN"
    return f"Ray dashboard: {url} (it asks for a token: {token})"


class _Worker:
    """An actor and the reference that resolves, once Ray has placed and constructed it, to its process."""

    def __init__(self, actor, started):
        self.actor, self.started, self.ready = actor, started, False


class RayExecutor:
    def __init__(self, address: str | None = None, dashboard: bool = False):
        self.address, self.dashboard = address, dashboard
        self._started = False

    def open(self) -> Capacity:
        self._started = connect(self.address, self.dashboard)
        return self.capacity()

    def capacity(self) -> Capacity:
        resources = ray.cluster_resources()  # of the nodes alive now
        return Capacity(gpus=int(resources.get("GPU", 0)), cpus=int(resources.get("CPU", 0)),
                        dashboard=dashboard_line(self._started))

    def spawn(self, host_args: tuple, gpu: bool, cpus: int):
        resources = {"num_gpus": 1, "num_cpus": 1} if gpu else {"num_cpus": cpus}
        actor = ray.remote(RenderHost).options(max_restarts=0, max_task_retries=0, **resources).remote(*host_args)
        return _Worker(actor, actor.identity.remote())

    def ready(self, worker) -> bool:
        if not worker.ready:
            worker.ready = bool(ray.wait([worker.started], timeout=0)[0])
        return worker.ready

    def submit(self, worker, spec_json: str, store_uri: str):
        return worker.actor.render.remote(spec_json, store_uri)

    def wait(self, pending: list, timeout_s: float) -> list:
        if not pending:  # no worker started yet: look again soon
            time.sleep(min(timeout_s, 0.05))
            return []
        ready, _ = ray.wait(pending, num_returns=1, timeout=timeout_s)
        return ready

    def result(self, pending) -> dict:
        try:
            return ray.get(pending)
        except OutOfMemoryError as exc:
            raise WorkerLost("out_of_memory", str(exc).splitlines()[0]) from None
        except RayActorError as exc:  # the process died: killed, crashed, or its node went away
            raise WorkerLost("crash", str(exc).splitlines()[0][:300]) from None
        except RayTaskError as exc:  # an exception inside the render; the process lives on
            raise WorkerLost("crash", str(exc.cause if exc.cause else exc)[:300], replace=False) from None

    def kill(self, worker, wait_s: float = 0.0) -> None:
        ray.kill(worker.actor)  # asynchronous: the process may run on for a moment
        if wait_s > 0 and self.ready(worker):
            try:
                process = ray.get(worker.started, timeout=wait_s)
            except (RayActorError, ray.exceptions.GetTimeoutError):
                return
            process.wait_ended(wait_s)

    def tasks(self, fn: Callable, items: Iterable, args: tuple = (), cpus: int = 1, memory_bytes: int = 0,
              at_once: int | None = None) -> Iterator[tuple[Any, Any]]:
        remote = ray.remote(fn).options(num_cpus=cpus, memory=memory_bytes or None, max_retries=0)
        queue, running = list(items), {}
        limit = at_once or max(int(ray.cluster_resources().get("CPU", 1)) // cpus, 1)
        while queue or running:
            while queue and len(running) < limit:
                item = queue.pop(0)
                running[remote.remote(item, *args)] = item
            done, _ = ray.wait(list(running), num_returns=1)
            item = running.pop(done[0])
            try:
                result = ray.get(done[0])
            except OutOfMemoryError as exc:
                result = WorkerLost("out_of_memory", str(exc).splitlines()[0][:300])
            except (WorkerCrashedError, RayActorError) as exc:
                result = WorkerLost("crash", str(exc).splitlines()[0][:300])
            except RayTaskError as exc:
                result = WorkerLost("crash", str(exc.cause if exc.cause else exc).splitlines()[0][:300], replace=False)
            yield item, result

    def close(self) -> None:
        if self._started:
            ray.shutdown()
            self._started = False
