"""The read-validate-write loop of one feed, in one transaction.

Small feeds are read, validated and written in the calling thread. Large
feeds are written by a child process that owns the feed's transaction, so
that validation (pure Python) and the store's work run on two cores. A
thread would not do, because the driver needs the GIL for every row it
binds and would wait on the validating thread each time. Chunks go to the
child through a bounded queue and a pipe, so at most a few chunks are in
memory whatever the feed's size. If the parent dies, the child is killed
with it (Linux) or sees the pipe close, and the transaction is rolled back
either way.

Rows cross the pipe as ``marshal`` data, which for tuples of text, numbers
and None is several times faster to write than pickle; the feed's report
and the control messages go as pickle.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import marshal
import os
import pickle
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from john.db import STORE_ERRORS, store_failure
from john.errors import FieldProblem, JohnError, StoreUnavailable
from john.logs import JsonFormatter, configure_logging
from john.records.chunk_validation import collector_paused
from john.records.feeds import BYTE_OFFSET, FeedReader, SourceRow
from john.records.models import Feed
from john.records.reports import FeedReport
from john.records.store import (
    QuarantineEntry,
    chunk_of,
    make_writer,
    received_text,
)
from john.records.validation import RowValidator, ValidRow

log = logging.getLogger(__name__)

CHUNK_ROWS = 5000
PROGRESS_LOG_ROWS = 100_000
# Feeds from this size up are written by a child process; below it, starting
# the process (about a second) costs more than it saves.
PROCESS_THRESHOLD_BYTES = 4 * 1024 * 1024
# Chunks waiting for the writer child, so the reader keeps validating while
# the child starts (about half a second) and while it writes a chunk. This
# many chunks of 5,000 rows take about 30 MB.
SEND_QUEUE_CHUNKS = 16
# Distinct reasons kept per field in a report; the rest are counted together,
# so a feed with many different problems still has a small report.
MAX_REASONS_PER_FIELD = 20
OTHER_REASONS = "other reasons"

WRITER_STOPPED = (
    "feed writer process stopped unexpectedly, so its transaction was rolled "
    "back; send the feed again (if it was stored after all, it is reported as "
    "already ingested)"
)
# A quarantined row's raw text is kept up to this size, so one huge line
# cannot fill the store.
MAX_RAW_BYTES = 64 * 1024

Progress = Callable[[int, int], None]
"""Called with (bytes read, rows read) after each chunk of rows."""


class StoreClash(JohnError):
    """Raised when a unique key of the store clashes with a concurrent feed."""


class _Transaction:
    """The feed's transaction: insert the feed, store chunks, commit or roll back."""

    def __init__(self, session_factory: sessionmaker[Session], report: FeedReport):
        self.session = session_factory()
        self.report = report
        self.duplicates = 0
        try:
            self.session.execute(insert(Feed).values(**_feed_values(report)))
            connection = self.session.connection()
            if connection.dialect.name == "sqlite":
                # A larger page cache keeps index pages of big feeds in memory;
                # the size is fixed, so memory stays flat.
                connection.exec_driver_sql("PRAGMA cache_size=-65536")
            self.writer = make_writer(
                connection,
                report.feed_type,
                report.source,
                report.feed_id,
                received_text(report.received_at),
            )
        except BaseException:
            self.session.close()
            raise

    def handle(self, kind: str, payload: Any) -> None:
        """Act on one message of the reading side: rows, quarantine or expect."""
        if kind == "rows":
            self.duplicates += self.writer.write(payload)
        elif kind == "quarantine":
            self.writer.quarantine(payload)
        elif kind == "expect":
            self.writer.expect_rows(payload)
        else:
            raise ValueError(f"feed writer received an unknown message kind {kind!r}")

    def commit(self, report: FeedReport) -> int:
        """Store the final counts, commit, and return the number of duplicates."""
        self.prepare(report)
        self.complete()
        return self.duplicates

    def complete(self) -> None:
        """Commit what ``prepare`` left ready and close the session."""
        self.session.commit()
        self.session.close()

    def prepare(self, report: FeedReport) -> None:
        """Do all but the commit: build the indexes again, store the counts."""
        report.rows_duplicate = self.duplicates
        report.rows_accepted = (
            report.rows_read - report.rows_quarantined - self.duplicates
        )
        self.writer.finish()
        self.session.execute(
            update(Feed)
            .where(Feed.id == report.feed_id)
            .values(
                rows_read=report.rows_read,
                rows_accepted=report.rows_accepted,
                rows_quarantined=report.rows_quarantined,
                rows_duplicate=report.rows_duplicate,
                columns_ignored=report.columns_ignored,
                quarantine_reasons=report.quarantine_reasons,
                notes=report.notes,
            )
        )

    def abort(self) -> None:
        self.session.rollback()
        self.session.close()


