"""A network failure in the middle of a write: a DatasetError, and every partition old or new.

A TCP proxy on 127.0.0.1 (``tests/support/proxy.py``) stands between the writer
and the S3 server; it cuts the connection as soon as the PUT of one chosen
partition starts, as a broken network would (the server never receives the
whole request).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from urllib.parse import urlsplit

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from support.proxy import Proxy

import vidiframe as vf

DAY1, DAY2, DAY3 = dt.date(2025, 3, 1), dt.date(2025, 3, 2), dt.date(2025, 3, 3)


@pytest.fixture
def proxy(s3, bucket) -> Iterator[Proxy]:
    parts = urlsplit(s3.endpoint)
    # object_store may percent-encode the '=' of the key.
    cut = tuple(
        f"PUT /{bucket}/lake/ds/period_start_date{eq}{DAY2}/".encode() for eq in ("=", "%3D")
    )
    proxied = Proxy((parts.hostname, parts.port), cut=cut)
    yield proxied
    proxied.close()


def test_a_cut_connection_mid_write_leaves_each_partition_old_or_new(
    s3, bucket, proxy: Proxy, make_frame
) -> None:
    url = f"s3://{bucket}/lake/ds"
    options = s3.options(aws_endpoint_url=f"http://127.0.0.1:{proxy.port}", max_retries="1")
    old, new = make_frame([DAY1, DAY2], seed=1), make_frame([DAY1, DAY2, DAY3], seed=2)
    vf.write_partitions(old, url, partition_by="period_start_date", storage_options=options)
    proxy.armed.set()
    with pytest.raises(vf.DatasetError) as info:
        vf.write_partitions(new, url, partition_by="period_start_date", storage_options=options)
    message = str(info.value)
    assert f"{url}/period_start_date={DAY2}/part-0.parquet" in message
    assert "run again" in message
    assert s3.secret_key not in message
    assert proxy.cuts >= 1
    proxy.armed.clear()
    # DAY2 is the old partition, whole; the others are old or new, whole.
    got = vf.scan_partitions(url, storage_options=options).collect()
    assert_frame_equal(
        got.filter(pl.col("period_start_date") == DAY2),
        old.filter(pl.col("period_start_date") == DAY2),
    )
    for day in (DAY1, DAY3):
        part = got.filter(pl.col("period_start_date") == day)
        candidates = [f.filter(pl.col("period_start_date") == day) for f in (old, new)]
        assert any(part.equals(c) for c in candidates), day
    # The writer released its lease on the way out: the next run needs no wait.
    vf.write_partitions(new, url, partition_by="period_start_date", storage_options=options)
    assert_frame_equal(vf.scan_partitions(url, storage_options=options).collect(), new)
