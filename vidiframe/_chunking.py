"""Splitting a large request into exports that stay under the server's row limits.

The server refuses an export of more than 3 million raw rows or 20 million
aggregated ones, and builds at most 3 exports at a time. :class:`ChunkPlanner`
estimates the rows of a query and cuts it into chunks: first in time, then (if
one period is still too large) into batches of locations or sites.

Boundaries never lose or duplicate a row. ``end`` is inclusive to the second, so
a chunk ends one second before the next one starts. Aggregated exports are cut
only where a period starts (on the day grid for ``5m`` ... ``1d``, at month
starts for ``1M``), so no period straddles two chunks whatever rule the server
uses to attach periods to a range; ``7d`` and ``30d`` exports, whose grid the
docs do not give, are never cut in time. Source batches are only made from a
plain list of locations or of sites: tags may overlap (a location in two tags
would come twice) and extrapolated exports aggregate across their sources.

When the server still fails a chunk for having too many rows,
:meth:`ChunkPlanner.split` cuts it in two and the halves are fetched instead.

Examples
--------
>>> from vidiframe._query import make_query
>>> q = make_query(data_type="ots", time_resolution="1h", start="2025-01-01",
...                end="2025-01-04", locations=1)
>>> chunks = ChunkPlanner(max_rows=24, fill=1.0).plan(q)
>>> [(c.query.start.isoformat(), c.query.end.isoformat()) for c in chunks]
... # doctest: +NORMALIZE_WHITESPACE
[('2025-01-01T00:00:00', '2025-01-01T23:59:59'), ('2025-01-02T00:00:00', '2025-01-02T23:59:59'),
 ('2025-01-03T00:00:00', '2025-01-03T23:59:59'), ('2025-01-04T00:00:00', '2025-01-04T23:59:59')]
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from vidiframe._periods import (
    DAY_GRID_SECONDS,
    epoch_seconds,
    from_epoch_seconds,
    month_index,
    month_start,
)
from vidiframe._policies import check_number
from vidiframe._query import ExportQuery

__all__ = ["Chunk", "ChunkPlanner", "is_row_limit_failure", "period_count"]

_SECOND = dt.timedelta(seconds=1)
# Grid steps in seconds of the resolutions that divide a day, aligned on midnight.
# Lengths used only to count periods of the resolutions that are never cut in time.
_LONG_PERIODS = {"7d": 7 * 86400, "30d": 30 * 86400}
# Finest exports are cut on hours, then minutes, then seconds when a range is short.
_FINEST_STEPS = (3600, 60, 1)

_ROW_LIMIT_REASON = re.compile(r"\brows?\b|\blines?\b|too (many|large|big)|exceed|maximum", re.I)


def is_row_limit_failure(fail_reason: str | None) -> bool:
    """Whether a ``fail_reason`` says the export had too many rows.

    Examples
    --------
    >>> is_row_limit_failure("Too many rows: 3000001 > 3000000")
    True
    >>> is_row_limit_failure("An error occurred while building the export.")
    False
    """
    return fail_reason is not None and bool(_ROW_LIMIT_REASON.search(fail_reason))


@dataclass(frozen=True)
class Chunk:
    """One export of a planned read.

    Attributes
    ----------
    order
        Sort key giving the chunk's place in the result: ``(3,)``, and after a
        split ``(3, 0)`` and ``(3, 1)``.
    query
        The export.
    estimated_rows
        The planner's estimate of its rows.
    """

    order: tuple[int, ...]
    query: ExportQuery
    estimated_rows: int

    def label(self) -> str:
        """A short label for progress bars and logs: ``#4`` or ``#4.1``."""
        return "#" + ".".join(str(i + 1) for i in self.order)


