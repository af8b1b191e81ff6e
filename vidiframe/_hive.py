"""Hive-partitioned Parquet datasets on a local disk or an object store.

Layout of a dataset written by :func:`vidiframe.write_partitions`::

    root/
      period_start_date=2025-03-01/part-0.parquet
      period_start_date=2025-03-02/part-0.parquet

One file (one object) per partition, partition columns only in the directory
names (the Hive convention, which Spark, PyArrow, DuckDB and Polars read).
Every file carries the dataset's layout (column order, partition columns and
their dtypes) in its footer, under the key ``vidiframe.dataset``; there is no
side file to fall out of step with the files.

**Which file holds the dataset's layout.** Schema evolution only ever adds
columns, and every file a call writes carries the layout of that call, so the
most recently written file carries the current layout (and the current Polars
schema, in its own footer); older files may lack the newest columns, which
scans fill with nulls. "Most recent" is the file's modification time (the
object's ``Last-Modified`` on object storage); files tied at the newest time
are all read, and the widest layout wins.

**Replacing a partition.** Locally, the new file is written completely under a
hidden temporary name outside ``root`` and renamed onto ``part-0.parquet``; one
``rename(2)`` is atomic on POSIX file systems, so an ``open()`` of a partition
gets the old file or the new one, whole. On object storage the new file is one
PUT of the whole object: the store makes it visible at once, whole, or not at
all, and there is never a temporary object. A PUT whose bytes equal the stored
object's is skipped, so writing the same frame twice changes no object.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import struct
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import polars as pl

from vidiframe._errors import DatasetError
from vidiframe._layout import (
    METADATA_KEY,
    Layout,
    Part,
    SchemaMode,
    fit_frame,
    parse_partition_dir,
    split,
)
from vidiframe._null_types import untyped_parts
from vidiframe._partitioning import partition_dir
from vidiframe._storage import Location, ObjectStorage, polars_options

__all__ = ["damaged_files", "delete", "inspect", "scan", "write"]

WriteMode = Literal["replace", "skip", "error"]
ParquetCompression = Literal["lz4", "uncompressed", "snappy", "gzip", "brotli", "zstd"]

#: The name of the one file of each partition.
FILE_NAME = "part-0.parquet"
_STAGING_SUFFIX = ".vidiframe-staging"
# Name prefixes engines skip: Spark and PyArrow skip such files and directories;
# Polars skips only such files, and only when told (hidden_file_prefix).
_HIDDEN = (".", "_")
# Concurrent PUTs to an object store: the network, not the CPU, is the limit.
_PUT_THREADS = 8
# Bytes fetched from an object's end to read its footer in one GET (most fit).
_FOOTER_GUESS = 64 * 1024
# The smallest Parquet file: "PAR1", a footer length (4 bytes), "PAR1".
_MIN_PARQUET = 12


def _checkpoint(step: str) -> None:
    """Mark a step of a write; a no-op the crash and reader tests replace to stop the writer.

    Steps, in order: ``locked``, ``recovered``, ``staged`` (every new file is
    written and fsynced in the staging directory, or encoded in memory for an
    object store), then for each partition ``committing:<partition dir>`` (its
    directories exist, the rename or PUT is next) and ``committed:<partition
    dir>``, and last ``done``.
    """


# -- what is stored -------------------------------------------------------------------------


@dataclass(frozen=True)
class DataFile:
    """One visible ``*.parquet`` file of a dataset; ``rel`` is relative to the root."""

    rel: str
    size: int
    modified: float | int
    e_tag: str | None = None

    @property
    def directory(self) -> str:
        return self.rel.rpartition("/")[0]


@dataclass(frozen=True)
class Existing:
    """The stored dataset: its files, and the layout and data schema of the newest."""

    files: tuple[DataFile, ...]
    layout: Layout | None  # None for a dataset vidiframe did not write
    schema: pl.Schema  # the data columns of the newest file
    source: str  # the file the layout was read from, for messages

    @property
    def full_schema(self) -> pl.Schema:
        """Data and partition columns, in the layout's order."""
        if self.layout is None:
            return self.schema
        merged = {**dict(self.schema), **self.layout.partition_dtypes}
        return pl.Schema({c: merged[c] for c in self.layout.columns})

    def partitions(self) -> dict[str, DataFile]:
        """The partition directories that hold ``part-0.parquet``."""
        return {f.directory: f for f in self.files if f.rel.endswith(f"/{FILE_NAME}")}


def _visible(rel: str) -> bool:
    return not any(name.startswith(_HIDDEN) for name in rel.split("/"))


