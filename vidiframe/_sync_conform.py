"""A response conformed to its dataset's columns, as sync writes it.

Both kinds of sync writes take it: an export's batches
(:mod:`vidiframe._sync_run`) and a dimension's daily snapshot
(:mod:`vidiframe._sync_snapshots`). A field the API stops sending stays a column
of the dataset, null from then on; a field it starts sending follows the
configuration's ``schema_mode``.
"""

from __future__ import annotations

import logging
import os
from typing import Protocol

import polars as pl

from vidiframe._errors import SchemaConflictError
from vidiframe._null_types import fill_nulls
from vidiframe._sync_config import SchemaMode

__all__ = ["Target", "conform"]

logger = logging.getLogger("vidiframe")


class Target(Protocol):
    """What :func:`conform` needs of a dataset sync writes (an export or a dimension)."""

    @property
    def name(self) -> str: ...

    @property
    def path(self) -> str | os.PathLike[str]: ...

    @property
    def schema_mode(self) -> SchemaMode: ...


def conform(
    df: pl.DataFrame, schema: pl.Schema, export: Target
) -> tuple[pl.DataFrame, tuple[str, ...], tuple[str, ...]]:
    """``df`` with the dataset's columns; the new fields added, and those dropped.

    Columns of the dataset the response lacks are null (the API did not send
    them); new fields follow ``export.schema_mode``. A new field that is null in
    every row (dtype ``Null``, no type known yet) is a new field like any other:
    under ``"evolve"`` it is added, and the dataset stores it as ``Null``. A
    column the dataset stores as ``Null`` (or with ``Null`` parts, as an
    always-empty ``List(Null)``) keeps the response's type: the dataset layer
    gives the column that type, whatever the ``schema_mode`` (see
    :func:`vidiframe.write_partitions`).

    Raises
    ------
    SchemaConflictError
        New fields with ``schema_mode = "error"``, or a value that does not fit
        its column's dtype.

    Examples
    --------
    >>> from vidiframe._sync_config import SyncConfig
    >>> config = SyncConfig.from_dict({"root": "lake", "first_day": "2025-01-01",
    ...     "export": [{"data_type": "ots", "time_resolution": "1h", "locations": 1}]})
    >>> df = pl.DataFrame({"a": [1], "reach": [0.5], "unset": [None]})
    >>> frame, added, dropped = conform(df, pl.Schema({"a": pl.Int64, "b": pl.String}),
    ...                                 config.exports[0])
    >>> frame.columns, added, dropped
    (['a', 'b', 'reach', 'unset'], ('reach', 'unset'), ())
    """
    new = tuple(c for c in df.columns if c not in schema)
    mode = export.schema_mode
    if new and mode == "error":
        # No value lost without the user deciding it.
        raise SchemaConflictError(
            f"sync {export.name}: the API sends new field(s) {', '.join(new)} that the "
            f"dataset at {export.path} has no column for; nothing of this batch was written. "
            'Set schema_mode = "evolve" (the default) to add them as columns, or "drop" to '
            "write without them",
            column=new[0],
        )
    dropped: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    if new and mode == "drop":
        dropped = new
        logger.warning(
            "sync %s: the API sends new field(s) %s that the dataset at %s has no column "
            'for; they are not written (schema_mode = "drop")',
            export.name,
            ", ".join(new),
            export.path,
        )
    elif new:
        # A field null in every row is kept too: the API sent it, and the dataset
        # layer stores it untyped until a batch with values gives it its type.
        added = new
    columns = []
    for name, dtype in schema.items():
        if name not in df.columns:
            columns.append(pl.lit(None, dtype=dtype).alias(name))
        elif df.schema[name] != dtype:
            # Parts of no type yet, on either side, take the other side's type (the
            # dataset layer stores a column's newly known type); any other
            # difference is cast to the column's dtype, strictly.
            typed = fill_nulls(df.schema[name], dtype)
            columns.append(pl.col(name).cast(typed if typed is not None else dtype))
        else:
            columns.append(pl.col(name))
    columns.extend(pl.col(name) for name in added)
    try:
        return df.select(columns), added, dropped
    except pl.exceptions.PolarsError as error:
        raise SchemaConflictError(
            f"sync {export.name}: a field of the response does not fit its column in the "
            f"dataset at {export.path}: {error}"
        ) from None
