"""Dispatch: running a batch's scenes on worker processes (policy, ledger, storage), submitting batches
to clusters (jobs) and serving them over HTTP (service). Ray appears only in ray_executor, jobs and service."""
from .manager import BatchResult, run_batch
from .options import DispatchOptions, FailurePolicy, RecyclePolicy, RendererPlugin, Resources

__all__ = ["BatchResult", "DispatchOptions", "FailurePolicy", "RecyclePolicy", "RendererPlugin", "Resources",
           "run_batch"]
