"""The fake VidiCenter server (vidiframe.testing._fake), over a socket and in process."""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
import requests

from vidiframe._transport import Response, Transport
from vidiframe.testing import (
    DATA_PATH,
    WHOAMI_PATH,
    FakeVidiCenter,
    ManualClock,
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
