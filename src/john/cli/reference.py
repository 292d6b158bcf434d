"""Commands for the public registers: load them, write the shipped samples."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from john.cli import context
from john.errors import InvalidInput
from john.reference import REGISTERS, LoadReport, load_all, load_register
from john.reference.service import write_samples

reference_app = typer.Typer(
    help="Load the public registers that feeds are checked against.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add the ``reference`` commands to the root application."""
    app.add_typer(reference_app, name="reference")


@reference_app.command("load")
def load(
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir", help="Folder with the register files; default JOHN_REFERENCE_DIR."
        ),
    ] = None,
    register_name: Annotated[
        str | None,
        typer.Option(
            "--register",
            help=f"Load only this register ({', '.join(REGISTERS)}); needs --file.",
        ),
    ] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="The register's CSV file.")
    ] = None,
) -> None:
    """Load register files into the store and print the counts per register."""
    if (register_name is None) != (file is None):
        raise InvalidInput("--register and --file go together; give both or neither")

    sessions = context.sessions()
    if register_name is not None and file is not None:
        reports = [load_register(sessions, register_name, file)]
    else:
        folder = directory or context.settings().require_reference_dir()
        reports = load_all(sessions, folder)
    print_reports(reports)


@reference_app.command("samples")
def samples(
    output_dir: Annotated[
        Path, typer.Argument(help="Folder to write the samples into.")
    ],
) -> None:
    """Write the shipped sample register files (not the registers themselves)."""
    written = write_samples(output_dir)
    for path in written:
        context.console.print(str(path), markup=False, highlight=False)
    context.console.print(
        f"{len(written)} sample files written; load them with "
        f"john reference load --dir {output_dir}",
        markup=False,
        highlight=False,
    )


def print_reports(reports: list[LoadReport]) -> None:
    """Print one table row per register with counts that add up, then the reasons."""
    table = Table(title="Register loads")
    table.add_column("register")
    table.add_column("status")
    for name in ("read", "loaded", "rejected", "skipped"):
        table.add_column(name, justify="right")
    for report in reports:
        table.add_row(
            report.register,
            report.status,
            str(report.rows_read),
            str(report.rows_loaded),
            str(report.rows_rejected),
            str(report.rows_skipped),
        )
    table.add_row(
        "total",
        "",
        *(
            str(sum(getattr(report, name) for report in reports))
            for name in ("rows_read", "rows_loaded", "rows_rejected", "rows_skipped")
        ),
    )
    context.console.print(table)

    for report in reports:
        lines = _reason_lines(report)
        if lines:
            context.console.print(f"{report.register}:", markup=False, highlight=False)
        for line in lines:
            context.console.print(f"  {line}", markup=False, highlight=False)


def _reason_lines(report: LoadReport) -> list[str]:
    lines = []
    if report.message:
        lines.append(report.message)
    for label, counts in (
        ("rejected", report.rejected),
        ("skipped", report.skipped),
        ("note", report.notes),
    ):
        for reason, count in counts.most_common():
            lines.append(f"{label} {count}: {reason}")
    for problem in report.problems[:5]:
        lines.append(f"row {problem.row}, {problem.field}: {problem.message}")
    return lines
