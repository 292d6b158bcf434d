"""State, Activity Profile and Agent Profile documents with ETag concurrency."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from john.db import utcnow
from john.errors import Conflict, NotFound, UserError
from john.lrs.models import LrsDocument
from john.lrs.query import parse_agent
from john.lrs.statements import agent_ifi, index_key, to_datetime
from john.lrs.validation import Checker, StatementInvalid, parse_timestamp

STATE = "state"
ACTIVITY_PROFILE = "activity_profile"
AGENT_PROFILE = "agent_profile"

PARAMETERS = {
    STATE: ({"activityId", "agent", "registration", "stateId", "since"}, "stateId"),
    ACTIVITY_PROFILE: ({"activityId", "profileId", "since"}, "profileId"),
    AGENT_PROFILE: ({"agent", "profileId", "since"}, "profileId"),
}


class PreconditionFailed(UserError):
    """Raised when If-Match or If-None-Match does not hold for the document."""

    status = 412
    problem = "precondition-failed"
    title = "Precondition failed"


@dataclass
class DocumentAddress:
    """Which resource and document a request names."""

    resource: str
    scope: str
    document_id: str | None
    since: datetime | None


@dataclass
class Conditions:
    """The request's concurrency headers."""

    if_match: str | None = None
    if_none_match: str | None = None


def parse_address(
    resource: str, params: dict[str, str], method: str
) -> DocumentAddress:
    """Check a document request's parameters and return what they address."""
    allowed, id_name = PARAMETERS[resource]
    unknown = set(params) - allowed
    if unknown:
        raise StatementInvalid(
            f"unknown parameters {sorted(unknown)} for this resource"
        )
    parts = []
    if "activityId" in allowed:
        if "activityId" not in params:
            raise StatementInvalid("parameter activityId is required")
        checker = Checker("2.0.0")
        checker.iri(params["activityId"], "activityId")
        checker.raise_if_any("parameter activityId")
        parts.append(params["activityId"])
    if "agent" in allowed:
        if "agent" not in params:
            raise StatementInvalid("parameter agent is required")
        parts.append(str(agent_ifi(parse_agent(params["agent"]))))
    if resource == STATE:
        registration = params.get("registration")
        if registration is not None:
            checker = Checker("2.0.0")
            checker.uuid(registration, "registration")
            checker.raise_if_any("parameter registration")
        parts.append((registration or "").lower())

    document_id = params.get(id_name)
    if document_id is None and (
        method in ("PUT", "POST") or (method == "DELETE" and resource != STATE)
    ):
        raise StatementInvalid(f"parameter {id_name} is required for {method}")
    since = None
    if "since" in params:
        if document_id is not None or method != "GET":
            raise StatementInvalid("parameter since only applies to a list of ids")
        if parse_timestamp(params["since"]) is None:
            raise StatementInvalid(
                f"parameter since={params['since']!r} must be an ISO 8601 timestamp"
            )
        since = to_datetime(params["since"])
    return DocumentAddress(resource, index_key("\n".join(parts)), document_id, since)


def make_etag(content: bytes) -> str:
    """Return the quoted ETag of a document's content (SHA-1, as 1.0.3 asks)."""
    return '"' + hashlib.sha1(content, usedforsecurity=False).hexdigest() + '"'


def _find(session: Session, address: DocumentAddress) -> LrsDocument | None:
    return session.scalars(
        select(LrsDocument).where(
            LrsDocument.resource == address.resource,
            LrsDocument.scope == address.scope,
            LrsDocument.document_id == address.document_id,
        )
    ).first()


def _check_conditions(
    document: LrsDocument | None,
    conditions: Conditions,
    *,
    put: bool,
    strict_put: bool,
) -> None:
    if conditions.if_match is not None:
        wanted = {tag.strip() for tag in conditions.if_match.split(",")}
        if document is None or not (
            "*" in wanted
            or document.etag in wanted
            or document.etag.strip('"') in wanted
        ):
            raise PreconditionFailed(
                "If-Match does not match the document's current ETag; GET it again"
            )
    if conditions.if_none_match is not None:
        wanted = {tag.strip() for tag in conditions.if_none_match.split(",")}
        if document is not None and ("*" in wanted or document.etag in wanted):
            raise PreconditionFailed(
                "If-None-Match failed: the document already exists"
            )
    if (
        put
        and strict_put
        and document is not None
        and conditions.if_match is None
        and conditions.if_none_match is None
    ):
        raise Conflict(
            "the document exists; send If-Match with its ETag to replace it, "
            "or If-None-Match: * to create only"
        )


