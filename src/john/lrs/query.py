"""Statement queries: the GET filters, paging and the ``more`` cursor."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, literal, select, tuple_
from sqlalchemy.orm import Session, aliased

from john.lrs.models import LrsStatement, LrsStatementTerm
from john.lrs.statements import agent_ifi, index_key, to_datetime
from john.lrs.validation import Checker, StatementInvalid, parse_timestamp

# Statements per page when the client asks for no limit or for 0 (the
# server's maximum, xAPI 2.0 §4.1.6.1).
MAX_PAGE = 500
FILTER_PARAMS = {
    "agent",
    "verb",
    "activity",
    "registration",
    "related_activities",
    "related_agents",
    "since",
    "until",
    "limit",
    "format",
    "attachments",
    "ascending",
}
SINGLE_PARAMS = {"statementId", "voidedStatementId", "attachments", "format"}


@dataclass
class StatementQuery:
    """A parsed statement query, ready to run or to resume from a cursor."""

    terms: list[tuple[str, str]]
    since: datetime | None
    until: datetime | None
    limit: int
    ascending: bool
    format: str
    attachments: bool
    params: dict[str, str]
    after: tuple[datetime, int] | None = None
    ceiling_seq: int | None = None


def parse_bool(params: dict[str, str], name: str) -> bool:
    """Return a boolean query parameter, rejecting anything but true/false."""
    value = params.get(name, "false").lower()
    if value not in ("true", "false"):
        raise StatementInvalid(f"parameter {name}={value!r} must be true or false")
    return value == "true"


def parse_format(params: dict[str, str]) -> str:
    """Return the format parameter (ids, exact or canonical)."""
    value = params.get("format", "exact")
    if value not in ("ids", "exact", "canonical"):
        raise StatementInvalid(
            f"parameter format={value!r} must be ids, exact or canonical"
        )
    return value


def parse_agent(text: str, name: str = "agent") -> dict[str, Any]:
    """Return the Agent or Group JSON of a query parameter, validated."""
    try:
        agent = json.loads(text)
    except ValueError as error:
        raise StatementInvalid(f"parameter {name} is not JSON: {error}") from error
    checker = Checker("2.0.0")
    checker.actor(agent, name)
    checker.raise_if_any(f"parameter {name}")
    if agent_ifi(agent) is None:
        raise StatementInvalid(
            f"parameter {name} must identify the agent by mbox, mbox_sha1sum, "
            "openid or account"
        )
    return agent


def parse_query(params: dict[str, str]) -> StatementQuery:
    """Build a query from the Statement Resource's GET parameters."""
    unknown = set(params) - FILTER_PARAMS
    if unknown:
        raise StatementInvalid(
            f"unknown parameters {sorted(unknown)} for GET statements"
        )
    related_agents = parse_bool(params, "related_agents")
    related_activities = parse_bool(params, "related_activities")
    terms: list[tuple[str, str]] = []
    if "agent" in params:
        ifi = agent_ifi(parse_agent(params["agent"]))
        terms.append(("related_agent" if related_agents else "agent", str(ifi)))
    if "verb" in params:
        _check_iri(params["verb"], "verb")
        terms.append(("verb", params["verb"]))
    if "activity" in params:
        _check_iri(params["activity"], "activity")
        kind = "related_activity" if related_activities else "activity"
        terms.append((kind, params["activity"]))
    if "registration" in params:
        checker = Checker("2.0.0")
        checker.uuid(params["registration"], "registration")
        checker.raise_if_any("parameter registration")
        terms.append(("registration", params["registration"].lower()))

    limit = params.get("limit", "0")
    if not limit.isdigit():
        raise StatementInvalid(f"parameter limit={limit!r} must be a whole number")
    count = int(limit) or MAX_PAGE
    return StatementQuery(
        terms=terms,
        since=_time(params, "since"),
        until=_time(params, "until"),
        limit=min(count, MAX_PAGE),
        ascending=parse_bool(params, "ascending"),
        format=parse_format(params),
        attachments=parse_bool(params, "attachments"),
        params=params,
    )


def _check_iri(value: str, name: str) -> None:
    checker = Checker("2.0.0")
    checker.iri(value, name)
    checker.raise_if_any(f"parameter {name}")


