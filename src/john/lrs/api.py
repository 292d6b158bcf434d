"""The ``/xapi/`` router: one dispatcher for every xAPI resource.

All resources go through :func:`dispatch` so that the alternate request
syntax of xAPI 1.0.3 (a POST whose ``method`` parameter names the real method
and whose form body carries headers, parameters and content) reaches the same
code as a plain request.
"""

from __future__ import annotations

import email.utils
import json
import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from john.db import utcnow
from john.errors import JohnError, NotFound, UserError, problem_details
from john.lrs import documents, service
from john.lrs.attachments import build_multipart, match_parts, parse_multipart
from john.lrs.clients import ClientIdentity, authenticate
from john.lrs.query import (
    SINGLE_PARAMS,
    decode_cursor,
    encode_cursor,
    parse_agent,
    parse_bool,
    parse_format,
    parse_query,
    run_query,
)
from john.lrs.signatures import check_signatures
from john.lrs.statements import (
    SUPPORTED_VERSIONS,
    format_datetime,
    format_statement,
    parse_accept_language,
    to_datetime,
)
from john.lrs.validation import StatementInvalid, check_statements

log = logging.getLogger(__name__)

router = APIRouter(tags=["xAPI"])
PREFIX = "/xapi"
VERSION_HEADER = "X-Experience-API-Version"
FORM_HEADERS = {
    "authorization",
    "x-experience-api-version",
    "content-type",
    "content-length",
    "if-match",
    "if-none-match",
    "accept-language",
}
DOCUMENT_RESOURCES = {
    "activities/state": documents.STATE,
    "activities/profile": documents.ACTIVITY_PROFILE,
    "agents/profile": documents.AGENT_PROFILE,
}


# The version each client last spoke. A request that lacks the version header
# is rejected, and the rejection names the version the client has been using.
_last_versions: dict[str, str] = {}


class MethodNotAllowed(UserError):
    """Raised when a resource does not support the request's method."""

    status = 405
    problem = "method-not-allowed"
    title = "Method not allowed"