def get_document(session: Session, address: DocumentAddress) -> LrsDocument:
    """Return one document or raise :class:`NotFound`."""
    document = _find(session, address)
    if document is None:
        raise NotFound(f"no document {address.document_id!r} here")
    return document


def list_document_ids(session: Session, address: DocumentAddress) -> list[str]:
    """Return the ids of the documents in a scope, optionally updated since."""
    query = select(LrsDocument.document_id).where(
        LrsDocument.resource == address.resource, LrsDocument.scope == address.scope
    )
    if address.since is not None:
        query = query.where(LrsDocument.updated > address.since)
    return list(session.scalars(query.order_by(LrsDocument.document_id)))


def put_document(
    session: Session,
    address: DocumentAddress,
    content: bytes,
    content_type: str,
    conditions: Conditions,
    *,
    strict_put: bool,
    demand_condition: bool = False,
) -> None:
    """Store or replace a document after checking the preconditions.

    ``strict_put`` answers 409 to a PUT without If-Match or If-None-Match on
    an existing document; ``demand_condition`` also rejects such a PUT with
    400 when the document does not exist yet.
    """
    document = _find(session, address)
    if (
        demand_condition
        and document is None
        and conditions.if_match is None
        and conditions.if_none_match is None
    ):
        raise StatementInvalid(
            "a profile PUT needs If-Match with the document's ETag or If-None-Match: *"
        )
    _check_conditions(document, conditions, put=True, strict_put=strict_put)
    _write(session, address, document, content, content_type)


def post_document(
    session: Session,
    address: DocumentAddress,
    content: bytes,
    content_type: str,
    conditions: Conditions,
) -> None:
    """Store a document, merging JSON objects into an existing one."""
    document = _find(session, address)
    _check_conditions(document, conditions, put=False, strict_put=False)
    is_json = content_type.split(";")[0].strip() == "application/json"
    if document is None:
        if is_json:
            _json_object(content, "the request body")
        _write(session, address, None, content, content_type)
        return
    stored_json = document.content_type.split(";")[0].strip() == "application/json"
    if not (is_json and stored_json):
        raise StatementInvalid(
            "POST merges JSON objects only: both the stored document and the body "
            "must be application/json; use PUT to replace other content"
        )
    merged = _json_object(document.content, "the stored document")
    merged.update(_json_object(content, "the request body"))
    _write(session, address, document, json.dumps(merged).encode(), "application/json")


def _json_object(content: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(content or b"null")
    except ValueError as error:
        raise StatementInvalid(f"{what} is not JSON: {error}") from error
    if not isinstance(value, dict):
        raise StatementInvalid(f"{what} must be a JSON object to be merged")
    return value


def _write(
    session: Session,
    address: DocumentAddress,
    document: LrsDocument | None,
    content: bytes,
    content_type: str,
) -> None:
    if document is None:
        document = LrsDocument(
            resource=address.resource,
            scope=address.scope,
            document_id=address.document_id,
        )
        session.add(document)
    document.content = content
    document.content_type = content_type or "application/octet-stream"
    document.etag = make_etag(content)
    document.updated = utcnow()
    try:
        session.commit()
    except IntegrityError as error:
        session.rollback()
        raise Conflict(
            "the document was created by another request at the same time; "
            "GET it and retry with If-Match"
        ) from error


def delete_documents(
    session: Session, address: DocumentAddress, conditions: Conditions
) -> None:
    """Delete one document, or every State document in the scope."""
    if address.document_id is not None:
        document = _find(session, address)
        _check_conditions(document, conditions, put=False, strict_put=False)
        if document is not None:
            session.delete(document)
    else:
        session.execute(
            delete(LrsDocument).where(
                LrsDocument.resource == address.resource,
                LrsDocument.scope == address.scope,
            )
        )
    session.commit()
