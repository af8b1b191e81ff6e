"""``sync`` keeps dimension snapshots beside the exports (issue 12, item 4).

Against the fake VidiCenter in process, on a manual clock: each listed dimension
is read once per run and stored at ``<root>/dimensions/<name>``, one snapshot per
sync day; names are joined as of a date with ``scan_dimension_snapshots``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import vidiframe as vf
from vidiframe._sync import SyncConfig, sync
from vidiframe.testing import FakeVidiCenter, ManualClock, ServerError
from vidiframe.testing._generate import location_site

D = dt.date
DAY1, DAY2 = D(2025, 1, 11), D(2025, 1, 12)
OTS = {"data_type": "ots", "time_resolution": "1h", "locations": [4636, 4637]}
LOCATIONS_PATH = "/api/v1/locations/"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def fake(clock: ManualClock) -> Iterator[FakeVidiCenter]:
    with FakeVidiCenter(clock=clock, serve=False) as server:
        yield server


@pytest.fixture
def client(
    fake: FakeVidiCenter, clock: ManualClock, tmp_path: Path
) -> Iterator[vf.VidiCenterClient]:
    # With a cache: a snapshot must be read from the server even when it holds one.
    with vf.VidiCenterClient(
        "demo",
        "demo-token",
        fake.url,
        transport=fake.transport(),
        clock=clock,
        sleep=clock.sleep,
        cache_dir=tmp_path / "cache",
    ) as c:
        yield c


def config(root: Path | str, dimensions: list[str], **top: Any) -> SyncConfig:
    return SyncConfig.from_dict(
        {
            "root": str(root),
            "first_day": "2025-01-05",
            "trailing_days": 1,
            "dimensions": dimensions,
            **top,
            "export": [OTS],
        }
    )


def gets(fake: FakeVidiCenter, path: str) -> int:
    return sum(r.path == path for r in fake.requests)


def expected_locations(fake: FakeVidiCenter) -> list[tuple[int, int, str, int]]:
    account = fake.account
    return [
        (loc, location_site(loc), f"Location {loc}", account.utc_offset(location_site(loc)))
        for loc in sorted(account.locations)
    ]


@pytest.mark.parametrize("fmt", ["parquet", "delta"])
def test_a_snapshot_holds_the_servers_rows_of_the_day(tmp_path, fake, client, fmt):
    cfg = config(tmp_path / "lake", ["locations", "sites_vehicles", "networks"], format=fmt)

    report = sync(cfg, client=client, today=DAY1, progress=False)

    assert report.complete
    account = fake.account
    assert [(s.dimension, s.day, s.rows, s.ok) for s in report.snapshots] == [
        ("locations", DAY1, len(account.locations), True),
        ("sites_vehicles", DAY1, len(account.sites), True),
        ("networks", DAY1, len(account.networks), True),
    ]
    lake = tmp_path / "lake"
    assert vf.read_inventory(lake / "dimensions" / "locations").format == fmt
    locations = vf.scan_dimension_snapshots(lake, "locations").collect()
    assert locations.get_column("snapshot_date").unique().to_list() == [DAY1]
    assert locations.select("location_id", "site_id", "label", "last_timezone").sort(
        "location_id"
    ).rows() == expected_locations(fake)
    assert locations.get_column("utc_offset").to_list() == [
        dt.timedelta(seconds=s) for s in locations.get_column("last_timezone")
    ]
    # Every location of the exports is in the snapshot, so names join without a gap.
    exported = vf.scan_partitions(lake / "ots_1h").select("location_id").unique().collect()
    assert set(exported.get_column("location_id")) <= set(locations.get_column("location_id"))

    # The vehicle factors (a struct) come back as the server sent them, in both formats.
    sites = vf.scan_dimension_snapshots(lake, "sites_vehicles").collect().sort("site_id")
    assert sites.schema["vehicles_factors"] == vf.dimension_schema("sites")["vehicles_factors"]
    factors = sites.select(pl.col("site_id"), pl.col("vehicles_factors").struct.unnest())
    for row in factors.iter_rows(named=True):
        sent = account.site_row(row["site_id"], vehicles=True)["vehicles_factors"]
        assert {k: row[k] for k in sent} == sent
    assert sites.get_column("label").to_list() == [f"Site {s}" for s in account.sites]
    networks = vf.scan_dimension_snapshots(lake, "networks").collect()
    assert networks.select("network_id", "label").sort("network_id").rows() == [
        (n, f"Network {n}") for n in account.networks
    ]


@pytest.mark.parametrize("fmt", ["parquet", "delta"])
def test_every_dimension_round_trips_a_snapshot_value_for_value(tmp_path, fake, client, fmt):
    # Structs (vehicle factors, tag members), Durations, Enums, naive Datetimes as read;
    # and kinds a frame may gain (a zoned Datetime, milliseconds, a struct of both).
    from vidiframe._dimension_snapshots import SNAPSHOT_DIMENSIONS, snapshot_path, write_snapshot
    from vidiframe._dimensions import read_dimension

    extra = [
        pl.lit(dt.datetime(2025, 1, 1, 9, tzinfo=dt.timezone.utc))
        .dt.convert_time_zone("Europe/Paris")
        .alias("zoned"),
        pl.lit(dt.timedelta(milliseconds=1500), dtype=pl.Duration("ms")).alias("ms"),
        pl.struct(
            d=pl.lit(dt.timedelta(seconds=3)),
            t=pl.lit(dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)),
        ).alias("nested"),
    ]
    for name, (dimension, vehicles) in SNAPSHOT_DIMENSIONS.items():
        frame = read_dimension(dimension, vehicles=vehicles, client=client)
        if name == "networks":
            frame = frame.with_columns(extra)
        assert frame.height > 0, name
        write_snapshot(frame, snapshot_path(tmp_path, name), day=DAY1, format=fmt)
        back = vf.scan_dimension_snapshots(tmp_path, name, as_of=DAY1).collect()
        assert_frame_equal(back.drop("snapshot_date"), frame, check_row_order=False)


def test_each_dimension_is_read_once_a_run_past_the_clients_cache(tmp_path, fake, client):
    cfg = config(tmp_path, ["locations", "sites"])

    sync(cfg, client=client, today=DAY1, progress=False)
    sync(cfg, client=client, today=DAY1, progress=False)

    assert gets(fake, LOCATIONS_PATH) == 2
    assert gets(fake, "/api/v1/sites/") == 2
    # The plain reader would be served by the cache: the snapshot was not.
    vf.read_locations(client=client)
    assert gets(fake, LOCATIONS_PATH) == 2


def test_two_sync_days_keep_two_snapshots_and_as_of_picks_the_name_of_the_day(
    tmp_path, fake, client
):
    cfg = config(tmp_path, ["locations", "sites", "networks"])
    sync(cfg, client=client, today=DAY1, progress=False)
    fake.edit_dimension("locations", 4636, label="Main door")
    fake.edit_dimension("sites", 463, label="Flagship store")
    sync(cfg, client=client, today=DAY2, progress=False)

    every = vf.scan_dimension_snapshots(tmp_path, "locations").collect()
    assert every.group_by("snapshot_date").len().sort("snapshot_date").rows() == [
        (DAY1, len(fake.account.locations)),
        (DAY2, len(fake.account.locations)),
    ]

    def names(as_of: Any) -> list[tuple[Any, ...]]:
        snap = {
            name: vf.scan_dimension_snapshots(tmp_path, name, as_of=as_of).collect()
            for name in ("locations", "sites", "networks")
        }
        ots = vf.scan_partitions(cfg.exports[0].path).collect()
        named = ots.vidi.with_names(**snap)
        return (
            named.select("location_id", "location_label", "site_label", "network_label")
            .unique()
            .sort("location_id")
            .rows()
        )

    assert names(DAY1) == [
        (4636, "Location 4636", "Site 463", "Network 2"),
        (4637, "Location 4637", "Site 463", "Network 2"),
    ]
    assert names("2025-01-12") == [
        (4636, "Main door", "Flagship store", "Network 2"),
        (4637, "Location 4637", "Flagship store", "Network 2"),
    ]
    # A day after the last snapshot: the latest one.
    assert names(D(2025, 3, 1)) == names(DAY2)
    with pytest.raises(vf.DatasetError, match="on or before 2025-01-10: the first is 2025-01-11"):
        vf.scan_dimension_snapshots(tmp_path, "locations", as_of=D(2025, 1, 10))

    # Per row: each export day takes the names of the latest snapshot on or before it.
    rows = pl.DataFrame(
        {"period_start_date": [DAY1, DAY2, D(2025, 1, 13)], "location_id": [4636] * 3}
    )
    joined = rows.join_asof(
        every.select("snapshot_date", "location_id", "label").sort("snapshot_date"),
        left_on="period_start_date",
        right_on="snapshot_date",
        by="location_id",
        # Sorted by date above; Polars cannot check it within the 'by' groups.
        check_sortedness=False,
    )
    assert joined.get_column("label").to_list() == ["Location 4636", "Main door", "Main door"]


def test_as_of_keeps_the_last_row_of_an_id_gone_from_later_snapshots(tmp_path):
    # Written through the same operation sync uses: a location removed on day 2.
    from vidiframe._dimension_snapshots import snapshot_path, write_snapshot

    both = vf.read_locations(
        '[{"id": 1, "site_id": 9, "label": "A"}, {"id": 2, "site_id": 9, "label": "B"}]'
    )
    path = snapshot_path(tmp_path, "locations")
    write_snapshot(both, path, day=DAY1)
    write_snapshot(both.filter(pl.col("location_id") == 1), path, day=DAY2)

    snap = vf.scan_dimension_snapshots(tmp_path, "locations", as_of=DAY2).collect()
    assert snap.select("location_id", "label", "snapshot_date").sort("location_id").rows() == [
        (1, "A", DAY2),
        (2, "B", DAY1),
    ]


@pytest.mark.parametrize("fmt", ["parquet", "delta"])
def test_a_second_run_the_same_day_replaces_that_days_snapshot(tmp_path, fake, client, fmt):
    cfg = config(tmp_path, ["locations"], format=fmt)
    sync(cfg, client=client, today=DAY1, progress=False)
    fake.edit_dimension("locations", 4637, label="Exit", last_timezone=3600)
    again = sync(cfg, client=client, today=DAY1, progress=False)

    assert [(s.dimension, s.rows) for s in again.snapshots] == [
        ("locations", len(fake.account.locations))
    ]
    snap = vf.scan_dimension_snapshots(tmp_path, "locations").collect()
    assert snap.height == len(fake.account.locations)
    assert vf.read_inventory(tmp_path / "dimensions" / "locations").partitions == ((DAY1,),)
    assert snap.filter(pl.col("location_id") == 4637).select("label", "last_timezone").row(0) == (
        "Exit",
        3600,
    )


def test_a_failed_dimension_read_keeps_the_exports_and_fails_the_run(tmp_path, fake, client):
    cfg = config(tmp_path, ["locations", "sites"])
    rule = fake.inject(ServerError(503), times=None, path="/api/v1/sites/")
    reports: list[Any] = []

    with pytest.raises(vf.TransportError, match="sites") as raised:
        sync(cfg, client=client, today=DAY1, progress=False, on_snapshot=reports.append)

    assert rule.fired
    # Every export batch was fetched and written; the other dimension was stored.
    assert sorted(vf.read_inventory(cfg.exports[0].path).days) == [
        D(2025, 1, 5) + dt.timedelta(days=i) for i in range(6)
    ]
    # (Called as each is committed: in any order.)
    assert sorted((r.dimension, r.ok) for r in reports) == [("locations", True), ("sites", False)]
    assert vf.scan_dimension_snapshots(tmp_path, "locations").collect().height == len(
        fake.account.locations
    )
    # (The lock made its directory; no snapshot is in it.)
    assert not vf.read_inventory(tmp_path / "dimensions" / "sites").exists
    notes = " ".join(getattr(raised.value, "__notes__", []))
    assert "dimension snapshot(s) stored: locations" in notes
    assert "dimension snapshot(s) failed: sites" in notes

    fake.clear_faults()
    report = sync(cfg, client=client, today=DAY1, progress=False)
    assert report.complete
    # Only the trailing day was fetched again: the failed run's batches were kept.
    assert [r.batch.describe() for r in report.results] == ["2025-01-10..2025-01-10"]
    assert vf.scan_dimension_snapshots(tmp_path, "sites").collect().height == len(
        fake.account.sites
    )


def test_another_dataset_at_a_snapshot_path_is_refused_before_any_request(tmp_path, fake, client):
    vf.write_partitions(
        pl.DataFrame({"location_id": [1], "label": ["x"]}),
        tmp_path / "dimensions" / "locations",
        partition_by="location_id",
    )
    with pytest.raises(vf.DatasetError, match="not by snapshot_date"):
        sync(config(tmp_path, ["locations"]), client=client, today=DAY1, progress=False)
    assert fake.requests == []


def test_snapshots_of_another_format_are_refused_before_any_request(tmp_path, fake, client):
    # As an export's dataset is: kept in silence, the snapshots would stay Parquet
    # while the configuration says Delta.
    from vidiframe._dimension_snapshots import snapshot_path, write_snapshot

    networks = vf.read_networks('[{"id": 1, "label": "North"}]')
    write_snapshot(networks, snapshot_path(tmp_path, "networks"), day=DAY1, format="parquet")
    cfg = config(tmp_path, ["networks"], format="delta")
    with pytest.raises(vf.InvalidRequestError, match="set the top-level format = 'parquet'"):
        sync(cfg, client=client, today=DAY2, progress=False)
    assert fake.requests == []
    assert vf.read_inventory(tmp_path / "dimensions" / "networks").partitions == ((DAY1,),)


@pytest.mark.filterwarnings("ignore::vidiframe.UnknownFieldWarning")
@pytest.mark.parametrize("fmt", ["parquet", "delta"])
def test_a_field_null_or_gone_some_days_keeps_every_snapshot_coming(tmp_path, fake, client, fmt):
    # As an export's batches are conformed to their dataset. Before, a field null in
    # every row (Polars' Null type) failed a Delta snapshot at once and locked a
    # Parquet one to Null, refusing the day it had values; a day without it was
    # refused ("a column cannot be removed"), every day after.
    cfg = config(tmp_path, ["networks"], format=fmt)
    network = fake.account.networks[0]
    days = [DAY1, DAY2, D(2025, 1, 13)]
    for day, region in zip(days, [None, "North", None], strict=True):
        fake.edit_dimension("networks", network, region=region)
        report = sync(cfg, client=client, today=day, progress=False)
        assert [s.error for s in report.snapshots] == [None]
    every = vf.scan_dimension_snapshots(tmp_path, "networks").collect()
    regions = every.filter(pl.col("network_id") == network).sort("snapshot_date")
    assert regions.select("snapshot_date", "region").rows() == [
        (DAY1, None),
        (DAY2, "North"),
        (days[2], None),
    ]


@pytest.mark.filterwarnings("ignore::vidiframe.UnknownFieldWarning")
def test_a_field_absent_from_a_later_snapshot_is_null_in_it(tmp_path, client):
    from vidiframe._sync_snapshots import SnapshotJob, snapshot_target

    (networks,) = config(tmp_path, ["networks"], format="delta").dimensions
    first = SnapshotJob(networks, day=DAY1, format="delta", client=client)
    assert first.commit(vf.read_networks('[{"id": 1, "label": "N", "region": "North"}]')).ok
    fmt, schema = snapshot_target(networks)
    assert schema["region"] == pl.String
    later = SnapshotJob(networks, day=DAY2, format=fmt, schema=schema, client=client)
    result = later.commit(vf.read_networks('[{"id": 1, "label": "N"}]'))
    assert result.error is None
    every = vf.scan_dimension_snapshots(tmp_path, "networks").collect().sort("snapshot_date")
    assert every.select("snapshot_date", "label", "region").rows() == [
        (DAY1, "N", "North"),
        (DAY2, "N", None),
    ]


def test_a_dry_run_names_the_snapshots_it_would_take(tmp_path, fake, client):
    report = sync(config(tmp_path, ["locations", "sites"]), client=client, today=DAY1, dry_run=True)
    assert report.summary().splitlines()[-1] == (
        "dimension snapshots of 2025-01-11 (not taken on a dry run): locations, sites"
    )
    assert fake.requests == []


def test_the_summary_lists_the_rows_of_each_snapshot(tmp_path, fake, client):
    report = sync(
        config(tmp_path, ["networks", "locations"]), client=client, today=DAY1, progress=False
    )
    n, loc = len(fake.account.networks), len(fake.account.locations)
    assert report.summary().splitlines()[-3:] == [
        "dimension  snapshot    rows  stored",
        f"networks   2025-01-11  {n:<4}  yes",
        f"locations  2025-01-11  {loc:<4}  yes",
    ]


def test_an_empty_dimension_removes_that_days_snapshot(tmp_path):
    from vidiframe._dimension_snapshots import snapshot_path, write_snapshot

    path = snapshot_path(tmp_path, "site_tags")
    tags = vf.read_site_tags('[{"network_id": 1, "id": 2, "label": "north"}]')
    write_snapshot(tags, path, day=DAY1)
    write_snapshot(tags, path, day=DAY2)
    assert write_snapshot(tags.clear(), path, day=DAY2) == 0
    assert_frame_equal(
        vf.scan_dimension_snapshots(tmp_path, "site_tags").collect(),
        tags.with_columns(snapshot_date=pl.lit(DAY1)),
    )


@pytest.mark.parametrize("fmt", ["parquet", "delta"])
def test_a_dimension_whose_every_snapshot_was_removed_has_no_snapshot(tmp_path, fmt):
    from vidiframe._dimension_snapshots import snapshot_path, write_snapshot

    path = snapshot_path(tmp_path, "networks")
    networks = vf.read_networks('[{"id": 1, "label": "North"}]')
    write_snapshot(networks, path, day=DAY1, format=fmt)
    write_snapshot(networks.clear(), path, day=DAY1, format=fmt)
    # The Delta table is still there, without partitions: an empty frame would say
    # "no networks" where there is no snapshot at all.
    for as_of in (None, DAY2):
        with pytest.raises(vf.DatasetError, match="no snapshot of networks"):
            vf.scan_dimension_snapshots(tmp_path, "networks", as_of=as_of)


def test_bad_arguments_of_the_scan_are_named(tmp_path):
    with pytest.raises(vf.InvalidRequestError, match="did you mean 'locations'"):
        vf.scan_dimension_snapshots(tmp_path, "locatoins")
    with pytest.raises(vf.InvalidRequestError, match="as_of must be a date, not a date and time"):
        vf.scan_dimension_snapshots(tmp_path, "locations", as_of=dt.datetime(2025, 1, 1))
    with pytest.raises(vf.InvalidRequestError, match="as_of '2025-02-30'"):
        vf.scan_dimension_snapshots(tmp_path, "locations", as_of="2025-02-30")
    with pytest.raises(vf.DatasetError, match="list 'sites' in the sync configuration"):
        vf.scan_dimension_snapshots(tmp_path, "sites")


def test_a_dimension_read_takes_no_export_slot(tmp_path, fake, client):
    from vidiframe._sync_snapshots import SnapshotJob

    (locations,) = config(tmp_path, ["locations"]).dimensions
    job = SnapshotJob(locations, day=DAY1, format="parquet", client=client)
    # Every export slot busy (three exports building): the GET still goes through.
    slots = client._exports
    for _ in range(client.limits.exports):
        assert slots.acquire(blocking=False)
    try:
        assert not slots.acquire(blocking=False)
        fetched = job.fetch()
    finally:
        for _ in range(client.limits.exports):
            slots.release()
    assert isinstance(fetched, pl.DataFrame)
    assert fetched.height == len(fake.account.locations)
    assert gets(fake, LOCATIONS_PATH) == 1


def test_a_snapshot_read_counts_among_the_runs_calls_to_come_until_it_is_done(
    tmp_path, fake, client
):
    from vidiframe._sync_run import BuildTimes
    from vidiframe._sync_snapshots import SnapshotJob

    builds = BuildTimes(client)
    (networks,) = config(tmp_path, ["networks"]).dimensions
    job = SnapshotJob(networks, day=DAY1, format="parquet", client=client, expect=builds.expect)
    assert builds._calls_needed == 1
    fake.inject(ServerError(503), times=None, path="/api/v1/networks/")
    assert isinstance(job.fetch(), vf.TransportError)  # returned: the exports go on
    assert builds._calls_needed == 0
