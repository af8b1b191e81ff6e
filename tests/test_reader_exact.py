"""Exact or an error, the same in every layout (issue 10, item 4).

Each case is read from a compact body (the fast path's shape), from the body
with Python's separators, pretty-printed, and as a decoded dict where a dict can
hold it, in row 0 and in a later row: the frame or the error must not depend on
which decoder path the body took.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import vidiframe as vf
from vidiframe import _json

ROW = {
    "location_id": 1467,
    "period_start": "2018-01-29 00:00:00",
    "ots_count": 4,
    "duration": 3600,
    "watcher_count": 3,
}

LAYOUTS = {
    "compact": lambda doc: json.dumps(doc, separators=(",", ":")).encode(),
    "python": lambda doc: json.dumps(doc).encode(),
    "indented": lambda doc: json.dumps(doc, indent=2).encode(),
}


def body(*rows: dict[str, Any], layout: str = "compact") -> bytes:
    return LAYOUTS[layout]({"state": "finished", "data": list(rows)})


def read_ots(source: Any, **kw: Any) -> pl.DataFrame:
    return vf.read_vidicenter(source, data_type="ots", time_resolution="1h", **kw)


@pytest.fixture(params=["fast", "general"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test runs with the fast path allowed, then on the general path only."""
    if request.param == "general":
        monkeypatch.setattr(_json, "_read_fast", lambda *_: None)
    return str(request.param)


def sources(row: int, field: str, value: Any) -> list[Any]:
    """The bodies (and the dict) holding ``value`` in ``field`` of row ``row`` of three."""
    rows = [dict(ROW), dict(ROW), dict(ROW)]
    rows[row][field] = value
    doc = {"state": "finished", "data": rows}
    return [*(dump(doc) for dump in LAYOUTS.values()), doc]


def raises_schema_error(source: Any, column: str, row: int, values: tuple[Any, ...]) -> None:
    with pytest.raises(vf.SchemaError, match=rf"column '{column}': value .* at row {row}") as info:
        read_ots(source)
    assert info.value.column == column
    assert info.value.row == row
    assert info.value.value in values


# -- integers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", [2**63, 10**30, -(2**63) - 1], ids=["2**63", "10**30", "-2**63-1"]
)
@pytest.mark.parametrize("row", [0, 2])
@pytest.mark.usefixtures("path")
def test_an_integer_outside_int64_is_an_error_naming_it(value: int, row: int) -> None:
    for source in sources(row, "ots_count", value):
        raises_schema_error(source, "ots_count", row, (value,))


@pytest.mark.parametrize("row", [0, 2])
@pytest.mark.usefixtures("path")
def test_1e20_in_an_integer_field_is_an_error(row: int) -> None:
    for source in sources(row, "ots_count", 1e20):
        raises_schema_error(source, "ots_count", row, (1e20,))


@pytest.mark.parametrize("row", [0, 2])
@pytest.mark.usefixtures("path")
def test_the_largest_int64_values_are_read_exactly(row: int) -> None:
    for value in (2**63 - 1, -(2**63)):
        for source in sources(row, "ots_count", value):
            assert read_ots(source)["ots_count"][row] == value


@pytest.mark.parametrize("value", ["9007199254740993.0", 9007199254740993.0])
@pytest.mark.parametrize("row", [0, 2])
@pytest.mark.usefixtures("path")
def test_a_float_beyond_double_precision_in_an_integer_field_is_an_error(
    value: Any, row: int
) -> None:
    for source in sources(row, "ots_count", value):
        raises_schema_error(source, "ots_count", row, (value, float(value)))


@pytest.mark.usefixtures("path")
def test_an_integral_float_within_double_precision_is_its_integer() -> None:
    for source in sources(1, "ots_count", 9007199254740991.0):
        assert read_ots(source)["ots_count"].to_list() == [4, 9007199254740991, 4]


@pytest.mark.parametrize("row", [0, 2])
@pytest.mark.usefixtures("path")
def test_an_unknown_field_holding_an_integer_beyond_64_bits_is_an_error(row: int) -> None:
    rows = [dict(ROW), dict(ROW), dict(ROW)]
    for index, r in enumerate(rows):
        r["zz_new"] = 2**64 + 1 if index == row else index
    doc = {"state": "finished", "data": rows}
    for source in [*(dump(doc) for dump in LAYOUTS.values()), doc]:
        raises_schema_error(source, "zz_new", row, (2**64 + 1,))


