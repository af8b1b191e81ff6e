"""The fake VidiCenter server (vidiframe.testing._fake), over a socket and in process."""

from __future__ import annotations

import argparse
import http.client
import io
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
import requests

from vidiframe._cli_serve import register, run_serve_fake
from vidiframe._transport import Response, Transport
from vidiframe.testing import (
    DATA_PATH,
    WHOAMI_PATH,
    DataGenerator,
    DropConnection,
    FailExport,
    FakeVidiCenter,
    Limits,
    ManualClock,
    RateLimited,
    ServerError,
    SlowBody,
    TruncatedBody,
    generate_rows,
)

QUERY = {
    "data_type": "viewers",
    "time_resolution": "1h",
    "start": "2025-01-01T00:00:00",
    "end": "2025-01-01T05:59:59",
    "locations": "4636,4637",
}


def query(**changes: str) -> dict[str, str]:
    return {**QUERY, **changes}


@dataclass
class Api:
    """One way into the fake, with the same ``get`` for sockets and in process."""

    fake: FakeVidiCenter
    clock: ManualClock
    get_raw: Callable[..., Response]
    mode: str

    def get(
        self,
        params: dict[str, str] | None = None,
        *,
        path: str = DATA_PATH,
        auth: bool = True,
        headers: dict[str, str] | None = None,
    ) -> Response:
        sent = dict(headers or {})
        if auth:
            sent.update(self.fake.auth_headers())
        return self.get_raw(path, params or {}, sent)

    def json(self, params: dict[str, str] | None = None, **kw: Any) -> Any:
        response = self.get(params, **kw)
        assert response.status == 200, response.body
        return orjson.loads(response.body)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def _socket_get(session: requests.Session, fake: FakeVidiCenter) -> Callable[..., Response]:
    def get(path: str, params: dict[str, str], headers: dict[str, str]) -> Response:
        answer = session.get(fake.url + path, params=params, headers=headers, timeout=10)
        return Response(answer.status_code, answer.content, dict(answer.headers))

    return get


def _in_process_get(fake: FakeVidiCenter) -> Callable[..., Response]:
    transport = fake.transport()

    def get(path: str, params: dict[str, str], headers: dict[str, str]) -> Response:
        return transport.get(fake.url + path, params=params, headers=headers, timeout=10)

    return get


def make_api(mode: str, clock: ManualClock, **options: Any) -> Iterator[Api]:
    with FakeVidiCenter(clock=clock, serve=mode == "socket", **options) as fake:
        if mode == "socket":
            with requests.Session() as session:
                yield Api(fake, clock, _socket_get(session, fake), mode)
        else:
            yield Api(fake, clock, _in_process_get(fake), mode)


@pytest.fixture(params=["in-process", "socket"])
def api(request: pytest.FixtureRequest, clock: ManualClock) -> Iterator[Api]:
    yield from make_api(request.param, clock)


@pytest.fixture
def local(clock: ManualClock) -> Iterator[Api]:
    """In process only: for the tests of server logic that sockets add nothing to."""
    yield from make_api("in-process", clock)


def finish(api: Api, params: dict[str, str]) -> dict[str, Any]:
    """Run one export to the end the way a good client does."""
    assert api.json(params)["state"] == "started"
    api.clock.sleep(api.fake.build_seconds)  # type: ignore[arg-type]
    body = api.json(params)
    assert body["state"] == "finished"
    return body


# -- auth and endpoints -------------------------------------------------------------------


def test_whoami_names_the_user(api: Api):
    assert api.json(path=WHOAMI_PATH) == {"username": "demo"}


def test_missing_credentials_give_a_json_401(api: Api):
    response = api.get(QUERY, auth=False)
    assert response.status == 401
    assert orjson.loads(response.body) == {
        "message": "Authentication credentials were not provided.",
        "error": 401,
    }
    assert response.header("WWW-Authenticate") == 'Basic realm="api"'
    assert response.header("Content-Type") == "application/json"


def test_a_wrong_token_gives_a_json_401_that_does_not_echo_it(api: Api):
    response = api.get(QUERY, auth=False, headers=api.fake.auth_headers("demo", "s3cr3t-guess"))
    assert response.status == 401
    assert orjson.loads(response.body)["error"] == 401
    assert b"s3cr3t-guess" not in response.body
    assert api.fake.builds_started() == 0


def test_a_malformed_authorization_header_is_a_401(api: Api):
    response = api.get(path=WHOAMI_PATH, auth=False, headers={"Authorization": "Basic ###"})
    assert response.status == 401


