"""Benchmark the catalogue: import 200,000 generated services and courses, then
time text-plus-distance searches, on SQLite and on a throwaway PostgreSQL.

Run with no arguments from the repository root:

    PYTHONPATH=src .venv/bin/python benchmarks/catalogue.py

The last line printed is
``sqlite_search_p95_ms=… sqlite_import_records_per_s=… postgres_search_p95_ms=…
postgres_import_records_per_s=…``. PostgreSQL is started from the installed
server binaries (``scripts/postgres-lib.sh``) unless ``JOHN_BENCH_POSTGRES_URL``
names a running server; without either the PostgreSQL figures are ``nan``.
``JOHN_BENCH_RECORDS`` changes the record count, and ``JOHN_BENCH_BACKENDS=sqlite``
runs SQLite alone.
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from john.catalogue.bulk import upsert
from john.catalogue.geocode import Geocoder
from john.catalogue.models import Course, SearchEntry
from john.catalogue.oruk import import_oruk
from john.catalogue.search import SearchQuery, course_entry, search
from john.db import make_engine, make_session_factory, migrate

RECORDS = int(os.environ.get("JOHN_BENCH_RECORDS", "200000"))
SERVICE_SHARE = 0.6
SEARCHES = 300
RADIUS_KM = 10.0
SEED = 20261204
REPO = Path(__file__).resolve().parents[1]

# Town centres spread over the UK, so distance searches meet dense cities and
# sparse rural areas alike.
TOWNS = [
    ("Aberdeen", 57.1497, -2.0943),
    ("Belfast", 54.5973, -5.9301),
    ("Birmingham", 52.4862, -1.8904),
    ("Bristol", 51.4545, -2.5879),
    ("Cardiff", 51.4816, -3.1791),
    ("Carlisle", 54.8925, -2.9329),
    ("Edinburgh", 55.9533, -3.1883),
    ("Exeter", 50.7184, -3.5339),
    ("Glasgow", 55.8642, -4.2518),
    ("Hull", 53.7676, -0.3274),
    ("Inverness", 57.4778, -4.2247),
    ("Leeds", 53.8008, -1.5491),
    ("Leicester", 52.6369, -1.1398),
    ("Liverpool", 53.4084, -2.9916),
    ("London", 51.5074, -0.1278),
    ("Manchester", 53.4808, -2.2426),
    ("Newcastle", 54.9783, -1.6178),
    ("Norwich", 52.6309, 1.2974),
    ("Nottingham", 52.9548, -1.1581),
    ("Plymouth", 50.3755, -4.1427),
    ("Scunthorpe", 53.5906, -0.6544),
    ("Sheffield", 53.3811, -1.4701),
    ("Southampton", 50.9097, -1.4044),
    ("Swansea", 51.6214, -3.9436),
    ("Truro", 50.2632, -5.051),
    ("York", 53.9591, -1.0815),
]
TOPICS = [
    "digital skills",
    "english for speakers of other languages",
    "maths",
    "counselling",
    "debt advice",
    "employment support",
    "carers support",
    "coding",
    "bookkeeping",
    "childcare",
    "first aid",
    "food hygiene",
    "warehouse safety",
    "customer service",
    "welding",
    "plumbing",
    "social media",
    "photography",
    "mental health",
    "parenting",
    "spreadsheets",
    "cyber security",
    "health and social care",
    "forklift",
]
FORMATS = [
    "drop-in",
    "course",
    "workshop",
    "club",
    "support group",
    "advice session",
    "bootcamp",
    "certificate",
    "diploma",
    "taster",
]
AUDIENCES = [
    "young people",
    "adults",
    "older people",
    "carers",
    "parents",
    "jobseekers",
    "veterans",
    "refugees",
    "disabled people",
    "everyone",
]
DAYS = ["MO", "TU", "WE", "TH", "FR", "SA"]


def _point(rng: random.Random) -> tuple[str, float, float]:
    town, latitude, longitude = rng.choice(TOWNS)
    # Spread about 15 km around the town centre.
    return (town, latitude + rng.gauss(0, 0.08), longitude + rng.gauss(0, 0.12))


def generate_service(rng: random.Random, number: int) -> dict[str, Any]:
    """Return one realistic ORUK 3.0 service held at one location."""
    topic, form, audience = (
        rng.choice(TOPICS),
        rng.choice(FORMATS),
        rng.choice(AUDIENCES),
    )
    town, latitude, longitude = _point(rng)
    service_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    opens = rng.choice(["09:00", "09:30", "10:00", "13:00", "17:30"])
    closes = {
        "09:00": "12:00",
        "09:30": "16:30",
        "10:00": "15:00",
        "13:00": "17:00",
        "17:30": "20:30",
    }[opens]
    return {
        "id": service_id,
        "name": f"{topic.title()} {form} in {town}",
        "description": f"A free {form} on {topic} for {audience} in and around "
        f"{town}. Number {number}.",
        "status": "active",
        "url": f"https://example.org/{number}",
        "minimum_age": rng.choice([None, 16, 18, 19, 25]),
        "organization": {
            "id": str(uuid.UUID(int=number % 5000 + 1, version=4)),
            "name": f"{town} learning partnership {number % 5000}",
            "description": "Generated for the benchmark.",
        },
        "schedules": [
            {
                "id": str(uuid.uuid5(uuid.UUID(service_id), "s")),
                "freq": "WEEKLY",
                "byday": ",".join(sorted(rng.sample(DAYS, 2), key=DAYS.index)),
                "opens_at": f"{opens}:00",
                "closes_at": f"{closes}:00",
            }
        ],
        "service_at_locations": [
            {
                "id": str(uuid.uuid5(uuid.UUID(service_id), "sal")),
                "location": {
                    "id": str(uuid.uuid5(uuid.UUID(service_id), "loc")),
                    "location_type": "physical",
                    "name": f"{town} venue",
                    "latitude": round(latitude, 6),
                    "longitude": round(longitude, 6),
                },
            }
        ],
        "cost_options": [
            {
                "id": str(uuid.uuid5(uuid.UUID(service_id), "cost")),
                "amount": rng.choice([0, 0, 0, 5, 20]),
            }
        ],
    }


def generate_course(
    rng: random.Random, number: int
) -> tuple[Course, float, float, str]:
    """Return one generated course with the point and town it is taught at."""
    topic, form = rng.choice(TOPICS), rng.choice(FORMATS)
    town, latitude, longitude = _point(rng)
    level = rng.choice([1, 2, 2, 3, 3, 4, 5, 6])
    course = Course(
        id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        title=f"Level {level} {form} in {topic}",
        description=f"A {form} in {topic} taught in {town}, run {number}.",
        level_framework="RQF",
        level=level,
        credits=rng.choice([6, 12, 30, 60]),
        guided_learning_hours=rng.choice([20, 60, 120, 360]),
        delivery_modes=rng.choice(["in_person", "online", "hybrid"]),
        cost=Decimal(rng.choice([0, 0, 150, 450, 1200])),
        start_dates=[],
        status="active",
    )
    return course, latitude, longitude, town


def _course_rows(
    course: Course, latitude: float, longitude: float, town: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    row = {
        column.name: getattr(course, column.name)
        for column in Course.__table__.columns
        if column.name
        not in (
            "created_at",
            "updated_at",
            "parent_id",
            "location_id",
            "organization_id",
        )
    }
    entry = course_entry(course, None, [])
    entry.update(latitude=latitude, longitude=longitude, location_name=town)
    return row, entry


def load(engine: Engine, rng: random.Random) -> float:
    """Import the generated records and return records per second."""
    factory = make_session_factory(engine)
    services = int(RECORDS * SERVICE_SHARE)
    courses = RECORDS - services
    started = time.perf_counter()
    with factory() as session:
        records = (generate_service(rng, n) for n in range(services))
        import_oruk(session, records, "benchmark", Geocoder())
        session.commit()
    with factory() as session:
        batch_rows: list[dict[str, Any]] = []
        batch_entries: list[dict[str, Any]] = []
        for number in range(courses):
            row, entry = _course_rows(*generate_course(rng, number))
            batch_rows.append(row)
            batch_entries.append(entry)
            if len(batch_rows) == 2000 or number == courses - 1:
                upsert(session, Course.__table__, batch_rows, ["id"])
                upsert(
                    session, SearchEntry.__table__, batch_entries, ["kind", "entry_id"]
                )
                batch_rows, batch_entries = [], []
        session.commit()
    elapsed = time.perf_counter() - started
    if engine.dialect.name == "postgresql":
        # Autovacuum would do this soon after a bulk load. Until then every
        # text search also reads the GIN index's pending list of new entries.
        with engine.connect().execution_options(
            isolation_level="AUTOCOMMIT"
        ) as connection:
            connection.execute(text("VACUUM ANALYZE"))
    return RECORDS / elapsed


def time_searches(engine: Engine, rng: random.Random) -> float:
    """Run text-plus-distance searches and return the 95th percentile in ms."""
    factory = make_session_factory(engine)
    timings = []
    with factory() as session:
        for _ in range(SEARCHES):
            _town, latitude, longitude = _point(rng)
            query = SearchQuery(
                text=rng.choice(TOPICS).split()[0],
                latitude=latitude,
                longitude=longitude,
                radius_km=RADIUS_KM,
            )
            started = time.perf_counter()
            search(session, query)
            timings.append((time.perf_counter() - started) * 1000)
    return statistics.quantiles(timings, n=20)[18]


def run(url: str, label: str) -> tuple[float, float]:
    """Migrate a fresh store at ``url``, load it and time searches."""
    engine = make_engine(url)
    migrate(engine)
    rng = random.Random(SEED)
    rate = load(engine, rng)
    p95 = time_searches(engine, rng)
    engine.dispose()
    print(
        f"{label}: {RECORDS} records at {rate:.0f}/s, search p95 {p95:.1f} ms",
        file=sys.stderr,
    )
    return p95, rate


def run_on_server(server_url: str) -> tuple[float, float]:
    """Run in a fresh database ``john_bench`` on an existing PostgreSQL server."""
    from sqlalchemy import create_engine

    from john.config import normalise_database_url

    base = normalise_database_url(server_url)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS john_bench WITH (FORCE)"))
        connection.execute(text("CREATE DATABASE john_bench"))
    try:
        return run(base.rsplit("/", 1)[0] + "/john_bench", "postgresql")
    finally:
        with admin.connect() as connection:
            connection.execute(text("DROP DATABASE IF EXISTS john_bench WITH (FORCE)"))
        admin.dispose()


def run_postgres() -> tuple[float, float]:
    """Run on PostgreSQL, or return NaNs if no server can be started.

    ``JOHN_BENCH_POSTGRES_URL`` names a running server whose user may create
    databases; unset, a throwaway cluster is started on ``JOHN_PG_PORT``.
    """
    if os.environ.get("JOHN_BENCH_POSTGRES_URL"):
        return run_on_server(os.environ["JOHN_BENCH_POSTGRES_URL"])
    script = (
        "source scripts/postgres-lib.sh; JOHN_PG_PORT=${JOHN_PG_PORT:-54399}; "
        "export JOHN_PG_PORT; start_throwaway_postgres || exit 1; "
        "trap stop_throwaway_postgres EXIT; "
        "JOHN_BENCH_POSTGRES_URL=$THROWAWAY_POSTGRES_URL "
        f"{sys.executable} {Path(__file__).resolve()} --postgres-child"
    )
    done = subprocess.run(
        ["bash", "-c", script], cwd=REPO, capture_output=True, text=True, check=False
    )
    sys.stderr.write(done.stderr)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return float("nan"), float("nan")
    p95, rate = lines[-1].split()
    return float(p95), float(rate)


def main() -> None:
    """Run both backends and print the summary line."""
    if "--postgres-child" in sys.argv:
        p95, rate = run_on_server(os.environ["JOHN_BENCH_POSTGRES_URL"])
        print(f"{p95} {rate}")
        return

    with tempfile.TemporaryDirectory() as folder:
        sqlite_p95, sqlite_rate = run(f"sqlite:///{folder}/bench.sqlite3", "sqlite")
    if os.environ.get("JOHN_BENCH_BACKENDS", "sqlite,postgresql") == "sqlite":
        postgres_p95, postgres_rate = float("nan"), float("nan")
    else:
        postgres_p95, postgres_rate = run_postgres()
    print(
        f"sqlite_search_p95_ms={sqlite_p95:.1f} "
        f"sqlite_import_records_per_s={sqlite_rate:.0f} "
        f"postgres_search_p95_ms={postgres_p95:.1f} "
        f"postgres_import_records_per_s={postgres_rate:.0f}"
    )


if __name__ == "__main__":
    main()
