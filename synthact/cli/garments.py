"""`synthact garments …`: the built-in clothes, shoes, hats, hair, eyebrows and eyelashes."""
from __future__ import annotations

from typing import Optional

import typer

from .common import fail

app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="List the garments and hair actors can wear.")


@app.command("list")
def list_assets(kind: Optional[str] = typer.Option(None, "--kind", help="outfit, shoes, hat, hair, eyebrows or "
                                                                        "eyelashes (default: all kinds).")) -> None:
    """Names by kind, as actors.clothing in a batch config takes them (outfit, footwear, hat, hair, ...)."""
    from synthact.human.garments import KINDS, GarmentLibrary

    if kind is not None and kind not in KINDS:
        fail(f"--kind must be one of {', '.join(KINDS)}, got {kind!r}")
    library = GarmentLibrary.builtin()
    for k in [kind] if kind else library.kinds():
        names = library.names(k)
        typer.echo(f"{k} ({len(names)}): {', '.join(names)}")