def test_forbidden_user_and_location_give_a_json_403(clock: ManualClock):
    fake = FakeVidiCenter(
        clock=clock,
        serve=False,
        users={"intern": "tok"},
        forbidden_users=["intern"],
        forbidden_locations=[4637],
    )
    transport = fake.transport()
    r = transport.get(
        fake.url + WHOAMI_PATH, params={}, headers=fake.auth_headers("intern", "tok"), timeout=5
    )
    assert r.status == 403
    assert orjson.loads(r.body)["error"] == 403
    r = transport.get(fake.url + DATA_PATH, params=QUERY, headers=fake.auth_headers(), timeout=5)
    assert r.status == 403
    assert orjson.loads(r.body) == {
        "message": "You do not have access to location 4637.",
        "error": 403,
    }
    r = transport.get(
        fake.url + DATA_PATH, params=query(locations="4636"), headers=fake.auth_headers(), timeout=5
    )
    assert r.status == 200


def test_extra_users_are_accepted(clock: ManualClock):
    fake = FakeVidiCenter(clock=clock, serve=False, users={"alice": "a-token"})
    reply = fake.handle("GET", WHOAMI_PATH, {}, fake.auth_headers("alice", "a-token"))
    assert reply.json() == {"username": "alice"}


def test_unknown_path_and_bad_method(api: Api):
    missing = api.get(path="/api/v1/nothing/")
    assert missing.status == 404
    assert orjson.loads(missing.body)["error"] == 404
    reply = api.fake.handle("POST", DATA_PATH, QUERY, api.fake.auth_headers())
    assert reply.status == 405
    assert reply.headers["Allow"] == "GET"


def test_a_bad_query_is_a_json_400(api: Api):
    response = api.get(query(data_type="im", time_resolution="1d"))
    assert response.status == 400
    assert "'1h' only" in orjson.loads(response.body)["message"]


# -- the export state machine -------------------------------------------------------------


def test_state_sequence_follows_the_server_clock(api: Api):
    clock = api.clock
    assert api.json(QUERY) == {"state": "started"}
    progress = api.json(QUERY)
    assert progress == {"state": "in_progress", "creation_date": "2025-01-01 00:00:00"}
    clock.advance(1.999)
    assert api.json(QUERY)["state"] == "in_progress"
    clock.advance(0.001)
    done = api.json(QUERY)
    assert done["state"] == "finished"
    assert done["creation_date"] == "2025-01-01 00:00:00"
    assert done["data"] == generate_rows(
        "viewers", "1h", start=QUERY["start"], end=QUERY["end"], locations=[4636, 4637]
    )
    assert len(done["data"]) == 12
    assert api.fake.builds_started(**QUERY) == 1
    assert api.fake.downloads == 1


def test_finished_exports_are_cached_about_a_day(local: Api):
    finish(local, QUERY)
    local.clock.advance(23 * 3600)
    again = local.json(QUERY)
    assert again["state"] == "finished"
    assert local.fake.builds_started(**QUERY) == 1
    local.clock.advance(3600)
    assert local.json(QUERY) == {"state": "started"}
    assert local.fake.builds_started(**QUERY) == 2


def test_the_cache_is_keyed_without_force_rebuild_and_status_only(local: Api):
    finish(local, QUERY)
    assert local.json(query(status_only="1"))["state"] == "finished"
    assert local.fake.builds_started(**QUERY) == 1


@pytest.mark.parametrize("value", ["1", "true", "false", "0", ""])
def test_force_rebuild_restarts_the_build_whatever_its_value(local: Api, value: str):
    finish(local, QUERY)
    assert local.json(query(force_rebuild=value)) == {"state": "started"}
    assert local.json(QUERY)["state"] == "in_progress"
    assert local.fake.builds_started(**QUERY) == 2
    local.clock.sleep(2.0)
    assert local.json(QUERY)["state"] == "finished"


def test_repeating_force_rebuild_on_polls_keeps_restarting(local: Api):
    assert local.json(query(force_rebuild="1"))["state"] == "started"
    for _ in range(5):
        local.clock.sleep(1.5)
        assert local.json(query(force_rebuild="1"))["state"] == "started"
    assert local.fake.builds_started(**QUERY) == 6
    # The last restart is the one that counts: 1.5 s later it is still building.
    local.clock.sleep(1.5)
    assert local.json(QUERY)["state"] == "in_progress"


@pytest.mark.parametrize("value", ["1", "true", "false", ""])
def test_status_only_answers_the_state_without_data(local: Api, value: str):
    assert local.json(query(status_only=value)) == {"state": "started"}
    local.clock.sleep(2.0)
    assert local.json(query(status_only=value)) == {
        "state": "finished",
        "creation_date": "2025-01-01 00:00:00",
    }
    assert local.fake.downloads == 0
    assert "data" in local.json(QUERY)
    assert local.fake.downloads == 1


