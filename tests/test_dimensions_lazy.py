"""Names, clip names and UTC on lazy frames, and names as of each row's day (issue 12, 2-4).

``lf.vidi.with_names`` / ``with_clip_names`` / ``with_utc`` return a LazyFrame
that equals the eager result once collected; the unmatched ids are reported when
the plan is collected. ``as_of=`` names each row from the snapshot of its day.
Expected values are written out here, or computed in plain Python from the
snapshots, never by the code under test.
"""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import vidiframe as vf
from vidiframe._dimension_snapshots import snapshot_path, write_snapshot
from vidiframe.testing import FakeVidiCenter, ManualClock

D = dt.date
LOC = vf.read_locations(
    [
        {"id": 204452, "site_id": 8654, "label": "location-204452", "last_timezone": 0},
        {"id": 27046, "site_id": 54422, "label": "Entrance", "last_timezone": 3600},
        {"id": 320453, "site_id": 66531, "label": "Exit screen", "last_timezone": -14400},
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
CLIPS = vf.read_clip_metadata(
    [
        {"network_id": 15678, "clip_id": "a", "id": 1, "name": "Spot A"},
        {"network_id": 25444, "clip_id": "a", "id": 2, "name": "Other spot A"},
        {"network_id": 15678, "clip_id": "b", "id": 3, "name": "Spot B"},
    ]
)


def facts(ids: list[int | None], contents: list[str] | None = None) -> pl.DataFrame:
    n = len(ids)
    return pl.DataFrame(
        {
            "location_id": pl.Series(ids, dtype=pl.Int64),
            "period_start": [dt.datetime(2025, 3, 30, 1 + i) for i in range(n)],
            "period_start_date": [D(2025, 3, 30)] * n,
            "content_id": contents or ["b"] * n,
            "ots_count": list(range(n)),
        }
    )


def quietly(lf: pl.LazyFrame) -> pl.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", vf.UnmatchedIdWarning)
        return lf.collect()


# -- lazy = eager -------------------------------------------------------------------------------


JOINS: dict[str, Any] = {
    "with_names": lambda v, lazy: v.with_names(
        locations=LOC.lazy() if lazy else LOC,
        sites=SITES.lazy() if lazy else SITES,
        networks=NETS.lazy() if lazy else NETS,
    ),
    "with_clip_names": lambda v, lazy: v.with_clip_names(
        CLIPS.lazy() if lazy else CLIPS,
        locations=LOC.lazy() if lazy else LOC,
        sites=SITES.lazy() if lazy else SITES,
    ),
    "with_utc": lambda v, lazy: v.with_utc(LOC.lazy() if lazy else LOC),
}


@pytest.mark.parametrize("name", JOINS)
@pytest.mark.parametrize("lazy_dimensions", [False, True])
def test_a_lazy_join_collected_equals_the_eager_one(name: str, lazy_dimensions: bool) -> None:
    df = facts([320453, 99, 204452, None, 320453, 27046], ["a", "a", "b", "b", "c", "a"])
    join = JOINS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", vf.UnmatchedIdWarning)
        eager = join(df.vidi, lazy_dimensions)
        plan = join(df.lazy().vidi, lazy_dimensions)
        assert isinstance(plan, pl.LazyFrame)
        assert_frame_equal(plan.collect(), eager)
        assert_frame_equal(plan.collect(engine="streaming"), eager)
    assert eager.select(df.columns).equals(df)


def test_lazy_names_are_the_labels_of_each_id() -> None:
    plan = (
        facts([320453, 99, 27046, None])
        .lazy()
        .vidi.with_names(locations=LOC.lazy(), sites=SITES, networks=NETS.lazy())
    )
    named = quietly(plan.select("location_id", "location_label", "site_label", "network_label"))
    assert named.rows() == [
        (320453, "Exit screen", "VidiReports", "My other network"),
        (99, None, None, None),
        (27046, "Entrance", "Another site", "My first network"),
        (None, None, None, None),
    ]


def test_lazy_clip_names_and_utc_are_the_values_of_each_row() -> None:
    df = facts([27046, 320453, 27046], ["a", "a", "c"])
    clips = quietly(df.lazy().vidi.with_clip_names(CLIPS.lazy(), locations=LOC, sites=SITES))
    assert clips["content_name"].to_list() == ["Spot A", "Other spot A", None]
    utc = df.lazy().vidi.with_utc(LOC.lazy()).collect()
    assert utc["period_start_utc"].dt.replace_time_zone(None).to_list() == [
        dt.datetime(2025, 3, 30, 0),
        dt.datetime(2025, 3, 30, 6),
        dt.datetime(2025, 3, 30, 2),
    ]


def test_the_facts_are_not_collected_until_the_plan_is() -> None:
    runs = []

    def counted(batch: pl.DataFrame) -> pl.DataFrame:
        runs.append(batch.height)
        return batch

    source = facts([27046, 320453], ["b", "a"]).lazy().map_batches(counted)
    plan = source.vidi.with_names(locations=LOC.lazy()).vidi.with_utc(LOC)
    plan = plan.vidi.with_clip_names(CLIPS, locations=LOC, sites=SITES)
    assert runs == []
    assert plan.collect()["location_label"].to_list() == ["Entrance", "Exit screen"]
    assert runs == [2]


# -- unmatched ids: reported when the plan runs ----------------------------------------------------


def test_unmatched_ids_are_reported_when_the_lazy_plan_is_collected() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # building the plan reports nothing yet
        plan = facts([27046, 99, None, 98, 99]).lazy().vidi.with_names(locations=LOC)
    with pytest.warns(vf.UnmatchedIdWarning, match=r"2 location_id value\(s\).*: 98, 99") as got:
        named = plan.collect()
    assert got[0].message.ids == (98, 99)
    assert named["location_label"].to_list() == ["Entrance", None, None, None, None]
    # Every collect reports again: the report belongs to the plan, not to one call.
    with pytest.warns(vf.UnmatchedIdWarning):
        plan.collect()


def test_a_query_that_shows_only_the_names_still_reports() -> None:
    plan = facts([27046, 99]).lazy().vidi.with_names(locations=LOC, sites=SITES, networks=NETS)
    with pytest.warns(vf.UnmatchedIdWarning, match="location_id value.*: 99") as got:
        labels = plan.select("network_label").collect()
    assert labels["network_label"].to_list() == ["My first network", None]
    assert [w.message.column for w in got] == ["location_id"]


def test_a_query_without_the_names_has_nothing_to_report() -> None:
    plan = facts([27046, 99]).lazy().vidi.with_names(locations=LOC)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert plan.select("ots_count").collect()["ots_count"].to_list() == [0, 1]


def test_filters_on_the_frame_narrow_the_report_to_the_rows_computed() -> None:
    plan = facts([27046, 99, 98]).lazy().vidi.with_names(locations=LOC)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kept = plan.filter(pl.col("ots_count") == 0).collect()
    assert kept["location_label"].to_list() == ["Entrance"]
    with pytest.warns(vf.UnmatchedIdWarning) as got:
        plan.filter(pl.col("ots_count") >= 1).collect()
    assert got[0].message.ids == (98, 99)
    with pytest.warns(vf.UnmatchedIdWarning) as got:
        assert plan.head(2).collect().height == 2
    assert got[0].message.ids == (99,)
    # A filter on a name runs after the check: the ids of the rows it removes are named.
    with pytest.warns(vf.UnmatchedIdWarning) as got:
        assert plan.filter(pl.col("location_label").is_not_null()).collect().height == 1
    assert got[0].message.ids == (98, 99)


def test_a_filter_on_a_partition_reaches_the_scan_below_the_join(tmp_path: Path) -> None:
    df = facts([27046, 320453, 99]).with_columns(
        period_start_date=pl.Series([D(2025, 3, 1), D(2025, 3, 2), D(2025, 3, 3)])
    )
    vf.write_partitions(df, tmp_path, partition_by="period_start_date")
    plan = vf.scan_partitions(tmp_path).vidi.with_names(locations=LOC)
    day = plan.filter(pl.col("period_start_date") == D(2025, 3, 2))
    explained = day.explain()
    assert "period_start_date=2025-03-02" in explained
    assert "period_start_date=2025-03-03" not in explained  # pruned: its id 99 is not read
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert day.collect()["location_label"].to_list() == ["Exit screen"]


def test_an_ambiguous_clip_id_is_refused_when_a_row_uses_it() -> None:
    df = facts([27046, 320453], ["a", "b"])
    plan = df.lazy().vidi.with_clip_names(CLIPS)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        only_b = plan.filter(pl.col("content_id") == "b").collect()
    assert only_b["content_name"].to_list() == ["Spot B"]
    with pytest.raises(vf.InvalidRequestError, match="content_id 'a' name different clips"):
        plan.collect()


def test_a_lazy_dimension_that_cannot_be_read_is_a_dataset_error(tmp_path: Path) -> None:
    gone = pl.scan_parquet(tmp_path / "locations.parquet")
    with pytest.raises(vf.DatasetError, match="locations \\(a LazyFrame\\) could not be collected"):
        facts([1]).lazy().vidi.with_names(locations=gone)


def test_ids_of_another_type_are_refused_by_name() -> None:
    df = facts([1]).with_columns(pl.col("location_id").cast(pl.String))
    with pytest.raises(vf.SchemaError, match="'location_id' is String but 'location_id' in locat"):
        df.lazy().vidi.with_utc(LOC)


# -- as of each row's day ------------------------------------------------------------------------


def snapshots(*days: tuple[dt.date, list[dict[str, Any]]], reader: Any) -> pl.DataFrame:
    return pl.concat(
        [reader(rows).with_columns(snapshot_date=pl.lit(day)) for day, rows in days],
        how="diagonal_relaxed",
    )


LOC_SNAPSHOTS = snapshots(
    (
        D(2025, 1, 10),
        [
            {"id": 1, "site_id": 10, "label": "Door", "last_timezone": 3600},
            {"id": 2, "site_id": 10, "label": "Hall", "last_timezone": 3600},
        ],
    ),
    (
        D(2025, 1, 20),
        [
            # Renamed; 2 is gone (kept as last seen); 3 is new.
            {"id": 1, "site_id": 10, "label": "Main door", "last_timezone": 7200},
            {"id": 3, "site_id": 20, "label": "Shop", "last_timezone": 7200},
        ],
    ),
    reader=vf.read_locations,
)
SITE_SNAPSHOTS = snapshots(
    (D(2025, 1, 10), [{"id": 10, "network_id": 100, "label": "North"}]),
    (
        D(2025, 1, 15),
        [
            {"id": 10, "network_id": 200, "label": "North"},
            {"id": 20, "network_id": 200, "label": "South"},
        ],
    ),
    reader=vf.read_sites,
)


def dated(rows: list[tuple[int | None, dt.date | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "location_id": pl.Series([r[0] for r in rows], dtype=pl.Int64),
            "period_start_date": pl.Series([r[1] for r in rows], dtype=pl.Date),
            "period_start": [
                dt.datetime.combine(r[1], dt.time(12)) if r[1] else dt.datetime(2025, 1, 1)
                for r in rows
            ],
        }
    )


def test_as_of_names_each_row_from_the_snapshot_of_its_day() -> None:
    df = dated(
        [
            (1, D(2025, 1, 9)),  # before the first snapshot: no name, reported
            (1, D(2025, 1, 10)),
            (2, D(2025, 1, 12)),
            (1, D(2025, 1, 20)),
            (2, D(2025, 1, 25)),  # gone since the 20th: its last known row
            (3, D(2025, 2, 28)),  # after the last snapshot: the last one
            (3, D(2025, 1, 12)),  # before its first snapshot
            (1, None),  # no day: no snapshot
        ]
    )
    with pytest.warns(vf.UnmatchedIdWarning) as got:
        named = df.vidi.with_names(
            locations=LOC_SNAPSHOTS, sites=SITE_SNAPSHOTS, as_of="period_start_date"
        )
    assert named.select("location_label", "site_id", "site_label", "network_id").rows() == [
        (None, None, None, None),
        ("Door", 10, "North", 100),
        ("Hall", 10, "North", 100),
        ("Main door", 10, "North", 200),
        ("Hall", 10, "North", 200),
        ("Shop", 20, "South", 200),
        (None, None, None, None),
        (None, None, None, None),
    ]
    # The row without a day is told apart: it has no date, not an id without a row.
    assert [(str(w.message), w.message.ids) for w in got] == [
        (
            "2 location_id value(s) have no row in locations on or before the row's "
            "period_start_date: 1, 3; their location_label stay null (the rows are kept)",
            (1, 3),
        ),
        (
            "1 row(s) have a null period_start_date, so no snapshot of locations applies "
            "to them (location_id 1); their location_label stay null (the rows are kept)",
            (1,),
        ),
    ]
    lazy = df.lazy().vidi.with_names(
        locations=LOC_SNAPSHOTS.lazy(), sites=SITE_SNAPSHOTS.lazy(), as_of="period_start_date"
    )
    assert_frame_equal(quietly(lazy), named)


def test_rows_without_an_as_of_date_are_counted_apart_not_called_unmatched() -> None:
    # Before, a null date was reported as "no row in locations on or before the
    # row's period_start_date": wrong for ids that have rows on every day.
    df = dated([(1, None), (2, D(2025, 1, 12)), (2, None), (1, None), (None, None)])
    # Lazy: the report comes when the plan runs.
    named = df.lazy().vidi.with_names(locations=LOC_SNAPSHOTS, as_of="period_start_date")
    with pytest.warns(vf.UnmatchedIdWarning) as got:
        rows = named.select("location_id", "location_label").collect().rows()
    assert [str(w.message) for w in got] == [
        "3 row(s) have a null period_start_date, so no snapshot of locations applies to "
        "them (location_id 1, 2); their location_label stay null (the rows are kept)"
    ]
    assert got[0].message.ids == (1, 2)
    assert got[0].message.column == "location_id"
    # Every row is kept, the dated one named.
    assert rows == [(1, None), (2, "Hall"), (2, None), (1, None), (None, None)]

    # A Datetime as_of column: its date, and its own name in the message.
    stamped = df.with_columns(
        period_start=pl.when(pl.col("period_start_date").is_not_null()).then("period_start")
    )
    with pytest.warns(vf.UnmatchedIdWarning) as got:
        utc = stamped.vidi.with_utc(LOC_SNAPSHOTS, as_of="period_start")
    assert [str(w.message) for w in got] == [
        "3 row(s) have a null period_start, so no snapshot of locations with a "
        "last_timezone applies to them (location_id 1, 2); their period_start_utc stay "
        "null (the rows are kept)"
    ]
    assert utc["utc_offset"].to_list() == [None, dt.timedelta(hours=1), None, None, None]


def test_with_utc_as_of_takes_the_offset_of_each_rows_day() -> None:
    df = dated([(1, D(2025, 1, 19)), (1, D(2025, 1, 20)), (1, D(2025, 3, 1))])
    utc = df.vidi.with_utc(LOC_SNAPSHOTS, as_of="period_start")  # a Datetime column: its date
    assert utc["utc_offset"].to_list() == [
        dt.timedelta(hours=1),
        dt.timedelta(hours=2),
        dt.timedelta(hours=2),
    ]
    assert utc["period_start_utc"].dt.hour().to_list() == [11, 10, 10]


def test_as_of_agrees_with_the_snapshots_scanned_as_of_each_day(tmp_path: Path) -> None:
    path = snapshot_path(tmp_path, "locations")
    for day, part in LOC_SNAPSHOTS.group_by("snapshot_date", maintain_order=True):
        write_snapshot(part.drop("snapshot_date"), path, day=day[0])
    days = [D(2025, 1, 10), D(2025, 1, 14), D(2025, 1, 20), D(2025, 2, 2)]
    df = dated([(i, d) for d in days for i in (1, 2, 3)])
    every = vf.scan_dimension_snapshots(tmp_path, "locations")
    per_row = quietly(df.lazy().vidi.with_names(locations=every, as_of="period_start_date"))
    for day in days:
        then = vf.scan_dimension_snapshots(tmp_path, "locations", as_of=day).collect()
        expected = quietly(
            df.filter(pl.col("period_start_date") == day).lazy().vidi.with_names(locations=then)
        )
        got = per_row.filter(pl.col("period_start_date") == day)
        assert_frame_equal(got, expected)
    assert per_row.get_column("location_label").null_count() == 2  # 3 before its first day


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 3), st.integers(0, 20), st.sampled_from(["x", "y", "z"])),
        max_size=12,
        unique_by=lambda r: (r[0], r[1]),
    ),
    st.lists(st.tuples(st.integers(0, 4), st.one_of(st.none(), st.integers(-2, 25))), max_size=15),
)
def test_as_of_is_the_latest_snapshot_on_or_before_each_row(
    snaps: list[tuple[int, int, str]], rows: list[tuple[int, int | None]]
) -> None:
    start = D(2025, 1, 1)
    dimension = pl.DataFrame(
        {
            "location_id": [s[0] for s in snaps],
            "snapshot_date": [start + dt.timedelta(days=s[1]) for s in snaps],
            "label": [s[2] for s in snaps],
        },
        schema={"location_id": pl.Int64, "snapshot_date": pl.Date, "label": pl.String},
    )
    df = dated([(i, None if d is None else start + dt.timedelta(days=d)) for i, d in rows])

    def expected(location: int, day: int | None) -> str | None:
        if day is None:
            return None
        seen = [s for s in snaps if s[0] == location and s[1] <= day]
        return max(seen, key=lambda s: s[1])[2] if seen else None

    named = quietly(df.lazy().vidi.with_names(locations=dimension, as_of="period_start_date"))
    assert named["location_label"].to_list() == [expected(i, d) for i, d in rows]
    assert named.select(df.columns).equals(df)


