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
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Literal, get_args

import polars as pl

from vidiframe import _delta, _hive, _lease
from vidiframe._errors import DatasetError, InvalidRequestError, SchemaConflictError
from vidiframe._layout import Layout, partition_frame, partition_values
from vidiframe._optional import require
from vidiframe._partitioning import partition_dir
from vidiframe._storage import Location, check_storage_options, parse_root, scrub

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

_DATE = "period_start_date"
_DATE_DEFAULT = _DATE


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
    format: DatasetFormat = "parquet",
    schema_mode: SchemaMode = "evolve",
    storage_options: Mapping[str, str] | None = None,
    compression: ParquetCompression = "zstd",
    compression_level: int | None = None,
    row_group_size: int = 262_144,
) -> list[Path] | list[str]:
    """Write a frame as a partitioned dataset, replacing whole partitions.

    Each distinct value of the partition columns is one partition. With
    ``format="parquet"`` (Hive) it is stored as
    ``root/<column>=<value>/.../part-0.parquet``, the partition columns living in
    the directory names only; with ``format="delta"`` the dataset is a Delta
    Lake table partitioned the same way. Partitions of ``root`` that ``df`` has
    no rows for are not touched.

    Guarantees:

    - **Atomic replacement.** Locally, the new file of a partition is written
      and fsynced under a hidden temporary name in
      ``.<root name>.vidiframe-staging`` next to ``root``, then renamed onto
      ``part-0.parquet`` (one ``rename(2)``); an ``open()`` returns the
      complete old file or the complete new one, and no temporary file is ever
      inside ``root``. On object storage each partition is one object written
      by one PUT: readers get the old object or the new one, and there is no
      temporary object. For Delta, one call is one commit.
    - **Crash safety.** A writer killed at any moment leaves every partition at
      its previous version or at its new version (Delta: the whole call, since
      it is one commit). The next write removes what a killed local writer left
      in the staging directory.
    - **Idempotence.** Writing an equal frame again leaves byte-identical
      files; on object storage an object whose bytes would not change is not
      written at all.
    - **Schema policy.** The frame's columns are fitted to the dataset's by
      ``schema_mode`` (see below); a changed dtype, a missing dataset column or
      other partition columns raise :class:`~vidiframe.SchemaConflictError`
      before anything is written.
    - **One writer at a time.** Locally, writers to the same ``root`` wait for
      each other (``flock``); on object storage a second writer is refused with
      :class:`~vidiframe.DatasetError` while the first holds the dataset's lease
      (see :func:`dataset_lock`). Readers take no lock.

    Parameters
    ----------
    df
        The frame to write.
    root
        The dataset: a local directory (created if needed) or a URL:
        ``file://``, ``s3://``, ``gs://``, ``az://`` / ``abfss://``.
    partition_by
        Partition columns: names of columns of ``df``, or expressions adding a
        new column such as :func:`~vidiframe.by_period` ``("month")``.
        Partition columns must be ``Date``, ``String`` or integer and hold no
        null (nor empty string).
    mode
        What to do with a partition that already exists: ``"replace"`` it,
        ``"skip"`` it (keep the stored version), or raise an ``"error"`` before
        anything is written.
    format
        ``"parquet"`` (Hive directories) or ``"delta"`` (needs the ``lake``
        extra). A new dataset takes the format given; an existing one must be
        written in its own format.
    schema_mode
        Columns of ``df`` the dataset does not have: ``"evolve"`` adds them
        (older partitions read back with nulls), ``"error"`` raises
        :class:`~vidiframe.SchemaConflictError`, ``"drop"`` leaves them out with
        a :class:`~vidiframe.DroppedColumnsWarning`. A column of dtype ``Null``
        (null in every row) has no type yet, in every mode: stored, it takes
        the type of the first frame with one (older partitions read back with
        nulls of it); in the frame, it is cast to the stored type. So is a
        ``Null`` nested in a column's type (an always-empty ``List(Null)``).
    storage_options
        Options of the object store, with the keys Polars and deltalake take
        (``aws_endpoint_url``, ``aws_access_key_id``, ``aws_region``,
        ``aws_allow_http``, ...). Credentials otherwise come from the
        environment. Never shown in errors nor logs.
    compression, compression_level
        Passed to :meth:`polars.DataFrame.write_parquet` (Hive only).
    row_group_size
        Rows per Parquet row group (Hive only). Fixed rather than Polars'
        default, whose row groups follow the frame's memory chunks: equal frames
        give equal bytes.

    Returns
    -------
    list of pathlib.Path or list of str
        The partition files written, in order: paths for a local root, URLs for
        object storage (an object left unchanged is not listed). For Delta, the
        partition directories the commit replaced.

    Raises
    ------
    SchemaConflictError
        The frame's columns, dtypes or partition columns conflict with the dataset's.
    DatasetError
        Invalid partition columns or values, an existing partition with
        ``mode="error"``, a ``root`` holding files vidiframe did not write, a
        storage failure (naming the URL), or another writer holding the lease.
    InvalidRequestError
        An unsupported URL scheme, an unknown ``mode``, ``format`` or
        ``schema_mode``, or malformed ``storage_options``; nothing is created.

    Examples
    --------
    >>> import datetime as dt, tempfile
    >>> import polars as pl
    >>> import vidiframe as vf
    >>> df = pl.DataFrame({
    ...     "period_start_date": [dt.date(2025, 3, 1), dt.date(2025, 3, 2)],
    ...     "watcher_count": [12, 7],
    ... })
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     files = vf.write_partitions(df, tmp, partition_by="period_start_date")
    ...     [f.relative_to(tmp).as_posix() for f in files]
    ['period_start_date=2025-03-01/part-0.parquet', 'period_start_date=2025-03-02/part-0.parquet']
    """
    _check_choice("mode", mode, ("replace", "skip", "error"))
    _check_choice("format", format, ("parquet", "delta"))
    _check_choice("schema_mode", schema_mode, ("evolve", "error", "drop"))
    # Polars' own refusal of an unknown codec would come only at the first write.
    _check_choice("compression", compression, get_args(ParquetCompression))
    location = parse_root(root)
    options = check_storage_options(storage_options, location)
    if format == "delta":
        require("deltalake", extra="lake")  # before the lock creates anything
    frame, layout = partition_frame(df, partition_by)
    partition_values(frame, layout)  # bad partition values are refused before anything is created
    if location.local is not None:
        if location.local.exists() and not location.local.is_dir():
            raise DatasetError(f"dataset root {location} is not a directory")
        if frame.height == 0 and not location.local.exists():
            return []
    if format == "delta":
        # Inline, not a helper: schema_mode="drop" warns at the caller's line.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="vidiframe-delta") as pool:
            # Converting to Delta's types is CPU work on the frame alone: it runs
            # while this thread waits on the lease and the table's log (round
            # trips to the store), instead of after them.
            converted = pool.submit(_delta.to_storage, frame, frame.columns)
            with _lease.hold(location, options):
                table = _open_for_writing(location, options, format)
                values = _delta.write(
                    frame,
                    layout,
                    location,
                    options,
                    table=table,
                    mode=mode,
                    schema_mode=schema_mode,
                    converted=converted,
                )
        rels = [partition_dir(layout.partition_by, v) for v in values]
        if location.local is not None:
            return [location.local / rel for rel in rels]
        return [location.join(rel) for rel in rels]
    with _lease.hold(location, options):
        _open_for_writing(location, options, format)
        _, _, files = _hive.write(
            frame,
            layout,
            location,
            options,
            mode=mode,
            schema_mode=schema_mode,
            compression=compression,
            compression_level=compression_level,
            row_group_size=row_group_size,
        )
        return files


