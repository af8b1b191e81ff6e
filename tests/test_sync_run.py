"""The runner's pure part: a response conformed to its dataset's columns."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import vidiframe as vf
from vidiframe._sync_config import SyncConfig
from vidiframe._sync_run import conform

SCHEMA = pl.Schema({"a": pl.Int64, "b": pl.String})


def export(mode: str):
    return SyncConfig.from_dict(
        {
            "root": "lake",
            "first_day": "2025-01-01",
            "schema_mode": mode,
            "export": [{"data_type": "ots", "time_resolution": "1h", "locations": 1}],
        }
    ).exports[0]


def test_columns_the_response_lacks_are_null_and_new_ones_follow_the_mode():
    df = pl.DataFrame({"new": [1.5, None], "a": [1, 2], "unset": [None, None]})
    frame, added, dropped = conform(df, SCHEMA, export("evolve"))
    expected = pl.DataFrame(
        {"a": [1, 2], "b": [None, None], "new": [1.5, None], "unset": [None, None]},
        schema={"a": pl.Int64, "b": pl.String, "new": pl.Float64, "unset": pl.Null},
    )
    # "unset" has no value and no type yet: added all the same, as a Null column
    # the dataset stores until a later batch gives it a type (before, it was left
    # out, and the report did not name it).
    assert (added, dropped) == (("new", "unset"), ())
    assert_frame_equal(frame, expected)

    frame, added, dropped = conform(df, SCHEMA, export("drop"))
    assert (added, dropped) == ((), ("new", "unset"))
    assert_frame_equal(frame, expected.drop("new", "unset"))

    with pytest.raises(vf.SchemaConflictError, match=r"new field\(s\) new, unset"):
        conform(df, SCHEMA, export("error"))


def test_a_value_that_does_not_fit_its_column_is_a_schema_conflict():
    df = pl.DataFrame({"a": ["12", "twelve"], "b": ["x", "y"]})
    with pytest.raises(vf.SchemaConflictError, match="does not fit its column"):
        conform(df, SCHEMA, export("evolve"))
    fits = conform(pl.DataFrame({"a": ["12"], "b": ["x"]}), SCHEMA, export("evolve"))[0]
    assert fits.rows() == [(12, "x")]


@pytest.mark.parametrize("mode", ["evolve", "drop", "error"])
def test_a_stored_null_column_keeps_the_responses_type(mode: str) -> None:
    # The dataset stores "b" as Null (no type known yet): a response with values
    # keeps them and their type, for the dataset layer to type the column; before,
    # they were cast to Null and refused as a value that does not fit.
    stored = pl.Schema({"a": pl.Int64, "b": pl.Null})
    frame, added, dropped = conform(
        pl.DataFrame({"a": [1, 2], "b": ["x", None]}), stored, export(mode)
    )
    assert (added, dropped) == ((), ())
    assert_frame_equal(
        frame, pl.DataFrame({"a": [1, 2], "b": ["x", None]}, schema={"a": pl.Int64, "b": pl.String})
    )
    # A response still without values keeps the column Null.
    frame, _, _ = conform(pl.DataFrame({"a": [3]}), stored, export(mode))
    assert frame.schema == stored
    assert frame.rows() == [(3, None)]


@pytest.mark.parametrize("mode", ["evolve", "drop", "error"])
def test_nested_parts_without_a_type_take_the_other_sides_type(mode: str) -> None:
    # The dataset stores "b" as an always-empty list so far, and "c" with a field
    # null in every row: a response with values in them keeps them (before, they
    # were cast towards Null: the struct's values were refused as not fitting).
    stored = pl.Schema(
        {"a": pl.Int64, "b": pl.List(pl.Null), "c": pl.Struct({"k": pl.Null, "n": pl.Int64})}
    )
    df = pl.DataFrame(
        {"a": [1, 2], "b": [["x", "y"], []], "c": [{"k": "v", "n": 1}, {"k": None, "n": 2}]}
    )
    frame, added, dropped = conform(df, stored, export(mode))
    assert (added, dropped) == ((), ())
    assert_frame_equal(frame, df)
    # The other way: an always-empty list of the response takes the stored type.
    typed = pl.Schema(
        {"a": pl.Int64, "b": pl.List(pl.String), "c": pl.Struct({"k": pl.String, "n": pl.Int64})}
    )
    empty = pl.DataFrame([[3], [[]], [{"k": None, "n": 3}]], schema=stored, orient="col")
    frame, _, _ = conform(empty, typed, export(mode))
    assert frame.schema == typed
    assert frame.rows() == [(3, [], {"k": None, "n": 3})]
    # A known type changed inside a list is no such thing: a conflict.
    with pytest.raises(vf.SchemaConflictError, match="does not fit its column"):
        conform(
            pl.DataFrame({"a": [4], "b": [["four"]]}),
            pl.Schema({"a": pl.Int64, "b": pl.List(pl.Int64)}),
            export(mode),
        )
