"""Clocks for the fake VidiCenter: the real one, and one that tests move by hand.

The fake server reads time only through a *clock*, a callable returning seconds
since the Unix epoch. With :class:`ManualClock`, a client that is given the same
clock's :meth:`~ManualClock.sleep` runs the whole export protocol (start, poll,
back off, download) deterministically and in zero wall time: each of its sleeps
moves the server's time forward instead of waiting.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable

__all__ = ["DEFAULT_START", "Clock", "ManualClock", "system_clock"]

#: A clock: a callable returning the current time in seconds since the Unix epoch.
Clock = Callable[[], float]

#: Where a :class:`ManualClock` starts by default: 2025-01-01 00:00:00 UTC, so the
#: ``creation_date`` of the fake's exports looks like a real one.
DEFAULT_START: float = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc).timestamp()


def system_clock() -> float:
    """The real time, in seconds since the Unix epoch (:func:`time.time`).

    Examples
    --------
    >>> system_clock() > DEFAULT_START
    True
    """
    return time.time()


class ManualClock:
    """A clock that only moves when told to; ``sleep`` moves it instead of waiting.

    Calling the clock returns the current time. Hand the same object's
    :meth:`sleep` to the code under test (a client's ``sleep=`` argument): its
    back-off waits then advance the server's time, and a test runs in no wall
    time at all, with no race. The clock is thread-safe, so concurrent chunk
    downloads may share it (their sleeps add up).

    Parameters
    ----------
    start
        The initial time in seconds since the Unix epoch (default
        :data:`DEFAULT_START`, 2025-01-01 00:00:00 UTC).

    Attributes
    ----------
    sleeps
        Every duration passed to :meth:`sleep`, in order: tests read the client's
        back-off schedule from it.

    Examples
    --------
    >>> clock = ManualClock(start=100.0)
    >>> clock()
    100.0
    >>> clock.sleep(2.5)
    >>> clock(), clock.sleeps
    (102.5, [2.5])
    >>> clock.advance(10)
    >>> clock.now
    112.5
    """

    def __init__(self, start: float = DEFAULT_START) -> None:
        self._now = float(start)
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        """The current time, in seconds."""
        with self._lock:
            return self._now

    @property
    def now(self) -> float:
        """The current time, in seconds (same as calling the clock)."""
        return self()

    def time(self) -> float:
        """The current time, in seconds: a drop-in for :func:`time.time`."""
        return self()

    def monotonic(self) -> float:
        """The current time, in seconds: a drop-in for :func:`time.monotonic`."""
        return self()

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` without recording a sleep.

        Raises
        ------
        ValueError
            If ``seconds`` is negative: time never goes back.
        """
        if seconds < 0:
            raise ValueError(f"a clock cannot go back in time (advance by {seconds})")
        with self._lock:
            self._now += seconds

    def sleep(self, seconds: float) -> None:
        """Pretend to sleep: move the clock forward by ``seconds`` and record it.

        Raises
        ------
        ValueError
            If ``seconds`` is negative, as :func:`time.sleep` does.
        """
        if seconds < 0:
            raise ValueError(f"sleep length must be non-negative, not {seconds}")
        with self._lock:
            self._now += seconds
            self.sleeps.append(seconds)

    def __repr__(self) -> str:
        return f"ManualClock(now={self():.3f})"
