"""Commands for feeds: ``john ingest`` and ``john feeds list|show|quarantine``.

Output carries counts, feed ids and reasons only. Raw quarantined rows hold
personal data, so ``john feeds quarantine`` prints them only when asked with
``--raw``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Column, Table
from rich.text import Text

from john.cli import context
from john.errors import FeedError, FieldProblem
from john.records.reports import FeedReport
from john.records.service import (
    get_feed_report,
    ingest_feed,
    list_feeds,
    quarantine_page,
)

feeds_app = typer.Typer(
    help="Read feed reports and quarantined rows.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    """Add ``ingest`` and the ``feeds`` group to the root application."""
    app.command("ingest")(ingest)
    app.add_typer(feeds_app, name="feeds")


def ingest(
    file: Annotated[
        Path, typer.Argument(help="Feed file: CSV, JSON array or JSON Lines.")
    ],
    source: str = typer.Option(..., help="UKPRN of the organisation that sent it."),
    feed_type: str = typer.Option(
        ..., "--type", help="What the rows are: achievements or experiences."
    ),
    mapping: str = typer.Option(
        "standard", help="'standard' or the path of a TOML or JSON mapping file."
    ),
    file_format: str = typer.Option(
        None, "--format", help="csv or json; default: from the extension or content."
    ),
    encoding: str = typer.Option(
        "utf-8", help="Text encoding of the file, such as utf-8 or cp1252."
    ),
) -> None:
    """Ingest one feed file and print its report; quarantined rows are not errors."""
    try:
        handle = file.open("rb")
    except OSError as error:
        raise FeedError(
            f"feed file {file} cannot be opened ({error.strerror}); check the path",
            problems=[FieldProblem("file", "cannot be opened")],
        ) from error

    sessions = context.sessions()
    with handle:
        size = file.stat().st_size
        if context.is_interactive():
            report = _ingest_with_bar(
                sessions, handle, size, source, feed_type, mapping, file_format,
                encoding, file.name,
            )  # fmt: skip
        else:
            report = ingest_feed(
                sessions,
                source,
                feed_type,
                handle,
                mapping=mapping,
                file_format=file_format,
                filename=file.name,
                encoding=encoding,
            )
    print_report(report)


def _ingest_with_bar(
    sessions: object,
    handle: object,
    size: int,
    source: str,
    feed_type: str,
    mapping: str,
    file_format: str | None,
    encoding: str,
    filename: str,
) -> FeedReport:
    columns = (
        TextColumn("ingesting"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[rows]} rows"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=context.error_console, transient=True) as bar:
        task = bar.add_task("ingest", total=size, rows=0)

        def advance(bytes_read: int, rows_read: int) -> None:
            bar.update(task, completed=bytes_read, rows=rows_read)

        return ingest_feed(
            sessions,  # type: ignore[arg-type]
            source,
            feed_type,
            handle,  # type: ignore[arg-type]
            mapping=mapping,
            file_format=file_format,
            filename=filename,
            encoding=encoding,
            progress=advance,
        )


def print_report(report: FeedReport) -> None:
    """Print a feed's counts, the columns ignored and reasons grouped by field."""
    console = context.console
    if report.already_ingested:
        console.print(
            f"feed {report.feed_id}: this file was ingested before; nothing changed",
            highlight=False,
        )
    else:
        console.print(f"feed {report.feed_id} stored", highlight=False)

    counts = Table(show_header=False, box=None)
    counts.add_row("rows read", str(report.rows_read))
    counts.add_row("accepted", str(report.rows_accepted))
    counts.add_row("quarantined", str(report.rows_quarantined))
    counts.add_row("duplicates", str(report.rows_duplicate))
    console.print(counts)

    details = [f"source {report.source}", report.feed_type, report.file_format]
    if report.delimiter is not None:
        details.append(f"delimiter {_delimiter_name(report.delimiter)}")
    details.append(f"mapping {report.mapping}")
    console.print(", ".join(details), highlight=False, markup=False)
    if report.columns_ignored:
        console.print(
            "columns ignored: " + ", ".join(report.columns_ignored),
            highlight=False,
            markup=False,
        )
    for note in report.notes:
        console.print(f"note: {note}", highlight=False, markup=False)

    if report.quarantine_reasons:
        reasons = Table("field", "reason", "rows", title="quarantine reasons")
        for name, by_reason in report.quarantine_reasons.items():
            for reason, count in by_reason.items():
                reasons.add_row(Text(name), Text(reason), str(count))
        console.print(reasons)


def _delimiter_name(delimiter: str) -> str:
    from john.records.feeds import DELIMITER_NAMES

    return DELIMITER_NAMES.get(delimiter, repr(delimiter))


@feeds_app.command("list")
def list_command(
    source: str = typer.Option(None, help="Only feeds from this UKPRN."),
    limit: int = typer.Option(50, help="Number of feeds to show, newest first."),
) -> None:
    """List feeds with their counts, newest first."""
    total, reports = list_feeds(context.sessions(), source=source, limit=limit)
    # The id is what `feeds show` takes, so it is never cut to fit a terminal.
    widest = max((len(report.feed_id) for report in reports), default=4)
    feed_column = Column("feed", no_wrap=True, min_width=widest)
    table = Table(
        feed_column, "source", "type", "received (UTC)", "read", "accepted",
        "quarantined", "duplicates", title=f"{total} feeds",
    )  # fmt: skip
    for report in reports:
        table.add_row(
            report.feed_id,
            report.source,
            report.feed_type,
            report.received_at.strftime("%Y-%m-%d %H:%M"),
            str(report.rows_read),
            str(report.rows_accepted),
            str(report.rows_quarantined),
            str(report.rows_duplicate),
        )
    context.console.print(table)


@feeds_app.command("show")
def show_command(feed_id: str = typer.Argument(..., help="Feed id, F-...")) -> None:
    """Print one feed's report."""
    print_report(get_feed_report(context.sessions(), feed_id))


@feeds_app.command("quarantine")
def quarantine_command(
    feed_id: str = typer.Argument(..., help="Feed id, F-..."),
    limit: int = typer.Option(100, help="Number of problems to show."),
    offset: int = typer.Option(0, help="Number of problems to skip."),
    raw: bool = typer.Option(
        False, "--raw", help="Also print each raw row; it contains personal data."
    ),
) -> None:
    """List a feed's quarantined rows: row number, field and reason."""
    page = quarantine_page(context.sessions(), feed_id, offset=offset, limit=limit)
    columns = ["row", "field", "reason"] + (["raw row"] if raw else [])
    table = Table(*columns, title=f"{page.total} problems in feed {feed_id}")
    for item in page.items:
        cells = [Text(str(item.row_number)), Text(item.field), Text(item.reason)]
        if raw:
            cells.append(Text(item.raw or ""))
        table.add_row(*cells)
    context.console.print(table)
    last_shown = offset + len(page.items)
    if last_shown < page.total:
        context.console.print(
            f"showing {offset + 1}-{last_shown}; pass --offset {last_shown} for more",
            highlight=False,
        )
