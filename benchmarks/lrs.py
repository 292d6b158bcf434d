"""Measure the LRS on SQLite and PostgreSQL against Ralph: preload, POST, GET.

Run with no arguments from the repository root::

    python benchmarks/lrs.py

For each backend it makes a fresh store: a SQLite file, or a throwaway
PostgreSQL cluster on 127.0.0.1 started like ``scripts/postgres-lib.sh``
does. It preloads statements in batches of 1,000 through the service layer
(``store_statements``, the code behind POST, without HTTP) and serves the LRS
on 127.0.0.1: one server process on SQLite, which has a single writer, and
two on PostgreSQL. Then it measures the HTTP POST rate with batches of 50 sent
by four loopback clients, and the latency of filtered GET queries (agent,
verb, activity, registration, related activity, agent with verb, and a
since/until window), each with limit=25, sent one at a time.

Ralph, a Python LRS, is the peer: the same statements, the same POSTs and the
same queries (see ``lrs_ralph.py``). When Ralph cannot be installed or started,
its figures are printed as skipped. Every request loop stops after a fixed
count or a fixed time, whichever comes first.

The last line contains the figures of every backend, the peer and the ratios.
``JOHN_LRS_BENCH_STATEMENTS`` sets the preload (default 1,000,000),
``JOHN_LRS_BENCH_BACKENDS`` the backends (default ``sqlite,postgres,ralph``)
and ``JOHN_PG_PORT`` the port of the throwaway cluster (default 54339).
"""

from __future__ import annotations

import contextlib
import glob
import json
import math
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import lrs_ralph  # noqa: E402

from john.db import make_engine, make_session_factory, migrate  # noqa: E402
from john.lrs.clients import add_client, authenticate  # noqa: E402
from john.lrs.service import store_statements  # noqa: E402

PRELOAD_BATCH = 1000
POST_BATCH = 50
POST_CLIENTS = 4
POST_BATCHES_PER_CLIENT = 60
GET_QUERIES = 420
# Upper bounds on each measuring loop, in seconds, so that a slow store cannot
# stall the run. Ralph's filesystem backend reads its file from the start for
# every query.
POST_SECONDS = 180
GET_SECONDS = 180
SERVER_WORKERS = {"sqlite": 1, "postgres": 2}
ACTORS = 20_000
ACTIVITIES = 5_000
COURSES = 200
REGISTRATIONS = 20_000
VERBS = [
    f"http://adlnet.gov/expapi/verbs/{name}"
    for name in (
        "experienced",
        "attempted",
        "completed",
        "passed",
        "failed",
        "answered",
        "interacted",
        "launched",
        "progressed",
        "scored",
        "attended",
        "commented",
    )
]


