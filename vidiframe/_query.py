"""The validated request of one export: what to ask the API, and nothing else.

:func:`make_query` turns the Python arguments of an online read into an
:class:`ExportQuery`, checking everything the API would refuse so that a bad call
fails with :class:`~vidiframe.InvalidRequestError` before any request is sent.
The query knows its query parameters (:meth:`ExportQuery.params`) and a canonical
hash of them (:meth:`ExportQuery.cache_key`); it never holds credentials.

Examples
--------
>>> q = make_query(data_type="viewers", time_resolution="1h",
...                start="2025-01-01", end="2025-01-01", locations=[4637, "4636"])
>>> q.params()["locations"], q.params()["end"]
('4636,4637', '2025-01-01T23:59:59')
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from vidiframe._errors import InvalidRequestError
from vidiframe._hints import date_problem
from vidiframe._registry import ExportSpec, get_export
from vidiframe._wire import (
    AVERAGE_CONTENT_DURATION,
    CONTENT_IDS,
    DATA_TYPE,
    END,
    EXTRAPOLATION_AMOUNT,
    FLAG_ON,
    GROUP_BY_DEMOGRAPHICS,
    LIST_SEPARATOR,
    SOURCE_PARAMETERS,
    START,
    TIME_FORMAT,
    TIME_RESOLUTION,
)

__all__ = ["SOURCE_KINDS", "ExportQuery", "make_query"]

#: The four source arguments of the API, in the order they are sent.
SOURCE_KINDS: tuple[str, ...] = SOURCE_PARAMETERS

# Bumped when the meaning of a cached response changes for the same parameters.
_CACHE_KEY_VERSION = "vidiframe-query-v1"
_ISO = TIME_FORMAT


@dataclass(frozen=True)
class ExportQuery:
    """One export request, validated.

    Build it with :func:`make_query`, which converts and normalises the arguments;
    the constructor itself re-checks the invariants, so a query changed with
    :func:`dataclasses.replace` (as the chunk planner does) stays valid.

    Parameters
    ----------
    data_type, time_resolution
        The export, as :func:`~vidiframe.get_export` accepts it.
    start, end
        Naive local datetimes, whole seconds; ``end`` is inclusive.
    locations, sites, location_tags, site_tags
        Source ids as strings, unique and sorted. At least one is non-empty.
    content_ids
        Content filter (only exports that accept it).
    extrapolation_amount
        A positive number of locations, or ``""`` for the average of the sampled
        locations (the API's "leave this empty"). Required by extrapolated exports.
    average_content_duration
        Only for ``targeted_im``.
    group_by_demographics
        Aggregated viewers grouped by gender and age.
    """

    data_type: str
    time_resolution: str
    start: dt.datetime
    end: dt.datetime
    locations: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()
    location_tags: tuple[str, ...] = ()
    site_tags: tuple[str, ...] = ()
    content_ids: tuple[str, ...] = ()
    extrapolation_amount: int | Literal[""] | None = None
    average_content_duration: float | None = None
    group_by_demographics: bool = False

    def __post_init__(self) -> None:
        spec = self.spec  # validates data_type / time_resolution / group_by_demographics
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, dt.datetime) or value.tzinfo is not None or value.microsecond:
                raise InvalidRequestError(
                    f"{name} must be a naive datetime in whole seconds, got {value!r}"
                )
        if self.start > self.end:
            raise InvalidRequestError(
                f"start ({self.start.strftime(_ISO)}) is after end ({self.end.strftime(_ISO)})"
            )
        if not any(self.sources.values()):
            raise InvalidRequestError(
                "no source ids: give at least one of locations=, sites=, location_tags=, site_tags="
            )
        if spec.extrapolated and self.extrapolation_amount is None:
            raise InvalidRequestError(
                f"data_type={self.data_type!r} needs extrapolation_amount= (a number of "
                'locations, or "" for the average of the sampled locations)'
            )
        if not spec.extrapolated and self.extrapolation_amount is not None:
            raise InvalidRequestError(
                f"extrapolation_amount only applies to extrapolated exports, not {self.data_type!r}"
            )
        if self.content_ids and not spec.accepts_content_ids:
            raise InvalidRequestError(
                f"content_ids only works with viewers_apc, proof of play and content_plays "
                f"exports, not {self.data_type!r}"
            )
        if self.average_content_duration is not None and not spec.accepts_average_content_duration:
            raise InvalidRequestError(
                f"average_content_duration only works with targeted_im, not {self.data_type!r}"
            )

    @property
    def spec(self) -> ExportSpec:
        """The export's declaration in the registry."""
        return get_export(
            self.data_type, self.time_resolution, group_by_demographics=self.group_by_demographics
        )

    @property
    def sources(self) -> Mapping[str, tuple[str, ...]]:
        """The four source id tuples by argument name (empty ones included)."""
        return {kind: getattr(self, kind) for kind in SOURCE_KINDS}

    def params(self) -> dict[str, str]:
        """The API query parameters of this export, as strings.

        Flags are only sent when true: the API treats a flag as set as soon as
        it is present, whatever its value. ``force_rebuild`` and ``status_only``
        are not part of the query; the export protocol adds them per request.

        Examples
        --------
        >>> make_query(data_type="viewers", time_resolution="1d", start="2025-01-01T00:00:00",
        ...            end="2025-01-02T23:59:59", sites=178, group_by_demographics=True).params()
        ... # doctest: +NORMALIZE_WHITESPACE
        {'data_type': 'viewers', 'time_resolution': '1d', 'start': '2025-01-01T00:00:00',
         'end': '2025-01-02T23:59:59', 'sites': '178', 'group_by_demographics': '1'}
        """
        params = {
            DATA_TYPE: self.data_type,
            TIME_RESOLUTION: self.time_resolution,
            START: self.start.strftime(_ISO),
            END: self.end.strftime(_ISO),
        }
        for kind, ids in self.sources.items():
            if ids:
                params[kind] = LIST_SEPARATOR.join(ids)
        if self.content_ids:
            params[CONTENT_IDS] = LIST_SEPARATOR.join(self.content_ids)
        if self.extrapolation_amount is not None:
            params[EXTRAPOLATION_AMOUNT] = str(self.extrapolation_amount)
        if self.average_content_duration is not None:
            params[AVERAGE_CONTENT_DURATION] = _format_number(self.average_content_duration)
        if self.group_by_demographics:
            params[GROUP_BY_DEMOGRAPHICS] = FLAG_ON
        return params

    def cache_key(self) -> str:
        """A stable hash of the parameters: equal queries give equal keys.

        Examples
        --------
        >>> a = make_query(data_type="ots", time_resolution="1h", start="2025-01-01",
        ...                end="2025-01-01", locations=[2, 1])
        >>> b = make_query(data_type="ots", time_resolution="1h", start="2025-01-01T00:00:00",
        ...                end="2025-01-01T23:59:59", locations="1,2")
        >>> a.cache_key() == b.cache_key(), len(a.cache_key())
        (True, 64)
        """
        canonical = orjson.dumps(
            {"version": _CACHE_KEY_VERSION, "params": self.params()}, option=orjson.OPT_SORT_KEYS
        )
        return hashlib.sha256(canonical).hexdigest()

    def describe(self) -> str:
        """A short human description for logs, progress bars and error messages.

        Examples
        --------
        >>> make_query(data_type="ots", time_resolution="1h", start="2025-01-01",
        ...            end="2025-01-01", locations=[1, 2]).describe()
        'ots/1h 2025-01-01T00:00:00..2025-01-01T23:59:59 locations=1,2'
        """
        sources = " ".join(f"{kind}={','.join(ids)}" for kind, ids in self.sources.items() if ids)
        return (
            f"{self.data_type}/{self.time_resolution} "
            f"{self.start.strftime(_ISO)}..{self.end.strftime(_ISO)} {sources}"
        )

    def replace(self, **changes: Any) -> ExportQuery:
        """A copy with some fields changed, validated again."""
        return dataclasses.replace(self, **changes)


def make_query(
    *,
    data_type: str,
    time_resolution: str,
    start: dt.datetime | dt.date | str | None,
    end: dt.datetime | dt.date | str | None,
    locations: Any = None,
    sites: Any = None,
    location_tags: Any = None,
    site_tags: Any = None,
    content_ids: Any = None,
    extrapolation_amount: int | str | None = None,
    average_content_duration: float | None = None,
    group_by_demographics: bool = False,
) -> ExportQuery:
    """Convert and validate the arguments of an online read.

    Parameters
    ----------
    data_type, time_resolution
        The export.
    start, end
        ``datetime``, ``date`` or ISO string (``YYYY-MM-DDTHH:MM:SS``, a space
        instead of ``T``, minutes only, or a bare date). Naive local time, like the
        API. A bare date as ``end`` means the end of that day (``23:59:59``), as
        ``end`` is inclusive.
    locations, sites, location_tags, site_tags
        Ids as ints or strings, a list of them, or a comma-separated string.
    content_ids
        Content ids, same forms.
    extrapolation_amount
        Positive int (or its string), or ``""`` for the sampled locations' average.
    average_content_duration
        Positive number, ``targeted_im`` only.
    group_by_demographics
        Aggregated viewers only.

    Returns
    -------
    ExportQuery

    Raises
    ------
    InvalidRequestError
        With a message saying which argument is wrong and why.

    Examples
    --------
    >>> make_query(data_type="viewers", time_resolution="1h", start="2025-01-02",
    ...            end="2025-01-01", locations=1)
    Traceback (most recent call last):
    ...
    vidiframe._errors.InvalidRequestError: start (2025-01-02T00:00:00) is after end ...
    """
    if not isinstance(data_type, str) or not isinstance(time_resolution, str):
        raise InvalidRequestError(
            f"data_type and time_resolution must be strings, got {data_type!r}, {time_resolution!r}"
        )
    if not isinstance(group_by_demographics, bool):
        raise InvalidRequestError(
            f"group_by_demographics must be True or False, got {group_by_demographics!r}"
        )
    # The spec is checked first so an unknown export is reported before the details.
    get_export(data_type, time_resolution, group_by_demographics=group_by_demographics)
    return ExportQuery(
        data_type=data_type,
        time_resolution=time_resolution,
        start=_to_datetime(start, "start", end_of_day=False),
        end=_to_datetime(end, "end", end_of_day=True),
        locations=_to_ids(locations, "locations"),
        sites=_to_ids(sites, "sites"),
        location_tags=_to_ids(location_tags, "location_tags"),
        site_tags=_to_ids(site_tags, "site_tags"),
        content_ids=_to_ids(content_ids, "content_ids"),
        extrapolation_amount=_to_extrapolation(extrapolation_amount),
        average_content_duration=_to_duration(average_content_duration),
        group_by_demographics=group_by_demographics,
    )


def _to_datetime(value: object, name: str, *, end_of_day: bool) -> dt.datetime:
    if value is None:
        raise InvalidRequestError(f"{name} is required to fetch an export")
    if isinstance(value, str):
        text = value.strip()
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            raise InvalidRequestError(f"{name}={value!r} {date_problem(text)}") from None
        # A bare date names a whole day: the inclusive end is its last second.
        if end_of_day and len(text) == 10:
            parsed = parsed.replace(hour=23, minute=59, second=59)
        value = parsed
    elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time(23, 59, 59) if end_of_day else dt.time())
    if not isinstance(value, dt.datetime):
        raise InvalidRequestError(
            f"{name} must be a datetime, a date or an ISO string, got {type(value).__name__}"
        )
    if value.tzinfo is not None:
        raise InvalidRequestError(
            f"{name}={value.isoformat()} has a time zone; the API works in the locations' "
            "local time: pass a naive datetime"
        )
    if value.microsecond:
        raise InvalidRequestError(
            f"{name}={value.isoformat()} has fractions of a second; the API takes whole seconds"
        )
    return value


