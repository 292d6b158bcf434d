"""Reading feed files: delimiters, byte-order marks, bad bytes, JSON shapes."""

from __future__ import annotations

import io

import pytest

from john.errors import FeedError
from john.records import feeds
from john.records.feeds import (
    MAX_LINE_BYTES,
    check_encoding,
    detect_format,
    open_reader,
)


def read_csv(data: bytes, encoding: str = "utf-8"):
    reader = open_reader(io.BytesIO(data), "csv", encoding)
    return reader, list(reader.rows())


@pytest.mark.parametrize("delimiter", [",", ";", "|", "\t"])
def test_csv_delimiter_is_sniffed(delimiter: str) -> None:
    data = delimiter.join(["a", "b", "c"]) + "\n" + delimiter.join("123") + "\n"
    reader, rows = read_csv(data.encode())
    assert reader.delimiter == delimiter
    assert reader.header == ["a", "b", "c"]
    assert rows[0].values == ["1", "2", "3"]


def test_csv_delimiter_prefers_consistent_split() -> None:
    data = b"a;b;c\n1,5;2;3\n4,5;6;7\n"
    reader, rows = read_csv(data)
    assert reader.delimiter == ";"
    assert rows[0].values == ["1,5", "2", "3"]


def test_csv_unknown_delimiter_rejected() -> None:
    with pytest.raises(FeedError) as raised:
        read_csv(b"a:b:c\n1:2:3\n")
    assert "none of comma, semicolon, pipe or tab" in raised.value.detail
    assert raised.value.problems[0].field == "header"


def test_csv_byte_order_mark_stripped() -> None:
    reader, rows = read_csv(b"\xef\xbb\xbfa,b\n1,2\n")
    assert reader.header == ["a", "b"]
    assert rows[0].values == ["1", "2"]


def test_csv_quoted_newline_kept() -> None:
    reader, rows = read_csv(b'a,b\n"line one\nline two",2\n3,4\n')
    assert rows[0].values == ["line one\nline two", "2"]
    assert rows[1].number == 2
    assert rows[1].values == ["3", "4"]


def test_csv_short_row_flagged() -> None:
    _, rows = read_csv(b"a,b,c\n1,2\n")
    assert rows[0].problem is not None
    assert rows[0].problem.field == "row"
    assert rows[0].problem.message == "has 2 fields but the header has 3"
    assert rows[0].raw_bytes == b"1,2\n"


def test_csv_long_row_flagged() -> None:
    _, rows = read_csv(b"a,b\n1,2,3\n")
    assert rows[0].problem is not None
    assert rows[0].problem.message == "has 3 fields but the header has 2"


def test_csv_blank_lines_skipped() -> None:
    _, rows = read_csv(b"a,b\n1,2\n\n3,4\n")
    assert [row.number for row in rows] == [1, 2]


def test_csv_bad_byte_names_offset() -> None:
    data = b"a,b\n1,2\nx\xff,3\n4,5\n"
    _, rows = read_csv(data)
    assert rows[0].problem is None
    assert rows[1].problem is not None
    assert "byte offset 9" in rows[1].problem.message
    assert data[9] == 0xFF
    assert rows[2].values == ["4", "5"]


def test_csv_bad_byte_offset_counts_bom() -> None:
    data = b"\xef\xbb\xbfa,b\n\xe9,2\n"
    _, rows = read_csv(data)
    assert rows[0].problem is not None
    assert "byte offset 7" in rows[0].problem.message
    assert data[7] == 0xE9


def test_csv_cp1252_encoding_decodes() -> None:
    _, rows = read_csv("a,b\nJosé,2\n".encode("cp1252"), encoding="cp1252")
    assert rows[0].problem is None
    assert rows[0].values == ["José", "2"]


def test_csv_nul_byte_flagged() -> None:
    _, rows = read_csv(b"a,b\n1\x00,2\n")
    assert rows[0].problem is not None
    assert rows[0].problem.message == "contains a NUL character"


def test_csv_empty_file_rejected() -> None:
    with pytest.raises(FeedError) as raised:
        read_csv(b"")
    assert "empty" in raised.value.detail


def test_csv_whitespace_file_rejected() -> None:
    with pytest.raises(FeedError):
        read_csv(b"\n\n  \n")


def test_csv_header_only_has_no_rows() -> None:
    reader, rows = read_csv(b"a,b,c\n")
    assert reader.header == ["a", "b", "c"]
    assert rows == []


def test_json_array_read() -> None:
    data = b'[{"a": "1", "b": 2}, {"a": null, "b": true}]'
    reader = open_reader(io.BytesIO(data), "json", "utf-8")
    rows = list(reader.rows())
    assert reader.header == ["a", "b"]
    assert rows[0].values == ["1", "2"]
    assert rows[1].values == ["", "true"]


def test_json_array_spans_chunks() -> None:
    items = ",".join(f'{{"a": "{i}", "b": "{"x" * 50}"}}' for i in range(5000))
    reader = open_reader(io.BytesIO(f"[{items}]".encode()), "json", "utf-8")
    rows = list(reader.rows())
    assert len(rows) == 5000
    assert rows[-1].values[0] == "4999"


def test_json_lines_read() -> None:
    data = b'{"a": "1"}\n\n{"a": "2", "z": "9"}\n'
    reader = open_reader(io.BytesIO(data), "json", "utf-8")
    rows = list(reader.rows())
    assert [row.values for row in rows] == [["1"], ["2"]]
    assert reader.extra_keys == ["z"]


