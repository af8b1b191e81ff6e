"""The C pass behind the decoder's fast path: what it accepts it turns into NDJSON
exactly, and everything else it declines with a reason.

Expected outputs are written out here or computed with orjson, never by the pass.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vidiframe import _json
from vidiframe._json import ColumnHints, decode_response

rowscan = pytest.importorskip("vidiframe._rowscan")

KEYS = (b"a", b"f", b"s", b"b", b"items")
KINDS = b"ifsbx"
HINTS = ColumnHints(
    text=frozenset({"s"}),
    kinds={"a": "int", "f": "float", "b": "bool"},
    nested=frozenset({"items"}),
)


Scanned = tuple[bytes, int, bytes, int]
WHOLE = 1 << 40  # a limit no test body reaches: one chunk


def scan(data: bytes, limit: int = WHOLE) -> Scanned | str:
    return rowscan.scan(data, KEYS, KINDS, limit)


def scanned(data: bytes, limit: int = WHOLE) -> Scanned:
    result = scan(data, limit)
    assert not isinstance(result, str), result
    return result


def test_rows_become_lines_and_present_keys_are_reported() -> None:
    data = b'{"a":1,"s":"x"},{"a":-2,"b":true,"f":2.5e-3}, {"s":null,"items":null}'
    assert scan(data) == (
        b'{"a":1,"s":"x"}\n{"a":-2,"b":true,"f":2.5e-3}\n {"s":null,"items":null}',
        3,
        bytes([1, 1, 1, 1, 1]),
        len(data),
    )


def test_keys_never_sent_are_reported_absent() -> None:
    assert scan(b'{"a":1}') == (b'{"a":1}', 1, bytes([1, 0, 0, 0, 0]), 7)


def test_line_breaks_inside_rows_become_spaces_and_between_rows_one_newline() -> None:
    data = b'\n  {\n    "a": 1,\r\n    "s": "x"\n  },\n  {"a": 2}\n'
    out, rows, _, _ = scanned(data)
    assert out == b'   {     "a": 1,      "s": "x"   }\n   {"a": 2} '
    assert rows == 2
    assert [orjson.loads(line) for line in out.split(b"\n")] == [{"a": 1, "s": "x"}, {"a": 2}]


def test_an_empty_array_has_no_rows() -> None:
    assert scan(b"  ") == (b"  ", 0, bytes(5), 2)


def test_multibyte_text_is_accepted() -> None:
    data = '{"s":"Zürich — 東京 🚉"}'.encode()
    assert scan(data) == (data, 1, bytes([0, 0, 1, 0, 0]), len(data))


def test_escapes_are_accepted_and_left_for_polars_to_decode() -> None:
    data = rb'{"s":"a\"b\\c\/d\n\u00e9\ud83d\ude89"}'
    assert scan(data) == (data, 1, bytes([0, 0, 1, 0, 0]), len(data))
    raw = decode_response(b'{"state":"finished","data":[' + data + b"]}", hints=HINTS).rows
    assert raw is not None
    assert raw["s"].to_list() == ['a"b\\c/d\né🚉']


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'{"a":1,"zz":2}', "unknown key at byte 8"),
        (b'{"a":1,"a":2}', "duplicate key"),
        (b'{"s":"\\x"}', "invalid escape"),
        (b'{"s":"\\u12G4"}', "invalid \\u escape"),
        (b'{"s":"\\ud800"}', "lone surrogate escape"),
        (b'{"s":"\\ud800\\u0041"}', "lone surrogate escape"),
        (b'{"s":"\\udc00"}', "lone surrogate escape"),
        (b'{"s":"\\', "unterminated string"),
        (b'{"s":"x\ty"}', "control character in a string"),
        (b'{"s":"\xff"}', "invalid UTF-8 in a string"),
        (b'{"s":"\xed\xa0\x80"}', "invalid UTF-8 in a string"),
        (b'{"s":"\xc0\xaf"}', "invalid UTF-8 in a string"),
        (b'{"a":"1"}', "text where the field expects another kind"),
        (b'{"a":1.5}', "fraction or exponent in an integer field"),
        (b'{"a":1e3}', "fraction or exponent in an integer field"),
        (b'{"s":1}', "number where the field expects another kind"),
        (b'{"a":true}', "boolean where the field expects another kind"),
        (b'{"items":[1]}', "nested value"),
        (b'{"f":{"x":1}}', "nested value"),
        (b'{"a":01}', "expected ',' or '}'"),
        (b'{"a":-}', "invalid number"),
        (b'{"f":1.}', "invalid number"),
        (b'{"f":1e+}', "invalid number"),
        (b'{"f":NaN}', "invalid value"),
        (b'{"a":nul}', "invalid literal"),
        (b'{"a":1},', "trailing comma"),
        (b"[1]", "a row that is not an object"),
        (b'{"a":1}{"a":2}', "expected ',' between rows"),
        (b'{"a":1,}', "expected a key"),
        (b'{"a" 1}', "expected ':'"),
        (b'{"a":1', "unterminated row"),
        (b'{"s":"abc', "unterminated string"),
    ],
)
def test_what_the_pass_cannot_prove_is_declined_with_its_reason(data: bytes, reason: str) -> None:
    declined = scan(data)
    assert isinstance(declined, str)
    assert declined.startswith(reason)
    assert declined.endswith("of the chunk")


# -- chunks ----------------------------------------------------------------------------------


def chunks(data: bytes, limit: int) -> list[Scanned]:
    out = []
    while True:
        result = scanned(data, limit)
        out.append(result)
        if result[3] == len(data):
            return out
        data = data[result[3] :]


def test_a_chunk_ends_before_the_first_row_starting_past_the_limit() -> None:
    data = b'{"a":1},{"a":2},  {"a":3, "s":"x"}'
    assert scan(data, 1) == (b'{"a":1}', 1, bytes([1, 0, 0, 0, 0]), 8)
    assert scan(data, 9) == (b'{"a":1}\n{"a":2}', 2, bytes([1, 0, 0, 0, 0]), 18)
    assert scan(data[18:], 1) == (b'{"a":3, "s":"x"}', 1, bytes([1, 0, 1, 0, 0]), 16)


def test_a_trailing_comma_at_a_chunk_boundary_is_declined() -> None:
    assert scan(b'{"a":1} , ', 1) == "trailing comma at byte 10 of the chunk"


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(
        st.fixed_dictionaries({"a": st.integers(0, 10**6)}, optional={"s": st.text(max_size=20)}),
        min_size=1,
        max_size=40,
    ),
    limit=st.integers(1, 300),
    indent=st.sampled_from([None, 1]),
)
def test_chunks_joined_by_newlines_are_the_one_chunk_ndjson(
    rows: list[dict[str, Any]], limit: int, indent: int | None
) -> None:
    data = json.dumps(rows, indent=indent, ensure_ascii=False).encode().strip()[1:-1]
    whole, count, seen, _ = scanned(data)
    pieces = chunks(data, limit)
    lines = [line.strip() for piece in pieces for line in piece[0].split(b"\n")]
    assert lines == [line.strip() for line in whole.split(b"\n")]
    assert sum(piece[1] for piece in pieces) == count == len(rows)
    assert bytes(max(flags) for flags in zip(*(piece[2] for piece in pieces), strict=True)) == seen


def read_in_chunks(body: bytes, chunk_bytes: int) -> pl.DataFrame:
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(_json, "_CHUNK_BYTES", chunk_bytes)
        raw = decode_response(body, hints=HINTS)
    assert raw.rows is not None
    return raw.rows


def test_a_field_first_sent_in_a_later_chunk_is_null_before_it() -> None:
    rows = [{"a": i} for i in range(50)] + [{"a": 50, "s": "late", "f": 0.5}]
    frame = read_in_chunks(orjson.dumps({"state": "finished", "data": rows}), 64)
    assert frame["a"].to_list() == list(range(51))
    assert frame["s"].to_list() == [None] * 50 + ["late"]
    assert frame["f"].to_list() == [None] * 50 + [0.5]
    assert frame.n_chunks() == 1


def test_a_decline_in_a_later_chunk_sends_the_whole_body_to_the_general_path() -> None:
    rows = [{"a": i} for i in range(50)] + [{"a": 50, "zz": "unknown"}]
    frame = read_in_chunks(orjson.dumps({"state": "finished", "data": rows}), 64)
    assert frame["a"].to_list() == list(range(51))
    assert frame["zz"].to_list() == [None] * 50 + ["unknown"]


# -- properties ------------------------------------------------------------------------------

TEXT = st.text(st.characters(codec="utf-8"), max_size=12)
ROWS = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "a": st.none() | st.integers(-(2**63), 2**63 - 1),
            "f": st.none()
            | st.floats(allow_nan=False, allow_infinity=False)
            | st.integers(-(10**15), 10**15),
            "s": st.none() | TEXT,
            "b": st.none() | st.booleans(),
            "items": st.none(),
        },
    ),
    max_size=30,
)
LAYOUTS = st.sampled_from(
    [
        orjson.dumps,
        lambda rows: json.dumps(rows, ensure_ascii=False).encode(),
        lambda rows: json.dumps(rows).encode(),
        lambda rows: json.dumps(rows, indent=2, ensure_ascii=False).encode(),
    ]
)


@settings(max_examples=200, deadline=None)
@given(rows=ROWS, dumps=LAYOUTS)
def test_accepted_rows_are_the_rows_line_by_line(rows: list[dict[str, Any]], dumps: Any) -> None:
    data = dumps(rows).strip()[1:-1]
    out, count, seen, consumed = scanned(data)
    assert consumed == len(data)
    assert count == len(rows)
    lines = out.split(b"\n") if rows else []
    assert [orjson.loads(line) for line in lines] == rows
    assert seen == bytes(any(k.decode() in row for row in rows) for k in KEYS)


@settings(max_examples=100, deadline=None)
@given(
    rows=ROWS,
    extra=st.sampled_from(
        [
            {"zz": 1},
            {"a": 1.5},
            {"a": "7"},
            {"items": [{"x": 1}]},
        ]
    ),
)
def test_rows_outside_the_shape_are_declined(rows: list[dict[str, Any]], extra: Any) -> None:
    rows = [*rows, {**(rows[-1] if rows else {}), **extra}]
    assert isinstance(scan(orjson.dumps(rows)[1:-1]), str)


def read(body: bytes, *, fast: bool, monkeypatch: pytest.MonkeyPatch) -> pl.DataFrame:
    with monkeypatch.context() as patch:
        if not fast:
            patch.setattr(_json, "_rowscan", None)
        raw = decode_response(body, hints=HINTS)
    assert raw.rows is not None
    return raw.rows


@settings(max_examples=100, deadline=None)
@given(rows=ROWS.filter(bool))
def test_the_fast_path_reads_what_the_general_path_reads(rows: list[dict[str, Any]]) -> None:
    body = orjson.dumps({"state": "finished", "data": rows})
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast = read(body, fast=True, monkeypatch=monkeypatch)
        general = read(body, fast=False, monkeypatch=monkeypatch)
    sent = {key for row in rows for key in row}
    assert fast.height == general.height == len(rows)
    # The general path also keeps the declared text columns the body never sends.
    assert set(fast.columns) == sent <= set(general.columns)
    for name in sent:
        expected = [row.get(name) for row in rows]
        if name == "f":
            expected = [None if v is None else float(v) for v in expected]
        assert fast[name].to_list() == expected
        assert general[name].to_list() == expected


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.floats(allow_nan=False, allow_infinity=False).map(repr)
        | st.decimals(allow_nan=False, allow_infinity=False, places=25).map(str)
        | st.from_regex(r"\A-?(0|[1-9][0-9]{0,30})(\.[0-9]{1,30})?([eE][+-]?[0-9]{1,2})?\Z"),
        min_size=1,
        max_size=10,
    )
)
def test_numbers_are_read_to_the_nearest_double(texts: list[str]) -> None:
    body = (
        b'{"state":"finished","data":['
        + b",".join(b'{"f":' + t.encode() + b"}" for t in texts)
        + b"]}"
    )
    raw = decode_response(body, hints=HINTS)
    assert raw.rows is not None
    assert raw.rows["f"].to_list() == [float(t) for t in texts]


def test_the_reason_for_the_general_path_is_logged_at_debug_level(
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = b'{"state":"finished","data":[{"a":1},{"a":2,"zz":"secret value"}]}'
    with caplog.at_level("DEBUG", logger="vidiframe"):
        rows = decode_response(body, hints=HINTS).rows
    assert rows is not None
    assert rows["zz"].to_list() == [None, "secret value"]
    assert [r.getMessage() for r in caplog.records] == [
        "reading the rows on the general path: unknown key at byte 16 of the chunk"
    ]