def scan_partitions(
    root: Root, *, storage_options: Mapping[str, str] | None = None
) -> pl.LazyFrame:
    """Lazily scan a dataset written by :func:`write_partitions`, with its own dtypes.

    The format is recognised by itself: a ``_delta_log/`` means a Delta table,
    anything else Hive-partitioned Parquet. The frame has the columns of the
    written frames, in their order and with their Polars dtypes (``Enum``,
    ``Time`` and nested columns included); partition columns keep the dtype they
    were written with (a ``Date`` partition stays ``Date``). Columns added by
    schema evolution read as nulls in older partitions. Filters on partition
    columns are pushed down: partitions they exclude are not read.

    Parameters
    ----------
    root
        The dataset: a local directory or a URL (see :func:`write_partitions`).
        A Hive-partitioned dataset that vidiframe did not write is scanned with
        the dtypes Polars infers.
    storage_options
        As for :func:`write_partitions`.

    Returns
    -------
    polars.LazyFrame

    Raises
    ------
    DatasetError
        No dataset at ``root``, a storage failure, or a data file that is
        damaged in a way its size tells (each one named): an empty Hive file
        (Polars would skip it, and its rows be missing without an error), or,
        in a local Delta table, a file missing or of another size than the log
        records.

    Notes
    -----
    Rows are read when the frame is collected, and damage only the contents
    show (bytes overwritten at the same length) is found then: the collect
    raises Polars' own :class:`polars.exceptions.ComputeError` ("File out of
    specification"), which does not name the file. Queries whose filters on
    partition columns exclude the damaged file's partition still succeed. A
    local Delta file cut short *after* this call makes Polars panic at collect
    (``pyo3_runtime.PanicException``, a ``BaseException`` that ``except
    Exception`` does not catch): Polars' native reader trusts the sizes the
    log records, and its only clean alternative, the pyarrow reader
    (``pl.scan_delta(..., use_pyarrow=True)``), gives the native reader up for
    every scan; the sizes are checked when the scan is made instead.
    :func:`read_inventory` and :func:`replace_days`, which collect scans
    themselves, raise :class:`~vidiframe.DatasetError` naming the damaged files
    instead.

    Examples
    --------
    >>> import datetime as dt, tempfile
    >>> import polars as pl
    >>> import vidiframe as vf
    >>> df = pl.DataFrame({
    ...     "period_start_date": [dt.date(2025, 3, 1), dt.date(2025, 3, 2)],
    ...     "gender_label": pl.Series(["male", "female"], dtype=pl.Enum(["male", "female"])),
    ... })
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = vf.write_partitions(df, tmp, partition_by="period_start_date")
    ...     lf = vf.scan_partitions(tmp)
    ...     out = lf.filter(pl.col("period_start_date") == dt.date(2025, 3, 2)).collect()
    >>> out.schema == df.schema, out.rows()
    (True, [(datetime.date(2025, 3, 2), 'female')])
    """
    location = parse_root(root)
    options = check_storage_options(storage_options, location)
    if location.local is not None and not location.local.is_dir():
        raise DatasetError(f"no dataset at {location}: not a directory")
    table = _delta.find_table(location, options)
    if table is not None:
        if location.local is not None:
            # Polars reads a local file at the size the log records: a shorter
            # file makes it panic when collected. A stat per file tells it here.
            _refuse_damaged(location, options, _delta.logged_files(table), contents=False)
        return _delta.scan(location, options, table=table)
    existing, _ = _hive.inspect(location, options)
    if existing is None:
        raise DatasetError(f"no dataset at {location}: it holds no Parquet file")
    return _hive.scan(location, options, existing)


