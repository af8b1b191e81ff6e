"""Typing raw rows into the frame of SPEC section 2.

:func:`build_frame` takes the rows as JSON typed them and returns the export's
fixed schema: current names, every documented column (null when absent), typed
values, derived date/time, seconds and label columns, ``is_placeholder``, and the
unknown fields kept at the end. Everything it needs to know about a field comes
from the registry.

A value that cannot take its column's type raises :class:`~vidiframe.SchemaError`
naming the column, the value and the row; nothing is silently nulled.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

import polars as pl

from vidiframe._casts import nulls, parse_text
from vidiframe._errors import (
    InvalidRequestError,
    SchemaError,
    UnknownCodeWarning,
    UnknownFieldWarning,
    WrongExportError,
)
from vidiframe._fields import Field
from vidiframe._hints import did_you_mean
from vidiframe._json import ColumnHints
from vidiframe._registry import ExportSpec, exports_fitting, iter_exports

__all__ = ["PlaceholderMode", "build_frame", "drop_placeholders", "fill_placeholders"]

PlaceholderMode = Literal["keep", "drop"]

# The 2025 API repeats period_start as these two keys; one export sends only them.
_TIME_PARTS = ("period_start_date", "period_start_time")


def column_hints(spec: ExportSpec) -> ColumnHints:
    """What the decoder may expect of an export's fields, from the registry.

    Time stamps stay text under every name (the reader parses them with the API's
    formats); the other scalar fields' JSON kinds spare the decoder inferring them.
    """
    text = {*_TIME_PARTS, spec.time_api_name}
    kinds: dict[str, str] = {}
    nested: set[str] = set()
    elements: dict[str, Mapping[str, Any]] = {}
    for f in spec.fields:
        sent = f.type.sent_as(f)
        if sent == "text":
            text.update(f.all_names)
        elif sent == "list":
            nested.update(f.all_names)
            element = f.type.elements_sent_as(f)
            if element is not None:
                elements.update(dict.fromkeys(f.all_names, element))
        else:
            kinds.update(dict.fromkeys(f.all_names, sent))
    return ColumnHints(
        text=frozenset(text), kinds=kinds, nested=frozenset(nested), elements=elements
    )


def build_frame(
    raw: pl.DataFrame,
    spec: ExportSpec,
    *,
    placeholders: PlaceholderMode = "keep",
    strict: bool = False,
) -> pl.DataFrame:
    """Type the raw rows of one export into its fixed schema.

    Parameters
    ----------
    raw
        The ``data`` rows as decoded from JSON.
    spec
        The export's registry entry.
    placeholders
        ``"keep"`` keeps placeholder rows (metrics all null), ``"drop"`` removes them.
    strict
        Raise :class:`~vidiframe.SchemaError` on an unknown field instead of
        keeping it with an :class:`~vidiframe.UnknownFieldWarning`.

    Returns
    -------
    polars.DataFrame
        ``spec.schema`` followed by the unknown fields, rows in the server's order.

    Raises
    ------
    SchemaError
        A value that cannot take its column's type, or an unknown field when strict.
    """
    if placeholders not in ("keep", "drop"):
        raise InvalidRequestError(f"placeholders must be 'keep' or 'drop', not {placeholders!r}")
    _check_export_fits(raw, spec)
    raw = _apply_renames(raw, spec)
    unknown = [c for c in raw.columns if c not in spec.by_name and c not in _TIME_PARTS]
    if unknown:
        message = (
            f"{spec.data_type} ({spec.granularity}) response has fields the registry does not "
            f"know: {', '.join(map(repr, unknown))}"
        )
        if strict:
            raise SchemaError(message + " (strict=True)", column=unknown[0])
        warnings.warn(message + "; they are kept as columns", UnknownFieldWarning, stacklevel=4)

    columns = dict(
        zip((f.name for f in spec.fields), _typed_columns(raw, spec.fields), strict=True)
    )
    columns["period_start"] = _period_start(raw, columns.get("period_start"))
    frame = pl.DataFrame(columns, height=raw.height) if raw.width else pl.DataFrame(columns)
    frame = frame.with_columns(
        *_derived(spec),
        *(to_seconds(columns[f.name], f) for f in spec.fields if f.seconds_column is not None),
    )
    frame = frame.with_columns(is_placeholder=_placeholder_expr(spec, raw.select(unknown))).select(
        spec.schema.names()
    )
    _check_time_parts(raw, frame)
    _warn_unknown_codes(frame, spec)
    if unknown:
        what = f"{spec.data_type} ({spec.granularity})"
        frame = frame.hstack(_unknown_columns(raw.select(unknown), frame.columns, what))
    if placeholders == "drop":
        frame = frame.filter(~pl.col("is_placeholder"))
    return frame


def _unknown_columns(unknown: pl.DataFrame, taken: list[str], what: str) -> pl.DataFrame:
    """The unknown fields, renamed where a field has the name of a derived column.

    A response field named ``is_placeholder`` or ``dwell_time_s`` is not the column
    vidiframe derives: it keeps its value next to it, as ``<name>_as_sent``.
    """
    names = set(taken) | set(unknown.columns)
    renames = {}
    for name in unknown.columns:
        if name not in taken:
            continue
        new = f"{name}_as_sent"
        while new in names:
            new += "_"
        names.add(new)
        renames[name] = new
        warnings.warn(
            f"{what} response has a field {name!r}, the name of "
            f"a column vidiframe derives; the response's values are kept as {new!r}",
            UnknownFieldWarning,
            stacklevel=5,
        )
    return unknown.rename(renames)


def _apply_renames(raw: pl.DataFrame, spec: ExportSpec) -> pl.DataFrame:
    renames = {old: new for old, new in spec.renames.items() if old in raw.columns}
    if not renames:
        return raw
    names: dict[str, list[str]] = {}
    for old, new in renames.items():
        names.setdefault(new, [new] if new in raw.columns else []).append(old)
    # A name without a value adds nothing to the others, and its column's dtype
    # (the registry's on the decoder's fast path, Null on its general path) would
    # type theirs in the coalesce below (true became 1): it is left out.
    unvalued: list[str] = []
    for new, given in names.items():
        valued = [name for name in given if raw.get_column(name).null_count() < raw.height]
        if len(given) > 1 and len(valued) < len(given):
            names[new] = valued or given[:1]
            unvalued += [name for name in given if name not in names[new]]
    if unvalued:
        raw = raw.drop(unvalued)
        renames = {old: new for old, new in renames.items() if old not in unvalued}
    merged = {new: given for new, given in names.items() if len(given) > 1}
    if merged:
        # A body with several names of one field (the 2020 proof of play sent both
        # estimated_ots and impressions, a transition may send both): they must
        # agree where both have a value; a value under one name only is kept.
        for new, given in merged.items():
            raw = _typed_alike(raw, given, spec.by_name[new])
            for other in given[1:]:
                _check_same_values(raw, given[0], other)
        raw = raw.with_columns(pl.coalesce(given).alias(new) for new, given in merged.items()).drop(
            [name for new, given in merged.items() for name in given if name != new]
        )
        renames = {old: new for old, new in renames.items() if new not in merged}
    return raw.rename(renames)


def _typed_alike(raw: pl.DataFrame, names: list[str], f: Field) -> pl.DataFrame:
    """The names of one field sent with values of different types, each typed as the field.

    The coalesce that merges them would cast them to a common type: a boolean
    under one name next to integers under the other became 1. Typed one by one,
    a value the field cannot read is refused under the name it was sent as.
    """
    if len({raw.schema[name] for name in names} - {pl.Null}) < 2:
        return raw
    typed = []
    for name in names:
        column = raw.get_column(name)
        converted = column if column.dtype == f.dtype else f.type.cast(column, f).alias(name)
        _check_lossless(column, converted, name)
        typed.append(converted)
    return raw.with_columns(typed)


def _check_same_values(raw: pl.DataFrame, first: str, second: str) -> None:
    """Two names of one field in one body: a row where both hold different values is refused."""
    a, b = raw.get_column(first), raw.get_column(second)
    if a.dtype != b.dtype:
        common = pl.Float64 if a.dtype.is_numeric() and b.dtype.is_numeric() else pl.String
        a, b = a.cast(common, strict=False), b.cast(common, strict=False)
    differ = (a.is_not_null() & b.is_not_null() & (a != b)).fill_null(False)
    if differ.any():
        row = int(differ.arg_true()[0])
        left, right = raw.get_column(first)[row], raw.get_column(second)[row]
        raise SchemaError(
            f"row {row} has {first!r} = {left!r} and {second!r} = {right!r}: two names of one "
            "field with different values; which one is right cannot be told",
            column=first,
            value=right,
            row=row,
        )


def _check_export_fits(raw: pl.DataFrame, spec: ExportSpec) -> None:
    """Refuse a body that is another export's: every field known there, some unknown here."""
    known = spec.api_names
    unknown = [name for name in raw.columns if name not in known]
    if not unknown:
        return
    # The decoder adds the requested export's time stamp columns, null, when the body
    # lacks them: such a column without a value says nothing about the body. Nor
    # does a known field's: the decoder's fast path cannot tell one sent only as
    # null (after the first row) from one not sent, which the general path keeps.
    quiet = {*known, *column_hints(spec).text}
    present = [
        name
        for name in raw.columns
        if name not in quiet or raw.get_column(name).null_count() < raw.height
    ]
    fits = exports_fitting(present, other_than=spec, evidence=unknown)
    if not fits:
        return  # fields nobody documented yet: kept and reported as unknown fields
    likely = fits[0]
    how = {
        "finest": "time_resolution='finest'",
        "aggregated": "an aggregated time_resolution",
        "demographics": "group_by_demographics=True",
    }[likely.granularity]
    others = "".join(f", or {s.data_type!r} ({s.granularity})" for s in fits[1:4])
    raise WrongExportError(
        f"this response is not a {spec.data_type!r} ({spec.granularity}) export: its fields "
        f"{', '.join(map(repr, unknown[:6]))} are not {spec.data_type!r} fields, and every field "
        f"fits {likely.data_type!r} ({likely.granularity}){others}; read it with "
        f"data_type={likely.data_type!r} and {how}",
        likely=tuple(s.key for s in fits),
        column=unknown[0],
    )


