"""``sync``: keep Parquet datasets of VidiCenter exports up to date, incrementally.

A small TOML file says what to keep (export types, sources, first day, where);
:func:`sync` compares it with what the datasets hold, fetches only what is
missing, re-fetches the most recent days (data uploaded late by the players),
and writes each batch as soon as it arrives.

The state is the dataset itself
-------------------------------
There is no side file that could disagree with the data. Each export's dataset
(``<root>/<name>``, written by :func:`~vidiframe.write_partitions`) is read for
the days it holds: a day is *present* when some row has that
``period_start_date``. Sync writes in calendar order, one batch after the other,
and :func:`~vidiframe.write_partitions` replaces partitions atomically, in
calendar order too; so at any moment, even after a crash or Ctrl-C, the days
below the latest present day have all been fetched. Hence the rule:

* a day is **done** when it has rows, or when it lies between the first and the
  last day with rows (a day that came back with no rows at all: a closed store's
  raw events, a location not yet installed);
* a day after the last day with rows, or before the first one, is **missing**
  and fetched; an interrupted run therefore resumes where it stopped, without
  redoing finished batches;
* the **trailing** days (the last ``trailing_days`` days before ``today``) are
  always fetched again, with ``force_rebuild`` so neither the server's nor the
  client's cache serves an old build.

Aggregated exports send placeholder rows for gaps, so their days always have
rows. Empty days cost little: at the edges they are fetched again by each run
(one contiguous range), in the middle never. To re-fetch older days (a partition
deleted by hand, uploads later than the trailing window), run once with a
larger ``trailing_days``.

Units, batches and partitions
-----------------------------
The unit of bookkeeping is the day (``finest`` to ``1d``), or the calendar month
for ``1M``; only units that have ended (before ``today``) are fetched, so no
partial period is ever stored. Missing units are grouped into contiguous
batches of at most ``batch_rows`` estimated rows (the client cuts each batch into
chunks under the server's limits); each batch is fetched with
:func:`~vidiframe.read_vidicenter` and written at once. Partitions follow
:func:`~vidiframe._partitioning.period_for_resolution` unless configured: a
month or year partition that already holds other days is merged (its other days
kept, the batch's days replaced) and rewritten whole, atomically.

``7d`` and ``30d`` exports cannot be synced: the documentation does not say where
their periods start, so sync could not tell which periods have ended.

Examples
--------
Keep hourly OTS of two locations, against the fake server, in process:

>>> import datetime as dt, tempfile
>>> import vidiframe as vf
>>> from vidiframe.testing import FakeVidiCenter, ManualClock
>>> clock = ManualClock()
>>> with tempfile.TemporaryDirectory() as lake, FakeVidiCenter(clock=clock, serve=False) as fake:
...     config = SyncConfig.from_dict({
...         "root": lake, "first_day": "2025-01-01", "trailing_days": 2,
...         "export": [{"data_type": "ots", "time_resolution": "1h",
...                     "locations": [4636, 4637]}],
...     })
...     client = vf.VidiCenterClient("demo", "demo-token", fake.url, transport=fake.transport(),
...                                  clock=clock, sleep=clock.sleep, cache_dir=None)
...     first = sync(config, client=client, today=dt.date(2025, 1, 11), progress=False)
...     again = sync(config, client=client, today=dt.date(2025, 1, 12), progress=False)
...     rows = vf.scan_partitions(config.exports[0].path).collect().height
>>> print(first.summary())  # doctest: +NORMALIZE_WHITESPACE
export  partition  skipped  fetched  refetched  rows  written  removed
ots_1h  month      0 days   8 days   2 days     480   2        0
>>> [(b.batch.describe(), b.batch.refetch) for b in again.results]
[('2025-01-10..2025-01-11', True)]
>>> rows  # 11 days x 24 hours x 2 locations
528
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import difflib
import logging
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import polars as pl

from vidiframe._chunking import ChunkPlanner
from vidiframe._datasets import scan_partitions, write_partitions
from vidiframe._errors import DatasetError, InvalidRequestError, SchemaConflictError
from vidiframe._partitioning import Period, by_period, partition_dir, period_for_resolution
from vidiframe._query import SOURCE_KINDS, ExportQuery, make_query

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows has no flock: one sync at a time is up to the user
    fcntl = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from vidiframe._client import VidiCenterClient

__all__ = [
    "DEFAULT_BATCH_ROWS",
    "DEFAULT_TRAILING_DAYS",
    "Batch",
    "BatchResult",
    "ExportConfig",
    "ExportPlan",
    "SyncConfig",
    "SyncReport",
    "plan_sync",
    "sync",
]

logger = logging.getLogger("vidiframe")

#: Days before ``today`` fetched again by every run (late uploads).
DEFAULT_TRAILING_DAYS = 3
#: Estimated rows fetched and written at once: bounds memory and the work an
#: interruption loses. The client still cuts each batch under the server's limits.
DEFAULT_BATCH_ROWS = 2_000_000

Partition = Literal["auto", "day", "month", "year"]

_DAY = dt.timedelta(days=1)
_DATE = "period_start_date"
# The partition column each period writes (by_period's names).
_PERIOD_COLUMNS: Mapping[str, Period] = {
    "period_start_date": "day",
    "period_start_month": "month",
    "period_start_year": "year",
}
_PARTITIONS = ("auto", "day", "month", "year")
# Directory names a dataset may be given: no separator, no '=' (it would read as
# a partition of the lake), no leading '.' or '_' (engines skip such directories).
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_TOP_KEYS = ("root", "first_day", "trailing_days", "partition", "batch_rows", "export")
_EXPORT_KEYS = (
    "name",
    "data_type",
    "time_resolution",
    "group_by_demographics",
    *SOURCE_KINDS,
    "content_ids",
    "extrapolation_amount",
    "average_content_duration",
    "first_day",
    "trailing_days",
    "partition",
    "batch_rows",
    "unknown_fields",
)
# Their periods' alignment is undocumented: sync could not tell which have ended.
_UNSYNCABLE = ("7d", "30d")


# -- configuration ------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportConfig:
    """One export kept up to date: what to fetch and where its dataset lives.

    Build it through :class:`SyncConfig`, which validates every key.

    Attributes
    ----------
    name
        The dataset's directory under the configuration's ``root``.
    path
        ``root / name``.
    query
        The export's validated query; its ``start``/``end`` are placeholders
        (sync sets them per batch).
    first_day
        The first day kept.
    trailing_days
        Days before ``today`` fetched again by every run.
    partition
        ``"auto"``, ``"day"``, ``"month"`` or ``"year"``. ``auto`` keeps an
        existing dataset's partitioning, else uses
        :func:`~vidiframe._partitioning.period_for_resolution`.
    batch_rows
        Estimated rows fetched and written at once.
    unknown_fields
        What to do when the API sends a field the dataset has no column for:
        ``"error"`` (default) stops before the batch is written, so no value is
        lost without the user deciding it; ``"drop"`` writes the batch without
        the field and reports it.
    """

    name: str
    path: Path
    query: ExportQuery
    first_day: dt.date
    trailing_days: int = DEFAULT_TRAILING_DAYS
    partition: Partition = "auto"
    batch_rows: int = DEFAULT_BATCH_ROWS
    unknown_fields: Literal["error", "drop"] = "error"

    @property
    def data_type(self) -> str:
        """The export's ``data_type``."""
        return self.query.data_type

    @property
    def time_resolution(self) -> str:
        """The export's ``time_resolution``."""
        return self.query.time_resolution

    def query_for(self, start: dt.date, end: dt.date) -> ExportQuery:
        """The query of the days ``start`` to ``end``, both whole and inclusive."""
        return self.query.replace(
            start=dt.datetime.combine(start, dt.time()),
            end=dt.datetime.combine(end, dt.time(23, 59, 59)),
        )


