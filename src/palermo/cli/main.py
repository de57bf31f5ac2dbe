"""The ``palermo`` command: one Typer app with a sub-app per domain noun.

Commands stay thin: they parse arguments, call the Workspace or a domain engine, and render.
Errors from the ``palermo.errors`` tree become a one-line message and a meaningful exit code
(0 ok, 1 domain failure, 2 bad input) instead of a traceback.
"""

from __future__ import annotations

import sys

import typer

from palermo.cli import law
from palermo.cli.output import err_console
from palermo.errors import PalermoError

app = typer.Typer(
    name="palermo",
    help="Build human-trafficking cases that hold up in court.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(law.app, name="law")
# Further nouns register here, one line each: app.add_typer(<module>.app, name="<noun>").


def run() -> None:
    """Console-script entry point: run the app and map Palermo errors to exit codes."""
    try:
        app(standalone_mode=False)
    except PalermoError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(1)
    except Exception as exc:  # click usage errors come through here in non-standalone mode
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(2)
        raise


if __name__ == "__main__":
    run()