def test_build_seconds_may_depend_on_the_query(clock: ManualClock):
    fake = FakeVidiCenter(
        clock=clock,
        serve=False,
        build_seconds=lambda q: 10.0 if q.time_resolution == "finest" else 1.0,
    )
    headers = fake.auth_headers()
    fine = query(time_resolution="finest")
    assert fake.handle("GET", DATA_PATH, fine, headers).json()["state"] == "started"
    assert fake.handle("GET", DATA_PATH, QUERY, headers).json()["state"] == "started"
    clock.sleep(1.0)
    assert fake.handle("GET", DATA_PATH, QUERY, headers).json()["state"] == "finished"
    assert fake.handle("GET", DATA_PATH, fine, headers).json()["state"] == "in_progress"


def test_a_whole_export_runs_in_zero_wall_time_on_a_manual_clock(local: Api):
    """A client loop polling with status_only and backing off on the clock's sleep."""
    clock = local.clock
    state = local.json(QUERY)["state"]
    delay = 0.25
    while state in ("started", "in_progress"):
        clock.sleep(delay)
        delay *= 2
        state = local.json(query(status_only="1"))["state"]
    assert state == "finished"
    assert clock.sleeps == [0.25, 0.5, 1.0, 2.0]
    data = local.json(QUERY)["data"]
    assert len(data) == 12
    polls = [r for r in local.fake.data_requests if "status_only" in r.params]
    assert [r.state for r in polls] == ["in_progress", "in_progress", "in_progress", "finished"]
    assert local.fake.downloads == 1


def test_exports_of_different_users_are_separate(clock: ManualClock):
    fake = FakeVidiCenter(clock=clock, serve=False, users={"bob": "b"})
    assert fake.handle("GET", DATA_PATH, QUERY, fake.auth_headers()).json()["state"] == "started"
    bob = fake.auth_headers("bob", "b")
    assert fake.handle("GET", DATA_PATH, QUERY, bob).json()["state"] == "started"
    assert fake.builds_started(**QUERY) == 2


# -- data served --------------------------------------------------------------------------


def test_same_seed_serves_the_same_bytes(clock: ManualClock):
    bodies = []
    for seed in (7, 7, 8):
        with FakeVidiCenter(seed=seed, clock=ManualClock(), serve=False) as fake:
            transport = fake.transport()
            for _ in range(2):
                response = transport.get(
                    fake.url + DATA_PATH, params=QUERY, headers=fake.auth_headers(), timeout=5
                )
                fake.clock.sleep(2.0)  # type: ignore[attr-defined]
            bodies.append(response.body)
    assert bodies[0] == bodies[1]
    assert bodies[0] != bodies[2]
    assert bodies[0] == FakeVidiCenter(seed=7, serve=False).response_body(
        "viewers", "1h", start=QUERY["start"], end=QUERY["end"], locations="4636,4637"
    )


def test_chunks_fetched_from_the_server_concatenate_to_the_one_shot_export(local: Api):
    whole = finish(local, query(end="2025-01-02T23:59:59"))["data"]
    left = finish(local, query(end="2025-01-01T16:59:59"))["data"]
    right = finish(local, query(start="2025-01-01T17:00:00", end="2025-01-02T23:59:59"))["data"]
    assert left + right == whole


def test_legacy_mode_serves_2020_names(clock: ManualClock):
    for api in make_api("in-process", clock, legacy=True):
        rows = finish(api, query(time_resolution="finest"))["data"]
        assert rows
        assert all("dwell_time" in row and "period_start_date" not in row for row in rows)


# -- the socket ---------------------------------------------------------------------------


def test_with_the_real_clock_the_socket_server_serves_exports_for_real():
    with FakeVidiCenter(build_seconds=0) as fake, requests.Session() as session:
        auth = ("demo", "demo-token")
        first = session.get(fake.url + DATA_PATH, params=QUERY, auth=auth, timeout=5).json()
        done = session.get(fake.url + DATA_PATH, params=QUERY, auth=auth, timeout=5).json()
    assert first == {"state": "started"}
    assert done["state"] == "finished"
    assert len(done["data"]) == 12
    # The creation date is the real time of the build, in the API's format.
    assert len(done["creation_date"]) == 19
    assert done["creation_date"] >= "2025-01-01 00:00:00"


def test_the_server_binds_loopback_only():
    with FakeVidiCenter() as fake:
        assert fake.address is not None
        host, port = fake.address
        assert host == "127.0.0.1"
        assert fake.url == f"http://127.0.0.1:{port}"
    assert fake.address is None