def test_as_of_needs_snapshots_and_snapshots_need_as_of() -> None:
    df = dated([(1, D(2025, 1, 10))])
    with pytest.raises(vf.SchemaError, match="no 'snapshot_date' column"):
        df.vidi.with_names(locations=LOC, as_of="period_start_date")
    with pytest.raises(vf.SchemaError, match="pass as_of= to join each row to its day's snapshot"):
        df.vidi.with_names(locations=LOC_SNAPSHOTS)
    twice = pl.concat([LOC_SNAPSHOTS, LOC_SNAPSHOTS.with_columns(label=pl.lit("Other"))])
    with pytest.raises(vf.SchemaError, match="more than once with different values in one snap"):
        df.vidi.with_names(locations=twice, as_of="period_start_date")
    with pytest.raises(vf.SchemaError, match="'location_id' is Int64, not a Date or Datetime"):
        df.vidi.with_names(locations=LOC_SNAPSHOTS, as_of="location_id")
    text = LOC_SNAPSHOTS.with_columns(pl.col("snapshot_date").cast(pl.String))
    with pytest.raises(vf.SchemaError, match="'snapshot_date' in locations is String, not a Date"):
        df.vidi.with_names(locations=text, as_of="period_start_date")
    with pytest.raises(vf.InvalidRequestError, match="as_of names a date column"):
        df.vidi.with_names(locations=LOC_SNAPSHOTS, as_of=D(2025, 1, 10))  # type: ignore[arg-type]


