"""Schema evolution as a policy: evolve (default), error, drop; conflicts before any write."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from polars.testing import assert_frame_equal

import vidiframe as vf

DAY1, DAY2, DAY3 = dt.date(2025, 3, 1), dt.date(2025, 3, 2), dt.date(2025, 3, 3)


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize("fmt", ["parquet", "delta"])
def test_a_new_column_evolves_the_dataset(tmp_path: Path, make_frame, fmt: str) -> None:
    root = tmp_path / "ds"
    old = make_frame([DAY1, DAY2], seed=1)
    vf.write_partitions(old, root, partition_by="period_start_date", format=fmt)
    # The API added a field: the new frame has it, typed, with a null in places.
    new = make_frame([DAY2, DAY3], seed=2)
    new = new.with_columns(
        glasses=pl.Series([None if i % 3 == 0 else i % 2 == 0 for i in range(new.height)])
    )
    vf.write_partitions(new, root, partition_by="period_start_date", format=fmt)
    got = vf.scan_partitions(root).collect()
    expected = pl.concat(
        [old.filter(pl.col("period_start_date") == DAY1).with_columns(glasses=None), new],
        how="vertical_relaxed",
    )
    assert_frame_equal(got, expected)
    inventory = vf.read_inventory(root)
    assert inventory.schema is not None
    assert inventory.schema["glasses"] == pl.Boolean
    # The next old-style frame (without the column) is a removed column: refused.
    with pytest.raises(vf.SchemaConflictError, match="only in the dataset: glasses"):
        vf.write_partitions(
            make_frame([DAY1], seed=3), root, partition_by="period_start_date", format=fmt
        )


def test_evolved_hive_dataset_for_other_engines(tmp_path: Path, make_frame) -> None:
    root = tmp_path / "ds"
    vf.write_partitions(make_frame([DAY1], seed=1), root, partition_by="period_start_date")
    new = make_frame([DAY2], seed=2).with_columns(extra=pl.lit("x"))
    vf.write_partitions(new, root, partition_by="period_start_date")
    # DuckDB: union_by_name fills the older files' missing column with NULL.
    rows = duckdb.sql(
        f"SELECT period_start_date, count(extra) AS with_extra, count(*) AS n "
        f"FROM read_parquet('{root}/**/*.parquet', hive_partitioning = true, union_by_name = true) "
        "GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert [(str(d), a, n) for d, a, n in rows] == [
        (str(DAY1), 0, make_frame([DAY1], seed=1).height),
        (str(DAY2), new.height, new.height),
    ]
    # PyArrow: give the dataset the newest file's schema (or unify the schemas).
    newest = pq.read_schema(root / f"period_start_date={DAY2}" / "part-0.parquet")
    table = ds.dataset(root, schema=newest, format="parquet", partitioning="hive").to_table()
    assert table.column("extra").null_count == make_frame([DAY1], seed=1).height


def test_schema_mode_error_refuses_new_columns(tmp_path: Path, make_frame) -> None:
    root = tmp_path / "ds"
    vf.write_partitions(make_frame([DAY1]), root, partition_by="period_start_date")
    before = snapshot(tmp_path)
    with pytest.raises(vf.SchemaConflictError, match="only in the frame: extra") as info:
        vf.write_partitions(
            make_frame([DAY2]).with_columns(extra=pl.lit(1)),
            root,
            partition_by="period_start_date",
            schema_mode="error",
        )
    assert info.value.column == "extra"
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("fmt", ["parquet", "delta"])
def test_schema_mode_drop_leaves_new_columns_out_with_a_warning(
    tmp_path: Path, make_frame, fmt: str
) -> None:
    root = tmp_path / "ds"
    old = make_frame([DAY1])
    vf.write_partitions(old, root, partition_by="period_start_date", format=fmt)
    new = make_frame([DAY2], seed=2)
    with pytest.warns(vf.DroppedColumnsWarning, match=r"extra \(Int32\)") as record:
        vf.write_partitions(
            new.with_columns(extra=pl.lit(1, pl.Int32)),
            root,
            partition_by="period_start_date",
            format=fmt,
            schema_mode="drop",
        )
    assert record[0].message.columns == ("extra",)  # type: ignore[union-attr]
    # The warning points at the caller's line, not inside vidiframe.
    assert record[0].filename == __file__
    assert_frame_equal(vf.scan_partitions(root).collect(), pl.concat([old, new]))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda df: df.with_columns(pl.col("watcher_count").cast(pl.Float64)), "watcher_count"),
        (lambda df: df.drop("contents"), "only in the dataset: contents"),
        (lambda df: df.with_columns(pl.col("location_id").cast(pl.Int64)), "location_id"),
    ],
    ids=["type", "removed", "unsigned to signed"],
)
@pytest.mark.parametrize("schema_mode", ["evolve", "drop"])
def test_changed_or_removed_columns_conflict_whatever_the_mode(
    tmp_path: Path, make_frame, change, message: str, schema_mode: str
) -> None:
    root = tmp_path / "ds"
    vf.write_partitions(make_frame([DAY1]), root, partition_by="period_start_date")
    before = snapshot(tmp_path)
    with pytest.raises(vf.SchemaConflictError, match=message):
        vf.write_partitions(
            change(make_frame([DAY1, DAY2], seed=2)),
            root,
            partition_by="period_start_date",
            schema_mode=schema_mode,  # type: ignore[arg-type]
        )
    assert snapshot(tmp_path) == before


def test_unknown_modes_are_invalid_requests(tmp_path: Path, make_frame) -> None:
    for kwargs in ({"mode": "merge"}, {"format": "orc"}, {"schema_mode": "loose"}):
        with pytest.raises(vf.InvalidRequestError, match=next(iter(kwargs))):
            vf.write_partitions(
                make_frame([DAY1]), tmp_path / "ds", partition_by="period_start_date", **kwargs
            )
    assert not (tmp_path / "ds").exists()


def test_evolution_on_s3(s3, bucket, make_frame) -> None:
    url, opts = f"s3://{bucket}/lake/ds", s3.options()
    old = make_frame([DAY1])
    vf.write_partitions(old, url, partition_by="period_start_date", storage_options=opts)
    new = make_frame([DAY2], seed=2).with_columns(extra=pl.lit("x"))
    vf.write_partitions(new, url, partition_by="period_start_date", storage_options=opts)
    got = vf.scan_partitions(url, storage_options=opts).collect()
    assert_frame_equal(got, pl.concat([old.with_columns(extra=pl.lit(None, pl.String)), new]))
