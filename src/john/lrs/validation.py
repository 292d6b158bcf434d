"""Check statements against xAPI 2.0 (IEEE 9274.1.1) and 1.0.3.

Every problem is collected with the JSON path of the property it concerns, so
a client sees all of them in one 400 response.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from john.errors import FieldProblem, UserError

UUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
# RFC 3986 scheme followed by a non-empty, space-free remainder.
IRI_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s]+$")
MAILTO_RE = re.compile(r"^mailto:[^@\s]+@[^@\s]+$")
SHA1_RE = re.compile(r"^[0-9a-fA-F]{40}$")
# RFC 5646 language tag, simplified: language, script, region, variants,
# extensions and private use, or a private-use tag on its own.
LANGUAGE_TAG_RE = re.compile(
    r"^(?:(?:[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}|[A-Za-z]{4,8})"
    r"(?:-[A-Za-z]{4})?(?:-(?:[A-Za-z]{2}|[0-9]{3}))?"
    r"(?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*"
    r"(?:-[0-9A-WY-Za-wy-z](?:-[A-Za-z0-9]{2,8})+)*"
    r"(?:-[xX](?:-[A-Za-z0-9]{1,8})+)?"
    r"|[xX](?:-[A-Za-z0-9]{1,8})+|i-[A-Za-z]{3,8})$"
)
# RFC 3339 date-time (ISO 8601 profile) with seconds and an optional fraction.
TIMESTAMP_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?"
    r"(Z|[+-]\d{2}:?\d{2}|[+-]\d{2})?$"
)
DURATION_RE = re.compile(
    r"^P(?:(?:\d+(?:\.\d+)?Y)?(?:\d+(?:\.\d+)?M)?(?:\d+(?:\.\d+)?D)?"
    r"(?:T(?:\d+(?:\.\d+)?H)?(?:\d+(?:\.\d+)?M)?(?:\d+(?:\.\d+)?S)?)?"
    r"|\d+(?:\.\d+)?W)$"
)
VERSION_RE = re.compile(r"^(1\.0(\.\d+)?|2\.0(\.\d+)?)$")
MEDIA_TYPE_RE = re.compile(r"^[\w!#$&^.+\-]+/[\w!#$&^.+\-]+(\s*;.*)?$")

INTERACTION_TYPES = {
    "true-false": set(),
    "choice": {"choices"},
    "fill-in": set(),
    "long-fill-in": set(),
    "matching": {"source", "target"},
    "performance": {"steps"},
    "sequencing": {"choices"},
    "likert": {"scale"},
    "numeric": set(),
    "other": set(),
}
COMPONENT_LISTS = {"choices", "scale", "source", "target", "steps"}
VOIDED_VERB = "http://adlnet.gov/expapi/verbs/voided"
SIGNATURE_USAGE = "http://adlnet.gov/expapi/attachments/signature"
CONTEXT_ACTIVITY_KEYS = {"parent", "grouping", "category", "other"}


class StatementInvalid(UserError):
    """Raised when a statement or a request parameter breaks the specification."""

    status = 400
    problem = "invalid-statement"
    title = "Invalid statement"


class Checker:
    """Collect problems while walking one statement or batch."""

    def __init__(self, version: str) -> None:
        self.version = version
        self.problems: list[FieldProblem] = []

    @property
    def is_v2(self) -> bool:
        """Return whether the request speaks xAPI 2.0."""
        return self.version.startswith("2.")

    def add(self, path: str, message: str) -> None:
        """Record one problem at ``path``."""
        self.problems.append(FieldProblem(field=path, message=message))

    def raise_if_any(self, what: str = "statement") -> None:
        """Raise :class:`StatementInvalid` listing every problem found."""
        if not self.problems:
            return
        summary = "; ".join(f"{p.field}: {p.message}" for p in self.problems[:5])
        raise StatementInvalid(
            f"the {what} breaks the xAPI specification: {summary}",
            problems=self.problems,
        )

    # Primitive checks -------------------------------------------------

    def object_(self, value: Any, path: str, allowed: set[str]) -> bool:
        if not isinstance(value, dict):
            self.add(path, "must be a JSON object")
            return False
        for key in value:
            if key not in allowed:
                where = f"{path}.{key}" if path else key
                self.add(where, "is not a property allowed here")
        return True

    def string(self, value: Any, path: str) -> bool:
        if not isinstance(value, str):
            self.add(path, "must be a string")
            return False
        return True

    def iri(self, value: Any, path: str) -> None:
        if not isinstance(value, str) or not IRI_RE.match(value):
            self.add(path, "must be an absolute IRI such as http://example.com/x")

    def uuid(self, value: Any, path: str) -> None:
        if not isinstance(value, str) or not UUID_RE.match(value):
            self.add(path, "must be a UUID such as 0b4a4a34-...-...")

    def boolean(self, value: Any, path: str) -> None:
        if not isinstance(value, bool):
            self.add(path, "must be true or false")

    def number(self, value: Any, path: str) -> bool:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.add(path, "must be a number")
            return False
        return True

    def language_map(self, value: Any, path: str) -> None:
        if not isinstance(value, dict):
            self.add(path, "must be a language map: an object of tag to string")
            return
        for tag, text in value.items():
            if not LANGUAGE_TAG_RE.match(tag):
                self.add(f"{path}.{tag}", "key is not an RFC 5646 language tag")
            if not isinstance(text, str):
                self.add(f"{path}.{tag}", "must be a string")

    def extensions(self, value: Any, path: str) -> None:
        if not isinstance(value, dict):
            self.add(path, "must be an object whose keys are IRIs")
            return
        for key in value:
            if not IRI_RE.match(key):
                self.add(f"{path}.{key}", "extension key must be an absolute IRI")

    def timestamp(self, value: Any, path: str) -> None:
        if not isinstance(value, str) or parse_timestamp(value) is None:
            self.add(
                path,
                "must be an ISO 8601 date-time with seconds and an offset, "
                "such as 2026-01-31T09:30:00.000Z",
            )
        elif value.endswith(("-00:00", "-0000", "-00")):
            self.add(path, "offset -00:00 means unknown; give Z or a real offset")

    # Structures -------------------------------------------------------

    def agent(self, value: Any, path: str, *, object_type_required: bool = False):
        allowed = {"objectType", "name", "mbox", "mbox_sha1sum", "openid", "account"}
        if not self.object_(value, path, allowed):
            return
        kind = value.get("objectType")
        if object_type_required and kind is None:
            self.add(f"{path}.objectType", "is required here")
        elif kind is not None and kind != "Agent":
            self.add(f"{path}.objectType", "must be Agent")
        if "name" in value:
            self.string(value["name"], f"{path}.name")
        if self.identifiers(value, path) != 1:
            self.add(
                path,
                "an Agent needs exactly one of mbox, mbox_sha1sum, openid or account",
            )

    def identifiers(self, value: dict[str, Any], path: str) -> int:
        found = 0
        if "mbox" in value:
            found += 1
            if not isinstance(value["mbox"], str) or not MAILTO_RE.match(value["mbox"]):
                self.add(f"{path}.mbox", "must be mailto: followed by an address")
        if "mbox_sha1sum" in value:
            found += 1
            if not isinstance(value["mbox_sha1sum"], str) or not SHA1_RE.match(
                value["mbox_sha1sum"]
            ):
                self.add(f"{path}.mbox_sha1sum", "must be 40 hexadecimal digits")
        if "openid" in value:
            found += 1
            self.iri(value["openid"], f"{path}.openid")
        if "account" in value:
            found += 1
            account = value["account"]
            if self.object_(account, f"{path}.account", {"homePage", "name"}):
                if "homePage" not in account:
                    self.add(f"{path}.account.homePage", "is required")
                else:
                    self.iri(account["homePage"], f"{path}.account.homePage")
                if "name" not in account:
                    self.add(f"{path}.account.name", "is required")
                else:
                    self.string(account["name"], f"{path}.account.name")
        return found

    def group(self, value: Any, path: str) -> None:
        allowed = {
            "objectType",
            "name",
            "member",
            "mbox",
            "mbox_sha1sum",
            "openid",
            "account",
        }
        if not self.object_(value, path, allowed):
            return
        if value.get("objectType") != "Group":
            self.add(f"{path}.objectType", "must be Group")
        if "name" in value:
            self.string(value["name"], f"{path}.name")
        found = self.identifiers(value, path)
        if found > 1:
            self.add(path, "a Group has at most one inverse functional identifier")
        members = value.get("member")
        if found == 0 and members is None:
            self.add(f"{path}.member", "an anonymous Group needs a member list")
        if members is None:
            return
        if not isinstance(members, list):
            self.add(f"{path}.member", "must be an array of Agents")
            return
        if found == 0 and not members:
            self.add(f"{path}.member", "an anonymous Group needs members")
        for index, member in enumerate(members):
            if isinstance(member, dict) and member.get("objectType") == "Group":
                self.add(f"{path}.member[{index}]", "a Group cannot contain Groups")
            else:
                self.agent(member, f"{path}.member[{index}]")

    def actor(self, value: Any, path: str) -> None:
        if isinstance(value, dict) and value.get("objectType") == "Group":
            self.group(value, path)
        else:
            self.agent(value, path)

    def verb(self, value: Any, path: str) -> None:
        if not self.object_(value, path, {"id", "display"}):
            return
        if "id" not in value:
            self.add(f"{path}.id", "is required")
        else:
            self.iri(value["id"], f"{path}.id")
        if "display" in value:
            self.language_map(value["display"], f"{path}.display")

    def activity(self, value: Any, path: str) -> None:
        if not self.object_(value, path, {"objectType", "id", "definition"}):
            return
        if value.get("objectType", "Activity") != "Activity":
            self.add(f"{path}.objectType", "must be Activity")
        if "id" not in value:
            self.add(f"{path}.id", "is required")
        else:
            self.iri(value["id"], f"{path}.id")
        if "definition" in value:
            self.definition(value["definition"], f"{path}.definition")

    def definition(self, value: Any, path: str) -> None:
        allowed = {
            "name",
            "description",
            "type",
            "moreInfo",
            "extensions",
            "interactionType",
            "correctResponsesPattern",
        } | COMPONENT_LISTS
        if not self.object_(value, path, allowed):
            return
        for key in ("name", "description"):
            if key in value:
                self.language_map(value[key], f"{path}.{key}")
        for key in ("type", "moreInfo"):
            if key in value:
                self.iri(value[key], f"{path}.{key}")
        if "extensions" in value:
            self.extensions(value["extensions"], f"{path}.extensions")
        self.interaction(value, path)

    def interaction(self, value: dict[str, Any], path: str) -> None:
        kind = value.get("interactionType")
        present = COMPONENT_LISTS & value.keys()
        if kind is None:
            if present or "correctResponsesPattern" in value:
                self.add(
                    f"{path}.interactionType",
                    "is required with interaction "
                    "components or correctResponsesPattern",
                )
            return
        if not isinstance(kind, str) or kind not in INTERACTION_TYPES:
            self.add(
                f"{path}.interactionType",
                "must be one of " + ", ".join(sorted(INTERACTION_TYPES)),
            )
            return
        for key in present - INTERACTION_TYPES[kind]:
            self.add(f"{path}.{key}", f"is not allowed with interactionType {kind}")
        if "correctResponsesPattern" in value:
            pattern = value["correctResponsesPattern"]
            if not isinstance(pattern, list) or not all(
                isinstance(item, str) for item in pattern
            ):
                self.add(
                    f"{path}.correctResponsesPattern", "must be an array of strings"
                )
        for key in present:
            self.components(value[key], f"{path}.{key}")

    def components(self, value: Any, path: str) -> None:
        if not isinstance(value, list):
            self.add(path, "must be an array of interaction components")
            return
        seen: set[str] = set()
        for index, item in enumerate(value):
            where = f"{path}[{index}]"
            if not self.object_(item, where, {"id", "description"}):
                continue
            if "id" not in item or not isinstance(item["id"], str):
                self.add(f"{where}.id", "is required and must be a string")
            elif item["id"] in seen:
                self.add(f"{where}.id", "repeats an id in the same list")
            else:
                seen.add(item["id"])
            if "description" in item:
                self.language_map(item["description"], f"{where}.description")

    def statement_ref(self, value: Any, path: str) -> None:
        if not self.object_(value, path, {"objectType", "id"}):
            return
        if value.get("objectType") != "StatementRef":
            self.add(f"{path}.objectType", "must be StatementRef")
        self.uuid(value.get("id"), f"{path}.id")

    def object(self, value: Any, path: str, *, in_sub: bool = False) -> None:
        if not isinstance(value, dict):
            self.add(path, "must be a JSON object")
            return
        kind = value.get("objectType", "Activity")
        if kind == "Activity":
            self.activity(value, path)
        elif kind == "Agent":
            self.agent(value, path, object_type_required=True)
        elif kind == "Group":
            self.group(value, path)
        elif kind == "StatementRef":
            self.statement_ref(value, path)
        elif kind == "SubStatement" and not in_sub:
            self.statement_body(value, path, sub=True)
        elif kind == "SubStatement":
            self.add(f"{path}.objectType", "a SubStatement cannot nest another")
        else:
            self.add(
                f"{path}.objectType",
                "must be Activity, Agent, Group, StatementRef or SubStatement",
            )

    def result(self, value: Any, path: str) -> None:
        allowed = {
            "score",
            "success",
            "completion",
            "response",
            "duration",
            "extensions",
        }
        if not self.object_(value, path, allowed):
            return
        if "score" in value:
            self.score(value["score"], f"{path}.score")
        for key in ("success", "completion"):
            if key in value:
                self.boolean(value[key], f"{path}.{key}")
        if "response" in value:
            self.string(value["response"], f"{path}.response")
        if "duration" in value:
            duration = value["duration"]
            if (
                not isinstance(duration, str)
                or not DURATION_RE.match(duration)
                or duration in ("P", "PT")
                or duration.endswith("T")
            ):
                self.add(
                    f"{path}.duration", "must be an ISO 8601 duration such as PT1H30M"
                )
        if "extensions" in value:
            self.extensions(value["extensions"], f"{path}.extensions")

    def score(self, value: Any, path: str) -> None:
        if not self.object_(value, path, {"scaled", "raw", "min", "max"}):
            return
        numbers = {
            key: value[key]
            for key in ("scaled", "raw", "min", "max")
            if key in value and self.number(value[key], f"{path}.{key}")
        }
        scaled = numbers.get("scaled")
        if scaled is not None and not -1 <= scaled <= 1:
            self.add(f"{path}.scaled", "must be between -1 and 1")
        low, high, raw = numbers.get("min"), numbers.get("max"), numbers.get("raw")
        if low is not None and high is not None and low >= high:
            self.add(f"{path}.min", "must be less than max")
        if raw is not None and low is not None and raw < low:
            self.add(f"{path}.raw", "must not be less than min")
        if raw is not None and high is not None and raw > high:
            self.add(f"{path}.raw", "must not be more than max")

    def context(self, value: Any, path: str, object_value: Any) -> None:
        allowed = {
            "registration",
            "instructor",
            "team",
            "contextActivities",
            "revision",
            "platform",
            "language",
            "statement",
            "extensions",
        }
        if self.is_v2:
            allowed |= {"contextAgents", "contextGroups"}
        if not self.object_(value, path, allowed):
            return
        if "registration" in value:
            self.uuid(value["registration"], f"{path}.registration")
        if "instructor" in value:
            self.actor(value["instructor"], f"{path}.instructor")
        if "team" in value:
            team = value["team"]
            if isinstance(team, dict) and team.get("objectType") != "Group":
                self.add(f"{path}.team.objectType", "must be Group")
            else:
                self.group(team, f"{path}.team")
        if "contextActivities" in value:
            self.context_activities(
                value["contextActivities"], f"{path}.contextActivities"
            )
        is_activity = (
            isinstance(object_value, dict)
            and object_value.get("objectType", "Activity") == "Activity"
        )
        for key in ("revision", "platform"):
            if key in value:
                self.string(value[key], f"{path}.{key}")
                if not is_activity:
                    self.add(
                        f"{path}.{key}",
                        "is only allowed when the object is an Activity",
                    )
        if "language" in value:
            language = value["language"]
            if not isinstance(language, str) or not LANGUAGE_TAG_RE.match(language):
                self.add(f"{path}.language", "must be an RFC 5646 language tag")
        if "statement" in value:
            self.statement_ref(value["statement"], f"{path}.statement")
        if "extensions" in value:
            self.extensions(value["extensions"], f"{path}.extensions")
        if "contextAgents" in value:
            self.context_members(
                value["contextAgents"], f"{path}.contextAgents", "contextAgent", "agent"
            )
        if "contextGroups" in value:
            self.context_members(
                value["contextGroups"], f"{path}.contextGroups", "contextGroup", "group"
            )

    def context_activities(self, value: Any, path: str) -> None:
        if not self.object_(value, path, CONTEXT_ACTIVITY_KEYS):
            return
        for key, entry in value.items():
            items = entry if isinstance(entry, list) else [entry]
            for index, item in enumerate(items):
                self.activity(item, f"{path}.{key}[{index}]")

    def context_members(self, value: Any, path: str, kind: str, key: str) -> None:
        if not isinstance(value, list):
            self.add(path, "must be an array")
            return
        for index, item in enumerate(value):
            where = f"{path}[{index}]"
            if not self.object_(item, where, {"objectType", key, "relevantTypes"}):
                continue
            if item.get("objectType") != kind:
                self.add(f"{where}.objectType", f"must be {kind}")
            if key not in item:
                self.add(f"{where}.{key}", "is required")
            elif key == "agent":
                self.actor(item[key], f"{where}.{key}")
            else:
                self.group(item[key], f"{where}.{key}")
            if "relevantTypes" in item:
                types = item["relevantTypes"]
                if not isinstance(types, list) or not types:
                    self.add(
                        f"{where}.relevantTypes", "must be a non-empty array of IRIs"
                    )
                else:
                    for number, iri in enumerate(types):
                        self.iri(iri, f"{where}.relevantTypes[{number}]")

    def attachments(self, value: Any, path: str) -> None:
        if not isinstance(value, list):
            self.add(path, "must be an array of attachments")
            return
        allowed = {
            "usageType",
            "display",
            "description",
            "contentType",
            "length",
            "sha2",
            "fileUrl",
        }
        for index, item in enumerate(value):
            where = f"{path}[{index}]"
            if not self.object_(item, where, allowed):
                continue
            for key in ("usageType", "display", "contentType", "length", "sha2"):
                if key not in item:
                    self.add(f"{where}.{key}", "is required")
            if "usageType" in item:
                self.iri(item["usageType"], f"{where}.usageType")
            if "display" in item:
                self.language_map(item["display"], f"{where}.display")
            if "description" in item:
                self.language_map(item["description"], f"{where}.description")
            content_type = item.get("contentType")
            if "contentType" in item and (
                not isinstance(content_type, str)
                or not MEDIA_TYPE_RE.match(content_type)
            ):
                self.add(f"{where}.contentType", "must be an Internet media type")
            length = item.get("length")
            if "length" in item and (
                isinstance(length, bool) or not isinstance(length, int) or length < 0
            ):
                self.add(f"{where}.length", "must be a non-negative integer")
            if "sha2" in item and not (
                isinstance(item["sha2"], str)
                and re.fullmatch(r"[0-9a-fA-F]{56,128}", item["sha2"])
            ):
                self.add(f"{where}.sha2", "must be a hexadecimal SHA-2 hash")
            if "fileUrl" in item:
                self.iri(item["fileUrl"], f"{where}.fileUrl")

    def statement_body(self, value: Any, path: str, *, sub: bool = False) -> None:
        allowed = {
            "actor",
            "verb",
            "object",
            "result",
            "context",
            "timestamp",
            "attachments",
        }
        if sub:
            allowed.add("objectType")
        else:
            allowed |= {"id", "stored", "authority", "version"}
        if not self.object_(value, path, allowed):
            return
        prefix = f"{path}." if path else ""
        for key in ("actor", "verb", "object"):
            if key not in value:
                self.add(prefix + key, "is required")
        if "id" in value:
            self.uuid(value["id"], prefix + "id")
        if "actor" in value:
            self.actor(value["actor"], prefix + "actor")
        if "verb" in value:
            self.verb(value["verb"], prefix + "verb")
        if "object" in value:
            self.object(value["object"], prefix + "object", in_sub=sub)
        if "result" in value:
            self.result(value["result"], prefix + "result")
        if "context" in value:
            self.context(value["context"], prefix + "context", value.get("object"))
        for key in ("timestamp", "stored"):
            if key in value:
                self.timestamp(value[key], prefix + key)
        if "authority" in value:
            self.authority(value["authority"], prefix + "authority")
        if "version" in value:
            version = value["version"]
            if not isinstance(version, str) or not VERSION_RE.match(version):
                self.add(prefix + "version", "must be 1.0.x or 2.0.x")
        if "attachments" in value:
            self.attachments(value["attachments"], prefix + "attachments")
        self.voiding(value, prefix)

    def authority(self, value: Any, path: str) -> None:
        if isinstance(value, dict) and value.get("objectType") == "Group":
            self.group(value, path)
            if any(k in value for k in ("mbox", "mbox_sha1sum", "openid", "account")):
                self.add(
                    path,
                    "a Group authority must be anonymous: an OAuth "
                    "consumer and a user as its two members",
                )
            members = value.get("member")
            if not isinstance(members, list) or len(members) != 2:
                self.add(
                    f"{path}.member",
                    "a Group authority must be an OAuth "
                    "consumer and a user: exactly two Agents",
                )
            elif any("mbox" in m for m in members if isinstance(m, dict)) and not any(
                "account" in m for m in members if isinstance(m, dict)
            ):
                self.add(
                    f"{path}.member",
                    "a Group authority needs an OAuth "
                    "consumer Agent identified by account",
                )
        else:
            self.agent(value, path)

    def voiding(self, value: dict[str, Any], prefix: str) -> None:
        verb = value.get("verb")
        if not isinstance(verb, dict) or verb.get("id") != VOIDED_VERB:
            return
        target = value.get("object")
        if not isinstance(target, dict) or target.get("objectType") != "StatementRef":
            self.add(
                prefix + "object", "a voiding statement's object must be a StatementRef"
            )


def check_statement(statement: Any, version: str, path: str = "") -> list[FieldProblem]:
    """Return every problem with one statement."""
    checker = Checker(version)
    checker.statement_body(statement, path)
    return checker.problems


def check_statements(statements: list[Any], version: str) -> None:
    """Raise :class:`StatementInvalid` naming every problem in a batch."""
    problems: list[FieldProblem] = []
    for index, statement in enumerate(statements):
        path = f"[{index}]" if len(statements) > 1 else ""
        problems.extend(check_statement(statement, version, path))
    if problems:
        summary = "; ".join(
            f"{p.field or 'statement'}: {p.message}" for p in problems[:5]
        )
        raise StatementInvalid(
            f"the statement breaks the xAPI specification: {summary}",
            problems=problems,
        )


def parse_timestamp(value: str) -> tuple[str, str, int] | None:
    """Split an RFC 3339 timestamp into its base, fraction and offset minutes.

    Returns ``None`` when the text is not a valid date-time. A missing offset
    is taken as UTC, as xAPI allows.
    """
    match = TIMESTAMP_RE.match(value)
    if not match:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    if not (
        1 <= month <= 12
        and 1 <= day <= 31
        and hour <= 23
        and minute <= 59
        and second <= 60
    ):
        return None
    fraction = match.group(7) or ""
    zone = match.group(8) or "Z"
    offset = 0
    if zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        hours = int(digits[:2])
        minutes = int(digits[2:4]) if len(digits) > 2 else 0
        if hours > 23 or minutes > 59:
            return None
        offset = sign * (hours * 60 + minutes)
    base = value[: match.end(6)]
    if utc_moment(base, offset) is None:
        return None
    return base, fraction, offset


def utc_moment(base: str, offset: int) -> datetime | None:
    """Return ``base`` shifted by ``offset`` minutes to UTC, without its fraction.

    Returns ``None`` for a date that does not exist (31 February, year 0) or
    that leaves years 1 to 9999 in UTC. RFC 3339 allows a leap second (:60),
    which datetime cannot hold, so it counts as :59.
    """
    if base.endswith(":60"):
        base = base[:-2] + "59"
    try:
        return datetime.fromisoformat(base) - timedelta(minutes=offset)
    except (ValueError, OverflowError):
        return None