def test_closing_stops_the_server_and_its_threads():
    with FakeVidiCenter() as fake:
        host, port = fake.address  # type: ignore[misc]
        # An idle keep-alive connection must not keep the fake alive.
        conn = http.client.HTTPConnection(host, port, timeout=5)
        conn.request("GET", WHOAMI_PATH, headers=fake.auth_headers())
        assert conn.getresponse().read() == b'{"username":"demo"}'
    names = [t.name for t in threading.enumerate()]
    assert not [n for n in names if n.startswith("FakeVidiCenter")]
    conn.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((host, port), timeout=1).close()


def test_the_transport_satisfies_the_protocol(local: Api):
    transport = local.fake.transport()
    assert isinstance(transport, Transport)
    transport.close()


# -- limits -------------------------------------------------------------------------------


def other_query(i: int) -> dict[str, str]:
    return query(locations=str(100 + i))


def test_a_fourth_concurrent_export_gets_429_until_a_build_ends(api: Api):
    clock = api.clock
    for i in range(3):
        assert api.json(other_query(i))["state"] == "started"
        clock.advance(0.5)
    # t = 1.5: the first build ends at 2.0.
    refused = api.get(other_query(3))
    assert refused.status == 429
    assert refused.header("Retry-After") == "1"
    assert orjson.loads(refused.body) == {
        "message": "You cannot start more than 3 exports in parallel.",
        "error": 429,
    }
    # Polling the running exports is still allowed at the limit.
    assert api.json(other_query(0))["state"] == "in_progress"
    assert api.fake.running_exports("demo") == 3
    clock.advance(0.5)
    assert api.json(other_query(3))["state"] == "started"
    assert api.fake.peak_concurrent_exports == 3
    assert api.fake.builds_started(**other_query(3)) == 1


def test_retry_after_of_the_export_limit_counts_seconds_until_the_first_build_ends(
    clock: ManualClock,
):
    fake = FakeVidiCenter(clock=clock, serve=False, build_seconds=30.0)
    headers = fake.auth_headers()
    for i in range(3):
        fake.handle("GET", DATA_PATH, other_query(i), headers)
    clock.advance(12.2)
    reply = fake.handle("GET", DATA_PATH, other_query(3), headers)
    assert reply.status == 429
    assert reply.headers["Retry-After"] == "18"


def test_rebuilding_a_running_export_at_the_limit_replaces_it(local: Api):
    for i in range(3):
        local.json(other_query(i))
    assert local.json({**other_query(0), "force_rebuild": "1"})["state"] == "started"
    assert local.fake.running_exports() == 3
    assert local.fake.peak_concurrent_exports == 3


def test_the_export_limit_is_configurable(clock: ManualClock):
    fake = FakeVidiCenter(clock=clock, serve=False, limits=Limits(concurrent_exports=1))
    headers = fake.auth_headers()
    assert fake.handle("GET", DATA_PATH, other_query(0), headers).status == 200
    assert fake.handle("GET", DATA_PATH, other_query(1), headers).status == 429


def test_the_51st_call_in_a_minute_gets_429_with_the_seconds_until_a_slot_frees(api: Api):
    clock = api.clock
    for i in range(50):
        assert api.get(path=WHOAMI_PATH).status == 200
        if i == 0:
            clock.advance(20.0)
    # Calls at t=0 (one) and t=20 (49); now t=20.
    refused = api.get(path=WHOAMI_PATH)
    assert refused.status == 429
    assert refused.header("Retry-After") == "40"
    assert orjson.loads(refused.body)["error"] == 429
    clock.advance(39.5)
    assert api.get(path=WHOAMI_PATH).header("Retry-After") == "1"
    clock.advance(0.5)
    # The call of t=0 left the window: exactly one slot.
    assert api.get(path=WHOAMI_PATH).status == 200
    assert api.get(path=WHOAMI_PATH).status == 429
    # Refused calls do not count against the limit.
    assert [r.status for r in api.fake.requests].count(429) == 3


def test_the_call_limit_is_per_user(clock: ManualClock):
    fake = FakeVidiCenter(
        clock=clock, serve=False, users={"bob": "b"}, limits=Limits(calls_per_minute=2)
    )
    demo, bob = fake.auth_headers(), fake.auth_headers("bob", "b")
    statuses = [fake.handle("GET", WHOAMI_PATH, {}, h).status for h in (demo, demo, demo, bob)]
    assert statuses == [200, 200, 429, 200]


