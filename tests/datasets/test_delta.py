"""Delta Lake tables: one commit per call, predicate overwrites, dtypes restored, other readers."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import duckdb
import polars as pl
import pytest
from deltalake import DeltaTable, write_deltalake
from deltalake.exceptions import CommitFailedError
from polars.testing import assert_frame_equal

import vidiframe as vf

DAY1, DAY2, DAY3 = dt.date(2025, 3, 1), dt.date(2025, 3, 2), dt.date(2025, 3, 3)


@pytest.fixture(params=["local", "s3"])
def target(request, tmp_path: Path) -> tuple[str, dict[str, str] | None]:
    if request.param == "local":
        return str(tmp_path / "table"), None
    s3 = request.getfixturevalue("s3")
    return f"s3://{s3.new_bucket()}/lake/table", s3.options()


def files_by_partition(url: str, options: dict[str, str] | None) -> dict[str, set[str]]:
    table = DeltaTable(url, storage_options=_delta(options))
    out: dict[str, set[str]] = {}
    for path in table.file_uris():
        part = next(p for p in path.split("/") if p.startswith("period_start_date="))
        out.setdefault(part, set()).add(path)
    return out


def _delta(options: dict[str, str] | None) -> dict[str, str] | None:
    # deltalake takes the same keys; Polars' retry keys are left to it.
    if options is None:
        return None
    return {k: v for k, v in options.items() if k not in ("max_retries", "retry_timeout_ms")}


def test_round_trip_restores_the_frame(target, make_frame) -> None:
    url, options = target
    df = make_frame([DAY1, DAY2, DAY3])
    written = vf.write_partitions(
        df, url, partition_by="period_start_date", format="delta", storage_options=options
    )
    assert len(written) == 3
    back = vf.scan_partitions(url, storage_options=options).collect()
    assert_frame_equal(back, df)
    inventory = vf.read_inventory(url, storage_options=options)
    assert inventory.format == "delta"
    assert inventory.partitions == ((DAY1,), (DAY2,), (DAY3,))
    assert inventory.days == {DAY1, DAY2, DAY3}
    assert inventory.schema == df.schema


def test_one_commit_per_call_touching_only_the_partitions_written(target, make_frame) -> None:
    url, options = target
    vf.write_partitions(
        make_frame([DAY1, DAY2, DAY3], seed=1),
        url,
        partition_by="period_start_date",
        format="delta",
        storage_options=options,
    )
    before = files_by_partition(url, options)
    version = DeltaTable(url, storage_options=_delta(options)).version()
    new = make_frame([DAY2], seed=2)
    vf.write_partitions(
        new, url, partition_by="period_start_date", format="delta", storage_options=options
    )
    table = DeltaTable(url, storage_options=_delta(options))
    assert table.version() == version + 1
    after = files_by_partition(url, options)
    # Only DAY2's files changed: the predicate overwrite replaced that partition.
    assert after[f"period_start_date={DAY1}"] == before[f"period_start_date={DAY1}"]
    assert after[f"period_start_date={DAY3}"] == before[f"period_start_date={DAY3}"]
    assert after[f"period_start_date={DAY2}"].isdisjoint(before[f"period_start_date={DAY2}"])
    history = table.history(1)[0]
    assert history["operation"] == "WRITE"
    assert "period_start_date" in history["operationParameters"]["predicate"]
    got = vf.scan_partitions(url, storage_options=options).collect()
    expected = make_frame([DAY1, DAY2, DAY3], seed=1).filter(pl.col("period_start_date") != DAY2)
    assert_frame_equal(
        got.sort("period_start_date", maintain_order=True),
        pl.concat([expected, new]).sort("period_start_date", maintain_order=True),
    )


def test_other_engines_read_the_table_in_deltas_types(tmp_path: Path, make_frame) -> None:
    url = str(tmp_path / "table")
    df = make_frame([DAY1, DAY2])
    vf.write_partitions(df, url, partition_by="period_start_date", format="delta")
    # Polars' own Delta reader: the stored types, sensible for every engine.
    plain = pl.scan_delta(url).collect().sort("watcher_count")
    assert plain.schema["period_start_time"] == pl.String
    assert plain.schema["gender_label"] == pl.String
    assert plain.schema["location_id"] == pl.Int64  # UInt32 widened, not reinterpreted
    ordered = df.sort("watcher_count")
    # Readable text any engine can parse back to the same time of day.
    texts = plain["period_start_time"]
    assert texts.str.contains(r"^\d\d:\d\d:\d\d(\.\d+)?$").all()
    assert texts.str.to_time("%H:%M:%S%.f").equals(ordered["period_start_time"])
    assert plain["gender_label"].to_list() == ordered["gender_label"].cast(pl.String).to_list()
    # deltalake's PyArrow dataset.
    arrow = DeltaTable(url).to_pyarrow_dataset().to_table()
    assert sorted(arrow.column("watcher_count").to_pylist()) == sorted(
        df["watcher_count"].to_list()
    )
    # DuckDB through Arrow.
    dataset = DeltaTable(url).to_pyarrow_dataset()  # noqa: F841 - DuckDB reads it by name
    rows = duckdb.sql(
        "SELECT period_start_date, count(*) AS n, sum(watcher_count) AS s FROM dataset "
        "GROUP BY 1 ORDER BY 1"
    ).fetchall()
    expected = (
        df.group_by("period_start_date")
        .agg(n=pl.len(), s=pl.col("watcher_count").sum())
        .sort("period_start_date")
        .rows()
    )
    assert [(d, n, int(s)) for d, n, s in rows] == [(d, n, s) for d, n, s in expected]


def test_modes_on_delta(tmp_path: Path, make_frame) -> None:
    url = str(tmp_path / "table")
    old = make_frame([DAY1], seed=1)
    vf.write_partitions(old, url, partition_by="period_start_date", format="delta")
    new = make_frame([DAY1, DAY2], seed=2)
    version = DeltaTable(url).version()
    with pytest.raises(vf.DatasetError, match="1 partition"):
        vf.write_partitions(
            new, url, partition_by="period_start_date", format="delta", mode="error"
        )
    assert DeltaTable(url).version() == version
    vf.write_partitions(new, url, partition_by="period_start_date", format="delta", mode="skip")
    got = vf.scan_partitions(url).collect().sort("period_start_date", maintain_order=True)
    assert_frame_equal(got, pl.concat([old, new.filter(pl.col("period_start_date") == DAY2)]))


def test_formats_are_not_mixed(tmp_path: Path, make_frame) -> None:
    df = make_frame([DAY1])
    vf.write_partitions(df, tmp_path / "hive", partition_by="period_start_date")
    with pytest.raises(vf.DatasetError, match="holds a Hive Parquet dataset"):
        vf.write_partitions(df, tmp_path / "hive", partition_by="period_start_date", format="delta")
    vf.write_partitions(df, tmp_path / "delta", partition_by="period_start_date", format="delta")
    with pytest.raises(vf.DatasetError, match="holds a Delta table"):
        vf.write_partitions(df, tmp_path / "delta", partition_by="period_start_date")


def test_schema_conflict_makes_no_commit(tmp_path: Path, make_frame) -> None:
    url = str(tmp_path / "table")
    vf.write_partitions(make_frame([DAY1]), url, partition_by="period_start_date", format="delta")
    version = DeltaTable(url).version()
    bad = make_frame([DAY2]).with_columns(pl.col("watcher_count").cast(pl.Float64))
    with pytest.raises(vf.SchemaConflictError, match="watcher_count"):
        vf.write_partitions(bad, url, partition_by="period_start_date", format="delta")
    assert DeltaTable(url).version() == version


def test_delta_conflict_detection_between_two_writers(tmp_path: Path, make_frame) -> None:
    """What Delta guarantees without vidiframe's lock: a stale overlapping overwrite fails."""
    url = str(tmp_path / "table")
    vf.write_partitions(
        make_frame([DAY1, DAY2]), url, partition_by="period_start_date", format="delta"
    )
    stale = DeltaTable(url)  # a second writer that read the table at this version
    vf.write_partitions(
        make_frame([DAY1], seed=2), url, partition_by="period_start_date", format="delta"
    )
    version = DeltaTable(url).version()
    late = make_frame([DAY1], seed=3).with_columns(
        pl.col("period_start_time").dt.to_string("%H:%M:%S%.f"),
        pl.col("gender_label").cast(pl.String),
        pl.col("location_id").cast(pl.Int64),
    )
    with pytest.raises(CommitFailedError):
        write_deltalake(
            stale, late.to_arrow(), mode="overwrite", predicate=f"period_start_date = '{DAY1}'"
        )
    assert DeltaTable(url).version() == version
    # A disjoint partition does not conflict: Delta retries the commit on top.
    other = late.with_columns(pl.lit(DAY3).alias("period_start_date"))
    write_deltalake(
        DeltaTable(url, version=version - 1),
        other.to_arrow(),
        mode="overwrite",
        predicate=f"period_start_date = '{DAY3}'",
    )
    assert DeltaTable(url).version() == version + 1
    got = vf.scan_partitions(url).collect()
    assert set(got["period_start_date"].unique()) == {DAY1, DAY2, DAY3}
    assert_frame_equal(got.filter(pl.col("period_start_date") == DAY1), make_frame([DAY1], seed=2))


