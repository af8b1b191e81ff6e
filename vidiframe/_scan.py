"""``scan_vidicenter``: a lazy online read whose filters decide what is fetched.

The scan is a Polars IO source (:mod:`vidiframe._io_plugin`). When the frame is
collected, Polars hands it the predicate of the filters above it; the scan reads
the predicate's comparisons on ``period_start`` / ``period_start_date`` and on
``location_id`` / ``site_id`` and narrows the export request before anything is
sent: the time range is intersected with the filter's, the id list restricted to
the ids the filter can keep. The whole predicate is then applied to the fetched
rows, so narrowing only ever changes what is fetched, never the result. Ids a
filter asks for that the scan's sources do not hold are reported
(:class:`~vidiframe.UnmatchedIdWarning`): no row can have them.

Narrowing is sound whatever rule the server uses to attach periods to a range:
a time bound is widened to the start (lower bound) or end (upper bound) of the
period that contains it, as the chunk planner cuts only where periods start.
``7d`` and ``30d`` exports, whose period grid the docs do not give, are not
narrowed in time. Ids are narrowed when the export is not extrapolated (it
aggregates across its sources) and the sources are plain lists: ``site_id`` when
``sites=`` is the only source; ``location_id`` when the sources are
``locations=``, ``sites=`` or both, a site standing for the locations its
topology lists (:mod:`vidiframe._scan_topology`, read only when a filter
constrains ``location_id``); the narrowed request then names locations only.
Tags may overlap and are never narrowed. Every part of a filter that does not
narrow the request is named in a debug line of the ``vidiframe`` logger, and the
scan's line of ``explain()`` says which filters narrow it and which cannot.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import numbers
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from vidiframe._errors import InvalidRequestError, SchemaError, UnmatchedIdWarning
from vidiframe._frame import PlaceholderMode
from vidiframe._io_plugin import (
    All,
    Any_,
    Between,
    Compare,
    Const,
    IsIn,
    Node,
    Opaque,
    decompose,
    register_source,
)
from vidiframe._periods import DAY_GRID_SECONDS, EPOCH, month_index, month_start
from vidiframe._query import ExportQuery, _to_ids, make_query
from vidiframe._scan_topology import SiteLocations, site_locations

if TYPE_CHECKING:
    from vidiframe._api import Ids, When
    from vidiframe._client import VidiCenterClient

__all__ = ["scan_vidicenter"]

logger = logging.getLogger("vidiframe")

_SECOND = dt.timedelta(seconds=1)
# Stand-ins for a bound the scan was not given, so that every other argument is
# validated when the scan is made; the filter must supply the real bound.
_OPEN_START = dt.datetime(1, 1, 2)
_OPEN_END = dt.datetime(9999, 12, 30, 23, 59, 59)
_TIME_COLUMNS = ("period_start", "period_start_date")
_ISO = "%Y-%m-%dT%H:%M:%S"


def scan_vidicenter(
    *,
    data_type: str,
    time_resolution: str,
    group_by_demographics: bool = False,
    placeholders: PlaceholderMode = "keep",
    strict: bool = False,
    start: When | None = None,
    end: When | None = None,
    locations: Ids | None = None,
    sites: Ids | None = None,
    location_tags: Ids | None = None,
    site_tags: Ids | None = None,
    content_ids: Iterable[str] | str | None = None,
    extrapolation_amount: int | str | None = None,
    average_content_duration: float | None = None,
    force_rebuild: bool = False,
    client: VidiCenterClient | None = None,
    progress: bool | None = None,
) -> pl.LazyFrame:
    """Scan a VidiCenter export lazily: filters narrow what is fetched.

    Takes the arguments of an online :func:`~vidiframe.read_vidicenter`, except
    that ``start`` and ``end`` may be left out when a filter bounds the time.
    Nothing is fetched until the frame is collected. Then:

    - filters on ``period_start`` / ``period_start_date`` (comparisons with a
      literal, ``is_between``, ``is_in``, combined with ``&`` and ``|``) narrow the
      exported time range;
    - filters on ``location_id`` narrow the ``locations=`` list; on a scan given
      ``sites=`` they narrow it to the sites' locations the filter keeps, read
      from the topology (``/api/v1/site/<id>/locations/``, one call per site,
      read fresh, never from the cache). Filters on ``site_id`` narrow the
      ``sites=`` list of an export keyed by site. With tags, or on an
      extrapolated export, they apply to the fetched rows and a debug line says
      why;
    - ids the filter asks for (``==``, ``is_in``) that the scan's sources do not
      hold are reported with an :class:`~vidiframe.UnmatchedIdWarning`;
    - every other filter and the projection apply to the fetched rows;
    - ``.head(n)`` on the scan fetches chunk after chunk and stops once it has
      ``n`` rows. (Polars 2.1 passes no row limit through a ``filter``: a filtered
      ``head`` fetches every chunk of the narrowed request.)

    The result equals ``read_vidicenter(...)`` with the same filter applied. When
    the filters leave nothing to fetch, the frame is empty and no request is sent.

    Parameters
    ----------
    data_type, time_resolution, group_by_demographics, placeholders, strict
        As for :func:`~vidiframe.read_vidicenter`; they fix the schema, known
        before anything is fetched.
    start, end
        The time range (``datetime``, ``date`` or ISO text, inclusive), or
        ``None`` to take that bound from a filter.
    locations, sites, location_tags, site_tags, content_ids, extrapolation_amount,
    average_content_duration, force_rebuild, client, progress
        As for an online :func:`~vidiframe.read_vidicenter`. The default client
        is built from the environment when the frame is collected.

    Returns
    -------
    polars.LazyFrame
        With the export's schema (:func:`~vidiframe.export_schema`). Fields the
        registry does not know cannot be part of a schema fixed before fetching:
        a response carrying one raises :class:`~vidiframe.SchemaError` on collect
        (``read_vidicenter`` keeps them).

    Raises
    ------
    InvalidRequestError
        When the scan is made, for any invalid argument; on collect, when neither
        the arguments nor the filter bound the time range (the message says which
        bound to add).

    Warns
    -----
    UnmatchedIdWarning
        On collect: the filter asks for ids the scan's sources do not hold, or a
        site of ``sites=`` is not in the topology (its request is then kept whole).

    Examples
    --------
    Against the fake server, in process and on a manual clock:

    >>> import datetime as dt
    >>> import polars as pl
    >>> import vidiframe as vf
    >>> from vidiframe.testing import FakeVidiCenter, ManualClock
    >>> clock = ManualClock()
    >>> with FakeVidiCenter(clock=clock, serve=False) as fake:
    ...     client = vf.VidiCenterClient("demo", "demo-token", fake.url, transport=fake.transport(),
    ...                                  clock=clock, sleep=clock.sleep, cache_dir=None)
    ...     lf = vf.scan_vidicenter(data_type="ots", time_resolution="1h", start="2025-01-01",
    ...                             end="2025-01-31", locations=[4636, 4637], client=client)
    ...     df = lf.filter(pl.col("period_start_date") == dt.date(2025, 1, 15),
    ...                    pl.col("location_id") == 4637).collect()
    ...     sent = fake.data_requests[0].params
    >>> df.height, df["location_id"].unique().to_list()
    (24, [4637])
    >>> sent["start"], sent["end"], sent["locations"]
    ('2025-01-15T00:00:00', '2025-01-15T23:59:59', '4637')

    Given ``sites=``, the scan reads the site's locations, then asks for those kept:

    >>> with FakeVidiCenter(clock=clock, serve=False) as fake:
    ...     client = vf.VidiCenterClient("demo", "demo-token", fake.url, transport=fake.transport(),
    ...                                  clock=clock, sleep=clock.sleep, cache_dir=None)
    ...     lf = vf.scan_vidicenter(data_type="ots", time_resolution="1d", start="2025-01-01",
    ...                             end="2025-01-31", sites=463, client=client)
    ...     df = lf.filter(pl.col("location_id").is_in([4630, 4631])).collect()
    ...     paths = [r.path for r in fake.requests]
    ...     sent = fake.data_requests[0].params
    >>> paths[0], sent["locations"], "sites" in sent, df.height
    ('/api/v1/site/463/locations/', '4630,4631', False, 62)
    """
    spec_query = make_query(
        data_type=data_type,
        time_resolution=time_resolution,
        start=_OPEN_START if start is None else start,
        end=_OPEN_END if end is None else end,
        locations=locations,
        sites=sites,
        location_tags=location_tags,
        site_tags=site_tags,
        content_ids=content_ids,
        extrapolation_amount=extrapolation_amount,
        average_content_duration=average_content_duration,
        group_by_demographics=group_by_demographics,
    )
    _check_options(
        force_rebuild=force_rebuild,
        strict=strict,
        placeholders=placeholders,
        progress=progress,
        client=client,
    )
    scan = _Scan(
        query=spec_query,
        open_start=start is None,
        open_end=end is None,
        fetch=_Fetcher(
            client=client,
            force_rebuild=force_rebuild,
            placeholders=placeholders,
            strict=strict,
            progress=progress,
        ),
    )
    return register_source(
        scan.source, schema=scan.schema, name="vidicenter", detail=scan.describe()
    )


def _check_options(
    *,
    force_rebuild: object,
    strict: object,
    placeholders: object,
    progress: object,
    client: object,
) -> None:
    # The same checks read_online makes, made when the scan is built rather than
    # when it is collected.
    for name, value in (("force_rebuild", force_rebuild), ("strict", strict)):
        if not isinstance(value, bool):
            raise InvalidRequestError(f"{name} must be True or False, got {value!r}")
    if placeholders not in ("keep", "drop"):
        raise InvalidRequestError(f'placeholders must be "keep" or "drop", got {placeholders!r}')
    if progress is not None and not isinstance(progress, bool):
        raise InvalidRequestError(f"progress must be True, False or None, got {progress!r}")
    if client is not None:
        from vidiframe._client import VidiCenterClient

        if not isinstance(client, VidiCenterClient):
            raise InvalidRequestError(
                f"client must be a VidiCenterClient, got {type(client).__name__}"
            )


# -- fetching ------------------------------------------------------------------------------------


class _Session:
    """The client of one collect: the scan's own, or one built from the environment.

    Built on first use, so that a scan refused before any request (no time bound)
    says so even where the environment has no credentials.
    """

    def __init__(self, client: VidiCenterClient | None) -> None:
        self._given = client
        self._own: VidiCenterClient | None = None

    @property
    def client(self) -> VidiCenterClient:
        if self._given is not None:
            return self._given
        if self._own is None:
            from vidiframe._client import VidiCenterClient

            self._own = VidiCenterClient()
        return self._own

    def site_locations(self, sites: tuple[str, ...]) -> SiteLocations:
        return site_locations(self.client, sites)

    def close(self) -> None:
        if self._own is not None:
            self._own.close()


@dataclass(frozen=True)
class _Fetcher:
    """Runs the chunks of a narrowed query, as :func:`read_online` does, and yields their frames."""

    client: VidiCenterClient | None
    force_rebuild: bool
    placeholders: str
    strict: bool
    progress: bool | None

    def session(self) -> _Session:
        return _Session(self.client)

    def frames(
        self, active: VidiCenterClient, query: ExportQuery, *, one_by_one: bool
    ) -> Iterator[pl.DataFrame]:
        """The chunks' frames in chunk order; ``one_by_one`` fetches a chunk only when asked."""
        from vidiframe._fetch import _ChunkRun, _interactive, _plan

        chunks = _plan(active, query, "scanning")

        def run(part: list[Any]) -> list[pl.DataFrame]:
            return _ChunkRun(
                active,
                query.spec,
                label=f"{query.data_type}/{query.time_resolution}",
                force_rebuild=self.force_rebuild,
                placeholders=self.placeholders,
                strict=self.strict,
                progress=_interactive() if self.progress is None else self.progress,
            ).run(part)

        if one_by_one:
            for chunk in chunks:
                yield from run([chunk])
        else:
            # Every row is wanted: the chunks run side by side, as in read_vidicenter.
            yield from run(chunks)