CLIP_SNAPSHOTS = snapshots(
    (
        D(2025, 1, 10),
        [
            {"network_id": 100, "clip_id": "a", "id": 1, "name": "Spring A"},
            {"network_id": 200, "clip_id": "a", "id": 2, "name": "Other A"},
            {"network_id": 200, "clip_id": "b", "id": 3, "name": "B old"},
            {"network_id": 100, "clip_id": "c", "id": 4, "name": "C old"},
            {"network_id": 100, "clip_id": "d", "id": 5, "name": "D"},
            {"network_id": 100, "clip_id": "e", "id": 6, "name": "E"},
        ],
    ),
    (
        D(2025, 1, 20),
        [
            {"network_id": 100, "clip_id": "a", "id": 1, "name": "Spring A"},
            {"network_id": 200, "clip_id": "a", "id": 2, "name": "Other A"},
            {"network_id": 200, "clip_id": "b", "id": 3, "name": "B new"},
            {"network_id": 100, "clip_id": "c", "id": 4, "name": "C new"},
            # d is gone from network 100 (its last known row stays), and network
            # 200 has another clip d: as of the 20th, d names two clips.
            {"network_id": 200, "clip_id": "d", "id": 7, "name": "D two"},
            # e in network 200 too, the same clip name: not ambiguous.
            {"network_id": 100, "clip_id": "e", "id": 6, "name": "E"},
            {"network_id": 200, "clip_id": "e", "id": 8, "name": "E"},
        ],
    ),
    reader=vf.read_clip_metadata,
)


