"""The sync planner: configuration + what a dataset holds + today -> what to fetch.

Pure: :func:`plan_export` reads no file and sends no request. What it knows of
a dataset is a :class:`Holdings` (built by the runner from the dataset layer's
inventory), so every rule of the module :mod:`vidiframe._sync` is tested here
without I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, cast

import polars as pl

from vidiframe._chunking import ChunkPlanner
from vidiframe._errors import InvalidRequestError, SchemaConflictError
from vidiframe._partitioning import Period, period_for_resolution
from vidiframe._sync_config import ExportConfig, Format

__all__ = [
    "DATE",
    "PERIOD_COLUMNS",
    "Batch",
    "ExportPlan",
    "Holdings",
    "Unit",
    "partition_column",
    "partition_value",
    "plan_export",
    "plural",
    "target_schema",
    "units_between",
]

DAY = dt.timedelta(days=1)
#: The column whose values are the days a dataset holds.
DATE = "period_start_date"
#: The partition column each period writes (``by_period``'s names).
PERIOD_COLUMNS: Mapping[str, Period] = {
    "period_start_date": "day",
    "period_start_month": "month",
    "period_start_year": "year",
}


@dataclass(frozen=True)
class Holdings:
    """What the planner knows of an export's dataset.

    Attributes
    ----------
    period
        How it is partitioned; ``None`` when there is no dataset yet.
    days
        The days (``period_start_date`` values) that have rows.
    schema
        Its columns, partition column excluded; ``None`` when there is no dataset.
    format
        ``"parquet"`` or ``"delta"``; ``None`` when there is no dataset.
    """

    period: Period | None = None
    days: frozenset[dt.date] = frozenset()
    schema: pl.Schema | None = None
    format: Format | None = None


@dataclass(frozen=True, order=True)
class Unit:
    """One period of bookkeeping: a day, or a calendar month for ``1M``."""

    start: dt.date  # the period_start_date of its rows
    end: dt.date  # its last day, inclusive


@dataclass(frozen=True)
class Batch:
    """Contiguous days fetched with one read and written at once.

    Attributes
    ----------
    start, end
        The first and last day, inclusive.
    units
        How many days (months for ``1M`` exports) it holds.
    refetch
        Trailing days fetched again with ``force_rebuild``; otherwise missing days.
    """

    start: dt.date
    end: dt.date
    units: int
    refetch: bool = False

    def describe(self) -> str:
        """``2025-01-01..2025-01-31``.

        Examples
        --------
        >>> Batch(dt.date(2025, 1, 1), dt.date(2025, 1, 31), 31).describe()
        '2025-01-01..2025-01-31'
        """
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


@dataclass(frozen=True)
class ExportPlan:
    """What a sync run does for one export, worked out from its dataset alone.

    Attributes
    ----------
    export
        The export's configuration.
    partition
        How the dataset is partitioned: ``"day"``, ``"month"`` or ``"year"``.
    format
        The dataset's format: ``"parquet"`` or ``"delta"``.
    unit
        ``"day"``, or ``"month"`` for ``1M`` exports.
    units
        Units from ``first_day`` to the last one that has ended before ``today``.
    present
        Of those, units with rows in the dataset.
    empty
        Units without rows that count as done (trailing ones aside): between the
        first and the last present unit, so fetched before and found empty.
    batches
        What is fetched, in order: missing units, then the trailing ones.
    schema
        The dataset's columns before the run (``None``: no dataset yet).
    """

    export: ExportConfig
    partition: Period
    format: Format
    unit: Literal["day", "month"]
    units: int
    present: int
    empty: int
    batches: tuple[Batch, ...]
    schema: pl.Schema | None = None

    @property
    def name(self) -> str:
        """The export's name."""
        return self.export.name

    @property
    def fetched(self) -> int:
        """Units fetched because they are missing."""
        return sum(b.units for b in self.batches if not b.refetch)

    @property
    def refetched(self) -> int:
        """Units fetched again because they are among the trailing days."""
        return sum(b.units for b in self.batches if b.refetch)

    @property
    def skipped(self) -> int:
        """Units already done and not fetched."""
        return self.units - self.fetched - self.refetched

    def count(self, units: int) -> str:
        """``"3 days"``, ``"1 month"``."""
        return plural(units, self.unit)

    def describe(self) -> str:
        """One line saying what the run does, for dry runs and logs."""
        parts = [
            f"{self.name}: {self.count(self.units)} from {self.export.first_day}, "
            f"{self.present} with rows, {self.empty} empty; partition by {self.partition}"
        ]
        for batch in self.batches:
            verb = "refetch" if batch.refetch else "fetch"
            parts.append(f"  {verb:<7} {batch.describe()}  ({self.count(batch.units)})")
        if not self.batches:
            parts.append("  up to date: nothing to fetch")
        return "\n".join(parts)


