"""The dimension snapshots of a sync run, as jobs of the run's scheduler.

Each dimension the configuration lists is one job in a lane of its own
(:mod:`vidiframe._sync_schedule`): its ``fetch`` reads the dimension once
through the run's client (``refresh=True``: the client's cache never stands in
for today's names), on a worker beside the exports' batches. A dimension read
is one plain GET: it counts against the client's call budget and connection
limit, but takes none of the three export slots, so the exports keep them. Its
``commit`` stores the frame as the run's snapshot
(:func:`~vidiframe._dimension_snapshots.write_snapshot`), on the caller's
thread, inside the run's locks.

A snapshot that fails (its fetch or its write) does not stop the run: the
scheduler would stop starting the exports' batches, and the exports do not need
the dimension. The failure is kept in its :class:`SnapshotResult`; the runner
raises it once every export is done.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING

import polars as pl

from vidiframe._datasets import DatasetFormat, read_inventory
from vidiframe._dimension_registry import get_dimension
from vidiframe._dimension_snapshots import (
    SNAPSHOT_DATE,
    check_snapshot_dataset,
    write_snapshot,
)
from vidiframe._dimensions import read_dimension
from vidiframe._errors import InvalidRequestError, VidiFrameError
from vidiframe._sync_config import DimensionConfig
from vidiframe._sync_conform import conform
from vidiframe._sync_report import SnapshotResult

if TYPE_CHECKING:
    from vidiframe._client import VidiCenterClient

__all__ = ["SnapshotJob", "snapshot_target"]

logger = logging.getLogger("vidiframe")


def snapshot_target(dimension: DimensionConfig) -> tuple[DatasetFormat, pl.Schema]:
    """The format and the columns of the dimension's snapshots, as this run writes them.

    The columns are the stored snapshots' (without ``snapshot_date``), or the
    registry's for the first snapshot: a field the API stops sending stays a
    column (null from then on), as in an export's dataset
    (:func:`~vidiframe._sync_conform.conform`).

    Read under the run's lock, before any request, so a dataset of another kind
    at the snapshot path fails the run before anything is fetched. Stored
    snapshots of the other format are refused, as an export's dataset is: kept
    in silence, they would not be the format the configuration says.

    Raises
    ------
    DatasetError
        Another dataset at the snapshot path, or a storage failure.
    InvalidRequestError
        Snapshots stored in another format than the configuration's.
    """
    inventory = read_inventory(dimension.path, storage_options=dimension.storage_options)
    check_snapshot_dataset(inventory, dimension.path)
    if inventory.format is not None and inventory.format != dimension.format:
        raise InvalidRequestError(
            f"dimension {dimension.name}: format = {dimension.format!r} (the top-level "
            f"format), but the snapshots at {dimension.path} are a {inventory.format} "
            f"dataset; set the top-level format = {inventory.format!r} (an export may set "
            "its own format), or move the snapshots away"
        )
    if inventory.schema is None:
        return dimension.format, get_dimension(dimension.dimension).schema
    stored = {k: v for k, v in inventory.schema.items() if k != SNAPSHOT_DATE}
    return dimension.format, pl.Schema(stored)


class SnapshotJob:
    """One dimension's snapshot of the day: one GET, then one write."""

    def __init__(
        self,
        dimension: DimensionConfig,
        *,
        day: dt.date,
        format: DatasetFormat,
        client: VidiCenterClient,
        expect: Callable[[int], None] | None = None,
        schema: pl.Schema | None = None,
    ) -> None:
        self.dimension = dimension
        self.day = day
        self.format = format
        # The snapshots' columns (snapshot_target): the registry's before the first.
        self.schema = schema if schema is not None else get_dimension(dimension.dimension).schema
        self.client = client
        # The run's count of calls still to come (BuildTimes.expect): exports poll
        # sooner when the budget has calls to spare, and this GET is one of them.
        self.expect = expect
        if expect is not None:
            expect(1)

    @property
    def lane(self) -> Hashable:
        # Not a string: an export's lane is its name, and an export may be named
        # like a dimension.
        return ("dimension", self.dimension.name)

    def fetch(self) -> pl.DataFrame | VidiFrameError:
        try:
            return read_dimension(
                self.dimension.dimension,
                vehicles=self.dimension.vehicles,
                client=self.client,
                refresh=True,
            )
        except VidiFrameError as error:
            # Returned, not raised: a raise would stop the exports' batches too.
            return error
        finally:
            if self.expect is not None:
                self.expect(-1)

    def commit(self, fetched: pl.DataFrame | VidiFrameError) -> SnapshotResult:
        dimension = self.dimension
        if isinstance(fetched, VidiFrameError):
            return self._failed(fetched)
        try:
            # The stored columns, as an export's batch has them: a field the API no
            # longer sends stays (null), and a new one null in every row is stored
            # without a type until a snapshot has values in it.
            frame, _, _ = conform(fetched, self.schema, dimension)
            write_snapshot(
                frame,
                dimension.path,
                day=self.day,
                format=self.format,
                # conform applied the mode: the frame has the stored columns, plus
                # the new ones "evolve" adds.
                schema_mode="evolve" if dimension.schema_mode == "evolve" else "error",
                storage_options=dimension.storage_options,
            )
        except VidiFrameError as error:
            return self._failed(error)
        return SnapshotResult(dimension.name, dimension.path, self.day, fetched.height)

    def _failed(self, error: VidiFrameError) -> SnapshotResult:
        logger.warning(
            "sync: the snapshot of %s for %s failed (earlier snapshots are kept): %s",
            self.dimension.name,
            self.day,
            error,
        )
        return SnapshotResult(self.dimension.name, self.dimension.path, self.day, 0, error)
