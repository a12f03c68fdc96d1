"""One manager per batch: a lock file in the batch folder names the managing process (host, pid, start time).

A second manager, from the CLI or the service, is refused while the holder lives; the lock of a manager
that died on this host is taken over. A holder on another host cannot be checked from here: it counts as
alive until someone who knows it is gone deletes the lock file.
"""
from __future__ import annotations

import json
import time

from .executor import BatchError
from .owner import Owner
from .storage import BatchStore

LOCK = "manager.lock"


class BatchLocked(BatchError):
    """Another live manager holds the batch."""


class BatchLock:
    def __init__(self, store: BatchStore):
        self.store = store
        self.held = False

    def holder(self) -> tuple[Owner, float | None] | None:
        """The live (or, on another host, unknown) manager holding the batch, with the time it took it."""
        data = self.store.read_json(LOCK)
        owner = Owner.from_dict(data)
        if owner is None or owner.alive() is False:
            return None
        return owner, data.get("since")

    def check(self) -> None:
        """Raise BatchLocked if a live manager holds the batch (a quick look; acquire() is what counts)."""
        held = self.holder()
        if held is not None:
            owner, since = held
            hint = "" if owner.alive() else f"; if it is gone, delete {self.store.path(LOCK)}"
            raise BatchLocked(f"{self.store.uri}: another manager is rendering this batch "
                              f"({owner.describe(since)}){hint}")

    def acquire(self) -> None:
        me = Owner.this_process()
        record = json.dumps({**me.as_dict(), "since": time.time()})
        for _ in range(3):
            if self.store.create_exclusive(LOCK, record):
                self.held = True
                return
            self.check()
            self.store.remove(LOCK)  # its manager died (or died while writing it): take it over
        raise BatchLocked(f"{self.store.uri}: could not take {LOCK} (other managers keep starting)")

    def release(self) -> None:
        if self.held and Owner.from_dict(self.store.read_json(LOCK)) == Owner.this_process():
            self.store.remove(LOCK)
        self.held = False