def _to_ids(value: Any, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    items: Iterable[Any]
    if isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, numbers.Integral):
        items = [value]
    elif isinstance(value, Iterable) and not isinstance(value, (bytes, Mapping)):
        items = value
    else:
        raise InvalidRequestError(
            f"{name} must be an id, a list of ids or a comma-separated string, got {value!r}"
        )
    ids: set[str] = set()
    for item in items:
        # Integral, not int: ids often come from a NumPy array or a pandas column.
        if isinstance(item, bool) or not isinstance(item, (numbers.Integral, str)):
            raise InvalidRequestError(f"{name}: {item!r} is not an id (int or string)")
        text = str(int(item)) if isinstance(item, numbers.Integral) else item.strip()
        if isinstance(item, numbers.Integral) and item < 0:
            raise InvalidRequestError(f"{name}: {item} is not a valid id")
        if not text or "," in text or any(c.isspace() for c in text):
            raise InvalidRequestError(f"{name}: {item!r} is not a valid id")
        ids.add(text)
    # Sorted so that the same sources in another order are the same query (and cache entry).
    return tuple(sorted(ids, key=lambda s: (not s.isdigit(), int(s) if s.isdigit() else 0, s)))


def _to_extrapolation(value: object) -> int | Literal[""] | None:
    if value is None or value == "":
        return value
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidRequestError(
            f'extrapolation_amount must be a positive number of locations, or "" for the '
            f"average of the sampled locations, got {value!r}"
        )
    return value


def _to_duration(value: object) -> float | None:
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise InvalidRequestError(
            f"average_content_duration must be a positive number, got {value!r}"
        )
    return float(value)


def _format_number(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)
