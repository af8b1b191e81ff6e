"""The kinds of fields: what each kind knows about its values.

A :class:`~vidiframe._fields.Field` declares *one* field; its kind (``int``,
``float``, ``str``, ``bool``, ``datetime``, ``date``, ``time``, ``list``,
``struct``) names one of the classes here, which owns what is the same for every
field of that kind: the Polars dtype of the column, how the API sends its values
(what the decoder may expect), the cast of a raw column to that dtype (one
vectorised expression per column, never a loop over values), the columns the
kind derives, the hypothesis strategy of the JSON values the API sends, and the
fake server's drawer. No module outside this one switches on a field's kind:
they ask the field's type (``tests/test_field_types.py`` reads the source to keep
it so).

The quirks of one field (a boolean sent as ``"yes"``, a count sent as ``1.0``,
microseconds in a time stamp) are typed attributes of the field that its kind
reads, as Quantco/dataframely's column types carry their own options. Nothing
here looks at a field's name or description, except to word the fake's text
values (``"Zone 60"`` for ``zone_id`` 60).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol

import polars as pl
from polars._typing import PolarsDataType

from vidiframe import _casts
from vidiframe._errors import SchemaError

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

    from vidiframe._fields import Field

__all__ = ["FIELD_TYPES", "Drawer", "Draws", "FieldType", "SentAs", "element_struct"]

#: How the API sends a field's values, as the decoder sees them: a JSON kind, or
#: ``text`` (moments sent as text, kept as text for the reader's parsing) or
#: ``list`` (nested rows, typed by the reader).
SentAs = Literal["int", "float", "str", "bool", "text", "list"]


class Draws(Protocol):
    """What the fake's drawers draw from: one source's random stream for one period."""

    @property
    def random(self) -> Callable[[], float]:
        """Uniform numbers in [0, 1), in the order the drawers ask for them."""
        ...


#: Draws one value of a field as the API sends it: ``(draws, period or event time,
#: row so far) -> value``. Built once per field, called once per value.
Drawer = Callable[[Draws, dt.datetime, Mapping[str, Any]], Any]

# Moments the strategies draw: the API's history starts in 2016.
_FIRST_DAY, _LAST_DAY = dt.date(2016, 1, 1), dt.date(2030, 12, 31)


class FieldType:
    """One kind of field: its dtype, its cast, its derived columns, its strategy and drawer."""

    kind: ClassVar[str]
    polars: ClassVar[pl.DataType]
    #: How the API sends the values of this kind (:data:`SentAs`).
    sent: ClassVar[SentAs]
    #: Moments (time stamps, dates, times): never a row's key to group on.
    temporal: ClassVar[bool] = False
    #: Numbers: drawn on a scale (counts, durations), bounded by another field.
    numeric: ClassVar[bool] = False
    #: Values a key that repeats per source can take from a pool (ids, names).
    poolable: ClassVar[bool] = False

    def dtype(self, f: Field) -> pl.DataType:  # noqa: ARG002 - one signature for every kind
        """The Polars dtype of the field's raw column."""
        return self.polars

    def sent_as(self, f: Field) -> SentAs:  # noqa: ARG002 - one signature for every kind
        """How the API sends this field's values: what the decoder may expect."""
        return self.sent

    def elements_sent_as(self, f: Field) -> Mapping[str, Any] | None:  # noqa: ARG002
        """How the API sends the fields of each object of a list, by every name; else None.

        A field that is itself a list of objects maps to its own such mapping.
        """
        return None

    def cast(self, column: pl.Series, f: Field) -> pl.Series:
        """The raw column (as JSON typed it) as the field's dtype, one vectorised cast.

        A value the kind cannot read exactly becomes null; the caller reports the
        first such value (:class:`~vidiframe.SchemaError`). Here, for a column of a
        JSON kind this kind does not read (a boolean for a number...), every value.
        """
        return _casts.nulls(column.name, len(column), self.dtype(f))

    def element_expr(self, value: pl.Expr, raw: PolarsDataType, f: Field) -> pl.Expr:
        """``value``, a nested field sent with dtype ``raw``, as the field's dtype.

        A strict cast: a value that does not fit fails the whole expression, and
        the caller names the column.
        """
        target = self.dtype(f)
        if raw == pl.Boolean and target not in (pl.Boolean, pl.String):
            # Polars casts true to 1; a boolean is no number: its text fails the cast.
            value = value.cast(pl.String)
        return value.cast(target, strict=True)

    def from_text(self, value: pl.Expr, f: Field) -> pl.Expr | None:  # noqa: ARG002 - one signature for every kind
        """``value`` (text) parsed strictly, for kinds the API sends as text; else ``None``."""
        return None

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

    def drawer(self, f: Field, *, quirks: bool) -> Drawer | None:  # noqa: ARG002 - one signature for every kind
        """The fake's drawer of one value of ``f``; ``None`` where the generator composes it.

        ``quirks`` sends what the API sometimes sends instead (a count as ``1.0``,
        a ratio as text).
        """
        return None

    def pool(self, f: Field, size: int) -> list[Any]:
        """``size`` values of a key that repeats per source (a gate, a content), if ``poolable``."""
        raise NotImplementedError  # only the poolable kinds (ints, texts) have pools

    def amount(self, f: Field, value: float, *, quirks: bool) -> Any:
        """``value``, drawn on a scale, as the API sends this kind (numbers only)."""
        raise NotImplementedError  # only the numeric kinds are drawn on a scale

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class IntType(FieldType):
    """Integers (``Int64``); a coded field draws its documented codes."""

    kind = "int"
    polars = pl.Int64()
    sent = "int"
    numeric = True
    poolable = True

    def cast(self, column: pl.Series, f: Field) -> pl.Series:
        dtype = column.dtype
        if dtype.is_integer():
            return column.cast(pl.Int64)
        if dtype.is_float():
            return _casts.integral(column)
        if dtype == pl.String:
            # "1.0" is an integer sent as a float, as the API does for nb_visits.
            return _casts.int_from_text(column)
        return super().cast(column, f)

    def element_expr(self, value: pl.Expr, raw: PolarsDataType, f: Field) -> pl.Expr:
        if not raw.is_float():
            return super().element_expr(value, raw, f)
        # A fractional value (or one beyond a double's integers) must fail the cast,
        # not be truncated by it: it becomes NaN, which no strict cast to Int64 takes.
        # An integral float (4.0) is its integer, as at the top level.
        whole = value.is_null() | (
            (value == value.floor()) & (value.abs() < _casts.EXACT_FLOAT_INT)
        )
        return pl.when(whole).then(value).otherwise(float("nan")).cast(pl.Int64, strict=True)

    def values(self, f: Field, st: Any, *, legacy: bool) -> SearchStrategy[Any]:  # noqa: ARG002 - one signature for every kind
        if f.labels is not None:
            return st.sampled_from(sorted(f.labels))
        ints = st.integers(int(f.low), int(f.high))
        # The API sends some counts as 1.0 (retail analytics' nb_visits): both forms.
        return st.one_of(ints, ints.map(float)) if f.sent_as_float else ints

    def drawer(self, f: Field, *, quirks: bool) -> Drawer | None:
        lo, span = int(f.low), int(f.high) - int(f.low) + 1
        if quirks and f.sent_as_float:
            return lambda draws, _when, _row: float(lo + int(draws.random() * span))
        return lambda draws, _when, _row: lo + int(draws.random() * span)

    def pool(self, f: Field, size: int) -> list[Any]:  # noqa: ARG002 - one signature for every kind
        return list(range(1, size + 1))

    def amount(self, f: Field, value: float, *, quirks: bool) -> Any:
        return float(int(value)) if quirks and f.sent_as_float else int(value)