def read_inventory(
    root: Root, *, storage_options: Mapping[str, str] | None = None
) -> DatasetInventory:
    """What the dataset at ``root`` holds, read from its listing and metadata.

    Parameters
    ----------
    root
        The dataset: a local directory or a URL (see :func:`write_partitions`).
    storage_options
        As for :func:`write_partitions`.

    Returns
    -------
    DatasetInventory
        Empty (``format=None``) when there is no dataset at ``root``.

    Raises
    ------
    DatasetError
        A storage failure, or a data file that cannot be read when the days
        are read from the rows (the message names the damaged files).

    Examples
    --------
    >>> import datetime as dt, tempfile
    >>> import polars as pl
    >>> import vidiframe as vf
    >>> df = pl.DataFrame({"period_start_date": [dt.date(2025, 3, 1)], "n": [1]})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = vf.write_partitions(df, tmp, partition_by=vf.by_period("month"))
    ...     inventory = vf.read_inventory(tmp)
    >>> inventory.format, inventory.partition_by, inventory.partitions, sorted(inventory.days)
    ('parquet', ('period_start_month',), ((datetime.date(2025, 3, 1),),), [datetime.date(2025, 3, 1)])
    """
    location = parse_root(root)
    options = check_storage_options(storage_options, location)
    if location.local is not None and not location.local.exists():
        return DatasetInventory(None)
    if location.local is not None and not location.local.is_dir():
        raise DatasetError(f"dataset root {location} is not a directory")
    table = _delta.find_table(location, options)
    scan: Callable[[], pl.LazyFrame]
    if table is not None:
        layout, schema, partitions = _delta.inspect(location, options, table=table)
        fmt: DatasetFormat = "delta"
        scan = partial(_delta.scan, location, options, table=table)
    else:
        existing, partitions = _hive.inspect(location, options)
        if existing is None:
            return DatasetInventory(None)
        if existing.layout is None:
            raise DatasetError(
                f"{existing.source} was not written by vidiframe: its partitions are unknown"
            )
        layout, schema, fmt = existing.layout, existing.full_schema, "parquet"
        scan = partial(_hive.scan, location, options, existing)
    days: frozenset[dt.date] = frozenset()
    if _DATE in layout.partition_by:
        index = layout.partition_by.index(_DATE)
        days = frozenset(p[index] for p in partitions)  # type: ignore[misc]
    elif _DATE in schema and partitions:
        # A month or year holds many days: ask the data which. Streaming keeps
        # the memory to the distinct days, however many rows the dataset holds.
        # The scan is of the table (or files) just read: the log is not read again.
        lf = scan().select(pl.col(_DATE).unique())
        found = _collect(lf, location, options, engine="streaming")
        days = frozenset(found.get_column(_DATE).drop_nulls().to_list())
    return DatasetInventory(
        format=fmt,
        partition_by=layout.partition_by,
        partition_dtypes=dict(layout.partition_dtypes),
        partitions=tuple(partitions),
        days=days,
        schema=schema,
    )


