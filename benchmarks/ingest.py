"""Benchmark feed ingestion on SQLite and PostgreSQL against a raw sqlite3 peer.

Run with no arguments from the repository root:

    PYTHONPATH=src python benchmarks/ingest.py [--rows N] [--no-postgres]

It writes two CSV achievement feeds of N rows (default 1,000,000, about
210 bytes a row) of synthetic people. In the main feed each person has 1 to
5 achievements (3 on average) on adjacent rows, as an awarding body's
results file lists a learner's qualifications and units. In the second,
every row is another person, the worst case for the store, which then
writes a person record for each row. The script times
``john.records.service.ingest_feed`` on a fresh SQLite store with each feed,
and with the main feed on a throwaway PostgreSQL cluster, which it starts
with initdb and pg_ctl as scripts/postgres-lib.sh does. A peer inserts the
main feed's rows into the same tables with the standard library ``sqlite3``
module and no validation. Each measurement runs in its own process so that
its peak resident memory (``ru_maxrss``, including the writer child) is its
own. The last line printed is:

    sqlite_rows_per_s=… postgres_rows_per_s=… peak_mb=… raw_sqlite3_rows_per_s=…
    ratio_vs_raw_sqlite3=… sqlite_one_person_per_row_rows_per_s=…

(on one line), where ``peak_mb`` is the largest peak of the SQLite ingests.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# This checkout's sources come first, for this process and the phase processes.
SOURCE_ROOT = Path(__file__).resolve().parents[1] / "src"
sys.path.insert(0, str(SOURCE_ROOT))
os.environ["PYTHONPATH"] = os.pathsep.join(
    filter(None, [str(SOURCE_ROOT), os.environ.get("PYTHONPATH")])
)

SOURCE = "10000001"
CHUNK = 5000
MAX_ACHIEVEMENTS_PER_PERSON = 5


def peak_mb() -> float:
    """Return the peak resident memory of this process and its children, in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024  # ru_maxrss is in KiB on Linux


def write_feed(path: Path, rows: int, max_per_person: int) -> None:
    from john.records.synthetic import write_synthetic_csv

    with path.open("w", newline="", encoding="utf-8") as out:
        write_synthetic_csv(out, rows, seed=1, max_records_per_person=max_per_person)


def fresh_store(url: str) -> None:
    from john.db import make_engine, migrate

    engine = make_engine(url)
    migrate(engine)
    engine.dispose()


def phase_john(feed: Path, url: str) -> dict[str, float]:
    """Time ingest_feed on a migrated store; runs in its own process."""
    from john.db import make_engine, make_session_factory
    from john.records.service import ingest_feed

    engine = make_engine(url)
    started = time.perf_counter()
    with feed.open("rb") as stream:
        report = ingest_feed(
            make_session_factory(engine), SOURCE, "achievements", stream
        )
    elapsed = time.perf_counter() - started
    engine.dispose()
    return {
        "rows": report.rows_read,
        "accepted": report.rows_accepted,
        "seconds": elapsed,
        "rows_per_s": report.rows_read / elapsed,
        "peak_mb": peak_mb(),
    }


def phase_raw(feed: Path, path: Path) -> dict[str, float]:
    """Insert the feed's rows with sqlite3 alone: no validation, same tables."""
    from john.db import utcnow
    from john.records.mappings import PERSON_FIELDS, RECORD_FIELDS

    received = utcnow().strftime("%Y-%m-%d %H:%M:%S.%f")
    person_columns = ["id", "source_ukprn", *PERSON_FIELDS, "feed_id", "row_number"]
    person_columns.append("received_at")
    record_columns = ["person_record_id", *RECORD_FIELDS["achievements"]]
    record_columns += ["source_ukprn", "feed_id", "row_number", "received_at"]
    record_columns.append("row_key")
    person_sql = (
        f"INSERT INTO person_records ({', '.join(person_columns)}) "
        f"VALUES ({', '.join('?' for _ in person_columns)})"
    )
    record_sql = (
        f"INSERT INTO achievements ({', '.join(record_columns)}) "
        f"VALUES ({', '.join('?' for _ in record_columns)})"
    )

    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("PRAGMA cache_size=-65536")
    started = time.perf_counter()
    connection.execute("BEGIN")
    connection.execute(
        "INSERT INTO feeds (id, source_ukprn, feed_type, file_format, content_sha256, "
        "mapping, received_at, rows_read, rows_accepted, rows_quarantined, "
        "rows_duplicate) VALUES ('F-raw', ?, 'achievements', 'csv', '', 'standard', "
        "?, 0, 0, 0, 0)",
        (SOURCE, received),
    )
    count = person_id = 0
    last_ref = None
    with feed.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        person_at = [header.index(name) for name in PERSON_FIELDS]
        record_at = [header.index(name) for name in RECORD_FIELDS["achievements"]]
        people: list[tuple] = []
        records: list[tuple] = []
        for row in reader:
            count += 1
            person = [row[i] or None for i in person_at]
            # A person's rows are adjacent, so a new reference is a new person.
            if person[0] != last_ref:
                person_id += 1
                last_ref = person[0]
                people.append((person_id, SOURCE, *person, "F-raw", count, received))
            record = [row[i] or None for i in record_at]
            records.append(
                (person_id, *record, SOURCE, "F-raw", count, received, count)
            )
            if len(records) >= CHUNK:
                connection.executemany(person_sql, people)
                connection.executemany(record_sql, records)
                people, records = [], []
        connection.executemany(person_sql, people)
        connection.executemany(record_sql, records)
    connection.execute("COMMIT")
    elapsed = time.perf_counter() - started
    connection.close()
    return {"rows": count, "seconds": elapsed, "rows_per_s": count / elapsed}