def test_a_third_socket_connection_is_answered_429_and_closed():
    with FakeVidiCenter(clock=ManualClock()) as fake:
        host, port = fake.address  # type: ignore[misc]
        conns = [http.client.HTTPConnection(host, port, timeout=5) for _ in range(3)]
        try:
            # One at a time, each answered, so the server has counted the first two
            # (kept alive) before the third arrives.
            for conn in conns[:2]:
                conn.request("GET", WHOAMI_PATH, headers=fake.auth_headers())
                answer = conn.getresponse()
                assert answer.status == 200
                answer.read()
            conns[2].request("GET", WHOAMI_PATH, headers=fake.auth_headers())
            refused = conns[2].getresponse()
            assert refused.status == 429
            assert refused.getheader("Retry-After") == "1"
            assert refused.getheader("Connection") == "close"
            assert orjson.loads(refused.read())["error"] == 429
            assert fake.peak_connections == 3
            # The first two connections still work.
            conns[0].request("GET", WHOAMI_PATH, headers=fake.auth_headers())
            assert conns[0].getresponse().read() == b'{"username":"demo"}'
        finally:
            for conn in conns:
                conn.close()
    assert [r.status for r in fake.requests] == [200, 200, 429, 200]


def test_a_requests_session_with_one_connection_stays_within_the_limit(api: Api):
    finish(api, QUERY)
    assert api.fake.peak_connections == 1


def test_in_process_calls_in_flight_count_as_connections(clock: ManualClock):
    """A slow body keeps a call in flight; the fake's sleep hook makes nested calls then."""
    seen: list[int] = []
    fake = FakeVidiCenter(clock=clock, serve=False, sleep=lambda _: nested())
    transport = fake.transport(enforce_connection_limit=True)

    def get(path: str = WHOAMI_PATH) -> Response:
        return transport.get(fake.url + path, params={}, headers=fake.auth_headers(), timeout=9)

    def nested() -> None:
        if fake.open_connections == 1:
            seen.append(get().status)  # a second connection: fine
            seen.append(get(DATA_PATH).status)  # slow too: nests once more
        else:
            seen.append(fake.open_connections)
            seen.append(get().status)  # a third connection: refused

    fake.inject(SlowBody(1.0), times=1, path=WHOAMI_PATH)
    fake.inject(SlowBody(1.0), times=1, path=DATA_PATH)
    assert get().status == 200
    assert seen == [200, 2, 429, 400]
    assert fake.peak_connections == 3
    assert fake.open_connections == 0


def test_in_process_overlap_is_only_recorded_unless_enforced(clock: ManualClock):
    statuses: list[int] = []
    fake = FakeVidiCenter(clock=clock, serve=False, sleep=lambda _: nested())
    transport = fake.transport()

    def get() -> Response:
        return transport.get(
            fake.url + WHOAMI_PATH, params={}, headers=fake.auth_headers(), timeout=9
        )

    def nested() -> None:
        if fake.open_connections < 3:
            statuses.append(get().status)

    fake.inject(SlowBody(1.0), times=2, path=WHOAMI_PATH)
    assert get().status == 200
    assert statuses == [200, 200]
    assert fake.peak_connections == 3


def test_row_limit_fails_the_export_with_the_row_count(clock: ManualClock):
    fake = FakeVidiCenter(clock=clock, serve=False, limits=Limits(finest_rows=100))
    headers = fake.auth_headers()
    big = query(time_resolution="finest", end="2025-01-03T23:59:59")
    small = query(time_resolution="finest", end="2025-01-01T02:59:59")
    for params in (big, small):
        assert fake.handle("GET", DATA_PATH, params, headers).json() == {"state": "started"}
    clock.sleep(2.0)
    failed = fake.handle("GET", DATA_PATH, big, headers).json()
    rows = len(
        fake.rows("viewers", "finest", start=big["start"], end=big["end"], locations=[4636, 4637])
    )
    assert rows > 100
    assert failed["state"] == "failed"
    assert failed["creation_date"] == "2025-01-01 00:00:00"
    assert f"this export has {rows} rows" in failed["fail_reason"]
    assert "more than the 100 rows allowed" in failed["fail_reason"]
    assert "data" not in failed
    assert fake.handle("GET", DATA_PATH, small, headers).json()["state"] == "finished"
    # A failed export stays failed: polling again does not rebuild it.
    assert fake.handle("GET", DATA_PATH, big, headers).json()["state"] == "failed"
    assert fake.builds_started(**big) == 1


def test_aggregated_row_limit(clock: ManualClock):
    fake = FakeVidiCenter(
        clock=clock, serve=False, build_seconds=0, limits=Limits(aggregated_rows=10)
    )
    headers = fake.auth_headers()
    fake.handle("GET", DATA_PATH, QUERY, headers)
    answer = fake.handle("GET", DATA_PATH, QUERY, headers).json()
    assert answer["state"] == "failed"
    assert "this export has 12 rows" in answer["fail_reason"]
    assert "aggregated export" in answer["fail_reason"]


