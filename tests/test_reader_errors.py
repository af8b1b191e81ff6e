"""Bad input to read_vidicenter: every offline error of SPEC section 3, message checked."""

from __future__ import annotations

import io
from typing import Any

import orjson
import polars as pl
import pytest

import vidiframe as vf

OTS_ROW = {
    "location_id": 1467,
    "period_start": "2018-01-29 00:00:00",
    "ots_count": 4,
    "duration": 3600,
    "watcher_count": 3,
}


def ots(*rows: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"state": "finished", "data": list(rows), **top}


def read_ots(source: Any, **kw: Any) -> pl.DataFrame:
    return vf.read_vidicenter(source, data_type="ots", time_resolution="1h", **kw)


# -- requests that cannot be ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"data_type": "viewer", "time_resolution": "1h"}, "unknown data_type 'viewer'"),
        ({"data_type": "viewers", "time_resolution": "2h"}, "unknown time_resolution '2h'"),
        (
            {"data_type": "ots", "time_resolution": "finest"},
            "data_type='ots' has no 'finest' export",
        ),
        (
            {"data_type": "gate", "time_resolution": "finest"},
            "data_type='gate' has no 'finest' export",
        ),
        (
            {"data_type": "viewers_apc", "time_resolution": "1h"},
            "data_type='viewers_apc' has no '1h' export",
        ),
        (
            {"data_type": "im", "time_resolution": "1d"},
            "accepts time_resolution '1h' only, not '1d'",
        ),
        (
            {"data_type": "targeted_im", "time_resolution": "15m"},
            "accepts time_resolution '1h' only",
        ),
        (
            {"data_type": "viewers", "time_resolution": "finest", "group_by_demographics": True},
            "group_by_demographics only works with aggregated exports",
        ),
        (
            {"data_type": "ots", "time_resolution": "1h", "group_by_demographics": True},
            "group_by_demographics only works with aggregated viewers exports, not 'ots'",
        ),
        (
            {"data_type": "retail_analytics_footfall_aggregated", "time_resolution": "finest"},
            "has no 'finest' export",
        ),
    ],
)
def test_invalid_combinations_are_refused_before_reading(
    kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(vf.InvalidRequestError, match=message) as info:
        vf.read_vidicenter(b"not even read", **kwargs)
    assert isinstance(info.value, ValueError)


def test_online_arguments_with_a_saved_source_are_refused() -> None:
    with pytest.raises(
        vf.InvalidRequestError, match="start, locations only apply when fetching online"
    ):
        read_ots(ots(OTS_ROW), locations=[1], start="2025-01-01")


def test_an_unknown_placeholders_mode_is_refused() -> None:
    with pytest.raises(
        vf.InvalidRequestError, match="placeholders must be 'keep' or 'drop', not 'fill'"
    ):
        read_ots(ots(OTS_ROW), placeholders="fill")  # type: ignore[arg-type]


def test_a_source_of_another_type_is_refused() -> None:
    with pytest.raises(vf.InvalidRequestError, match="cannot read a response from int"):
        read_ots(42)


def test_the_2021_names_are_accepted_for_saved_responses_only() -> None:
    body = {
        "state": "finished",
        "data": [{"location_id": 1, "period_start": "2021-01-01 10:00:00", "person_count": 3}],
    }
    df = vf.read_vidicenter(body, data_type="persons", time_resolution="1h")
    assert df["footfall_impressions"].to_list() == [3.0]
    with pytest.raises(vf.InvalidRequestError, match="'persons' is the 2021 name of 'footfall'"):
        vf.read_vidicenter(data_type="persons", time_resolution="1h", locations=[1])


# -- responses that are not finished exports --------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "position", "message"),
    [
        (b'{"state": "finished", "data": [}', 31, "at byte 31"),
        (
            b'{"state": "finished", "data": [{"a": 1},]}',
            39,
            "trailing comma is not allowed at byte 39",
        ),
        (b'{"state": "finished", "data": [{"a": 1} {"a": 2}]}', 40, "at byte 40"),
        (b'{"state": "finished", "data": [{"a": NaN}]}', 37, "at byte 37"),
        (b"<html>502 Bad Gateway</html>", 0, "at byte 0"),
        (b"", 0, "at byte 0"),
        (
            '{"state": "finished", "data": [], "creation_date": "\u00e9"x}'.encode(),
            55,
            "at byte 55",
        ),
    ],
)
def test_invalid_json_is_an_error_with_its_byte_position(
    body: bytes, position: int, message: str
) -> None:
    with pytest.raises(vf.ResponseFormatError, match=message) as info:
        read_ots(body)
    assert info.value.position == position


