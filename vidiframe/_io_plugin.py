"""The adapter to Polars' IO-source plugin: the only module that touches its unstable API.

Two unstable pieces of Polars are used, and only here:

- :func:`polars.io.plugins.register_io_source`, which turns a Python generator of
  frames into a ``LazyFrame`` and hands it the projection, the pushed-down
  predicate and the row limit (:func:`register_source`);
- the JSON form of an expression (``Expr.meta.serialize(format="json")``), read
  to find the comparisons a predicate is made of (:func:`decompose`).

:func:`decompose` is conservative: it recognises ``&`` / ``|``, comparisons of a
column with a literal, ``is_between`` and ``is_in`` with literals, and boolean
literals; anything else becomes :class:`Opaque`, which the caller must treat as
"could be anything" (and apply locally). The caller always re-applies the whole
predicate to the rows it produces: the decomposition only ever narrows what is
fetched, never decides which rows are kept.

Examples
--------
>>> import datetime as dt
>>> import polars as pl
>>> decompose((pl.col("location_id") == 4636) & (pl.col("x") > pl.col("y")))
... # doctest: +NORMALIZE_WHITESPACE
All(parts=(Compare(column='location_id', op='==', value=4636),
           Opaque(text='[(col("x")) > (col("y"))]')))
"""

from __future__ import annotations

import inspect
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

import orjson
import polars as pl
from polars.io.plugins import register_io_source

__all__ = [
    "All",
    "Any_",
    "Between",
    "Compare",
    "Const",
    "IsIn",
    "Node",
    "Opaque",
    "decompose",
    "register_source",
]

Op = Literal["==", "!=", "<", "<=", ">", ">="]

#: What a registered source receives: projected columns, predicate, row limit, batch size.
SourceFunction = Callable[
    [list[str] | None, pl.Expr | None, int | None, int | None], Iterator[pl.DataFrame]
]

# Polars' names of the comparison operators, and the operator read from the other side
# (``lit < col`` is ``col > lit``).
_OPS: dict[str, Op] = {"Eq": "==", "NotEq": "!=", "Lt": "<", "LtEq": "<=", "Gt": ">", "GtEq": ">="}
_MIRRORED: dict[Op, Op] = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_CLOSED = {
    "Both": (True, True),
    "Left": (True, False),
    "Right": (False, True),
    "None": (False, False),
}


def register_source(
    source: SourceFunction, *, schema: pl.Schema, name: str, detail: str
) -> pl.LazyFrame:
    """A ``LazyFrame`` whose rows come from ``source``.

    ``source`` must apply the predicate, the projection and the row limit it is
    given (Polars trusts it to). ``name`` and ``detail`` appear in ``explain()``.
    """
    options: dict[str, Any] = {
        "validate_schema": True,
        # Not pure: collecting twice fetches twice (the server's data may have changed).
        "is_pure": False,
    }
    # The explain() labels are recent (Polars 2.1); without them the scan still works.
    accepted = inspect.signature(register_io_source).parameters
    for option, value in (("explain_name", name), ("explain_detail", detail)):
        if option in accepted:
            options[option] = value
    return register_io_source(source, schema=schema, **options)


# -- the decomposed predicate -------------------------------------------------------------------


@dataclass(frozen=True)
class Compare:
    """``column <op> value``."""

    column: str
    op: Op
    value: Any


@dataclass(frozen=True)
class Between:
    """``column.is_between(low, high)``; ``closed`` says which bounds are included."""

    column: str
    low: Any
    high: Any
    closed: tuple[bool, bool]


@dataclass(frozen=True)
class IsIn:
    """``column.is_in(values)``; ``nulls_equal`` as Polars' flag."""

    column: str
    values: tuple[Any, ...]
    nulls_equal: bool


@dataclass(frozen=True)
class Const:
    """A boolean literal: ``True`` keeps every row, ``False`` none (``is_in([])`` becomes this)."""

    value: bool


