"""Checks and repairs for the values that directory feeds get wrong most often:
ids, URLs, e-mail addresses, HTML in text, times and dates."""

from __future__ import annotations

import html
import re
import uuid
from datetime import date, datetime
from html.parser import HTMLParser
from urllib.parse import urlsplit

# Derived ids are UUID version 5 in this namespace, so the same feed id always
# maps to the same catalogue id.
ID_NAMESPACE = uuid.UUID("6f1f4a52-4c8e-4d0e-9a53-0c7b8f0e2d11")

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
HOST_PATTERN = re.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
TIME_PATTERN = re.compile(
    r"^([01]?\d|2[0-3]):([0-5]\d)(:[0-5]\d)?(\.\d+)?(Z|[+-]\d\d:?\d\d)?$"
)
DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def is_uuid(value: object) -> bool:
    """Return whether ``value`` is a UUID in canonical text form."""
    if not isinstance(value, str):
        return False
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


def derived_uuid(*parts: str) -> str:
    """Return a stable UUID derived from ``parts`` (UUID version 5)."""
    return str(uuid.uuid5(ID_NAMESPACE, "\x1f".join(parts)))


class _TextExtractor(HTMLParser):
    BLOCKS = {"p", "br", "li", "div", "tr", "h1", "h2", "h3", "h4", "ul", "ol"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(value: str | None) -> tuple[str, bool]:
    """Return plain text from a value that may hold HTML, and whether it did."""
    if not value:
        return "", False
    if "<" not in value and "&" not in value:
        return value.strip(), False
    extractor = _TextExtractor()
    extractor.feed(value)
    extractor.close()
    text = html.unescape("".join(extractor.parts)).replace("\xa0", " ")
    lines = [" ".join(line.split()) for line in text.splitlines()]
    cleaned = "\n".join(line for line in lines if line)
    return cleaned, cleaned != value.strip()


def clean_url(value: str | None) -> tuple[str | None, str | None]:
    """Return a usable http(s) URL and, if it was changed or dropped, the reason.

    A bare host such as ``www.example.org`` gains ``https://``; ``http:host``
    and ``https:/host`` get their slashes back; anything without a dotted host
    is dropped.
    """
    if value is None or not value.strip():
        return None, None
    original = value.strip()
    candidate = original
    reason = None
    match = re.match(r"^(https?):/*(?=[^/])", candidate, flags=re.IGNORECASE)
    if match:
        fixed = f"{match.group(1).lower()}://{candidate[match.end() :]}"
        if fixed != candidate:
            reason = "URL scheme was malformed"
        candidate = fixed
    elif "://" not in candidate:
        candidate = "https://" + candidate
        reason = "URL had no scheme"

    try:
        parts = urlsplit(candidate)
        hostname = parts.hostname or ""
    except ValueError:
        # urlsplit raises on a malformed IPv6 literal such as an unmatched "[".
        return None, "not a web address"
    if (
        parts.scheme not in ("http", "https")
        or " " in candidate
        or not HOST_PATTERN.match(hostname)
    ):
        return None, "not a web address"
    return candidate, reason


def clean_email(value: str | None) -> tuple[str | None, str | None]:
    """Return an e-mail address and, if it was dropped, the reason."""
    if value is None or not value.strip():
        return None, None
    candidate = value.strip()
    if candidate.lower().startswith("mailto:"):
        candidate = candidate[7:]
    if EMAIL_PATTERN.match(candidate):
        return candidate, None if candidate == value.strip() else "mailto: removed"
    return None, "not an e-mail address"


def clean_time(value: object) -> str | None:
    """Return ``HH:MM`` from an ORUK time such as ``10:00:00`` or ``9:30Z``."""
    if not isinstance(value, str):
        return None
    match = TIME_PATTERN.match(value.strip())
    if match is None:
        return None
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def clean_date(value: object) -> date | None:
    """Return a date from ``YYYY-MM-DD`` or an ISO date-time, else None."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def clean_datetime(value: object) -> datetime | None:
    """Return an aware date-time from an ISO string (dates become midnight UTC)."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        day = clean_date(text)
        if day is None:
            return None
        parsed = datetime(day.year, day.month, day.day)
    if parsed.tzinfo is None:
        from datetime import UTC

        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def clean_byday(value: object) -> str | None:
    """Return an RFC 5545 BYDAY list such as ``MO,TU`` with unknown days removed."""
    if not isinstance(value, str):
        return None
    days = []
    for token in value.upper().replace(" ", "").split(","):
        code = token[-2:]
        if code in DAY_CODES and code not in days:
            days.append(code)
    return ",".join(days) or None


def as_number(value: object) -> float | None:
    """Return a number from a JSON number or numeric string, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.replace("£", "").replace(",", "").strip())
        except ValueError:
            return None
    return None