def plays(rows: list[tuple[int | None, dt.date | None, str]]) -> pl.DataFrame:
    return dated([(r[0], r[1]) for r in rows]).with_columns(
        content_id=pl.Series([r[2] for r in rows])
    )


@pytest.mark.parametrize("lazy", [False, True])
def test_clip_names_as_of_follow_each_rows_network_and_day(lazy: bool) -> None:
    # Site 10 is in network 100 until the 15th, in 200 from then: its clip "a"
    # is another clip from then on.
    df = plays(
        [
            (1, D(2025, 1, 12), "a"),  # network 100
            (1, D(2025, 1, 16), "a"),  # network 200 since the 15th
            (1, D(2025, 1, 16), "b"),  # network 200, before b's rename
            (1, D(2025, 1, 21), "b"),  # after it
            (3, D(2025, 1, 21), "c"),  # site 20, network 200: no clip c there
            (1, D(2025, 1, 9), "a"),  # before the first location snapshot
            (2, None, "a"),  # no day
        ]
    )
    args = (CLIP_SNAPSHOTS, LOC_SNAPSHOTS, SITE_SNAPSHOTS)
    clips, loc, sites = (a.lazy() for a in args) if lazy else args
    with pytest.warns(vf.UnmatchedIdWarning) as got:
        named = df.vidi.with_clip_names(
            clips, locations=loc, sites=sites, as_of="period_start_date"
        )
    assert named["content_name"].to_list() == [
        "Spring A",
        "Other A",
        "B old",
        "B new",
        None,
        None,
        None,
    ]
    assert named.select(df.columns).equals(df)
    assert sorted(str(w.message) for w in got) == [
        "1 content_id value(s) have no row in clips (for the row's network) on or before "
        "the row's period_start_date: c; their content_name stay null (the rows are kept)",
        "1 location_id value(s) have no row in locations on or before the row's "
        "period_start_date: 1; their content_name stay null (the rows are kept)",
        "1 row(s) have a null period_start_date, so no snapshot of locations applies to them "
        "(location_id 2); their content_name stay null (the rows are kept)",
    ]
    # The frame's own network_id: the same clips, without locations and sites.
    networks = df.with_columns(network_id=pl.Series([100, 200, 200, 200, 200, None, None]))
    direct = quietly(networks.lazy().vidi.with_clip_names(clips, as_of="period_start_date"))
    assert direct["content_name"].to_list()[:5] == named["content_name"].to_list()[:5]


