"""Hive-partitioned Parquet datasets: replace partitions atomically, scan them lazily.

Layout of a dataset written by :func:`write_partitions`::

    root/
      period_start_date=2025-03-01/part-0.parquet
      period_start_date=2025-03-02/part-0.parquet

One file per partition, partition columns only in the directory names (the Hive
convention, which Spark, PyArrow, DuckDB and Polars read). Every file carries the
dataset's layout (column order, partition columns and their dtypes) in its
footer, under the key ``vidiframe.dataset``: the files are the only record of
the schema, so there is no side file to fall out of step with them.

A partition is replaced by writing the new file completely under a hidden
temporary name outside ``root`` and renaming it onto ``part-0.parquet``; one
``rename(2)`` is atomic on POSIX file systems, so an ``open()`` of a partition
gets the old file or the new one, whole.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import polars as pl

from vidiframe._errors import DatasetError, SchemaConflictError
from vidiframe._partitioning import PARTITION_DTYPES, check_partition_column, partition_dir

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows has no flock; one writer is then up to the user
    fcntl = None  # type: ignore[assignment]

__all__ = ["WriteMode", "scan_partitions", "write_partitions"]

WriteMode = Literal["replace", "skip", "error"]
ParquetCompression = Literal["lz4", "uncompressed", "snappy", "gzip", "brotli", "zstd"]

#: The footer key holding the dataset layout.
METADATA_KEY = "vidiframe.dataset"
#: The name of the one file of each partition.
FILE_NAME = "part-0.parquet"
_FORMAT = 1
_STAGING_SUFFIX = ".vidiframe-staging"
# Name prefixes engines skip: Spark and PyArrow skip such files and directories;
# Polars skips only such files, and only when told (hidden_file_prefix).
_HIDDEN = (".", "_")


def _checkpoint(step: str) -> None:
    """Mark a step of a write; a no-op the crash and reader tests replace to stop the writer.

    Steps, in order: ``locked``, ``recovered``, ``staged`` (every new file is
    written and fsynced in the staging directory), then for each partition
    ``committing:<partition dir>`` (its directories exist, the rename is next)
    and ``committed:<partition dir>``, and last ``done``.
    """


@dataclass(frozen=True)
class _Layout:
    """What every file of a dataset records about the whole dataset."""

    columns: tuple[str, ...]
    partition_by: tuple[str, ...]
    partition_dtypes: Mapping[str, pl.DataType]

    @property
    def data_columns(self) -> tuple[str, ...]:
        """The columns stored inside the files, in order."""
        return tuple(c for c in self.columns if c not in self.partition_by)

    def to_json(self) -> str:
        # Sorted keys and no whitespace: the same layout is the same footer bytes.
        return json.dumps(
            {
                "format": _FORMAT,
                "columns": list(self.columns),
                "partition_by": list(self.partition_by),
                "partition_dtypes": {k: str(v) for k, v in self.partition_dtypes.items()},
            },
            sort_keys=True,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str, *, path: Path) -> _Layout:
        try:
            raw = json.loads(text)
            if raw["format"] != _FORMAT:
                raise DatasetError(
                    f"{path} was written by a newer vidiframe (dataset format {raw['format']})"
                )
            return cls(
                columns=tuple(raw["columns"]),
                partition_by=tuple(raw["partition_by"]),
                partition_dtypes={
                    k: PARTITION_DTYPES[v] for k, v in raw["partition_dtypes"].items()
                },
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise DatasetError(f"{path} has an unreadable {METADATA_KEY!r} footer entry") from exc


@dataclass(frozen=True)
class _Existing:
    """The layout and file schema of a dataset on disk, read from one of its files."""

    layout: _Layout | None  # None for a file vidiframe did not write
    schema: pl.Schema
    file: Path


# -- writing ------------------------------------------------------------------------------


def write_partitions(
    df: pl.DataFrame,
    root: str | os.PathLike[str],
    *,
    partition_by: str | pl.Expr | Sequence[str | pl.Expr],
    mode: WriteMode = "replace",
    compression: ParquetCompression = "zstd",
    compression_level: int | None = None,
    row_group_size: int = 262_144,
) -> list[Path]:
    """Write a frame as a Hive-partitioned Parquet dataset, replacing whole partitions.

    Each distinct value of the partition columns is one partition, stored as
    ``root/<column>=<value>/.../part-0.parquet``; the partition columns live in
    the directory names only. Partitions of ``root`` that ``df`` has no rows for
    are not touched.

    Guarantees, on a local POSIX file system:

    - **Atomic replacement.** The new file of a partition is written and fsynced
      under a hidden temporary name in ``.<root name>.vidiframe-staging`` next to
      ``root``, then renamed onto ``part-0.parquet`` (one ``rename(2)``). An
      ``open()`` of a partition file returns the complete old file or the
      complete new one; a reader that opened the old file keeps reading it; the
      file never goes missing. No temporary file is ever inside ``root`` nor
      named ``*.parquet``.
    - **Crash safety.** A writer killed at any moment leaves every partition
      either at its previous version or at its new version. The partitions of
      one call are renamed one after the other in sorted order, after all of
      them are staged: a killed call may leave some partitions new and the
      others old. The next write removes what a killed writer left in the
      staging directory. (Should ``root`` be a mount point, the staging
      directory is ``root/.vidiframe-staging`` instead, which engines skip.)
    - **Idempotence.** Writing an equal frame again (same rows in the same order,
      however its memory is chunked) leaves byte-identical files, with the
      same Polars version and options.
    - **One schema per dataset.** The frame must have the dataset's columns and
      dtypes and partition columns (column order may differ: the dataset's is
      used). A conflicting frame raises :class:`~vidiframe.SchemaConflictError`
      before anything is written.
    - **One writer at a time.** Writers to the same ``root`` wait for each other
      (``flock`` on ``root``). Readers take no lock: a query that is running
      while partitions are replaced may see some partitions old and others new,
      each of them whole.

    Parameters
    ----------
    df
        The frame to write.
    root
        The dataset directory, created if needed.
    partition_by
        Partition columns: names of columns of ``df``, or expressions adding a
        new column such as :func:`~vidiframe._partitioning.by_period`
        ``("month")``. Partition columns must be ``Date``, ``String`` or integer
        and hold no null (nor empty string).
    mode
        What to do with a partition that already exists: ``"replace"`` it,
        ``"skip"`` it (keep the stored version), or raise an ``"error"`` before
        anything is written.
    compression, compression_level
        Passed to :meth:`polars.DataFrame.write_parquet`.
    row_group_size
        Rows per Parquet row group. Fixed rather than Polars' default, whose row
        groups follow the frame's memory chunks: equal frames give equal bytes.

    Returns
    -------
    list of pathlib.Path
        The partition files written, in the order they were replaced.

    Raises
    ------
    SchemaConflictError
        The frame's columns, dtypes or partition columns differ from the dataset's.
    DatasetError
        Invalid partition columns or values, an existing partition with
        ``mode="error"``, or a ``root`` holding files vidiframe did not write.

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
    if not isinstance(df, pl.DataFrame):
        raise TypeError(f"write_partitions expects a polars.DataFrame, not {type(df).__name__}")
    if mode not in ("replace", "skip", "error"):
        raise ValueError(f"mode must be 'replace', 'skip' or 'error', not {mode!r}")
    frame, layout = _partition_frame(df, partition_by)
    parts = _split(frame, layout)

    root_path = Path(root)
    if root_path.exists() and not root_path.is_dir():
        raise DatasetError(f"dataset root {root_path} is not a directory")
    if not parts and not root_path.exists():
        return []
    created_root = not root_path.exists()
    root_path.mkdir(parents=True, exist_ok=True)
    # Resolved only to place the staging directory: a symlinked root's parent may
    # be on another file system. Returned paths stay under root as given.
    real_root = root_path.resolve()

    with _locked(root_path):
        _checkpoint("locked")
        staging = _staging_dir(real_root)
        if staging.exists():
            shutil.rmtree(staging)
        _checkpoint("recovered")

        existing = _read_existing(root_path)
        if existing is not None:
            if existing.layout is None:
                raise DatasetError(
                    f"{existing.file} was not written by vidiframe; "
                    f"write to an empty directory or one vidiframe wrote"
                )
            layout = _align(frame, layout, existing.layout, existing, root_path)
            parts = [(rel, part.select(layout.data_columns)) for rel, part in parts]
        parts = _apply_mode(root_path, parts, mode)
        if not parts:
            return []

        staging.mkdir()
        try:
            staged = _stage(
                parts,
                staging,
                metadata={METADATA_KEY: layout.to_json()},
                compression=compression,
                compression_level=compression_level,
                row_group_size=row_group_size,
            )
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        _checkpoint("staged")

        written, to_sync = _commit(root_path, staged)
        if created_root:
            to_sync.add(real_root.parent)
        for directory in sorted(to_sync):
            _fsync_dir(directory)
        staging.rmdir()
        _checkpoint("done")
    return written


