"""Pure functions on statement JSON: normalising, indexing, comparing and
formatting. Nothing here touches the store.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from john.lrs.validation import parse_timestamp, utc_moment

SUPPORTED_VERSIONS = ("2.0.0", "1.0.3")


def agent_ifi(agent: Any) -> str | None:
    """Return an agent's or group's inverse functional identifier as one string.

    The string is the index key of the agent filter: ``mbox:...``,
    ``mbox_sha1sum:...``, ``openid:...`` or ``account:HOMEPAGE|NAME``.
    """
    if not isinstance(agent, dict):
        return None
    if "mbox" in agent:
        return f"mbox:{agent['mbox']}"
    if "mbox_sha1sum" in agent:
        return f"mbox_sha1sum:{str(agent['mbox_sha1sum']).lower()}"
    if "openid" in agent:
        return f"openid:{agent['openid']}"
    account = agent.get("account")
    if isinstance(account, dict):
        return f"account:{account.get('homePage')}|{account.get('name')}"
    return None


# PostgreSQL's b-tree rejects index entries over about 2,700 bytes, and IRIs
# have no length limit, so longer values are indexed by their SHA-256.
MAX_INDEXED_BYTES = 512


def index_key(value: str) -> str:
    """Return ``value``, or ``sha256:HEX`` of it when it is too long to index."""
    encoded = value.encode()
    if len(encoded) <= MAX_INDEXED_BYTES:
        return value
    return "sha256:" + hashlib.sha256(encoded).hexdigest()


def to_utc_text(value: str) -> str:
    """Rewrite an RFC 3339 timestamp in UTC, keeping every fractional digit."""
    parsed = parse_timestamp(value)
    if parsed is None:
        return value
    base, fraction, offset = parsed
    moment = utc_moment(base, offset)
    assert moment is not None  # parse_timestamp checked it
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if base.endswith(":60"):
        text = text[:-2] + "60"
    return text + fraction + "Z"


def to_datetime(value: str) -> datetime:
    """Return a timezone-aware datetime for a valid timestamp (microseconds)."""
    base, fraction, offset = parse_timestamp(value) or (value[:19], "", 0)
    micros = int((fraction[1:] + "000000")[:6]) if fraction else 0
    moment = utc_moment(base[:19], offset)
    if moment is None:
        raise ValueError(f"timestamp {value!r} is not a valid date-time")
    return moment.replace(tzinfo=UTC) + timedelta(microseconds=micros)


def format_datetime(moment: datetime) -> str:
    """Format a datetime as an xAPI timestamp in UTC with milliseconds."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def normalise(statement: dict[str, Any], version: str) -> dict[str, Any]:
    """Return a copy with timestamps in UTC and objectTypes made explicit.

    xAPI 2.0 requires the LRS to convert a timestamp's offset to UTC; 1.0.3
    statements are converted the same way so both versions read alike.
    """
    result = json.loads(json.dumps(statement))
    if "timestamp" in result:
        result["timestamp"] = to_utc_text(result["timestamp"])
    if isinstance(result.get("actor"), dict):
        result["actor"].setdefault("objectType", "Agent")
    target = result.get("object")
    if isinstance(target, dict):
        target.setdefault("objectType", "Activity")
        if target["objectType"] == "SubStatement":
            if "timestamp" in target:
                target["timestamp"] = to_utc_text(target["timestamp"])
            if isinstance(target.get("actor"), dict):
                target["actor"].setdefault("objectType", "Agent")
            inner = target.get("object")
            if isinstance(inner, dict):
                inner.setdefault("objectType", "Activity")
    for block in _contexts(result):
        activities = block.get("contextActivities")
        if isinstance(activities, dict):
            for key, entry in list(activities.items()):
                if isinstance(entry, dict):
                    activities[key] = [entry]
    return result