# -- the scan ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scan:
    query: ExportQuery
    open_start: bool
    open_end: bool
    fetch: _Fetcher

    @property
    def schema(self) -> pl.Schema:
        return self.query.spec.schema

    def describe(self) -> str:
        """One line for ``explain()``: the request, which filters narrow it, which cannot."""
        start = "?" if self.open_start else self.query.start.strftime(_ISO)
        end = "?" if self.open_end else self.query.end.strftime(_ISO)
        scope = _Scope.of(self.query)
        pushed = list(_TIME_COLUMNS) if scope.has_grid else []
        local = [] if scope.has_grid else [f"{c} ({scope.no_grid})" for c in _TIME_COLUMNS]
        if scope.id_column is not None:
            behind = scope.sites_behind
            pushed.append(
                scope.id_column
                + (f" (through the locations of sites={','.join(behind)})" if behind else "")
            )
        local += [f"{column} ({why})" for column, why in scope.local_ids.items()]
        local.append("any other column or expression")
        return (
            f"{self.query.data_type}/{self.query.time_resolution} {start}..{end} "
            f"{_sources(self.query)}; filters on {', '.join(pushed) or 'nothing'} narrow the "
            f"request; applied to the fetched rows only: {'; '.join(local)}"
        )

    def source(
        self,
        with_columns: list[str] | None,
        predicate: pl.Expr | None,
        n_rows: int | None,
        batch_size: int | None,  # noqa: ARG002 - a chunk's frame is the batch
    ) -> Iterator[pl.DataFrame]:
        session = self.fetch.session()
        try:
            query = self.plan(predicate, lookup=session.site_locations)
            if query is None or n_rows == 0:
                return
            wanted = n_rows
            frames = self.fetch.frames(session.client, query, one_by_one=n_rows is not None)
            for frame in frames:
                batch = self._conform(frame)
                if predicate is not None:
                    batch = batch.filter(predicate)
                if with_columns is not None:
                    batch = batch.select(with_columns)
                if wanted is not None:
                    batch = batch.head(wanted)
                    wanted -= batch.height
                yield batch
                if wanted == 0:
                    return
        finally:
            session.close()

    def plan(
        self,
        predicate: pl.Expr | None,
        *,
        lookup: Callable[[tuple[str, ...]], SiteLocations] | None = None,
    ) -> ExportQuery | None:
        """The request the predicate leaves to fetch, or ``None`` when it leaves nothing.

        ``lookup`` reads the locations of sites; without it a ``location_id``
        filter on a scan given ``sites=`` applies to the fetched rows only.
        """
        # First without the sites' topology: a scan refused for want of a time bound,
        # or left with nothing to fetch, sends no request at all. Knowing the sites'
        # locations can only narrow further, so what this pass finds still holds.
        scope, wanted = self._analyse(predicate, lookup=None)
        if not wanted.empty:
            span = self._span(wanted, scope)
            if span.is_empty():
                logger.debug(
                    "scan_vidicenter: the filter's time range and the scan's do not meet: "
                    "empty frame, no request"
                )
                return None
            if lookup is not None and scope.deferred:
                scope, wanted = self._analyse(predicate, lookup=lookup)
        for note in scope.notes:
            logger.debug("scan_vidicenter: %s", note)
        scope.report_unmatched()
        if wanted.empty:
            logger.debug("scan_vidicenter: the filter can keep no row: empty frame, no request")
            return None
        span = self._span(wanted, scope)
        changes: dict[str, Any] = {"start": span.start, "end": span.end}
        if wanted.ids is not None and scope.id_kind is not None:
            universe = scope.ids
            kept = tuple(i for i in universe if i in wanted.ids)
            if not kept:
                logger.debug(
                    "scan_vidicenter: the filter keeps none of %s: empty frame, no request",
                    scope.held(),
                )
                return None
            # All of the sites' locations kept: the sites= request is the same export.
            if len(kept) < len(universe) or not scope.sites_behind:
                changes[scope.id_kind] = kept
                if scope.sites_behind:
                    changes["sites"] = ()
        query = self.query.replace(**changes)
        logger.debug("scan_vidicenter: requesting %s", query.describe())
        return query

    def _analyse(
        self,
        predicate: pl.Expr | None,
        *,
        lookup: Callable[[tuple[str, ...]], SiteLocations] | None,
    ) -> tuple[_Scope, _Narrowing]:
        scope = _Scope.of(self.query, lookup=lookup)
        if predicate is None:
            return scope, _Narrowing.everything()
        return scope, _narrowing(decompose(predicate), scope)

    def _span(self, wanted: _Narrowing, scope: _Scope) -> _Span:
        """The request's time range: the scan's, intersected with the filter's."""
        span = wanted.span or _Span(None, None)
        start = _latest(None if self.open_start else self.query.start, span.start)
        end = _earliest(None if self.open_end else self.query.end, span.end)
        if start is None or end is None:
            raise self._no_bound("start" if start is None else "end", scope)
        return _Span(start, end)

    def _no_bound(self, bound: str, scope: _Scope) -> InvalidRequestError:
        message = (
            f"scan_vidicenter has no {bound} for its time range: pass {bound}= to scan_vidicenter"
        )
        if scope.has_grid:
            op = ">=" if bound == "start" else "<="
            message += f' or filter on a bound, e.g. pl.col("period_start_date") {op} date(...)'
        else:
            message += (
                f" (a {self.query.time_resolution} export cannot take its range from a filter: "
                "its period grid is not documented)"
            )
        return InvalidRequestError(message)

    def _conform(self, frame: pl.DataFrame) -> pl.DataFrame:
        names = self.schema.names()
        if frame.columns == names:
            return frame
        extra = [c for c in frame.columns if c not in self.schema]
        if extra:
            raise SchemaError(
                f"the {self.query.data_type}/{self.query.time_resolution} export has field(s) "
                f"the registry does not know ({', '.join(extra)}); a lazy scan's schema is fixed "
                "before fetching and cannot hold them: read it with vf.read_vidicenter, which "
                "keeps them as columns"
            )
        return frame.select(names)


