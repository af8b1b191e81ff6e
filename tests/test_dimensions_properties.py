"""Property: any response made of the registry's fields reads back value for value."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import vidiframe as vf
from vidiframe._dimension_registry import DimensionSpec, iter_dimensions
from vidiframe._fields import Field

SPECS = list(iter_dimensions())


def _rows(spec: DimensionSpec) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Rows under the API's names (``id``, ``clip_id``, ``location``...), any subset of fields."""
    api = {frame: wire for wire, frame in spec.renames.items() if "." not in wire}
    row = st.fixed_dictionaries(
        {},
        optional={api.get(f.name, f.name): f.strategy(legacy=True) for f in spec.fields},
    )
    return st.lists(row, max_size=4)


def _expected(f: Field, value: Any) -> Any:
    if value is None:
        return None
    if f.kind == "datetime":
        return dt.datetime.fromisoformat(value)
    if f.kind == "bool" and f.bool_text is not None:
        return value == f.bool_text
    if f.kind == "struct":
        return {sub.name: _expected(sub, value.get(sub.name)) for sub in f.fields}
    if f.kind == "list":
        return [_expected(Field("", "struct", fields=f.fields), element) for element in value]
    return value


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_generated_responses_read_back_value_for_value(spec: DimensionSpec) -> None:
    api = {frame: wire for wire, frame in spec.renames.items() if "." not in wire}

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(rows=_rows(spec))
    def check(rows: list[dict[str, Any]]) -> None:
        frame = vf.read_dimension(spec.name, orjson.dumps(rows))
        assert frame.schema == spec.schema
        assert frame.height == len(rows)
        for actual, row in zip(frame.iter_rows(named=True), rows, strict=True):
            for f in spec.fields:
                assert actual[f.name] == _expected(f, row.get(api.get(f.name, f.name))), f.name

    check()
