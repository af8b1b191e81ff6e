"""Small policy objects: how long to wait, how often to retry, how much to send.

Each policy is a plain object with its randomness and its clock injected, so the
tests drive them without sleeping and get the same numbers every run:

- :class:`Backoff`: exponential delays with multiplicative jitter.
- :class:`PollSchedule` and :class:`BuildTimeEstimator`: when to poll an export
  that is being built, learning from the exports already built in the same read.
- :class:`RetryPolicy`: how a failed request (5xx, dropped connection, 429) is
  retried, built on :mod:`tenacity`.
- :class:`CallBudget`: the server's 50 calls per minute, shared by every export of
  a client, thread-safe.
- :class:`Limits`: how many exports and connections may be open at once.
"""

from __future__ import annotations

import collections
import datetime as dt
import email.utils
import math
import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tenacity
from tenacity.stop import stop_base
from tenacity.wait import wait_base

from vidiframe._budget import FileLedgers, Ledger, Ledgers, MemoryLedgers
from vidiframe._errors import InvalidRequestError

__all__ = [
    "CALLS_PER_MINUTE",
    "MAX_CONCURRENT_EXPORTS",
    "MAX_CONNECTIONS",
    "Backoff",
    "BuildTimeEstimator",
    "CallBudget",
    "Limits",
    "PollSchedule",
    "RateLimited",
    "RetryPolicy",
    "Retryable",
    "ServerFailure",
    "Unreachable",
    "check_number",
    "parse_retry_after",
]

#: Server limits (SPEC section 4).
MAX_CONCURRENT_EXPORTS = 3
MAX_CONNECTIONS = 2
CALLS_PER_MINUTE = 50


class Backoff:
    """Exponential delays with jitter: ``min(maximum, initial * factor**attempt)`` +/- jitter.

    Parameters
    ----------
    initial, factor, maximum
        The delay of attempt 0, the growth per attempt, and the cap (seconds).
    jitter
        Relative spread: the delay is multiplied by a uniform factor in
        ``[1 - jitter, 1 + jitter]``, so clients that failed together do not come
        back together.
    rng
        Source of the jitter; pass a seeded :class:`random.Random` for repeatable delays.

    Examples
    --------
    >>> b = Backoff(initial=1.0, factor=2.0, maximum=5.0, jitter=0.0)
    >>> [b.delay(n) for n in range(5)]
    [1.0, 2.0, 4.0, 5.0, 5.0]
    >>> b = Backoff(initial=1.0, factor=2.0, maximum=5.0, jitter=0.5, rng=random.Random(0))
    >>> all(0.5 <= b.delay(0) <= 1.5 for _ in range(100))
    True
    """

    def __init__(
        self,
        initial: float = 1.0,
        factor: float = 2.0,
        maximum: float = 30.0,
        jitter: float = 0.1,
        *,
        rng: random.Random | None = None,
    ):
        check_number("initial", initial, low=0.0)
        check_number("factor", factor, low=1.0)
        check_number("maximum", maximum, low=initial)
        check_number("jitter", jitter, low=0.0, high=1.0, high_open=True)
        self.initial = initial
        self.factor = factor
        self.maximum = maximum
        self.jitter = jitter
        # A private generator: jitter must not depend on (or disturb) the global one.
        self.rng = rng if rng is not None else random.Random()  # noqa: S311 - jitter, not crypto
        self._lock = threading.Lock()

    def delay(self, attempt: int) -> float:
        """The delay before retry number ``attempt`` (0-based), in seconds."""
        # The exponent is capped so a long run of attempts cannot overflow a float.
        base = min(self.maximum, self.initial * self.factor ** min(attempt, 200))
        if not self.jitter:
            return base
        with self._lock:  # random.Random is not documented as thread-safe
            spread = self.rng.uniform(-self.jitter, self.jitter)
        return base * (1.0 + spread)

    def __repr__(self) -> str:
        return (
            f"Backoff(initial={self.initial}, factor={self.factor}, maximum={self.maximum}, "
            f"jitter={self.jitter})"
        )


# -- polling -----------------------------------------------------------------------------------


