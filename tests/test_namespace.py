"""The ``vidi`` namespace on generated frames: same results as the functions, eager and lazy.

Expected values are computed here from the raw columns with plain Python or from
the registry's declarations, never by the method under test.
"""

from __future__ import annotations

import datetime as dt
import importlib
import warnings
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import vidiframe as vf
import vidiframe._namespace as namespace  # registers df.vidi until vidiframe/__init__ does
from vidiframe._registry import ExportSpec, iter_exports
from vidiframe.testing.strategies import export_frames

SPECS = list(iter_exports())
IDS = [f"{s.data_type}-{s.granularity}" for s in SPECS]
FAST = settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
CODED = [s for s in SPECS if any(f.labels for f in s.fields)]
TIMED = [s for s in SPECS if any(f.seconds_column for f in s.fields)]


def frames(spec: ExportSpec, **kw: Any) -> st.SearchStrategy[pl.DataFrame]:
    return export_frames(
        spec.data_type,
        spec.resolutions[0],
        group_by_demographics=spec.granularity == "demographics",
        **kw,
    )


def frame_and_spec(specs: list[ExportSpec]) -> st.SearchStrategy[tuple[ExportSpec, pl.DataFrame]]:
    return st.sampled_from(specs).flatmap(lambda s: frames(s).map(lambda df: (s, df)))


def ots_frame() -> pl.DataFrame:
    body = {
        "state": "finished",
        "data": [
            {
                "location_id": 1,
                "period_start": "2016-04-29 00:00:00",
                "ots_count": 504,
                "duration": 86400.0,
                "watcher_count": None,
            },
            {"location_id": 1, "period_start": "2016-04-30 00:00:00"},
            {
                "location_id": 2,
                "period_start": "2016-04-30 00:00:00",
                "ots_count": 7,
                "duration": 3600.0,
                "watcher_count": 2,
            },
        ],
    }
    return vf.read_vidicenter(body, data_type="ots", time_resolution="1d")


# -- registration ------------------------------------------------------------------------------


def test_the_namespace_is_registered_on_both_frame_kinds() -> None:
    assert pl.DataFrame.vidi is namespace.VidiFrame
    assert pl.LazyFrame.vidi is namespace.VidiLazyFrame
    assert isinstance(ots_frame().vidi, namespace.VidiFrame)
    assert isinstance(ots_frame().lazy().vidi, namespace.VidiLazyFrame)


def test_importing_again_registers_quietly() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reloaded = importlib.reload(namespace)
    assert pl.DataFrame.vidi is reloaded.VidiFrame


def test_a_foreign_vidi_namespace_is_still_warned_about() -> None:
    class Foreign:
        def __init__(self, df: pl.DataFrame) -> None:
            self.df = df

    try:
        with pytest.warns(UserWarning, match="overriding existing custom namespace 'vidi'"):
            pl.api.register_dataframe_namespace("vidi")(Foreign)
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            importlib.reload(namespace)
    assert pl.DataFrame.vidi is namespace.VidiFrame


def test_lazy_frames_have_no_writing_methods() -> None:
    lf = ots_frame().lazy()
    assert not hasattr(lf.vidi, "write_partitions")
    assert not hasattr(lf.vidi, "to_pandas")


# -- placeholders -------------------------------------------------------------------------------


@FAST
@given(frame_and_spec(SPECS))
def test_drop_placeholders_keeps_exactly_the_rows_with_a_metric(
    pair: tuple[ExportSpec, pl.DataFrame],
) -> None:
    spec, df = pair
    with_data = [
        i
        for i, row in enumerate(df.iter_rows(named=True))
        if any(row[m] is not None for m in spec.metrics)
    ]
    out = df.vidi.drop_placeholders()
    assert_frame_equal(out, df[with_data])
    assert_frame_equal(out, vf.drop_placeholders(df))
    assert_frame_equal(df.lazy().vidi.drop_placeholders().collect(), out)


@FAST
@given(frame_and_spec(SPECS))
def test_fill_placeholders_fills_only_placeholder_metrics(
    pair: tuple[ExportSpec, pl.DataFrame],
) -> None:
    spec, df = pair
    out = df.vidi.fill_placeholders(value=0)
    assert_frame_equal(out, vf.fill_placeholders(df, 0))
    assert_frame_equal(df.lazy().vidi.fill_placeholders(value=0).collect(), out)
    numeric = {name for name in spec.metrics if spec.by_name[name].kind in ("int", "float")} | {
        spec.by_name[name].seconds_column
        for name in spec.metrics
        if spec.by_name[name].seconds_column is not None
    }
    for before, after in zip(df.iter_rows(named=True), out.iter_rows(named=True), strict=True):
        for column, value in after.items():
            if before["is_placeholder"] and column in numeric:
                assert value == 0, column
            else:
                assert value == before[column] or (value is None and before[column] is None)


def test_fill_placeholders_with_chosen_columns_and_value() -> None:
    df = ots_frame()
    out = df.vidi.fill_placeholders(value=-1, columns=["ots_count"])
    assert out["ots_count"].to_list() == [504, -1, 7]
    # Not chosen: stays null; a null in a row with data is never filled.
    assert out["duration"].to_list() == [86400.0, None, 3600.0]
    assert out["watcher_count"].to_list() == [None, None, 2]
    lazy = df.lazy().vidi.fill_placeholders(value=-1, columns=["ots_count"]).collect()
    assert_frame_equal(lazy, out)


def test_placeholder_helpers_need_is_placeholder() -> None:
    df = pl.DataFrame({"ots_count": [1]})
    for call in (
        df.vidi.drop_placeholders,
        df.lazy().vidi.drop_placeholders,
        df.lazy().vidi.fill_placeholders,
    ):
        with pytest.raises(vf.SchemaError, match="is_placeholder"):
            call()


def test_lazy_fill_without_columns_needs_an_export_schema() -> None:
    lf = ots_frame().select("ots_count", "is_placeholder").lazy()
    with pytest.raises(vf.SchemaError, match="pass columns="):
        lf.vidi.fill_placeholders()


# -- labels ---------------------------------------------------------------------------------------


@FAST
@given(frame_and_spec(CODED))
def test_labels_replace_each_code_by_its_documented_label(
    pair: tuple[ExportSpec, pl.DataFrame],
) -> None:
    spec, df = pair
    coded = [f for f in spec.fields if f.labels]
    out = df.vidi.labels()
    assert out.columns == [c for c in df.columns if not c.endswith("_label")]
    for f in coded:
        assert f.labels is not None
        assert out.schema[f.name] == pl.Enum([f.labels[c] for c in sorted(f.labels)])
        expected = [None if code is None else f.labels[code] for code in df[f.name].to_list()]
        assert out[f.name].to_list() == expected
    untouched = [c for c in out.columns if c not in {f.name for f in coded}]
    assert_frame_equal(out.select(untouched), df.select(untouched))
    assert_frame_equal(df.lazy().vidi.labels().collect(), out)
    # Twice is once; and labels come from the registry, not from the _label columns.
    assert_frame_equal(out.vidi.labels(), out)
    without = df.drop([f"{f.name}_label" for f in coded])
    assert_frame_equal(without.vidi.labels(), out)


def test_labels_of_chosen_columns_and_undocumented_codes() -> None:
    body = {
        "state": "finished",
        "data": [
            {"location_id": 1, "period_start": "2025-03-01 10:00:00", "type": 1, "color": 12356},
            {"location_id": 1, "period_start": "2025-03-01 10:01:00", "type": 5, "color": 6},
        ],
    }
    with pytest.warns(vf.UnknownCodeWarning):
        df = vf.read_vidicenter(body, data_type="vehicles", time_resolution="finest")
    out = df.vidi.labels("type")
    assert out["type"].to_list() == ["car", "bike"]
    assert out["color"].to_list() == [12356, 6]
    assert "color_label" in out.columns
    assert "type_label" not in out.columns
    assert df.vidi.labels()["color"].to_list() == [None, "blue"]


def test_labels_refuse_unknown_or_missing_columns() -> None:
    df = ots_frame()
    with pytest.raises(vf.SchemaError, match="not a coded field"):
        df.vidi.labels("ots_count")
    with pytest.raises(vf.SchemaError, match="no 'gender' column"):
        df.vidi.labels("gender")
    assert_frame_equal(df.vidi.labels(), df)


# -- durations ------------------------------------------------------------------------------------

MICROS = {"tenths_of_second": 100_000, "millisecond": 1_000, "second": 1_000_000}


@FAST
@given(frame_and_spec(TIMED))
def test_durations_are_the_raw_values_in_exact_microseconds(
    pair: tuple[ExportSpec, pl.DataFrame],
) -> None:
    spec, df = pair
    out = df.vidi.with_durations()
    timed = [f for f in spec.fields if f.seconds_column]
    assert out.columns == df.columns + [f.seconds_column[:-2] + "_td" for f in timed]  # type: ignore[index]
    for f in timed:
        name = f"{f.seconds_column[:-2]}_td"  # type: ignore[index]
        assert out.schema[name] == pl.Duration("us")
        assert f.unit is not None
        expected = [
            None if raw is None else dt.timedelta(microseconds=round(raw * MICROS[f.unit]))
            for raw in df[f.name].to_list()
        ]
        assert out[name].to_list() == expected
    assert_frame_equal(df.lazy().vidi.with_durations().collect(), out)


