"""kill -9 of a Delta writer on S3 at its last moment: the table stays at its old version.

A Delta write uploads its data files, then creates the log entry of the new
version (one put-if-absent PUT): that PUT is the commit. A proxy on 127.0.0.1
(``tests/support/proxy.py``) between the writer (a child process) and the S3
server holds that one request, so the writer is stopped at a known point, with
every data file uploaded. The parent reads the table there, kills the writer
with SIGKILL, reads again, then writes again once the dead writer's lease has
expired (an injected clock).
"""

from __future__ import annotations

import datetime as dt
import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import polars as pl
import pytest
from deltalake import DeltaTable
from polars.testing import assert_frame_equal
from support.kill import kill_now, reap
from support.proxy import Proxy

import vidiframe as vf
from vidiframe import _lease

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")

DAY1, DAY2, DAY3 = dt.date(2025, 3, 1), dt.date(2025, 3, 2), dt.date(2025, 3, 3)
KEY = "period_start_date"

CHILD = """
import json, sys
import polars as pl
import vidiframe as vf

url, frame, options = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
vf.write_partitions(
    pl.read_parquet(frame), url, partition_by="period_start_date", format="delta",
    storage_options=options,
)
print("finished", flush=True)
"""


def frame(days: list[dt.date], seed: int) -> pl.DataFrame:
    rows = [(day, seed * 1000 + i) for day in days for i in range(3 + seed)]
    return pl.DataFrame(
        {
            KEY: [d for d, _ in rows],
            "period_start_time": [dt.time(v % 24, v % 60, v % 60, v) for _, v in rows],
            "watcher_count": [v for _, v in rows],
            "gender_label": pl.Series(
                [("male", "female")[v % 2] for _, v in rows], dtype=pl.Enum(["male", "female"])
            ),
        }
    )


OLD = frame([DAY1, DAY2], seed=1)
NEW = frame([DAY2, DAY3], seed=2)


@pytest.fixture
def proxy(s3, bucket) -> Iterator[Proxy]:
    parts = urlsplit(s3.endpoint)
    # The commit of version 1: the log entry created by one PUT.
    holding = Proxy((parts.hostname, parts.port), hold=f"/lake/t/_delta_log/{1:020}.json".encode())
    yield holding
    holding.close()


def data_files(s3, bucket: str) -> set[str]:
    listing = s3.client().list_objects_v2(Bucket=bucket, Prefix="lake/t/")
    return {o["Key"] for o in listing.get("Contents", []) if "/_delta_log/" not in o["Key"]}


def test_killed_delta_writer_leaves_the_old_version(
    tmp_path: Path, s3, bucket: str, proxy: Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, options = f"s3://{bucket}/lake/t", s3.options()
    vf.write_partitions(OLD, url, partition_by=KEY, format="delta", storage_options=options)
    before = data_files(s3, bucket)
    NEW.write_parquet(tmp_path / "new.parquet")
    through_proxy = {**options, "aws_endpoint_url": f"http://127.0.0.1:{proxy.port}"}
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            CHILD,
            url,
            str(tmp_path / "new.parquet"),
            json.dumps(through_proxy),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        if not proxy.held.wait(timeout=120):
            child.kill()
            pytest.fail(f"the writer never committed: {child.communicate()[1]}")
        # Stopped at its commit: every data file is uploaded, the table is old.
        uploaded = data_files(s3, bucket) - before
        assert {k.split("/")[2] for k in uploaded} == {f"{KEY}={DAY2}", f"{KEY}={DAY3}"}
        assert_frame_equal(vf.scan_partitions(url, storage_options=options).collect(), OLD)
        kill_now(child)
    finally:
        reap(child)
    # Dead: the table is at its old version; the files it uploaded belong to no version.
    delta_options = {
        k: v for k, v in options.items() if k not in ("max_retries", "retry_timeout_ms")
    }
    assert DeltaTable(url, storage_options=delta_options).version() == 0
    assert_frame_equal(vf.scan_partitions(url, storage_options=options).collect(), OLD)
    assert vf.read_inventory(url, storage_options=options).partitions == ((DAY1,), (DAY2,))

    # The dead writer's lease refuses the next writer until it expires.
    with pytest.raises(vf.DatasetError, match="holds the lease"):
        vf.write_partitions(NEW, url, partition_by=KEY, format="delta", storage_options=options)
    now = _lease.clock()
    monkeypatch.setattr(_lease, "clock", lambda: now + _lease.LEASE_SECONDS + 1)
    vf.write_partitions(NEW, url, partition_by=KEY, format="delta", storage_options=options)
    assert DeltaTable(url, storage_options=delta_options).version() == 1
    expected = pl.concat([OLD.filter(pl.col(KEY) == DAY1), NEW])
    assert_frame_equal(vf.scan_partitions(url, storage_options=options).collect(), expected)
