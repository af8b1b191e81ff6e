"""Joining dimensions to export frames: names for ids, UTC for local time.

The functions here back ``df.vidi.with_names``, ``df.vidi.with_clip_names`` and
``df.vidi.with_utc``. Each is a left join that keeps the frame's rows, in their
order and number: an id the dimension lacks keeps a null name and is reported
with :class:`~vidiframe.UnmatchedIdWarning` (naming the ids), never dropped. A
dimension that lists one id twice with different values is refused
(:class:`~vidiframe.SchemaError`): it would duplicate rows or pick a name at
random.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import polars as pl

from vidiframe._errors import InvalidRequestError, SchemaError, UnmatchedIdWarning

__all__ = ["with_clip_names", "with_names", "with_utc"]

_SHOWN = 10


def _require(frame: object, columns: Sequence[str], what: str, hint: str) -> pl.DataFrame:
    if not isinstance(frame, pl.DataFrame):
        raise InvalidRequestError(
            f"{what} must be a polars DataFrame (from {hint}), not {type(frame).__name__}"
        )
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise SchemaError(
            f"{what} has no {', '.join(map(repr, missing))} column; is it from {hint}?",
            column=missing[0],
        )
    return frame


def _no_clash(df: pl.DataFrame, added: Sequence[str]) -> None:
    clash = [c for c in added if c in df.columns]
    if clash:
        raise InvalidRequestError(
            f"the frame already has {', '.join(map(repr, clash))}; drop or rename "
            "before joining names again (nothing is overwritten silently)"
        )


def _lookup(frame: pl.DataFrame, key: str, columns: dict[str, str], what: str) -> pl.DataFrame:
    """``frame``'s ``key`` and ``columns`` (renamed), one row per key; conflicts refused."""
    table = frame.select(key, *(pl.col(src).alias(dst) for src, dst in columns.items()))
    table = table.filter(pl.col(key).is_not_null()).unique(maintain_order=True)
    duplicated = table.filter(pl.col(key).is_duplicated())
    if duplicated.height:
        ids = duplicated.get_column(key).unique().sort().head(_SHOWN).to_list()
        raise SchemaError(
            f"{what} lists {key} {', '.join(map(str, ids))} more than once with different "
            "values; keep one row per id (e.g. one snapshot) before joining",
            column=key,
            value=ids[0],
        )
    return table


def _report(ids: pl.Series, known: pl.Series, column: str, what: str, nulls: str) -> None:
    present = ids.drop_nulls().unique()
    _warn_missing(present.filter(~present.is_in(known.implode())), column, what, nulls)


def _warn_missing(missing: pl.Series, column: str, what: str, nulls: str) -> None:
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
            stacklevel=4,
        )


def _left(df: pl.DataFrame, table: pl.DataFrame, left_on: str | pl.Expr, key: str) -> pl.DataFrame:
    joined = df.join(table, left_on=left_on, right_on=key, how="left", maintain_order="left")
    # The join may keep the right key under its own name when the left side is an
    # expression; the frame only gains the looked-up columns.
    return joined.drop(key) if key in joined.columns and key not in df.columns else joined