def test_a_missing_comma_between_compact_rows_is_not_repaired() -> None:
    body = orjson.dumps(ots(OTS_ROW, OTS_ROW)).replace(b"},{", b"}{")
    with pytest.raises(vf.ResponseFormatError, match="not valid JSON"):
        read_ots(body)


@pytest.mark.parametrize(
    ("body", "key", "message"),
    [
        (b'{"data": []}', "state", "has no 'state' key"),
        (b'{"state": "finished"}', "data", "finished response has no 'data' key"),
        (
            b'{"state": "finished", "data": {"a": 1}}',
            "data",
            "'data' must be a list of rows, not a JSON dict",
        ),
        (b'{"state": "finished", "data": null}', "data", "not a JSON NoneType"),
        (
            b'{"state": "finished", "data": [1, 2]}',
            "data",
            r"data\[0\] must be a JSON object, not 1",
        ),
        (b'{"state": "done", "data": []}', "state", "unknown export state 'done'"),
    ],
)
def test_a_body_without_the_response_shape_names_the_key(
    body: bytes, key: str, message: str
) -> None:
    with pytest.raises(vf.ResponseFormatError, match=message) as info:
        read_ots(body)
    assert info.value.key == key


def test_a_bare_list_is_not_a_response() -> None:
    with pytest.raises(
        vf.ResponseFormatError, match="a JSON object with a 'state' key, not a JSON list"
    ):
        read_ots(orjson.dumps([OTS_ROW]))


@pytest.mark.parametrize("state", ["started", "in_progress"])
def test_an_unfinished_export_is_not_ready(state: str) -> None:
    with pytest.raises(
        vf.ExportNotReadyError, match=f"state '{state}', created 2016-08-25 15:22:35"
    ) as info:
        read_ots({"state": state, "creation_date": "2016-08-25 15:22:35"})
    assert info.value.state == state


def test_a_failed_export_carries_its_fail_reason() -> None:
    with pytest.raises(vf.ExportFailedError, match="too many rows: 3500000") as info:
        read_ots(b'{"state": "failed", "fail_reason": "too many rows: 3500000"}')
    assert info.value.fail_reason == "too many rows: 3500000"


# -- values that cannot take their type -----------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "column", "value", "index"),
    [
        ({"ots_count": "many"}, "ots_count", "many", 1),
        ({"ots_count": 4.5}, "ots_count", 4.5, 1),
        # A column mixing numbers and booleans keeps each value's JSON text.
        ({"ots_count": True}, "ots_count", "true", 1),
        ({"location_id": "12a"}, "location_id", "12a", 1),
        ({"duration": "one hour"}, "duration", "one hour", 1),
        ({"period_start": "29/01/2018 00:00"}, "period_start", "29/01/2018 00:00", 1),
        (
            {"period_start": "2018-01-29T00:00:00+01:00"},
            "period_start",
            "2018-01-29T00:00:00+01:00",
            1,
        ),
        # Datetime("us") cannot hold nanoseconds: refused, never truncated.
        (
            {"period_start": "2018-01-29 00:00:00.1234567"},
            "period_start",
            "2018-01-29 00:00:00.1234567",
            1,
        ),
    ],
)
def test_a_value_that_cannot_be_cast_names_column_value_and_row(
    row: dict[str, Any], column: str, value: Any, index: int
) -> None:
    body = ots(OTS_ROW, {**OTS_ROW, **row})
    with pytest.raises(
        vf.SchemaError, match=rf"column '{column}': value .* at row {index}"
    ) as info:
        read_ots(body)
    assert (info.value.column, info.value.value, info.value.row) == (column, value, index)


