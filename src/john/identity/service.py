"""Linkage runs, match reviews, merge and split, and learner look-up.

These functions own every write to ``learners``, ``linkage_runs``,
``match_reviews`` and ``linkage_events``. A learner's id is stable: a run
only merges learners (the oldest id survives) and only staff decisions split
them, so an id handed out once keeps resolving through ``merged_into``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Literal

import pandas as pd
from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from john.db import MAX_INTEGER_KEY, new_public_id, utcnow
from john.errors import Conflict, InvalidInput, NotFound
from john.identity import clustering, comparisons, linkage
from john.identity.models import (
    Learner,
    LinkageEvent,
    LinkageRun,
    MatchReview,
    PersonRecord,
)

log = logging.getLogger(__name__)

SessionFactory = sessionmaker[Session]
Progress = Callable[[str, int, int], None]
SYSTEM_ACTOR = "linkage"
DECISIONS = ("accept", "reject")


@dataclass
class LinkageReport:
    """Counts from one linkage run."""

    run_id: int
    records: int
    deterministic_links: int
    probabilistic_links: int
    reviews_created: int
    learners_created: int
    learners_merged: int
    seconds: float
    model_trained: bool

    def as_dict(self) -> dict[str, Any]:
        """Return the report as a JSON-ready dict."""
        return asdict(self)


@dataclass
class Candidate:
    """A learner whose stored records may belong to a claimed identity."""

    learner_id: str
    match_probability: float
    matched_fields: list[str] = field(default_factory=list)


def _pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def _load_records(session: Session) -> pd.DataFrame:
    columns = [getattr(PersonRecord, name) for name in linkage.RECORD_COLUMNS]
    rows = session.execute(select(*columns).order_by(PersonRecord.id)).all()
    return pd.DataFrame(rows, columns=list(linkage.RECORD_COLUMNS))


def latest_model(session: Session) -> dict[str, Any] | None:
    """Return the model saved by the most recent run, or None.

    A model whose comparisons differ from the current ones (saved by an
    earlier version) counts as none, so the prior model is used instead.
    """
    settings = session.scalars(
        select(LinkageRun.settings)
        .where(LinkageRun.finished_at.is_not(None))
        .order_by(LinkageRun.id.desc())
        .limit(1)
    ).first()
    if settings and settings.get("model"):
        model: dict[str, Any] = settings["model"]
        if comparisons.has_current_comparisons(model):
            return model
    return None


def _decided_pairs(
    session: Session,
) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    accepted: set[tuple[int, int]] = set()
    rejected: set[tuple[int, int]] = set()
    rows = session.execute(
        select(MatchReview.record_a_id, MatchReview.record_b_id, MatchReview.status)
    ).all()
    for a, b, status in rows:
        if status == "accepted":
            accepted.add(_pair(a, b))
        elif status == "rejected":
            rejected.add(_pair(a, b))
    return accepted, rejected


def _membership_edges(records: pd.DataFrame) -> list[tuple[int, int]]:
    # Records already in one learner stay together unless staff split them,
    # which keeps ids stable when the retrained model scores a pair lower.
    edges: list[tuple[int, int]] = []
    assigned = records.dropna(subset=["learner_id"])
    for _, group in assigned.groupby("learner_id"):
        ids = sorted(int(i) for i in group["id"])
        edges.extend((ids[0], other) for other in ids[1:])
    return edges


def run_linkage(
    session_factory: SessionFactory,
    *,
    progress: Progress | None = None,
    thresholds: linkage.Thresholds | None = None,
    incremental: bool = False,
) -> LinkageReport:
    """Link every person record into learners and queue uncertain pairs.

    ``progress`` is called with a stage name, the step and the number of
    steps, so a face can draw a bar. With ``incremental`` only pairs with a
    record that has no learner yet are scored, with the latest run's model
    and no training. Existing learners keep their records and ids.
    """
    limits = thresholds or linkage.Thresholds()
    started = time.perf_counter()
    report_progress = progress or (lambda _stage, _step, _total: None)

    report_progress("reading records", 0, 4)
    with session_factory() as session:
        run = LinkageRun(started_at=utcnow())
        session.add(run)
        session.commit()
        run_id = run.id
        records = _load_records(session)
        saved_model = latest_model(session)
        new_ids = None
        if incremental:
            new_ids = set(
                session.scalars(
                    select(PersonRecord.id).where(PersonRecord.learner_id.is_(None))
                )
            )
    log.info(
        "linkage run %d started over %d records (%s)",
        run_id,
        len(records),
        "full" if new_ids is None else f"incremental, {len(new_ids)} new",
    )

    report_progress("scoring pairs", 1, 4)
    outcome = linkage.link_records(
        records, saved_model=saved_model, thresholds=limits, new_record_ids=new_ids
    )

    report_progress("clustering", 2, 4)
    with session_factory() as session:
        new_count = None if new_ids is None else len(new_ids)
        report = _apply_outcome(session, run_id, outcome, limits, new_count)
        session.commit()

    report_progress("done", 4, 4)
    report.seconds = round(time.perf_counter() - started, 3)
    log.info(
        "linkage run %d finished: %d records, %d learners created, %d merged, "
        "%d reviews in %.1f s",
        run_id,
        report.records,
        report.learners_created,
        report.learners_merged,
        report.reviews_created,
        report.seconds,
    )
    return report


def _apply_outcome(
    session: Session,
    run_id: int,
    outcome: linkage.LinkageOutcome,
    limits: linkage.Thresholds,
    new_records: int | None,
) -> LinkageReport:
    records: dict[int, str | None] = dict(
        session.execute(select(PersonRecord.id, PersonRecord.learner_id)).all()
    )
    frame = pd.DataFrame(list(records.items()), columns=["id", "learner_id"])
    accepted, rejected = _decided_pairs(session)

    strong = sorted(
        (p for p in outcome.scored_pairs if p.match_probability >= limits.match),
        key=lambda p: -p.match_probability,
    )
    clusters = clustering.cluster_records(
        records.keys(),
        [
            accepted,
            _membership_edges(frame),
            outcome.deterministic_edges,
            [(p.record_a_id, p.record_b_id) for p in strong],
        ],
        rejected,
    )

    created, merged = _assign_learners(session, run_id, records, clusters.clusters())
    reviews = _queue_reviews(
        session, run_id, outcome, limits, clusters, accepted | rejected
    )

    run = session.get(LinkageRun, run_id)
    assert run is not None
    run.finished_at = utcnow()
    run.records = len(records)
    run.deterministic_links = len(outcome.deterministic_edges)
    run.probabilistic_links = len(strong)
    run.reviews_created = reviews
    run.learners_created = created
    run.learners_merged = merged
    run.settings = {
        "backend": linkage.selected_backend(),
        "match_threshold": limits.match,
        "review_threshold": limits.review,
        "model_trained": outcome.trained,
        "notes": outcome.notes,
        "incremental": new_records is not None,
        "new_records": new_records,
        "model": outcome.model,
    }
    return LinkageReport(
        run_id=run_id,
        records=len(records),
        deterministic_links=len(outcome.deterministic_edges),
        probabilistic_links=len(strong),
        reviews_created=reviews,
        learners_created=created,
        learners_merged=merged,
        seconds=0.0,
        model_trained=outcome.trained,
    )


def _assign_learners(
    session: Session,
    run_id: int,
    records: dict[int, str | None],
    clusters: Iterable[set[int]],
) -> tuple[int, int]:
    """Give each cluster one learner id and write the changes in bulk.

    ``records`` maps record id to its current learner id. Bulk statements
    keep a first run over tens of thousands of records to seconds.
    """
    created_at = dict(
        session.execute(
            select(Learner.id, Learner.created_at).where(Learner.status == "active")
        ).all()
    )
    # Learners made in one run share a creation time, so the earliest stored
    # record breaks the tie and the choice of survivor does not depend on ids.
    first_record: dict[str, int] = {}
    for record_id, learner_id in records.items():
        if learner_id is not None:
            first_record[learner_id] = min(
                record_id, first_record.get(learner_id, record_id)
            )
    now = utcnow()
    claimed: set[str] = set()
    new_learners: list[dict[str, Any]] = []
    merges: list[tuple[str, str]] = []
    moves: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []

    # Larger clusters choose first, so when staff decisions have separated a
    # learner's records the biggest part keeps the id.
    for members in sorted(clusters, key=lambda m: (-len(m), min(m))):
        existing: set[str] = set()
        for record_id in members:
            current = records[record_id]
            if current is not None and current in created_at and current not in claimed:
                existing.add(current)
        if existing:
            survivor = min(existing, key=lambda i: (created_at[i], first_record[i]))
        else:
            survivor = new_public_id("L")
            new_learners.append(
                {
                    "id": survivor,
                    "status": "active",
                    "created_at": now,
                    "updated_at": now,
                }
            )
        claimed.add(survivor)
        for other in sorted(existing - {survivor}):
            merges.append((other, survivor))
            claimed.add(other)
            events.append(
                _event("merge", survivor, other, None, run_id, "linked by run")
            )

        for record_id in sorted(members):
            current = records[record_id]
            if current == survivor or current in existing:
                continue
            kind = "assign" if current is None else "split"
            moves.append({"id": record_id, "learner_id": survivor})
            events.append(
                _event(kind, survivor, current, record_id, run_id, "linkage run")
            )
        for record_id in members:
            if records[record_id] in existing and records[record_id] != survivor:
                moves.append({"id": record_id, "learner_id": survivor})

    if new_learners:
        session.execute(insert(Learner), new_learners)
    if merges:
        session.execute(
            update(Learner),
            [
                {"id": old, "status": "merged", "merged_into": new, "updated_at": now}
                for old, new in merges
            ],
        )
    if moves:
        session.execute(update(PersonRecord), moves)
    if events:
        session.execute(insert(LinkageEvent), events)
    return len(new_learners), len(merges)


def _event(
    kind: str,
    learner_id: str,
    other_learner_id: str | None,
    record_id: int | None,
    run_id: int | None,
    reason: str,
) -> dict[str, Any]:
    return {
        "kind": kind,
        "learner_id": learner_id,
        "other_learner_id": other_learner_id,
        "person_record_id": record_id,
        "run_id": run_id,
        "actor": SYSTEM_ACTOR,
        "reason": reason,
        "at": utcnow(),
    }


def _merge_learner(
    session: Session,
    merged: Learner,
    survivor: Learner,
    run_id: int | None,
    actor: str,
    reason: str,
) -> None:
    for record in session.scalars(
        select(PersonRecord).where(PersonRecord.learner_id == merged.id)
    ):
        record.learner_id = survivor.id
    merged.status = "merged"
    merged.merged_into = survivor.id
    merged.updated_at = utcnow()
    survivor.updated_at = utcnow()
    session.add(
        LinkageEvent(
            kind="merge",
            learner_id=survivor.id,
            other_learner_id=merged.id,
            run_id=run_id,
            actor=actor,
            reason=reason,
        )
    )


def _queue_reviews(
    session: Session,
    run_id: int,
    outcome: linkage.LinkageOutcome,
    limits: linkage.Thresholds,
    clusters: clustering.ConstrainedClusters,
    decided: set[tuple[int, int]],
) -> int:
    existing = {
        _pair(a, b)
        for a, b in session.execute(
            select(MatchReview.record_a_id, MatchReview.record_b_id)
        ).all()
    }
    created = 0
    for pair in outcome.scored_pairs:
        key = (pair.record_a_id, pair.record_b_id)
        if not limits.review <= pair.match_probability < limits.match:
            continue
        if key in decided or key in existing:
            continue
        if clusters.find(pair.record_a_id) == clusters.find(pair.record_b_id):
            continue
        session.add(
            MatchReview(
                record_a_id=key[0],
                record_b_id=key[1],
                match_probability=pair.match_probability,
                match_weight=pair.match_weight,
                status="pending",
                run_id=run_id,
            )
        )
        existing.add(key)
        created += 1
    return created


# --- reading runs and reviews ----------------------------------------------


def list_runs(session: Session, limit: int = 50, offset: int = 0) -> list[LinkageRun]:
    """Return linkage runs, newest first."""
    statement = (
        select(LinkageRun).order_by(LinkageRun.id.desc()).limit(limit).offset(offset)
    )
    return list(session.scalars(statement))


def list_reviews(
    session: Session, status: str = "pending", limit: int = 50, offset: int = 0
) -> list[MatchReview]:
    """Return match reviews with ``status``, most probable first."""
    if status not in ("pending", "accepted", "rejected"):
        raise InvalidInput(
            f"review status {status!r} is invalid; use pending, accepted or rejected"
        )
    statement = (
        select(MatchReview)
        .where(MatchReview.status == status)
        .order_by(MatchReview.match_probability.desc(), MatchReview.id)
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(statement))


def get_review(session: Session, review_id: int) -> MatchReview:
    """Return one match review or raise NotFound."""
    # An id past the key type matches no review, and the driver would reject it.
    in_range = 1 <= review_id <= MAX_INTEGER_KEY
    review = session.get(MatchReview, review_id) if in_range else None
    if review is None:
        raise _review_not_found(review_id)
    return review


def _review_not_found(review_id: int) -> NotFound:
    return NotFound(
        f"match review {review_id} not found; list them with GET /api/v1/reviews"
    )


def review_comparison(session: Session, review: MatchReview) -> list[dict[str, Any]]:
    """Score a review's pair again and return one row per compared field.

    Each row has the field, the comparison level's label and its match
    weight, so staff see why the pair scored as it did.
    """
    records = _load_records(session)
    pair = records[records["id"].isin([review.record_a_id, review.record_b_id])]
    model = latest_model(session) or linkage.prior_model()
    return linkage.explain_pair(records, pair, model)


# --- staff decisions ---------------------------------------------------------


def decide_review(
    session_factory: SessionFactory,
    review_id: int,
    decision: Literal["accept", "reject"] | str,
    actor: str,
    reason: str | None = None,
) -> MatchReview:
    """Record a staff decision on a pending review and apply it to learners.

    Accepting merges the two records' learners; rejecting keeps them apart
    and, when they already share a learner, splits the second record out.
    """
    if decision not in DECISIONS:
        raise InvalidInput(f"decision {decision!r} is invalid; use accept or reject")
    if not 1 <= review_id <= MAX_INTEGER_KEY:
        raise _review_not_found(review_id)
    with session_factory() as session:
        # Claim the review with one conditional UPDATE before reading it, so
        # two concurrent decisions cannot both apply: the second waits for
        # the first's write lock and then matches no pending row.
        claimed = session.execute(
            update(MatchReview)
            .where(MatchReview.id == review_id, MatchReview.status == "pending")
            .values(
                status="accepted" if decision == "accept" else "rejected",
                decided_by=actor,
                decided_at=utcnow(),
            )
        )
        review = get_review(session, review_id)
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict(
                f"match review {review_id} is already {review.status}; "
                "decisions are final, split the record instead"
            )
        if decision == "accept":
            _apply_accept(session, review, actor, reason)
        else:
            _apply_reject(session, review, actor, reason)
        session.commit()
        log.info("match review %d %s by staff", review_id, review.status)
        return review


def _record(session: Session, record_id: int) -> PersonRecord:
    record = session.get(PersonRecord, record_id)
    if record is None:
        raise NotFound(f"person record {record_id} not found")
    return record


def _learner_for(
    session: Session, record: PersonRecord, actor: str, reason: str | None
) -> Learner:
    if record.learner_id is not None:
        learner = session.get(Learner, resolve_learner_id(session, record.learner_id))
        if learner is not None:
            return learner
    learner = Learner(id=new_public_id("L"), status="active")
    session.add(learner)
    session.flush()
    record.learner_id = learner.id
    session.add(
        LinkageEvent(
            kind="assign",
            learner_id=learner.id,
            person_record_id=record.id,
            actor=actor,
            reason=reason,
        )
    )
    return learner


def _first_record_id(session: Session, learner_id: str) -> int:
    earliest = session.scalar(
        select(func.min(PersonRecord.id)).where(PersonRecord.learner_id == learner_id)
    )
    return int(earliest) if earliest is not None else 0


def _apply_accept(
    session: Session, review: MatchReview, actor: str, reason: str | None
) -> None:
    first = _learner_for(session, _record(session, review.record_a_id), actor, reason)
    second = _learner_for(session, _record(session, review.record_b_id), actor, reason)
    if first.id != second.id:
        survivor, merged = sorted(
            (first, second),
            key=lambda x: (x.created_at, _first_record_id(session, x.id)),
        )
        _merge_learner(
            session,
            merged,
            survivor,
            None,
            actor,
            reason or f"match review {review.id} accepted",
        )
        survivor_id = survivor.id
    else:
        survivor_id = first.id
    session.add(
        LinkageEvent(
            kind="review_accept",
            learner_id=survivor_id,
            person_record_id=review.record_b_id,
            actor=actor,
            reason=reason or f"match review {review.id} accepted",
        )
    )


def _apply_reject(
    session: Session, review: MatchReview, actor: str, reason: str | None
) -> None:
    record_a = _record(session, review.record_a_id)
    record_b = _record(session, review.record_b_id)
    text = reason or f"match review {review.id} rejected"
    session.add(
        LinkageEvent(
            kind="review_reject",
            learner_id=record_a.learner_id,
            other_learner_id=record_b.learner_id,
            person_record_id=record_b.id,
            actor=actor,
            reason=text,
        )
    )
    if record_a.learner_id is not None and record_a.learner_id == record_b.learner_id:
        _move_to_new_learner(session, record_b, actor, text)


def _move_to_new_learner(
    session: Session, record: PersonRecord, actor: str, reason: str
) -> Learner:
    old_id = record.learner_id
    learner = Learner(id=new_public_id("L"), status="active")
    session.add(learner)
    session.flush()
    record.learner_id = learner.id
    session.add(
        LinkageEvent(
            kind="split",
            learner_id=learner.id,
            other_learner_id=old_id,
            person_record_id=record.id,
            actor=actor,
            reason=reason,
        )
    )
    return learner


def split_record(
    session_factory: SessionFactory, person_record_id: int, actor: str, reason: str
) -> str:
    """Move one person record out of its learner into a new learner.

    Rejected pairs are stored between the record and every other record of
    its former learner, so later runs keep it apart. Returns the new id.
    """
    with session_factory() as session:
        record = _record(session, person_record_id)
        if record.learner_id is None:
            raise Conflict(
                f"person record {person_record_id} has no learner yet; "
                "run linkage first"
            )
        siblings = session.scalars(
            select(PersonRecord.id).where(
                PersonRecord.learner_id == record.learner_id,
                PersonRecord.id != record.id,
            )
        ).all()
        if not siblings:
            raise Conflict(
                f"person record {person_record_id} is the only record of its learner; "
                "there is nothing to split it from"
            )
        for sibling in siblings:
            _store_rejection(session, record.id, sibling, actor)
        learner = _move_to_new_learner(session, record, actor, reason)
        session.commit()
        log.info("person record %d split into a new learner by staff", person_record_id)
        return learner.id


def _store_rejection(
    session: Session, record_id: int, other_id: int, actor: str
) -> None:
    a, b = _pair(record_id, other_id)
    review = session.scalars(
        select(MatchReview).where(
            MatchReview.record_a_id == a, MatchReview.record_b_id == b
        )
    ).first()
    if review is None:
        # A split has no model score; 0.0 marks the pair as staff-set, not scored.
        review = MatchReview(record_a_id=a, record_b_id=b, match_probability=0.0)
        session.add(review)
    review.status = "rejected"
    review.decided_by = actor
    review.decided_at = utcnow()


# --- learners ----------------------------------------------------------------


def resolve_learner_id(session: Session, learner_id: str) -> str:
    """Follow ``merged_into`` links to the learner id that is active now."""
    seen: set[str] = set()
    current = learner_id
    while True:
        learner = session.get(Learner, current)
        if learner is None:
            raise NotFound(f"learner {learner_id} not found")
        if learner.merged_into is None:
            return learner.id
        if learner.id in seen:
            raise Conflict(
                f"learner {learner_id} has a merge cycle; report it as a bug"
            )
        seen.add(learner.id)
        current = learner.merged_into


def learner_history(session: Session, learner_id: str) -> list[LinkageEvent]:
    """Return every linkage event that names the learner, oldest first."""
    if session.get(Learner, learner_id) is None:
        raise NotFound(f"learner {learner_id} not found")
    statement = (
        select(LinkageEvent)
        .where(
            or_(
                LinkageEvent.learner_id == learner_id,
                LinkageEvent.other_learner_id == learner_id,
            )
        )
        .order_by(LinkageEvent.at, LinkageEvent.id)
    )
    return list(session.scalars(statement))


def find_learner_candidates(
    session_factory: SessionFactory,
    *,
    given_name: str,
    family_name: str,
    date_of_birth: date,
    postcode: str | None = None,
    identifiers: dict[str, str] | None = None,
    minimum_probability: float = 0.5,
) -> list[Candidate]:
    """Score a claimed identity against stored records; return likely learners.

    Uses the model of the latest run (or the prior model). Identifier keys
    are scheme names (uln, upn, ni_number, ucas_id, husid).
    """
    unknown = set(identifiers or {}) - set(linkage.IDENTIFIER_COLUMNS)
    if unknown:
        raise InvalidInput(
            f"identifier schemes {sorted(unknown)} are invalid; "
            f"use {', '.join(linkage.IDENTIFIER_COLUMNS)}"
        )
    # A claim carries no address, email or identifier of another scheme.
    claim: dict[str, Any] = dict.fromkeys(linkage.RECORD_COLUMNS)
    claim.update(
        {
            "id": -1,
            "source_ukprn": "claim",
            "given_name": given_name,
            "family_name": family_name,
            "date_of_birth": date_of_birth,
            "postcode": postcode,
            **{
                scheme: (identifiers or {}).get(scheme)
                for scheme in linkage.IDENTIFIER_COLUMNS
            },
        }
    )
    with session_factory() as session:
        records = _load_records(session)
        learner_of = dict(
            session.execute(
                select(PersonRecord.id, PersonRecord.learner_id).where(
                    PersonRecord.learner_id.is_not(None)
                )
            ).all()
        )
        model = latest_model(session) or linkage.prior_model()
    scores = linkage.score_claim(records, claim, model)

    best: dict[str, Candidate] = {}
    for record_id, probability, fields in scores:
        learner_id = learner_of.get(record_id)
        if learner_id is None or probability < minimum_probability:
            continue
        current = best.get(learner_id)
        if current is None or probability > current.match_probability:
            best[learner_id] = Candidate(learner_id, probability, fields)
    return sorted(best.values(), key=lambda c: -c.match_probability)
