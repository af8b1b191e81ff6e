"""The ``vidi`` namespace: vidiframe's helpers as methods of Polars frames.

Importing :mod:`vidiframe` registers ``df.vidi`` on :class:`polars.DataFrame` and
``lf.vidi`` on :class:`polars.LazyFrame`, so the helpers chain like Polars' own
methods::

    (
        vf.read_vidicenter("viewers.json", data_type="viewers", time_resolution="1h")
        .vidi.drop_placeholders()
        .vidi.labels()
        .vidi.with_durations()
    )

Every method returns a new frame (or, for :meth:`VidiFrame.durations`, the
expressions); nothing is changed in place. The eager methods delegate to the
module-level functions (:func:`~vidiframe.drop_placeholders`,
:func:`~vidiframe.explode_contents`, :func:`~vidiframe.write_partitions`, ...),
so ``df.vidi.f()`` and ``vf.f(df)`` always agree. The lazy ones build the same
result as a query plan, reading only the frame's schema (the joins of names and
time zones also collect their dimensions, which are small); for the joins, the
eager method is the lazy plan collected.

What each column is (code, label, unit) comes from the export registry, never
from a list written here.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

import polars as pl

from vidiframe._errors import InvalidRequestError, SchemaError
from vidiframe._fields import Field
from vidiframe._frame import _metric_columns, _require_columns, label_expr, to_seconds
from vidiframe._hints import choices_hint
from vidiframe._registry import get_export, iter_exports

if TYPE_CHECKING:
    import os

    import pandas as pd

__all__ = ["DURATION_SUFFIX", "VidiFrame", "VidiLazyFrame"]

#: What :meth:`VidiFrame.with_durations` appends to a column's base name
#: (``dwell_time_s`` -> ``dwell_time_td``): a "timedelta", which is what pandas
#: calls the same values. ``<base>`` alone would collide with raw fields that are
#: already in seconds (``duration``, ``content_duration``, ``presence_total``).
DURATION_SUFFIX = "_td"

Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)
TimeUnit = Literal["ms", "us", "ns"]
_TIME_UNITS = ("us", "ns", "ms")


def _coded_fields() -> Mapping[str, Field]:
    """Every coded field of the registry, by column name (one set of labels per name)."""
    out: dict[str, Field] = {}
    for spec in iter_exports():
        for f in spec.fields:
            if f.labels is not None:
                out.setdefault(f.name, f)
    return out


def _seconds_fields() -> Mapping[str, Field]:
    """Every field with a seconds column, by seconds column name, nested ones included."""
    out: dict[str, Field] = {}
    for spec in iter_exports():
        for f in spec.fields:
            for sub in (f, *f.fields):
                if sub.seconds_column is not None:
                    out.setdefault(sub.seconds_column, sub)
    return out


_CODED = _coded_fields()
_SECONDS = _seconds_fields()
_CONTENTS = get_export("viewers_apc", "finest").by_name["contents"]


class _Vidi(Generic[Frame]):
    """What the eager and the lazy namespace share.

    Everything that needs only the frame's schema, and the joins of dimensions:
    built as a lazy plan, collected for an eager frame.
    """

    def __init__(self, frame: Frame) -> None:
        self._frame: Frame = frame

    def _schema(self) -> pl.Schema:
        return self._frame.collect_schema()

    def _require(self, *columns: str) -> pl.Schema:
        schema = self._schema()
        for column in columns:
            if column not in schema:
                raise SchemaError(
                    f"the frame has no {column!r} column; is it from read_vidicenter?",
                    column=column,
                )
        return schema

    # -- placeholders ---------------------------------------------------------------------

    def _drop_placeholders(self) -> Frame:
        self._require("is_placeholder")
        return self._frame.filter(~pl.col("is_placeholder"))

    def _fill_placeholders(self, value: float, columns: Iterable[str] | None) -> Frame:
        schema = self._require("is_placeholder")
        if columns is None:
            # The same choice as vf.fill_placeholders: the numeric metrics of the export.
            columns = [
                name
                for name in _metric_columns(pl.DataFrame(schema=schema))
                if schema[name].is_numeric()
            ]
        else:
            columns = list(columns)
            _require_columns(schema, columns, "fill_placeholders")
        return self._frame.with_columns(
            pl.when(pl.col("is_placeholder"))
            .then(pl.col(c).fill_null(value))
            .otherwise(pl.col(c))
            .alias(c)
            for c in columns
        )

    # -- labels -----------------------------------------------------------------------------

    def labels(self, *columns: str) -> Frame:
        """Replace codes by their documented labels, in place of the codes.

        Each coded column (``gender``, ``age``, ``age_bracket``, vehicle ``type``
        and ``color``, ``glasses``, ``mustache``, ``beard``) becomes the
        :class:`polars.Enum` of its labels under its own name, and its
        ``<name>_label`` column is dropped: one readable column per code, ready to
        group by or plot. The labels come from the registry, so a frame whose
        ``_label`` columns were dropped gets them back. A column that already
        holds labels is left as it is, so calling this twice is harmless.

        A code the documentation does not list (the docs show ``color: 12356``)
        gets a null label: :func:`~vidiframe.read_vidicenter` already reported it
        with an :class:`~vidiframe.UnknownCodeWarning`. Keep the raw frame when
        such codes matter. To keep the codes *and* see the labels, select the
        label columns instead: ``df.select(cs.ends_with("_label"))`` with
        ``import polars.selectors as cs``.

        Parameters
        ----------
        *columns
            The coded columns to replace; by default every coded column of the
            frame.

        Returns
        -------
        polars.DataFrame or polars.LazyFrame
            The frame with the same columns, minus the ``<name>_label`` columns of
            the replaced codes.

        Raises
        ------
        SchemaError
            A named column is not in the frame or is not a coded field.

        Examples
        --------
        >>> import vidiframe as vf
        >>> body = {"state": "finished", "data": [
        ...     {"location_id": 1, "period_start": "2025-03-01 10:00:00", "gender": 2, "age": 3,
        ...      "watcher_count": 4, "dwell_time_in_tenths_of_sec": 150},
        ...     {"location_id": 1, "period_start": "2025-03-01 10:00:00", "gender": 1, "age": 4,
        ...      "watcher_count": 1, "dwell_time_in_tenths_of_sec": 31}]}
        >>> df = vf.read_vidicenter(body, data_type="viewers", time_resolution="1h",
        ...                         group_by_demographics=True)
        >>> readable = df.vidi.labels()
        >>> readable.select("gender", "age", "watcher_count").rows()
        [('female', 'adult', 4), ('male', 'senior', 1)]
        >>> readable.schema["gender"], "gender_label" in readable.columns
        (Enum(categories=['unknown', 'male', 'female']), False)
        """
        schema = self._schema()
        if columns:
            unknown = [c for c in columns if c not in _CODED]
            if unknown:
                raise SchemaError(
                    f"{unknown[0]!r} is not a coded field; coded fields are "
                    f"{', '.join(sorted(_CODED))}",
                    column=unknown[0],
                )
            missing = [c for c in columns if c not in schema]
            if missing:
                raise SchemaError(f"the frame has no {missing[0]!r} column", column=missing[0])
            chosen = list(columns)
        else:
            chosen = [c for c in schema if c in _CODED]
        # Only integer codes are replaced: an Enum column already holds labels.
        chosen = [c for c in chosen if schema[c].is_integer()]
        fields = [_CODED[c] for c in chosen]
        drop = [f"{f.name}_label" for f in fields if f"{f.name}_label" in schema]
        frame = self._frame.with_columns(label_expr(f).alias(f.name) for f in fields)
        return frame.drop(drop)

    # -- durations --------------------------------------------------------------------------

    def durations(
        self, *columns: str, suffix: str = DURATION_SUFFIX, time_unit: TimeUnit = "us"
    ) -> list[pl.Expr]:
        """Expressions of the seconds columns as :class:`polars.Duration`, on demand.

        Each seconds column ``<base>_s`` (``Float64``, in the frame since reading)
        gives ``<base><suffix>``: the same time span as a ``Duration``, which
        prints as ``1m 30s``, adds to ``period_start``, and becomes
        ``timedelta64`` in pandas. Values are rounded to the ``time_unit``; the
        API's durations are whole tenths or milliseconds, so nothing is lost at
        the default microseconds. Nulls stay null.

        Use the expressions anywhere Polars takes expressions; to add them all to
        the frame use :meth:`with_durations`.

        Parameters
        ----------
        *columns
            The seconds columns to convert (``"dwell_time_s"``, ...); by default
            every seconds column of the registry present in the frame. Any other
            numeric column of seconds may be named too.
        suffix
            Replaces the ``_s`` of the name (or is appended to a name without
            ``_s``). ``suffix="_s"`` converts the seconds columns in place.
        time_unit
            ``"us"``, ``"ns"`` or ``"ms"``.

        Returns
        -------
        list of polars.Expr

        Raises
        ------
        SchemaError
            A named column is missing or not numeric, or a new name would
            overwrite another column.
        InvalidRequestError
            ``time_unit`` is not ``"us"``, ``"ns"`` or ``"ms"``.

        Examples
        --------
        >>> import vidiframe as vf
        >>> body = {"state": "finished", "data": [{"location_id": 1,
        ...     "period_start": "2025-03-01 10:00:00", "watcher_count": 4,
        ...     "dwell_time_in_tenths_of_sec": 905, "attention_time_in_tenths_of_sec": 3}]}
        >>> df = vf.read_vidicenter(body, data_type="viewers", time_resolution="1h")
        >>> df.select("period_start", *df.vidi.durations("dwell_time_s")).row(0)
        (datetime.datetime(2025, 3, 1, 10, 0), datetime.timedelta(seconds=90, microseconds=500000))
        """
        if time_unit not in _TIME_UNITS:
            raise InvalidRequestError(
                f"time_unit={time_unit!r} is not a Polars time unit: "
                f"pass {choices_hint(time_unit, _TIME_UNITS)}"
            )
        schema = self._schema()
        if columns:
            for c in columns:
                if c not in schema:
                    raise SchemaError(f"the frame has no {c!r} column", column=c)
                if not schema[c].is_numeric():
                    raise SchemaError(
                        f"column {c!r} is {schema[c]}, not a number of seconds", column=c
                    )
            chosen = list(columns)
        else:
            chosen = [c for c in schema if c in _SECONDS and schema[c].is_numeric()]
        per_second = {"ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[time_unit]
        exprs = []
        for c in chosen:
            name = c.removesuffix("_s") + suffix
            if name != c and name in schema:
                raise SchemaError(
                    f"the duration of {c!r} would overwrite the column {name!r}; "
                    f"choose another suffix",
                    column=name,
                )
            exprs.append(
                (pl.col(c).cast(pl.Float64) * per_second)
                .round()
                .cast(pl.Int64)
                .cast(pl.Duration(time_unit))
                .alias(name)
            )
        return exprs

    def with_durations(
        self, *columns: str, suffix: str = DURATION_SUFFIX, time_unit: TimeUnit = "us"
    ) -> Frame:
        """Add a :class:`polars.Duration` column next to each seconds column.

        The frame with the expressions of :meth:`durations` added (same
        parameters): ``dwell_time_s`` gains ``dwell_time_td``, and so on.

        Examples
        --------
        >>> import vidiframe as vf
        >>> body = {"state": "finished", "data": [{"location_id": 1,
        ...     "period_start": "2025-03-01 10:00:00", "watcher_count": 4,
        ...     "dwell_time_in_tenths_of_sec": 905, "attention_time_in_tenths_of_sec": 3}]}
        >>> df = vf.read_vidicenter(body, data_type="viewers", time_resolution="1h")
        >>> out = df.vidi.with_durations()
        >>> out.select("dwell_time_td", "attention_time_td").row(0)
        (datetime.timedelta(seconds=90, microseconds=500000), datetime.timedelta(microseconds=300000))
        >>> out.select(ends=pl.col("period_start") + pl.col("dwell_time_td")).item()
        datetime.datetime(2025, 3, 1, 10, 1, 30, 500000)
        """
        return self._frame.with_columns(
            self.durations(*columns, suffix=suffix, time_unit=time_unit)
        )

    # -- dimensions: names and time zones (SPEC section 10) -------------------------------

    def _result(self, lf: pl.LazyFrame) -> Frame:
        """The eager result is the lazy one collected: one implementation.

        Collected on the in-memory engine, as Polars' own eager methods are: on
        a frame already in memory its joins take a third of the streaming
        engine's time (``benchmarks/names.py``).
        """
        if isinstance(self._frame, pl.DataFrame):
            return lf.collect(engine="in-memory")
        return lf

    def with_names(
        self,
        *,
        locations: pl.DataFrame | pl.LazyFrame | None = None,
        sites: pl.DataFrame | pl.LazyFrame | None = None,
        networks: pl.DataFrame | pl.LazyFrame | None = None,
        as_of: str | None = None,
    ) -> Frame:
        """Add the names of the frame's locations, sites and networks, in one call.

        Adds ``location_label`` (from ``locations``), ``site_label``,
        ``venue_type`` and ``venue_subtype`` (from ``sites``) and
        ``network_label`` (from ``networks``). A frame without ``site_id`` gets
        the location's ``site_id``, one without ``network_id`` the site's
        ``network_id``: labels need not be unique (the docs show two sites named
        "VidiReports"), so group by the ids and show the labels.

        Every row is kept, in order. An id the dimension lacks keeps null names
        and is reported by an :class:`~vidiframe.UnmatchedIdWarning` naming it.

        On a LazyFrame (``lf.vidi.with_names``) the result is a LazyFrame: the
        dimensions are collected once (they are small), the facts are not; the
        join is part of the plan, and the eager method is this plan collected.
        The unmatched ids are reported when the plan is collected, by a check in
        the plan on the ids of the rows it joins: filters on the frame's own
        columns and ``head`` run before it (only the ids of the rows computed
        are named), filters on the added columns after it. A query that selects
        an added column always runs the check; one that selects none of them
        shows no name and has nothing to report.

        Parameters
        ----------
        locations, sites, networks
            Frames (or LazyFrames) of :func:`~vidiframe.read_locations`,
            :func:`~vidiframe.read_sites`, :func:`~vidiframe.read_networks`, or
            their snapshots (:func:`~vidiframe.scan_dimension_snapshots`); at
            least one. ``networks`` needs the rows' ``network_id``: from the
            frame, or from ``sites`` (and ``locations``).
        as_of
            A ``Date`` (or ``Datetime``) column of the frame, e.g.
            ``"period_start_date"``: name each row as of that day. Every
            dimension given must then hold snapshots with their
            ``snapshot_date`` (:func:`~vidiframe.scan_dimension_snapshots`
            without ``as_of``); each row gets, for each id, the row of the
            latest snapshot on or before its day (an id missing from later
            snapshots keeps its last known row). A row dated before an id's
            first snapshot keeps null names and is reported; a row whose date
            is null too, counted apart (it has no date, whatever its id).

        Returns
        -------
        polars.DataFrame or polars.LazyFrame
            The frame's kind.

        Raises
        ------
        InvalidRequestError
            No dimension given; one that cannot be reached from the frame's ids;
            a column the frame already has.
        SchemaError
            A dimension without its id and label columns (or ``snapshot_date``,
            as of a date); ids of other types than the frame's; one listing an
            id twice with different values (in one snapshot, as of a date).
        DatasetError
            A LazyFrame dimension that cannot be collected.

        Examples
        --------
        >>> import vidiframe as vf
        >>> df = pl.DataFrame({"location_id": [27046, 204452, 99], "ots_count": [4, 2, 7]})
        >>> loc = vf.read_locations('''[{"id": 204452, "site_id": 8654, "label": "Main hall"},
        ...                            {"id": 27046, "site_id": 54422, "label": "Entrance"}]''')
        >>> sites = vf.read_sites('''[{"id": 8654, "network_id": 15678, "label": "VidiReports"},
        ...     {"id": 54422, "network_id": 15678, "label": "Another site",
        ...      "venue_type": "Entertainment / hospitality"}]''')
        >>> nets = vf.read_networks('[{"id": 15678, "label": "My first network"}]')
        >>> import warnings
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     named = df.vidi.with_names(locations=loc, sites=sites, networks=nets)
        >>> for row in named.select("location_id", "location_label", "site_label",
        ...                         "network_label").iter_rows():
        ...     print(row)
        (27046, 'Entrance', 'Another site', 'My first network')
        (204452, 'Main hall', 'VidiReports', 'My first network')
        (99, None, None, None)
        >>> print(caught[0].message)
        1 location_id value(s) have no row in locations: 99; their location_label stay null
        (the rows are kept)

        Lazily, nothing runs (and nothing is reported) until the plan is collected:

        >>> plan = df.lazy().vidi.with_names(locations=loc.lazy())
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     plan.select("location_label").collect()["location_label"].to_list()
        ['Entrance', 'Main hall', None]
        >>> caught[0].message.ids
        (99,)

        As of each row's day, from snapshots (here two, a renaming between them):

        >>> import datetime as dt
        >>> snapshots = pl.concat([
        ...     loc.with_columns(snapshot_date=dt.date(2025, 1, 1)),
        ...     loc.with_columns(snapshot_date=dt.date(2025, 2, 1),
        ...                      label=pl.col("label").replace("Entrance", "Main door"))])
        >>> days = pl.DataFrame({"location_id": [27046, 27046, 27046],
        ...     "period_start_date": [dt.date(2025, 1, 20), dt.date(2025, 2, 1),
        ...                           dt.date(2025, 3, 9)]})
        >>> days.vidi.with_names(locations=snapshots, as_of="period_start_date").rows()
        [(27046, datetime.date(2025, 1, 20), 'Entrance', 54422),
         (27046, datetime.date(2025, 2, 1), 'Main door', 54422),
         (27046, datetime.date(2025, 3, 9), 'Main door', 54422)]
        """
        from vidiframe._names import with_names

        return self._result(
            with_names(
                self._frame.lazy(),
                locations=locations,
                sites=sites,
                networks=networks,
                as_of=as_of,
            )
        )

    def with_clip_names(
        self,
        clips: pl.DataFrame | pl.LazyFrame,
        *,
        locations: pl.DataFrame | pl.LazyFrame | None = None,
        sites: pl.DataFrame | pl.LazyFrame | None = None,
        as_of: str | None = None,
    ) -> Frame:
        """Add ``content_name`` (and ``advertiser_name``) for the frame's ``content_id``.

        ``clips`` is :func:`~vidiframe.read_clip_metadata`'s frame (or a
        LazyFrame of it). A clip id is unique within a network only, so a clip
        is matched in each row's network when it is known: from the frame's
        ``network_id``, or through ``locations=`` and ``sites=`` (location ->
        site -> network). Without them, a ``content_id`` is matched across
        networks, which is refused (when the plan runs, for the ids its rows
        use) when ``clips`` gives it different names in different networks.
        Rows are kept, in order; ids without metadata keep a null name and are
        reported (:class:`~vidiframe.UnmatchedIdWarning`), when the plan is
        collected on a LazyFrame (as :meth:`with_names` says). For
        ``viewers_apc``, explode the contents first (:meth:`explode_contents`).

        Parameters
        ----------
        clips
            :func:`~vidiframe.read_clip_metadata`'s frame, or its snapshots
            (:func:`~vidiframe.scan_dimension_snapshots`).
        locations, sites
            :func:`~vidiframe.read_locations` and :func:`~vidiframe.read_sites`
            (or their snapshots): each row's network, for a frame without
            ``network_id``.
        as_of
            A ``Date`` (or ``Datetime``) column of the frame, e.g.
            ``"period_start_date"``: name each row's clip as of that day, as
            :meth:`with_names` does. ``clips`` (and ``locations`` and ``sites``,
            if given) must then hold snapshots with their ``snapshot_date``. A
            clip id matched across networks is refused if it names different
            clips in different networks on any snapshot day.

        Returns
        -------
        polars.DataFrame or polars.LazyFrame
            The frame's kind.

        Raises
        ------
        InvalidRequestError
            An ambiguous ``content_id`` and no way to find the rows' networks.
        SchemaError
            No ``content_id`` column; a ``clips`` without its columns.

        Examples
        --------
        >>> import vidiframe as vf
        >>> plays = pl.DataFrame({"location_id": [1, 1], "content_id": ["clip_123", "clip_9"],
        ...                       "plays": [3, 1]})
        >>> clips = vf.read_clip_metadata('''[{"network_id": 9876, "clip_id": "clip_123", "id": 3,
        ...                                   "name": "My clip name"}]''')
        >>> import warnings
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     named = plays.vidi.with_clip_names(clips)
        >>> named.select("content_id", "content_name", "plays").rows()
        [('clip_123', 'My clip name', 3), ('clip_9', None, 1)]
        >>> caught[0].category.__name__, caught[0].message.ids
        ('UnmatchedIdWarning', ('clip_9',))

        Lazily, the names are part of the plan:

        >>> plan = plays.lazy().vidi.with_clip_names(clips)
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     plan.filter(pl.col("plays") > 1).collect()["content_name"].to_list()
        ['My clip name']
        >>> caught
        []

        As of each row's day, from the clip metadata's daily snapshots:

        >>> import datetime as dt
        >>> snapshots = pl.concat([
        ...     clips.with_columns(snapshot_date=pl.lit(dt.date(2025, 1, 1))),
        ...     clips.with_columns(name=pl.lit("Renamed"),
        ...                        snapshot_date=pl.lit(dt.date(2025, 1, 2))),
        ... ])
        >>> days = plays.with_columns(content_id=pl.lit("clip_123"),
        ...     period_start_date=pl.Series([dt.date(2025, 1, 1), dt.date(2025, 1, 3)]))
        >>> days.vidi.with_clip_names(snapshots, as_of="period_start_date")["content_name"].to_list()
        ['My clip name', 'Renamed']
        """
        from vidiframe._names import with_clip_names

        return self._result(
            with_clip_names(
                self._frame.lazy(), clips, locations=locations, sites=sites, as_of=as_of
            )
        )

    def with_utc(
        self, locations: pl.DataFrame | pl.LazyFrame, *, as_of: str | None = None
    ) -> Frame:
        """Add ``period_start_utc`` from each location's ``last_timezone``, explicitly.

        Exports give ``period_start`` in each location's local time, without a
        zone. This adds ``utc_offset`` (the location's ``last_timezone`` as a
        Duration) and ``period_start_utc = period_start - utc_offset``, a
        ``Datetime("us", "UTC")``; ``period_start`` itself is not touched.

        The limits of ``last_timezone``: it is the offset of the location's
        **latest upload**, a fixed number of seconds, not a time zone. Across a
        daylight-saving change (or a location that moved), rows from before the
        change had another offset, so their UTC time is off by that difference
        (one hour, for a DST change). Use it to compare locations across zones,
        not to place events to the minute across a DST change. A location
        without ``last_timezone`` (or missing from ``locations``) gets a null
        UTC time and is reported (:class:`~vidiframe.UnmatchedIdWarning`; on a
        LazyFrame, when the plan is collected, as :meth:`with_names` says).

        With daily snapshots of the locations, ``as_of="period_start_date"``
        takes each row's offset from the snapshot of its day (the latest on or
        before it that has a ``last_timezone``): the offset of the latest upload
        *then*, closer across a DST change, yet still off for the hours between
        the change and that day's snapshot.

        Parameters
        ----------
        locations
            :func:`~vidiframe.read_locations`'s frame (or a LazyFrame of it).
        as_of
            A ``Date`` or ``Datetime`` column of the frame; ``locations`` then
            holds snapshots with their ``snapshot_date``, as for
            :meth:`with_names`.

        Returns
        -------
        polars.DataFrame or polars.LazyFrame
            The frame's kind.

        Examples
        --------
        >>> import datetime as dt
        >>> import vidiframe as vf
        >>> df = pl.DataFrame({"location_id": [320453],
        ...                    "period_start": [dt.datetime(2025, 1, 1, 10)]})
        >>> loc = vf.read_locations('[{"id": 320453, "site_id": 66531, "last_timezone": -14400}]')
        >>> utc = df.vidi.with_utc(loc)
        >>> utc.schema["period_start_utc"]
        Datetime(time_unit='us', time_zone='UTC')
        >>> utc.select("period_start", pl.col("period_start_utc").dt.to_string("%F %T %Z")).row(0)
        (datetime.datetime(2025, 1, 1, 10, 0), '2025-01-01 14:00:00 UTC')
        >>> utc["utc_offset"].item() == dt.timedelta(hours=-4)
        True
        >>> df.lazy().vidi.with_utc(loc.lazy()).collect().equals(utc)
        True
        """
        from vidiframe._names import with_utc

        return self._result(with_utc(self._frame.lazy(), locations, as_of=as_of))


def _explode_contents_lazy(lf: pl.LazyFrame) -> pl.LazyFrame:
    """:func:`~vidiframe.explode_contents` as a query plan.

    The seconds are computed by :func:`~vidiframe._frame.to_seconds` itself (on
    each batch) because a division written as a Polars expression is turned into
    a multiplication by the reciprocal, which differs from ``value / 1000`` in
    the last bit for a third of the values.
    """
    if "contents" not in lf.collect_schema():
        raise SchemaError(
            "explode_contents needs a viewers_apc frame with a 'contents' column", column="contents"
        )
    seconds = [
        pl.col(sub.name)
        .map_batches(partial(to_seconds, f=sub), return_dtype=pl.Float64, is_elementwise=True)
        .alias(sub.seconds_column)
        for sub in _CONTENTS.fields
        if sub.seconds_column is not None
    ]
    # empty_as_null: a viewer whose contents list is empty keeps its row.
    long = lf.explode("contents", empty_as_null=True).unnest("contents")
    return long.with_columns(seconds)


class VidiLazyFrame(_Vidi[pl.LazyFrame]):
    """``lf.vidi``: the helpers that need no data, as parts of a lazy query.

    A :class:`polars.LazyFrame` from :func:`~vidiframe.scan_partitions` (or
    ``df.lazy()``) gets the same ``vidi`` methods as an eager frame except those
    that write or convert data (:meth:`VidiFrame.write_partitions`,
    :meth:`VidiFrame.to_pandas`): collect first for those.

    Examples
    --------
    >>> import vidiframe as vf
    >>> body = {"state": "finished", "data": [
    ...     {"location_id": 1, "period_start": "2016-04-29 00:00:00", "ots_count": 504,
    ...      "duration": 86400.0, "watcher_count": 156},
    ...     {"location_id": 1, "period_start": "2016-04-30 00:00:00"}]}
    >>> lf = vf.read_vidicenter(body, data_type="ots", time_resolution="1d").lazy()
    >>> lf.vidi.drop_placeholders().select("period_start_date", "ots_count").collect().rows()
    [(datetime.date(2016, 4, 29), 504)]
    """

    def drop_placeholders(self) -> pl.LazyFrame:
        """Remove the placeholder rows; see :func:`~vidiframe.drop_placeholders`.

        Examples
        --------
        >>> lf = pl.LazyFrame({"ots_count": [4, None], "is_placeholder": [False, True]})
        >>> lf.vidi.drop_placeholders().collect()["ots_count"].to_list()
        [4]
        """
        return self._drop_placeholders()

    def fill_placeholders(
        self, value: float = 0, *, columns: Iterable[str] | None = None
    ) -> pl.LazyFrame:
        """Fill the metrics of placeholder rows with ``value``; see :func:`~vidiframe.fill_placeholders`.

        Examples
        --------
        >>> lf = pl.LazyFrame({"ots_count": [4, None], "is_placeholder": [False, True]})
        >>> lf.vidi.fill_placeholders(columns=["ots_count"]).collect()["ots_count"].to_list()
        [4, 0]
        """
        return self._fill_placeholders(value, columns)

    def explode_contents(self) -> pl.LazyFrame:
        """One row per viewer x content of a lazy ``viewers_apc`` frame.

        The lazy form of :func:`~vidiframe.explode_contents`: the same columns,
        the content's seconds columns computed exactly as the eager function
        does. A viewer whose ``contents`` list is empty or null keeps one row
        with null content columns.

        Examples
        --------
        >>> import vidiframe as vf
        >>> body = {"state": "finished", "data": [
        ...     {"location_id": 1, "start_time": "2018-01-14T09:29:10",
        ...      "contents": [{"content_id": "a", "dwell_time_in_milliseconds": 928}]},
        ...     {"location_id": 2, "start_time": "2018-01-14T09:31:00", "contents": []}]}
        >>> apc = vf.read_vidicenter(body, data_type="viewers_apc", time_resolution="finest")
        >>> long = apc.lazy().vidi.explode_contents()
        >>> long.select("location_id", "content_id", "content_dwell_time_s").collect().rows()
        [(1, 'a', 0.928), (2, None, None)]
        """
        return _explode_contents_lazy(self._frame)


class VidiFrame(_Vidi[pl.DataFrame]):
    """``df.vidi``: vidiframe's helpers as methods of a :class:`polars.DataFrame`.

    Registered when :mod:`vidiframe` is imported. Each method returns a new
    frame; the ones that exist as functions (:func:`~vidiframe.drop_placeholders`,
    :func:`~vidiframe.fill_placeholders`, :func:`~vidiframe.explode_contents`,
    :func:`~vidiframe.write_partitions`) call them.

    Examples
    --------
    >>> import vidiframe as vf
    >>> body = {"state": "finished", "data": [
    ...     {"location_id": 1, "period_start": "2016-04-29 00:00:00", "ots_count": 504,
    ...      "duration": 86400.0, "watcher_count": 156},
    ...     {"location_id": 1, "period_start": "2016-04-30 00:00:00"}]}
    >>> df = vf.read_vidicenter(body, data_type="ots", time_resolution="1d")
    >>> df.vidi.fill_placeholders().select("ots_count", "duration_s").rows()
    [(504, 86400.0), (0, 0.0)]
    """

    @property
    def _df(self) -> pl.DataFrame:
        return self._frame

    def drop_placeholders(self) -> pl.DataFrame:
        """Remove the placeholder rows (the API's rows for periods without data).

        Same as :func:`~vidiframe.drop_placeholders`, or reading with
        ``placeholders="drop"``.

        Returns
        -------
        polars.DataFrame

        Raises
        ------
        SchemaError
            The frame has no ``is_placeholder`` column.

        Examples
        --------
        >>> import vidiframe as vf
        >>> body = {"state": "finished", "data": [
        ...     {"location_id": 1, "period_start": "2016-04-29 00:00:00", "ots_count": 504},
        ...     {"location_id": 1, "period_start": "2016-04-30 00:00:00", "ots_count": None}]}
        >>> df = vf.read_vidicenter(body, data_type="ots", time_resolution="1d")
        >>> df.vidi.drop_placeholders()["period_start_date"].to_list()
        [datetime.date(2016, 4, 29)]
        """
        from vidiframe._frame import drop_placeholders

        return drop_placeholders(self._df)

    def fill_placeholders(
        self, value: float = 0, *, columns: Iterable[str] | None = None
    ) -> pl.DataFrame:
        """Fill the metrics of placeholder rows with ``value``, explicitly.

        Same as :func:`~vidiframe.fill_placeholders`: only placeholder rows are
        touched (a null in a row with data stays null), and the seconds columns
        of filled durations are filled alike.

        Parameters
        ----------
        value
            The value to fill in (0 by default).
        columns
            The metric columns to fill; by default every numeric metric of the
            export the frame comes from.

        Returns
        -------
        polars.DataFrame

        Examples
        --------
        >>> import vidiframe as vf
        >>> body = {"state": "finished", "data": [
        ...     {"location_id": 1, "period_start": "2016-04-29 00:00:00", "ots_count": 504,
        ...      "watcher_count": None},
        ...     {"location_id": 1, "period_start": "2016-04-30 00:00:00"}]}
        >>> df = vf.read_vidicenter(body, data_type="ots", time_resolution="1d")
        >>> df.vidi.fill_placeholders().select("ots_count", "watcher_count").rows()
        [(504, None), (0, 0)]
        """
        from vidiframe._frame import fill_placeholders

        return fill_placeholders(self._df, value, columns=columns)

    def explode_contents(self) -> pl.DataFrame:
        """One row per viewer x content played, from a ``viewers_apc`` frame.

        Same as :func:`~vidiframe.explode_contents`: the ``contents`` list
        becomes the content's columns, with their seconds columns
        (``content_dwell_time_s``, ``content_attention_time_s``, ...).

        Returns
        -------
        polars.DataFrame

        Raises
        ------
        SchemaError
            The frame has no ``contents`` column.

        Examples
        --------
        >>> import vidiframe as vf
        >>> body = {"state": "finished", "data": [{"location_id": 1,
        ...     "start_time": "2018-01-14T09:29:10", "dwell_time_in_tenths_of_sec": 12,
        ...     "contents": [{"content_id": "a", "dwell_time_in_milliseconds": 928},
        ...                  {"content_id": "b", "dwell_time_in_milliseconds": 15}]}]}
        >>> apc = vf.read_vidicenter(body, data_type="viewers_apc", time_resolution="finest")
        >>> long = apc.vidi.explode_contents()
        >>> long.select("dwell_time_s", "content_id", "content_dwell_time_s").rows()
        [(1.2, 'a', 0.928), (1.2, 'b', 0.015)]
        """
        from vidiframe._contents import explode_contents

        return explode_contents(self._df)

    def write_partitions(
        self,
        root: str | os.PathLike[str],
        *,
        partition_by: str | pl.Expr | Sequence[str | pl.Expr],
        **options: Any,
    ) -> list[Path] | list[str]:
        """Write the frame as a Hive-partitioned Parquet dataset.

        Same as :func:`~vidiframe.write_partitions`: each partition written
        replaces the stored one atomically, the others are untouched.

        Parameters
        ----------
        root
            The dataset directory.
        partition_by
            The partition columns (or expressions), e.g. ``"period_start_date"``.
        **options
            The other keyword arguments of :func:`~vidiframe.write_partitions`
            (``mode``, ``compression``, ...).

        Returns
        -------
        list of pathlib.Path
            The partition files written.

        Examples
        --------
        >>> import tempfile
        >>> import vidiframe as vf
        >>> body = {"state": "finished", "data": [
        ...     {"location_id": 1, "period_start": "2016-04-29 10:00:00", "ots_count": 504},
        ...     {"location_id": 1, "period_start": "2016-04-30 10:00:00", "ots_count": 12}]}
        >>> df = vf.read_vidicenter(body, data_type="ots", time_resolution="1h")
        >>> with tempfile.TemporaryDirectory() as lake:
        ...     files = df.vidi.write_partitions(lake, partition_by="period_start_date")
        ...     back = vf.scan_partitions(lake).collect()
        >>> [f.parent.name for f in files]
        ['period_start_date=2016-04-29', 'period_start_date=2016-04-30']
        >>> back.equals(df)
        True
        """
        from vidiframe._datasets import write_partitions

        return write_partitions(self._df, root, partition_by=partition_by, **options)

    def to_pandas(self) -> pd.DataFrame:
        """Convert to pandas keeping nulls, integers, dates, times and labels typed.

        :meth:`polars.DataFrame.to_pandas` alone turns an ``Int64`` column with a
        null into ``float64`` and a ``Date`` into ``datetime64``;
        ``use_pyarrow_extension_array=True`` keeps them but turns the label
        ``Enum`` columns into Arrow dictionaries instead of pandas
        ``Categorical``. This picks per dtype:

        | Polars             | pandas                                        |
        |--------------------|-----------------------------------------------|
        | ``Int64``          | ``Int64`` (nullable, ``pd.NA``)               |
        | ``Float64``        | ``Float64`` (nullable, ``pd.NA``)             |
        | ``Boolean``        | ``boolean`` (nullable)                        |
        | ``String``         | ``string``                                    |
        | ``Date``           | ``date32[day][pyarrow]`` (``datetime.date``)  |
        | ``Time``           | ``time64[ns][pyarrow]`` (``datetime.time``)   |
        | ``Datetime("us")`` | ``datetime64[us]``, naive like the frame      |
        | ``Duration``       | ``timedelta64``                               |
        | ``Enum``           | ``category``, ordered, every label a category |
        | ``List(Struct)``   | ``object`` (arrays of dicts: explode first)   |

        ``pl.from_pandas(pdf).cast(df.schema)`` gives the frame back.

        Returns
        -------
        pandas.DataFrame

        Examples
        --------
        >>> import vidiframe as vf
        >>> body = {"state": "finished", "data": [
        ...     {"location_id": 1, "period_start": "2025-03-01 10:00:00", "gender": 2,
        ...      "age": 3, "dwell_time_in_tenths_of_sec": 150},
        ...     {"location_id": 1, "period_start": "2025-03-01 10:05:00", "gender": 1}]}
        >>> df = vf.read_vidicenter(body, data_type="viewers", time_resolution="finest")
        >>> pdf = df.vidi.to_pandas()
        >>> pdf[["dwell_time_in_tenths_of_sec", "period_start_date", "gender_label"]].dtypes
        dwell_time_in_tenths_of_sec                   Int64
        period_start_date              date32[day][pyarrow]
        gender_label                               category
        dtype: object
        >>> pdf["dwell_time_in_tenths_of_sec"].tolist()
        [150, <NA>]
        >>> list(pdf["gender_label"].cat.categories)
        ['unknown', 'male', 'female']
        """
        import pyarrow as pa

        from vidiframe._optional import require

        pd = require("pandas", extra="pandas")

        nullable = {
            pa.int8(): pd.Int8Dtype(),
            pa.int16(): pd.Int16Dtype(),
            pa.int32(): pd.Int32Dtype(),
            pa.int64(): pd.Int64Dtype(),
            pa.uint8(): pd.UInt8Dtype(),
            pa.uint16(): pd.UInt16Dtype(),
            pa.uint32(): pd.UInt32Dtype(),
            pa.uint64(): pd.UInt64Dtype(),
            pa.float32(): pd.Float32Dtype(),
            pa.float64(): pd.Float64Dtype(),
            pa.bool_(): pd.BooleanDtype(),
            pa.string(): pd.StringDtype(),
            pa.large_string(): pd.StringDtype(),
            pa.string_view(): pd.StringDtype(),
        }

        def types_mapper(arrow_type: pa.DataType) -> Any:
            if arrow_type in nullable:
                return nullable[arrow_type]
            if pa.types.is_date(arrow_type) or pa.types.is_time(arrow_type):
                # pandas has no date or time dtype of its own: the Arrow ones keep
                # the values as dates and times (not midnight timestamps, not objects).
                return pd.ArrowDtype(arrow_type)
            # Timestamps, durations, dictionaries (-> Categorical) and lists: pandas'
            # own conversion is the right one.
            return None

        return self._df.to_pandas(types_mapper=types_mapper)


def _register(kind: str, cls: type[Any]) -> None:
    """Register ``cls`` as ``vidi`` on Polars' ``kind`` class, once.

    Importing this module again (a reload, or pytest importing it for its
    doctests) re-registers our own class without Polars' "overriding" warning;
    a ``vidi`` namespace of another library still gets it.
    """
    target = pl.DataFrame if kind == "dataframe" else pl.LazyFrame
    existing = getattr(target, "vidi", None)
    register = (
        pl.api.register_dataframe_namespace
        if kind == "dataframe"
        else pl.api.register_lazyframe_namespace
    )
    ours = isinstance(existing, type) and (
        existing.__module__,
        existing.__qualname__,
    ) == (cls.__module__, cls.__qualname__)
    if ours:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            register("vidi")(cls)
    else:
        register("vidi")(cls)


_register("dataframe", VidiFrame)
_register("lazyframe", VidiLazyFrame)
