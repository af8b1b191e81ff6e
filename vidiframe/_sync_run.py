"""The sync runner: plans under the datasets' locks, then runs every batch on one scheduler.

Only the dataset layer's public operations touch a dataset:
:func:`~vidiframe._datasets.dataset_lock` (held for the whole run, so a second
sync of the same dataset is refused), :func:`~vidiframe._datasets.read_inventory`
(what the planner starts from) and :func:`~vidiframe._datasets.replace_days`
(each batch: its days' rows replaced, the other days of a month or year
partition kept, a partition left without rows removed).

Each batch is a job of :mod:`vidiframe._sync_schedule`: fetched on a worker
thread beside the batches of every other export, written on the caller's thread
in calendar order per export. The dimension snapshots the configuration lists
are jobs of the same scheduler, one lane each
(:class:`~vidiframe._sync_snapshots.SnapshotJob`): their datasets are locked
with the exports', and a failed snapshot is raised only once the exports are
done.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, cast

import polars as pl

from vidiframe._chunking import ChunkPlanner
from vidiframe._datasets import DatasetInventory, dataset_lock, read_inventory, replace_days
from vidiframe._errors import DatasetError
from vidiframe._fetch import _interactive, _progress_bar, read_online
from vidiframe._partitioning import by_period
from vidiframe._policies import BuildTimeEstimator
from vidiframe._query import ExportQuery
from vidiframe._sync_config import ExportConfig, SyncConfig
from vidiframe._sync_conform import conform
from vidiframe._sync_plan import (
    DATE,
    DAY,
    PERIOD_COLUMNS,
    Batch,
    ExportPlan,
    Holdings,
    plan_export,
    target_schema,
    units_between,
)
from vidiframe._sync_report import BatchResult, SnapshotResult, SyncReport
from vidiframe._sync_schedule import Job, interleave, run_jobs
from vidiframe._sync_snapshots import SnapshotJob, snapshot_target

if TYPE_CHECKING:
    from vidiframe._client import VidiCenterClient

__all__ = ["conform", "holdings_from", "inspect", "plan_all", "run"]

logger = logging.getLogger("vidiframe")


def holdings_from(export: ExportConfig, inventory: DatasetInventory) -> Holdings:
    """What the planner needs of an inventory; refuses a dataset sync cannot extend.

    Raises
    ------
    DatasetError
        The dataset is partitioned otherwise than by one of sync's period columns.

    Examples
    --------
    >>> import datetime as dt
    >>> from vidiframe._sync_config import SyncConfig
    >>> config = SyncConfig.from_dict({"root": "lake", "first_day": "2025-01-01",
    ...     "export": [{"data_type": "ots", "time_resolution": "1h", "locations": 1}]})
    >>> inventory = DatasetInventory("parquet", ("location_id",), {"location_id": pl.Int64},
    ...                              ((1,),), frozenset(), pl.Schema({"location_id": pl.Int64}))
    >>> holdings_from(config.exports[0], inventory)
    Traceback (most recent call last):
    ...
    vidiframe._errors.DatasetError: .../lake/ots_1h is partitioned by location_id; ...
    """
    if not inventory.exists:
        return Holdings()
    columns = inventory.partition_by
    if len(columns) != 1 or columns[0] not in PERIOD_COLUMNS:
        found = ", ".join(columns) or "nothing (no partition column)"
        raise DatasetError(
            f"{export.path} is partitioned by {found}; sync extends only datasets partitioned "
            f"by one of {', '.join(PERIOD_COLUMNS)}: choose another name for this export"
        )
    column = columns[0]
    schema = inventory.schema
    if schema is not None and column != DATE:
        # A derived period column lives in the partition names only: not a data column.
        schema = pl.Schema({k: v for k, v in schema.items() if k != column})
    return Holdings(PERIOD_COLUMNS[column], frozenset(inventory.days), schema, inventory.format)


def inspect(export: ExportConfig) -> Holdings:
    """Read what the export's dataset holds, through the dataset layer."""
    inventory = read_inventory(export.path, storage_options=export.storage_options)
    return holdings_from(export, inventory)


def plan_all(config: SyncConfig, today: dt.date, planner: ChunkPlanner) -> tuple[ExportPlan, ...]:
    """Every export's plan, from its dataset's inventory."""
    return tuple(plan_export(e, inspect(e), today, planner) for e in config.exports)


