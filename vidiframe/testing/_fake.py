"""The fake VidiCenter: the data export API as its documentation describes it.

:class:`FakeVidiCenter` answers ``GET /api/v1/whoami/`` and ``GET /api/v1/data/``
with the export state machine (``started`` -> ``in_progress`` -> ``finished`` or
``failed``), Basic auth, the server limits of SPEC section 4, deterministic data
for every export of the registry, and scheduled faults. It also answers the
topology, tags, clip metadata and alerts endpoints, consistently with its exports
(:mod:`vidiframe.testing._fake_dimensions`). It records everything it
saw, for tests to check what a client did.

Two ways in share one request handler (:meth:`FakeVidiCenter.handle`, which
touches no socket):

* ``fake.url``: a real HTTP server on ``127.0.0.1`` (never another interface),
  for ``requests``, ``curl`` and notebooks;
* ``fake.transport()``: an in-process :class:`~vidiframe._transport.Transport`,
  with no socket at all.

Time comes from an injectable clock. With a
:class:`~vidiframe.testing.ManualClock` whose ``sleep`` the client also uses, a
whole export runs deterministically in zero wall time.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import contextlib
import datetime as dt
import math
import socket
import struct
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from socketserver import ThreadingMixIn
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson

from vidiframe._errors import InvalidRequestError
from vidiframe._transport import DeadlineExceededError, Response
from vidiframe._wire import (
    CREATION_DATE_KEY,
    DATA_PATH,
    FAIL_REASON_KEY,
    FLAGS,
    FORCE_REBUILD,
    STATE_KEY,
    STATUS_ONLY,
    WHOAMI_PATH,
)
from vidiframe.testing._clock import Clock, system_clock
from vidiframe.testing._dimension_data import (
    DEFAULT_ACCOUNT_LOCATIONS,
    EDITABLE_DIMENSIONS,
    FakeAccount,
    served_locations,
)
from vidiframe.testing._fake_dimensions import dimension_reply, is_dimension_path
from vidiframe.testing._faults import (
    Call,
    DropConnection,
    FailExport,
    Fault,
    FaultRule,
    Phase,
    RateLimited,
    ServerError,
    SlowBody,
    TruncatedBody,
)
from vidiframe.testing._generate import DataGenerator, FakeQuery, QueryError

__all__ = [
    "DATA_PATH",
    "WHOAMI_PATH",
    "FakeTransport",
    "FakeVidiCenter",
    "Limits",
    "RecordedRequest",
    "Reply",
]

_PATHS = (DATA_PATH, WHOAMI_PATH)
_HOST = "127.0.0.1"
# Beyond this many (source, hour) pairs, counting a finest export exactly would
# take seconds; its expected size is reported instead (it is far over any limit).
_EXACT_COUNT_BUDGET = 2_000_000
_JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class Limits:
    """The server limits (SPEC section 4); ``None`` switches a limit off.

    Parameters
    ----------
    concurrent_exports
        Builds one user may have running at once; a new one beyond gets HTTP 429
        with ``Retry-After`` (seconds until the first running build ends).
    calls_per_minute
        API calls per user in any ``window_seconds``; beyond, HTTP 429 with
        ``Retry-After`` (seconds until the oldest call leaves the window).
    connections_per_ip
        Simultaneous connections per client IP; a connection beyond is answered
        429 and closed. In process, a "connection" is one ``get`` call.
    finest_rows, aggregated_rows
        Largest export; a bigger one ends ``failed``, its ``fail_reason`` giving
        the row count.
    cache_seconds
        How long a finished (or failed) export is served from the cache.
    window_seconds
        The window of ``calls_per_minute``.

    Examples
    --------
    >>> Limits().concurrent_exports, Limits.unlimited().calls_per_minute
    (3, None)
    """

    concurrent_exports: int | None = 3
    calls_per_minute: int | None = 50
    connections_per_ip: int | None = 2
    finest_rows: int | None = 3_000_000
    aggregated_rows: int | None = 20_000_000
    cache_seconds: float = 24 * 3600.0
    window_seconds: float = 60.0

    @classmethod
    def unlimited(cls) -> Limits:
        """Limits that never trigger (the cache still expires after a day)."""
        return cls(None, None, None, None, None)


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake answered, for tests to inspect.

    Attributes
    ----------
    number, path_number, method, path, params, time, client
        As in :class:`~vidiframe.testing.Call`.
    user
        The authenticated username (``None`` when authentication failed).
    status
        The HTTP status answered (a dropped connection records ``0``).
    state
        The export ``state`` answered, for data calls that reached the export.
    fault
        The name of the fault that fired on this call, if any.
    build_started
        Whether the call started (or restarted) an export build.
    data_sent
        Whether the answer carried the export's ``data``.
    """

    number: int
    path_number: int
    method: str
    path: str
    params: dict[str, str]
    time: float
    client: str
    user: str | None
    status: int
    state: str | None = None
    fault: str | None = None
    build_started: bool = False
    data_sent: bool = False


