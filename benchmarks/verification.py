"""Measure verification latency under a fixed loopback load.

The script bulk-inserts 1,000,000 synthetic learners into a SQLite store, each
with one person record and one qualification, and grants one verifier consent
to 20,000 of them. The store is built once, inside SQLite, and cached under
``JOHN_BENCH_DIR`` (default ``~/.cache/john-benchmarks``); each run works on a
copy. It then serves the hub with ``john serve`` on 127.0.0.1 and offers 2,000
verification requests at 200 a second, open-loop, over at most 64 keep-alive
connections. Latency is measured from each request's scheduled send time, so
a slow server cannot hide queueing. Standard error gets p50 and the server's
CPU time per request; the last line printed is
``verifications_per_s=... p99_ms=...``.

Run with no arguments: ``python benchmarks/verification.py``.
``JOHN_BENCH_LEARNERS`` shrinks the store for a trial run, ``JOHN_BENCH_RATE``
changes the offered requests a second, and
``JOHN_BENCH_DATABASE_URL`` names a throwaway PostgreSQL database to use
instead of SQLite (it is emptied and filled). Every claimed identity belongs
to a stored learner, so the exact-match stage resolves it. Unknown identities
fall through to the linkage model, which this does not measure.
"""

from __future__ import annotations

import asyncio
import gc
import json
import math
import os
import random
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import httpx

# The environment may shrink the store for a quick trial run of the script.
LEARNERS = int(os.environ.get("JOHN_BENCH_LEARNERS", "1000000"))
CONSENTED = min(20_000, LEARNERS)
# The offered rate may be lowered to find the rate a loaded machine sustains.
RATE_PER_S = int(os.environ.get("JOHN_BENCH_RATE", "200"))
DURATION_S = 10
MAX_IN_FLIGHT = 64
REQUEST_TIMEOUT_S = 10.0
VERIFIER = "Benchmark Verifier Ltd"
GIVEN = ["Ada", "Bo", "Cai", "Dee", "Eli", "Fay", "Gus", "Hal", "Ivy", "Jo"]
SRC = Path(__file__).resolve().parents[1] / "src"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _identity(index: int) -> tuple[str, str, date]:
    born = date(1960, 1, 1) + timedelta(days=index % 20_000)
    return GIVEN[index % len(GIVEN)], f"Family{index:07d}", born


def _fill_store(db: sqlite3.Connection) -> None:
    # Rows are generated inside SQLite from a recursive counter, which is far
    # faster than binding a million parameter tuples from Python.
    now = "2026-01-01 00:00:00.000000"
    db.execute(
        "INSERT INTO feeds (id, source_ukprn, feed_type, file_format, content_sha256,"
        " mapping, received_at, rows_read, rows_accepted, rows_quarantined,"
        " rows_duplicate) VALUES ('F-bench', '10000001', 'achievements', 'csv',"
        " ?, 'bench', ?, 0, 0, 0, 0)",
        ("0" * 64, now),
    )
    db.execute("CREATE TEMP TABLE given_names (k INTEGER PRIMARY KEY, name TEXT)")
    db.executemany("INSERT INTO given_names VALUES (?, ?)", enumerate(GIVEN))
    counter = (
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n"
        f" WHERE i + 1 < {LEARNERS}) "
    )
    db.execute(
        counter + "INSERT INTO learners (id, status, created_at, updated_at)"
        " SELECT printf('L-%07d', i), 'active', ?1, ?1 FROM n",
        (now,),
    )
    db.execute(
        counter + "INSERT INTO person_records (id, source_ukprn, source_person_ref,"
        " given_name, family_name, date_of_birth, learner_id, feed_id, row_number,"
        " received_at) SELECT i + 1, '10000001', 'p' || i, g.name,"
        " printf('Family%07d', i), date('1960-01-01', '+' || (i % 20000) || ' days'),"
        " printf('L-%07d', i), 'F-bench', i + 1, ?1"
        f" FROM n JOIN given_names AS g ON g.k = i % {len(GIVEN)}",
        (now,),
    )
    db.execute(
        counter + "INSERT INTO achievements (person_record_id, kind,"
        " qualification_number, title, level, grade, awarded_on, source_ukprn,"
        " feed_id, row_number, received_at, row_key) SELECT i + 1, 'qualification',"
        " '60112345', 'A level in Mathematics', 'Level 3',"
        " substr('ABCDE', i % 5 + 1, 1), '2019-08-15', '10000001', 'F-bench',"
        " i + 1, ?1, 'k' || i FROM n",
        (now,),
    )
    until = (date.today() + timedelta(days=3650)).isoformat()
    db.execute(
        "INSERT INTO consent_grants (id, learner_id, grantee, grantee_role, scope,"
        " purpose, valid_until, created_at) SELECT printf('G-%07d', rowid - 1),"
        " printf('L-%07d', rowid - 1), ?, 'verifier', 'record', 'benchmark', ?, ?"
        f" FROM person_records WHERE rowid <= {CONSENTED}",
        (VERIFIER, until, now),
    )


