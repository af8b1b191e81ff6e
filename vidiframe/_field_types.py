"""The kinds of fields: what each kind knows about its values.

A :class:`~vidiframe._fields.Field` declares *one* field; its kind (``int``,
``float``, ``str``, ``bool``, ``datetime``, ``date``, ``time``, ``list``) names one
of the classes here, which owns what is the same for every field of that kind: the
Polars dtype of the column, the columns the kind derives, and the hypothesis
strategy of the JSON values the API sends. The quirks of one field (a boolean sent
as ``"yes"``, a count sent as ``1.0``, microseconds in a time stamp) are typed
attributes of the field that its kind reads, as Quantco/dataframely's column types
carry their own options. Nothing here looks at a field's name or description.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

import polars as pl

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from vidiframe._fields import Field

__all__ = ["FIELD_TYPES", "FieldType"]

# Moments the strategies draw: the API's history starts in 2016.
_FIRST_DAY, _LAST_DAY = dt.date(2016, 1, 1), dt.date(2030, 12, 31)


class FieldType:
    """One kind of field: its dtype, its derived columns and its strategy."""

    kind: ClassVar[str]
    polars: ClassVar[pl.DataType]

    def dtype(self, f: Field) -> pl.DataType:  # noqa: ARG002 - one signature for every kind
        """The Polars dtype of the field's raw column."""
        return self.polars

    def derived_columns(self, f: Field) -> dict[str, pl.DataType]:
        """The columns this field adds next to its own (seconds, labels), with dtypes."""
        out: dict[str, pl.DataType] = {}
        if f.seconds_column is not None:
            out[f.seconds_column] = pl.Float64()
        if f.label_column is not None:
            out[f.label_column] = f.label_dtype
        return out

    def values(self, f: Field, st: Any, *, legacy: bool) -> SearchStrategy[Any]:
        """A strategy of the field's non-null JSON values, as the API sends them."""
        raise NotImplementedError  # every kind below draws its own values

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class IntType(FieldType):
    """Integers (``Int64``); a coded field draws its documented codes."""

    kind = "int"
    polars = pl.Int64()

    def values(self, f: Field, st: Any, *, legacy: bool) -> SearchStrategy[Any]:  # noqa: ARG002 - one signature for every kind
        if f.labels is not None:
            return st.sampled_from(sorted(f.labels))
        ints = st.integers(int(f.low), int(f.high))
        # The API sends some counts as 1.0 (retail analytics' nb_visits): both forms.
        return st.one_of(ints, ints.map(float)) if f.sent_as_float else ints


class FloatType(FieldType):
    """Fractional values (``Float64``)."""

    kind = "float"
    polars = pl.Float64()

    def values(self, f: Field, st: Any, *, legacy: bool) -> SearchStrategy[Any]:  # noqa: ARG002 - one signature for every kind
        return st.floats(f.low, f.high, allow_nan=False, allow_infinity=False)


class TextType(FieldType):
    """Text (``String``)."""

    kind = "str"
    polars = pl.String()

    def values(self, f: Field, st: Any, *, legacy: bool) -> SearchStrategy[Any]:  # noqa: ARG002 - one signature for every kind
        letters = st.characters(codec="utf-8", exclude_categories=("Cs",))
        return st.text(letters, min_size=1, max_size=12)


class FlagType(FieldType):
    """Flags (``Boolean``); ``bool_text`` names the text that means true, if sent as text."""

    kind = "bool"
    polars = pl.Boolean()

    def values(self, f: Field, st: Any, *, legacy: bool) -> SearchStrategy[Any]:  # noqa: ARG002 - one signature for every kind
        if f.bool_text is not None:
            return st.sampled_from([f.bool_text, ""])
        return st.booleans()


class TimestampType(FieldType):
    """Naive local time stamps (``Datetime("us")``), sent as text."""

    kind = "datetime"
    polars = pl.Datetime("us")

    def derived_columns(self, f: Field) -> dict[str, pl.DataType]:
        out: dict[str, pl.DataType] = {}
        if f.time_parts:
            out["period_start_date"] = pl.Date()
            out["period_start_time"] = pl.Time()
        return {**out, **super().derived_columns(f)}

    def values(self, f: Field, st: Any, *, legacy: bool) -> SearchStrategy[Any]:  # noqa: ARG002 - one signature for every kind
        moments = st.datetimes(
            dt.datetime.combine(_FIRST_DAY, dt.time()), dt.datetime.combine(_LAST_DAY, dt.time())
        )
        if f.fractional_seconds:
            return moments.map(lambda d: d.isoformat(sep=" "))
        return moments.map(lambda d: d.replace(microsecond=0).isoformat(sep=" "))


class DateType(FieldType):
    """Dates (``Date``), sent as ``YYYY-MM-DD``."""

    kind = "date"
    polars = pl.Date()

    def values(self, f: Field, st: Any, *, legacy: bool) -> SearchStrategy[Any]:  # noqa: ARG002 - one signature for every kind
        return st.dates(_FIRST_DAY, _LAST_DAY).map(dt.date.isoformat)


class TimeType(FieldType):
    """Times of day (``Time``), sent as ``hh:mm:ss``."""

    kind = "time"
    polars = pl.Time()

    def values(self, f: Field, st: Any, *, legacy: bool) -> SearchStrategy[Any]:  # noqa: ARG002 - one signature for every kind
        return st.times().map(lambda t: t.replace(microsecond=0).isoformat())


class StructType(FieldType):
    """One object (``Struct``) whose fields are the field's ``fields``."""

    kind = "struct"
    polars: ClassVar[pl.DataType] = pl.Struct({})

    def dtype(self, f: Field) -> pl.DataType:
        return pl.Struct({sub.name: sub.dtype for sub in f.fields})

    def values(self, f: Field, st: Any, *, legacy: bool) -> SearchStrategy[Any]:
        from vidiframe._fields import LEGACY_DATE

        return st.fixed_dictionaries(
            {
                (sub.name_at(LEGACY_DATE) if legacy else sub.name): sub.strategy(legacy=legacy)
                for sub in f.fields
                if legacy or not sub.dropped
            }
        )


class ListType(StructType):
    """Lists of objects (``List(Struct)``) whose fields are the field's ``fields``."""

    kind = "list"
    polars = pl.List(pl.Null())

    def dtype(self, f: Field) -> pl.DataType:
        return pl.List(super().dtype(f))

    def values(self, f: Field, st: Any, *, legacy: bool) -> SearchStrategy[Any]:
        return st.lists(super().values(f, st, legacy=legacy), max_size=3)


#: The class of each kind, by the ``Field.kind`` string that names it.
FIELD_TYPES: Mapping[str, FieldType] = MappingProxyType(
    {
        t.kind: t
        for t in (
            IntType(),
            FloatType(),
            TextType(),
            FlagType(),
            TimestampType(),
            DateType(),
            TimeType(),
            StructType(),
            ListType(),
        )
    }
)
