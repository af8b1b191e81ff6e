"""Property tests of read_vidicenter over generated payloads of every export.

Expected values are computed here from the payload with plain Python, never by
the code under test.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from typing import Any

import orjson
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import vidiframe as vf
from vidiframe import _frame, _json
from vidiframe._fields import Field
from vidiframe._registry import ExportSpec, iter_exports
from vidiframe.testing.strategies import export_payloads

SPECS = list(iter_exports())
IDS = [f"{s.data_type}-{s.granularity}" for s in SPECS]
FAST = settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def resolution(spec: ExportSpec) -> str:
    return spec.resolutions[0]


def read(payload: Any, spec: ExportSpec, **kw: Any) -> pl.DataFrame:
    return vf.read_vidicenter(
        payload,
        data_type=spec.data_type,
        time_resolution=resolution(spec),
        group_by_demographics=spec.granularity == "demographics",
        **kw,
    )


def payloads(spec: ExportSpec, **kw: Any) -> st.SearchStrategy[dict[str, Any]]:
    return export_payloads(
        spec.data_type,
        resolution(spec),
        group_by_demographics=spec.granularity == "demographics",
        **kw,
    )


def parse_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def expected(f: Field, value: Any) -> Any:
    """What a raw JSON value becomes in its column, by the contract of SPEC section 2."""
    if value is None:
        return None
    if f.kind == "bool":
        return value == f.bool_text if f.bool_text is not None else value
    if f.kind == "datetime":
        return parse_time(value)
    if f.kind == "list":
        return [{sub.name: expected(sub, item.get(sub.name)) for sub in f.fields} for item in value]
    if f.kind == "float":
        return float(value)
    return value


def period_of(spec: ExportSpec, row: dict[str, Any]) -> dt.datetime | None:
    if spec.time_as_parts:
        return parse_time(f"{row['period_start_date']} {row['period_start_time']}")
    value = row.get(spec.time_api_name)
    return None if value is None else parse_time(value)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
@FAST
@given(data=st.data())
def test_every_value_lands_typed_in_its_column(spec: ExportSpec, data: st.DataObject) -> None:
    payload = data.draw(payloads(spec))
    rows = payload["data"]
    df = read(payload, spec)

    assert df.schema == spec.schema
    assert df.height == len(rows)
    for f in spec.fields:
        if f.name == "period_start":
            continue
        assert df[f.name].to_list() == [expected(f, r.get(spec.api_name(f))) for r in rows], f.name
        if f.seconds_column is not None:
            seconds = [
                None if r.get(f.name) is None else r[f.name] / f.seconds_factor for r in rows
            ]
            assert df[f.seconds_column].to_list() == seconds, f.seconds_column
        if f.label_column is not None:
            assert f.labels is not None
            labels = [None if r.get(f.name) is None else f.labels[r[f.name]] for r in rows]
            assert df[f.label_column].cast(pl.String).to_list() == labels, f.label_column
    periods = [period_of(spec, r) for r in rows]
    assert df["period_start"].to_list() == periods
    assert df["period_start_date"].to_list() == [p.date() for p in periods]
    assert df["period_start_time"].to_list() == [p.time() for p in periods]
    placeholder = [
        all(r.get(spec.api_name(spec.by_name[m])) is None for m in spec.metrics) for r in rows
    ]
    assert df["is_placeholder"].to_list() == placeholder


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
@FAST
@given(data=st.data())
def test_placeholders_drop_removes_exactly_the_placeholder_rows(
    spec: ExportSpec, data: st.DataObject
) -> None:
    payload = data.draw(payloads(spec))
    kept = read(payload, spec)
    dropped = read(payload, spec, placeholders="drop")
    assert_frame_equal(dropped, kept.filter(~pl.col("is_placeholder")))


@pytest.mark.parametrize(
    "spec",
    [s for s in SPECS if any(f.legacy for f in s.fields)],
    ids=lambda s: f"{s.data_type}-{s.granularity}",
)
@FAST
@given(data=st.data())
def test_a_2020_named_payload_gives_the_frame_of_its_current_twin(
    spec: ExportSpec, data: st.DataObject
) -> None:
    legacy = data.draw(payloads(spec, legacy=True))
    renames = spec.renames
    twin = {
        **legacy,
        "data": [
            {
                renames.get(k, k) if k != spec.time_api_name else k: rename_nested(spec, k, v)
                for k, v in row.items()
            }
            for row in legacy["data"]
        ],
    }
    assert_frame_equal(read(legacy, spec), read(twin, spec))


def rename_nested(spec: ExportSpec, key: str, value: Any) -> Any:
    f = spec.by_name.get(spec.renames.get(key, key))
    if f is None or f.kind != "list" or value is None:
        return value
    names = {old: sub.name for sub in f.fields for old in sub.legacy}
    return [{names.get(k, k): v for k, v in item.items()} for item in value]


EXTRA_VALUES = st.one_of(
    st.lists(st.one_of(st.none(), st.integers(-(2**53), 2**53)), min_size=1),
    st.lists(st.one_of(st.none(), st.text(max_size=10)), min_size=1),
    st.lists(st.one_of(st.none(), st.booleans()), min_size=1),
    st.lists(st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False)), min_size=1),
)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
@FAST
@given(data=st.data())
def test_an_unknown_field_survives_with_its_values(spec: ExportSpec, data: st.DataObject) -> None:
    payload = data.draw(payloads(spec, min_rows=1))
    rows = payload["data"]
    values = data.draw(EXTRA_VALUES)
    values = (values * len(rows))[: len(rows)]
    payload = {
        **payload,
        "data": [{**row, "zz_new_field": v} for row, v in zip(rows, values, strict=True)],
    }

    with pytest.warns(vf.UnknownFieldWarning, match="zz_new_field"):
        df = read(payload, spec)
    assert df.columns == [*spec.schema, "zz_new_field"]
    got = df["zz_new_field"].to_list()
    if all(v is None or isinstance(v, float) for v in values):
        assert got == [None if v is None else float(v) for v in values]
    else:
        assert got == values
    with pytest.raises(vf.SchemaError, match="zz_new_field"):
        read(payload, spec, strict=True)


def numbers_as_text(spec: ExportSpec, row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for f in spec.fields:
        key = spec.api_name(f)
        value = row.get(key)
        if (
            f.kind in ("int", "float")
            and isinstance(value, (int, float))
            and not isinstance(value, bool)
        ):
            out[key] = repr(value) if f.kind == "float" else str(value)
    return out


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
@FAST
@given(data=st.data())
def test_numbers_sent_as_text_are_cast(spec: ExportSpec, data: st.DataObject) -> None:
    payload = data.draw(payloads(spec))
    as_text = {**payload, "data": [numbers_as_text(spec, row) for row in payload["data"]]}
    assert_frame_equal(read(as_text, spec), read(payload, spec))


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
@FAST
@given(data=st.data())
def test_frames_of_one_export_concatenate_in_order(spec: ExportSpec, data: st.DataObject) -> None:
    first = data.draw(payloads(spec))
    second = data.draw(payloads(spec))
    both = {**first, "data": first["data"] + second["data"]}
    combined = pl.concat([read(first, spec), read(second, spec)])
    assert_frame_equal(combined, read(both, spec))


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
@FAST
@given(data=st.data())
def test_bytes_and_dict_sources_agree(spec: ExportSpec, data: st.DataObject) -> None:
    payload = data.draw(payloads(spec))
    assert_frame_equal(read(orjson.dumps(payload), spec), read(payload, spec))
    pretty = orjson.dumps(payload, option=orjson.OPT_INDENT_2)
    assert_frame_equal(read(pretty, spec), read(payload, spec))


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
@FAST
@given(data=st.data())
def test_the_fast_path_and_the_general_path_agree(spec: ExportSpec, data: st.DataObject) -> None:
    payload = data.draw(payloads(spec, legacy=data.draw(st.booleans()), min_rows=1))
    body = orjson.dumps(payload)
    fast = read(body, spec)
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(_json, "_read_fast", lambda *args: None)
        general = read(body, spec)
    assert_frame_equal(fast, general)


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
@FAST
@given(data=st.data())
def test_typing_columns_side_by_side_gives_the_one_by_one_frame(
    spec: ExportSpec, data: st.DataObject
) -> None:
    payload = data.draw(payloads(spec, min_rows=1))
    one_by_one = read(payload, spec)
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(_frame, "_CONCURRENT_ROWS", 0)
        assert_frame_equal(read(payload, spec), one_by_one)


def test_typing_side_by_side_raises_the_first_bad_field_in_field_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    row = {"location_id": "x", "period_start": "not a time", "ots_count": 1, "duration": 3600}
    monkeypatch.setattr(_frame, "_CONCURRENT_ROWS", 0)
    with pytest.raises(vf.SchemaError, match="'location_id'"):
        vf.read_vidicenter(
            {"state": "finished", "data": [row]}, data_type="ots", time_resolution="1h"
        )


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=30))
def test_floats_are_decoded_exactly(values: list[float]) -> None:
    # An unknown float field takes the general decoder (msgspec); its numbers must equal
    # Python's own parse. tests/test_json.py checks the fast path's.
    payload = {"state": "finished", "data": [{"zz": v} for v in values]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", vf.UnknownFieldWarning)
        df = vf.read_vidicenter(orjson.dumps(payload), data_type="ots", time_resolution="1h")
    assert all(
        a == b or (math.isnan(a) and math.isnan(b))
        for a, b in zip(df["zz"].to_list(), values, strict=True)
    )
