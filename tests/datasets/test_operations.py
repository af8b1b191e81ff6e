"""What sync needs from the dataset layer: inventory, delete, replace_days, one lock."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import vidiframe as vf
from vidiframe import _lease

D = [dt.date(2025, 3, d) for d in range(1, 6)]
APRIL = dt.date(2025, 4, 2)
MONTH = vf.by_period("month")


@dataclass(frozen=True)
class Where:
    """A dataset in one format at one place: the calls pass its format and options."""

    fmt: str
    url: str
    options: dict[str, str] | None

    def write(self, df: pl.DataFrame, partition_by: Any = "period_start_date") -> None:
        vf.write_partitions(
            df,
            self.url,
            partition_by=partition_by,
            format=self.fmt,  # type: ignore[arg-type]
            storage_options=self.options,
        )

    def inventory(self) -> vf.DatasetInventory:
        return vf.read_inventory(self.url, storage_options=self.options)

    def scan(self) -> pl.DataFrame:
        return vf.scan_partitions(self.url, storage_options=self.options).collect()


@pytest.fixture(params=["parquet-local", "delta-local", "parquet-s3", "delta-s3"])
def where(request, tmp_path: Path) -> Where:
    fmt, place = request.param.split("-")
    if place == "local":
        return Where(fmt, str(tmp_path / "ds"), None)
    s3 = request.getfixturevalue("s3")
    return Where(fmt, f"s3://{s3.new_bucket()}/lake/ds", s3.options())


def test_inventory_of_nothing_is_empty(where: Where) -> None:
    inventory = where.inventory()
    assert not inventory.exists
    assert inventory.format is None
    assert inventory.partitions == ()
    assert inventory.days == frozenset()


def test_inventory_of_a_month_partitioned_dataset(where: Where, make_frame) -> None:
    df = make_frame([D[0], D[2], APRIL])
    where.write(df, MONTH)
    inventory = where.inventory()
    assert inventory.format == where.fmt
    assert inventory.partition_by == ("period_start_month",)
    assert inventory.partition_dtypes == {"period_start_month": pl.Date}
    assert inventory.partitions == ((dt.date(2025, 3, 1),), (dt.date(2025, 4, 1),))
    assert inventory.days == {D[0], D[2], APRIL}
    assert inventory.schema is not None
    assert inventory.schema["period_start_month"] == pl.Date
    assert inventory.schema["gender_label"] == df.schema["gender_label"]


def test_replace_days_keeps_the_other_days_of_the_month(where: Where, make_frame) -> None:
    old = make_frame(D[:4], seed=1)
    where.write(old, MONTH)
    # Days 2 and 3 fetched again: day 2 has new rows, day 3 has none any more.
    new = make_frame([D[1]], seed=2)
    changes = vf.replace_days(
        new,
        where.url,
        days=[D[1], D[2]],
        partition_by=MONTH,
        format=where.fmt,  # type: ignore[arg-type]
        storage_options=where.options,
    )
    assert changes.written == ((dt.date(2025, 3, 1),),)
    assert changes.removed == ()
    expected = pl.concat(
        [
            old.filter(pl.col("period_start_date") == D[0]),
            new,
            old.filter(pl.col("period_start_date") == D[3]),
        ]
    )
    assert_frame_equal(where.scan().drop("period_start_month"), expected)
    assert where.inventory().days == {D[0], D[1], D[3]}


def test_replace_days_removes_a_partition_left_empty(tmp_path: Path, make_frame) -> None:
    root = tmp_path / "ds"
    vf.write_partitions(make_frame([D[0], D[1]]), root, partition_by="period_start_date")
    changes = vf.replace_days(
        make_frame([D[0]], seed=2).head(0), root, days=[D[1]], partition_by="period_start_date"
    )
    assert changes.removed == ((D[1],),)
    assert changes.written == ()
    assert vf.read_inventory(root).partitions == ((D[0],),)
    assert not (root / f"period_start_date={D[1]}").exists()


def test_replace_days_refuses_rows_of_other_days(tmp_path: Path, make_frame) -> None:
    with pytest.raises(vf.DatasetError, match="days not in days"):
        vf.replace_days(make_frame([D[0], D[1]]), tmp_path / "ds", days=[D[0]], partition_by=MONTH)
    assert not (tmp_path / "ds").exists()


def test_delete_partitions(where: Where, make_frame) -> None:
    df = make_frame(D[:3])
    where.write(df)
    removed = vf.delete_partitions(where.url, [(D[1],), (D[4],)], storage_options=where.options)
    assert removed == ((D[1],),)
    assert_frame_equal(where.scan(), df.filter(pl.col("period_start_date") != D[1]))
    assert where.inventory().partitions == ((D[0],), (D[2],))


def test_dataset_lock_is_reentrant_for_its_holder(where: Where, make_frame) -> None:
    with vf.dataset_lock(where.url, storage_options=where.options):
        with vf.dataset_lock(where.url, storage_options=where.options):
            where.write(make_frame([D[0]]))
        vf.delete_partitions(where.url, [(D[0],)], storage_options=where.options)
        assert where.inventory().partitions == ()


HOLDER = """
import sys
import vidiframe as vf
options = dict(arg.split("=", 1) for arg in sys.argv[2:]) or None
with vf.dataset_lock(sys.argv[1], storage_options=options):
    print("held", flush=True)
    sys.stdin.readline()
"""


def test_a_second_writer_is_refused_while_another_process_holds_the_lock(
    where: Where, make_frame, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, options = where.url, where.options
    args = [f"{k}={v}" for k, v in (options or {}).items()]
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdin is not None
    try:
        assert holder.stdout.readline().strip() == "held"
        with (
            pytest.raises(vf.DatasetError, match="another"),
            vf.dataset_lock(url, storage_options=options),
        ):
            pass
        if options is not None:
            # On object storage a writer does not wait: it is refused at once.
            with pytest.raises(vf.DatasetError, match="another vidiframe writer"):
                where.write(make_frame([D[0]]))
            # The holder is killed: its lease stays until it expires...
            holder.kill()
            holder.wait()
            with pytest.raises(vf.DatasetError, match="until"):
                where.write(make_frame([D[0]]))
            # ...and is taken over once expired (the clock moved past it).
            now = _lease.clock()
            monkeypatch.setattr(_lease, "clock", lambda: now + _lease.LEASE_SECONDS + 1)
            where.write(make_frame([D[0]]))
            assert where.inventory().partitions == ((D[0],),)
    finally:
        if holder.poll() is None:
            holder.stdin.write("\n")
            holder.stdin.flush()
            holder.wait()
        holder.stdin.close()
        holder.stdout.close()
