"""Arbitrary JSON in every field of every export: read back exactly, or a VidiFrameError.

The property of issue 10, item 8. Any JSON value (integers of any size, floats,
text that looks like numbers, booleans, lists, objects) is put into one field of
one row of a generated payload, of every export, and read from compact bytes,
pretty-printed bytes and the decoded dict. The read either raises a
:class:`~vidiframe.VidiFrameError` or gives the value back exactly, by the rules
of SPEC section 2 written out here with plain Python; any other exception fails.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import warnings
from decimal import Decimal, InvalidOperation
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import vidiframe as vf
from vidiframe._fields import Field
from vidiframe._registry import ExportSpec, iter_exports
from vidiframe.testing.strategies import export_payloads

SPECS = list(iter_exports())
IDS = [f"{s.data_type}-{s.granularity}" for s in SPECS]
SETTINGS = settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

NUMBER_TEXTS = st.sampled_from(
    [
        "12",
        " 7 ",
        "+5",
        "-0",
        "1.0",
        "1.5",
        "1e3",
        "0.242",
        "9007199254740993.0",
        "9223372036854775808",
        "nan",
        "inf",
        "1_000",
        "0x10",
        "yes",
        "",
        "no",
        "TRUE",
        "2018-01-29 00:00:00",
        "2018-01-29T00:00:00.123456",
    ]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(-(2**64), 2**64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8)
    | NUMBER_TEXTS
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=4),
            children,
            max_size=3,
        )
    ),
    max_leaves=6,
)
TRUE_TEXT = {"yes", "true", "1"}
FALSE_TEXT = {"", "no", "false", "0"}


def kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if value is None:
        return "null"
    return "nested"


def same(sent: Any, read: Any) -> bool:
    """Equal values of the same JSON kind (``True`` is not ``1``), nested alike.

    Object fields a struct column added (null in this row) do not count.
    """
    if isinstance(sent, dict):
        return (
            isinstance(read, dict)
            and all(k in read and same(v, read[k]) for k, v in sent.items())
            and all(v is None for k, v in read.items() if k not in sent)
        )
    if isinstance(sent, list):
        return (
            isinstance(read, list)
            and len(sent) == len(read)
            and all(same(a, b) for a, b in zip(sent, read, strict=True))
        )
    if isinstance(sent, float) and isinstance(read, float):
        return sent == read and math.copysign(1, sent) == math.copysign(1, read)
    return kind_of(sent) == kind_of(read) and sent == read


def json_text_of(got: Any, sent: Any) -> bool:
    """``got`` is a text whose JSON is ``sent``."""
    return isinstance(got, str) and same(sent, json.loads(got))


def number_of(text: str) -> Decimal | None:
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def read_back_exactly(f: Field, sent: Any, got: Any) -> bool:
    """Whether ``got`` is ``sent`` in ``f``'s column, by SPEC section 2."""
    if sent is None:
        return got is None
    if f.kind == "int":
        if isinstance(sent, str):
            number = number_of(sent)
            return number is not None and number == number.to_integral_value() and got == number
        if isinstance(sent, float):
            return sent.is_integer() and abs(sent) < 2**53 and got == int(sent)
        return kind_of(sent) == "int" and got == sent
    if f.kind == "float":
        if isinstance(sent, str):
            try:
                expected = float(sent.strip())
            except ValueError:
                return False
            return got == expected or (math.isnan(expected) and math.isnan(got))
        return kind_of(sent) in ("int", "float") and got == float(sent)
    if f.kind == "bool":
        text = sent if isinstance(sent, str) else json.dumps(sent)
        lowered = text.strip().lower()
        if f.bool_text is None and not isinstance(sent, (str, bool, int)):
            return False
        return lowered in TRUE_TEXT | FALSE_TEXT and got is (lowered in TRUE_TEXT)
    if f.kind == "str":
        return got == sent if isinstance(sent, str) else json_text_of(got, sent)
    if f.kind == "datetime":
        return (
            isinstance(sent, str)
            and isinstance(got, dt.datetime)
            and got == dt.datetime.fromisoformat(sent.strip().replace("T", " ")[:26])
        )
    if f.kind == "list":
        return isinstance(sent, list) and isinstance(got, list) and len(got) == len(sent)
    return got is not None


LAYOUTS = st.sampled_from(["compact", "indented", "dict"])


def source_of(payload: dict[str, Any], layout: str) -> Any:
    if layout == "dict":
        return payload
    # Python's json writes integers of any size; orjson stops at 64 bits.
    indent = 2 if layout == "indented" else None
    separators = None if indent else (",", ":")
    return json.dumps(payload, indent=indent, separators=separators).encode()


def read(spec: ExportSpec, source: Any) -> pl.DataFrame | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", vf.VidiFrameWarning)
        try:
            return vf.read_vidicenter(
                source,
                data_type=spec.data_type,
                time_resolution=spec.resolutions[0],
                group_by_demographics=spec.granularity == "demographics",
            )
        except vf.VidiFrameError:
            return None


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
@SETTINGS
@given(data=st.data())
def test_any_json_value_in_any_field_reads_back_exactly_or_raises(
    spec: ExportSpec, data: st.DataObject
) -> None:
    payload = data.draw(
        export_payloads(
            spec.data_type,
            spec.resolutions[0],
            group_by_demographics=spec.granularity == "demographics",
            min_rows=1,
            max_rows=4,
        )
    )
    fields = [f for f in spec.fields if not (f.name == "period_start" and spec.time_as_parts)]
    f = data.draw(st.sampled_from(fields))
    row = data.draw(st.integers(0, len(payload["data"]) - 1))
    sent = data.draw(JSON_VALUES)
    payload["data"][row][spec.api_name(f)] = sent

    df = read(spec, source_of(payload, data.draw(LAYOUTS)))
    if df is None:
        return
    got = df[f.name][row]
    got = got.to_list() if isinstance(got, pl.Series) else got
    assert read_back_exactly(f, sent, got), (f.name, sent, got)


@pytest.mark.parametrize("spec", SPECS[::3], ids=IDS[::3])
@SETTINGS
@given(data=st.data())
def test_any_json_value_in_an_unknown_field_reads_back_exactly_or_raises(
    spec: ExportSpec, data: st.DataObject
) -> None:
    payload = data.draw(
        export_payloads(
            spec.data_type,
            spec.resolutions[0],
            group_by_demographics=spec.granularity == "demographics",
            min_rows=1,
            max_rows=4,
        )
    )
    rows = payload["data"]
    values = data.draw(st.lists(JSON_VALUES, min_size=len(rows), max_size=len(rows)))
    for r, value in zip(rows, values, strict=True):
        r["zz_arbitrary"] = value

    df = read(spec, source_of(payload, data.draw(LAYOUTS)))
    if df is None:
        return
    got = df["zz_arbitrary"].to_list()
    kinds = {kind_of(v) for v in values} - {"null"}
    for sent, value in zip(values, got, strict=True):
        if sent is None:
            assert value is None
        elif kinds <= {"int", "float"} and len(kinds) == 2:
            assert isinstance(value, float), (sent, value)
            assert value == sent, (sent, value)
        elif len(kinds) == 1 and kinds != {"nested"}:
            assert same(sent, value), (sent, value)
        else:
            # Mixed kinds keep each value's JSON text; nested values their structure.
            assert same(sent, value) or json_text_of(value, sent), (sent, value)
