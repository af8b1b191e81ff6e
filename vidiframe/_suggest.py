"""Suggestions for a value outside a closed set: the "did you mean" of error messages."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["choices_hint"]


def choices_hint(value: object, choices: Iterable[str]) -> str:
    """A message tail naming the closest choice, or all of them when none is close.

    Examples
    --------
    >>> choices_hint("2h", ["finest", "1h", "1d"])
    "did you mean '1h'? (one of 'finest', '1h', '1d')"
    >>> choices_hint("week", ["day", "month", "year"])
    "one of 'day', 'month', 'year'"
    """
    options = list(choices)
    listed = ", ".join(repr(c) for c in options)
    close = difflib.get_close_matches(str(value), options, n=1, cutoff=0.5)
    if close:
        return f"did you mean {close[0]!r}? (one of {listed})"
    return f"one of {listed}"
