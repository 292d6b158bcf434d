"""Streaming readers for feed files: CSV with a sniffed delimiter, JSON and JSON Lines.

Readers work on binary streams and keep only the current row in memory. Bytes
that the feed's encoding cannot decode never stop a read. The row that
contains them comes out with a problem naming the byte offset, and is
quarantined.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from john.errors import FeedError, FieldProblem

DELIMITERS: tuple[str, ...] = (",", ";", "|", "\t")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "|": "pipe", "\t": "tab"}
SNIFF_LINES = 50
# Maximum length of a line the CSV reader holds. The rest of a longer line is
# skipped and its row quarantined, so one huge line cannot fill the memory.
MAX_LINE_BYTES = 1024 * 1024
UTF8_BOM = codecs.BOM_UTF8

# A JSON array item that has not parsed after this many characters is taken as
# broken rather than unfinished, so a bad file cannot grow the buffer without end.
MAX_JSON_ITEM_CHARS = 16 * 1024 * 1024
# Python's json module recurses once per nesting level, so a deep value
# exhausts the interpreter's recursion limit (1000 by default).
NESTED_TOO_DEEPLY = "nests arrays or objects too deeply to parse"

BYTE_OFFSET = re.compile(r" \(first at byte offset \d+\)")
"""The part of a bad-bytes reason that differs per row."""

ROW_FIELD = "row"
"""The field name under which problems with a whole row are reported."""

# The store's text columns (PostgreSQL's in particular) cannot hold NUL.
NUL_PROBLEM = FieldProblem(ROW_FIELD, "contains a NUL character")
# JSON may escape half of a UTF-16 surrogate pair on its own ("\ud800"),
# which decodes to no character and cannot be stored as UTF-8.
SURROGATE_MESSAGE = (
    "contains an escaped UTF-16 surrogate that is not part of a pair; send the "
    "character itself or its complete pair"
)


@dataclass(slots=True)
class SourceRow:
    """One data row as read: its number, its values in header order, its problem."""

    number: int
    values: list[str]
    raw_bytes: bytes | None = None
    problem: FieldProblem | None = None


class FeedReader(Protocol):
    """Interface of a reader of one file format, as the service uses it."""

    header: list[str]
    delimiter: str | None
    file_format: str

    def rows(self) -> Iterator[SourceRow]:
        """Yield the data rows in file order."""
        ...

    @property
    def bytes_read(self) -> int:
        """Return how many bytes of the file have been consumed."""
        ...

    @property
    def extra_keys(self) -> list[str]:
        """Return keys found after the header that the header did not name."""
        ...


def check_encoding(encoding: str) -> str:
    """Return the codec name if it can read feeds line by line, else raise FeedError.

    Readers split the bytes on newlines before decoding, which is only correct
    for encodings where ASCII characters keep their one-byte form.
    """
    try:
        name = codecs.lookup(encoding).name
    except LookupError as error:
        raise FeedError(
            f"encoding {encoding!r} is not known; use utf-8 or cp1252",
            problems=[FieldProblem("encoding", "unknown encoding")],
        ) from error
    if not _keeps_ascii(name) or name.startswith(("utf-16", "utf-32")):
        raise FeedError(
            f"encoding {encoding!r} is not ASCII-compatible; convert the file to utf-8",
            problems=[FieldProblem("encoding", "not ASCII-compatible")],
        )
    return name


def _keeps_ascii(codec: str) -> bool:
    """Return whether the codec reads every ASCII byte as that ASCII character.

    UTF-7 fails this: it reads "+" as the start of an encoded run, which can
    decode to a lone surrogate.
    """
    ascii_bytes = bytes(range(128))
    try:
        return ascii_bytes.decode(codec) == ascii_bytes.decode("ascii")
    except UnicodeDecodeError:
        return False


def detect_format(head: bytes, filename: str | None) -> str:
    """Return ``csv`` or ``json`` from the file name's extension or its first byte."""
    if filename:
        suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        if suffix in ("csv", "tsv", "txt", "psv"):
            return "csv"
        if suffix in ("json", "jsonl", "ndjson"):
            return "json"
    stripped = head.removeprefix(UTF8_BOM).lstrip()
    return "json" if stripped[:1] in (b"[", b"{") else "csv"


def open_reader(stream: BinaryIO, file_format: str, encoding: str) -> FeedReader:
    """Open a reader for ``stream``, reading the header now.

    Raises FeedError when the file is empty or has no usable header.
    """
    if file_format == "csv":
        return CsvReader(stream, encoding)
    if file_format == "json":
        return JsonReader(stream, encoding)
    raise FeedError(
        f"file format {file_format!r} is not supported; use csv or json",
        problems=[FieldProblem("format", "must be csv or json")],
    )