# -- booleans -----------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["ots_count", "duration", "location_id"])
@pytest.mark.parametrize("row", [0, 1, 2])
@pytest.mark.usefixtures("path")
def test_a_boolean_in_a_numeric_field_is_an_error_in_any_row(field: str, row: int) -> None:
    for value in (True, False):
        for source in sources(row, field, value):
            # Alone in its column it is read as a boolean, among numbers as its JSON text.
            raises_schema_error(source, field, row, (value, json.dumps(value)))


# -- duplicate keys -------------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["compact", "python", "indented"])
@pytest.mark.usefixtures("path")
def test_a_duplicate_key_resolves_to_the_last_in_every_layout(layout: str) -> None:
    text = body(ROW, ROW, layout=layout).decode()
    # The second row sends ots_count twice: 4 (from ROW), then 9.
    first = text.index('"ots_count"')
    second = text.index('"ots_count"', first + 1)
    text = text[:second] + '"ots_count": 9, ' + text[second:]
    assert json.loads(text)["data"][1]["ots_count"] == 4  # the later key of the row
    text = text[:second] + text[second:].replace('"ots_count": 4', '"ots_count": 8', 1)
    text = text.replace('"ots_count":4', '"ots_count":8')
    expected = json.loads(text)["data"]
    df = read_ots(text.encode())
    assert df["ots_count"].to_list() == [r["ots_count"] for r in expected]


@pytest.mark.parametrize("layout", ["compact", "indented"])
@pytest.mark.usefixtures("path")
def test_a_duplicate_text_key_resolves_to_the_last(layout: str) -> None:
    raw = body(ROW, layout=layout).replace(
        b'"period_start"', b'"period_start": "nonsense", "period_start"', 1
    )
    df = read_ots(raw)
    assert df["period_start"].to_list() == [pl.Series(["2018-01-29 00:00:00"]).str.to_datetime()[0]]


# -- the response's shape ---------------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["compact", "indented"])
@pytest.mark.usefixtures("path")
def test_data_twice_is_an_error_with_its_position(layout: str) -> None:
    one = body(ROW, layout=layout)
    raw = one[:-1].rstrip() + b', "data": [' + json.dumps(ROW).encode() + b"]}"
    with pytest.raises(vf.ResponseFormatError, match="has the key 'data' twice") as info:
        read_ots(raw)
    assert info.value.position == raw.rindex(b'"data"')
    assert info.value.key == "data"


@pytest.mark.parametrize("depth", [1_000, 5_000, 20_000])
@pytest.mark.usefixtures("path")
def test_deep_nesting_is_an_error_with_its_position(depth: int) -> None:
    deep = b"[" * depth + b"]" * depth
    raw = body(ROW, ROW).replace(b'"watcher_count":3}', b'"watcher_count":3,"zz":' + deep + b"}", 1)
    with pytest.raises(vf.ResponseFormatError, match=r"at byte \d+") as info:
        read_ots(raw)
    assert info.value.position is not None
    assert raw.index(b'"zz"') < info.value.position < raw.index(b'"zz"') + depth + 10


@pytest.mark.parametrize(
    ("where", "bad"),
    [("string", b'"location_name":"Z\xffrich"'), ("key", b'"Z\xffrich":1')],
)
@pytest.mark.parametrize("layout", ["compact", "indented"])
@pytest.mark.usefixtures("path")
def test_invalid_utf8_is_an_error_with_its_position(where: str, bad: bytes, layout: str) -> None:
    raw = body(ROW, ROW, layout=layout)
    cut = raw.rindex(b'"watcher_count"')
    raw = raw[:cut] + bad + b"," + raw[cut:]
    with pytest.raises(vf.ResponseFormatError, match="UTF-8") as info:
        read_ots(raw)
    assert info.value.position is not None
    assert cut <= info.value.position <= cut + len(bad)


