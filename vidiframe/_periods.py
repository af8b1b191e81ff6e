"""The time grid of the API's periods, shared by the chunk planner and the fake server.

Aggregated exports count periods on a fixed grid of seconds since 1970-01-01 in
local time (``5m`` to ``1d``), or on calendar months (``1M``). The chunk planner
cuts requests where periods start; the fake server generates one row per period.
Both read the grid here, so they cannot disagree about where a period starts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from types import MappingProxyType

__all__ = [
    "DAY_GRID_SECONDS",
    "EPOCH",
    "epoch_seconds",
    "from_epoch_seconds",
    "month_index",
    "month_start",
]

#: The grid's origin: the API's times are local and naive.
EPOCH = dt.datetime(1970, 1, 1)

#: Resolutions whose periods divide the day, and their length in seconds.
DAY_GRID_SECONDS: Mapping[str, int] = MappingProxyType(
    {"5m": 300, "10m": 600, "15m": 900, "30m": 1800, "1h": 3600, "1d": 86400}
)


def epoch_seconds(moment: dt.datetime) -> int:
    """Whole seconds from :data:`EPOCH` to ``moment``.

    Examples
    --------
    >>> epoch_seconds(dt.datetime(1970, 1, 2))
    86400
    """
    return int((moment - EPOCH).total_seconds())


def from_epoch_seconds(seconds: int) -> dt.datetime:
    """The moment ``seconds`` after :data:`EPOCH` (inverse of :func:`epoch_seconds`)."""
    return EPOCH + dt.timedelta(seconds=seconds)


def month_index(moment: dt.datetime) -> int:
    """Months since year 0: consecutive months have consecutive indices.

    Examples
    --------
    >>> month_index(dt.datetime(2025, 2, 1)) - month_index(dt.datetime(2024, 12, 31))
    2
    """
    return moment.year * 12 + moment.month - 1


def month_start(index: int) -> dt.datetime:
    """The first moment of the month :func:`month_index` numbers ``index``."""
    return dt.datetime(index // 12, index % 12 + 1, 1)