def test_default_row_limits_are_the_documented_ones(clock: ManualClock):
    busy = DataGenerator(events_per_hour=1000)
    fake = FakeVidiCenter(clock=clock, serve=False, build_seconds=0, generator=busy)
    headers = fake.auth_headers()
    year = query(
        time_resolution="finest",
        start="2024-01-01T00:00:00",
        end="2024-12-31T23:59:59",
        locations="1",
    )
    fake.handle("GET", DATA_PATH, year, headers)
    answer = fake.handle("GET", DATA_PATH, year, headers).json()
    assert answer["state"] == "failed"
    assert "more than the 3000000 rows allowed for a raw (finest) export" in answer["fail_reason"]
    # 5m demographics of two locations for a year: 3 million rows, under the 20 million.
    small = query(time_resolution="5m", end="2025-12-31T23:59:59", group_by_demographics="1")
    big = {**small, "locations": ",".join(str(i) for i in range(1, 15))}
    for params in (small, big):
        fake.handle("GET", DATA_PATH, params, headers)
    # status_only: the state without generating the data.
    assert fake.handle("GET", DATA_PATH, {**small, "status_only": "1"}, headers).json() == {
        "state": "finished",
        "creation_date": "2025-01-01 00:00:00",
    }
    answer = fake.handle("GET", DATA_PATH, {**big, "status_only": "1"}, headers).json()
    assert answer["state"] == "failed"
    assert "has 22075200 rows, more than the 20000000 rows allowed" in answer["fail_reason"]


def test_a_huge_finest_export_reports_its_expected_size_quickly(clock: ManualClock):
    fake = FakeVidiCenter(clock=clock, serve=False, build_seconds=0)
    headers = fake.auth_headers()
    decade = query(
        time_resolution="finest",
        start="2015-01-01T00:00:00",
        end="2024-12-31T23:59:59",
        locations=",".join(str(i) for i in range(1, 301)),
    )
    fake.handle("GET", DATA_PATH, decade, headers)
    reason = fake.handle("GET", DATA_PATH, decade, headers).json()["fail_reason"]
    hours = 3653 * 24
    assert f"this export has about {hours * 300 * 6} rows" in reason


# -- faults -------------------------------------------------------------------------------


def test_server_errors_fire_on_the_next_n_data_calls(api: Api):
    rule = api.fake.inject(ServerError(503, retry_after=3), times=2)
    first, second = api.get(QUERY), api.get(QUERY)
    assert (first.status, second.status) == (503, 503)
    assert first.header("Retry-After") == "3"
    assert orjson.loads(first.body) == {"message": "Internal server error", "error": 503}
    assert api.fake.builds_started() == 0
    assert api.json(QUERY) == {"state": "started"}
    assert [c.path_number for c in rule.fired] == [1, 2]
    assert rule.exhausted
    assert [r.fault for r in api.fake.requests] == ["ServerError", "ServerError", None]


def test_a_server_error_may_carry_a_proxy_html_page(api: Api):
    api.fake.inject(ServerError(502, body=b"<html><h1>502 Bad Gateway</h1></html>"))
    response = api.get(QUERY)
    assert response.status == 502
    assert response.body == b"<html><h1>502 Bad Gateway</h1></html>"


def test_a_fault_at_call_number_k_fires_on_that_call_only(local: Api):
    local.fake.inject(ServerError(500), at=3)
    statuses = [local.get(QUERY).status for _ in range(5)]
    assert statuses == [200, 200, 500, 200, 200]


def test_a_fault_by_predicate_fires_on_matching_calls(local: Api):
    local.fake.inject(
        RateLimited(retry_after=7), times=None, when=lambda c: "status_only" in c.params
    )
    assert local.get(QUERY).status == 200
    polled = local.get(query(status_only="1"))
    assert polled.status == 429
    assert polled.header("Retry-After") == "7"
    assert local.get(QUERY).status == 200
    assert local.get(query(status_only="1")).status == 429


def test_faults_watch_the_data_endpoint_unless_told(local: Api):
    local.fake.inject(ServerError(500))
    assert local.get(path=WHOAMI_PATH).status == 200
    local.fake.inject(ServerError(504), path=None)
    assert local.get(path=WHOAMI_PATH).status == 504
    assert local.get(QUERY).status == 500
    assert local.get(QUERY).status == 200


def test_a_dropped_connection_changes_nothing_on_the_server(local: Api):
    local.fake.inject(DropConnection())
    with pytest.raises(ConnectionResetError):
        local.get(QUERY)
    assert local.fake.builds_started() == 0
    assert local.fake.requests[0].status == 0
    assert local.fake.requests[0].fault == "DropConnection"
    assert local.json(QUERY) == {"state": "started"}


def test_a_connection_dropped_after_processing_has_started_the_build(local: Api):
    local.fake.inject(DropConnection(after_processing=True))
    with pytest.raises(ConnectionResetError):
        local.get(QUERY)
    assert local.fake.builds_started(**QUERY) == 1
    # The client that retries now only polls: the build is already running.
    assert local.json(QUERY)["state"] == "in_progress"