def _feed_values(report: FeedReport) -> dict[str, Any]:
    return {
        "id": report.feed_id,
        "source_ukprn": report.source,
        "feed_type": report.feed_type,
        "file_format": report.file_format,
        "filename": report.filename,
        "content_sha256": report.content_sha256,
        "mapping": report.mapping,
        "received_at": report.received_at,
        "encoding": report.encoding,
        "delimiter": report.delimiter,
    }


_CLASHES = (IntegrityError, sqlite3.IntegrityError, psycopg.errors.UniqueViolation)


class _InlineSink:
    """Write in the calling thread."""

    def __init__(self, session_factory: sessionmaker[Session], report: FeedReport):
        try:
            self.transaction = _Transaction(session_factory, report)
        except _CLASHES as error:
            raise StoreClash(str(error)) from error

    def send(self, kind: str, payload: Any) -> None:
        try:
            self.transaction.handle(kind, payload)
        except _CLASHES as error:
            raise StoreClash(str(error)) from error

    def commit(self, report: FeedReport) -> None:
        self.transaction.commit(report)

    def abort(self) -> None:
        self.transaction.abort()


class _ProcessSink:
    """Write in a child process (``python -m john.records.pipeline``) that owns
    the transaction.

    The child is a fresh interpreter rather than a multiprocessing one, so a
    caller's script is never imported again in the child. A thread of this
    process moves queued chunks into the pipe, so the reader does not wait for
    the child to start or to take each chunk.
    """

    def __init__(self, url: str, report: FeedReport):
        to_child_read, to_child_write = os.pipe()
        from_child_read, from_child_write = os.pipe()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "john.records.pipeline",
                str(to_child_read),
                str(from_child_write),
            ],
            pass_fds=(to_child_read, from_child_write),
            env=_child_environment(),
        )
        os.close(to_child_read)
        os.close(from_child_write)
        self.outbox = Pipe(to_child_write, readable=False)
        self.inbox = Pipe(from_child_read, writable=False)
        opening = (url, report, _log_settings())
        self.outbox.send_bytes(_frame_control(("open", opening)))
        self.waiting: queue.Queue[bytes | None] = queue.Queue(SEND_QUEUE_CHUNKS)
        self.sender = threading.Thread(
            target=self._send_queued, name="feed-writer-pipe", daemon=True
        )
        self.sender.start()

    def _send_queued(self) -> None:
        while (data := self.waiting.get()) is not None:
            try:
                self.outbox.send_bytes(data)
            except OSError:
                return  # the child has stopped; the reader finds out why

    def _receive(self) -> tuple[str, Any]:
        """Return the child's next message, raising the failure it reports."""
        try:
            kind, payload = self.inbox.recv()
        except EOFError:
            self._close()
            raise JohnError(WRITER_STOPPED) from None
        if kind == "clash":
            self._close()
            raise StoreClash(payload)
        if kind == "unavailable":
            self._close()
            raise StoreUnavailable(payload)
        if kind == "error":
            self._close()
            raise JohnError(f"feed writer process failed: {payload}")
        return kind, payload

    def _check_child(self) -> None:
        """Raise the failure the child has reported, if any, without waiting."""
        while self.inbox.poll():
            kind, _ = self._receive()
            if kind != "ready":
                raise JohnError(f"feed writer process sent {kind!r} too early")

    def _wait_for_child(self) -> None:
        """Wait for the child's failure after it stopped taking chunks."""
        self._check_child()
        self.process.wait()
        self._check_child()
        self._close()
        raise JohnError(WRITER_STOPPED)

    def send(self, kind: str, payload: Any) -> None:
        self._put(_frame_rows((kind, payload)))

    def _put(self, data: bytes | None) -> None:
        while True:
            self._check_child()
            try:
                self.waiting.put(data, timeout=0.2)
                return
            except queue.Full:
                if not self.sender.is_alive():
                    self._wait_for_child()

    def commit(self, report: FeedReport) -> None:
        self._put(_frame_control(("commit", report)))
        self._put(None)
        self.sender.join()
        self._reply("prepared")
        # From "go" on, the child commits whatever this process does, so an
        # interrupt waits for the child's reply instead of leaving it unknown.
        with _interrupts_deferred(report.feed_id):
            self.outbox.send_bytes(_frame_control(("go", None)))
            finished: FeedReport = self._reply("committed")
        report.rows_duplicate = finished.rows_duplicate
        report.rows_accepted = finished.rows_accepted
        self._close()

    def _reply(self, expected: str) -> Any:
        """Wait for the child's ``expected`` message and return its payload."""
        while True:
            kind, payload = self._receive()
            if kind == expected:
                return payload
            if kind != "ready":
                raise JohnError(f"feed writer process sent {kind!r}, not {expected!r}")

    def abort(self) -> None:
        # Killing the child rolls its transaction back, as a crash would, and
        # does not wait for the chunks still queued for it.
        self._close(stop_child=True)

    def _close(self, stop_child: bool = False) -> None:
        if stop_child and self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        # With the child gone, a write in progress fails at once, so the
        # sender ends before the pipe is closed under it.
        while True:
            try:
                self.waiting.get_nowait()
            except queue.Empty:
                break
        self.waiting.put_nowait(None)
        self.sender.join()
        for end in (self.outbox, self.inbox):
            if not end.closed:
                end.close()