def run(
    config: SyncConfig,
    report: SyncReport,
    *,
    client: VidiCenterClient,
    progress: bool | None,
    on_batch: Callable[[BatchResult], None] | None,
    on_snapshot: Callable[[SnapshotResult], None] | None = None,
) -> None:
    """Lock every dataset, plan, and run every batch and snapshot; results go into ``report``.

    Every dataset (dimension snapshots included) is locked and planned before
    the first request: a conflict in the last export does not wait for the first
    one's fetches, and what another run wrote before is seen.

    Raises
    ------
    VidiFrameError
        The first failed dimension snapshot's error, once every export's batches
        are written (the other failures are in ``report.snapshots``).
    """
    with contextlib.ExitStack() as locks:
        for export in config.exports:
            locks.enter_context(dataset_lock(export.path, storage_options=export.storage_options))
        for dimension in config.dimensions:
            locks.enter_context(
                dataset_lock(dimension.path, storage_options=dimension.storage_options)
            )
        report.plans = plan_all(config, report.today, client.planner)
        for plan in report.plans:
            logger.info("sync %s", plan.describe())
        builds = BuildTimes(client)
        snapshots = []
        for d in config.dimensions:
            fmt, schema = snapshot_target(d)
            snapshots.append(
                SnapshotJob(
                    d,
                    day=report.today,
                    format=fmt,
                    schema=schema,
                    client=client,
                    expect=builds.expect,
                )
            )
        lanes = []
        for plan in report.plans:
            writer = _ExportWriter(plan)
            lanes.append([_BatchJob(writer, batch, client, builds) for batch in plan.batches])
        batches: list[Job[BatchResult]] = interleave(lanes)
        # The snapshots first: one quick GET each, and no export slot taken, so the
        # exports' first builds start beside them.
        jobs: list[Job[BatchResult | SnapshotResult]] = [*snapshots, *batches]

        # One bar over the run's batches: the reads run side by side, and a bar
        # each would overwrite the others.
        enabled = _interactive() if progress is None else progress
        bar = _progress_bar("sync", len(batches), enabled=enabled, unit="batch")
        locks.callback(bar.close)

        def committed(result: BatchResult | SnapshotResult) -> None:
            if isinstance(result, SnapshotResult):
                report.snapshots.append(result)
                logger.info("sync %s", result.describe())
                if on_snapshot is not None:
                    on_snapshot(result)
                return
            report.results.append(result)
            logger.info("sync %s", result.describe())
            bar.set_postfix_str(f"{result.export} {result.batch.describe()}", refresh=False)
            bar.update()
            if on_batch is not None:
                on_batch(result)

        limits = client.limits
        # More workers than export slots, as for the chunks of one read: a batch
        # downloading or being written has given its slot back, and the next batch
        # should start building meanwhile.
        # At most workers + ahead batches are in memory at once: fetching, or
        # fetched and waiting for an earlier batch of their export.
        run_jobs(
            jobs,
            workers=limits.exports + limits.connections,
            ahead=limits.exports,
            on_commit=committed,
        )
    order = {plan.name: i for i, plan in enumerate(report.plans)}
    report.results.sort(key=lambda r: (order[r.export], r.batch.start))
    listed = {d.name: i for i, d in enumerate(config.dimensions)}
    report.snapshots.sort(key=lambda s: listed[s.dimension])
    failed = report.failed_snapshots
    if failed and failed[0].error is not None:
        # After the exports: a dimension the API could not give today costs none
        # of their batches, but the run is not complete and must not look so.
        raise failed[0].error


