"""The client under hostile conditions: trickling bodies, proxies, dead addresses, a
neighbour spending the call budget, a cache that cannot write, and one reader of
the export state. Every clock is injected; servers and proxies listen on 127.0.0.1.
"""

from __future__ import annotations

import errno
import logging
import socket
import socketserver
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from polars.testing import assert_frame_equal

import vidiframe as vf
import vidiframe.testing as vt
from vidiframe import _wire
from vidiframe._cache import ResponseCache
from vidiframe._client import VidiCenterClient
from vidiframe._policies import Backoff, CallBudget, RetryPolicy
from vidiframe._protocol import read_state
from vidiframe._query import make_query
from vidiframe.testing import FakeVidiCenter, ManualClock, RateLimited, SlowBody

TOKEN = "Tk-f4ults-51a7e"
QUERY = make_query(
    data_type="ots",
    time_resolution="1h",
    start="2025-01-01T00:00:00",
    end="2025-01-01T05:59:59",
    locations=[4636],
)
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def fake(clock: ManualClock) -> Iterator[FakeVidiCenter]:
    with FakeVidiCenter(token=TOKEN, clock=clock, build_seconds=4.0, serve=False) as server:
        yield server


@pytest.fixture(autouse=True)
def no_proxy_from_the_machine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # The tests set the proxies they mean; the shared call budget lives in tmp_path.
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("VIDIFRAME_STATE_DIR", str(tmp_path / "state"))


def client_for(fake: FakeVidiCenter, clock: ManualClock, **kwargs: Any) -> VidiCenterClient:
    options: dict[str, Any] = {
        "transport": fake.transport(),
        "clock": clock,
        "sleep": clock.sleep,
        "cache_dir": None,
        "retry": RetryPolicy(max_attempts=4, backoff=Backoff(initial=1.0, jitter=0.0)),
        "poll_backoff": Backoff(initial=1.0, factor=2.0, jitter=0.0),
        **kwargs,
    }
    return VidiCenterClient("demo", TOKEN, "http://127.0.0.1:9", **options)


def expected_body(fake: FakeVidiCenter) -> bytes:
    return fake.response_body(
        "ots", "1h", start="2025-01-01T00:00:00", end="2025-01-01T05:59:59", locations=[4636]
    )


# -- a total deadline per download ------------------------------------------------------------

# Start, polls at 1, 3 and 7 s (the build takes 4 s), then the download: data call 5.
DOWNLOAD = 5


def test_a_trickling_download_ends_at_its_deadline(
    fake: FakeVidiCenter, clock: ManualClock
) -> None:
    rule = fake.inject(SlowBody(trickle=0.5), at=DOWNLOAD)
    client = client_for(fake, clock, download_timeout=30.0, request_timeout=5.0)
    assert len(expected_body(fake)) * 0.5 > 30.0  # the trickle would outlast the deadline
    with pytest.raises(vf.TransportError, match=r"not complete after 30 s") as info:
        client.fetch_export(QUERY)
    assert "download_timeout is 30 s" in str(info.value)
    assert [c.path_number for c in rule.fired] == [DOWNLOAD]
    # Not retried: a second try would trickle as well.
    assert len(fake.data_requests) == DOWNLOAD
    assert clock.sleeps[-1] == 30.0


def test_a_slow_but_steady_download_within_its_deadline_arrives(
    fake: FakeVidiCenter, clock: ManualClock
) -> None:
    fake.inject(SlowBody(trickle=0.01), at=DOWNLOAD)
    body = client_for(fake, clock, download_timeout=30.0).fetch_export(QUERY)
    assert body == expected_body(fake)
    assert clock.sleeps[-1] == pytest.approx(0.01 * len(body))