@contextmanager
def _interrupts_deferred(feed_id: str) -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) back until the block ends, in the main thread.

    Other threads cannot change signal handlers, and receive no
    KeyboardInterrupt, so there the block runs as it is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous is None:  # a handler set outside Python: leave it alone
        yield
        return
    caught: list[int] = []
    signal.signal(signal.SIGINT, lambda number, _frame: caught.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught:
            log.warning(
                "feed %s: interrupt received while the feed was committed; "
                "the feed is stored",
                feed_id,
            )


def _log_settings() -> tuple[str, bool] | None:
    """Return the level and form of this process's log, for the writer child.

    None when the root logger has no handler: the caller has not set up
    logging, so the child stays as quiet as the caller.
    """
    root = logging.getLogger()
    if not root.handlers:
        return None
    json_lines = any(isinstance(h.formatter, JsonFormatter) for h in root.handlers)
    return logging.getLevelName(root.getEffectiveLevel()), json_lines


def _frame_rows(message: tuple[str, Any]) -> bytes:
    return b"m" + marshal.dumps(message)


def _frame_control(message: tuple[str, Any]) -> bytes:
    return b"p" + pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)


def _unframe(data: bytes) -> tuple[str, Any]:
    body = memoryview(data)[1:]
    message: tuple[str, Any] = (
        marshal.loads(body) if data[:1] == b"m" else pickle.loads(body)
    )
    return message


def _child_environment() -> dict[str, str]:
    """Return the environment with this package's folder first on PYTHONPATH."""
    import john

    package_root = str(Path(john.__file__).resolve().parents[1])
    environment = dict(os.environ)
    parts = [package_root, *filter(None, environment.get("PYTHONPATH", "").split(":"))]
    environment["PYTHONPATH"] = ":".join(parts)
    return environment


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (prctl PR_SET_PDEATHSIG)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # elsewhere the closed pipe ends the child instead


