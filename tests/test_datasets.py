"""write_partitions / scan_partitions: layout, round trips, replacement, schema, recovery."""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import random
import tempfile
import threading
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from polars.testing import assert_frame_equal

import vidiframe as vf
from vidiframe import _hive as _datasets
from vidiframe._partitioning import by_period, partition_dir, period_for_resolution
from vidiframe._registry import EXPORTS, TIME_RESOLUTIONS, ExportSpec
from vidiframe.testing.strategies import export_frames

DAY1, DAY2, DAY3 = dt.date(2025, 3, 1), dt.date(2025, 3, 2), dt.date(2025, 3, 3)


# -- frames -------------------------------------------------------------------------------


def _value(dtype: pl.DataType, rnd: random.Random) -> object:
    if isinstance(dtype, pl.Enum):
        return rnd.choice(list(dtype.categories))
    if isinstance(dtype, pl.List):
        return [_value(dtype.inner, rnd) for _ in range(rnd.randrange(3))]
    if isinstance(dtype, pl.Struct):
        return {f.name: _value(f.dtype, rnd) for f in dtype.fields}
    if dtype == pl.Int64:
        return rnd.randrange(-5, 100_000)
    if dtype == pl.Float64:
        return rnd.uniform(0, 1000)
    if dtype == pl.String:
        return rnd.choice(["a", "b/c", "é ü", "x=y", "", "50%"])
    if dtype == pl.Boolean:
        return rnd.random() < 0.5
    if dtype == pl.Datetime("us"):
        return dt.datetime(2025, 3, 1) + dt.timedelta(
            microseconds=rnd.randrange(3 * 86_400 * 10**6)
        )
    if dtype == pl.Date:
        return DAY1 + dt.timedelta(days=rnd.randrange(3))
    if dtype == pl.Time:
        return dt.time(
            rnd.randrange(24), rnd.randrange(60), rnd.randrange(60), rnd.randrange(10**6)
        )
    raise TypeError(dtype)


def make_frame(spec: ExportSpec, n: int = 24, seed: int = 0) -> pl.DataFrame:
    """A frame of ``spec``'s schema: ``n`` rows over several days, every dtype, some nulls.

    ``period_start`` is unique and its date and time columns agree with it, as in
    parsed frames; every other column is random, null one time in seven unless the
    registry declares it never null.
    """
    rnd = random.Random(f"{spec.data_type}/{spec.granularity}/{seed}")
    start = dt.datetime(2025, 3, 1)
    moments = [
        start + dt.timedelta(hours=5 * i, microseconds=rnd.randrange(10**6)) for i in range(n)
    ]
    columns: dict[str, list[object]] = {}
    for name, dtype in spec.schema.items():
        if name == "period_start":
            columns[name] = list(moments)
        elif name == "period_start_date":
            columns[name] = [m.date() for m in moments]
        elif name == "period_start_time":
            columns[name] = [m.time() for m in moments]
        else:
            field = spec.by_name.get(name)
            nulls = 1 / 7 if field is None or field.nullable else 0
            columns[name] = [None if rnd.random() < nulls else _value(dtype, rnd) for _ in moments]
    return pl.DataFrame(columns, schema=spec.schema)


def by_date(df: pl.DataFrame) -> pl.DataFrame:
    """The order scan_partitions gives back: partitions by date, rows in order within."""
    return df.sort("period_start_date", maintain_order=True)


def snapshot(path: Path) -> dict[str, tuple[bytes, int, int] | None]:
    """Every entry under ``path``: files as (bytes, inode, mtime_ns), directories as None."""
    out: dict[str, tuple[bytes, int, int] | None] = {}
    for dirpath, dirnames, filenames in os.walk(path):
        for name in dirnames:
            out[Path(dirpath, name).relative_to(path).as_posix()] = None
        for name in filenames:
            file = Path(dirpath, name)
            stat = file.stat()
            out[file.relative_to(path).as_posix()] = (
                file.read_bytes(),
                stat.st_ino,
                stat.st_mtime_ns,
            )
    return out


