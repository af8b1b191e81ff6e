"""A column null in every row (Polars' ``Null`` dtype) has no type yet: it never locks a dataset."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import deltalake
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import vidiframe as vf

from .test_evolution import snapshot

DAY1, DAY2, DAY3 = dt.date(2025, 3, 1), dt.date(2025, 3, 2), dt.date(2025, 3, 3)
BY = "period_start_date"


def with_unset(df: pl.DataFrame) -> pl.DataFrame:
    """The frame with a field the API started sending, null in every row so far."""
    return df.with_columns(glasses=pl.lit(None))


def with_glasses(df: pl.DataFrame) -> pl.DataFrame:
    """The frame with the same field, now with values (and a null)."""
    values = [None if i % 3 == 0 else f"g{i}" for i in range(df.height)]
    return df.with_columns(glasses=pl.Series(values, dtype=pl.String))


@pytest.mark.parametrize("schema_mode", ["evolve", "error", "drop"])
@pytest.mark.parametrize("fmt", ["parquet", "delta"])
def test_a_stored_null_column_takes_the_type_of_the_first_values(
    tmp_path: Path, make_frame, fmt: str, schema_mode: str
) -> None:
    root = tmp_path / "ds"
    old = with_unset(make_frame([DAY1, DAY2], seed=1))
    assert old.schema["glasses"] == pl.Null
    vf.write_partitions(old, root, partition_by=BY, format=fmt)
    assert_frame_equal(vf.scan_partitions(root).collect(), old)
    inventory = vf.read_inventory(root)
    assert inventory.schema is not None
    assert inventory.schema["glasses"] == pl.Null

    new = with_glasses(make_frame([DAY2, DAY3], seed=2))
    # Not a change of a known type: allowed under every schema_mode.
    vf.write_partitions(new, root, partition_by=BY, format=fmt, schema_mode=schema_mode)  # type: ignore[arg-type]
    got = vf.scan_partitions(root).collect()
    expected = pl.concat(
        [old.filter(pl.col(BY) == DAY1).with_columns(pl.col("glasses").cast(pl.String)), new]
    )
    assert_frame_equal(got, expected)
    assert got["glasses"].to_list()[-2:] == new["glasses"].to_list()[-2:]
    inventory = vf.read_inventory(root)
    assert inventory.schema is not None
    assert inventory.schema["glasses"] == pl.String

    # Once typed, the column's type is known: another one is a conflict.
    before = snapshot(tmp_path)
    with pytest.raises(
        vf.SchemaConflictError, match="glasses: frame has Int64, dataset has String"
    ):
        vf.write_partitions(
            make_frame([DAY1], seed=3).with_columns(glasses=pl.lit(1, pl.Int64)),
            root,
            partition_by=BY,
            format=fmt,
        )
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("schema_mode", ["evolve", "error"])
@pytest.mark.parametrize("fmt", ["parquet", "delta"])
def test_a_null_column_of_the_frame_is_written_in_the_stored_type(
    tmp_path: Path, make_frame, fmt: str, schema_mode: str
) -> None:
    root = tmp_path / "ds"
    typed = with_glasses(make_frame([DAY1, DAY2], seed=1))
    vf.write_partitions(typed, root, partition_by=BY, format=fmt)
    later = with_unset(make_frame([DAY2, DAY3], seed=2))
    vf.write_partitions(later, root, partition_by=BY, format=fmt, schema_mode=schema_mode)  # type: ignore[arg-type]
    got = vf.scan_partitions(root).collect()
    expected = pl.concat(
        [
            typed.filter(pl.col(BY) == DAY1),
            later.with_columns(pl.col("glasses").cast(pl.String)),
        ]
    )
    assert_frame_equal(got, expected)
    assert (
        got.filter(pl.col(BY) == DAY1)["glasses"].to_list()
        == typed.filter(pl.col(BY) == DAY1)["glasses"].to_list()
    )
    inventory = vf.read_inventory(root)
    assert inventory.schema is not None
    assert inventory.schema["glasses"] == pl.String
    # The new partitions' files store the column typed, not as Null.
    (file,) = (root / f"{BY}={DAY3}").glob("*.parquet")
    assert pl.read_parquet_schema(file)["glasses"] == pl.String


@pytest.mark.parametrize("fmt", ["parquet", "delta"])
def test_two_nulls_stay_null_until_values_come(tmp_path: Path, make_frame, fmt: str) -> None:
    root = tmp_path / "ds"
    first = with_unset(make_frame([DAY1], seed=1))
    second = with_unset(make_frame([DAY2], seed=2))
    vf.write_partitions(first, root, partition_by=BY, format=fmt)
    vf.write_partitions(second, root, partition_by=BY, format=fmt, schema_mode="error")
    assert_frame_equal(vf.scan_partitions(root).collect(), pl.concat([first, second]))
    if fmt == "delta":
        # deltalake stores a Null column as Delta's "void" type (Spark's NullType).
        field = next(f for f in deltalake.DeltaTable(root).schema().fields if f.name == "glasses")
        assert str(field.type) == 'PrimitiveType("void")'
    third = with_glasses(make_frame([DAY3], seed=3))
    vf.write_partitions(third, root, partition_by=BY, format=fmt)
    got = vf.scan_partitions(root).collect()
    assert got.schema["glasses"] == pl.String
    assert (
        got["glasses"].to_list()
        == [None] * (first.height + second.height) + third["glasses"].to_list()
    )
    if fmt == "delta":
        # Other engines see the type too: the table's own schema evolved.
        field = next(f for f in deltalake.DeltaTable(root).schema().fields if f.name == "glasses")
        assert str(field.type) == 'PrimitiveType("string")'


@pytest.mark.parametrize("fmt", ["parquet", "delta"])
def test_replace_days_in_a_month_keeps_the_untyped_rows_and_types_them(
    tmp_path: Path, make_frame, fmt: str
) -> None:
    root = tmp_path / "ds"
    month = vf.by_period("month")
    old = with_unset(make_frame([DAY1, DAY2], seed=1))
    vf.write_partitions(old, root, partition_by=month, format=fmt)
    new = with_glasses(make_frame([DAY2], seed=2))
    changes = vf.replace_days(new, root, days=[DAY2], partition_by=month, format=fmt)
    assert len(changes.written) == 1
    got = vf.scan_partitions(root).collect().drop("period_start_month", strict=False)
    expected = pl.concat(
        [old.filter(pl.col(BY) == DAY1).with_columns(pl.col("glasses").cast(pl.String)), new]
    )
    assert_frame_equal(got.select(expected.columns), expected)


def test_hive_files_written_in_the_same_second_give_the_typed_schema(
    tmp_path: Path, make_frame
) -> None:
    # Object stores keep modification times to the second: the newest file of a
    # dataset may share its time with an older one that still has the Null column.
    root = tmp_path / "ds"
    vf.write_partitions(with_unset(make_frame([DAY1])), root, partition_by=BY)
    vf.write_partitions(with_glasses(make_frame([DAY2], seed=2)), root, partition_by=BY)
    # The typed file sorts first in a listing: the other order would pass by luck.
    files = sorted(root.rglob("part-0.parquet"), reverse=True)
    for file in files:
        os.utime(file, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    inventory = vf.read_inventory(root)
    assert inventory.schema is not None
    assert inventory.schema["glasses"] == pl.String
    got = vf.scan_partitions(root).collect()
    assert got.schema["glasses"] == pl.String
    # And a Null frame written now is cast to String, not stored as Null again.
    vf.write_partitions(with_unset(make_frame([DAY3], seed=3)), root, partition_by=BY)
    assert pl.read_parquet_schema(root / f"{BY}={DAY3}" / "part-0.parquet")["glasses"] == pl.String


@pytest.mark.parametrize("fmt", ["parquet", "delta"])
def test_null_columns_on_s3(s3, bucket, make_frame, fmt: str) -> None:
    url, opts = f"s3://{bucket}/lake/{fmt}", s3.options()
    old = with_unset(make_frame([DAY1]))
    vf.write_partitions(old, url, partition_by=BY, format=fmt, storage_options=opts)
    new = with_glasses(make_frame([DAY2], seed=2))
    vf.write_partitions(new, url, partition_by=BY, format=fmt, storage_options=opts)
    last = with_unset(make_frame([DAY3], seed=3))
    vf.write_partitions(last, url, partition_by=BY, format=fmt, storage_options=opts)
    got = vf.scan_partitions(url, storage_options=opts).collect()
    expected = pl.concat([old, new, last], how="vertical_relaxed")
    assert expected.schema["glasses"] == pl.String
    assert_frame_equal(got, expected)


def test_other_engines_read_the_null_and_the_typed_files_as_one_table(
    tmp_path: Path, make_frame
) -> None:
    import duckdb

    hive, delta = tmp_path / "hive", tmp_path / "delta"
    for root, fmt in ((hive, "parquet"), (delta, "delta")):
        vf.write_partitions(
            with_unset(make_frame([DAY1])).select(BY, "watcher_count", "glasses"),
            root,
            partition_by=BY,
            format=fmt,
        )
    # Delta's "void" column, through deltalake's PyArrow dataset, into DuckDB.
    dataset = deltalake.DeltaTable(delta).to_pyarrow_dataset()
    assert str(dataset.schema.field("glasses").type) == "null"
    rows = duckdb.sql("SELECT count(*), count(glasses) FROM dataset").fetchall()
    assert rows == [(make_frame([DAY1]).height, 0)]
    new = with_glasses(make_frame([DAY2], seed=2)).select(BY, "watcher_count", "glasses")
    vf.write_partitions(new, hive, partition_by=BY)
    got = duckdb.sql(
        f"SELECT period_start_date, glasses FROM read_parquet('{hive}/**/*.parquet', "
        "hive_partitioning = true, union_by_name = true) ORDER BY period_start_date, watcher_count"
    ).fetchall()
    assert got == [(DAY1, None)] * make_frame([DAY1]).height + list(
        zip(new[BY].to_list(), new["glasses"].to_list(), strict=True)
    )


# -- Null nested in a column's type ------------------------------------------------------------

TAGS = pl.List(pl.String)
SEEN = pl.Struct({"camera": pl.String, "frames": pl.Int64})


def with_nested_unset(df: pl.DataFrame) -> pl.DataFrame:
    """Fields whose nested parts have no type yet: lists always empty, a sub-field always null."""
    frames = [{"camera": None, "frames": i} for i in range(df.height)]
    return df.with_columns(
        tags=pl.Series([[] for _ in range(df.height)], dtype=pl.List(pl.Null)),
        seen=pl.Series(frames, dtype=pl.Struct({"camera": pl.Null, "frames": pl.Int64})),
    )


def with_nested_values(df: pl.DataFrame) -> pl.DataFrame:
    """The same fields with values (and an empty list, a null camera)."""
    tags = [[f"t{i}", "x"] if i % 2 else [] for i in range(df.height)]
    frames = [{"camera": f"cam{i}" if i % 3 else None, "frames": 10 + i} for i in range(df.height)]
    return df.with_columns(tags=pl.Series(tags, dtype=TAGS), seen=pl.Series(frames, dtype=SEEN))


@pytest.mark.parametrize("schema_mode", ["evolve", "error", "drop"])
@pytest.mark.parametrize("fmt", ["parquet", "delta"])
def test_nested_nulls_of_the_frame_take_the_stored_type(
    tmp_path: Path, make_frame, fmt: str, schema_mode: str
) -> None:
    # Before, List(Null) against a stored List(String) was a SchemaConflictError.
    root = tmp_path / "ds"
    typed = with_nested_values(make_frame([DAY1, DAY2], seed=1))
    vf.write_partitions(typed, root, partition_by=BY, format=fmt)
    later = with_nested_unset(make_frame([DAY2, DAY3], seed=2))
    assert later.schema["tags"] == pl.List(pl.Null)
    vf.write_partitions(later, root, partition_by=BY, format=fmt, schema_mode=schema_mode)  # type: ignore[arg-type]

    got = vf.scan_partitions(root).collect()
    expected = pl.concat(
        [
            typed.filter(pl.col(BY) == DAY1),
            later.with_columns(pl.col("tags").cast(TAGS), pl.col("seen").cast(SEEN)),
        ]
    )
    assert_frame_equal(got, expected)
    assert got.filter(pl.col(BY) == DAY3)["seen"].struct.field("frames").to_list() == list(
        range(later.height - later.filter(pl.col(BY) == DAY2).height, later.height)
    )
    inventory = vf.read_inventory(root)
    assert inventory.schema is not None
    assert (inventory.schema["tags"], inventory.schema["seen"]) == (TAGS, SEEN)
    # The new partitions' files store the stored types, not the Null parts.
    (file,) = (root / f"{BY}={DAY3}").glob("*.parquet")
    stored = pl.read_parquet_schema(file)
    assert (stored["tags"], stored["seen"]) == (TAGS, SEEN)


@pytest.mark.parametrize("schema_mode", ["evolve", "error", "drop"])
@pytest.mark.parametrize("fmt", ["parquet", "delta"])
def test_stored_nested_nulls_take_the_type_of_the_first_values(
    tmp_path: Path, make_frame, fmt: str, schema_mode: str
) -> None:
    root = tmp_path / "ds"
    old = with_nested_unset(make_frame([DAY1, DAY2], seed=1))
    vf.write_partitions(old, root, partition_by=BY, format=fmt)
    inventory = vf.read_inventory(root)
    assert inventory.schema is not None
    assert inventory.schema["tags"] == pl.List(pl.Null)

    new = with_nested_values(make_frame([DAY2, DAY3], seed=2))
    vf.write_partitions(new, root, partition_by=BY, format=fmt, schema_mode=schema_mode)  # type: ignore[arg-type]
    got = vf.scan_partitions(root).collect()
    kept = old.filter(pl.col(BY) == DAY1)
    expected = pl.concat(
        [kept.with_columns(pl.col("tags").cast(TAGS), pl.col("seen").cast(SEEN)), new]
    )
    assert_frame_equal(got, expected)
    assert got["tags"].to_list() == [[]] * kept.height + new["tags"].to_list()
    inventory = vf.read_inventory(root)
    assert inventory.schema is not None
    assert (inventory.schema["tags"], inventory.schema["seen"]) == (TAGS, SEEN)
    if fmt == "delta":
        # Other engines see the types too: the table's own schema evolved.
        fields = {f.name: str(f.type) for f in deltalake.DeltaTable(root).schema().fields}
        assert 'PrimitiveType("string")' in fields["tags"]
        assert "void" not in fields["tags"] + fields["seen"]

    # An always-empty list again, once typed: the stored type, nothing refused.
    vf.write_partitions(
        with_nested_unset(make_frame([DAY1], seed=3)), root, partition_by=BY, format=fmt
    )
    assert vf.scan_partitions(root).collect().schema["tags"] == TAGS
    # A known type changed inside a list is still a conflict.
    before = snapshot(tmp_path)
    with pytest.raises(
        vf.SchemaConflictError, match=r"tags: frame has List\(Int64\), dataset has List\(String\)"
    ):
        vf.write_partitions(
            make_frame([DAY1], seed=3).with_columns(
                tags=pl.lit([1], pl.List(pl.Int64)), seen=pl.lit(None, SEEN)
            ),
            root,
            partition_by=BY,
            format=fmt,
        )
    assert snapshot(tmp_path) == before


def test_hive_files_written_in_the_same_second_give_the_nested_types(
    tmp_path: Path, make_frame
) -> None:
    # As for a top-level Null column: the file whose nested parts are typed wins.
    root = tmp_path / "ds"
    vf.write_partitions(with_nested_unset(make_frame([DAY1])), root, partition_by=BY)
    vf.write_partitions(with_nested_values(make_frame([DAY2], seed=2)), root, partition_by=BY)
    # The untyped file (the first day) comes first in a listing: the other order
    # would pass by luck.
    for file in root.rglob("part-0.parquet"):
        os.utime(file, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    inventory = vf.read_inventory(root)
    assert inventory.schema is not None
    assert (inventory.schema["tags"], inventory.schema["seen"]) == (TAGS, SEEN)
    got = vf.scan_partitions(root).collect()
    assert (
        got["tags"].to_list()[-2:]
        == with_nested_values(make_frame([DAY2], seed=2))["tags"].to_list()[-2:]
    )


@pytest.mark.parametrize(
    ("frame", "stored", "fitted"),
    [
        (pl.Null(), pl.Date(), pl.Date()),
        (pl.List(pl.Null()), pl.List(pl.String()), pl.List(pl.String())),
        (pl.List(pl.List(pl.Int8())), pl.List(pl.Null()), pl.List(pl.List(pl.Int8()))),
        (pl.Array(pl.Null(), 2), pl.Array(pl.Float64(), 2), pl.Array(pl.Float64(), 2)),
        (pl.Array(pl.Null(), 2), pl.Array(pl.Float64(), 3), None),
        (
            pl.Struct({"a": pl.Null(), "b": pl.List(pl.String())}),
            pl.Struct({"a": pl.UInt32(), "b": pl.List(pl.Null())}),
            pl.Struct({"a": pl.UInt32(), "b": pl.List(pl.String())}),
        ),
        # Other fields, or the same in another order, are not the same struct.
        (pl.Struct({"a": pl.Null()}), pl.Struct({"a": pl.Int64(), "b": pl.Int64()}), None),
        (
            pl.Struct({"a": pl.Null(), "b": pl.Int64()}),
            pl.Struct({"b": pl.Int64(), "a": pl.Int64()}),
            None,
        ),
        (pl.List(pl.Null()), pl.String(), None),
        (pl.Datetime("us", "UTC"), pl.Datetime("us"), None),
    ],
)
def test_null_parts_take_the_other_sides_type_and_nothing_else_does(
    frame: pl.DataType, stored: pl.DataType, fitted: pl.DataType | None
) -> None:
    from vidiframe._null_types import fill_nulls

    for got in (fill_nulls(frame, stored), fill_nulls(stored, frame)):
        assert got is None if fitted is None else got == fitted