@dataclass(frozen=True)
class ChunkPlanner:
    """Cuts queries into chunks that stay under the row limits.

    The estimates are deliberately generous (the true counts are unknown before
    the export is built); the server's own refusal is the safety net.

    Parameters
    ----------
    max_rows
        Rows one export may hold (default: the server's limit for the export,
        :attr:`~vidiframe.ExportSpec.row_limit`).
    fill
        Share of ``max_rows`` a chunk's estimate may reach.
    finest_rows_per_location_hour
        Events per location and hour assumed for finest exports.
    locations_per_site, locations_per_location_tag, locations_per_site_tag
        Locations assumed behind each site or tag id.
    rows_per_key
        Values assumed for each extra key of an aggregated export (content,
        product, zone, gate); coded keys (gender, age) count their labels.
    """

    max_rows: int | None = None
    fill: float = 0.5
    finest_rows_per_location_hour: float = 1000.0
    locations_per_site: int = 10
    locations_per_location_tag: int = 20
    locations_per_site_tag: int = 100
    rows_per_key: int = 10

    def __post_init__(self) -> None:
        if self.max_rows is not None:
            check_number("max_rows", self.max_rows, low=1, integer=True)
        check_number("fill", self.fill, low=0.0, high=1.0, low_open=True)
        check_number("finest_rows_per_location_hour", self.finest_rows_per_location_hour, low=0.0)
        for name in (
            "locations_per_site",
            "locations_per_location_tag",
            "locations_per_site_tag",
            "rows_per_key",
        ):
            check_number(name, getattr(self, name), low=1, integer=True)

    # -- estimates ---------------------------------------------------------------------------

    def target_rows(self, query: ExportQuery) -> int:
        """The most rows a chunk of ``query`` is planned to hold."""
        limit = self.max_rows if self.max_rows is not None else query.spec.row_limit
        return max(1, int(limit * self.fill))

    def estimate_rows(self, query: ExportQuery) -> int:
        """A generous estimate of the rows of ``query``.

        Examples
        --------
        >>> from vidiframe._query import make_query
        >>> q = make_query(data_type="viewers", time_resolution="1h", start="2025-01-01",
        ...                end="2025-01-02", locations=[1, 2], group_by_demographics=True)
        >>> ChunkPlanner().estimate_rows(q)  # 48 hours x 2 locations x 3 genders x 5 ages
        1440
        """
        spec = query.spec
        sources = 1 if spec.extrapolated else self._locations(query)
        if spec.granularity == "finest":
            hours = ((query.end - query.start).total_seconds() + 1) / 3600
            return math.ceil(hours * sources * self.finest_rows_per_location_hour)
        per_period = 1
        for name in spec.row_keys:
            field = spec.by_name[name]
            if field.labels:
                per_period *= len(field.labels)
            elif name == "content_id" and query.content_ids:
                per_period *= len(query.content_ids)
            else:
                per_period *= self.rows_per_key
        return period_count(query.time_resolution, query.start, query.end) * sources * per_period

    def _locations(self, query: ExportQuery) -> int:
        return (
            len(query.locations)
            + len(query.sites) * self.locations_per_site
            + len(query.location_tags) * self.locations_per_location_tag
            + len(query.site_tags) * self.locations_per_site_tag
        )

    # -- planning ----------------------------------------------------------------------------

    def plan(self, query: ExportQuery) -> list[Chunk]:
        """The chunks of ``query``, in the order of the result.

        Returns
        -------
        list of Chunk
            One chunk when the whole query fits; never empty.
        """
        estimate = self.estimate_rows(query)
        wanted = math.ceil(estimate / self.target_rows(query))
        if wanted <= 1:
            return [Chunk((0,), query, estimate)]
        ranges = _time_pieces(query, wanted)
        batches_wanted = math.ceil(wanted / len(ranges))
        batches = _source_batches(query, batches_wanted) if batches_wanted > 1 else [{}]
        chunks: list[Chunk] = []
        for start, end in ranges:
            for batch in batches:
                part = query.replace(start=start, end=end, **batch)
                chunks.append(Chunk((len(chunks),), part, self.estimate_rows(part)))
        return chunks

    def split(self, chunk: Chunk) -> list[Chunk]:
        """Cut a chunk the server refused as too large into two; ``[]`` if it cannot be cut.

        Cuts in time first, then the source batch.
        """
        query = chunk.query
        halves: list[ExportQuery] = []
        ranges = _time_pieces(query, 2)
        if len(ranges) == 2:
            halves = [query.replace(start=s, end=e) for s, e in ranges]
        else:
            batches = _source_batches(query, 2)
            if len(batches) == 2:
                halves = [query.replace(**batch) for batch in batches]
        return [
            Chunk((*chunk.order, i), half, self.estimate_rows(half))
            for i, half in enumerate(halves)
        ]


