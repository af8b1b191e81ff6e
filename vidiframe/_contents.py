"""``explode_contents``: the long table of APC viewers x contents."""

from __future__ import annotations

import polars as pl

from vidiframe._errors import SchemaError
from vidiframe._frame import _require_frame, to_seconds
from vidiframe._registry import get_export

__all__ = ["explode_contents"]


def explode_contents(df: pl.DataFrame) -> pl.DataFrame:
    """One row per viewer x content played, from a ``viewers_apc`` frame.

    The ``contents`` list becomes the content's own columns (``content_id``,
    ``campaign_id``, ``dwell_time_in_milliseconds``, ...) with their seconds
    columns (``content_dwell_time_s``, ``content_attention_time_s``,
    ``happy_time_s``, ...); the viewer's columns repeat on each of its contents. A
    viewer without contents keeps one row, with null content columns, so no viewer
    is lost.

    Parameters
    ----------
    df
        A frame read with ``data_type="viewers_apc"``.

    Returns
    -------
    polars.DataFrame

    Raises
    ------
    InvalidRequestError
        When ``df`` is not a polars.DataFrame.
    SchemaError
        When ``df`` has no ``contents`` column.

    Examples
    --------
    >>> import vidiframe as vf
    >>> body = {"state": "finished", "data": [{"location_id": 1, "start_time": "2018-01-14T09:29:10",
    ...     "contents": [{"content_id": "a", "dwell_time_in_milliseconds": 928},
    ...                  {"content_id": "b", "dwell_time_in_milliseconds": 15}]}]}
    >>> apc = vf.read_vidicenter(body, data_type="viewers_apc", time_resolution="finest")
    >>> vf.explode_contents(apc).select("content_id", "content_dwell_time_s").rows()
    [('a', 0.928), ('b', 0.015)]
    """
    df = _require_frame(df, "explode_contents")
    if "contents" not in df.columns:
        raise SchemaError(
            "explode_contents needs a viewers_apc frame with a 'contents' column", column="contents"
        )
    contents = get_export("viewers_apc", "finest").by_name["contents"]
    # Polars 2 drops empty lists by default: a viewer without contents must stay.
    long = df.explode("contents", empty_as_null=True).unnest("contents")
    seconds = [
        to_seconds(long[sub.name], sub) for sub in contents.fields if sub.seconds_column is not None
    ]
    return long.with_columns(seconds)
