"""What a sync run did: a result per batch and per dimension snapshot, and the report."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from typing import Literal

from vidiframe._sync_plan import Batch, ExportPlan, plural

__all__ = ["BatchResult", "SnapshotResult", "SyncReport"]


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
        Partitions written (a month or year partition counts once per batch).
    removed
        Partitions removed: trailing days that had rows and now have none.
    empty
        Units of the batch that came back without any row.
    dropped_fields
        Fields of the response that the dataset has no column for, not written
        (``schema_mode = "drop"``).
    added_fields
        Fields of the response that the dataset had no column for, added to it
        (``schema_mode = "evolve"``): older rows read back null in them. A field
        null in every row of the batch is added too, without a type until a
        later batch has values in it.
    unit
        ``"day"``, or ``"month"`` for ``1M`` exports.
    """

    export: str
    batch: Batch
    rows: int
    written: int
    removed: int
    empty: int
    dropped_fields: tuple[str, ...] = ()
    unit: Literal["day", "month"] = "day"
    added_fields: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line for the command line's output.

        Examples
        --------
        >>> b = Batch(dt.date(2025, 1, 1), dt.date(2025, 1, 3), 3)
        >>> BatchResult("ots_1h", b, 144, 1, 0, 0).describe()
        'ots_1h: fetched 2025-01-01..2025-01-03 (3 days): 144 rows, 1 partition written'
        >>> BatchResult("ots_1h", b, 144, 1, 0, 0, added_fields=("reach",)).describe()[-38:]
        'new fields added to the dataset: reach'
        """
        units = plural(self.batch.units, self.unit)
        verb = "refetched" if self.batch.refetch else "fetched"
        text = (
            f"{self.export}: {verb} {self.batch.describe()} ({units}): {self.rows} rows, "
            f"{plural(self.written, 'partition')} written"
        )
        if self.removed:
            text += f", {self.removed} removed"
        if self.empty:
            text += f", {plural(self.empty, self.unit)} without rows"
        if self.added_fields:
            text += f"; new fields added to the dataset: {', '.join(self.added_fields)}"
        if self.dropped_fields:
            text += f"; new fields not in the dataset: {', '.join(self.dropped_fields)}"
        return text


@dataclass(frozen=True)
class SnapshotResult:
    """What one dimension snapshot did.

    Attributes
    ----------
    dimension
        The dimension's name in the configuration (``locations`` ...).
    path
        Its snapshot dataset.
    day
        The snapshot's ``snapshot_date``: the run's ``today``.
    rows
        Rows stored (0 when it failed).
    error
        Why it failed (the fetch or the write), or ``None``. A failed snapshot
        leaves the dimension's earlier snapshots as they were, and the run's
        exports go on.
    """

    dimension: str
    path: str | os.PathLike[str]
    day: dt.date
    rows: int
    error: Exception | None = None

    @property
    def ok(self) -> bool:
        """Whether the snapshot was stored."""
        return self.error is None

    def describe(self) -> str:
        """One line for the command line's output.

        Examples
        --------
        >>> SnapshotResult("locations", "lake/dimensions/locations", dt.date(2025, 1, 5), 28).describe()
        'dimension locations: snapshot 2025-01-05 stored (28 rows) in lake/dimensions/locations'
        >>> SnapshotResult("sites", "x", dt.date(2025, 1, 5), 0, OSError("boom")).describe()
        'dimension sites: snapshot 2025-01-05 failed: OSError: boom'
        """
        if self.error is not None:
            reason = " ".join(str(self.error).split())
            return (
                f"dimension {self.dimension}: snapshot {self.day} failed: "
                f"{type(self.error).__name__}: {reason}"
            )
        return (
            f"dimension {self.dimension}: snapshot {self.day} stored "
            f"({plural(self.rows, 'row')}) in {self.path}"
        )


@dataclass
class SyncReport:
    """What a :func:`~vidiframe.sync` run planned and did.

    Attributes
    ----------
    today
        The day of the run.
    plans
        The plan of each export, in the configuration's order.
    results
        One per batch written: exports in the configuration's order, each
        export's batches in calendar order.
    dry_run
        Nothing was fetched: ``results`` is empty.
    dimensions
        The dimensions the configuration keeps snapshots of.
    snapshots
        One per dimension snapshot taken or failed, in the configuration's order.
    """

    today: dt.date
    plans: tuple[ExportPlan, ...]
    results: list[BatchResult] = field(default_factory=list)
    dry_run: bool = False
    dimensions: tuple[str, ...] = ()
    snapshots: list[SnapshotResult] = field(default_factory=list)

    @property
    def rows(self) -> int:
        """Rows fetched in all."""
        return sum(r.rows for r in self.results)

    @property
    def written(self) -> int:
        """Partitions written in all."""
        return sum(r.written for r in self.results)

    @property
    def failed_snapshots(self) -> list[SnapshotResult]:
        """The dimension snapshots that failed."""
        return [s for s in self.snapshots if not s.ok]

    @property
    def complete(self) -> bool:
        """Whether every planned batch was written and every dimension snapshot stored."""
        planned = sum(len(p.batches) for p in self.plans)
        stored = sum(s.ok for s in self.snapshots)
        return not self.dry_run and len(self.results) == planned and stored == len(self.dimensions)

    def progress_note(self) -> str:
        """What is safe in the datasets, for an error that stopped the run.

        Examples
        --------
        >>> report = SyncReport(dt.date(2025, 1, 5), (), dimensions=("sites",))
        >>> report.snapshots.append(SnapshotResult("sites", "x", dt.date(2025, 1, 5), 0, OSError()))
        >>> print(report.progress_note().replace("; ", ";" + chr(10)))
        vidiframe sync: 0 batch(es) written before this (0 rows);
        dimension snapshot(s) failed: sites;
        run it again to fetch the rest
        """
        text = (
            f"vidiframe sync: {len(self.results)} batch(es) written before this ({self.rows} rows)"
        )
        stored = [s.dimension for s in self.snapshots if s.ok]
        if stored:
            text += f"; dimension snapshot(s) stored: {', '.join(stored)}"
        failed = [s.dimension for s in self.failed_snapshots]
        if failed:
            text += f"; dimension snapshot(s) failed: {', '.join(failed)}"
        return text + "; run it again to fetch the rest"

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
        text = _table(lines)
        if self.dry_run and self.dimensions:
            text += f"\n\ndimension snapshots of {self.today} (not taken on a dry run): "
            text += ", ".join(self.dimensions)
        elif self.snapshots:
            rows = [["dimension", "snapshot", "rows", "stored"]]
            for snap in self.snapshots:
                rows.append(
                    [snap.dimension, str(snap.day), str(snap.rows), "yes" if snap.ok else "FAILED"]
                )
            text += "\n\n" + _table(rows)
        return text

    def __str__(self) -> str:
        return self.summary()


def _table(lines: list[list[str]]) -> str:
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )
