"""The contract between the batch manager (policy) and whatever runs worker processes.

The manager decides what to run, when to retry and when to recycle; an Executor only starts worker
processes, hands them scenes and reports what came back. Ray is the implementation (ray_executor.py);
another one is a module implementing this protocol.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Capacity:
    gpus: int
    cpus: int
    dashboard: str = ""  # where to watch the workers (a line the manager prints at start), if anywhere


class BatchError(Exception):
    """A batch that cannot start or go on, for a reason its user can act on (the message is one line)."""


class WorkerLost(Exception):
    """A scene ended without a result because its worker process is gone or broken.

    reason: crash | out_of_memory; replace: the worker must be replaced (it died or cannot go on).
    """

    def __init__(self, reason: str, message: str, replace: bool = True):
        self.reason, self.message, self.replace = reason, message, replace
        super().__init__(f"{reason}: {message}")


class Executor(Protocol):
    def open(self) -> Capacity:
        """Connect (or start a local runtime) and report what it can hold."""

    def capacity(self) -> Capacity:
        """What the runtime can hold now (nodes come and go)."""

    def spawn(self, host_args: tuple, gpu: bool, cpus: int) -> Any:
        """Start one worker process hosting dispatch.host.RenderHost(*host_args); returns a handle at once."""

    def ready(self, worker: Any) -> bool:
        """Whether the worker has been placed and started (or has failed to start: its scene then fails fast)."""

    def submit(self, worker: Any, spec_json: str, store_uri: str) -> Any:
        """Start rendering one scene on a worker; returns a pending result."""

    def wait(self, pending: list, timeout_s: float) -> list:
        """The pending results among `pending` that have finished (at most timeout_s of waiting)."""

    def result(self, pending: Any) -> dict:
        """The finished scene's report (RenderHost.render's dict), or raises WorkerLost."""

    def kill(self, worker: Any, wait_s: float = 0.0) -> None:
        """Stop a worker process; with wait_s, return once it has ended (as far as can be told from here)."""

    def tasks(self, fn: Callable, items: Iterable, args: tuple = (), cpus: int = 1, memory_bytes: int = 0,
              at_once: int | None = None) -> Iterator[tuple[Any, Any]]:
        """fn(item, *args) for each item, each a task on whichever machine has `cpus` CPUs and the memory free
        (at most `at_once` at a time; default: as many as the runtime holds); yields (item, result) as each ends,
        the result a WorkerLost when its process died or it raised. (Jobs other than scenes: room builds.)"""

    def close(self) -> None:
        """Release the runtime (shuts down a runtime this executor started)."""