def test_durations_are_expressions_for_any_context() -> None:
    df = ots_frame()
    exprs = df.vidi.durations("duration_s", time_unit="ms")
    assert df.select(exprs).schema == pl.Schema({"duration_td": pl.Duration("ms")})
    daily = df.group_by("location_id").agg(exprs).sort("location_id")
    assert daily["duration_td"].to_list() == [
        [dt.timedelta(days=1), None],
        [dt.timedelta(hours=1)],
    ]


def test_durations_in_place_and_for_other_columns() -> None:
    df = ots_frame()
    in_place = df.vidi.with_durations(suffix="_s")
    assert in_place.columns == df.columns
    assert in_place["duration_s"].to_list() == [dt.timedelta(days=1), None, dt.timedelta(hours=1)]
    other = pl.DataFrame({"wait": [1.5, None]}).vidi.with_durations("wait")
    assert other["wait_td"].to_list() == [dt.timedelta(seconds=1.5), None]


def test_durations_refuse_collisions_missing_and_text_columns() -> None:
    df = ots_frame()
    with pytest.raises(vf.SchemaError, match="overwrite the column 'duration'"):
        df.vidi.durations(suffix="")
    with pytest.raises(vf.SchemaError, match="no 'dwell_time_s' column"):
        df.vidi.durations("dwell_time_s")
    with pytest.raises(vf.SchemaError, match="not a number of seconds"):
        pl.DataFrame({"a_s": ["1"]}).vidi.durations("a_s")
    with pytest.raises(ValueError, match="time_unit"):
        df.vidi.durations(time_unit="s")  # type: ignore[arg-type]


# -- explode_contents -----------------------------------------------------------------------------


@FAST
@given(export_frames("viewers_apc", "finest"))
def test_lazy_explode_contents_equals_the_function(df: pl.DataFrame) -> None:
    eager = df.vidi.explode_contents()
    assert_frame_equal(eager, vf.explode_contents(df))
    assert_frame_equal(df.lazy().vidi.explode_contents().collect(), eager)
    lengths = [len(c) if c else 1 for c in df["contents"].to_list()]
    assert eager.height == sum(lengths)


def test_lazy_explode_contents_keeps_viewers_without_contents() -> None:
    body = {
        "state": "finished",
        "data": [
            {"location_id": 1, "start_time": "2018-01-14T09:29:10", "contents": []},
            {"location_id": 2, "start_time": "2018-01-14T09:29:11", "contents": None},
            {
                "location_id": 3,
                "start_time": "2018-01-14T09:29:12",
                "contents": [
                    {"content_id": "a", "dwell_time_in_milliseconds": 207, "happy_time": 3},
                    {"content_id": "b", "attention_time_in_milliseconds": 1},
                ],
            },
        ],
    }
    apc = vf.read_vidicenter(body, data_type="viewers_apc", time_resolution="finest")
    long = apc.lazy().vidi.explode_contents().collect()
    assert long.select(
        "location_id",
        "content_id",
        "content_dwell_time_s",
        "content_attention_time_s",
        "happy_time_s",
    ).rows() == [
        (1, None, None, None, None),
        (2, None, None, None, None),
        (3, "a", 207 / 1000, None, 3 / 1000),
        (3, "b", None, 1 / 1000, None),
    ]


def test_explode_contents_needs_contents() -> None:
    df = ots_frame()
    with pytest.raises(vf.SchemaError, match="contents"):
        df.vidi.explode_contents()
    with pytest.raises(vf.SchemaError, match="contents"):
        df.lazy().vidi.explode_contents()


# -- write_partitions -----------------------------------------------------------------------------


def test_write_partitions_delegates_with_its_options(tmp_path: Path) -> None:
    df = ots_frame()
    root = tmp_path / "ots_1d"
    files = df.vidi.write_partitions(root, partition_by="period_start_date")
    assert sorted(f.parent.name for f in files) == [
        "period_start_date=2016-04-29",
        "period_start_date=2016-04-30",
    ]
    assert_frame_equal(vf.scan_partitions(root).collect(), df)
    with pytest.raises(vf.DatasetError):
        df.vidi.write_partitions(root, partition_by="period_start_date", mode="error")
    assert df.vidi.write_partitions(root, partition_by="period_start_date", mode="skip") == []


def test_the_lazy_scan_chains_with_the_namespace(tmp_path: Path) -> None:
    df = ots_frame()
    df.vidi.write_partitions(tmp_path / "ots", partition_by="period_start_date")
    out = (
        vf.scan_partitions(tmp_path / "ots")
        .vidi.drop_placeholders()
        .vidi.with_durations()
        .select("location_id", "duration_td")
        .collect()
    )
    assert out.rows() == [(1, dt.timedelta(days=1)), (2, dt.timedelta(hours=1))]