# Calls a read must have to spare before its polls bisect: a probe that comes too
# early costs one more call for each export in flight, and a margin as much again.
_SPARE_CALLS_TO_BISECT = 2 * MAX_CONCURRENT_EXPORTS


class BuildTimeEstimator:
    """What the exports of one read taught about how long a build takes.

    Chunks of one read have similar sizes, so their builds take similar times.
    Two things are shared between them:

    - each finished export says its build took more than ``pending`` seconds (its
      last poll that was not finished) and at most ``finished``; :meth:`hint` is
      the intersection of these intervals (when observations contradict each
      other, build times changed and the latest one wins), so the next exports
      poll inside it instead of rediscovering it with a backoff;
    - every "still building" answer, finished export or not: when a sibling was
      still building at a later point of its build than this export is now,
      this export need not poll yet (:meth:`covers`). Exports that start
      together then spend one poll per step between them, not one each. Once a
      sibling has finished, the hint takes over.

    Examples
    --------
    >>> est = BuildTimeEstimator()
    >>> est.hint() is None
    True
    >>> est.observe_pending(1.2)
    >>> est.covers(1.25), est.covers(2.0)
    (True, False)
    >>> est.observe(pending=2.5, finished=4.75)
    >>> est.observe(pending=0.0, finished=3.6)
    >>> est.hint(), est.covers(1.25)
    ((2.5, 3.6), False)
    >>> est.observe_pending(3.0)
    >>> est.hint()
    (3.0, 3.6)
    """

    def __init__(
        self, *, tolerance: float = 0.2, spare_calls: Callable[[], int] | None = None
    ) -> None:
        self.tolerance = tolerance
        self.spare_calls = spare_calls
        self._interval: tuple[float, float] | None = None
        self._pending = 0.0
        self._lock = threading.Lock()
        self._news = threading.Condition(self._lock)
        self._generation = 0

    def observe(self, *, pending: float, finished: float) -> None:
        """Record an export that was pending at ``pending`` s and finished by ``finished`` s."""
        if not 0 <= pending < finished:
            return
        with self._lock:
            if self._interval is None:
                self._interval = (pending, finished)
            else:
                lo, hi = max(self._interval[0], pending), min(self._interval[1], finished)
                self._interval = (lo, hi) if lo < hi else (pending, finished)
            self._generation += 1
            self._news.notify_all()

    def wait_for_news(self, timeout: float, *, seen: int) -> int:
        """Wait up to ``timeout`` s for a finished export newer than generation ``seen``.

        Returns the current generation: larger than ``seen`` when woken by news.
        Threads waiting for their next poll use it to poll at once when a sibling
        has just finished.
        """
        with self._news:
            self._news.wait_for(lambda: self._generation > seen, timeout=timeout)
            return self._generation

    @property
    def generation(self) -> int:
        """How many finished exports were observed."""
        with self._lock:
            return self._generation

    def observe_pending(self, elapsed: float) -> None:
        """Record that an export was still building ``elapsed`` s after it started."""
        with self._lock:
            self._pending = max(self._pending, elapsed)
            if self._interval is not None and self._interval[0] < elapsed < self._interval[1]:
                # Still building inside the hinted interval: builds take longer than lo.
                self._interval = (elapsed, self._interval[1])

    def hint(self) -> tuple[float, float] | None:
        """The interval ``(lo, hi]`` the next build time is expected in, or ``None``."""
        with self._lock:
            return self._interval

    def quantile(self) -> float:
        """Where the next hinted poll goes: mid-interval, or its end when calls are short.

        A poll in the middle of the interval may find the export still building and
        cost a second poll. When the read has no calls to spare (``spare_calls``:
        what the call budget has left beyond the calls its chunks still need), polls
        go to the end of the interval, where the export is known to be done.
        """
        if self.spare_calls is not None and self.spare_calls() < _SPARE_CALLS_TO_BISECT:
            return 1.0
        return 0.5

    def covers(self, elapsed: float) -> bool:
        """Whether a poll at ``elapsed`` s would only repeat what a sibling learned.

        True when a sibling was still building at (about) ``elapsed`` or later, and
        no finished sibling says builds are done by ``elapsed``.
        """
        with self._lock:
            if self._interval is not None:
                # Finished siblings already set when to poll: follow the hint.
                return False
            return self._pending >= elapsed * (1 - self.tolerance)