def delete_partitions(
    root: Root,
    partitions: Collection[PartitionValues],
    *,
    storage_options: Mapping[str, str] | None = None,
) -> tuple[PartitionValues, ...]:
    """Remove whole partitions; return those that were there and are now gone.

    Each removal is atomic for readers: locally one ``unlink`` of the
    partition's file, on object storage one DELETE of its object; for Delta all
    of them are one commit.

    Parameters
    ----------
    root
        The dataset: a local directory or a URL (see :func:`write_partitions`).
    partitions
        Partition value tuples, in ``partition_by`` order, as
        :attr:`DatasetInventory.partitions` gives them. Those not present are
        ignored.
    storage_options
        As for :func:`write_partitions`.

    Examples
    --------
    >>> import datetime as dt, tempfile
    >>> import polars as pl
    >>> import vidiframe as vf
    >>> day1, day2 = dt.date(2025, 3, 1), dt.date(2025, 3, 2)
    >>> df = pl.DataFrame({"period_start_date": [day1, day2], "n": [1, 2]})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = vf.write_partitions(df, tmp, partition_by="period_start_date")
    ...     removed = vf.delete_partitions(tmp, [(day1,), (dt.date(2025, 3, 9),)])
    ...     left = vf.scan_partitions(tmp).collect().rows()
    >>> removed, left
    (((datetime.date(2025, 3, 1),),), [(datetime.date(2025, 3, 2), 2)])
    """
    location = parse_root(root)
    options = check_storage_options(storage_options, location)
    wanted = [tuple(p) for p in partitions]
    if location.local is not None and not location.local.is_dir():
        return ()
    with _lease.hold(location, options):
        # Locally a Hive dataset needs no deltalake: find_table looks for a log first.
        table = _delta.find_table(location, options)
        if table is not None:
            return tuple(_delta.delete(table, location, options, wanted))
        return tuple(_hive.delete(location, options, wanted))


