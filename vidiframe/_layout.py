"""A dataset's layout (columns, partition columns, dtypes) and how a frame is fitted to it.

Both formats record the layout of the whole dataset with the data it
describes: Hive Parquet in each file's footer (key ``vidiframe.dataset``), Delta
in the metadata of each commit vidiframe makes. This module owns that record,
splitting a frame into partitions, and the schema policy (``schema_mode``):

- ``"evolve"`` (default): columns of the frame the dataset lacks are added to
  it (every Polars column is nullable; older partitions read back with nulls);
- ``"error"``: such columns are a :class:`~vidiframe.SchemaConflictError`;
- ``"drop"``: such columns are left out, and a
  :class:`~vidiframe.DroppedColumnsWarning` names them.

Whatever the mode, a column whose dtype changed, a dataset column the frame
lacks, or other partition columns are a :class:`~vidiframe.SchemaConflictError`,
raised before anything is written.

A column of dtype ``Null`` (null in every row, e.g. a field the API started
sending but left empty so far) has no type yet, whatever the mode: stored as
``Null``, it takes the type of the first frame that has one (older partitions
read back with nulls of that type); a frame's ``Null`` column is cast to the
stored type (all its values are null: nothing is lost). Two ``Null`` stay
``Null``. The same holds for ``Null`` nested in a column's type (an
always-empty ``List(Null)``, a ``Struct`` field null in every row; see
:mod:`vidiframe._null_types`).
"""

from __future__ import annotations

import base64
import io
import json
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote

import polars as pl

from vidiframe._errors import (
    DatasetError,
    DroppedColumnsWarning,
    InvalidRequestError,
    SchemaConflictError,
)
from vidiframe._hints import did_you_mean
from vidiframe._null_types import fill_nulls
from vidiframe._partitioning import PARTITION_DTYPES, check_partition_column, partition_dir

__all__ = [
    "METADATA_KEY",
    "Layout",
    "SchemaMode",
    "fit_frame",
    "parse_partition_dir",
    "partition_frame",
    "partition_values",
    "split",
]

SchemaMode = Literal["evolve", "error", "drop"]
SCHEMA_MODES: tuple[SchemaMode, ...] = ("evolve", "error", "drop")

#: The footer (Hive) or commit metadata (Delta) key holding the dataset layout.
METADATA_KEY = "vidiframe.dataset"
_FORMAT = 1


@dataclass(frozen=True)
class Layout:
    """What vidiframe records about a whole dataset.

    ``schema`` (every column with its Polars dtype, partition columns included)
    is recorded by Delta commits only: a Parquet footer holds the data columns'
    Polars schema itself.
    """

    columns: tuple[str, ...]
    partition_by: tuple[str, ...]
    partition_dtypes: Mapping[str, pl.DataType]
    schema: pl.Schema | None = None

    @property
    def data_columns(self) -> tuple[str, ...]:
        """The columns stored inside the files, in order."""
        return tuple(c for c in self.columns if c not in self.partition_by)

    def to_json(self, *, with_schema: bool = False) -> str:
        raw: dict[str, object] = {
            "format": _FORMAT,
            "columns": list(self.columns),
            "partition_by": list(self.partition_by),
            "partition_dtypes": {k: str(v) for k, v in self.partition_dtypes.items()},
        }
        if with_schema and self.schema is not None:
            # An empty frame in Arrow IPC: Polars' own encoding of every dtype
            # (Enum categories, Time, nested types) without a parser of ours.
            buffer = io.BytesIO()
            pl.DataFrame(schema=self.schema).write_ipc(buffer, compression="uncompressed")
            raw["polars_schema"] = base64.b64encode(buffer.getvalue()).decode()
        # Sorted keys and no whitespace: the same layout is the same footer bytes.
        return json.dumps(raw, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str, *, where: str) -> Layout:
        try:
            raw = json.loads(text)
            if raw["format"] != _FORMAT:
                raise DatasetError(
                    f"{where} was written by a newer vidiframe (dataset format {raw['format']})"
                )
            schema = None
            if "polars_schema" in raw:
                data = base64.b64decode(raw["polars_schema"])
                schema = pl.read_ipc(io.BytesIO(data)).schema
            return cls(
                columns=tuple(raw["columns"]),
                partition_by=tuple(raw["partition_by"]),
                partition_dtypes={
                    k: PARTITION_DTYPES[v] for k, v in raw["partition_dtypes"].items()
                },
                schema=schema,
            )
        except (ValueError, KeyError, TypeError, OSError) as exc:
            raise DatasetError(f"{where} has an unreadable {METADATA_KEY!r} entry") from exc