@dataclass(frozen=True)
class Reply:
    """What :meth:`FakeVidiCenter.handle` answers: status, headers, body, and a fault.

    ``fault`` is a fault of the ``after`` phase (:class:`DropConnection`,
    :class:`SlowBody`, :class:`TruncatedBody`) that the socket server or the
    in-process transport must act out when delivering the reply.
    """

    status: int
    headers: dict[str, str]
    body: bytes
    fault: Fault | None = None

    def json(self) -> Any:
        """The body, decoded."""
        return orjson.loads(self.body)


@dataclass
class _Export:
    user: str
    query: FakeQuery
    started_at: float
    ready_at: float
    creation_date: str
    fail_reason: str | None = None
    resolved: bool = False
    body: bytes | None = field(default=None, repr=False)

    def building(self, now: float) -> bool:
        # Calls read the clock before taking the lock: a build another thread
        # started "later" than this call's moment is not running yet at that moment.
        return self.started_at <= now < self.ready_at


def _json_reply(status: int, payload: Mapping[str, Any], **headers: str) -> Reply:
    return Reply(status, {**_JSON, **headers}, orjson.dumps(payload))


def _error(status: int, message: str, **headers: str) -> Reply:
    return _json_reply(status, {"message": message, "error": status}, **headers)


def _retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def _credentials(headers: Mapping[str, str]) -> tuple[str, str] | None:
    value = _header(headers, "Authorization")
    if not value:
        return None
    scheme, _, encoded = value.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, sep, token = decoded.partition(":")
    return (username, token) if sep else None


def _param(value: Any) -> str:
    if isinstance(value, (list, tuple, range)):
        return ",".join(str(v) for v in value)
    return str(value)


def _canonical(params: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, _param(v)) for k, v in params.items() if k not in FLAGS))