def _time(params: dict[str, str], name: str) -> datetime | None:
    if name not in params:
        return None
    if parse_timestamp(params[name]) is None:
        raise StatementInvalid(
            f"parameter {name}={params[name]!r} must be an ISO 8601 timestamp"
        )
    return to_datetime(params[name])


def encode_cursor(query: StatementQuery, last: tuple[datetime, int]) -> str:
    """Return the opaque ``more`` token that resumes ``query`` after a row.

    ``last`` is the (stored, seq) position of the last row on the page.
    """
    stored, seq = last
    state = {
        "p": query.params,
        "s": stored.isoformat(),
        "a": seq,
        "c": query.ceiling_seq,
    }
    raw = json.dumps(state, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str) -> StatementQuery:
    """Rebuild a query from a ``more`` token."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        state = json.loads(raw)
        params = {str(k): str(v) for k, v in state["p"].items()}
        after_stored = datetime.fromisoformat(state["s"])
        after, ceiling = int(state["a"]), state["c"]
    except (ValueError, KeyError, TypeError, binascii.Error) as error:
        raise StatementInvalid(
            "the more token is not one this LRS issued; start the query again"
        ) from error
    query = parse_query(params)
    query.after = (after_stored, after)
    query.ceiling_seq = int(ceiling) if ceiling is not None else None
    return query


@dataclass
class PageRow:
    """One statement of a result page, with its place in the order."""

    seq: int
    stored: datetime
    document: dict[str, Any]
    attachment_hashes: str | None


def run_query(session: Session, query: StatementQuery) -> tuple[list[PageRow], bool]:
    """Return one page of statements and whether more follow.

    Statements come in stored-time order, newest first unless the query requests
    ascending order (xAPI 2.0 §4.1.6.1), with the sequence number breaking
    ties. The first page fixes a ceiling (the highest stored sequence number),
    so statements stored while a client pages do not shift later pages.
    """
    # The first filter term drives the query through the terms index on
    # (kind, term, stored, seq), so since, until and the order all come from
    # one index range and a page costs about `limit` index entries however
    # many statements match. Further terms are checked per row.
    stored_column: Any = LrsStatement.stored
    seq_column: Any = LrsStatement.seq
    # The first page reads the ceiling in the same statement, and so from the
    # same snapshot, as its rows.
    ceiling: Any = select(func.max(LrsStatement.seq)).scalar_subquery()
    if query.ceiling_seq is not None:
        ceiling = literal(query.ceiling_seq)
    statement = select(
        LrsStatement.seq,
        LrsStatement.stored,
        LrsStatement.document,
        LrsStatement.attachment_hashes,
        ceiling,
    )
    terms = list(query.terms)
    if terms:
        kind, term = terms.pop(0)
        driver = aliased(LrsStatementTerm)
        statement = statement.join(
            driver, driver.statement_seq == LrsStatement.seq
        ).where(driver.kind == kind, driver.term == index_key(term))
        stored_column, seq_column = driver.stored, driver.statement_seq
    statement = statement.where(LrsStatement.voided.is_(False))
    if query.ceiling_seq is not None:
        statement = statement.where(seq_column <= query.ceiling_seq)
    for kind, term in terms:
        extra = aliased(LrsStatementTerm)
        statement = statement.where(
            exists().where(
                extra.statement_seq == LrsStatement.seq,
                extra.kind == kind,
                extra.term == index_key(term),
            )
        )
    if query.since is not None:
        statement = statement.where(stored_column > query.since)
    if query.until is not None:
        statement = statement.where(stored_column <= query.until)
    if query.after is not None:
        position = tuple_(stored_column, seq_column)
        statement = statement.where(
            position > query.after if query.ascending else position < query.after
        )
    if query.ascending:
        order = (stored_column.asc(), seq_column.asc())
    else:
        order = (stored_column.desc(), seq_column.desc())
    rows = session.execute(statement.order_by(*order).limit(query.limit + 1)).all()
    if rows and query.ceiling_seq is None:
        query.ceiling_seq = rows[0][4]
    page = [PageRow(*row[:4]) for row in rows[: query.limit]]
    return page, len(rows) > query.limit
