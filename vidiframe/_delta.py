"""Delta Lake tables through deltalake (extra ``lake``).

A Delta table is Parquet files plus a transaction log (``_delta_log/``): each
write is one commit, a JSON file created with put-if-absent, so readers see a
whole commit or none of it. vidiframe makes exactly one commit per call:

- replacing partitions is an overwrite with a predicate on the partitions
  written (``replaceWhere``): rows elsewhere are untouched;
- :func:`replace_days` is an overwrite with a predicate on the days: the other
  days of a month partition are kept by Delta itself;
- deleting partitions is a ``DELETE`` with a predicate on them.

**Types.** Delta has no time-of-day, duration or unsigned types, and deltalake
panics on Polars ``Enum`` columns as Polars exports them (dictionaries of string
views). Such columns are stored in Delta's types
(``Time`` as ``"HH:MM:SS[.fffffffff]"`` text, ``Enum`` / ``Categorical`` as
strings, unsigned integers as the next wider signed type, ``UInt64`` as
``DECIMAL(20, 0)``, ``Duration`` and nanosecond ``Datetime`` as their integer
count), which every engine reads sensibly. Each commit vidiframe makes records
the frame's Polars schema in the commit's own metadata (key
``vidiframe.dataset``), and :func:`scan` restores those dtypes, so a round trip
gives the same frame back.

**Concurrent writers.** Delta's own conflict detection: two commits can never
both become version N (put-if-absent on the log). A writer that loses the race
re-reads the new commits and retries if they do not conflict with its own (an
append next to another append), and fails with a commit conflict when they do
(both replaced or deleted rows of the same partitions, or changed the schema).
Each write commits on top of the version it read (the table opened for the
format and schema checks is the one handed to deltalake), so what changed since
is refused, never overwritten. vidiframe's lock on top (:mod:`vidiframe._lease`)
adds what Delta does not: a refusal before any data file is uploaded, and one
writer across the several calls of a sync.

**Speed.** A write reads the log once (:func:`open_table`) and the last commit's
metadata once; the conversion to Delta's types runs meanwhile
(:func:`to_storage`, in a worker thread started by the caller).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import Future
from typing import Any
from urllib.parse import unquote

import polars as pl
import pyarrow as pa

from vidiframe._errors import DatasetError
from vidiframe._layout import METADATA_KEY, Layout, SchemaMode, fit_frame, partition_values
from vidiframe._optional import require
from vidiframe._partitioning import partition_dir
from vidiframe._storage import Location, ObjectStorage, delta_options, polars_options, scrub

__all__ = [
    "delete",
    "find_table",
    "inspect",
    "is_delta",
    "logged_files",
    "open_table",
    "scan",
    "to_storage",
    "write",
]

_TIME_FORMAT = "%H:%M:%S%.f"
# How far back the history is searched for the last commit vidiframe made
# (another engine's OPTIMIZE or VACUUM commits carry no layout).
_HISTORY_DEPTH = 100


def _uri(location: Location) -> str:
    return str(location.local) if location.local is not None else location.url


def _options(storage_options: Mapping[str, str]) -> dict[str, str] | None:
    return delta_options(storage_options)


def is_delta(location: Location, storage_options: Mapping[str, str]) -> bool:
    """Whether the root holds a Delta table (a ``_delta_log/`` with a commit)."""
    if location.local is not None:
        log = location.local / "_delta_log"
        return log.is_dir() and any(p.suffix == ".json" for p in log.iterdir())
    storage = ObjectStorage(location, storage_options)
    return any(o.path.endswith(".json") for o in storage.list("_delta_log/"))


def _fault(exc: BaseException, storage_options: Mapping[str, str]) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return scrub(text, storage_options)


# -- dtypes -------------------------------------------------------------------------------


def _storage_dtype(dtype: pl.DataType, *, top: bool) -> pl.DataType:
    """The dtype a column is stored with in Delta (see the module docstring)."""
    if isinstance(dtype, (pl.Enum, pl.Categorical)):
        return pl.String()
    if isinstance(dtype, pl.Time):
        return pl.String() if top else pl.Int64()
    if isinstance(dtype, pl.Duration):
        return pl.Int64()
    if isinstance(dtype, pl.Datetime) and dtype.time_unit == "ns":
        return pl.Int64()
    wider: dict[type[pl.DataType], pl.DataType] = {
        pl.UInt8: pl.Int16(),
        pl.UInt16: pl.Int32(),
        pl.UInt32: pl.Int64(),
        pl.UInt64: pl.Decimal(20, 0),
    }
    if type(dtype) in wider:
        return wider[type(dtype)]
    if isinstance(dtype, pl.List):
        return pl.List(_storage_dtype(_instance(dtype.inner), top=False))
    if isinstance(dtype, pl.Array):
        return pl.Array(_storage_dtype(_instance(dtype.inner), top=False), dtype.shape)
    if isinstance(dtype, pl.Struct):
        return pl.Struct(
            {f.name: _storage_dtype(_instance(f.dtype), top=False) for f in dtype.fields}
        )
    return dtype


def _instance(dtype: Any) -> pl.DataType:
    # Nested dtypes may hold classes (pl.Int64) rather than instances (pl.Int64()).
    return dtype() if isinstance(dtype, type) else dtype


def _storage_expr(name: str, dtype: pl.DataType) -> pl.Expr:
    """The column ``name`` in the dtype Delta stores it with (itself if Delta has it)."""
    target = _storage_dtype(dtype, top=True)
    if target == dtype:
        return pl.col(name)
    if isinstance(dtype, pl.Time):
        return pl.col(name).dt.to_string(_TIME_FORMAT)
    if isinstance(dtype, pl.Datetime) and dtype.time_unit == "ns":
        return pl.col(name).dt.epoch("ns")
    return pl.col(name).cast(target)


def to_storage(frame: pl.DataFrame, columns: Sequence[str]) -> pa.Table:
    """``columns`` of the frame in Delta's types, as the Arrow table handed to deltalake.

    One ``select`` converts what needs converting; the rest is handed over as is
    (``to_arrow`` at Polars' newest compat level copies no buffer). Top-level
    ``Enum`` / ``Categorical`` columns are not cast to strings row by row: they
    go over as Arrow dictionaries whose few values are retyped from Polars'
    string views, which deltalake's Parquet writer cannot take in a dictionary,
    to plain strings; Delta stores them as ``string``.
    """
    schema = frame.schema
    dictionaries = {n for n in columns if isinstance(schema[n], (pl.Enum, pl.Categorical))}
    exprs = [pl.col(n) if n in dictionaries else _storage_expr(n, schema[n]) for n in columns]
    table = frame.select(exprs).to_arrow(compat_level=pl.CompatLevel.newest())
    arrays = []
    fields = []
    for field, column in zip(table.schema, table.columns, strict=True):
        array = column
        if field.name in dictionaries:
            kind = pa.dictionary(field.type.index_type, pa.large_string())
            array = pa.chunked_array(
                [
                    pa.DictionaryArray.from_arrays(
                        chunk.indices, chunk.dictionary.cast(pa.large_string())
                    )
                    for chunk in column.chunks
                ],
                type=kind,
            )
        arrays.append(array)
        # Polars' own field metadata (Enum categories) must not become part of
        # the Delta schema: the dtypes are restored from the commit's metadata.
        fields.append(pa.field(field.name, array.type, field.nullable))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def _restore(lf: pl.LazyFrame, schema: pl.Schema, stored: pl.Schema) -> pl.LazyFrame:
    exprs = []
    for name, dtype in schema.items():
        if name not in stored or stored[name] == dtype:
            continue
        if isinstance(dtype, pl.Time) and stored[name] == pl.String():
            exprs.append(pl.col(name).str.to_time(_TIME_FORMAT))
        elif isinstance(dtype, pl.Datetime) and dtype.time_unit == "ns":
            exprs.append(pl.col(name).cast(pl.Datetime("ns")).dt.replace_time_zone(dtype.time_zone))
        else:
            exprs.append(pl.col(name).cast(dtype))
    return lf.with_columns(exprs) if exprs else lf


# -- reading the table ----------------------------------------------------------------------


def open_table(location: Location, storage_options: Mapping[str, str]) -> Any | None:
    """The Delta table at the root (its log read once), or ``None`` when there is none."""
    deltalake = require("deltalake", extra="lake")
    try:
        return deltalake.DeltaTable(_uri(location), storage_options=_options(storage_options))
    except deltalake.exceptions.TableNotFoundError:
        return None
    except Exception as exc:
        raise DatasetError(
            f"could not open the Delta table at {location}: "
            f"{_fault(exc, storage_options)}; check the URL and credentials"
        ) from None


def find_table(location: Location, storage_options: Mapping[str, str]) -> Any | None:
    """The Delta table at the root, its log read once; ``None`` when the root holds none.

    Locally, a look into ``_delta_log/`` comes first: a Hive dataset needs no
    deltalake. On object storage the table is opened at once, not after a
    listing of ``_delta_log/`` that deltalake makes again (a Hive root pays
    deltalake's look for a checkpoint instead). A failure other than "no
    table" is asked again of the store, whose error names its cause (a
    missing bucket, refused credentials) as for every other storage failure.
    """
    if location.local is not None:
        if not is_delta(location, storage_options):
            return None
        return open_table(location, storage_options)
    try:
        return open_table(location, storage_options)
    except DatasetError:
        ObjectStorage(location, storage_options).list("_delta_log/")
        raise  # the store answers: the table itself cannot be read


def _table(location: Location, storage_options: Mapping[str, str]) -> Any:
    table = open_table(location, storage_options)
    if table is None:
        raise DatasetError(f"no Delta table at {location}")
    return table


def _layout(table: Any, location: Location, storage_options: Mapping[str, str]) -> Layout:
    """The layout recorded by the last commit vidiframe made; else the table's own schema."""
    # The last commit is nearly always vidiframe's own: read it alone first.
    # (deltalake's history reads the newest commits of the log, even those made
    # since the table was read: a schema evolved meanwhile is then seen here,
    # and the write refused, as the commit's conflict check would refuse it.)
    for depth in (1, _HISTORY_DEPTH):
        try:
            # It reads the newest commits from the store (an OSError when it cannot).
            commits = table.history(depth)
        except Exception as exc:
            raise DatasetError(
                f"could not read the history of the Delta table at {location}: "
                f"{_fault(exc, storage_options)}; check the URL, credentials and network, "
                "then run again"
            ) from None
        for commit in commits:
            text = commit.get(METADATA_KEY)
            if isinstance(text, str):
                where = f"{location} (commit {commit.get('version')})"
                return Layout.from_json(text, where=where)
    schema = pl.Schema(pl.from_arrow(table.schema().to_arrow().empty_table()).schema)  # type: ignore[union-attr]
    partition_by = tuple(table.metadata().partition_columns)
    return Layout(
        tuple(schema),
        partition_by,
        {c: schema[c] for c in partition_by},
        schema,
    )


def logged_files(table: Any) -> dict[str, int]:
    """The data files of the table's version and the sizes its log records.

    Paths are relative to the root, as stored: the log holds them URI-encoded
    (a partition directory ``k=a%20b`` is ``k=a%2520b`` there).
    """
    adds = pl.DataFrame(table.get_add_actions(flatten=False))
    if adds.height == 0:
        return {}
    return {
        unquote(path): int(size)
        for path, size in zip(adds.get_column("path"), adds.get_column("size_bytes"), strict=True)
    }


def _stored_schema(table: Any) -> pl.Schema:
    arrow = table.schema().to_arrow()
    return pl.Schema(pl.from_arrow(pa.schema(arrow).empty_table()).schema)  # type: ignore[union-attr]


def _partitions(table: Any, layout: Layout) -> list[tuple[object, ...]]:
    """The values of the table's partitions, typed as written, sorted."""
    keys = list(layout.partition_by)
    raw = table.partitions()
    if not raw:
        return []
    texts = pl.DataFrame(
        {c: [r.get(c) for r in raw] for c in keys}, schema=dict.fromkeys(keys, pl.String)
    )
    typed = texts.select(
        pl.col(c).str.to_date("%Y-%m-%d")
        if layout.partition_dtypes[c] == pl.Date()
        else pl.col(c).cast(layout.partition_dtypes[c])
        for c in keys
    )
    return sorted(set(typed.iter_rows()))


def inspect(
    location: Location, storage_options: Mapping[str, str], *, table: Any = None
) -> tuple[Layout, pl.Schema, list[tuple[object, ...]]]:
    """The table's layout, its scan schema, and its partitions' values (sorted)."""
    table = table if table is not None else _table(location, storage_options)
    layout = _layout(table, location, storage_options)
    schema = layout.schema if layout.schema is not None else _stored_schema(table)
    return layout, schema, _partitions(table, layout)


def scan(
    location: Location, storage_options: Mapping[str, str], *, table: Any = None
) -> pl.LazyFrame:
    """Scan the table (at ``table``'s version if given), restored to the dtypes vidiframe wrote."""
    table = table if table is not None else _table(location, storage_options)
    layout = _layout(table, location, storage_options)
    # Polars takes the table's own options (deltalake's retry keys, as strings) and
    # then these, which replace them: its retry settings are integers.
    lf = pl.scan_delta(table, storage_options=polars_options(storage_options))
    if layout.schema is None:
        return lf
    stored = lf.collect_schema()
    columns = [c for c in layout.columns if c in stored]
    # A Delta log lists files in no useful order: partitions come sorted, as from
    # a Hive dataset, and rows keep their order within each partition.
    restored = _restore(lf, layout.schema, stored).select(columns)
    return restored.sort(list(layout.partition_by), maintain_order=True)


# -- writing --------------------------------------------------------------------------------


def _literal(value: object) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, dt.date):
        return f"'{value.isoformat()}'"
    return str(value)