class StatementMaker:
    """Make reproducible synthetic statements over fixed pools of values."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.registrations = [
            str(uuid.UUID(int=self.random.getrandbits(128), version=4))
            for _ in range(REGISTRATIONS)
        ]

    def make(self) -> dict:
        """Return one statement."""
        pick = self.random.randrange
        activity = pick(ACTIVITIES)
        statement = {
            "id": str(uuid.UUID(int=self.random.getrandbits(128), version=4)),
            "actor": {"mbox": f"mailto:learner{pick(ACTORS)}@example.com"},
            "verb": {"id": self.random.choice(VERBS)},
            "object": {
                "id": f"http://example.com/activities/{activity}",
                "definition": {"name": {"en-GB": f"Activity {activity}"}},
            },
            "context": {
                "contextActivities": {
                    "parent": [{"id": f"http://example.com/courses/{pick(COURSES)}"}]
                }
            },
        }
        if pick(2):
            statement["context"]["registration"] = self.random.choice(
                self.registrations
            )
        if pick(3) == 0:
            statement["result"] = {"completion": True, "duration": "PT25M"}
        return statement


# Store lifecycles ---------------------------------------------------------


@contextlib.contextmanager
def sqlite_store() -> Iterator[str]:
    """Yield the URL of a fresh SQLite file."""
    folder = tempfile.mkdtemp(prefix="john-lrs-bench-")
    try:
        yield f"sqlite:///{folder}/john.sqlite3"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def postgres_store() -> Iterator[str]:
    """Start a throwaway PostgreSQL cluster on 127.0.0.1 and yield its URL."""
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not binaries:
        raise SystemExit("PostgreSQL binaries not found; install Debian's postgresql")
    bin_dir = binaries[-1]
    port = int(os.environ.get("JOHN_PG_PORT", "54339"))
    folder = tempfile.mkdtemp(prefix="john-lrs-bench-pg-")
    run: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        run = ["runuser", "-u", "postgres", "--"]
    data = f"{folder}/data"
    subprocess.run(
        [
            *run,
            f"{bin_dir}/initdb",
            "-D",
            data,
            "-U",
            "john",
            "-A",
            "trust",
            "--no-sync",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    options = (
        f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 "
        "-c shared_buffers=512MB -c max_connections=100"
    )
    try:
        subprocess.run(
            [
                *run,
                f"{bin_dir}/pg_ctl",
                "-D",
                data,
                "-l",
                f"{folder}/log",
                "-w",
                "-o",
                options,
                "start",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        yield f"postgresql+psycopg://john@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*run, f"{bin_dir}/pg_ctl", "-D", data, "-m", "fast", "stop"],
            check=False,
            stdout=subprocess.DEVNULL,
        )
        shutil.rmtree(folder, ignore_errors=True)


# Phases -------------------------------------------------------------------


def preload(
    url: str, count: int, maker: StatementMaker
) -> tuple[str, str, float, tuple[datetime, datetime]]:
    """Store ``count`` statements through the service layer.

    Returns the client's credentials, the rate and the stored-time window.
    """
    engine = make_engine(url)
    migrate(engine)
    sessions = make_session_factory(engine)
    with sessions() as session:
        key, secret = add_client(session, "10000001", ["all"])
        client = authenticate(session, _basic(key, secret))
    started = time.perf_counter()
    first = datetime.now(UTC)
    done = 0
    while done < count:
        size = min(PRELOAD_BATCH, count - done)
        batch = [maker.make() for _ in range(size)]
        with sessions() as session:
            store_statements(session, client, batch, "2.0.0")
        done += size
        if done % 100_000 == 0 or done == count:
            rate = done / (time.perf_counter() - started)
            print(f"  preloaded {done:,} statements ({rate:,.0f}/s)", file=sys.stderr)
    elapsed = time.perf_counter() - started
    engine.dispose()
    window = (first, datetime.now(UTC))
    return key, secret, count / elapsed if elapsed else 0.0, window


def _basic(key: str, secret: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()


@contextlib.contextmanager
def served(url: str, workers: int) -> Iterator[str]:
    """Serve the LRS on a free loopback port and yield its endpoint."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "JOHN_DATABASE_URL": url,
        "JOHN_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT / "src"),
    }
    log_path = Path(tempfile.gettempdir()) / f"john-lrs-bench-server-{port}.log"
    log_file = log_path.open("wb")
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from john.cli import main; main()",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    print(f"  server log: {log_path}", file=sys.stderr)
    endpoint = f"http://127.0.0.1:{port}/xapi"
    try:
        for _ in range(600):
            try:
                httpx.get(f"{endpoint}/about", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=60)
        log_file.close()


