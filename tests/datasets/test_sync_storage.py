"""``sync`` into object storage (the moto S3 server) and into Delta tables.

The same rules as ``tests/test_sync.py`` (a dataset kept up to date by many runs
is the dataset one fetch would have written), through a URL root with its
``[storage_options]``, and with ``format = "delta"``.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import vidiframe as vf
from vidiframe._sync import SyncConfig, sync
from vidiframe.testing import FakeVidiCenter, ManualClock

D = dt.date
OTS = {"data_type": "ots", "time_resolution": "1h", "locations": [4636, 4637]}
FINEST = {"data_type": "viewers", "time_resolution": "finest", "locations": [4636]}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def fake(clock: ManualClock) -> Iterator[FakeVidiCenter]:
    with FakeVidiCenter(clock=clock, serve=False) as server:
        yield server


@pytest.fixture
def client(fake: FakeVidiCenter, clock: ManualClock) -> Iterator[vf.VidiCenterClient]:
    with vf.VidiCenterClient(
        "demo",
        "demo-token",
        fake.url,
        transport=fake.transport(),
        clock=clock,
        sleep=clock.sleep,
        cache_dir=None,
    ) as c:
        yield c


def one_shot(client: vf.VidiCenterClient, export: Any, start: D, end: D) -> pl.DataFrame:
    q = export.query
    return vf.read_vidicenter(
        data_type=q.data_type,
        time_resolution=q.time_resolution,
        start=start,
        end=end,
        locations=q.locations or None,
        client=client,
        force_rebuild=True,
        progress=False,
    )


def stored(export: Any) -> pl.DataFrame:
    lf = vf.scan_partitions(export.path, storage_options=export.storage_options)
    return lf.collect().drop("period_start_month", "period_start_year", strict=False)


def same_rows(export: Any, expected: pl.DataFrame) -> None:
    """The dataset holds exactly ``expected``, in its order (Delta too)."""
    assert_frame_equal(stored(export), expected)


def s3_config(s3: Any, bucket: str, *exports: dict[str, Any], **top: Any) -> SyncConfig:
    return SyncConfig.from_dict(
        {
            "root": f"s3://{bucket}/lake",
            "storage_options": s3.options(),
            "first_day": "2025-01-01",
            "trailing_days": 2,
            **top,
            "export": list(exports),
        }
    )


@pytest.mark.parametrize("fmt", ["parquet", "delta"])
def test_sync_keeps_an_s3_dataset_up_to_date(s3, bucket, client, fmt):
    cfg = s3_config(s3, bucket, {**OTS, "batch_rows": 48 * 4}, {**FINEST}, format=fmt)
    ots, finest = cfg.exports
    first = sync(cfg, client=client, today=D(2025, 1, 8), progress=False)
    # A day later: the trailing days of the month partition are merged through the
    # dataset layer, the other days of January kept.
    again = sync(cfg, client=client, today=D(2025, 1, 9), progress=False)

    assert first.complete
    assert again.complete
    assert [(r.export, r.batch.describe()) for r in again.results] == [
        ("ots_1h", "2025-01-07..2025-01-08"),
        ("viewers_finest", "2025-01-07..2025-01-08"),
    ]
    assert ots.path == f"s3://{bucket}/lake/ots_1h"
    same_rows(ots, one_shot(client, ots, D(2025, 1, 1), D(2025, 1, 8)))
    same_rows(finest, one_shot(client, finest, D(2025, 1, 1), D(2025, 1, 8)))
    secret = s3.options()["aws_secret_access_key"]
    assert secret not in repr(cfg) + first.summary() + "".join(r.describe() for r in first.results)


def test_a_delta_dataset_synced_locally_reads_back_as_fetched(tmp_path, client):
    cfg = SyncConfig.from_dict(
        {
            "root": str(tmp_path),
            "first_day": "2025-01-01",
            "trailing_days": 2,
            "format": "delta",
            "export": [OTS],
        }
    )
    (ots,) = cfg.exports
    sync(cfg, client=client, today=D(2025, 1, 6), progress=False)
    report = sync(cfg, client=client, today=D(2025, 1, 7), progress=False)
    assert [r.batch.describe() for r in report.results] == ["2025-01-05..2025-01-06"]
    assert (tmp_path / "ots_1h" / "_delta_log").is_dir()
    same_rows(ots, one_shot(client, ots, D(2025, 1, 1), D(2025, 1, 6)))
    # An existing Delta table is not rewritten as Parquet behind the user's back.
    parquet = SyncConfig.from_dict(
        {"root": str(tmp_path), "first_day": "2025-01-01", "export": [OTS]}
    )
    with pytest.raises(vf.InvalidRequestError, match="is a delta dataset; set format = 'delta'"):
        sync(parquet, client=client, today=D(2025, 1, 8), progress=False)


HOLD_LEASE = """
import json, sys
from vidiframe._datasets import dataset_lock
with dataset_lock(sys.argv[1], storage_options=json.loads(sys.argv[2])):
    print("held", flush=True)
    sys.stdin.read()
"""


def test_a_second_sync_of_an_s3_dataset_is_refused_while_the_lease_is_held(
    s3, bucket, fake, client
):
    import json

    cfg = s3_config(s3, bucket, OTS)
    (ots,) = cfg.exports
    with subprocess.Popen(
        [sys.executable, "-c", HOLD_LEASE, str(ots.path), json.dumps(s3.options())],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        assert holder.stdin is not None
        assert holder.stdout is not None
        try:
            assert holder.stdout.readline() == "held\n"
            with pytest.raises(vf.DatasetError, match="another") as caught:
                sync(cfg, client=client, today=D(2025, 1, 5), progress=False)
        finally:
            holder.stdin.close()
        assert holder.wait(timeout=60) == 0
    assert s3.options()["aws_secret_access_key"] not in str(caught.value)
    assert fake.requests == []
    assert sync(cfg, client=client, today=D(2025, 1, 5), progress=False).complete
