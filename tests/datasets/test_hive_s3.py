"""Hive Parquet on S3 keeps SPEC section 5: one object per partition, one PUT each.

The bucket is versioned, so the server keeps every version of every object: a
temporary object, an object written twice, or a partial object would all show
up as a version.
"""

from __future__ import annotations

import datetime as dt
import io
import threading

import polars as pl
import pyarrow.dataset as ds
import pytest
from polars.testing import assert_frame_equal

import vidiframe as vf

DAY1, DAY2, DAY3 = dt.date(2025, 3, 1), dt.date(2025, 3, 2), dt.date(2025, 3, 3)


@pytest.fixture
def versioned(s3) -> str:
    return s3.new_bucket(versioned=True)


def versions(s3, bucket: str) -> dict[str, list[tuple[str, str]]]:
    """Every version of every object: key -> [(version id, etag)], oldest first."""
    out: dict[str, list[tuple[str, str]]] = {}
    listing = s3.client().list_object_versions(Bucket=bucket)
    for v in sorted(listing.get("Versions", []), key=lambda v: v["LastModified"]):
        out.setdefault(v["Key"], []).append((v["VersionId"], v["ETag"]))
    for marker in listing.get("DeleteMarkers", []):
        out.setdefault(marker["Key"], []).append((marker["VersionId"], "deleted"))
    return out


def test_round_trip_keeps_values_and_dtypes(s3, bucket, make_frame) -> None:
    df = make_frame([DAY1, DAY2, DAY3])
    url = f"s3://{bucket}/lake/viewers"
    urls = vf.write_partitions(
        df, url, partition_by="period_start_date", storage_options=s3.options()
    )
    assert urls == [f"{url}/period_start_date={d}/part-0.parquet" for d in (DAY1, DAY2, DAY3)]
    back = vf.scan_partitions(url, storage_options=s3.options()).collect()
    assert_frame_equal(back, df)
    # Partition filters prune objects: only DAY2's rows, with their values.
    lf = vf.scan_partitions(url, storage_options=s3.options())
    assert_frame_equal(
        lf.filter(pl.col("period_start_date") == DAY2).collect(),
        df.filter(pl.col("period_start_date") == DAY2),
    )


def test_every_write_is_whole_objects_only(s3, versioned, make_frame) -> None:
    url = f"s3://{versioned}/lake/viewers"
    old, new = make_frame([DAY1, DAY2], seed=1), make_frame([DAY2, DAY3], seed=2)
    vf.write_partitions(old, url, partition_by="period_start_date", storage_options=s3.options())
    vf.write_partitions(new, url, partition_by="period_start_date", storage_options=s3.options())
    history = versions(s3, versioned)
    # Only partition objects ever existed (no temporary key); the lease lives
    # beside the dataset and is deleted when the writer is done.
    data_keys = {k for k in history if k.startswith("lake/viewers/")}
    assert data_keys == {
        f"lake/viewers/period_start_date={d}/part-0.parquet" for d in (DAY1, DAY2, DAY3)
    }
    lease = [k for k in history if not k.startswith("lake/viewers/")]
    assert lease == ["lake/.viewers.vidiframe-lease"]
    assert history[lease[0]][-1][1] == "deleted"
    # DAY1 untouched by the second write; DAY2 replaced once; DAY3 created once.
    prefix = "lake/viewers/period_start_date="
    assert len(history[f"{prefix}{DAY1}/part-0.parquet"]) == 1
    assert len(history[f"{prefix}{DAY2}/part-0.parquet"]) == 2
    assert len(history[f"{prefix}{DAY3}/part-0.parquet"]) == 1
    # Every version ever stored is a whole Parquet file of one of the two frames.
    client = s3.client()
    for key, entries in history.items():
        if not key.startswith("lake/viewers/"):
            continue
        day = dt.date.fromisoformat(key.split("=")[1].split("/")[0])
        for version_id, _ in entries:
            body = client.get_object(Bucket=versioned, Key=key, VersionId=version_id)["Body"].read()
            rows = pl.read_parquet(io.BytesIO(body))
            candidates = [
                f.filter(pl.col("period_start_date") == day).drop("period_start_date")
                for f in (old, new)
            ]
            assert any(rows.equals(c) for c in candidates), key


def test_writing_the_same_frame_again_changes_no_object(s3, versioned, make_frame) -> None:
    url = f"s3://{versioned}/lake/viewers"
    df = make_frame([DAY1, DAY2])
    vf.write_partitions(df, url, partition_by="period_start_date", storage_options=s3.options())
    before = {k: v for k, v in versions(s3, versioned).items() if k.startswith("lake/viewers/")}
    written = vf.write_partitions(
        df, url, partition_by="period_start_date", storage_options=s3.options()
    )
    after = {k: v for k, v in versions(s3, versioned).items() if k.startswith("lake/viewers/")}
    assert written == []
    assert after == before