def test_a_dropped_socket_connection_is_a_connection_error():
    with FakeVidiCenter(clock=ManualClock()) as fake, requests.Session() as session:
        fake.inject(DropConnection())
        with pytest.raises(requests.ConnectionError):
            session.get(fake.url + DATA_PATH, params=QUERY, headers=fake.auth_headers(), timeout=5)
        answer = session.get(
            fake.url + DATA_PATH, params=QUERY, headers=fake.auth_headers(), timeout=5
        )
        assert answer.json() == {"state": "started"}


def test_a_truncated_body_breaks_the_read(clock: ManualClock):
    with FakeVidiCenter(clock=clock, build_seconds=0) as fake, requests.Session() as session:
        transport = fake.transport()
        get = lambda: transport.get(  # noqa: E731
            fake.url + DATA_PATH, params=QUERY, headers=fake.auth_headers(), timeout=5
        )
        assert get().status == 200
        fake.inject(TruncatedBody(0.5), times=2)
        with pytest.raises(ConnectionError, match="connection closed after"):
            get()
        with pytest.raises(requests.RequestException):
            session.get(fake.url + DATA_PATH, params=QUERY, headers=fake.auth_headers(), timeout=5)
        assert len(get().body) > 100
        assert fake.downloads == 3


def test_a_slow_body_in_process_moves_the_manual_clock(local: Api):
    local.fake.inject(SlowBody(4.0), path=WHOAMI_PATH)
    before = local.clock()
    assert local.json(path=WHOAMI_PATH) == {"username": "demo"}
    assert local.clock() - before == 4.0
    assert local.clock.sleeps == [4.0]


def test_a_slow_body_longer_than_the_timeout_is_a_timeout(local: Api):
    local.fake.inject(SlowBody(30.0))
    transport = local.fake.transport()
    with pytest.raises(TimeoutError):
        transport.get(
            local.fake.url + DATA_PATH, params=QUERY, headers=local.fake.auth_headers(), timeout=5.0
        )
    assert local.clock.sleeps == [5.0]
    # The request was handled: the build started.
    assert local.fake.builds_started(**QUERY) == 1


def test_a_slow_socket_body_arrives_whole_and_late_enough_to_time_out_a_short_read():
    with FakeVidiCenter(clock=ManualClock(), build_seconds=0) as fake, requests.Session() as s:
        auth = fake.auth_headers()
        s.get(fake.url + DATA_PATH, params=QUERY, headers=auth, timeout=5)
        fake.inject(SlowBody(0.2))
        slow = s.get(fake.url + DATA_PATH, params=QUERY, headers=auth, timeout=5)
        assert len(slow.json()["data"]) == 12
        # A read timeout far shorter than the delay: the client gives up; closing
        # the fake does not wait for the delay to run out.
        fake.inject(SlowBody(60.0))
        with pytest.raises(requests.RequestException):
            s.get(fake.url + DATA_PATH, params=QUERY, headers=auth, timeout=0.3)


def test_fail_export_fires_on_the_call_that_starts_a_build(local: Api):
    rule = local.fake.inject(FailExport("Database timeout"), times=1)
    assert local.json(query(status_only="1")) == {"state": "started"}
    assert [c.path_number for c in rule.fired] == [1]
    assert local.json(QUERY)["state"] == "in_progress"
    local.clock.sleep(2.0)
    failed = local.json(QUERY)
    assert failed == {
        "state": "failed",
        "fail_reason": "Database timeout",
        "creation_date": "2025-01-01 00:00:00",
    }
    assert local.json(query(force_rebuild="1")) == {"state": "started"}
    local.clock.sleep(2.0)
    assert local.json(QUERY)["state"] == "finished"


def test_fail_export_ignores_calls_that_start_no_build(local: Api):
    local.json(QUERY)
    rule = local.fake.inject(FailExport(), times=1)
    local.json(QUERY)  # a poll: no build, the rule waits
    assert rule.fired == []
    local.json(other_query(1))
    assert len(rule.fired) == 1
    local.clock.sleep(2.0)
    assert local.json(QUERY)["state"] == "finished"
    assert local.json(other_query(1))["state"] == "failed"


def test_clear_faults(local: Api):
    local.fake.inject(ServerError(500), times=None)
    assert local.get(QUERY).status == 500
    local.fake.clear_faults()
    assert local.get(QUERY).status == 200


# -- recording -------------------------------------------------------------------------


