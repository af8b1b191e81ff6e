"""Hypothesis strategies for VidiCenter export responses and the frames they give.

Both strategies are derived from the export registry: each field's
:meth:`~vidiframe.Field.strategy` draws its values, so a field added to the
registry is generated here without another line.

Use them to property-test your own transformations on realistic exports,
placeholders and nulls included::

    from hypothesis import HealthCheck, given, settings
    import polars as pl
    from vidiframe.testing.strategies import export_frames

    # Drawing a frame parses it: no per-example deadline, no too_slow check.
    @settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(export_frames("ots", "1h"))
    def test_daily_totals_keep_every_ots(df):
        daily = df.group_by("location_id", "period_start_date").agg(pl.col("ots_count").sum())
        assert daily["ots_count"].sum() == df["ots_count"].sum()

Requires the ``hypothesis`` package (``pip install vidiframe[testing]``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

from vidiframe._optional import require
from vidiframe._registry import ExportSpec, get_export
from vidiframe._wire import CREATION_DATE_KEY, STATE_KEY

if TYPE_CHECKING:
    from hypothesis import strategies as st
else:
    st = require("hypothesis.strategies", extra="testing")

__all__ = ["export_frames", "export_payloads", "export_rows"]


def export_rows(
    data_type: str,
    time_resolution: str,
    *,
    group_by_demographics: bool = False,
    legacy: bool = False,
) -> st.SearchStrategy[dict[str, Any]]:
    """One ``data`` row of an export, as the API sends it.

    A tenth of the rows are placeholders: every metric null, keys set. Fields the
    current API no longer sends (``glasses``, ...) appear in legacy rows only.

    Parameters
    ----------
    data_type, time_resolution, group_by_demographics
        Which export (see :func:`~vidiframe.get_export`).
    legacy
        Use the 2020 field names where the field had one (``dwell_time``, ...).

    Examples
    --------
    >>> from hypothesis import given
    >>> @given(export_rows("gate", "1h"))
    ... def check(row):
    ...     assert set(row) == {"location_id", "period_start", "gate_id", "in_count",
    ...                         "out_count", "duration"}
    >>> check()
    """
    spec = get_export(data_type, time_resolution, group_by_demographics=group_by_demographics)
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for f in spec.fields:
        if (f.time_parts and spec.time_as_parts) or (f.dropped and not legacy):
            continue
        fields[spec.api_name(f, legacy=legacy)] = f.strategy(legacy=legacy)
    rows = st.fixed_dictionaries(fields)
    if spec.time_as_parts:
        rows = st.builds(_with_time_parts, rows, spec.by_name["period_start"].strategy())
    metrics = [spec.api_name(spec.by_name[m], legacy=legacy) for m in spec.metrics]
    return st.tuples(rows, st.integers(0, 9)).map(
        lambda pair: _as_placeholder(pair[0], metrics) if pair[1] == 0 else pair[0]
    )


def export_payloads(
    data_type: str,
    time_resolution: str,
    *,
    group_by_demographics: bool = False,
    legacy: bool = False,
    min_rows: int = 0,
    max_rows: int = 20,
) -> st.SearchStrategy[dict[str, Any]]:
    """A finished export response: ``{"state": "finished", "data": [...], ...}``.

    Parameters
    ----------
    data_type, time_resolution, group_by_demographics
        Which export (see :func:`~vidiframe.get_export`).
    legacy
        Use the 2020 field names.
    min_rows, max_rows
        Bounds on the number of rows.

    Examples
    --------
    >>> from hypothesis import given
    >>> @given(export_payloads("viewers", "finest", legacy=True, min_rows=1))
    ... def check(payload):
    ...     assert payload["state"] == "finished"
    ...     assert "dwell_time" in payload["data"][0]
    >>> check()
    """
    rows = export_rows(
        data_type, time_resolution, group_by_demographics=group_by_demographics, legacy=legacy
    )
    return st.builds(
        lambda data: {
            STATE_KEY: "finished",
            "data": data,
            CREATION_DATE_KEY: "2025-04-01 10:00:00",
        },
        st.lists(rows, min_size=min_rows, max_size=max_rows),
    )


def export_frames(
    data_type: str,
    time_resolution: str,
    *,
    group_by_demographics: bool = False,
    legacy: bool = False,
    min_rows: int = 0,
    max_rows: int = 20,
) -> st.SearchStrategy[pl.DataFrame]:
    """The frames :func:`~vidiframe.read_vidicenter` gives for :func:`export_payloads`.

    Each example parses a payload with Polars, inside the data generation: on a
    loaded machine that can outlast hypothesis's per-example ``deadline`` and trip
    its ``too_slow`` health check, failing a property for a reason that is no bug.
    Turn both off for tests that draw frames, as below.

    Examples
    --------
    >>> from hypothesis import HealthCheck, given, settings
    >>> import vidiframe as vf
    >>> @settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
    ... @given(export_frames("ots", "1h"))
    ... def check(df):
    ...     assert df.schema == vf.export_schema("ots", "1h")
    >>> check()
    """
    from vidiframe._api import read_vidicenter

    payloads = export_payloads(
        data_type,
        time_resolution,
        group_by_demographics=group_by_demographics,
        legacy=legacy,
        min_rows=min_rows,
        max_rows=max_rows,
    )
    return payloads.map(
        lambda payload: read_vidicenter(
            payload,
            data_type=data_type,
            time_resolution=time_resolution,
            group_by_demographics=group_by_demographics,
        )
    )


def _as_placeholder(row: dict[str, Any], metrics: list[str]) -> dict[str, Any]:
    return {key: (None if key in metrics else value) for key, value in row.items()}


def _with_time_parts(row: dict[str, Any], period_start: str) -> dict[str, Any]:
    date, time = period_start.split(" ")
    return {**row, "period_start_date": date, "period_start_time": time}


def spec_of(
    data_type: str, time_resolution: str, *, group_by_demographics: bool = False
) -> ExportSpec:
    """The registry entry behind a strategy (for tests that need its metadata)."""
    return get_export(data_type, time_resolution, group_by_demographics=group_by_demographics)
