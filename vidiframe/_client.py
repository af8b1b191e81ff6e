"""The VidiCenter client: credentials, limits, retries, and running one export.

:class:`VidiCenterClient` drives the export protocol
(:class:`~vidiframe._protocol.ExportProtocol`) over a
:class:`~vidiframe._transport.Transport`, applying the policies of
:mod:`vidiframe._policies`: the 50-calls-a-minute budget and the 3-exports /
2-connections limits shared by every thread using the client, retries of 5xx,
dropped connections and 429 (honouring ``Retry-After``), and the on-disk cache of
finished responses. Its clock and sleep are injectable, so tests run the whole
protocol against the fake server in no wall time.

The token is only ever put in the ``Authorization`` header: it is in no log
record, error message, ``repr`` or cache file.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final

import orjson
import tenacity

from vidiframe._budget import account_key, default_state_file
from vidiframe._cache import DEFAULT_TTL, ResponseCache, default_cache_dir, entry_key
from vidiframe._chunking import ChunkPlanner
from vidiframe._credentials import Credentials, resolve_credentials
from vidiframe._errors import (
    AuthenticationError,
    ExportFailedError,
    InvalidRequestError,
    RateLimitError,
    ResponseFormatError,
    TransportError,
)
from vidiframe._policies import (
    Backoff,
    BuildTimeEstimator,
    CallBudget,
    Limits,
    PollSchedule,
    RateLimited,
    RetryPolicy,
    ServerFailure,
    Unreachable,
    check_number,
    parse_retry_after,
)
from vidiframe._protocol import Done, ExportProtocol, Send, Wait
from vidiframe._query import ExportQuery
from vidiframe._transport import (
    DeadlineExceededError,
    Response,
    Transport,
    UnreachableError,
    accepts_deadline,
)
from vidiframe._wire import DATA_PATH, PENDING_STATES, WHOAMI_PATH

__all__ = ["DATA_PATH", "WHOAMI_PATH", "Cancelled", "VidiCenterClient"]

logger = logging.getLogger("vidiframe")

# Polls in a row an export may skip because a sibling chunk just polled.
_MAX_SKIPS = 2


class _Default:
    def __repr__(self) -> str:
        return "<default>"


_DEFAULT: Final = _Default()

StateCallback = Callable[[str], None]


class Cancelled(Exception):  # noqa: N818 - a signal between threads, not an error
    """The read this export belongs to was interrupted; the worker stops quietly."""


class VidiCenterClient:
    """A connection to VidiCenter's data export API.

    Parameters
    ----------
    username, token
        The API credentials. When not given: ``VIDICENTER_USERNAME`` /
        ``VIDICENTER_TOKEN``, then the ``~/.netrc`` entry of the server's host.
    base_url
        The server; default ``VIDICENTER_URL``, else
        ``https://vidicenter.quividi.com``. Plain ``http://`` is refused
        (:class:`~vidiframe.InsecureURLError`) unless the host is loopback.
    transport
        How requests are sent (default: :class:`~vidiframe._http.RequestsTransport`
        with two pooled connections). The fake server's ``transport()`` runs
        everything in process.
    clock, sleep
        Time in seconds and a way to wait. Inject both (e.g. a
        :class:`~vidiframe.testing.ManualClock` and its ``sleep``) to run without
        waiting. Default: the real monotonic clock and an interruptible sleep.
    cache_dir
        Where finished responses are cached (default
        :func:`~vidiframe._cache.default_cache_dir`); ``None`` disables the cache.
    cache_ttl
        Seconds a cached response is reused (default 24 h, like the server).
    planner
        How large requests are cut into chunks.
    retry
        Retries of a request after a 5xx, a dropped connection or a 429.
    poll_backoff
        Delays between polls of an export being built (with jitter).
    budget
        The call budget (default 50 calls per minute). By default it is shared
        by every process of this user on the machine, through a small locked
        state file (:func:`~vidiframe._budget.default_state_file`), so scripts
        running side by side do not earn each other 429s; with an injected
        ``clock`` or ``sleep`` the default budget is this client's own.
    limits
        Exports in flight and open connections (default 3 and 2).
    request_timeout
        Seconds to wait for a connection, and for each read of an answer.
    download_timeout
        Seconds one request may take in total, body included: a server that
        sends its answer a byte at a time never trips ``request_timeout``, and
        this ends it (:class:`~vidiframe.TransportError`, not retried).
    export_timeout
        Seconds an export may take to build before the read gives up.
    rng
        Source of the jitter of the default backoffs (seed it for repeatable runs).
    netrc_path
        The netrc file to read credentials from (default ``~/.netrc``).

    Examples
    --------
    >>> client = VidiCenterClient("demo", "s3cret-token", "http://127.0.0.1:8000", cache_dir=None)
    >>> client
    VidiCenterClient(username='demo', base_url='http://127.0.0.1:8000', cache_dir=None)
    >>> "s3cret" in repr(client) + str(client.credentials)
    False
    >>> client.close()
    """

    def __init__(
        self,
        username: str | None = None,
        token: str | None = None,
        base_url: str | None = None,
        *,
        transport: Transport | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
        cache_dir: str | os.PathLike[str] | _Default | None = _DEFAULT,
        cache_ttl: float = DEFAULT_TTL,
        planner: ChunkPlanner | None = None,
        retry: RetryPolicy | None = None,
        poll_backoff: Backoff | None = None,
        budget: CallBudget | None = None,
        limits: Limits | None = None,
        request_timeout: float = 60.0,
        export_timeout: float = 3600.0,
        rng: random.Random | None = None,
        netrc_path: str | os.PathLike[str] | None = None,
        download_timeout: float = 1800.0,
    ):
        # First: a bad or insecure URL must fail before anything else happens.
        self.credentials: Credentials = resolve_credentials(
            username, token, base_url, netrc_path=netrc_path
        )
        for name, seconds in (
            ("request_timeout", request_timeout),
            ("export_timeout", export_timeout),
            ("download_timeout", download_timeout),
        ):
            check_number(name, seconds, low=0.0, low_open=True)
        check_number("cache_ttl", cache_ttl, low=0.0)  # 0: never reuse a cached response
        policies: tuple[tuple[str, object, type], ...] = (
            ("limits", limits, Limits),
            ("planner", planner, ChunkPlanner),
            ("retry", retry, RetryPolicy),
            ("poll_backoff", poll_backoff, Backoff),
            ("budget", budget, CallBudget),
        )
        for name, value, kind in policies:
            if value is not None and not isinstance(value, kind):
                raise InvalidRequestError(
                    f"{name} must be a {kind.__name__} or None, got {type(value).__name__}"
                )
        self.limits = limits if limits is not None else Limits()
        self._monotonic = clock if clock is not None else time.monotonic
        self._wall = clock if clock is not None else time.time
        self._sleep_fn = sleep
        rng = rng if rng is not None else random.Random()  # noqa: S311 - jitter only
        self.retry = retry if retry is not None else RetryPolicy(backoff=_retry_backoff(rng))
        self.poll_backoff = poll_backoff if poll_backoff is not None else _poll_backoff(rng)
        self.budget = budget if budget is not None else self._default_budget(clock, sleep)
        self.planner = planner if planner is not None else ChunkPlanner()
        self.request_timeout = request_timeout
        self.export_timeout = export_timeout
        self.download_timeout = download_timeout
        if isinstance(cache_dir, _Default):
            cache_dir = default_cache_dir()
        elif cache_dir is not None and not isinstance(cache_dir, (str, os.PathLike)):
            raise InvalidRequestError(f"cache_dir must be a path or None, got {cache_dir!r}")
        self.cache: ResponseCache | None = (
            None if cache_dir is None else ResponseCache(cache_dir, ttl=cache_ttl, clock=self._wall)
        )
        self._own_transport = transport is None
        self._transport: Transport | None = transport
        self._transport_lock = threading.Lock()
        # Created now (no socket is opened yet) so a read's first request does not
        # pay for importing the HTTP stack.
        # Transports written before deadlines existed bound each read only.
        self._deadline = accepts_deadline(self._get_transport())
        self._exports = threading.BoundedSemaphore(self.limits.exports)
        self._connections = threading.BoundedSemaphore(self.limits.connections)
        self._stats_lock = threading.Lock()
        #: Requests sent (each attempt counts), cache hits, and retries, since creation.
        self.stats: dict[str, int] = {"calls": 0, "cache_hits": 0, "retries": 0}

    # -- public -----------------------------------------------------------------------------

    @property
    def username(self) -> str:
        """The account's username."""
        return self.credentials.username

    @property
    def base_url(self) -> str:
        """The server's URL, without a trailing slash."""
        return self.credentials.base_url

    def whoami(self) -> dict[str, Any]:
        """Ask the server who the credentials belong to (``GET /api/v1/whoami/``).

        Returns
        -------
        dict
            The server's answer, e.g. ``{"username": "demo"}``.

        Raises
        ------
        AuthenticationError
            The server refused the credentials.
        TransportError
            The server could not be reached.
        """
        response = self._request(WHOAMI_PATH, {}, what="whoami")
        try:
            document = orjson.loads(response.body)
        except orjson.JSONDecodeError as error:
            raise ResponseFormatError(
                f"whoami answer is not JSON ({error.msg} at byte {error.pos})", position=error.pos
            ) from None
        if not isinstance(document, dict):
            raise ResponseFormatError("whoami answer is not a JSON object", position=0)
        return document

    def get_resource(
        self,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        use_cache: bool = True,
        refresh: bool = False,
    ) -> bytes:
        """GET one of the API's plain JSON endpoints (topology, tags, clips, alerts).

        The request counts against the same call budget and connection limit as
        exports and is retried alike; the body is not parsed here.

        Parameters
        ----------
        path
            The path, e.g. ``/api/v1/locations/`` (see
            :data:`vidiframe._wire.DIMENSION_PATHS`).
        params
            Query parameters.
        use_cache
            Serve a cached body when there is a fresh one, and cache the answer.
        refresh
            Ask the server even when the cache has a body (and replace it).

        Raises
        ------
        AuthenticationError, InvalidRequestError, RateLimitError, TransportError
            As for every request (a 404 names the path).
        """
        params = dict(params or {})
        key = entry_key(
            "GET " + path + "?" + "&".join(f"{k}={v}" for k, v in sorted(params.items())),
            base_url=self.base_url,
            username=self.username,
        )
        if use_cache and not refresh and self.cache is not None:
            body = self._cached(key)
            if body is not None:
                with self._stats_lock:
                    self.stats["cache_hits"] += 1
                logger.info("GET %s: from the cache", path)
                return body
        body = self._request(path, params, what=f"GET {path}").body
        if use_cache and self.cache is not None:
            # Through the export path's helpers: a cache that fails never costs the body.
            self._keep(key, body, f"GET {path}")
        return body

    def fetch_export(
        self,
        query: ExportQuery,
        *,
        force_rebuild: bool = False,
        estimator: BuildTimeEstimator | None = None,
        on_state: StateCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> bytes:
        """Run one export to the end and return the body of its finished response.

        A cached response is returned without any call, unless ``force_rebuild``:
        then the export is rebuilt on the server and the cache entry replaced.

        Parameters
        ----------
        query
            The export (one chunk; see :class:`~vidiframe._chunking.ChunkPlanner`).
        force_rebuild
            Rebuild the export on the server (sent on the first request only).
        estimator
            Shared by the chunks of one read to poll when builds are likely done.
        on_state
            Called with each state of the export: ``cached``, ``started``,
            ``in_progress``, ``finished``, ``downloading``, ``downloaded``.
        cancel
            When set (by another thread), the export is abandoned with
            :class:`Cancelled` at the next request or wait.

        Raises
        ------
        ExportFailedError
            The server failed the export (``fail_reason`` says why).
        ExportNotReadyError
            The export was still being built after ``export_timeout``.
        AuthenticationError, RateLimitError, TransportError
            As for every request.
        """
        notify = on_state if on_state is not None else _ignore
        key = self.cache_key(query)
        if self.cache is not None and not force_rebuild:
            body = self._cached(key)
            if body is not None:
                with self._stats_lock:
                    self.stats["cache_hits"] += 1
                logger.info("export %s: from the cache", query.describe())
                notify("cached")
                return body
        protocol = ExportProtocol(
            query,
            force_rebuild=force_rebuild,
            schedule=PollSchedule(
                self.poll_backoff,
                hint=estimator.hint if estimator else None,
                quantile=estimator.quantile if estimator else 0.5,
            ),
            timeout=self.export_timeout,
        )
        body = self._run(protocol, notify, cancel, estimator)
        if self.cache is not None:
            self._keep(key, body, f"the export {query.describe()}")
        notify("downloaded")
        return body

    def cache_key(self, query: ExportQuery) -> str:
        """The cache key of ``query`` for this server and user (never involving the token)."""
        return entry_key(query.cache_key(), base_url=self.base_url, username=self.username)

    def forget(self, query: ExportQuery) -> None:
        """Drop the cached response of ``query`` (e.g. one that turned out unreadable)."""
        if self.cache is not None:
            try:
                self.cache.discard(self.cache_key(query))
            except OSError as error:
                logger.warning(
                    "cache: cannot remove the entry of %s (%s)", query.describe(), _reason(error)
                )

    # -- the cache never costs a frame ---------------------------------------------------------

    def _cached(self, key: str) -> bytes | None:
        assert self.cache is not None
        try:
            return self.cache.get(key)
        except OSError as error:
            # An unreadable cache is a cache miss: the server has the data.
            logger.warning(
                "cache: cannot read %s (%s); fetching", self.cache.directory, _reason(error)
            )
            return None

    def _keep(self, key: str, body: bytes, what: str) -> None:
        """Cache ``body``; a full or read-only disk costs the cache entry, never the body."""
        assert self.cache is not None
        try:
            self.cache.put(key, body)
        except OSError as error:
            logger.warning(
                "cache: cannot store %s in %s (%s); the read goes on without it",
                what,
                self.cache.directory,
                _reason(error),
            )

    def _default_budget(
        self, clock: Callable[[], float] | None, sleep: Callable[[float], None] | None
    ) -> CallBudget:
        if clock is not None or sleep is not None:
            # An injected clock or sleep is this client's time only: a file shared with
            # other processes needs the time they share, and their waits to be real.
            return CallBudget(clock=self._monotonic)
        return CallBudget(
            clock=time.time,
            state_file=default_state_file(),
            account=account_key(self.base_url, self.username),
        )

    def close(self) -> None:
        """Close the connections of the transport the client created."""
        with self._transport_lock:
            if self._transport is not None and self._own_transport:
                self._transport.close()
                self._transport = None

    def __enter__(self) -> VidiCenterClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        cache = None if self.cache is None else str(self.cache.directory)
        return (
            f"VidiCenterClient(username={self.username!r}, base_url={self.base_url!r}, "
            f"cache_dir={cache!r})"
        )

    # -- one export ---------------------------------------------------------------------------

    def _run(
        self,
        protocol: ExportProtocol,
        notify: StateCallback,
        cancel: threading.Event | None,
        estimator: BuildTimeEstimator | None,
    ) -> bytes:
        query = protocol.query
        first_sent: list[float] = []
        observed = False
        skipped = 0

        def on_send(kind: str) -> Callable[[float], None]:
            def record(at: float) -> None:
                # A retried start counts from its last attempt: that is when the build began.
                if kind == "start":
                    first_sent[:] = [at]

            return record

        with self._export_slot(cancel) as slot:
            while True:
                event = protocol.next_event()
                if isinstance(event, Done):
                    return event.body
                if isinstance(event, Wait):
                    logger.debug("export %s: next poll in %.2f s", query.describe(), event.seconds)
                    self._wait_for_poll(event.seconds, first_sent[0], estimator, cancel)
                    elapsed = self._monotonic() - first_sent[0]
                    # A sibling chunk polled at this point of its build a moment ago and
                    # was not done: save the call. Not more than twice in a row, in case
                    # this chunk builds faster than its siblings.
                    if estimator is not None and skipped < _MAX_SKIPS and estimator.covers(elapsed):
                        # Aim between the sibling's polls rather than on them.
                        protocol.skip_poll(elapsed=elapsed, shorten=0.5)
                        skipped += 1
                    continue
                assert isinstance(event, Send)
                if protocol.building:
                    slot.acquire()  # the start: a build slot before the server sees it
                else:
                    notify("downloading")
                response = self._request(
                    DATA_PATH,
                    event.params,
                    what=f"{event.kind} {query.describe()}",
                    on_send=on_send(event.kind),
                    cancel=cancel,
                )
                elapsed = self._monotonic() - first_sent[0]
                try:
                    protocol.receive(response.body, elapsed=elapsed)
                except (ExportFailedError, ResponseFormatError) as error:
                    raise self._redacted(error) from None
                skipped = 0
                if estimator is not None and protocol.state in PENDING_STATES:
                    estimator.observe_pending(elapsed)
                if protocol.building:
                    # Still (or, after an expired download, again) building: hold a slot.
                    slot.acquire()
                else:
                    # Built: let the next export start while this one downloads.
                    slot.release()
                    if estimator is not None and not observed and protocol.pending_at is not None:
                        # Told now, not after the download: exports starting in the
                        # meantime already poll at the right time.
                        assert protocol.finished_at is not None
                        estimator.observe(
                            pending=protocol.pending_at, finished=protocol.finished_at
                        )
                        observed = True
                assert protocol.state is not None
                logger.info(
                    "export %s: %s (%s, %.1f s)",
                    query.describe(),
                    protocol.state,
                    event.kind,
                    self._monotonic() - first_sent[0],
                )
                notify(protocol.state)

    def _wait_for_poll(
        self,
        seconds: float,
        started: float,
        estimator: BuildTimeEstimator | None,
        cancel: threading.Event | None,
    ) -> None:
        """Wait for the next poll; cut short when a sibling chunk's build just finished.

        A sibling that finished after ``hi`` seconds of building says this build is
        likely done by then too: polling at the planned time could be much later.
        Only with the real clock: an injected ``sleep`` cannot be interrupted.
        """
        if estimator is None or self._sleep_fn is not None:
            self._pause(seconds, cancel)
            return
        deadline = self._monotonic() + seconds
        seen = estimator.generation
        while (remaining := deadline - self._monotonic()) > 0:
            # In slices, so an interrupted read is noticed quickly.
            news = estimator.wait_for_news(min(remaining, 0.25), seen=seen)
            _check(cancel)
            if news > seen:
                seen = news
                hint = estimator.hint()
                if hint is not None:
                    deadline = min(deadline, started + hint[1] * 1.02)

    @contextlib.contextmanager
    def _export_slot(self, cancel: threading.Event | None) -> Iterator[_Slot]:
        slot = _Slot(self._exports, cancel)
        try:
            yield slot
        finally:
            slot.release()

    # -- one request -----------------------------------------------------------------------------

    def _request(
        self,
        path: str,
        params: Mapping[str, str],
        *,
        what: str,
        on_send: Callable[[float], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> Response:
        """GET ``path`` with retries; return a 2xx response or raise the public error."""
        url = self.base_url + path
        headers = {"Authorization": self.credentials.authorization(), "Accept": "application/json"}

        def attempt() -> Response:
            _check(cancel)
            with self._connections:
                # Booked once a connection is ours, so the call goes out at its slot:
                # booked earlier, a wait for a connection could bunch calls together.
                wait = self.budget.reserve()
                if wait > 0:
                    logger.info("call budget spent: waiting %.1f s before %s", wait, what)
                    self._pause(wait, cancel)
                if on_send is not None:
                    on_send(self._monotonic())
                with self._stats_lock:
                    self.stats["calls"] += 1
                deadline = {"deadline": self.download_timeout} if self._deadline else {}
                try:
                    response = self._get_transport().get(
                        url,
                        params=params,
                        headers=headers,
                        timeout=self.request_timeout,
                        **deadline,
                    )
                except DeadlineExceededError as error:
                    raise _GaveUp(
                        f"{error}; download_timeout is {self.download_timeout:g} s"
                    ) from None
                except (UnreachableError, ConnectionRefusedError, socket.gaierror) as error:
                    raise Unreachable(self.credentials.redact(_reason(error))) from None
                except OSError as error:
                    detail = self.credentials.redact(f"{type(error).__name__}: {error}")
                    raise ServerFailure(f"connection failed ({detail})") from None
            logger.debug("GET %s %s -> %d", path, what, response.status)
            if response.status == 429:
                retry_after = parse_retry_after(response.header("Retry-After"), now=self._wall())
                if retry_after is not None and retry_after <= self.retry.max_retry_after:
                    # Every holder of the budget (other threads, other processes) waits too.
                    self.budget.pause(retry_after)
                raise RateLimited(
                    f"HTTP 429 (Retry-After: {response.header('Retry-After')})",
                    retry_after=retry_after,
                )
            if response.status >= 500:
                raise ServerFailure(
                    f"HTTP {response.status}: {self._server_message(response)}",
                    status=response.status,
                )
            return response

        def before_sleep(state: tenacity.RetryCallState) -> None:
            with self._stats_lock:
                self.stats["retries"] += 1
            error = state.outcome.exception() if state.outcome is not None else None
            # Nobody answering fails in a second or two, in one line: no warning per try.
            level = logging.DEBUG if isinstance(error, Unreachable) else logging.WARNING
            logger.log(
                level,
                "%s: %s; retry %d in %.1f s",
                what,
                error,
                state.attempt_number,
                state.upcoming_sleep,
            )
            _check(cancel)

        try:
            response: Response = self.retry.call(
                attempt, sleep=lambda s: self._pause(s, cancel), before_sleep=before_sleep
            )
        except _GaveUp as error:
            raise TransportError(f"{what} at {self.base_url}: {error}") from None
        except Unreachable as error:
            raise TransportError(
                f"cannot reach VidiCenter at {self.base_url}: {error} "
                "(check base_url / VIDICENTER_URL)"
            ) from None
        except RateLimited as error:
            raise RateLimitError(
                f"VidiCenter kept refusing {what} as over its rate limits: {error} "
                f"(waited up to {self.retry.rate_limit_patience:g} s in all)",
                status=429,
            ) from None
        except ServerFailure as error:
            raise TransportError(
                f"{what} failed at {self.base_url}: {error} (after {self.retry.max_attempts} "
                "attempts)",
                status=error.status,
            ) from None
        return self._check_status(response, what)

    def _check_status(self, response: Response, what: str) -> Response:
        status = response.status
        if 200 <= status < 300:
            return response
        message = self._server_message(response)
        if status == 401:
            raise AuthenticationError(
                f"VidiCenter at {self.base_url} refused the credentials of user "
                f"{self.username!r} (HTTP 401: {message}); check the token "
                "(VIDICENTER_TOKEN, ~/.netrc)",
                status=401,
            )
        if status == 403:
            raise AuthenticationError(
                f"user {self.username!r} may not run {what} at {self.base_url} "
                f"(HTTP 403: {message})",
                status=403,
            )
        if status == 400:
            raise InvalidRequestError(f"VidiCenter refused {what} (HTTP 400: {message})")
        if 300 <= status < 400:
            location = response.header("Location")
            raise TransportError(
                f"{what}: HTTP {status} redirect to {location!r} not followed (check base_url)",
                status=status,
            )
        hint = " (is base_url a VidiCenter server?)" if status == 404 else ""
        raise TransportError(f"{what} failed: HTTP {status}: {message}{hint}", status=status)

    def _redacted(
        self, error: ExportFailedError | ResponseFormatError
    ) -> ExportFailedError | ResponseFormatError:
        """The same error, with the token removed from what the server said in it."""
        message = self.credentials.redact(str(error))
        if isinstance(error, ExportFailedError):
            reason = error.fail_reason
            return ExportFailedError(
                message,
                fail_reason=None if reason is None else self.credentials.redact(reason),
                query=error.query,
            )
        return ResponseFormatError(message, position=error.position, key=error.key)

    def _server_message(self, response: Response) -> str:
        try:
            document = orjson.loads(response.body)
        except orjson.JSONDecodeError:
            document = None
        if isinstance(document, dict) and "message" in document:
            text = str(document["message"])
        else:
            text = response.body[:200].decode("utf-8", "replace").strip() or "empty body"
        return self.credentials.redact(text)

    def _get_transport(self) -> Transport:
        with self._transport_lock:
            if self._transport is None:
                from vidiframe._http import RequestsTransport

                self._transport = RequestsTransport(
                    pool_size=self.limits.connections, clock=self._monotonic
                )
            return self._transport

    def _pause(self, seconds: float, cancel: threading.Event | None) -> None:
        if seconds <= 0:
            _check(cancel)
            return
        if self._sleep_fn is not None:
            self._sleep_fn(seconds)
        elif cancel is not None:
            # Wakes up at once when the read is interrupted.
            cancel.wait(seconds)
        else:
            time.sleep(seconds)
        _check(cancel)


class _Slot:
    """One of the client's export slots, held while the server builds the export."""

    def __init__(self, semaphore: threading.BoundedSemaphore, cancel: threading.Event | None):
        self._semaphore = semaphore
        self._cancel = cancel
        self.held = False

    def acquire(self) -> None:
        if self.held:
            return
        # Polled with a timeout so an interrupted read does not leave threads waiting forever.
        while not self._semaphore.acquire(timeout=0.05):
            _check(self._cancel)
        self.held = True

    def release(self) -> None:
        if self.held:
            self.held = False
            self._semaphore.release()


class _GaveUp(Exception):  # noqa: N818 - internal signal, never leaves the client
    """A failure not worth retrying (a download past its deadline)."""


def _reason(error: BaseException) -> str:
    """An OS error in a few words (``strerror``), else its message."""
    return getattr(error, "strerror", None) or str(error) or type(error).__name__


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled


def _ignore(_state: str) -> None:
    return None


def _retry_backoff(rng: random.Random) -> Backoff:
    return Backoff(initial=1.0, factor=2.0, maximum=30.0, jitter=0.5, rng=rng)


def _poll_backoff(rng: random.Random) -> Backoff:
    return Backoff(initial=1.0, factor=1.3, maximum=30.0, jitter=0.1, rng=rng)
