"""Dispatch: running a batch's scenes on worker processes (policy, ledger, storage), submitting batches
to clusters (jobs) and serving them over HTTP (service). Ray appears only in ray_executor, jobs and service."""
from .executor import BatchError
from .manager import BatchResult, StopRequest, run_batch
from .options import DispatchOptions, FailurePolicy, RecyclePolicy, RendererPlugin, Resources

__all__ = ["BatchError", "BatchResult", "DispatchOptions", "FailurePolicy", "RecyclePolicy", "RendererPlugin",
           "Resources", "StopRequest", "run_batch"]
