"""Joining dimensions to export frames: names for ids, UTC for local time.

The functions here back ``with_names``, ``with_clip_names`` and ``with_utc`` of
``df.vidi`` and ``lf.vidi``. Each takes the facts as a :class:`polars.LazyFrame`
and returns one (the eager methods collect it: one implementation). Each is a
left join that keeps the frame's rows, in their order and number: an id the
dimension lacks keeps a null name and is reported with
:class:`~vidiframe.UnmatchedIdWarning` (naming the ids) when the plan is
collected, never dropped (see :mod:`vidiframe._dimension_join`). A dimension
may be a DataFrame or a LazyFrame; it is collected once, here. One that lists
one id twice with different values is refused (:class:`~vidiframe.SchemaError`):
it would duplicate rows or pick a name at random.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import polars as pl

from vidiframe._dimension_join import (
    SNAPSHOT_DATE,
    TEMPORARY,
    Lookup,
    join_lookup,
    lookup,
)
from vidiframe._dimension_registry import MAX_UTC_OFFSET
from vidiframe._errors import DatasetError, InvalidRequestError, SchemaError

__all__ = ["with_clip_names", "with_names", "with_utc"]

_SHOWN = 10
Dimension = pl.DataFrame | pl.LazyFrame


def _dimension(
    frame: object, columns: Sequence[str], what: str, hint: str, *, as_of: str | None = None
) -> pl.DataFrame:
    """``frame`` collected, with ``columns`` (and ``snapshot_date`` as of a date)."""
    if isinstance(frame, pl.LazyFrame):
        try:
            frame = frame.collect()
        except (pl.exceptions.PolarsError, OSError) as exc:
            # A scan of files gone, a storage that fails: the dimension cannot be read.
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DatasetError(f"{what} (a LazyFrame) could not be collected: {first}") from None
    if not isinstance(frame, pl.DataFrame):
        raise InvalidRequestError(
            f"{what} must be a polars DataFrame or LazyFrame (from {hint}), "
            f"not {type(frame).__name__}"
        )
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"{what} has no {', '.join(map(repr, missing))} column; is it from {hint}?",
            column=missing[0],
        )
    if as_of is not None and SNAPSHOT_DATE not in frame.columns:
        raise SchemaError(
            f"{what} has no {SNAPSHOT_DATE!r} column: as_of={as_of!r} joins each row to the "
            f"snapshot of its day, so pass every snapshot (vf.scan_dimension_snapshots(root, "
            f"name) without as_of)",
            column=SNAPSHOT_DATE,
        )
    if as_of is not None and frame.schema[SNAPSHOT_DATE] != pl.Date:
        raise SchemaError(
            f"{SNAPSHOT_DATE!r} in {what} is {frame.schema[SNAPSHOT_DATE]}, not a Date",
            column=SNAPSHOT_DATE,
            value=str(frame.schema[SNAPSHOT_DATE]),
        )
    return frame


def _as_of(schema: pl.Schema, as_of: object) -> pl.Expr | None:
    """The facts' date to join snapshots as of, from the column ``as_of`` names."""
    if as_of is None:
        return None
    if not isinstance(as_of, str):
        raise InvalidRequestError(
            f"as_of names a date column of the frame (e.g. 'period_start_date'), "
            f"not {type(as_of).__name__}"
        )
    if as_of not in schema:
        raise SchemaError(f"the frame has no {as_of!r} column to join as of", column=as_of)
    dtype = schema[as_of]
    if dtype == pl.Date:
        return pl.col(as_of)
    if isinstance(dtype, pl.Datetime):
        return pl.col(as_of).dt.date()
    raise SchemaError(
        f"as_of column {as_of!r} is {dtype}, not a Date or Datetime", column=as_of, value=str(dtype)
    )


def _no_clash(schema: pl.Schema, added: Sequence[str]) -> None:
    clash = [c for c in (*added, *TEMPORARY) if c in schema]
    if clash:
        raise InvalidRequestError(
            f"the frame already has {', '.join(map(repr, clash))}; drop or rename "
            "before joining names again (nothing is overwritten silently)"
        )