def basic_auth_header(username: str, token: str) -> dict[str, str]:
    """The ``Authorization`` header of HTTP Basic auth.

    Examples
    --------
    >>> basic_auth_header("demo", "demo-token")
    {'Authorization': 'Basic ZGVtbzpkZW1vLXRva2Vu'}
    """
    encoded = base64.b64encode(f"{username}:{token}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


class FakeVidiCenter:
    """A fake VidiCenter data export API, over a loopback socket or in process.

    Use it as a context manager: entering starts the socket server (unless
    ``serve=False``), leaving stops it and closes every connection.

    Parameters
    ----------
    seed
        Seed of the generated data (see :class:`~vidiframe.testing.DataGenerator`).
    username, token
        The credentials the server accepts.
    build_seconds
        How long an export takes to build, on the server's clock: a number, or a
        callable of the :class:`~vidiframe.testing.FakeQuery` returning one.
    clock
        A callable returning seconds since the epoch (default :func:`time.time`).
        Pass a :class:`~vidiframe.testing.ManualClock` for deterministic tests.
    sleep
        What the in-process transport calls to act out a slow body; default the
        clock's ``sleep`` when it has one, else :func:`time.sleep`.
    legacy
        Send 2020 field names (``dwell_time`` ...), without
        ``period_start_date``/``period_start_time``.
    quirks
        Reproduce the documentation's quirks in the data (SPEC section 8).
    limits
        The server limits; default :class:`Limits` (the real API's).
    users
        More accepted credentials, username -> token.
    forbidden_users
        Users whose valid credentials get HTTP 403 on every call.
    forbidden_locations
        Location ids a data call may not ask for (HTTP 403).
    account_locations
        The locations the account has, as its topology, tags and alerts endpoints
        list them (default
        :data:`~vidiframe.testing._dimension_data.DEFAULT_ACCOUNT_LOCATIONS`). Every
        location an export is asked for joins them, so every ``location_id`` of
        an export is in ``/api/v1/locations/``; and each comes with every other
        location of its site, as an export given ``sites=`` covers them all.
    generator
        A :class:`~vidiframe.testing.DataGenerator` to use instead of the one
        built from ``seed``, ``legacy`` and ``quirks``.
    port
        The port to listen on (default 0: any free port). The host is always
        ``127.0.0.1``.
    serve
        Start the socket server when entered. Without it, only
        :meth:`transport` works and :attr:`url` is a placeholder loopback URL.

    Examples
    --------
    The protocol in process, on a manual clock:

    >>> from vidiframe.testing import FakeVidiCenter, ManualClock
    >>> clock = ManualClock()
    >>> params = {"data_type": "ots", "time_resolution": "1h", "locations": "1467",
    ...           "start": "2018-01-29T00:00:00", "end": "2018-01-29T04:59:59"}
    >>> with FakeVidiCenter(clock=clock, build_seconds=2.0, serve=False) as fake:
    ...     transport = fake.transport()
    ...     def get(**extra):
    ...         response = transport.get(fake.url + "/api/v1/data/", params={**params, **extra},
    ...                                  headers=fake.auth_headers(), timeout=10)
    ...         return orjson.loads(response.body)
    ...     first, second = get()["state"], get(status_only="1")["state"]
    ...     clock.sleep(2.0)
    ...     done = get()
    >>> first, second, done["state"], len(done["data"])
    ('started', 'in_progress', 'finished', 5)
    >>> fake.builds_started(**params), fake.downloads
    (1, 1)

    Over a real socket:

    >>> import urllib.request
    >>> with FakeVidiCenter() as fake:
    ...     request = urllib.request.Request(fake.url + "/api/v1/whoami/",
    ...                                      headers=fake.auth_headers())
    ...     with urllib.request.urlopen(request, timeout=10) as answer:
    ...         answer.read()
    ...     fake.url.startswith("http://127.0.0.1:")
    b'{"username":"demo"}'
    True
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        username: str = "demo",
        token: str = "demo-token",  # noqa: S107 - the fake's well-known demo credential
        build_seconds: float | Callable[[FakeQuery], float] = 2.0,
        clock: Clock | None = None,
        sleep: Callable[[float], None] | None = None,
        legacy: bool = False,
        quirks: bool = False,
        limits: Limits | None = None,
        users: Mapping[str, str] | None = None,
        forbidden_users: Iterable[str] = (),
        forbidden_locations: Iterable[int | str] = (),
        account_locations: Iterable[int] | None = None,
        generator: DataGenerator | None = None,
        port: int = 0,
        serve: bool = True,
    ) -> None:
        self.username = username
        self.token = token
        self.build_seconds = build_seconds
        self.clock: Clock = clock if clock is not None else system_clock
        clock_sleep = getattr(self.clock, "sleep", None)
        self.sleep: Callable[[float], None] = sleep or clock_sleep or time.sleep
        self.generator = generator or DataGenerator(seed=seed, legacy=legacy, quirks=quirks)
        self.limits = limits or Limits()
        self.credentials: dict[str, str] = {username: token, **(users or {})}
        self.forbidden_users = frozenset(forbidden_users)
        self.forbidden_locations = frozenset(int(loc) for loc in forbidden_locations)
        self._account_locations = frozenset(
            DEFAULT_ACCOUNT_LOCATIONS if account_locations is None else map(int, account_locations)
        )
        self._served_locations: set[int] = set()
        self._dimension_edits: dict[tuple[str, int], dict[str, Any]] = {}
        self.port = port
        self.serve = serve

        self._lock = threading.RLock()
        self._log: list[RecordedRequest] = []
        self._path_counts: Counter[str] = Counter()
        self._calls: dict[str, deque[float]] = {}
        self._exports: dict[tuple[str, tuple[tuple[str, str], ...]], _Export] = {}
        self._builds: Counter[tuple[tuple[str, str], ...]] = Counter()
        self._connections: Counter[str] = Counter()
        self._rules: list[FaultRule] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.peak_concurrent_exports = 0
        self.peak_connections = 0
        self.downloads = 0

    # -- lifecycle -----------------------------------------------------------------

    def start(self) -> FakeVidiCenter:
        """Start the socket server on ``127.0.0.1`` (a no-op with ``serve=False``)."""
        if self.serve and self._server is None:
            self._server = _Server(self, self.port)
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"FakeVidiCenter:{self._server.server_address[1]}",
                daemon=True,
            )
            self._thread.start()
        return self

    def close(self) -> None:
        """Stop the socket server, close every open connection and join its threads."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.stop_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> FakeVidiCenter:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def url(self) -> str:
        """The base URL, ``http://127.0.0.1:<port>`` (pass it as the client's ``base_url``).

        Without a running socket server it is ``http://127.0.0.1:0``, where nothing
        listens; the in-process transport ignores the host anyway.
        """
        if self._server is None:
            return f"http://{_HOST}:0"
        return f"http://{_HOST}:{self._server.server_address[1]}"

    @property
    def address(self) -> tuple[str, int] | None:
        """The socket's ``(host, port)``, or ``None`` when not serving."""
        if self._server is None:
            return None
        host, port = self._server.socket.getsockname()[:2]
        return host, port

    def transport(
        self, *, client: str = "in-process", enforce_connection_limit: bool = False
    ) -> FakeTransport:
        """An in-process :class:`~vidiframe._transport.Transport` to this fake.

        Parameters
        ----------
        client
            The client address the requests are recorded under.
        enforce_connection_limit
            Answer 429 when more than ``limits.connections_per_ip`` calls of this
            client are in flight at once. Off by default: an in-process call takes
            no time, so whether a threaded client's calls overlap is luck, and a
            test must not depend on luck. :attr:`peak_connections` records the
            overlap either way; the socket server always enforces the limit.
        """
        return FakeTransport(self, client=client, enforce_connection_limit=enforce_connection_limit)

    def auth_headers(self, username: str | None = None, token: str | None = None) -> dict[str, str]:
        """The Basic ``Authorization`` header for the fake's (or the given) credentials."""
        return basic_auth_header(username or self.username, token or self.token)

    # -- faults ----------------------------------------------------------------------

    def inject(
        self,
        fault: Fault,
        *,
        times: int | None = 1,
        at: int | Iterable[int] | None = None,
        when: Callable[[Call], bool] | None = None,
        path: str | None = DATA_PATH,
    ) -> FaultRule:
        """Schedule a fault; rules are tried in the order they were injected.

        Parameters
        ----------
        fault
            What goes wrong: :class:`~vidiframe.testing.ServerError`,
            :class:`~vidiframe.testing.RateLimited`,
            :class:`~vidiframe.testing.DropConnection`,
            :class:`~vidiframe.testing.SlowBody`,
            :class:`~vidiframe.testing.TruncatedBody` or
            :class:`~vidiframe.testing.FailExport`.
        times
            Fire on the next ``times`` matching calls (``None``: every one).
        at
            Fire on the calls with these 1-based numbers among the calls to
            ``path`` since the fake started (``at=3``: the third data call).
        when
            Only calls for which this predicate of the
            :class:`~vidiframe.testing.Call` is true match.
        path
            The path the rule watches (default the data endpoint; ``None``: all).

        Returns
        -------
        FaultRule
            The rule; its ``fired`` list tells which calls it hit.

        Examples
        --------
        >>> from vidiframe.testing import ServerError
        >>> with FakeVidiCenter(serve=False) as fake:
        ...     rule = fake.inject(ServerError(502), times=2)
        ...     statuses = [fake.handle("GET", DATA_PATH, {}, fake.auth_headers()).status
        ...                 for _ in range(3)]
        >>> statuses, len(rule.fired)
        ([502, 502, 400], 2)
        """
        rule = FaultRule(fault, times=times, at=at, when=when, path=path)
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear_faults(self) -> None:
        """Remove every scheduled fault."""
        with self._lock:
            self._rules.clear()

    def _take(self, call: Call, phase: Phase) -> FaultRule | None:
        with self._lock:
            for rule in self._rules:
                if rule.take(call, phase):
                    return rule
        return None

    # -- what the fake saw ----------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request answered so far, in arrival order (a copy)."""
        with self._lock:
            return list(self._log)

    @property
    def data_requests(self) -> list[RecordedRequest]:
        """The requests to the data endpoint."""
        return [r for r in self.requests if r.path == DATA_PATH]

    def builds_started(self, params: Mapping[str, Any] | None = None, /, **kwargs: Any) -> int:
        """How many builds were started for a query (all queries when none is given).

        The query is compared without ``force_rebuild`` and ``status_only``, values
        as the API received them (lists are joined with commas), so
        ``builds_started(**params)`` counts the first call plus each
        ``force_rebuild`` of the query ``params``.
        """
        wanted = {**(params or {}), **kwargs}
        with self._lock:
            if not wanted:
                return sum(self._builds.values())
            return self._builds[_canonical(wanted)]

    def running_exports(self, user: str | None = None) -> int:
        """Builds running now on the server's clock (for ``user``, or all users)."""
        now = self.clock()
        with self._lock:
            return sum(
                1
                for exp in self._exports.values()
                if exp.building(now) and (user is None or exp.user == user)
            )

    # -- data without HTTP ---------------------------------------------------------

    def rows(self, data_type: str, time_resolution: str, **query: Any) -> list[dict[str, Any]]:
        """The rows this fake serves for a query (arguments of ``FakeQuery.build``).

        Examples
        --------
        >>> fake = FakeVidiCenter(seed=5, serve=False)
        >>> rows = fake.rows("footfall", "1d", start="2025-01-01T00:00:00",
        ...                  end="2025-01-07T23:59:59", locations=[4636])
        >>> len(rows), rows[0]["location_id"]
        (7, 4636)
        """
        return self.generator.rows(FakeQuery.build(data_type, time_resolution, **query))

    def response_body(
        self,
        data_type: str,
        time_resolution: str,
        *,
        creation_date: str = "2025-01-01 00:00:00",
        **query: Any,
    ) -> bytes:
        """The finished body this fake serves for a query, built without any HTTP.

        Takes the arguments of :meth:`~vidiframe.testing.FakeQuery.build`
        (``start``, ``end``, ``locations`` ...). Same seed, same bytes.
        """
        query_ = FakeQuery.build(data_type, time_resolution, **query)
        return self.generator.body(query_, creation_date=creation_date)

    # -- connections -------------------------------------------------------------------

    def _open_connection(self, client: str) -> bool:
        """Count a connection of ``client``; whether it is within the limit."""
        with self._lock:
            self._connections[client] += 1
            count = self._connections[client]
            self.peak_connections = max(self.peak_connections, count)
        limit = self.limits.connections_per_ip
        return limit is None or count <= limit

    @property
    def open_connections(self) -> int:
        """Connections open now (socket connections and in-flight in-process calls)."""
        with self._lock:
            return sum(self._connections.values())

    def _close_connection(self, client: str) -> None:
        with self._lock:
            self._connections[client] -= 1
            if self._connections[client] <= 0:
                del self._connections[client]

    # -- the request handler ---------------------------------------------------------------

    def handle(
        self,
        method: str,
        path: str,
        params: Mapping[str, str],
        headers: Mapping[str, str],
        *,
        client: str = "in-process",
    ) -> Reply:
        """Answer one request: the whole API, with no socket involved.

        Parameters
        ----------
        method, path
            ``GET`` and ``/api/v1/data/`` or ``/api/v1/whoami/``.
        params
            The query parameters, as strings (a flag sent bare is ``""``).
        headers
            The request headers (``Authorization`` is read).
        client
            The client's address, for the log.

        Returns
        -------
        Reply
            Status, headers, JSON body, and an ``after`` fault to act out, if any.
        """
        return self._handle(method, path, dict(params), headers, client, refused=False)

    def _handle(
        self,
        method: str,
        path: str,
        params: dict[str, str],
        headers: Mapping[str, str],
        client: str,
        *,
        refused: bool,
    ) -> Reply:
        now = self.clock()
        sent = _credentials(headers)
        with self._lock:
            self._path_counts[path] += 1
            call = Call(
                number=len(self._log) + 1,
                path_number=self._path_counts[path],
                method=method,
                path=path,
                params=params,
                time=now,
                client=client,
                user=sent[0] if sent else None,
            )
        outcome = _Outcome()
        if refused:
            reply = _error(429, "Too many connections from your address.", **{"Retry-After": "1"})
        elif rule := self._take(call, "before"):
            outcome.fault = rule.fault.name
            reply = self._fault_reply(rule.fault)
        else:
            reply = self._route(call, sent, outcome)
            if rule := self._take(call, "after"):
                outcome.fault = rule.fault.name
                reply = Reply(reply.status, reply.headers, reply.body, rule.fault)
        self._record(call, reply, outcome)
        return reply

    def _fault_reply(self, fault: Fault) -> Reply:
        if isinstance(fault, ServerError):
            headers = {} if fault.body is not None else dict(_JSON)
            if fault.retry_after is not None:
                headers["Retry-After"] = _retry_after(fault.retry_after)
            return Reply(fault.status, headers, fault.payload())
        if isinstance(fault, RateLimited):
            return _error(
                429,
                "Request was throttled.",
                **{"Retry-After": _retry_after(fault.retry_after)},
            )
        # A connection dropped on the way in: no answer at all.
        return Reply(0, {}, b"", fault)

    def _record(self, call: Call, reply: Reply, outcome: _Outcome) -> None:
        status = 0 if isinstance(reply.fault, DropConnection) else reply.status
        entry = RecordedRequest(
            number=call.number,
            path_number=call.path_number,
            method=call.method,
            path=call.path,
            params=call.params,
            time=call.time,
            client=call.client,
            user=outcome.user,
            status=status,
            state=outcome.state,
            fault=outcome.fault,
            build_started=outcome.build_started,
            data_sent=outcome.data_sent,
        )
        with self._lock:
            self._log.append(entry)

    def _route(self, call: Call, sent: tuple[str, str] | None, outcome: _Outcome) -> Reply:
        if call.path not in _PATHS and not is_dimension_path(call.path):
            return _error(404, "Not found.")
        if call.method != "GET":
            return _error(405, f'Method "{call.method}" not allowed.', Allow="GET")
        if sent is None:
            return _error(
                401,
                "Authentication credentials were not provided.",
                **{"WWW-Authenticate": 'Basic realm="api"'},
            )
        username, token = sent
        if self.credentials.get(username) != token:
            return _error(
                401, "Invalid username or token.", **{"WWW-Authenticate": 'Basic realm="api"'}
            )
        if username in self.forbidden_users:
            return _error(403, "You do not have permission to perform this action.")
        outcome.user = username
        if throttled := self._throttle(username, call.time):
            return throttled
        if call.path == WHOAMI_PATH:
            return _json_reply(200, {"username": username})
        if call.path != DATA_PATH:
            return self._dimension(call)
        return self._data(call, username, outcome)

    def _throttle(self, user: str, now: float) -> Reply | None:
        limit = self.limits.calls_per_minute
        window = self.limits.window_seconds
        with self._lock:
            calls = self._calls.setdefault(user, deque())
            while calls and calls[0] <= now - window:
                calls.popleft()
            if limit is not None and len(calls) >= limit:
                wait = calls[0] + window - now
                return _error(
                    429,
                    f"Request was throttled: more than {limit} calls in {window:g} seconds.",
                    **{"Retry-After": _retry_after(wait)},
                )
            # Threads read the clock before the lock: keep the window in time order.
            bisect.insort(calls, now)
        return None

    # -- dimensions (topology, tags, clip metadata, alerts) ------------------------------

    @property
    def account(self) -> FakeAccount:
        """The account's dimension data: the declared locations and those exported so far."""
        with self._lock:
            locations = self._account_locations | self._served_locations
            edits = {key: dict(change) for key, change in self._dimension_edits.items()}
        return FakeAccount(self.generator, frozenset(locations), edits)

    def edit_dimension(self, name: str, id: int, /, **fields: Any) -> None:
        """Change fields of one dimension row from now on, as a VidiCenter user would.

        Every later answer listing that row sends the new values (a site's also
        inside its site tag, a site's venue also in its locations' rows); the
        exports do not change. Edits of the same row add up.

        Parameters
        ----------
        name
            One of :data:`~vidiframe.testing._dimension_data.EDITABLE_DIMENSIONS`
            (``locations``, ``sites``, ``networks`` ...).
        id
            The row's ``id`` as the API sends it (a clip's metadata ``id``, not
            its ``clip_id``).
        fields
            API field names and their new values (``label="Main door"``,
            ``last_timezone=3600``). The ``id`` itself cannot change.

        Raises
        ------
        InvalidRequestError
            Another dimension, no field, a change of ``id``, or an ``id`` no row
            of the dimension has (an edit that would change nothing).

        Examples
        --------
        >>> import polars as pl
        >>> import vidiframe as vf
        >>> with FakeVidiCenter(serve=False) as fake:
        ...     fake.edit_dimension("locations", 4636, label="Main door")
        ...     client = vf.VidiCenterClient("demo", "demo-token", fake.url,
        ...                                  transport=fake.transport(), cache_dir=None)
        ...     loc = vf.read_locations(client=client).filter(pl.col("location_id") == 4636)
        >>> loc.select("location_id", "label").row(0)
        (4636, 'Main door')
        """
        if name not in EDITABLE_DIMENSIONS:
            raise InvalidRequestError(
                f"edit_dimension: {name!r} cannot be edited; one of "
                f"{', '.join(EDITABLE_DIMENSIONS)}"
            )
        if not fields or "id" in fields:
            raise InvalidRequestError(
                "edit_dimension: give the fields to change (label=...), never the id"
            )
        known = self.account.ids(name)
        if int(id) not in known:
            # Kept, the edit would change no row, and a test relying on it would
            # pass or fail for another reason than the one it states.
            nearest = sorted(sorted(known, key=lambda k: (abs(k - int(id)), k))[:5])
            raise InvalidRequestError(
                f"edit_dimension: no row of {name} has id {id}; it has {len(known)} "
                f"row(s), the nearest ids {', '.join(map(str, nearest))}. The account's "
                "rows follow its locations: those given as account_locations (with the "
                "other locations of their sites) and those exported so far"
            )
        with self._lock:
            self._dimension_edits.setdefault((name, int(id)), {}).update(fields)

    def _serve_locations(self, query: FakeQuery) -> None:
        by_site = "location_id" not in query.spec.by_name and "site_id" in query.spec.by_name
        served = served_locations(query.sources, by_site=by_site)
        with self._lock:
            self._served_locations.update(served)

    def _dimension(self, call: Call) -> Reply:
        if call.method != "GET":
            return _error(405, f'Method "{call.method}" not allowed.', Allow="GET")
        status, payload = dimension_reply(self.account, call.path, call.params, call.time)
        return Reply(status, dict(_JSON), orjson.dumps(payload))

    def _build_seconds(self, query: FakeQuery) -> float:
        if callable(self.build_seconds):
            return float(self.build_seconds(query))
        return float(self.build_seconds)

    def _creation_date(self, now: float) -> str:
        moment = dt.datetime.fromtimestamp(now, dt.timezone.utc)
        return moment.strftime("%Y-%m-%d %H:%M:%S")

    def _data(self, call: Call, user: str, outcome: _Outcome) -> Reply:
        params, now = call.params, call.time
        try:
            query = FakeQuery.from_params(params)
        except QueryError as exc:
            return _error(400, str(exc))
        denied = sorted(self.forbidden_locations.intersection(query.requested_locations))
        if denied:
            return _error(403, f"You do not have access to location {denied[0]}.")
        self._serve_locations(query)
        key = (user, _canonical(params))
        with self._lock:
            exp = self._exports.get(key)
            if exp is not None and now >= exp.ready_at + self.limits.cache_seconds:
                del self._exports[key]
                exp = None
            if exp is None or FORCE_REBUILD in params:
                return self._start_build(call, user, query, key, replacing=exp, outcome=outcome)
            if exp.building(now):
                outcome.state = "in_progress"
                return _json_reply(
                    200, {STATE_KEY: "in_progress", CREATION_DATE_KEY: exp.creation_date}
                )
        # Finished: the row count, the body, run outside the lock (they can be slow).
        fail_reason = self._resolve(exp)
        if fail_reason is not None:
            outcome.state = "failed"
            return _json_reply(
                200,
                {
                    STATE_KEY: "failed",
                    FAIL_REASON_KEY: fail_reason,
                    CREATION_DATE_KEY: exp.creation_date,
                },
            )
        outcome.state = "finished"
        if STATUS_ONLY in params:
            return _json_reply(200, {STATE_KEY: "finished", CREATION_DATE_KEY: exp.creation_date})
        body = exp.body
        if body is None:
            body = self.generator.body(query, creation_date=exp.creation_date)
            exp.body = body
        with self._lock:
            self.downloads += 1
        outcome.data_sent = True
        return Reply(200, dict(_JSON), body)

    def _start_build(
        self,
        call: Call,
        user: str,
        query: FakeQuery,
        key: tuple[str, tuple[tuple[str, str], ...]],
        *,
        replacing: _Export | None,
        outcome: _Outcome,
    ) -> Reply:
        now = call.time
        limit = self.limits.concurrent_exports
        # Rebuilding a running export replaces it; anything else is one more build.
        adds = replacing is None or not replacing.building(now)
        running = [e for e in self._exports.values() if e.user == user and e.building(now)]
        if adds and limit is not None and len(running) >= limit:
            wait = min(e.ready_at for e in running) - now
            return _error(
                429,
                f"You cannot start more than {limit} exports in parallel.",
                **{"Retry-After": _retry_after(wait)},
            )
        exp = _Export(
            user=user,
            query=query,
            started_at=now,
            ready_at=now + self._build_seconds(query),
            creation_date=self._creation_date(now),
        )
        if rule := self._take(call, "build"):
            assert isinstance(rule.fault, FailExport)
            exp.fail_reason = rule.fault.fail_reason
            exp.resolved = True
            outcome.fault = rule.fault.name
        self._exports[key] = exp
        self._builds[key[1]] += 1
        self.peak_concurrent_exports = max(
            self.peak_concurrent_exports,
            sum(1 for e in self._exports.values() if e.building(now)),
        )
        outcome.state = "started"
        outcome.build_started = True
        return _json_reply(200, {STATE_KEY: "started"})

    def _resolve(self, exp: _Export) -> str | None:
        """The export's ``fail_reason`` once built (``None``: it finished)."""
        if exp.resolved:
            return exp.fail_reason
        query = exp.query
        finest = query.finest
        limit = self.limits.finest_rows if finest else self.limits.aggregated_rows
        reason = None
        if limit is not None and self.generator.max_rows(query) > limit:
            rows, exact = self._row_count(query)
            if rows > limit:
                kind = "raw (finest)" if finest else "aggregated"
                about = "" if exact else "about "
                reason = (
                    f"Too many rows: this export has {about}{rows} rows, more than the "
                    f"{limit} rows allowed for a {kind} export. Please split your request."
                )
        with self._lock:
            exp.fail_reason, exp.resolved = reason, True
        return reason

    def _row_count(self, query: FakeQuery) -> tuple[int, bool]:
        if not query.finest:
            return self.generator.count_rows(query), True
        pairs = self.generator.max_rows(query) // max(1, self.generator._max_events())
        if pairs <= _EXACT_COUNT_BUDGET:
            return self.generator.count_rows(query), True
        # The mean number of events per hour is half the most.
        return round(pairs * self.generator.events_per_hour), False

    def __repr__(self) -> str:
        return f"FakeVidiCenter(url={self.url!r}, seed={self.generator.seed})"


@dataclass
class _Outcome:
    """What happened to a request, filled in while handling it, for the log."""

    user: str | None = None
    state: str | None = None
    fault: str | None = None
    build_started: bool = False
    data_sent: bool = False


# -- in process ------------------------------------------------------------------------------


class FakeTransport:
    """The in-process :class:`~vidiframe._transport.Transport` of a :class:`FakeVidiCenter`.

    ``get`` calls the fake's request handler directly. Each call in flight counts
    as one open connection (see ``enforce_connection_limit``). Faults are acted
    out as a socket would show them: a dropped connection raises
    :class:`ConnectionResetError`, a truncated body :class:`ConnectionError`, a
    slow body longer than ``timeout`` sleeps ``timeout`` and raises
    :class:`TimeoutError`, a trickle that outlasts the client's ``deadline``
    sleeps ``deadline`` and raises
    :class:`~vidiframe._transport.DeadlineExceededError`.

    Parameters
    ----------
    fake
        The server.
    client
        The client address to record and limit under.
    enforce_connection_limit
        Answer 429 to a call beyond ``limits.connections_per_ip`` calls in flight.
    """

    def __init__(
        self,
        fake: FakeVidiCenter,
        *,
        client: str = "in-process",
        enforce_connection_limit: bool = False,
    ) -> None:
        self.fake = fake
        self.client = client
        self.enforce_connection_limit = enforce_connection_limit

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, str],
        headers: Mapping[str, str],
        timeout: float,
        deadline: float | None = None,
    ) -> Response:
        """Send ``GET url?params``; see the class for how faults show."""
        split = urlsplit(url)
        merged = dict(parse_qsl(split.query, keep_blank_values=True))
        merged.update({k: str(v) for k, v in params.items() if v is not None})
        fake = self.fake
        allowed = fake._open_connection(self.client)
        refused = self.enforce_connection_limit and not allowed
        try:
            reply = fake._handle(
                "GET", split.path or "/", merged, headers, self.client, refused=refused
            )
            fault = reply.fault
            if isinstance(fault, DropConnection):
                raise ConnectionResetError("the fake VidiCenter dropped the connection")
            if isinstance(fault, TruncatedBody):
                sent = int(len(reply.body) * fault.fraction)
                raise ConnectionError(
                    f"connection closed after {sent} of {len(reply.body)} body bytes"
                )
            if isinstance(fault, SlowBody):
                # The longest a single read waits: the gap between two bytes of a trickle.
                gap = fault.trickle if fault.trickle is not None else fault.delay
                if gap > timeout:
                    fake.sleep(timeout)
                    raise TimeoutError(f"read timed out after {timeout} seconds")
                duration = fault.duration(reply.body)
                if deadline is not None and duration > deadline:
                    fake.sleep(deadline)
                    got = int(deadline / gap) if gap > 0 else len(reply.body)
                    raise DeadlineExceededError(
                        f"the response was not complete after {deadline:g} s ({got} bytes received)"
                    )
                fake.sleep(duration)
            return Response(reply.status, reply.body, dict(reply.headers))
        finally:
            fake._close_connection(self.client)

    def close(self) -> None:
        """Nothing to release: no socket is ever opened."""