def _partition_frame(
    df: pl.DataFrame, partition_by: str | pl.Expr | Sequence[str | pl.Expr]
) -> tuple[pl.DataFrame, _Layout]:
    """Add the partition columns computed by expressions; check every partition column."""
    items = [partition_by] if isinstance(partition_by, (str, pl.Expr)) else list(partition_by)
    if not items:
        raise DatasetError("partition_by needs at least one column")
    keys: list[str] = []
    new_columns: list[pl.Expr] = []
    for entry in items:
        # pl.col("x") is the column x itself, not a new column.
        item = (
            entry.meta.output_name()
            if isinstance(entry, pl.Expr) and entry.meta.is_column()
            else entry
        )
        if isinstance(item, str):
            if item not in df.columns:
                raise DatasetError(f"partition column {item!r} is not a column of the frame")
            keys.append(item)
        elif isinstance(item, pl.Expr):
            name = item.meta.output_name(raise_if_undetermined=False)
            if name is None or name in df.columns:
                # Partition columns are stored only in directory names: an
                # expression overwriting a column would silently change its values.
                raise DatasetError(
                    f"partition_by expression {item} must add a new column: name it with .alias()"
                )
            keys.append(name)
            new_columns.append(item)
        else:
            raise TypeError(
                f"partition_by items must be str or polars.Expr, not {type(item).__name__}"
            )
    if len(set(keys)) != len(keys):
        raise DatasetError(f"partition_by names a column twice: {keys}")
    frame = df.with_columns(new_columns) if new_columns else df
    for key in keys:
        problem = check_partition_column(key, frame.schema[key])
        if problem is not None:
            raise DatasetError(problem)
    if len(keys) == frame.width:
        raise DatasetError("every column is a partition column: no column is left for the files")
    nulls = frame.select(pl.col(keys).null_count()).row(0)
    if any(nulls):
        bad = [k for k, n in zip(keys, nulls, strict=True) if n]
        raise DatasetError(f"partition column(s) {bad} hold nulls; fill or filter them first")
    layout = _Layout(
        columns=tuple(frame.columns),
        partition_by=tuple(keys),
        partition_dtypes={k: frame.schema[k] for k in keys},
    )
    return frame, layout