# -- what a predicate leaves to fetch ------------------------------------------------------------


@dataclass(frozen=True)
class _Span:
    """Request times in whole seconds, both inclusive; ``None`` is unbounded."""

    start: dt.datetime | None
    end: dt.datetime | None

    def is_empty(self) -> bool:
        return self.start is not None and self.end is not None and self.start > self.end


@dataclass(frozen=True)
class _Narrowing:
    """A superset of the rows a predicate can keep: a time span times a set of ids.

    ``span`` / ``ids`` ``None`` means unconstrained; ``empty`` that no row can pass.
    """

    span: _Span | None = None
    ids: frozenset[str] | None = None
    empty: bool = False

    @classmethod
    def everything(cls) -> _Narrowing:
        return cls()

    @classmethod
    def nothing(cls) -> _Narrowing:
        return cls(empty=True)

    def both(self, other: _Narrowing) -> _Narrowing:
        """Rows that may pass both predicates (``&``)."""
        if self.empty or other.empty:
            return _Narrowing.nothing()
        span = self.span
        if other.span is not None:
            span = (
                other.span
                if span is None
                else _Span(
                    _latest(span.start, other.span.start), _earliest(span.end, other.span.end)
                )
            )
        ids = (
            self.ids
            if other.ids is None
            else other.ids
            if self.ids is None
            else self.ids & other.ids
        )
        if span is not None and span.is_empty():
            return _Narrowing.nothing()
        if ids is not None and not ids:
            return _Narrowing.nothing()
        return _Narrowing(span, ids)

    def either(self, other: _Narrowing) -> _Narrowing:
        """Rows that may pass one of the predicates (``|``): the hull of both."""
        if self.empty:
            return other
        if other.empty:
            return self
        span = None
        if self.span is not None and other.span is not None:
            starts, ends = (self.span.start, other.span.start), (self.span.end, other.span.end)
            span = _Span(
                None if None in starts else min(s for s in starts if s is not None),
                None if None in ends else max(e for e in ends if e is not None),
            )
        ids = None if self.ids is None or other.ids is None else self.ids | other.ids
        return _Narrowing(span, ids)