def contents(path: Path) -> dict[str, bytes | None]:
    """Every entry under ``path`` with its bytes (None for directories)."""
    return {k: (None if v is None else v[0]) for k, v in snapshot(path).items()}


VIEWERS = EXPORTS[("viewers", "finest")]
OTS = EXPORTS[("ots", "aggregated")]


@pytest.fixture
def viewers() -> pl.DataFrame:
    return make_frame(VIEWERS, n=15)  # 15 rows every 5 h: 2025-03-01 .. 2025-03-03


# -- round trips --------------------------------------------------------------------------


@pytest.mark.parametrize("spec", list(EXPORTS.values()), ids=lambda s: "-".join(s.key))
def test_every_export_frame_round_trips_exactly(tmp_path: Path, spec: ExportSpec) -> None:
    df = make_frame(spec)
    vf.write_partitions(df, tmp_path / "ds", partition_by="period_start_date")
    back = vf.scan_partitions(tmp_path / "ds").collect()
    # Same columns, order, dtypes (Enum labels, List(Struct), Date partition) and values.
    assert_frame_equal(back, by_date(df))


@pytest.mark.parametrize("spec", list(EXPORTS.values()), ids=lambda s: "-".join(s.key))
def test_parsed_export_frames_round_trip(spec: ExportSpec) -> None:
    """Frames as read_vidicenter makes them, placeholders and rows in any order included."""
    resolution = "finest" if spec.granularity == "finest" else spec.resolutions[0]
    frames = export_frames(
        spec.data_type,
        resolution,
        group_by_demographics=spec.granularity == "demographics",
        min_rows=1,
    )

    @settings(max_examples=8, deadline=None, derandomize=True, database=None)
    @given(frames)
    def round_trip(df: pl.DataFrame) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            vf.write_partitions(df, tmp, partition_by="period_start_date")
            assert_frame_equal(vf.scan_partitions(tmp).collect(), by_date(df))

    round_trip()


def test_nested_values_round_trip(tmp_path: Path) -> None:
    apc = EXPORTS[("viewers_apc", "finest")]
    contents_value = [
        {
            "content_id": "c-1",
            "app_id": None,
            "campaign_id": "spring",
            "dwell_time_in_milliseconds": 1500,
            "attention_time_in_milliseconds": 900,
            "very_happy_time": 0,
            "happy_time": 100,
            "neutral_time": 800,
            "unhappy_time": None,
            "very_unhappy_time": 0,
        }
    ]
    df = make_frame(apc, n=3).with_columns(
        pl.Series("contents", [contents_value, [], None], dtype=apc.schema["contents"])
    )
    retail = EXPORTS[("retail_analytics_footfall", "finest")]
    visits = [{"id": 7, "name": "Entrance", "timings": [{"start": 0, "duration": 2300}]}]
    rf = make_frame(retail, n=2).with_columns(
        pl.Series(
            "visits",
            [visits, [{"id": 8, "name": None, "timings": []}]],
            dtype=retail.schema["visits"],
        )
    )
    vf.write_partitions(df, tmp_path / "apc", partition_by="period_start_date")
    vf.write_partitions(rf, tmp_path / "retail", partition_by="period_start_date")
    apc_back = vf.scan_partitions(tmp_path / "apc").collect()
    retail_back = vf.scan_partitions(tmp_path / "retail").collect()
    assert apc_back["contents"].to_list() == [contents_value, [], None]
    assert retail_back["visits"].to_list() == [visits, [{"id": 8, "name": None, "timings": []}]]
    assert_frame_equal(apc_back, df)
    assert_frame_equal(retail_back, rf)


