"""The real transport: :mod:`requests` with at most two pooled connections.

:class:`RequestsTransport` implements :class:`~vidiframe._transport.Transport`.
It returns every HTTP status as a :class:`~vidiframe._transport.Response` and
turns every failure of the connection into :class:`ConnectionError` (one short
line naming the root cause), so no exception of :mod:`requests` or
:mod:`urllib3` reaches the caller.

Three rules beyond plain ``requests``:

- **a total deadline**: the body is read piece by piece and the request fails
  with :class:`~vidiframe._transport.DeadlineExceededError` once the whole
  exchange has lasted longer than its ``deadline``; ``timeout`` alone bounds
  each socket read, which a server sending a byte every half second never trips;
- **no proxy for loopback nor for plain http**: ``HTTP_PROXY`` and friends are
  honoured for ``https://`` servers (through a ``CONNECT`` tunnel, so the
  credentials travel inside TLS), never for a loopback host, and never for an
  ``http://`` URL: a proxy would receive the ``Authorization`` header in clear;
- **unreachable servers are named**: a refused connection, a connection that
  times out, or a host name that does not resolve raises
  :class:`~vidiframe._transport.UnreachableError`.
"""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

import requests
import requests.adapters
import urllib3.exceptions

from vidiframe._credentials import is_loopback
from vidiframe._policies import MAX_CONNECTIONS
from vidiframe._transport import DeadlineExceededError, Response, UnreachableError
from vidiframe._version import __version__

__all__ = ["USER_AGENT", "RequestsTransport", "proxies_for"]

USER_AGENT = f"vidiframe/{__version__} (+https://pypi.org/project/vidiframe/)"


# What the HTTP stack raises when a connection fails, drops or times out.
_CONNECTION_FAILURES = (
    requests.RequestException,
    urllib3.exceptions.HTTPError,
    http.client.HTTPException,
    OSError,
)
# Bytes asked for per read of the body: a read returns as soon as some arrive.
_PIECE = 1 << 20
# Every scheme key requests reads proxies from; None means "no proxy" for it.
_NO_PROXY: dict[str, str | None] = {"http": None, "https": None, "all": None}


def proxies_for(url: str) -> dict[str, str | None] | None:
    """The ``proxies`` argument for ``url``: ``None`` lets the environment decide.

    Examples
    --------
    >>> proxies_for("https://vidicenter.quividi.com/api/v1/data/") is None
    True
    >>> proxies_for("http://127.0.0.1:8000/api/v1/data/")
    {'http': None, 'https': None, 'all': None}
    >>> proxies_for("https://localhost:8443/") == proxies_for("http://example.com/")
    True
    """
    parts = urlsplit(url)
    if parts.scheme != "https" or is_loopback(parts.hostname or ""):
        return dict(_NO_PROXY)
    return None


class _HeaderAuth(requests.auth.AuthBase):
    """Sets ``Authorization`` as given.

    Passing auth explicitly stops requests from replacing the header with a
    ``~/.netrc`` entry for the host, while it still honours the environment's
    proxies and CA bundle.
    """

    def __init__(self, value: str):
        self._value = value

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = self._value
        return request

    def __repr__(self) -> str:
        return "_HeaderAuth(***)"