def test_every_request_is_recorded(api: Api):
    api.clock.advance(5)
    api.get(path=WHOAMI_PATH, auth=False)
    finish(api, QUERY)
    api.json(query(status_only=""))
    log = api.fake.requests
    assert [(r.number, r.path, r.status, r.user, r.state) for r in log] == [
        (1, WHOAMI_PATH, 401, None, None),
        (2, DATA_PATH, 200, "demo", "started"),
        (3, DATA_PATH, 200, "demo", "finished"),
        (4, DATA_PATH, 200, "demo", "finished"),
    ]
    assert [r.path_number for r in log] == [1, 1, 2, 3]
    assert [r.build_started for r in log] == [False, True, False, False]
    assert [r.data_sent for r in log] == [False, False, True, False]
    assert log[3].params == query(status_only="")
    assert [r.time - log[0].time for r in log] == [0.0, 0.0, 2.0, 2.0]
    expected_client = "127.0.0.1" if api.mode == "socket" else "in-process"
    assert {r.client for r in log} == {expected_client}
    assert [r.number for r in api.fake.data_requests] == [2, 3, 4]
    assert api.fake.downloads == 1


def test_builds_started_counts_per_query_and_in_total(local: Api):
    local.json(QUERY)
    local.json(query(force_rebuild="1"))
    local.json(other_query(1))
    assert local.fake.builds_started(QUERY) == 2
    assert local.fake.builds_started(**{**QUERY, "locations": ["4636", "4637"]}) == 2
    assert local.fake.builds_started(**other_query(1)) == 1
    assert local.fake.builds_started(**other_query(2)) == 0
    assert local.fake.builds_started() == 3


# -- the command line -------------------------------------------------------------------


def test_serve_fake_parses_its_options():
    parser = argparse.ArgumentParser(prog="vidiframe")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["serve-fake"])
    assert (args.port, args.seed, args.build_seconds, args.username, args.token, args.legacy) == (
        8765,
        0,
        2.0,
        "demo",
        "demo-token",
        False,
    )
    args = parser.parse_args(
        [
            "serve-fake",
            "--port",
            "0",
            "--seed",
            "3",
            "--build-seconds",
            "0.5",
            "--username",
            "u",
            "--token",
            "t",
            "--legacy",
        ]
    )
    assert (args.port, args.seed, args.build_seconds, args.username, args.token, args.legacy) == (
        0,
        3,
        0.5,
        "u",
        "t",
        True,
    )
    assert args.func is run_serve_fake
    assert not hasattr(args, "host")


def test_serve_fake_prints_the_url_and_credentials_and_serves_until_stopped():
    parser = argparse.ArgumentParser(prog="vidiframe")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        [
            "serve-fake",
            "--port",
            "0",
            "--seed",
            "9",
            "--build-seconds",
            "0",
            "--username",
            "ann",
            "--token",
            "tok",
        ]
    )
    stop, ready = threading.Event(), threading.Event()
    out = io.StringIO()
    served: list[FakeVidiCenter] = []

    def on_ready(fake: FakeVidiCenter) -> None:
        served.append(fake)
        ready.set()

    result: list[int] = []
    thread = threading.Thread(
        target=lambda: result.append(run_serve_fake(args, stop=stop, stdout=out, on_ready=on_ready))
    )
    thread.start()
    try:
        assert ready.wait(10)
        fake = served[0]
        url = fake.url
        with requests.Session() as session:
            answer = session.get(fake.url + WHOAMI_PATH, auth=("ann", "tok"), timeout=5)
        assert answer.json() == {"username": "ann"}
        assert fake.generator.seed == 9
    finally:
        stop.set()
        thread.join(10)
    assert result == [0]
    text = out.getvalue()
    assert f"listening on {url} (seed 9" in text
    assert url.startswith("http://127.0.0.1:")
    assert "username: ann" in text
    assert "token:    tok" in text
    assert f"VIDICENTER_URL={url}" in text


def test_calls_that_read_the_clock_before_another_threads_call_see_the_server_as_it_was() -> None:
    # Threads read the clock before taking the server's lock, so a call stamped
    # 100 s can be handled after one stamped 105 s: the build started at 105 s
    # must not count as running at 100 s, nor the window go out of order.
    stamps = iter([105.0, 100.0, 100.5])
    fake = FakeVidiCenter(
        clock=lambda: next(stamps),
        serve=False,
        build_seconds=10,
        limits=Limits(concurrent_exports=1, calls_per_minute=3),
    )
    later = fake.handle(
        "GET", "/api/v1/data/", query(locations="1"), fake.auth_headers(), client="b"
    )
    earlier = fake.handle(
        "GET", "/api/v1/data/", query(locations="2"), fake.auth_headers(), client="a"
    )
    third = fake.handle(
        "GET", "/api/v1/data/", query(locations="3"), fake.auth_headers(), client="c"
    )

    assert orjson.loads(later.body) == {"state": "started"}
    assert orjson.loads(earlier.body) == {"state": "started"}
    assert third.status == 429
    assert third.headers["Retry-After"] == "10"
