"""Delta tables on S3 keep SPEC section 5: immutable objects, one commit per call, snapshots.

A Delta table never changes an object: each call adds new data files and one
new log entry (created with put-if-absent), and the files of earlier versions
stay until a ``VACUUM``. So, for Delta:

- "readers never see a half-written partition" is snapshot isolation: a reader
  reads one version, all of whose files exist and never change;
- "writing the same frame twice leaves the same dataset" means the same
  snapshot: the second call is one more commit whose rows, schema and
  partitions equal the first one's (the old version stays readable by time
  travel); no object is modified or removed.

The bucket is versioned, so the server keeps every version of every object: an
object written twice, a temporary object deleted afterwards, or a partial
object would all show up as a version.
"""

from __future__ import annotations

import datetime as dt
import threading

import polars as pl
import pytest
from deltalake import DeltaTable
from polars.testing import assert_frame_equal

import vidiframe as vf

from .test_hive_s3 import versions

DAY1, DAY2, DAY3 = dt.date(2025, 3, 1), dt.date(2025, 3, 2), dt.date(2025, 3, 3)
KEY = "period_start_date"


def _delta(options: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in options.items() if k not in ("max_retries", "retry_timeout_ms")}


def table_objects(s3, bucket: str) -> dict[str, list[tuple[str, str]]]:
    # The lease lives beside the table (lake/.t.vidiframe-lease): not part of it.
    return {k: v for k, v in versions(s3, bucket).items() if k.startswith("lake/t/")}


@pytest.fixture
def versioned(s3) -> str:
    return s3.new_bucket(versioned=True)


def test_each_call_adds_one_commit_and_never_changes_an_object(s3, versioned, make_frame) -> None:
    url, opts = f"s3://{versioned}/lake/t", s3.options()
    df = make_frame([DAY1, DAY2, DAY3])
    vf.write_partitions(df, url, partition_by=KEY, format="delta", storage_options=opts)
    before = table_objects(s3, versioned)
    assert [k for k in before if k.endswith(".json")] == [
        "lake/t/_delta_log/00000000000000000000.json"
    ]
    # A replacement of one partition, then the first frame again.
    for frame in (make_frame([DAY2], seed=2), df):
        vf.write_partitions(frame, url, partition_by=KEY, format="delta", storage_options=opts)
        after = table_objects(s3, versioned)
        # Every object was written once and never deleted: one version each...
        assert all(len(v) == 1 for v in after.values()), after
        # ...and those of the earlier versions are still there, unchanged.
        assert {k: v for k, v in after.items() if k in before} == before
        added = sorted(set(after) - set(before))
        commits = [k for k in added if k.startswith("lake/t/_delta_log/")]
        assert len(commits) == 1, added
        data = [k for k in added if not k.startswith("lake/t/_delta_log/")]
        # Data files only in the partitions the frame holds.
        days = {str(d) for d in frame[KEY].unique()}
        assert {k.split("/")[2] for k in data} == {f"{KEY}={d}" for d in days}
        before = after


def test_writing_the_same_frame_again_commits_the_same_snapshot(s3, bucket, make_frame) -> None:
    url, opts = f"s3://{bucket}/lake/t", s3.options()
    df = make_frame([DAY1, DAY2])
    first = vf.write_partitions(df, url, partition_by=KEY, format="delta", storage_options=opts)
    version = DeltaTable(url, storage_options=_delta(opts)).version()
    inventory = vf.read_inventory(url, storage_options=opts)
    again = vf.write_partitions(df, url, partition_by=KEY, format="delta", storage_options=opts)
    assert again == first == [f"{url}/{KEY}={DAY1}", f"{url}/{KEY}={DAY2}"]
    assert DeltaTable(url, storage_options=_delta(opts)).version() == version + 1
    assert_frame_equal(vf.scan_partitions(url, storage_options=opts).collect(), df)
    assert vf.read_inventory(url, storage_options=opts) == inventory
    # The version before stays readable as it was (time travel): equal rows.
    before = pl.scan_delta(url, version=version, storage_options=_delta(opts)).collect()
    now = pl.scan_delta(url, storage_options=_delta(opts)).collect()
    assert_frame_equal(before, now, check_row_order=False)


def test_readers_see_one_whole_commit_during_rewrites_on_s3(s3, bucket, make_frame) -> None:
    """A call replacing three partitions is one commit: no reader sees some of them new."""
    url, opts = f"s3://{bucket}/lake/t", s3.options()
    days = [DAY1, DAY2, DAY3]
    frames = [make_frame(days, seed=1), make_frame(days, seed=2)]
    vf.write_partitions(frames[0], url, partition_by=KEY, format="delta", storage_options=opts)
    stop = threading.Event()
    seen: list[int] = []
    torn: list[pl.DataFrame] = []
    errors: list[BaseException] = []

    def read() -> None:
        while not stop.is_set():
            try:
                got = vf.scan_partitions(url, storage_options=opts).collect()
            except BaseException as exc:
                errors.append(exc)
                return
            match = [i for i, f in enumerate(frames) if got.equals(f)]
            if match:
                seen.append(match[0])
            else:
                torn.append(got)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for i in range(6):
            vf.write_partitions(
                frames[(i + 1) % 2], url, partition_by=KEY, format="delta", storage_options=opts
            )
    finally:
        stop.set()
        reader.join()
    assert errors == []
    assert torn == []
    assert seen
