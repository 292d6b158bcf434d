"""Time learner search and record reads on a store that contains linked learners.

Usage: PYTHONPATH=src .venv/bin/python scripts/bench-learner-search.py DATABASE_URL

Run ``john demo --no-serve`` against DATABASE_URL first. The script picks
name prefixes and ULN-shaped queries from the store, runs each query REPEATS
times and prints the median and 95th percentile per kind of query. It prints
no names: only the kind of query and timings.
"""

from __future__ import annotations

import statistics
import sys
import time

from sqlalchemy import func, select

from john.config import normalise_database_url
from john.db import make_engine, make_session_factory
from john.identity.models import Learner, PersonRecord
from john.records.joined import get_learner_record, search_learners

REPEATS = 200


def _time(call) -> list[float]:
    timings = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def _report(label: str, timings: list[float]) -> None:
    timings.sort()
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(f"{label}: median {statistics.median(timings):.2f} ms, p95 {p95:.2f} ms")


def main(url: str) -> None:
    engine = make_engine(normalise_database_url(url))
    factory = make_session_factory(engine)
    with factory() as session:
        people = session.scalar(select(func.count()).select_from(PersonRecord))
        learners = session.scalar(select(func.count()).select_from(Learner))
        family = session.scalars(
            select(PersonRecord.family_name)
            .where(PersonRecord.family_name.is_not(None))
            .order_by(PersonRecord.id)
            .limit(1)
        ).one()
        given = session.scalars(
            select(PersonRecord.given_name)
            .where(PersonRecord.given_name.is_not(None))
            .order_by(PersonRecord.id)
            .limit(1)
        ).one()
        learner_id = session.scalars(
            select(PersonRecord.learner_id)
            .where(PersonRecord.learner_id.is_not(None))
            .order_by(PersonRecord.id)
            .limit(1)
        ).one()
        print(f"{engine.dialect.name}: {people} person records, {learners} learners")

        _report(
            "name, 3-letter prefix", _time(lambda: search_learners(session, family[:3]))
        )
        _report(
            "given and family prefixes",
            _time(lambda: search_learners(session, f"{given[:2]} {family[:4]}")),
        )
        _report("ULN (no match)", _time(lambda: search_learners(session, "9990000017")))
        _report(
            "joined-up record", _time(lambda: get_learner_record(session, learner_id))
        )
    engine.dispose()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