class FloatType(FieldType):
    """Fractional values (``Float64``)."""

    kind = "float"
    polars = pl.Float64()
    sent = "float"
    numeric = True

    def cast(self, column: pl.Series, f: Field) -> pl.Series:
        if column.dtype.is_numeric():
            return column.cast(pl.Float64)
        if column.dtype == pl.String:
            return column.str.strip_chars().cast(pl.Float64, strict=False)
        return super().cast(column, f)

    def values(self, f: Field, st: Any, *, legacy: bool) -> SearchStrategy[Any]:  # noqa: ARG002 - one signature for every kind
        return st.floats(f.low, f.high, allow_nan=False, allow_infinity=False)

    def drawer(self, f: Field, *, quirks: bool) -> Drawer | None:
        low, width = f.low, f.high - f.low
        if f.unit == "ratio":
            if quirks:
                # Ratios sometimes arrive as text ("0.25"): the reader must take both.
                return lambda draws, _when, _row: f"{low + draws.random() * width:.3f}"
            return lambda draws, _when, _row: round(low + draws.random() * width, 3)
        return lambda draws, _when, _row: round(low + draws.random() * width, 2)

    def amount(self, f: Field, value: float, *, quirks: bool) -> Any:  # noqa: ARG002 - one signature for every kind
        return round(value, 2)