def test_layout_is_hive_with_one_file_per_partition(tmp_path: Path, viewers: pl.DataFrame) -> None:
    root = tmp_path / "ds"
    written = vf.write_partitions(viewers, root, partition_by="period_start_date")
    expected = [root / f"period_start_date={d}" / "part-0.parquet" for d in (DAY1, DAY2, DAY3)]
    assert written == expected
    assert sorted(contents(tmp_path)) == [
        "ds",
        *[
            f"ds/period_start_date={d}{suffix}"
            for d in (DAY1, DAY2, DAY3)
            for suffix in ("", "/part-0.parquet")
        ],
    ]
    # The partition column is in the directory names only; the file has the others, in order.
    file_schema = pl.read_parquet_schema(expected[0])
    assert list(file_schema) == [c for c in viewers.columns if c != "period_start_date"]
    assert_frame_equal(
        pl.read_parquet(expected[1]),
        viewers.filter(pl.col("period_start_date") == DAY2).drop("period_start_date"),
    )


def test_symlinked_relative_root(
    tmp_path: Path, viewers: pl.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    monkeypatch.chdir(tmp_path)
    written = vf.write_partitions(viewers, "link/ds", partition_by="period_start_date")
    assert written[0] == Path("link/ds/period_start_date=2025-03-01/part-0.parquet")
    assert_frame_equal(vf.scan_partitions("link/ds").collect(), viewers)
    # Staged beside the real directory, and cleaned up.
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["ds"]


def test_several_partition_columns(tmp_path: Path) -> None:
    df = make_frame(OTS, n=12).with_columns(location_id=pl.int_range(pl.len()) % 2 + 4636)
    vf.write_partitions(df, tmp_path, partition_by=["location_id", "period_start_date"])
    assert (
        tmp_path / "location_id=4637" / "period_start_date=2025-03-01" / "part-0.parquet"
    ).is_file()
    back = vf.scan_partitions(tmp_path).collect()
    assert back.schema == df.schema
    assert_frame_equal(back, df.sort("location_id", "period_start_date", maintain_order=True))


@pytest.mark.parametrize("order", ["grouped", "interleaved"])
def test_rows_keep_their_order_within_partitions(
    tmp_path: Path, viewers: pl.DataFrame, order: str
) -> None:
    # Grouped rows are sliced, interleaved ones gathered: both keep the frame's order.
    df = (
        viewers
        if order == "grouped"
        else viewers.sort(pl.col("period_start").dt.hour(), maintain_order=True)
    )
    assert (df["period_start_date"].rle_id().max() + 1 == 3) == (order == "grouped")
    vf.write_partitions(df, tmp_path, partition_by="period_start_date")
    assert_frame_equal(vf.scan_partitions(tmp_path).collect(), by_date(df))


def test_text_partition_values_round_trip(tmp_path: Path) -> None:
    names = ["Entrance / Hall", "x=y", "50% off", "é ü", "..", "a+b?#&"]
    df = pl.DataFrame({"zone_name": names, "nb_visits": range(len(names))})
    vf.write_partitions(df, tmp_path, partition_by="zone_name")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        partition_dir(["zone_name"], [n]) for n in names
    )
    back = vf.scan_partitions(tmp_path).collect()
    assert_frame_equal(back.sort("nb_visits"), df)


@pytest.mark.parametrize(
    ("every", "column", "dtype", "dirs"),
    [
        ("month", "period_start_month", pl.Date, ["period_start_month=2025-03-01"]),
        ("year", "period_start_year", pl.Int32, ["period_start_year=2025"]),
    ],
)
def test_coarser_periods_for_aggregated_exports(
    tmp_path: Path, every: str, column: str, dtype: pl.DataType, dirs: list[str]
) -> None:
    df = make_frame(OTS, n=200)  # 200 rows every 5 h: March and April 2025
    vf.write_partitions(df, tmp_path, partition_by=by_period(every))  # type: ignore[arg-type]
    if every == "month":
        dirs = [*dirs, "period_start_month=2025-04-01"]
    assert sorted(p.name for p in tmp_path.iterdir()) == dirs
    back = vf.scan_partitions(tmp_path).collect()
    # The frame comes back whole, plus the period column, typed.
    assert back.schema[column] == dtype
    assert_frame_equal(back.drop(column), df)
    assert_frame_equal(back.select(column), df.select(by_period(every)))  # type: ignore[arg-type]


