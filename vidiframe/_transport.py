"""Transports: how a request reaches a VidiCenter server.

The client never talks to the network itself: it hands each request to a
:class:`Transport`. :class:`vidiframe._http.RequestsTransport` sends it over a real
socket; the fake server offers an in-process transport, so tests can run the whole
protocol without sockets, and with an injected clock.

A transport raises :class:`ConnectionError` (or another :class:`OSError`) when the
connection fails or drops; the client turns that into
:class:`~vidiframe.TransportError`. HTTP error statuses are *returned*, not raised.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

__all__ = ["Response", "Transport"]


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
    ) -> Response:
        """Send ``GET url?params`` with ``headers``; raise ``OSError`` on connection failure."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
