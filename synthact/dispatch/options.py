"""Typed settings of a batch run: where it runs, what counts as failure, when workers are recycled,
and which renderer the workers host."""
from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

from synthact.spec import SceneSpec


class Renderer(Protocol):
    """What a worker process hosts: a SceneSpec in, a complete clip directory under out_root out."""

    def render(self, spec: SceneSpec, out_root: Path) -> Path: ...


# Called once in each worker process with (device, threads); must be picklable (a class or a partial).
RendererFactory = Callable[[str, int], Renderer]


@dataclass(frozen=True)
class Resources:
    address: str | None = None  # a Ray cluster; None: RAY_ADDRESS, else a Ray started in this process
    workers: int | None = None  # worker processes; default: one per GPU, or one per cpus_per_worker CPUs
    # None: CPUS_PER_WORKER, or all of a smaller node's CPUs
    cpus_per_worker: int | None = None
    # Ray's dashboard, when Ray is started here (a cluster has its own): its processes cost ~5 CPU-s a minute,
    # 6% of a 2-core batch's CPU (BENCHMARKS.md, throughput), so it is opt-in
    dashboard: bool = False


# A Blender told to use one thread keeps two busy (Cycles and the denoiser), so workers of 2 CPUs: measured on
# 2 cores (BENCHMARKS.md, throughput), 1 worker x 2 threads renders as many clips per minute as 2 x 1 with
# ~16% less CPU and half the memory.
CPUS_PER_WORKER = 2


@dataclass(frozen=True)
class FailurePolicy:
    scene_timeout_s: float = 1800.0  # a scene without a result after this long counts as hung
    max_attempts: int = 3  # crashes, hangs and out-of-memory are retried on a fresh worker up to this
    # not one worker of the pool running for this long stops the batch (the cluster has no room); separate from
    # the scene timeout, because a loaded machine can take longer to start a process than a short scene takes
    worker_start_timeout_s: float = 600.0


@dataclass(frozen=True)
class RecyclePolicy:
    after_scenes: int = 100  # a worker process is replaced after this many scenes
    memory_growth: float = 0.5  # ... or once its memory grew this much over its first scene


def blender_renderer(device: str, threads: int) -> Renderer:
    from synthact.render.worker import RenderWorker
    return RenderWorker(device=device, threads=threads)


@dataclass(frozen=True)
class DispatchOptions:
    resources: Resources = Resources()
    failures: FailurePolicy = FailurePolicy()
    recycling: RecyclePolicy = RecyclePolicy()
    renderer: RendererFactory = blender_renderer
    previews: bool = True  # a contact sheet per clip in OUT/<batch>/previews/
    show_progress: bool = True
    env: dict[str, str] = field(default_factory=dict)  # extra environment for the worker processes
    verify: bool = False  # a clip found on disk counts as complete only if its checksums match too


# Secrets of this process that workers and jobs never get (they would show in Ray's dashboard and job list).
SECRET_VARIABLES = ("SYNTHACT_TOKEN", "SYNTHACT_TOKEN_FILE")


def worker_environment(prefixes: tuple[str, ...] = ("SYNTHACT_", "ANNY_")) -> dict[str, str]:
    """The settings of this process that worker processes and cluster jobs inherit: SYNTHACT_* and ANNY_*
    variables, without the service's token."""
    return {k: v for k, v in os.environ.items() if k.startswith(prefixes) and k not in SECRET_VARIABLES}


class RendererPlugin:
    """A renderer named by import path ("package.module:Factory") with keyword options, for the CLI's
    --renderer: the factory is imported in each worker process and called as Factory(device, threads, **options)."""

    def __init__(self, path: str, options: dict | None = None):
        module, _, attr = path.partition(":")
        if not module or not attr:
            raise ValueError(f"--renderer must look like package.module:Factory, got {path!r}")
        self.path, self.options = path, dict(options or {})

    def __call__(self, device: str, threads: int) -> Renderer:
        module, _, attr = self.path.partition(":")
        return getattr(importlib.import_module(module), attr)(device, threads, **self.options)
