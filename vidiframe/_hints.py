"""Hints for values that are refused: the close match, the usual spelling, the calendar.

Error messages append these so that a typo gets its fix, not a list to read:
:func:`did_you_mean` for any closed set of values (export types, partition
columns, configuration keys), :func:`choices_hint` when the message should also
list the set, :func:`resolution_hint` for a time resolution
written another way (``60m`` for ``1h``), :func:`date_problem` for a date that is
shaped right but does not exist (``2025-02-30``).
"""

from __future__ import annotations

import calendar
import datetime as dt
import difflib
import re
from collections.abc import Iterable

__all__ = ["choices_hint", "date_problem", "did_you_mean", "resolution_hint"]


def did_you_mean(value: object, choices: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` for the closest choice, or ``""`` when none is close.

    Examples
    --------
    >>> did_you_mean("vewers", ["ots", "viewers", "vehicles"])
    " (did you mean 'viewers'?)"
    >>> did_you_mean("zzz", ["ots", "viewers"])
    ''
    """
    if not isinstance(value, str):
        return ""
    options = list(choices)
    close = difflib.get_close_matches(value, options, n=1)
    if not close:
        # Case and separators are the usual slips: "Viewers", "proof-of-play-by-site".
        folded = {re.sub(r"[-_ ]", "", o.lower()): o for o in options}
        match = folded.get(re.sub(r"[-_ ]", "", value.lower()))
        close = [match] if match is not None else []
    return f" (did you mean {close[0]!r}?)" if close else ""


def choices_hint(value: object, choices: Iterable[str]) -> str:
    """A message tail naming the closest choice and the whole set, or the set alone.

    Examples
    --------
    >>> choices_hint("2h", ["finest", "1h", "1d"])
    "did you mean '1h'? (one of 'finest', '1h', '1d')"
    >>> choices_hint("week", ["day", "month", "year"])
    "one of 'day', 'month', 'year'"
    """
    options = list(choices)
    listed = ", ".join(repr(c) for c in options)
    # A looser cutoff than did_you_mean's: the whole set follows, so a far guess costs little.
    close = difflib.get_close_matches(str(value), options, n=1, cutoff=0.5)
    if close:
        return f"did you mean {close[0]!r}? (one of {listed})"
    return f"one of {listed}"


# The API's resolutions in seconds (``1M``, a calendar month, has none).
_RESOLUTION_SECONDS = {
    "5m": 300,
    "10m": 600,
    "15m": 900,
    "30m": 1800,
    "1h": 3600,
    "1d": 86400,
    "7d": 7 * 86400,
    "30d": 30 * 86400,
}
_UNIT_SECONDS = {
    "s": 1,
    "sec": 1,
    "m": 60,
    "min": 60,
    "mins": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hr": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "w": 7 * 86400,
    "week": 7 * 86400,
    "weeks": 7 * 86400,
}
_WORDS = {
    "raw": "finest",
    "events": "finest",
    "hourly": "1h",
    "daily": "1d",
    "weekly": "7d",
    "monthly": "1M",
    "month": "1M",
    "1mo": "1M",
    "1month": "1M",
}


def resolution_hint(value: object, known: Iterable[str]) -> str:
    """How the API writes a resolution given another way, or the closest one.

    Examples
    --------
    >>> known = ("finest", "5m", "10m", "15m", "30m", "1h", "1d", "7d", "30d", "1M")
    >>> resolution_hint("60m", known)
    " (did you mean '1h'? the API writes 60 minutes as '1h')"
    >>> resolution_hint("1w", known)
    " (did you mean '7d'? the API writes 1 week as '7d')"
    >>> resolution_hint("daily", known)
    " (did you mean '1d'?)"
    >>> resolution_hint("20m", known)
    ''
    """
    if not isinstance(value, str):
        return ""
    known = tuple(known)
    text = value.strip()
    word = _WORDS.get(text.lower())
    if word is not None and word in known:
        return f" (did you mean {word!r}?)"
    match = re.fullmatch(r"(\d+)\s*([a-zA-Z]+)", text)
    if match is not None:
        amount, unit = int(match.group(1)), match.group(2)
        if unit == "M" or unit.lower() in ("mo", "month", "months"):
            return " (did you mean '1M'? the API has one monthly resolution)" if amount else ""
        seconds = amount * _UNIT_SECONDS.get(unit.lower(), 0)
        for name, length in _RESOLUTION_SECONDS.items():
            if seconds == length and name in known:
                unit_name = {1: "second", 60: "minute", 3600: "hour", 86400: "day"}.get(
                    _UNIT_SECONDS[unit.lower()], "week"
                )
                plural = "" if amount == 1 else "s"
                return (
                    f" (did you mean {name!r}? the API writes {amount} {unit_name}{plural} "
                    f"as {name!r})"
                )
        if seconds:
            return ""  # a real duration, but not one the API offers: the list says which
    return did_you_mean(text, known)


_DATE_SHAPE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?")


def date_problem(
    text: str, *, expected: str = "an ISO date or datetime (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS)"
) -> str:
    """Why ``text`` is not ``expected``, naming calendar errors as such.

    Examples
    --------
    >>> date_problem("2025-02-30")
    'is not a day of the calendar: February 2025 has 28 days'
    >>> date_problem("2025-13-01")
    'is not a day of the calendar: there are 12 months'
    >>> date_problem("2025-03-01T25:00:00")
    'is not a time of day: hours go from 00 to 23'
    >>> date_problem("March 1st")
    'is not an ISO date or datetime (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS)'
    >>> date_problem("tomorrow", expected="a date (YYYY-MM-DD)")
    'is not a date (YYYY-MM-DD)'
    """
    match = _DATE_SHAPE.fullmatch(text.strip())
    if match is not None:
        year, month, day = (int(match.group(i)) for i in (1, 2, 3))
        if not 1 <= month <= 12:
            return "is not a day of the calendar: there are 12 months"
        days = calendar.monthrange(year, month)[1] if dt.MINYEAR <= year <= dt.MAXYEAR else 31
        if not 1 <= day <= days:
            month_name = calendar.month_name[month]
            return f"is not a day of the calendar: {month_name} {year} has {days} days"
        hour, minute, second = (int(match.group(i) or 0) for i in (4, 5, 6))
        if hour > 23:
            return "is not a time of day: hours go from 00 to 23"
        if minute > 59 or second > 59:
            return "is not a time of day: minutes and seconds go from 00 to 59"
    return f"is not {expected}"
