"""The export protocol as a state machine without I/O (in the manner of h11).

One export is a conversation: the first GET starts the build, polls report
``started`` / ``in_progress`` until ``finished`` or ``failed``, then one GET
downloads the data. :class:`ExportProtocol` holds the rules of that conversation
and nothing else: the caller feeds it the bodies of the responses and asks it
what to do next (:class:`Send` a request, :class:`Wait`, or :class:`Done`). It
never opens a socket, reads a clock or sleeps, so every rule is tested with
plain bytes.

The rules (SPEC section 4, and the API's "Optional arguments"):

- the first request carries ``force_rebuild=1`` if asked, and no later request
  does: each repeat would restart the build;
- polls carry ``status_only=1`` so a partial payload is never downloaded;
- flags are present-or-absent: a false value is never sent, since the API
  treats ``force_rebuild=false`` as a rebuild;
- once a poll says ``finished``, one request without ``status_only`` downloads;
- ``failed`` raises :class:`~vidiframe.ExportFailedError` with the server's
  ``fail_reason``; a build that outlasts ``timeout`` raises
  :class:`~vidiframe.ExportNotReadyError`.

Examples
--------
>>> from vidiframe._query import make_query
>>> from vidiframe._policies import Backoff, PollSchedule
>>> q = make_query(data_type="ots", time_resolution="1h", start="2025-01-01",
...                end="2025-01-01", locations=1)
>>> p = ExportProtocol(q, force_rebuild=True,
...                    schedule=PollSchedule(Backoff(initial=2.0, jitter=0.0)))
>>> p.next_event().params["force_rebuild"]
'1'
>>> p.receive(b'{"state": "started"}', elapsed=0.1)
>>> p.next_event()
Wait(seconds=2.0)
>>> sorted(p.next_event().params.items())[-2:]
[('status_only', '1'), ('time_resolution', '1h')]
>>> p.receive(b'{"state": "finished"}', elapsed=2.2)
>>> "status_only" in p.next_event().params
False
>>> p.receive(b'{"state": "finished", "data": []}', elapsed=2.3)
>>> p.next_event()
Done(body=b'{"state": "finished", "data": []}')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import orjson

from vidiframe._errors import ExportFailedError, ExportNotReadyError, ResponseFormatError
from vidiframe._policies import PollSchedule
from vidiframe._query import ExportQuery
from vidiframe._wire import (
    FAIL_REASON_KEY,
    FORCE_REBUILD,
    PENDING_STATES,
    STATUS_ONLY,
    export_state,
)

__all__ = [
    "PENDING_STATES",
    "Done",
    "ExportProtocol",
    "ProtocolUsageError",
    "Send",
    "Wait",
    "read_state",
]


# Bodies larger than this are data, not status: they are handed over without being
# parsed twice (the reader parses them), and the reader checks their state.
_STATUS_BODY_LIMIT = 1 << 20

RequestKind = Literal["start", "poll", "download"]


@dataclass(frozen=True)
class Send:
    """Send ``GET /api/v1/data/`` with ``params``, then call :meth:`ExportProtocol.receive`."""

    params: Mapping[str, str]
    kind: RequestKind


@dataclass(frozen=True)
class Wait:
    """Wait ``seconds`` before asking for the next event."""

    seconds: float


@dataclass(frozen=True)
class Done:
    """The export is downloaded: ``body`` is the response with ``state: finished``."""

    body: bytes = field(repr=True)


Event = Send | Wait | Done


class ProtocolUsageError(RuntimeError):
    """The caller broke the conversation (e.g. asked for an event while a response is due).

    A bug in the caller, not a server problem, hence not a ``VidiFrameError``.
    """


def read_state(body: bytes) -> tuple[str, Mapping[str, object] | None]:
    """The ``state`` of a response body, and the parsed body when it was small.

    Large bodies are not parsed: they can only be finished exports carrying data,
    and the reader parses (and checks) them anyway.

    Examples
    --------
    >>> read_state(b'{"state": "failed", "fail_reason": "too many rows"}')[0]
    'failed'
    >>> read_state(b'{"state": "done"}')
    Traceback (most recent call last):
    ...
    vidiframe._errors.ResponseFormatError: unknown export state 'done'; expected one of ...
    >>> read_state(b'{"status": "in_progress"}')
    Traceback (most recent call last):
    ...
    vidiframe._errors.ResponseFormatError: the response has no 'state' key (it has 'status': ...
    """
    if len(body) > _STATUS_BODY_LIMIT:
        return "finished", None
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise ResponseFormatError(
            f"response is not JSON ({error.msg} at byte {error.pos}): {body[:80]!r}",
            position=error.pos,
        ) from None
    if not isinstance(document, dict):
        raise ResponseFormatError(
            f"response is not a JSON object: {body[:80]!r}", position=0, key="state"
        )
    # One reader of the state for polls and saved bodies alike (see vidiframe._wire).
    return export_state(document), document


class ExportProtocol:
    """The conversation of one export, driven by the caller.

    Parameters
    ----------
    query
        The export to fetch.
    force_rebuild
        Send ``force_rebuild=1`` on the first request (and only there).
    schedule
        When to poll.
    timeout
        Seconds of building after which the export is given up with
        :class:`~vidiframe.ExportNotReadyError`.
    max_restarts
        How many times a download may find the export building again (its server
        cache expired between the poll and the download) before giving up.

    Notes
    -----
    Call :meth:`next_event`; after a :class:`Send`, send the request and pass the
    body of its 200 response to :meth:`receive` with the seconds elapsed since the
    first request was sent. HTTP errors and retries are the caller's business: a
    retried request is the same :class:`Send`.
    """

    def __init__(
        self,
        query: ExportQuery,
        *,
        force_rebuild: bool = False,
        schedule: PollSchedule | None = None,
        timeout: float = 3600.0,
        max_restarts: int = 3,
    ):
        self.query = query
        self.force_rebuild = force_rebuild
        self.schedule = schedule if schedule is not None else PollSchedule()
        self.timeout = timeout
        self.max_restarts = max_restarts
        self._params = query.params()
        self._phase: Literal["start", "awaiting", "wait", "poll", "download", "done"] = "start"
        self._sent: RequestKind | None = None
        self._wait = 0.0
        self._body: bytes | None = None
        self.polls = 0
        self.skips = 0
        self.restarts = 0
        #: The last state the server reported.
        self.state: str | None = None
        #: Seconds (since the first request) of the last pending and the first finished report.
        self.pending_at: float | None = None
        self.finished_at: float | None = None

    @property
    def building(self) -> bool:
        """Whether the server may be building this export (it holds one of the 3 slots)."""
        return self._phase not in ("download", "done") and not (
            self._phase == "awaiting" and self._sent == "download"
        )

    def next_event(self) -> Event:
        """What to do next."""
        phase = self._phase
        if phase == "awaiting":
            raise ProtocolUsageError("a response is due: call receive() first")
        if phase == "start":
            params = dict(self._params)
            if self.force_rebuild:
                params[FORCE_REBUILD] = "1"
            return self._send(params, "start")
        if phase == "wait":
            self._phase = "poll"
            return Wait(self._wait)
        if phase == "poll":
            self.polls += 1
            return self._send({**self._params, STATUS_ONLY: "1"}, "poll")
        if phase == "download":
            return self._send(dict(self._params), "download")
        assert self._body is not None
        return Done(self._body)

    def receive(self, body: bytes, *, elapsed: float) -> None:
        """Feed the body of the 200 response to the last :class:`Send`.

        Raises
        ------
        ExportFailedError
            The server reports ``failed``.
        ExportNotReadyError
            Still building after ``timeout``, or rebuilt too many times.
        ResponseFormatError
            The body is not a status the protocol knows.
        """
        if self._phase != "awaiting":
            raise ProtocolUsageError("no request is awaiting a response")
        sent = self._sent
        state, document = read_state(body)
        self.state = state
        if state == "failed":
            self._phase = "done"
            reason = document.get(FAIL_REASON_KEY) if document is not None else None
            raise ExportFailedError(
                f"the server failed the export {self.query.describe()}: "
                f"{reason if reason is not None else 'no fail_reason given'}",
                fail_reason=None if reason is None else str(reason),
                query=self.query,
            )
        if state == "finished":
            if self.finished_at is None:
                self.finished_at = elapsed
            if sent == "poll":
                self._phase = "download"
            else:
                self._phase = "done"
                self._body = body
            return
        # started / in_progress
        self.pending_at = elapsed
        if sent == "download":
            self.restarts += 1
            self.finished_at = None
            if self.restarts > self.max_restarts:
                self._phase = "done"
                raise ExportNotReadyError(
                    f"the export {self.query.describe()} was rebuilt {self.restarts} times "
                    "between its status and its download; giving up",
                    state=state,
                )
        self._schedule_poll(elapsed)

    def skip_poll(self, *, elapsed: float, shorten: float = 1.0) -> None:
        """Do not send the poll that is due; wait for the next one instead.

        Only valid right after a :class:`Wait`, before the poll's :class:`Send`
        (the caller learned elsewhere that this poll would answer "still
        building"). Counts as a poll for the backoff and the timeout. The next
        wait is the schedule's times ``shorten``: a caller that skips because a
        sibling just polled can aim between the sibling's polls.
        """
        if self._phase != "poll":
            raise ProtocolUsageError("only a poll that is due can be skipped")
        self.skips += 1
        self._schedule_poll(elapsed, shorten)

    def _schedule_poll(self, elapsed: float, shorten: float = 1.0) -> None:
        delay = shorten * self.schedule.delay(self.polls + self.skips, elapsed=elapsed)
        if elapsed + delay > self.timeout:
            self._phase = "done"
            raise ExportNotReadyError(
                f"the export {self.query.describe()} is still {self.state} after "
                f"{elapsed:.0f} s (timeout {self.timeout:.0f} s)",
                state=self.state or "in_progress",
            )
        self._wait = delay
        self._phase = "wait"

    def _send(self, params: dict[str, str], kind: RequestKind) -> Send:
        self._phase = "awaiting"
        self._sent = kind
        return Send(params, kind)
