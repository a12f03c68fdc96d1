"""The `synthact` command line: one module per command group, all registered on one Typer app."""
from __future__ import annotations

import typer

from . import batch, cluster, data, garments, motions, train

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False, rich_markup_mode=None,
                  help="SynthAct: synthetic human action videos, from YAML batch configs to training shards.")
for group in (batch, cluster, data, train):
    group.register(app)
app.add_typer(motions.app, name="motions")
app.add_typer(garments.app, name="garments")


def main() -> None:
    app()
