"""Typing a dimension response (topology, tags, clips, alerts) into its frame.

A dimension response is a JSON list of objects (one clip's detail is a single
object). :func:`parse_dimension` renames what the registry renames (``id`` ->
``location_id``, nested objects too), types every declared field with the same
conversions as the exports (:mod:`vidiframe._frame`: ids sent as text are cast,
time stamps parsed, a value that cannot take its type raises
:class:`~vidiframe.SchemaError`), adds label and derived columns, and keeps
every field the registry does not know, reported with
:class:`~vidiframe.UnknownFieldWarning`.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from typing import IO, Any, Union

import polars as pl

from vidiframe._dimension_registry import DimensionSpec
from vidiframe._errors import (
    InvalidRequestError,
    ResponseFormatError,
    SchemaError,
    UnknownCodeWarning,
    UnknownFieldWarning,
)
from vidiframe._fields import Field
from vidiframe._frame import _typed, _unknown_columns, label_expr, to_seconds
from vidiframe._json import ColumnHints, _decode_exact, _json_text, decode_response, read_source

__all__ = ["DimensionSource", "parse_dimension", "read_dimension_source"]

#: What the dimension readers accept as a saved response: the forms of
#: :func:`~vidiframe.read_vidicenter`, plus an already decoded list.
DimensionSource = Union[
    str,
    "os.PathLike[str]",
    bytes,
    bytearray,
    memoryview,
    Mapping[str, Any],
    Sequence[Mapping[str, Any]],
    IO[bytes],
]


def read_dimension_source(source: DimensionSource) -> Any:
    """The decoded JSON document of a saved dimension response.

    Raises
    ------
    InvalidRequestError
        A source of another type, or a path that cannot be read.
    ResponseFormatError
        Bytes that are not JSON.

    Examples
    --------
    >>> read_dimension_source('[{"id": 1}]')
    [{'id': 1}]
    """
    if isinstance(source, (list, tuple)):
        return list(source)
    try:
        raw = read_source(source)  # type: ignore[arg-type]
    except OSError as error:
        raise InvalidRequestError(
            f"cannot read the saved response {os.fspath(source)!r}: {error.strerror or error}"  # type: ignore[arg-type]
        ) from None
    if isinstance(raw, Mapping):
        return raw
    # The exports' exact decoder: an integer of any size stays an integer (and is
    # refused by the typing if it fits no column), where orjson would make a float
    # of one past 64 bits in silence; a byte-order mark is not part of the JSON.
    return _decode_exact(raw.removeprefix(b"\xef\xbb\xbf"))


def parse_dimension(document: Any, spec: DimensionSpec, *, strict: bool = False) -> pl.DataFrame:
    """Type a decoded dimension response into the dimension's frame.

    Parameters
    ----------
    document
        The decoded JSON: a list of objects, or one object (a detail endpoint).
    spec
        The dimension's registry entry.
    strict
        Raise :class:`~vidiframe.SchemaError` on a field the registry does not
        know instead of keeping it with an :class:`~vidiframe.UnknownFieldWarning`.

    Returns
    -------
    polars.DataFrame
        ``spec.schema`` followed by the unknown fields, rows in the server's order.

    Raises
    ------
    ResponseFormatError
        A document that is not a list of objects (an export response, an error body).
    SchemaError
        A value that cannot take its column's type; an unknown field when strict.

    Examples
    --------
    >>> from vidiframe._dimension_registry import get_dimension
    >>> df = parse_dimension([{"id": "15678", "label": "Mine", "active": True}],
    ...                      get_dimension("networks"))
    >>> df.row(0)
    (15678, 'Mine', True)
    """
    rows = _rows(document, spec)
    renamed = [_rename(row, spec.renames, index) for index, row in enumerate(rows)]
    text = {f.name for f in spec.fields if f.type.sent_as(f) == "text"}
    raw = decode_response({"data": renamed}, hints=ColumnHints(text=frozenset(text))).rows
    assert raw is not None
    raw = _nested_times(raw, spec)
    unknown = [c for c in raw.columns if c not in spec.by_name]
    if unknown:
        _report(
            f"{spec.name} response has fields the registry does not know: "
            f"{', '.join(map(repr, unknown))}",
            strict,
            unknown[0],
        )
    columns = [_typed_field(raw, f, spec, strict, height=len(rows)) for f in spec.fields]
    frame = pl.DataFrame(columns, height=len(rows))
    _check_bounds(frame, spec)
    frame = frame.with_columns(
        *(label_expr(f) for f in spec.fields if f.labels is not None),
        *(to_seconds(frame.get_column(f.name), f) for f in spec.fields if f.seconds_column),
        *(d.expr.alias(d.name) for d in spec.derived),
    ).select(spec.schema.names())
    _warn_unknown_codes(frame, spec)
    if unknown:
        frame = frame.hstack(_unknown_columns(raw.select(unknown), frame.columns, spec.name))
    return frame


def _check_bounds(frame: pl.DataFrame, spec: DimensionSpec) -> None:
    """Refuse a value a derived column cannot be computed from (see ``Derived.bounds``)."""
    for d in spec.derived:
        if d.bounds is None:
            continue
        column, low, high = d.bounds
        values = frame.get_column(column)
        outside = ~values.is_between(low, high).fill_null(True)
        if outside.any():
            row = int(outside.arg_true()[0])
            raise SchemaError(
                f"column {column!r}: value {values[row]} at row {row} is outside {low}..{high}, "
                f"so {d.name!r} cannot be derived from it",
                column=column,
                value=values[row],
                row=row,
            )


def _warn_unknown_codes(frame: pl.DataFrame, spec: DimensionSpec) -> None:
    """A code without a documented label keeps its code, gets a null label, and is reported."""
    for f in spec.fields:
        if f.label_column is None:
            continue
        odd = frame.filter(pl.col(f.name).is_not_null() & pl.col(f.label_column).is_null())
        if odd.height:
            codes = ", ".join(map(str, odd.get_column(f.name).unique().sort().head(10)))
            warnings.warn(
                f"{spec.name}: column {f.name!r} has codes without a documented label: "
                f"{codes} ({odd.height} rows); their {f.label_column} is null",
                UnknownCodeWarning,
                stacklevel=5,
            )


def _rows(document: Any, spec: DimensionSpec) -> list[Mapping[str, Any]]:
    if isinstance(document, Mapping):
        if "state" in document:
            raise ResponseFormatError(
                f"this is a data export response (it has a 'state'), not a {spec.name} "
                "response; read it with vf.read_vidicenter",
                key="state",
            )
        if "message" in document and "id" not in document:
            raise ResponseFormatError(
                f"the saved {spec.name} response is an error from the server: "
                f"{document.get('error', '')} {document['message']}".replace("  ", " "),
                key="message",
            )
        if "id" not in document:
            raise ResponseFormatError(
                f"a {spec.name} response is a JSON list of objects with an 'id'; this object "
                f"has keys {', '.join(list(document)[:8])}",
                position=0,
            )
        # A detail endpoint (one clip's metadata) answers with the object itself.
        return [document]
    if not isinstance(document, list):
        raise ResponseFormatError(
            f"a {spec.name} response is a JSON list of objects, not a JSON "
            f"{type(document).__name__}",
            position=0,
        )
    for index, row in enumerate(document):
        if not isinstance(row, Mapping):
            raise ResponseFormatError(
                f"{spec.name}[{index}] must be a JSON object, not {_json_text(row)[:60]}",
                key=str(index),
            )
    return document


def _nested_times(raw: pl.DataFrame, spec: DimensionSpec) -> pl.DataFrame:
    """Time stamps inside nested objects, parsed (the nested typing only casts).

    Text that is not a time stamp raises a :class:`~vidiframe.SchemaError`
    naming the column; nothing is nulled.
    """
    for f in spec.fields:
        if f.name not in raw.columns:
            continue
        dtype = raw.schema[f.name]
        inner = dtype.inner if isinstance(dtype, pl.List) else dtype
        if not isinstance(inner, pl.Struct):
            continue
        present = {fld.name: fld.dtype for fld in inner.fields}
        # Moments inside objects arrive as text: each kind parses its own.
        times = [
            parse
            for s in f.fields
            if present.get(s.name) == pl.String
            and (parse := s.type.from_text(pl.field(s.name), s)) is not None
        ]
        if not times:
            continue
        element = pl.element() if isinstance(dtype, pl.List) else pl.col(f.name)
        parsed = element.struct.with_fields(times)
        expr = pl.col(f.name).list.eval(parsed) if isinstance(dtype, pl.List) else parsed
        try:
            raw = raw.with_columns(expr.alias(f.name))
        except pl.exceptions.PolarsError as exc:
            raise SchemaError(
                f"column {f.name!r}: a nested time stamp cannot be read "
                f"({str(exc).splitlines()[0]})",
                column=f.name,
            ) from None
    return raw


def _rename(row: Mapping[str, Any], renames: Mapping[str, str], index: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for key, given in row.items():
        name = renames.get(key, key)
        prefix = f"{key}."
        nested = {k.removeprefix(prefix): v for k, v in renames.items() if k.startswith(prefix)}
        value = given
        if nested and isinstance(given, list):
            value = [
                _rename(element, nested, index) if isinstance(element, Mapping) else element
                for element in given
            ]
        elif nested and isinstance(given, Mapping):
            value = _rename(given, nested, index)
        if name in out and out[name] != value:
            # The API sent both the renamed field and the name it is renamed to.
            first, second = sorted((key, origin[name]))
            raise SchemaError(
                f"row {index} has both {first!r} and {second!r}, with different values "
                f"({value!r} and {out[name]!r})",
                column=name,
                value=value,
                row=index,
            )
        out[name] = value
        origin[name] = key
    return out


def _typed_field(
    raw: pl.DataFrame, f: Field, spec: DimensionSpec, strict: bool, *, height: int
) -> pl.Series:
    # The height comes from the rows, not from ``raw``: rows without any field
    # (``{}``) give a frame without columns, whose height Polars cannot keep.
    if f.name not in raw.columns or raw.get_column(f.name).dtype == pl.Null:
        return pl.repeat(None, height, dtype=f.dtype, eager=True).alias(f.name)
    typed = _typed(raw, f)
    if f.fields:
        _report_nested(typed, f, spec, strict)
    return typed


def _report_nested(series: pl.Series, f: Field, spec: DimensionSpec, strict: bool) -> None:
    dtype = series.dtype.inner if isinstance(series.dtype, pl.List) else series.dtype
    if not isinstance(dtype, pl.Struct):
        return
    declared = {sub.name for sub in f.fields}
    extra = [fld.name for fld in dtype.fields if fld.name not in declared]
    if extra:
        _report(
            f"{spec.name} response has fields the registry does not know inside "
            f"{f.name!r}: {', '.join(map(repr, extra))}",
            strict,
            f.name,
        )


def _report(message: str, strict: bool, column: str) -> None:
    if strict:
        raise SchemaError(message + " (strict=True)", column=column)
    warnings.warn(message + "; they are kept as columns", UnknownFieldWarning, stacklevel=5)