def replace_days(
    df: pl.DataFrame,
    root: Root,
    *,
    days: Collection[dt.date],
    partition_by: str | pl.Expr | Sequence[str | pl.Expr],
    date_column: str = _DATE_DEFAULT,
    format: DatasetFormat = "parquet",
    schema_mode: SchemaMode = "evolve",
    storage_options: Mapping[str, str] | None = None,
) -> PartitionChanges:
    """Replace every row of the given days by the rows of ``df``, keeping the other days.

    This is how a re-fetch of some days lands in a dataset partitioned by a
    coarser period: a month partition keeps the rows of its other days, and
    gets the new rows of ``days``; a partition left without rows is removed (a
    day that no longer has rows must not keep stale ones). Hive partitions are
    each replaced atomically (see :func:`write_partitions`); for Delta the whole
    call is one commit (an overwrite with a predicate on ``days``).

    Parameters
    ----------
    df
        The new rows of ``days``; it may hold none for some or all of them, and
        no row of another day.
    root
        The dataset: a local directory or a URL (see :func:`write_partitions`).
    days
        The days whose stored rows are replaced.
    partition_by
        The dataset's partitioning, as for :func:`write_partitions`.
    date_column
        The ``Date`` column that holds each row's day.
    format, schema_mode, storage_options
        As for :func:`write_partitions`.

    Returns
    -------
    PartitionChanges
        The partitions written and removed.

    Examples
    --------
    >>> import datetime as dt, tempfile
    >>> import polars as pl
    >>> import vidiframe as vf
    >>> d1, d2 = dt.date(2025, 3, 1), dt.date(2025, 3, 2)
    >>> df = pl.DataFrame({"period_start_date": [d1, d2], "n": [1, 2]})
    >>> month = vf.by_period("month")
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = vf.write_partitions(df, tmp, partition_by=month)
    ...     new = pl.DataFrame({"period_start_date": [d2], "n": [20]})
    ...     changes = vf.replace_days(new, tmp, days=[d2], partition_by=month)
    ...     rows = vf.scan_partitions(tmp).select("period_start_date", "n").collect().rows()
    >>> changes.written, rows
    (((datetime.date(2025, 3, 1),),), [(datetime.date(2025, 3, 1), 1), (datetime.date(2025, 3, 2), 20)])
    """
    _check_choice("format", format, ("parquet", "delta"))
    _check_choice("schema_mode", schema_mode, ("evolve", "error", "drop"))
    location = parse_root(root)
    options = check_storage_options(storage_options, location)
    if format == "delta":
        require("deltalake", extra="lake")  # before the lock creates anything
    day_set = sorted(set(_check_days(days)))
    frame, layout = partition_frame(df, partition_by)
    if date_column not in frame.columns or frame.schema[date_column] != pl.Date():
        raise DatasetError(f"replace_days needs a Date column {date_column!r} in the frame")
    outside = frame.filter(~pl.col(date_column).is_in(day_set))
    if outside.height:
        raise DatasetError(
            f"the frame holds {outside.height} row(s) of days not in days "
            f"(first: {outside[date_column][0]}); nothing was written"
        )
    with _lease.hold(location, options):
        table = _open_for_writing(location, options, format)
        scan: Callable[[], pl.LazyFrame] | None = None
        if format == "delta":
            stored = _delta.inspect(location, options, table=table)[2] if table is not None else []
            if stored:
                # The rows kept are read at the version the commit is made on top of.
                scan = partial(_delta.scan, location, options, table=table)
        else:
            existing, stored = _hive.inspect(location, options)
            if existing is not None and existing.layout is not None:
                scan = partial(_hive.scan, location, options, existing)
        keys = list(layout.partition_by)
        touched: set[PartitionValues] = {tuple(r) for r in frame.select(keys).unique().iter_rows()}
        if scan is not None:
            found = _collect(
                scan().filter(pl.col(date_column).is_in(day_set)).select(keys).unique(),
                location,
                options,
                engine="streaming",
            )
            touched.update(tuple(r) for r in found.iter_rows())
        stored_set = set(stored)
        stored_touched = sorted(v for v in touched if v in stored_set)
        if stored_touched and scan is not None:
            frame, layout = _merge_kept(
                frame,
                scan(),
                df_columns=df.columns,
                partition_by=partition_by,
                layout=layout,
                stored_touched=stored_touched,
                days=day_set,
                date_column=date_column,
                location=location,
                options=options,
            )
        if format == "delta":
            values = _delta.write(
                frame,
                layout,
                location,
                options,
                table=table,
                mode="replace",
                schema_mode=schema_mode,
                partitions=sorted(touched),
            )
            written = set(values)
            return PartitionChanges(
                written=tuple(values),
                removed=tuple(v for v in stored_touched if v not in written),
            )
        remove = [partition_dir(layout.partition_by, v) for v in stored_touched]
        parts, removed, _ = _hive.write(
            frame,
            layout,
            location,
            options,
            mode="replace",
            schema_mode=schema_mode,
            compression="zstd",
            compression_level=None,
            row_group_size=262_144,
            remove=remove,
        )
        removed_values = [
            v for v in stored_touched if partition_dir(layout.partition_by, v) in removed
        ]
        return PartitionChanges(
            written=tuple(p.values for p in parts), removed=tuple(removed_values)
        )