def test_by_period_day_is_the_date_column_itself(tmp_path: Path, viewers: pl.DataFrame) -> None:
    vf.write_partitions(viewers, tmp_path, partition_by=by_period("day"))
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"period_start_date={d}" for d in (DAY1, DAY2, DAY3)
    ]
    assert_frame_equal(vf.scan_partitions(tmp_path).collect(), viewers)


def test_period_for_every_resolution() -> None:
    periods = {r: period_for_resolution(r) for r in TIME_RESOLUTIONS}
    assert periods == {
        "finest": "day",
        "5m": "day",
        "10m": "day",
        "15m": "day",
        "30m": "month",
        "1h": "month",
        "1d": "year",
        "7d": "year",
        "30d": "year",
        "1M": "year",
    }
    with pytest.raises(ValueError, match="unknown time_resolution"):
        period_for_resolution("2h")
    with pytest.raises(ValueError, match="every must be"):
        by_period("week")  # type: ignore[arg-type]


def test_polars_reads_the_directory_as_is(tmp_path: Path, viewers: pl.DataFrame) -> None:
    vf.write_partitions(viewers, tmp_path, partition_by="period_start_date")
    # Plain Polars, default options, directory form: nothing in root but the data files.
    plain = pl.scan_parquet(tmp_path).collect()
    assert plain.schema["period_start_date"] == pl.Date
    assert_frame_equal(plain.select(viewers.columns), viewers)


# -- scanning -----------------------------------------------------------------------------


def test_filters_on_partitions_skip_other_files(tmp_path: Path, viewers: pl.DataFrame) -> None:
    vf.write_partitions(viewers, tmp_path, partition_by="period_start_date")
    # A partition that cannot be read: only a query that reads it can fail.
    (tmp_path / f"period_start_date={DAY3}" / "part-0.parquet").write_bytes(b"not parquet")
    lf = vf.scan_partitions(tmp_path)
    got = lf.filter(pl.col("period_start_date") <= DAY2).collect()
    assert_frame_equal(got, viewers.filter(pl.col("period_start_date") <= DAY2))
    with pytest.raises(pl.exceptions.ComputeError):
        lf.collect()


def test_scan_of_no_dataset_raises(tmp_path: Path) -> None:
    with pytest.raises(vf.DatasetError, match="not a directory"):
        vf.scan_partitions(tmp_path / "missing")
    with pytest.raises(vf.DatasetError, match="holds no Parquet file"):
        vf.scan_partitions(tmp_path)


def test_scan_of_a_foreign_hive_dataset_uses_polars_inference(tmp_path: Path) -> None:
    (tmp_path / "k=1").mkdir()
    pl.DataFrame({"x": [1, 2]}).write_parquet(tmp_path / "k=1" / "data.parquet")
    (tmp_path / "_SUCCESS").write_bytes(b"")
    got = vf.scan_partitions(tmp_path).collect()
    assert_frame_equal(got, pl.DataFrame({"x": [1, 2], "k": [1, 1]}))


# -- replacement, idempotence -------------------------------------------------------------


def test_replacing_a_partition_leaves_the_others_untouched(
    tmp_path: Path, viewers: pl.DataFrame
) -> None:
    root = tmp_path / "ds"
    vf.write_partitions(viewers, root, partition_by="period_start_date")
    before = snapshot(root)
    day2 = make_frame(VIEWERS, n=40, seed=1).filter(pl.col("period_start_date") == DAY2)
    written = vf.write_partitions(day2, root, partition_by="period_start_date")
    assert written == [root / f"period_start_date={DAY2}" / "part-0.parquet"]
    after = snapshot(root)
    assert after.keys() == before.keys()
    changed = {k for k in before if before[k] != after[k]}
    # Same bytes, same inode, same mtime: the other files were not even rewritten.
    assert changed == {f"period_start_date={DAY2}/part-0.parquet"}
    expected = pl.concat([viewers.filter(pl.col("period_start_date") != DAY2), day2]).pipe(by_date)
    assert_frame_equal(vf.scan_partitions(root).collect(), expected)
    # Nothing left beside the dataset either.
    assert [p.name for p in tmp_path.iterdir()] == ["ds"]