def _contexts(statement: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = []
    if isinstance(statement.get("context"), dict):
        blocks.append(statement["context"])
    target = statement.get("object")
    if isinstance(target, dict) and isinstance(target.get("context"), dict):
        blocks.append(target["context"])
    return blocks


def content_hash(statement: dict[str, Any]) -> str:
    """Return a hash of what the client sent, ignoring what the LRS sets.

    Two statements with the same id are the same when this hash matches:
    ``id``, ``stored``, ``authority`` and ``version`` are left out, as are
    agent objectTypes, and durations are cut to 0.01 s (xAPI 2.0 §4.2.7).
    """
    copy = {
        key: value
        for key, value in statement.items()
        if key not in ("id", "stored", "authority", "version")
    }
    copy = _comparable(copy)
    text = json.dumps(copy, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _comparable(value: Any) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "duration" and isinstance(item, str):
                out[key] = _round_duration(item)
            else:
                out[key] = _comparable(item)
        return out
    if isinstance(value, list):
        return [_comparable(item) for item in value]
    return value


def _round_duration(duration: str) -> str:
    head, dot, tail = duration.rpartition(".")
    if not dot or not tail.endswith("S"):
        return duration
    return f"{head}.{tail[:-1][:2].ljust(2, '0')}S"


def attachment_hashes(statement: dict[str, Any]) -> list[str]:
    """Return the sha2 of every attachment a statement declares."""
    hashes = []
    for item in statement.get("attachments") or []:
        if isinstance(item, dict) and isinstance(item.get("sha2"), str):
            hashes.append(item["sha2"])
    target = statement.get("object")
    if isinstance(target, dict) and target.get("objectType") == "SubStatement":
        hashes.extend(attachment_hashes(target))
    return hashes


def statement_terms(statement: dict[str, Any]) -> set[tuple[str, str]]:
    """Return the (kind, term) pairs that the GET filters look statements up by."""
    terms: set[tuple[str, str]] = set()
    _body_terms(statement, terms, direct=True)
    authority = statement.get("authority")
    for ifi in _all_agent_ifis(authority):
        terms.add(("related_agent", ifi))
    return terms


def _body_terms(body: dict[str, Any], terms: set[tuple[str, str]], direct: bool):
    actor = body.get("actor")
    if direct:
        if (ifi := agent_ifi(actor)) is not None:
            terms.add(("agent", ifi))
    for ifi in _all_agent_ifis(actor):
        terms.add(("related_agent", ifi))
    verb = body.get("verb")
    if direct and isinstance(verb, dict) and isinstance(verb.get("id"), str):
        terms.add(("verb", verb["id"]))

    target = body.get("object")
    if not isinstance(target, dict):
        return
    kind = target.get("objectType", "Activity")
    if kind == "Activity":
        if direct:
            terms.add(("activity", target["id"]))
        terms.add(("related_activity", target["id"]))
    elif kind in ("Agent", "Group"):
        if direct and (ifi := agent_ifi(target)) is not None:
            terms.add(("agent", ifi))
        for ifi in _all_agent_ifis(target):
            terms.add(("related_agent", ifi))
    elif kind == "SubStatement":
        _body_terms(target, terms, direct=False)

    context = body.get("context")
    if not isinstance(context, dict):
        return
    if direct and isinstance(context.get("registration"), str):
        terms.add(("registration", context["registration"].lower()))
    for key in ("instructor", "team"):
        for ifi in _all_agent_ifis(context.get(key)):
            terms.add(("related_agent", ifi))
    for item in context.get("contextAgents") or []:
        if isinstance(item, dict):
            for ifi in _all_agent_ifis(item.get("agent")):
                terms.add(("related_agent", ifi))
    for item in context.get("contextGroups") or []:
        if isinstance(item, dict):
            for ifi in _all_agent_ifis(item.get("group")):
                terms.add(("related_agent", ifi))
    activities = context.get("contextActivities")
    if isinstance(activities, dict):
        for entry in activities.values():
            for activity in entry if isinstance(entry, list) else [entry]:
                if isinstance(activity, dict) and "id" in activity:
                    terms.add(("related_activity", activity["id"]))


def _all_agent_ifis(agent: Any) -> list[str]:
    if not isinstance(agent, dict):
        return []
    found = []
    if (ifi := agent_ifi(agent)) is not None:
        found.append(ifi)
    for member in agent.get("member") or []:
        if (ifi := agent_ifi(member)) is not None:
            found.append(ifi)
    return found


def activities_with_definitions(statement: dict[str, Any]) -> list[dict[str, Any]]:
    """Return every Activity object in a statement that carries a definition."""
    found: list[dict[str, Any]] = []

    def visit(body: dict[str, Any]) -> None:
        target = body.get("object")
        if isinstance(target, dict):
            kind = target.get("objectType", "Activity")
            if kind == "Activity" and isinstance(target.get("definition"), dict):
                found.append(target)
            elif kind == "SubStatement":
                visit(target)
        context = body.get("context")
        if isinstance(context, dict) and isinstance(
            context.get("contextActivities"), dict
        ):
            for entry in context["contextActivities"].values():
                for activity in entry if isinstance(entry, list) else [entry]:
                    if isinstance(activity, dict) and isinstance(
                        activity.get("definition"), dict
                    ):
                        found.append(activity)

    visit(statement)
    return found


def format_statement(
    statement: dict[str, Any], style: str, languages: list[str]
) -> dict[str, Any]:
    """Return a statement in the ``exact``, ``ids`` or ``canonical`` format."""
    if style == "exact":
        return statement
    if style == "ids":
        return _ids(statement)
    return _canonical(statement, languages)


AGENT_KEYS = {"actor", "instructor", "team", "authority", "agent", "group", "member"}
ACTIVITY_LIST_KEYS = {"parent", "grouping", "category", "other"}


def _ids(value: Any, key: str | None = None) -> Any:
    if isinstance(value, list):
        return [_ids(item, key) for item in value]
    if not isinstance(value, dict):
        return value
    kind = value.get("objectType")
    if key in AGENT_KEYS or (key == "object" and kind in ("Agent", "Group")):
        return _agent_ids(value)
    if key == "verb":
        return {"id": value.get("id")}
    if key in ACTIVITY_LIST_KEYS or (key == "object" and kind in (None, "Activity")):
        return {"id": value.get("id")}
    return {k: _ids(v, k) for k, v in value.items()}


def _agent_ids(agent: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "objectType" in agent:
        out["objectType"] = agent["objectType"]
    for field in ("mbox", "mbox_sha1sum", "openid", "account"):
        if field in agent:
            out[field] = agent[field]
    if agent_ifi(agent) is None and "member" in agent:
        out["member"] = [_agent_ids(m) for m in agent["member"]]
    return out


LANGUAGE_MAP_KEYS = {"display", "name", "description"}


def _canonical(value: Any, languages: list[str], key: str | None = None) -> Any:
    if isinstance(value, list):
        return [_canonical(item, languages, key) for item in value]
    if not isinstance(value, dict):
        return value
    if key in LANGUAGE_MAP_KEYS and all(isinstance(v, str) for v in value.values()):
        return _pick_language(value, languages)
    return {k: _canonical(v, languages, k) for k, v in value.items()}


def _pick_language(texts: dict[str, str], languages: list[str]) -> dict[str, str]:
    if not texts:
        return texts
    lowered = {tag.lower(): tag for tag in texts}
    for wanted in languages:
        wanted = wanted.lower()
        if wanted in lowered:
            tag = lowered[wanted]
            return {tag: texts[tag]}
        for tag_lower, tag in lowered.items():
            if tag_lower.split("-")[0] == wanted.split("-")[0]:
                return {tag: texts[tag]}
    tag = next(iter(texts))
    return {tag: texts[tag]}


def parse_accept_language(header: str | None) -> list[str]:
    """Return the languages of an Accept-Language header, best first."""
    if not header:
        return []
    weighted = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and tag != "*":
            weighted.append((-quality, index, tag))
    return [tag for _, _, tag in sorted(weighted)]