# -- casting ---------------------------------------------------------------------------------


# Below this many rows, starting threads costs more than it saves.
_CONCURRENT_ROWS = 50_000


def _typed_columns(raw: pl.DataFrame, fields: Iterable[Field]) -> list[pl.Series]:
    """Every field's column, typed; on large frames several at once.

    Polars releases the GIL while it parses or casts a Series, and each call works on
    one column, so threads parse the time stamp columns side by side. The columns come
    back in field order, and the first field that fails raises, as one by one.
    """
    fields = list(fields)
    workers = min(pl.thread_pool_size(), len(fields))
    if raw.height < _CONCURRENT_ROWS or workers < 2:
        return [_typed(raw, f) for f in fields]
    with ThreadPoolExecutor(workers, thread_name_prefix="vidiframe-typing") as pool:
        return list(pool.map(lambda f: _typed(raw, f), fields))


def _typed(raw: pl.DataFrame, f: Field) -> pl.Series:
    if f.name not in raw.columns:
        return nulls(f.name, raw.height, f.dtype)
    column = raw.get_column(f.name)
    if column.dtype == f.dtype:
        return column
    if column.dtype == pl.Null or column.null_count() == len(column):
        return nulls(f.name, len(column), f.dtype)
    # The field's kind owns its cast; a value it cannot read becomes null, reported here.
    converted = f.type.cast(column, f)
    _check_lossless(column, converted, f.name)
    return converted


