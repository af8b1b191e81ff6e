"""The summary ``vidiframe fetch`` prints when no ``--output`` is given.

It has to read well at any terminal width: the counts first, then every column
with its type packed into as many columns of text as fit, then a few rows of the
key columns with as many metrics beside them as fit. Names and values are never
cut: what does not fit is left out of the row sample (the schema lists it), and
a single entry wider than the terminal gets a line of its own.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

__all__ = ["summarize"]

#: Rows shown in the sample.
SAMPLE_ROWS = 5
#: Sources listed one by one in the row counts; more are counted.
LISTED_SOURCES = 8
# Parts of period_start repeated for partitioning and filters: the sample shows
# period_start itself instead.
_TIME_PARTS = ("period_start_date", "period_start_time")
_GAP = "  "


def summarize(df: pl.DataFrame, *, label: str, width: int = 80) -> str:
    """Describe ``df`` for a terminal ``width`` characters wide.

    Examples
    --------
    >>> import datetime as dt
    >>> df = pl.DataFrame({
    ...     "location_id": [4636, 4636, 4637],
    ...     "period_start": [dt.datetime(2025, 1, 1, h) for h in (0, 1, 0)],
    ...     "ots_count": [3, None, 5],
    ...     "is_placeholder": [False, True, False],
    ... })
    >>> print(summarize(df, label="ots/1h", width=60))
    ots/1h: 3 rows x 4 columns
    period_start: 2025-01-01 00:00:00 .. 2025-01-01 01:00:00
    placeholder rows: 1 (--placeholders drop removes them)
    rows by location_id: 4636: 2, 4637: 1
    <BLANKLINE>
    columns:
      location_id: i64        period_start: datetime[μs]
      ots_count: i64          is_placeholder: bool
    <BLANKLINE>
    first 3 rows:
    location_id  period_start         ots_count  is_placeholder
           4636  2025-01-01 00:00:00          3  false
           4636  2025-01-01 01:00:00       null  true
           4637  2025-01-01 00:00:00          5  false
    """
    width = max(width, 20)
    lines = [f"{label}: {df.height:,} rows x {df.width} columns"]
    if df.height and "period_start" in df.columns:
        times = df.get_column("period_start")
        lines.append(f"period_start: {times.min()!s} .. {times.max()!s}")
    if "is_placeholder" in df.columns:
        placeholders = int(df.get_column("is_placeholder").sum())
        note = " (--placeholders drop removes them)" if placeholders else ""
        lines.append(f"placeholder rows: {placeholders:,}{note}")
    lines.extend(_rows_by_source(df, width))
    lines += ["", "columns:"]
    lines.extend(
        _packed([f"{name}: {_type_name(dtype)}" for name, dtype in df.schema.items()], width)
    )
    if df.height:
        sample = df.head(SAMPLE_ROWS)
        shown = _columns_that_fit(sample, width)
        left_out = df.width - len(shown)
        more = f"; {left_out} more column(s) in the schema above" if left_out else ""
        lines += ["", f"first {sample.height} rows{more}:"]
        lines.extend(_table(sample.select(shown)))
    return "\n".join(lines)


def _type_name(dtype: pl.DataType) -> str:
    # Polars' own short names, as its tables print them (i64, datetime[μs], enum).
    short = getattr(dtype, "_string_repr", None)
    return short() if callable(short) else str(dtype)


def _rows_by_source(df: pl.DataFrame, width: int) -> list[str]:
    """Rows per value of the first column (the source id: exports list keys first)."""
    if df.is_empty() or df.columns[0] == "period_start" or not df.dtypes[0].is_integer():
        return []
    name = df.columns[0]
    counts = df.get_column(name).value_counts(sort=True).sort(name)
    if counts.height > LISTED_SOURCES:
        return [f"rows by {name}: {counts.height:,} distinct values"]
    parts = [f"{value}: {count:,}" for value, count in counts.iter_rows()]
    return _wrapped(f"rows by {name}: ", parts, width)


def _packed(cells: Sequence[str], width: int) -> list[str]:
    """Cells in as many aligned columns as fit ``width``, each cell whole."""
    indent = "  "
    cell = max(len(c) for c in cells) + len(_GAP)
    per_line = max(1, (width - len(indent) + len(_GAP)) // cell)
    lines = []
    for start in range(0, len(cells), per_line):
        row = cells[start : start + per_line]
        lines.append(indent + "".join(c.ljust(cell) for c in row).rstrip())
    return lines


def _wrapped(head: str, parts: Sequence[str], width: int) -> list[str]:
    lines, line = [], head
    for i, part in enumerate(parts):
        piece = part + ("," if i < len(parts) - 1 else "")
        if len(line) + len(piece) > width and line.strip() != head.strip():
            lines.append(line.rstrip())
            line = " " * 2
        line += piece + " "
    lines.append(line.rstrip())
    return lines


def _cells(df: pl.DataFrame) -> dict[str, list[str]]:
    return {
        name: [
            "null" if v is None else (str(v).lower() if isinstance(v, bool) else str(v))
            for v in df.get_column(name).to_list()
        ]
        for name in df.columns
    }


def _columns_that_fit(sample: pl.DataFrame, width: int) -> list[str]:
    """The key columns (up to ``period_start``), then the next ones while they fit."""
    cells = _cells(sample)
    widths = {name: max(len(name), *(len(v) for v in cells[name])) for name in sample.columns}
    keys_end = sample.columns.index("period_start") + 1 if "period_start" in sample.columns else 1
    keys = [c for c in sample.columns[:keys_end] if c not in _TIME_PARTS]
    chosen: list[str] = []
    used = -len(_GAP)
    for name in keys + [c for c in sample.columns[keys_end:] if c not in _TIME_PARTS]:
        used += widths[name] + len(_GAP)
        # At least the first key, even if it overflows; then in order while they fit.
        if chosen and used > width:
            break
        chosen.append(name)
    return chosen


def _table(df: pl.DataFrame) -> list[str]:
    cells = _cells(df)
    numeric = {name for name, dtype in df.schema.items() if dtype.is_numeric()}
    widths = {name: max(len(name), *(len(v) for v in cells[name])) for name in df.columns}

    def line(values: dict[str, str]) -> str:
        parts = [
            values[n].rjust(widths[n]) if n in numeric else values[n].ljust(widths[n])
            for n in df.columns
        ]
        return _GAP.join(parts).rstrip()

    header = line({name: name for name in df.columns})
    rows = [line({name: cells[name][i] for name in df.columns}) for i in range(df.height)]
    return [header, *rows]
