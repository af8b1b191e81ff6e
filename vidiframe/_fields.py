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

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from vidiframe._field_types import FIELD_TYPES, FieldType

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

__all__ = [
    "DURATION_UNITS",
    "Field",
    "Kind",
    "Rename",
    "Role",
]

Kind = Literal["int", "float", "str", "bool", "datetime", "date", "time", "list", "struct"]
Role = Literal["key", "metric"]

#: Units that are durations, with the factor that turns one unit into seconds.
DURATION_UNITS: Mapping[str, float] = MappingProxyType(
    {"tenths_of_second": 10.0, "millisecond": 1000.0, "second": 1.0}
)

#: The date of the vendored 2020-10 documentation (commit 56fa7d1): "legacy" bodies
#: (the fake's and the strategies' 2020 mode) use the names in effect then.
LEGACY_DATE = "2020-10-21"

# Suffixes that the seconds column drops from the field name (SPEC section 2).
_DURATION_SUFFIXES = ("_in_tenths_of_sec", "_in_milliseconds")


@dataclass(frozen=True)
class Rename:
    """An older name of a field, and the documentation version that retired it.

    Renames are declared per export type: the same old name may mean different
    fields in different exports (``dwell_time`` was the viewers' dwell time, the
    vehicles' presence time and the persons' presence time).

    Parameters
    ----------
    old
        The name the API used before.
    commit
        The commit of ``docs/source/data.rst`` that replaced it
        (:mod:`vidiframe._doc_history`); its date is the date of the rename.
    note
        What else the documentation says about it (an example-only name, a
        prose change that came before the examples followed...).

    Examples
    --------
    >>> Rename("dwell_time", "d31936d").date
    '2021-12-01'
    """

    old: str
    commit: str
    note: str = ""

    @property
    def date(self) -> str:
        """The date of the documentation commit that renamed the field."""
        from vidiframe._doc_history import doc_version

        return doc_version(self.commit).date


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
        ``key`` (identifies the row: ids, time, the record's own ``vr_id``,
        content, gate, product, zone, demographic group, and names that only
        describe one of those) or ``metric`` (any value: a measure, a legacy
        field, a link to a matching record). A row whose metrics, and whose
        fields the registry does not know, are all null is a placeholder.
    unit
        The unit of the value: a duration unit (``tenths_of_second``,
        ``millisecond``, ``second``) gives the field a ``<base>_s`` seconds column.
    labels
        Documented labels of a coded field (code -> label); the field gains a
        ``<name>_label`` Enum column.
    legacy
        Names the field had in older API versions, accepted when reading; the
        old names of ``renamed`` are added to it.
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
    renamed
        The renames this field went through in this export type, each with the
        documentation commit that made it (:class:`Rename`).
    time_parts
        The time stamp the API also splits into ``period_start_date`` and
        ``period_start_time``: the frame derives both columns from it.
    sent_as_float
        An integer the API sends as ``1.0`` (retail analytics' ``nb_visits``).
    bounded_by
        The names (current and older) of the field that bounds this one in a
        row: an attention time never exceeds its dwell time. Generators draw
        within it.
    pooled
        An id inside a list (a content's ``content_id``, a zone's ``id``) that
        generators draw from the source's pool, so it repeats and can be filtered on.
    describes
        The id field this text names (``zone_name`` describes ``zone_id``):
        generators derive it from that id.
    filtered_by
        The query parameter that selects rows (or list elements) by this field's
        values (``locations`` by ``location_id``, ``content_ids`` by
        ``content_id``): the fake filters on it, and the source ids are known by it.
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
    renamed: tuple[Rename, ...] = ()
    time_parts: bool = False
    sent_as_float: bool = False
    bounded_by: tuple[str, ...] = ()
    pooled: bool = False
    describes: str | None = None
    filtered_by: str | None = None

    def __post_init__(self) -> None:
        if self.renamed:
            olds = (*self.legacy, *(r.old for r in self.renamed))
            # Frozen: the merged names are set once, here, as dataclasses document.
            object.__setattr__(self, "legacy", tuple(dict.fromkeys(olds)))

    # -- derived facts -------------------------------------------------------------

    @property
    def type(self) -> FieldType:
        """The class of the field's kind, which owns its dtype, derived columns and strategy.

        Examples
        --------
        >>> from vidiframe._fields import Flag
        >>> Flag("backup_value", bool_text="yes").type
        FlagType()
        """
        return FIELD_TYPES[self.kind]

    @property
    def dtype(self) -> pl.DataType:
        """The Polars dtype of the raw column."""
        return self.type.dtype(self)

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

    def name_at(self, date: str) -> str:
        """The name the documentation used on ``date`` (``YYYY-MM-DD``).

        Examples
        --------
        >>> from vidiframe._fields import Coded
        >>> mustache = Coded("mustache", {1: "no mustache"},
        ...                  renamed=(Rename("moustache", "2d33050"),))
        >>> mustache.name_at("2016-09-01"), mustache.name_at(LEGACY_DATE)
        ('moustache', 'mustache')
        """
        later = sorted((r for r in self.renamed if r.date > date), key=lambda r: r.date)
        return later[0].old if later else self.name

    def derived_columns(self) -> dict[str, pl.DataType]:
        """The columns this field adds next to its own, with their dtypes."""
        return self.type.derived_columns(self)

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
        from vidiframe._optional import require

        st = require("hypothesis.strategies", extra="testing")

        base = self.type.values(self, st, legacy=legacy)
        return st.one_of(st.none(), base) if self.nullable else base


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
