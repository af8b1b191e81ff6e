"""Datasets of partitions: write, scan, inspect, delete and replace days, on any storage.

This is the public face of the dataset layer; each job lives in its own private
module:

- :mod:`vidiframe._storage` -- URLs and ``storage_options``: which storage a root
  names, the object store client, storage faults as :class:`DatasetError`;
- :mod:`vidiframe._layout` -- the dataset's columns, dtypes and partition columns,
  and schema evolution (``schema_mode``);
- :mod:`vidiframe._hive` -- Hive-partitioned Parquet, one file (one object) per
  partition, on a local disk or an object store;
- :mod:`vidiframe._delta` -- Delta Lake tables through deltalake;
- :mod:`vidiframe._lease` -- one writer per dataset: ``flock`` locally, a lease
  object on object storage.

Every operation that changes a dataset holds its lock; :func:`dataset_lock` lets
a caller (``vidiframe sync``) hold it across several operations.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import polars as pl

__all__ = [
    "DatasetFormat",
    "DatasetInventory",
    "PartitionChanges",
    "SchemaMode",
    "WriteMode",
    "dataset_lock",
    "delete_partitions",
    "read_inventory",
    "replace_days",
    "scan_partitions",
    "write_partitions",
]

WriteMode = Literal["replace", "skip", "error"]
DatasetFormat = Literal["parquet", "delta"]
SchemaMode = Literal["evolve", "error", "drop"]
ParquetCompression = Literal["lz4", "uncompressed", "snappy", "gzip", "brotli", "zstd"]
#: A dataset root: a local path, or a ``file://``, ``s3://``, ``gs://``, ``az://``,
#: ``abfs[s]://`` URL.
Root = str | os.PathLike[str]
#: One partition: the value of each partition column, in ``partition_by`` order.
PartitionValues = tuple[object, ...]


@dataclass(frozen=True)
class DatasetInventory:
    """What a dataset holds, read without reading its rows.

    Attributes
    ----------
    format
        ``"parquet"`` (Hive directories), ``"delta"``, or ``None`` when there is
        no dataset at the root yet (then every other field is empty).
    partition_by
        The partition columns, in order.
    partition_dtypes
        The dtype of each partition column.
    partitions
        The partitions present: one tuple of values per partition, in
        ``partition_by`` order (``(datetime.date(2025, 3, 1),)``), sorted.
    days
        The distinct ``period_start_date`` values the dataset holds: from the
        partition values when it is partitioned by that column, else from a
        streaming scan of that one column. Empty when there is no such column.
    schema
        The schema of :func:`scan_partitions` (partition columns included), or
        ``None`` when there is no dataset.
    """

    format: DatasetFormat | None
    partition_by: tuple[str, ...] = ()
    partition_dtypes: Mapping[str, pl.DataType] = field(default_factory=dict)
    partitions: tuple[PartitionValues, ...] = ()
    days: frozenset[dt.date] = frozenset()
    schema: pl.Schema | None = None

    @property
    def exists(self) -> bool:
        """Whether a dataset is at the root."""
        return self.format is not None


@dataclass(frozen=True)
class PartitionChanges:
    """The partitions a call wrote and removed, as partition value tuples."""

    written: tuple[PartitionValues, ...] = ()
    removed: tuple[PartitionValues, ...] = ()


def write_partitions(
    df: pl.DataFrame,
    root: Root,
    *,
    partition_by: str | pl.Expr | Sequence[str | pl.Expr],
    mode: WriteMode = "replace",
    format: DatasetFormat = "parquet",  # noqa: A002 - the name Polars and deltalake use
    schema_mode: SchemaMode = "evolve",
    storage_options: Mapping[str, str] | None = None,
    compression: ParquetCompression = "zstd",
    compression_level: int | None = None,
    row_group_size: int = 262_144,
) -> list[Path] | list[str]:
    """Write a frame as a partitioned dataset, replacing whole partitions.

    Returns the partition files written: ``pathlib.Path`` objects for a local
    root, URLs (``str``) for object storage; for ``format="delta"`` the
    partition directories the commit replaced.
    """
    from vidiframe import _hive

    return _hive.write_partitions(
        df,
        root,
        partition_by=partition_by,
        mode=mode,
        compression=compression,
        compression_level=compression_level,
        row_group_size=row_group_size,
    )


def scan_partitions(root: Root, *, storage_options: Mapping[str, str] | None = None) -> pl.LazyFrame:
    """Lazily scan a dataset written by :func:`write_partitions`, with its own dtypes.

    The format is recognised by itself (a ``_delta_log/`` means Delta).
    """
    from vidiframe import _hive

    return _hive.scan_partitions(root)


def read_inventory(
    root: Root, *, storage_options: Mapping[str, str] | None = None
) -> DatasetInventory:
    """What the dataset at ``root`` holds; an empty inventory when there is none."""
    raise NotImplementedError


def delete_partitions(
    root: Root,
    partitions: Collection[PartitionValues],
    *,
    storage_options: Mapping[str, str] | None = None,
) -> tuple[PartitionValues, ...]:
    """Remove whole partitions (value tuples in ``partition_by`` order); return those removed.

    Partitions that are not there are ignored. Each removal is atomic for
    readers (one unlink / DELETE per partition; one commit for Delta).
    """
    raise NotImplementedError


def replace_days(
    df: pl.DataFrame,
    root: Root,
    *,
    days: Collection[dt.date],
    partition_by: str | pl.Expr | Sequence[str | pl.Expr],
    date_column: str = "period_start_date",
    format: DatasetFormat = "parquet",  # noqa: A002
    schema_mode: SchemaMode = "evolve",
    storage_options: Mapping[str, str] | None = None,
) -> PartitionChanges:
    """Replace every row of the given days by the rows of ``df``, keeping other days.

    ``df`` holds the new rows of ``days`` (possibly none for some, or all, of
    them). A partition coarser than a day (a month, a year) keeps the rows of
    its other days; a partition left without rows is removed. For Delta this is
    one commit (a predicate overwrite on the partitions touched and the days).
    """
    raise NotImplementedError


def dataset_lock(
    root: Root, *, storage_options: Mapping[str, str] | None = None
) -> AbstractContextManager[None]:
    """Hold the dataset's writer lock across several operations; re-entrant for its holder.

    Locally an exclusive ``flock`` on the root directory; on object storage a
    lease object beside the root, created with a conditional PUT and taken over
    once expired. Another holder -> :class:`~vidiframe.DatasetError` at once.
    """
    raise NotImplementedError