@dataclass
class _Scope:
    """What a predicate can narrow in one scan, and the notes on what it cannot.

    ``id_column`` narrows the ``id_kind`` list: the scan's own ids of that kind,
    with the locations of ``sites_behind`` when the column is ``location_id`` and
    the scan was given sites, read through ``lookup`` when a filter needs them.
    Without ``lookup`` such a filter is ``deferred``: it applies to the fetched
    rows, and the caller may analyse again with the topology.
    """

    resolution: str
    id_column: str | None
    id_kind: str | None
    given_ids: tuple[str, ...]
    sites_behind: tuple[str, ...]
    local_ids: dict[str, str]
    lookup: Callable[[tuple[str, ...]], SiteLocations] | None = None
    notes: list[str] = dataclasses.field(default_factory=list)
    #: Ids a filter asks for by value (``==``, ``is_in``), to report those no source holds.
    named: set[int] = dataclasses.field(default_factory=set)
    deferred: bool = False
    _topology: SiteLocations | None = None

    @classmethod
    def of(
        cls,
        query: ExportQuery,
        *,
        lookup: Callable[[tuple[str, ...]], SiteLocations] | None = None,
    ) -> _Scope:
        columns = query.spec.schema
        kinds = {kind for kind, ids in query.sources.items() if ids}
        id_column = id_kind = None
        behind: tuple[str, ...] = ()
        local: dict[str, str] = {}
        for column, kind in (("location_id", "locations"), ("site_id", "sites")):
            if column not in columns:
                continue
            if query.spec.extrapolated:
                local[column] = "an extrapolated export aggregates across its sources"
            elif kinds == {kind}:
                id_column, id_kind = column, kind
            elif column == "location_id" and kinds <= {"locations", "sites"}:
                # A site stands for its locations: the request can name them instead.
                id_column, id_kind, behind = column, kind, query.sites
            elif any(k.endswith("_tags") for k in kinds):
                local[column] = (
                    f"the scan's sources are {_sources(query)}; tags may overlap: "
                    "they are never narrowed"
                )
            else:
                local[column] = (
                    f"the scan's sources are {_sources(query)}; only a plain {kind}= list "
                    f"narrows on {column}"
                )
        return cls(
            resolution=query.time_resolution,
            id_column=id_column,
            id_kind=id_kind,
            given_ids=query.sources[id_kind] if id_kind else (),
            sites_behind=behind,
            local_ids=local,
            lookup=lookup,
        )

    @property
    def has_grid(self) -> bool:
        return self.resolution in DAY_GRID_SECONDS or self.resolution in ("finest", "1M")

    @property
    def no_grid(self) -> str:
        return f"the period grid of {self.resolution} exports is not documented"

    def local(self, what: str, why: str) -> _Narrowing:
        self.notes.append(f"{what} applies to the fetched rows only: {why}")
        return _Narrowing.everything()

    def can_narrow_ids(self) -> str | None:
        """Why the id column cannot narrow this scan after all, or ``None`` when it can."""
        if not self.sites_behind:
            return None
        if self.lookup is None:
            self.deferred = True
            return "the locations of the scan's sites are not read"
        if self._topology is None:
            self._topology = self.lookup(self.sites_behind)
            logger.debug(
                "scan_vidicenter: sites=%s hold locations %s",
                ",".join(self.sites_behind),
                ",".join(self._topology.locations) or "(none)",
            )
            if self._topology.missing:
                missing = ",".join(self._topology.missing)
                warnings.warn(
                    UnmatchedIdWarning(
                        f"scan_vidicenter: VidiCenter's topology has no site {missing} (HTTP 404 "
                        f"for its locations): the scan requests sites={','.join(self.sites_behind)}"
                        " as given, and filters on location_id apply to the fetched rows",
                        column="site_id",
                        ids=tuple(_id_value(i) for i in self._topology.missing),
                    ),
                    stacklevel=2,
                )
        if self._topology.missing:
            return f"the topology has no site {','.join(self._topology.missing)}"
        return None

    @property
    def ids(self) -> tuple[str, ...]:
        """Every id of ``id_kind`` the scan's sources hold (read the sites' locations first)."""
        if self._topology is None:
            return self.given_ids
        return _to_ids([*self.given_ids, *self._topology.locations], self.id_kind or "ids")

    def held(self) -> str:
        """The ids the scan's sources hold, for messages."""
        shown = ",".join(self.ids[:12]) + (",..." if len(self.ids) > 12 else "")
        if self.sites_behind:
            return f"{_sources_text(self.given_ids, self.sites_behind)}, holding locations {shown}"
        return f"{self.id_kind}={shown}"

    def report_unmatched(self) -> None:
        """Warn about the ids a filter asks for that no source of the scan holds."""
        if self.id_column is None or not self.named or self.deferred:
            return
        if self.sites_behind and (self._topology is None or self._topology.missing):
            return
        held = set(self.ids)
        unmatched = sorted(i for i in self.named if str(i) not in held)
        if unmatched:
            listed = ", ".join(map(str, unmatched))
            warnings.warn(
                UnmatchedIdWarning(
                    f"scan_vidicenter: the filter asks for {self.id_column} {listed}, which the "
                    f"scan's sources do not hold ({self.held()}): no row can have "
                    f"{'it' if len(unmatched) == 1 else 'them'}",
                    column=self.id_column,
                    ids=tuple(unmatched),
                ),
                stacklevel=2,
            )