def test_json_lines_bad_line_flagged() -> None:
    data = b'{"a": "1"}\n{"a": \n{"a": "3"}\n'
    rows = list(open_reader(io.BytesIO(data), "json", "utf-8").rows())
    assert rows[1].problem is not None
    assert rows[1].problem.message.startswith("is not valid JSON")
    assert rows[2].values == ["3"]


def test_json_bad_byte_names_offset() -> None:
    data = b'[{"a": "1"}, {"a": "\xff"}]'
    rows = list(open_reader(io.BytesIO(data), "json", "utf-8").rows())
    assert rows[1].problem is not None
    assert "byte offset 20" in rows[1].problem.message
    assert data[20] == 0xFF


def test_json_nested_value_flagged() -> None:
    data = b'[{"a": "1"}, {"a": {"b": 1}}]'
    rows = list(open_reader(io.BytesIO(data), "json", "utf-8").rows())
    assert rows[1].problem is not None
    assert rows[1].problem.field == "a"


def test_json_non_object_flagged() -> None:
    rows = list(open_reader(io.BytesIO(b'[{"a": "1"}, 5]'), "json", "utf-8").rows())
    assert rows[1].problem is not None
    assert rows[1].problem.message == "is not a JSON object"


def test_json_broken_array_rejected() -> None:
    reader = open_reader(io.BytesIO(b'[{"a": "1"}, {"a": '), "json", "utf-8")
    with pytest.raises(FeedError) as raised:
        list(reader.rows())
    assert "byte offset" in raised.value.detail


def test_json_empty_array_rejected() -> None:
    with pytest.raises(FeedError) as raised:
        open_reader(io.BytesIO(b"[]"), "json", "utf-8")
    assert "no JSON object" in raised.value.detail


@pytest.mark.parametrize(
    ("head", "filename", "expected"),
    [
        (b"a,b\n", "feed.csv", "csv"),
        (b"[{}]", "feed.json", "json"),
        (b"{}\n", "feed.jsonl", "json"),
        (b"[{}]", None, "json"),
        (b"\xef\xbb\xbf {}", None, "json"),
        (b"a;b\n", None, "csv"),
    ],
)
def test_format_detected(head: bytes, filename: str | None, expected: str) -> None:
    assert detect_format(head, filename) == expected


@pytest.mark.parametrize("encoding", ["utf-16", "utf-7"])
def test_encoding_not_ascii_rejected(encoding: str) -> None:
    # UTF-7 keeps letters as they are but reads "+" as the start of an
    # encoded run, which can decode to a lone surrogate.
    with pytest.raises(FeedError) as raised:
        check_encoding(encoding)
    assert "not ASCII-compatible" in raised.value.detail


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252", "latin-1"])
def test_ascii_compatible_encoding_kept(encoding: str) -> None:
    assert check_encoding(encoding)


def test_unknown_encoding_rejected() -> None:
    with pytest.raises(FeedError):
        check_encoding("no-such-codec")


def test_csv_bare_carriage_returns_rejected() -> None:
    with pytest.raises(FeedError) as raised:
        read_csv(b"a,b\r1,2\r3,4\r")
    assert "bare carriage return" in raised.value.detail


def test_csv_crlf_lines_read() -> None:
    _, rows = read_csv(b"a,b\r\n1,2\r\n")
    assert rows[0].values == ["1", "2"]


def test_csv_long_line_quarantined() -> None:
    long_line = b"2," + b"x" * (3 * MAX_LINE_BYTES) + b"\n"
    reader, rows = read_csv(b"a,b\n1,one\n" + long_line + b"3,three\n")
    assert [row.number for row in rows] == [1, 2, 3]
    assert rows[0].values == ["1", "one"]
    assert rows[2].values == ["3", "three"]
    assert rows[1].values == []
    assert rows[1].problem is not None
    assert rows[1].problem.field == "row"
    assert f"line of {len(long_line)} bytes" in rows[1].problem.message
    assert rows[1].raw_bytes is not None
    assert len(rows[1].raw_bytes) == MAX_LINE_BYTES
    assert reader.bytes_read == 4 + 6 + len(long_line) + 8


def test_csv_long_header_rejected() -> None:
    with pytest.raises(FeedError) as raised:
        read_csv(b"a," * MAX_LINE_BYTES + b"\n1,2\n")
    assert "over the limit" in raised.value.detail


def test_csv_long_bare_carriage_return_file_rejected() -> None:
    with pytest.raises(FeedError) as raised:
        read_csv(b"a,b\r" + b"1,2\r" * MAX_LINE_BYTES)
    assert "bare carriage return" in raised.value.detail


@pytest.mark.parametrize("filler", [0, 8000], ids=["in-head", "in-stream"])
def test_json_lines_long_line_quarantined(
    monkeypatch: pytest.MonkeyPatch, filler: int
) -> None:
    # The reader reads the first 64 KiB at once; 8,000 short lines push the
    # long line past them.
    monkeypatch.setattr(feeds, "MAX_JSON_ITEM_CHARS", 1000)
    long_line = b'{"a": "' + b"x" * 5000 + b'"}\n'
    data = b'{"a": "1"}\n' * (filler + 1) + long_line + b'{"a": "3"}\n'
    reader = open_reader(io.BytesIO(data), "json", "utf-8")
    rows = list(reader.rows())
    assert [row.values for row in rows] == [["1"]] * (filler + 1) + [[], ["3"]]
    problem = rows[filler + 1].problem
    assert problem is not None
    assert problem.message.startswith(f"is a line of {len(long_line)} bytes")
    assert reader.bytes_read == len(data)