class TextType(FieldType):
    """Text (``String``)."""

    kind = "str"
    polars = pl.String()
    sent = "str"
    poolable = True

    def cast(self, column: pl.Series, f: Field) -> pl.Series:
        if column.dtype.is_numeric() or column.dtype == pl.Boolean:
            return column.cast(pl.String)
        return super().cast(column, f)

    def values(self, f: Field, st: Any, *, legacy: bool) -> SearchStrategy[Any]:  # noqa: ARG002 - one signature for every kind
        letters = st.characters(codec="utf-8", exclude_categories=("Cs",))
        return st.text(letters, min_size=1, max_size=12)

    def drawer(self, f: Field, *, quirks: bool) -> Drawer | None:  # noqa: ARG002 - one signature for every kind
        # A name next to its id reads as the id's name ("Zone 60" for zone_id 60).
        sibling = f.describes
        stem = (sibling or "item").removesuffix("id").rstrip("_").replace("_", " ").title()
        stem = stem or "Item"
        name = f.name

        def text(draws: Draws, _when: dt.datetime, row: Mapping[str, Any]) -> str | None:
            if sibling is not None and sibling in row:
                return None if row[sibling] is None else f"{stem} {row[sibling]}"
            return f"{name} {1 + int(draws.random() * 5)}"

        return text

    def pool(self, f: Field, size: int) -> list[Any]:
        stem = f.name.removesuffix("_id")
        return [f"{stem} {i}" for i in range(1, size + 1)]


class FlagType(FieldType):
    """Flags (``Boolean``); ``bool_text`` names the text that means true, if sent as text."""

    kind = "bool"
    polars = pl.Boolean()
    sent = "bool"

    def sent_as(self, f: Field) -> SentAs:
        # A boolean the API sends as text ("yes" / "") is read as text, then cast.
        return "str" if f.bool_text is not None else "bool"

    def cast(self, column: pl.Series, f: Field) -> pl.Series:
        if column.dtype == pl.String:
            return _casts.flag_from_text(column)
        if column.dtype.is_integer():
            return _casts.flag_from_int(column)
        return super().cast(column, f)

    def values(self, f: Field, st: Any, *, legacy: bool) -> SearchStrategy[Any]:  # noqa: ARG002 - one signature for every kind
        if f.bool_text is not None:
            return st.sampled_from([f.bool_text, ""])
        return st.booleans()

    def drawer(self, f: Field, *, quirks: bool) -> Drawer | None:  # noqa: ARG002 - one signature for every kind
        text = f.bool_text
        if text is not None:
            return lambda draws, _when, _row: text if draws.random() < 0.8 else ""
        return lambda draws, _when, _row: draws.random() < 0.8


class _TemporalType(FieldType):
    """Moments, days and times of day, sent as text and parsed into :attr:`polars`."""

    sent = "text"
    temporal = True

    def cast(self, column: pl.Series, f: Field) -> pl.Series:
        if column.dtype == pl.String:
            return _casts.parse_text(column, self.polars)
        return super().cast(column, f)


class TimestampType(_TemporalType):
    """Naive local time stamps (``Datetime("us")``), sent as text."""

    kind = "datetime"
    polars = pl.Datetime("us")

    def cast(self, column: pl.Series, f: Field) -> pl.Series:
        if column.dtype == pl.String:
            return _casts.parse_datetime(column)
        if isinstance(column.dtype, pl.Datetime):
            return column.dt.replace_time_zone(None).cast(pl.Datetime("us"))
        return super().cast(column, f)

    def from_text(self, value: pl.Expr, f: Field) -> pl.Expr | None:  # noqa: ARG002 - one signature for every kind
        return value.str.to_datetime(time_unit="us", strict=True)

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

    def drawer(self, f: Field, *, quirks: bool) -> Drawer | None:  # noqa: ARG002 - one signature for every kind
        """Moments up to 10 minutes before ``when``.

        With microseconds 3 times out of 10 where the field may have them
        (``watcher_start``, SPEC § 9).
        """
        fractional = f.fractional_seconds

        def draw(draws: Draws, when: dt.datetime, _row: Mapping[str, Any]) -> str:
            moment = when - dt.timedelta(seconds=int(draws.random() * 601))
            micros = draws.random()
            if fractional and micros < 0.3:
                moment += dt.timedelta(microseconds=1 + int(draws.random() * 999_999))
            return moment.isoformat(sep=" ")

        return draw