def bad_byte_problem(offset: int, encoding: str) -> FieldProblem:
    """Return the quarantine problem for a row with undecodable bytes."""
    return FieldProblem(
        ROW_FIELD,
        f"contains bytes that are not valid {encoding} (first at byte offset "
        f"{offset}); save the file as UTF-8 or pass the encoding it uses",
    )


@dataclass(slots=True)
class _LongLine:
    """A line over MAX_LINE_BYTES: its first bytes and its whole length."""

    head: bytes
    length: int


def _read_line(stream: BinaryIO, limit: int = MAX_LINE_BYTES) -> bytes | _LongLine:
    """Read one line, or the start of a line over ``limit``; b"" at the end."""
    line = stream.readline(limit + 1)
    if len(line) <= limit or line.endswith(b"\n"):
        return line
    length = len(line)
    while more := stream.readline(MAX_LINE_BYTES):
        length += len(more)
        if more.endswith(b"\n"):
            break
    return _LongLine(line[:limit], length)


class _Lines:
    """Iterate decoded lines of a binary stream, remembering the current record's.

    ``csv.reader`` pulls one line at a time and never reads ahead, so after it
    yields a row, ``take()`` returns exactly the lines that row came from. A
    line over MAX_LINE_BYTES reaches the parser as a blank line, and
    ``long_line`` gives its length until the record is taken.
    """

    def __init__(
        self,
        stream: BinaryIO,
        encoding: str,
        pending: list[bytes | _LongLine],
        offset: int,
    ):
        self._stream = stream
        self._encoding = encoding
        self._pending = pending
        self.offset = offset
        self.record_start = 0
        self.record_lines: list[bytes] = []
        self.bad_offset: int | None = None
        self.long_line: int | None = None

    def __iter__(self) -> Iterator[str]:
        for line in self._pending:
            yield self._decode(line)
        self._pending = []
        stream = self._stream
        while line := _read_line(stream):
            yield self._decode(line)

    def _decode(self, line: bytes | _LongLine) -> str:
        if not self.record_lines:
            self.record_start = self.offset
        if isinstance(line, _LongLine):
            self.record_lines.append(line.head)
            self.offset += line.length
            if self.long_line is None:
                self.long_line = line.length
            return "\n"
        self.record_lines.append(line)
        start = self.offset
        self.offset += len(line)
        try:
            return line.decode(self._encoding)
        except UnicodeDecodeError as error:
            if self.bad_offset is None:
                self.bad_offset = start + error.start
            return line.decode(self._encoding, "surrogateescape")

    def take(self) -> tuple[bytes, int | None]:
        """Return the current record's bytes and first bad byte offset; then reset."""
        raw = b"".join(self.record_lines)
        bad = self.bad_offset
        self.record_lines = []
        self.bad_offset = None
        self.long_line = None
        return raw, bad

    def reset(self) -> None:
        """Forget the current record without joining its bytes."""
        self.record_lines = []
        self.bad_offset = None
        self.long_line = None


def _sniff_delimiter(sample: list[str]) -> str | None:
    """Return the candidate delimiter that splits the sample most consistently."""
    best: tuple[int, int] = (0, 0)
    chosen: str | None = None
    for delimiter in DELIMITERS:
        records: list[list[str]] = []
        try:
            for record in csv.reader(sample, delimiter=delimiter):
                if record:
                    records.append(record)
        except csv.Error:
            # A record past the header may be malformed or too long for the csv
            # module, and rows() quarantines it, so the records before it decide.
            pass
        if not records or len(records[0]) < 2:
            continue
        width = len(records[0])
        score = (sum(1 for r in records if len(r) == width), width)
        if score > best:
            best, chosen = score, delimiter
    return chosen