def _check_lossless(before: pl.Series, after: pl.Series, name: str) -> None:
    lost = before.is_not_null() & after.is_null()
    if lost.any():
        row = int(lost.arg_true()[0])
        value = before[row]
        raise SchemaError(
            f"column {name!r}: value {value!r} at row {row} cannot be read as {after.dtype}",
            column=name,
            value=value,
            row=row,
        )


# -- derived columns ---------------------------------------------------------------------------


def _period_start(raw: pl.DataFrame, current: pl.Series | None) -> pl.Series:
    if current is not None and (current.null_count() < len(current) or not _has_parts(raw)):
        return current
    if not _has_parts(raw):
        return nulls("period_start", raw.height, pl.Datetime("us"))
    date = _parse_part(raw.get_column("period_start_date"), pl.Date())
    time = _parse_part(raw.get_column("period_start_time"), pl.Time())
    parts = pl.DataFrame([date.alias("date"), time.alias("time")])
    combined = parts.select(
        pl.col("date").dt.combine(pl.col("time"), time_unit="us").alias("period_start")
    )
    return combined.to_series()


def _has_parts(raw: pl.DataFrame) -> bool:
    return all(part in raw.columns for part in _TIME_PARTS)


def _parse_part(column: pl.Series, dtype: pl.DataType) -> pl.Series:
    parsed = parse_text(column, dtype)
    _check_lossless(column, parsed, column.name)
    return parsed