@pytest.mark.parametrize("escape", [rb"\ud800", rb"\udc00", rb"\ud800\u0041"])
@pytest.mark.parametrize("layout", ["compact", "indented"])
@pytest.mark.usefixtures("path")
def test_a_lone_surrogate_escape_is_an_error_with_its_position(escape: bytes, layout: str) -> None:
    raw = body(ROW, ROW, layout=layout)
    cut = raw.rindex(b'"watcher_count"')
    raw = raw[:cut] + b'"zz":"a' + escape + b'",' + raw[cut:]
    with pytest.raises(vf.ResponseFormatError, match="surrogate") as info:
        read_ots(raw)
    assert info.value.position is not None
    assert cut <= info.value.position <= cut + 20


def test_a_surrogate_pair_escape_is_its_character() -> None:
    raw = body(ROW).replace(b'"watcher_count"', rb'"zz":"\ud83d\ude89","watcher_count"')
    with pytest.warns(vf.UnknownFieldWarning):
        assert read_ots(raw)["zz"].to_list() == ["\U0001f689"]


# -- derived column names -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data_type", "resolution", "row", "field"),
    [
        ("ots", "1h", ROW, "is_placeholder"),
        ("ots", "1h", ROW, "duration_s"),
        (
            "viewers",
            "finest",
            {
                "location_id": 1,
                "period_start": "2025-01-01 10:00:00",
                "dwell_time_in_tenths_of_sec": 15,
            },
            "dwell_time_s",
        ),
    ],
)
@pytest.mark.usefixtures("path")
def test_a_field_named_like_a_derived_column_keeps_its_value_beside_it(
    data_type: str, resolution: str, row: dict[str, Any], field: str
) -> None:
    sent = {**row, field: "from the response"}
    with pytest.warns(vf.UnknownFieldWarning) as record:
        df = vf.read_vidicenter(body(sent), data_type=data_type, time_resolution=resolution)
    assert any(f"kept as '{field}_as_sent'" in str(w.message) for w in record)
    assert df[f"{field}_as_sent"].to_list() == ["from the response"]
    assert df.schema[field] == vf.export_schema(data_type, resolution)[field]


# -- str sources ------------------------------------------------------------------------------------


def test_a_str_body_with_a_byte_order_mark_is_read() -> None:
    df = read_ots("\ufeff" + body(ROW).decode())
    assert df["ots_count"].to_list() == [4]


def test_a_bytes_body_with_a_byte_order_mark_is_read() -> None:
    assert read_ots(b"\xef\xbb\xbf" + body(ROW))["ots_count"].to_list() == [4]


@pytest.mark.parametrize("text", ["state: finished", "no-such-export.json", "x" * 5000, "a\0b"])
def test_a_str_neither_json_nor_a_file_is_a_clear_error(text: str) -> None:
    with pytest.raises(
        vf.InvalidRequestError, match=r"neither JSON .* nor the path of an existing file"
    ):
        read_ots(text)


def test_a_missing_path_object_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(
        vf.InvalidRequestError, match=r"cannot read the response file .*missing\.json"
    ):
        read_ots(tmp_path / "missing.json")


def test_a_str_path_is_still_read(tmp_path: Path) -> None:
    saved = tmp_path / "export.json"
    saved.write_bytes(body(ROW))
    assert read_ots(str(saved))["ots_count"].to_list() == [4]


def test_a_str_with_a_lone_surrogate_is_an_error() -> None:
    with pytest.raises(vf.ResponseFormatError, match="lone surrogate"):
        read_ots('{"state": "finished", "data": [{"zz": "\ud800"}]}')


# -- the fast path's own checks -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"state":"finished","data":[{"ots_count":NaN}]}', "at byte 41"),
        (b'{"state":"finished","data":[{"ots_count":1}{"ots_count":2}]}', "at byte 43"),
        (b'{"state":"finished","data":[{"duration":1e999}]}', "at byte 40"),
    ],
)
def test_what_pyarrow_accepts_and_json_does_not_is_an_error(raw: bytes, message: str) -> None:
    with pytest.raises(vf.ResponseFormatError, match=message):
        read_ots(raw)


def test_a_row_separator_inside_a_text_does_not_split_the_row() -> None:
    rows = [{**ROW, "zz": 'x},{"ots_count":1},{y'}, {**ROW, "zz": "},{"}]
    with pytest.warns(vf.UnknownFieldWarning):
        df = read_ots(body(*rows))
    assert df["zz"].to_list() == ['x},{"ots_count":1},{y', "},{"]
    assert df["ots_count"].to_list() == [4, 4]