def with_names(
    df: pl.DataFrame,
    *,
    locations: pl.DataFrame | None = None,
    sites: pl.DataFrame | None = None,
    networks: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Add ``location_label``, ``site_label``, ``network_label`` and the site's venue type.

    See :meth:`vidiframe._namespace.VidiFrame.with_names`.
    """
    if locations is None and sites is None and networks is None:
        raise InvalidRequestError("with_names needs at least one of locations=, sites=, networks=")
    out = df
    site_key: str | None = "site_id" if "site_id" in df.columns else None
    network_key: str | None = "network_id" if "network_id" in df.columns else None
    added: list[str] = []

    if locations is not None:
        loc = _require(locations, ["location_id", "label"], "locations", "vf.read_locations")
        if "location_id" not in df.columns:
            raise SchemaError(
                "the frame has no 'location_id' column to look locations up by",
                column="location_id",
            )
        columns = {"label": "location_label"}
        if site_key is None and "site_id" in loc.columns:
            columns["site_id"] = "site_id"
            site_key = "site_id"
        _no_clash(df, list(columns.values()))
        table = _lookup(loc, "location_id", columns, "locations")
        _report(
            df.get_column("location_id"),
            table.get_column("location_id"),
            "location_id",
            "locations",
            "location_label",
        )
        out = _left(out, table, "location_id", "location_id")
        added += list(columns.values())

    if sites is not None:
        site = _require(sites, ["site_id", "label", "network_id"], "sites", "vf.read_sites")
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
        _no_clash(out, list(columns.values()))
        table = _lookup(site, "site_id", columns, "sites")
        _report(
            out.get_column(site_key), table.get_column("site_id"), "site_id", "sites", "site_label"
        )
        out = _left(out, table, site_key, "site_id")
        added += list(columns.values())

    if networks is not None:
        net = _require(networks, ["network_id", "label"], "networks", "vf.read_networks")
        if network_key is None:
            raise InvalidRequestError(
                "the frame has no 'network_id' column: pass sites= too (and locations= if the "
                "frame has no site_id), so each row's network is known"
            )
        _no_clash(out, ["network_label"])
        table = _lookup(net, "network_id", {"label": "network_label"}, "networks")
        _report(
            out.get_column(network_key),
            table.get_column("network_id"),
            "network_id",
            "networks",
            "network_label",
        )
        out = _left(out, table, network_key, "network_id")
    return out


def with_clip_names(
    df: pl.DataFrame,
    clips: pl.DataFrame,
    *,
    locations: pl.DataFrame | None = None,
    sites: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Add ``content_name`` and ``advertiser_name`` from the clip metadata.

    See :meth:`vidiframe._namespace.VidiFrame.with_clip_names`.
    """
    clip = _require(clips, ["content_id", "network_id", "name"], "clips", "vf.read_clip_metadata")
    if "content_id" not in df.columns:
        raise SchemaError(
            "the frame has no 'content_id' column (for viewers_apc, explode_contents first)",
            column="content_id",
        )
    columns = {"name": "content_name"}
    if "advertiser_name" in clip.columns:
        columns["advertiser_name"] = "advertiser_name"
    _no_clash(df, list(columns.values()))
    per_content = clip.select("content_id", *columns).unique()
    # Only the clip ids the frame uses matter: another ambiguous id is no obstacle.
    ambiguous = per_content.filter(
        pl.col("content_id").is_duplicated(),
        pl.col("content_id").is_in(df.get_column("content_id").drop_nulls().implode()),
    )
    knows_network = "network_id" in df.columns or (locations is not None and sites is not None)
    if not ambiguous.height and not knows_network:
        used = pl.col("content_id").is_in(df.get_column("content_id").drop_nulls().implode())
        table = _lookup(clip.filter(used), "content_id", columns, "clips")
        _report(
            df.get_column("content_id"),
            table.get_column("content_id"),
            "content_id",
            "clips",
            "content_name",
        )
        return _left(df, table, "content_id", "content_id")
    # A clip id is unique within a network only: match it in the row's network.
    out = df
    network = "network_id" if "network_id" in df.columns else None
    helper: list[str] = []
    if network is None:
        if not knows_network or locations is None or sites is None:
            ids = ambiguous.get_column("content_id").unique().sort().head(_SHOWN).to_list()
            raise InvalidRequestError(
                f"content_id {', '.join(map(repr, ids))} name different clips in different "
                "networks; pass locations= and sites= (or add network_id) so each row's "
                "network is known"
            )
        loc = _require(locations, ["location_id", "site_id"], "locations", "vf.read_locations")
        site = _require(sites, ["site_id", "network_id"], "sites", "vf.read_sites")
        path = _lookup(loc, "location_id", {"site_id": "_vf_site"}, "locations").join(
            _lookup(site, "site_id", {"network_id": "_vf_network"}, "sites"),
            left_on="_vf_site",
            right_on="site_id",
            how="left",
        )
        _report(
            df.get_column("location_id"),
            path.get_column("location_id"),
            "location_id",
            "locations",
            "content_name",
        )
        out = _left(out, path.select("location_id", "_vf_network"), "location_id", "location_id")
        network, helper = "_vf_network", ["_vf_network"]
    table = clip.select(
        "network_id", "content_id", *(pl.col(s).alias(d) for s, d in columns.items())
    )
    table = table.unique(maintain_order=True)
    if table.select(pl.struct("network_id", "content_id").is_duplicated().any()).item():
        raise SchemaError(
            "clips lists one (network_id, content_id) more than once with different names",
            column="content_id",
        )
    out = out.join(
        table,
        left_on=[network, "content_id"],
        right_on=["network_id", "content_id"],
        how="left",
        maintain_order="left",
    )
    # Rows whose network is unknown were reported with their location above.
    unmatched = out.filter(
        pl.col("content_id").is_not_null()
        & pl.col(network).is_not_null()
        & ~pl.struct(network, "content_id").is_in(
            table.select(pl.struct(pl.col("network_id").alias(network), "content_id"))
            .to_series()
            .implode()
        )
    )
    _warn_missing(
        unmatched.get_column("content_id"),
        "content_id",
        "clips (for the row's network)",
        "content_name",
    )
    return out.drop(helper)


def with_utc(df: pl.DataFrame, locations: pl.DataFrame) -> pl.DataFrame:
    """Add ``utc_offset`` and ``period_start_utc`` from each location's ``last_timezone``.

    See :meth:`vidiframe._namespace.VidiFrame.with_utc`.
    """
    loc = _require(locations, ["location_id", "last_timezone"], "locations", "vf.read_locations")
    for column in ("location_id", "period_start"):
        if column not in df.columns:
            raise SchemaError(
                f"the frame has no {column!r} column; is it an export frame?", column=column
            )
    start = df.schema["period_start"]
    if not isinstance(start, pl.Datetime) or start.time_zone is not None:
        raise SchemaError(
            "period_start must be the export's naive local time (Datetime without a zone), "
            f"not {start}",
            column="period_start",
        )
    _no_clash(df, ["utc_offset", "period_start_utc"])
    table = _lookup(
        loc.filter(pl.col("last_timezone").is_not_null()),
        "location_id",
        {"last_timezone": "_vf_tz"},
        "locations",
    )
    _report(
        df.get_column("location_id"),
        table.get_column("location_id"),
        "location_id",
        "locations with a last_timezone",
        "period_start_utc",
    )
    out = _left(df, table, "location_id", "location_id")
    offset = pl.duration(seconds=pl.col("_vf_tz"), time_unit="us")
    return out.with_columns(
        offset.alias("utc_offset"),
        (pl.col("period_start") - offset).dt.replace_time_zone("UTC").alias("period_start_utc"),
    ).drop("_vf_tz")