def _same_types(schema: pl.Schema, look: Lookup, left_on: Sequence[str], what: str) -> None:
    """Refuse keys of different types: Polars would raise its own error at collect."""
    for left, key in zip(left_on, look.keys, strict=True):
        mine, theirs = schema[left], look.key_type(key)
        if mine != theirs:
            raise SchemaError(
                f"the frame's {left!r} is {mine} but {key!r} in {what} is {theirs}; cast one "
                "to the other's type before joining",
                column=left,
                value=str(mine),
            )


def _join(
    lf: pl.LazyFrame,
    look: Lookup,
    left_on: Sequence[str],
    *,
    what: str,
    nulls: str,
    report: str | None = None,
    column: str | None = None,
    as_of: pl.Expr | None = None,
) -> pl.LazyFrame:
    """``look`` joined to ``lf`` (as of the date ``as_of``, for snapshots)."""
    schema = lf.collect_schema()
    _same_types(schema, look, left_on, what)
    _no_clash(schema, look.added)
    return join_lookup(
        lf,
        look,
        left_on,
        report=report or left_on[-1],
        column=column,
        what=what,
        nulls=nulls,
        as_of=as_of,
    )


def with_names(
    lf: pl.LazyFrame,
    *,
    locations: Dimension | None = None,
    sites: Dimension | None = None,
    networks: Dimension | None = None,
    as_of: str | None = None,
) -> pl.LazyFrame:
    """Add ``location_label``, ``site_label``, ``network_label`` and the site's venue type.

    See :meth:`vidiframe._namespace.VidiFrame.with_names`.
    """
    if locations is None and sites is None and networks is None:
        raise InvalidRequestError("with_names needs at least one of locations=, sites=, networks=")
    schema = lf.collect_schema()
    date = _as_of(schema, as_of)
    site_key: str | None = "site_id" if "site_id" in schema else None
    network_key: str | None = "network_id" if "network_id" in schema else None
    dated = date is not None
    out = lf

    if locations is not None:
        loc = _dimension(
            locations, ["location_id", "label"], "locations", "vf.read_locations", as_of=as_of
        )
        if "location_id" not in schema:
            raise SchemaError(
                "the frame has no 'location_id' column to look locations up by",
                column="location_id",
            )
        columns = {"label": "location_label"}
        if site_key is None and "site_id" in loc.columns:
            columns["site_id"] = "site_id"
            site_key = "site_id"
        look = lookup(loc, ["location_id"], columns, "locations", as_of=dated)
        out = _join(
            out,
            look,
            ["location_id"],
            what="locations",
            nulls="location_label",
            as_of=date,
        )

    if sites is not None:
        site = _dimension(
            sites, ["site_id", "label", "network_id"], "sites", "vf.read_sites", as_of=as_of
        )
        if site_key is None:
            raise InvalidRequestError(
                "the frame has no 'site_id' column: pass locations= too, so each row's site "
                "is known from its location"
            )
        columns = {"label": "site_label"}
        columns.update({c: c for c in ("venue_type", "venue_subtype") if c in site.columns})
        if network_key is None:
            columns["network_id"] = "network_id"
            network_key = "network_id"
        look = lookup(site, ["site_id"], columns, "sites", as_of=dated)
        out = _join(
            out,
            look,
            [site_key],
            column="site_id",
            what="sites",
            nulls="site_label",
            as_of=date,
        )

    if networks is not None:
        net = _dimension(
            networks, ["network_id", "label"], "networks", "vf.read_networks", as_of=as_of
        )
        if network_key is None:
            raise InvalidRequestError(
                "the frame has no 'network_id' column: pass sites= too (and locations= if the "
                "frame has no site_id), so each row's network is known"
            )
        look = lookup(net, ["network_id"], {"label": "network_label"}, "networks", as_of=dated)
        out = _join(
            out,
            look,
            [network_key],
            column="network_id",
            what="networks",
            nulls="network_label",
            as_of=date,
        )
    return out