def _build_store(path: Path) -> None:
    """Migrate a fresh SQLite store and bulk-insert the synthetic learners."""
    from john.db import make_engine, migrate

    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()

    started = time.perf_counter()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    # Indexes are dropped for the insert and built once afterwards.
    tables = ("learners", "person_records", "achievements", "consent_grants")
    indexes = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        f" AND tbl_name IN {tables}"
    ).fetchall()
    db.execute("BEGIN")
    for name, _ in indexes:
        db.execute(f'DROP INDEX "{name}"')
    _fill_store(db)
    for _, sql in indexes:
        db.execute(sql)
    db.execute("COMMIT")
    db.execute("ANALYZE")
    db.close()
    print(
        f"store built: {LEARNERS} learners in {time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )


def prepare_store(run_dir: Path) -> str:
    """Copy the cached store for this size into ``run_dir``, building it once.

    The cache lives in ``JOHN_BENCH_DIR`` (default ``~/.cache/john-benchmarks``),
    outside the repository. Pending migrations are applied to the cached copy,
    so a schema change does not force a rebuild.
    """
    sys.path.insert(0, str(SRC))
    from john.db import make_engine, migrate

    cache_dir = Path(
        os.environ.get("JOHN_BENCH_DIR", Path.home() / ".cache" / "john-benchmarks")
    )
    cache_dir.mkdir(parents=True, exist_ok=True)
    cached = cache_dir / f"verification-{LEARNERS}.sqlite3"
    if not cached.exists():
        building = cached.with_suffix(".building")
        building.unlink(missing_ok=True)
        _build_store(building)
        building.rename(cached)
    else:
        print(f"store reused: {cached}", file=sys.stderr)
    engine = make_engine(f"sqlite:///{cached}")
    migrate(engine)
    engine.dispose()

    store = run_dir / "john.sqlite3"
    shutil.copyfile(cached, store)
    # Flush the copy to disk now: otherwise the first WAL checkpoint's fsync
    # waits for hundreds of megabytes of the copy's dirty pages, a stall that
    # belongs to this script rather than to the server it measures.
    with store.open("rb+") as copied:
        os.fsync(copied.fileno())
    return f"sqlite:///{store}"


def prepare_postgres(url: str) -> str:
    """Fill the PostgreSQL database at ``url``, unless it contains this size already.

    The database is emptied first, so point ``JOHN_BENCH_DATABASE_URL`` only at
    a throwaway database.
    """
    sys.path.insert(0, str(SRC))
    from sqlalchemy import text

    from john.db import make_engine, migrate

    engine = make_engine(url)
    with engine.begin() as db:
        has_learners = db.execute(text("SELECT to_regclass('learners')")).scalar()
        held = (
            db.execute(text("SELECT count(*) FROM learners")).scalar()
            if (has_learners)
            else 0
        )
    if held == LEARNERS:
        print("store reused: PostgreSQL", file=sys.stderr)
        migrate(engine)
        engine.dispose()
        return url

    started = time.perf_counter()
    with engine.begin() as db:
        db.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    migrate(engine)
    names = "ARRAY[" + ", ".join(f"'{name}'" for name in GIVEN) + "]"
    serial = f"generate_series(0, {LEARNERS - 1}) AS i"
    until = (date.today() + timedelta(days=3650)).isoformat()
    with engine.begin() as db:
        db.execute(
            text(
                "INSERT INTO feeds (id, source_ukprn, feed_type, file_format,"
                " content_sha256, mapping, received_at, rows_read, rows_accepted,"
                " rows_quarantined, rows_duplicate) VALUES ('F-bench', '10000001',"
                " 'achievements', 'csv', repeat('0', 64), 'bench', now(), 0, 0, 0, 0)"
            )
        )
        db.execute(
            text(
                "INSERT INTO learners (id, status, created_at, updated_at)"
                f" SELECT 'L-' || lpad(i::text, 7, '0'), 'active', now(), now()"
                f" FROM {serial}"
            )
        )
        db.execute(
            text(
                "INSERT INTO person_records (id, source_ukprn, source_person_ref,"
                " given_name, family_name, date_of_birth, learner_id, feed_id,"
                " row_number, received_at) SELECT i + 1, '10000001', 'p' || i,"
                f" ({names})[i % {len(GIVEN)} + 1], 'Family' || lpad(i::text, 7, '0'),"
                " date '1960-01-01' + i % 20000, 'L-' || lpad(i::text, 7, '0'),"
                f" 'F-bench', i + 1, now() FROM {serial}"
            )
        )
        db.execute(
            text(
                "SELECT setval(pg_get_serial_sequence('person_records', 'id'),"
                f" {LEARNERS})"
            )
        )
        db.execute(
            text(
                "INSERT INTO achievements (person_record_id, kind,"
                " qualification_number, title, level, grade, awarded_on,"
                " source_ukprn, feed_id, row_number, received_at, row_key)"
                " SELECT i + 1, 'qualification', '60112345', 'A level in Mathematics',"
                " 'Level 3', substr('ABCDE', i % 5 + 1, 1), date '2019-08-15',"
                f" '10000001', 'F-bench', i + 1, now(), 'k' || i FROM {serial}"
            )
        )
        db.execute(
            text(
                "INSERT INTO consent_grants (id, learner_id, grantee, grantee_role,"
                " scope, purpose, valid_until, created_at)"
                " SELECT 'G-' || lpad(i::text, 7, '0'), 'L-' || lpad(i::text, 7, '0'),"
                f" :verifier, 'verifier', 'record', 'benchmark', date '{until}', now()"
                f" FROM generate_series(0, {CONSENTED - 1}) AS i"
            ),
            {"verifier": VERIFIER},
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as db:
        db.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    print(
        f"store built: {LEARNERS} learners in {time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )
    return url


def start_server(data_dir: Path, url: str, port: int) -> subprocess.Popen[bytes]:
    """Serve the hub on 127.0.0.1 in a child process."""
    env = {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "JOHN_DATA_DIR": str(data_dir),
        "JOHN_DATABASE_URL": url,
        "JOHN_VERIFICATION_RATE_PER_MINUTE": "1000000",
        "JOHN_VERIFICATION_BURST": "100000",
        "JOHN_LOG_LEVEL": "ERROR",
        # A backlog can outlast the default 300-second token.
        "JOHN_TOKEN_SECONDS": "3600",
        "JOHN_SLOW_REQUEST_MS": "100000",
    }
    command = [
        sys.executable,
        "-c",
        "from john.cli import main; main()",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    server = subprocess.Popen(command, env=env)
    for _ in range(300):
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1.0)
            return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("the server did not start within a minute")


def make_token(url: str, base: str) -> str:
    """Register the verifier client in the store and fetch a bearer token."""
    from john.auth import service
    from john.db import make_engine, make_session_factory

    engine = make_engine(url)
    with make_session_factory(engine)() as db:
        created = service.create_client(
            db, name="benchmark", role="verifier", organisation=VERIFIER
        )
        db.commit()
        client_id, secret = created.client.client_id, created.secret
    engine.dispose()
    response = httpx.post(
        f"{base}/api/v1/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def _body(rng: random.Random) -> bytes:
    index = rng.randrange(CONSENTED)
    given, family, born = _identity(index)
    body = {
        "identity": {
            "given_name": given,
            "family_name": family,
            "date_of_birth": born.isoformat(),
        },
        "claims": [
            {
                "type": "qualification",
                "qualification_number": "60112345",
                "min_grade": "C",
            }
        ],
        "purpose": "benchmark",
    }
    return json.dumps(body).encode()


class Connection:
    """One keep-alive HTTP/1.1 connection that sends a request and reads a reply.

    A hand-written client keeps the load generator's own CPU use small, because
    it shares the machine's cores with the server it measures.
    """

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.head = (
            "POST /api/v1/verifications HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{port}\r\n"
            f"Authorization: Bearer {token}\r\n"
            "Content-Type: application/json\r\n"
        )
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)

    async def post(self, body: bytes) -> tuple[int, bytes]:
        """Send one verification request and return its status and body."""
        for attempt in (1, 2):
            if self.writer is None:
                await self._open()
            try:
                return await self._exchange(body)
            except (ConnectionError, asyncio.IncompleteReadError):
                # The server may close an idle keep-alive connection, so reopen once.
                self.writer = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _exchange(self, body: bytes) -> tuple[int, bytes]:
        assert self.reader is not None and self.writer is not None
        request = f"{self.head}Content-Length: {len(body)}\r\n\r\n".encode() + body
        self.writer.write(request)
        await self.writer.drain()
        status_line = await self.reader.readuntil(b"\r\n")
        if not status_line:
            raise ConnectionResetError("connection closed")
        status = int(status_line.split()[1])
        length = 0
        while True:
            line = await self.reader.readuntil(b"\r\n")
            if line == b"\r\n":
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await self.reader.readexactly(length)


async def run_load(port: int, token: str) -> tuple[list[float], int, float]:
    """Offer requests at a fixed rate; return latencies, failures and seconds.

    The schedule is open-loop: request ``n`` is due at ``n / RATE_PER_S``
    seconds whatever the server does, at most ``MAX_IN_FLIGHT`` are on the wire
    at once, and each latency runs from the due time, so queueing counts.
    """
    rng = random.Random(7)
    latencies: list[float] = []
    failures = 0
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(MAX_IN_FLIGHT):
        idle.put_nowait(Connection(port, token))

    async def one(due: float, body: bytes) -> None:
        nonlocal failures
        connection = await idle.get()
        try:
            status, reply = await asyncio.wait_for(
                connection.post(body), REQUEST_TIMEOUT_S
            )
        except (TimeoutError, OSError, asyncio.IncompleteReadError) as error:
            connection.writer = None
            if failures < 5:
                print(f"request failed: {error!r}", file=sys.stderr)
            failures += 1
            return
        finally:
            idle.put_nowait(connection)
        if status != 201:
            if failures < 5:
                print(f"status {status}: {reply[:200]!r}", file=sys.stderr)
            failures += 1
            return
        latencies.append((time.perf_counter() - due) * 1000)

    started = time.perf_counter()
    tasks = []
    for sent in range(RATE_PER_S * DURATION_S):
        due = started + sent / RATE_PER_S
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(due, _body(rng))))
    await asyncio.gather(*tasks)
    return latencies, failures, time.perf_counter() - started


def main() -> None:
    """Build or reuse the store, serve it, apply the load and print the figures."""
    with tempfile.TemporaryDirectory(prefix="john-bench-") as folder:
        data_dir = Path(folder)
        postgres = os.environ.get("JOHN_BENCH_DATABASE_URL")
        url = prepare_postgres(postgres) if postgres else prepare_store(data_dir)
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_server(data_dir, url, port)
        try:
            token = make_token(url, base)
            # One warm-up pass so imports and first-use caches are not timed.
            asyncio.run(_warm_up(port, token))
            cpu_before = _cpu_seconds(server.pid)
            # A full collection in this process pauses the sender for about
            # 150 ms with thousands of tasks alive, which would show as the
            # server's latency. The load is short, so collect once and stop.
            gc.collect()
            gc.disable()
            try:
                latencies, failures, elapsed = asyncio.run(run_load(port, token))
            finally:
                gc.enable()
            cpu_used = _cpu_seconds(server.pid) - cpu_before
        finally:
            server.terminate()
            server.wait(timeout=30)
    ordered = sorted(latencies)
    p50 = statistics.median(ordered)
    p99 = ordered[max(0, math.ceil(len(ordered) * 0.99) - 1)]
    print(
        f"requests={RATE_PER_S * DURATION_S} offered_rate={RATE_PER_S}/s "
        f"failures={failures} p50_ms={p50:.1f} "
        f"server_cpu_ms_per_request={cpu_used * 1000 / (RATE_PER_S * DURATION_S):.2f}",
        file=sys.stderr,
    )
    print(f"verifications_per_s={len(ordered) / elapsed:.1f} p99_ms={p99:.1f}")


def _cpu_seconds(pid: int) -> float:
    # Fields 14 and 15 of /proc/PID/stat are utime and stime in clock ticks.
    # CPU per request, unlike latency, barely depends on the machine's load.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _warm_up(port: int, token: str) -> None:
    connection = Connection(port, token)
    rng = random.Random(1)
    for _ in range(20):
        status, reply = await connection.post(_body(rng))
        if status != 201:
            raise RuntimeError(f"warm-up request failed with {status}: {reply[:200]!r}")


if __name__ == "__main__":
    main()
