"""A data file damaged outside vidiframe: a DatasetError naming it, never a panic nor lost rows.

Polars reads a local Delta file at the size the log records: a shorter file
makes it panic (``PanicException``, a ``BaseException`` that ``except
Exception`` lets through). Other damage is a Polars ``ComputeError`` that names
no file, and an empty Hive file is skipped by Polars' directory listing, its
rows missing without an error. Where vidiframe
collects a scan itself (inventory, replace_days) or can tell without reading
rows (sizes), it raises :class:`~vidiframe.DatasetError` naming the file.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import vidiframe as vf

MARCH, APRIL = dt.date(2025, 3, 2), dt.date(2025, 4, 2)
MONTH = vf.by_period("month")


@dataclass
class Dataset:
    fmt: str
    url: str
    options: dict[str, str] | None
    s3: Any = None
    bucket: str = ""
    prefix: str = ""

    def write(self, df: pl.DataFrame) -> None:
        vf.write_partitions(
            df,
            self.url,
            partition_by=MONTH,
            format=self.fmt,  # type: ignore[arg-type]
            storage_options=self.options,
        )

    def data_files(self, month: str) -> list[str]:
        """The data files of one month partition, relative to the root."""
        if self.s3 is None:
            root = Path(self.url)
            return sorted(p.relative_to(root).as_posix() for p in root.glob(f"*={month}/*.parquet"))
        listing = self.s3.client().list_objects_v2(Bucket=self.bucket, Prefix=self.prefix)
        return sorted(
            o["Key"].removeprefix(self.prefix)
            for o in listing["Contents"]
            if f"={month}/" in o["Key"] and o["Key"].endswith(".parquet")
        )

    def read(self, rel: str) -> bytes:
        if self.s3 is None:
            return (Path(self.url) / rel).read_bytes()
        return self.s3.client().get_object(Bucket=self.bucket, Key=self.prefix + rel)["Body"].read()

    def overwrite(self, rel: str, data: bytes) -> None:
        if self.s3 is None:
            (Path(self.url) / rel).write_bytes(data)
        else:
            self.s3.client().put_object(Bucket=self.bucket, Key=self.prefix + rel, Body=data)

    def cut_short(self, month: str) -> tuple[str, int, int]:
        """Cut the month's data file to half its length: its path or URL, old and new size."""
        (rel,) = self.data_files(month)
        data = self.read(rel)
        self.overwrite(rel, data[: len(data) // 2])
        return f"{self.url}/{rel}", len(data), len(data) // 2


@pytest.fixture(params=["parquet-local", "delta-local", "parquet-s3", "delta-s3"])
def dataset(request: pytest.FixtureRequest, tmp_path: Path) -> Dataset:
    fmt, place = request.param.split("-")
    if place == "local":
        return Dataset(fmt, str(tmp_path / "ds"), None)
    s3 = request.getfixturevalue("s3")
    bucket = s3.new_bucket()
    return Dataset(fmt, f"s3://{bucket}/lake/ds", s3.options(), s3, bucket, "lake/ds/")


def _no_secret(message: str, dataset: Dataset) -> None:
    if dataset.s3 is not None:
        assert dataset.s3.secret_key not in message
        assert dataset.s3.access_key not in message


def test_inventory_names_a_data_file_cut_short(dataset: Dataset, make_frame) -> None:
    """Month partitions: the inventory scans the rows for their days, and meets the file."""
    dataset.write(make_frame([MARCH, APRIL]))
    damaged, logged, size = dataset.cut_short("2025-03-01")
    with pytest.raises(vf.DatasetError) as info:
        vf.read_inventory(dataset.url, storage_options=dataset.options)
    message = str(info.value)
    assert f"the dataset at {dataset.url}" in message
    if dataset.fmt == "delta":
        assert f"{damaged} ({size} bytes; the Delta log records {logged})" in message
    else:
        assert f"{damaged} (no readable Parquet footer" in message
    _no_secret(message, dataset)


def test_replace_days_names_a_damaged_file_and_writes_nothing(dataset: Dataset, make_frame) -> None:
    """replace_days reads the stored rows back: a damaged file stops it before any write."""
    old = make_frame([MARCH, APRIL])
    dataset.write(old)
    damaged, _, _ = dataset.cut_short("2025-03-01")
    april = dataset.data_files("2025-04-01")
    april_bytes = [dataset.read(rel) for rel in april]
    new = make_frame([APRIL], seed=2)
    with pytest.raises(vf.DatasetError) as info:
        vf.replace_days(
            new,
            dataset.url,
            days=[APRIL],
            partition_by=MONTH,
            format=dataset.fmt,  # type: ignore[arg-type]
            storage_options=dataset.options,
        )
    message = str(info.value)
    assert damaged in message
    assert "damaged" in message
    _no_secret(message, dataset)
    # Nothing was written: April's files are the same files, with the same bytes.
    assert dataset.data_files("2025-04-01") == april
    assert [dataset.read(rel) for rel in april] == april_bytes


def test_a_local_delta_file_cut_short_is_refused_by_the_scan_not_a_panic(
    tmp_path: Path, make_frame
) -> None:
    dataset = Dataset("delta", str(tmp_path / "ds"), None)
    dataset.write(make_frame([MARCH, APRIL]))
    damaged, logged, size = dataset.cut_short("2025-03-01")
    with pytest.raises(vf.DatasetError) as info:
        vf.scan_partitions(dataset.url).collect()
    assert f"{damaged} ({size} bytes; the Delta log records {logged})" in str(info.value)


def test_a_missing_local_delta_file_is_named_by_the_scan(tmp_path: Path, make_frame) -> None:
    dataset = Dataset("delta", str(tmp_path / "ds"), None)
    dataset.write(make_frame([MARCH, APRIL]))
    (rel,) = dataset.data_files("2025-03-01")
    (tmp_path / "ds" / rel).unlink()
    with pytest.raises(vf.DatasetError) as info:
        vf.scan_partitions(dataset.url)
    assert f"{dataset.url}/{rel} (missing)" in str(info.value)


@pytest.mark.parametrize("place", ["local", "s3"])
def test_an_empty_hive_file_is_refused_not_skipped_without_a_word(
    place: str, request: pytest.FixtureRequest, tmp_path: Path, make_frame
) -> None:
    if place == "local":
        dataset = Dataset("parquet", str(tmp_path / "ds"), None)
    else:
        s3 = request.getfixturevalue("s3")
        bucket = s3.new_bucket()
        dataset = Dataset("parquet", f"s3://{bucket}/lake/ds", s3.options(), s3, bucket, "lake/ds/")
    dataset.write(make_frame([MARCH, APRIL]))
    (rel,) = dataset.data_files("2025-03-01")
    dataset.overwrite(rel, b"")
    with pytest.raises(vf.DatasetError, match="1 empty data file") as info:
        vf.scan_partitions(dataset.url, storage_options=dataset.options)
    assert f"{dataset.url}/{rel}" in str(info.value)


@pytest.mark.parametrize("fmt", ["parquet", "delta"])
def test_a_lazy_scan_of_a_file_damaged_at_its_length_fails_with_polars_compute_error(
    fmt: str, tmp_path: Path, make_frame
) -> None:
    """What scan_partitions documents: the user's collect raises Polars' ComputeError."""
    dataset = Dataset(fmt, str(tmp_path / "ds"), None)
    df = make_frame([MARCH, APRIL])
    dataset.write(df)
    (rel,) = dataset.data_files("2025-03-01")
    size = len(dataset.read(rel))
    dataset.overwrite(rel, os.urandom(size))
    lf = vf.scan_partitions(dataset.url)  # the sizes match: nothing to tell yet
    april = lf.filter(pl.col("period_start_month") == dt.date(2025, 4, 1)).collect()
    expected = df.filter(pl.col("period_start_date") == APRIL)
    assert_frame_equal(april.select(expected.columns), expected)  # other partitions read
    with pytest.raises(pl.exceptions.ComputeError):
        lf.collect()


def test_a_damaged_local_hive_file_is_named_without_deltalake(
    tmp_path: Path, make_frame, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Telling which file is damaged needs no lake extra for a local Hive dataset."""
    dataset = Dataset("parquet", str(tmp_path / "ds"), None)
    dataset.write(make_frame([MARCH, APRIL]))
    damaged, _, _ = dataset.cut_short("2025-03-01")
    monkeypatch.setitem(sys.modules, "deltalake", None)  # what an absent package looks like
    with pytest.raises(vf.DatasetError) as info:
        vf.read_inventory(dataset.url)
    assert f"{damaged} (no readable Parquet footer" in str(info.value)
