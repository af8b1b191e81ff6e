"""Hive partition layout: partition columns, their directory names, calendar granularity.

A dataset written by :func:`vidiframe.write_partitions` stores each partition in
directories named ``<column>=<value>``, one level per partition column, the way
Hive, Spark, PyArrow, DuckDB and Polars all read them. This module owns the
naming: which dtypes may be partition columns, how a value becomes a directory
name, and the :func:`by_period` helper that partitions aggregated exports by
month or year instead of by day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Literal
from urllib.parse import quote

import polars as pl

from vidiframe._errors import InvalidRequestError
from vidiframe._hints import choices_hint

__all__ = [
    "PARTITION_DTYPES",
    "Period",
    "by_period",
    "partition_dir",
    "period_for_resolution",
]

Period = Literal["day", "month", "year"]
_PERIODS: tuple[Period, ...] = ("day", "month", "year")

#: The dtypes a partition column may have, by name. Other dtypes have no directory
#: form that every engine reads back to the same value (a Datetime has ``:`` and
#: a zone question, a Float rounds), so they are refused.
PARTITION_DTYPES: Mapping[str, pl.DataType] = MappingProxyType(
    {
        str(dtype): dtype
        for dtype in (
            pl.Date(),
            pl.String(),
            pl.Int8(),
            pl.Int16(),
            pl.Int32(),
            pl.Int64(),
            pl.UInt8(),
            pl.UInt16(),
            pl.UInt32(),
            pl.UInt64(),
        )
    }
)

# The longest file name POSIX file systems accept, in bytes.
_MAX_NAME_BYTES = 255

_RESOLUTION_PERIODS: Mapping[str, Period] = MappingProxyType(
    {
        "finest": "day",
        "5m": "day",
        "10m": "day",
        "15m": "day",
        "30m": "month",
        "1h": "month",
        "1d": "year",
        "7d": "year",
        "30d": "year",
        "1M": "year",
    }
)


def by_period(every: Period = "day", *, column: str = "period_start_date") -> pl.Expr:
    """The partition column of a calendar period, for ``write_partitions(partition_by=...)``.

    Daily partitions suit raw (``finest``) exports; an hourly or daily aggregated
    export has so few rows per day that daily files would be tiny, so partition
    it by month or year instead.

    Parameters
    ----------
    every
        ``"day"`` partitions by ``column`` itself; ``"month"`` adds a
        ``period_start_month`` column (``Date``, the first day of the month);
        ``"year"`` adds ``period_start_year`` (``Int32``).
    column
        The ``Date`` column to derive the period from. The new column is named
        after it, ``_date`` replaced by ``_month`` / ``_year``.

    Returns
    -------
    polars.Expr
        ``pl.col(column)`` for ``"day"``, else the derived column. The derived
        column is stored only in the directory names and comes back as a column
        of :func:`vidiframe.scan_partitions`, filterable without reading other
        partitions.

    Examples
    --------
    >>> import datetime as dt
    >>> import polars as pl
    >>> df = pl.DataFrame({"period_start_date": [dt.date(2025, 3, 14)]})
    >>> df.select(by_period("month"), by_period("year")).row(0)
    (datetime.date(2025, 3, 1), 2025)
    """
    if every not in _PERIODS:
        raise InvalidRequestError(
            f"every must be a period, not {every!r}: {choices_hint(every, _PERIODS)}"
        )
    if not isinstance(column, str) or not column:
        raise InvalidRequestError(f"column must be a column name, got {column!r}")
    if every == "day":
        return pl.col(column)
    name = f"{column.removesuffix('_date')}_{every}"
    if every == "month":
        return pl.col(column).dt.truncate("1mo").alias(name)
    return pl.col(column).dt.year().alias(name)


def period_for_resolution(time_resolution: str) -> Period:
    """A partition period that keeps partitions between thousands and millions of rows.

    Parameters
    ----------
    time_resolution
        One of :data:`vidiframe.TIME_RESOLUTIONS`.

    Returns
    -------
    str
        ``"day"`` for raw and sub-hourly exports, ``"month"`` for half-hourly and
        hourly ones, ``"year"`` for daily and coarser ones.

    Examples
    --------
    >>> period_for_resolution("finest"), period_for_resolution("1h"), period_for_resolution("1M")
    ('day', 'month', 'year')
    """
    period = _RESOLUTION_PERIODS.get(time_resolution) if isinstance(time_resolution, str) else None
    if period is None:
        raise InvalidRequestError(
            f"unknown time_resolution {time_resolution!r}: "
            f"{choices_hint(time_resolution, _RESOLUTION_PERIODS)}"
        )
    return period


def check_partition_column(name: str, dtype: pl.DataType) -> str | None:
    """Why ``name`` cannot be a partition column, or ``None`` when it can."""
    if not name or name[0] in "._" or any(c in name for c in "/=\\\0"):
        # A leading '.' or '_' makes Spark and PyArrow skip the whole directory.
        return f"partition column {name!r}: a name cannot start with '.' or '_' nor hold / = \\"
    if str(dtype) not in PARTITION_DTYPES:
        allowed = ", ".join(PARTITION_DTYPES)
        return f"partition column {name!r} has dtype {dtype}; allowed dtypes: {allowed}"
    return None


def format_value(value: object) -> str:
    """The directory form of one partition value (percent-encoded text, ISO dates)."""
    if isinstance(value, str):
        # Every engine percent-decodes Hive values; encoding everything but
        # [A-Za-z0-9_.~-] keeps '/', '=', '%' and spaces from changing the layout.
        return quote(value, safe="")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def partition_dir(columns: Sequence[str], values: Sequence[object]) -> str:
    """The relative directory of one partition, ``a=1/b=x``.

    Raises
    ------
    ValueError
        For a null or empty value, or a directory name longer than 255 bytes.

    Examples
    --------
    >>> import datetime as dt
    >>> partition_dir(["location_id", "period_start_date"], [4636, dt.date(2025, 3, 1)])
    'location_id=4636/period_start_date=2025-03-01'
    >>> partition_dir(["zone_name"], ["Entrance / Hall"])
    'zone_name=Entrance%20%2F%20Hall'
    """
    parts = []
    for column, value in zip(columns, values, strict=True):
        if value is None or value == "":
            # Engines disagree on empty and null directory values (null, "",
            # __HIVE_DEFAULT_PARTITION__), so they would not round trip.
            raise ValueError(f"partition column {column!r} holds a null or empty value")
        part = f"{column}={format_value(value)}"
        if len(part.encode()) > _MAX_NAME_BYTES:
            raise ValueError(
                f"partition directory name for {column!r} is longer than {_MAX_NAME_BYTES} bytes"
            )
        parts.append(part)
    return "/".join(parts)