def test_schema_conflict_changes_no_object(s3, versioned, make_frame) -> None:
    url = f"s3://{versioned}/lake/viewers"
    vf.write_partitions(
        make_frame([DAY1]), url, partition_by="period_start_date", storage_options=s3.options()
    )
    before = versions(s3, versioned)
    bad = make_frame([DAY1, DAY2], seed=2).with_columns(pl.col("watcher_count").cast(pl.Float64))
    with pytest.raises(vf.SchemaConflictError, match="watcher_count: frame has Float64"):
        vf.write_partitions(
            bad, url, partition_by="period_start_date", storage_options=s3.options()
        )
    after = versions(s3, versioned)
    # Only the lease came and went; no data object changed nor appeared.
    assert {k: v for k, v in after.items() if "lease" not in k} == {
        k: v for k, v in before.items() if "lease" not in k
    }


def test_modes_skip_and_error_on_s3(s3, bucket, make_frame) -> None:
    url = f"s3://{bucket}/lake/viewers"
    opts = s3.options()
    old = make_frame([DAY1], seed=1)
    vf.write_partitions(old, url, partition_by="period_start_date", storage_options=opts)
    new = make_frame([DAY1, DAY2], seed=2)
    with pytest.raises(vf.DatasetError, match="1 partition"):
        vf.write_partitions(
            new, url, partition_by="period_start_date", mode="error", storage_options=opts
        )
    vf.write_partitions(
        new, url, partition_by="period_start_date", mode="skip", storage_options=opts
    )
    got = vf.scan_partitions(url, storage_options=opts).collect()
    expected = pl.concat([old, new.filter(pl.col("period_start_date") == DAY2)])
    assert_frame_equal(got, expected)


def test_readers_see_whole_partitions_during_rewrites_on_s3(s3, bucket) -> None:
    url = f"s3://{bucket}/lake/big"
    opts = s3.options()
    n = 200_000
    versions_ = [
        pl.DataFrame(
            {
                "period_start_date": [DAY1] * n,
                "v": (pl.int_range(n, eager=True).hash(seed) % 1_000_000_007).cast(pl.Int64),
            }
        )
        for seed in (1, 2)
    ]
    sums = {int(v["v"].sum()) for v in versions_}
    vf.write_partitions(versions_[0], url, partition_by="period_start_date", storage_options=opts)
    key = f"lake/big/period_start_date={DAY1}/part-0.parquet"
    client = s3.client()
    stop = threading.Event()
    seen: list[int] = []
    errors: list[BaseException] = []

    def read() -> None:
        while not stop.is_set():
            try:
                # One GET per read: what the store serves is one whole version.
                # (A Polars scan reads an object with several ranged GETs and does
                # not pin its version: a replacement in between can fail that
                # query, see docs/datasets-cloud.md.)
                body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
                got = pl.read_parquet(io.BytesIO(body))
                seen.append(int(got["v"].sum()) if got.height == n else -got.height)
            except BaseException as exc:  # a torn object is an error here
                errors.append(exc)
                return

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for i in range(6):
            vf.write_partitions(
                versions_[(i + 1) % 2], url, partition_by="period_start_date", storage_options=opts
            )
    finally:
        stop.set()
        reader.join()
    assert errors == []
    assert seen
    assert set(seen) <= sums


def test_other_engines_read_the_s3_dataset(s3, bucket, make_frame) -> None:
    df = make_frame([DAY1, DAY2])
    url = f"s3://{bucket}/lake/viewers"
    vf.write_partitions(df, url, partition_by="period_start_date", storage_options=s3.options())
    # PyArrow through its own S3 filesystem: the objects are plain Hive Parquet.
    from pyarrow import fs

    s3fs = fs.S3FileSystem(
        access_key=s3.access_key,
        secret_key=s3.secret_key,
        endpoint_override=s3.endpoint,
        scheme="http",
        region="us-east-1",
    )
    table = ds.dataset(f"{bucket}/lake/viewers", filesystem=s3fs, partitioning="hive").to_table()
    got = pl.from_arrow(table)
    assert isinstance(got, pl.DataFrame)
    columns = ["watcher_count", "gender_label"]
    assert sorted(got.select(pl.col(columns).cast(pl.String)).rows()) == sorted(
        df.select(pl.col(columns).cast(pl.String)).rows()
    )
