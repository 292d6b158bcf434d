"""Commands for the audit trail and subject access: ``john audit``, ``john subject``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from john.auth.principal import ROLE_SCOPES, Principal
from john.cli import context
from john.consent import audit
from john.consent import subject_access as sar
from john.errors import InvalidInput

audit_app = typer.Typer(help="Check the tamper-evident audit trail.")
subject_app = typer.Typer(help="Subject access: export or erase a learner's data.")

# Commands run with the operator's own authority, recorded as this actor.
CLI_OPERATOR = Principal(
    subject="cli:operator",
    kind="user",
    role="administrator",
    scopes=ROLE_SCOPES["administrator"],
    name="command line",
)


def register(app: typer.Typer) -> None:
    """Add the ``audit`` and ``subject`` command groups to the root application."""
    app.add_typer(audit_app, name="audit")
    app.add_typer(subject_app, name="subject")


@audit_app.command("verify")
def verify() -> None:
    """Recompute the hash chain; exit 1 and list problems if any entry changed."""
    with context.sessions()() as db:
        report = audit.verify_chain(db)
    for problem in report.problems:
        context.console_error(f"problem: {problem}")
    context.console.print(
        f"entries={report.entries} head_seq={report.head_seq} "
        f"head_sha256={report.head_sha256} intact={str(report.intact).lower()}",
        markup=False,
    )
    if not report.intact:
        raise typer.Exit(1)


@subject_app.command("export")
def export(
    learner_id: Annotated[str, typer.Argument(help="Learner id to export.")],
    output: Annotated[Path, typer.Option(help="JSON file to write the export to.")],
) -> None:
    """Write everything held about a learner to a JSON file."""
    # The export is audited as done, so a folder that cannot take the file is
    # found before the export rather than after it.
    if output.is_dir():
        raise InvalidInput(f"{output} is a folder; give a file name for --output")
    if not output.parent.is_dir():
        raise InvalidInput(
            f"folder {output.parent} does not exist; create it or choose another "
            "--output"
        )
    with context.sessions()() as db:
        data = sar.export_learner(db, CLI_OPERATOR, learner_id)
    try:
        output.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    except OSError as error:
        raise InvalidInput(
            f"writing {output} failed ({error.strerror}); choose another --output"
        ) from error
    rows = sum(len(r) for r in data["tables"].values())
    context.console.print(f"exported {rows} rows in {len(data['tables'])} tables")


@subject_app.command("erase")
def erase(
    learner_id: str = typer.Argument(..., help="Learner id to erase."),
    yes: bool = typer.Option(False, "--yes", help="Confirm without a prompt."),
) -> None:
    """Erase a learner's personal data and print what was removed and kept."""
    if not yes:
        typer.confirm(f"Erase the personal data of learner {learner_id}?", abort=True)
    with context.sessions()() as db:
        erasure = sar.erase_learner(db, CLI_OPERATOR, learner_id)
    for table, count in sorted(erasure.removed.items()):
        context.console.print(f"removed {count} rows from {table}", markup=False)
    for table, reason in sorted(erasure.kept.items()):
        context.console.print(f"kept {table}: {reason}", markup=False)
