"""A TCP proxy on 127.0.0.1 between a client and an S3 server, for network-fault tests.

It forwards both ways and records the request line (method and path) of every
HTTP request the client sends. Armed with ``cut`` patterns, it drops a
connection that sends one (the server never receives the whole request, as a
broken network would); with ``hold``, it keeps such a request unanswered until
the proxy closes (a writer stopped at a known request).
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading

__all__ = ["Proxy"]

_REQUEST_LINE = re.compile(rb"(GET|PUT|POST|HEAD|DELETE) (\S+) HTTP/1\.[01]\r\n")
# Bytes kept from the end of a chunk in case a request line is split between two.
_KEEP = 512


class Proxy:
    """Forwards TCP to ``target``; cuts or holds requests that send given bytes.

    Attributes
    ----------
    port
        The port to point the client at.
    requests
        ``(method, path)`` of each request sent, in order (paths as sent,
        percent-encoding included).
    armed
        Set it to cut the connections that send one of ``cut``; clear it to let
        everything through again.
    cuts
        How many connections were cut.
    held
        Set once a request sending ``hold`` is held.
    """

    def __init__(
        self,
        target: tuple[str, int],
        *,
        cut: tuple[bytes, ...] = (),
        hold: bytes | None = None,
    ) -> None:
        self.target, self.cut, self.hold = target, cut, hold
        self.requests: list[tuple[str, str]] = []
        self.armed = threading.Event()
        self.cuts = 0
        self.held = threading.Event()
        self.closing = threading.Event()
        self._lock = threading.Lock()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _record(self, pending: bytes, data: bytes) -> bytes:
        """Record the request lines in ``pending + data``; return the bytes to keep."""
        buffer = pending + data
        end = 0
        with self._lock:
            for match in _REQUEST_LINE.finditer(buffer):
                self.requests.append((match.group(1).decode(), match.group(2).decode()))
                end = match.end()
        return buffer[end:][-_KEEP:]

    def _pump(self, source: socket.socket, sink: socket.socket, inspect: bool) -> None:
        pending = b""
        try:
            while data := source.recv(65536):
                if inspect:
                    if self.armed.is_set() and any(c in data for c in self.cut):
                        with self._lock:
                            self.cuts += 1
                        break
                    if self.hold is not None and self.hold in data:
                        self.held.set()
                        self.closing.wait()  # the server never sees it
                        break
                    pending = self._record(pending, data)
                sink.sendall(data)
        except OSError:
            pass
        for s in (source, sink):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def count(self, method: str, path_part: str = "") -> int:
        """How many ``method`` requests were sent whose path holds ``path_part``."""
        with self._lock:
            return sum(1 for m, p in self.requests if m == method and path_part in p)

    def close(self) -> None:
        self.closing.set()
        self.server.close()