@dataclass(frozen=True)
class SyncConfig:
    """What :func:`sync` keeps up to date: a dataset root and its exports.

    Load it from TOML with :meth:`load`, or build it from a mapping with
    :meth:`from_dict`. The file::

        root = "lake"            # datasets go to lake/<name>; relative to this file
        first_day = 2025-01-01   # the first day kept (a TOML date or "YYYY-MM-DD")
        trailing_days = 3        # days before today fetched again by every run
        # partition = "auto"     # day | month | year; auto: by time_resolution
        # batch_rows = 2000000   # estimated rows fetched and written at once

        [[export]]
        data_type = "viewers"
        time_resolution = "1h"
        group_by_demographics = true
        locations = [4636, 4637]     # or sites, location_tags, site_tags
        # name = "viewers_1h_demographics"   # the default name

        [[export]]
        data_type = "ots"
        time_resolution = "15m"
        sites = [178]
        trailing_days = 7            # first_day, trailing_days, partition and
                                     # batch_rows may be set per export

    Every ``[[export]]`` also accepts ``content_ids``, ``extrapolation_amount``
    and ``average_content_duration``, as :func:`~vidiframe.read_vidicenter`.

    Attributes
    ----------
    root
        The directory holding the datasets.
    exports
        The exports, in the order they are synced.
    """

    root: Path
    exports: tuple[ExportConfig, ...]

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SyncConfig:
        """Read and validate a TOML configuration file.

        A relative ``root`` is relative to the file's directory, so a scheduled
        job finds the same datasets from any working directory.

        Raises
        ------
        InvalidRequestError
            The file is missing or not TOML, or a key is unknown or invalid (the
            message names it).
        """
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover - Python 3.10
            try:
                import tomli as tomllib
            except ModuleNotFoundError:
                raise InvalidRequestError(
                    "reading a sync configuration on Python 3.10 needs the tomli package "
                    "(pip install tomli)"
                ) from None
        file = Path(path).expanduser()
        try:
            text = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InvalidRequestError(f"sync configuration {file} does not exist") from None
        except (OSError, UnicodeDecodeError) as error:
            raise InvalidRequestError(f"cannot read sync configuration {file}: {error}") from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise InvalidRequestError(f"{file} is not valid TOML: {error}") from None
        return cls.from_dict(data, base_dir=file.resolve().parent, source=str(file))

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        base_dir: str | os.PathLike[str] | None = None,
        source: str = "sync configuration",
    ) -> SyncConfig:
        """Validate a configuration given as a mapping (the TOML file's content).

        Parameters
        ----------
        data
            The keys of the TOML file; dates may be ``datetime.date`` or ISO text.
        base_dir
            What a relative ``root`` is relative to (default: the working directory).
        source
            How error messages name the configuration.

        Raises
        ------
        InvalidRequestError
            For an unknown or invalid key, naming it.

        Examples
        --------
        >>> SyncConfig.from_dict({"root": "lake", "first_day": "2025-01-01",
        ...                       "export": [{"data_type": "ots", "time_resolution": "1h",
        ...                                   "locations": 4636, "trailing_day": 2}]})
        Traceback (most recent call last):
        ...
        vidiframe._errors.InvalidRequestError: ...: unknown key 'trailing_day' (did you mean 'trailing_days'?)
        """
        if not isinstance(data, Mapping):
            raise InvalidRequestError(
                f"{source}: expected a table of keys, got {type(data).__name__}"
            )
        _check_keys(data, _TOP_KEYS, source)
        if "root" not in data:
            raise InvalidRequestError(f"{source}: 'root' is required (the datasets' directory)")
        root_value = data["root"]
        if not isinstance(root_value, (str, os.PathLike)) or not str(root_value).strip():
            raise InvalidRequestError(
                f"{source}: 'root' must be a directory path, got {root_value!r}"
            )
        root = Path(root_value).expanduser()
        if not root.is_absolute():
            root = Path(base_dir if base_dir is not None else Path.cwd()) / root

        first_day = _date_or_none(data.get("first_day"), "first_day", source)
        trailing = _count(data.get("trailing_days", DEFAULT_TRAILING_DAYS), "trailing_days", source)
        partition = _partition(data.get("partition", "auto"), source)
        batch_rows = _count(data.get("batch_rows", DEFAULT_BATCH_ROWS), "batch_rows", source, 1)

        tables = data.get("export")
        if not isinstance(tables, Sequence) or isinstance(tables, str) or not tables:
            raise InvalidRequestError(
                f"{source}: at least one [[export]] table is required "
                "(data_type, time_resolution and sources)"
            )
        exports: list[ExportConfig] = []
        names: dict[str, int] = {}
        for number, table in enumerate(tables, start=1):
            where = f"{source}: [[export]] #{number}"
            export = _export(
                table,
                where,
                root=root,
                first_day=first_day,
                trailing_days=trailing,
                partition=partition,
                batch_rows=batch_rows,
            )
            if export.name in names:
                raise InvalidRequestError(
                    f"{where} ({export.name}): name {export.name!r} is already used by [[export]] "
                    f"#{names[export.name]}; give each export its own 'name'"
                )
            names[export.name] = number
            exports.append(export)
        return cls(root=root, exports=tuple(exports))

    def with_trailing_days(self, days: int) -> SyncConfig:
        """The same configuration with every export's ``trailing_days`` set to ``days``.

        Examples
        --------
        >>> config = SyncConfig.from_dict({"root": "lake", "first_day": "2025-01-01",
        ...     "export": [{"data_type": "ots", "time_resolution": "1h", "locations": 1}]})
        >>> config.with_trailing_days(10).exports[0].trailing_days
        10
        """
        days = _count(days, "trailing_days", "with_trailing_days")
        exports = tuple(dataclasses.replace(e, trailing_days=days) for e in self.exports)
        return dataclasses.replace(self, exports=exports)


