"""pandas interoperability: ``df.vidi.to_pandas()`` keeps nulls, integers, dates, times and labels.

Generated frames of every export go to pandas; each column's dtype is checked
against the Polars dtype it came from, and each value against the Polars value.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import vidiframe as vf
import vidiframe._namespace  # registers df.vidi until vidiframe/__init__ does
from vidiframe._registry import ExportSpec, iter_exports
from vidiframe.testing.strategies import export_frames

SPECS = list(iter_exports())
FAST = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def frames(spec: ExportSpec) -> st.SearchStrategy[pl.DataFrame]:
    return export_frames(
        spec.data_type,
        spec.resolutions[0],
        group_by_demographics=spec.granularity == "demographics",
        min_rows=1,
    )


any_frame = st.sampled_from(SPECS).flatmap(frames)


def expected_pandas_dtype(dtype: pl.DataType) -> Any:
    """The pandas dtype the documentation promises for a Polars dtype."""
    if isinstance(dtype, pl.Enum):
        return pd.CategoricalDtype(list(dtype.categories), ordered=True)
    return {
        pl.Int64: pd.Int64Dtype(),
        pl.Float64: pd.Float64Dtype(),
        pl.Boolean: pd.BooleanDtype(),
        pl.String: pd.StringDtype(),
        pl.Date: pd.ArrowDtype(pa.date32()),
        pl.Time: pd.ArrowDtype(pa.time64("ns")),
        pl.Datetime("us"): "datetime64[us]",
        pl.Duration("us"): "timedelta64[us]",
    }.get(dtype, "object")


def plain(value: Any) -> Any:
    """A pandas cell as a Python value comparable with Polars' ``to_list``."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, pd.Timedelta):
        return value.to_pytimedelta()
    if isinstance(value, dict):  # a struct of a nested list
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, np.ndarray)):  # a nested list
        return [plain(item) for item in value]
    return value


@FAST
@given(any_frame)
def test_every_column_keeps_its_type_and_values(df: pl.DataFrame) -> None:
    pdf = df.vidi.to_pandas()
    assert list(pdf.columns) == df.columns
    assert len(pdf) == df.height
    for name, dtype in df.schema.items():
        assert pdf[name].dtype == expected_pandas_dtype(dtype), name
        got = [plain(v) for v in pdf[name].tolist()]
        assert got == df[name].to_list(), name


@FAST
@given(any_frame)
def test_from_pandas_and_the_schema_give_the_frame_back(df: pl.DataFrame) -> None:
    back = pl.from_pandas(df.vidi.to_pandas()).cast(df.schema)
    assert_frame_equal(back, df)


def test_the_values_a_reader_of_pandas_expects() -> None:
    body = {
        "state": "finished",
        "data": [
            {
                "location_id": "4636",
                "period_start": "2025-03-01 10:00:00",
                "gender": 2,
                "age": 3,
                "dwell_time_in_tenths_of_sec": 150,
                "happy": 12.5,
            },
            {"location_id": 4636, "period_start": "2025-03-01 10:05:00", "gender": 1},
        ],
    }
    df = vf.read_vidicenter(body, data_type="viewers", time_resolution="finest")
    pdf = df.vidi.with_durations("dwell_time_s").vidi.to_pandas()
    # A nullable integer stays an integer; its null is pd.NA, not NaN.
    assert pdf["dwell_time_in_tenths_of_sec"].dtype == "Int64"
    assert pdf["dwell_time_in_tenths_of_sec"].tolist()[0] == 150
    assert pdf["dwell_time_in_tenths_of_sec"].isna().tolist() == [False, True]
    assert pdf["happy"].tolist()[0] == 12.5
    assert pdf["happy"].isna().tolist() == [False, True]
    # Dates are dates and times are times, not midnight timestamps or strings.
    assert pdf["period_start_date"].tolist() == [dt.date(2025, 3, 1)] * 2
    assert pdf["period_start_time"].tolist() == [dt.time(10, 0), dt.time(10, 5)]
    assert pdf["period_start"].dt.tz is None
    assert pdf["period_start"].tolist() == [
        pd.Timestamp("2025-03-01 10:00:00"),
        pd.Timestamp("2025-03-01 10:05:00"),
    ]
    # Labels are an ordered Categorical with every documented label as a category.
    assert pdf["gender_label"].tolist() == ["female", "male"]
    assert list(pdf["age_label"].cat.categories) == [
        "unknown",
        "child",
        "young adult",
        "adult",
        "senior",
    ]
    assert pdf["age_label"].cat.ordered
    assert pdf["age_label"].value_counts().to_dict() == {
        "adult": 1,
        "unknown": 0,
        "child": 0,
        "young adult": 0,
        "senior": 0,
    }
    assert pdf["dwell_time_td"].tolist()[0] == pd.Timedelta(seconds=15)


def test_plain_to_pandas_loses_what_the_helper_keeps() -> None:
    """Why the helper exists; if Polars changes this, the docs' pandas page must change too."""
    df = pl.DataFrame(
        {
            "n": pl.Series([1, None], dtype=pl.Int64),
            "d": [dt.date(2025, 3, 1), None],
            "e": pl.Series(["male", None], dtype=pl.Enum(["unknown", "male", "female"])),
        }
    )
    default = df.to_pandas()
    assert default["n"].dtype == "float64"
    assert str(default["d"].dtype).startswith("datetime64")
    assert isinstance(default["e"].dtype, pd.CategoricalDtype)
    arrow = df.to_pandas(use_pyarrow_extension_array=True)
    assert arrow["n"].dtype == pd.ArrowDtype(pa.int64())
    assert not isinstance(arrow["e"].dtype, pd.CategoricalDtype)
    helped = df.vidi.to_pandas()
    assert helped["n"].dtype == "Int64"
    assert helped["d"].dtype == pd.ArrowDtype(pa.date32())
    assert isinstance(helped["e"].dtype, pd.CategoricalDtype)


@pytest.mark.parametrize(
    ("series", "expected"),
    [
        (pl.Series("x", [1, None], dtype=pl.Int32), pd.Int32Dtype()),
        (pl.Series("x", [1, None], dtype=pl.UInt8), pd.UInt8Dtype()),
        (pl.Series("x", [1.5, None], dtype=pl.Float32), pd.Float32Dtype()),
    ],
)
def test_other_numeric_widths_stay_nullable(series: pl.Series, expected: Any) -> None:
    pdf = series.to_frame().vidi.to_pandas()
    assert pdf["x"].dtype == expected
    assert pdf["x"].isna().tolist() == [False, True]
