"""A Delta table on S3 is read once per call: no listing of ``_delta_log/`` before deltalake's own.

The requests are counted by a proxy between the reader and the S3 server. The
reader runs in a child process: deltalake holds the GIL in some calls
(``history``), which would stop a proxy thread of the same process.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from support.proxy import Proxy

import vidiframe as vf

READER = """
import json, sys
import vidiframe as vf

url, options, call = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
if call == "scan":
    vf.scan_partitions(url, storage_options=options)
else:
    print(sorted(vf.read_inventory(url, storage_options=options).days))
"""


@pytest.fixture
def proxy(s3) -> Iterator[Proxy]:
    parts = urlsplit(s3.endpoint)
    counting = Proxy((parts.hostname, parts.port))
    yield counting
    counting.close()


def read_through(proxy: Proxy, s3, url: str, call: str) -> str:
    options = s3.options(aws_endpoint_url=proxy.endpoint)
    done = subprocess.run(
        [sys.executable, "-c", READER, url, json.dumps(options), call],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def log_listings(proxy: Proxy, prefix: str) -> list[str]:
    """Listings of ``_delta_log/`` from its start (deltalake's own list after a version)."""
    listed = f"prefix={prefix.replace('/', '%2F')}%2F_delta_log%2F"
    return [p for m, p in proxy.requests if m == "GET" and listed in p and "start-after" not in p]


@pytest.mark.parametrize(
    ("partition_by", "call"),
    [("period_start_date", "scan"), ("period_start_date", "inventory"), ("month", "inventory")],
)
def test_a_delta_table_is_opened_once(
    s3, bucket: str, proxy: Proxy, make_frame, partition_by: str, call: str
) -> None:
    url = f"s3://{bucket}/lake/t"
    days = [dt.date(2025, 3, 1), dt.date(2025, 3, 9)]
    by = vf.by_period("month") if partition_by == "month" else partition_by
    vf.write_partitions(
        make_frame(days), url, partition_by=by, format="delta", storage_options=s3.options()
    )
    out = read_through(proxy, s3, url, call)
    if call == "inventory":
        assert out == repr(days)  # a month partition: its days were read from the rows
    # One open of the table (deltalake looks for a checkpoint once per open)...
    assert proxy.count("GET", "/lake/t/_delta_log/_last_checkpoint") == 1
    # ...and no listing of the log of our own before it.
    assert log_listings(proxy, "lake/t") == []


def test_a_missing_bucket_still_says_so(s3) -> None:
    url = "s3://no-such-bucket-here/lake/t"
    for read in (vf.scan_partitions, vf.read_inventory):
        with pytest.raises(vf.DatasetError) as info:
            read(url, storage_options=s3.options())
        message = str(info.value)
        assert "s3://no-such-bucket-here/lake/t" in message
        assert "bucket does not exist" in message
        assert s3.secret_key not in message


def test_a_root_without_a_table_is_still_no_dataset(s3, bucket: str) -> None:
    url = f"s3://{bucket}/lake/nothing"
    with pytest.raises(vf.DatasetError, match=f"no dataset at {url}: it holds no Parquet file"):
        vf.scan_partitions(url, storage_options=s3.options())
    assert vf.read_inventory(url, storage_options=s3.options()) == vf.DatasetInventory(None)