def test_clip_names_as_of_across_networks_refuse_an_id_of_two_clips_on_any_day() -> None:
    df = plays(
        [
            (1, D(2025, 1, 12), "c"),
            (1, D(2025, 1, 25), "c"),  # renamed in its one network: not ambiguous
            (1, D(2025, 1, 25), "e"),  # the same name in both networks
            (1, D(2025, 1, 9), "c"),  # before the first clip snapshot
        ]
    )
    plan = df.lazy().vidi.with_clip_names(CLIP_SNAPSHOTS, as_of="period_start_date")
    with pytest.warns(vf.UnmatchedIdWarning, match="no row in clips on or before") as got:
        named = plan.collect()
    assert named["content_name"].to_list() == ["C old", "C new", "E", None]
    assert got[0].message.ids == ("c",)
    # a names two clips on every day; d on the 20th only (network 100's d carried
    # to it), yet a row of the 12th is refused too: never another network's name.
    for content in ("a", "d"):
        early = plays([(1, D(2025, 1, 12), content)]).lazy()
        with pytest.raises(vf.InvalidRequestError, match=f"content_id '{content}' name different"):
            early.vidi.with_clip_names(CLIP_SNAPSHOTS, as_of="period_start_date").collect()


def test_clip_names_as_of_need_snapshots() -> None:
    df = plays([(1, D(2025, 1, 12), "a")]).with_columns(network_id=pl.lit(100))
    with pytest.raises(vf.SchemaError, match="clips has no 'snapshot_date' column"):
        df.vidi.with_clip_names(CLIPS, as_of="period_start_date")
    with pytest.raises(vf.SchemaError, match="locations has no 'snapshot_date' column"):
        df.drop("network_id").vidi.with_clip_names(
            CLIP_SNAPSHOTS, locations=LOC, sites=SITE_SNAPSHOTS, as_of="period_start_date"
        )
    with pytest.raises(vf.SchemaError, match="the frame has no 'day' column to join as of"):
        df.vidi.with_clip_names(CLIP_SNAPSHOTS, as_of="day")