def _merge_kept(
    frame: pl.DataFrame,
    stored: pl.LazyFrame,
    *,
    df_columns: Sequence[str],
    partition_by: str | pl.Expr | Sequence[str | pl.Expr],
    layout: Layout,
    stored_touched: Sequence[PartitionValues],
    days: Sequence[dt.date],
    date_column: str,
    location: Location,
    options: Mapping[str, str],
) -> tuple[pl.DataFrame, Layout]:
    """The new rows plus the stored rows of other days in the partitions they touch."""
    keys = list(layout.partition_by)
    wanted = pl.DataFrame(
        list(stored_touched), schema={k: layout.partition_dtypes[k] for k in keys}, orient="row"
    )
    kept = _collect(
        stored.join(wanted.lazy(), on=keys, how="semi", maintain_order="left").filter(
            ~pl.col(date_column).is_in(days)
        ),
        location,
        options,
    )
    if not kept.height:
        return frame, layout
    # Partition columns an expression computed are recomputed from the rows.
    computed = [k for k in keys if k not in df_columns]
    kept = kept.drop(computed)
    base = frame.drop(computed)
    extra = [c for c in kept.columns if c not in base.columns]
    if extra:
        raise SchemaConflictError(
            f"the frame does not fit the dataset at {location}; nothing was "
            f"written:\n  only in the dataset: {', '.join(extra)}",
            column=extra[0],
        )
    # Columns the frame adds (schema evolution) are null in the kept rows.
    kept = kept.with_columns(
        pl.lit(None, base.schema[c]).alias(c) for c in base.columns if c not in kept.columns
    )
    merged = pl.concat([kept.select(base.columns), base], how="vertical_relaxed")
    # Stable sort by day: each day's rows keep their order.
    merged = merged.sort(date_column, maintain_order=True)
    return partition_frame(merged, partition_by)


def dataset_lock(
    root: Root, *, storage_options: Mapping[str, str] | None = None
) -> AbstractContextManager[None]:
    """Hold a dataset's writer lock across several operations.

    Inside the block, :func:`write_partitions`, :func:`replace_days` and
    :func:`delete_partitions` on the same ``root`` from this process (any
    thread) do not lock again; the lock is re-entrant within the process.
    Another process (or machine) holding it makes this raise at once.

    Locally the lock is an exclusive ``flock`` on the root directory (created if
    missing), released by the kernel if the holder dies. On object storage it is
    a lease object beside the root (``<parent>/.<name>.vidiframe-lease``),
    created with a conditional PUT, renewed while held, and taken over by
    another writer once expired (10 minutes after its holder stopped renewing
    it, e.g. was killed).

    Raises
    ------
    DatasetError
        Another writer holds the lock (the message says who and until when).

    Examples
    --------
    >>> import datetime as dt, tempfile
    >>> import polars as pl
    >>> import vidiframe as vf
    >>> df = pl.DataFrame({"period_start_date": [dt.date(2025, 3, 1)], "n": [1]})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     with vf.dataset_lock(tmp):
    ...         _ = vf.write_partitions(df, tmp, partition_by="period_start_date")
    ...         inventory = vf.read_inventory(tmp)
    >>> inventory.partitions
    ((datetime.date(2025, 3, 1),),)
    """
    location = parse_root(root)
    options = check_storage_options(storage_options, location)
    return _lease.dataset_lock(location, options)