@pytest.mark.parametrize("with_extra", [False, True])
def test_a_schema_evolved_since_the_table_was_read_is_never_overwritten(
    tmp_path: Path, make_frame, with_extra: bool
) -> None:
    """Another writer evolved the schema after this one read the table: refused, not lost."""
    from vidiframe import _delta
    from vidiframe._layout import partition_frame
    from vidiframe._storage import parse_root

    url = str(tmp_path / "table")
    location = parse_root(url)
    vf.write_partitions(make_frame([DAY1]), url, partition_by="period_start_date", format="delta")
    stale = _delta.open_table(location, {})  # what this writer read before committing
    evolved = make_frame([DAY2], seed=2).with_columns(extra=pl.lit("x"))
    vf.write_partitions(evolved, url, partition_by="period_start_date", format="delta")
    version = DeltaTable(url).version()
    late = make_frame([DAY1], seed=3)
    if with_extra:
        late = late.with_columns(extra=pl.lit("y"))
    frame, layout = partition_frame(late, "period_start_date")
    with pytest.raises(vf.DatasetError, match="nothing was"):
        _delta.write(frame, layout, location, {}, table=stale, mode="replace", schema_mode="evolve")
    assert DeltaTable(url).version() == version
    got = vf.scan_partitions(url).collect()
    assert got.filter(pl.col("period_start_date") == DAY2)["extra"].to_list() == ["x"] * 5
    assert_frame_equal(
        got.filter(pl.col("period_start_date") == DAY1).drop("extra"), make_frame([DAY1])
    )


def test_a_history_that_cannot_be_read_is_a_dataset_error(
    tmp_path: Path, make_frame, monkeypatch: pytest.MonkeyPatch
) -> None:
    """deltalake's history reads the newest commits from the store: its OSError is wrapped."""
    url = str(tmp_path / "table")
    vf.write_partitions(make_frame([DAY1]), url, partition_by="period_start_date", format="delta")

    def unreachable(self: DeltaTable, limit: int | None = None) -> list:
        raise OSError("Generic S3 error: error sending request")

    monkeypatch.setattr(DeltaTable, "history", unreachable)
    expected = re.escape(f"could not read the history of the Delta table at {url}: Generic S3")
    with pytest.raises(vf.DatasetError, match=expected):
        vf.scan_partitions(url)
    with pytest.raises(vf.DatasetError, match=expected):
        vf.read_inventory(url)
    with pytest.raises(vf.DatasetError, match=expected):
        vf.write_partitions(
            make_frame([DAY2]), url, partition_by="period_start_date", format="delta"
        )
    assert DeltaTable(url).version() == 0  # nothing was committed
