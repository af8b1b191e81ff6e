"""The kill -9 tests of test_datasets_kill.py, repeated on S3 (moto on 127.0.0.1).

The writer runs in a child process that stops at a named step (the
``_checkpoint`` hook) and waits; the parent reads the dataset there, kills the
child with SIGKILL, reads again, then writes again. The dead writer's lease
stays behind: the next writer is refused until it expires (an injected clock
moves past it), then takes it over. PUTs run one at a time in the child so
that each step is one known point.
"""

from __future__ import annotations

import datetime as dt
import json
import signal
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from support.kill import (
    ALL_NEW,
    ALL_OLD,
    DAY1,
    DAY2,
    DAY3,
    frame,
    old_or_new,
    stopped_then_killed,
)

import vidiframe as vf
from vidiframe import _lease

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")

CHILD = """
import json, sys
import polars as pl
import vidiframe as vf
from vidiframe import _hive

url, frame, stop_at, options = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
_hive._PUT_THREADS = 1


def stop(step):
    if step == stop_at:
        print(step, flush=True)
        sys.stdin.readline()


_hive._checkpoint = stop
vf.write_partitions(
    pl.read_parquet(frame), url, partition_by="period_start_date", storage_options=options
)
print("finished", flush=True)
"""


OLD = frame([DAY1, DAY2], seed=1)
NEW = frame([DAY1, DAY2, DAY3], seed=2)


def state(url: str, options: dict[str, str]) -> dict[dt.date, str]:
    """Each visible partition as "old" or "new", as vidiframe and plain Polars read it."""
    if not vf.read_inventory(url, storage_options=options).exists:
        return {}
    scanned = vf.scan_partitions(url, storage_options=options).collect()
    polars_options = {**options, "max_retries": 1, "retry_timeout_ms": 5000}
    plain = pl.scan_parquet(
        f"{url}/**/*.parquet", hive_partitioning=True, storage_options=polars_options
    ).collect()
    assert_frame_equal(plain.select(scanned.columns), scanned, check_dtypes=False)
    return old_or_new(scanned, OLD, NEW)


def objects(s3, bucket: str, prefix: str) -> dict[str, bytes]:
    client = s3.client()
    listing = client.list_objects_v2(Bucket=bucket, Prefix=prefix)
    return {
        o["Key"].removeprefix(prefix): client.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
        for o in listing.get("Contents", [])
    }


def kill_writer_at(tmp_path: Path, url: str, options: dict[str, str], step: str) -> dict:
    NEW.write_parquet(tmp_path / "new.parquet")
    argv = ["-c", CHILD, url, str(tmp_path / "new.parquet"), step, json.dumps(options)]
    return stopped_then_killed(argv, step, lambda: state(url, options))


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        ("locked", ALL_OLD),
        ("staged", ALL_OLD),
        ("committing:period_start_date=2025-03-01", ALL_OLD),
        ("committed:period_start_date=2025-03-01", {DAY1: "new", DAY2: "old"}),
        ("committing:period_start_date=2025-03-03", {DAY1: "new", DAY2: "new"}),
        ("committed:period_start_date=2025-03-03", ALL_NEW),
        ("done", ALL_NEW),
    ],
)
def test_killed_replacement_on_s3_leaves_each_partition_old_or_new(
    tmp_path: Path, s3, bucket: str, step: str, expected: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, options = f"s3://{bucket}/lake/ds", s3.options()
    vf.write_partitions(OLD, url, partition_by="period_start_date", storage_options=options)
    during = kill_writer_at(tmp_path, url, options, step)
    assert during == expected
    assert state(url, options) == expected
    # No object but whole partitions, ever: no temporary key to clean up.
    keys = set(objects(s3, bucket, "lake/ds/"))
    assert all(k.endswith("/part-0.parquet") for k in keys)

    # The dead writer's lease refuses the next writer until it expires.
    with pytest.raises(vf.DatasetError, match="holds the lease"):
        vf.write_partitions(NEW, url, partition_by="period_start_date", storage_options=options)
    now = _lease.clock()
    monkeypatch.setattr(_lease, "clock", lambda: now + _lease.LEASE_SECONDS + 1)
    vf.write_partitions(NEW, url, partition_by="period_start_date", storage_options=options)
    assert state(url, options) == ALL_NEW
    clean = f"s3://{bucket}/lake/clean"
    vf.write_partitions(OLD, clean, partition_by="period_start_date", storage_options=options)
    vf.write_partitions(NEW, clean, partition_by="period_start_date", storage_options=options)
    assert objects(s3, bucket, "lake/ds/") == objects(s3, bucket, "lake/clean/")
    # Both leases were released: only the datasets' objects remain.
    assert {k.split("/")[0] for k in objects(s3, bucket, "lake/")} == {"ds", "clean"}