def partition_frame(
    df: pl.DataFrame, partition_by: str | pl.Expr | Sequence[str | pl.Expr]
) -> tuple[pl.DataFrame, Layout]:
    """Add the partition columns computed by expressions; check every partition column."""
    if not isinstance(df, pl.DataFrame):
        hint = "; collect the LazyFrame first" if isinstance(df, pl.LazyFrame) else ""
        raise InvalidRequestError(
            f"the dataset writers expect a polars.DataFrame, not {type(df).__name__}{hint}"
        )
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
                raise DatasetError(
                    f"partition column {item!r} is not a column of the frame"
                    f"{did_you_mean(item, df.columns)}"
                )
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
    layout = Layout(
        columns=tuple(frame.columns),
        partition_by=tuple(keys),
        partition_dtypes={k: frame.schema[k] for k in keys},
        schema=frame.schema,
    )
    return frame, layout


@dataclass(frozen=True)
class Part:
    """The rows of one partition, without the partition columns."""

    values: tuple[object, ...]
    rel: str
    frame: pl.DataFrame


def split(frame: pl.DataFrame, layout: Layout) -> list[Part]:
    """The frame's partitions, sorted by value."""
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
        out.append(Part(values, rel, groups[values].select(layout.data_columns)))
    return out


def partition_values(frame: pl.DataFrame, layout: Layout) -> list[tuple[object, ...]]:
    """The frame's distinct partitions, sorted; a value no directory can be named by is refused.

    The values alone, for what needs no rows (checks, Delta's predicates): no
    slice of the frame is made.

    >>> import datetime as dt
    >>> df = pl.DataFrame({"d": [dt.date(2025, 3, 2), dt.date(2025, 3, 1)] * 2, "n": [1, 2, 3, 4]})
    >>> partition_values(*partition_frame(df, "d"))
    [(datetime.date(2025, 3, 1),), (datetime.date(2025, 3, 2),)]
    """
    keys = list(layout.partition_by)
    if len(keys) == 1:
        values: list[tuple[object, ...]] = sorted(
            (v,) for v in frame.get_column(keys[0]).unique().to_list()
        )
    else:
        # Runs first: exports come in time order, so a million rows are a few
        # runs, and the unique of rows of several columns is ten times slower.
        runs = frame.select(pl.struct(keys).rle().struct.field("value")).unnest("value")
        values = sorted(runs.unique().iter_rows())
    for row in values:
        try:
            partition_dir(layout.partition_by, row)
        except ValueError as exc:
            raise DatasetError(str(exc)) from None
    return values


def parse_partition_dir(
    rel: str, partition_by: Sequence[str], dtypes: Mapping[str, pl.DataType]
) -> tuple[object, ...] | None:
    """The values of a partition directory ``a=1/b=x``; ``None`` if it is not one of ours.

    >>> import datetime as dt
    >>> parse_partition_dir("d=2025-03-01/z=a%2Fb", ["d", "z"], {"d": pl.Date(), "z": pl.String()})
    (datetime.date(2025, 3, 1), 'a/b')
    """
    names = rel.strip("/").split("/")
    if len(names) != len(partition_by):
        return None
    texts: list[str] = []
    for name, column in zip(names, partition_by, strict=True):
        key, sep, text = name.partition("=")
        if not sep or key != column:
            return None
        texts.append(unquote(text))
    try:
        row = pl.DataFrame(
            {c: [t] for c, t in zip(partition_by, texts, strict=True)},
            schema=dict.fromkeys(partition_by, pl.String),
        ).select(
            pl.col(c).cast(dtypes[c])
            if dtypes[c] != pl.Date()
            else pl.col(c).str.to_date("%Y-%m-%d")
            for c in partition_by
        )
    except pl.exceptions.PolarsError:
        return None
    return row.row(0)