class DateType(_TemporalType):
    """Dates (``Date``), sent as ``YYYY-MM-DD``."""

    kind = "date"
    polars = pl.Date()

    def from_text(self, value: pl.Expr, f: Field) -> pl.Expr | None:  # noqa: ARG002 - one signature for every kind
        return value.str.to_date("%Y-%m-%d", strict=True)

    def values(self, f: Field, st: Any, *, legacy: bool) -> SearchStrategy[Any]:  # noqa: ARG002 - one signature for every kind
        return st.dates(_FIRST_DAY, _LAST_DAY).map(dt.date.isoformat)

    def drawer(self, f: Field, *, quirks: bool) -> Drawer | None:  # noqa: ARG002 - one signature for every kind
        return lambda _draws, when, _row: when.date().isoformat()


class TimeType(_TemporalType):
    """Times of day (``Time``), sent as ``hh:mm:ss``."""

    kind = "time"
    polars = pl.Time()

    def from_text(self, value: pl.Expr, f: Field) -> pl.Expr | None:  # noqa: ARG002 - one signature for every kind
        return value.str.to_time("%H:%M:%S%.f", strict=True)

    def values(self, f: Field, st: Any, *, legacy: bool) -> SearchStrategy[Any]:  # noqa: ARG002 - one signature for every kind
        return st.times().map(lambda t: t.replace(microsecond=0).isoformat())

    def drawer(self, f: Field, *, quirks: bool) -> Drawer | None:  # noqa: ARG002 - one signature for every kind
        return lambda _draws, when, _row: when.time().isoformat()


class StructType(FieldType):
    """One object (``Struct``) whose fields are the field's ``fields``."""

    kind = "struct"
    polars: ClassVar[pl.DataType] = pl.Struct({})
    # An object may only be null on the decoder's fast path; the reader types it.
    sent = "list"

    def dtype(self, f: Field) -> pl.DataType:
        return pl.Struct({sub.name: sub.dtype for sub in f.fields})

    def cast(self, column: pl.Series, f: Field) -> pl.Series:
        if not isinstance(column.dtype, pl.Struct):
            raise SchemaError(
                f"column {f.name!r} must hold objects, not {column.dtype}", column=f.name
            )
        built = element_struct(pl.col(column.name), f, column.dtype)
        # pl.struct builds an object of nulls where the row had none: keep it null.
        typed = pl.when(pl.col(column.name).is_null()).then(None).otherwise(built)
        result = _nested(column.to_frame(), typed, f)
        _check_names_agree(column, f)
        return result

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

    def cast(self, column: pl.Series, f: Field) -> pl.Series:
        """Type a list-of-structs column field by field, renaming legacy sub-fields."""
        if not isinstance(column.dtype, pl.List):
            raise SchemaError(
                f"column {f.name!r} must be a list of objects, not {column.dtype}", column=f.name
            )
        typed = pl.col(column.name).list.eval(element_struct(pl.element(), f, column.dtype.inner))
        result = _nested(column.to_frame(), typed, f)
        _check_names_agree(column, f)
        return result

    def elements_sent_as(self, f: Field) -> Mapping[str, Any]:
        return {
            name: sub.type.elements_sent_as(sub) or sub.type.sent_as(sub)
            for sub in f.fields
            for name in sub.all_names
        }

    def element_expr(self, value: pl.Expr, raw: PolarsDataType, f: Field) -> pl.Expr:
        if not isinstance(raw, pl.List):
            return super().element_expr(value, raw, f)
        return value.list.eval(element_struct(pl.element(), f, raw.inner))

    def values(self, f: Field, st: Any, *, legacy: bool) -> SearchStrategy[Any]:
        return st.lists(super().values(f, st, legacy=legacy), max_size=3)