class CsvReader:
    """Read a delimited text file whose first non-blank record is the header."""

    file_format = "csv"

    def __init__(self, stream: BinaryIO, encoding: str):
        self._encoding = encoding
        pending: list[bytes | _LongLine] = []
        while len(pending) < SNIFF_LINES and (line := _read_line(stream)):
            pending.append(line)
        if pending and isinstance(pending[0], _LongLine):
            first = pending[0].head
            if b"\r" in first and b"\n" not in first:
                raise FeedError(
                    "feed lines end in a bare carriage return (classic Mac OS); "
                    "save the file with LF or CRLF line endings",
                    problems=[
                        FieldProblem("file", "bare carriage return line endings")
                    ],
                )
            raise FeedError(
                f"feed header is a line of {pending[0].length} bytes, over the limit "
                f"of {MAX_LINE_BYTES}; send CSV text with one header row",
                problems=[FieldProblem("header", "line too long")],
            )
        bom = 0
        if (
            pending
            and isinstance(pending[0], bytes)
            and pending[0].startswith(UTF8_BOM)
        ):
            pending[0] = pending[0][len(UTF8_BOM) :]
            bom = len(UTF8_BOM)
        sample = [
            line.decode(encoding, "replace")
            for line in pending
            if isinstance(line, bytes)
        ]
        if not "".join(sample).strip():
            raise FeedError(
                "feed file is empty; send a header row and at least one data row",
                problems=[FieldProblem("file", "empty")],
            )

        first_line = pending[0]
        assert isinstance(first_line, bytes)  # a long first line raised above
        if len(pending) == 1 and b"\r" in first_line.rstrip(b"\r\n"):
            raise FeedError(
                "feed lines end in a bare carriage return (classic Mac OS); save "
                "the file with LF or CRLF line endings",
                problems=[FieldProblem("file", "bare carriage return line endings")],
            )
        if b"\x00" in first_line:
            raise FeedError(
                "feed header contains NUL bytes, so the file is binary or UTF-16 "
                "rather than CSV text; send CSV, a JSON array or JSON Lines saved "
                "as UTF-8",
                problems=[FieldProblem("header", "contains NUL bytes")],
            )
        found = _sniff_delimiter(sample)
        if found is None:
            raise FeedError(
                "feed header has a single column: none of comma, semicolon, pipe "
                "or tab separates its fields; separate the columns with one of them",
                problems=[FieldProblem("header", "no delimiter found")],
            )
        self.delimiter: str | None = found
        self._lines = _Lines(stream, encoding, pending, bom)
        self._reader = csv.reader(self._lines, delimiter=found, strict=False)
        self.header = self._read_header()
        self.extra_keys: list[str] = []

    @property
    def bytes_read(self) -> int:
        return self._lines.offset

    def _read_header(self) -> list[str]:
        try:
            return self._first_record()
        except csv.Error as error:
            raise FeedError(
                f"feed header cannot be parsed as CSV: {error}",
                problems=[FieldProblem("header", "not valid CSV")],
            ) from error

    def _first_record(self) -> list[str]:
        for record in self._reader:
            raw, bad = self._lines.take()
            if not record:
                continue
            if bad is not None:
                raise FeedError(
                    f"feed header contains bytes that are not valid {self._encoding} "
                    f"at byte offset {bad}; save the file as UTF-8 or pass its "
                    "encoding",
                    problems=[FieldProblem("header", "not valid text")],
                )
            return [column.strip() for column in record]
        raise FeedError("feed file is empty", problems=[FieldProblem("file", "empty")])

    def rows(self) -> Iterator[SourceRow]:
        """Yield each non-blank record; wrong widths and bad bytes carry a problem."""
        width = len(self.header)
        number = 0
        lines = self._lines
        iterator = iter(self._reader)
        while True:
            try:
                record = next(iterator)
            except StopIteration:
                return
            except csv.Error as error:
                number += 1
                raw, _ = lines.take()
                problem = FieldProblem(ROW_FIELD, f"cannot be parsed as CSV: {error}")
                yield SourceRow(number, [], raw_bytes=raw, problem=problem)
                continue
            if lines.long_line is not None:
                number += 1
                length = lines.long_line
                raw, _ = lines.take()
                problem = FieldProblem(
                    ROW_FIELD,
                    f"has a line of {length} bytes, over the limit of "
                    f"{MAX_LINE_BYTES}; check that the file is CSV text and "
                    "shorten the row's values",
                )
                yield SourceRow(number, [], raw_bytes=raw, problem=problem)
                continue
            if not record:
                lines.reset()
                continue

            number += 1
            if lines.bad_offset is not None:
                raw, bad = lines.take()
                assert bad is not None
                yield SourceRow(
                    number,
                    [],
                    raw_bytes=raw,
                    problem=bad_byte_problem(bad, self._encoding),
                )
            elif len(record) != width:
                raw, _ = lines.take()
                problem = FieldProblem(
                    ROW_FIELD, f"has {len(record)} fields but the header has {width}"
                )
                yield SourceRow(number, [], raw_bytes=raw, problem=problem)
            else:
                saved = lines.record_lines
                lines.record_lines = []
                raw = saved[0] if len(saved) == 1 else b"".join(saved)
                if b"\x00" in raw:
                    yield SourceRow(number, [], raw_bytes=raw, problem=NUL_PROBLEM)
                else:
                    yield SourceRow(number, record, raw_bytes=raw)


