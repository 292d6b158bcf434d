"""The ``john`` command.

Each capability's commands live in a module of this package and are added to
the root application here. User errors print one line and exit with the code
from :mod:`john.errors`; anything else is a bug and prints a traceback.
"""

from __future__ import annotations

import importlib
import logging
import sys

import typer

from john.cli.context import console_error
from john.errors import JohnError, StoreUnavailable, UserError

log = logging.getLogger(__name__)

app = typer.Typer(
    name="john",
    help="JOHN learner record hub: ingest, link and serve learners' records.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Command modules, each with a ``register(app)`` function. One line each, so
# that capabilities add their commands without touching each other's lines.
COMMAND_MODULES: list[str] = [
    "john.cli.hub",
    "john.cli.reference",
    "john.cli.demo",
    "john.cli.lrs",
    "john.cli.catalogue",
    "john.cli.auth",
    "john.cli.records",
    "john.cli.identity",
    "john.cli.consent",
]
for _module_name in COMMAND_MODULES:
    importlib.import_module(_module_name).register(app)


INTERRUPTED = 130


def main() -> None:
    """Run the ``john`` command and map errors to exit codes."""
    try:
        status = app(standalone_mode=False)
    except UserError as error:
        console_error(f"error: {error.detail}")
        for problem in error.problems[:20]:
            where = f"row {problem.row}, " if problem.row is not None else ""
            console_error(f"  {where}{problem.field}: {problem.message}")
        sys.exit(error.exit_code)
    except StoreUnavailable as error:
        console_error(f"error: store unavailable: {error}")
        sys.exit(error.exit_code)
    except JohnError as error:
        log.exception("command failed")
        sys.exit(error.exit_code)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except typer.Abort:
        console_error("aborted")
        sys.exit(INTERRUPTED)
    except Exception as error:  # usage errors arrive here in non-standalone mode
        if _is_usage_error(error):
            error.show()  # type: ignore[attr-defined]
            sys.exit(error.exit_code)  # type: ignore[attr-defined]
        raise
    # Outside standalone mode Typer turns Ctrl-C into a return value of 130
    # (an exit status, as a shell gives a process ended by SIGINT).
    if isinstance(status, int) and status == INTERRUPTED:
        console_error("aborted")
        sys.exit(INTERRUPTED)


def _is_usage_error(error: Exception) -> bool:
    import click

    # Typer 0.29 vendors click as typer._click, whose exceptions derive from
    # typer.TyperException rather than from click's; earlier Typer uses click's.
    bases = (click.ClickException, getattr(typer, "TyperException", Exception))
    return isinstance(error, bases) and hasattr(error, "show")