@dataclass(frozen=True)
class All:
    """A conjunction."""

    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Any_:  # noqa: N801 - ``Any`` is typing's
    """A disjunction."""

    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Opaque:
    """A part of the predicate that is not recognised; ``text`` is how Polars prints it."""

    text: str


Node = Compare | Between | IsIn | Const | All | Any_ | Opaque


def decompose(predicate: pl.Expr) -> Node:
    """The predicate as a tree of the parts a scan can reason about.

    Never raises: what cannot be read (a new serialization format included)
    becomes :class:`Opaque`.
    """
    try:
        tree = orjson.loads(predicate.meta.serialize(format="json"))
    except Exception:
        return Opaque(str(predicate))
    return _node(tree)


def _node(tree: Any) -> Node:
    try:
        node = _read(tree)
    except (KeyError, TypeError, ValueError, IndexError, pl.exceptions.PolarsError):
        node = None
    return node if node is not None else Opaque(_text(tree))


def _read(tree: dict[str, Any]) -> Node | None:
    if "BinaryExpr" in tree:
        binary = tree["BinaryExpr"]
        op = binary["op"]
        if op in ("And", "LogicalAnd"):
            return All((_node(binary["left"]), _node(binary["right"])))
        if op in ("Or", "LogicalOr"):
            return Any_((_node(binary["left"]), _node(binary["right"])))
        if op not in _OPS:
            return None
        left, right = binary["left"], binary["right"]
        if _column(left) is not None and _is_literal(right):
            return Compare(_column(left), _OPS[op], _scalar(right))  # type: ignore[arg-type]
        if _column(right) is not None and _is_literal(left):
            return Compare(_column(right), _MIRRORED[_OPS[op]], _scalar(left))  # type: ignore[arg-type]
        return None
    if "Function" in tree:
        function = tree["Function"]
        inputs, kind = function["input"], function["function"]
        boolean = kind.get("Boolean") if isinstance(kind, dict) else None
        column = _column(inputs[0])
        if not isinstance(boolean, dict) or column is None:
            return None
        if "IsBetween" in boolean and len(inputs) == 3:
            if not (_is_literal(inputs[1]) and _is_literal(inputs[2])):
                return None
            closed = _CLOSED[boolean["IsBetween"]["closed"]]
            return Between(column, _scalar(inputs[1]), _scalar(inputs[2]), closed)
        if "IsIn" in boolean and len(inputs) == 2 and _is_literal(inputs[1]):
            values = _values(inputs[1])
            return IsIn(column, values, bool(boolean["IsIn"].get("nulls_equal", False)))
        return None
    if _is_literal(tree):
        value = _scalar(tree)
        return Const(value) if isinstance(value, bool) else None
    return None


def _column(tree: Any) -> str | None:
    if isinstance(tree, dict) and isinstance(tree.get("Column"), str):
        return str(tree["Column"])
    return None


def _is_literal(tree: Any) -> bool:
    return isinstance(tree, dict) and "Literal" in tree


def _evaluate(tree: Any) -> pl.Series:
    # The literal is evaluated by Polars itself rather than decoded from its JSON,
    # whose encoding of lists (Arrow IPC bytes) and temporal units is Polars' business.
    expr = pl.Expr.deserialize(io.StringIO(orjson.dumps(tree).decode()), format="json")
    return pl.select(expr).to_series()


def _scalar(tree: Any) -> Any:
    series = _evaluate(tree)
    if len(series) != 1 or isinstance(series.dtype, (pl.List, pl.Array)):
        raise ValueError("not a scalar literal")
    return series.item()


def _values(tree: Any) -> tuple[Any, ...]:
    series = _evaluate(tree)
    if isinstance(series.dtype, (pl.List, pl.Array)):
        series = series.explode()
    return tuple(series.to_list())


def _text(tree: Any) -> str:
    try:
        return str(pl.Expr.deserialize(io.StringIO(orjson.dumps(tree).decode()), format="json"))
    except Exception:
        return "<an expression>"