def _check_time_parts(raw: pl.DataFrame, frame: pl.DataFrame) -> None:
    """The API's own date and time keys must agree with period_start (SPEC section 2)."""
    text = raw.get_column("period_start") if "period_start" in raw.columns else None
    for part in _TIME_PARTS:
        if part not in raw.columns or raw.get_column(part).null_count() == raw.height:
            continue
        given = raw.get_column(part).cast(pl.String)
        suspect = given.is_not_null()
        if text is not None and text.dtype == pl.String:
            # Fast path: the parts are usually the two ends of period_start's own
            # text ("2025-03-01" and "10:00:00" of "2025-03-01T10:00:00"); a prefix
            # or suffix test costs half of slicing and comparing.
            length = given.str.len_bytes()
            if part == "period_start_date":
                same = text.str.starts_with(given) & (length == 10)
            else:
                same = text.str.ends_with(given) & (text.str.len_bytes() == length + 11)
            suspect &= ~same.fill_null(False)
        if not suspect.any():
            continue
        rows = suspect.arg_true()
        agree = _parts_agree(part, given.gather(rows), frame.get_column(part).gather(rows))
        if not agree.all():
            row = int(rows[int((~agree).arg_true()[0])])
            raise SchemaError(
                f"column {part!r}: {given[row]!r} at row {row} disagrees with period_start "
                f"{frame.get_column('period_start')[row]}",
                column=part,
                value=given[row],
                row=row,
            )


