"""``sync``: keep datasets of VidiCenter exports up to date, incrementally.

A small TOML file says what to keep (export types, sources, first day, where);
:func:`sync` compares it with what the datasets hold, fetches only what is
missing, re-fetches the most recent days (data uploaded late by the players),
and writes each batch as soon as it arrives. ``root`` is a local directory or a
URL (``s3://``, ``gs://``, ``az://``, ``abfss://``, ``file://``) with its
``[storage_options]``; datasets are Hive Parquet (``format = "parquet"``) or
Delta Lake tables (``format = "delta"``).

The parts: :mod:`vidiframe._sync_config` (the configuration),
:mod:`vidiframe._sync_plan` (configuration + what a dataset holds + today ->
plan, without I/O), :mod:`vidiframe._sync_run` (locks, inventories, batches)
and :mod:`vidiframe._sync_schedule` (one scheduler for every batch). Datasets
are read and written only through the dataset layer's public operations
(:mod:`vidiframe._datasets`).

The state is the dataset itself
-------------------------------
There is no side file that could disagree with the data. Each export's dataset
(``<root>/<name>``) is read for the days it holds (the dataset layer's
inventory): a day is *present* when some row has that ``period_start_date``.
Batches of different exports are fetched side by side, but each export's
batches are **written in calendar order**: the scheduler writes a batch only
after every earlier batch of the same export is written (a later batch fetched
early waits), and a batch's write replaces its days in one operation of the
dataset layer, each partition old or new. So at any moment, even after a crash
or Ctrl-C, the days below an export's latest present day have all been fetched.
Hence the rule:

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

One run per dataset: a run holds the dataset layer's lock of every dataset it
syncs (a ``flock`` locally, a lease object on object storage) from planning to
its last write; a second sync of the same dataset is refused at once with a
:class:`~vidiframe.DatasetError`.

Units, batches and partitions
-----------------------------
The unit of bookkeeping is the day (``finest`` to ``1d``), or the calendar month
for ``1M``; only units that have ended (before ``today``) are fetched, so no
partial period is ever stored. Missing units are grouped into contiguous
batches of at most ``batch_rows`` estimated rows (the client cuts each batch into
chunks under the server's limits); each batch is fetched with
:func:`~vidiframe.read_vidicenter`. The batches of all exports go through one
scheduler, round robin over the exports, so the client's three export slots stay
busy. Partitions follow :func:`~vidiframe._partitioning.period_for_resolution`
unless configured: a batch replaces its days through the dataset layer's
``replace_days``, which keeps the other days of a month or year partition and
removes a partition left without rows.

New fields
----------
The API adds fields without notice. ``schema_mode`` says what a batch carrying a
field the dataset has no column for does: ``"evolve"`` (default) adds the
column (older rows read back null in it), ``"error"`` stops before the batch is
written (:class:`~vidiframe.SchemaConflictError`), ``"drop"`` writes the batch
without it and reports it. The older key ``unknown_fields`` ("error" or "drop")
is read as ``schema_mode``.

Dimension snapshots
-------------------
``dimensions = ["locations", "sites", "networks"]`` keeps those dimensions as
daily snapshots beside the exports, at ``<root>/dimensions/<name>``
(:mod:`vidiframe._dimension_snapshots`): each run reads each one once through
the same client (``refresh=True``: never from its cache) and writes it with
``snapshot_date = today``, partitioned by that column, in the top-level
``format``, through :func:`~vidiframe.write_partitions`; a second run the same
day replaces that day's snapshot. The reads are jobs of the same scheduler
(:mod:`vidiframe._sync_snapshots`): one plain GET each, counted against the
call budget but taking no export slot. A snapshot that fails does not stop the
exports: the run finishes them, then raises its error (the dimension's earlier
snapshots stay). :func:`~vidiframe.scan_dimension_snapshots` joins names as of a
date.

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

import datetime as dt
import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from vidiframe._chunking import ChunkPlanner
from vidiframe._sync_config import (
    DEFAULT_BATCH_ROWS,
    DEFAULT_TRAILING_DAYS,
    ExportConfig,
    SyncConfig,
    parse_date,
)
from vidiframe._sync_plan import Batch, ExportPlan
from vidiframe._sync_report import BatchResult, SnapshotResult, SyncReport

if TYPE_CHECKING:
    from vidiframe._client import VidiCenterClient

__all__ = [
    "DEFAULT_BATCH_ROWS",
    "DEFAULT_TRAILING_DAYS",
    "Batch",
    "BatchResult",
    "ExportConfig",
    "ExportPlan",
    "SnapshotResult",
    "SyncConfig",
    "SyncReport",
    "plan_sync",
    "sync",
]

logger = logging.getLogger("vidiframe")


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
    from vidiframe._sync_run import plan_all

    config = config if isinstance(config, SyncConfig) else SyncConfig.load(config)
    day = _today(today)
    return plan_all(config, day, planner if planner is not None else ChunkPlanner())


def _today(value: dt.date | str | None) -> dt.date:
    if value is None:
        # The API speaks the locations' local time; the machine's is the best guess.
        return dt.date.today()
    if isinstance(value, dt.datetime):
        return value.date()
    return parse_date(value, "today", "sync")


def sync(
    config: SyncConfig | str | os.PathLike[str],
    *,
    client: VidiCenterClient | None = None,
    today: dt.date | str | None = None,
    progress: bool | None = None,
    dry_run: bool = False,
    on_batch: Callable[[BatchResult], None] | None = None,
    on_snapshot: Callable[[SnapshotResult], None] | None = None,
) -> SyncReport:
    """Bring every dataset of a configuration up to date.

    Every dataset is locked and read for the days it holds; then the missing
    days and the trailing ones of every export (see the module documentation for
    the rule) are fetched side by side, keeping the client's export slots busy,
    and each batch is written as soon as it and the earlier batches of its export
    are. An interrupted run (Ctrl-C, a failed export, a lost connection) keeps
    every batch written before; the next run fetches only what is still missing.

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
        Show a progress bar over the run's batches (default: in a terminal or
        notebook).
    dry_run
        Only plan: read the datasets, fetch and write nothing.
    on_batch
        Called with each :class:`BatchResult` once its partitions are written,
        on the calling thread.
    on_snapshot
        Called with each dimension's :class:`SnapshotResult` once it is stored
        (or has failed), on the calling thread.

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
    VidiFrameError
        A dimension snapshot that failed (its read or its write): raised once
        every export is done, their batches written; the dimension's earlier
        snapshots are kept.
    """
    config = config if isinstance(config, SyncConfig) else SyncConfig.load(config)
    day = _today(today)
    if dry_run:
        planner = client.planner if client is not None else ChunkPlanner()
        return SyncReport(
            day,
            plan_sync(config, today=day, planner=planner),
            dry_run=True,
            dimensions=tuple(d.name for d in config.dimensions),
        )

    from vidiframe._client import VidiCenterClient
    from vidiframe._sync_run import run

    own_client = client is None
    active = client if client is not None else VidiCenterClient()
    report = SyncReport(day, (), dimensions=tuple(d.name for d in config.dimensions))
    try:
        run(
            config,
            report,
            client=active,
            progress=progress,
            on_batch=on_batch,
            on_snapshot=on_snapshot,
        )
    except BaseException as error:
        # KeyboardInterrupt included: say what is already safe in the datasets.
        if hasattr(error, "add_note"):
            error.add_note(report.progress_note())
        raise
    finally:
        if own_client:
            active.close()
    return report