def _sources(query: ExportQuery) -> str:
    return " ".join(f"{kind}={','.join(ids)}" for kind, ids in query.sources.items() if ids)


def _sources_text(locations: tuple[str, ...], sites: tuple[str, ...]) -> str:
    parts = [f"locations={','.join(locations)}"] if locations else []
    return " ".join([*parts, f"sites={','.join(sites)}"])


def _id_value(text: str) -> object:
    return int(text) if text.isdigit() else text


def _narrowing(node: Node, scope: _Scope) -> _Narrowing:
    if isinstance(node, All):
        result = _Narrowing.everything()
        for part in node.parts:
            result = result.both(_narrowing(part, scope))
        return result
    if isinstance(node, Any_):
        result = _Narrowing.nothing()
        for part in node.parts:
            result = result.either(_narrowing(part, scope))
        return result
    if isinstance(node, Const):
        return _Narrowing.everything() if node.value else _Narrowing.nothing()
    if isinstance(node, Opaque):
        return scope.local(
            node.text,
            "not a comparison of period_start, period_start_date, location_id or site_id "
            "with a literal",
        )
    if isinstance(node, Between):
        low_op = ">=" if node.closed[0] else ">"
        high_op = "<=" if node.closed[1] else "<"
        return _narrowing(
            All(
                (
                    Compare(node.column, low_op, node.low),  # type: ignore[arg-type]
                    Compare(node.column, high_op, node.high),  # type: ignore[arg-type]
                )
            ),
            scope,
        )
    column = node.column
    if column in _TIME_COLUMNS:
        return _time_narrowing(node, scope)
    if column == scope.id_column:
        return _id_narrowing(node, scope)
    if column in scope.local_ids:
        return scope.local(f"the filter on {column}", scope.local_ids[column])
    return scope.local(
        f"the filter on {column}",
        "only period_start, period_start_date, location_id and site_id narrow a request",
    )


