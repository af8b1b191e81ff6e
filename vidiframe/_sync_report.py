"""What a sync run did: one :class:`BatchResult` per batch written, and the report."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

from vidiframe._sync_plan import Batch, ExportPlan, plural

__all__ = ["BatchResult", "SyncReport"]


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
        (``schema_mode = "evolve"``): older rows read back null in them.
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
        """Partitions written in all."""
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