def run_phase(*arguments: str) -> dict[str, float]:
    """Run one phase of this script in a fresh process and return its figures."""
    done = subprocess.run(
        [sys.executable, __file__, "--phase", *arguments],
        check=True,
        capture_output=True,
        text=True,
        env=os.environ,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ThrowawayPostgres:
    """A PostgreSQL cluster in a temporary folder, started as postgres-lib.sh does."""

    def __init__(self, port: int):
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
        if not found:
            raise SystemExit(
                "PostgreSQL server binaries not found under /usr/lib/postgresql; "
                "install Debian's postgresql package or pass --no-postgres"
            )
        self.bin = found[-1]
        self.port = port
        self.folder = Path(tempfile.mkdtemp(prefix="john-pg."))
        # initdb refuses to run as root; the Debian package creates this user.
        self.run_as = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
        self.url = f"postgresql://john@127.0.0.1:{port}/postgres"

    def start(self) -> None:
        if self.run_as:
            shutil.chown(self.folder, "postgres")
        data = str(self.folder / "data")
        subprocess.run(
            [*self.run_as, str(self.bin / "initdb"), "-D", data, "-U", "john",
             "-A", "trust", "--no-sync"],
            check=True, capture_output=True,
        )  # fmt: skip
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        subprocess.run(
            [*self.run_as, str(self.bin / "pg_ctl"), "-D", data, "-l",
             str(self.folder / "log"), "-w", "-o", options, "start"],
            check=True, capture_output=True,
        )  # fmt: skip

    def stop(self) -> None:
        subprocess.run(
            [*self.run_as, str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"),
             "-m", "fast", "stop"],
            capture_output=True,
        )  # fmt: skip
        shutil.rmtree(self.folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="Rows to generate.")
    parser.add_argument(
        "--no-postgres", action="store_true", help="Skip the PostgreSQL measurement."
    )
    parser.add_argument("--port", type=int, default=0, help="PostgreSQL port; 0: any.")
    parser.add_argument("--phase", nargs="+", help=argparse.SUPPRESS)
    arguments = parser.parse_args()

    if arguments.phase:
        kind, feed, target = arguments.phase
        if kind == "raw":
            print(json.dumps(phase_raw(Path(feed), Path(target))))
        else:
            print(json.dumps(phase_john(Path(feed), target)))
        return

    folder = Path(tempfile.mkdtemp(prefix="john-bench."))
    try:
        feed = folder / "feed.csv"
        single = folder / "one-person-per-row.csv"
        for path, max_per_person in ((feed, MAX_ACHIEVEMENTS_PER_PERSON), (single, 1)):
            started = time.perf_counter()
            write_feed(path, arguments.rows, max_per_person)
            size_mb = path.stat().st_size / 1e6
            print(f"{path.name}: {arguments.rows} rows, {size_mb:.0f} MB, written "
                  f"in {time.perf_counter() - started:.0f} s", flush=True)  # fmt: skip

        sqlite_url = f"sqlite:///{folder / 'john.sqlite3'}"
        fresh_store(sqlite_url)
        sqlite = run_phase("john", str(feed), sqlite_url)
        print(f"sqlite: {json.dumps(sqlite)}", flush=True)

        single_url = f"sqlite:///{folder / 'single.sqlite3'}"
        fresh_store(single_url)
        one_each = run_phase("john", str(single), single_url)
        print(f"sqlite, one person per row: {json.dumps(one_each)}", flush=True)

        raw_path = folder / "raw.sqlite3"
        fresh_store(f"sqlite:///{raw_path}")
        raw = run_phase("raw", str(feed), str(raw_path))
        print(f"raw sqlite3: {json.dumps(raw)}", flush=True)

        postgres_figure = "skipped"
        if not arguments.no_postgres:
            cluster = ThrowawayPostgres(arguments.port or free_port())
            cluster.start()
            try:
                fresh_store(cluster.url)
                postgres = run_phase("john", str(feed), cluster.url)
                print(f"postgres: {json.dumps(postgres)}", flush=True)
                postgres_figure = f"{postgres['rows_per_s']:.0f}"
            finally:
                cluster.stop()

        ratio = sqlite["rows_per_s"] / raw["rows_per_s"]
        print(
            f"sqlite_rows_per_s={sqlite['rows_per_s']:.0f} "
            f"postgres_rows_per_s={postgres_figure} "
            f"peak_mb={max(sqlite['peak_mb'], one_each['peak_mb']):.0f} "
            f"raw_sqlite3_rows_per_s={raw['rows_per_s']:.0f} "
            f"ratio_vs_raw_sqlite3={ratio:.2f} "
            f"sqlite_one_person_per_row_rows_per_s={one_each['rows_per_s']:.0f}"
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
