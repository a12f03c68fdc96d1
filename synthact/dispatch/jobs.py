"""Submitting batches to a Ray cluster through Ray's Jobs API (what `ray job submit` uses)."""
from __future__ import annotations

import shlex
import shutil
import tempfile
import time
from pathlib import Path

from .storage import is_remote

TERMINAL = ("SUCCEEDED", "FAILED", "STOPPED")


def client(address: str):
    from ray.job_submission import JobSubmissionClient
    return JobSubmissionClient(address)


def submit(address: str, config_path: Path, batch_name: str, n: int, out: str, workers: int | None = None,
           extra_args: list[str] | None = None, env: dict[str, str] | None = None, agent_wait_s: float = 120.0) -> str:
    """Start `synthact render` on the cluster for this batch; returns the job id.

    The config travels with the job (runtime_env working_dir). The output location must be reachable from
    the cluster: a URI (s3://...) or a path on a filesystem the nodes share.
    """
    out = out if is_remote(out) else str(Path(out).resolve())
    args = ["synthact", "render", "batch.yaml", "--n", str(n), "--out", out]
    if workers:
        args += ["--workers", str(workers)]
    args += extra_args or []
    with tempfile.TemporaryDirectory(prefix="synthact-job-") as folder:
        shutil.copy(config_path, Path(folder) / "batch.yaml")
        deadline = time.monotonic() + agent_wait_s
        while True:
            try:
                return client(address).submit_job(
                    entrypoint=shlex.join(args),
                    runtime_env={"working_dir": folder, "env_vars": env or {}},
                    metadata={"synthact_batch": batch_name, "synthact_out": f"{out.rstrip('/')}/{batch_name}"},
                )
            except RuntimeError as exc:  # a head that just started has no job agent for a while
                if "No available agent" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(2)


def status(address: str, job_id: str) -> dict:
    info = client(address).get_job_info(job_id)
    out = {"job_id": job_id, "status": str(info.status), "message": info.message or "",
           "batch": (info.metadata or {}).get("synthact_batch"), "output": (info.metadata or {}).get("synthact_out")}
    if out["output"]:
        try:
            from .ledger import progress
            from .storage import BatchStore
            out["progress"] = progress(BatchStore(out["output"]))
        except Exception as exc:  # noqa: BLE001 - the output may not be reachable from here
            out["progress"] = f"unavailable here ({exc.__class__.__name__})"
    return out


def logs(address: str, job_id: str, follow: bool = False, poll_s: float = 2.0):
    """Yield the job's log text; with follow, new text until the job ends."""
    c = client(address)
    seen = 0
    while True:
        text = c.get_job_logs(job_id)
        if len(text) > seen:
            yield text[seen:]
            seen = len(text)
        if not follow or str(c.get_job_status(job_id)) in TERMINAL:
            return
        time.sleep(poll_s)
