"""Shared parts of the linkage benchmarks: a temporary store and pair scoring."""

from __future__ import annotations

import itertools
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from john.db import make_engine, make_session_factory, migrate
from john.identity.models import PersonRecord


@dataclass
class Scores:
    """Pairwise precision, recall and F1 against the known truth."""

    precision: float
    recall: float
    f1: float


@contextmanager
def temporary_store() -> Iterator[sessionmaker[Session]]:
    """Yield a session factory on a fresh, migrated SQLite store in a temp dir."""
    with tempfile.TemporaryDirectory(prefix="john-bench-") as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'john.sqlite3'}")
        migrate(engine)
        try:
            yield make_session_factory(engine)
        finally:
            engine.dispose()


def store_records(
    factory: sessionmaker[Session], rows: Sequence[dict[str, Any]]
) -> None:
    """Insert person records in bulk."""
    with factory() as session:
        session.execute(insert(PersonRecord), list(rows))
        session.commit()


def pairs_from_groups(groups: Iterable[Iterable[Any]]) -> set[tuple[Any, Any]]:
    """Return every unordered pair inside each group."""
    pairs: set[tuple[Any, Any]] = set()
    for group in groups:
        members = sorted(group)
        pairs.update(itertools.combinations(members, 2))
    return pairs


def learner_pairs(factory: sessionmaker[Session]) -> set[tuple[str, str]]:
    """Return pairs of source refs that the store put in the same learner."""
    groups: dict[str, list[str]] = defaultdict(list)
    with factory() as session:
        rows = session.execute(
            select(PersonRecord.source_person_ref, PersonRecord.learner_id)
        ).all()
    for ref, learner_id in rows:
        groups[learner_id].append(ref)
    return pairs_from_groups(groups.values())


def learner_ids(factory: sessionmaker[Session]) -> dict[str, str | None]:
    """Return each source ref's learner id."""
    with factory() as session:
        rows = session.execute(
            select(PersonRecord.source_person_ref, PersonRecord.learner_id)
        ).all()
    return {ref: learner_id for ref, learner_id in rows}


def score(predicted: set[tuple[Any, Any]], truth: set[tuple[Any, Any]]) -> Scores:
    """Compare predicted pairs with true pairs."""
    hits = len(predicted & truth)
    precision = hits / len(predicted) if predicted else 0.0
    recall = hits / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
    return Scores(precision, recall, f1)


def timed(work: Callable[[], Any]) -> tuple[Any, float]:
    """Run ``work`` and return its result and the seconds it took."""
    started = time.perf_counter()
    result = work()
    return result, time.perf_counter() - started