class RequestsTransport:
    """Sends GET requests with a :class:`requests.Session` of at most ``pool_size`` connections.

    Parameters
    ----------
    pool_size
        Connections kept open per host; a request waits for a free one rather
        than opening a third (the server allows two per IP).
    clock
        Monotonic seconds, read between pieces of a body to enforce the deadline
        (inject one to test it without waiting).

    Examples
    --------
    >>> transport = RequestsTransport()
    >>> transport
    RequestsTransport(pool_size=2)
    >>> transport.close()
    """

    def __init__(
        self, *, pool_size: int = MAX_CONNECTIONS, clock: Callable[[], float] = time.monotonic
    ):
        self.pool_size = pool_size
        self._clock = clock
        self._session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(
            pool_connections=1, pool_maxsize=pool_size, pool_block=True, max_retries=0
        )
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)
        self._session.headers["User-Agent"] = USER_AGENT

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, str],
        headers: Mapping[str, str],
        timeout: float,
        deadline: float | None = None,
    ) -> Response:
        """Send ``GET url?params``; raise :class:`ConnectionError` if the connection fails.

        ``timeout`` bounds the connection and each read, ``deadline`` the whole
        exchange (checked between pieces of the body, so it is overrun by at most
        one read, itself bounded by ``timeout``).
        """
        started = self._clock()
        headers = dict(headers)
        authorization = headers.pop("Authorization", None)
        try:
            reply = self._session.get(
                url,
                params=dict(params),
                headers=headers,
                auth=_HeaderAuth(authorization) if authorization is not None else None,
                timeout=timeout,
                # None values switch a scheme's proxy off (requests' own convention).
                proxies=proxies_for(url),  # type: ignore[arg-type]
                # A redirect could carry the credentials elsewhere: report it, never follow.
                allow_redirects=False,
                stream=True,
            )
        except _CONNECTION_FAILURES as error:
            raise _connection_error(error, url) from None
        try:
            body = self._read_body(reply, started, deadline)
        except DeadlineExceededError:
            reply.close()  # the connection is mid-body: it cannot be reused
            raise
        except _CONNECTION_FAILURES as error:
            reply.close()
            raise _connection_error(error, url) from None
        return Response(status=reply.status_code, body=body, headers=dict(reply.headers))

    def _read_body(self, reply: requests.Response, started: float, deadline: float | None) -> bytes:
        raw = reply.raw
        pieces: list[bytes] = []
        received = 0
        while True:
            # read1 returns as soon as some bytes arrive (read(n) would wait for n).
            piece = raw.read1(_PIECE, decode_content=True)
            if deadline is not None and self._clock() - started > deadline:
                raise DeadlineExceededError(
                    f"the response was not complete after {deadline:g} s "
                    f"({received + len(piece)} bytes received)"
                )
            if not piece:
                break
            pieces.append(piece)
            received += len(piece)
        # Read to the end: the connection goes back to the pool for the next request.
        raw.release_conn()
        return b"".join(pieces)

    def close(self) -> None:
        """Close the pooled connections."""
        self._session.close()

    def __repr__(self) -> str:
        return f"RequestsTransport(pool_size={self.pool_size})"


def _connection_error(error: BaseException, url: str) -> ConnectionError:
    """One short line for a failed request, naming its root cause.

    requests nests urllib3's errors (``MaxRetryError(NewConnectionError(...))``)
    whose text repeats the whole URL with its query; the root cause says it all.
    """
    where = urlsplit(url)
    host = f"{where.hostname}:{where.port}" if where.port else str(where.hostname)
    root = _root_cause(error)
    if isinstance(error, requests.exceptions.ProxyError):
        # The proxy of HTTPS_PROXY / ALL_PROXY, not the server, failed or refused.
        detail = "connection refused" if isinstance(root, ConnectionRefusedError) else str(root)
        return ConnectionError(f"the proxy for {host} failed: {detail[:160]}")
    if isinstance(root, ConnectionRefusedError):
        return UnreachableError(f"connection refused by {host}")
    if isinstance(error, requests.exceptions.ConnectTimeout):
        # Nothing answered the connection at all (a firewall dropping packets, a
        # wrong address): like a refusal, minutes of retries would not help.
        return UnreachableError(f"no answer from {host} (connection timed out)")
    if isinstance(root, socket.gaierror):
        return UnreachableError(f"cannot resolve host {where.hostname!r} (DNS: {root.strerror})")
    if isinstance(root, (TimeoutError, socket.timeout)) or isinstance(error, requests.Timeout):
        return ConnectionError(f"timed out talking to {host}")
    detail = str(root).split(" (Caused by", 1)[0]
    return ConnectionError(f"{type(root).__name__} talking to {host}: {detail[:160]}")


def _root_cause(error: BaseException) -> BaseException:
    seen: set[int] = set()
    current = error
    while id(current) not in seen:
        seen.add(id(current))
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            current = reason
        elif current.__cause__ is not None:
            current = current.__cause__
        elif current.__context__ is not None:
            current = current.__context__
        elif current.args and isinstance(current.args[0], BaseException):
            current = current.args[0]
        else:
            break
    return current
