"""The contract between the batch manager (policy) and whatever runs worker processes.

The manager decides what to run, when to retry and when to recycle; an Executor only starts worker
processes, hands them scenes and reports what came back. Ray is the implementation (ray_executor.py);
another one is a module implementing this protocol.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Capacity:
    gpus: int
    cpus: int
    dashboard: str = ""  # where to watch the workers (a line the manager prints at start), if anywhere


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

    def spawn(self, host_args: tuple, gpu: bool, cpus: int) -> Any:
        """Start one worker process hosting dispatch.host.RenderHost(*host_args); returns a handle."""

    def submit(self, worker: Any, spec_json: str, store_uri: str) -> Any:
        """Start rendering one scene on a worker; returns a pending result."""

    def wait(self, pending: list, timeout_s: float) -> list:
        """The pending results among `pending` that have finished (at most timeout_s of waiting)."""

    def result(self, pending: Any) -> dict:
        """The finished scene's report (RenderHost.render's dict), or raises WorkerLost."""

    def kill(self, worker: Any) -> None: ...

    def close(self) -> None:
        """Release the runtime (shuts down a runtime this executor started)."""