def measure_posts(
    endpoint: str, headers: dict[str, str], seed: int
) -> tuple[float, int, str | None]:
    """Send concurrent POSTs of 50 statements.

    Returns the statements stored per second, how many were stored and the
    first failed response, if any; a client stops at its first failure.
    """
    failures: list[str] = []
    sent = [0] * POST_CLIENTS
    deadline = time.monotonic() + POST_SECONDS

    def send(worker: int) -> None:
        maker = StatementMaker(seed + worker)
        with httpx.Client(headers=headers, timeout=POST_SECONDS) as http:
            for _ in range(POST_BATCHES_PER_CLIENT):
                if time.monotonic() > deadline:
                    return
                batch = [maker.make() for _ in range(POST_BATCH)]
                response = http.post(f"{endpoint}/statements", json=batch)
                if response.status_code != 200:
                    failures.append(f"{response.status_code} {response.text[:200]}")
                    return
                sent[worker] += POST_BATCH

    threads = [threading.Thread(target=send, args=(n,)) for n in range(POST_CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return sum(sent) / elapsed, sum(sent), failures[0] if failures else None


def measure_gets(
    endpoint: str,
    headers: dict[str, str],
    maker: StatementMaker,
    window: tuple[datetime, datetime],
) -> dict[str, list[float]]:
    """Return GET latencies in milliseconds, by kind of filter."""
    pick = random.Random(11)
    first, last = window
    span = (last - first) / 20

    def agent() -> str:
        return json.dumps(
            {"mbox": f"mailto:learner{pick.randrange(ACTORS)}@example.com"}
        )

    def since_until() -> dict[str, str]:
        since = first + (last - first - span) * pick.random()
        return {"since": since.isoformat(), "until": (since + span).isoformat()}

    queries = {
        "agent": lambda: {"agent": agent()},
        "verb": lambda: {"verb": pick.choice(VERBS)},
        "activity": lambda: {
            "activity": f"http://example.com/activities/{pick.randrange(ACTIVITIES)}"
        },
        "registration": lambda: {"registration": pick.choice(maker.registrations)},
        "related_activity": lambda: {
            "activity": f"http://example.com/courses/{pick.randrange(COURSES)}",
            "related_activities": "true",
        },
        "agent_and_verb": lambda: {"agent": agent(), "verb": pick.choice(VERBS)},
        "since_until": since_until,
    }
    latencies: dict[str, list[float]] = {name: [] for name in queries}
    names = list(queries)
    deadline = time.monotonic() + GET_SECONDS
    with httpx.Client(headers=headers, timeout=GET_SECONDS) as http:
        for index in range(GET_QUERIES):
            if time.monotonic() > deadline:
                break
            name = names[index % len(names)]
            params = {**queries[name](), "limit": "25"}
            started = time.perf_counter()
            response = http.get(f"{endpoint}/statements", params=params)
            latencies[name].append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"GET {params} failed: {response.status_code}")
    return {name: values for name, values in latencies.items() if values}


def percentile(values: list[float], share: float) -> float:
    """Return the nearest-rank percentile of ``values``."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(share * len(ordered)) - 1))
    return ordered[index]


def summarise(
    name: str, preload_rate: float, post: tuple[float, int], latencies: dict
) -> dict[str, float]:
    """Print one store's figures by kind of query and return its summary."""
    every = [value for values in latencies.values() for value in values]
    for kind, values in latencies.items():
        print(
            f"  GET {kind:<16} p50 {statistics.median(values):7.1f} ms  "
            f"p95 {percentile(values, 0.95):7.1f} ms  ({len(values)} queries)",
            file=sys.stderr,
        )
    figures = {
        "preload_statements_per_s": preload_rate,
        "post_statements_per_s": post[0],
        "posted_statements": post[1],
        "get_queries": len(every),
        "get_p50_ms": statistics.median(every),
        "get_p95_ms": percentile(every, 0.95),
    }
    print(
        f"  {name}: " + " ".join(f"{k}={v:.1f}" for k, v in figures.items()),
        file=sys.stderr,
    )
    return figures


def run_backend(name: str, url: str, count: int) -> dict[str, float]:
    """Run every phase on one JOHN backend and return its figures."""
    print(f"== {name}: preloading {count:,} statements", file=sys.stderr)
    maker = StatementMaker(seed=1)
    key, secret, preload_rate, window = preload(url, count, maker)
    headers = {
        "Authorization": _basic(key, secret),
        "X-Experience-API-Version": "2.0.0",
    }
    with served(url, SERVER_WORKERS[name]) as endpoint:
        post_rate, posted, failure = measure_posts(endpoint, headers, seed=1000)
        if failure is not None:
            raise SystemExit(f"a POST to JOHN on {name} failed: {failure}")
        latencies = measure_gets(endpoint, headers, maker, window)
    return summarise(name, preload_rate, (post_rate, posted), latencies)


def run_ralph(count: int) -> dict[str, float] | str:
    """Run every phase on Ralph; return its figures or why it was skipped."""
    print(f"== ralph: preloading {count:,} statements", file=sys.stderr)
    try:
        python = lrs_ralph.ralph_python()
        with lrs_ralph.ralph_store() as folder:
            maker = StatementMaker(seed=1)
            rate, first, last = lrs_ralph.preload_ralph(folder, count, maker.make)
            with lrs_ralph.served_ralph(python, folder) as (endpoint, headers):
                post_rate, posted, failure = measure_posts(endpoint, headers, seed=1000)
                latencies = measure_gets(endpoint, headers, maker, (first, last))
    except (lrs_ralph.PeerUnavailable, OSError, subprocess.SubprocessError) as error:
        print(f"  Ralph skipped: {error}", file=sys.stderr)
        return str(error)
    if failure is not None:
        # Ralph 5.1.0's filesystem backend writes with the CREATE operation,
        # which fails when the file exists, so every POST after the first
        # fails with HTTP 500 and no POST rate can be measured.
        print(
            f"  Ralph POST failed after {posted} statements: {failure}", file=sys.stderr
        )
        post_rate = float("nan")
    return summarise("ralph", rate, (post_rate, posted), latencies)


def summary_line(results: dict[str, dict[str, float] | str]) -> str:
    """Return the last line: each store's POST rate and GET p95, and the ratios."""
    fields = []
    for name, figures in results.items():
        if isinstance(figures, str):
            fields.append(f"{name}=skipped")
            continue
        post_rate = figures["post_statements_per_s"]
        post_text = "failed" if math.isnan(post_rate) else f"{post_rate:.0f}"
        fields.append(f"{name}_post_statements_per_s={post_text}")
        fields.append(f"{name}_get_p95_ms={figures['get_p95_ms']:.1f}")
    peer = results.get("ralph")
    john = results.get("postgres")
    if isinstance(peer, dict) and isinstance(john, dict):
        # Ratios above 1 favour JOHN on PostgreSQL.
        peer_rate = peer["post_statements_per_s"]
        if not math.isnan(peer_rate):
            post_ratio = john["post_statements_per_s"] / peer_rate
            fields.append(f"post_ratio_postgres_to_ralph={post_ratio:.1f}")
        get_ratio = peer["get_p95_ms"] / john["get_p95_ms"]
        fields.append(f"get_p95_ratio_ralph_to_postgres={get_ratio:.1f}")
    return " ".join(fields)


def main() -> None:
    """Run the benchmark on each backend and print the summary line."""
    # Turn SIGTERM into SystemExit so the stores and servers are cleaned up.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    count = int(os.environ.get("JOHN_LRS_BENCH_STATEMENTS", "1000000"))
    backends = os.environ.get("JOHN_LRS_BENCH_BACKENDS", "sqlite,postgres,ralph").split(
        ","
    )
    stores = {"sqlite": sqlite_store, "postgres": postgres_store}
    results: dict[str, dict[str, float] | str] = {}
    for name in backends:
        if name == "ralph":
            results[name] = run_ralph(count)
            continue
        with stores[name]() as url:
            results[name] = run_backend(name, url, count)
    print(summary_line(results))


if __name__ == "__main__":
    main()