def element_struct(element: pl.Expr, f: Field, inner: PolarsDataType) -> pl.Expr:
    """A struct of ``f``'s sub-fields, typed, from nested values of dtype ``inner``.

    Legacy names of a sub-field are read as its current name; unknown sub-fields
    are kept after the known ones, as unknown columns are.
    """
    if not isinstance(inner, pl.Struct):
        if inner != pl.Null:
            raise SchemaError(f"column {f.name!r} must hold objects, not {inner}", column=f.name)
        return element.cast(pl.Struct({sub.name: sub.dtype for sub in f.fields}))
    present = {fld.name: fld.dtype for fld in inner.fields}
    parts: list[pl.Expr] = []
    known: set[str] = set()
    for sub in f.fields:
        names = [n for n in sub.all_names if n in present]
        known.update(names)
        if not names:
            parts.append(pl.lit(None, dtype=sub.dtype).alias(sub.name))
            continue
        # Each name typed on its own, then the first with a value: a coalesce of
        # the raw values would cast them to a common type (true became 1).
        typed = [sub.type.element_expr(element.struct.field(n), present[n], sub) for n in names]
        parts.append((typed[0] if len(typed) == 1 else pl.coalesce(typed)).alias(sub.name))
    extra = [element.struct.field(n) for n in present if n not in known]
    return pl.struct([*parts, *extra])


def _check_names_agree(
    column: pl.Series, f: Field, rows: pl.Series | None = None, top: str | None = None
) -> None:
    """Refuse an object that sends two names of one sub-field with different values.

    :func:`element_struct` keeps the first name with a value; where another name
    holds a different one, that value would be dropped unseen. As at the top level
    (two names of one field must agree), such an object is refused, at any depth.
    Runs after the typing, which has refused the values no name can hold.
    ``rows`` are the top-level rows of ``column``'s values (its index at first),
    ``top`` the name of the top-level column (``f``'s at first).
    """
    if not _has_several_names(f):
        return
    values = pl.DataFrame(
        [pl.int_range(column.len(), eager=True) if rows is None else rows, column],
        schema=["row", "value"],
    )
    if isinstance(column.dtype, pl.List):
        values = values.explode("value")
    objects = values.get_column("value")
    if not isinstance(objects.dtype, pl.Struct):
        return  # objects never sent (nulls only): nothing to compare
    present = {fld.name: fld.dtype for fld in objects.dtype.fields}
    fields = objects.struct.unnest()
    for sub in f.fields:
        names = [n for n in sub.all_names if n in present]
        if len(names) > 1:
            typed = fields.select(
                sub.type.element_expr(pl.col(n), present[n], sub).alias(n) for n in names
            )
            first = typed.get_column(names[0])
            for other in names[1:]:
                second = typed.get_column(other)
                differ = (first.is_not_null() & second.is_not_null() & (first != second)).fill_null(
                    False
                )
                if differ.any():
                    at = int(differ.arg_true()[0])
                    left, right = fields.get_column(names[0])[at], fields.get_column(other)[at]
                    row = values.get_column("row")[at]
                    raise SchemaError(
                        f"column {top or f.name!r}: row {row} has an object with {names[0]!r} = "
                        f"{left!r} and {other!r} = {right!r}: two names of one field with "
                        "different values; which one is right cannot be told",
                        column=top or f.name,
                        value=right,
                        row=row,
                    )
        if sub.fields:
            for name in names:
                _check_names_agree(
                    fields.get_column(name), sub, values.get_column("row"), top or f.name
                )


def _has_several_names(f: Field) -> bool:
    """Whether a sub-field of ``f``, at any depth, has more than one name."""
    return any(len(sub.all_names) > 1 or _has_several_names(sub) for sub in f.fields)


def _nested(frame: pl.DataFrame, typed: pl.Expr, f: Field) -> pl.Series:
    """Evaluate a nested column's typing, a value that does not fit named by its column."""
    try:
        return frame.select(typed.alias(f.name)).to_series()
    except pl.exceptions.PolarsError as exc:
        raise SchemaError(
            f"column {f.name!r}: a nested value has the wrong type ({str(exc).splitlines()[0]})",
            column=f.name,
        ) from None


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