def test_names_on_a_scan_of_vidicenter_keep_its_requests_narrowed() -> None:
    clock = ManualClock()
    with FakeVidiCenter(seed=7, clock=clock, serve=False) as fake:
        client = vf.VidiCenterClient(
            "demo",
            "demo-token",
            fake.url,
            transport=fake.transport(),
            clock=clock,
            sleep=clock.sleep,
            cache_dir=None,
        )
        loc = vf.read_locations(client=client)
        sites = vf.read_sites(client=client)
        scan = vf.scan_vidicenter(
            data_type="ots",
            time_resolution="1h",
            start="2025-01-01",
            end="2025-01-31",
            locations=[4636, 4637],
            client=client,
            progress=False,
        )
        named = scan.vidi.with_names(locations=loc, sites=sites)
        day = named.filter(
            pl.col("location_id") == 4637, pl.col("period_start_date") == D(2025, 1, 10)
        )
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            got = day.collect()
        asked = {
            (r.params["start"], r.params["end"], r.params["locations"]) for r in fake.data_requests
        }
    assert asked == {("2025-01-10T00:00:00", "2025-01-10T23:59:59", "4637")}
    label = loc.filter(pl.col("location_id") == 4637)["label"].item()
    site = loc.filter(pl.col("location_id") == 4637)["site_id"].item()
    site_label = sites.filter(pl.col("site_id") == site)["label"].item()
    assert got.height == 24
    assert got.select("location_label", "site_label").unique().rows() == [(label, site_label)]


def test_a_frame_of_null_ids_is_refused_by_name_and_an_empty_one_stays_empty() -> None:
    nulls = pl.DataFrame({"location_id": [None], "period_start": [dt.datetime(2025, 1, 1)]})
    with pytest.raises(vf.SchemaError, match="'location_id' is Null but"):
        nulls.vidi.with_names(locations=LOC)
    empty = facts([]).vidi.with_names(locations=LOC, sites=SITES)
    assert empty.height == 0
    added = ["location_label", "site_id", "site_label", "venue_type", "venue_subtype", "network_id"]
    assert empty.columns == [*facts([]).columns, *added]


def test_a_sunk_plan_reports_too(tmp_path: Path) -> None:
    plan = facts([27046, 99]).lazy().vidi.with_names(locations=LOC)
    with pytest.warns(vf.UnmatchedIdWarning) as got:
        plan.sink_parquet(tmp_path / "named.parquet")
    assert got[0].message.ids == (99,)
    stored = pl.read_parquet(tmp_path / "named.parquet")
    assert stored["location_label"].to_list() == ["Entrance", None]
