"""``read_vidicenter``: the one call that gives a typed frame, offline or online."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import polars as pl

from vidiframe._errors import InvalidRequestError
from vidiframe._frame import PlaceholderMode
from vidiframe._json import Source, read_source
from vidiframe._reader import parse_response
from vidiframe._registry import get_export

if TYPE_CHECKING:
    from vidiframe._client import VidiCenterClient

__all__ = ["read_vidicenter"]

Ids = Iterable[int | str] | int | str
When = dt.datetime | dt.date | str


def read_vidicenter(
    source: Source | None = None,
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
) -> pl.DataFrame:
    """Read a VidiCenter data export into a typed Polars frame.

    With a ``source``, reads a saved response; without one, fetches the export
    from VidiCenter (running the asynchronous export protocol, in chunks that stay
    under the server's limits).

    Parameters
    ----------
    source
        A saved response: a path, the body as ``bytes`` or a ``str`` of JSON, a
        decoded ``dict``, or a binary file object. ``None`` to fetch online.
    data_type
        The export type (``viewers``, ``ots``, ``im``, ...); chooses the schema.
        The 2021 names ``persons`` and ``vehicles_persons`` are accepted for saved
        responses.
    time_resolution
        ``finest``, ``5m``, ``10m``, ``15m``, ``30m``, ``1h``, ``1d``, ``7d``,
        ``30d`` or ``1M``; chooses the schema.
    group_by_demographics
        Aggregated viewers grouped by gender and age.
    placeholders
        ``"keep"`` (default) keeps the API's placeholder rows, flagged by
        ``is_placeholder`` with null metrics; ``"drop"`` removes them.
    strict
        Raise :class:`~vidiframe.SchemaError` on a field the registry does not
        know, instead of keeping it with an :class:`~vidiframe.UnknownFieldWarning`.
    start, end
        Online only: the time range, ``datetime`` or ISO text, both inclusive.
    locations, sites, location_tags, site_tags
        Online only: the sources, as ids (ints or strings); at least one.
    content_ids, extrapolation_amount, average_content_duration, force_rebuild
        Online only: the API's optional parameters.
    client
        Online only: the :class:`~vidiframe.VidiCenterClient`; by default one built
        from ``VIDICENTER_USERNAME`` / ``VIDICENTER_TOKEN`` / ``VIDICENTER_URL`` or
        ``~/.netrc``.
    progress
        Online only: show a progress bar over the chunks (default: in a terminal
        or notebook).

    Returns
    -------
    polars.DataFrame
        The export's fixed schema (see :func:`~vidiframe.export_schema`), then any
        field the registry does not know; rows in the server's order.

    Raises
    ------
    InvalidRequestError
        Unknown ``data_type`` / ``time_resolution`` or a combination the API does
        not offer; online arguments with a saved source.
    ResponseFormatError, ExportNotReadyError, ExportFailedError
        A response that is not a finished export.
    SchemaError
        A value that cannot take its column's type.

    Examples
    --------
    >>> import vidiframe as vf
    >>> body = '''{"state": "finished", "data": [
    ...   {"dwell_time": 12, "conversion_ratio": 11.11, "watcher_count": 1,
    ...    "attention_time": 3, "period_start": "2018-01-29 02:00:00", "location_id": 4636}]}'''
    >>> df = vf.read_vidicenter(body, data_type="viewers", time_resolution="1h")
    >>> df.select("period_start_time", "dwell_time_in_tenths_of_sec", "dwell_time_s").row(0)
    (datetime.time(2, 0), 12, 1.2)
    """
    spec = get_export(
        data_type,
        time_resolution,
        group_by_demographics=group_by_demographics,
        allow_aliases=source is not None,
    )
    if source is None:
        from vidiframe._fetch import read_online

        return read_online(
            data_type=data_type,
            time_resolution=time_resolution,
            group_by_demographics=group_by_demographics,
            placeholders=placeholders,
            strict=strict,
            start=start,
            end=end,
            locations=locations,
            sites=sites,
            location_tags=location_tags,
            site_tags=site_tags,
            content_ids=content_ids,
            extrapolation_amount=extrapolation_amount,
            average_content_duration=average_content_duration,
            force_rebuild=force_rebuild,
            client=client,
            progress=progress,
        )
    online: dict[str, Any] = {
        "start": start,
        "end": end,
        "locations": locations,
        "sites": sites,
        "location_tags": location_tags,
        "site_tags": site_tags,
        "content_ids": content_ids,
        "extrapolation_amount": extrapolation_amount,
        "average_content_duration": average_content_duration,
        "client": client,
    }
    given = [name for name, value in online.items() if value is not None]
    if force_rebuild:
        given.append("force_rebuild")
    if given:
        raise InvalidRequestError(
            f"{', '.join(given)} only apply when fetching online; "
            "they cannot be combined with a saved response (source)"
        )
    return parse_response(read_source(source), spec, placeholders=placeholders, strict=strict)