def _refuse_ambiguous(missing: pl.Series, *, ambiguous: pl.Series) -> None:
    """Raise when a row's clip id names different clips in different networks."""
    used = missing.filter(missing.is_in(ambiguous.implode())).unique().sort()
    if used.len():
        ids = used.head(_SHOWN).to_list()
        raise InvalidRequestError(
            f"content_id {', '.join(map(repr, ids))} name different clips in different "
            "networks; pass locations= and sites= (or add network_id) so each row's "
            "network is known"
        )


def _across_networks(
    lf: pl.LazyFrame,
    schema: pl.Schema,
    clip: pl.DataFrame,
    columns: dict[str, str],
    as_of: pl.Expr | None,
) -> pl.LazyFrame:
    """Clip names by ``content_id`` alone, for rows whose networks are unknown.

    A clip id is unique within a network only: an id that names different clips
    in different networks cannot be named so. Only the ids the rows use matter,
    which the plan knows when it runs: those ids are left out of the table, and
    the report refuses them. As of a date, an id is left out when it names
    different clips in different networks on any snapshot day (each network's
    clip as the join by network would take it: carried to the later days that
    lack it), so that no row is named after another network's clip.
    """
    day = [SNAPSHOT_DATE] if as_of is not None else []
    rows = clip
    if as_of is not None:
        by_network = lookup(
            clip, ["network_id", "content_id"], {c: c for c in columns}, "clips", as_of=True
        )
        rows = by_network.carried()
    per_content = rows.select("content_id", *day, *columns).unique()
    ambiguous = per_content.filter(pl.struct("content_id", *day).is_duplicated())["content_id"]
    look = lookup(
        per_content.filter(~pl.col("content_id").is_in(ambiguous.unique().implode())),
        ["content_id"],
        columns,
        "clips",
        as_of=as_of is not None,
    )
    _same_types(schema, look, ["content_id"], "clips")
    _no_clash(schema, look.added)
    return join_lookup(
        lf,
        look,
        ["content_id"],
        report="content_id",
        what="clips",
        nulls="content_name",
        as_of=as_of,
        refuse=partial(_refuse_ambiguous, ambiguous=ambiguous),
    )


def with_clip_names(
    lf: pl.LazyFrame,
    clips: Dimension,
    *,
    locations: Dimension | None = None,
    sites: Dimension | None = None,
    as_of: str | None = None,
) -> pl.LazyFrame:
    """Add ``content_name`` and ``advertiser_name`` from the clip metadata.

    See :meth:`vidiframe._namespace.VidiFrame.with_clip_names`.
    """
    schema = lf.collect_schema()
    date = _as_of(schema, as_of)
    dated = date is not None
    clip = _dimension(
        clips, ["content_id", "network_id", "name"], "clips", "vf.read_clip_metadata", as_of=as_of
    )
    if "content_id" not in schema:
        raise SchemaError(
            "the frame has no 'content_id' column (for viewers_apc, explode_contents first)",
            column="content_id",
        )
    columns = {"name": "content_name"}
    if "advertiser_name" in clip.columns:
        columns["advertiser_name"] = "advertiser_name"
    network = "network_id" if "network_id" in schema else None
    out = lf
    helper: list[str] = []
    if network is None:
        if locations is None or sites is None:
            return _across_networks(lf, schema, clip, columns, date)
        # Match each clip in the row's network, found through its location and site
        # (as of the row's day, with snapshots: a site may move to another network).
        loc = _dimension(
            locations, ["location_id", "site_id"], "locations", "vf.read_locations", as_of=as_of
        )
        site = _dimension(sites, ["site_id", "network_id"], "sites", "vf.read_sites", as_of=as_of)
        if "location_id" not in schema:
            raise SchemaError(
                "the frame has no 'location_id' (nor 'network_id') column to find each "
                "row's network by",
                column="location_id",
            )
        _no_clash(schema, ["_vf_site", "_vf_network"])
        out = _join(
            out,
            lookup(loc, ["location_id"], {"site_id": "_vf_site"}, "locations", as_of=dated),
            ["location_id"],
            what="locations",
            nulls="content_name",
            as_of=date,
        )
        out = _join(
            out,
            lookup(site, ["site_id"], {"network_id": "_vf_network"}, "sites", as_of=dated),
            ["_vf_site"],
            column="site_id",
            what="sites",
            nulls="content_name",
            as_of=date,
        )
        network, helper = "_vf_network", ["_vf_site", "_vf_network"]
    look = lookup(clip, ["network_id", "content_id"], columns, "clips", as_of=dated)
    # Rows whose network is unknown were reported with their location or site above.
    out = _join(
        out,
        look,
        [network, "content_id"],
        report="content_id",
        what="clips (for the row's network)",
        nulls="content_name",
        as_of=date,
    )
    return out.drop(helper)