Hint = tuple[float, float]


@dataclass(frozen=True)
class PollSchedule:
    """When to poll an export that is being built.

    With a hint ``(lo, hi]`` (a :class:`BuildTimeEstimator`'s), polls bisect the
    part of the interval this export has not yet been seen building in, so each
    export narrows the estimate for the next ones. Without a hint, or once the
    export has outlasted the hint, polls follow the jittered ``backoff``. Delays
    count from the request that started the export.

    Parameters
    ----------
    backoff
        Delays between polls without a usable hint.
    hint
        A fixed ``(lo, hi)``, or a callable returning the current one (read at
        each poll, so exports waiting for a slot use what was learned meanwhile).
    quantile
        Where in the remaining interval the next poll goes (or a callable giving it,
        such as :meth:`BuildTimeEstimator.quantile`).
    min_interval
        The shortest wait before a hinted poll.
    end_margin
        A poll meant to find the export done (``quantile`` 1) goes this share past
        the end of the interval.

    Examples
    --------
    >>> s = PollSchedule(Backoff(initial=1.0, factor=1.5, jitter=0.0))
    >>> [round(s.delay(n, elapsed=0.0), 2) for n in range(3)]
    [1.0, 1.5, 2.25]
    >>> hinted = PollSchedule(Backoff(initial=1.0, factor=1.5, jitter=0.0), hint=(2.0, 4.0))
    >>> hinted.delay(0, elapsed=0.5), hinted.delay(1, elapsed=3.0), hinted.delay(1, elapsed=3.9)
    (2.5, 0.5, 0.25)
    >>> hinted.delay(2, elapsed=4.0)  # slower than its siblings: back to the backoff
    2.25
    """

    backoff: Backoff = field(
        default_factory=lambda: Backoff(initial=0.5, factor=1.5, maximum=30.0, jitter=0.1)
    )
    hint: Hint | Callable[[], Hint | None] | None = None
    quantile: float | Callable[[], float] = 0.5
    min_interval: float = 0.25
    end_margin: float = 0.02

    def delay(self, polls_done: int, *, elapsed: float) -> float:
        """Seconds to wait before the next poll.

        Parameters
        ----------
        polls_done
            Polls already sent (or skipped) for this export, the first request
            not counted.
        elapsed
            Seconds since the first request of this export was sent.
        """
        hint = self.hint() if callable(self.hint) else self.hint
        if hint is not None and elapsed < hint[1]:
            # This export is known to be building at ``elapsed``: bisect what is left.
            lo, hi = max(hint[0], elapsed), hint[1]
            quantile = self.quantile() if callable(self.quantile) else self.quantile
            target = lo + quantile * (hi - lo)
            if quantile >= 1:
                # Meant to be sure: a sibling's latency may have been shorter than ours.
                target = hi * (1 + self.end_margin)
            return max(target - elapsed, self.min_interval)
        return self.backoff.delay(polls_done)


# -- retries -----------------------------------------------------------------------------------


class Retryable(Exception):  # noqa: N818 - internal signal, never leaves the client
    """A request failure worth retrying; converted to a public error when retries run out."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status


class ServerFailure(Retryable):
    """A 5xx status or a dropped connection."""


class RateLimited(Retryable):
    """A 429, with the server's ``Retry-After`` in seconds when it gave one."""

    def __init__(self, message: str, *, retry_after: float | None):
        super().__init__(message, status=429)
        self.retry_after = retry_after


class Unreachable(Retryable):
    """Nobody answers at the address (connection refused or timed out, no such host)."""


