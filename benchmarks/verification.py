"""Measure verification latency under a fixed loopback load.

The script bulk-inserts 1,000,000 synthetic learners into a SQLite store, each
with one person record and one qualification, and grants one verifier consent
to a sample of them. It then serves the hub with uvicorn on 127.0.0.1 and
sends verification requests at a fixed rate from one asyncio client. Latency is
measured from each request's scheduled send time, so a slow server cannot
hide queueing. The last line printed is ``verifications_per_s=... p99_ms=...``.

Run with no arguments: ``python benchmarks/verification.py``. Every claimed
identity belongs to a stored learner, so the exact-match stage answers it;
unknown identities fall through to the linkage model, which this does not
measure.
"""

from __future__ import annotations

import asyncio
import os
import random
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
RATE_PER_S = 200
DURATION_S = 10
MAX_IN_FLIGHT = 64
BATCH = 50_000
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


def build_store(path: Path) -> None:
    """Migrate a fresh SQLite store and bulk-insert the synthetic learners."""
    sys.path.insert(0, str(SRC))
    from john.db import make_engine, migrate

    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()

    started = time.perf_counter()
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    now = "2026-01-01 00:00:00.000000"
    db.execute(
        "INSERT INTO feeds (id, source_ukprn, feed_type, file_format, content_sha256,"
        " mapping, received_at, rows_read, rows_accepted, rows_quarantined,"
        " rows_duplicate) VALUES ('F-bench', '10000001', 'achievements', 'csv',"
        " ?, 'bench', ?, 0, 0, 0, 0)",
        ("0" * 64, now),
    )
    for start in range(0, LEARNERS, BATCH):
        ids = range(start, min(start + BATCH, LEARNERS))
        db.executemany(
            "INSERT INTO learners (id, status, created_at, updated_at)"
            " VALUES (?, 'active', ?, ?)",
            ((f"L-{i:07d}", now, now) for i in ids),
        )
        db.executemany(
            "INSERT INTO person_records (id, source_ukprn, source_person_ref,"
            " given_name, family_name, date_of_birth, learner_id, feed_id,"
            " row_number, received_at) VALUES (?, '10000001', ?, ?, ?, ?, ?,"
            " 'F-bench', ?, ?)",
            (
                (
                    i + 1,
                    f"p{i}",
                    *_identity(i)[:2],
                    _identity(i)[2].isoformat(),
                    f"L-{i:07d}",
                    i + 1,
                    now,
                )
                for i in ids
            ),
        )
        db.executemany(
            "INSERT INTO achievements (person_record_id, kind, qualification_number,"
            " title, level, grade, awarded_on, source_ukprn, feed_id, row_number,"
            " received_at, row_key) VALUES (?, 'qualification', '60112345',"
            " 'A level in Mathematics', 'Level 3', ?, '2019-08-15', '10000001',"
            " 'F-bench', ?, ?, ?)",
            ((i + 1, "ABCDE"[i % 5], i + 1, now, f"k{i}") for i in ids),
        )
        db.commit()
    until = (date.today() + timedelta(days=365)).isoformat()
    db.executemany(
        "INSERT INTO consent_grants (id, learner_id, grantee, grantee_role, scope,"
        " purpose, valid_until, created_at) VALUES (?, ?, ?, 'verifier', 'record',"
        " 'benchmark', ?, ?)",
        ((f"G-{i:07d}", f"L-{i:07d}", VERIFIER, until, now) for i in range(CONSENTED)),
    )
    db.commit()
    db.execute("ANALYZE")
    db.close()
    print(
        f"store built: {LEARNERS} learners in {time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )


def start_server(data_dir: Path, store: Path, port: int) -> subprocess.Popen[bytes]:
    """Serve the hub on 127.0.0.1 in a child process."""
    env = {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "JOHN_DATA_DIR": str(data_dir),
        "JOHN_DATABASE_URL": f"sqlite:///{store}",
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


def make_token(store: Path, base: str) -> str:
    """Register the verifier client in the store and fetch a bearer token."""
    from john.auth import service
    from john.db import make_engine, make_session_factory

    engine = make_engine(f"sqlite:///{store}")
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


def _body(rng: random.Random) -> dict[str, object]:
    index = rng.randrange(CONSENTED)
    given, family, born = _identity(index)
    return {
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


async def run_load(base: str, token: str) -> tuple[list[float], int, float]:
    """Send requests at a fixed rate; return latencies, failures and seconds."""
    rng = random.Random(7)
    latencies: list[float] = []
    failures = 0
    gate = asyncio.Semaphore(MAX_IN_FLIGHT)
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=MAX_IN_FLIGHT)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits) as http:

        async def one(scheduled: float, body: dict[str, object]) -> None:
            nonlocal failures
            async with gate:
                try:
                    response = await http.post("/api/v1/verifications", json=body)
                except httpx.HTTPError as error:
                    print(f"request failed: {error!r}", file=sys.stderr)
                    failures += 1
                    return
            if response.status_code != 201:
                if failures < 5:
                    print(
                        f"status {response.status_code}: {response.text[:200]}",
                        file=sys.stderr,
                    )
                failures += 1
                return
            latencies.append((time.perf_counter() - scheduled) * 1000)

        started = time.perf_counter()
        tasks = []
        for sent in range(RATE_PER_S * DURATION_S):
            scheduled = started + sent / RATE_PER_S
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(scheduled, _body(rng))))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
    return latencies, failures, elapsed


def main() -> None:
    """Build the store, serve it, apply the load and print the figures."""
    with tempfile.TemporaryDirectory(prefix="john-bench-") as folder:
        data_dir = Path(folder)
        store = data_dir / "john.sqlite3"
        build_store(store)
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_server(data_dir, store, port)
        try:
            token = make_token(store, base)
            latencies, failures, elapsed = asyncio.run(run_load(base, token))
        finally:
            server.terminate()
            server.wait(timeout=30)
    ordered = sorted(latencies)
    p50 = statistics.median(ordered)
    p99 = ordered[int(len(ordered) * 0.99) - 1]
    print(
        f"requests={RATE_PER_S * DURATION_S} offered_rate={RATE_PER_S}/s "
        f"failures={failures} p50_ms={p50:.1f}",
        file=sys.stderr,
    )
    print(f"verifications_per_s={len(ordered) / elapsed:.1f} p99_ms={p99:.1f}")


if __name__ == "__main__":
    main()