def _split(frame: pl.DataFrame, layout: _Layout) -> list[tuple[str, pl.DataFrame]]:
    """The frame's partitions as ``(relative dir, rows without partition columns)``, sorted."""
    if frame.height == 0:
        return []
    keys = list(layout.partition_by)
    runs = frame.select(pl.struct(keys).rle().alias("run")).unnest("run")
    groups: dict[tuple[object, ...], pl.DataFrame]
    if runs["value"].n_unique() == runs.height:
        # Each partition's rows are already together (exports come in time order):
        # zero-copy slices instead of partition_by's copy of the whole frame.
        groups, offset = {}, 0
        for length, value in zip(runs["len"], runs["value"], strict=True):
            groups[tuple(value[k] for k in keys)] = frame.slice(offset, length)
            offset += length
    else:
        groups = frame.partition_by(keys, maintain_order=True, as_dict=True)
    out = []
    for values in sorted(groups):
        try:
            rel = partition_dir(layout.partition_by, values)
        except ValueError as exc:
            raise DatasetError(str(exc)) from None
        out.append((rel, groups[values].select(layout.data_columns)))
    return out


def _align(
    frame: pl.DataFrame, layout: _Layout, have: _Layout, existing: _Existing, root: Path
) -> _Layout:
    """The dataset's layout ``have``, after checking the frame fits it."""
    problems: list[str] = []
    first_column: str | None = None
    if layout.partition_by != have.partition_by:
        problems.append(
            f"partition_by: frame {list(layout.partition_by)}, dataset {list(have.partition_by)}"
        )
    frame_schema = frame.schema
    dataset_schema = dict(existing.schema)
    dataset_schema.update(have.partition_dtypes)
    for name in frame.columns:
        if name not in dataset_schema:
            problems.append(f"only in the frame: {name} ({frame_schema[name]})")
            first_column = first_column or name
        elif frame_schema[name] != dataset_schema[name]:
            problems.append(
                f"{name}: frame has {frame_schema[name]}, dataset has {dataset_schema[name]}"
            )
            first_column = first_column or name
    for name, dtype in dataset_schema.items():
        if name not in frame_schema:
            problems.append(f"only in the dataset: {name} ({dtype})")
            first_column = first_column or name
    if problems:
        details = "\n  ".join(problems)
        raise SchemaConflictError(
            f"the frame does not fit the dataset at {root} "
            f"(schema of {existing.file.relative_to(root).as_posix()}); "
            f"nothing was written:\n  {details}",
            column=first_column,
        )
    return have