def test_the_real_transport_enforces_the_deadline_over_a_socket(clock: ManualClock) -> None:
    # The fake trickles a byte per 0.5 s of the manual clock; the real transport reads
    # the same clock between pieces, so the outcome does not depend on real timing.
    with FakeVidiCenter(token=TOKEN, clock=clock, sleep=clock.advance, build_seconds=4.0) as fake:
        fake.inject(SlowBody(trickle=0.5), at=DOWNLOAD)
        client = VidiCenterClient(
            "demo",
            TOKEN,
            fake.url,
            clock=clock,
            sleep=clock.sleep,
            cache_dir=None,
            poll_backoff=Backoff(initial=1.0, factor=2.0, jitter=0.0),
            download_timeout=30.0,
        )
        with client, pytest.raises(vf.TransportError, match=r"not complete after 30 s"):
            client.fetch_export(QUERY)
        assert len(fake.data_requests) == DOWNLOAD


def test_a_transport_without_deadline_support_still_works(
    fake: FakeVidiCenter, clock: ManualClock
) -> None:
    inner = fake.transport()

    class OldTransport:
        def get(self, url: str, *, params: Any, headers: Any, timeout: float) -> Any:
            return inner.get(url, params=params, headers=headers, timeout=timeout)

        def close(self) -> None:
            pass

    body = client_for(fake, clock, transport=OldTransport()).fetch_export(QUERY)
    assert body == expected_body(fake)


# -- proxies ----------------------------------------------------------------------------------


