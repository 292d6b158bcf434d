"""Join statements to the learner record.

A statement whose actor names a person record becomes an experience of kind
``learning_activity`` when its verb reports a completion, a pass or
attendance. The actor names a person record in one of three ways:

- an account with homePage :data:`ULN_HOME_PAGE` and the ULN as name;
- an account with homePage ``PROVIDER_HOME_PAGE/{UKPRN}`` and the provider's
  own person reference as name;
- an mbox whose address equals the record's email (case-insensitive).

Each client has a pseudo-feed in ``feeds`` with id ``lrs-client-{id}``. The
experience row carries that feed and the statement id as its ``row_key``, so
its provenance names the statement. ``lrs_learning_links`` keeps the pair.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from john.db import utcnow
from john.identity.models import PersonRecord
from john.lrs.clients import ClientIdentity
from john.lrs.models import LrsLearningLink
from john.lrs.sql import insert_ignoring_conflicts
from john.records.models import Experience, Feed

log = logging.getLogger(__name__)

ULN_HOME_PAGE = "https://john.example/uln"
PROVIDER_HOME_PAGE = "https://john.example/providers"
EXPERIENCE_KIND = "learning_activity"
OUTCOME_VERBS = {
    "http://adlnet.gov/expapi/verbs/completed": "completed",
    "http://adlnet.gov/expapi/verbs/passed": "passed",
    "http://adlnet.gov/expapi/verbs/attended": "attended",
}


def client_feed_id(client: ClientIdentity) -> str:
    """Return the id of the pseudo-feed that carries a client's statements."""
    return f"lrs-client-{client.id}"


def link_statements(
    session: Session, client: ClientIdentity, statements: list[dict[str, Any]]
) -> int:
    """Add experiences for statements that report outcomes of known people."""
    candidates = [
        s
        for s in statements
        if s["verb"]["id"] in OUTCOME_VERBS
        and s["object"].get("objectType") == "Activity"
    ]
    if not candidates:
        return 0
    records = _find_person_records(session, [s["actor"] for s in candidates])
    linked = 0
    feed = None
    for statement in candidates:
        record = records.get(_actor_key(statement["actor"]) or ("", "", ""))
        if record is None:
            continue
        feed = feed or _client_feed(session, client)
        _add_experience(session, client, feed, statement, record)
        linked += 1
    if linked:
        log.info("linked %d statements to person records", linked)
    return linked


def _actor_key(actor: dict[str, Any]) -> tuple[str, str, str] | None:
    """Return how an actor names a person record: (scheme, scope, value)."""
    account = actor.get("account")
    if isinstance(account, dict):
        home = str(account.get("homePage", "")).rstrip("/")
        name = str(account.get("name", ""))
        if home == ULN_HOME_PAGE:
            return ("uln", "", name)
        if home.startswith(PROVIDER_HOME_PAGE + "/"):
            return ("ref", home[len(PROVIDER_HOME_PAGE) + 1 :], name)
    elif isinstance(actor.get("mbox"), str):
        return ("email", "", actor["mbox"].removeprefix("mailto:").lower())
    return None


def _find_person_records(
    session: Session, actors: list[dict[str, Any]]
) -> dict[tuple[str, str, str], PersonRecord]:
    """Look up the person records a batch's actors name, in three queries at most.

    When several records share an identifier, the earliest one wins.
    """
    keys = {key for actor in actors if (key := _actor_key(actor)) is not None}
    found: dict[tuple[str, str, str], PersonRecord] = {}
    ulns = sorted({value for scheme, _, value in keys if scheme == "uln"})
    emails = sorted({value for scheme, _, value in keys if scheme == "email"})
    refs = sorted({(scope, value) for scheme, scope, value in keys if scheme == "ref"})
    if ulns:
        query = select(PersonRecord).where(PersonRecord.uln.in_(ulns))
        for record in session.scalars(query.order_by(PersonRecord.id.desc())):
            found[("uln", "", record.uln or "")] = record
    if emails:
        query = select(PersonRecord).where(func.lower(PersonRecord.email).in_(emails))
        for record in session.scalars(query.order_by(PersonRecord.id.desc())):
            found[("email", "", (record.email or "").lower())] = record
    if refs:
        query = select(PersonRecord).where(
            tuple_(PersonRecord.source_ukprn, PersonRecord.source_person_ref).in_(refs)
        )
        for record in session.scalars(query):
            found[("ref", record.source_ukprn, record.source_person_ref)] = record
    return found


def _client_feed(session: Session, client: ClientIdentity) -> Feed:
    feed_id = client_feed_id(client)
    feed = session.get(Feed, feed_id)
    if feed is None:
        row = {
            "id": feed_id,
            "source_ukprn": client.source_ukprn,
            "feed_type": "xapi",
            "file_format": "xapi",
            "filename": None,
            "content_sha256": hashlib.sha256(feed_id.encode()).hexdigest(),
            "mapping": "xapi-statements",
            "received_at": utcnow(),
            "rows_read": 0,
            "rows_accepted": 0,
            "rows_quarantined": 0,
            "rows_duplicate": 0,
        }
        insert_ignoring_conflicts(session, Feed.__table__, [row])
        feed = session.get(Feed, feed_id, with_for_update=True)
    assert feed is not None
    return feed


def _add_experience(
    session: Session,
    client: ClientIdentity,
    feed: Feed,
    statement: dict[str, Any],
    record: PersonRecord,
) -> None:
    outcome = OUTCOME_VERBS[statement["verb"]["id"]]
    activity = statement["object"]
    day = statement["timestamp"][:10]
    from datetime import date

    when = date.fromisoformat(day)
    feed.rows_read += 1
    feed.rows_accepted += 1
    experience = Experience(
        person_record_id=record.id,
        kind=EXPERIENCE_KIND,
        organisation=_activity_title(activity)[:300],
        role=outcome,
        started_on=when,
        ended_on=when,
        hours=_duration_hours((statement.get("result") or {}).get("duration")),
        source_ukprn=client.source_ukprn,
        feed_id=feed.id,
        row_number=feed.rows_accepted,
        row_key=statement["id"],
    )
    session.add(experience)
    session.flush()
    session.add(
        LrsLearningLink(
            statement_id=statement["id"],
            person_record_id=record.id,
            learner_id=record.learner_id,
            outcome=outcome,
            experience_id=experience.id,
        )
    )


def _activity_title(activity: dict[str, Any]) -> str:
    names = (activity.get("definition") or {}).get("name") or {}
    for tag in ("en-GB", "en", "en-US"):
        if tag in names:
            return str(names[tag])
    if names:
        return str(next(iter(names.values())))
    return str(activity["id"])


def _duration_hours(duration: Any) -> float | None:
    """Return the hours of an ISO 8601 time-only duration such as PT1H30M."""
    if not isinstance(duration, str) or not duration.startswith("PT"):
        return None
    total, number = 0.0, ""
    units = {"H": 1.0, "M": 1 / 60, "S": 1 / 3600}
    for char in duration[2:]:
        if char.isdigit() or char == ".":
            number += char
        elif char in units and number:
            total += float(number) * units[char]
            number = ""
        else:
            return None
    return round(total, 4)