def _time_narrowing(node: Compare | IsIn, scope: _Scope) -> _Narrowing:
    what = f"the filter on {node.column}"
    if not scope.has_grid:
        return scope.local(what, scope.no_grid)
    if isinstance(node, IsIn):
        if None in node.values and node.nulls_equal:
            return scope.local(what, "it keeps null values")
        result = _Narrowing.nothing()
        for value in node.values:
            if value is not None:
                result = result.either(_time_narrowing(Compare(node.column, "==", value), scope))
        return result
    bounds = _period_start_bounds(node.column, node.op, node.value)
    if bounds is None:
        if node.op == "!=":
            return scope.local(what, "!= does not narrow a range")
        return scope.local(what, f"cannot compare it with {node.value!r}")
    low, high, high_strict = bounds
    return _Narrowing(
        span=_Span(
            None if low is None else _period_floor(low, scope.resolution),
            None if high is None else _period_end(high, high_strict, scope.resolution),
        )
    )


def _period_start_bounds(
    column: str, op: str, value: object
) -> tuple[dt.datetime | None, dt.datetime | None, bool] | None:
    """``(low, high, high_strict)`` on ``period_start`` for one comparison; ``None`` if unknown."""
    if op not in ("==", "<", "<=", ">", ">="):
        return None
    if column == "period_start":
        if isinstance(value, dt.datetime):
            if value.tzinfo is not None:
                return None
            moment = value
        elif isinstance(value, dt.date):
            moment = dt.datetime.combine(value, dt.time())  # as Polars casts a date
        else:
            return None
        # A strict lower bound is kept inclusive: a superset is always sound.
        low = moment if op in ("==", ">", ">=") else None
        high = moment if op in ("==", "<", "<=") else None
        return low, high, op == "<"
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        return None
    try:
        day = dt.datetime.combine(value, dt.time())
        next_day = day + dt.timedelta(days=1)
    except OverflowError:
        return None
    # period_start_date is period_start's day: a day bound is a bound on period_start.
    return {
        "==": (day, next_day, True),
        ">=": (day, None, False),
        ">": (next_day, None, False),
        "<=": (None, next_day, True),
        "<": (None, day, True),
    }[op]