# -- over a socket --------------------------------------------------------------------------


class _Server(ThreadingMixIn, HTTPServer):
    """A threading HTTP server on 127.0.0.1 that can close its live connections."""

    # Handler threads are joined on close, so no thread outlives the fake.
    daemon_threads = False
    block_on_close = True

    def __init__(self, fake: FakeVidiCenter, port: int) -> None:
        self.fake = fake
        self.closing = threading.Event()
        self._live: set[socket.socket] = set()
        self._live_lock = threading.Lock()
        super().__init__((_HOST, port), _Handler)

    def track(self, conn: socket.socket) -> None:
        with self._live_lock:
            self._live.add(conn)

    def untrack(self, conn: socket.socket) -> None:
        with self._live_lock:
            self._live.discard(conn)

    def stop_connections(self) -> None:
        """Wake every handler: idle keep-alive reads end, slow bodies stop waiting."""
        self.closing.set()
        with self._live_lock:
            live = list(self._live)
        for conn in live:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeVidiCenter/1.0"
    # Idle keep-alive connections are closed after this long. Short, because a fake
    # that a failed script never closed makes the interpreter wait this long at
    # exit for its (non-daemon) handler threads; the client reconnects for free.
    timeout = 5
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without this, Nagle's
        # algorithm and the client's delayed ACK stall every answer by ~40 ms.
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.peer = str(self.client_address[0])
        self.server.track(self.connection)
        self.refused = not self.server.fake._open_connection(self.peer)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.fake._close_connection(self.peer)
            self.server.untrack(self.connection)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        split = urlsplit(self.path)
        params = dict(parse_qsl(split.query, keep_blank_values=True))
        headers = dict(self.headers.items())
        reply = self.server.fake._handle(
            method, split.path, params, headers, self.peer, refused=self.refused
        )
        if self.refused:
            self.close_connection = True
        fault = reply.fault
        if isinstance(fault, DropConnection):
            self.close_connection = True
            # Reset rather than close politely: the client sees the connection die.
            with contextlib.suppress(OSError):
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
            return
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        body = reply.body
        try:
            if isinstance(fault, SlowBody) and fault.trickle is not None:
                for offset in range(len(body)):
                    if self.server.closing.is_set():
                        break
                    self.server.fake.sleep(fault.trickle)
                    self.wfile.write(body[offset : offset + 1])
                    self.wfile.flush()
            elif isinstance(fault, SlowBody):
                half = len(body) // 2
                self.wfile.write(body[:half])
                self.wfile.flush()
                self.server.closing.wait(fault.delay)
                self.wfile.write(body[half:])
            elif isinstance(fault, TruncatedBody):
                self.wfile.write(body[: int(len(body) * fault.fraction)])
                self.close_connection = True
            else:
                self.wfile.write(body)
        except OSError:
            # The client gave up (a read timeout on a slow body): nothing to answer.
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: the fake records requests in ``FakeVidiCenter.requests``."""