def with_utc(lf: pl.LazyFrame, locations: Dimension, *, as_of: str | None = None) -> pl.LazyFrame:
    """Add ``utc_offset`` and ``period_start_utc`` from each location's ``last_timezone``.

    See :meth:`vidiframe._namespace.VidiFrame.with_utc`.
    """
    loc = _dimension(
        locations, ["location_id", "last_timezone"], "locations", "vf.read_locations", as_of=as_of
    )
    schema = lf.collect_schema()
    for column in ("location_id", "period_start"):
        if column not in schema:
            raise SchemaError(
                f"the frame has no {column!r} column; is it an export frame?", column=column
            )
    start = schema["period_start"]
    if not isinstance(start, pl.Datetime) or start.time_zone is not None:
        raise SchemaError(
            "period_start must be the export's naive local time (Datetime without a zone), "
            f"not {start}",
            column="period_start",
        )
    date = _as_of(schema, as_of)
    _no_clash(schema, ["utc_offset", "period_start_utc"])
    tz = loc.get_column("last_timezone")
    # A frame built by hand (or an old snapshot) may hold what no reader accepts: past
    # a day it is no offset, and past 2**63 microseconds the Duration wraps in silence.
    if tz.dtype == pl.Null:  # no offset known (all null): every row is reported below
        loc = loc.with_columns(pl.col("last_timezone").cast(pl.Int64))
        tz = loc.get_column("last_timezone")
    if not tz.dtype.is_numeric():
        raise SchemaError(
            f"locations: last_timezone is {tz.dtype}, not an offset from UTC in seconds; "
            "is it from vf.read_locations?",
            column="last_timezone",
            value=str(tz.dtype),
        )
    outside = ~tz.is_between(-MAX_UTC_OFFSET, MAX_UTC_OFFSET).fill_null(True)
    if outside.any():
        row = int(outside.arg_true()[0])
        raise SchemaError(
            f"locations: last_timezone {tz[row]} of location_id "
            f"{loc.get_column('location_id')[row]} is no offset from UTC in seconds (at most "
            f"a day, {MAX_UTC_OFFSET}); period_start_utc cannot be computed from it",
            column="last_timezone",
            value=tz[row],
            row=row,
        )
    look = lookup(
        loc.filter(pl.col("last_timezone").is_not_null()),
        ["location_id"],
        {"last_timezone": "_vf_tz"},
        "locations",
        as_of=date is not None,
    )
    out = _join(
        lf,
        look,
        ["location_id"],
        what="locations with a last_timezone",
        nulls="period_start_utc",
        as_of=date,
    )
    offset = pl.duration(seconds=pl.col("_vf_tz"), time_unit="us")
    return out.with_columns(
        offset.alias("utc_offset"),
        (pl.col("period_start") - offset).dt.replace_time_zone("UTC").alias("period_start_utc"),
    ).drop("_vf_tz")