class _Files:
    """Reading the files of a dataset, locally or on an object store."""

    def __init__(self, location: Location, storage_options: Mapping[str, str]) -> None:
        self.location = location
        self.remote = (
            None if location.local is not None else ObjectStorage(location, storage_options)
        )

    def data_files(self) -> list[DataFile]:
        """The visible ``*.parquet`` files, sorted by path."""
        if self.remote is not None:
            return [
                DataFile(o.path, o.size, o.last_modified.timestamp(), o.e_tag)
                for o in self.remote.list()
                if o.path.endswith(".parquet") and _visible(o.path)
            ]
        root = self.location.local
        assert root is not None
        out: list[DataFile] = []
        if root.exists() and not root.is_dir():
            raise DatasetError(f"dataset root {root} is not a directory")

        def walk(directory: Path, rel: str) -> None:
            try:
                entries = sorted(os.scandir(directory), key=lambda e: e.name)
            except (FileNotFoundError, NotADirectoryError):
                return
            for entry in entries:
                if entry.name.startswith(_HIDDEN):
                    continue
                path = f"{rel}{entry.name}"
                if entry.is_dir():
                    walk(Path(entry.path), f"{path}/")
                elif entry.name.endswith(".parquet") and entry.is_file():
                    stat = entry.stat()
                    out.append(DataFile(path, stat.st_size, stat.st_mtime_ns))

        walk(root, "")
        return out

    def footer(self, file: DataFile) -> tuple[dict[str, str], pl.Schema]:
        """The key-value metadata and Polars schema in one file's footer."""
        if self.remote is None:
            assert self.location.local is not None
            path = self.location.local / file.rel
            try:
                return pl.read_parquet_metadata(path), pl.Schema(pl.read_parquet_schema(path))
            except (pl.exceptions.PolarsError, OSError) as exc:
                raise _UnreadableError(str(exc)) from None
        if file.size < _MIN_PARQUET:
            # Not fetched: a range of an empty object is an invalid request.
            raise _UnreadableError(f"{file.size} bytes: too short for a Parquet file")
        # Only the footer is fetched: the object's last 64 KiB hold it, else a
        # second GET gets the rest. Polars reads the footer of "PAR1" + footer +
        # length + "PAR1" as it would the whole file.
        start = max(file.size - _FOOTER_GUESS, 0)
        tail = self.remote.get_range(file.rel, start, file.size)
        if len(tail) < 12 or tail[-4:] != b"PAR1":
            raise _UnreadableError("not a Parquet file")
        length = struct.unpack("<I", tail[-8:-4])[0]
        if length + 8 > file.size - 4:
            raise _UnreadableError("footer length past the start of the file")
        if length + 8 > len(tail):
            tail = self.remote.get_range(file.rel, file.size - 8 - length, file.size)
        buffer = b"PAR1" + tail[-(length + 8) :]
        try:
            return (
                pl.read_parquet_metadata(io.BytesIO(buffer)),
                pl.Schema(pl.read_parquet_schema(io.BytesIO(buffer))),
            )
        except pl.exceptions.PolarsError as exc:
            raise _UnreadableError(str(exc)) from None

    def _footers(
        self, files: list[DataFile]
    ) -> list[tuple[dict[str, str], pl.Schema] | _UnreadableError]:
        """The footers of several files; on object storage fetched side by side."""

        def one(file: DataFile) -> tuple[dict[str, str], pl.Schema] | _UnreadableError:
            try:
                return self.footer(file)
            except _UnreadableError as exc:
                return exc

        if self.remote is None or len(files) == 1:
            return [one(f) for f in files]
        with ThreadPoolExecutor(max_workers=min(_PUT_THREADS, len(files))) as pool:
            return list(pool.map(one, files))

    def existing(self) -> Existing | None:
        """The stored dataset, or ``None`` when the root holds no Parquet file."""
        files = self.data_files()
        if not files:
            return None
        times = sorted({f.modified for f in files}, reverse=True)
        unreadable: list[str] = []
        foreign: tuple[Layout | None, pl.Schema, str] | None = None
        for when in times:
            best: tuple[Layout | None, pl.Schema, str] | None = None
            group = [f for f in files if f.modified == when]
            for file, footer in zip(group, self._footers(group), strict=True):
                where = self.location.join(file.rel)
                if isinstance(footer, _UnreadableError):
                    # A damaged file fails the queries that read it, not the others.
                    unreadable.append(where)
                    continue
                metadata, schema = footer
                text = metadata.get(METADATA_KEY)
                layout = None if text is None else Layout.from_json(text, where=where)
                if layout is not None and tuple(schema) != layout.data_columns:
                    raise DatasetError(f"{where} does not hold the columns its footer lists")
                if best is None or (
                    layout is not None
                    and (best[0] is None or _rank(layout, schema) > _rank(best[0], best[1]))
                ):
                    best = (layout, schema, where)
            if best is not None and best[0] is not None:
                return Existing(tuple(files), best[0], best[1], best[2])
            # Only files vidiframe did not write at this time: an older file may
            # still carry the layout (a foreign file dropped into a partition).
            foreign = foreign or best
        if foreign is not None:
            return Existing(tuple(files), None, foreign[1], foreign[2])
        raise DatasetError(
            f"no Parquet file of {self.location} has a readable footer: {unreadable[:3]}"
        )