def test_no_raw_exception_for_a_truncated_body() -> None:
    raw = body(ROW, ROW)
    for cut in range(0, len(raw), 7):
        with pytest.raises(vf.VidiFrameError):
            read_ots(raw[:cut])


def test_positions_are_bytes_not_characters() -> None:
    raw = '{"state":"finished","creation_date":"é","data":[{"ots_count":tru}]}'.encode()
    with pytest.raises(vf.ResponseFormatError) as info:
        read_ots(raw)
    assert info.value.position == re.search(rb"tru", raw).start()  # type: ignore[union-attr]


def test_object_keys_polars_cannot_tell_apart_keep_their_json_text() -> None:
    # Polars cuts a struct field name at a NUL byte: "" and "\0" would collide.
    raw = body({**ROW, "zz": {"": 1, "\0": 2}})
    with pytest.warns(vf.UnknownFieldWarning):
        got = read_ots(raw)["zz"].to_list()
    assert [json.loads(v) for v in got] == [{"": 1, "\0": 2}]


@pytest.mark.parametrize("spelling", [rb'"d\u0061ta"', rb'"\u0064\u0061\u0074\u0061"'])
@pytest.mark.parametrize("escaped_first", [True, False])
@pytest.mark.parametrize("layout", ["compact", "indented"])
@pytest.mark.usefixtures("path")
def test_data_twice_with_one_key_escaped_is_an_error_with_its_position(
    layout: str, escaped_first: bool, spelling: bytes
) -> None:
    # JSON decodes "d\u0061ta" to "data": the same key, spelled otherwise.
    one = body(ROW, layout=layout)
    raw = one[:-1].rstrip() + b', "data": [' + json.dumps(ROW).encode() + b"]}"
    second = raw.rindex(b'"data"')
    if escaped_first:
        raw = raw.replace(b'"data"', spelling, 1)
        second += len(spelling) - len(b'"data"')
    else:
        raw = raw[:second] + spelling + raw[second + len(b'"data"') :]
    assert list(json.loads(raw)) == ["state", "data"]  # Python keeps one, silently
    with pytest.raises(vf.ResponseFormatError, match="has the key 'data' twice") as info:
        read_ots(raw)
    assert info.value.position == second
    assert info.value.key == "data"


@pytest.mark.usefixtures("path")
def test_data_twice_both_escaped_is_an_error() -> None:
    raw = (
        b'{"state": "finished", "d\\u0061ta": [], "\\u0064ata": ['
        + json.dumps(ROW).encode()
        + b"]}"
    )
    with pytest.raises(vf.ResponseFormatError, match="has the key 'data' twice") as info:
        read_ots(raw)
    assert info.value.position == raw.index(b'"\\u0064ata"')


@pytest.mark.usefixtures("path")
def test_an_escaped_data_key_alone_reads_its_rows() -> None:
    raw = b'{"state": "finished", "d\\u0061ta": [' + json.dumps(ROW).encode() + b"]}"
    assert read_ots(raw)["ots_count"].to_list() == [4]


