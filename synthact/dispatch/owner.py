"""Who owns something in a batch folder (the manager lock, a temporary clip): a process on a host.

Liveness can only be told for processes of this host; a process id that was reused by another program is
told apart by the process's start time.
"""
from __future__ import annotations

import os
import socket
import time
from dataclasses import asdict, dataclass

import psutil


@dataclass(frozen=True)
class Owner:
    host: str
    pid: int
    started: float | None = None  # the process's start time (seconds since the epoch), when known

    @classmethod
    def this_process(cls) -> "Owner":
        return cls(socket.gethostname(), os.getpid(), psutil.Process().create_time())

    @classmethod
    def from_dict(cls, data: dict | None) -> "Owner | None":
        try:
            return cls(str(data["host"]), int(data["pid"]), float(data["started"]) if data.get("started") else None)
        except (KeyError, TypeError, ValueError):
            return None

    def as_dict(self) -> dict:
        return asdict(self)

    def alive(self) -> bool | None:
        """True or False for a process of this host; None for one elsewhere (it cannot be checked from here)."""
        if self.host != socket.gethostname():
            return None
        try:
            process = psutil.Process(self.pid)
            return self.started is None or abs(process.create_time() - self.started) < 1.0
        except psutil.AccessDenied:
            return True  # it exists; it is someone else's
        except (psutil.NoSuchProcess, ValueError):
            return False

    def wait_ended(self, timeout_s: float) -> None:
        """Wait (at most timeout_s) until this process has ended, when it is a process of this host."""
        if self.alive():
            try:
                psutil.Process(self.pid).wait(timeout_s)
            except (psutil.NoSuchProcess, psutil.TimeoutExpired):
                pass

    def describe(self, since: float | None = None) -> str:
        when = f" since {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(since))}" if since else ""
        return f"process {self.pid} on {self.host}{when}"