# -- helpers --------------------------------------------------------------------------------


def _check_choice(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        shown = ", ".join(repr(a) for a in allowed)
        raise InvalidRequestError(f"{name} must be one of {shown}, not {value!r}")


def _check_days(days: Collection[dt.date]) -> list[dt.date]:
    # A string or datetime would reach Polars' is_in against a Date column as a raw error.
    checked = list(days)
    for day in checked:
        if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
            raise InvalidRequestError(
                f"days holds {day!r} ({type(day).__name__}); pass datetime.date values "
                f"(datetime.date.fromisoformat('2025-03-01'))"
            )
    return checked


def _collect(
    lf: pl.LazyFrame,
    location: Location,
    options: Mapping[str, str],
    *,
    engine: Literal["auto", "streaming"] = "auto",
) -> pl.DataFrame:
    """Collect a scan of the dataset; a file that cannot be read is a :class:`DatasetError`.

    Polars reports a damaged file as a ``ComputeError``, a missing one as an
    ``OSError``, and a local Delta file shorter than its log records by a
    panic (``PanicException``, a ``BaseException`` that ``except Exception``
    does not catch). None of them names the file: the message here does.
    """
    try:
        return lf.collect(engine=engine)
    except (pl.exceptions.PolarsError, pl.exceptions.PanicException, OSError) as exc:
        raise DatasetError(_read_failure(location, options, exc)) from None


def _read_failure(location: Location, options: Mapping[str, str], exc: BaseException) -> str:
    """What went wrong reading the dataset: the damaged files when they can be told."""
    text = str(exc).strip()
    cause = scrub(text.splitlines()[0] if text else type(exc).__name__, options)
    try:
        table = _delta.find_table(location, options)
        expected = _delta.logged_files(table) if table is not None else None
        damaged = _hive.damaged_files(location, options, expected, contents=True)
    except DatasetError:
        damaged = []  # the storage cannot be read now: the cause alone tells
    if not damaged:
        return (
            f"could not read the dataset at {location} ({cause}); check the storage and "
            "the network, then run again"
        )
    shown = "; ".join(damaged[:5]) + ("; ..." if len(damaged) > 5 else "")
    return (
        f"could not read the dataset at {location}: {len(damaged)} data file(s) damaged: "
        f"{shown} ({cause}); restore them, or rewrite (or delete) their partitions"
    )


def _refuse_damaged(
    location: Location, options: Mapping[str, str], expected: Mapping[str, int], *, contents: bool
) -> None:
    damaged = _hive.damaged_files(location, options, expected, contents=contents)
    if damaged:
        shown = "; ".join(damaged[:5]) + ("; ..." if len(damaged) > 5 else "")
        raise DatasetError(
            f"the dataset at {location} has {len(damaged)} damaged data file(s): {shown}; "
            "restore them, or rewrite (or delete) their partitions"
        )


def _open_for_writing(location: Location, options: Mapping[str, str], format: str) -> Any:
    """The Delta table to write (``None``: none yet); refuse a root holding the other format.

    For Delta the table is read once here and the write commits on top of it:
    its log is not read again.
    """
    if format == "delta":
        table = _delta.open_table(location, options)
        if table is None:
            existing, _ = _hive.inspect(location, options)
            if existing is not None:
                raise DatasetError(
                    f"{location} holds a Hive Parquet dataset; write it with format='parquet' "
                    "or choose another root for the Delta table"
                )
        return table
    if _delta.is_delta(location, options):
        raise DatasetError(f"{location} holds a Delta table; write it with format='delta'")
    return None