@dataclass
class XapiRequest:
    """One xAPI request after the alternate syntax has been unwrapped."""

    method: str
    resource: str
    params: dict[str, str]
    headers: dict[str, str]
    body: bytes
    version: str = "2.0.0"
    client: ClientIdentity | None = None

    @property
    def content_type(self) -> str:
        """Return the media type of the body, without parameters, lower-cased."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def is_v2(self) -> bool:
        """Return whether the request speaks xAPI 2.0."""
        return self.version.startswith("2")


@dataclass
class XapiResponse:
    """The status, body and headers a resource handler returns."""

    status: int = 200
    body: bytes = b""
    media_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


@router.api_route(
    PREFIX + "/{resource:path}",
    methods=["GET", "HEAD", "PUT", "POST", "DELETE"],
    summary="xAPI 2.0 and 1.0.3 resources",
)
async def xapi(resource: str, request: Request) -> Response:
    """Serve every xAPI resource (statements, documents, agents, activities, about)."""
    body = await request.body()
    raw = XapiRequest(
        method=request.method,
        resource=resource.strip("/"),
        params=dict(request.query_params),
        headers={k.lower(): v for k, v in request.headers.items()},
        body=body,
    )
    factory = request.app.state.sessions
    result = await run_in_threadpool(_handle, factory, raw, request.url.path)
    response = Response(
        content=b"" if request.method == "HEAD" else result.body,
        status_code=result.status,
        media_type=result.media_type,
        headers=result.headers,
    )
    if request.method == "HEAD":
        response.headers["content-length"] = str(len(result.body))
    return response


def _handle(factory: Any, raw: XapiRequest, path: str) -> XapiResponse:
    version_out = "2.0.0"
    try:
        with factory() as session:
            request = _unwrap_alternate(raw)
            if request.resource != "about":
                request.client = authenticate(
                    session, request.headers.get("authorization")
                )
                version_out = _last_versions.get(request.client.key, version_out)
            request.version = _negotiate_version(request)
            version_out = "2.0.0" if request.is_v2 else "1.0.3"
            if request.client is not None:
                _last_versions[request.client.key] = version_out
            result = _route(session, request)
    except JohnError as error:
        if not isinstance(error, UserError):
            log.error("xAPI request %s %s failed", raw.method, path, exc_info=error)
        result = XapiResponse(
            status=error.status,
            body=json.dumps(problem_details(error, instance=path)).encode(),
            media_type="application/problem+json",
        )
        if error.status == 401:
            result.headers["WWW-Authenticate"] = 'Basic realm="xapi"'
    result.headers[VERSION_HEADER] = version_out
    if raw.resource.strip("/") == "statements" and raw.method in ("GET", "HEAD"):
        result.headers.setdefault(
            "X-Experience-API-Consistent-Through", format_datetime(utcnow())
        )
    return result


def _unwrap_alternate(raw: XapiRequest) -> XapiRequest:
    if "method" not in raw.params:
        return raw
    declared = raw.headers.get(VERSION_HEADER.lower(), "")
    if raw.method != "POST":
        raise StatementInvalid("the method parameter is only allowed on POST")
    if raw.content_type != "application/x-www-form-urlencoded":
        raise StatementInvalid(
            "an alternate-syntax request must have Content-Type "
            "application/x-www-form-urlencoded"
        )
    if set(raw.params) != {"method"}:
        raise StatementInvalid(
            "an alternate-syntax request carries its parameters in the form body, "
            "not the query string"
        )
    method = raw.params["method"].upper()
    if method not in ("GET", "HEAD", "PUT", "POST", "DELETE"):
        raise StatementInvalid(f"method={raw.params['method']!r} is not an HTTP method")
    try:
        form = parse_qsl(raw.body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError as error:
        raise StatementInvalid("the form body is not UTF-8") from error
    headers = {"authorization": raw.headers.get("authorization", "")}
    if declared:
        headers[VERSION_HEADER.lower()] = declared
    params: dict[str, str] = {}
    content = b""
    for key, value in form:
        if key.lower() in FORM_HEADERS:
            headers[key.lower()] = value
        elif key == "content":
            content = value.encode()
        else:
            params[key] = value
    if headers.get(VERSION_HEADER.lower(), "").startswith("2"):
        raise StatementInvalid(
            "xAPI 2.0 removed the alternate request syntax; send the method, "
            "headers and parameters as a plain request"
        )
    if method in ("PUT", "POST"):
        headers.setdefault("content-type", "application/json")
    return XapiRequest(method, raw.resource, params, headers, content)


def _negotiate_version(request: XapiRequest) -> str:
    text = request.headers.get(VERSION_HEADER.lower())
    if text is None:
        if request.resource == "about":
            return "2.0.0"
        raise StatementInvalid(
            f"header {VERSION_HEADER} is required; send one of "
            f"{', '.join(SUPPORTED_VERSIONS)}"
        )
    text = text.strip()
    if text in ("1.0", "1.0.0", "1.0.1", "1.0.2", "1.0.3"):
        return "1.0.3"
    if text in ("2.0", "2.0.0"):
        return "2.0.0"
    raise StatementInvalid(
        f"{VERSION_HEADER} {text!r} is not supported; send one of "
        f"{', '.join(SUPPORTED_VERSIONS)}"
    )


def _route(session: Session, request: XapiRequest) -> XapiResponse:
    resource, method = request.resource, request.method
    if method == "HEAD":
        method = "GET"
    if resource == "about":
        _allow(method, "GET")
        return _json({"version": list(SUPPORTED_VERSIONS)})
    assert request.client is not None
    if resource == "statements":
        _allow(method, "GET", "PUT", "POST")
        if method == "GET":
            request.client.require("statements/read")
            return _get_statements(session, request)
        request.client.require("statements/write")
        return _write_statements(session, request, method)
    if resource in DOCUMENT_RESOURCES:
        kind = DOCUMENT_RESOURCES[resource]
        request.client.require("state" if kind == documents.STATE else "profile")
        return _documents(session, request, kind, method)
    if resource == "activities":
        _allow(method, "GET")
        request.client.require("statements/read", "state", "profile", "define")
        _only(request.params, {"activityId"}, required={"activityId"})
        return _json(service.get_activity(session, request.params["activityId"]))
    if resource == "agents":
        _allow(method, "GET")
        request.client.require("statements/read", "state", "profile", "define")
        _only(request.params, {"agent"}, required={"agent"})
        return _json(service.get_person(parse_agent(request.params["agent"])))
    raise NotFound(f"no xAPI resource {resource!r}; see {PREFIX}/about")


def _allow(method: str, *allowed: str) -> None:
    if method not in allowed:
        raise MethodNotAllowed(
            f"method {method} is not allowed here; use {', '.join(allowed)}"
        )


def _only(params: dict[str, str], allowed: set[str], required: set[str]) -> None:
    unknown = set(params) - allowed
    if unknown:
        raise StatementInvalid(f"unknown parameters {sorted(unknown)}")
    missing = required - set(params)
    if missing:
        raise StatementInvalid(f"parameters {sorted(missing)} are required")


def _json(value: Any, headers: dict[str, str] | None = None) -> XapiResponse:
    return XapiResponse(
        status=200,
        body=json.dumps(value).encode(),
        media_type="application/json",
        headers=dict(headers or {}),
    )


def _write_statements(
    session: Session, request: XapiRequest, method: str
) -> XapiResponse:
    if method == "PUT":
        _only(request.params, {"statementId"}, required={"statementId"})
    elif request.params:
        raise StatementInvalid(
            f"POST statements takes no parameters; got {sorted(request.params)}"
        )
    statements, parts = _read_statements(request)
    if method == "PUT":
        if not isinstance(statements, dict):
            raise StatementInvalid("PUT statements takes one statement object")
        wanted = request.params["statementId"]
        given = statements.get("id")
        if given is not None and str(given).lower() != wanted.lower():
            raise StatementInvalid(
                f"statement id {given} differs from the statementId parameter {wanted}"
            )
        statements = {**statements, "id": wanted}
    batch = statements if isinstance(statements, list) else [statements]
    if not batch or not all(isinstance(s, dict) for s in batch):
        raise StatementInvalid(
            "the body must be a statement object or a non-empty "
            "array of statement objects"
        )
    check_statements(batch, request.version)
    if parts or any(s.get("attachments") for s in batch):
        match_parts(batch, parts)
        check_signatures(batch, parts, request.version)
    assert request.client is not None
    result = service.store_statements(
        session, request.client, batch, request.version, parts, validated=True
    )
    if method == "PUT":
        return XapiResponse(status=204)
    return _json(result.ids)


def _read_statements(request: XapiRequest) -> tuple[Any, list]:
    if request.content_type == "multipart/mixed":
        return parse_multipart(request.headers["content-type"], request.body)
    if request.content_type != "application/json":
        raise StatementInvalid(
            f"Content-Type {request.content_type or '(none)'} is not accepted for "
            "statements; send application/json or multipart/mixed"
        )
    try:
        return json.loads(request.body), []
    except (ValueError, UnicodeDecodeError) as error:
        raise StatementInvalid(f"the body is not valid JSON: {error}") from error


def _get_statements(session: Session, request: XapiRequest) -> XapiResponse:
    params = request.params
    languages = parse_accept_language(request.headers.get("accept-language"))
    consistent = email.utils.formatdate(utcnow().timestamp(), usegmt=True)
    headers = {"X-Experience-API-Consistent-Through": format_datetime(utcnow())}

    if "statementId" in params or "voidedStatementId" in params:
        _only(params, SINGLE_PARAMS, required=set())
        if "statementId" in params and "voidedStatementId" in params:
            raise StatementInvalid("give statementId or voidedStatementId, not both")
        voided = "voidedStatementId" in params
        statement_id = params["voidedStatementId" if voided else "statementId"]
        document, hashes = service.get_statement(session, statement_id, voided=voided)
        style = parse_format(params)
        shaped = format_statement(document, style, languages)
        headers["Last-Modified"] = _stored_http_date(document) or consistent
        if parse_bool(params, "attachments"):
            return _multipart(shaped, service.load_parts(session, hashes), headers)
        return _json(shaped, headers)

    if "more" in params:
        if set(params) != {"more"}:
            raise StatementInvalid("a more link takes no other parameters")
        query = decode_cursor(params["more"])
    else:
        query = parse_query(params)
    page, has_more = run_query(session, query)
    statements = [
        format_statement(row.document, query.format, languages) for row in page
    ]
    more = ""
    if has_more:
        last = (page[-1].stored, page[-1].seq)
        more = f"{PREFIX}/statements?more={encode_cursor(query, last)}"
    result = {"statements": statements, "more": more}
    if page:
        newest = max(page, key=lambda row: (row.stored, row.seq)).document
        headers["Last-Modified"] = _stored_http_date(newest) or consistent
    if query.attachments:
        hashes = [
            digest for row in page for digest in (row.attachment_hashes or "").split()
        ]
        return _multipart(result, service.load_parts(session, hashes), headers)
    return _json(result, headers)


def _stored_http_date(document: dict[str, Any]) -> str | None:
    stored = document.get("stored")
    if not isinstance(stored, str):
        return None
    return email.utils.formatdate(to_datetime(stored).timestamp(), usegmt=True)


def _multipart(result: Any, parts: list, headers: dict[str, str]) -> XapiResponse:
    body, content_type = build_multipart(result, parts)
    return XapiResponse(status=200, body=body, media_type=content_type, headers=headers)


def _documents(
    session: Session, request: XapiRequest, kind: str, method: str
) -> XapiResponse:
    address = documents.parse_address(kind, request.params, method)
    conditions = documents.Conditions(
        if_match=request.headers.get("if-match"),
        if_none_match=request.headers.get("if-none-match"),
    )
    if method == "GET":
        if address.document_id is None:
            return _json(documents.list_document_ids(session, address))
        document = documents.get_document(session, address)
        return XapiResponse(
            status=200,
            body=document.content,
            media_type=document.content_type,
            headers={
                "ETag": document.etag,
                "Last-Modified": email.utils.formatdate(
                    document.updated.timestamp(), usegmt=True
                ),
            },
        )
    content_type = request.headers.get("content-type", "application/octet-stream")
    if method == "PUT":
        # xAPI 2.0 requires If-Match or If-None-Match on every document PUT
        # that would overwrite. 1.0.3 requires it on the profile resources
        # only, and rejects a profile PUT that carries neither header.
        strict = request.is_v2 or kind != documents.STATE
        demand = not request.is_v2 and kind != documents.STATE
        documents.put_document(
            session,
            address,
            request.body,
            content_type,
            conditions,
            strict_put=strict,
            demand_condition=demand,
        )
    elif method == "POST":
        documents.post_document(
            session, address, request.body, content_type, conditions
        )
    elif method == "DELETE":
        documents.delete_documents(session, address, conditions)
    else:
        raise MethodNotAllowed(f"method {method} is not allowed here")
    return XapiResponse(status=204)
