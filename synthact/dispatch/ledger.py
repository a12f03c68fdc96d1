"""The batch ledger: what happened to each scene, kept in the output location so it survives restarts.

Events are buffered and written as small immutable segment files (ledger/<run>-<seq>.jsonl), which
works the same on a local disk and on object stores. The ledger records attempts and failure reasons;
whether a clip is finished is decided by the clip on disk, never by the ledger. A manager that starts
records what it finds (`done` for complete clips the ledger lacks, `incomplete` for clips the ledger
called done that are not complete any more), so after any run the ledger agrees with the disk. Writing
it is best-effort: a segment that cannot be written (a full disk) is kept and written with the next one.
"""
from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from dataclasses import dataclass

from .lock import BatchLock
from .storage import BatchStore

FAILURE_REASONS = ("crash", "timeout", "out_of_memory", "invalid_spec", "missing_asset")
OUTCOMES = ("done", "retry", "failed", "incomplete")
# A summary left at "running" whose manager no longer holds the lock: killed (-9), or its machine went down.
STOPPED_UNRECORDED = "the manager stopped without recording its end (killed, or its machine went down)"


@dataclass(frozen=True)
class Event:
    index: int
    scene_id: str
    outcome: str  # one of OUTCOMES
    attempt: int
    reason: str = ""  # for failed / retry: one of FAILURE_REASONS
    seconds: float = 0.0
    message: str = ""


class Ledger:
    def __init__(self, store: BatchStore, flush_every_s: float = 2.0, flush_every_events: int = 2000):
        self.store = store
        self.run = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
        self._buffer: list[str] = []
        self._seq = 0
        self._last_flush = time.monotonic()
        self.flush_every_s, self.flush_every_events = flush_every_s, flush_every_events
        self.write_error = ""  # why the last flush failed ('' when it did not)

    def record(self, event: Event) -> None:
        self._buffer.append(json.dumps({**event.__dict__, "time": round(time.time(), 3)}, separators=(",", ":")))
        if len(self._buffer) >= self.flush_every_events or time.monotonic() - self._last_flush > self.flush_every_s:
            self.flush()

    def flush(self) -> None:
        self._last_flush = time.monotonic()
        if not self._buffer:
            return
        try:
            self.store.write_text(f"ledger/{self.run}-{self._seq:06d}.jsonl", "\n".join(self._buffer) + "\n")
        except OSError as exc:
            self.write_error = f"{exc.strerror or exc} ({len(self._buffer)} events kept for the next write)"
            return
        self.write_error = ""
        self._seq += 1
        self._buffer = []


def read_events(store: BatchStore):
    """Every event of every run, oldest segment first (a torn last line is skipped)."""
    for name in store.list("ledger"):
        if not name.endswith(".jsonl"):
            continue
        for line in (store.read_text(f"ledger/{name}") or "").splitlines():
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                continue


def latest_events(store: BatchStore) -> tuple[dict[str, dict], int]:
    """The last event that settled each scene (done, failed, incomplete), and the number of retries."""
    latest: dict[str, dict] = {}
    retries = 0
    for e in read_events(store):
        if e.get("outcome") == "retry":
            retries += 1
        elif "scene_id" in e:
            latest[e["scene_id"]] = e
    return latest, retries


def _timing(summary: dict, latest: dict[str, dict], state: str | None, settled: int) -> dict:
    """The last run's elapsed seconds, its rate (clips rendered by it a minute) and, while it runs, the ETA."""
    started = summary.get("started")
    if not isinstance(started, (int, float)):
        return {"elapsed_s": None, "rate_per_min": None, "eta_s": None}
    elapsed = time.time() - started if state == "running" else float(summary.get("seconds") or 0.0)
    made = sum(1 for e in latest.values() if e["outcome"] == "done" and e.get("attempt", 0) >= 1
               and e.get("time", 0) >= started)
    rate = made / elapsed * 60 if made and elapsed > 0 else None
    left = max((summary.get("requested") or 0) - settled, 0)
    eta = left / rate * 60 if rate and state == "running" else None
    return {"elapsed_s": round(elapsed, 1), "rate_per_min": round(rate, 2) if rate else None,
            "eta_s": round(eta, 1) if eta is not None else None}


def progress(store: BatchStore) -> dict:
    """Counts from the ledger, for `synthact status` and the service: done, failed (final), retries, and the
    last run's state from summary.json (running, finished, interrupted, error) with its reason."""
    latest, retries = latest_events(store)
    done = sum(1 for e in latest.values() if e["outcome"] == "done")
    failed = Counter(e.get("reason", "") for e in latest.values() if e["outcome"] == "failed")
    summary = store.read_json("summary.json") or {}
    state, reason = summary.get("state"), summary.get("reason", "")
    if state == "running" and BatchLock(store).holder() is None:
        state, reason = "interrupted", STOPPED_UNRECORDED
    timing = _timing(summary, latest, state, done + sum(failed.values()))
    return {**timing, "done": done, "failed": sum(failed.values()), "failure_reasons": dict(failed), "retries": retries,
            "requested": summary.get("requested"), "state": state, "reason": reason,
            "finished": summary.get("finished", False)}
