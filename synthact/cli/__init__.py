"""The `synthact` command line: one module per command group, all registered on one Typer app."""
from __future__ import annotations

import sys

import typer
from typer.core import TyperGroup

from . import batch, cluster, data, environments, garments, motions, train

try:  # recent Typer versions carry their own copy of click
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover - older Typer on click
    from click import exceptions as click_errors

_NO_ARGS = getattr(click_errors, "NoArgsIsHelpError", ())
# The modules of the optional installs (pyproject.toml's extras), for the line that names the one to add.
EXTRAS = {**dict.fromkeys(("bpy", "anny", "smplx", "ray", "fastapi", "fastapi_swagger", "uvicorn", "embreex",
                           "threadpoolctl"), "render"), **dict.fromkeys(("torch", "sklearn"), "train")}


class _OneLineUsageErrors(TyperGroup):
    """A bad option value or a missing argument is one line on stderr (naming the command and the option) and
    exit 2, like every other bad input; click would print the usage and a hint around it."""

    def main(self, *args, standalone_mode: bool = True, **kwargs):
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except _NO_ARGS as exc:  # `synthact` alone: the help
            exc.show()
            sys.exit(exc.exit_code)
        except click_errors.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx else "synthact"
            typer.echo(f"{where}: {exc.format_message()} (see {where} --help)", err=True)
            sys.exit(exc.exit_code)
        except click_errors.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except typer.Abort:
            typer.echo("Aborted!", err=True)
            sys.exit(1)
        except BrokenPipeError:  # `synthact sample ... | head`: the reader has what it wanted
            sys.stderr.close()
            sys.exit(0)
        except ModuleNotFoundError as exc:  # a reader's install (`pip install synthact`) running a render command
            extra = EXTRAS.get((exc.name or "").split(".")[0])
            if extra is None:
                raise
            typer.echo(f"synthact: this command needs {exc.name}, which the {extra} install has: "
                       f"pip install 'synthact[{extra}]'", err=True)
            sys.exit(2)
        except OSError as exc:  # a file the command was given or told to write: bad input, not a bug
            where = f"{exc.filename}: " if exc.filename else ""
            typer.echo(f"synthact: {where}{exc.strerror or exc}", err=True)
            sys.exit(2)
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False, rich_markup_mode=None,
                  cls=_OneLineUsageErrors,
                  help="SynthAct: synthetic human action videos, from YAML batch configs to training shards.")
for group in (batch, cluster, data, train):
    group.register(app)
app.add_typer(motions.app, name="motions")
app.add_typer(garments.app, name="garments")
app.add_typer(environments.app, name="environments")


def main() -> None:
    app()