def test_writing_the_same_frame_twice_leaves_the_same_bytes(
    tmp_path: Path, viewers: pl.DataFrame
) -> None:
    vf.write_partitions(viewers, tmp_path / "ds", partition_by="period_start_date")
    first = contents(tmp_path)
    vf.write_partitions(viewers, tmp_path / "ds", partition_by="period_start_date")
    assert contents(tmp_path) == first
    vf.write_partitions(viewers, tmp_path / "other", partition_by="period_start_date")
    assert contents(tmp_path / "other") == contents(tmp_path / "ds")


def test_equal_frames_chunked_differently_give_the_same_bytes(tmp_path: Path) -> None:
    # Big enough that Polars' default row groups would follow the chunks.
    one = pl.DataFrame({"day": [DAY1] * 100_000, "x": range(100_000)})
    two = pl.concat([one.slice(0, 33_333), one.slice(33_333)], rechunk=False)
    assert (one.n_chunks(), two.n_chunks()) == (1, 2)
    vf.write_partitions(one, tmp_path / "one", partition_by="day")
    vf.write_partitions(two, tmp_path / "two", partition_by="day")
    assert contents(tmp_path / "one") == contents(tmp_path / "two")


def test_mode_skip_keeps_existing_partitions(tmp_path: Path, viewers: pl.DataFrame) -> None:
    old = viewers.filter(pl.col("period_start_date") < DAY3)
    vf.write_partitions(old, tmp_path, partition_by="period_start_date")
    newer = make_frame(VIEWERS, n=15, seed=2)
    written = vf.write_partitions(newer, tmp_path, partition_by="period_start_date", mode="skip")
    assert written == [tmp_path / f"period_start_date={DAY3}" / "part-0.parquet"]
    expected = pl.concat([old, newer.filter(pl.col("period_start_date") == DAY3)])
    assert_frame_equal(vf.scan_partitions(tmp_path).collect(), expected)


def test_mode_error_refuses_before_writing(tmp_path: Path, viewers: pl.DataFrame) -> None:
    vf.write_partitions(
        viewers.filter(pl.col("period_start_date") == DAY2),
        tmp_path,
        partition_by="period_start_date",
    )
    before = snapshot(tmp_path)
    with pytest.raises(
        vf.DatasetError, match=r"1 partition\(s\) already exist.*period_start_date=2025-03-02"
    ):
        vf.write_partitions(viewers, tmp_path, partition_by="period_start_date", mode="error")
    assert snapshot(tmp_path) == before


def test_columns_in_another_order_follow_the_dataset(tmp_path: Path, viewers: pl.DataFrame) -> None:
    vf.write_partitions(
        viewers.filter(pl.col("period_start_date") == DAY1),
        tmp_path,
        partition_by="period_start_date",
    )
    shuffled = viewers.filter(pl.col("period_start_date") == DAY2).select(reversed(viewers.columns))
    vf.write_partitions(shuffled, tmp_path, partition_by="period_start_date")
    assert_frame_equal(
        vf.scan_partitions(tmp_path).collect(), viewers.filter(pl.col("period_start_date") <= DAY2)
    )


def test_empty_frame_writes_nothing(tmp_path: Path, viewers: pl.DataFrame) -> None:
    assert (
        vf.write_partitions(viewers.clear(), tmp_path / "ds", partition_by="period_start_date")
        == []
    )
    assert not (tmp_path / "ds").exists()
    vf.write_partitions(viewers, tmp_path / "ds", partition_by="period_start_date")
    before = snapshot(tmp_path)
    assert (
        vf.write_partitions(viewers.clear(), tmp_path / "ds", partition_by="period_start_date")
        == []
    )
    assert snapshot(tmp_path) == before