class BuildTimes:
    """What the run's builds took, shared by batches of similar size.

    The client polls an export being built when a sibling's build says it is
    likely done (:class:`~vidiframe._policies.BuildTimeEstimator`). The chunks
    of one read share an estimator because they have similar sizes; so do the
    batches of a sync run whose estimated rows are within a factor of two of
    each other, whatever their export: the second wave of exports polls when
    the first wave's builds say, instead of rediscovering it with a backoff.
    Batches of very different sizes do not share one, so a slow build never
    makes a small export wait for its time.
    """

    def __init__(self, client: VidiCenterClient) -> None:
        self.client = client
        self._lock = threading.Lock()
        self._estimators: dict[tuple[bool, int], BuildTimeEstimator] = {}
        self._calls_needed = 0

    def estimator(self, query: ExportQuery) -> BuildTimeEstimator:
        """The estimator of ``query``'s size class."""
        rows = self.client.planner.estimate_rows(query)
        key = (query.spec.granularity == "finest", max(0, rows).bit_length())
        with self._lock:
            found = self._estimators.get(key)
            if found is None:
                found = BuildTimeEstimator(spare_calls=self._spare_calls)
                self._estimators[key] = found
            return found

    def expect(self, calls: int) -> None:
        """Count calls that batches not yet fetched will need (negative once fetched)."""
        with self._lock:
            self._calls_needed += calls

    def _spare_calls(self) -> int:
        # A start, a poll that finds it built and the download: 3 calls a chunk.
        with self._lock:
            needed = self._calls_needed
        return self.client.budget.headroom() - needed


class _BatchJob:
    """One batch of one export: fetched on a worker, written in calendar order."""

    def __init__(
        self,
        writer: _ExportWriter,
        batch: Batch,
        client: VidiCenterClient,
        builds: BuildTimes,
    ) -> None:
        self.writer = writer
        self.batch = batch
        self.client = client
        self.builds = builds
        self.query = writer.plan.export.query_for(batch.start, batch.end)
        self.calls = 3 * len(client.planner.plan(self.query))
        self.cancel = threading.Event()
        builds.expect(self.calls)

    @property
    def lane(self) -> Hashable:
        return self.writer.plan.name

    def fetch(self) -> pl.DataFrame:

        export, batch, query = self.writer.plan.export, self.batch, self.query
        try:
            df = self._read(query)
        finally:
            self.builds.expect(-self.calls)
        inside = df.filter(pl.col(DATE).is_between(batch.start, batch.end))
        if inside.height != df.height:
            # Written, they would replace rows of days this batch does not cover.
            logger.warning(
                "sync %s: %d row(s) outside %s ignored",
                export.name,
                df.height - inside.height,
                batch.describe(),
            )
        return inside

    def _read(self, query: ExportQuery) -> pl.DataFrame:
        return read_online(
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
            force_rebuild=self.batch.refetch,
            client=self.client,
            progress=False,
            estimator=self.builds.estimator(query),
            cancel=self.cancel,
        )

    def commit(self, fetched: pl.DataFrame) -> BatchResult:
        return self.writer.write(self.batch, fetched)

    def abandon(self) -> None:
        # The read stops at its chunks' next request or wait; what they finished
        # is in the client's cache for the next run.
        self.cancel.set()


class _ExportWriter:
    """Writes one export's batches, in order; follows its dataset's schema as it evolves."""

    def __init__(self, plan: ExportPlan) -> None:
        self.plan = plan
        self.schema = target_schema(plan.export, plan.schema)
        period = plan.partition
        self.partition_by: str | pl.Expr = DATE if period == "day" else by_period(period)

    def write(self, batch: Batch, df: pl.DataFrame) -> BatchResult:
        export = self.plan.export
        frame, added, dropped = conform(df, self.schema, export)
        days = [batch.start + i * DAY for i in range((batch.end - batch.start).days + 1)]
        changes = replace_days(
            frame,
            export.path,
            days=days,
            partition_by=self.partition_by,
            format=self.plan.format,
            # The frame has the dataset's columns exactly, plus those it adds: any
            # other difference is refused before anything is written.
            schema_mode="evolve" if export.schema_mode == "evolve" else "error",
            storage_options=export.storage_options,
        )
        # The dataset now has the frame's columns and types: conform gave it the
        # stored columns, in order, typed as stored except Null parts the batch
        # had values for (the dataset layer typed them), then the added ones.
        self.schema = frame.schema
        present = set(frame.get_column(DATE).unique().to_list())
        units = units_between(export.time_resolution, batch.start, batch.end + DAY)
        return BatchResult(
            export=export.name,
            batch=batch,
            rows=frame.height,
            written=len(changes.written),
            removed=len(changes.removed),
            empty=sum(u.start not in present for u in units),
            dropped_fields=dropped,
            unit=self.plan.unit,
            added_fields=added,
        )
