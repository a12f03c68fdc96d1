"""Who owns something in an output folder (a batch's manager, a dataset's packer, a temporary clip), and the
lock that makes one owner at a time.

An owner is a process on a host. Liveness can only be told for processes of this host; a process id that
was reused by another program is told apart by the process's start time.

FolderLock is an advisory `flock` on a lock file, held for as long as its descriptor is open: the kernel
decides who holds it, atomically, and lets go when the holder dies however it dies (kill -9 included), so
a stale lock needs no takeover and an empty lock file (a holder killed before it wrote its record) means
nothing. The file also carries the holder's record (host, pid, start time) so that others can say who
holds it, and so that a holder on another host, whose flock a network filesystem may not show here, is
still respected until someone who knows it is gone deletes the file.
"""
from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from dataclasses import asdict, dataclass
from pathlib import Path

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


@dataclass(frozen=True)
class Holder:
    """Who holds a lock: its owner when its record could be read (a holder that is still writing it has
    none yet), and since when."""
    owner: Owner | None
    since: float | None = None

    def describe(self) -> str:
        return self.owner.describe(self.since) if self.owner else "a process that is starting"

    def elsewhere(self) -> bool:
        """A holder on another host (it cannot be checked from here)."""
        return self.owner is not None and self.owner.alive() is None


class Locked(Exception):
    """The lock is held by someone else."""

    def __init__(self, path: Path, holder: Holder):
        self.path, self.holder = path, holder
        super().__init__(f"{path} is held by {holder.describe()}")


class FolderLock:
    """One holder at a time of a lock file (see the module's docstring); not reentrant."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def _record(self, fd: int) -> Holder:
        try:
            data = json.loads(os.pread(fd, 4096, 0) or b"null")
        except (ValueError, OSError):
            data = None
        data = data if isinstance(data, dict) else {}
        since = data.get("since")
        return Holder(Owner.from_dict(data), since if isinstance(since, (int, float)) else None)

    def holder(self) -> Holder | None:
        """Who holds the lock now (None: nobody). A quick look: acquire() is what counts."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        except OSError:  # unreadable: nobody can tell, say nobody holds it; acquire() will fail loudly
            return None
        try:
            record = self._record(fd)
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return record
            return record if record.elsewhere() else None
        finally:
            os.close(fd)  # closing drops the shared lock too

    def acquire(self) -> None:
        """Take the lock or raise Locked naming its holder."""
        assert self._fd is None, "FolderLock is not reentrant"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            # held open read-only: a descriptor open for writing would keep its filesystem from being remounted
            # read-only, and the lock needs none (flock works on any descriptor)
            fd = os.open(self.path, os.O_RDONLY | os.O_CREAT, 0o644)
            try:
                self._lock_exclusively(fd)
            except BaseException:
                os.close(fd)
                raise
            # a holder that released between our open and our flock has unlinked the file we hold: try again
            try:
                current = os.stat(self.path)
            except FileNotFoundError:
                current = None
            mine = os.fstat(fd)
            if current is None or (current.st_ino, current.st_dev) != (mine.st_ino, mine.st_dev):
                os.close(fd)
                continue
            previous = self._record(fd)
            if previous.elsewhere():
                os.close(fd)
                raise Locked(self.path, previous)
            record = json.dumps({**Owner.this_process().as_dict(), "since": time.time()}).encode()
            try:
                writer = os.open(self.path, os.O_WRONLY | os.O_TRUNC)
                try:
                    os.write(writer, record)
                finally:
                    os.close(writer)
            except BaseException:
                os.close(fd)
                raise
            self._fd = fd
            return

    def _lock_exclusively(self, fd: int, settle_s: float = 0.5) -> None:
        """flock(fd) or raise Locked. Held by a live owner: refused at once. Held with no live owner on record
        (someone's holder() looking for an instant, or a holder that has not written its record yet): tried
        again for up to settle_s."""
        deadline = time.monotonic() + settle_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                holder = self._record(fd)
                if (holder.owner is not None and holder.owner.alive() is not False) or time.monotonic() > deadline:
                    raise Locked(self.path, holder) from None
                time.sleep(0.005)

    def release(self) -> None:
        """Let go (the file goes too, while still held, so that nobody reads a stale record)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.unlink(self.path)
        except OSError:  # gone already, or a read-only folder: the kernel's lock is what counts
            pass
        finally:
            os.close(fd)