def _partition_predicate(layout: Layout, values: Collection[tuple[object, ...]]) -> str:
    keys = layout.partition_by
    if len(keys) == 1:
        return f"{keys[0]} IN ({', '.join(_literal(v[0]) for v in values)})"
    return " OR ".join(
        "(" + " AND ".join(f"{k} = {_literal(v)}" for k, v in zip(keys, row, strict=True)) + ")"
        for row in values
    )


def write(
    frame: pl.DataFrame,
    layout: Layout,
    location: Location,
    storage_options: Mapping[str, str],
    *,
    table: Any,
    mode: str,
    schema_mode: SchemaMode,
    partitions: Collection[tuple[object, ...]] | None = None,
    converted: Future[pa.Table] | None = None,
) -> list[tuple[object, ...]]:
    """One commit: replace the frame's partitions, or all of ``partitions`` when given.

    ``table`` is the table as :func:`open_table` read it (``None``: a new
    table). The commit is made on top of that version: a concurrent commit
    that changed the same partitions since makes it fail (Delta's conflict
    detection) rather than be overwritten unseen. With ``partitions``, those
    the frame has no rows for are emptied by the same commit (the overwrite's
    predicate covers them). ``converted``, when given, is :func:`to_storage` of
    all the frame's columns, computed meanwhile. Returns the frame's partitions
    written, sorted.
    """
    deltalake = require("deltalake", extra="lake")
    evolving = False
    given = frame.schema
    if table is not None:
        have = _layout(table, location, storage_options)
        have_schema = have.schema if have.schema is not None else _stored_schema(table)
        frame, layout = fit_frame(
            frame, layout, have, have_schema, schema_mode=schema_mode, where=location.url
        )
        # New columns, or a stored Null ("void") that gets its type, at the top or
        # nested (fit_frame changes no other type): the table's schema changes,
        # which deltalake merges only when asked to.
        fitted = layout.schema if layout.schema is not None else pl.Schema()
        evolving = tuple(have_schema) != layout.columns or any(
            fitted.get(c, dtype) != dtype for c, dtype in have_schema.items()
        )
    values = partition_values(frame, layout)
    if partitions is None:
        if mode in ("skip", "error") and table is not None:
            stored = set(_partitions(table, layout))
            if mode == "error":
                clash = sorted(partition_dir(layout.partition_by, v) for v in values if v in stored)
                if clash:
                    shown = ", ".join(clash[:5]) + (", ..." if len(clash) > 5 else "")
                    raise DatasetError(
                        f"{len(clash)} partition(s) already exist in {location}: {shown}"
                    )
            else:
                values = [v for v in values if v not in stored]
                keys = list(layout.partition_by)
                wanted = pl.DataFrame(
                    values, schema={k: frame.schema[k] for k in keys}, orient="row"
                )
                frame = frame.join(wanted, on=keys, how="semi", maintain_order="left")
        if not values:
            return []
        predicate = _partition_predicate(layout, values) if table is not None else None
    else:
        if not partitions or (table is None and frame.height == 0):
            return []
        predicate = _partition_predicate(layout, partitions) if table is not None else None
    # The schema policy selects and orders columns, and casts Null columns to the
    # stored type: after a cast, the conversion made before it is not the data.
    recast = any(dtype != given[c] for c, dtype in frame.schema.items())
    if converted is not None and mode != "skip" and not recast:
        data = converted.result().select(list(layout.columns))
    else:
        data = to_storage(frame, layout.columns)
    commit = deltalake.CommitProperties(
        custom_metadata={METADATA_KEY: layout.to_json(with_schema=True)}
    )
    try:
        deltalake.write_deltalake(
            table if table is not None else _uri(location),
            data,
            partition_by=list(layout.partition_by),
            mode="overwrite" if table is not None else "append",
            predicate=predicate,
            schema_mode="merge" if evolving else None,
            storage_options=_options(storage_options),
            commit_properties=commit,
        )
    except Exception as exc:
        raise DatasetError(
            f"could not commit to the Delta table at {location}: "
            f"{_fault(exc, storage_options)}; nothing was committed: "
            "check the URL, credentials and network, then run again"
        ) from None
    return values


def delete(
    table: Any,
    location: Location,
    storage_options: Mapping[str, str],
    partitions: Sequence[tuple[object, ...]],
) -> list[tuple[object, ...]]:
    """One commit deleting the given partitions of ``table``; return those that were there."""
    layout, _, stored = inspect(location, storage_options, table=table)
    present = [tuple(p) for p in partitions if tuple(p) in set(stored)]
    if not present:
        return []
    deltalake = require("deltalake", extra="lake")
    commit = deltalake.CommitProperties(
        custom_metadata={METADATA_KEY: layout.to_json(with_schema=True)}
    )
    try:
        table.delete(_partition_predicate(layout, present), commit_properties=commit)
    except Exception as exc:
        raise DatasetError(
            f"could not delete partitions of the Delta table at {location}: "
            f"{_fault(exc, storage_options)}; nothing was committed"
        ) from None
    return present