@pytest.mark.parametrize("layout", ["compact", "python", "indented"])
def test_an_escaped_key_given_twice_in_a_row_resolves_to_the_last_on_both_paths(
    layout: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [{**ROW, "location_id": 1001 + i} for i in range(3)]
    text = body(*rows, layout=layout).decode()
    sep = ":" if layout == "compact" else ": "
    # Row 1 sends location_id plain, then escaped; row 2 escaped, then plain.
    text = text.replace(
        f'"location_id"{sep}1002', f'"location_id"{sep}1400, "location\\u005fid"{sep}1002'
    ).replace(f'"location_id"{sep}1003', f'"location\\u005fid"{sep}1500, "location_id"{sep}1003')
    assert text.count("\\u005f") == 2
    expected = [r["location_id"] for r in json.loads(text)["data"]]
    assert expected == [1001, 1002, 1003]  # the last of each row's two spellings
    fast = read_ots(text.encode())
    monkeypatch.setattr(_json, "_read_fast", lambda *_: None)
    general = read_ots(text.encode())
    assert fast["location_id"].to_list() == expected
    assert fast.equals(general)
    assert fast.columns == general.columns


# -- nested integers -----------------------------------------------------------------------------


def _apc(dwell: Any) -> bytes:
    element = {"content_id": "c1", "dwell_time_in_milliseconds": dwell}
    row = {"location_id": 1, "start_time": "2025-01-01T10:00:00", "contents": [element]}
    return json.dumps({"state": "finished", "data": [row, {**row, "contents": None}]}).encode()


@pytest.mark.usefixtures("path")
def test_an_integral_float_in_a_nested_integer_field_is_its_integer() -> None:
    df = vf.read_vidicenter(_apc(4200.0), data_type="viewers_apc", time_resolution="finest")
    [element] = df["contents"][0]
    assert element["dwell_time_in_milliseconds"] == 4200
    assert df["contents"][1] is None


@pytest.mark.usefixtures("path")
def test_integral_floats_and_integers_in_one_nested_integer_field_are_its_integers() -> None:
    # As at the top level (a count sent as 19.0 in one row and 3 in the next). The
    # general path made such contents JSON text, refused as "not a list of objects".
    elements = [
        {"content_id": "c1", "dwell_time_in_milliseconds": 4200.0},
        {"content_id": "c2", "dwell_time_in_milliseconds": 17},
        {"content_id": "c3", "dwell_time_in_milliseconds": -0.0},
    ]
    row = {"location_id": 1, "start_time": "2025-01-01T10:00:00", "contents": elements}
    body = json.dumps({"state": "finished", "data": [row]}).encode()
    df = vf.read_vidicenter(body, data_type="viewers_apc", time_resolution="finest")
    got = [(e["content_id"], e["dwell_time_in_milliseconds"]) for e in df["contents"][0]]
    assert got == [("c1", 4200), ("c2", 17), ("c3", 0)]
    # One level deeper: a visit's timings.
    visit = {"id": 5.0, "name": "door", "timings": [{"start": 7.0}, {"start": 3, "duration": 2}]}
    row = {"location_id": 1, "period_start": "2025-01-01 10:00:00", "visits": [visit, {"id": 6}]}
    body = json.dumps({"state": "finished", "data": [row]}).encode()
    df = vf.read_vidicenter(body, data_type="retail_analytics_footfall", time_resolution="finest")
    assert df["visits"].to_list() == [
        [
            {
                "id": 5,
                "name": "door",
                "timings": [{"start": 7, "duration": None}, {"start": 3, "duration": 2}],
            },
            {"id": 6, "name": None, "timings": None},
        ]
    ]


@pytest.mark.parametrize(
    "elements",
    [
        [{"dwell_time_in_milliseconds": 4200.5}, {"dwell_time_in_milliseconds": 17}],
        [{"dwell_time_in_milliseconds": 2.0**60}, {"dwell_time_in_milliseconds": 17}],
        [{"dwell_time_in_milliseconds": True}, {"dwell_time_in_milliseconds": 17}],
        [{"content_id": 3}, {"content_id": 4.0}],
        [{"zz_new": 3}, {"zz_new": 4.0}, {"dwell_time_in_milliseconds": 1}],
    ],
)
@pytest.mark.usefixtures("path")
def test_a_fraction_next_to_integers_in_a_nested_field_is_still_an_error(
    elements: list[dict[str, Any]],
) -> None:
    # Read with the registry's types, pyarrow would cut 4200.5 to 4200, make an
    # unknown sub-field vanish, and a number a text: each of these stays refused.
    row = {"location_id": 1, "start_time": "2025-01-01T10:00:00", "contents": elements}
    body = json.dumps({"state": "finished", "data": [row]}).encode()
    with pytest.raises(vf.SchemaError, match="'contents'") as info:
        vf.read_vidicenter(body, data_type="viewers_apc", time_resolution="finest")
    assert info.value.column == "contents"


@pytest.mark.parametrize("dwell", [4200.5, 2.0**60])
@pytest.mark.usefixtures("path")
def test_a_fraction_or_an_inexact_float_in_a_nested_integer_field_is_an_error(
    dwell: float,
) -> None:
    # A fraction would be cut off, and a float beyond 2**53 may not be the integer sent.
    with pytest.raises(vf.SchemaError, match="'contents'") as info:
        vf.read_vidicenter(_apc(dwell), data_type="viewers_apc", time_resolution="finest")
    assert info.value.column == "contents"