class _Tally:
    """What one request's failures have cost so far, per kind (one per call of the policy)."""

    def __init__(self, policy: RetryPolicy):
        self.policy = policy
        self.failures = 0
        self.unreachable = 0
        self.throttled = 0
        self.throttled_seconds = 0.0

    def record(self, error: BaseException | None) -> float | None:
        """Count ``error``; return the wait before the next attempt, ``None`` to stop."""
        policy = self.policy
        if isinstance(error, RateLimited):
            # Waited out, within the patience: a 429 says "later", not "never".
            wait = error.retry_after
            if wait is None:
                wait = policy.backoff.delay(self.throttled)
            elif wait > policy.max_retry_after:
                return None
            self.throttled += 1
            if self.throttled_seconds + wait > policy.rate_limit_patience:
                return None
            self.throttled_seconds += wait
            return wait
        if isinstance(error, Unreachable):
            self.unreachable += 1
            if self.unreachable >= policy.unreachable_attempts:
                return None
            return min(policy.backoff.delay(self.unreachable - 1), 1.0)
        self.failures += 1
        if self.failures >= policy.max_attempts:
            return None
        return policy.backoff.delay(self.failures - 1)


class _Decision:
    """The tally's verdict on the latest failed attempt, asked by both stop and wait.

    tenacity asks the wait before the stop in recent versions and after it in
    older ones: whichever asks first counts the failure, the other reads the same
    verdict.
    """

    def __init__(self, tally: _Tally):
        self.tally = tally
        self._attempt = 0
        self._wait: float | None = None

    def __call__(self, retry_state: tenacity.RetryCallState) -> float | None:
        if retry_state.attempt_number != self._attempt:
            self._attempt = retry_state.attempt_number
            outcome = retry_state.outcome
            self._wait = self.tally.record(outcome.exception() if outcome is not None else None)
        return self._wait


class _TallyStop(stop_base):
    def __init__(self, decision: _Decision):
        self.decision = decision

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        return self.decision(retry_state) is None


class _TallyWait(wait_base):
    def __init__(self, decision: _Decision):
        self.decision = decision

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        wait = self.decision(retry_state)
        return 0.0 if wait is None else wait


@dataclass(frozen=True)
class RetryPolicy:
    """How one request is retried after a 5xx, a dropped connection or a 429.

    tenacity runs the loop (its exception filter and injectable ``sleep``); the
    stop and the wait are ours because each kind of failure has its own bound:

    - 5xx, dropped connections, read timeouts: ``max_attempts`` attempts, with
      the jittered ``backoff`` between them;
    - 429: waited out (the server's ``Retry-After``, else the backoff) for as
      long as ``rate_limit_patience`` allows in total: a neighbour process of the
      same account spent the minute, the minute will pass. A single
      ``Retry-After`` beyond ``max_retry_after`` fails at once;
    - nobody answering (connection refused or timed out, a host name that does
      not resolve):
      ``unreachable_attempts`` attempts, at most a second apart, so a wrong
      ``base_url`` fails in seconds rather than after minutes of backoff.

    Parameters
    ----------
    max_attempts
        Attempts per request after server failures, the first one included.
    backoff
        Delays between attempts when the server gives no ``Retry-After``.
    max_retry_after
        A ``Retry-After`` longer than this is not waited for: the request fails
        with :class:`~vidiframe.RateLimitError` at once.
    rate_limit_patience
        Seconds of 429s one request waits out in total before failing.
    unreachable_attempts
        Attempts when nobody answers at the address.

    Examples
    --------
    >>> policy = RetryPolicy(max_attempts=3, backoff=Backoff(jitter=0.0))
    >>> waits, calls = [], []
    >>> def flaky():
    ...     calls.append(1)
    ...     if len(calls) < 9:
    ...         raise RateLimited("429", retry_after=7.0)
    ...     return "ok"
    >>> policy.call(flaky, sleep=waits.append), waits == [7.0] * 8
    ('ok', True)
    """

    max_attempts: int = 6
    backoff: Backoff = field(
        default_factory=lambda: Backoff(initial=1.0, factor=2.0, maximum=30.0, jitter=0.5)
    )
    max_retry_after: float = 900.0
    rate_limit_patience: float = 1800.0
    unreachable_attempts: int = 2

    def __post_init__(self) -> None:
        check_number("max_attempts", self.max_attempts, low=1, integer=True)
        check_number("max_retry_after", self.max_retry_after, low=0.0)
        check_number("rate_limit_patience", self.rate_limit_patience, low=0.0)
        check_number("unreachable_attempts", self.unreachable_attempts, low=1, integer=True)
        if not isinstance(self.backoff, Backoff):
            raise InvalidRequestError(f"backoff must be a Backoff, got {self.backoff!r}")

    def retrying(
        self,
        *,
        sleep: Callable[[float], None] = time.sleep,
        before_sleep: Callable[[tenacity.RetryCallState], None] | None = None,
    ) -> tenacity.Retrying:
        """A :class:`tenacity.Retrying` that retries :class:`Retryable` failures.

        Each call gets its own tally of failures: use it for one request.
        """
        decision = _Decision(_Tally(self))
        return tenacity.Retrying(
            stop=_TallyStop(decision),
            wait=_TallyWait(decision),
            retry=tenacity.retry_if_exception_type(Retryable),
            sleep=sleep,
            before_sleep=before_sleep,
            reraise=True,
        )

    def call(
        self,
        fn: Callable[[], Any],
        *,
        sleep: Callable[[float], None] = time.sleep,
        before_sleep: Callable[[tenacity.RetryCallState], None] | None = None,
    ) -> Any:
        """Call ``fn`` until it succeeds or a bound is reached (then re-raise its error)."""
        return self.retrying(sleep=sleep, before_sleep=before_sleep)(fn)


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delay-seconds or HTTP-date).

    Parameters
    ----------
    value
        The header's value.
    now
        The current wall-clock time (seconds since the epoch), for HTTP dates.

    Returns
    -------
    float or None
        ``None`` when the header is absent or unreadable; never negative.

    Examples
    --------
    >>> parse_retry_after("12", now=0.0)
    12.0
    >>> parse_retry_after("Thu, 01 Jan 1970 00:01:00 GMT", now=30.0)
    30.0
    >>> parse_retry_after("soon", now=0.0) is None
    True
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # RFC 9110: HTTP dates are GMT
            when = when.replace(tzinfo=dt.timezone.utc)
        seconds = when.timestamp() - now
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