def _apply_mode(
    root: Path, parts: list[tuple[str, pl.DataFrame]], mode: WriteMode
) -> list[tuple[str, pl.DataFrame]]:
    kept = []
    existing = []
    for rel, part in parts:
        directory = root / rel
        if directory.is_dir():
            foreign = sorted(
                e.name
                for e in os.scandir(directory)
                if e.name != FILE_NAME
                and not e.name.startswith(_HIDDEN)
                and e.name.endswith(".parquet")
            )
            if foreign:
                # Replacing part-0.parquet would leave these next to the new rows.
                raise DatasetError(
                    f"partition {rel} holds files vidiframe did not write: {foreign}"
                )
        if (directory / FILE_NAME).exists():
            existing.append(rel)
            if mode == "skip":
                continue
        kept.append((rel, part))
    if mode == "error" and existing:
        shown = ", ".join(existing[:5]) + (", ..." if len(existing) > 5 else "")
        raise DatasetError(f"{len(existing)} partition(s) already exist in {root}: {shown}")
    return kept


def _stage(
    parts: list[tuple[str, pl.DataFrame]],
    staging: Path,
    *,
    metadata: dict[str, str],
    compression: ParquetCompression,
    compression_level: int | None,
    row_group_size: int,
) -> list[tuple[str, Path]]:
    """Write every partition's new file into ``staging``, fsynced; return ``(rel, temp)``."""
    token = uuid.uuid4().hex

    def write(index: int) -> tuple[str, Path]:
        rel, part = parts[index]
        # Leading '.' and a '.tmp' suffix: skipped by engines, unmatched by '*.parquet'.
        temp = staging / f".{index:06d}-{token}.parquet.tmp"
        part.write_parquet(
            temp,
            compression=compression,
            compression_level=compression_level,
            row_group_size=row_group_size,
            metadata=metadata,
        )
        _fsync_file(temp)
        return rel, temp

    workers = min(len(parts), os.cpu_count() or 1)
    if workers <= 1:
        return [write(i) for i in range(len(parts))]
    # Polars releases the GIL while encoding: partitions are written side by side.
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(write, range(len(parts))))


def _commit(root: Path, staged: list[tuple[str, Path]]) -> tuple[list[Path], set[Path]]:
    """Rename each staged file onto its partition; return the files and the dirs to fsync."""
    written: list[Path] = []
    to_sync: set[Path] = set()
    for rel, temp in staged:
        directory = root / rel
        parent = root
        for name in rel.split("/"):
            child = parent / name
            if not child.is_dir():
                child.mkdir(exist_ok=True)
                to_sync.add(parent)
            parent = child
        _checkpoint(f"committing:{rel}")
        target = directory / FILE_NAME
        temp.replace(target)
        to_sync.add(directory)
        written.append(target)
        _checkpoint(f"committed:{rel}")
    return written, to_sync


