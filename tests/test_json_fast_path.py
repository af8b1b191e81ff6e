"""The decoder's fast path (pyarrow's strict reader): what it accepts it reads exactly,
and every body outside its shape goes to the general path.

The successor of the C pass's tests. Expected values are the rows themselves (or
Python's own parse), never the decoder's.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from typing import Any

import orjson
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vidiframe as vf
from vidiframe import _json
from vidiframe._errors import ResponseFormatError, SchemaError
from vidiframe._frame import column_hints
from vidiframe._json import ColumnHints, decode_response
from vidiframe.testing.strategies import export_payloads

FAST_HINTS = ColumnHints(
    text=frozenset({"s"}),
    kinds={"a": "int", "f": "float", "b": "bool"},
    nested=frozenset({"items"}),
)
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
FAST_ROWS = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "a": st.none() | st.integers(-(2**63), 2**63 - 1),
            # -0.0 + 0.0 is 0.0: a negative zero leaves the fast path
            # (test_json_fast_path_review), these rows stay on it.
            "f": st.none()
            | st.floats(allow_nan=False, allow_infinity=False).map(lambda x: x + 0.0),
            "s": st.none() | TEXT,
            "b": st.none() | st.booleans(),
            "items": st.none(),
        },
    ),
    min_size=1,
    max_size=30,
)


def fast_read(body: bytes, hints: ColumnHints = FAST_HINTS) -> Any:
    located = _json._locate_data(body)
    assert located is not None
    _, start, stop = located
    return _json._read_fast(body, start, stop, hints)


def columns_of(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    sent = {key for row in rows for key in row}
    return {name: [row.get(name) for row in rows] for name in sorted(sent)}


@settings(max_examples=150, deadline=None)
@given(rows=FAST_ROWS, dumps=st.sampled_from([orjson.dumps, lambda d: json.dumps(d).encode()]))
def test_compact_rows_of_declared_kinds_take_the_fast_path_exactly(
    rows: list[dict[str, Any]], dumps: Any
) -> None:
    body = dumps({"state": "finished", "data": rows})
    frame = fast_read(body)
    assert frame is not None
    # A field sent only as null after the first row cannot be told from one never
    # sent: absent (the reader gives it nulls either way).
    expected = {
        k: v for k, v in columns_of(rows).items() if k in rows[0] or any(x is not None for x in v)
    }
    assert {name: frame[name].to_list() for name in frame.columns} == expected


@settings(max_examples=150, deadline=None)
@given(rows=FAST_ROWS)
def test_the_fast_path_and_the_general_path_give_the_same_rows(rows: list[dict[str, Any]]) -> None:
    body = orjson.dumps({"state": "finished", "data": rows})
    fast = decode_response(body, hints=FAST_HINTS).rows
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(_json, "_read_fast", lambda *_: None)
        general = decode_response(body, hints=FAST_HINTS).rows
    assert fast is not None
    assert general is not None
    for name, values in columns_of(rows).items():
        if any(v is not None for v in values):
            assert fast[name].to_list() == values
        assert general[name].to_list() == values


@settings(max_examples=100, deadline=None)
@given(
    rows=FAST_ROWS,
    extra=st.sampled_from(
        [
            {"zz_later": 1},
            {"a": 1.5},
            {"a": "7"},
            {"a": True},
            {"f": True},
            {"s": 5},
            {"b": 1},
            {"items": [{"x": 1}]},
            {"a": 2**63},
        ]
    ),
)
def test_rows_outside_the_declared_shape_leave_the_fast_path(
    rows: list[dict[str, Any]], extra: dict[str, Any]
) -> None:
    rows = [*rows, {**rows[-1], **extra}]
    body = json.dumps({"state": "finished", "data": rows}, separators=(",", ":")).encode()
    assert fast_read(body) is None


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
def test_numbers_are_read_to_the_nearest_double_on_the_fast_path(texts: list[str]) -> None:
    body = (
        b'{"state":"finished","data":['
        + b",".join(b'{"f":' + t.encode() + b"}" for t in texts)
        + b"]}"
    )
    frame = fast_read(body)
    doubles = [float(t) for t in texts]
    if any(d == 0 and math.copysign(1, d) < 0 for d in doubles):
        # pyarrow reads the integer -0 as -0.0 and the general path as 0.0: a
        # negative zero leaves the fast path (test_json_fast_path_review).
        assert frame is None
        return
    assert frame is not None
    assert frame["f"].to_list() == doubles


def test_unknown_fields_of_the_first_row_stay_on_the_fast_path() -> None:
    rows = [{"a": 1, "zz_n": 5, "zz_t": "x", "zz_b": True}, {"a": 2, "zz_n": None, "zz_t": "y"}]
    frame = fast_read(orjson.dumps({"state": "finished", "data": rows}))
    assert frame is not None
    assert frame.to_dicts() == [
        {"a": 1, "zz_n": 5, "zz_t": "x", "zz_b": True},
        {"a": 2, "zz_n": None, "zz_t": "y", "zz_b": None},
    ]


def test_an_unknown_field_first_sent_as_a_float_stays_on_the_fast_path() -> None:
    rows = [
        {"a": 1, "zz": 0.5},
        {"a": 2, "zz": 3},
        {"a": 3, "zz": None},
        {"a": 4, "zz": -(2.0**52)},
    ]
    frame = fast_read(orjson.dumps({"state": "finished", "data": rows}))
    assert frame is not None
    assert frame["zz"].dtype == pl.Float64
    assert frame["zz"].to_list() == [0.5, 3.0, None, -(2.0**52)]


@pytest.mark.parametrize("big", [2**53, -(2**53) - 1, 2**63 - 1, 1e300])
def test_an_unknown_float_field_with_a_value_beyond_2_to_the_53_leaves_the_fast_path(
    big: float,
) -> None:
    rows = [{"a": 1, "zz": 0.5}, {"a": 2, "zz": big}]
    assert fast_read(orjson.dumps({"state": "finished", "data": rows})) is None


@settings(max_examples=200, deadline=None)
@given(
    first=st.floats(allow_nan=False, allow_infinity=False),
    later=st.lists(
        st.none()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.integers(-(2**63), 2**63 - 1)
        | st.integers(-(2**54), 2**54),
        max_size=8,
    ),
)
def test_an_unknown_float_field_reads_as_on_the_general_path(
    first: float, later: list[float | int | None]
) -> None:
    rows = [{"a": 1, "zz": first}] + [{"a": 2, "zz": value} for value in later]
    body = orjson.dumps({"state": "finished", "data": rows})

    def read() -> Any:
        try:
            raw = decode_response(body, hints=FAST_HINTS).rows
        except SchemaError as error:
            return str(error)
        assert raw is not None
        return raw["zz"].to_list()

    fast = read()
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(_json, "_read_fast", lambda *_: None)
        general = read()
    assert fast == general
    if isinstance(general, list):
        # Every value as sent: integers only where a double holds them exactly.
        assert all(read == sent for read, sent in zip(general, [first, *later], strict=True))


@pytest.mark.parametrize(
    "rows",
    [
        [{"a": 1}, {"a": 2, "zz": 1}],  # first sent in a later row
        [{"a": 1, "zz": [1]}],
    ],
)
def test_other_unknown_fields_take_the_general_path(rows: list[dict[str, Any]]) -> None:
    assert fast_read(orjson.dumps({"state": "finished", "data": rows})) is None


def test_the_reason_for_the_general_path_is_logged_without_values(
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = b'{"state":"finished","data":[{"a":1},{"a":2,"zz":"secret value"}]}'
    with caplog.at_level("DEBUG", logger="vidiframe"):
        rows = decode_response(body, hints=FAST_HINTS).rows
    assert rows is not None
    assert rows["zz"].to_list() == [None, "secret value"]
    messages = [r.getMessage() for r in caplog.records]
    assert messages
    assert all(m.startswith("reading the rows on the general path: ") for m in messages)
    assert not any("secret" in m for m in messages)


def test_a_known_field_sent_as_text_throughout_stays_on_the_fast_path() -> None:
    # SPEC quirk 3: ids sent as "123"; the typing casts them.
    rows = [{"a": "123", "f": 1}, {"a": "124", "f": 2.5}]
    frame = fast_read(orjson.dumps({"state": "finished", "data": rows}))
    assert frame is not None
    assert frame.to_dicts() == [{"a": "123", "f": 1.0}, {"a": "124", "f": 2.5}]


def test_a_known_field_changing_kind_between_rows_leaves_the_fast_path() -> None:
    rows = [{"a": "123"}, {"a": 124}]
    assert fast_read(orjson.dumps({"state": "finished", "data": rows})) is None
    raw = decode_response(orjson.dumps({"state": "finished", "data": rows}), hints=FAST_HINTS)
    assert raw.rows is not None
    assert raw.rows["a"].to_list() == ["123", "124"]


def test_a_value_pyarrow_names_is_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    body = b'{"state":"finished","data":[{"a":1},{"a":123.456789}]}'
    with caplog.at_level("DEBUG", logger="vidiframe"):
        rows = decode_response(body, hints=FAST_HINTS).rows
    assert rows is not None
    assert rows["a"].to_list() == [1.0, 123.456789]
    assert caplog.records
    assert not any("123.456789" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("separator", [b"},{", b"}, {"])
def test_top_level_keys_holding_the_row_separator_stay_on_the_fast_path(separator: bytes) -> None:
    # Only the array's contents are rewritten: a separator in a key around it is kept as sent.
    text = "x" + separator.decode() + "y"
    rows = [{"a": 1, "s": "p"}, {"a": 2, "s": None}]
    sep = b", " if b" " in separator else b","
    body = (
        b'{"fail_reason":'
        + orjson.dumps(text)
        + sep
        + b'"state":"finished"'
        + sep
        + b'"data":['
        + b"{"
        + separator.join(orjson.dumps(r)[1:-1] for r in rows)
        + b"}"
        + b"]"
        + sep
        + b'"note":'
        + orjson.dumps(text)
        + b"}"
    )
    assert json.loads(body)["data"] == rows
    frame = fast_read(body)
    assert frame is not None
    assert frame.to_dicts() == rows
    raw = decode_response(body, hints=FAST_HINTS)
    assert dict(raw.meta) == {"fail_reason": text, "state": "finished", "note": text}


SEPARATOR_TEXT = st.sampled_from(["},{", "}, {", '"},{"a":1}', "}{", "x"]) | TEXT


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(
        st.fixed_dictionaries(
            {"a": st.none() | st.integers(-(2**63), 2**63 - 1)},
            optional={"s": st.none() | SEPARATOR_TEXT, "f": st.floats(-1e3, 1e3)},
        ),
        min_size=1,
        max_size=40,
    ),
    piece=st.integers(1, 200),
    dumps=st.sampled_from([orjson.dumps, lambda d: json.dumps(d).encode()]),
)
def test_rows_read_in_pieces_are_the_rows_sent(
    rows: list[dict[str, Any]], piece: int, dumps: Any
) -> None:
    # Small pieces cut the rows at separators, some of them inside a text: such a
    # cut row reads nowhere, and the body takes the general path.
    body = dumps({"state": "finished", "data": rows})
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(_json, "_PIECE", piece)
        frame = fast_read(body)
        raw = decode_response(body, hints=FAST_HINTS).rows
    assert raw is not None
    # A field sent only as null after the first row may be absent (see above).
    expected = {
        k: v for k, v in columns_of(rows).items() if k in rows[0] or any(x is not None for x in v)
    }
    if frame is not None:
        assert {name: frame[name].to_list() for name in frame.columns} == expected
    assert {name: raw[name].to_list() for name in expected} == expected


def test_pieces_cut_at_separators_only() -> None:
    body = b'[{"a":1},{"s":"},{"},{"a":3}]'
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(_json, "_PIECE", 1)
        pieces = [body[a:b] for a, b in _json._pieces(body, 1, len(body) - 1, b"},{")]
    assert pieces == [b'{"a":1}', b'{"s":"}', b'{"}', b'{"a":3}']


def test_a_known_field_first_sent_in_a_later_row_is_read_on_the_fast_path() -> None:
    # Fields the first row does not send are declared null, then typed on a second read.
    rows = [
        {"a": 1},
        {"a": 2, "f": 2.5, "b": True, "s": "x"},
        {"a": None, "f": None, "b": None, "s": None},
    ]
    frame = fast_read(orjson.dumps({"state": "finished", "data": rows}))
    assert frame is not None
    assert frame.to_dicts() == [{"a": 1, "f": None, "b": None, "s": None}, rows[1], rows[2]]


def test_a_known_field_only_ever_sent_as_null_later_stays_absent() -> None:
    rows = [{"a": 1}, {"a": 2, "f": None}]
    frame = fast_read(orjson.dumps({"state": "finished", "data": rows}))
    assert frame is not None
    assert frame.to_dicts() == [{"a": 1}, {"a": 2}]


def test_many_pieces_read_side_by_side_keep_the_rows_in_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows = [{"a": i, "f": i / 4, "s": f"row {i}", "b": i % 3 == 0} for i in range(500)]
    rows[400] = {"a": None, "f": None, "s": None, "b": None}
    monkeypatch.setattr(_json, "_PIECE", 64)
    body = orjson.dumps({"state": "finished", "data": rows})
    assert len(_json._pieces(body, 28, len(body) - 2, b"},{")) > 100
    frame = fast_read(body)
    assert frame is not None
    assert frame.to_dicts() == rows


@pytest.mark.parametrize("extra", [{"zz": 7}, {"a": 1.5}, {"f": True}, {"s": 5}])
def test_one_piece_outside_the_declared_shape_sends_the_whole_body_to_the_general_path(
    monkeypatch: pytest.MonkeyPatch, extra: dict[str, Any]
) -> None:
    rows: list[dict[str, Any]] = [{"a": i, "f": 0.5, "s": "x"} for i in range(300)]
    rows[290] = {**rows[290], **extra}
    monkeypatch.setattr(_json, "_PIECE", 64)
    body = orjson.dumps({"state": "finished", "data": rows})
    assert fast_read(body) is None
    raw = decode_response(body, hints=FAST_HINTS).rows
    monkeypatch.setattr(_json, "_read_fast", lambda *_: None)
    general = decode_response(body, hints=FAST_HINTS).rows
    assert raw is not None
    assert general is not None
    assert raw.equals(general)
    name = next(iter(extra))
    assert raw[name][290] in (extra[name], json.dumps(extra[name]))


def test_a_piece_longer_than_a_block_takes_the_general_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # pyarrow's block size is 32 bits: a row of 2 GiB cannot be one piece.
    rows = [{"a": 1, "s": "x" * 40}, {"a": 2, "s": "y"}]
    body = orjson.dumps({"state": "finished", "data": rows})
    monkeypatch.setattr(_json, "_MAX_BLOCK", 40)
    assert fast_read(body) is None
    raw = decode_response(body, hints=FAST_HINTS).rows
    assert raw is not None
    assert raw.to_dicts() == rows


# -- pretty-printed bodies --------------------------------------------------------------------


def no_general_path(*_: Any) -> Any:
    raise AssertionError("the general path was taken")


@settings(max_examples=100, deadline=None)
@given(
    rows=FAST_ROWS, indent=st.sampled_from([0, 2, "\t"]), newline=st.sampled_from(["\n", "\r\n"])
)
def test_a_pretty_printed_body_is_read_on_the_fast_path_exactly(
    rows: list[dict[str, Any]], indent: int | str, newline: str
) -> None:
    body = json.dumps({"state": "finished", "data": rows}, indent=indent).replace("\n", newline)
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(_json, "_decode_exact", no_general_path)
        raw = decode_response(body.encode(), hints=FAST_HINTS)
    assert raw.meta == {"state": "finished"}
    assert raw.rows is not None
    for name, values in columns_of(rows).items():
        if name in rows[0] or any(v is not None for v in values):
            assert raw.rows[name].to_list() == values


def test_a_pretty_printed_body_outside_the_shape_is_read_from_the_body_as_sent() -> None:
    # An integer beyond Int64 leaves the fast path; the general path names it.
    rows = [{"a": 1, "f": 0.5}, {"a": 2**64, "f": 1.5}]
    body = json.dumps({"state": "finished", "data": rows}, indent=2).encode()
    with pytest.raises(SchemaError, match=r"'a'.*does not fit a 64-bit integer") as caught:
        decode_response(body, hints=FAST_HINTS)
    assert caught.value.row == 1


def test_an_error_in_a_pretty_printed_body_is_placed_in_the_body_as_sent() -> None:
    body = b'{\n  "state": "finished",\n  "data": [\n    {"a": 1},\n    {"a": 01}\n  ]\n}'
    with pytest.raises(ResponseFormatError) as caught:
        decode_response(body, hints=FAST_HINTS)
    assert caught.value.position == body.index(b"01")


def test_reading_a_body_imports_no_pandas() -> None:
    # pyarrow's pa.array() imports pandas on its first call where it is installed:
    # a quarter of a second on a user's first read, for nothing.
    pytest.importorskip("pandas")
    code = (
        "import sys, vidiframe as vf, vidiframe.testing\n"
        "body = vf.testing.response_body('viewers', 'finest', start='2025-03-01T00:00:00',"
        " end='2025-03-01T23:59:59', locations=[1, 2], seed=1)\n"
        "frame = vf.read_vidicenter(body, data_type='viewers', time_resolution='finest')\n"
        "assert frame.height > 0\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'pandas'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "[]"


# -- lists of objects (viewers_apc's contents) ------------------------------------------------

CONTENT_VALUES = (
    st.none()
    | st.integers(-5, 5)
    | st.text(max_size=3)
    | st.booleans()
    | st.floats(-1, 1)
    | st.just([])
)
CONTENT = st.dictionaries(
    st.sampled_from(
        [
            "content_id",
            "campaign_id",
            "app_id",
            "dwell_time",
            "dwell_time_in_milliseconds",
            "happy_time",
            "zz_unknown",
        ]
    ),
    CONTENT_VALUES,
    max_size=4,
)
CONTENTS = st.none() | st.lists(st.none() | CONTENT, max_size=3)


def both_paths(body: bytes, data_type: str) -> tuple[Any, Any]:
    """The typed frame's rows (or the error), fast path then general.

    A nested typing error is compared by its type and column: the sub-field it
    names is the one Polars' parallel evaluation of the struct failed on first,
    which may differ from run to run.
    """

    def read() -> Any:
        try:
            frame = vf.read_vidicenter(body, data_type=data_type, time_resolution="finest")
        except vf.SchemaError as error:
            nested = "a nested value has the wrong type" in str(error)
            return type(error).__name__, error.column if nested else str(error)
        except vf.VidiFrameError as error:
            return type(error).__name__, str(error)
        return frame.to_dicts()

    fast = read()
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(_json, "_read_fast", lambda *_: None)
        return fast, read()


@settings(max_examples=150, deadline=None)
@given(
    payload=export_payloads("viewers_apc", "finest", min_rows=1, max_rows=8),
    contents=st.lists(CONTENTS, max_size=8),
    compact=st.booleans(),
)
def test_lists_of_objects_read_on_the_fast_path_as_on_the_general_path(
    payload: dict[str, Any], contents: list[Any], compact: bool
) -> None:
    for row, value in zip(payload["data"], contents, strict=False):
        row["contents"] = value
    body = orjson.dumps(payload) if compact else json.dumps(payload).encode()
    fast, general = both_paths(body, "viewers_apc")
    assert fast == general


@settings(max_examples=50, deadline=None)
@given(payload=export_payloads("viewers_apc", "finest", min_rows=1, max_rows=8))
def test_the_contents_the_api_sends_take_the_fast_path(payload: dict[str, Any]) -> None:
    # Each row's keys in one order, as the API writes them (the strategy varies it).
    body = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
    spec = vf.get_export("viewers_apc", "finest")
    frame = fast_read(body, column_hints(spec))
    assert frame is not None
    sent = [row.get("contents") for row in payload["data"]]
    if any(sent):
        read = frame["contents"].to_list()
        # Each object as sent; the fields it does not send are null.
        assert [
            None if got is None else [{k: v for k, v in o.items() if v is not None} for o in got]
            for got in read
        ] == [
            None if want is None else [{k: v for k, v in o.items() if v is not None} for o in want]
            for want in sent
        ]


# -- lists of objects holding lists of objects (retail footfall's visits) -----------------------

TIMING = st.dictionaries(
    st.sampled_from(["start", "duration", "zz_unknown"]),
    st.none() | st.integers(-5, 5) | st.booleans() | st.text(max_size=2) | st.floats(-1, 1),
    max_size=3,
)
VISIT = st.fixed_dictionaries(
    {},
    optional={
        "id": st.none() | st.integers(0, 5) | st.text(max_size=2),
        "name": st.none() | st.text(max_size=3) | st.integers(0, 3),
        "timings": st.none() | st.lists(st.none() | TIMING, max_size=3),
    },
)
VISITS = st.none() | st.lists(st.none() | VISIT, max_size=3)


@settings(max_examples=150, deadline=None)
@given(
    payload=export_payloads("retail_analytics_footfall", "finest", min_rows=1, max_rows=6),
    visits=st.lists(VISITS, max_size=6),
    sort_keys=st.booleans(),
)
def test_nested_lists_of_objects_read_on_the_fast_path_as_on_the_general_path(
    payload: dict[str, Any], visits: list[Any], sort_keys: bool
) -> None:
    for row, value in zip(payload["data"], visits, strict=False):
        row["visits"] = value
    body = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS if sort_keys else 0)
    fast, general = both_paths(body, "retail_analytics_footfall")
    assert fast == general


@settings(max_examples=50, deadline=None)
@given(payload=export_payloads("retail_analytics_footfall", "finest", min_rows=1, max_rows=6))
def test_the_visits_the_api_sends_take_the_fast_path(payload: dict[str, Any]) -> None:
    # The counts are sent as 19.0: the first row tells the fast path so, and a first
    # row without them (a placeholder) leaves later ones to the general path.
    counts = ("nb_visits", "nb_clips", "nb_doorpass")
    for row in payload["data"]:
        for name in counts:
            row[name] = float(len(name) if row[name] is None else row[name])
    body = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
    spec = vf.get_export("retail_analytics_footfall", "finest")
    frame = fast_read(body, column_hints(spec))
    if any(
        item is None or any(t is None for t in item.get("timings") or [])
        for row in payload["data"]
        for item in (row.get("visits") or [])
        + (row.get("clips") or [])
        + (row.get("doorpass") or [])
    ):
        # A null object in a list goes to the general path (its typing differs there).
        assert frame is None
        return
    assert frame is not None
    assert frame.height == len(payload["data"])
    fast, general = both_paths(body, "retail_analytics_footfall")
    assert fast == general
