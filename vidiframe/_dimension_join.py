"""A small dimension looked up by id in a lazy frame of facts, unmatched ids reported.

The machinery behind ``with_names``, ``with_clip_names`` and ``with_utc``: a
dimension (collected once: dimensions are small) becomes a lookup table of one
row per id, or, *as of a date*, one row per id and snapshot day; the facts stay
a :class:`polars.LazyFrame` and gain its columns by a left join that keeps
their rows, in order.

Unmatched ids are reported when the plan runs: the join marks each row whose
id has no row in the table, and a step of the plan (a
:meth:`polars.LazyFrame.map_batches` that lets filters, projections and slices
through) warns with :class:`~vidiframe.UnmatchedIdWarning`, naming the marked
ids of the rows it sees. The added columns are computed from that mark, so any
query that selects one of them runs the check; one that selects none of them
shows no name and has nothing to report. Filters on the frame's own columns
(and ``head``) are pushed below the check, so the report covers the rows the
query computes; a filter on an added column is not, so the ids of rows it then
removes are reported all the same.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial

import polars as pl

from vidiframe._errors import SchemaError, UnmatchedIdWarning

__all__ = ["SNAPSHOT_DATE", "Lookup", "join_lookup", "lookup"]

#: The column of a dimension snapshot that says which day it was read.
SNAPSHOT_DATE = "snapshot_date"

_SHOWN = 10
# The plan's own columns: dropped before the frame is returned.
_KEY = "_vf_key"
_TABLE_DAY = "_vf_key_day"
_FACT_DATE = "_vf_date"
_DAY_INDEX = "_vf_day"
_RANK = "_vf_rank"
_RANK_KEY = "_vf_rank_key"
_DAY_KEY = "_vf_day_key"
_MISSING = "_vf_unmatched"
_UNDATED = "_vf_undated"
TEMPORARY = (
    _KEY,
    _TABLE_DAY,
    _FACT_DATE,
    _DAY_INDEX,
    _RANK,
    _RANK_KEY,
    _DAY_KEY,
    _MISSING,
    _UNDATED,
)


@dataclass(frozen=True)
class Snapshots:
    """How a row of facts finds its snapshot row: three joins on one key each.

    A join on two keys (id and day) costs Polars' streaming engine five times
    as much as these single-key joins: the day's index comes from the calendar,
    the id's rank from ``ranks``, and ``rank * days + day index`` is the table's
    one key.
    """

    #: Each calendar day from the first to the last snapshot, with the index of
    #: the latest snapshot day on or before it.
    calendar: pl.DataFrame
    #: Each id of the table and its rank.
    ranks: pl.DataFrame
    days: int


@dataclass(frozen=True)
class Lookup:
    """A dimension ready to join: one row per key (as of a date: per key and day)."""

    #: The ``keys`` and the ``added`` columns; as of a date, ``_vf_day_key``
    #: (see :class:`Snapshots`) and the ``added`` columns.
    table: pl.DataFrame
    keys: tuple[str, ...]
    added: tuple[str, ...]
    snapshots: Snapshots | None = None

    def key_type(self, key: str) -> pl.DataType:
        """The type of ``key`` in the dimension."""
        keyed = self.table if self.snapshots is None else self.snapshots.ranks
        return keyed.schema[key]

    def carried(self) -> pl.DataFrame:
        """As of a date: each key's row on each snapshot day since its first, dated.

        The rows the join takes, as a frame of the ``keys``, ``snapshot_date``
        and the ``added`` columns: a key missing from a later snapshot has its
        last known row on that day.

        Examples
        --------
        >>> import datetime as dt
        >>> snaps = pl.DataFrame({"id": [1, 2, 2], "label": ["a", "b", "c"],
        ...     "snapshot_date": [dt.date(2025, 1, 1), dt.date(2025, 1, 1), dt.date(2025, 1, 3)]})
        >>> look = lookup(snaps, ["id"], {"label": "name"}, "ids", as_of=True)
        >>> for row in look.carried().sort("id", "snapshot_date").iter_rows():
        ...     print(row)
        (1, datetime.date(2025, 1, 1), 'a')
        (1, datetime.date(2025, 1, 3), 'a')
        (2, datetime.date(2025, 1, 1), 'b')
        (2, datetime.date(2025, 1, 3), 'c')
        """
        if self.snapshots is None:
            raise TypeError("carried() is for a lookup of snapshots (as_of=True)")
        snapshots = self.snapshots
        # The calendar maps each date to its snapshot day's index: the day itself
        # is the first date of that index.
        days = snapshots.calendar.group_by(_DAY_INDEX).agg(
            pl.col(_FACT_DATE).min().alias(SNAPSHOT_DATE)
        )
        return (
            self.table.with_columns(
                (pl.col(_DAY_KEY) // snapshots.days).alias(_RANK),
                (pl.col(_DAY_KEY) % snapshots.days).alias(_DAY_INDEX),
            )
            .join(snapshots.ranks, on=_RANK)
            .join(days, on=_DAY_INDEX)
            .select(*self.keys, SNAPSHOT_DATE, *self.added)
        )


def lookup(
    frame: pl.DataFrame,
    keys: Sequence[str],
    columns: Mapping[str, str],
    what: str,
    *,
    as_of: bool = False,
) -> Lookup:
    """``frame``'s ``keys`` and ``columns`` (renamed), one row per key; conflicts refused.

    As of a date (``as_of=True``), ``frame`` holds snapshots: one row per key
    and ``snapshot_date``, and each key's row is carried to the later snapshot
    days that lack it (a location removed since keeps its last known row, as
    :func:`~vidiframe.scan_dimension_snapshots` does for one day).

    Raises
    ------
    SchemaError
        A key listed twice with different values (in one snapshot, as of a
        date); a snapshot row without ``snapshot_date``.

    Examples
    --------
    >>> sites = pl.DataFrame({"site_id": [1, 1, 2], "label": ["Hall", "Hall", "Door"]})
    >>> lookup(sites, ["site_id"], {"label": "site_label"}, "sites").table.rows()
    [(1, 'Hall'), (2, 'Door')]
    """
    keys = list(keys)
    day = [SNAPSHOT_DATE] if as_of else []
    table = frame.select(*keys, *day, *(pl.col(src).alias(dst) for src, dst in columns.items()))
    table = table.filter(pl.all_horizontal(pl.col(k).is_not_null() for k in keys))
    table = table.unique(maintain_order=True)
    if as_of and table.get_column(SNAPSHOT_DATE).null_count():
        raise SchemaError(
            f"{what} has rows without a {SNAPSHOT_DATE}: as of a date, every row must come "
            "from a snapshot (vf.scan_dimension_snapshots)",
            column=SNAPSHOT_DATE,
        )
    duplicated = table.filter(pl.struct(*keys, *day).is_duplicated())
    if duplicated.height:
        ids = duplicated.select(keys).unique().sort(keys).head(_SHOWN).rows()
        shown = ", ".join(str(i[0]) if len(keys) == 1 else str(i) for i in ids)
        snapshots = SNAPSHOT_DATE in frame.columns and not as_of
        raise SchemaError(
            f"{what} lists {', '.join(keys)} {shown} more than once with different values"
            + (" in one snapshot" if as_of else "")
            + (
                f"; its rows come from several snapshots: pass as_of= to join each row to "
                f"its day's snapshot, or keep one ({SNAPSHOT_DATE})"
                if snapshots
                else "; keep one row per id (e.g. one snapshot) before joining"
            ),
            column=keys[-1],
            value=ids[0][-1],
        )
    added = tuple(columns.values())
    if not as_of:
        return Lookup(table, tuple(keys), added)
    days = table.get_column(SNAPSHOT_DATE).unique().sort().to_frame(_TABLE_DAY)
    days = days.with_row_index(_DAY_INDEX).with_columns(pl.col(_DAY_INDEX).cast(pl.Int64))
    # Every key on every snapshot day since its first, with its latest row then.
    first = table.group_by(keys).agg(pl.col(SNAPSHOT_DATE).min().alias("_vf_first"))
    grid = first.join(days, how="cross").filter(pl.col(_TABLE_DAY) >= pl.col("_vf_first"))
    carried = grid.drop("_vf_first").join_asof(
        table.sort(SNAPSHOT_DATE),
        left_on=_TABLE_DAY,
        right_on=SNAPSHOT_DATE,
        by=keys,
        strategy="backward",
        # Each key's rows are sorted by day on both sides (the grid's by construction,
        # the table's by the sort), all an as-of join by key needs; Polars cannot
        # check that per key and would warn.
        check_sortedness=False,
    )
    ranks = first.select(keys).sort(keys).with_row_index(_RANK)
    ranks = ranks.with_columns(pl.col(_RANK).cast(pl.Int64))
    combined = carried.join(ranks, on=keys).select(
        (pl.col(_RANK) * days.height + pl.col(_DAY_INDEX)).alias(_DAY_KEY), *added
    )
    if days.height:
        dates = pl.date_range(days[0, _TABLE_DAY], days[-1, _TABLE_DAY], eager=True)
    else:
        dates = pl.Series(dtype=pl.Date)
    calendar = (
        dates.alias(_FACT_DATE)
        .to_frame()
        .join_asof(days, left_on=_FACT_DATE, right_on=_TABLE_DAY, strategy="backward")
        .select(_FACT_DATE, _DAY_INDEX)
    )
    return Lookup(combined, tuple(keys), added, Snapshots(calendar, ranks, days.height))


def _report(
    batch: pl.DataFrame,
    *,
    column: str,
    what: str,
    nulls: str,
    refuse: Callable[[pl.Series], None] | None,
    then: str = "",
    date: str = "",
) -> pl.DataFrame:
    # A query that selects none of the added columns does not bring the marks here.
    if _MISSING in batch.columns:
        missing = batch.get_column(_MISSING).drop_nulls().unique().sort()
        if refuse is not None:
            refuse(missing)
        warn_missing(missing, column, what + then, nulls)
    if _UNDATED in batch.columns:
        undated = batch.get_column(_UNDATED).drop_nulls()
        if undated.len():
            # Not ids without a row: rows without a date, so no snapshot applies.
            ids = undated.unique().sort()
            shown = ", ".join(map(str, ids.head(_SHOWN).to_list()))
            more = f" and {ids.len() - _SHOWN} more" if ids.len() > _SHOWN else ""
            warnings.warn(
                UnmatchedIdWarning(
                    f"{undated.len()} row(s) have a null {date}, so no snapshot of {what} "
                    f"applies to them ({column} {shown}{more}); their {nulls} stay null "
                    "(the rows are kept)",
                    column=column,
                    ids=tuple(ids.to_list()),
                ),
                stacklevel=2,
            )
    return batch


def warn_missing(missing: pl.Series, column: str, what: str, nulls: str) -> None:
    """Warn (:class:`~vidiframe.UnmatchedIdWarning`) naming ``missing`` ids, if any."""
    missing = missing.unique().sort()
    if missing.len():
        shown = ", ".join(map(str, missing.head(_SHOWN).to_list()))
        more = f" and {missing.len() - _SHOWN} more" if missing.len() > _SHOWN else ""
        warnings.warn(
            UnmatchedIdWarning(
                f"{missing.len()} {column} value(s) have no row in {what}: {shown}{more}; "
                f"their {nulls} stay null (the rows are kept)",
                column=column,
                ids=tuple(missing.to_list()),
            ),
            stacklevel=2,
        )


def _day_key(
    lf: pl.LazyFrame,
    snapshots: Snapshots,
    keys: Sequence[str],
    left_on: Sequence[str],
    as_of: pl.Expr,
) -> pl.LazyFrame:
    """``lf`` with the key of its snapshot row (null before the id's first snapshot)."""
    calendar = snapshots.calendar
    last = calendar.get_column(_FACT_DATE).max()
    # A day after the last snapshot takes the last one: the calendar stops there.
    date = as_of if last is None else as_of.clip(upper_bound=pl.lit(last, pl.Date))
    rank_keys = [f"{_RANK_KEY}{i}" for i in range(len(keys))]
    ranks = snapshots.ranks.rename(dict(zip(keys, rank_keys, strict=True)))
    with_day = lf.join(
        calendar.lazy(),
        left_on=date,
        right_on=_FACT_DATE,
        how="left",
        maintain_order="left",
        coalesce=False,
    ).join(
        ranks.lazy(),
        left_on=list(left_on),
        right_on=rank_keys,
        how="left",
        maintain_order="left",
        coalesce=False,
    )
    key = pl.col(_RANK) * snapshots.days + pl.col(_DAY_INDEX)
    return with_day.with_columns(key.alias(_DAY_KEY)).drop(
        _FACT_DATE, _DAY_INDEX, _RANK, *rank_keys
    )


def join_lookup(
    lf: pl.LazyFrame,
    look: Lookup,
    left_on: Sequence[str],
    *,
    report: str,
    what: str,
    nulls: str,
    column: str | None = None,
    as_of: pl.Expr | None = None,
    refuse: Callable[[pl.Series], None] | None = None,
) -> pl.LazyFrame:
    """Left-join ``look`` to ``lf`` on ``left_on``; unmatched ``report`` ids warned at collect.

    A row counts as unmatched when every ``left_on`` value is known and the
    table has no row for them (as of its ``as_of`` date, a Date expression, if
    ``look`` is of snapshots: no row on or before that date). A row whose
    ``as_of`` date is null has no snapshot to take: such rows are counted and
    warned apart. ``refuse`` may raise instead of the warning, given the
    unmatched ids; ``column`` names them in the warning (default ``report``).

    Examples
    --------
    >>> import warnings
    >>> facts = pl.LazyFrame({"site_id": [2, 9, 2]})
    >>> sites = lookup(pl.DataFrame({"site_id": [2], "label": ["Door"]}), ["site_id"],
    ...                {"label": "site_label"}, "sites")
    >>> named = join_lookup(facts, sites, ["site_id"], report="site_id", what="sites",
    ...                     nulls="site_label")
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     named.collect().rows()
    [(2, 'Door'), (9, None), (2, 'Door')]
    >>> caught[0].message.ids
    (9,)
    """
    table = look.table
    temporary: list[str] = []
    known = pl.all_horizontal(pl.col(c).is_not_null() for c in left_on)
    then = date = ""
    if look.snapshots is None:
        right = [f"{_KEY}{i}" for i in range(len(look.keys))]
        table = table.rename(dict(zip(look.keys, right, strict=True)))
        left: list[str] = list(left_on)
    else:
        if as_of is None:  # pragma: no cover - the callers pass both or neither
            raise TypeError("a lookup of snapshots needs the facts' as_of date")
        # The column the date comes from (a Datetime's date keeps its name).
        date = as_of.meta.output_name(raise_if_undetermined=False) or "as_of date"
        then = f" on or before the row's {date}"
        lf = _day_key(lf, look.snapshots, look.keys, left_on, as_of).with_columns(
            pl.when(known & as_of.is_null()).then(pl.col(report)).alias(_UNDATED)
        )
        temporary.append(_DAY_KEY)
        left, right = [_DAY_KEY], [f"{_KEY}0"]
        table = table.rename({_DAY_KEY: right[0]})
    temporary += right
    joined = lf.join(
        table.lazy(),
        left_on=left,
        right_on=right,
        how="left",
        maintain_order="left",
        coalesce=False,
    )
    unmatched = known & pl.col(right[0]).is_null()
    if look.snapshots is not None:
        unmatched &= pl.col(_UNDATED).is_null()
    marked = joined.with_columns(pl.when(unmatched).then(pl.col(report)).alias(_MISSING)).drop(
        temporary
    )
    checked = marked.map_batches(
        partial(
            _report,
            column=column or report,
            what=what,
            nulls=nulls,
            refuse=refuse,
            then=then,
            date=date,
        ),
        predicate_pushdown=True,
        projection_pushdown=True,
        slice_pushdown=True,
    )
    # The added columns depend on the marks (marked rows have null values
    # anyway), so a query that shows one of them cannot skip the report.
    marks = [_MISSING] if look.snapshots is None else [_MISSING, _UNDATED]
    unmarked = pl.all_horizontal(pl.col(m).is_null() for m in marks)
    return checked.with_columns(
        pl.when(unmarked).then(pl.col(c)).alias(c) for c in look.added
    ).drop(marks)