# -- budgets and limits --------------------------------------------------------------------------


class CallBudget:
    """A sliding-window budget of API calls.

    Shared by the threads of a client, or, with a ``state_file``, by every
    process of the user on the machine.

    :meth:`reserve` books the earliest slot at which one more call keeps at most
    ``calls`` calls in any window of ``period + margin`` seconds, and returns how
    long to wait for it. Booking instead of blocking keeps the budget free of
    sleeps, so an injected clock drives it without threads waiting on each other.
    When the server answers 429 anyway (a process that does not share the
    budget, another machine on the account), :meth:`pause` makes every holder of
    the budget wait the ``Retry-After`` out.

    Parameters
    ----------
    calls, period
        At most ``calls`` calls per ``period`` seconds (the server's 50 per minute).
    margin
        Extra seconds added to the window: latency between our clock and the
        server's can move a call into the previous minute.
    clock
        Time in seconds: monotonic for a budget in memory; wall-clock time (or one
        injected clock for all) for a shared ``state_file``.
    state_file, account
        Keep the books in this file, under ``account``'s name (see
        :mod:`vidiframe._budget`): budgets of every process that name the same
        file and account share their calls. ``None`` (the default): this budget
        only.

    Examples
    --------
    >>> now = [0.0]
    >>> budget = CallBudget(calls=2, period=60.0, margin=1.0, clock=lambda: now[0])
    >>> budget.reserve(), budget.reserve(), budget.reserve()
    (0.0, 0.0, 61.0)
    >>> now[0] = 10.0
    >>> budget.reserve()
    51.0

    Two budgets on one file share their calls, as two processes would:

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "calls.json"
    >>> a, b = (CallBudget(calls=2, clock=lambda: now[0], state_file=path) for _ in "ab")
    >>> a.reserve(), b.reserve(), a.reserve()
    (0.0, 0.0, 61.0)
    """

    def __init__(
        self,
        calls: int = CALLS_PER_MINUTE,
        period: float = 60.0,
        *,
        margin: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        state_file: str | os.PathLike[str] | None = None,
        account: str = "default",
    ):
        check_number("calls", calls, low=1, integer=True)
        check_number("period", period, low=0.0, low_open=True)
        check_number("margin", margin, low=0.0)
        if not isinstance(account, str) or not account:
            raise InvalidRequestError(f"account must be a non-empty string, got {account!r}")
        self.calls = calls
        self.window = period + margin
        self._clock = clock
        self.state_file = None if state_file is None else Path(state_file)
        self._ledgers: Ledgers = (
            MemoryLedgers()
            if state_file is None
            else FileLedgers(state_file, account=account, window=self.window, clock=clock)
        )
        #: The most recent slots this budget booked (for inspection; bounded).
        self.history: collections.deque[float] = collections.deque(maxlen=100_000)

    def reserve(self) -> float:
        """Book the next call; return the seconds to wait before sending it."""

        def book(ledger: Ledger) -> float:
            now = self._clock()
            ledger.prune(now - self.window)
            slots = ledger.slots
            slot = max(now, ledger.paused_until, slots[-1] if slots else now)
            if len(slots) >= self.calls:
                slot = max(slot, slots[-self.calls] + self.window)
            slots.append(slot)
            self.history.append(slot)
            return slot - now

        return self._ledgers.update(book)

    def pause(self, seconds: float) -> None:
        """Book no call for ``seconds`` from now (the server said ``Retry-After``)."""

        def hold(ledger: Ledger) -> None:
            ledger.paused_until = max(ledger.paused_until, self._clock() + seconds)

        self._ledgers.update(hold)

    def headroom(self) -> int:
        """Calls that can be sent now without waiting."""
        return self.calls - self.used()

    def used(self) -> int:
        """Calls booked in the window that ends now (including booked future slots)."""

        def count(ledger: Ledger) -> int:
            now = self._clock()
            return sum(1 for slot in ledger.slots if slot > now - self.window)

        return self._ledgers.update(count, write=False)

    def __repr__(self) -> str:
        shared = "" if self.state_file is None else f", state_file={str(self.state_file)!r}"
        return f"CallBudget(calls={self.calls}, window={self.window:g}{shared})"


