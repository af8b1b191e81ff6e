"""Field behaviour belongs to the field's type (issue 10, item 7).

Each kind's class owns its cast, its decoder expectation, its nested typing and
the fake's drawer; these tests check that behaviour value by value, and a guard
reads the package's source to prove no other module switches on a field's kind
string or keys behaviour on a field's name or description.
"""

from __future__ import annotations

import ast
import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import polars as pl
import pytest

from vidiframe._field_types import FIELD_TYPES, Draws
from vidiframe._fields import Field, Flag, Float, Int, Kind, Nested, Object, Text, Timestamp

ROOT = Path(__file__).parent.parent
FIELD_KINDS = frozenset(get_args(Kind))
# The two modules that define the kinds: the only ones that may read the kind string.
OWNERS = {"vidiframe/_field_types.py", "vidiframe/_fields.py"}


# -- the guard -------------------------------------------------------------------------------


def _is_kind(node: ast.expr) -> bool:
    """``x.kind`` or a variable named ``kind``."""
    return (isinstance(node, ast.Attribute) and node.attr == "kind") or (
        isinstance(node, ast.Name) and node.id == "kind"
    )


def _strings(node: ast.expr) -> set[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return {s for element in node.elts for s in _strings(element)}
    return set()


# The names the package gives a field in its loops: a field's name is compared to
# text only where the field is not at hand as a declaration (a spec's own names).
_FIELD_VARIABLES = ("f", "sub", "field")


def _keyed_on_text(node: ast.Compare) -> bool:
    """``"..." in x.doc`` or ``"..." in x.name``, or a field's name compared to text."""
    if any(
        isinstance(op, (ast.In, ast.NotIn))
        and isinstance(right, ast.Attribute)
        and right.attr in ("doc", "name")
        and bool(_strings(node.left))
        for op, right in zip(node.ops, node.comparators, strict=True)
    ):
        return True
    left = node.left
    return (
        isinstance(left, ast.Attribute)
        and left.attr == "name"
        and isinstance(left.value, ast.Name)
        and left.value.id in _FIELD_VARIABLES
        and any(_strings(right) for right in node.comparators)
    )


def switches(source: str) -> Iterator[int]:
    """Lines that switch on a field kind's string, or key behaviour on a field's name or doc."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            literals = set().union(*map(_strings, sides))
            if (any(map(_is_kind, sides)) and literals & FIELD_KINDS) or _keyed_on_text(node):
                yield node.lineno
        elif isinstance(node, ast.Match) and _is_kind(node.subject):
            cases = {
                case.pattern.value.value
                for case in node.cases
                if isinstance(case.pattern, ast.MatchValue)
                and isinstance(case.pattern.value, ast.Constant)
            }
            if cases & FIELD_KINDS:
                yield node.lineno
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("endswith", "startswith")
            and isinstance(node.func.value, ast.Attribute)
            and node.func.value.attr in ("name", "doc")
            and isinstance(node.func.value.value, ast.Name)
            and node.func.value.value.id in _FIELD_VARIABLES
        ):
            yield node.lineno


@pytest.mark.parametrize(
    "snippet",
    [
        'if f.kind == "int": pass',
        'x = sub.kind in ("int", "str")',
        'y = "list" != field.kind',
        'match f.kind:\n    case "bool":\n        pass',
        'if kind == "float": pass',
        'if "attention" in f.name: pass',
        'if "sent as 1.0" not in f.doc: pass',
        'if f.name.endswith("id"): pass',
        'if f.name == "period_start": pass',
        'if sub.name in ("content_id", "id"): pass',
    ],
)
def test_the_guard_finds_a_switch(snippet: str) -> None:
    assert list(switches(snippet)) == [1]


@pytest.mark.parametrize(
    "snippet",
    [
        'if event.kind == "start": pass',  # a request's kind, not a field's
        "if f.type.numeric: pass",
        'if entry.name.endswith(".parquet"): pass',
        "if f.name == other: pass",
    ],
)
def test_the_guard_lets_other_code_be(snippet: str) -> None:
    assert list(switches(snippet)) == []


def _sources() -> list[Path]:
    files = sorted((ROOT / "vidiframe").rglob("*.py"))
    return [*files, ROOT / "docs" / "_gen_schema.py"]


def test_no_module_but_the_field_types_switches_on_a_kind() -> None:
    found = {
        f"{path.relative_to(ROOT)}:{line}"
        for path in _sources()
        if str(path.relative_to(ROOT)) not in OWNERS
        for line in switches(path.read_text(encoding="utf-8"))
    }
    assert found == set()
    assert len(_sources()) > 40  # the walk found the package


# -- each kind's cast -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "raw", "expected"),
    [
        (Int("n"), pl.Series("n", [3.0, 2.5, None]), [3, None, None]),
        (Int("n"), pl.Series("n", ["12", " 7 ", "1.0", "x"]), [12, 7, 1, None]),
        (Int("n"), pl.Series("n", [1, 2], dtype=pl.Int32), [1, 2]),
        (Int("n"), pl.Series("n", [True]), [None]),
        (Float("x"), pl.Series("x", [1, 2]), [1.0, 2.0]),
        (Float("x"), pl.Series("x", ["0.25", "?"]), [0.25, None]),
        (Float("x"), pl.Series("x", [True]), [None]),
        (Text("s"), pl.Series("s", [12, None]), ["12", None]),
        (Text("s"), pl.Series("s", [True]), ["true"]),
        (
            Flag("b", bool_text="yes"),
            pl.Series("b", ["yes", "", "Yes", "maybe"]),
            [True, False, True, None],
        ),
        (Flag("b"), pl.Series("b", [0, 1, 2]), [False, True, None]),
        (Flag("b"), pl.Series("b", [1.0]), [None]),
        (
            Timestamp("t"),
            pl.Series("t", ["2018-01-29T00:00:27", "2018-01-29 02:00", "nonsense"]),
            [dt.datetime(2018, 1, 29, 0, 0, 27), dt.datetime(2018, 1, 29, 2, 0), None],
        ),
        (Timestamp("t"), pl.Series("t", [1]), [None]),
    ],
)
def test_each_kind_casts_its_column(field: Field, raw: pl.Series, expected: list[Any]) -> None:
    # A value the kind cannot read becomes null: the reader reports it as a SchemaError.
    got = field.type.cast(raw, field)
    assert got.dtype == field.dtype
    assert got.to_list() == expected
    assert got.name == raw.name


def test_nested_kinds_type_their_fields_and_refuse_what_does_not_fit() -> None:
    from vidiframe import SchemaError

    contents = Nested("contents", (Int("content_id"), Text("label")))
    raw = pl.Series("contents", [[{"content_id": 4.0, "label": 1}], None])
    assert contents.type.cast(raw, contents).to_list() == [[{"content_id": 4, "label": "1"}], None]
    fractional = pl.Series("contents", [[{"content_id": 4.5}]])
    with pytest.raises(SchemaError, match="'contents'"):
        contents.type.cast(fractional, contents)
    with pytest.raises(SchemaError, match="must be a list of objects"):
        contents.type.cast(pl.Series("contents", [1]), contents)
    factors = Object("factors", (Float("car"),))
    got = factors.type.cast(pl.Series("factors", [{"car": 1}, None]), factors)
    assert got.to_list() == [{"car": 1.0}, None]


def test_two_names_of_one_nested_field_that_disagree_are_refused_at_any_depth() -> None:
    from vidiframe import SchemaError

    visits = Nested("visits", (Nested("timings", (Int("start", legacy=("begin",)),)),))
    agree = pl.Series("visits", [[{"timings": [{"start": 1, "begin": 1.0}, {"begin": 2.0}]}], None])
    assert visits.type.cast(agree, visits).to_list() == [
        [{"timings": [{"start": 1}, {"start": 2}]}],
        None,
    ]
    differ = pl.Series("visits", [None, [{"timings": [{"start": 1, "begin": 2}]}]])
    with pytest.raises(SchemaError, match="'start' = 1 and 'begin' = 2") as info:
        visits.type.cast(differ, visits)
    assert (info.value.column, info.value.row, info.value.value) == ("visits", 1, 2)
    one = Object("o", (Text("label", legacy=("name",)),))
    with pytest.raises(SchemaError, match="two names of one field"):
        one.type.cast(pl.Series("o", [{"label": "a", "name": "b"}]), one)


def test_what_the_decoder_may_expect_of_each_kind() -> None:
    expected = {
        "int": "int",
        "float": "float",
        "str": "str",
        "bool": "bool",
        "datetime": "text",
        "date": "text",
        "time": "text",
        "list": "list",
        "struct": "list",
    }
    assert {kind: t.sent for kind, t in FIELD_TYPES.items()} == expected
    assert Flag("b", bool_text="yes").type.sent_as(Flag("b", bool_text="yes")) == "str"


def test_a_list_of_objects_says_how_its_objects_fields_are_sent_under_every_name() -> None:
    sub = (Int("n", legacy=("old_n",)), Text("label"), Timestamp("at"))
    contents = Nested("contents", sub)
    assert contents.type.elements_sent_as(contents) == {
        "n": "int",
        "old_n": "int",
        "label": "str",
        "at": "text",
    }
    # One object, or a scalar: no list of objects to read.
    assert Object("o", sub).type.elements_sent_as(Object("o", sub)) is None
    assert Int("n").type.elements_sent_as(Int("n")) is None


# -- each kind's drawer ------------------------------------------------------------------------


class _Draws:
    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed).random


WHEN = dt.datetime(2025, 1, 3, 10, 0)


@pytest.mark.parametrize(
    ("field", "quirks", "check"),
    [
        (Int("n", low=3, high=5), False, lambda v: type(v) is int and 3 <= v <= 5),
        (Int("n", sent_as_float=True), True, lambda v: type(v) is float and v == int(v)),
        (Float("x", low=0, high=1), False, lambda v: type(v) is float and 0 <= v <= 1),
        (Float("r", unit="ratio"), True, lambda v: isinstance(v, str) and float(v) >= 0),
        (Flag("b", bool_text="yes"), False, lambda v: v in ("yes", "")),
        (Flag("b"), False, lambda v: type(v) is bool),
        (Text("zone_name", describes="zone_id"), False, lambda v: v == "Zone 60"),
        (
            Timestamp("t"),
            False,
            lambda v: WHEN - dt.timedelta(minutes=10) <= dt.datetime.fromisoformat(v) <= WHEN,
        ),
    ],
)
def test_each_kind_draws_values_as_the_api_sends_them(
    field: Field, quirks: bool, check: Any
) -> None:
    draw = field.type.drawer(field, quirks=quirks)
    assert draw is not None
    draws: Draws = _Draws(7)
    values = [draw(draws, WHEN, {"zone_id": 60}) for _ in range(50)]
    assert all(check(v) for v in values), values


def test_nested_kinds_leave_their_drawer_to_the_generator() -> None:
    contents = Nested("contents", (Int("content_id"),))
    assert contents.type.drawer(contents, quirks=False) is None


def test_pools_and_amounts() -> None:
    assert Int("gate_id").type.pool(Int("gate_id"), 3) == [1, 2, 3]
    assert Text("zone_id").type.pool(Text("zone_id"), 2) == ["zone 1", "zone 2"]
    counted = Int("nb_visits", sent_as_float=True)
    assert counted.type.amount(counted, 7.9, quirks=True) == 7.0
    assert type(counted.type.amount(counted, 7.9, quirks=False)) is int
    assert Float("x").type.amount(Float("x"), 1.23456, quirks=False) == 1.23