def _writer_main(inbox: Pipe, outbox: Pipe) -> None:
    """Run the feed's transaction in the child process, fed through ``inbox``."""
    from john.db import make_engine, make_session_factory

    _die_with_parent()
    # Rows are tuples of text and numbers, which hold no reference cycles, so
    # the cyclic collector would only walk each chunk again and again.
    gc.disable()
    kind, (url, report, log_settings) = _unframe(inbox.recv_bytes())
    assert kind == "open", kind
    if log_settings is not None:
        configure_logging(*log_settings)
    engine = make_engine(url, poolclass=NullPool)
    try:
        transaction = _Transaction(make_session_factory(engine), report)
        outbox.send(("ready", None))
        while True:
            try:
                kind, payload = _unframe(inbox.recv_bytes())
            except EOFError:
                transaction.abort()
                return
            if kind in ("rows", "quarantine", "expect"):
                transaction.handle(kind, payload)
            elif kind == "commit":
                # The parent sends "go" after this "prepared", so an interrupt
                # before then rolls back rather than racing the commit.
                transaction.prepare(payload)
                outbox.send(("prepared", None))
                try:
                    kind, _ = _unframe(inbox.recv_bytes())
                except EOFError:
                    kind = "abort"
                if kind != "go":
                    transaction.abort()
                    return
                transaction.complete()
                outbox.send(("committed", payload))
                return
            else:
                transaction.abort()
                return
    except _CLASHES as error:
        outbox.send(("clash", str(error)))
    except STORE_ERRORS as error:
        failure = store_failure(error)
        if failure is None:
            outbox.send(("error", f"{error.__class__.__name__}: {error}"))
        else:
            outbox.send(("unavailable", str(failure)))
    except Exception as error:
        outbox.send(("error", f"{error.__class__.__name__}: {error}"))
    finally:
        engine.dispose()


def store_feed(
    session_factory: sessionmaker[Session],
    report: FeedReport,
    reader: FeedReader,
    validator: RowValidator,
    size: int,
    progress: Progress | None,
) -> FeedReport:
    """Read, validate and store every row of the feed in one transaction.

    Raises StoreClash when the feed's row clashes with a unique key written by
    a concurrent feed (the same file sent twice at once, for instance).
    """
    started = time.perf_counter()
    url = _url_for_child(session_factory)
    sink: _InlineSink | _ProcessSink
    if size >= PROCESS_THRESHOLD_BYTES and url is not None:
        sink = _ProcessSink(url, report)
    else:
        sink = _InlineSink(session_factory, report)
    log.info(
        "feed %s started: source %s, %s, %s, %d bytes, %s writer",
        report.feed_id,
        report.source,
        report.feed_type,
        report.file_format,
        size,
        "process" if isinstance(sink, _ProcessSink) else "inline",
    )

    try:
        with collector_paused():
            _read_rows(report, reader, validator, sink, progress, size)
        sink.commit(report)
    except BaseException:
        sink.abort()
        raise

    if progress is not None:
        progress(reader.bytes_read, report.rows_read)
    log.info(
        "feed %s stored in %.1f s: %d read, %d accepted, %d quarantined, %d duplicate",
        report.feed_id,
        time.perf_counter() - started,
        report.rows_read,
        report.rows_accepted,
        report.rows_quarantined,
        report.rows_duplicate,
    )
    return report


def _url_for_child(session_factory: sessionmaker[Session]) -> str | None:
    """Return the store URL a child process can open, or None (in-memory SQLite)."""
    engine = session_factory.kw.get("bind")
    if engine is None:
        return None
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return None
    rendered: str = url.render_as_string(hide_password=False)
    return rendered


