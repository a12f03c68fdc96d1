"""One manager per batch: a lock file in the batch folder, held by the managing process.

Locally (and on shared filesystems that carry `flock`) the lock is synthact.locks.FolderLock: atomic, and
free again the moment its holder dies, however it dies. Object stores have no locks: there the lock is a
file created exclusively (where the store supports it) naming the manager (host, pid, start time); the lock
of a manager that died on this host is taken over, and a holder on another host counts as alive until
someone who knows it is gone deletes the lock file.
"""
from __future__ import annotations

import json
import time

from synthact.locks import FolderLock, Holder, Locked, Owner

from .executor import BatchError
from .storage import BatchStore

LOCK = "manager.lock"


class BatchLocked(BatchError):
    """Another live manager holds the batch."""


class BatchLock:
    def __init__(self, store: BatchStore):
        self.store = store
        self._local = None if store.remote else FolderLock(store.path(LOCK))
        self._remote_held = False

    @property
    def held(self) -> bool:
        return self._local.held if self._local is not None else self._remote_held

    def holder(self) -> Holder | None:
        """The live (or, on another host, unknown) manager holding the batch."""
        if self._local is not None:
            return self._local.holder()
        data = self.store.read_json(LOCK) or {}
        owner = Owner.from_dict(data)
        if owner is None or owner.alive() is False:
            return None
        return Holder(owner, data.get("since"))

    def _refusal(self, holder: Holder) -> BatchLocked:
        hint = f"; if it is gone, delete {self.store.path(LOCK)}" if holder.elsewhere() else ""
        return BatchLocked(f"{self.store.uri}: another manager is rendering this batch ({holder.describe()}){hint}")

    def check(self) -> None:
        """Raise BatchLocked if a live manager holds the batch (a quick look; acquire() is what counts)."""
        holder = self.holder()
        if holder is not None:
            raise self._refusal(holder)

    def acquire(self) -> None:
        if self._local is not None:
            try:
                self._local.acquire()
            except Locked as exc:
                raise self._refusal(exc.holder) from None
            return
        record = json.dumps({**Owner.this_process().as_dict(), "since": time.time()})
        for _ in range(3):
            if self.store.create_exclusive(LOCK, record):
                self._remote_held = True
                return
            self.check()
            self.store.remove(LOCK)  # its manager died (or died while writing it): take it over
        raise BatchLocked(f"{self.store.uri}: could not take {LOCK} (other managers keep starting)")

    def release(self) -> None:
        if self._local is not None:
            self._local.release()
            return
        try:
            if self._remote_held and Owner.from_dict(self.store.read_json(LOCK)) == Owner.this_process():
                self.store.remove(LOCK)
        except OSError:  # the store cannot be written any more: the next manager takes the lock over
            pass
        self._remote_held = False
