"""Dimension snapshots on object storage (the moto S3 server), Hive Parquet and Delta.

The same run as ``tests/test_sync_dimensions.py`` through a URL root with its
``[storage_options]``: two sync days with a renamed location, a second run the
same day, and names joined as of a date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import polars as pl
import pytest

import vidiframe as vf
from vidiframe._sync import SyncConfig, sync
from vidiframe.testing import FakeVidiCenter, ManualClock

DAY1, DAY2 = dt.date(2025, 1, 11), dt.date(2025, 1, 12)
OTS = {"data_type": "ots", "time_resolution": "1h", "locations": [4636, 4637]}


@pytest.fixture
def fake() -> Iterator[FakeVidiCenter]:
    clock = ManualClock()
    with FakeVidiCenter(clock=clock, serve=False) as server:
        server.test_client = vf.VidiCenterClient(  # type: ignore[attr-defined]
            "demo",
            "demo-token",
            server.url,
            transport=server.transport(),
            clock=clock,
            sleep=clock.sleep,
            cache_dir=None,
        )
        yield server


@pytest.mark.parametrize("fmt", ["parquet", "delta"])
def test_snapshots_on_s3_keep_a_day_each_and_join_as_of_a_date(s3, bucket, fake, fmt):
    options = s3.options()
    root = f"s3://{bucket}/lake"
    cfg = SyncConfig.from_dict(
        {
            "root": root,
            "storage_options": options,
            "first_day": "2025-01-08",
            "trailing_days": 1,
            "format": fmt,
            "dimensions": ["locations", "sites_vehicles"],
            "export": [OTS],
        }
    )
    client = fake.test_client
    first = sync(cfg, client=client, today=DAY1, progress=False)
    fake.edit_dimension("locations", 4636, label="Main door")
    sync(cfg, client=client, today=DAY2, progress=False)
    fake.edit_dimension("locations", 4636, label="Main entrance")
    again = sync(cfg, client=client, today=DAY2, progress=False)

    assert first.complete
    assert again.complete
    path = f"{root}/dimensions/locations"
    inventory = vf.read_inventory(path, storage_options=options)
    assert (inventory.format, inventory.partitions) == (fmt, ((DAY1,), (DAY2,)))

    def label(as_of: dt.date) -> str:
        snap = vf.scan_dimension_snapshots(root, "locations", as_of=as_of, storage_options=options)
        ots = vf.scan_partitions(cfg.exports[0].path, storage_options=options).collect()
        named = ots.vidi.with_names(locations=snap.collect())
        return (
            named.filter(pl.col("location_id") == 4636).get_column("location_label").unique().item()
        )

    assert label(DAY1) == "Location 4636"
    assert label(DAY2) == "Main entrance"  # the same day's second run replaced the first
    every = vf.scan_dimension_snapshots(root, "locations", storage_options=options).collect()
    assert every.height == 2 * len(fake.account.locations)

    sites = vf.scan_dimension_snapshots(
        root, "sites_vehicles", as_of=DAY2, storage_options=options
    ).collect()
    factors = sites.filter(pl.col("site_id") == 463).get_column("vehicles_factors").item()
    sent = fake.account.site_row(463, vehicles=True)["vehicles_factors"]
    assert {k: factors[k] for k in sent} == sent
    secret = options["aws_secret_access_key"]
    assert secret not in repr(cfg) + again.summary() + "".join(
        s.describe() for s in again.snapshots
    )
