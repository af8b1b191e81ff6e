"""The adapter to Polars' unstable IO-source plugin, checked against the installed Polars.

What the scan relies on: the predicate a source receives (after Polars' own
optimisations) decomposes into the parts the scan reasons about; ``head(n)``
reaches the source as ``n_rows`` and the source must honour it; the projection
arrives as ``with_columns``; the detail shows in ``explain()``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import polars as pl
import pytest

from vidiframe._io_plugin import (
    All,
    Any_,
    Between,
    Compare,
    Const,
    IsIn,
    Node,
    Opaque,
    decompose,
    register_source,
)

SCHEMA = pl.Schema(
    {"location_id": pl.Int64, "period_start": pl.Datetime("us"), "period_start_date": pl.Date}
)
ROWS = pl.DataFrame(
    {
        "location_id": [1, 2, 3],
        "period_start": [dt.datetime(2025, 1, 1, h) for h in range(3)],
        "period_start_date": [dt.date(2025, 1, 1)] * 3,
    },
    schema=SCHEMA,
)
DAY = dt.datetime(2025, 1, 1)


class Recorder:
    """A source that records what Polars hands it, and honours it."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(
        self,
        with_columns: list[str] | None,
        predicate: pl.Expr | None,
        n_rows: int | None,
        batch_size: int | None,
    ) -> Iterator[pl.DataFrame]:
        self.calls.append({"with_columns": with_columns, "predicate": predicate, "n_rows": n_rows})
        frame = ROWS if predicate is None else ROWS.filter(predicate)
        if with_columns is not None:
            frame = frame.select(with_columns)
        yield frame if n_rows is None else frame.head(n_rows)


def pushed(query: Any) -> Node | None:
    recorder = Recorder()
    query(register_source(recorder, schema=SCHEMA, name="test", detail="d")).collect()
    (call,) = recorder.calls
    return None if call["predicate"] is None else decompose(call["predicate"])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            lambda lf: lf.filter(pl.col("location_id").is_in([3, 1])),
            IsIn("location_id", (3, 1), nulls_equal=False),
        ),
        (
            lambda lf: lf.filter(pl.lit(2) < pl.col("location_id")),
            Compare("location_id", ">", 2),
        ),
        (
            lambda lf: lf.filter(
                pl.col("period_start").is_between(DAY, DAY + dt.timedelta(hours=1), closed="left")
            ),
            Between("period_start", DAY, DAY + dt.timedelta(hours=1), (True, False)),
        ),
        # A date compared with a datetime column reaches the source as a datetime.
        (
            lambda lf: lf.filter(pl.col("period_start") >= dt.date(2025, 1, 1)),
            Compare("period_start", ">=", DAY),
        ),
        (
            lambda lf: lf.filter(pl.col("period_start_date") == dt.date(2025, 1, 1)).filter(
                pl.col("location_id") != 2
            ),
            All(
                (
                    Compare("period_start_date", "==", dt.date(2025, 1, 1)),
                    Compare("location_id", "!=", 2),
                )
            ),
        ),
        (
            lambda lf: lf.filter((pl.col("location_id") == 1) | (pl.col("location_id") > 2)),
            Any_((Compare("location_id", "==", 1), Compare("location_id", ">", 2))),
        ),
        (lambda lf: lf.filter(pl.col("location_id").is_in([])), Const(False)),
        (
            lambda lf: lf.filter(~pl.col("location_id").is_in([1])),
            Opaque('col("location_id").is_in('),
        ),
        (
            lambda lf: lf.filter(pl.col("period_start").dt.hour() > 0),
            Opaque('col("period_start").dt.hour()'),
        ),
        (lambda lf: lf.select("location_id"), None),
    ],
)
def test_the_predicate_the_source_receives_decomposes(query: Any, expected: Node | None) -> None:
    got = pushed(query)
    if isinstance(expected, Opaque):
        # The text is Polars' printing of the expression: only a fragment is checked.
        assert isinstance(got, Opaque)
        assert expected.text in got.text
    elif isinstance(expected, All):
        # Polars reorders the parts of a conjunction as it likes.
        assert isinstance(got, All)
        assert set(got.parts) == set(expected.parts)
    else:
        assert got == expected


def test_head_reaches_the_source_as_n_rows_and_the_source_must_slice() -> None:
    recorder = Recorder()
    lf = register_source(recorder, schema=SCHEMA, name="vidicenter", detail="viewers/1h here")
    assert lf.select("location_id").head(2).collect()["location_id"].to_list() == [1, 2]
    assert recorder.calls == [{"with_columns": ["location_id"], "predicate": None, "n_rows": 2}]
    plan = lf.explain()
    assert "PYTHON[vidicenter] SCAN" in plan
    assert "viewers/1h here" in plan


def test_a_filtered_head_reaches_the_source_without_n_rows() -> None:
    """Polars 2.1 slices above a filtered source: documented in the scan's docstring."""
    recorder = Recorder()
    lf = register_source(recorder, schema=SCHEMA, name="test", detail="d")
    assert lf.filter(pl.col("location_id") > 1).head(1).collect().height == 1
    assert recorder.calls[0]["n_rows"] is None


def test_an_unreadable_tree_is_opaque() -> None:
    assert isinstance(decompose(pl.col("location_id").cum_sum() > 3), Opaque)
    assert decompose(pl.lit(True)) == Const(True)
