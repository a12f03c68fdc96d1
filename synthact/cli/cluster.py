"""Clusters and the service: submit, status, logs, serve."""
from __future__ import annotations

import json
import logging
import os
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Optional

import typer

from .common import (
    AssetsOption,
    config_file,
    fail,
    load_batch,
    load_registry,
    read_token,
    storage_location,
    writable_dir,
)


@contextmanager
def cluster_errors(address: str):
    """What the cluster answers (no such job, unreachable, refused) as one line and exit 2."""
    try:
        yield
    except (RuntimeError, ConnectionError, ValueError) as exc:
        first = next((line for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
        fail(f"{address}: {first[:300]}")


def submit(config: Path = typer.Argument(..., help="Batch config YAML, or the name of a preset."),
           address: str = typer.Option(..., "--address", envvar="RAY_JOB_ADDRESS",
                                       help="The cluster's dashboard, e.g. http://HEAD:8265."),
           n: Optional[int] = typer.Option(None, "--n", min=1),
           out: Optional[str] = typer.Option(None, "--out", help="Output URI or shared path (default: batch.output)."),
           workers: Optional[int] = typer.Option(None, "--workers", min=1),
           renderer: Optional[str] = typer.Option(None, "--renderer", hidden=True),
           renderer_options: str = typer.Option("{}", "--renderer-options", hidden=True),
           assets_dir: Optional[Path] = AssetsOption) -> None:
    """Submit a batch to a Ray cluster (Jobs API); follow it with `synthact status` and `synthact logs`."""
    from synthact.dispatch import jobs
    from synthact.dispatch.options import worker_environment

    config = config_file(config)
    cfg, _ = load_batch(config, assets_dir)
    storage_location(out or cfg.batch.output, "the batch's output", local_check=False)  # a path on the cluster
    extra = ["--renderer", renderer, "--renderer-options", renderer_options] if renderer else []
    with cluster_errors(address):
        job_id = jobs.submit(address, config, cfg.batch.name, n or cfg.batch.count, out or cfg.batch.output, workers,
                             extra, worker_environment(("SYNTHACT_",)))  # never the service token
    typer.echo(job_id)


def status(job_id: str = typer.Argument(..., help="A job id printed by `synthact submit`."),
           address: str = typer.Option(..., "--address", envvar="RAY_JOB_ADDRESS")) -> None:
    """A submitted batch's job state and, when its output is reachable, its progress."""
    from synthact.dispatch import jobs
    with cluster_errors(address):
        typer.echo(json.dumps(jobs.status(address, job_id), indent=2))


def logs(job_id: str = typer.Argument(..., help="A job id printed by `synthact submit`."),
         address: str = typer.Option(..., "--address", envvar="RAY_JOB_ADDRESS"),
         follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing until the job ends.")) -> None:
    """A submitted batch's log (the manager's output)."""
    from synthact.dispatch import jobs
    with cluster_errors(address):
        for chunk in jobs.logs(address, job_id, follow):
            typer.echo(chunk, nl=False)


def serve(root: Path = typer.Option(Path("output/service"), "--root", help="Where submitted batches are written."),
          token_file: Optional[Path] = typer.Option(
              None, "--token-file", envvar="SYNTHACT_TOKEN_FILE",
              help="File holding the bearer token clients must send (or set SYNTHACT_TOKEN); without either, a new "
                   "token is written to ~/.config/synthact/service-token."),
          host: str = typer.Option("127.0.0.1", "--host"), port: int = typer.Option(8000, "--port", min=0, max=65535),
          address: Optional[str] = typer.Option(None, "--address", envvar="RAY_ADDRESS"),
          max_clips: int = typer.Option(100_000, "--max-clips", min=1, help="Most scenes one batch may ask for."),
          max_clip_work: float = typer.Option(4e10, "--max-clip-work", min=1,
                                              help="Most width x height x frames x samples of one clip."),
          max_running: int = typer.Option(1, "--max-running", min=1, help="Batches rendering at once."),
          max_queued: int = typer.Option(16, "--max-queued", min=0, help="Batches waiting to render."),
          renderer: Optional[str] = typer.Option(None, "--renderer", hidden=True,
                                                 help="A renderer plugin, package.module:Factory (default: Blender)."),
          renderer_options: str = typer.Option("{}", "--renderer-options", hidden=True,
                                               help="JSON keyword options of the renderer plugin."),
          assets_dir: Optional[Path] = AssetsOption) -> None:
    """Serve batch submission over HTTP: POST /batches (YAML), GET /batches/NAME, POST /batches/NAME/cancel,
    GET /batches/NAME/files/PATH."""
    import uvicorn

    from synthact.dispatch import DispatchOptions, RendererPlugin, Resources
    from synthact.dispatch.options import SECRET_VARIABLES
    from synthact.dispatch.ray_executor import connect
    from synthact.dispatch.service import ServiceLimits, create_app

    writable_dir(root, "the service's batches")
    token = read_token(token_file, create=True)
    for name in SECRET_VARIABLES:  # Ray's processes and the render workers start from this environment
        os.environ.pop(name, None)
    registry = load_registry(assets_dir)
    options = DispatchOptions(resources=Resources(address=address))
    if renderer:
        try:
            options = replace(options, renderer=RendererPlugin(renderer, json.loads(renderer_options)))
        except ValueError as exc:
            fail(str(exc))
    connect(address)
    limits = ServiceLimits(max_clips=max_clips, max_clip_work=max_clip_work, max_running=max_running,
                           max_queued=max_queued)
    app = create_app(root, token, registry, options, limits=limits)
    logging.basicConfig(format="%(asctime)s %(message)s", datefmt="%Y-%m-%d %H:%M:%S", level=logging.INFO)
    typer.echo(f"synthact serve: batches under {root.resolve()}; the page at http://{host}:{port}/ (API: /docs, "
               f"liveness: /health); Ctrl-C or SIGTERM stops the batches that render and exits", err=True)
    # uvicorn logs its start ("Uvicorn running on ...") and one line per request
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=True)


def register(app: typer.Typer) -> None:
    for command in (submit, status, logs, serve):
        app.command()(command)