class RecordingProxy(socketserver.ThreadingTCPServer):
    """A proxy on 127.0.0.1 that records what reaches it and answers 502."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        self.seen: list[bytes] = []
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _ProxyHandler(socketserver.BaseRequestHandler):
    server: RecordingProxy

    def handle(self) -> None:
        data = b""
        self.request.settimeout(5)
        while b"\r\n\r\n" not in data:
            piece = self.request.recv(4096)
            if not piece:
                break
            data += piece
        self.server.seen.append(data)
        self.request.sendall(
            b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )


@pytest.fixture
def proxy() -> Iterator[RecordingProxy]:
    server = RecordingProxy()
    try:
        yield server
    finally:
        server.stop()


def test_loopback_never_goes_through_a_proxy(
    proxy: RecordingProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, proxy.url)
    with FakeVidiCenter(token=TOKEN) as fake:
        with VidiCenterClient("demo", TOKEN, fake.url, cache_dir=None) as client:
            assert client.whoami() == {"username": "demo"}
        assert [r.path for r in fake.requests] == [_wire.WHOAMI_PATH]
    # Nothing at all reached the proxy: not the request, not the credentials.
    assert proxy.seen == []


def test_https_goes_through_the_proxy_in_a_tunnel_without_credentials(
    proxy: RecordingProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    client = VidiCenterClient(
        "demo",
        TOKEN,
        "https://vidicenter.example",
        cache_dir=None,
        retry=RetryPolicy(max_attempts=1),
        sleep=lambda _s: None,
    )
    with client, pytest.raises(vf.TransportError):
        client.whoami()
    # The proxy is honoured (so the loopback test above is not vacuous), and it only
    # ever sees the CONNECT line: the Authorization header travels inside TLS.
    assert len(proxy.seen) == 1
    request = proxy.seen[0]
    assert request.startswith(b"CONNECT vidicenter.example:443 HTTP/1.")
    assert b"authorization" not in request.lower()
    assert TOKEN.encode() not in request


def test_a_dead_proxy_is_named_as_the_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{_closed_port()}")
    client = VidiCenterClient(
        "demo",
        TOKEN,
        "https://vidicenter.example",
        cache_dir=None,
        retry=RetryPolicy(max_attempts=1),
        sleep=lambda _s: None,
    )
    with client, pytest.raises(vf.TransportError) as info:
        client.whoami()
    assert "the proxy for vidicenter.example failed: connection refused" in str(info.value)


# -- nobody answering -------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_connection_refused_fails_within_seconds_in_one_line(
    clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    port = _closed_port()
    client = VidiCenterClient(
        "demo", TOKEN, f"http://127.0.0.1:{port}", clock=clock, sleep=clock.sleep, cache_dir=None
    )
    with (
        caplog.at_level(logging.INFO, logger="vidiframe"),
        client,
        pytest.raises(vf.TransportError) as info,
    ):
        client.whoami()
    message = str(info.value)
    assert message == (
        f"cannot reach VidiCenter at http://127.0.0.1:{port}: connection refused by "
        f"127.0.0.1:{port} (check base_url / VIDICENTER_URL)"
    )
    # One quick second try, at most a second later; nothing logged above debug.
    assert len(clock.sleeps) == 1
    assert clock.sleeps[0] <= 1.0
    assert [r for r in caplog.records if r.levelno >= logging.INFO] == []


def test_a_dns_failure_fails_within_seconds_in_one_line(
    clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    looked_up: list[str] = []

    def no_such_host(host: str, *args: Any, **kwargs: Any) -> Any:
        looked_up.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    client = VidiCenterClient(
        "demo",
        TOKEN,
        "https://vidicenter.invalid",
        clock=clock,
        sleep=clock.sleep,
        cache_dir=None,
    )
    with client, pytest.raises(vf.TransportError) as info:
        client.whoami()
    assert str(info.value) == (
        "cannot reach VidiCenter at https://vidicenter.invalid: cannot resolve host "
        "'vidicenter.invalid' (DNS: Name or service not known) (check base_url / VIDICENTER_URL)"
    )
    assert looked_up == ["vidicenter.invalid", "vidicenter.invalid"]
    assert sum(clock.sleeps) <= 1.0


def test_a_connection_that_times_out_is_unreachable_too(
    clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A firewall that drops packets: the connection never completes.
    def black_hole(self: socket.socket, address: Any) -> None:
        raise TimeoutError("timed out")

    monkeypatch.setattr(socket.socket, "connect", black_hole)
    client = VidiCenterClient(
        "demo", TOKEN, "http://127.0.0.1:9", clock=clock, sleep=clock.sleep, cache_dir=None
    )
    with client, pytest.raises(vf.TransportError) as info:
        client.whoami()
    assert str(info.value) == (
        "cannot reach VidiCenter at http://127.0.0.1:9: no answer from 127.0.0.1:9 "
        "(connection timed out) (check base_url / VIDICENTER_URL)"
    )
    assert len(clock.sleeps) == 1


# -- one call budget for every process of the user ------------------------------------------------


def _max_calls_in_window(times: list[float], window: float = 60.0) -> int:
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def _two_clients(
    fake: FakeVidiCenter, clock: ManualClock, state_file: Path | None
) -> list[VidiCenterClient]:
    return [
        client_for(
            fake,
            clock,
            budget=CallBudget(clock=clock, state_file=state_file, account="demo@fake"),
            retry=RetryPolicy(max_attempts=2),
        )
        for _ in range(2)
    ]


def test_two_clients_on_one_state_file_share_fifty_calls_a_minute(
    fake: FakeVidiCenter, clock: ManualClock, tmp_path: Path
) -> None:
    # Two "processes" (two clients, two budgets, one state file) make 80 calls.
    first, second = _two_clients(fake, clock, tmp_path / "calls.json")
    for _ in range(40):
        assert first.whoami() == {"username": "demo"}
        assert second.whoami() == {"username": "demo"}
    statuses = [r.status for r in fake.requests]
    assert statuses == [200] * 80
    assert _max_calls_in_window([r.time for r in fake.requests]) <= 50


def test_two_clients_with_their_own_budgets_meet_429s(
    fake: FakeVidiCenter, clock: ManualClock
) -> None:
    # The control: the same calls without the shared file do hit the server's limit
    # (and are waited out rather than fatal).
    first, second = _two_clients(fake, clock, None)
    for _ in range(40):
        first.whoami()
        second.whoami()
    assert [r.status for r in fake.requests].count(429) > 0
    assert [r.status for r in fake.requests].count(200) == 80


def test_a_neighbours_429s_are_waited_out_not_fatal(
    fake: FakeVidiCenter, clock: ManualClock
) -> None:
    # Ten 429s in a row: more than the 6 attempts that used to be fatal.
    fake.inject(RateLimited(retry_after=5), times=10, path=_wire.WHOAMI_PATH)
    client = client_for(fake, clock, retry=RetryPolicy())
    assert client.whoami() == {"username": "demo"}
    assert [r.status for r in fake.requests] == [429] * 10 + [200]
    # Each Retry-After waited exactly once: the budget's pause and the retry agree.
    assert clock.sleeps == [5.0] * 10


def test_a_429_pauses_every_budget_on_the_state_file(clock: ManualClock, tmp_path: Path) -> None:
    path = tmp_path / "calls.json"
    mine, neighbours = (CallBudget(clock=clock, state_file=path, account="a") for _ in "12")
    other_account = CallBudget(clock=clock, state_file=path, account="b")
    mine.pause(30.0)
    assert neighbours.reserve() == 30.0
    assert other_account.reserve() == 0.0


@pytest.mark.parametrize(
    "damaged",
    [
        b'{"format": 1, "accounts": {"a": {"slots": [1, 2',
        b'{"format": 1, "accounts": {"a": {"slots": "many"}, "b": {"slots": [null]}}}',
        b'{"format": 1, "accounts": {"a": {"slots": [], "paused_until": "soon"}}}',
        b'{"format": 1, "accounts": []}',
        b"[]",
    ],
    ids=["truncated", "slots-not-numbers", "pause-not-a-number", "accounts-a-list", "a-list"],
)
def test_a_damaged_state_file_is_started_afresh(
    clock: ManualClock, tmp_path: Path, damaged: bytes
) -> None:
    path = tmp_path / "calls.json"
    path.write_bytes(damaged)
    budget = CallBudget(calls=2, clock=clock, state_file=path, account="a")
    assert [budget.reserve(), budget.reserve()] == [0.0, 0.0]
    assert budget.reserve() == 61.0
    assert orjson.loads(path.read_bytes())["format"] == 1


def test_an_unwritable_state_file_falls_back_to_this_process(
    clock: ManualClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the state directory should be")
    budget = CallBudget(calls=2, clock=clock, state_file=blocker / "calls.json", account="a")
    with caplog.at_level(logging.WARNING, logger="vidiframe"):
        assert [budget.reserve(), budget.reserve(), budget.reserve()] == [0.0, 0.0, 61.0]
    assert len(caplog.records) == 1
    assert "counting calls in this process only" in caplog.records[0].getMessage()


def test_the_default_budget_is_shared_only_on_real_time(tmp_path: Path) -> None:
    shared = VidiCenterClient("demo", TOKEN, "https://vidicenter.example", cache_dir=None)
    assert shared.budget.state_file == tmp_path / "state" / "calls.json"
    manual = ManualClock()
    own = VidiCenterClient(
        "demo", TOKEN, "https://vidicenter.example", cache_dir=None, clock=manual
    )
    assert own.budget.state_file is None


# -- the cache never costs a frame ----------------------------------------------------------------


@pytest.mark.parametrize(
    "failure",
    [
        OSError(errno.ENOSPC, "No space left on device"),
        PermissionError(errno.EACCES, "Permission denied"),
        OSError(errno.EROFS, "Read-only file system"),
    ],
    ids=["full", "permission", "read-only"],
)
def test_a_cache_that_cannot_write_keeps_the_frame(
    fake: FakeVidiCenter,
    clock: ManualClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    failure: OSError,
) -> None:
    # The tests run as root, for whom chmod does not make a directory read-only:
    # the disk's answer is injected where the cache writes.
    def refuse(self: ResponseCache, key: str, body: bytes) -> None:
        raise failure

    monkeypatch.setattr(ResponseCache, "put", refuse)
    client = client_for(fake, clock, cache_dir=tmp_path / "cache")
    with caplog.at_level(logging.WARNING, logger="vidiframe"):
        df = vf.read_vidicenter(
            data_type="ots",
            time_resolution="1h",
            start="2025-01-01T00:00:00",
            end="2025-01-01T05:59:59",
            locations=[4636],
            client=client,
            progress=False,
        )
    want = vf.read_vidicenter(expected_body(fake), data_type="ots", time_resolution="1h")
    assert_frame_equal(df, want)
    assert df.height == 6
    warned = [r.getMessage() for r in caplog.records if "cache" in r.getMessage()]
    assert len(warned) == 1
    assert str(failure.strerror) in warned[0]
    assert str(tmp_path / "cache") in warned[0]


def test_a_cache_that_cannot_read_is_a_miss(
    fake: FakeVidiCenter, clock: ManualClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreadable(self: ResponseCache, key: str) -> bytes | None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(ResponseCache, "get", unreadable)
    client = client_for(fake, clock, cache_dir=tmp_path)
    assert client.fetch_export(QUERY) == expected_body(fake)


# -- one reader of the export state -----------------------------------------------------------


@pytest.mark.parametrize(
    "document",
    [
        {"state": "started"},
        {"state": "in_progress"},
        {"state": "failed", "fail_reason": "boom"},
        {"state": "finished", "data": []},
        {"status": "finished", "data": []},
        {"state": "done"},
        {"state": None},
        {},
    ],
)
def test_polls_and_saved_bodies_read_the_state_alike(document: dict[str, Any]) -> None:
    body = orjson.dumps(document)

    def outcome(read: Any) -> tuple[str, str]:
        try:
            return ("state", read())
        except vf.ResponseFormatError as error:
            return ("refused", str(error))

    def saved() -> str:
        try:
            vf.read_vidicenter(body, data_type="ots", time_resolution="1h")
        except (vf.ExportNotReadyError, vf.ExportFailedError) as error:
            return getattr(error, "state", "failed")
        return "finished"

    assert outcome(lambda: read_state(body)[0]) == outcome(saved)


def test_the_fake_and_the_client_share_the_wire_facts() -> None:
    assert vt.DATA_PATH is _wire.DATA_PATH
    assert vt.WHOAMI_PATH is _wire.WHOAMI_PATH
    with FakeVidiCenter(serve=False) as fake:
        reply = fake.handle("GET", _wire.DATA_PATH, {}, fake.auth_headers())
    assert reply.status == 400  # the path is the fake's data endpoint: it wants a query


_BOOK_CALLS = """
import sys
from vidiframe._policies import CallBudget