# -- one schema per dataset ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda df: df.with_columns(new_field=pl.lit(1, pl.Int64)),
            "only in the frame: new_field (Int64)",
        ),
        (lambda df: df.drop("vr_id"), "only in the dataset: vr_id (Int64)"),
        (
            lambda df: df.with_columns(pl.col("age_value").cast(pl.Float64)),
            "age_value: frame has Float64, dataset has Int64",
        ),
        (
            lambda df: df.with_columns(
                pl.col("gender_label")
                .cast(pl.String)
                .cast(pl.Enum(["unknown", "male", "female", "other"]))
            ),
            "gender_label: frame has Enum",
        ),
        (
            lambda df: df.with_columns(pl.col("period_start_date").cast(pl.String)),
            "period_start_date: frame has String, dataset has Date",
        ),
    ],
    ids=["extra column", "missing column", "dtype", "enum categories", "partition dtype"],
)
def test_conflicting_frame_is_refused_with_nothing_written(
    tmp_path: Path, viewers: pl.DataFrame, change, message: str
) -> None:
    vf.write_partitions(
        viewers.filter(pl.col("period_start_date") < DAY3),
        tmp_path / "ds",
        partition_by="period_start_date",
    )
    before = snapshot(tmp_path)
    with pytest.raises(vf.SchemaConflictError, match="nothing was written") as info:
        # DAY3 is a new partition: not even it may appear.
        # schema_mode="error": a new column is a conflict too (the default evolves).
        vf.write_partitions(
            change(viewers),
            tmp_path / "ds",
            partition_by="period_start_date",
            schema_mode="error",
        )
    assert message in str(info.value)
    assert info.value.column is not None
    assert isinstance(info.value, vf.SchemaError)
    assert snapshot(tmp_path) == before


def test_other_partition_columns_conflict(tmp_path: Path) -> None:
    df = make_frame(OTS, n=12)
    vf.write_partitions(df, tmp_path, partition_by="period_start_date")
    before = snapshot(tmp_path)
    with pytest.raises(
        vf.SchemaConflictError,
        match=r"partition_by: frame \['location_id'\], dataset \['period_start_date'\]",
    ):
        vf.write_partitions(df, tmp_path, partition_by="location_id")
    assert snapshot(tmp_path) == before


# -- refused partition columns ------------------------------------------------------------


@pytest.mark.parametrize(
    ("partition_by", "frame", "message"),
    [
        ("nope", pl.DataFrame({"a": [1], "b": [1]}), "'nope' is not a column"),
        ([], pl.DataFrame({"a": [1], "b": [1]}), "at least one column"),
        ("a", pl.DataFrame({"a": [1.5], "b": [1]}), "dtype Float64"),
        ("a", pl.DataFrame({"a": [1, None], "b": [1, 2]}), r"\['a'\] hold nulls"),
        ("a", pl.DataFrame({"a": ["x", ""], "b": [1, 2]}), "null or empty value"),
        ("a", pl.DataFrame({"a": ["x" * 300], "b": [1]}), "longer than 255 bytes"),
        ("_a", pl.DataFrame({"_a": [1], "b": [1]}), "cannot start with"),
        (["a", "a"], pl.DataFrame({"a": [1], "b": [1]}), "names a column twice"),
        (["a", "b"], pl.DataFrame({"a": [1], "b": [1]}), "no column is left"),
        (pl.col("a") + 1, pl.DataFrame({"a": [1], "b": [1]}), r"must add a new column"),
    ],
)
def test_invalid_partition_columns_are_refused_before_anything_is_created(
    tmp_path: Path, partition_by, frame: pl.DataFrame, message: str
) -> None:
    with pytest.raises(vf.DatasetError, match=message):
        vf.write_partitions(frame, tmp_path / "ds", partition_by=partition_by)
    assert list(tmp_path.iterdir()) == []