@dataclass(frozen=True)
class Limits:
    """How many exports may be in flight, and connections open, at once.

    The defaults are the server's limits per user and per IP (SPEC section 4);
    lower them to leave room for other clients of the same account.
    """

    exports: int = MAX_CONCURRENT_EXPORTS
    connections: int = MAX_CONNECTIONS

    def __post_init__(self) -> None:
        # Above the server's limits the extra exports or connections only earn 429s.
        check_number("exports", self.exports, low=1, high=MAX_CONCURRENT_EXPORTS, integer=True)
        check_number("connections", self.connections, low=1, high=MAX_CONNECTIONS, integer=True)


def check_number(
    name: str,
    value: object,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    integer: bool = False,
) -> None:
    """Raise :class:`~vidiframe.InvalidRequestError` unless ``value`` is a number in range.

    Examples
    --------
    >>> check_number("exports", 5, low=1, high=3, integer=True)
    Traceback (most recent call last):
    ...
    vidiframe._errors.InvalidRequestError: exports must be an integer in [1, 3], got 5
    """
    kinds: tuple[type, ...] = (int,) if integer else (int, float)
    ok = isinstance(value, kinds) and not isinstance(value, bool)
    if ok:
        number = float(value)  # type: ignore[arg-type]
        ok = math.isfinite(number) or (high is None and number == math.inf and not integer)
        if low is not None:
            ok = ok and (number > low if low_open else number >= low)
        if high is not None:
            ok = ok and (number < high if high_open else number <= high)
    if not ok:
        kind = "an integer" if integer else "a number"
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        bounds = f"{left}{_fmt(low, '-inf')}, {_fmt(high, 'inf')}{right}"
        raise InvalidRequestError(f"{name} must be {kind} in {bounds}, got {value!r}")


def _fmt(bound: float | None, default: str) -> str:
    return default if bound is None else f"{bound:g}"