def damaged_files(
    location: Location,
    storage_options: Mapping[str, str],
    expected: Mapping[str, int] | None = None,
    *,
    contents: bool,
) -> list[str]:
    """The data files that cannot be whole Parquet files, each with what is wrong.

    ``expected`` maps the files a Delta log lists (paths relative to the root)
    to the sizes it records: each must be there with that size. ``None`` (Hive)
    takes every visible ``*.parquet`` file as it is. With ``contents``, the
    footer of each file is read too (a footer can be damaged at the same size).
    One listing, plus one read per file with ``contents``.
    """
    files = _Files(location, storage_options)
    sizes: dict[str, int]
    if expected is not None and location.local is not None:
        # One stat per file the log lists, no walk of the partition directories:
        # a scan checks every file of a local table this way. On a str, not a
        # Path: half the time (3 us a file against 6, measured on 2000 files).
        sizes = {}
        root = str(location.local)
        for rel in expected:
            with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                sizes[rel] = os.stat(f"{root}/{rel}").st_size  # noqa: PTH116 - see above
    else:
        sizes = {f.rel: f.size for f in files.data_files()}
    out: list[str] = []
    checked: list[DataFile] = []
    for rel, size in (expected if expected is not None else sizes).items():
        found = sizes.get(rel)
        if found is not None and found == size and found >= _MIN_PARQUET:
            if contents:
                checked.append(DataFile(rel, found, 0))
            continue
        where = location.join(rel)
        if found is None:
            out.append(f"{where} (missing)")
        elif found != size:
            out.append(f"{where} ({found} bytes; the Delta log records {size})")
        else:
            out.append(f"{where} ({found} bytes: too short for a Parquet file)")
    if contents and checked:
        for file, footer in zip(checked, files._footers(checked), strict=True):
            if isinstance(footer, _UnreadableError):
                out.append(f"{location.join(file.rel)} (no readable Parquet footer: {footer})")
    return sorted(out)


def _rank(layout: Layout, schema: pl.Schema) -> tuple[int, int]:
    """Which of files written at the same time holds the dataset's newest schema.

    More columns (schema evolution only adds), then fewer ``Null`` parts,
    nested ones included (a ``Null`` only ever gets a type): object stores keep
    modification times to the second, so two writes may share one.
    """
    return len(layout.columns), -sum(untyped_parts(dtype) for dtype in schema.values())


class _UnreadableError(Exception):
    """A file whose Parquet footer cannot be read."""


# -- writing --------------------------------------------------------------------------------


def write(
    frame: pl.DataFrame,
    layout: Layout,
    location: Location,
    storage_options: Mapping[str, str],
    *,
    mode: WriteMode,
    schema_mode: SchemaMode,
    compression: ParquetCompression,
    compression_level: int | None,
    row_group_size: int,
    remove: Sequence[str] = (),
) -> tuple[list[Part], list[str], list[Path] | list[str]]:
    """Write ``frame``'s partitions (the caller holds the lock).

    ``remove`` lists partition directories to delete after the writes (those a
    replace left without rows). Returns the parts written, the directories
    removed, and the files written (paths locally, URLs on object storage).
    """
    files = _Files(location, storage_options)
    existing = files.existing()
    root = location.url
    if existing is not None:
        if existing.layout is None:
            raise DatasetError(
                f"{existing.source} was not written by vidiframe; "
                f"write to an empty directory or one vidiframe wrote"
            )
        frame, layout = fit_frame(
            frame,
            layout,
            existing.layout,
            existing.full_schema,
            schema_mode=schema_mode,
            where=root,
        )
    parts = split(frame, layout)
    stored = existing.partitions() if existing is not None else {}
    _check_foreign(existing, parts, location)
    if mode == "skip":
        parts = [p for p in parts if p.rel not in stored]
    elif mode == "error":
        clash = [p.rel for p in parts if p.rel in stored]
        if clash:
            shown = ", ".join(clash[:5]) + (", ..." if len(clash) > 5 else "")
            raise DatasetError(f"{len(clash)} partition(s) already exist in {root}: {shown}")
    remove = [r for r in remove if r in stored and r not in {p.rel for p in parts}]
    metadata = {METADATA_KEY: layout.to_json()}
    options = {
        "compression": compression,
        "compression_level": compression_level,
        "row_group_size": row_group_size,
        "metadata": metadata,
    }
    if location.local is not None:
        written_paths = _write_local(location.local, parts, options) if parts else []
        for rel in remove:
            _remove_local(location.local, rel)
        return parts, list(remove), written_paths
    assert files.remote is not None
    urls = _write_remote(files.remote, parts, stored, options)
    for rel in remove:
        files.remote.delete(f"{rel}/{FILE_NAME}")
    return parts, list(remove), urls