def _text_value(value: object) -> str | None:
    """Return a JSON scalar as feed text, or None for objects and arrays."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return None


class JsonReader:
    """Read a JSON array of objects or JSON Lines (one object per line).

    The header is the first object's keys, in order. Later objects may omit
    keys (the value is empty) or add keys (listed in ``extra_keys``, ignored).
    """

    file_format = "json"
    delimiter: str | None = None

    def __init__(self, stream: BinaryIO, encoding: str):
        self._stream = stream
        self._encoding = encoding
        self._offset = 0
        self._extra: dict[str, None] = {}

        head = stream.read(1 << 16)
        self._bom = len(UTF8_BOM) if head.startswith(UTF8_BOM) else 0
        head = head[self._bom :]
        if not head.strip():
            raise FeedError(
                "feed file is empty; send a JSON array of objects or JSON Lines",
                problems=[FieldProblem("file", "empty")],
            )
        self._head = head
        is_array = head.lstrip()[:1] == b"["
        self._items = self._array_items() if is_array else self._line_items()

        # Items before the first object are kept so that rows() still yields them.
        self._before: list[_Item] = []
        self.header: list[str] = []
        for item in self._items:
            self._before.append(item)
            if isinstance(item[0], dict):
                self.header = [str(key).strip() for key in item[0]]
                break
            if len(self._before) >= SNIFF_LINES:
                break
        if not self.header:
            raise FeedError(
                f"feed has no JSON object among its first {SNIFF_LINES} items; send "
                "an array of objects or one object per line",
                problems=[FieldProblem("file", "no JSON object found")],
            )

    @property
    def bytes_read(self) -> int:
        return self._offset

    @property
    def extra_keys(self) -> list[str]:
        return list(self._extra)

    def _line_items(self) -> Iterator[_Item]:
        offset = self._bom
        for line in _chain_lines(self._head, self._stream):
            start = offset
            if isinstance(line, _LongLine):
                offset += line.length
                self._offset = offset
                message = (
                    f"is a line of {line.length} bytes, over the limit of "
                    f"{MAX_JSON_ITEM_CHARS}; shorten the item's values"
                )
                yield _Invalid(message, parsed=False), line.head, None
                continue
            offset += len(line)
            self._offset = offset
            if not line.strip():
                continue
            try:
                text = line.decode(self._encoding)
            except UnicodeDecodeError as error:
                yield _BAD, line, start + error.start
                continue
            try:
                yield json.loads(text), line, None
            except json.JSONDecodeError as error:
                yield _Invalid(error.msg), line, None
            except RecursionError:
                yield _Invalid(NESTED_TOO_DEEPLY), line, None

    def _array_items(self) -> Iterator[_Item]:
        decoder = json.JSONDecoder()
        decode = codecs.getincrementaldecoder(self._encoding)("surrogateescape").decode
        chunks = _chain_chunks(self._head, self._stream)
        buffer = ""
        position = 0
        base = self._bom  # byte offset of buffer[0] in the file
        eof = False
        expect = "["

        def fill() -> bool:
            nonlocal buffer, eof
            chunk = next(chunks, None)
            if chunk is None:
                eof = True
                buffer += decode(b"", True)
                return False
            buffer += decode(chunk)
            return True

        def error(at: int, what: str) -> FeedError:
            offset = base + len(buffer[:at].encode(self._encoding, "surrogateescape"))
            return _array_error(offset, what)

        while True:
            while True:
                while position < len(buffer) and buffer[position] in " \t\r\n":
                    position += 1
                if position < len(buffer) or not fill():
                    break
            if position >= len(buffer):
                raise error(position, "ends before the closing ]")

            char = buffer[position]
            if expect == "[":
                if char != "[":
                    raise error(position, "does not start with [")
                position += 1
                expect = "item or ]"
                continue
            if char == "]" and expect != "item":
                return
            if expect == ", or ]":
                if char != ",":
                    raise error(position, "has no , or ] after an item")
                position += 1
                expect = "item"
                continue

            try:
                item, end = decoder.raw_decode(buffer, position)
            except json.JSONDecodeError as failure:
                unfinished = len(buffer) - position < MAX_JSON_ITEM_CHARS
                if not eof and unfinished and fill():
                    continue
                raise error(failure.pos, f"is not valid JSON: {failure.msg}") from None
            except RecursionError:
                raise error(position, NESTED_TOO_DEEPLY) from None
            if end == len(buffer) and not eof and fill():
                continue  # a number at the buffer's end may go on in the next chunk

            text = buffer[position:end]
            raw = text.encode(self._encoding, "surrogateescape")
            start = base + len(
                buffer[:position].encode(self._encoding, "surrogateescape")
            )
            bad = _first_bad_offset(text, self._encoding)
            if bad is None:
                yield item, raw, None
            else:
                yield _BAD, raw, start + bad

            # Drop the consumed text so the buffer contains about one item at a time.
            base = start + len(raw)
            self._offset = base
            buffer = buffer[end:]
            position = 0
            expect = ", or ]"

    def rows(self) -> Iterator[SourceRow]:
        """Yield each item as a row in header order; non-objects carry a problem."""
        header = self.header
        known = set(header)
        number = 0
        for item, raw, bad in _prepend(self._before, self._items):
            number += 1
            if bad is not None:
                problem = bad_byte_problem(bad, self._encoding)
                yield SourceRow(number, [], raw_bytes=raw, problem=problem)
                continue
            if isinstance(item, _Invalid):
                reason = item.message
                if item.parsed:
                    reason = f"is not valid JSON: {reason}"
                problem = FieldProblem(ROW_FIELD, reason)
                yield SourceRow(number, [], raw_bytes=raw, problem=problem)
                continue
            if not isinstance(item, dict):
                problem = FieldProblem(ROW_FIELD, "is not a JSON object")
                yield SourceRow(number, [], raw_bytes=raw, problem=problem)
                continue

            for key in item:
                if key not in known:
                    self._extra[str(key)] = None
            values: list[str] = []
            value_problem: FieldProblem | None = None
            for key in header:
                text = _text_value(item.get(key))
                if text is None:
                    value_problem = FieldProblem(
                        key, "is an object or array; send a string"
                    )
                    text = ""
                elif "\x00" in text:
                    value_problem = NUL_PROBLEM
                    text = ""
                elif not text.isascii() and _has_surrogate(text):
                    value_problem = FieldProblem(key, SURROGATE_MESSAGE)
                    text = ""
                values.append(text)
            yield SourceRow(number, values, raw_bytes=raw, problem=value_problem)


def _has_surrogate(text: str) -> bool:
    """Return whether ``text`` contains a lone surrogate, which UTF-8 cannot encode."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


