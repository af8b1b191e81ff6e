"""The sync planner without any I/O: configuration + holdings + today -> plan."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vidiframe as vf
from vidiframe._chunking import ChunkPlanner
from vidiframe._datasets import DatasetInventory
from vidiframe._sync_config import ExportConfig, SyncConfig
from vidiframe._sync_plan import DAY, Batch, Holdings, plan_export, units_between
from vidiframe._sync_run import holdings_from

D = dt.date
OTS = {"data_type": "ots", "time_resolution": "1h", "locations": [4636, 4637]}
FINEST = {"data_type": "viewers", "time_resolution": "finest", "locations": [4636]}
PLANNER = ChunkPlanner()


def export(table: dict[str, Any] = OTS, **top: Any) -> ExportConfig:
    top.setdefault("first_day", "2025-01-01")
    top.setdefault("trailing_days", 3)
    return SyncConfig.from_dict({"root": "lake", **top, "export": [table]}).exports[0]


def days(*numbers: int, month: int = 1) -> frozenset[dt.date]:
    return frozenset(D(2025, month, n) for n in numbers)


def spans(plan: Any) -> list[tuple[str, bool]]:
    return [(b.describe(), b.refetch) for b in plan.batches]


def test_an_empty_dataset_fetches_every_ended_day_then_refetches_the_trailing_ones():
    plan = plan_export(export({**OTS, "batch_rows": 48 * 4}), Holdings(), D(2025, 1, 12), PLANNER)
    assert spans(plan) == [
        ("2025-01-01..2025-01-04", False),
        ("2025-01-05..2025-01-08", False),
        ("2025-01-09..2025-01-11", True),
    ]
    assert (plan.units, plan.present, plan.empty, plan.partition, plan.format) == (
        11,
        0,
        0,
        "month",
        "parquet",
    )
    assert (plan.fetched, plan.refetched, plan.skipped) == (8, 3, 0)


def test_days_between_present_days_are_done_and_days_at_the_edges_are_missing():
    holdings = Holdings("day", days(3, 4, 7, 8))
    plan = plan_export(export(FINEST, trailing_days=0), holdings, D(2025, 1, 11), PLANNER)
    # 1-2 before the first present day, 9-10 after the last: missing. 5-6 lie
    # between present days: fetched before and found empty.
    assert spans(plan) == [("2025-01-01..2025-01-02", False), ("2025-01-09..2025-01-10", False)]
    assert (plan.present, plan.empty, plan.skipped) == (4, 2, 6)


def test_trailing_days_are_refetched_even_when_present():
    holdings = Holdings("month", days(*range(1, 11)))
    plan = plan_export(export(trailing_days=2), holdings, D(2025, 1, 11), PLANNER)
    assert spans(plan) == [("2025-01-09..2025-01-10", True)]
    assert [b.units for b in plan.batches] == [2]


def test_monthly_exports_count_months_and_refetch_one_that_ended_within_the_window():
    holdings = Holdings("year", frozenset({D(2025, 1, 1), D(2025, 2, 1)}))
    plan = plan_export(export({**OTS, "time_resolution": "1M"}), holdings, D(2025, 3, 2), PLANNER)
    assert plan.unit == "month"
    assert plan.batches == (Batch(D(2025, 2, 1), D(2025, 2, 28), 1, refetch=True),)
    assert plan.count(plan.skipped) == "1 month"


def test_nothing_has_ended_yet():
    plan = plan_export(export(first_day="2025-01-05"), Holdings(), D(2025, 1, 5), PLANNER)
    assert (plan.units, plan.batches) == (0, ())
    assert "up to date: nothing to fetch" in plan.describe()


def test_auto_partitioning_follows_the_dataset_and_a_different_setting_is_refused():
    holdings = Holdings("day", days(1))
    assert plan_export(export(), holdings, D(2025, 1, 3), PLANNER).partition == "day"
    with pytest.raises(vf.InvalidRequestError, match="partitioned by day; set partition = 'day'"):
        plan_export(export({**OTS, "partition": "month"}), holdings, D(2025, 1, 3), PLANNER)


def test_a_new_dataset_takes_the_configured_format_an_existing_one_must_match():
    delta = export({**OTS, "format": "delta"})
    assert plan_export(delta, Holdings(), D(2025, 1, 3), PLANNER).format == "delta"
    with pytest.raises(
        vf.InvalidRequestError, match="is a parquet dataset; set format = 'parquet'"
    ):
        plan_export(delta, Holdings("month", days(1), format="parquet"), D(2025, 1, 3), PLANNER)


def test_a_dataset_of_another_export_is_refused_and_extra_columns_are_fine():
    ots = export()
    viewers = SyncConfig.from_dict(
        {
            "root": "lake",
            "first_day": "2025-01-01",
            "export": [{**OTS, "data_type": "viewers", "name": "ots_1h"}],
        }
    ).exports[0]
    schema = ots.query.spec.schema
    with pytest.raises(vf.SchemaConflictError, match="does not hold viewers/1h"):
        plan_export(viewers, Holdings("month", days(1), schema), D(2025, 1, 3), PLANNER)
    evolved = pl.Schema({**schema, "brand_new": pl.Int64})
    plan = plan_export(ots, Holdings("month", days(1), evolved), D(2025, 1, 3), PLANNER)
    assert plan.schema == evolved


@settings(max_examples=200, deadline=None)
@given(
    present=st.sets(st.integers(0, 39), max_size=40),
    trailing=st.integers(0, 5),
    per_batch=st.integers(1, 7),
)
def test_the_plan_fetches_exactly_the_missing_and_trailing_days_in_order(
    present, trailing, per_batch
):
    cfg = export({**FINEST, "batch_rows": 24_000 * per_batch}, trailing_days=trailing)
    first, today = D(2025, 1, 1), D(2025, 2, 10)
    held = frozenset(first + n * DAY for n in present)
    plan = plan_export(cfg, Holdings("day", held), today, PLANNER)

    fetched = [b.start + i * DAY for b in plan.batches for i in range(b.units)]
    assert fetched == sorted(set(fetched)), "calendar order, each day once"
    assert all(
        b.end == b.start + (b.units - 1) * DAY and b.units <= per_batch for b in plan.batches
    )
    window = today - trailing * DAY
    low, high = (min(held), max(held)) if held else (None, None)
    for unit in units_between("finest", first, today):
        day = unit.start
        trailing_day = trailing > 0 and day >= window
        done = day in held or (low is not None and low < day < high)
        assert (day in fetched) == (trailing_day or not done), day
        if day in fetched:
            (batch,) = [b for b in plan.batches if b.start <= day <= b.end]
            assert batch.refetch == trailing_day


def inventory(partition_by: tuple[str, ...], schema: dict[str, Any], **kwargs: Any):
    return DatasetInventory(
        "parquet",
        partition_by,
        {c: schema[c] for c in partition_by},
        schema=pl.Schema(schema),
        **kwargs,
    )


def test_holdings_of_a_month_partitioned_dataset_leave_out_the_month_column():
    cfg = export()
    schema = {**cfg.query.spec.schema, "period_start_month": pl.Date}
    held = days(1, 2)
    holdings = holdings_from(
        cfg, inventory(("period_start_month",), schema, partitions=((D(2025, 1, 1),),), days=held)
    )
    assert holdings == Holdings("month", held, cfg.query.spec.schema, "parquet")


def test_holdings_of_no_dataset_are_empty_and_other_partitionings_are_refused():
    cfg = export()
    assert holdings_from(cfg, DatasetInventory(None)) == Holdings()
    for columns in [("location_id",), ("period_start_date", "location_id"), ()]:
        with pytest.raises(vf.DatasetError, match="sync extends only datasets partitioned by"):
            holdings_from(
                cfg, inventory(columns, {"location_id": pl.Int64, **cfg.query.spec.schema})
            )


def test_sync_touches_datasets_only_through_the_dataset_layers_public_operations():
    import ast
    from pathlib import Path

    import vidiframe._datasets as datasets

    root = Path(vf.__file__).parent
    private_layer = {"_hive", "_delta", "_lease", "_storage", "_layout"}
    file_modules = {"shutil", "pathlib", "fcntl", "glob"}
    file_calls = {"remove", "unlink", "rename", "replace", "scandir", "listdir", "walk", "open"}
    files = (
        "_sync.py",
        "_sync_plan.py",
        "_sync_run.py",
        "_sync_schedule.py",
        "_sync_report.py",
        "_sync_snapshots.py",
        "_sync_conform.py",
    )
    for name in files:
        tree = ast.parse((root / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = {alias.name for alias in node.names}
                assert not file_modules & modules, (name, modules)
            elif isinstance(node, ast.ImportFrom) and node.module is not None:
                assert node.module.rsplit(".", 1)[-1] not in private_layer, (name, node.module)
                assert node.module not in file_modules, (name, node.module)
                if node.module == "vidiframe._datasets":
                    imported = {alias.name for alias in node.names}
                    assert imported <= set(datasets.__all__), (name, imported)
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                assert (node.value.id, node.attr) not in {("os", c) for c in file_calls}, name
