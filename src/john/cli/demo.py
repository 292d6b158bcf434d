"""The main job, ``john demo``: from nothing to a joined-up learner in one command.

It migrates the store, loads the public registers, writes two providers'
feeds from the FEBRL 4 benchmark, ingests them, links the person records into
learners, prints a summary whose counts add up and serves the hub. Each step
skips work already done, so a second run changes nothing and reports that.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from john.cli import context
from john.cli.demo_feeds import (
    CRANFIELD,
    OPEN_UNIVERSITY,
    ProviderFeed,
    load_choices,
    write_demo_feeds,
)
from john.errors import ConfigurationError
from john.identity.models import Learner, PersonRecord
from john.records.models import Achievement, Experience
from john.reference.models import RegisterLoad

log = logging.getLogger(__name__)

DEMO_USER = "demo"


def register(app: typer.Typer) -> None:
    """Add ``john demo`` to the root application."""
    app.command("demo")(demo)


@dataclass
class FeedCounts:
    """One feed's counts as the ingest report gave them."""

    name: str
    read: int
    accepted: int
    quarantined: int
    duplicate: int
    new: bool


@dataclass
class DemoSummary:
    """The counts of one run of the main job and of the store after it."""

    registers_loaded: list[str] = field(default_factory=list)
    registers_unchanged: list[str] = field(default_factory=list)
    registers_absent: list[str] = field(default_factory=list)
    feeds: list[FeedCounts] = field(default_factory=list)
    linkage_ran: bool = False
    person_records: int = 0
    person_records_linked: int = 0
    learners: int = 0
    learners_both: int = 0
    learners_one: int = 0
    achievements: int = 0
    experiences: int = 0
    example_learner: str | None = None
    seconds: float = 0.0

    @property
    def changed_anything(self) -> bool:
        """Whether this run loaded, ingested or linked anything."""
        return bool(
            self.registers_loaded
            or any(feed.new for feed in self.feeds)
            or self.linkage_ran
        )


def demo(
    serve: bool = typer.Option(
        True, "--serve/--no-serve", help="Serve the hub after the job (the default)."
    ),
    port: int = typer.Option(
        None, min=1, max=65535, help="TCP port to serve on (default 8000)."
    ),
) -> None:
    """Load registers, ingest two providers' feeds, link learners and serve the hub."""
    started = time.perf_counter()
    settings = context.settings()
    # Alembic logs every migration step at INFO, which buries the summary a new
    # user is looking for.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    engine = context.engine()
    factory = context.sessions()

    summary = run_demo(factory, settings.reference_dir, settings.data_dir / "demo")
    password_file = ensure_demo_user(factory, settings.data_dir / "demo")
    summary.seconds = time.perf_counter() - started
    base_url = f"http://127.0.0.1:{port or settings.port}"
    print_summary(summary, base_url)
    context.console.print(
        f"sign in at {base_url}/signin as {DEMO_USER} (a curator) with the "
        f"password in {password_file}",
        soft_wrap=True,
        markup=False,
        highlight=False,
    )
    context.console.print(f"done in {summary.seconds:.1f} s")

    if serve:
        import uvicorn

        from john.web.app import create_app

        context.console.print(f"serving the hub on {base_url}/ (Ctrl-C stops it)")
        application = create_app(settings, engine=engine)
        uvicorn.run(
            application, host="127.0.0.1", port=port or settings.port, log_config=None
        )


def ensure_demo_user(factory: sessionmaker[Session], out_dir: Path) -> Path:
    """Create the demo curator account once, with its password in a private file.

    The password is random and written only to ``out_dir`` with mode 0600, so
    it appears neither in the output nor in logs. A later run keeps the
    account and the file as they are.
    """
    from john.auth import service as auth
    from john.auth.models import User

    password_file = out_dir / "demo-password.txt"
    with factory() as session:
        if session.scalar(select(User.id).where(User.username == DEMO_USER)):
            return password_file
        password = secrets.token_urlsafe(18)
        auth.create_user(
            session,
            username=DEMO_USER,
            role="curator",
            password=password,
            display_name="Demo curator",
        )
        out_dir.mkdir(parents=True, exist_ok=True)
        password_file.touch(mode=0o600)
        password_file.write_text(password + "\n", encoding="utf-8")
        session.commit()
    return password_file


def run_demo(
    factory: sessionmaker[Session], reference_dir: Path | None, out_dir: Path
) -> DemoSummary:
    """Load registers, write and ingest the feeds, and link, on a migrated store.

    Raises ConfigurationError when the reference folder or FEBRL files are
    missing.
    """
    if reference_dir is None or not reference_dir.is_dir():
        raise ConfigurationError(
            f"reference folder {reference_dir} not found; set JOHN_REFERENCE_DIR to "
            "the folder holding the public registers and febrl/"
        )
    summary = DemoSummary()
    _load_registers(factory, reference_dir, summary)

    with factory() as session:
        registers = load_choices(session)
    feeds = write_demo_feeds(reference_dir, out_dir, registers)
    for feed in feeds:
        summary.feeds.append(_ingest(factory, feed))

    with factory() as session:
        unlinked = session.scalar(
            select(func.count())
            .select_from(PersonRecord)
            .where(PersonRecord.learner_id.is_(None))
        )
    if unlinked or any(feed.new for feed in summary.feeds):
        _link(factory)
        summary.linkage_ran = True

    with factory() as session:
        _count_store(session, summary)
    return summary


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _load_registers(
    factory: sessionmaker[Session], reference_dir: Path, summary: DemoSummary
) -> None:
    """Load the registers unless every file present was loaded before unchanged."""
    from john.reference.service import SOURCES, find_register_file, load_all

    pending = False
    with factory() as session:
        for register in SOURCES:
            path = find_register_file(reference_dir, register)
            if path is None:
                summary.registers_absent.append(register)
                continue
            loaded = session.scalar(
                select(RegisterLoad.id)
                .where(
                    RegisterLoad.register == register,
                    RegisterLoad.content_sha256 == _sha256(path),
                )
                .limit(1)
            )
            if loaded is None:
                pending = True
            else:
                summary.registers_unchanged.append(register)
    if not pending:
        return

    summary.registers_unchanged.clear()
    for report in load_all(factory, reference_dir):
        if report.status != "skipped":
            summary.registers_loaded.append(report.register)


