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
import os
import signal
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import vidiframe as vf
from vidiframe import _lease

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")

DAY1, DAY2, DAY3 = dt.date(2025, 3, 1), dt.date(2025, 3, 2), dt.date(2025, 3, 3)

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


def frame(days: list[dt.date], seed: int) -> pl.DataFrame:
    rows = [(day, seed * 1000 + i) for day in days for i in range(3 + seed + days.index(day))]
    return pl.DataFrame(
        {
            "period_start_date": [d for d, _ in rows],
            "watcher_count": [v for _, v in rows],
            "gender_label": pl.Series(
                [("male", "female")[v % 2] for _, v in rows], dtype=pl.Enum(["male", "female"])
            ),
        }
    )


OLD = frame([DAY1, DAY2], seed=1)
NEW = frame([DAY1, DAY2, DAY3], seed=2)


def by_day(df: pl.DataFrame) -> dict[dt.date, pl.DataFrame]:
    return {d: p for (d,), p in df.partition_by("period_start_date", as_dict=True).items()}


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
    olds, news = by_day(OLD), by_day(NEW)
    out = {}
    for day, part in by_day(scanned).items():
        if day in olds and part.equals(olds[day]):
            out[day] = "old"
        else:
            assert_frame_equal(part, news[day])
            out[day] = "new"
    return out


def objects(s3, bucket: str, prefix: str) -> dict[str, bytes]:
    client = s3.client()
    listing = client.list_objects_v2(Bucket=bucket, Prefix=prefix)
    return {
        o["Key"].removeprefix(prefix): client.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
        for o in listing.get("Contents", [])
    }


def kill_writer_at(tmp_path: Path, url: str, options: dict[str, str], step: str) -> dict:
    NEW.write_parquet(tmp_path / "new.parquet")
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            CHILD,
            url,
            str(tmp_path / "new.parquet"),
            step,
            json.dumps(options),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        reached = child.stdout.readline().strip()
        if reached != step:
            child.kill()
            pytest.fail(f"writer did not stop at {step!r}: {reached!r}\n{child.communicate()[1]}")
        during = state(url, options)
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait() == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        for stream in (child.stdin, child.stdout, child.stderr):
            if stream is not None:
                stream.close()
    return during


ALL_OLD = {DAY1: "old", DAY2: "old"}
ALL_NEW = {DAY1: "new", DAY2: "new", DAY3: "new"}


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