def _read_rows(
    report: FeedReport,
    reader: FeedReader,
    validator: RowValidator,
    sink: _InlineSink | _ProcessSink,
    progress: Progress | None,
    size: int,
) -> None:
    rows = _RowSorter(report, validator, sink)
    first_chunk = True
    next_log = PROGRESS_LOG_ROWS
    pending = rows.pending

    for row in reader.rows():
        rows.read += 1
        pending.append(row)
        if len(pending) < CHUNK_ROWS:
            continue

        rows.validate_pending()
        if first_chunk and reader.bytes_read:
            # The bytes per row read so far give an estimate of the feed's rows.
            sink.send("expect", rows.read * size // reader.bytes_read)
            first_chunk = False
        rows.send_accepted()
        if progress is not None:
            progress(reader.bytes_read, rows.read)
        log.debug("feed %s: %d rows read", report.feed_id, rows.read)
        if rows.read >= next_log:
            log.info("feed %s: %d rows read so far", report.feed_id, rows.read)
            next_log += PROGRESS_LOG_ROWS

    rows.validate_pending()
    rows.send_accepted()
    rows.send_quarantined()

    report.rows_read = rows.read
    report.rows_quarantined = rows.rows_quarantined
    report.quarantine_reasons = {
        name: dict(counter.most_common())
        for name, counter in sorted(rows.reasons.items())
    }
    report.columns_ignored = report.columns_ignored + [
        key for key in reader.extra_keys if key not in report.columns_ignored
    ]


class _RowSorter:
    """Validate rows a chunk at a time and pass each to the rows or quarantine."""

    def __init__(
        self,
        report: FeedReport,
        validator: RowValidator,
        sink: _InlineSink | _ProcessSink,
    ):
        self.validator = validator
        self.sink = sink
        self.encoding = report.encoding or "utf-8"
        self.read = 0
        self.rows_quarantined = 0
        self.pending: list[SourceRow] = []
        self.accepted: list[ValidRow] = []
        self.quarantined: list[QuarantineEntry] = []
        self.reasons: dict[str, Counter[str]] = defaultdict(Counter)

    def validate_pending(self) -> None:
        """Validate the rows read since the last call, in one chunk.

        Rows are quarantined in file order, whether the reader or the
        validator found their problem.
        """
        pending = self.pending
        if not pending:
            return
        readable = [at for at, row in enumerate(pending) if row.problem is None]
        valid, found = self.validator.validate_chunk(
            [pending[at].number for at in readable],
            [pending[at].values for at in readable],
        )
        self.accepted.extend(valid)
        problems = {readable[position]: found[position] for position in found}
        if len(readable) < len(pending):
            for at, row in enumerate(pending):
                if row.problem is not None:
                    problems[at] = _problems_with_reader_problem(row, self.validator)
        for at in sorted(problems):
            self.quarantine(pending[at], problems[at])
        pending.clear()

    def quarantine(self, row: SourceRow, problems: list[FieldProblem]) -> None:
        self.rows_quarantined += 1
        raw = _raw_text(row, self.encoding)
        for problem in problems:
            self.quarantined.append((row.number, problem.field, problem.message, raw))
            _count_reason(self.reasons[problem.field], problem.message)
        if len(self.quarantined) >= CHUNK_ROWS:
            self.send_quarantined()

    def send_accepted(self) -> None:
        if self.accepted:
            self.sink.send("rows", chunk_of(self.accepted))
            self.accepted = []

    def send_quarantined(self) -> None:
        if self.quarantined:
            self.sink.send("quarantine", self.quarantined)
            self.quarantined = []


def _problems_with_reader_problem(
    row: SourceRow, validator: RowValidator
) -> list[FieldProblem]:
    """Return the reader's problem plus, when the row has values, the validator's."""
    assert row.problem is not None
    if not row.values:
        return [row.problem]
    _, problems = validator.validate(row.number, row.values)
    return [row.problem, *problems]


def _raw_text(row: SourceRow, encoding: str) -> str | None:
    if row.raw_bytes is None:
        return None
    raw = row.raw_bytes
    cut = len(raw) > MAX_RAW_BYTES
    text = raw[:MAX_RAW_BYTES].decode(encoding, "replace").rstrip("\r\n")
    if cut:
        text += f" [cut at {MAX_RAW_BYTES} of {len(raw)} bytes]"
    # PostgreSQL text cannot hold NUL characters.
    return text.replace("\x00", "\ufffd")


def _count_reason(counter: Counter[str], message: str) -> None:
    # Byte offsets differ per row, so the report counts the message without them.
    summary = BYTE_OFFSET.sub("", message)
    if summary in counter or len(counter) < MAX_REASONS_PER_FIELD:
        counter[summary] += 1
    else:
        counter[OTHER_REASONS] += 1


if __name__ == "__main__":
    _writer_main(
        Pipe(int(sys.argv[1]), writable=False), Pipe(int(sys.argv[2]), readable=False)
    )
