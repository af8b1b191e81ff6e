"""The rules the history of the API calls for: placeholders by definition, the wrong
export refused, two names of one field that must agree, proof of play grouped by
demographics read offline (issue 10, items 1-3 and its bugs)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import orjson
import pytest

import vidiframe as vf

HISTORY = Path(__file__).parent / "data" / "history"
HOUR = "2025-01-01 10:00:00"


def body(*rows: dict[str, Any]) -> dict[str, Any]:
    return {"state": "finished", "data": list(rows)}


def read(payload: dict[str, Any], data_type: str, time_resolution: str = "1h", **kw: Any):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", vf.UnknownFieldWarning)
        return vf.read_vidicenter(
            payload, data_type=data_type, time_resolution=time_resolution, **kw
        )


# -- placeholders --------------------------------------------------------------------------------


def test_a_value_under_an_unknown_name_is_not_a_placeholder() -> None:
    payload = body(
        {"location_id": 1, "period_start": HOUR, "brand_new_metric": 41},
        {"location_id": 1, "period_start": "2025-01-01 11:00:00", "brand_new_metric": None},
    )
    with pytest.warns(vf.UnknownFieldWarning, match="brand_new_metric"):
        kept = vf.read_vidicenter(payload, data_type="ots", time_resolution="1h")
    assert kept.select("brand_new_metric", "is_placeholder").rows() == [(41, False), (None, True)]
    dropped = read(payload, "ots", placeholders="drop")
    assert dropped.select("location_id", "period_start_time", "brand_new_metric").rows() == [
        (1, kept["period_start_time"][0], 41)
    ]


@pytest.mark.parametrize(
    "legacy", [{"estimated_ots": 12.0}, {"app_id": "my_app_id"}], ids=["estimated_ots", "app_id"]
)
def test_legacy_only_values_keep_their_row(legacy: dict[str, Any]) -> None:
    # a 2020 OTS body whose metrics are null but which carries a legacy field
    row = {"location_id": 1, "period_start": HOUR, "ots_count": None, "duration": None}
    df = read(body({**row, **legacy}), "ots", placeholders="drop")
    ((name, value),) = legacy.items()
    assert df.select(name, "is_placeholder").rows() == [(value, False)]


def test_a_declared_legacy_field_counts_as_a_value() -> None:
    # 2018 proof of play: estimated_ots is the only metric
    row = {"location_id": 4636, "period_start": HOUR, "content_id": "c", "estimated_ots": 32}
    df = read(body(row), "proof_of_play_by_location", placeholders="drop")
    assert df.select("estimated_ots", "impressions", "is_placeholder").rows() == [
        (32.0, None, False)
    ]


def test_keys_do_not_count_and_links_do() -> None:
    compass = read(
        body({"location_id": 1, "location_name": "Store entrance", "period_start": HOUR}),
        "compass",
    )
    assert compass["is_placeholder"].to_list() == [True]  # a name describes, it measures nothing
    footfall = read(
        body(
            {"location_id": 1, "period_start": HOUR, "vr_id": 7, "watcher_id": 8},
            {"location_id": 1, "period_start": HOUR, "vr_id": 9},
        ),
        "footfall",
        "finest",
    )
    assert footfall.select("watcher_id", "is_placeholder").rows() == [(8, False), (None, True)]


def test_a_real_placeholder_is_still_dropped() -> None:
    payload = body(
        {"location_id": 1234, "period_start": "2016-04-29 00:00:00", "ots_count": 504},
        {"location_id": 1234, "period_start": "2016-04-30 00:00:00", "ots_count": None},
    )
    assert read(payload, "ots", "1d", placeholders="drop")["ots_count"].to_list() == [504]


# -- the wrong export ----------------------------------------------------------------------------

OTS_BODY = body(
    {"location_id": 1, "period_start": HOUR, "ots_count": 4, "duration": 3600, "watcher_count": 1}
)


@pytest.mark.parametrize("time_resolution", ["1h", "finest"])
def test_an_ots_body_read_as_viewers_names_ots(time_resolution: str) -> None:
    with pytest.raises(vf.WrongExportError, match="data_type='ots'") as info:
        vf.read_vidicenter(OTS_BODY, data_type="viewers", time_resolution=time_resolution)
    assert isinstance(info.value, vf.SchemaError)
    assert info.value.likely[0] == ("ots", "aggregated")
    assert info.value.column == "ots_count"


def test_a_vehicles_footfall_body_read_as_vehicles_names_it() -> None:
    payload = HISTORY / "2026-07-06_6c3790f_vehicles_footfall_finest.json"
    with pytest.raises(vf.WrongExportError, match="'vehicles_footfall'") as info:
        vf.read_vidicenter(payload, data_type="vehicles", time_resolution="finest")
    assert info.value.likely[0] == ("vehicles_footfall", "finest")


def test_fields_nobody_documented_are_not_a_wrong_export() -> None:
    row = {"location_id": 1, "period_start": HOUR, "ots_count": 4, "vendor_field": "x"}
    assert read(body(row), "ots")["vendor_field"].to_list() == ["x"]


# -- two names of one field ----------------------------------------------------------------------


def test_legacy_and_current_names_that_disagree_are_refused() -> None:
    rows = [
        {"location_id": 1, "period_start": HOUR, "dwell_time": 12},
        {
            "location_id": 1,
            "period_start": HOUR,
            "dwell_time": 12,
            "dwell_time_in_tenths_of_sec": 13,
        },
    ]
    with pytest.raises(vf.SchemaError, match="'dwell_time'") as info:
        read(body(*rows), "viewers")
    assert (info.value.row, info.value.value) == (1, 12)
    assert "dwell_time_in_tenths_of_sec" in str(info.value)


def test_legacy_and_current_names_that_agree_are_one_value() -> None:
    rows = [
        {"location_id": 1, "period_start": HOUR, "dwell_time": 12},
        {"location_id": 1, "period_start": HOUR, "dwell_time_in_tenths_of_sec": 20},
        {
            "location_id": 1,
            "period_start": HOUR,
            "dwell_time": 30,
            "dwell_time_in_tenths_of_sec": 30,
        },
    ]
    df = read(body(*rows), "viewers")
    assert df.select("dwell_time_in_tenths_of_sec", "dwell_time_s").rows() == [
        (12, 1.2),
        (20, 2.0),
        (30, 3.0),
    ]
    assert "dwell_time" not in df.columns


def test_names_sent_with_values_of_different_kinds_are_each_typed_not_coerced() -> None:
    # A coalesce of a boolean and integers made the boolean 1.
    rows = [
        {"location_id": 1, "period_start": HOUR, "dwell_time": True},
        {"location_id": 1, "period_start": HOUR, "dwell_time_in_tenths_of_sec": 9},
    ]
    with pytest.raises(vf.SchemaError, match="'dwell_time'") as info:
        read(body(*rows), "viewers")
    assert (info.value.row, info.value.value) == (0, True)
    # Integers and integral floats are one field's values.
    rows[0]["dwell_time"] = 12.0
    df = read(body(*rows), "viewers")
    assert df["dwell_time_in_tenths_of_sec"].to_list() == [12, 9]


def apc_row(*contents: dict[str, Any]) -> dict[str, Any]:
    return {"location_id": 1, "start_time": HOUR, "contents": list(contents)}


def test_a_boolean_in_a_nested_number_is_refused_not_made_1() -> None:
    payload = body(apc_row({"content_id": "c", "dwell_time_in_milliseconds": True}))
    with pytest.raises(vf.SchemaError, match="'contents'"):
        read(payload, "viewers_apc", "finest")


def test_nested_names_sent_with_values_of_different_kinds_are_each_typed() -> None:
    rows = [apc_row({"dwell_time": True}), apc_row({"dwell_time_in_milliseconds": 9})]
    with pytest.raises(vf.SchemaError, match="'contents'"):
        read(body(*rows), "viewers_apc", "finest")
    rows[0]["contents"][0]["dwell_time"] = 12.0
    df = read(body(*rows), "viewers_apc", "finest")
    got = [[c["dwell_time_in_milliseconds"] for c in row] for row in df["contents"].to_list()]
    assert got == [[12], [9]]


def test_nested_names_of_one_field_with_different_values_are_refused() -> None:
    # The typing kept the first name with a value: 5 under the legacy name was
    # dropped without a word, where the top level refuses two names that disagree.
    payload = body(apc_row({"dwell_time": 5, "dwell_time_in_milliseconds": 7}))
    for sent in (payload, orjson.dumps(payload)):  # the general and the fast path
        with pytest.raises(vf.SchemaError, match="two names of one field") as info:
            read(sent, "viewers_apc", "finest")
        message = str(info.value)
        assert "'dwell_time_in_milliseconds' = 7" in message
        assert "'dwell_time' = 5" in message
        assert (info.value.column, info.value.row, info.value.value) == ("contents", 0, 5)
    # Names that agree (an integral float is its integer) are one value.
    agree = body(
        apc_row({"content_id": "a"}),
        apc_row({"dwell_time": 7.0, "dwell_time_in_milliseconds": 7}, {"dwell_time": 3}),
    )
    for sent in (agree, orjson.dumps(agree)):
        df = read(sent, "viewers_apc", "finest")
        got = [[c["dwell_time_in_milliseconds"] for c in row] for row in df["contents"].to_list()]
        assert got == [[None], [7, 3]]


def test_a_2021_vehicles_file_fills_the_presence_time() -> None:
    row = {"location_id": 1, "period_start": HOUR, "dwell_time": 83, "impressions": 6.04}
    with warnings.catch_warnings():
        warnings.simplefilter("error", vf.UnknownFieldWarning)
        df = vf.read_vidicenter(body(row), data_type="vehicles", time_resolution="1h")
    assert df.select("vehicle_presence_time_s", "vehicle_impressions").row(0) == (8.3, 6.04)


# -- proof of play grouped by demographics, offline -------------------------------------------


@pytest.mark.parametrize("by", ["location", "site"])
def test_proof_of_play_with_group_by_demographics_is_read(by: str) -> None:
    source = HISTORY / f"2026-07-06_6c3790f_proof_of_play_by_{by}_1h_demographics.json"
    df = vf.read_vidicenter(
        source,
        data_type=f"proof_of_play_by_{by}",
        time_resolution="1h",
        group_by_demographics=True,
    )
    assert df["watchers_adult_male"].to_list() == ([1, 1, 1] if by == "location" else [1, 1, 4])
    assert vf.export_schema(
        f"proof_of_play_by_{by}", "1h", group_by_demographics=True
    ) == vf.export_schema(f"proof_of_play_by_{by}", "1h")


def test_group_by_demographics_is_still_refused_where_the_docs_do_not_offer_it() -> None:
    with pytest.raises(vf.InvalidRequestError, match="not 'ots'"):
        vf.read_vidicenter(
            OTS_BODY, data_type="ots", time_resolution="1h", group_by_demographics=True
        )