def period_count(resolution: str, start: dt.datetime, end: dt.datetime) -> int:
    """How many periods of ``resolution`` start within ``[start, end]`` (at least 1).

    Examples
    --------
    >>> period_count("1h", dt.datetime(2025, 1, 1, 0, 30), dt.datetime(2025, 1, 1, 2, 59, 59))
    2
    >>> period_count("1M", dt.datetime(2025, 1, 1), dt.datetime(2025, 3, 31))
    3
    """
    if resolution == "1M":
        months = month_index(end) - month_index(start) + 1
        return max(1, months - (start.day != 1 or start.time() != dt.time()))
    if resolution in _LONG_PERIODS:
        return max(1, math.ceil(((end - start).total_seconds() + 1) / _LONG_PERIODS[resolution]))
    step = DAY_GRID_SECONDS[resolution]
    lo, hi = epoch_seconds(start), epoch_seconds(end)
    return max(1, hi // step - math.ceil(lo / step) + 1)


# -- cutting time ------------------------------------------------------------------------------


def _time_pieces(query: ExportQuery, wanted: int) -> list[tuple[dt.datetime, dt.datetime]]:
    """Up to ``wanted`` contiguous ranges covering the query, cut on its grid."""
    start, end = query.start, query.end
    resolution = query.time_resolution
    if resolution == "finest":
        cuts: list[dt.datetime] = []
        for step in _FINEST_STEPS:
            cuts = _cuts_on_fixed_grid(start, end, wanted, step)
            if len(cuts) >= min(wanted - 1, 1):
                break
    elif resolution in DAY_GRID_SECONDS:
        cuts = _cuts_on_fixed_grid(
            start, end, wanted, DAY_GRID_SECONDS[resolution], whole_periods=True
        )
    elif resolution == "1M":
        cuts = _cuts_on_months(start, end, wanted)
    else:
        cuts = []
    starts = [start, *cuts]
    ends = [c - _SECOND for c in cuts] + [end]
    return list(zip(starts, ends, strict=True))


def _pick(candidates: Sequence[int], wanted: int) -> list[int]:
    """About ``wanted - 1`` evenly spread, distinct picks from sorted ``candidates``."""
    if wanted - 1 >= len(candidates):
        return list(candidates)
    picks = {candidates[round(i * (len(candidates) + 1) / wanted) - 1] for i in range(1, wanted)}
    return sorted(picks)


def _cuts_on_fixed_grid(
    start: dt.datetime, end: dt.datetime, wanted: int, step: int, *, whole_periods: bool = False
) -> list[dt.datetime]:
    """Grid points ``g`` (multiples of ``step`` since midnight) with ``start < g <= end``.

    With ``whole_periods``, a ``start`` inside a period is never cut off on its own:
    that piece would hold no period at all (or just the partial one), an export
    for nothing.
    """
    lo, hi = epoch_seconds(start), epoch_seconds(end)
    first = (lo // step + 1) * step
    if whole_periods and lo % step:
        first += step
    if first > hi:
        return []
    count = (hi - first) // step + 1
    # Cut where the whole range divides evenly: equal chunks build in equal times.
    total = hi - lo + 1
    targets = sorted({round((lo + i * total / wanted - first) / step) for i in range(1, wanted)})
    indices = [t for t in targets if 0 <= t < count]
    if len(indices) < min(wanted - 1, count):
        indices = _pick(range(count), wanted)
    return [from_epoch_seconds(first + i * step) for i in indices]


def _cuts_on_months(start: dt.datetime, end: dt.datetime, wanted: int) -> list[dt.datetime]:
    first = month_index(start) + 1
    if start != month_start(month_index(start)):
        first += 1  # as on the fixed grid: no piece for a partial month alone
    last = month_index(end)
    months = list(range(first, last + 1))
    return [month_start(m) for m in _pick(months, wanted)]


# -- cutting sources ---------------------------------------------------------------------------


def _source_batches(query: ExportQuery, wanted: int) -> list[dict[str, tuple[str, ...]]]:
    """Up to ``wanted`` batches of the query's sources, or ``[{}]`` when it cannot be batched."""
    kinds = [kind for kind, ids in query.sources.items() if ids]
    if query.spec.extrapolated or kinds not in (["locations"], ["sites"]):
        return [{}]
    kind = kinds[0]
    ids = query.sources[kind]
    count = min(wanted, len(ids))
    if count <= 1:
        return [{}]
    size, extra = divmod(len(ids), count)
    batches, at = [], 0
    for i in range(count):
        n = size + (i < extra)
        batches.append({kind: ids[at : at + n]})
        at += n
    return batches