class _Invalid:
    """A JSON Lines line that does not parse, with the parser's message.

    ``parsed`` is False for a line too long to give to the parser; its
    message is then the whole reason.
    """

    def __init__(self, message: str, parsed: bool = True):
        self.message = message
        self.parsed = parsed


_BAD = object()
_Item = tuple[object, bytes, int | None]


def _prepend(first: list[_Item], rest: Iterator[_Item]) -> Iterator[_Item]:
    yield from first
    yield from rest


def _chain_lines(head: bytes, stream: BinaryIO) -> Iterator[bytes | _LongLine]:
    """Yield the lines of ``head`` and then of ``stream``, joining the split line.

    A line over MAX_JSON_ITEM_CHARS bytes comes as a _LongLine.
    """
    limit = MAX_JSON_ITEM_CHARS
    lines: list[bytes | _LongLine] = list(head.splitlines(keepends=True))
    last = lines[-1] if lines else b"\n"
    if isinstance(last, bytes) and not last.endswith(b"\n"):
        rest = _read_line(stream, limit)
        if isinstance(rest, _LongLine):
            lines[-1] = _LongLine(last + rest.head, len(last) + rest.length)
        elif len(last) + len(rest) > limit:
            lines[-1] = _LongLine(last + rest, len(last) + len(rest))
        else:
            lines[-1] = last + rest
    for line in lines:
        if isinstance(line, bytes) and len(line) > limit:
            yield _LongLine(line[:limit], len(line))
        else:
            yield line
    while line := _read_line(stream, limit):
        yield line


def _chain_chunks(
    head: bytes, stream: BinaryIO, size: int = 1 << 16
) -> Iterator[bytes]:
    if head:
        yield head
    while chunk := stream.read(size):
        yield chunk


_SURROGATE = re.compile("[\udc80-\udcff]")


def _first_bad_offset(text: str, encoding: str) -> int | None:
    match = _SURROGATE.search(text)
    if match is None:
        return None
    return len(text[: match.start()].encode(encoding, "surrogateescape"))


def _array_error(offset: int, what: str) -> FeedError:
    return FeedError(
        f"feed JSON array {what} (byte offset {offset}); the rest of the file cannot "
        "be read, so the whole feed is rejected",
        problems=[FieldProblem("file", f"invalid JSON at byte offset {offset}")],
    )
