"""with_names / with_clip_names / with_utc: rows kept, ids reported, bad input refused."""

from __future__ import annotations

import datetime as dt
import warnings

import polars as pl
import pytest

import vidiframe as vf

LOC = vf.read_locations(
    [
        {"id": 204452, "site_id": 8654, "label": "location-204452", "last_timezone": 0},
        {"id": 27046, "site_id": 54422, "label": "Entrance", "last_timezone": 3600},
        {"id": 320453, "site_id": 66531, "label": "Exit screen", "last_timezone": -14400},
        {"id": 5, "site_id": 8654, "label": "No zone yet"},
    ]
)
SITES = vf.read_sites(
    [
        {"id": 8654, "network_id": 15678, "label": "VidiReports", "venue_type": "Retail"},
        {"id": 54422, "network_id": 15678, "label": "Another site"},
        {"id": 66531, "network_id": 25444, "label": "VidiReports"},
    ]
)
NETS = vf.read_networks(
    [{"id": 15678, "label": "My first network"}, {"id": 25444, "label": "My other network"}]
)


def _frame(ids: list[int | None]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "location_id": pl.Series(ids, dtype=pl.Int64),
            "period_start": [dt.datetime(2025, 3, 30, 1 + i) for i in range(len(ids))],
            "ots_count": list(range(len(ids))),
        }
    )


def test_names_keep_rows_order_and_duplicates():
    df = _frame([320453, 204452, 320453, 27046])
    named = df.vidi.with_names(locations=LOC, sites=SITES, networks=NETS)
    assert named.select("location_id", "location_label", "site_label", "network_label").rows() == [
        (320453, "Exit screen", "VidiReports", "My other network"),
        (204452, "location-204452", "VidiReports", "My first network"),
        (320453, "Exit screen", "VidiReports", "My other network"),
        (27046, "Entrance", "Another site", "My first network"),
    ]
    # Two sites are called "VidiReports": the ids that tell them apart come along.
    assert named["site_id"].to_list() == [66531, 8654, 66531, 54422]
    assert named["venue_type"].to_list() == [None, "Retail", None, None]


def test_unmatched_ids_are_kept_null_and_named_in_a_warning():
    df = _frame([27046, 999, None, 998, 999])
    with pytest.warns(vf.UnmatchedIdWarning, match=r"2 location_id value\(s\).*998, 999") as caught:
        named = df.vidi.with_names(locations=LOC)
    assert caught[0].message.ids == (998, 999)
    assert caught[0].message.column == "location_id"
    assert named["location_label"].to_list() == ["Entrance", None, None, None, None]
    assert named.select(df.columns).equals(df)


def test_a_site_missing_from_sites_is_reported_too():
    loc = pl.concat([LOC, vf.read_locations([{"id": 7, "site_id": 4242, "label": "x"}])])
    with pytest.warns(vf.UnmatchedIdWarning, match="site_id value.*4242"):
        named = _frame([7, 27046]).vidi.with_names(locations=loc, sites=SITES)
    assert named["site_label"].to_list() == [None, "Another site"]


def test_a_frame_with_site_ids_needs_no_locations():
    df = pl.DataFrame({"site_id": [66531, 8654], "plays": [1, 2]})
    named = df.vidi.with_names(sites=SITES, networks=NETS)
    assert named.select("site_label", "network_label").rows() == [
        ("VidiReports", "My other network"),
        ("VidiReports", "My first network"),
    ]


def test_conflicting_dimension_rows_are_refused_identical_ones_are_fine():
    twice = pl.concat([LOC, LOC])
    assert _frame([27046]).vidi.with_names(locations=twice)["location_label"].item() == "Entrance"
    renamed = pl.concat([LOC, LOC.with_columns(pl.lit("Renamed").alias("label"))])
    with pytest.raises(vf.SchemaError, match="more than once with different values"):
        _frame([27046]).vidi.with_names(locations=renamed)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({}, vf.InvalidRequestError, "at least one of"),
        ({"networks": NETS}, vf.InvalidRequestError, "pass sites= too"),
        ({"sites": SITES}, vf.InvalidRequestError, "pass locations= too"),
        ({"locations": SITES}, vf.SchemaError, "'location_id'"),
        ({"locations": "locations.json"}, vf.InvalidRequestError, "must be a polars DataFrame"),
    ],
)
def test_joins_that_cannot_work_are_refused(kwargs, error, match):
    with pytest.raises(error, match=match):
        _frame([27046]).vidi.with_names(**kwargs)


def test_names_are_never_overwritten():
    named = _frame([27046]).vidi.with_names(locations=LOC)
    with pytest.raises(vf.InvalidRequestError, match="already has 'location_label'"):
        named.vidi.with_names(locations=LOC)