def _id_narrowing(node: Compare | IsIn, scope: _Scope) -> _Narrowing:
    keep: Callable[[int], bool]
    what = f"the filter on {node.column}"
    if isinstance(node, IsIn):
        if None in node.values and node.nulls_equal:
            return scope.local(what, "it keeps null values")
        wanted = {v for v in node.values if _is_number(v)}
        if len(wanted) != sum(v is not None for v in node.values):
            return scope.local(what, "its values are not all numbers")
        asked = wanted

        def keep(i: int) -> bool:
            return i in wanted
    else:
        value = node.value
        if not _is_number(value):
            return scope.local(what, f"{value!r} is not a number")
        compare = _COMPARE[node.op]
        asked = {value} if node.op == "==" else set()

        def keep(i: int) -> bool:
            return compare(i, value)

    why = scope.can_narrow_ids()
    if why is not None:
        return scope.local(what, why)
    scope.named.update(int(v) for v in asked if float(v).is_integer())

    # Ids that are not numbers stay: the filter cannot be evaluated on them here.
    return _Narrowing(ids=frozenset(i for i in scope.ids if not i.isdigit() or keep(int(i))))


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


# -- the period grid -----------------------------------------------------------------------------


def _period_floor(moment: dt.datetime, resolution: str) -> dt.datetime:
    """The start of the period that contains ``moment``."""
    if resolution == "finest":
        return moment.replace(microsecond=0)
    if resolution == "1M":
        return month_start(month_index(moment))
    step = DAY_GRID_SECONDS[resolution]
    seconds = (moment - EPOCH) // _SECOND  # floor, also before 1970
    return EPOCH + dt.timedelta(seconds=seconds - seconds % step)


def _period_end(moment: dt.datetime, strict: bool, resolution: str) -> dt.datetime | None:
    """The last second a request must cover to hold every period starting before ``moment``.

    Before or at ``moment`` unless ``strict``. ``None`` (unbounded) past the calendar.
    """
    start = _period_floor(moment, resolution)
    try:
        if strict and start == moment:
            return moment - _SECOND
        if resolution == "finest":
            following = start + _SECOND
        elif resolution == "1M":
            following = month_start(month_index(start) + 1)
        else:
            following = start + dt.timedelta(seconds=DAY_GRID_SECONDS[resolution])
    except (OverflowError, ValueError):
        return None
    return following - _SECOND


def _latest(a: dt.datetime | None, b: dt.datetime | None) -> dt.datetime | None:
    return b if a is None else a if b is None else max(a, b)


def _earliest(a: dt.datetime | None, b: dt.datetime | None) -> dt.datetime | None:
    return b if a is None else a if b is None else min(a, b)