def fit_frame(
    frame: pl.DataFrame,
    new: Layout,
    have: Layout | None,
    have_schema: pl.Schema | None,
    *,
    schema_mode: SchemaMode,
    where: str,
) -> tuple[pl.DataFrame, Layout]:
    """Fit ``frame`` (of layout ``new``) to the dataset's layout ``have``; return both, fitted.

    ``have_schema`` is the dataset's full schema (partition columns included).
    The returned layout is ``have``, extended by the new columns under
    ``"evolve"``; the returned frame has exactly its columns, in its order.
    ``Null`` columns take the other side's type (see the module docstring).

    Examples
    --------
    >>> import datetime as dt
    >>> stored = pl.DataFrame({"d": [dt.date(2025, 3, 1)], "a": [None], "b": ["x"]})
    >>> frame = pl.DataFrame({"d": [dt.date(2025, 3, 2)], "a": [1.5], "b": [None]})
    >>> _, have = partition_frame(stored, "d")
    >>> fitted, layout = fit_frame(*partition_frame(frame, "d"), have, stored.schema,
    ...                            schema_mode="error", where="lake")
    >>> dict(layout.schema)
    {'d': Date, 'a': Float64, 'b': String}
    >>> fitted.rows()
    [(datetime.date(2025, 3, 2), 1.5, None)]
    """
    if schema_mode not in SCHEMA_MODES:
        raise DatasetError(f"schema_mode must be one of {SCHEMA_MODES}, not {schema_mode!r}")
    if have is None or have_schema is None:
        return frame, new
    problems: list[str] = []
    first: str | None = None
    if new.partition_by != have.partition_by:
        problems.append(
            f"partition_by: frame {list(new.partition_by)}, dataset {list(have.partition_by)}"
        )
    frame_schema = frame.schema
    added = [name for name in frame.columns if name not in have_schema]
    # A Null column is a column whose type is not known yet: every value is null,
    # so it takes the stored type (nothing to lose), and a stored Null column
    # takes the frame's type (older partitions read back with nulls of it).
    # Neither is a change of a known type: allowed whatever the schema_mode. The
    # same holds inside nested types (an always-empty List(Null), a Struct field
    # null in every row).
    fitted: dict[str, pl.DataType] = {}
    for name in frame.columns:
        if name not in have_schema:
            continue
        merged = fill_nulls(frame_schema[name], have_schema[name])
        if merged is None:
            problems.append(
                f"{name}: frame has {frame_schema[name]}, dataset has {have_schema[name]}"
            )
            first = first or name
        else:
            fitted[name] = merged
    untyped = [name for name, dtype in fitted.items() if dtype != frame_schema[name]]
    for name, dtype in have_schema.items():
        if name not in frame_schema:
            problems.append(f"only in the dataset: {name} ({dtype}); a column cannot be removed")
            first = first or name
    if added and schema_mode == "error":
        for name in added:
            problems.append(f"only in the frame: {name} ({frame_schema[name]})")
        first = first or added[0]
    if problems:
        details = "\n  ".join(problems)
        raise SchemaConflictError(
            f"the frame does not fit the dataset at {where}; nothing was written:\n  {details}",
            column=first,
        )
    columns = have.columns
    if added and schema_mode == "drop":
        shown = ", ".join(f"{n} ({frame_schema[n]})" for n in added)
        warnings.warn(
            DroppedColumnsWarning(
                f"left out of the dataset at {where} (schema_mode='drop'): {shown}",
                columns=tuple(added),
            ),
            stacklevel=4,
        )
    elif added:
        columns = (*have.columns, *added)
    if untyped:
        # Only nulls change type: a cast that cannot lose a value.
        frame = frame.with_columns(pl.col(n).cast(fitted[n]) for n in untyped)
        frame_schema = frame.schema
    schema = pl.Schema({c: frame_schema[c] for c in columns})
    layout = Layout(columns, have.partition_by, have.partition_dtypes, schema)
    return frame.select(columns), layout