def test_with_utc_is_explicit_and_reports_locations_without_a_zone():
    df = _frame([320453, 27046, 5, 404])
    with pytest.warns(vf.UnmatchedIdWarning, match=r"2 location_id value\(s\).*: 5, 404") as caught:
        utc = df.vidi.with_utc(LOC)
    assert caught[0].message.ids == (5, 404)
    assert utc["period_start"].equals(df["period_start"])  # local time untouched
    assert utc["utc_offset"].to_list() == [
        dt.timedelta(hours=-4),
        dt.timedelta(hours=1),
        None,
        None,
    ]
    assert utc["period_start_utc"].dt.replace_time_zone(None).to_list() == [
        dt.datetime(2025, 3, 30, 5),
        dt.datetime(2025, 3, 30, 1),
        None,
        None,
    ]
    assert utc.schema["period_start_utc"] == pl.Datetime("us", "UTC")


def test_with_utc_refuses_a_frame_already_in_a_zone():
    df = _frame([27046]).with_columns(pl.col("period_start").dt.replace_time_zone("UTC"))
    with pytest.raises(vf.SchemaError, match="naive local time"):
        df.vidi.with_utc(LOC)
    with pytest.raises(vf.SchemaError, match="'period_start'"):
        pl.DataFrame({"location_id": [1]}).vidi.with_utc(LOC)


def test_with_utc_refuses_what_is_no_offset_instead_of_a_wrong_time():
    df = _frame([27046])
    # 9e15 s in microseconds is past 2**63: the Duration wrapped around, and
    # period_start_utc came out some 60,000 years off, in silence.
    for seconds in (9 * 10**15, 86_401, -(10**12)):
        loc = pl.DataFrame({"location_id": [27046], "last_timezone": [seconds]})
        with pytest.raises(vf.SchemaError, match=f"last_timezone {seconds} of location_id 27046"):
            df.lazy().vidi.with_utc(loc)
    text = pl.DataFrame({"location_id": [27046], "last_timezone": ["3600"]})
    with pytest.raises(vf.SchemaError, match="last_timezone is String"):
        df.vidi.with_utc(text)
    # A column of nulls only (Polars' Null type, a frame built by hand): reported, not raw.
    unknown = pl.DataFrame({"location_id": [27046], "last_timezone": [None]})
    with pytest.warns(vf.UnmatchedIdWarning, match="27046"):
        utc = df.vidi.with_utc(unknown)
    assert utc["period_start_utc"].to_list() == [None]
    a_day = pl.DataFrame({"location_id": [27046], "last_timezone": [-86_400]})
    assert df.vidi.with_utc(a_day)["utc_offset"].to_list() == [dt.timedelta(days=-1)]


CLIPS = vf.read_clip_metadata(
    [
        {"network_id": 15678, "clip_id": "a", "id": 1, "name": "Spot A"},
        {"network_id": 25444, "clip_id": "a", "id": 2, "name": "Other spot A"},
        {"network_id": 15678, "clip_id": "b", "id": 3, "name": "Spot B"},
    ]
)


def test_clip_names_by_network_when_a_clip_id_is_reused():
    df = _frame([27046, 320453, 27046]).with_columns(content_id=pl.Series(["a", "a", "c"]))
    with pytest.raises(vf.InvalidRequestError, match="content_id 'a' name different clips"):
        df.vidi.with_clip_names(CLIPS)
    with pytest.warns(vf.UnmatchedIdWarning, match="content_id.*: c"):
        named = df.vidi.with_clip_names(CLIPS, locations=LOC, sites=SITES)
    assert named["content_name"].to_list() == ["Spot A", "Other spot A", None]
    assert named.select(df.columns).equals(df)
    with_network = df.with_columns(network_id=pl.Series([15678, 25444, 15678]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", vf.UnmatchedIdWarning)
        again = with_network.vidi.with_clip_names(CLIPS)
    assert again["content_name"].to_list() == ["Spot A", "Other spot A", None]


def test_clip_names_need_a_content_id_column():
    with pytest.raises(vf.SchemaError, match="explode_contents first"):
        _frame([1]).vidi.with_clip_names(CLIPS)


def test_a_clip_of_another_network_does_not_name_the_row():
    # "b" is a clip of network 15678 only; location 320453 is in network 25444.
    df = _frame([27046, 320453]).with_columns(content_id=pl.Series(["b", "b"]))
    assert df.vidi.with_clip_names(CLIPS)["content_name"].to_list() == ["Spot B", "Spot B"]
    with pytest.warns(vf.UnmatchedIdWarning, match="clips \\(for the row's network\\): b"):
        named = df.vidi.with_clip_names(CLIPS, locations=LOC, sites=SITES)
    assert named["content_name"].to_list() == ["Spot B", None]
