"""The body decoder's shortcuts: each one gives exactly what a plain JSON parse gives."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest

from vidiframe import _json
from vidiframe._json import NO_HINTS, ColumnHints, decode_response

ROWS = [
    {"location_id": 1, "period_start": "2025-01-01 10:00:00", "name": "a", "n": 3},
    {"location_id": 2, "period_start": "2025-01-01 11:00:00", "name": "b", "n": None},
]
HINTS = ColumnHints(text=frozenset({"period_start"}), kinds={"location_id": "int", "n": "int"})


@pytest.fixture(autouse=True, params=["fast", "general"])
def decoder_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test runs with the fast path allowed, and again with the general path only."""
    if request.param == "general":
        monkeypatch.setattr(_json, "_read_fast", lambda *args: None)
    return str(request.param)


def rows_of(body: bytes, hints: ColumnHints = NO_HINTS) -> list[dict[str, Any]]:
    raw = decode_response(body, hints=hints)
    assert raw.rows is not None
    return raw.rows.to_dicts()


@pytest.mark.parametrize(
    "dumps",
    [
        pytest.param(orjson.dumps, id="compact"),
        pytest.param(lambda doc: json.dumps(doc).encode(), id="python-separators"),
        pytest.param(lambda doc: json.dumps(doc, indent=4).encode(), id="pretty"),
        pytest.param(
            lambda doc: orjson.dumps(doc).replace(b'","', b'",\r"'), id="carriage-returns"
        ),
    ],
)
def test_every_layout_of_a_body_gives_the_same_rows(dumps: Any) -> None:
    body = dumps({"state": "finished", "creation_date": "2025-01-02 00:00:00", "data": ROWS})
    assert rows_of(body, HINTS) == ROWS
    assert decode_response(body, hints=HINTS).meta == {
        "state": "finished",
        "creation_date": "2025-01-02 00:00:00",
    }


def test_a_row_separator_inside_a_string_is_not_split() -> None:
    rows = [{"name": 'x},{"y":1},{z', "n": 1}, {"name": "},{", "n": 2}]
    assert rows_of(orjson.dumps({"state": "finished", "data": rows})) == rows


def test_nested_lists_of_objects_keep_their_elements() -> None:
    rows = [{"n": 1, "items": [{"a": 1}, {"a": 2}]}, {"n": 2, "items": []}]
    assert rows_of(orjson.dumps({"state": "finished", "data": rows})) == rows


def test_a_key_named_data_before_the_top_level_one_is_not_mistaken_for_it() -> None:
    body = b'{"meta": {"data": [1]}, "state": "finished", "data": [{"n": 1}]}'
    raw = decode_response(body)
    assert raw.meta == {"meta": {"data": [1]}, "state": "finished"}
    assert raw.rows is not None
    assert raw.rows.to_dicts() == [{"n": 1}]


def test_a_bracket_in_a_trailing_key_does_not_end_the_array_early() -> None:
    body = b'{"state": "finished", "data": [{"n": 1}], "fail_reason": "a ] in text"}'
    raw = decode_response(body)
    assert raw.meta == {"state": "finished", "fail_reason": "a ] in text"}
    assert raw.rows is not None
    assert raw.rows.to_dicts() == [{"n": 1}]


def test_a_hint_the_body_defies_is_inferred_instead() -> None:
    # location_id is declared an int, but this body sends it as text in row 2.
    rows = [{"location_id": 1, "n": 1}, {"location_id": "2", "n": 2}]
    hints = ColumnHints(kinds={"location_id": "int", "n": "int"})
    got = rows_of(orjson.dumps({"state": "finished", "data": rows}), hints)
    assert got == [{"location_id": "1", "n": 1}, {"location_id": "2", "n": 2}]


def test_floats_of_a_column_mixing_ints_and_floats_are_exact() -> None:
    rows = [{"v": 1}, {"v": 0.1}, {"v": 1e300}, {"v": -0.0}]
    assert rows_of(orjson.dumps({"state": "finished", "data": rows})) == [
        {"v": 1.0},
        {"v": 0.1},
        {"v": 1e300},
        {"v": -0.0},
    ]
