"""Deterministic export rows, generated from the registry.

Every export type and granularity of :mod:`vidiframe._registry` gets rows whose
keys are exactly the fields the registry declares, under the names the API uses
(:meth:`~vidiframe.ExportSpec.api_name`, 2020 names in legacy mode), with values
drawn from each field's kind, ``low``/``high`` range and labels. No field name is
written here: adding a field to the registry adds it to the fake's data.

Determinism is what makes the fake useful for the chunked client, so it is by
construction, not by luck:

* values are drawn from a :class:`random.Random` seeded by ``(seed, export,
  time_resolution, source, period)`` and never by the query's ``start``/``end``,
  so two overlapping queries give identical rows for the periods they share;
* aggregated rows are those of the periods whose start ``p`` satisfies
  ``start <= p <= end`` (``end`` inclusive, to the second), on a fixed grid (the
  day for ``5m``...``1d``, Monday weeks for ``7d``, 30-day blocks since 1970 for
  ``30d``, calendar months for ``1M``); finest events are drawn per source and
  per clock hour, then those with ``start <= t <= end`` are kept. A range split
  at any second into two inclusive chunks therefore concatenates to exactly the
  one-shot result, in the same order;
* rows come period by period (finest: event time), then source by source, in
  ascending id order.

Keys that repeat rows within a period (a gate, a content, a product, a zone:
required keys other than the source and the time) take one to three values per
source, fixed for that source: ``1, 2, 3`` for integers, ``"content 1",
"content 2", ...`` for text (the field name without ``_id``). ``content_ids``
filters on those. Coded keys (``group_by_demographics``) give one row per
combination of codes, its counts weighted by a share of the audience that varies
by code (from the seed) and by source, so the demographic mix has a shape.
Aggregated exports have gaps: a source is offline during an hour with
probability ``placeholder_rate`` (:meth:`DataGenerator.offline`), and a period
starting in an offline hour is a placeholder, its rows kept with every metric
null, as the documentation describes. The outages are the same for every
export, so the fake's alerts can report them.

Sources follow a small fixed topology: location ``l`` belongs to site ``l // 10``
(site ``s`` holds locations ``10s`` to ``10s + 9``); location tag ``t`` holds
locations ``1000t + 1`` to ``1000t + 3``; site tag ``t`` holds sites ``100t + 1``
and ``100t + 2``.

Examples
--------
>>> rows = generate_rows("ots", "1h", start="2025-01-01T02:00:00",
...                      end="2025-01-01T04:59:59", locations=[4636])
>>> [row["period_start"] for row in rows]
['2025-01-01 02:00:00', '2025-01-01 03:00:00', '2025-01-01 04:00:00']
>>> sorted(rows[0])  # doctest: +NORMALIZE_WHITESPACE
['duration', 'effective_ots_count', 'location_id', 'ots_count', 'period_start',
 'period_start_date', 'period_start_time', 'status', 'watcher_count']
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import math
import random
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from vidiframe._errors import InvalidRequestError
from vidiframe._fields import LEGACY_DATE, Field
from vidiframe._periods import (
    epoch_seconds,
    from_epoch_seconds,
    month_index,
    month_start,
)
from vidiframe._registry import ExportSpec, get_export
from vidiframe._wire import (
    AVERAGE_CONTENT_DURATION,
    CONTENT_IDS,
    CREATION_DATE_KEY,
    DATA_TYPE,
    END,
    EXTRAPOLATION_AMOUNT,
    GROUP_BY_DEMOGRAPHICS,
    LOCATIONS,
    REQUIRED_PARAMETERS,
    SITES,
    SOURCE_PARAMETERS,
    START,
    STATE_KEY,
    TIME_RESOLUTION,
)

__all__ = [
    "DataGenerator",
    "FakeQuery",
    "QueryError",
    "api_keys",
    "count_rows",
    "generate_rows",
    "location_site",
    "period_starts",
    "response_body",
    "site_locations",
]

# Fixed-width resolutions: period length in seconds and the grid's anchor (seconds
# since 1970-01-01). Weeks start on Monday, like the calendar; 1970-01-05 was one.
_FIXED_STEPS: Mapping[str, tuple[int, int]] = {
    "5m": (300, 0),
    "10m": (600, 0),
    "15m": (900, 0),
    "30m": (1800, 0),
    "1h": (3600, 0),
    "1d": (86400, 0),
    "7d": (7 * 86400, 4 * 86400),
    "30d": (30 * 86400, 0),
}
_HOUR = 3600
# The undocumented vehicle colour of the 2025-04 example (SPEC § 8.4).
_UNDOCUMENTED_CODE = 12356


class QueryError(ValueError):
    """A query the API would refuse with HTTP 400 (its message is the API's)."""


# -- topology ---------------------------------------------------------------------


def site_locations(site: int) -> tuple[int, ...]:
    """The locations of a site in the fake's topology: ``10 * site`` to ``10 * site + 9``.

    Examples
    --------
    >>> site_locations(178)[:3]
    (1780, 1781, 1782)
    """
    return tuple(range(10 * site, 10 * site + 10))


def location_site(location: int) -> int:
    """The site of a location in the fake's topology: ``location // 10``.

    Examples
    --------
    >>> location_site(4636)
    463
    """
    return location // 10


def _location_tag_locations(tag: int) -> tuple[int, ...]:
    return (1000 * tag + 1, 1000 * tag + 2, 1000 * tag + 3)


def _site_tag_sites(tag: int) -> tuple[int, ...]:
    return (100 * tag + 1, 100 * tag + 2)


# -- time grid ----------------------------------------------------------------------


def _period_range(resolution: str, start: dt.datetime, end: dt.datetime) -> tuple[int, int]:
    """``(first, count)``: the first period (seconds, or month index for 1M) and how many."""
    if resolution == "1M":
        first = month_index(start)
        if month_start(first) < start:
            first += 1
        last = month_index(end)
        return first, max(0, last - first + 1)
    step, anchor = _FIXED_STEPS[resolution]
    lo, hi = epoch_seconds(start), epoch_seconds(end)
    first = anchor + math.ceil((lo - anchor) / step) * step
    last = anchor + math.floor((hi - anchor) / step) * step
    return first, max(0, (last - first) // step + 1)


def period_starts(resolution: str, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """The starts ``p`` of the periods of ``resolution`` with ``start <= p <= end``.

    Parameters
    ----------
    resolution
        An aggregated ``time_resolution`` (``5m`` ... ``1M``).
    start, end
        The query's bounds, naive local time; ``end`` is inclusive.

    Examples
    --------
    >>> [p.isoformat() for p in period_starts("30m", dt.datetime(2021, 11, 1, 9, 0),
    ...                                       dt.datetime(2021, 11, 1, 10, 0))]
    ['2021-11-01T09:00:00', '2021-11-01T09:30:00', '2021-11-01T10:00:00']
    >>> [p.date().isoformat() for p in period_starts("1M", dt.datetime(2025, 1, 15),
    ...                                              dt.datetime(2025, 3, 1))]
    ['2025-02-01', '2025-03-01']
    """
    first, count = _period_range(resolution, start, end)
    if resolution == "1M":
        return [month_start(first + i) for i in range(count)]
    step = _FIXED_STEPS[resolution][0]
    return [from_epoch_seconds(first + i * step) for i in range(count)]


# -- the query ----------------------------------------------------------------------


def _parse_moment(value: str | dt.datetime, name: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        moment = value
    else:
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            raise QueryError(
                f"Invalid {name} {value!r}: expected format is YYYY-MM-DDTHH:mm:SS"
            ) from None
    if moment.tzinfo is not None:
        raise QueryError(f"Invalid {name} {value!r}: local time expected, without a zone")
    return moment.replace(microsecond=0)


def _parse_ids(value: str | int | Iterable[int | str] | None, name: str) -> tuple[int, ...]:
    if value is None:
        return ()
    items: Iterable[Any]
    if isinstance(value, int):
        items = [value]
    elif isinstance(value, str):
        items = [part for part in value.split(",") if part.strip()]
    else:
        items = value
    try:
        return tuple(sorted({int(str(item).strip()) for item in items}))
    except ValueError:
        raise QueryError(f"Invalid {name} {value!r}: expected comma separated ids") from None


def _parse_names(value: str | Iterable[str] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else list(value)
    return tuple(item.strip() for item in items if item.strip())


@dataclass(frozen=True)
class FakeQuery:
    """One export request as the fake understands it (sources resolved, bounds parsed).

    Build it from API query parameters with :meth:`from_params`, or from Python
    values with :meth:`build`. ``force_rebuild`` and ``status_only`` are not part
    of it: they change how the export is served, not what it holds.

    Parameters
    ----------
    spec
        The export's declaration.
    time_resolution
        The requested ``time_resolution``.
    start, end
        The bounds, naive local time, whole seconds; ``end`` is inclusive.
    sources
        The resolved location ids (site ids for exports keyed by ``site_id``),
        ascending.
    content_ids
        The content filter, or ``None``.
    variant
        What else changes the values: ``extrapolation_amount`` and
        ``average_content_duration`` as sent (extrapolated exports also depend on
        the sampled locations).
    """

    spec: ExportSpec
    time_resolution: str
    start: dt.datetime
    end: dt.datetime
    sources: tuple[int, ...]
    content_ids: tuple[str, ...] | None = None
    variant: str = ""
    requested_locations: tuple[int, ...] = field(default=(), compare=False)

    @classmethod
    def build(
        cls,
        data_type: str | ExportSpec,
        time_resolution: str,
        *,
        start: str | dt.datetime,
        end: str | dt.datetime,
        locations: str | int | Iterable[int | str] | None = None,
        sites: str | int | Iterable[int | str] | None = None,
        location_tags: str | int | Iterable[int | str] | None = None,
        site_tags: str | int | Iterable[int | str] | None = None,
        group_by_demographics: bool = False,
        content_ids: str | Iterable[str] | None = None,
        extrapolation_amount: int | str | None = None,
        average_content_duration: float | str | None = None,
    ) -> FakeQuery:
        """Build a query from Python values, validated as the API validates it.

        Raises
        ------
        QueryError
            For anything the API answers with HTTP 400.

        Examples
        --------
        >>> q = FakeQuery.build("proof_of_play_by_site", "1h", start="2025-01-01T00:00:00",
        ...                     end="2025-01-01T23:59:59", locations=[4636, 4637])
        >>> q.sources
        (463,)
        """
        if isinstance(data_type, ExportSpec):
            spec = data_type
            if time_resolution not in spec.resolutions:
                raise QueryError(
                    f"data_type={spec.data_type!r} does not accept "
                    f"time_resolution={time_resolution!r}"
                )
        else:
            try:
                spec = get_export(
                    data_type,
                    time_resolution,
                    group_by_demographics=group_by_demographics,
                    allow_aliases=True,
                )
            except InvalidRequestError as exc:
                raise QueryError(str(exc)) from None
        lo, hi = _parse_moment(start, "start"), _parse_moment(end, "end")
        if lo > hi:
            raise QueryError(f"start ({lo.isoformat()}) is after end ({hi.isoformat()})")
        ids = {
            "locations": _parse_ids(locations, "locations"),
            "sites": _parse_ids(sites, "sites"),
            "location_tags": _parse_ids(location_tags, "location_tags"),
            "site_tags": _parse_ids(site_tags, "site_tags"),
        }
        if not any(ids.values()):
            raise QueryError(
                "At least one of locations, sites, location_tags or site_tags is required"
            )
        if spec.extrapolated and extrapolation_amount is None:
            raise QueryError(f"extrapolation_amount is mandatory for data_type={spec.data_type}")
        by_site = any(f.filtered_by == SITES for f in spec.fields)
        sources = _resolve_sources(by_site=by_site, **ids)
        variant = ""
        if spec.extrapolated:
            # The extrapolation depends on which locations were sampled, and how many
            # locations it is extrapolated to.
            sampled = _resolve_sources(by_site=False, **ids)
            variant = f"x{extrapolation_amount}:{','.join(map(str, sampled))}"
            sources = ()
        if average_content_duration is not None and spec.accepts_average_content_duration:
            variant += f"d{average_content_duration}"
        filters = _parse_names(content_ids) if spec.accepts_content_ids else None
        return cls(spec, time_resolution, lo, hi, sources, filters, variant, ids["locations"])

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> FakeQuery:
        """Build a query from the API's query parameters (strings), as the server does.

        A flag (``group_by_demographics``) is active as soon as it is present, as
        the documentation says of ``force_rebuild`` and ``status_only``.

        Raises
        ------
        QueryError
            For a missing mandatory argument or anything else the API refuses.

        Examples
        --------
        >>> FakeQuery.from_params({"data_type": "viewers", "time_resolution": "1h",
        ...     "start": "2025-01-01T00:00:00", "end": "2025-01-01T00:59:59",
        ...     "locations": "4637,4636", "group_by_demographics": "1"}).spec.granularity
        'demographics'
        """
        for name in REQUIRED_PARAMETERS:
            if not params.get(name):
                raise QueryError(f"Missing mandatory argument: {name}")
        return cls.build(
            params[DATA_TYPE],
            params[TIME_RESOLUTION],
            start=params[START],
            end=params[END],
            **{kind: params.get(kind) for kind in SOURCE_PARAMETERS},
            group_by_demographics=GROUP_BY_DEMOGRAPHICS in params,
            content_ids=params.get(CONTENT_IDS),
            extrapolation_amount=params.get(EXTRAPOLATION_AMOUNT),
            average_content_duration=params.get(AVERAGE_CONTENT_DURATION),
        )

    @property
    def finest(self) -> bool:
        """Whether the export is made of raw events."""
        return self.spec.granularity == "finest"


def _resolve_sources(
    *,
    by_site: bool,
    locations: tuple[int, ...],
    sites: tuple[int, ...],
    location_tags: tuple[int, ...],
    site_tags: tuple[int, ...],
) -> tuple[int, ...]:
    all_sites = set(sites)
    all_sites.update(s for tag in site_tags for s in _site_tag_sites(tag))
    all_locations = set(locations)
    all_locations.update(loc for tag in location_tags for loc in _location_tag_locations(tag))
    if by_site:
        all_sites.update(location_site(loc) for loc in all_locations)
        return tuple(sorted(all_sites))
    all_locations.update(loc for s in all_sites for loc in site_locations(s))
    return tuple(sorted(all_locations))


# -- what each field is, for generation ------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    """How each field of a spec is filled, decided once per spec."""

    spec: ExportSpec
    slots: tuple[tuple[str, Field, str], ...]  # (what, field, api name)
    groups: tuple[tuple[int, ...], ...]  # codes of the coded keys, in field order
    dims: tuple[Field, ...]  # keys that repeat rows per source (gate, content, ...)
    first_metric: str | None
    parts: bool  # send period_start_date / period_start_time next to period_start
    time_as_parts: bool


_PLANS: dict[tuple[int, bool], tuple[ExportSpec, _Plan]] = {}


def _is_time(f: Field) -> bool:
    # The period's own time stamp: the one the API also splits into date and time.
    return f.time_parts


def _is_source(f: Field) -> bool:
    return f.filtered_by in (LOCATIONS, SITES)


def _repeats(f: Field) -> bool:
    """A key the API always fills whose values repeat per source (a gate, a content)."""
    return f.role == "key" and not f.nullable and f.type.poolable


def _plan(spec: ExportSpec, legacy: bool) -> _Plan:
    cached = _PLANS.get((id(spec), legacy))
    if cached is not None and cached[0] is spec:
        return cached[1]
    slots: list[tuple[str, Field, str]] = []
    groups: list[tuple[int, ...]] = []
    dims: list[Field] = []
    first_metric = None
    for f in spec.fields:
        if f.dropped and not legacy:
            continue  # the current API no longer sends it
        name = spec.api_name(f, legacy=legacy)
        if _is_time(f):
            what = "time"
        elif _is_source(f):
            what = "source"
        elif f.role == "key" and f.labels is not None and spec.granularity != "finest":
            what = "group"
            groups.append(tuple(sorted(f.labels)))
        elif _repeats(f):
            what = "dim"
            dims.append(f)
        elif f.role == "key":
            what = "key"
        else:
            what = "metric"
            first_metric = first_metric or f.name
        slots.append((what, f, name))
    has_period_start = spec.time_api_name == "period_start"
    plan = _Plan(
        spec,
        tuple(slots),
        tuple(groups),
        tuple(dims),
        first_metric,
        parts=has_period_start and not legacy and not spec.time_as_parts,
        time_as_parts=spec.time_as_parts,
    )
    _PLANS[(id(spec), legacy)] = (spec, plan)
    return plan


def api_keys(spec: ExportSpec, *, legacy: bool = False) -> frozenset[str]:
    """The keys of every row the fake (and the API) sends for ``spec``.

    The registry's api names, plus ``period_start_date`` and ``period_start_time``
    where the 2025 docs add them next to ``period_start`` (not in legacy mode),
    or in place of it for exports declared ``time_as_parts``.

    Examples
    --------
    >>> from vidiframe._registry import get_export
    >>> sorted(api_keys(get_export("extrapolated_ots", "1d"), legacy=True))
    ['duration', 'ots_count', 'period_start', 'watcher_count']
    """
    plan = _plan(spec, legacy)
    keys = {name for _, _, name in plan.slots}
    if plan.parts or plan.time_as_parts:
        keys.update(("period_start_date", "period_start_time"))
    if plan.time_as_parts:
        keys.discard(spec.time_api_name)
    return frozenset(keys)


# -- the generator ------------------------------------------------------------------------


@dataclass
class _Context:
    """What the drawers of one (source, period) share."""

    generator: DataGenerator
    query: FakeQuery
    source: int | None
    random: Callable[[], float]
    #: The audience share of the row's demographic group, relative to the largest
    #: (1.0 outside ``group_by_demographics``): set per row by ``_aggregated``.
    weight: float = 1.0


#: Draws one value: ``(context, period or event time, row so far) -> value``.
_Drawer = Callable[[_Context, dt.datetime, Mapping[str, Any]], Any]
#: (what, field name, api name, drawer, may be null) of one field of a spec.
_Slot = tuple[str, str, str, _Drawer, bool]
_COMPILED: dict[tuple[Any, int, bool], tuple[_Plan, tuple[_Slot, ...]]] = {}


#: Relative audience by weekday (Monday first): busier on Fridays and Saturdays.
_WEEKLY = (0.85, 0.9, 0.9, 0.95, 1.1, 1.25, 0.75)
_SUB_DAY = frozenset({"finest", "5m", "10m", "15m", "30m", "1h"})


def audience(when: dt.datetime, resolution: str = "1h") -> float:
    """The relative audience at ``when``, in (0, 1]: what makes the fake's counts look real.

    Low at night, a peak at lunch and a higher one after work, busier at the end of
    the week. Periods of a day or more take only the weekday's factor.

    Examples
    --------
    >>> round(audience(dt.datetime(2025, 3, 7, 18)), 2) > round(audience(dt.datetime(2025, 3, 7, 3)), 2)
    True
    """
    weekly = _WEEKLY[when.weekday()]
    if resolution not in _SUB_DAY:
        return weekly / max(_WEEKLY)
    hour = when.hour + when.minute / 60
    # Screens see passers-by at night too: a floor of a quarter of the peak.
    daily = (
        0.25
        + 0.45 * math.exp(-(((hour - 12.5) / 2.2) ** 2))
        + 0.55 * math.exp(-(((hour - 18) / 2.0) ** 2))
    )
    return min(1.0, daily * weekly)


_MEAN_AUDIENCE = sum(
    audience(dt.datetime(2025, 3, 3) + dt.timedelta(hours=h)) for h in range(7 * 24)
) / (7 * 24)


def _hash_unit(key: str) -> float:
    """A uniform number in [0, 1) from a string, cheaper than seeding a Random."""
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


@dataclass(frozen=True)
class DataGenerator:
    """Deterministic rows for any export of the registry.

    Parameters
    ----------
    seed
        Changes every value; the same seed always gives the same rows.
    legacy
        Send the 2020 field names (``dwell_time``, ``attention_time``, ...) and no
        ``period_start_date`` / ``period_start_time``.
    quirks
        Reproduce the documentation's quirks (SPEC § 8): ids sometimes sent as
        strings, compass ratios always as strings (``"0.242"``), coded metrics
        sometimes holding the undocumented code ``12356``, counts documented as
        "sent as 1.0" sent as floats.
    quirk_rate
        How often the occasional quirks happen.
    placeholder_rate
        Share of (source, period) pairs of aggregated exports that are gaps: their
        rows are placeholders, every metric null.
    null_rate
        Share of nullable values that are null in ordinary rows (never all the
        metrics of a row, which would make it a placeholder).
    events_per_hour
        Mean number of events per source and hour in finest exports.

    Examples
    --------
    >>> gen = DataGenerator(seed=1)
    >>> q = FakeQuery.build("viewers", "1d", start="2025-01-01T00:00:00",
    ...                     end="2025-01-03T23:59:59", locations=[1, 2])
    >>> len(gen.rows(q)), gen.count_rows(q)
    (6, 6)
    >>> gen.rows(q) == DataGenerator(seed=1).rows(q)
    True
    """

    seed: int = 0
    legacy: bool = False
    quirks: bool = False
    quirk_rate: float = 0.1
    placeholder_rate: float = 0.05
    null_rate: float = 0.02
    events_per_hour: float = 6.0

    # -- counting -------------------------------------------------------------------

    def count_rows(self, query: FakeQuery) -> int:
        """The exact number of rows :meth:`rows` gives, without the content filter.

        This is the size the server checks against its row limits; for aggregated
        exports it is plain arithmetic, for finest ones one hash per source and hour.
        """
        if query.finest:
            return sum(
                self._bucket_count(query, source, bucket, clip=True)
                for bucket in self._buckets(query)
                for source in query.sources
            )
        _, periods = _period_range(query.time_resolution, query.start, query.end)
        groups = math.prod(len(codes) for codes in _plan(query.spec, self.legacy).groups)
        per_period = sum(self._dims_size(query, source) for source in self._sources(query))
        return periods * groups * per_period

    def max_rows(self, query: FakeQuery) -> int:
        """A cheap upper bound of :meth:`count_rows` (finest: the most events per hour)."""
        if not query.finest:
            return self.count_rows(query)
        buckets = len(self._buckets(query))
        return buckets * len(query.sources) * self._max_events()

    # -- rows -----------------------------------------------------------------------------

    def rows(self, query: FakeQuery) -> list[dict[str, Any]]:
        """The ``data`` list of the finished export of ``query``."""
        return list(self.iter_rows(query))

    def iter_rows(self, query: FakeQuery) -> Iterator[dict[str, Any]]:
        """The rows of ``query`` one by one, in the server's order."""
        plan = _plan(query.spec, self.legacy)
        rows = self._finest(query, plan) if query.finest else self._aggregated(query, plan)
        if query.content_ids is None:
            yield from rows
            return
        wanted = set(query.content_ids)
        for row in rows:
            kept = self._filter_contents(plan, row, wanted)
            if kept is not None:
                yield kept

    def body(self, query: FakeQuery, *, creation_date: str = "2025-01-01 00:00:00") -> bytes:
        """The compact JSON body of the finished export, as the API sends it."""
        return orjson.dumps(
            {STATE_KEY: "finished", "data": self.rows(query), CREATION_DATE_KEY: creation_date}
        )

    def offline(self, kind: str, source: int | None, hour: int) -> bool:
        """Whether a source uploads nothing during the hour starting at ``hour``.

        The gaps of aggregated exports: a period is a placeholder when its source
        is offline during the hour the period starts in, whatever the export, so
        the fake's alerts (an outage per run of offline hours) coincide with the
        placeholder rows of hourly and finer exports.

        Parameters
        ----------
        kind
            ``location``, ``site`` (exports by site) or ``none`` (extrapolated).
        source
            The location or site id.
        hour
            The hour's start, in seconds since 1970 of the naive local time.

        Examples
        --------
        >>> gen = DataGenerator(seed=3, placeholder_rate=0.5)
        >>> [gen.offline("location", 4636, h * 3600) for h in range(6)]
        [False, True, True, False, True, True]
        """
        return _hash_unit(f"{self.seed}|offline|{kind}|{source}|{hour}") < self.placeholder_rate

    # -- internals --------------------------------------------------------------------

    def _key(self, query: FakeQuery, source: int | None, moment: int) -> str:
        spec = query.spec
        return (
            f"{self.seed}|{spec.data_type}|{spec.granularity}|{query.time_resolution}"
            f"|{query.variant}|{source}|{moment}"
        )

    @staticmethod
    def _sources(query: FakeQuery) -> Sequence[int | None]:
        return query.sources if query.sources else (None,)

    def _dims_size(self, query: FakeQuery, source: int | None) -> int:
        plan = _plan(query.spec, self.legacy)
        return math.prod(len(self._pool(query, f, source)) for f in plan.dims)

    def _pool(self, query: FakeQuery, f: Field, source: int | None) -> list[int | str]:
        """The values a repeating key takes for one source: 1 to 3 of them, fixed."""
        size = 1 + int(_hash_unit(f"{self.seed}|pool|{query.spec.data_type}|{f.name}|{source}") * 3)
        return f.type.pool(f, size)

    def _max_events(self) -> int:
        return max(1, round(2 * self.events_per_hour))

    def _buckets(self, query: FakeQuery) -> range:
        lo = epoch_seconds(query.start) // _HOUR * _HOUR
        hi = epoch_seconds(query.end) // _HOUR * _HOUR
        return range(lo, hi + 1, _HOUR)

    def _events_in(self, query: FakeQuery, source: int | None, bucket: int) -> int:
        key = self._key(query, source, bucket)
        # The audience shapes the hours; events_per_hour stays the weekly mean.
        scale = audience(from_epoch_seconds(bucket)) / _MEAN_AUDIENCE
        return int(_hash_unit(key) * scale * (self._max_events() + 1))

    def _bucket_count(
        self, query: FakeQuery, source: int | None, bucket: int, *, clip: bool
    ) -> int:
        n = self._events_in(query, source, bucket)
        lo, hi = epoch_seconds(query.start), epoch_seconds(query.end)
        if not clip or n == 0 or (lo <= bucket and bucket + _HOUR - 1 <= hi):
            return n
        rng = random.Random(self._key(query, source, bucket))  # noqa: S311 - test data
        offsets = self._offsets(rng, n)
        return sum(1 for off in offsets if lo <= bucket + off <= hi)

    @staticmethod
    def _offsets(rng: random.Random, n: int) -> list[int]:
        r = rng.random
        return sorted(int(r() * _HOUR) for _ in range(n))

    def _finest(self, query: FakeQuery, plan: _Plan) -> Iterator[dict[str, Any]]:
        lo, hi = epoch_seconds(query.start), epoch_seconds(query.end)
        slots = self._compiled(plan)
        for bucket in self._buckets(query):
            events: list[tuple[int, int, int, dict[str, Any]]] = []
            for pos, source in enumerate(query.sources):
                n = self._events_in(query, source, bucket)
                if n == 0:
                    continue
                rng = random.Random(self._key(query, source, bucket))  # noqa: S311 - test data
                ctx = _Context(self, query, source, rng.random)
                for i, offset in enumerate(self._offsets(rng, n)):
                    moment = bucket + offset
                    # Every event is drawn, kept or not, so the random stream of an
                    # hour is the same whatever the query's bounds.
                    row = self._row(plan, slots, ctx, from_epoch_seconds(moment), {}, gap=False)
                    if lo <= moment <= hi:
                        events.append((moment, pos, i, row))
            events.sort(key=lambda event: event[:3])
            for event in events:
                yield event[3]

    def _aggregated(self, query: FakeQuery, plan: _Plan) -> Iterator[dict[str, Any]]:
        first, count = _period_range(query.time_resolution, query.start, query.end)
        monthly = query.time_resolution == "1M"
        step = 0 if monthly else _FIXED_STEPS[query.time_resolution][0]
        slots = self._compiled(plan)
        sources = self._sources(query)
        kind = _source_kind(query.spec)
        names = [f.name for f in plan.dims] + [f.name for w, f, _ in plan.slots if w == "group"]
        combos = {
            source: [
                (dict(zip(names, (*values, *codes), strict=True)), weight)
                for codes, weight in self._group_weights(plan.groups, source)
                for values in itertools.product(*(self._pool(query, f, source) for f in plan.dims))
            ]
            for source in sources
        }
        for i in range(count):
            moment = epoch_seconds(month_start(first + i)) if monthly else first + i * step
            when = from_epoch_seconds(moment)
            for source in sources:
                key = self._key(query, source, moment)
                gap = self.offline(kind, source, moment // _HOUR * _HOUR)
                rng = random.Random(key)  # noqa: S311 - test data, not secrets
                ctx = _Context(self, query, source, rng.random)
                for fixed, weight in combos[source]:
                    ctx.weight = weight
                    yield self._row(plan, slots, ctx, when, fixed, gap=gap)

    def _group_weights(
        self, groups: tuple[tuple[int, ...], ...], source: int | None
    ) -> list[tuple[tuple[int, ...], float]]:
        """Each combination of group codes with its audience weight, the largest 1.0.

        A real audience is not spread evenly over genders and age groups: each
        code gets a factor from the seed (the same for every source: the mix has a
        shape), times a per-source factor (locations differ). Weights are relative
        to the largest, so a weighted count stays within the field's range.
        """
        combos = list(itertools.product(*groups))
        raw = [
            math.prod(
                0.3 + 1.4 * _hash_unit(f"{self.seed}|group|{i}|{code}")
                for i, code in enumerate(codes)
            )
            * (0.75 + 0.5 * _hash_unit(f"{self.seed}|group|{source}|{codes}"))
            for codes in combos
        ]
        top = max(raw)
        return [(codes, w / top) for codes, w in zip(combos, raw, strict=True)]

    def _compiled(self, plan: _Plan) -> tuple[_Slot, ...]:
        """One drawer per field, built once per generator and spec (the hot loop)."""
        key = (self, id(plan.spec), plan.parts)
        cached = _COMPILED.get(key)
        if cached is not None and cached[0] is plan:
            return cached[1]
        slots = []
        for what, f, name in plan.slots:
            may_be_null = f.nullable and f.name != plan.first_metric
            slots.append((what, f.name, name, self._drawer(f), may_be_null))
        compiled = tuple(slots)
        _COMPILED[key] = (plan, compiled)
        return compiled

    def _row(
        self,
        plan: _Plan,
        slots: tuple[_Slot, ...],
        ctx: _Context,
        when: dt.datetime,
        fixed: Mapping[str, Any],
        *,
        gap: bool,
    ) -> dict[str, Any]:
        row: dict[str, Any] = {}
        r = ctx.random
        null_rate = self.null_rate
        for what, field_name, name, draw, may_be_null in slots:
            if what == "time":
                self._put_time(row, plan, name, when, finest=ctx.query.finest)
            elif what == "source":
                quirky = self.quirks and r() < self.quirk_rate
                row[name] = str(ctx.source) if quirky else ctx.source
            elif field_name in fixed:
                row[name] = fixed[field_name]
            else:
                value = draw(ctx, when, row)
                # Drawn for every field, so a gap does not shift the rows after it.
                nulled = r() < null_rate
                if (gap and what == "metric") or (nulled and may_be_null):
                    value = None
                row[name] = value
        return row

    @staticmethod
    def _put_time(
        row: dict[str, Any], plan: _Plan, name: str, when: dt.datetime, *, finest: bool
    ) -> None:
        if plan.time_as_parts:
            row["period_start_date"] = when.date().isoformat()
            row["period_start_time"] = when.time().isoformat()
            return
        # The docs show events with a "T" and aggregates with a space (SPEC § 8.2).
        text = when.isoformat(sep="T" if finest else " ")
        row[name] = text
        if plan.parts:
            row["period_start_date"] = text[:10]
            row["period_start_time"] = text[11:]

    def _drawer(self, f: Field) -> _Drawer:
        """A function drawing one value of ``f`` (from ``ctx.random`` only)."""
        quirks, quirk_rate = self.quirks, self.quirk_rate
        if _repeats(f):
            return self._dim_drawer(f)
        if f.labels is not None:
            codes = tuple(sorted(f.labels))
            n = len(codes)
            if quirks and f.role == "metric":

                def coded_quirk(ctx: _Context, _when: dt.datetime, _row: Mapping[str, Any]) -> Any:
                    code = codes[int(ctx.random() * n)]
                    return _UNDOCUMENTED_CODE if ctx.random() < quirk_rate else code

                return coded_quirk
            return lambda ctx, _when, _row: codes[int(ctx.random() * n)]
        if f.type.numeric and f.bounded_by:
            return self._attention_drawer(f)
        if f.type.numeric and (f.unit == "count" or f.unit in ("tenths_of_second", "millisecond")):
            return self._audience_drawer(f)
        # Everything else is the kind's own drawer; nested rows are composed here.
        return f.type.drawer(f, quirks=quirks) or self._nested_drawer(f)

    def _audience_drawer(self, f: Field) -> _Drawer:
        """Counts and cumulated times of aggregates follow :func:`audience`."""
        low, width = f.low, f.high - f.low
        amount, quirks = f.type.amount, self.quirks

        def draw(ctx: _Context, when: dt.datetime, _row: Mapping[str, Any]) -> Any:
            query = ctx.query
            # One event's own duration (a viewer's dwell) does not depend on the hour.
            scale = 1.0 if query.finest else audience(when, query.time_resolution) * ctx.weight
            return amount(f, low + ctx.random() * width * scale, quirks=quirks)

        return draw

    def _attention_drawer(self, f: Field) -> _Drawer:
        """Attention never exceeds the dwell drawn just before it, in the same unit."""
        partners = f.bounded_by
        fallback = self._audience_drawer(f)
        amount = f.type.amount

        def draw(ctx: _Context, when: dt.datetime, row: Mapping[str, Any]) -> Any:
            dwell = next((row[p] for p in partners if row.get(p) is not None), None)
            if not isinstance(dwell, (int, float)):
                return fallback(ctx, when, row)
            share = ctx.random()
            most = min(dwell, f.high)
            return amount(f, most * share, quirks=False)

        return draw

    def _dim_drawer(self, f: Field) -> _Drawer:
        # In finest exports a repeating key is a property of each event; in
        # aggregated ones it is fixed per row and this drawer is not used.
        if f.labels is not None:
            codes = tuple(sorted(f.labels))
            return lambda ctx, _when, _row: codes[int(ctx.random() * len(codes))]

        def pooled(ctx: _Context, _when: dt.datetime, _row: Mapping[str, Any]) -> Any:
            pool = ctx.generator._pool(ctx.query, f, ctx.source)
            return pool[int(ctx.random() * len(pool))]

        return pooled

    def _nested_drawer(self, f: Field) -> _Drawer:
        subs = [
            (
                sub.name_at(LEGACY_DATE) if self.legacy else sub.name,
                # Ids inside lists (content ids, zone ids) come from the source's pool,
                # so they repeat and can be filtered on.
                self._dim_drawer(sub) if sub.pooled else self._drawer(sub),
                sub.nullable,
            )
            for sub in f.fields
            if self.legacy or not sub.dropped
        ]
        null_rate = self.null_rate

        def nested(ctx: _Context, when: dt.datetime, _row: Mapping[str, Any]) -> Any:
            r = ctx.random
            elements = []
            for _ in range(1 + int(r() * 3)):
                element: dict[str, Any] = {}
                for name, draw, nullable in subs:
                    value = draw(ctx, when, element)
                    element[name] = None if nullable and r() < null_rate else value
                elements.append(element)
            return elements

        return nested

    def _filter_contents(
        self, plan: _Plan, row: dict[str, Any], wanted: set[str]
    ) -> dict[str, Any] | None:
        for what, f, name in plan.slots:
            if what == "dim" and f.filtered_by == CONTENT_IDS:
                return row if row[name] in wanted else None
            subs = [sub.name for sub in f.fields if sub.filtered_by == CONTENT_IDS]
            if subs:
                kept = [el for el in row[name] if el.get(subs[0]) in wanted]
                if not kept:
                    # Only viewers with content data are exported.
                    return None
                row[name] = kept
        return row


# -- module-level helpers ------------------------------------------------------------------


def _source_kind(spec: ExportSpec) -> str:
    """What an export's sources are: ``location``, ``site`` or ``none`` (extrapolated)."""
    filters = {f.filtered_by for f in spec.fields}
    if LOCATIONS in filters:
        return "location"
    return "site" if SITES in filters else "none"


def _query_and_generator(
    data_type: str | ExportSpec,
    time_resolution: str,
    kwargs: dict[str, Any],
) -> tuple[FakeQuery, DataGenerator]:
    settings = {
        name: kwargs.pop(name)
        for name in (
            "seed",
            "legacy",
            "quirks",
            "quirk_rate",
            "placeholder_rate",
            "null_rate",
            "events_per_hour",
        )
        if name in kwargs
    }
    return FakeQuery.build(data_type, time_resolution, **kwargs), DataGenerator(**settings)


def generate_rows(
    data_type: str | ExportSpec,
    time_resolution: str,
    *,
    start: str | dt.datetime,
    end: str | dt.datetime,
    **options: Any,
) -> list[dict[str, Any]]:
    """The ``data`` rows the fake serves for one export, without any HTTP.

    Parameters
    ----------
    data_type
        The API's ``data_type`` (or an :class:`~vidiframe.ExportSpec`).
    time_resolution
        The ``time_resolution``.
    start, end
        The bounds (ISO strings or naive datetimes); ``end`` is inclusive.
    **options
        The other query arguments of :meth:`FakeQuery.build` (``locations``,
        ``sites``, ``location_tags``, ``site_tags``, ``group_by_demographics``,
        ``content_ids``, ``extrapolation_amount``, ``average_content_duration``)
        and the settings of :class:`DataGenerator` (``seed``, ``legacy``,
        ``quirks``, ``quirk_rate``, ``placeholder_rate``, ``null_rate``,
        ``events_per_hour``).

    Returns
    -------
    list of dict
        The rows, as decoded JSON.

    Raises
    ------
    QueryError
        For a query the API would refuse.

    Examples
    --------
    >>> rows = generate_rows("viewers", "finest", start="2025-01-01T00:00:00",
    ...                      end="2025-01-01T05:59:59", locations=[8264], seed=3)
    >>> all(row["period_start"].startswith("2025-01-01T0") for row in rows)
    True
    >>> legacy = generate_rows("viewers", "finest", start="2025-01-01T00:00:00",
    ...                        end="2025-01-01T05:59:59", locations=[8264], seed=3, legacy=True)
    >>> "dwell_time" in legacy[0], "dwell_time_in_tenths_of_sec" in legacy[0]
    (True, False)
    """
    query, generator = _query_and_generator(
        data_type, time_resolution, {"start": start, "end": end, **options}
    )
    return generator.rows(query)


def count_rows(
    data_type: str | ExportSpec,
    time_resolution: str,
    *,
    start: str | dt.datetime,
    end: str | dt.datetime,
    **options: Any,
) -> int:
    """How many rows :func:`generate_rows` gives (before any ``content_ids`` filter).

    Takes the same arguments as :func:`generate_rows`; cheap even for huge ranges.

    Examples
    --------
    >>> count_rows("viewers", "1h", start="2025-01-01T00:00:00", end="2025-12-31T23:59:59",
    ...            locations=range(1, 101), group_by_demographics=True)
    13140000
    """
    query, generator = _query_and_generator(
        data_type, time_resolution, {"start": start, "end": end, **options}
    )
    return generator.count_rows(query)


def response_body(
    data_type: str | ExportSpec,
    time_resolution: str,
    *,
    start: str | dt.datetime,
    end: str | dt.datetime,
    creation_date: str = "2025-01-01 00:00:00",
    **options: Any,
) -> bytes:
    """The compact JSON body of a finished export, exactly as the fake serves it.

    Takes the arguments of :func:`generate_rows`, plus the ``creation_date`` to
    put in the body. Parser benchmarks, dataset tests and notebooks use it to get
    realistic payloads without a server.

    Examples
    --------
    >>> import orjson
    >>> body = response_body("gate", "1h", start="2025-01-01T10:00:00",
    ...                      end="2025-01-01T12:59:59", locations=[26549])
    >>> payload = orjson.loads(body)
    >>> payload["state"], len(payload["data"]) % 3, body[:20]
    ('finished', 0, b'{"state":"finished",')
    """
    query, generator = _query_and_generator(
        data_type, time_resolution, {"start": start, "end": end, **options}
    )
    return generator.body(query, creation_date=creation_date)
