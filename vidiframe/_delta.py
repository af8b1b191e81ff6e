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
panics on Polars ``Enum`` columns. Such columns are stored in Delta's types
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
(both replaced or deleted rows of the same partitions). vidiframe's lock on
top (:mod:`vidiframe._lease`) keeps two vidiframe writers out of each other's
way before they start.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import polars as pl

from vidiframe._errors import DatasetError
from vidiframe._layout import METADATA_KEY, Layout, Part, SchemaMode, fit_frame, split
from vidiframe._optional import require
from vidiframe._storage import Location, ObjectStorage, delta_options, scrub

__all__ = ["delete", "inspect", "is_delta", "scan", "write"]

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


def _to_storage(frame: pl.DataFrame) -> pl.DataFrame:
    exprs = []
    for name, dtype in frame.schema.items():
        target = _storage_dtype(dtype, top=True)
        if target == dtype:
            continue
        if isinstance(dtype, pl.Time):
            exprs.append(pl.col(name).dt.to_string(_TIME_FORMAT))
        elif isinstance(dtype, pl.Datetime) and dtype.time_unit == "ns":
            exprs.append(pl.col(name).dt.epoch("ns"))
        else:
            exprs.append(pl.col(name).cast(target))
    return frame.with_columns(exprs) if exprs else frame


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


def _table(location: Location, storage_options: Mapping[str, str]) -> Any:
    deltalake = require("deltalake", extra="lake")
    try:
        return deltalake.DeltaTable(_uri(location), storage_options=_options(storage_options))
    except Exception as exc:
        raise DatasetError(
            f"could not open the Delta table at {location}: "
            f"{_fault(exc, storage_options)}; check the URL and credentials"
        ) from None


def _layout(table: Any, location: Location) -> Layout:
    """The layout recorded by the last commit vidiframe made; else the table's own schema."""
    for commit in table.history(_HISTORY_DEPTH):
        text = commit.get(METADATA_KEY)
        if isinstance(text, str):
            return Layout.from_json(text, where=f"{location} (commit {commit.get('version')})")
    schema = pl.Schema(pl.from_arrow(table.schema().to_arrow().empty_table()).schema)  # type: ignore[union-attr]
    partition_by = tuple(table.metadata().partition_columns)
    return Layout(
        tuple(schema),
        partition_by,
        {c: schema[c] for c in partition_by},
        schema,
    )


def _stored_schema(table: Any) -> pl.Schema:
    arrow = table.schema().to_arrow()
    import pyarrow as pa

    return pl.Schema(pl.from_arrow(pa.schema(arrow).empty_table()).schema)  # type: ignore[union-attr]


def inspect(
    location: Location, storage_options: Mapping[str, str]
) -> tuple[Layout, pl.Schema, list[tuple[object, ...]]]:
    """The table's layout, its scan schema, and its partitions' values (sorted)."""
    table = _table(location, storage_options)
    layout = _layout(table, location)
    values = set()
    for raw in table.partitions():
        row = pl.DataFrame(
            {c: [raw.get(c)] for c in layout.partition_by},
            schema=dict.fromkeys(layout.partition_by, pl.String),
        ).select(
            pl.col(c).str.to_date("%Y-%m-%d")
            if layout.partition_dtypes[c] == pl.Date()
            else pl.col(c).cast(layout.partition_dtypes[c])
            for c in layout.partition_by
        )
        values.add(row.row(0))
    schema = layout.schema if layout.schema is not None else _stored_schema(table)
    return layout, schema, sorted(values)


def scan(location: Location, storage_options: Mapping[str, str]) -> pl.LazyFrame:
    """Scan the table, its columns restored to the dtypes vidiframe wrote."""
    table = _table(location, storage_options)
    layout = _layout(table, location)
    lf = pl.scan_delta(table)
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
    mode: str,
    schema_mode: SchemaMode,
    partitions: Collection[tuple[object, ...]] | None = None,
) -> list[Part]:
    """One commit: replace the frame's partitions, or all of ``partitions`` when given.

    With ``partitions``, those the frame has no rows for are emptied by the same
    commit (the overwrite's predicate covers them).
    """
    deltalake = require("deltalake", extra="lake")
    exists = is_delta(location, storage_options)
    have_parts: set[tuple[object, ...]] = set()
    if exists:
        have, have_schema, stored = inspect(location, storage_options)
        frame, layout = fit_frame(
            frame, layout, have, have_schema, schema_mode=schema_mode, where=location.url
        )
        have_parts = set(stored)
        evolving = tuple(have_schema) != layout.columns
    else:
        evolving = False
    parts = split(frame, layout)
    if partitions is None:
        if mode == "skip":
            parts = [p for p in parts if p.values not in have_parts]
            keys = list(layout.partition_by)
            wanted = pl.DataFrame(
                [p.values for p in parts],
                schema={k: frame.schema[k] for k in keys},
                orient="row",
            )
            frame = frame.join(wanted, on=keys, how="semi", maintain_order="left")
        elif mode == "error":
            clash = sorted(p.rel for p in parts if p.values in have_parts)
            if clash:
                shown = ", ".join(clash[:5]) + (", ..." if len(clash) > 5 else "")
                raise DatasetError(
                    f"{len(clash)} partition(s) already exist in {location}: {shown}"
                )
        if not parts:
            return []
        predicate = _partition_predicate(layout, [p.values for p in parts]) if exists else None
    else:
        if not partitions or (not exists and frame.height == 0):
            return []
        predicate = _partition_predicate(layout, partitions) if exists and partitions else None
    data = _to_storage(frame.select(layout.columns)).to_arrow()
    commit = deltalake.CommitProperties(
        custom_metadata={METADATA_KEY: layout.to_json(with_schema=True)}
    )
    try:
        deltalake.write_deltalake(
            _uri(location),
            data,
            partition_by=list(layout.partition_by),
            mode="overwrite" if exists else "append",
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
    return parts


def delete(
    location: Location,
    storage_options: Mapping[str, str],
    partitions: Sequence[tuple[object, ...]],
) -> list[tuple[object, ...]]:
    """One commit deleting the given partitions; return those that were there."""
    if not is_delta(location, storage_options):
        return []
    layout, _, stored = inspect(location, storage_options)
    present = [tuple(p) for p in partitions if tuple(p) in set(stored)]
    if not present:
        return []
    deltalake = require("deltalake", extra="lake")
    table = _table(location, storage_options)
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