def _check_foreign(existing: Existing | None, parts: list[Part], location: Location) -> None:
    if existing is None:
        return
    targets = {p.rel for p in parts}
    foreign: dict[str, list[str]] = {}
    for f in existing.files:
        if f.directory in targets and f.rel.rpartition("/")[2] != FILE_NAME:
            foreign.setdefault(f.directory, []).append(f.rel.rpartition("/")[2])
    if foreign:
        # Replacing part-0.parquet would leave these next to the new rows.
        rel = min(foreign)
        raise DatasetError(
            f"partition {rel} holds files vidiframe did not write: {sorted(foreign[rel])} "
            f"(dataset {location})"
        )


def _encode(part: Part, options: Mapping[str, object]) -> bytes:
    buffer = io.BytesIO()
    part.frame.write_parquet(buffer, **options)  # type: ignore[arg-type]
    return buffer.getvalue()


def _md5(data: bytes) -> str:
    # A content check against S3's etag, not a security measure.
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _write_remote(
    storage: ObjectStorage,
    parts: list[Part],
    stored: Mapping[str, DataFile],
    options: Mapping[str, object],
) -> list[str]:
    """Encode every partition, then PUT those whose bytes differ from the stored object."""
    _checkpoint("locked")
    _checkpoint("recovered")
    if not parts:
        _checkpoint("done")
        return []
    workers = max(1, min(len(parts), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        encoded = list(pool.map(lambda p: _encode(p, options), parts))
    _checkpoint("staged")

    def commit(index: int) -> str | None:
        part, data = parts[index], encoded[index]
        key = f"{part.rel}/{FILE_NAME}"
        old = stored.get(part.rel)
        # An equal object is left alone, so a rewrite of the same frame changes
        # nothing stored. The listing tells most cases apart without a GET: a
        # different size differs; an S3 etag equal to the bytes' MD5 is the same
        # object. Other etags (multipart, SSE-KMS, GCS, Azure) say nothing, so
        # an object of the same size is then read and compared.
        if old is not None and old.size == len(data):
            if old.e_tag is not None and old.e_tag.strip('"') == _md5(data):
                return None
            with contextlib.suppress(FileNotFoundError):
                if storage.get(key) == data:
                    return None
        _checkpoint(f"committing:{part.rel}")
        storage.put(key, data)
        _checkpoint(f"committed:{part.rel}")
        return storage.location.join(key)

    with ThreadPoolExecutor(max_workers=min(_PUT_THREADS, len(parts))) as pool:
        results = list(pool.map(commit, range(len(parts))))
    _checkpoint("done")
    return [r for r in results if r is not None]


def _write_local(root: Path, parts: list[Part], options: Mapping[str, object]) -> list[Path]:
    """Stage every partition's file beside ``root``, then rename each onto its partition."""
    root.mkdir(parents=True, exist_ok=True)
    # Resolved only to place the staging directory: a symlinked root's parent may
    # be on another file system. Returned paths stay under root as given.
    real_root = root.resolve()
    _checkpoint("locked")
    staging = _staging_dir(real_root)
    if staging.exists():
        shutil.rmtree(staging)
    _checkpoint("recovered")
    staging.mkdir()
    try:
        staged = _stage(parts, staging, options)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _checkpoint("staged")
    written, to_sync = _commit(root, staged)
    # The lock may have just created root: its entry in the parent must last too.
    to_sync.add(real_root.parent)
    for directory in sorted(to_sync):
        _fsync_dir(directory)
    staging.rmdir()
    _checkpoint("done")
    return written


def _stage(
    parts: list[Part], staging: Path, options: Mapping[str, object]
) -> list[tuple[str, Path]]:
    """Write every partition's new file into ``staging``, fsynced; return ``(rel, temp)``."""
    token = uuid.uuid4().hex

    def write_one(index: int) -> tuple[str, Path]:
        part = parts[index]
        # Leading '.' and a '.tmp' suffix: skipped by engines, unmatched by '*.parquet'.
        temp = staging / f".{index:06d}-{token}.parquet.tmp"
        try:
            part.frame.write_parquet(temp, **options)  # type: ignore[arg-type]
            _fsync_file(temp)
        except (OSError, pl.exceptions.ComputeError) as exc:
            # Polars reports a failed write (ENOSPC, EFBIG) as a ComputeError.
            reason = getattr(exc, "strerror", None) or str(exc).splitlines()[0]
            raise DatasetError(
                f"could not write the new file of {part.rel} in {staging}: {reason}; "
                "free some space or fix the permissions, then run again (nothing was replaced)"
            ) from None
        return part.rel, temp

    workers = min(len(parts), os.cpu_count() or 1)
    if workers <= 1:
        return [write_one(i) for i in range(len(parts))]
    # Polars releases the GIL while encoding: partitions are written side by side.
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(write_one, range(len(parts))))


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


def _remove_local(root: Path, rel: str) -> None:
    # Unlinking the file removes the partition for every new reader at once; an
    # empty directory left by a crash here holds no rows and counts as absent.
    directory = root / rel
    (directory / FILE_NAME).unlink(missing_ok=True)
    _fsync_dir(directory)
    with contextlib.suppress(OSError):
        directory.rmdir()
        _fsync_dir(directory.parent)


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


# -- deleting -------------------------------------------------------------------------------


def delete(
    location: Location, storage_options: Mapping[str, str], partitions: Sequence[tuple[object, ...]]
) -> list[tuple[object, ...]]:
    """Remove the given partitions (the caller holds the lock); return those removed."""
    files = _Files(location, storage_options)
    existing = files.existing()
    if existing is None or existing.layout is None:
        return []
    layout = existing.layout
    stored = existing.partitions()
    removed = []
    for values in partitions:
        try:
            rel = partition_dir(layout.partition_by, values)
        except ValueError as exc:
            raise DatasetError(str(exc)) from None
        if rel not in stored:
            continue
        if files.remote is not None:
            files.remote.delete(f"{rel}/{FILE_NAME}")
        else:
            assert location.local is not None
            _remove_local(location.local, rel)
        removed.append(tuple(values))
    return removed


# -- reading --------------------------------------------------------------------------------


def inspect(
    location: Location, storage_options: Mapping[str, str]
) -> tuple[Existing | None, list[tuple[object, ...]]]:
    """The stored dataset and its partitions' values (sorted)."""
    existing = _Files(location, storage_options).existing()
    if existing is None or existing.layout is None:
        return existing, []
    layout = existing.layout
    values = []
    for rel in existing.partitions():
        parsed = parse_partition_dir(rel, layout.partition_by, layout.partition_dtypes)
        if parsed is not None:
            values.append(parsed)
    return existing, sorted(values)


def scan(
    location: Location, storage_options: Mapping[str, str], existing: Existing
) -> pl.LazyFrame:
    """Scan the stored dataset with its own dtypes; missing columns read as nulls.

    An empty data file is refused here, naming it: listing a directory, Polars
    skips empty files, so their partitions' rows would be missing without an
    error. (Any other damaged file fails the queries that read it, not the others.)
    """
    empty = [f for f in existing.files if f.size == 0]
    if empty:
        shown = ", ".join(location.join(f.rel) for f in empty[:5])
        raise DatasetError(
            f"the dataset at {location} holds {len(empty)} empty data file(s), whose rows "
            f"would be missing from every query: {shown}; restore them, or rewrite (or "
            "delete) their partitions"
        )
    source: str | Path = location.local if location.local is not None else location.url + "/"
    options: dict[str, object] = {}
    if location.local is None:
        options["storage_options"] = polars_options(storage_options)
    hidden = list(_HIDDEN)
    if existing.layout is None:
        return pl.scan_parquet(source, hive_partitioning=True, hidden_file_prefix=hidden, **options)  # type: ignore[arg-type]
    layout = existing.layout
    lf = pl.scan_parquet(
        source,
        hive_partitioning=True,
        hidden_file_prefix=hidden,
        # Given, not inferred: a Date partition stays Date, a String one that looks
        # like numbers stays String, and no file is opened before the query runs.
        schema=existing.schema,
        hive_schema=layout.partition_dtypes,
        # Older partitions lack the columns schema evolution added: nulls there.
        missing_columns="insert",
        **options,  # type: ignore[arg-type]
    )
    return lf.select(layout.columns)
