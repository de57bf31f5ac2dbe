"""The ``palermo`` command: one Typer app with a sub-app per domain noun.

Commands stay thin: they parse arguments, call the Workspace or a domain engine, and render.
Errors from the ``palermo.errors`` tree become a one-line message and a meaningful exit code
(0 ok, 1 domain failure, 2 bad input) instead of a traceback.
"""

from __future__ import annotations

import sys

import click
import typer
import typer._click.exceptions as typer_click_exceptions
from rich.markup import escape
from sqlalchemy.exc import OperationalError

from palermo.cli import analyze as analyze_cli
from palermo.cli import audit as audit_cli
from palermo.cli import backup as backup_cli
from palermo.cli import case, charge, evidence, init, law, lead, party, proof
from palermo.cli import demo as demo_cli
from palermo.cli import export as export_cli
from palermo.cli import ingest as ingest_cli
from palermo.cli import judge as judge_cli
from palermo.cli import law_engines as _law_engines  # noqa: F401  (registers law engine commands)
from palermo.cli import scenario as scenario_cli
from palermo.cli import serve as serve_cli
from palermo.cli import user as user_cli
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
app.add_typer(ingest_cli.app, name="ingest")
app.command("init")(init.init)
app.add_typer(case.app, name="case")
app.add_typer(party.app, name="party")
app.add_typer(charge.app, name="charge")
app.add_typer(evidence.app, name="evidence")
app.add_typer(proof.app, name="proof")
app.add_typer(lead.app, name="lead")
app.add_typer(scenario_cli.app, name="scenario")
app.command(name="serve")(serve_cli.serve)
app.command(name="demo")(demo_cli.demo)
app.add_typer(user_cli.app, name="user")
app.command("analyze")(analyze_cli.analyze)
app.add_typer(judge_cli.app, name="judge")
app.add_typer(export_cli.app, name="export")
app.add_typer(audit_cli.app, name="audit")
app.add_typer(backup_cli.app, name="backup")


def _fail(message: str) -> None:
    """Print one error line; never wrapped, so a path in it stays whole for the reader and for grep."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)


def run() -> None:
    """Console-script entry point: run the app and map Palermo errors to exit codes."""
    try:
        code = app(standalone_mode=False)
        # In non-standalone mode click returns the code of a ``typer.Exit`` instead of raising it.
        if isinstance(code, int) and code:
            sys.exit(code)
    except PalermoError as exc:
        _fail(str(exc))
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(1)
    except OperationalError as exc:
        # The database broke off a transaction (PostgreSQL: a deadlock or serialisation failure with
        # another command or the server, or a lost connection). It was rolled back whole, so saying
        # so and asking for a re-run is the honest answer; a traceback would read as a crash.
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
        _fail(
            f"the database broke off the command ({reason}); the change it was making then was rolled "
            "back and not saved: run the command again"
        )
        sys.exit(1)
    except UnicodeDecodeError as exc:
        # A binary or wrongly encoded input file: bad input, not a crash.
        _fail(f"input is not UTF-8 text ({exc.reason})")
        sys.exit(2)
    except OSError as exc:
        # A path the user gave cannot be read or written (missing folder, a directory, permissions).
        where = f"{exc.filename}: " if exc.filename else ""
        _fail(where + (exc.strerror or str(exc)))
        sys.exit(2)
    except OverflowError:
        _fail("a number given is too large")
        sys.exit(2)
    except (click.exceptions.ClickException, typer_click_exceptions.ClickException) as exc:
        # Usage errors (missing option, bad value): click's message, exit 2 like any bad input.
        # Typer 0.29 vendors its own click, so both exception families are caught.
        exc.show()
        sys.exit(2)


if __name__ == "__main__":
    run()
