"""Second reading of the decoder's fast path: bodies where it read otherwise than the general path.

The contract (``vidiframe._json``): the fast path gives exactly the frame the
general path gives, or the general path's error; it may decline, never differ.
Each test reads a body both ways (the general path by turning the fast one off)
and checks the values themselves, sign of zero and exact integers included.
"""

from __future__ import annotations

import contextlib
import json
import warnings
from collections import Counter, defaultdict
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import vidiframe as vf
from vidiframe import _json
from vidiframe._json import ColumnHints, decode_response

HINTS = ColumnHints(
    text=frozenset({"s"}),
    kinds={"a": "int", "f": "float", "b": "bool"},
    nested=frozenset({"items"}),
    elements={"items": {"x": "int", "y": "str", "old_x": "int", "z": "bool"}},
)


def both_ways(read: Any, body: Any) -> tuple[Any, Any]:
    """``read(body)`` as the decoder gives it, then on the general path alone."""
    fast = read(body)
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(_json, "_read_fast", lambda *_: None)
        general = read(body)
    return fast, general


def took_the_fast_path(body: bytes, hints: ColumnHints = HINTS) -> bool:
    taken: list[bool] = []
    read_fast = _json._read_fast

    def spy(*args: Any) -> Any:
        frame = read_fast(*args)
        taken.append(frame is not None)
        return frame

    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(_json, "_read_fast", spy)
        with contextlib.suppress(vf.VidiFrameError):
            decode_response(body, hints=hints)
    return any(taken)


def exact(value: Any) -> Any:
    """A value with its float written out (``-0.0`` is not ``0.0``) and its type kept."""
    if isinstance(value, float):
        return ("float", repr(value))
    if isinstance(value, dict):
        return {key: exact(v) for key, v in sorted(value.items()) if v is not None}
    if isinstance(value, (list, tuple)):
        return [exact(v) for v in value]
    return value


def raw_columns(body: bytes, hints: ColumnHints = HINTS) -> Any:
    """The raw rows by column (columns of nulls left out: the reader fills those), or the error."""
    try:
        raw = decode_response(body, hints=hints)
    except vf.VidiFrameError as error:
        return type(error).__name__, str(error)
    assert raw.rows is not None
    rows = raw.rows
    return {
        name: exact(rows[name].to_list())
        for name in sorted(rows.columns)
        if rows[name].null_count() < rows.height
    }