# One frozen instant for both processes: which process books first changes nothing.
budget = CallBudget(clock=lambda: 1000.0, state_file=sys.argv[1], account="demo@server")
print(" ".join(str(budget.reserve()) for _ in range(int(sys.argv[2]))))
"""


@pytest.mark.slow
def test_two_processes_share_one_budget(tmp_path: Path) -> None:
    import subprocess
    import sys

    state = tmp_path / "calls.json"
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", _BOOK_CALLS, str(state), "30"],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0]
    waits = sorted(float(w) for out in outputs for w in out.split())
    # 60 calls at one instant: 50 go now, 10 wait for the window (60 s + 1 s margin).
    assert waits == [0.0] * 50 + [61.0] * 10
    assert len(orjson.loads(state.read_bytes())["accounts"]["demo@server"]["slots"]) == 60


def test_a_gzip_body_is_decoded_piece_by_piece() -> None:
    # The real API may compress its answers: the deadline's piecewise read must
    # decode them as requests' own read does.
    import gzip
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    payload = orjson.dumps({"state": "finished", "data": [{"n": i} for i in range(20_000)]})

    class Gzipped(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = gzip.compress(payload)
            self.send_response(200)
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Gzipped)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        from vidiframe._http import RequestsTransport

        transport = RequestsTransport()
        host, port = server.server_address[:2]
        response = transport.get(
            f"http://{host}:{port}/api/v1/data/", params={}, headers={}, timeout=10, deadline=60
        )
        transport.close()
    finally:
        server.shutdown()
        server.server_close()
    assert response.status == 200
    assert response.body == payload