def _check_keys(table: Mapping[str, Any], allowed: Sequence[str], where: str) -> None:
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = (
                f" (did you mean {close[0]!r}?)" if close else f"; known keys: {', '.join(allowed)}"
            )
            raise InvalidRequestError(f"{where}: unknown key {key!r}{hint}")


def _date_or_none(value: object, key: str, where: str) -> dt.date | None:
    if value is None:
        return None
    return _date(value, key, where)


def _date(value: object, key: str, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        raise InvalidRequestError(f"{where}: {key!r} must be a date, not a date and time ({value})")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InvalidRequestError(f"{where}: {key!r} must be a date (YYYY-MM-DD), got {value!r}")


def _count(value: object, key: str, where: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidRequestError(
            f"{where}: {key!r} must be a whole number >= {minimum}, got {value!r}"
        )
    return value


def _partition(value: object, where: str) -> Partition:
    if value not in _PARTITIONS:
        raise InvalidRequestError(
            f"{where}: 'partition' must be one of {', '.join(map(repr, _PARTITIONS))}, got {value!r}"
        )
    return cast(Partition, value)


def _export(
    table: object,
    where: str,
    *,
    root: Path,
    first_day: dt.date | None,
    trailing_days: int,
    partition: Partition,
    batch_rows: int,
) -> ExportConfig:
    if not isinstance(table, Mapping):
        raise InvalidRequestError(f"{where}: expected a table of keys, got {table!r}")
    _check_keys(table, _EXPORT_KEYS, where)
    for key in ("data_type", "time_resolution"):
        if key not in table:
            raise InvalidRequestError(f"{where}: {key!r} is required")
    data_type, resolution = table["data_type"], table["time_resolution"]
    demographics = table.get("group_by_demographics", False)
    if resolution in _UNSYNCABLE:
        raise InvalidRequestError(
            f"{where}: time_resolution {resolution!r} cannot be synced: the API does not "
            "document where these periods start, so sync cannot tell which have ended; "
            "sync '1d' and aggregate it (DataFrame.group_by_dynamic) instead"
        )
    name = table.get("name")
    if name is None and isinstance(data_type, str) and isinstance(resolution, str):
        name = f"{data_type}_{resolution}" + ("_demographics" if demographics is True else "")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidRequestError(
            f"{where}: 'name' must be a directory name of letters, digits, '_', '.' and '-' "
            f"not starting with '.', '_' or '-', got {name!r}"
        )
    where = f"{where} ({name})"
    day = _date_or_none(table.get("first_day"), "first_day", where) or first_day
    if day is None:
        raise InvalidRequestError(
            f"{where}: 'first_day' is required, at the top level or in each [[export]]"
        )
    try:
        # Validated with the API's own rules now, so a bad export fails before any
        # other export is fetched.
        query = make_query(
            data_type=data_type,
            time_resolution=resolution,
            start=day,
            end=day,
            group_by_demographics=demographics,
            **{key: table.get(key) for key in SOURCE_KINDS},
            content_ids=table.get("content_ids"),
            extrapolation_amount=table.get("extrapolation_amount"),
            average_content_duration=table.get("average_content_duration"),
        )
    except InvalidRequestError as error:
        raise InvalidRequestError(f"{where}: {error}") from None
    return ExportConfig(
        name=name,
        path=root / name,
        query=query,
        first_day=day,
        trailing_days=_count(table.get("trailing_days", trailing_days), "trailing_days", where),
        partition=_partition(table.get("partition", partition), where),
        batch_rows=_count(table.get("batch_rows", batch_rows), "batch_rows", where, 1),
        unknown_fields=_unknown_fields(table.get("unknown_fields", "error"), where),
    )


def _unknown_fields(value: object, where: str) -> Literal["error", "drop"]:
    if value == "error":
        return "error"
    if value == "drop":
        return "drop"
    raise InvalidRequestError(
        f'{where}: \'unknown_fields\' must be "error" or "drop", got {value!r}'
    )


# -- the plan -----------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class _Unit:
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
    """

    export: ExportConfig
    partition: Period
    unit: Literal["day", "month"]
    units: int
    present: int
    empty: int
    batches: tuple[Batch, ...]

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
        return _plural(units, self.unit)

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


def _units(resolution: str, first_day: dt.date, today: dt.date) -> list[_Unit]:
    """The units from ``first_day`` that have ended before ``today``."""
    if resolution != "1M":
        count = (today - first_day).days
        return [_Unit(first_day + i * _DAY, first_day + i * _DAY) for i in range(max(0, count))]
    # Periods that start on or after first_day, as the API's start bound counts them.
    month = first_day if first_day.day == 1 else _next_month(first_day)
    units = []
    while (end := _next_month(month) - _DAY) < today:
        units.append(_Unit(month, end))
        month = _next_month(month)
    return units


def _next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _partition_value(period: Period, day: dt.date) -> dt.date | int:
    if period == "day":
        return day
    if period == "month":
        return day.replace(day=1)
    return day.year


def _partition_column(period: Period) -> str:
    return next(column for column, p in _PERIOD_COLUMNS.items() if p == period)


@dataclass(frozen=True)
class _Dataset:
    """What sync reads from a dataset before fetching anything."""

    period: Period | None  # None: no dataset yet
    present: frozenset[dt.date]
    schema: pl.Schema | None  # the data columns' schema (partition column excluded)


def _inspect(path: Path) -> _Dataset:
    """The partitioning, present days and schema of the dataset at ``path``."""
    if not path.exists():
        return _Dataset(None, frozenset(), None)
    if not path.is_dir():
        raise DatasetError(f"{path} is not a directory, so it cannot hold a dataset")
    columns: set[str] = set()
    days: set[dt.date] = set()
    holds_rows = False
    for entry in path.iterdir():
        if entry.name.startswith((".", "_")):
            continue  # what engines skip: staging leftovers, markers
        if entry.is_dir():
            column, _, value = entry.name.partition("=")
            columns.add(column)
            if _has_file(entry):
                holds_rows = True
                if column == _DATE:
                    with contextlib.suppress(ValueError):
                        days.add(dt.date.fromisoformat(value))
        elif entry.suffix == ".parquet":
            columns.add("")
            holds_rows = True
    if not holds_rows:
        # Nothing, or only empty directories a crash left behind: no dataset yet.
        return _Dataset(None, frozenset(), None)
    if len(columns) > 1 or next(iter(columns)) not in _PERIOD_COLUMNS:
        found = ", ".join(sorted(c or "(files at the top level)" for c in columns))
        raise DatasetError(
            f"{path} is partitioned by {found}; sync extends only datasets partitioned by "
            f"{', '.join(_PERIOD_COLUMNS)}: choose another name for this export"
        )
    column = next(iter(columns))
    period = _PERIOD_COLUMNS[column]
    lf = scan_partitions(path)
    schema = lf.collect_schema()
    if period != "day":
        # A month or year holds many days: ask the data which. Streaming keeps the
        # memory to the distinct days, however many rows the dataset holds.
        dates = lf.select(pl.col(_DATE).unique()).collect(engine="streaming").get_column(_DATE)
        days = set(dates.drop_nulls().to_list())
        schema = pl.Schema({k: v for k, v in schema.items() if k != column})
    return _Dataset(period, frozenset(days), schema)


def _has_file(directory: Path) -> bool:
    return any(
        f.suffix == ".parquet" and not f.name.startswith((".", "_")) for f in directory.iterdir()
    )


def _target_schema(export: ExportConfig, existing: pl.Schema | None) -> pl.Schema:
    """The columns sync writes: the dataset's, after checking they fit the export."""
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
    # Columns beyond the export's (fields the API added, kept by whoever created the
    # dataset) stay: every write must keep the dataset's one schema.
    return existing


def _plan_export(
    export: ExportConfig, today: dt.date, planner: ChunkPlanner
) -> tuple[ExportPlan, _Dataset]:
    dataset = _inspect(export.path)
    _target_schema(export, dataset.schema)
    if dataset.period is not None and export.partition not in ("auto", dataset.period):
        raise InvalidRequestError(
            f"{export.name}: partition = {export.partition!r}, but the dataset at "
            f"{export.path} is partitioned by {dataset.period}; set partition = "
            f"{dataset.period!r} (or 'auto'), or give the export another name"
        )
    if dataset.period is not None:
        period = dataset.period
    elif export.partition != "auto":
        period = cast(Period, export.partition)
    else:
        period = period_for_resolution(export.time_resolution)

    units = _units(export.time_resolution, export.first_day, today)
    starts = [u.start for u in units]
    present = [s for s in starts if s in dataset.present]
    low, high = (min(present), max(present)) if present else (None, None)
    window = today - export.trailing_days * _DAY

    wanted: list[tuple[_Unit, bool]] = []
    empty = 0
    for unit in units:
        if export.trailing_days and unit.end >= window:
            wanted.append((unit, True))
        elif unit.start in dataset.present:
            continue
        elif low is not None and high is not None and low < unit.start < high:
            # Below the latest day with rows, and sync writes in calendar order:
            # fetched before, and it had no rows.
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
            and last.end + _DAY == unit.start
            and last.units < most
        ):
            batches[-1] = Batch(last.start, unit.end, last.units + 1, refetch)
        else:
            batches.append(Batch(unit.start, unit.end, 1, refetch))
    plan = ExportPlan(
        export=export,
        partition=period,
        unit="month" if export.time_resolution == "1M" else "day",
        units=len(units),
        present=len(present),
        empty=empty,
        batches=tuple(batches),
    )
    return plan, dataset


def plan_sync(
    config: SyncConfig | str | os.PathLike[str],
    *,
    today: dt.date | str | None = None,
    planner: ChunkPlanner | None = None,
) -> tuple[ExportPlan, ...]:
    """What :func:`sync` would fetch, from the datasets alone: no request is sent.

    Parameters
    ----------
    config
        A :class:`SyncConfig`, or the path of its TOML file.
    today
        The day of the run (default: today, local time): days before it have
        ended and are fetched.
    planner
        Estimates rows per day to size the batches (default: the client's
        default :class:`~vidiframe._chunking.ChunkPlanner`).

    Returns
    -------
    tuple of ExportPlan
        One per export, in the configuration's order.

    Raises
    ------
    InvalidRequestError
        An invalid configuration or ``today``.
    DatasetError, SchemaConflictError
        A dataset that sync cannot extend (another partitioning, another export).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as lake:
    ...     config = SyncConfig.from_dict({"root": lake, "first_day": "2025-01-01",
    ...         "export": [{"data_type": "viewers", "time_resolution": "finest",
    ...                     "locations": [4636], "batch_rows": 200_000}]})
    ...     (plan,) = plan_sync(config, today="2025-01-20")
    >>> print(plan.describe().replace(lake, "LAKE"))  # doctest: +NORMALIZE_WHITESPACE
    viewers_finest: 19 days from 2025-01-01, 0 with rows, 0 empty; partition by day
      fetch   2025-01-01..2025-01-08  (8 days)
      fetch   2025-01-09..2025-01-16  (8 days)
      refetch 2025-01-17..2025-01-19  (3 days)
    """
    config = config if isinstance(config, SyncConfig) else SyncConfig.load(config)
    day = _today(today)
    planner = planner if planner is not None else ChunkPlanner()
    return tuple(_plan_export(export, day, planner)[0] for export in config.exports)


def _today(value: dt.date | str | None) -> dt.date:
    if value is None:
        # The API speaks the locations' local time; the machine's is the best guess.
        return dt.date.today()
    if isinstance(value, dt.datetime):
        return value.date()
    return _date(value, "today", "sync")


# -- running ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchResult:
    """What one batch did.

    Attributes
    ----------
    export
        The export's name.
    batch
        The days fetched.
    rows
        Rows fetched (placeholder rows included).
    written
        Partition files written (a month or year partition counts once per batch).
    removed
        Partitions removed: trailing days that had rows and now have none.
    empty
        Units of the batch that came back without any row.
    dropped_fields
        Fields of the response that the dataset has no column for (the API added
        them after the dataset was created); listed, not written.
    """

    export: str
    batch: Batch
    rows: int
    written: int
    removed: int
    empty: int
    dropped_fields: tuple[str, ...] = ()
    unit: Literal["day", "month"] = "day"

    def describe(self) -> str:
        """One line for the command line's output.

        Examples
        --------
        >>> b = Batch(dt.date(2025, 1, 1), dt.date(2025, 1, 3), 3)
        >>> BatchResult("ots_1h", b, 144, 1, 0, 0).describe()
        'ots_1h: fetched 2025-01-01..2025-01-03 (3 days): 144 rows, 1 partition written'
        """
        units = _plural(self.batch.units, self.unit)
        verb = "refetched" if self.batch.refetch else "fetched"
        text = (
            f"{self.export}: {verb} {self.batch.describe()} ({units}): {self.rows} rows, "
            f"{_plural(self.written, 'partition')} written"
        )
        if self.removed:
            text += f", {self.removed} removed"
        if self.empty:
            text += f", {_plural(self.empty, self.unit)} without rows"
        if self.dropped_fields:
            text += f"; new fields not in the dataset: {', '.join(self.dropped_fields)}"
        return text


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


@dataclass
class SyncReport:
    """What a :func:`sync` run planned and did.

    Attributes
    ----------
    today
        The day of the run.
    plans
        The plan of each export.
    results
        One per batch written, in order.
    dry_run
        Nothing was fetched: ``results`` is empty.
    """

    today: dt.date
    plans: tuple[ExportPlan, ...]
    results: list[BatchResult] = field(default_factory=list)
    dry_run: bool = False

    @property
    def rows(self) -> int:
        """Rows fetched in all."""
        return sum(r.rows for r in self.results)

    @property
    def written(self) -> int:
        """Partition files written in all."""
        return sum(r.written for r in self.results)

    @property
    def complete(self) -> bool:
        """Whether every planned batch was written."""
        planned = sum(len(p.batches) for p in self.plans)
        return not self.dry_run and len(self.results) == planned

    def summary(self) -> str:
        """A short table: one line per export.

        Columns: the export, its partitioning, units skipped (already done),
        fetched (missing) and refetched (trailing), rows fetched, partitions
        written and removed. On a dry run, what would be fetched.
        """
        header = ["export", "partition", "skipped", "fetched", "refetched"]
        if not self.dry_run:
            header += ["rows", "written", "removed"]
        lines = [header]
        for plan in self.plans:
            done = [r for r in self.results if r.export == plan.name]
            fetched, refetched = plan.fetched, plan.refetched
            if not self.dry_run:
                # What was done, which is less than planned after an interruption.
                fetched = sum(r.batch.units for r in done if not r.batch.refetch)
                refetched = sum(r.batch.units for r in done if r.batch.refetch)
            row = [
                plan.name,
                plan.partition,
                plan.count(plan.skipped),
                plan.count(fetched),
                plan.count(refetched),
            ]
            if not self.dry_run:
                row += [
                    str(sum(r.rows for r in done)),
                    str(sum(r.written for r in done)),
                    str(sum(r.removed for r in done)),
                ]
            lines.append(row)
        widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
        return "\n".join(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
            for line in lines
        )

    def __str__(self) -> str:
        return self.summary()


def sync(
    config: SyncConfig | str | os.PathLike[str],
    *,
    client: VidiCenterClient | None = None,
    today: dt.date | str | None = None,
    progress: bool | None = None,
    dry_run: bool = False,
    on_batch: Callable[[BatchResult], None] | None = None,
) -> SyncReport:
    """Bring every dataset of a configuration up to date.

    For each export, in order: read which days its dataset holds, fetch the
    missing ones and the trailing ones (see the module documentation for the
    rule), writing each batch as soon as it is fetched. An interrupted run
    (Ctrl-C, a failed export, a lost connection) keeps every batch written
    before; the next run fetches only what is still missing.

    Parameters
    ----------
    config
        A :class:`SyncConfig`, or the path of its TOML file.
    client
        The :class:`~vidiframe.VidiCenterClient` (default: one built from
        ``VIDICENTER_USERNAME`` / ``VIDICENTER_TOKEN`` / ``VIDICENTER_URL`` or
        ``~/.netrc``, closed afterwards).
    today
        The day of the run (default: today, local time). Days before it are
        fetched; inject it to make runs reproducible.
    progress
        Show a progress bar over each batch's chunks (default: in a terminal or
        notebook).
    dry_run
        Only plan: read the datasets, fetch and write nothing.
    on_batch
        Called with each :class:`BatchResult` once its partitions are written.

    Returns
    -------
    SyncReport

    Raises
    ------
    InvalidRequestError
        An invalid configuration, before any request.
    DatasetError, SchemaConflictError
        A dataset sync cannot extend, or another sync holding its lock.
    AuthenticationError, TransportError, ExportFailedError
        From fetching; the batches written before stay written. The exception
        carries a note saying how far the run got.
    """
    config = config if isinstance(config, SyncConfig) else SyncConfig.load(config)
    day = _today(today)
    if dry_run:
        planner = client.planner if client is not None else ChunkPlanner()
        return SyncReport(day, plan_sync(config, today=day, planner=planner), dry_run=True)

    from vidiframe._client import VidiCenterClient

    own_client = client is None
    active = client if client is not None else VidiCenterClient()
    report = SyncReport(day, ())
    try:
        # Every dataset is checked before the first request: a conflict in the
        # last export must not wait for the first one's fetches.
        for export in config.exports:
            _plan_export(export, day, active.planner)
        for export in config.exports:
            with _sync_lock(export.path):
                # Planned under the lock: what another run wrote meanwhile is seen.
                plan, dataset = _plan_export(export, day, active.planner)
                report.plans = (*report.plans, plan)
                logger.info("sync %s", plan.describe())
                target = _target_schema(export, dataset.schema)
                for batch in plan.batches:
                    result = _run_batch(plan, batch, target, active, progress)
                    report.results.append(result)
                    logger.info("sync %s", result.describe())
                    if on_batch is not None:
                        on_batch(result)
    except BaseException as error:
        # KeyboardInterrupt included: say what is already safe on disk.
        if hasattr(error, "add_note"):
            error.add_note(
                f"vidiframe sync: {len(report.results)} batch(es) written before this "
                f"({report.rows} rows); run it again to fetch the rest"
            )
        raise
    finally:
        if own_client:
            active.close()
    return report


def _run_batch(
    plan: ExportPlan,
    batch: Batch,
    target: pl.Schema,
    client: VidiCenterClient,
    progress: bool | None,
) -> BatchResult:
    from vidiframe._api import read_vidicenter

    export = plan.export
    query = export.query_for(batch.start, batch.end)
    df = read_vidicenter(
        data_type=query.data_type,
        time_resolution=query.time_resolution,
        group_by_demographics=query.group_by_demographics,
        start=query.start,
        end=query.end,
        locations=query.locations or None,
        sites=query.sites or None,
        location_tags=query.location_tags or None,
        site_tags=query.site_tags or None,
        content_ids=query.content_ids or None,
        # "" (the sampled locations' average) is valid: read_vidicenter passes it on.
        extrapolation_amount=cast(Any, query.extrapolation_amount),
        average_content_duration=query.average_content_duration,
        force_rebuild=batch.refetch,
        client=client,
        progress=progress,
    )
    inside = df.filter(pl.col(_DATE).is_between(batch.start, batch.end))
    if inside.height != df.height:
        # Written, they would replace partitions of days this batch does not cover.
        logger.warning(
            "sync %s: %d row(s) outside %s ignored",
            export.name,
            df.height - inside.height,
            batch.describe(),
        )
    frame, dropped = _conform(inside, target, export)
    written, removed = _write(frame, plan, batch)
    days = set(frame.get_column(_DATE).unique().to_list())
    units = _units(export.time_resolution, batch.start, batch.end + _DAY)
    return BatchResult(
        export=export.name,
        batch=batch,
        rows=frame.height,
        written=written,
        removed=removed,
        empty=sum(u.start not in days for u in units),
        dropped_fields=dropped,
        unit=plan.unit,
    )


def _conform(
    df: pl.DataFrame, target: pl.Schema, export: ExportConfig
) -> tuple[pl.DataFrame, tuple[str, ...]]:
    """``df`` with exactly the dataset's columns; the fields it has no column for."""
    dropped = tuple(c for c in df.columns if c not in target)
    if dropped and export.unknown_fields == "error":
        # One schema per dataset, and no value lost without the user deciding it.
        raise SchemaConflictError(
            f"sync {export.name}: the API sends new field(s) {', '.join(dropped)} that the "
            f"dataset at {export.path} has no column for; nothing of this batch was written. "
            "Keep them in a new dataset (another 'name'), or set unknown_fields = \"drop\" "
            "for this export to write without them",
            column=dropped[0],
        )
    if dropped:
        logger.warning(
            "sync %s: the API sends new field(s) %s that the dataset at %s has no column "
            "for; they are not written (write to a new dataset to keep them)",
            export.name,
            ", ".join(dropped),
            export.path,
        )
    columns = []
    for name, dtype in target.items():
        if name not in df.columns:
            columns.append(pl.lit(None, dtype=dtype).alias(name))
        elif df.schema[name] != dtype:
            columns.append(pl.col(name).cast(dtype))
        else:
            columns.append(pl.col(name))
    try:
        return df.select(columns), dropped
    except pl.exceptions.PolarsError as error:
        raise SchemaConflictError(
            f"sync {export.name}: a field of the response does not fit its column in the "
            f"dataset at {export.path}: {error}"
        ) from None


def _write(frame: pl.DataFrame, plan: ExportPlan, batch: Batch) -> tuple[int, int]:
    """Write a batch's rows; return partitions written and removed."""
    path, period = plan.export.path, plan.partition
    column = _partition_column(period)
    units = _units(plan.export.time_resolution, batch.start, batch.end + _DAY)
    touched = sorted({_partition_value(period, u.start) for u in units})
    new = frame
    partition_by: str | pl.Expr = _DATE
    if period != "day":
        partition_by = by_period(period)
        stored = [v for v in touched if _has_partition(path, column, v)]
        if stored:
            # A month or year holds other days too: keep them, replace the batch's.
            kept = (
                scan_partitions(path)
                .filter(
                    pl.col(column).is_in(stored) & ~pl.col(_DATE).is_between(batch.start, batch.end)
                )
                .drop(column)
                .collect()
            )
            # Stable sort by day: each day's rows keep the server's order.
            new = pl.concat([kept, frame.select(kept.columns)]).sort(_DATE, maintain_order=True)
    files = write_partitions(new, path, partition_by=partition_by) if new.height else []
    written = {Path(f).parent.name for f in files}
    removed = 0
    for value in touched:
        name = partition_dir([column], [value])
        if name not in written and _has_partition(path, column, value):
            # Refetched and now without rows: stale rows must not stay.
            _remove_partition(path / name)
            removed += 1
    return len(files), removed


def _has_partition(path: Path, column: str, value: object) -> bool:
    directory = path / partition_dir([column], [value])
    return directory.is_dir() and _has_file(directory)


def _remove_partition(directory: Path) -> None:
    # Unlinking the file removes the partition for every new reader at once; an
    # empty directory left by a crash here holds no rows and counts as absent.
    for file in directory.iterdir():
        if file.suffix == ".parquet" and not file.name.startswith((".", "_")):
            file.unlink()
    with contextlib.suppress(OSError):
        directory.rmdir()


@contextlib.contextmanager
def _sync_lock(path: Path) -> Iterator[None]:
    """Hold the sync lock of one dataset, or fail at once if another run holds it.

    The lock file sits beside the dataset, not in it (engines never see it), and
    holds no state: it only keeps two runs from merging the same partitions.
    """
    if fcntl is None:  # pragma: no cover - Windows
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = path.parent / f".{path.name}.vidiframe-sync.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DatasetError(
                f"another vidiframe sync is updating {path} (it holds {lock}); "
                "let it finish, then run again"
            ) from None
        yield
    finally:
        os.close(fd)
