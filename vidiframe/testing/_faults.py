"""Faults the fake VidiCenter can inject, and the rules that schedule them.

A *fault* says what goes wrong (:class:`ServerError`, :class:`RateLimited`,
:class:`DropConnection`, :class:`SlowBody`, :class:`TruncatedBody`,
:class:`FailExport`); a :class:`FaultRule`, made by
:meth:`FakeVidiCenter.inject <vidiframe.testing.FakeVidiCenter.inject>`, says when:
the next ``times`` matching calls, the calls numbered ``at``, or the calls a
predicate selects.

Faults act at one of three moments of a request:

* ``before`` the API sees it (a proxy's 5xx or 429, a connection dropped on the
  way in): nothing changes on the server, the call counts against no limit;
* ``build``: when the call starts an export build, that build will fail;
* ``after`` the API handled it (the answer is slowed down, cut, or lost on the
  way back): the server's state has changed, the client does not know.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import ClassVar, Literal

import orjson

from vidiframe._wire import DATA_PATH

__all__ = [
    "Call",
    "DropConnection",
    "FailExport",
    "Fault",
    "FaultRule",
    "RateLimited",
    "ServerError",
    "SlowBody",
    "TruncatedBody",
]

Phase = Literal["before", "build", "after"]


@dataclass(frozen=True)
class Call:
    """A request as fault predicates and the request log see it.

    Attributes
    ----------
    number
        1-based number of the request among all requests the fake received.
    path_number
        1-based number of the request among those to the same path (``the third
        data call`` is ``path_number == 3`` on ``/api/v1/data/``).
    method, path
        The HTTP method and the path, e.g. ``/api/v1/data/``.
    params
        The query parameters (strings; a flag sent without value maps to ``""``).
    time
        The server's clock when the request arrived.
    client
        ``"in-process"`` or the peer's IP address.
    user
        The username of the Basic credentials, if any were sent (checked or not).
    """

    number: int
    path_number: int
    method: str
    path: str
    params: dict[str, str]
    time: float
    client: str
    user: str | None


class Fault:
    """Base class of the faults; see the subclasses."""

    phase: ClassVar[Phase] = "before"

    def phase_of(self) -> Phase:
        """The moment of the request at which the fault acts."""
        return self.phase

    @property
    def name(self) -> str:
        """A short name for the request log."""
        return type(self).__name__


@dataclass(frozen=True)
class ServerError(Fault):
    """Answer with an HTTP 5xx before the API sees the request.

    Parameters
    ----------
    status
        The status code (500, 502, 503, 504 ...).
    body
        The body to send; default a JSON error ``{"message": ..., "error": status}``.
        Pass an HTML page to see how the client copes with a proxy's answer.
    retry_after
        Sends a ``Retry-After`` header when given (503s sometimes do).
    """

    status: int = 500
    body: bytes | None = None
    retry_after: float | None = None

    def payload(self) -> bytes:
        """The body of the answer."""
        if self.body is not None:
            return self.body
        return orjson.dumps({"message": "Internal server error", "error": self.status})


@dataclass(frozen=True)
class RateLimited(Fault):
    """Answer HTTP 429 with ``Retry-After``, whatever the limits say.

    Parameters
    ----------
    retry_after
        The ``Retry-After`` value, in seconds (sent rounded up to an integer).
    """

    retry_after: float = 1.0


@dataclass(frozen=True)
class DropConnection(Fault):
    """Close the connection without answering.

    Over a socket the connection is closed with nothing written; in process the
    transport raises :class:`ConnectionResetError`.

    Parameters
    ----------
    after_processing
        Drop the answer *after* the API handled the request (an export may have
        been started or rebuilt, and the client never learns it). By default the
        request is lost on its way in and changes nothing.
    """

    after_processing: bool = False

    def phase_of(self) -> Phase:
        """``after`` when the request is handled before the connection drops."""
        return "after" if self.after_processing else "before"


@dataclass(frozen=True)
class SlowBody(Fault):
    """Send the answer slowly: the body takes ``delay`` seconds to arrive, or trickles.

    Over a socket the headers and half of the body go out at once, the rest after
    ``delay`` real seconds (a client with a shorter read timeout gives up). In
    process, the fake's ``sleep`` is called with ``delay`` (a
    :class:`~vidiframe.testing.ManualClock` just moves on), and when ``delay``
    exceeds the ``timeout`` the client passed, the transport sleeps ``timeout``
    and raises :class:`TimeoutError`, like a read timeout.

    With ``trickle``, the body goes out one byte every ``trickle`` seconds
    instead (``delay`` is ignored): no read ever waits long, so only a deadline
    on the whole response ends it. Over a socket the fake calls its ``sleep``
    before each byte (with a manual clock the bytes flow at once while the clock
    moves on, so a client reading the same clock sees the time pass). In process,
    the transport sleeps until the client's ``deadline`` and raises
    :class:`~vidiframe._transport.DeadlineExceededError` when the trickle would
    outlast it, as the real transport does.

    Examples
    --------
    >>> SlowBody(trickle=0.5).duration(b"0123456789")
    5.0
    """

    delay: float = 5.0
    trickle: float | None = None
    phase: ClassVar[Phase] = "after"

    def duration(self, body: bytes) -> float:
        """Seconds the body takes to arrive in full."""
        if self.trickle is not None:
            return self.trickle * len(body)
        return self.delay


@dataclass(frozen=True)
class TruncatedBody(Fault):
    """Announce the full ``Content-Length`` but send only part of the body, then close.

    In process the transport raises :class:`ConnectionError`.

    Parameters
    ----------
    fraction
        The share of the body that is sent.
    """

    fraction: float = 0.5
    phase: ClassVar[Phase] = "after"


@dataclass(frozen=True)
class FailExport(Fault):
    """Make the export build started by the call fail with ``fail_reason``.

    It only fires on calls that start (or, with ``force_rebuild``, restart) a
    build; other calls do not count against the rule's ``times``. The failed
    export stays failed (and cached) until a ``force_rebuild`` or its expiry,
    as a finished one would.
    """

    fail_reason: str = "An error occurred while building the export."
    phase: ClassVar[Phase] = "build"


class FaultRule:
    """When a fault fires: made by :meth:`FakeVidiCenter.inject`, kept to inspect.

    Parameters
    ----------
    fault
        What happens.
    times
        How many matching calls it fires on (``None``: all of them). Ignored
        when ``at`` is given.
    at
        The ``path_number`` values of the calls it fires on (1-based, counted
        since the fake started, among the calls to ``path``).
    when
        A predicate on the :class:`Call`; the rule only considers calls for which
        it returns true.
    path
        The path the rule applies to (``None``: every path).

    Attributes
    ----------
    fired
        The calls it fired on, in order.

    Examples
    --------
    >>> rule = FaultRule(ServerError(503), times=1)
    >>> call = Call(1, 1, "GET", "/api/v1/data/", {}, 0.0, "in-process", "demo")
    >>> rule.take(call, "before"), rule.take(call, "before")
    (True, False)
    >>> [c.number for c in rule.fired], rule.exhausted
    ([1], True)
    """

    def __init__(
        self,
        fault: Fault,
        *,
        times: int | None = 1,
        at: int | Iterable[int] | None = None,
        when: Callable[[Call], bool] | None = None,
        path: str | None = DATA_PATH,
    ) -> None:
        if times is not None and times < 0:
            raise ValueError(f"times must be positive or None, not {times}")
        self.fault = fault
        self.at: frozenset[int] | None = (
            None if at is None else frozenset([at] if isinstance(at, int) else at)
        )
        self.times = None if self.at is not None else times
        self.when = when
        self.path = path
        self.fired: list[Call] = []
        self._lock = threading.Lock()

    @property
    def exhausted(self) -> bool:
        """Whether the rule can no longer fire."""
        if self.at is not None:
            return len(self.fired) >= len(self.at)
        return self.times is not None and len(self.fired) >= self.times

    def matches(self, call: Call, phase: Phase) -> bool:
        """Whether the rule would fire on ``call`` at ``phase`` (without firing)."""
        if self.fault.phase_of() != phase or self.exhausted:
            return False
        if self.path is not None and call.path != self.path:
            return False
        if self.at is not None and call.path_number not in self.at:
            return False
        return self.when is None or bool(self.when(call))

    def take(self, call: Call, phase: Phase) -> bool:
        """Fire on ``call`` if the rule matches it; return whether it fired."""
        with self._lock:
            if not self.matches(call, phase):
                return False
            self.fired.append(call)
            return True

    def __repr__(self) -> str:
        when = f"at={sorted(self.at)}" if self.at is not None else f"times={self.times}"
        return f"FaultRule({self.fault!r}, {when}, path={self.path!r}, fired={len(self.fired)})"
