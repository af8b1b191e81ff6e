"""Datasets written by write_partitions, read by DuckDB, PyArrow and Spark as they are.

Each engine must see the same rows, the same values and the matching types:
Enum label columns are dictionary-encoded strings in Parquet, so DuckDB and
Spark see them as plain strings (cast back to the Enum here to compare values);
PyArrow and Polars restore the Enum from the Arrow schema in the footer.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pytest
from polars.testing import assert_frame_equal

import vidiframe as vf
from vidiframe._partitioning import by_period
from vidiframe._registry import EXPORTS, ExportSpec

# -- frames (the same recipe as test_datasets.make_frame) ---------------------------------


def _value(dtype: pl.DataType, rnd: random.Random) -> object:
    if isinstance(dtype, pl.Enum):
        return rnd.choice(list(dtype.categories))
    if isinstance(dtype, pl.List):
        return [_value(dtype.inner, rnd) for _ in range(rnd.randrange(3))]
    if isinstance(dtype, pl.Struct):
        return {f.name: _value(f.dtype, rnd) for f in dtype.fields}
    simple = {
        pl.Int64: lambda: rnd.randrange(-5, 100_000),
        pl.Float64: lambda: rnd.uniform(0, 1000),
        pl.String: lambda: rnd.choice(["a", "b/c", "é ü", "x=y", "", "50%"]),
        pl.Boolean: lambda: rnd.random() < 0.5,
        pl.Datetime("us"): lambda: (
            dt.datetime(2025, 3, 1) + dt.timedelta(microseconds=rnd.randrange(3 * 86_400 * 10**6))
        ),
        pl.Date: lambda: dt.date(2025, 3, 1) + dt.timedelta(days=rnd.randrange(3)),
        pl.Time: lambda: dt.time(rnd.randrange(24), rnd.randrange(60), 0, rnd.randrange(10**6)),
    }
    return simple[dtype]()  # type: ignore[index]


def make_frame(spec: ExportSpec, n: int = 24) -> pl.DataFrame:
    rnd = random.Random("/".join(spec.key))
    moments = [
        dt.datetime(2025, 3, 1) + dt.timedelta(hours=5 * i, microseconds=i) for i in range(n)
    ]
    columns: dict[str, list[object]] = {}
    for name, dtype in spec.schema.items():
        field = spec.by_name.get(name)
        nulls = 1 / 7 if field is None or field.nullable else 0
        columns[name] = [None if rnd.random() < nulls else _value(dtype, rnd) for _ in moments]
    columns["period_start"] = list(moments)
    columns["period_start_date"] = [m.date() for m in moments]
    columns["period_start_time"] = [m.time() for m in moments]
    return pl.DataFrame(columns, schema=spec.schema)


def as_written(got: pl.DataFrame, df: pl.DataFrame) -> pl.DataFrame:
    """An engine's result in the frame's column order, Enum labels cast back, rows by time."""
    return got.select(df.columns).cast(dict(df.schema)).sort("period_start")


SPECS = list(EXPORTS.values())
IDS = ["-".join(s.key) for s in SPECS]


@pytest.fixture(params=SPECS, ids=IDS)
def written(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[pl.DataFrame, Path]:
    df = make_frame(request.param)
    vf.write_partitions(df, tmp_path / "ds", partition_by="period_start_date")
    return df, tmp_path / "ds"


# -- DuckDB -------------------------------------------------------------------------------


def duckdb_type(dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.List):
        return f"{duckdb_type(dtype.inner)}[]"
    if isinstance(dtype, pl.Struct):
        fields = ", ".join(f'"{f.name}" {duckdb_type(f.dtype)}' for f in dtype.fields)
        return f"STRUCT({fields})"
    if isinstance(dtype, pl.Enum):
        return "VARCHAR"
    return {
        pl.Int64: "BIGINT",
        pl.Int32: "INTEGER",
        pl.Float64: "DOUBLE",
        pl.String: "VARCHAR",
        pl.Boolean: "BOOLEAN",
        pl.Datetime("us"): "TIMESTAMP",
        pl.Date: "DATE",
        # Polars stores Time in nanoseconds; DuckDB keeps them.
        pl.Time: "TIME_NS",
    }[dtype]  # type: ignore[index]


def test_duckdb_reads_every_export(written: tuple[pl.DataFrame, Path]) -> None:
    df, root = written
    con = duckdb.connect()
    rel = con.read_parquet(str(root / "**" / "*.parquet"), hive_partitioning=True)
    types = dict(zip(rel.columns, (str(t) for t in rel.types), strict=True))
    # DuckDB spells the expected type itself (it quotes field names such as "name").
    assert types == {name: str(duckdb.sqltype(duckdb_type(t))) for name, t in df.schema.items()}
    assert rel.shape == (df.height, df.width)
    assert_frame_equal(as_written(rel.pl(), df), df.sort("period_start"))
    # The partition column is a DATE DuckDB filters on.
    (count,) = con.sql(
        "select count(*) from read_parquet($glob, hive_partitioning = true) "
        "where period_start_date = DATE '2025-03-02'",
        params={"glob": str(root / "**" / "*.parquet")},
    ).fetchall()[0]
    assert count == df.filter(pl.col("period_start_date") == dt.date(2025, 3, 2)).height


# -- PyArrow ------------------------------------------------------------------------------


def test_pyarrow_reads_every_export(written: tuple[pl.DataFrame, Path]) -> None:
    df, root = written
    partitioning = ds.partitioning(pa.schema([("period_start_date", pa.date32())]), flavor="hive")
    dataset = ds.dataset(root, format="parquet", partitioning=partitioning)
    assert dataset.count_rows() == df.height
    table = dataset.to_table()
    got = pl.from_arrow(table)
    assert isinstance(got, pl.DataFrame)
    # Exact Polars dtypes, Enum included: PyArrow keeps the footer's Arrow schema.
    assert dict(got.select(df.columns).schema) == dict(df.schema)
    assert_frame_equal(got.select(df.columns).sort("period_start"), df.sort("period_start"))
    assert dataset.count_rows(filter=ds.field("period_start_date") == dt.date(2025, 3, 2)) == (
        df.filter(pl.col("period_start_date") == dt.date(2025, 3, 2)).height
    )


def test_pyarrow_default_discovery_sees_the_same_rows(tmp_path: Path) -> None:
    df = make_frame(EXPORTS[("viewers", "finest")])
    vf.write_partitions(df, tmp_path, partition_by="period_start_date")
    # Without a partitioning schema PyArrow infers Hive values as text, never dates.
    table = ds.dataset(tmp_path, format="parquet", partitioning="hive").to_table()
    assert table.schema.field("period_start_date").type == pa.string()
    got = pl.from_arrow(table)
    assert isinstance(got, pl.DataFrame)
    got = got.with_columns(pl.col("period_start_date").str.to_date())
    assert_frame_equal(as_written(got, df), df.sort("period_start"))


# -- Spark --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def spark() -> Iterator[object]:
    # CI sets VIDIFRAME_REQUIRE_SPARK: there a missing Java must fail, not skip.
    required = bool(os.environ.get("VIDIFRAME_REQUIRE_SPARK"))
    if shutil.which("java") is None:
        if required:
            pytest.fail("VIDIFRAME_REQUIRE_SPARK is set but no Java runtime is on PATH")
        pytest.skip("Spark needs a Java runtime")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[1]")
        .appName("vidiframe-datasets")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        # Polars' Time columns are Parquet TIME(NANOS): Spark >= 4.1 reads them
        # only with TIME support on (older Spark cannot read them at all).
        .config("spark.sql.timeType.enabled", "true")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def spark_type(dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.List):
        return f"array<{spark_type(dtype.inner)}>"
    if isinstance(dtype, pl.Struct):
        return "struct<" + ",".join(f"{f.name}:{spark_type(f.dtype)}" for f in dtype.fields) + ">"
    if isinstance(dtype, pl.Enum):
        return "string"
    return {
        pl.Int64: "bigint",
        pl.Int32: "int",
        pl.Float64: "double",
        pl.String: "string",
        pl.Boolean: "boolean",
        pl.Datetime("us"): "timestamp_ntz",
        pl.Date: "date",
        pl.Time: "time(9)",
    }[dtype]  # type: ignore[index]


@pytest.mark.spark
@pytest.mark.parametrize(
    ("key", "partition_by"),
    [
        (("viewers", "finest"), "period_start_date"),
        (("viewers_apc", "finest"), "period_start_date"),
        (("retail_analytics_footfall", "finest"), "period_start_date"),
        (("ots", "aggregated"), ["location_id", "period_start_date"]),
    ],
    ids=["viewers", "viewers_apc", "retail_analytics_footfall", "ots-two-levels"],
)
def test_spark_reads_the_dataset(spark, tmp_path: Path, key, partition_by) -> None:
    df = make_frame(EXPORTS[key])
    if key == ("ots", "aggregated"):
        df = df.with_columns(location_id=pl.int_range(pl.len()) % 2 + 4636)
    vf.write_partitions(df, tmp_path, partition_by=partition_by)
    sdf = spark.read.parquet(str(tmp_path))
    types = {f.name: f.dataType.simpleString() for f in sdf.schema.fields}
    expected = {name: spark_type(dtype) for name, dtype in df.schema.items()}
    if "location_id" in partition_by:
        # Spark infers partition types from directory names: the smallest integer that fits.
        expected["location_id"] = "int"
    assert types == expected
    assert sdf.count() == df.height
    got = pl.from_arrow(sdf.toArrow())
    assert isinstance(got, pl.DataFrame)
    assert_frame_equal(as_written(got, df), df.sort("period_start"))
    day2 = sdf.filter("period_start_date = DATE'2025-03-02'").count()
    assert day2 == df.filter(pl.col("period_start_date") == dt.date(2025, 3, 2)).height


@pytest.mark.spark
def test_spark_reads_monthly_partitions(spark, tmp_path: Path) -> None:
    df = make_frame(EXPORTS[("ots", "aggregated")], n=200)  # March and April
    vf.write_partitions(df, tmp_path, partition_by=by_period("month"))
    sdf = spark.read.parquet(str(tmp_path))
    assert {f.name: f.dataType.simpleString() for f in sdf.schema.fields}[
        "period_start_month"
    ] == "date"
    months = sorted(r[0] for r in sdf.groupBy("period_start_month").count().collect())
    assert months == [dt.date(2025, 3, 1), dt.date(2025, 4, 1)]
    got = pl.from_arrow(sdf.toArrow())
    assert isinstance(got, pl.DataFrame)
    assert_frame_equal(as_written(got, df), df.sort("period_start"))


@pytest.mark.spark
def test_spark_reads_an_evolved_dataset_with_merge_schema(spark, tmp_path: Path) -> None:
    day1, day2 = dt.date(2025, 3, 1), dt.date(2025, 3, 2)
    old = pl.DataFrame({"period_start_date": [day1, day1], "n": [1, 2]})
    new = pl.DataFrame({"period_start_date": [day2], "n": [3], "glasses": [True]})
    vf.write_partitions(old, tmp_path, partition_by="period_start_date")
    vf.write_partitions(new, tmp_path, partition_by="period_start_date")  # evolves
    sdf = spark.read.option("mergeSchema", "true").parquet(str(tmp_path))
    rows = sorted((r["period_start_date"], r["n"], r["glasses"]) for r in sdf.collect())
    assert rows == [(day1, 1, None), (day1, 2, None), (day2, 3, True)]
