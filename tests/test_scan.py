"""scan_vidicenter against the fake VidiCenter: what is requested, what is saved, what is said."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from support.clients import manual_client

import vidiframe as vf
from vidiframe._client import VidiCenterClient
from vidiframe._transport import Response
from vidiframe._wire import DATA_PATH
from vidiframe.testing import FakeVidiCenter, ManualClock

TOKEN = "scan-t0ken-5e1d"
LOCATIONS = [4636, 4637, 4650]
JANUARY = {"start": "2025-01-01", "end": "2025-01-31"}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def fake(clock: ManualClock) -> Iterator[FakeVidiCenter]:
    with FakeVidiCenter(seed=7, token=TOKEN, clock=clock, build_seconds=2.0, serve=False) as f:
        yield f


make_client = manual_client


def arguments(**changes: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "data_type": "viewers",
        "time_resolution": "1h",
        **JANUARY,
        "locations": LOCATIONS,
        "progress": False,
    }
    args.update(changes)
    return {k: v for k, v in args.items() if v is not None}


def sent(fake: FakeVidiCenter) -> list[tuple[str, str, str]]:
    """(start, end, sources) of each export the fake was asked to build."""
    return sorted(
        {
            (r.params["start"], r.params["end"], r.params.get("locations") or r.params["sites"])
            for r in fake.data_requests
        }
    )


def topology_calls(fake: FakeVidiCenter) -> list[str]:
    """The paths of the requests that were not for exports (the sites' locations)."""
    return [r.path for r in fake.requests if r.path != DATA_PATH]


def calls(fake: FakeVidiCenter) -> tuple[int, int, int, int]:
    """(exports built, downloads, calls to the data endpoint, other calls) so far."""
    return (
        fake.builds_started(),
        fake.downloads,
        len(fake.data_requests),
        len(topology_calls(fake)),
    )


# -- the schema, before anything is fetched ---------------------------------------------------


def test_schema_is_the_exports_and_nothing_is_fetched(
    fake: FakeVidiCenter, clock: ManualClock
) -> None:
    lf = vf.scan_vidicenter(
        **arguments(group_by_demographics=True), client=make_client(fake, clock)
    )
    assert lf.collect_schema() == vf.export_schema("viewers", "1h", group_by_demographics=True)
    assert "PYTHON[vidicenter] SCAN" in lf.explain()
    assert fake.requests == []


def test_bad_arguments_fail_when_the_scan_is_made(fake: FakeVidiCenter, clock: ManualClock) -> None:
    client = make_client(fake, clock)
    with pytest.raises(vf.InvalidRequestError, match="time_resolution"):
        vf.scan_vidicenter(**arguments(time_resolution="2h"), client=client)
    with pytest.raises(vf.InvalidRequestError, match="no source ids"):
        vf.scan_vidicenter(**arguments(locations=None), client=client)
    with pytest.raises(vf.InvalidRequestError, match="placeholders"):
        vf.scan_vidicenter(**arguments(placeholders="fill"), client=client)
    with pytest.raises(vf.InvalidRequestError, match="client must be a VidiCenterClient"):
        vf.scan_vidicenter(**arguments(), client="demo")  # type: ignore[arg-type]
    assert fake.requests == []


# -- pushdown: what is requested ------------------------------------------------------------------


def test_a_narrowed_scan_saves_calls_and_equals_the_filtered_read(clock: ManualClock) -> None:
    """The example of docs/lazy-scans.md: January for 3 locations, in weekly chunks."""
    wanted = pl.col("period_start_date").is_between(dt.date(2025, 1, 10), dt.date(2025, 1, 11)) & (
        pl.col("location_id") == 4637
    )
    weekly = 3 * 24 * 7

    def served() -> FakeVidiCenter:
        return FakeVidiCenter(seed=7, token=TOKEN, clock=clock, build_seconds=2.0, serve=False)

    with served() as fake:
        full = vf.read_vidicenter(**arguments(), client=make_client(fake, clock, max_rows=weekly))
        without = (fake.builds_started(), fake.downloads, len(fake.data_requests))
    with served() as fake:
        lf = vf.scan_vidicenter(**arguments(), client=make_client(fake, clock, max_rows=weekly))
        got = lf.filter(wanted).collect()
        with_pushdown = (fake.builds_started(), fake.downloads, len(fake.data_requests))
        assert sent(fake) == [("2025-01-10T00:00:00", "2025-01-11T23:59:59", "4637")]

    assert_frame_equal(got, full.filter(wanted))
    assert got.height == 48
    # 5 weekly exports without pushdown, one with. Each export costs a start, a poll
    # that finds it built and a download at least; how many polls the five exports
    # built side by side need depends on how their threads interleave (19 in the run
    # the docs quote). The single narrowed export takes 4 calls (start, 2 polls, download).
    assert without[:2] == (5, 5)
    assert without[2] >= 3 * 5
    assert with_pushdown == (1, 1, 4)


def test_a_location_filter_narrows_a_site_scan_through_its_topology(clock: ManualClock) -> None:
    """January for site 463 (its 10 locations), asked about one location on two days."""
    wanted = pl.col("period_start_date").is_between(dt.date(2025, 1, 10), dt.date(2025, 1, 11)) & (
        pl.col("location_id") == 4637
    )
    args = arguments(locations=None, sites=[463])
    weekly = 3 * 24 * 7

    def served() -> FakeVidiCenter:
        return FakeVidiCenter(seed=7, token=TOKEN, clock=clock, build_seconds=2.0, serve=False)

    with served() as fake:
        full = vf.read_vidicenter(**args, client=make_client(fake, clock, max_rows=weekly))
        without = calls(fake)
    with served() as fake:
        lf = vf.scan_vidicenter(**args, client=make_client(fake, clock, max_rows=weekly))
        got = lf.filter(wanted).collect()
        with_pushdown = calls(fake)
        assert sent(fake) == [("2025-01-10T00:00:00", "2025-01-11T23:59:59", "4637")]
        assert "sites" not in fake.data_requests[0].params
        assert topology_calls(fake) == ["/api/v1/site/463/locations/"]

    assert_frame_equal(got, full.filter(wanted))
    assert got.height == 48
    assert set(full["location_id"]) == set(range(4630, 4640))
    # The site's 7,440 rows take 15 exports of at most 504 rows; the narrowed scan
    # reads the site's locations once, then builds one export of 48 rows in 4 calls.
    assert without[:2] == (15, 15)
    assert without[2] >= 3 * 15
    assert without[3] == 0
    assert with_pushdown == (1, 1, 4, 1)


def test_the_topology_is_read_fresh_never_from_the_clients_cache(
    fake: FakeVidiCenter, clock: ManualClock, tmp_path: Path
) -> None:
    client = make_client(fake, clock, cache_dir=tmp_path)
    lf = vf.scan_vidicenter(
        **arguments(locations=None, sites=[463], end="2025-01-02"), client=client
    )
    first = lf.filter(pl.col("location_id") >= 4638).collect()
    second = lf.filter(pl.col("location_id") < 4632).collect()
    # A cached list would miss a location added to the site since, and narrowing
    # to it would lose that location's rows: each collect asks again.
    assert topology_calls(fake) == ["/api/v1/site/463/locations/"] * 2
    assert [r.params["locations"] for r in fake.data_requests if "status_only" not in r.params][
        ::2
    ] == ["4638,4639", "4630,4631"]
    assert first["location_id"].unique().sort().to_list() == [4638, 4639]
    assert second["location_id"].unique().sort().to_list() == [4630, 4631]
    assert first.height == second.height == 2 * 48


def test_locations_and_sites_together_narrow_to_one_list(
    fake: FakeVidiCenter, clock: ManualClock
) -> None:
    client = make_client(fake, clock)
    args = arguments(locations=[4650], sites=[463], end="2025-01-01")
    predicate = pl.col("location_id").is_in([4650, 4637]) & (pl.col("watcher_count") > 0)
    got = vf.scan_vidicenter(**args, client=client).filter(predicate).collect()
    assert sent(fake) == [("2025-01-01T00:00:00", "2025-01-01T23:59:59", "4637,4650")]
    assert_frame_equal(got, vf.read_vidicenter(**args, client=client).filter(predicate))
    assert set(got["location_id"]) == {4637, 4650}


def test_keeping_every_location_of_the_sites_keeps_the_sites_request(
    fake: FakeVidiCenter, clock: ManualClock
) -> None:
    client = make_client(fake, clock)
    args = arguments(locations=None, sites=[463], end="2025-01-01")
    got = vf.scan_vidicenter(**args, client=client).filter(pl.col("location_id") < 5000).collect()
    assert sent(fake) == [("2025-01-01T00:00:00", "2025-01-01T23:59:59", "463")]
    assert got.height == 10 * 24


def test_a_site_the_topology_lacks_is_reported_and_requested_whole(
    fake: FakeVidiCenter, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(fake, clock)
    # Site 777 is not in the fake account's topology (its export still has rows).
    args = arguments(locations=None, sites=[463, 777], end="2025-01-01")
    predicate = pl.col("location_id").is_in([4637, 7771])
    lf = vf.scan_vidicenter(**args, client=client)
    with (
        caplog.at_level(logging.DEBUG, logger="vidiframe"),
        pytest.warns(vf.UnmatchedIdWarning, match=r"topology has no site 777 .*sites=463,777") as w,
    ):
        got = lf.filter(predicate).collect()
    assert [(x.message.column, x.message.ids) for x in w] == [("site_id", (777,))]  # type: ignore[union-attr]
    assert sent(fake) == [("2025-01-01T00:00:00", "2025-01-01T23:59:59", "463,777")]
    assert (
        "scan_vidicenter: the filter on location_id applies to the fetched rows only: "
        "the topology has no site 777"
    ) in [r.getMessage() for r in caplog.records]
    assert_frame_equal(got, vf.read_vidicenter(**args, client=client).filter(predicate))
    assert set(got["location_id"]) == {4637, 7771}


@pytest.mark.parametrize(
    ("changes", "predicate", "column", "ids"),
    [
        ({}, pl.col("location_id").is_in([4636, 1, 2]), "location_id", (1, 2)),
        (
            {"locations": None, "sites": [463]},
            pl.col("location_id") == 4650,
            "location_id",
            (4650,),
        ),
        (
            {"data_type": "proof_of_play_by_site", "locations": None, "sites": [463, 465]},
            (pl.col("site_id") == 999) | (pl.col("site_id") == 465),
            "site_id",
            (999,),
        ),
    ],
)
def test_ids_the_sources_do_not_hold_are_reported(
    fake: FakeVidiCenter,
    clock: ManualClock,
    changes: dict[str, Any],
    predicate: pl.Expr,
    column: str,
    ids: tuple[int, ...],
) -> None:
    client = make_client(fake, clock)
    args = arguments(end="2025-01-01", **changes)
    lf = vf.scan_vidicenter(**args, client=client)
    listed = ", ".join(map(str, ids))
    with pytest.warns(vf.UnmatchedIdWarning, match=f"asks for {column} {listed}, which") as w:
        got = lf.filter(predicate).collect()
    assert [(x.message.column, x.message.ids) for x in w] == [(column, ids)]  # type: ignore[union-attr]
    assert_frame_equal(got, vf.read_vidicenter(**args, client=client).filter(predicate))
    assert not set(ids) & set(got[column])


@pytest.mark.parametrize(
    ("resolution", "predicate", "expected"),
    [
        # Bounds inside a period widen to the whole period: sound whatever rule the server
        # uses to attach periods to a range.
        (
            "1h",
            pl.col("period_start").is_between(
                dt.datetime(2025, 1, 3, 10, 30), dt.datetime(2025, 1, 3, 14, 20)
            ),
            ("2025-01-03T10:00:00", "2025-01-03T14:59:59"),
        ),
        # A strict upper bound on a period start leaves that period out.
        (
            "1h",
            (pl.col("period_start") >= dt.datetime(2025, 1, 3, 10))
            & (pl.col("period_start") < dt.datetime(2025, 1, 3, 15)),
            ("2025-01-03T10:00:00", "2025-01-03T14:59:59"),
        ),
        (
            "1d",
            pl.col("period_start_date") > dt.date(2025, 1, 29),
            ("2025-01-30T00:00:00", "2025-01-31T23:59:59"),
        ),
        (
            "15m",
            pl.col("period_start_date").is_in([dt.date(2025, 1, 20), dt.date(2025, 1, 5)]),
            ("2025-01-05T00:00:00", "2025-01-20T23:59:59"),
        ),
        (
            "finest",
            pl.col("period_start") <= dt.datetime(2025, 1, 1, 0, 10, 5, 500000),
            ("2025-01-01T00:00:00", "2025-01-01T00:10:05"),
        ),
        # A disjunction narrows to the hull of its sides.
        (
            "1h",
            (pl.col("period_start_date") == dt.date(2025, 1, 2))
            | (pl.col("period_start_date") == dt.date(2025, 1, 4)),
            ("2025-01-02T00:00:00", "2025-01-04T23:59:59"),
        ),
    ],
)
def test_time_filters_narrow_the_range_on_the_period_grid(
    fake: FakeVidiCenter,
    clock: ManualClock,
    resolution: str,
    predicate: pl.Expr,
    expected: tuple[str, str],
) -> None:
    client = make_client(fake, clock)
    args = arguments(time_resolution=resolution, locations=[4636])
    got = vf.scan_vidicenter(**args, client=client).filter(predicate).collect()
    assert sent(fake) == [(*expected, "4636")]
    assert_frame_equal(got, vf.read_vidicenter(**args, client=client).filter(predicate))


def test_month_bounds_widen_to_whole_months(fake: FakeVidiCenter, clock: ManualClock) -> None:
    client = make_client(fake, clock)
    args = arguments(time_resolution="1M", start="2024-01-01", end="2025-12-31", locations=[4636])
    predicate = pl.col("period_start").is_between(dt.datetime(2024, 3, 15), dt.datetime(2024, 5, 2))
    got = vf.scan_vidicenter(**args, client=client).filter(predicate).collect()
    assert sent(fake) == [("2024-03-01T00:00:00", "2024-05-31T23:59:59", "4636")]
    assert got["period_start"].to_list() == [dt.datetime(2024, 4, 1), dt.datetime(2024, 5, 1)]


def test_start_and_end_may_come_from_the_filter(fake: FakeVidiCenter, clock: ManualClock) -> None:
    client = make_client(fake, clock)
    lf = vf.scan_vidicenter(**arguments(start=None, end=None), client=client)
    got = lf.filter(pl.col("period_start_date") >= dt.date(2025, 2, 1)).filter(
        pl.col("period_start") < dt.datetime(2025, 2, 2, 6)
    )
    frame = got.collect()
    assert sent(fake) == [("2025-02-01T00:00:00", "2025-02-02T05:59:59", "4636,4637,4650")]
    assert frame.height == 3 * 30
    assert "viewers/1h ?..? locations=4636,4637,4650" in lf.explain()


@pytest.mark.parametrize(
    ("changes", "predicate", "message"),
    [
        ({"start": None, "end": None}, pl.col("watcher_count") > 0, "no start"),
        (
            {"end": None},
            pl.col("period_start_date") >= dt.date(2025, 1, 5),
            r"no end .*pass end= to scan_vidicenter or filter on a bound, "
            r'e.g. pl.col\("period_start_date"\) <=',
        ),
        (
            {"start": None},
            (pl.col("period_start_date") >= dt.date(2025, 1, 5)) | (pl.col("location_id") == 1),
            "no start",
        ),
        (
            {"start": None, "time_resolution": "7d"},
            pl.col("period_start_date") >= dt.date(2025, 1, 5),
            r"no start .*\(a 7d export cannot take its range from a filter",
        ),
        # Refused before the sites' locations are read: not even that call is made.
        (
            {"end": None, "locations": None, "sites": [463]},
            (pl.col("location_id") == 4636) & (pl.col("period_start_date") >= dt.date(2025, 1, 5)),
            "no end",
        ),
    ],
)
def test_a_scan_without_a_time_range_says_which_bound_to_add(
    fake: FakeVidiCenter,
    clock: ManualClock,
    changes: dict[str, Any],
    predicate: pl.Expr,
    message: str,
) -> None:
    lf = vf.scan_vidicenter(**arguments(**changes), client=make_client(fake, clock))
    with pytest.raises(vf.InvalidRequestError, match=message):
        lf.filter(predicate).collect()
    assert fake.requests == []


def test_sites_narrow_on_site_id(fake: FakeVidiCenter, clock: ManualClock) -> None:
    client = make_client(fake, clock)
    args = arguments(data_type="proof_of_play_by_site", locations=None, sites=[463, 465, 470])
    predicate = pl.col("site_id").is_in([465, 999]) & (
        pl.col("period_start_date") == dt.date(2025, 1, 7)
    )
    with pytest.warns(vf.UnmatchedIdWarning, match="site_id 999"):
        got = vf.scan_vidicenter(**args, client=client).filter(predicate).collect()
    assert sent(fake) == [("2025-01-07T00:00:00", "2025-01-07T23:59:59", "465")]
    assert got["site_id"].unique().to_list() == [465]
    assert_frame_equal(got, vf.read_vidicenter(**args, client=client).filter(predicate))


# -- empty, and local-only filters explained ----------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "predicate", "reason"),
    [
        ({}, pl.col("period_start_date") >= dt.date(2025, 3, 1), "do not meet"),
        (
            {},
            (pl.col("period_start_date") == dt.date(2025, 1, 3))
            & (pl.col("period_start_date") == dt.date(2025, 1, 4)),
            "can keep no row",
        ),
        ({}, pl.col("location_id").is_in([]), "can keep no row"),
        # A time range that misses the scan's is found before the sites' locations are read.
        (
            {"locations": None, "sites": [463]},
            (pl.col("period_start_date") >= dt.date(2025, 3, 1)) & (pl.col("location_id") == 4636),
            "do not meet",
        ),
    ],
)
def test_an_empty_intersection_gives_an_empty_frame_without_a_request(
    fake: FakeVidiCenter,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
    changes: dict[str, Any],
    predicate: pl.Expr,
    reason: str,
) -> None:
    lf = vf.scan_vidicenter(**arguments(**changes), client=make_client(fake, clock))
    with caplog.at_level(logging.DEBUG, logger="vidiframe"):
        got = lf.filter(predicate).collect()
    assert got.is_empty()
    assert got.schema == vf.export_schema("viewers", "1h")
    assert fake.requests == []
    assert any(reason in r.getMessage() and "no request" in r.getMessage() for r in caplog.records)


def test_ids_outside_the_sources_are_reported_not_an_empty_frame_in_silence(
    fake: FakeVidiCenter, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    lf = vf.scan_vidicenter(**arguments(), client=make_client(fake, clock))
    with (
        caplog.at_level(logging.DEBUG, logger="vidiframe"),
        pytest.warns(
            vf.UnmatchedIdWarning,
            match=r"location_id 1, 2, which the scan's sources do not hold "
            r"\(locations=4636,4637,4650\): no row can have them",
        ),
    ):
        got = lf.filter(pl.col("location_id").is_in([1, 2])).collect()
    assert got.is_empty()
    assert fake.requests == []
    assert (
        "scan_vidicenter: the filter keeps none of locations=4636,4637,4650: empty frame, "
        "no request"
    ) in [r.getMessage() for r in caplog.records]


def test_a_filter_that_cannot_narrow_is_explained_in_a_debug_line(
    fake: FakeVidiCenter, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(fake, clock)
    # Location tag 463 holds locations 463001-463003; tags may overlap: never narrowed.
    args = arguments(locations=None, location_tags=[463], end="2025-01-01")
    predicate = (pl.col("location_id") == 463002) & (pl.col("period_start").dt.hour() < 3)
    lf = vf.scan_vidicenter(**args, client=client)
    with caplog.at_level(logging.DEBUG, logger="vidiframe"):
        got = lf.filter(predicate).collect()
    messages = [r.getMessage() for r in caplog.records if "scan_vidicenter" in r.getMessage()]
    assert (
        "scan_vidicenter: the filter on location_id applies to the fetched rows only: "
        "the scan's sources are location_tags=463; tags may overlap: they are never narrowed"
    ) in messages
    assert any(
        'col("period_start").dt.hour()' in m and "applies to the fetched rows only" in m
        for m in messages
    )
    with caplog.at_level(logging.DEBUG, logger="vidiframe"):
        lf.filter(pl.col("watcher_count") > 1).collect()
    assert (
        "scan_vidicenter: the filter on watcher_count applies to the fetched rows only: "
        "only period_start, period_start_date, location_id and site_id narrow a request"
    ) in [r.getMessage() for r in caplog.records]
    # Still requested for the whole tag, and the rows are those of the filtered read.
    assert [r.params["location_tags"] for r in fake.data_requests][:1] == ["463"]
    assert got["location_id"].unique().to_list() == [463002]
    assert got["period_start"].dt.hour().to_list() == [0, 1, 2]
    assert_frame_equal(got, vf.read_vidicenter(**args, client=client).filter(predicate))


@pytest.mark.parametrize(
    ("changes", "line"),
    [
        (
            {},
            "INFO: viewers/1h 2025-01-01T00:00:00..2025-01-31T23:59:59 locations=4636,4637,4650; "
            "filters on period_start, period_start_date, location_id narrow the request; applied "
            "to the fetched rows only: any other column or expression",
        ),
        (
            {"locations": None, "sites": [463]},
            "INFO: viewers/1h 2025-01-01T00:00:00..2025-01-31T23:59:59 sites=463; filters on "
            "period_start, period_start_date, location_id (through the locations of sites=463) "
            "narrow the request; applied to the fetched rows only: any other column or expression",
        ),
        (
            {"time_resolution": "7d", "locations": None, "site_tags": [4]},
            "INFO: viewers/7d 2025-01-01T00:00:00..2025-01-31T23:59:59 site_tags=4; filters on "
            "nothing narrow the request; applied to the fetched rows only: period_start (the "
            "period grid of 7d exports is not documented); period_start_date (the period grid of "
            "7d exports is not documented); location_id (the scan's sources are site_tags=4; tags "
            "may overlap: they are never narrowed); any other column or expression",
        ),
        (
            {"data_type": "proof_of_play_by_site", "end": "2025-01-01"},
            "INFO: proof_of_play_by_site/1h 2025-01-01T00:00:00..2025-01-01T23:59:59 "
            "locations=4636,4637,4650; filters on period_start, period_start_date narrow the "
            "request; applied to the fetched rows only: site_id (the scan's sources are "
            "locations=4636,4637,4650; only a plain sites= list narrows on site_id); any other "
            "column or expression",
        ),
    ],
)
def test_explain_says_which_filters_narrow_and_which_cannot(
    fake: FakeVidiCenter, clock: ManualClock, changes: dict[str, Any], line: str
) -> None:
    lf = vf.scan_vidicenter(**arguments(**changes), client=make_client(fake, clock))
    plan = lf.filter(~pl.col("is_placeholder")).explain().splitlines()
    assert plan[-2:] == ['SELECTION: col("is_placeholder").not()', line]
    assert fake.requests == []


# -- head(n): chunk by chunk ------------------------------------------------------------------------


def test_head_fetches_only_the_chunks_it_needs(fake: FakeVidiCenter, clock: ManualClock) -> None:
    client = make_client(fake, clock, max_rows=24)  # one chunk a day for one location
    args = arguments(locations=[4637], end="2025-01-10")
    full = vf.read_vidicenter(**args, client=client)
    downloads_full = fake.downloads
    head = vf.scan_vidicenter(**args, client=client).head(30).collect()
    assert_frame_equal(head, full.head(30))
    # 30 rows are in the first two daily chunks: two downloads instead of ten.
    assert (downloads_full, fake.downloads - downloads_full) == (10, 2)


def test_projection_applies_after_the_filter(fake: FakeVidiCenter, clock: ManualClock) -> None:
    client = make_client(fake, clock)
    args = arguments(end="2025-01-02")
    lf = vf.scan_vidicenter(**args, client=client)
    got = lf.filter(pl.col("watcher_count") > 2).select("location_id", "dwell_time_s").collect()
    expected = (
        vf.read_vidicenter(**args, client=client)
        .filter(pl.col("watcher_count") > 2)
        .select("location_id", "dwell_time_s")
    )
    assert_frame_equal(got, expected)
    assert got.height > 0


class AddFieldTransport:
    """Adds a field the registry does not know to the rows of every finished body."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def get(
        self, url: str, *, params: Mapping[str, str], headers: Mapping[str, str], timeout: float
    ) -> Response:
        response = self.inner.get(url, params=params, headers=headers, timeout=timeout)
        payload = orjson.loads(response.body) if response.status == 200 else {}
        if "data" not in payload:
            return response
        for row in payload["data"]:
            row["brand_new_metric"] = 7
        return Response(response.status, orjson.dumps(payload), response.headers)

    def close(self) -> None:
        self.inner.close()


def test_an_unknown_field_is_an_error_not_a_dropped_column(
    fake: FakeVidiCenter, clock: ManualClock
) -> None:
    client = VidiCenterClient(
        "demo",
        TOKEN,
        fake.url,
        transport=AddFieldTransport(fake.transport()),
        clock=clock,
        sleep=clock.sleep,
        cache_dir=None,
    )
    lf = vf.scan_vidicenter(**arguments(end="2025-01-01"), client=client)
    with (
        pytest.warns(vf.UnknownFieldWarning, match="brand_new_metric"),
        pytest.raises(vf.SchemaError, match=r"brand_new_metric.*vf.read_vidicenter"),
    ):
        lf.collect()


def test_weekly_exports_are_not_narrowed_in_time_but_still_by_id(
    fake: FakeVidiCenter, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(fake, clock)
    args = arguments(time_resolution="7d")
    predicate = (pl.col("period_start_date") >= dt.date(2025, 1, 20)) & (
        pl.col("location_id") == 4650
    )
    with caplog.at_level(logging.DEBUG, logger="vidiframe"):
        got = vf.scan_vidicenter(**args, client=client).filter(predicate).collect()
    assert sent(fake) == [("2025-01-01T00:00:00", "2025-01-31T23:59:59", "4650")]
    assert (
        "scan_vidicenter: the filter on period_start_date applies to the fetched rows only: "
        "the period grid of 7d exports is not documented"
    ) in [r.getMessage() for r in caplog.records]
    assert got["period_start"].to_list() == [dt.datetime(2025, 1, 20), dt.datetime(2025, 1, 27)]
    assert_frame_equal(got, vf.read_vidicenter(**args, client=client).filter(predicate))
