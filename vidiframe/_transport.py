"""Transports: how a request reaches a VidiCenter server.

The client never talks to the network itself: it hands each request to a
:class:`Transport`. :class:`vidiframe._http.RequestsTransport` sends it over a real
socket; the fake server offers an in-process transport, so tests can run the whole
protocol without sockets, and with an injected clock.

A transport raises :class:`ConnectionError` (or another :class:`OSError`) when the
connection fails or drops; the client turns that into
:class:`~vidiframe.TransportError`. HTTP error statuses are *returned*, not raised.
Two failures are told apart because the client treats them differently:

- :class:`UnreachableError`: nobody answers at the address (connection refused
  or timed out, a host name that does not resolve). Retrying for minutes would not help: the
  client fails within seconds, in one line.
- :class:`DeadlineExceededError`: the whole exchange took longer than the
  ``deadline`` the client gave (a body that trickles in a byte at a time never
  trips a per-read timeout). Not retried: the next try would trickle as well.

``deadline`` is optional in :meth:`Transport.get`: a transport written before it
existed still works, bounding only each read by ``timeout``.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

__all__ = ["DeadlineExceededError", "Response", "Transport", "UnreachableError", "accepts_deadline"]


class UnreachableError(ConnectionError):
    """Nobody answers at the server's address: connection refused or timed out, no such host."""


class DeadlineExceededError(TimeoutError):
    """The response did not arrive in full within the deadline of the request."""


@dataclass(frozen=True)
class Response:
    """An HTTP response, reduced to what the client reads."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        """The value of header ``name`` (case-insensitive), or ``None``."""
        lowered = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lowered:
                return value
        return None


@runtime_checkable
class Transport(Protocol):
    """Sends one GET request and returns the response."""

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, str],
        headers: Mapping[str, str],
        timeout: float,
        deadline: float | None = None,
    ) -> Response:
        """Send ``GET url?params`` with ``headers``; raise ``OSError`` on connection failure.

        ``timeout`` bounds the connection and each read; ``deadline`` (seconds)
        bounds the whole exchange, body included, with
        :class:`DeadlineExceededError`.
        """
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def accepts_deadline(transport: Transport) -> bool:
    """Whether ``transport.get`` takes the ``deadline`` keyword (older transports do not).

    Examples
    --------
    >>> class Old:
    ...     def get(self, url, *, params, headers, timeout): ...
    >>> class New:
    ...     def get(self, url, *, params, headers, timeout, deadline=None): ...
    >>> accepts_deadline(Old()), accepts_deadline(New())
    (False, True)
    """
    try:
        parameters = inspect.signature(transport.get).parameters.values()
    except (TypeError, ValueError):  # a callable without a signature: assume the old one
        return False
    return any(p.name == "deadline" or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)
