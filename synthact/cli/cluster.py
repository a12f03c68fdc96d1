"""Clusters and the service: submit, status, logs, serve."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

import typer

from .common import AssetsOption, load_batch, load_registry


def submit(config: Path = typer.Argument(..., help="Batch config YAML."),
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

    cfg, _ = load_batch(config, assets_dir)
    extra = ["--renderer", renderer, "--renderer-options", renderer_options] if renderer else []
    env = {k: v for k, v in os.environ.items() if k.startswith("SYNTHACT_")}
    job_id = jobs.submit(address, config, cfg.batch.name, n or cfg.batch.count, out or cfg.batch.output, workers,
                         extra, env)
    typer.echo(job_id)


def status(job_id: str = typer.Argument(..., help="A job id printed by `synthact submit`."),
           address: str = typer.Option(..., "--address", envvar="RAY_JOB_ADDRESS")) -> None:
    """A submitted batch's job state and, when its output is reachable, its progress."""
    from synthact.dispatch import jobs
    typer.echo(json.dumps(jobs.status(address, job_id), indent=2))


def logs(job_id: str = typer.Argument(..., help="A job id printed by `synthact submit`."),
         address: str = typer.Option(..., "--address", envvar="RAY_JOB_ADDRESS"),
         follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing until the job ends.")) -> None:
    """A submitted batch's log (the manager's output)."""
    from synthact.dispatch import jobs
    for chunk in jobs.logs(address, job_id, follow):
        typer.echo(chunk, nl=False)


def serve(root: Path = typer.Option(Path("output/service"), "--root", help="Where submitted batches are written."),
          token: Optional[str] = typer.Option(None, "--token", envvar="SYNTHACT_TOKEN",
                                              help="Bearer token clients must send (default: a new random one)."),
          host: str = typer.Option("127.0.0.1", "--host"), port: int = typer.Option(8000, "--port"),
          address: Optional[str] = typer.Option(None, "--address", envvar="RAY_ADDRESS"),
          assets_dir: Optional[Path] = AssetsOption) -> None:
    """Serve batch submission over HTTP: POST /batches (YAML), GET /batches/NAME, GET /batches/NAME/files/PATH."""
    import secrets

    import uvicorn

    from synthact.dispatch import DispatchOptions, Resources
    from synthact.dispatch.ray_executor import connect
    from synthact.dispatch.service import create_app

    if not token:
        token = secrets.token_urlsafe(24)
        typer.echo(f"token: {token}", err=True)
    registry = load_registry(assets_dir)
    connect(address)
    app = create_app(root, token, registry, DispatchOptions(resources=Resources(address=address)))
    uvicorn.run(app, host=host, port=port, log_level="warning")


def register(app: typer.Typer) -> None:
    for command in (submit, status, logs, serve):
        app.command()(command)
