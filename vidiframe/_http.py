"""The real transport: :mod:`requests` with at most two pooled connections.

:class:`RequestsTransport` implements :class:`~vidiframe._transport.Transport`.
It returns every HTTP status as a :class:`~vidiframe._transport.Response` and
turns every failure of the connection into :class:`ConnectionError`, so no
exception of :mod:`requests` or :mod:`urllib3` reaches the caller.
"""

from __future__ import annotations

import http.client
from collections.abc import Mapping

import requests
import requests.adapters
import urllib3.exceptions

from vidiframe._policies import MAX_CONNECTIONS
from vidiframe._transport import Response
from vidiframe._version import __version__

__all__ = ["USER_AGENT", "RequestsTransport"]

USER_AGENT = f"vidiframe/{__version__} (+https://pypi.org/project/vidiframe/)"


# What the HTTP stack raises when a connection fails, drops or times out.
_CONNECTION_FAILURES = (
    requests.RequestException,
    urllib3.exceptions.HTTPError,
    http.client.HTTPException,
    OSError,
)


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

    Examples
    --------
    >>> transport = RequestsTransport()
    >>> transport
    RequestsTransport(pool_size=2)
    >>> transport.close()
    """

    def __init__(self, *, pool_size: int = MAX_CONNECTIONS):
        self.pool_size = pool_size
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
    ) -> Response:
        """Send ``GET url?params``; raise :class:`ConnectionError` if the connection fails."""
        headers = dict(headers)
        authorization = headers.pop("Authorization", None)
        try:
            reply = self._session.get(
                url,
                params=dict(params),
                headers=headers,
                auth=_HeaderAuth(authorization) if authorization is not None else None,
                timeout=timeout,
                # A redirect could carry the credentials elsewhere: report it, never follow.
                allow_redirects=False,
            )
            body = reply.content
        except _CONNECTION_FAILURES as error:
            # Chained exceptions would carry requests' types (and the request) to the caller.
            raise ConnectionError(f"{type(error).__name__} on GET {url}: {error}") from None
        return Response(status=reply.status_code, body=body, headers=dict(reply.headers))

    def close(self) -> None:
        """Close the pooled connections."""
        self._session.close()

    def __repr__(self) -> str:
        return f"RequestsTransport(pool_size={self.pool_size})"
