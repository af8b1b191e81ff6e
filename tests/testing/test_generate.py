"""Deterministic generation of export rows from the registry (vidiframe.testing._generate)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
import pytest

from vidiframe._fields import Field
from vidiframe._registry import ExportSpec, get_export, iter_exports
from vidiframe.testing import (
    DataGenerator,
    FakeQuery,
    QueryError,
    api_keys,
    count_rows,
    generate_rows,
    period_starts,
    response_body,
    site_locations,
)

SPECS = list(iter_exports())
PARTS = {"period_start_date", "period_start_time"}


def spec_id(spec: ExportSpec) -> str:
    return f"{spec.data_type}-{spec.granularity}"


def resolution_of(spec: ExportSpec) -> str:
    return (
        "finest"
        if spec.granularity == "finest"
        else spec.resolutions[-1 if len(spec.resolutions) == 1 else 4]
    )


def query_args(spec: ExportSpec) -> dict[str, Any]:
    args: dict[str, Any] = {"locations": [4636, 4637]}
    if spec.extrapolated:
        args["extrapolation_amount"] = 12
    if spec.granularity == "demographics":
        args["group_by_demographics"] = True
    return args


def rows_of(spec: ExportSpec, start: str, end: str, **kw: Any) -> list[dict[str, Any]]:
    options = {**query_args(spec), **kw}
    return generate_rows(spec.data_type, resolution_of(spec), start=start, end=end, **options)


def expected_keys(spec: ExportSpec, *, legacy: bool) -> set[str]:
    """Computed here from the registry, independently of the generator.

    Fields the current API dropped (SPEC section 2) are sent in legacy mode only.
    """
    names = {spec.api_name(f, legacy=legacy) for f in spec.fields if legacy or not f.dropped}
    if spec.time_as_parts:
        return (names - {"period_start"}) | PARTS
    if spec.time_api_name == "period_start" and not legacy:
        return names | PARTS
    return names


# -- keys ---------------------------------------------------------------------------------


def test_every_export_of_the_registry_is_covered():
    assert len(SPECS) == 34
    assert {s.granularity for s in SPECS} == {"finest", "aggregated", "demographics"}


@pytest.mark.parametrize("legacy", [False, True], ids=["current", "legacy"])
@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_rows_have_exactly_the_registry_api_names(spec: ExportSpec, legacy: bool):
    rows = rows_of(spec, "2025-03-01T00:00:00", "2025-03-01T05:59:59", legacy=legacy)
    assert rows, "a 6 hour range of 2 locations must give rows"
    wanted = expected_keys(spec, legacy=legacy)
    assert api_keys(spec, legacy=legacy) == wanted
    for row in rows:
        assert set(row) == wanted


@pytest.mark.parametrize("legacy", [False, True], ids=["current", "legacy"])
def test_nested_lists_use_the_registry_names(legacy: bool):
    spec = get_export("viewers_apc", "finest")
    contents = spec.by_name["contents"]
    wanted = {
        (f.legacy[0] if legacy and f.legacy else f.name)
        for f in contents.fields
        if legacy or not f.dropped
    }
    rows = generate_rows(
        "viewers_apc",
        "finest",
        start="2025-03-01T00:00:00",
        end="2025-03-01T05:59:59",
        locations=[38918],
        legacy=legacy,
    )
    elements = [element for row in rows for element in row["contents"]]
    assert elements
    assert all(set(element) == wanted for element in elements)
    if legacy:
        assert "dwell_time" in wanted
        assert "dwell_time_in_milliseconds" not in wanted


def test_legacy_mode_sends_2020_names_and_no_date_parts():
    row = generate_rows(
        "viewers",
        "1h",
        start="2018-01-29T02:00:00",
        end="2018-01-29T02:59:59",
        locations=[4636],
        legacy=True,
        placeholder_rate=0,
    )[0]
    assert set(row) == {
        "location_id",
        "period_start",
        "watcher_count",
        "dwell_time",
        "attention_time",
        "conversion_ratio",
    }
    assert row["period_start"] == "2018-01-29 02:00:00"


def test_period_start_parts_agree_with_period_start():
    rows = generate_rows(
        "vehicles",
        "finest",
        start="2025-03-01T00:00:00",
        end="2025-03-01T03:00:00",
        locations=[8264],
    )
    assert rows
    for row in rows:
        moment = dt.datetime.fromisoformat(row["period_start"])
        assert row["period_start_date"] == moment.date().isoformat()
        assert row["period_start_time"] == moment.time().isoformat()


def test_time_as_parts_export_sends_date_and_time_instead_of_period_start():
    rows = generate_rows(
        "retail_analytics_footfall_aggregated",
        "1h",
        start="2025-03-01T10:00:00",
        end="2025-03-01T11:59:59",
        locations=[7],
    )
    assert rows
    assert all("period_start" not in row for row in rows)
    assert {row["period_start_time"] for row in rows} == {"10:00:00", "11:00:00"}
    assert {row["period_start_date"] for row in rows} == {"2025-03-01"}
    # A zone name is the name of the row's zone.
    assert all(row["zone_name"] == f"Zone {row['zone_id']}" for row in rows)


def test_apc_sends_start_time_with_a_t_and_aggregates_use_a_space():
    apc = generate_rows(
        "viewers_apc",
        "finest",
        start="2025-03-01T00:00:00",
        end="2025-03-01T02:59:59",
        locations=[1],
    )
    assert apc
    assert all("period_start" not in row and "T" in row["start_time"] for row in apc)
    agg = generate_rows("ots", "1h", start="2025-03-01", end="2025-03-01T00:00:00", locations=[1])
    assert agg[0]["period_start"] == "2025-03-01 00:00:00"


# -- values -------------------------------------------------------------------------------


def check_value(f: Field, value: Any, *, where: str) -> None:
    if value is None:
        assert f.nullable, f"{where}: {f.name} is not nullable but got null"
        return
    if f.labels is not None:
        assert value in f.labels, f"{where}: {f.name}={value!r} is not a documented code"
    elif f.kind == "int":
        assert type(value) is int, f"{where}: {f.name}={value!r}"
        assert f.low <= value <= f.high, f"{where}: {f.name}={value!r}"
    elif f.kind == "float":
        assert type(value) is float, f"{where}: {f.name}={value!r}"
        assert f.low <= value <= f.high, f"{where}: {f.name}={value!r}"
    elif f.kind == "bool":
        if f.bool_text is not None:
            assert value in (f.bool_text, ""), f"{where}: {f.name}={value!r}"
        else:
            assert type(value) is bool
    elif f.kind == "str":
        assert type(value) is str
        assert value
    elif f.kind == "datetime":
        dt.datetime.fromisoformat(value)
    elif f.kind == "list":
        assert type(value) is list
        for element in value:
            for sub in f.fields:
                if not sub.dropped:
                    check_value(sub, element[sub.name], where=f"{where}.{f.name}")


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_values_follow_each_field_kind_range_and_labels(spec: ExportSpec):
    rows = rows_of(spec, "2025-03-01T00:00:00", "2025-03-01T05:59:59")
    for i, row in enumerate(rows):
        for f in spec.fields:
            if f.name == "period_start" or f.dropped:
                continue
            check_value(f, row[spec.api_name(f)], where=f"{spec_id(spec)} row {i}")


def test_ordinary_rows_never_look_like_placeholders():
    spec = get_export("footfall", "finest")
    rows = generate_rows(
        "footfall",
        "finest",
        start="2025-03-01",
        end="2025-03-03T23:59:59",
        locations=[1, 2, 3],
        null_rate=0.9,
    )
    assert rows
    assert all(any(row[m] is not None for m in spec.metrics) for row in rows)


# -- placeholders -------------------------------------------------------------------------


def test_gaps_are_placeholder_rows_with_every_metric_null_and_keys_set():
    spec = get_export("ots", "1h")
    rows = generate_rows(
        "ots",
        "1h",
        start="2025-01-01",
        end="2025-01-31T23:59:59",
        locations=[1234],
        placeholder_rate=0.1,
    )
    assert len(rows) == 31 * 24
    gaps = [row for row in rows if all(row[m] is None for m in spec.metrics)]
    assert 0 < len(gaps) < len(rows) / 4
    for row in gaps:
        assert row["location_id"] == 1234
        assert row["period_start"] is not None
    # Every period keeps its row: placeholders are not omissions.
    assert len({row["period_start"] for row in rows}) == 31 * 24


def test_placeholder_rows_of_a_grouped_export_keep_their_group_keys():
    spec = get_export("viewers", "1h", group_by_demographics=True)
    rows = generate_rows(
        "viewers",
        "1h",
        start="2025-01-01",
        end="2025-01-01T01:59:59",
        locations=[9876],
        group_by_demographics=True,
        placeholder_rate=1.0,
    )
    assert len(rows) == 2 * 3 * 5
    assert all(all(row[m] is None for m in spec.metrics) for row in rows)
    assert {(row["gender"], row["age"]) for row in rows} == {
        (g, a) for g in range(3) for a in range(5)
    }


def demographic_shares(seed: int, location: int) -> dict[tuple[int, int], float]:
    """Share of the watchers of each (gender, age) group over two weeks at one location."""
    rows = generate_rows(
        "viewers",
        "1h",
        start="2025-03-03",
        end="2025-03-16T23:59:59",
        locations=[location],
        group_by_demographics=True,
        seed=seed,
        placeholder_rate=0.0,
        null_rate=0.0,
    )
    totals: dict[tuple[int, int], int] = {}
    for row in rows:
        key = (row["gender"], row["age"])
        totals[key] = totals.get(key, 0) + row["watcher_count"]
    whole = sum(totals.values())
    return {key: count / whole for key, count in totals.items()}


def test_the_audience_varies_by_gender_and_age():
    shares = demographic_shares(seed=7, location=4636)
    assert set(shares) == {(g, a) for g in range(3) for a in range(5)}
    # An even split would give 1/15 = 6.7% to every group.
    assert max(shares.values()) > 2 * min(shares.values())
    assert max(shares.values()) > 0.1
    # By gender, and by age within a gender, not only across the whole grid.
    by_gender = [sum(v for (g, _), v in shares.items() if g == gender) for gender in range(3)]
    assert max(by_gender) > 1.3 * min(by_gender)
    women = [shares[(1, age)] for age in range(5)]
    assert max(women) > 1.5 * min(women)


def test_the_audience_mix_depends_on_the_seed_and_the_location():
    here = demographic_shares(seed=7, location=4636)
    assert demographic_shares(seed=7, location=4636) == here
    elsewhere = demographic_shares(seed=7, location=4637)
    other_seed = demographic_shares(seed=8, location=4636)
    assert max(abs(here[k] - elsewhere[k]) for k in here) > 0.005
    assert max(abs(here[k] - other_seed[k]) for k in here) > 0.02


def test_without_gaps_no_row_is_a_placeholder():
    spec = get_export("vehicles", "1h")
    rows = generate_rows(
        "vehicles",
        "1h",
        start="2025-01-01",
        end="2025-01-10T23:59:59",
        locations=[1, 2],
        placeholder_rate=0.0,
    )
    assert not [row for row in rows if all(row[m] is None for m in spec.metrics)]


# -- determinism --------------------------------------------------------------------------


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_same_seed_gives_the_same_bytes(spec: ExportSpec):
    args = dict(start="2025-03-01T00:00:00", end="2025-03-01T03:59:59", **query_args(spec))
    a = response_body(spec.data_type, resolution_of(spec), seed=11, **args)
    b = response_body(spec.data_type, resolution_of(spec), seed=11, **args)
    c = response_body(spec.data_type, resolution_of(spec), seed=12, **args)
    assert a == b
    assert a != c
    payload = orjson.loads(a)
    assert payload["state"] == "finished"
    assert payload["creation_date"] == "2025-01-01 00:00:00"


def test_body_is_compact_json():
    body = response_body("gate", "1h", start="2025-01-01", end="2025-01-01T01:00:00", locations=[1])
    assert b": " not in body
    assert b", " not in body
    assert b"\n" not in body


@pytest.mark.parametrize(
    ("data_type", "resolution"),
    [
        ("viewers", "15m"),
        ("viewers", "finest"),
        ("proof_of_play_by_location", "1h"),
        ("viewers_apc", "finest"),
        ("compass", "1d"),
    ],
)
def test_overlapping_queries_give_identical_rows_for_shared_periods(data_type, resolution):
    first = generate_rows(
        data_type,
        resolution,
        start="2025-03-01T00:00:00",
        end="2025-03-03T11:59:59",
        locations=[10, 11],
    )
    second = generate_rows(
        data_type,
        resolution,
        start="2025-03-02T06:30:00",
        end="2025-03-04T23:59:59",
        locations=[10, 11],
    )
    time_key = "start_time" if data_type == "viewers_apc" else "period_start"
    lo, hi = "2025-03-02T06:30:00", "2025-03-03T11:59:59"

    def shared(rows):
        return [r for r in rows if lo <= r[time_key].replace(" ", "T") <= hi]

    assert shared(first)
    assert shared(first) == shared(second)


SPLITS = [
    ("viewers", "1h", "2025-03-01T13:00:00"),
    ("viewers", "1h", "2025-03-01T13:17:42"),
    ("ots", "15m", "2025-03-02T00:00:00"),
    ("gate", "1d", "2025-03-02T12:00:00"),
    ("viewers", "1M", "2025-04-01T00:00:00"),
    ("viewers", "7d", "2025-03-10T00:00:01"),
    ("viewers", "finest", "2025-03-01T13:17:42"),
    ("vehicles_footfall", "finest", "2025-03-02T00:00:00"),
    ("viewers_apc", "finest", "2025-03-01T20:00:00"),
]


@pytest.mark.parametrize(("data_type", "resolution", "split"), SPLITS)
def test_a_range_split_in_two_inclusive_chunks_concatenates_to_the_whole(
    data_type, resolution, split
):
    start, end = "2025-03-01T00:00:00", "2025-05-31T23:59:59"
    if resolution in ("finest", "15m", "1h"):
        end = "2025-03-02T23:59:59"
    common = {"locations": [4636, 4637, 4638], "seed": 3}
    whole = generate_rows(data_type, resolution, start=start, end=end, **common)
    cut = dt.datetime.fromisoformat(split)
    before = (cut - dt.timedelta(seconds=1)).isoformat()
    left = generate_rows(data_type, resolution, start=start, end=before, **common)
    right = generate_rows(data_type, resolution, start=split, end=end, **common)
    assert left
    assert right
    assert left + right == whole


def test_end_is_inclusive_to_the_second():
    rows = generate_rows(
        "viewers", "1h", start="2025-03-01T02:00:00", end="2025-03-01T04:00:00", locations=[1]
    )
    assert [r["period_start"][11:] for r in rows] == ["02:00:00", "03:00:00", "04:00:00"]
    rows = generate_rows(
        "viewers", "1h", start="2025-03-01T02:00:00", end="2025-03-01T03:59:59", locations=[1]
    )
    assert [r["period_start"][11:] for r in rows] == ["02:00:00", "03:00:00"]
    # A period that starts before ``start`` is not the query's.
    rows = generate_rows(
        "viewers", "1h", start="2025-03-01T02:00:01", end="2025-03-01T03:59:59", locations=[1]
    )
    assert [r["period_start"][11:] for r in rows] == ["03:00:00"]


def test_finest_events_lie_inside_the_range_in_time_order():
    start, end = "2025-03-01T10:20:30", "2025-03-01T16:45:00"
    rows = generate_rows("viewers", "finest", start=start, end=end, locations=[1, 2, 3])
    times = [row["period_start"] for row in rows]
    assert times
    assert times == sorted(times)
    assert start <= times[0]
    assert times[-1] <= end


def test_events_per_hour_scales_finest_exports():
    few = count_rows(
        "footfall",
        "finest",
        start="2025-03-01",
        end="2025-03-07T23:59:59",
        locations=[1],
        events_per_hour=2,
    )
    many = count_rows(
        "footfall",
        "finest",
        start="2025-03-01",
        end="2025-03-07T23:59:59",
        locations=[1],
        events_per_hour=20,
    )
    assert 7 * 24 * 1 < few < 7 * 24 * 3
    assert 7 * 24 * 15 < many < 7 * 24 * 25


# -- counting -----------------------------------------------------------------------------


@pytest.mark.parametrize("spec", SPECS, ids=spec_id)
def test_count_rows_is_exact(spec: ExportSpec):
    start, end = "2025-03-01T07:13:09", "2025-03-02T05:48:51"
    options = query_args(spec)
    rows = rows_of(spec, start, end)
    assert count_rows(spec.data_type, resolution_of(spec), start=start, end=end, **options) == len(
        rows
    )


def test_count_rows_of_a_huge_aggregated_export_is_arithmetic():
    # One year of hourly demographics for 1000 locations: 131 million rows, counted instantly.
    n = count_rows(
        "viewers",
        "1h",
        start="2025-01-01",
        end="2025-12-31T23:59:59",
        locations=range(1, 1001),
        group_by_demographics=True,
    )
    assert n == 365 * 24 * 1000 * 15


# -- dimensions, filters, sources ---------------------------------------------------------


def test_repeating_keys_give_a_fixed_set_of_rows_per_source_and_period():
    rows = generate_rows(
        "gate", "1h", start="2025-03-01", end="2025-03-01T23:59:59", locations=[26549, 26550]
    )
    per_location: dict[int, set[int]] = {}
    for row in rows:
        per_location.setdefault(row["location_id"], set()).add(row["gate_id"])
    assert set(per_location) == {26549, 26550}
    for location, gates in per_location.items():
        assert 1 <= len(gates) <= 3
        n = sum(1 for r in rows if r["location_id"] == location)
        assert n == 24 * len(gates)


def test_content_ids_filter_proof_of_play_rows():
    whole = generate_rows(
        "proof_of_play_by_location",
        "1h",
        start="2025-03-01",
        end="2025-03-01T23:59:59",
        locations=[1, 2, 3],
    )
    contents = sorted({row["content_id"] for row in whole})
    assert len(contents) >= 2
    kept = generate_rows(
        "proof_of_play_by_location",
        "1h",
        start="2025-03-01",
        end="2025-03-01T23:59:59",
        locations=[1, 2, 3],
        content_ids=contents[:1],
    )
    assert kept == [row for row in whole if row["content_id"] == contents[0]]


def test_content_ids_filter_apc_contents_and_drop_viewers_without_them():
    args = {"start": "2025-03-01", "end": "2025-03-01T23:59:59", "locations": [1, 2]}
    whole = generate_rows("viewers_apc", "finest", **args)
    kept = generate_rows("viewers_apc", "finest", content_ids="content 1", **args)
    assert kept
    assert len(kept) < len(whole)
    assert all(el["content_id"] == "content 1" for row in kept for el in row["contents"])


def test_extrapolated_exports_have_no_location_and_depend_on_the_amount():
    args = {"start": "2025-03-01", "end": "2025-03-01T23:59:59", "locations": [1467, 1468]}
    twelve = generate_rows("extrapolated_ots", "1h", extrapolation_amount=12, **args)
    average = generate_rows("extrapolated_ots", "1h", extrapolation_amount="", **args)
    assert len(twelve) == len(average) == 24
    assert all("location_id" not in row for row in twelve)
    assert twelve != average


def test_sources_follow_the_site_topology():
    by_site = generate_rows(
        "proof_of_play_by_site",
        "1d",
        start="2025-03-01",
        end="2025-03-01",
        locations=[4636, 4637, 1780],
    )
    assert {row["site_id"] for row in by_site} == {463, 178}
    by_location = generate_rows("ots", "1d", start="2025-03-01", end="2025-03-01", sites=[178])
    assert [row["location_id"] for row in by_location] == list(site_locations(178))
    tagged = generate_rows("ots", "1d", start="2025-03-01", end="2025-03-01", location_tags="2")
    assert [row["location_id"] for row in tagged] == [2001, 2002, 2003]


def test_rows_come_period_by_period_then_source_by_ascending_id():
    rows = generate_rows(
        "ots", "1h", start="2025-03-01", end="2025-03-01T01:59:59", locations="3,1,2"
    )
    assert [(r["period_start"][11:13], r["location_id"]) for r in rows] == [
        ("00", 1),
        ("00", 2),
        ("00", 3),
        ("01", 1),
        ("01", 2),
        ("01", 3),
    ]


# -- quirks -------------------------------------------------------------------------------


def test_quirks_reproduce_the_documentation():
    span = {
        "start": "2025-03-01",
        "end": "2025-03-03T23:59:59",
        "locations": [1, 2, 3],
        "quirks": True,
        "placeholder_rate": 0,
    }
    compass = generate_rows("compass", "1h", **span)
    ratios = [row["north"] for row in compass if row["north"] is not None]
    assert ratios
    assert all(isinstance(r, str) and float(r) == round(float(r), 3) for r in ratios)
    assert {type(row["location_id"]) for row in compass} == {int, str}
    vehicles = generate_rows("vehicles", "finest", **span)
    assert 12356 in {row["color"] for row in vehicles}
    im = generate_rows("im", "1h", **span)
    assert {row["backup_value"] for row in im} - {None} == {"yes", ""}
    retail = generate_rows("retail_analytics_footfall", "finest", **span)
    assert all(
        isinstance(row["nb_visits"], float) for row in retail if row["nb_visits"] is not None
    )


def test_without_quirks_values_have_their_declared_types():
    span = {"start": "2025-03-01", "end": "2025-03-03T23:59:59", "locations": [1, 2, 3]}
    compass = generate_rows("compass", "1h", **span)
    assert {type(row["north"]) for row in compass} <= {float, type(None)}
    assert {type(row["location_id"]) for row in compass} == {int}


# -- the grid and the query ---------------------------------------------------------------


def test_period_grid():
    weeks = period_starts("7d", dt.datetime(2025, 3, 1), dt.datetime(2025, 3, 31))
    assert [w.day for w in weeks] == [3, 10, 17, 24, 31]
    assert all(w.weekday() == 0 for w in weeks)
    months = period_starts("1M", dt.datetime(2024, 11, 1), dt.datetime(2025, 2, 28, 23, 59, 59))
    assert [m.isoformat() for m in months] == [
        "2024-11-01T00:00:00",
        "2024-12-01T00:00:00",
        "2025-01-01T00:00:00",
        "2025-02-01T00:00:00",
    ]
    blocks = period_starts("30d", dt.datetime(2025, 1, 1), dt.datetime(2025, 12, 31))
    assert all((b - dt.datetime(1970, 1, 1)).days % 30 == 0 for b in blocks)
    assert len(blocks) in (12, 13)
    assert period_starts("1h", dt.datetime(2025, 1, 1, 5, 1), dt.datetime(2025, 1, 1, 5, 59)) == []


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {
                "time_resolution": "1h",
                "start": "2025-01-01T00:00:00",
                "end": "2025-01-01T00:00:00",
                "locations": "1",
            },
            "Missing mandatory argument: data_type",
        ),
        (
            {
                "data_type": "nope",
                "time_resolution": "1h",
                "start": "2025-01-01T00:00:00",
                "end": "2025-01-01T00:00:00",
                "locations": "1",
            },
            "unknown data_type",
        ),
        (
            {
                "data_type": "im",
                "time_resolution": "1d",
                "start": "2025-01-01T00:00:00",
                "end": "2025-01-01T00:00:00",
                "locations": "1",
            },
            "'1h' only",
        ),
        (
            {
                "data_type": "ots",
                "time_resolution": "1h",
                "start": "2025-01-02T00:00:00",
                "end": "2025-01-01T00:00:00",
                "locations": "1",
            },
            "is after end",
        ),
        (
            {
                "data_type": "ots",
                "time_resolution": "1h",
                "start": "yesterday",
                "end": "2025-01-01T00:00:00",
                "locations": "1",
            },
            "Invalid start",
        ),
        (
            {
                "data_type": "ots",
                "time_resolution": "1h",
                "start": "2025-01-01T00:00:00",
                "end": "2025-01-01T00:00:00",
            },
            "At least one of locations",
        ),
        (
            {
                "data_type": "ots",
                "time_resolution": "1h",
                "start": "2025-01-01T00:00:00",
                "end": "2025-01-01T00:00:00",
                "locations": "12,abc",
            },
            "Invalid locations",
        ),
        (
            {
                "data_type": "extrapolated_ots",
                "time_resolution": "1h",
                "start": "2025-01-01T00:00:00",
                "end": "2025-01-01T00:00:00",
                "locations": "1",
            },
            "extrapolation_amount is mandatory",
        ),
    ],
)
def test_queries_the_api_refuses(params, message):
    with pytest.raises(QueryError, match=message):
        FakeQuery.from_params(params)


def test_legacy_data_type_aliases_are_accepted():
    query = FakeQuery.from_params(
        {
            "data_type": "persons",
            "time_resolution": "1h",
            "start": "2025-01-01T00:00:00",
            "end": "2025-01-01T00:00:00",
            "locations": "4636",
        }
    )
    assert query.spec.data_type == "footfall"


def test_generator_rows_match_the_module_helper():
    gen = DataGenerator(seed=4, legacy=True)
    query = FakeQuery.build("viewers", "1d", start="2025-01-01", end="2025-01-05", locations=[1])
    assert gen.rows(query) == generate_rows(
        "viewers", "1d", start="2025-01-01", end="2025-01-05", locations=[1], seed=4, legacy=True
    )
    assert gen.count_rows(query) == 5
