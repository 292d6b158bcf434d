"""Statements joined to the learner record as experiences."""

from __future__ import annotations

from sqlalchemy import select
from xapi_support import statement

from john.identity.models import Learner, PersonRecord
from john.lrs.learning import PROVIDER_HOME_PAGE, ULN_HOME_PAGE
from john.lrs.models import LrsLearningLink
from john.records.models import Experience, Feed

COMPLETED = {"id": "http://adlnet.gov/expapi/verbs/completed"}
COURSE = {
    "objectType": "Activity",
    "id": "http://example.com/courses/manual-handling",
    "definition": {"name": {"en-GB": "Manual handling"}},
}


def _person(session, **fields) -> PersonRecord:
    learner = Learner(id="L-test-0001")
    record = PersonRecord(
        source_ukprn="10000001",
        source_person_ref="P-17",
        feed_id="F-test",
        row_number=1,
        learner_id=learner.id,
        **fields,
    )
    session.add_all([learner, record])
    session.commit()
    return record


def test_uln_account_makes_experience(xapi, session) -> None:
    record = _person(session, uln="9999999999")
    actor = {"account": {"homePage": ULN_HOME_PAGE, "name": "9999999999"}}
    body = statement(
        actor=actor,
        verb=COMPLETED,
        object=COURSE,
        timestamp="2026-02-10T14:00:00Z",
        result={"duration": "PT1H30M"},
    )
    statement_id = xapi.post_statements(body).json()[0]
    session.expire_all()
    experience = session.scalars(select(Experience)).one()
    assert experience.person_record_id == record.id
    assert experience.kind == "learning_activity"
    assert experience.organisation == "Manual handling"
    assert experience.role == "completed"
    assert experience.hours == 1.5
    assert experience.row_key == statement_id
    assert str(experience.ended_on) == "2026-02-10"


def test_provenance_names_client_feed(xapi, session) -> None:
    _person(session, email="Sam.Example@example.com")
    body = statement(
        actor={"mbox": "mailto:sam.example@example.com"},
        verb=COMPLETED,
        object=COURSE,
    )
    statement_id = xapi.post_statements(body).json()[0]
    session.expire_all()
    experience = session.scalars(select(Experience)).one()
    feed = session.get(Feed, experience.feed_id)
    link = session.get(LrsLearningLink, statement_id)
    assert feed.feed_type == "xapi"
    assert feed.source_ukprn == "10000001"
    assert link.learner_id == "L-test-0001"
    assert link.experience_id == experience.id


def test_provider_account_matches_reference(xapi, session) -> None:
    record = _person(session)
    actor = {"account": {"homePage": f"{PROVIDER_HOME_PAGE}/10000001", "name": "P-17"}}
    attended = {"id": "http://adlnet.gov/expapi/verbs/attended"}
    xapi.post_statements(statement(actor=actor, verb=attended, object=COURSE))
    session.expire_all()
    experience = session.scalars(select(Experience)).one()
    assert experience.person_record_id == record.id
    assert experience.role == "attended"


def test_unknown_actor_adds_nothing(xapi, session) -> None:
    _person(session, uln="9999999999")
    actor = {"account": {"homePage": ULN_HOME_PAGE, "name": "1111111111"}}
    xapi.post_statements(statement(actor=actor, verb=COMPLETED, object=COURSE))
    session.expire_all()
    assert session.scalars(select(Experience)).all() == []


def test_other_verbs_add_nothing(xapi, session) -> None:
    _person(session, uln="9999999999")
    actor = {"account": {"homePage": ULN_HOME_PAGE, "name": "9999999999"}}
    xapi.post_statements(statement(actor=actor, object=COURSE))
    session.expire_all()
    assert session.scalars(select(Experience)).all() == []