def test_backup_value_text_other_than_yes_or_empty_is_an_error() -> None:
    row = {
        "location_id": 1,
        "period_start": "2021-11-14 21:00:00",
        "im": 0.79,
        "backup_value": "maybe",
    }
    with pytest.raises(vf.SchemaError, match="column 'backup_value': value 'maybe' at row 0"):
        vf.read_vidicenter(ots(row), data_type="im", time_resolution="1h")


def test_period_start_date_that_disagrees_with_period_start_is_an_error() -> None:
    row = {**OTS_ROW, "period_start_date": "2018-01-30", "period_start_time": "00:00"}
    with pytest.raises(vf.SchemaError, match="'2018-01-30' at row 0 disagrees with period_start"):
        read_ots(ots(row))


def test_nested_values_of_the_wrong_type_name_the_column() -> None:
    row = {
        "location_id": 1,
        "start_time": "2018-01-14T09:29:10",
        "contents": [{"dwell_time_in_milliseconds": "long"}],
    }
    with pytest.raises(
        vf.SchemaError, match="column 'contents': a nested value has the wrong type"
    ):
        vf.read_vidicenter(ots(row), data_type="viewers_apc", time_resolution="finest")


# -- reported, not raised -----------------------------------------------------------------------------


def test_an_unknown_field_warns_once_and_strict_raises() -> None:
    body = ots({**OTS_ROW, "zz_a": 1, "zz_b": "x"}, {**OTS_ROW, "zz_a": 2, "zz_b": None})
    with pytest.warns(
        vf.UnknownFieldWarning, match="fields the registry does not know: 'zz_a', 'zz_b'"
    ) as record:
        df = read_ots(body)
    assert len(record) == 1
    assert df.select("zz_a", "zz_b").rows() == [(1, "x"), (2, None)]
    with pytest.raises(vf.SchemaError, match=r"'zz_a', 'zz_b' \(strict=True\)"):
        read_ots(body, strict=True)


def test_an_undocumented_code_keeps_its_code_and_gets_a_null_label() -> None:
    rows = [
        {"location_id": 1, "period_start": "2018-01-29T00:00:27", "type": 4, "color": 12356},
        {"location_id": 1, "period_start": "2018-01-29T00:03:57", "type": 9, "color": None},
    ]
    with pytest.warns(vf.UnknownCodeWarning) as record:
        df = vf.read_vidicenter(ots(*rows), data_type="vehicles", time_resolution="finest")
    messages = sorted(str(w.message) for w in record)
    assert messages == [
        "column 'color' has codes without a documented label: 12356 (1 rows); their color_label is null",
        "column 'type' has codes without a documented label: 9 (1 rows); their type_label is null",
    ]
    assert df.select("type", "type_label", "color", "color_label").rows() == [
        (4, "van", 12356, None),
        (9, None, None, None),
    ]


def test_a_binary_file_object_and_a_text_file_object_are_read() -> None:
    body = orjson.dumps(ots(OTS_ROW))
    assert read_ots(io.BytesIO(body)).equals(read_ots(io.StringIO(body.decode())))


def test_an_empty_data_list_gives_the_full_schema() -> None:
    df = read_ots(ots())
    assert df.height == 0
    assert df.schema == vf.export_schema("ots", "1h")


def test_an_unknown_field_named_by_the_empty_text_is_named_visibly() -> None:
    body = ots({**OTS_ROW, "": 1})
    with pytest.warns(vf.UnknownFieldWarning, match="does not know: ''; they are kept"):
        df = read_ots(body)
    assert df[""].to_list() == [1]