def _parts_agree(part: str, given: pl.Series, derived: pl.Series) -> pl.Series:
    if part == "period_start_date":
        return (_parse_part(given, pl.Date()) == derived).fill_null(False)
    # The docs give the time as hh:mm or hh:mm:ss: compare to that precision.
    nanos = _parse_part(given, pl.Time()).cast(pl.Int64)
    expected = derived.cast(pl.Int64)
    minute = 60_000_000_000
    minutes_only = given.str.strip_chars().str.len_chars() == 5
    truncated = pl.select(
        pl.when(minutes_only).then(expected // minute * minute).otherwise(expected)
    )
    return (truncated.to_series() == nanos).fill_null(False)


def _derived(spec: ExportSpec) -> list[pl.Expr]:
    exprs: list[pl.Expr] = []
    for f in spec.fields:
        if f.time_parts:
            exprs += [
                pl.col(f.name).dt.date().alias("period_start_date"),
                pl.col(f.name).dt.time().alias("period_start_time"),
            ]
        if f.labels is not None:
            exprs.append(label_expr(f))
    return exprs


def to_seconds(values: pl.Series, f: Field) -> pl.Series:
    """``<base>_s``: the duration in seconds, as Float64, exactly ``value / factor``.

    Polars turns division by a scalar into multiplication by its reciprocal
    (``207 * 0.1 == 20.700000000000003``); dividing by a full column of the factor
    keeps IEEE division, the same result as Python's ``207 / 10``.

    Examples
    --------
    >>> from vidiframe._fields import Tenths
    >>> to_seconds(pl.Series([207, None]), Tenths("dwell_time_in_tenths_of_sec")).to_list()
    [20.7, None]
    """
    assert f.seconds_column is not None
    value = values.cast(pl.Float64)
    if f.seconds_factor != 1:
        value = value / pl.Series([f.seconds_factor]).new_from_index(0, len(value))
    return value.alias(f.seconds_column)


def label_expr(f: Field) -> pl.Expr:
    """``<name>_label``: the documented label of the code, null for an undocumented code."""
    assert f.labels is not None
    assert f.label_column is not None
    codes = sorted(f.labels)
    return (
        pl.col(f.name)
        .replace_strict(
            codes, [f.labels[c] for c in codes], default=None, return_dtype=f.label_dtype
        )
        .alias(f.label_column)
    )


def _placeholder_expr(spec: ExportSpec, unknown: pl.DataFrame | None = None) -> pl.Expr:
    """True where every value of the row is null.

    Values are the metrics, legacy fields included, and the fields the registry
    does not know (``unknown``, the raw columns: they may be values under a new name).
    """
    nulls = [pl.col(name).is_null() for name in spec.metrics]
    if unknown is not None and unknown.width:
        unset = unknown.select(pl.all_horizontal(pl.all().is_null())).to_series()
        nulls.append(pl.lit(unset))
    if not nulls:
        return pl.lit(False)
    return pl.all_horizontal(nulls)


def _warn_unknown_codes(frame: pl.DataFrame, spec: ExportSpec) -> None:
    for f in spec.fields:
        if f.labels is None or f.label_column is None:
            continue
        undocumented = frame.filter(pl.col(f.name).is_not_null() & pl.col(f.label_column).is_null())
        if undocumented.height:
            codes = undocumented.get_column(f.name).unique().sort()
            shown = ", ".join(map(str, codes.head(10))) + (", ..." if len(codes) > 10 else "")
            warnings.warn(
                f"column {f.name!r} has codes without a documented label: {shown} "
                f"({undocumented.height} rows); their {f.label_column} is null",
                UnknownCodeWarning,
                stacklevel=5,
            )


# -- placeholder helpers -----------------------------------------------------------------------


def drop_placeholders(df: pl.DataFrame) -> pl.DataFrame:
    """Remove the placeholder rows (the API's rows for periods without data).

    Examples
    --------
    >>> df = pl.DataFrame({"ots_count": [4, None], "is_placeholder": [False, True]})
    >>> drop_placeholders(df)["ots_count"].to_list()
    [4]
    """
    df = _require_frame(df, "drop_placeholders")
    _require(df, "is_placeholder")
    return df.filter(~pl.col("is_placeholder"))


def fill_placeholders(
    df: pl.DataFrame, value: float = 0, *, columns: Iterable[str] | None = None
) -> pl.DataFrame:
    """Fill the metrics of placeholder rows with ``value``, explicitly.

    Only placeholder rows are touched: a null in a row that has data stays null.
    The seconds columns of filled durations are filled alike.

    Parameters
    ----------
    df
        A frame from :func:`~vidiframe.read_vidicenter`.
    value
        The value to fill in (0 by default).
    columns
        The metric columns to fill; by default every numeric metric of the export
        the frame comes from.

    Examples
    --------
    >>> import vidiframe as vf
    >>> body = {"state": "finished", "data": [
    ...     {"location_id": 1, "period_start": "2016-04-29 00:00:00", "ots_count": 504,
    ...      "duration": 86400.0, "watcher_count": 156},
    ...     {"location_id": 1, "period_start": "2016-04-30 00:00:00", "ots_count": None,
    ...      "duration": None, "watcher_count": None}]}
    >>> df = vf.read_vidicenter(body, data_type="ots", time_resolution="1d")
    >>> fill_placeholders(df)["ots_count"].to_list()
    [504, 0]
    """
    df = _require_frame(df, "fill_placeholders")
    _require(df, "is_placeholder")
    if columns is None:
        columns = [name for name in _metric_columns(df) if df.schema[name].is_numeric()]
    columns = list(columns)
    _require_columns(df.columns, columns, "fill_placeholders")
    return df.with_columns(
        pl.when(pl.col("is_placeholder"))
        .then(pl.col(c).fill_null(value))
        .otherwise(pl.col(c))
        .alias(c)
        for c in columns
    )


def _metric_columns(df: pl.DataFrame) -> list[str]:
    """The metric columns (and their seconds columns) of the export a frame matches."""
    matches = [
        spec for spec in iter_exports() if list(spec.schema) == df.columns[: len(spec.schema)]
    ]
    if not matches:
        raise SchemaError("the frame does not have the schema of any export; pass columns=")
    spec = matches[0]
    out: list[str] = []
    for name in spec.metrics:
        out.append(name)
        seconds = spec.by_name[name].seconds_column
        if seconds is not None:
            out.append(seconds)
    return out


def _require_frame(df: object, caller: str) -> pl.DataFrame:
    # A non-frame would otherwise fail deep inside as a raw AttributeError.
    if not isinstance(df, pl.DataFrame):
        hint = "; collect the LazyFrame or use lf.vidi" if isinstance(df, pl.LazyFrame) else ""
        raise InvalidRequestError(
            f"{caller} takes a polars.DataFrame from read_vidicenter, not {type(df).__name__}{hint}"
        )
    return df


def _require_columns(schema: Iterable[str], columns: Iterable[str], caller: str) -> None:
    # Checked here so an unknown name is ours to explain, not Polars' ColumnNotFoundError.
    names = list(schema)
    for column in columns:
        if column not in names:
            raise SchemaError(
                f"{caller}: the frame has no {column!r} column"
                f"{did_you_mean(column, names)}; pass columns= naming metric columns of the frame",
                column=column,
            )


def _require(df: pl.DataFrame, column: str) -> None:
    if column not in df.columns:
        raise SchemaError(
            f"the frame has no {column!r} column; is it from read_vidicenter?", column=column
        )