def read_viewers(body: Any, resolution: str = "finest") -> Any:
    """The typed viewers frame (schema and rows, floats written out), or the error."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", vf.UnknownFieldWarning)
        try:
            frame = vf.read_vidicenter(body, data_type="viewers", time_resolution=resolution)
        except vf.VidiFrameError as error:
            return type(error).__name__, str(error)
    return dict(frame.schema), [exact(row) for row in frame.rows()]


def viewers_body(rows: list[str], *, pretty: bool = False) -> bytes:
    glue = ",\n  " if pretty else ","
    return ('{"state":"finished","data":[' + glue.join(rows) + "]}").encode()


VIEWER = '{"location_id":1,"start_time":"2025-03-01T00:00:18","gender":1,"very_happy":%s}'


# -- a negative zero --------------------------------------------------------------------------


@pytest.mark.parametrize("pretty", [False, True])
@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        (["-0", "1.5"], [0.0, 1.5]),  # the integer -0 is 0: a float field holds 0.0
        (["-0"], [0.0]),
        (["-0.0", "1.5"], [-0.0, 1.5]),  # the float -0.0 is kept
        (["-0.0", "-0"], [-0.0, 0.0]),
        (["-0e0", "2"], [-0.0, 2.0]),
    ],
)
def test_a_negative_zero_in_a_float_field_reads_as_on_the_general_path(
    sent: list[str], expected: list[float], *, pretty: bool
) -> None:
    body = viewers_body([VIEWER % value for value in sent], pretty=pretty)
    fast, general = both_ways(read_viewers, body)
    assert fast == general
    schema, rows = general
    at = list(schema).index("very_happy")
    assert [row[at] for row in rows] == [("float", repr(value)) for value in expected]


def test_a_negative_zero_in_an_unknown_float_field_reads_as_on_the_general_path() -> None:
    # An unknown field first sent as a float is read as doubles on the fast path.
    body = b'{"state":"finished","data":[{"a":1,"zz":0.5},{"a":2,"zz":-0},{"a":3,"zz":-0.0}]}'
    fast, general = both_ways(raw_columns, body)
    assert fast == general
    assert general["zz"] == [("float", "0.5"), ("float", "0.0"), ("float", "-0.0")]
    for value in (b"0.5", b"0.0", b"1e-300"):
        # No negative zero: the body stays on the fast path.
        assert took_the_fast_path(body.replace(b"-0.0", value).replace(b"-0", value))


@pytest.mark.parametrize("pretty", [False, True])
def test_an_integer_beyond_the_largest_double_in_a_float_field_is_a_schema_error(
    *, pretty: bool
) -> None:
    # pyarrow reads it as inf (the fast path declines); the general path leaked
    # Python's OverflowError converting it to a double.
    body = viewers_body([VIEWER % "0.5", VIEWER % ("1" + "0" * 400)], pretty=pretty)
    fast, general = both_ways(read_viewers, body)
    assert fast == general
    assert general[0] == "SchemaError"
    assert general[1].startswith("column 'very_happy': value 1000")
    assert general[1].endswith("0 at row 1 is beyond the largest double")


def test_an_integer_beyond_the_largest_double_among_fractions_is_a_schema_error() -> None:
    big = 10**400
    body = b'{"state":"finished","data":[{"a":1,"zz":0.5},{"a":2,"zz":%d}]}' % big
    fast, general = both_ways(raw_columns, body)
    assert fast == general
    assert general[0] == "SchemaError"
    assert general[1].startswith("column 'zz': value 1000")
    assert "at row 1 shares a column with fractions" in general[1]
    with pytest.raises(vf.SchemaError) as caught:
        decode_response({"state": "finished", "data": [{"f": 1}, {"f": big}]}, hints=HINTS)
    assert (caught.value.column, caught.value.row, caught.value.value) == ("f", 1, big)


# -- the top-level keys around the rows --------------------------------------------------------

ROWS = '{"a":1,"s":"x"},{"a":2,"s":"y"}'


@pytest.mark.parametrize("pretty", [False, True])
@pytest.mark.parametrize(
    "value", ["18446744073709551616", "-9223372036854775809", "123456789012345678901234567890"]
)
def test_an_integer_beyond_64_bits_around_the_rows_stays_exact(value: str, *, pretty: bool) -> None:
    # orjson reads such an integer as a float; the general path keeps it exact.
    rows = ROWS.replace("},{", "},\n{") if pretty else ROWS
    body = '{"state":"finished","m":[' + value + '],"data":[' + rows + '],"n":' + value + "}"
    assert took_the_fast_path(body.replace(value, "1").encode())
    fast, general = both_ways(lambda b: decode_response(b, hints=HINTS).meta, body.encode())
    assert fast == general == {"state": "finished", "n": int(value), "m": [int(value)]}
    assert type(fast["n"]) is int


def test_an_export_state_beyond_64_bits_is_named_as_sent() -> None:
    body = b'{"state":18446744073709551616,"data":[{"location_id":1}]}'
    fast, general = both_ways(read_viewers, body)
    assert fast == general
    assert general[0] == "ResponseFormatError"
    assert "unknown export state 18446744073709551616;" in general[1]


@pytest.mark.parametrize("pretty", [False, True])
def test_top_level_keys_nested_deeper_than_the_general_path_reads_give_its_error(
    *, pretty: bool
) -> None:
    # orjson reads 1020 levels; the general path's decoder stops before 1000 (the
    # recursion limit), and the body is refused whichever path reads its rows.
    depth = 1020
    rows = ROWS.replace("},{", "},\n{") if pretty else ROWS
    body = '{"state":"finished","x":' + "[" * depth + "]" * depth + ',"data":[' + rows + "]}"
    fast, general = both_ways(raw_columns, body.encode())
    assert fast == general
    assert general[0] == "ResponseFormatError"
    assert "nested too deeply" in general[1]


# -- a field without a name -------------------------------------------------------------------


@pytest.mark.parametrize(
    "row",
    [
        '{"location_id":1,"":5}',
        '{"location_id":1,"":5,"column_1":7}',
        '{"location_id":1,"":5,"column_2":7}',
        '{"":5,"column_0":7,"location_id":1}',
    ],
)
def test_a_field_named_by_the_empty_text_keeps_its_name(row: str) -> None:
    # Polars names a nameless column column_<i>, <i> its place: a name the fast
    # and the general path gave differently, and one another field may have.
    body = viewers_body([row, row.replace(":5", ":6")])
    fast, general = both_ways(read_viewers, body)
    assert fast == general
    schema, rows = general
    sent = json.loads(row)
    assert [dict(zip(schema, row, strict=True))[""] for row in rows] == [5, 6]
    for name in sent:
        assert name in schema


def test_a_field_named_by_the_empty_text_keeps_its_name_in_the_raw_rows() -> None:
    body = b'{"state":"finished","data":[{"a":1,"":2.5,"column_0":3},{"a":4,"":null,"column_0":5}]}'
    fast, general = both_ways(raw_columns, body)
    assert fast == general
    assert general == {"": [("float", "2.5"), None], "a": [1, 4], "column_0": [3, 5]}


@pytest.mark.parametrize("pretty", [False, True])
def test_field_names_alike_up_to_a_nul_byte_are_two_fields(*, pretty: bool) -> None:
    # Polars' from_arrow compares names cut at a NUL byte: the fast path leaked
    # its DuplicateError where the general path read both fields.
    row = '{"location_id":%d,"z\\u0000b":"p","z\\u0000c":%s}'
    body = viewers_body([row % (1, "2.5"), row % (2, "-1")], pretty=pretty)
    fast, general = both_ways(read_viewers, body)
    assert fast == general
    schema, rows = general
    assert [row[-2:] for row in rows] == [["p", ("float", "2.5")], ["p", ("float", "-1.0")]]
    assert list(schema)[-2:] == ["z\x00b", "z\x00c"]


# -- row separators ---------------------------------------------------------------------------


@pytest.mark.parametrize("hints", [HINTS, ColumnHints(text=frozenset({"s"}), kinds={"a": "int"})])
@pytest.mark.parametrize("text", ["{", "x{y", '{"a":1}', "[{"])
def test_a_brace_in_a_text_of_the_first_row_is_no_nested_object(
    hints: ColumnHints, text: str
) -> None:
    # A brace in the first row made the rows' separator hold the first key, and
    # rows that do not start with it (an empty one, another order) left the fast
    # path: test_compact_rows_of_declared_kinds_take_the_fast_path_exactly failed
    # on [{"a": null, "s": "{"}, {}] now and then.
    rows: list[dict[str, Any]] = [{"a": None, "s": text}, {}, {"s": "x", "a": 2}]
    body = json.dumps({"state": "finished", "data": rows}, separators=(",", ":")).encode()
    if text != "[{" or not hints.elements:  # "[{" anywhere may be a list of objects
        assert took_the_fast_path(body, hints)
    fast, general = both_ways(lambda b: raw_columns(b, hints), body)
    assert fast == general
    assert general == {"a": [None, None, 2], "s": [text, None, "x"]}


# -- another export's body --------------------------------------------------------------------

OTS_ROW = '{"location_id":%d,"period_start":"2025-01-01 1%d:00:00","ots_count":4,"duration":3600'


def test_a_known_field_sent_only_as_null_after_the_first_row_is_no_evidence_of_the_export() -> None:
    # An ots body with a viewers field, null, in its second row: the fast path
    # drops the field (it cannot tell it from one not sent) and refused the body
    # as an ots export; the general path kept a column of nulls, took it for a
    # viewers field and read the body with a warning.
    body = viewers_body([OTS_ROW % (1, 0) + "}", OTS_ROW % (2, 1) + ',"gender":null}'])
    fast, general = both_ways(read_viewers, body)
    assert fast == general
    assert general[0] == "WrongExportError"
    assert "every field fits 'ots' (aggregated)" in general[1]


def test_an_unknown_field_sent_only_as_null_still_tells_another_export_apart() -> None:
    # gender is no field of aggregated viewers, nor of ots: no export fits them all.
    body = viewers_body([OTS_ROW % (1, 0) + "}", OTS_ROW % (2, 1) + ',"gender":null}'])
    fast, general = both_ways(lambda b: read_viewers(b, "1h"), body)
    assert fast == general
    schema, rows = general
    assert [dict(zip(schema, row, strict=True))["ots_count"] for row in rows] == [4, 4]
    assert schema["gender"] == pl.Null


# -- two names of one field ------------------------------------------------------------------


@pytest.mark.parametrize("pretty", [False, True])
@pytest.mark.parametrize(
    ("row", "name"),
    [
        ('{"location_id":1,"dwell_time":true,"dwell_time_in_tenths_of_sec":null}', "dwell_time"),
        ('{"location_id":1,"dwell_time_in_tenths_of_sec":false,"dwell_time":null}', "dwell_time"),
        ('{"location_id":1,"footfall_id":false,"person_id":null}', "footfall_id"),
    ],
)
def test_a_name_of_a_field_sent_only_as_null_does_not_type_its_other_name(
    row: str, name: str, *, pretty: bool
) -> None:
    # The fast path types a known field of the first row by the registry (Int64)
    # even when null; the general path has a column of nulls. Merging two names
    # of one field coalesced them, and Polars made the boolean an integer (1, 0)
    # on the fast path where the general path refused it.
    body = viewers_body([row, row], pretty=pretty)
    fast, general = both_ways(read_viewers, body)
    assert fast == general
    assert general[0] == "SchemaError"
    assert "cannot be read as Int64" in general[1]


def test_two_names_of_a_field_each_with_values_are_still_merged() -> None:
    rows = [
        '{"location_id":1,"dwell_time":7,"dwell_time_in_tenths_of_sec":null}',
        '{"location_id":2,"dwell_time":null,"dwell_time_in_tenths_of_sec":9}',
        '{"location_id":3,"dwell_time":null,"dwell_time_in_tenths_of_sec":null}',
    ]
    fast, general = both_ways(read_viewers, viewers_body(rows))
    assert fast == general
    schema, values = general
    at = list(schema).index("dwell_time_in_tenths_of_sec")
    assert [row[at] for row in values] == [7, 9, None]


# -- rows given as dicts ----------------------------------------------------------------------


@pytest.mark.parametrize("mapping", [lambda **kw: defaultdict(int, kw), Counter])
def test_rows_of_a_dict_type_with_defaults_keep_every_field(mapping: Any) -> None:
    # A dict subclass with __missing__ answers row[name] for a name it lacks:
    # indexing such rows put 0 for the field a row does not send and lost the other.
    rows = [mapping(a=1), mapping(b=2)]
    raw = decode_response({"state": "finished", "data": rows}, hints=HINTS)
    assert raw.rows is not None
    assert raw.rows.to_dict(as_series=False) == {"a": [1, None], "b": [None, 2]}
    assert [dict(row) for row in rows] == [{"a": 1}, {"b": 2}]  # left as given


# -- rows that send no field -----------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b'{"state":"finished","data":[{},{}]}',
        b'{"state": "finished", "data": [\n  {},\n  {}\n]}',
        {"state": "finished", "data": [{}, {}]},
    ],
)
def test_rows_that_send_no_field_are_kept(body: Any) -> None:
    # The fast path counted them; the general path built a frame of no column,
    # and so of no row: two rows lost without a word.
    fast, general = both_ways(read_viewers, body)
    assert fast == general
    schema, rows = general
    assert [
        {name: row[list(schema).index(name)] for name in ("location_id", "is_placeholder")}
        for row in rows
    ] == [{"location_id": None, "is_placeholder": True}] * 2


def test_rows_that_send_no_field_are_counted_in_the_raw_rows() -> None:
    raw = decode_response({"state": "finished", "data": [{}, {}, {}]}, hints=HINTS)
    assert raw.rows is not None
    assert raw.rows.shape == (3, 0)


# -- arbitrary bodies near the fast path's shape -----------------------------------------------

SEPARATORS = st.sampled_from(["},{", "}, {", '},{"a":1', '"},{"a"', '\\"},{\\"a\\"', "],["])
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=6) | SEPARATORS
FLOATS = st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from(
    [-0.0, 0.0, 1e16, -1e16, 2.0**53, -(2.0**53), 9007199254740991.0]
)
INTS = st.integers(-(2**63), 2**63 - 1) | st.sampled_from([0, -1, 2**53, -(2**53) - 1, 2**64])
ITEMS = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "x": st.none() | st.integers(-5, 2**63 - 1),
            "old_x": st.none() | st.integers(-3, 3),
            "y": st.none() | TEXT,
            "z": st.none() | st.booleans(),
        },
    ),
    max_size=3,
)
KINDS = {"int": INTS, "float": FLOATS, "str": TEXT, "bool": st.booleans(), "items": ITEMS}
FIELDS = {
    "a": ["int"],
    "f": ["float", "int"],
    "s": ["str"],
    "b": ["bool"],
    "items": ["items"],
    "u1": ["float", "int", "str", "bool"],
    "u2": ["float", "int"],
}
ANY_VALUE = st.none() | st.booleans() | INTS | FLOATS | TEXT | ITEMS


@st.composite
def near_fast_bodies(draw: st.DrawFn) -> bytes:
    """Rows of one kind per field (what the fast path reads), now and then another value."""
    names = draw(st.lists(st.sampled_from(sorted(FIELDS)), min_size=1, max_size=6, unique=True))
    kinds = {name: draw(st.sampled_from(FIELDS[name])) for name in names}
    rows = []
    for _ in range(draw(st.integers(1, 8))):
        row = {}
        for name in names:
            pick = draw(st.integers(0, 29))
            row[name] = None if pick < 3 else draw(ANY_VALUE if pick == 3 else KINDS[kinds[name]])
        rows.append(row)
    document = {"state": "finished", "data": rows}
    style = draw(st.sampled_from(["compact", "dumps", "indent", "crlf"]))
    text = {
        "compact": lambda: json.dumps(document, separators=(",", ":")),
        "dumps": lambda: json.dumps(document),
        "indent": lambda: json.dumps(document, indent=2),
        "crlf": lambda: json.dumps(document, indent=1).replace("\n", "\r\n"),
    }[style]()
    # Number forms Python does not write: the integer -0, upper-case exponents.
    if draw(st.booleans()):
        text = text.replace("-0.0", "-0")
    if draw(st.booleans()):
        text = text.replace("e+", "E")
    return text.encode()


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(body=near_fast_bodies())
def test_bodies_near_the_fast_paths_shape_read_as_on_the_general_path(body: bytes) -> None:
    fast, general = both_ways(raw_columns, body)
    assert fast == general
    if isinstance(general, tuple):
        return  # an error, the same both ways
    # A column of one JSON kind holds the values as Python's json reads them;
    # numbers of a float field, or of integers and fractions, as doubles.
    sent = json.loads(body)["data"]
    for name, values in general.items():
        column = [row.get(name) for row in sent]
        kinds = {type(v) for v in column if v is not None}
        if name == "s" and kinds != {str}:
            continue  # a text field keeps another kind as its JSON text
        if kinds <= {int, float} and (name == "f" or float in kinds):
            column = [None if v is None else float(v) for v in column]
        elif len(kinds) > 1 or not kinds <= {int, float, str, bool}:
            continue  # JSON text or nested values: test_json_fast_path's concern
        assert values == exact(column)