def _ingest(factory: sessionmaker[Session], feed: ProviderFeed) -> FeedCounts:
    from john.records.service import ingest_feed

    with (
        Progress(
            TextColumn("ingest {task.description}"),
            BarColumn(),
            TextColumn("{task.fields[rows]} rows"),
            console=context.error_console,
            disable=not context.is_interactive(),
            transient=True,
        ) as bar,
        feed.path.open("rb") as stream,
    ):
        task = bar.add_task(feed.path.name, total=feed.path.stat().st_size, rows=0)

        def advance(bytes_read: int, rows_read: int) -> None:
            bar.update(task, completed=bytes_read, rows=rows_read)

        report = ingest_feed(
            factory,
            feed.source,
            feed.feed_type,
            stream,
            file_format="csv",
            filename=feed.path.name,
            progress=advance,
        )
    return FeedCounts(
        name=feed.path.name,
        read=report.rows_read,
        accepted=report.rows_accepted,
        quarantined=report.rows_quarantined,
        duplicate=report.rows_duplicate,
        new=not report.already_ingested,
    )


def _link(factory: sessionmaker[Session]) -> None:
    from john.identity.service import run_linkage

    with Progress(
        TextColumn("link learners: {task.description}"),
        BarColumn(),
        console=context.error_console,
        disable=not context.is_interactive(),
        transient=True,
    ) as bar:
        task = bar.add_task("reading records", total=4)

        def advance(stage: str, step: int, total: int) -> None:
            bar.update(task, description=stage, completed=step, total=total)

        run_linkage(factory, progress=advance)


def _count_store(session: Session, summary: DemoSummary) -> None:
    # Group person records under the learner they end at, following one merge
    # step, so a learner merged but not yet repointed is not counted twice.
    owner = func.coalesce(Learner.merged_into, Learner.id)
    summary.person_records = (
        session.scalar(select(func.count()).select_from(PersonRecord)) or 0
    )
    per_learner = session.execute(
        select(owner, func.count(), func.min(PersonRecord.id))
        .select_from(PersonRecord)
        .join(Learner, Learner.id == PersonRecord.learner_id)
        .group_by(owner)
    ).all()
    summary.person_records_linked = (
        session.scalar(
            select(func.count())
            .select_from(PersonRecord)
            .where(PersonRecord.learner_id.is_not(None))
        )
        or 0
    )
    summary.learners = len(per_learner)

    first_record = {learner_id: first for learner_id, _, first in per_learner}
    both = session.scalars(
        select(owner)
        .select_from(PersonRecord)
        .join(Learner, Learner.id == PersonRecord.learner_id)
        .where(PersonRecord.source_ukprn.in_([OPEN_UNIVERSITY, CRANFIELD]))
        .group_by(owner)
        .having(func.count(func.distinct(PersonRecord.source_ukprn)) == 2)
    ).all()
    summary.learners_both = len(both)
    summary.learners_one = summary.learners - summary.learners_both
    # The learner holding the earliest stored person record, so the same
    # learner is shown on every run.
    if both:
        summary.example_learner = min(both, key=lambda key: first_record[key])
    summary.achievements = (
        session.scalar(select(func.count()).select_from(Achievement)) or 0
    )
    summary.experiences = (
        session.scalar(select(func.count()).select_from(Experience)) or 0
    )


def print_summary(summary: DemoSummary, base_url: str) -> None:
    """Print counts that add up, and the URL of a learner seen by both providers."""

    def out(line: str) -> None:
        # Unwrapped and without markup, so each count stays on one line for
        # scripts that read the summary.
        context.console.print(line, soft_wrap=True, markup=False, highlight=False)

    if summary.registers_loaded:
        out(f"registers loaded: {', '.join(summary.registers_loaded)}")
    if summary.registers_unchanged:
        unchanged = ", ".join(summary.registers_unchanged)
        out(f"registers unchanged since the last load: {unchanged}")
    if summary.registers_absent:
        out(f"registers without a file: {', '.join(summary.registers_absent)}")

    for feed in summary.feeds:
        state = "ingested" if feed.new else "already ingested, unchanged"
        out(
            f"feed {feed.name} ({state}): read {feed.read} = accepted "
            f"{feed.accepted} + quarantined {feed.quarantined} + duplicate "
            f"{feed.duplicate}"
        )
    out(
        f"person records: {summary.person_records} "
        f"({summary.person_records_linked} linked to learners)"
    )
    out(
        f"learners: {summary.learners} = {summary.learners_both} with records from "
        f"both providers + {summary.learners_one} from one provider"
    )
    out(f"achievements: {summary.achievements}; experiences: {summary.experiences}")
    if not summary.changed_anything:
        out("nothing changed: every register and feed was already in the store")
    if summary.example_learner:
        out(
            f"a learner with records from both providers: "
            f"{base_url}/learners/{summary.example_learner}"
        )
