"""VidiCenterClient against the fake server (in process, manual clock) and stub transports."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson
import pytest

import vidiframe as vf
from vidiframe._client import Cancelled, VidiCenterClient
from vidiframe._http import RequestsTransport
from vidiframe._policies import Backoff, BuildTimeEstimator, CallBudget, RetryPolicy
from vidiframe._query import ExportQuery, make_query
from vidiframe._transport import Response
from vidiframe.testing import (
    DropConnection,
    FailExport,
    FakeVidiCenter,
    ManualClock,
    RateLimited,
    ServerError,
    SlowBody,
    TruncatedBody,
)

TOKEN = "Tk-5ecr3t-9b41f0"
PARAMS = {
    "data_type": "ots",
    "time_resolution": "1h",
    "start": "2025-01-01T00:00:00",
    "end": "2025-01-01T05:59:59",
    "locations": "4636",
}
QUERY = make_query(**{**PARAMS, "locations": [4636]})  # type: ignore[arg-type]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def fake(clock: ManualClock) -> Iterator[FakeVidiCenter]:
    with FakeVidiCenter(token=TOKEN, clock=clock, build_seconds=4.0, serve=False) as server:
        yield server


def client_for(
    fake: FakeVidiCenter, clock: ManualClock, tmp_path: Path | None = None, **kwargs: Any
) -> VidiCenterClient:
    options: dict[str, Any] = {
        "transport": fake.transport(),
        "clock": clock,
        "sleep": clock.sleep,
        "cache_dir": tmp_path,
        "retry": RetryPolicy(max_attempts=4, backoff=Backoff(initial=1.0, jitter=0.0)),
        "poll_backoff": Backoff(initial=1.0, factor=2.0, jitter=0.0),
        **kwargs,
    }
    return VidiCenterClient("demo", TOKEN, "http://127.0.0.1:9", **options)


class StubTransport:
    """Answers from a list of responses (or exceptions); records what it was sent."""

    def __init__(self, answers: list[Response | BaseException]) -> None:
        self.answers = list(answers)
        self.sent: list[dict[str, Any]] = []

    def get(
        self, url: str, *, params: Mapping[str, str], headers: Mapping[str, str], timeout: float
    ) -> Response:
        self.sent.append({"url": url, "params": dict(params), "headers": dict(headers)})
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def close(self) -> None:
        pass


def stub_client(transport: StubTransport, clock: ManualClock, **kwargs: Any) -> VidiCenterClient:
    return VidiCenterClient(
        "demo",
        TOKEN,
        "https://vidicenter.example",
        transport=transport,
        clock=clock,
        sleep=clock.sleep,
        cache_dir=None,
        retry=RetryPolicy(max_attempts=3, backoff=Backoff(initial=1.0, jitter=0.0)),
        **kwargs,
    )


def json_response(status: int, payload: object, **headers: str) -> Response:
    return Response(status, orjson.dumps(payload), headers)


# -- the protocol over the fake -------------------------------------------------------------


def test_fetch_export_runs_the_protocol(fake: FakeVidiCenter, clock: ManualClock) -> None:
    body = client_for(fake, clock).fetch_export(QUERY)
    assert body == fake.response_body(
        "ots", "1h", creation_date="2025-01-01 00:00:00", **_fake_args(QUERY)
    )
    sent = fake.data_requests
    assert [r.params.get("status_only") for r in sent] == [None, "1", "1", "1", None]
    states = ["started", "in_progress", "in_progress", "finished", "finished"]
    assert [r.state for r in sent] == states
    # Polls after 1, 2 then 4 s: the build of 4 s is seen finished at 7 s.
    assert [r.time - sent[0].time for r in sent] == [0.0, 1.0, 3.0, 7.0, 7.0]
    assert all("force_rebuild" not in r.params for r in sent)
    assert fake.builds_started(**PARAMS) == 1
    assert sent[-1].data_sent


def test_force_rebuild_is_sent_once(fake: FakeVidiCenter, clock: ManualClock) -> None:
    client = client_for(fake, clock)
    client.fetch_export(QUERY)
    client.fetch_export(QUERY, force_rebuild=True)
    rebuild = fake.data_requests[5:]
    assert [r.params.get("force_rebuild") for r in rebuild] == ["1"] + [None] * (len(rebuild) - 1)
    assert [r.params.get("status_only") for r in rebuild][1:-1] == ["1"] * (len(rebuild) - 2)
    assert rebuild[-1].data_sent
    assert fake.builds_started(**PARAMS) == 2


def test_whoami(fake: FakeVidiCenter, clock: ManualClock) -> None:
    assert client_for(fake, clock).whoami() == {"username": "demo"}


def test_wrong_token_is_an_authentication_error_never_retried(
    fake: FakeVidiCenter, clock: ManualClock
) -> None:
    client = VidiCenterClient(
        "demo", "wrong-token-value", "http://127.0.0.1:9", transport=fake.transport(), clock=clock
    )
    with pytest.raises(vf.AuthenticationError) as info:
        client.fetch_export(QUERY)
    assert info.value.status == 401
    assert "Invalid username or token" in str(info.value)
    assert "wrong-token-value" not in str(info.value)
    assert len(fake.requests) == 1


def test_forbidden_user_gets_403(clock: ManualClock) -> None:
    with (
        FakeVidiCenter(token=TOKEN, clock=clock, forbidden_users=["demo"], serve=False) as fake,
        pytest.raises(vf.AuthenticationError) as info,
    ):
        client_for(fake, clock).whoami()
    assert info.value.status == 403
    assert TOKEN not in str(info.value)
    assert len(fake.requests) == 1


def test_failed_export_raises_with_its_reason(fake: FakeVidiCenter, clock: ManualClock) -> None:
    fake.inject(FailExport("the database is on fire"))
    with pytest.raises(vf.ExportFailedError, match="the database is on fire") as info:
        client_for(fake, clock).fetch_export(QUERY)
    assert info.value.fail_reason == "the database is on fire"
    assert info.value.query == QUERY


def test_retry_after_is_honoured_to_the_second(fake: FakeVidiCenter, clock: ManualClock) -> None:
    fake.inject(RateLimited(retry_after=7), at=2)
    client_for(fake, clock).fetch_export(QUERY)
    sent = fake.data_requests
    assert sent[1].status == 429
    assert sent[2].time - sent[1].time == 7.0
    assert sent[2].params == sent[1].params  # the same poll, sent again
    assert sent[-1].data_sent


def test_retry_after_as_an_http_date(clock: ManualClock) -> None:
    # ManualClock starts at 2025-01-01 00:00:00 UTC.
    transport = StubTransport(
        [
            json_response(
                429, {"message": "slow down"}, **{"Retry-After": "Wed, 01 Jan 2025 00:00:42 GMT"}
            ),
            json_response(200, {"username": "demo"}),
        ]
    )
    assert stub_client(transport, clock).whoami() == {"username": "demo"}
    assert clock.sleeps == [42.0]


def test_rate_limit_error_after_the_bound(fake: FakeVidiCenter, clock: ManualClock) -> None:
    fake.inject(RateLimited(retry_after=3), times=None)
    retry = RetryPolicy(max_attempts=4, rate_limit_patience=10.0)
    with pytest.raises(vf.RateLimitError) as info:
        client_for(fake, clock, retry=retry).fetch_export(QUERY)
    assert info.value.status == 429
    assert isinstance(info.value, vf.TransportError)
    assert [r.status for r in fake.requests] == [429] * 4
    assert clock.sleeps == [3.0, 3.0, 3.0]


def test_server_errors_and_dropped_connections_are_survived(
    fake: FakeVidiCenter, clock: ManualClock
) -> None:
    fake.inject(ServerError(503), at=1)
    fake.inject(DropConnection(), at=3)
    fake.inject(DropConnection(after_processing=True), at=4)
    fake.inject(ServerError(502, body=b"<html>Bad gateway</html>"), at=6)
    fake.inject(TruncatedBody(0.3), at=7)
    body = client_for(fake, clock).fetch_export(QUERY)
    expected = fake.response_body("ots", "1h", **_fake_args(QUERY))
    assert orjson.loads(body)["data"] == orjson.loads(expected)["data"]
    statuses = [r.status for r in fake.requests]
    assert statuses[:2] == [503, 200]
    assert 0 in statuses  # dropped connections
    assert 502 in statuses
    assert fake.builds_started(**PARAMS) == 1


def test_server_errors_exhausted_raise_transport_error(
    fake: FakeVidiCenter, clock: ManualClock
) -> None:
    fake.inject(ServerError(500), times=None)
    with pytest.raises(vf.TransportError) as info:
        client_for(fake, clock).fetch_export(QUERY)
    assert info.value.status == 500
    assert not isinstance(info.value, vf.RateLimitError)
    assert "Internal server error" in str(info.value)
    assert len(fake.requests) == 4
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__


def test_slow_body_past_the_timeout_is_retried(fake: FakeVidiCenter, clock: ManualClock) -> None:
    fake.inject(SlowBody(delay=120.0), at=1)
    client = client_for(fake, clock, request_timeout=30.0)
    assert orjson.loads(client.fetch_export(QUERY))["state"] == "finished"
    assert fake.data_requests[1].params == fake.data_requests[0].params


@pytest.mark.parametrize(
    ("status", "error", "message"),
    [
        (400, vf.InvalidRequestError, "HTTP 400: Invalid start"),
        (404, vf.TransportError, "is base_url a VidiCenter server"),
        (302, vf.TransportError, "redirect to 'https://elsewhere.example/' not followed"),
        (418, vf.TransportError, "HTTP 418"),
    ],
)
def test_other_statuses(
    clock: ManualClock, status: int, error: type[Exception], message: str
) -> None:
    transport = StubTransport(
        [json_response(status, {"message": "Invalid start"}, Location="https://elsewhere.example/")]
    )
    with pytest.raises(error, match=message):
        stub_client(transport, clock).whoami()
    assert len(transport.sent) == 1


def test_a_server_message_echoing_the_token_is_redacted(clock: ManualClock) -> None:
    transport = StubTransport([json_response(401, {"message": f"bad token {TOKEN}"})])
    with pytest.raises(vf.AuthenticationError) as info:
        stub_client(transport, clock).whoami()
    assert TOKEN not in str(info.value)
    assert "bad token ***" in str(info.value)


def test_the_token_travels_only_in_the_authorization_header(clock: ManualClock) -> None:
    transport = StubTransport([json_response(200, {"username": "demo"})])
    stub_client(transport, clock).whoami()
    (sent,) = transport.sent
    assert sent["url"] == "https://vidicenter.example/api/v1/whoami/"
    assert sent["params"] == {}
    assert sent["headers"]["Authorization"].startswith("Basic ")
    assert TOKEN not in repr(sent["params"]) + sent["url"]


def test_an_export_rebuilt_before_its_download_is_polled_again(clock: ManualClock) -> None:
    finished = json_response(200, {"state": "finished", "data": [{"location_id": 1}]})
    transport = StubTransport(
        [
            json_response(200, {"state": "started"}),
            json_response(200, {"state": "finished"}),
            json_response(200, {"state": "started"}),  # the server's copy expired meanwhile
            json_response(200, {"state": "in_progress"}),
            json_response(200, {"state": "finished"}),
            finished,
        ]
    )
    client = stub_client(transport, clock, poll_backoff=Backoff(initial=1.0, jitter=0.0))
    states: list[str] = []
    assert client.fetch_export(QUERY, on_state=states.append) == finished.body
    assert [sent["params"].get("status_only") for sent in transport.sent] == [
        None,
        "1",
        None,
        "1",
        "1",
        None,
    ]
    assert states == [
        "started",
        "finished",
        "downloading",
        "started",
        "in_progress",
        "finished",
        "downloading",
        "finished",
        "downloaded",
    ]
    # Every export slot is free again.
    assert all(client._exports.acquire(blocking=False) for _ in range(3))


def test_a_poll_waiting_wakes_up_when_a_sibling_finishes() -> None:
    # Real clock: the wait is cut short by the news, not by time passing.
    client = VidiCenterClient("demo", TOKEN, "https://vidicenter.example", cache_dir=None)
    estimator = BuildTimeEstimator()
    began = time.monotonic()
    waiter = threading.Thread(
        target=client._wait_for_poll, args=(60.0, began, estimator, None), daemon=True
    )
    waiter.start()
    estimator.observe(pending=0.0, finished=0.01)  # a sibling built in 10 ms
    waiter.join(timeout=30)
    assert not waiter.is_alive()
    assert time.monotonic() - began < 30
    client.close()


def test_export_timeout(clock: ManualClock) -> None:
    with (
        FakeVidiCenter(token=TOKEN, clock=clock, build_seconds=10_000, serve=False) as fake,
        pytest.raises(vf.ExportNotReadyError, match="still in_progress") as info,
    ):
        client_for(fake, clock, export_timeout=60.0).fetch_export(QUERY)
    assert info.value.state == "in_progress"
    assert fake.requests[-1].time - fake.requests[0].time <= 60.0


def test_cancel_stops_at_the_next_wait(fake: FakeVidiCenter, clock: ManualClock) -> None:
    cancel = threading.Event()

    def sleep_then_cancel(seconds: float) -> None:
        clock.sleep(seconds)
        cancel.set()

    client = client_for(fake, clock, sleep=sleep_then_cancel)
    with pytest.raises(Cancelled):
        client.fetch_export(QUERY, cancel=cancel)
    assert len(fake.requests) == 1


# -- the call budget and the cache ------------------------------------------------------------------


def test_the_call_budget_spaces_requests(fake: FakeVidiCenter, clock: ManualClock) -> None:
    budget = CallBudget(calls=3, period=60.0, margin=1.0, clock=clock)
    client_for(fake, clock, budget=budget).fetch_export(QUERY)
    times = [r.time for r in fake.requests]
    assert len(times) == 5
    for i in range(len(times) - 3):
        assert times[i + 3] - times[i] >= 61.0
    assert all(r.status == 200 for r in fake.requests)


def test_cache_hit_makes_no_call(fake: FakeVidiCenter, clock: ManualClock, tmp_path: Path) -> None:
    client = client_for(fake, clock, tmp_path)
    first = client.fetch_export(QUERY)
    calls = len(fake.requests)
    assert client.fetch_export(QUERY) == first
    assert len(fake.requests) == calls
    assert client.stats["cache_hits"] == 1
    # Another client of the same account and server shares the entry...
    assert client_for(fake, clock, tmp_path).fetch_export(QUERY) == first
    assert len(fake.requests) == calls


def test_cache_expires_like_the_server_and_force_rebuild_bypasses_it(
    fake: FakeVidiCenter, clock: ManualClock, tmp_path: Path
) -> None:
    client = client_for(fake, clock, tmp_path)
    client.fetch_export(QUERY)
    calls = len(fake.requests)
    client.fetch_export(QUERY, force_rebuild=True)
    assert fake.requests[calls].params.get("force_rebuild") == "1"
    calls = len(fake.requests)
    clock.advance(24 * 3600 + 1)
    client.fetch_export(QUERY)
    assert len(fake.requests) > calls


def test_cache_is_per_server_and_user(
    fake: FakeVidiCenter, clock: ManualClock, tmp_path: Path
) -> None:
    client_for(fake, clock, tmp_path).fetch_export(QUERY)
    other = VidiCenterClient(
        "demo",
        TOKEN,
        "http://127.0.0.2:9",
        transport=fake.transport(),
        clock=clock,
        sleep=clock.sleep,
        cache_dir=tmp_path,
    )
    assert other.cache_key(QUERY) != client_for(fake, clock, tmp_path).cache_key(QUERY)


# -- the token stays secret ---------------------------------------------------------------------


def test_the_token_is_in_no_log_record_exception_repr_or_cache_file(
    fake: FakeVidiCenter,
    clock: ManualClock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.inject(ServerError(503), at=2)
    fake.inject(DropConnection(), at=3)
    fake.inject(RateLimited(retry_after=2), at=4)
    client = client_for(fake, clock, tmp_path)
    texts = [repr(client), str(client), repr(client.credentials), str(client.credentials)]
    client.fetch_export(QUERY)
    client.fetch_export(QUERY.replace(locations=("4637",)), force_rebuild=True)
    fake.inject(FailExport(f"failed, token was {TOKEN}"))
    with pytest.raises(vf.ExportFailedError) as failed:
        client.fetch_export(QUERY.replace(locations=("1",)))
    texts.extend([str(failed.value), str(failed.value.fail_reason)])
    assert failed.value.fail_reason == "failed, token was ***"
    bad = VidiCenterClient("demo", "x" + TOKEN, "http://127.0.0.1:9", transport=fake.transport())
    with pytest.raises(vf.AuthenticationError) as refused:
        bad.whoami()
    texts.append(str(refused.value))
    texts.extend(record.getMessage() for record in caplog.records)
    assert any("retry" in record.getMessage() for record in caplog.records)
    for text in texts:
        assert TOKEN not in text
    files = list(tmp_path.iterdir())
    assert len(files) == 2
    for path in files:
        assert TOKEN.encode() not in path.read_bytes()
        assert TOKEN not in path.name


# -- URLs and sockets -------------------------------------------------------------------------------


def test_plain_http_to_a_remote_host_is_refused_before_any_socket(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opened: list[object] = []

    class NoSocket(socket.socket):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            opened.append(args)
            raise AssertionError("a socket was opened")

    monkeypatch.setattr(socket, "socket", NoSocket)
    monkeypatch.setattr(socket, "create_connection", NoSocket)
    with pytest.raises(vf.InsecureURLError):
        VidiCenterClient("demo", TOKEN, "http://vidicenter.quividi.com")
    monkeypatch.setenv("VIDICENTER_URL", "http://vidicenter.quividi.com")
    with pytest.raises(vf.InsecureURLError):
        vf.read_vidicenter(
            data_type="ots",
            time_resolution="1h",
            start="2025-01-01",
            end="2025-01-01",
            locations=[1],
        )
    assert opened == []


def test_invalid_arguments_fail_before_any_request(
    fake: FakeVidiCenter, clock: ManualClock
) -> None:
    client = client_for(fake, clock)
    with pytest.raises(vf.InvalidRequestError, match="no source ids"):
        vf.read_vidicenter(
            data_type="ots",
            time_resolution="1h",
            start="2025-01-01",
            end="2025-01-01",
            client=client,
        )
    assert fake.requests == []


def test_credentials_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VIDICENTER_USERNAME", "env-user")
    monkeypatch.setenv("VIDICENTER_TOKEN", TOKEN)
    monkeypatch.setenv("VIDICENTER_URL", "http://localhost:8765/")
    client = VidiCenterClient(cache_dir=None, netrc_path=tmp_path / "none")
    assert (client.username, client.base_url) == ("env-user", "http://localhost:8765")
    assert TOKEN not in repr(client)
    client.close()


def test_requests_transport_over_a_socket_maps_failures(clock: ManualClock) -> None:
    with FakeVidiCenter(token=TOKEN) as fake:
        transport = RequestsTransport()
        try:
            ok = transport.get(
                fake.url + "/api/v1/whoami/",
                params={},
                headers=fake.auth_headers(),
                timeout=10,
            )
            assert (ok.status, orjson.loads(ok.body)) == (200, {"username": "demo"})
            fake.inject(DropConnection(), path=None)
            with pytest.raises(ConnectionError) as info:
                transport.get(
                    fake.url + "/api/v1/whoami/", params={}, headers=fake.auth_headers(), timeout=10
                )
            assert type(info.value) is ConnectionError
            assert info.value.__cause__ is None
            assert info.value.__suppress_context__
            assert TOKEN not in str(info.value)
        finally:
            transport.close()
    with pytest.raises(ConnectionError):
        transport.get(fake.url + "/api/v1/whoami/", params={}, headers={}, timeout=2)


def test_a_real_socket_round_trip(tmp_path: Path) -> None:
    with FakeVidiCenter(token=TOKEN, build_seconds=0.0) as fake:
        with VidiCenterClient("demo", TOKEN, fake.url, cache_dir=tmp_path) as client:
            assert client.whoami() == {"username": "demo"}
            body = client.fetch_export(QUERY)
        assert orjson.loads(body)["state"] == "finished"
        assert fake.peak_connections <= 2


def _fake_args(query: ExportQuery) -> dict[str, Any]:
    return {
        "start": query.start,
        "end": query.end,
        "locations": [int(i) for i in query.locations],
    }