def _staging_dir(root: Path) -> Path:
    """Where new files are written before their rename: beside ``root``, on its file system."""
    parent = root.parent
    if parent != root and _same_device(root, parent) and os.access(parent, os.W_OK):
        # Outside root, so a reader listing root (pl.scan_parquet(root) reads every
        # file it lists, hidden or not) never meets a temporary file.
        return parent / f".{root.name}{_STAGING_SUFFIX}"
    return root / _STAGING_SUFFIX


def _same_device(a: Path, b: Path) -> bool:
    return a.stat().st_dev == b.stat().st_dev


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on the ``root`` directory; released even if killed."""
    if fcntl is None:  # pragma: no cover - Windows
        yield
        return
    fd = os.open(root, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    # A rename is durable only once its directory is synced.
    with contextlib.suppress(OSError):  # some file systems refuse fsync on directories
        _fsync_file(path)


# -- reading ------------------------------------------------------------------------------


def scan_partitions(root: str | os.PathLike[str]) -> pl.LazyFrame:
    """Lazily scan a dataset written by :func:`write_partitions`, with its own dtypes.

    The frame has the columns of the written frames, in their order and with
    their Polars dtypes (``Enum`` and nested columns included); partition columns
    keep the dtype they were written with (a ``Date`` partition stays ``Date``),
    followed by any partition column a ``partition_by`` expression added.
    Filters on partition columns are pushed down: partitions they exclude are
    not read. Rows keep their order within a partition; partitions come in
    directory-name order.

    Parameters
    ----------
    root
        The dataset directory. A Hive-partitioned dataset that vidiframe did not
        write is scanned with the dtypes Polars infers.

    Returns
    -------
    polars.LazyFrame

    Raises
    ------
    DatasetError
        ``root`` is not a directory or holds no partition.

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
    root_path = Path(root)
    if not root_path.is_dir():
        raise DatasetError(f"no dataset at {root_path}: not a directory")
    existing = _read_existing(root_path)
    if existing is None:
        raise DatasetError(f"no dataset at {root_path}: it holds no Parquet file")
    hidden = list(_HIDDEN)
    if existing.layout is None:
        return pl.scan_parquet(root_path, hive_partitioning=True, hidden_file_prefix=hidden)
    layout = existing.layout
    lf = pl.scan_parquet(
        root_path,
        hive_partitioning=True,
        hidden_file_prefix=hidden,
        # Given, not inferred: a Date partition stays Date, a String one that looks
        # like numbers stays String, and no file is opened before the query runs.
        schema=existing.schema,
        hive_schema=layout.partition_dtypes,
    )
    return lf.select(layout.columns)


def _read_existing(root: Path) -> _Existing | None:
    """The layout and schema of the dataset at ``root``, from its first file; ``None`` if empty.

    ``layout`` is ``None`` for a file vidiframe did not write.
    """
    first = _first_file(root)
    if first is None:
        return None
    metadata = pl.read_parquet_metadata(first)
    schema = pl.Schema(pl.read_parquet_schema(first))
    text = metadata.get(METADATA_KEY)
    layout = None if text is None else _Layout.from_json(text, path=first)
    if layout is not None and tuple(schema) != layout.data_columns:
        raise DatasetError(f"{first} does not hold the columns its footer lists")
    return _Existing(layout, schema, first)


def _first_file(directory: Path) -> Path | None:
    """The first visible ``*.parquet`` file under ``directory``, in name order."""
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except FileNotFoundError:
        return None
    for entry in entries:
        if entry.name.startswith(_HIDDEN):
            continue
        if entry.is_dir():
            found = _first_file(Path(entry.path))
            if found is not None:
                return found
        elif entry.name.endswith(".parquet") and entry.is_file():
            return Path(entry.path)
    return None