def plural(count: int, noun: str) -> str:
    """``"1 day"``, ``"2 days"``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def units_between(resolution: str, first_day: dt.date, today: dt.date) -> list[Unit]:
    """The units from ``first_day`` that have ended before ``today``.

    Examples
    --------
    >>> [u.start.day for u in units_between("1h", dt.date(2025, 1, 30), dt.date(2025, 2, 2))]
    [30, 31, 1]
    >>> [(u.start.isoformat(), u.end.day)  # from February, the first whole month
    ...  for u in units_between("1M", dt.date(2025, 1, 2), dt.date(2025, 4, 1))]
    [('2025-02-01', 28), ('2025-03-01', 31)]
    """
    if resolution != "1M":
        count = (today - first_day).days
        return [Unit(first_day + i * DAY, first_day + i * DAY) for i in range(max(0, count))]
    # Periods that start on or after first_day, as the API's start bound counts them.
    month = first_day if first_day.day == 1 else _next_month(first_day)
    units = []
    while (end := _next_month(month) - DAY) < today:
        units.append(Unit(month, end))
        month = _next_month(month)
    return units


def _next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def partition_value(period: Period, day: dt.date) -> dt.date | int:
    """The value of the partition column that holds ``day``."""
    if period == "day":
        return day
    if period == "month":
        return day.replace(day=1)
    return day.year


def partition_column(period: Period) -> str:
    """The partition column of ``period``: ``period_start_date``, ``_month`` or ``_year``."""
    return next(column for column, p in PERIOD_COLUMNS.items() if p == period)


def target_schema(export: ExportConfig, existing: pl.Schema | None) -> pl.Schema:
    """The columns sync writes: the dataset's, after checking they fit the export.

    Raises
    ------
    SchemaConflictError
        The dataset lacks a column of the export, or holds it with another dtype:
        it was written for another export.
    """
    expected = export.query.spec.schema
    if existing is None:
        return expected
    problems = []
    for name, dtype in expected.items():
        if name not in existing:
            problems.append(f"missing column {name} ({dtype})")
        elif existing[name] != dtype:
            problems.append(f"{name}: dataset has {existing[name]}, the export gives {dtype}")
    if problems:
        details = "\n  ".join(problems)
        raise SchemaConflictError(
            f"the dataset at {export.path} does not hold {export.data_type}/"
            f"{export.time_resolution} exports (was it written for another export, or "
            f"with group_by_demographics set differently?); nothing was fetched:\n  {details}",
            column=problems[0].split()[0],
        )
    # Columns beyond the export's (fields the API added, evolved into the dataset)
    # stay: every write keeps them, null where the API no longer sends them.
    return existing


def plan_export(
    export: ExportConfig, holdings: Holdings, today: dt.date, planner: ChunkPlanner
) -> ExportPlan:
    """What to fetch for ``export``, given what its dataset holds, on ``today``.

    Raises
    ------
    InvalidRequestError
        The configured ``partition`` or ``format`` differs from the dataset's.
    SchemaConflictError
        The dataset holds another export.

    Examples
    --------
    Five days of a dataset that holds January 1 to 3 and 5 (4 came back empty):

    >>> from vidiframe._sync_config import SyncConfig
    >>> config = SyncConfig.from_dict({"root": "lake", "first_day": "2025-01-01",
    ...     "trailing_days": 1,
    ...     "export": [{"data_type": "viewers", "time_resolution": "finest", "locations": 1}]})
    >>> days = frozenset(dt.date(2025, 1, d) for d in (1, 2, 3, 5))
    >>> plan = plan_export(config.exports[0], Holdings("day", days), dt.date(2025, 1, 9),
    ...                    ChunkPlanner())
    >>> print(plan.describe())
    viewers_finest: 8 days from 2025-01-01, 4 with rows, 1 empty; partition by day
      fetch   2025-01-06..2025-01-07  (2 days)
      refetch 2025-01-08..2025-01-08  (1 day)
    """
    if holdings.period is not None and export.partition not in ("auto", holdings.period):
        raise InvalidRequestError(
            f"{export.name}: partition = {export.partition!r}, but the dataset at "
            f"{export.path} is partitioned by {holdings.period}; set partition = "
            f"{holdings.period!r} (or 'auto'), or give the export another name"
        )
    if holdings.format is not None and export.format != holdings.format:
        raise InvalidRequestError(
            f"{export.name}: format = {export.format!r}, but the dataset at {export.path} is "
            f"a {holdings.format} dataset; set format = {holdings.format!r}, or give the "
            "export another name"
        )
    target_schema(export, holdings.schema)
    if holdings.period is not None:
        period = holdings.period
    elif export.partition != "auto":
        period = cast(Period, export.partition)
    else:
        period = period_for_resolution(export.time_resolution)

    units = units_between(export.time_resolution, export.first_day, today)
    present = [u.start for u in units if u.start in holdings.days]
    low, high = (min(present), max(present)) if present else (None, None)
    window = today - export.trailing_days * DAY

    wanted: list[tuple[Unit, bool]] = []
    empty = 0
    for unit in units:
        if export.trailing_days and unit.end >= window:
            wanted.append((unit, True))
        elif unit.start in holdings.days:
            continue
        elif low is not None and high is not None and low < unit.start < high:
            # Below the latest day with rows, and each export's batches are written
            # in calendar order: fetched before, and it had no rows.
            empty += 1
        else:
            wanted.append((unit, False))

    per_unit = planner.estimate_rows(export.query_for(units[0].start, units[0].end)) if units else 1
    most = max(1, export.batch_rows // max(1, per_unit))
    batches: list[Batch] = []
    for unit, refetch in wanted:
        last = batches[-1] if batches else None
        if (
            last is not None
            and last.refetch == refetch
            and last.end + DAY == unit.start
            and last.units < most
        ):
            batches[-1] = Batch(last.start, unit.end, last.units + 1, refetch)
        else:
            batches.append(Batch(unit.start, unit.end, 1, refetch))
    return ExportPlan(
        export=export,
        partition=period,
        format=export.format,
        unit="month" if export.time_resolution == "1M" else "day",
        units=len(units),
        present=len(present),
        empty=empty,
        batches=tuple(batches),
        schema=holdings.schema,
    )