def test_bad_arguments(tmp_path: Path, viewers: pl.DataFrame) -> None:
    with pytest.raises(ValueError, match="mode must be"):
        vf.write_partitions(viewers, tmp_path, partition_by="period_start_date", mode="append")  # type: ignore[arg-type]
    with pytest.raises(vf.InvalidRequestError, match=r"expect a polars\.DataFrame.*LazyFrame"):
        vf.write_partitions(viewers.lazy(), tmp_path, partition_by="period_start_date")  # type: ignore[arg-type]
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(vf.DatasetError, match="not a directory"):
        vf.write_partitions(viewers, tmp_path / "file", partition_by="period_start_date")


def test_foreign_files_are_not_mixed_with(tmp_path: Path, viewers: pl.DataFrame) -> None:
    foreign = tmp_path / "foreign"
    (foreign / f"period_start_date={DAY1}").mkdir(parents=True)
    viewers.write_parquet(foreign / f"period_start_date={DAY1}" / "data.parquet")
    with pytest.raises(vf.DatasetError, match="not written by vidiframe"):
        vf.write_partitions(viewers, foreign, partition_by="period_start_date")
    ours = tmp_path / "ours"
    vf.write_partitions(viewers, ours, partition_by="period_start_date")
    viewers.drop("period_start_date").write_parquet(
        ours / f"period_start_date={DAY2}" / "extra.parquet"
    )
    with pytest.raises(
        vf.DatasetError, match=r"period_start_date=2025-03-02 holds files vidiframe did not write"
    ):
        vf.write_partitions(viewers, ours, partition_by="period_start_date")


# -- readers during a write, recovery, locking --------------------------------------------


def _visible_partitions(root: Path) -> dict[dt.date, pl.DataFrame]:
    """What three kinds of reader see, checked to agree: scan_partitions, plain Polars, a glob."""
    scanned = vf.scan_partitions(root).collect()
    plain = pl.scan_parquet(root).collect().select(scanned.columns)
    assert_frame_equal(plain, scanned)
    globbed = sorted(p.relative_to(root).as_posix() for p in root.glob("**/*.parquet"))
    assert globbed == [
        f"period_start_date={d}/part-0.parquet" for d in sorted(set(scanned["period_start_date"]))
    ]
    return {
        d: part.drop("period_start_date")
        for (d,), part in scanned.partition_by("period_start_date", as_dict=True).items()
    }


