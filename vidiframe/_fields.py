"""Field specifications: what one field of an export response is.

A :class:`Field` declares a response field once: its current API name, its kind
(which fixes the Polars dtype), its role (``key`` or ``metric``), its unit, the
labels of its codes, the names it had in older API versions, and the line of
the documentation it comes from. The parser, the fake server, the hypothesis
strategies and the docs all read these declarations; nothing about a field is
written anywhere else.

The small constructors at the bottom (:func:`Int`, :func:`Tenths`, :func:`Coded`,
...) read like the documentation they transcribe, the way dataframely declares
columns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

__all__ = [
    "DURATION_UNITS",
    "Field",
    "Kind",
    "Role",
]

Kind = Literal["int", "float", "str", "bool", "datetime", "date", "time", "list", "struct"]
Role = Literal["key", "metric"]

#: Units that are durations, with the factor that turns one unit into seconds.
DURATION_UNITS: Mapping[str, float] = MappingProxyType(
    {"tenths_of_second": 10.0, "millisecond": 1000.0, "second": 1.0}
)

# Suffixes that the seconds column drops from the field name (SPEC section 2).
_DURATION_SUFFIXES = ("_in_tenths_of_sec", "_in_milliseconds")

_POLARS_DTYPES: Mapping[str, pl.DataType] = MappingProxyType(
    {
        "int": pl.Int64(),
        "float": pl.Float64(),
        "str": pl.String(),
        "bool": pl.Boolean(),
        "datetime": pl.Datetime("us"),
        "date": pl.Date(),
        "time": pl.Time(),
    }
)


@dataclass(frozen=True)
class Field:
    """One field of an export response, declared once.

    Parameters
    ----------
    name
        The field's name in the current API (the column name).
    kind
        ``int``, ``float``, ``str``, ``bool``, ``datetime``, ``date``, ``time``,
        ``list`` (a list of structs whose fields are ``fields``), or ``struct`` (one
        object whose fields are ``fields``, as the sites' ``vehicles_factors``).
    role
        ``key`` (identifies the row: ids, time, content, gate, product,
        demographic group) or ``metric`` (a measured value). A row whose metrics
        are all null is a placeholder.
    unit
        The unit of the value: a duration unit (``tenths_of_second``,
        ``millisecond``, ``second``) gives the field a ``<base>_s`` seconds column.
    labels
        Documented labels of a coded field (code -> label); the field gains a
        ``<name>_label`` Enum column.
    legacy
        Names the field had in older API versions, accepted when reading.
    doc
        The description, as the documentation gives it.
    source
        Where the documentation says it: ``"2025-04 § Finest viewers export"``,
        ``"2020-10 § ..."`` or ``"SPEC § 9"``.
    fields
        For ``kind="list"``: the fields of each element; for ``kind="struct"``: the
        object's fields.
    seconds_name
        Overrides the name of the seconds column (used inside nested lists, where
        the element's ``dwell_time_s`` would collide with the row's own).
    bool_text
        For ``kind="bool"`` fields the API sends as text (``backup_value`` is
        ``"yes"`` or ``""``): the text that means true.
    nullable
        Whether the API may send null (strategies generate nulls only then).
    dropped
        The current API no longer sends the field (SPEC section 2): it is read
        when present, and only the legacy (2020) fake and strategies send it.
    fractional_seconds
        For time stamps: the API may send microseconds.
    low, high
        The range of values the strategies and the fake server generate.
    """

    name: str
    kind: Kind
    role: Role = "metric"
    unit: str | None = None
    labels: Mapping[int, str] | None = None
    legacy: tuple[str, ...] = ()
    doc: str = ""
    source: str = ""
    fields: tuple[Field, ...] = ()
    seconds_name: str | None = None
    bool_text: str | None = None
    nullable: bool = True
    dropped: bool = False
    fractional_seconds: bool = False
    low: float = 0
    high: float = 10_000

    # -- derived facts -------------------------------------------------------------

    @property
    def dtype(self) -> pl.DataType:
        """The Polars dtype of the raw column."""
        if self.kind == "list":
            return pl.List(pl.Struct({f.name: f.dtype for f in self.fields}))
        if self.kind == "struct":
            return pl.Struct({f.name: f.dtype for f in self.fields})
        return _POLARS_DTYPES[self.kind]

    @property
    def is_duration(self) -> bool:
        """Whether the field is a duration (and so gains a seconds column)."""
        return self.unit in DURATION_UNITS

    @property
    def seconds_column(self) -> str | None:
        """Name of the ``<base>_s`` seconds column, or ``None`` for non-durations.

        Examples
        --------
        >>> from vidiframe._fields import Tenths
        >>> Tenths("dwell_time_in_tenths_of_sec").seconds_column
        'dwell_time_s'
        """
        if not self.is_duration:
            return None
        if self.seconds_name is not None:
            return self.seconds_name
        base = self.name
        for suffix in _DURATION_SUFFIXES:
            base = base.removesuffix(suffix)
        return f"{base}_s"

    @property
    def seconds_factor(self) -> float:
        """How many units make one second (10 for tenths)."""
        assert self.unit is not None
        return DURATION_UNITS[self.unit]

    @property
    def label_column(self) -> str | None:
        """Name of the ``<name>_label`` column, or ``None`` for uncoded fields."""
        return f"{self.name}_label" if self.labels is not None else None

    @property
    def label_dtype(self) -> pl.Enum:
        """The Enum of the documented labels, in code order."""
        assert self.labels is not None
        return pl.Enum([self.labels[code] for code in sorted(self.labels)])

    @property
    def all_names(self) -> tuple[str, ...]:
        """The current name followed by the legacy names."""
        return (self.name, *self.legacy)

    def derived_columns(self) -> dict[str, pl.DataType]:
        """The columns this field adds next to its own, with their dtypes."""
        out: dict[str, pl.DataType] = {}
        if self.kind == "datetime" and self.name == "period_start":
            out["period_start_date"] = pl.Date()
            out["period_start_time"] = pl.Time()
        if self.seconds_column is not None:
            out[self.seconds_column] = pl.Float64()
        if self.label_column is not None:
            out[self.label_column] = self.label_dtype
        return out

    # -- generation ----------------------------------------------------------------

    def strategy(self, *, legacy: bool = False) -> SearchStrategy[Any]:
        """A hypothesis strategy of this field's JSON values, as the API sends them.

        Parameters
        ----------
        legacy
            Generate nested fields under their oldest (2020) names.

        Examples
        --------
        >>> from hypothesis import given
        >>> from vidiframe._fields import Tenths
        >>> @given(Tenths("dwell_time_in_tenths_of_sec").strategy())
        ... def check(value):
        ...     assert value is None or isinstance(value, int)
        >>> check()
        """
        from hypothesis import strategies as st

        base = self._value_strategy(st, legacy=legacy)
        return st.one_of(st.none(), base) if self.nullable else base

    def _value_strategy(self, st: Any, *, legacy: bool) -> SearchStrategy[Any]:
        low, high = int(self.low), int(self.high)
        if self.labels is not None:
            return st.sampled_from(sorted(self.labels))
        if self.kind == "int":
            return st.integers(low, high)
        if self.kind == "float":
            return st.floats(self.low, self.high, allow_nan=False, allow_infinity=False)
        if self.kind == "str":
            return st.text(
                st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12
            )
        if self.kind == "bool":
            if self.bool_text is not None:
                return st.sampled_from([self.bool_text, ""])
            return st.booleans()
        if self.kind == "datetime":
            moments = st.datetimes(dt.datetime(2016, 1, 1), dt.datetime(2030, 12, 31))
            if self.fractional_seconds:
                return moments.map(lambda d: d.isoformat(sep=" "))
            return moments.map(lambda d: d.replace(microsecond=0).isoformat(sep=" "))
        if self.kind == "date":
            return st.dates(dt.date(2016, 1, 1), dt.date(2030, 12, 31)).map(dt.date.isoformat)
        if self.kind == "time":
            return st.times().map(lambda t: t.replace(microsecond=0).isoformat())
        # A struct, or a list of them: each a dict of its fields' values.
        element = st.fixed_dictionaries(
            {
                (f.legacy[0] if legacy and f.legacy else f.name): f.strategy(legacy=legacy)
                for f in self.fields
                if legacy or not f.dropped
            }
        )
        return element if self.kind == "struct" else st.lists(element, max_size=3)


# -- constructors, named after what the documentation says ---------------------------


def Int(name: str, **kw: Any) -> Field:  # noqa: N802 - reads as a declaration
    """An integer field (``Int64``)."""
    return Field(name, "int", **kw)


def Float(name: str, **kw: Any) -> Field:  # noqa: N802
    """A fractional field (``Float64``)."""
    return Field(name, "float", **kw)


def Text(name: str, **kw: Any) -> Field:  # noqa: N802
    """A text field (``String``)."""
    return Field(name, "str", **kw)


def Flag(name: str, **kw: Any) -> Field:  # noqa: N802
    """A boolean field; ``bool_text`` names the text that means true, if sent as text."""
    return Field(name, "bool", **kw)


def Timestamp(name: str, **kw: Any) -> Field:  # noqa: N802
    """A naive local timestamp (``Datetime("us")``)."""
    return Field(name, "datetime", **kw)


def Tenths(name: str, **kw: Any) -> Field:  # noqa: N802
    """A duration in tenths of seconds (integer)."""
    kw.setdefault("high", 36_000)
    return Field(name, kw.pop("kind", "int"), unit="tenths_of_second", **kw)


def Millis(name: str, **kw: Any) -> Field:  # noqa: N802
    """A duration in milliseconds (integer)."""
    kw.setdefault("high", 3_600_000)
    return Field(name, kw.pop("kind", "int"), unit="millisecond", **kw)


def Seconds(name: str, **kw: Any) -> Field:  # noqa: N802
    """A duration in seconds (fractional: the docs show both ``3600`` and ``86400.0``)."""
    kw.setdefault("high", 86_400)
    return Field(name, kw.pop("kind", "float"), unit="second", **kw)


def Coded(name: str, labels: Mapping[int, str], **kw: Any) -> Field:  # noqa: N802
    """An integer code with documented labels."""
    return Field(name, "int", labels=MappingProxyType(dict(labels)), **kw)


def Nested(name: str, fields: tuple[Field, ...], **kw: Any) -> Field:  # noqa: N802
    """A list of structs whose fields are ``fields``."""
    return Field(name, "list", fields=fields, **kw)


def Object(name: str, fields: tuple[Field, ...], **kw: Any) -> Field:  # noqa: N802
    """One nested object (a struct) whose fields are ``fields``."""
    return Field(name, "struct", fields=fields, **kw)
