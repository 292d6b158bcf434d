"""Concurrent decisions on one match review: exactly one applies.

A retried or doubled request must not merge twice, nor merge and then split
the same pair; every decision after the first is a 409 Conflict.
"""

from __future__ import annotations

import threading
from datetime import date

from sqlalchemy import select

from john.errors import Conflict
from john.identity import service
from john.identity.models import LinkageEvent, MatchReview, PersonRecord

DECISIONS = ["accept", "reject", "accept", "reject"]


def pending_review(session_factory) -> int:
    with session_factory() as session:
        records = [
            PersonRecord(
                source_ukprn=ukprn,
                source_person_ref="QA1",
                feed_id="F-qa",
                row_number=1,
                given_name="Zelphine",
                family_name="Quorrabar",
                date_of_birth=date(2001, 2, 3),
            )
            for ukprn in ("10000001", "10000002")
        ]
        session.add_all(records)
        session.flush()
        review = MatchReview(
            record_a_id=records[0].id,
            record_b_id=records[1].id,
            match_probability=0.5,
        )
        session.add(review)
        session.commit()
        return review.id


def test_concurrent_decisions_apply_once(session_factory) -> None:
    review_id = pending_review(session_factory)
    barrier = threading.Barrier(len(DECISIONS))
    outcomes: list[str] = []

    def decide(decision: str) -> None:
        barrier.wait()
        try:
            service.decide_review(session_factory, review_id, decision, "qa")
            outcomes.append(decision)
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=decide, args=(d,)) for d in DECISIONS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    with session_factory() as session:
        review = session.get(MatchReview, review_id)
        decided = session.scalars(
            select(LinkageEvent.kind).where(
                LinkageEvent.kind.in_(["review_accept", "review_reject"])
            )
        ).all()
    assert sorted(outcomes).count("conflict") == len(DECISIONS) - 1
    applied = [outcome for outcome in outcomes if outcome != "conflict"]
    assert len(applied) == 1
    assert review.status == f"{applied[0]}ed"
    assert decided == [f"review_{applied[0]}"]