def test_readers_see_each_partition_old_or_new_at_every_step(
    tmp_path: Path, viewers: pl.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "ds"
    old = viewers.filter(pl.col("period_start_date") < DAY3)
    vf.write_partitions(old, root, partition_by="period_start_date")
    new = make_frame(VIEWERS, n=15, seed=3)

    def versions(df: pl.DataFrame) -> dict[dt.date, pl.DataFrame]:
        return {
            d: p.drop("period_start_date")
            for (d,), p in df.partition_by("period_start_date", as_dict=True).items()
        }

    old_parts, new_parts = versions(old), versions(new)
    seen: dict[str, dict[dt.date, str]] = {}

    def check(step: str) -> None:
        state = {}
        for day, part in _visible_partitions(root).items():
            if day in old_parts and part.equals(old_parts[day]):
                state[day] = "old"
            else:
                assert part.equals(new_parts[day]), f"{day} is neither old nor new at {step}"
                state[day] = "new"
        seen[step] = state

    monkeypatch.setattr(_datasets, "_checkpoint", check)
    vf.write_partitions(new, root, partition_by="period_start_date")
    assert seen == {
        "locked": {DAY1: "old", DAY2: "old"},
        "recovered": {DAY1: "old", DAY2: "old"},
        "staged": {DAY1: "old", DAY2: "old"},
        "committing:period_start_date=2025-03-01": {DAY1: "old", DAY2: "old"},
        "committed:period_start_date=2025-03-01": {DAY1: "new", DAY2: "old"},
        "committing:period_start_date=2025-03-02": {DAY1: "new", DAY2: "old"},
        "committed:period_start_date=2025-03-02": {DAY1: "new", DAY2: "new"},
        # DAY3's directory exists, empty: readers see no such partition yet.
        "committing:period_start_date=2025-03-03": {DAY1: "new", DAY2: "new"},
        "committed:period_start_date=2025-03-03": {DAY1: "new", DAY2: "new", DAY3: "new"},
        "done": {DAY1: "new", DAY2: "new", DAY3: "new"},
    }


def test_staged_files_wait_beside_the_root(
    tmp_path: Path, viewers: pl.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    staged: list[str] = []

    def look(step: str) -> None:
        if step == "staged":
            staged.extend(
                sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.tmp"))
            )

    monkeypatch.setattr(_datasets, "_checkpoint", look)
    vf.write_partitions(viewers, tmp_path / "ds", partition_by="period_start_date")
    assert len(staged) == 3
    assert all(
        name.startswith(".ds.vidiframe-staging/.") and name.endswith(".parquet.tmp")
        for name in staged
    )
    assert [p.name for p in tmp_path.iterdir()] == ["ds"]


def test_root_on_its_own_device_stages_in_a_hidden_directory(
    tmp_path: Path, viewers: pl.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "ds"
    vf.write_partitions(
        viewers.filter(pl.col("period_start_date") == DAY1), root, partition_by="period_start_date"
    )
    monkeypatch.setattr(_datasets, "_same_device", lambda a, b: False)
    at_staged: list[pl.DataFrame] = []

    def look(step: str) -> None:
        if step == "staged":
            assert len(list((root / ".vidiframe-staging").glob(".*.parquet.tmp"))) == 3
            # Hidden directory, hidden names, no '.parquet' suffix: readers skip them.
            at_staged.append(vf.scan_partitions(root).collect())
            assert list(root.glob("**/*.parquet")) == [
                root / f"period_start_date={DAY1}" / "part-0.parquet"
            ]

    monkeypatch.setattr(_datasets, "_checkpoint", look)
    vf.write_partitions(viewers, root, partition_by="period_start_date")
    assert_frame_equal(at_staged[0], viewers.filter(pl.col("period_start_date") == DAY1))
    assert not (root / ".vidiframe-staging").exists()
    assert_frame_equal(vf.scan_partitions(root).collect(), viewers)


def test_leftovers_of_a_failed_write_are_removed_by_the_next(
    tmp_path: Path, viewers: pl.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "ds"
    vf.write_partitions(viewers, root, partition_by="period_start_date")
    before = contents(tmp_path)

    def fail(step: str) -> None:
        if step == "staged":
            raise KeyboardInterrupt

    monkeypatch.setattr(_datasets, "_checkpoint", fail)
    with pytest.raises(KeyboardInterrupt):
        vf.write_partitions(
            make_frame(VIEWERS, n=15, seed=4), root, partition_by="period_start_date"
        )
    # Interrupted after staging: the staged files stay behind, the dataset is the old one.
    assert len(list((tmp_path / ".ds.vidiframe-staging").iterdir())) == 3
    assert_frame_equal(vf.scan_partitions(root).collect(), viewers)
    monkeypatch.setattr(_datasets, "_checkpoint", lambda step: None)
    vf.write_partitions(viewers, root, partition_by="period_start_date")
    assert contents(tmp_path) == before


def test_writers_to_one_root_take_turns(
    tmp_path: Path, viewers: pl.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "ds"
    root.mkdir()
    inside, release = threading.Event(), threading.Event()

    def hold(step: str) -> None:
        if step == "locked":
            inside.set()
            release.wait()

    monkeypatch.setattr(_datasets, "_checkpoint", hold)
    writer = threading.Thread(
        target=vf.write_partitions,
        args=(viewers, root),
        kwargs={"partition_by": "period_start_date"},
    )
    writer.start()
    inside.wait()
    fd = os.open(root, os.O_RDONLY)
    try:
        with pytest.raises(BlockingIOError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        release.set()
        writer.join()
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free once the writer is done
    finally:
        os.close(fd)
    assert_frame_equal(vf.scan_partitions(root).collect(), viewers)
