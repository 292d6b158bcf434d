"""Commands for record linkage and the match review queue."""

from __future__ import annotations

import getpass

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from john.cli import context
from john.identity import service

review_app = typer.Typer(help="List and decide match reviews.", no_args_is_help=True)


def _cli_actor() -> str:
    # Decisions from the terminal name the operating-system account that ran them.
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def register(app: typer.Typer) -> None:
    """Add the linkage and review commands to the root application."""
    app.command("link")(link)
    app.add_typer(review_app, name="review")


def link(
    incremental: bool = typer.Option(
        False,
        "--incremental",
        help="Score only records without a learner, with the last run's model.",
    ),
) -> None:
    """Link every person record into learners and queue uncertain pairs."""
    factory = context.sessions()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=context.error_console,
        disable=not context.is_interactive(),
    ) as bar:
        task = bar.add_task("linking", total=4)

        def advance(stage: str, step: int, total: int) -> None:
            bar.update(task, description=stage, completed=step, total=total)

        report = service.run_linkage(factory, progress=advance, incremental=incremental)

    out = context.console
    out.print(f"linkage run {report.run_id}: {report.records} records")
    out.print(f"  deterministic links:  {report.deterministic_links}")
    out.print(f"  probabilistic links:  {report.probabilistic_links}")
    out.print(f"  reviews created:      {report.reviews_created}")
    out.print(f"  learners created:     {report.learners_created}")
    out.print(f"  learners merged:      {report.learners_merged}")
    trained = "trained on these records" if report.model_trained else "saved or prior"
    out.print(f"  model:                {trained}")
    out.print(f"  seconds:              {report.seconds:.1f}")


@review_app.command("list")
def list_reviews(
    status: str = typer.Option("pending", help="pending, accepted or rejected."),
    limit: int = typer.Option(50, min=1, max=500, help="Maximum rows to show."),
) -> None:
    """List match reviews with a status, most probable first."""
    with context.sessions()() as session:
        reviews = service.list_reviews(session, status, limit=limit)
    table = Table("review", "record A", "record B", "probability", "status")
    for review in reviews:
        table.add_row(
            str(review.id),
            str(review.record_a_id),
            str(review.record_b_id),
            f"{review.match_probability:.3f}",
            review.status,
        )
    context.console.print(table)
    context.console.print(f"{len(reviews)} {status} reviews")


@review_app.command("accept")
def accept(
    review_id: int = typer.Argument(..., help="Id of the match review."),
    reason: str = typer.Option(None, help="Reason kept in the learner's history."),
) -> None:
    """Accept a review: the two records are the same learner."""
    review = service.decide_review(
        context.sessions(), review_id, "accept", _cli_actor(), reason
    )
    context.console.print(f"match review {review.id} accepted")


@review_app.command("reject")
def reject(
    review_id: int = typer.Argument(..., help="Id of the match review."),
    reason: str = typer.Option(None, help="Reason kept in the learner's history."),
) -> None:
    """Reject a review: the two records are different learners."""
    review = service.decide_review(
        context.sessions(), review_id, "reject", _cli_actor(), reason
    )
    context.console.print(f"match review {review.id} rejected")
