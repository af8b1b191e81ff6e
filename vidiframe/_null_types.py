"""``Null`` as "type not known yet", at the top of a dtype or nested in it.

A column null in every row has Polars' dtype ``Null``; an always-empty list is
``List(Null)``, a struct field null in every row a ``Null`` field. Such a part
has no type yet: its values are all null, so giving it a type loses nothing.
The dataset layer (:func:`vidiframe._layout.fit_frame`) and sync's conforming
(:mod:`vidiframe._sync_conform`) use these to tell that apart from a change of
a known type.
"""

from __future__ import annotations

import polars as pl
from polars._typing import PolarsDataType

__all__ = ["fill_nulls", "untyped_parts"]


def fill_nulls(a: PolarsDataType, b: PolarsDataType) -> pl.DataType | None:
    """The type of ``a`` and ``b`` together, each's ``Null`` parts typed by the other.

    ``None`` when they differ elsewhere: a change of a known type. ``Null``
    stands for "type not known yet", at the top or nested in a ``List``,
    ``Array`` or ``Struct`` field (an always-empty list is ``List(Null)``).

    Examples
    --------
    >>> fill_nulls(pl.List(pl.Null()), pl.List(pl.String()))
    List(String)
    >>> fill_nulls(pl.Struct({"a": pl.Null(), "b": pl.Int64()}), pl.Struct({"a": pl.Date(), "b": pl.Null()}))
    Struct({'a': Date, 'b': Int64})
    >>> fill_nulls(pl.List(pl.Int64()), pl.List(pl.String())) is None
    True
    """
    a, b = _instance(a), _instance(b)
    if a == pl.Null():
        return b
    if b == pl.Null():
        return a
    if isinstance(a, pl.List) and isinstance(b, pl.List):
        inner = fill_nulls(a.inner, b.inner)
        return None if inner is None else pl.List(inner)
    if isinstance(a, pl.Array) and isinstance(b, pl.Array):
        inner = fill_nulls(a.inner, b.inner)
        return None if inner is None or a.size != b.size else pl.Array(inner, a.size)
    if isinstance(a, pl.Struct) and isinstance(b, pl.Struct):
        if [f.name for f in a.fields] != [f.name for f in b.fields]:
            return None
        fields = []
        for x, y in zip(a.fields, b.fields, strict=True):
            dtype = fill_nulls(x.dtype, y.dtype)
            if dtype is None:
                return None
            fields.append(pl.Field(x.name, dtype))
        return pl.Struct(fields)
    return a if a == b else None


def untyped_parts(dtype: PolarsDataType) -> int:
    """How many parts of ``dtype`` are ``Null`` (no type known yet), nested ones included.

    >>> untyped_parts(pl.Struct({"a": pl.List(pl.Null()), "b": pl.Null(), "c": pl.Int64()}))
    2
    """
    dtype = _instance(dtype)
    if dtype == pl.Null():
        return 1
    if isinstance(dtype, (pl.List, pl.Array)):
        return untyped_parts(dtype.inner)
    if isinstance(dtype, pl.Struct):
        return sum(untyped_parts(f.dtype) for f in dtype.fields)
    return 0


def _instance(dtype: PolarsDataType) -> pl.DataType:
    # A nested dtype built from classes (pl.List(pl.Int64)) holds the class.
    return dtype if isinstance(dtype, pl.DataType) else dtype()
