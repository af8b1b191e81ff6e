"""Online reads end to end against the fake VidiCenter (in process, on a manual clock)."""

from __future__ import annotations

import datetime as dt
import threading
from collections import defaultdict
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from support.clients import manual_client

import vidiframe as vf
from vidiframe._chunking import ChunkPlanner
from vidiframe._client import VidiCenterClient
from vidiframe._policies import Backoff, CallBudget, RetryPolicy
from vidiframe._transport import Response
from vidiframe.testing import (
    DropConnection,
    FailExport,
    FakeVidiCenter,
    Limits,
    ManualClock,
    RateLimited,
    ServerError,
    TruncatedBody,
)

TOKEN = "fetch-t0ken-77c1"
START, END = "2025-01-01T00:00:00", "2025-01-12T23:59:59"
LOCATIONS = [4636, 4637, 4650]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def fake(clock: ManualClock) -> Iterator[FakeVidiCenter]:
    with FakeVidiCenter(seed=11, token=TOKEN, clock=clock, build_seconds=3.0, serve=False) as f:
        yield f


def make_client(
    fake: FakeVidiCenter,
    clock: ManualClock,
    cache_dir: Path | None = None,
    *,
    max_rows: int | None = None,
    transport: Any = None,
    **kwargs: Any,
) -> VidiCenterClient:
    return manual_client(
        fake,
        clock,
        max_rows=max_rows,
        cache_dir=cache_dir,
        transport=transport,
        planner={"finest_rows_per_location_hour": 12},
        retry=RetryPolicy(max_attempts=8, backoff=Backoff(initial=0.5, jitter=0.5)),
        **kwargs,
    )


def read(client: VidiCenterClient, **kwargs: Any) -> pl.DataFrame:
    args: dict[str, Any] = {
        "data_type": "viewers",
        "time_resolution": "1h",
        "start": START,
        "end": END,
        "locations": LOCATIONS,
        "progress": False,
        **kwargs,
    }
    return vf.read_vidicenter(client=client, **args)


def expected(fake: FakeVidiCenter, **kwargs: Any) -> pl.DataFrame:
    """The frame of the whole request fetched as one export, parsed offline."""
    args: dict[str, Any] = {
        "data_type": "viewers",
        "time_resolution": "1h",
        "start": START,
        "end": END,
        "locations": LOCATIONS,
        **kwargs,
    }
    data_type, resolution = args.pop("data_type"), args.pop("time_resolution")
    demographics = args.get("group_by_demographics", False)
    body = fake.response_body(data_type, resolution, **args)
    return vf.read_vidicenter(
        body, data_type=data_type, time_resolution=resolution, group_by_demographics=demographics
    )


def chunks_of(fake: FakeVidiCenter) -> dict[tuple[tuple[str, str], ...], list[Any]]:
    """The data requests, grouped by export (the query without the protocol flags)."""
    groups: dict[tuple[tuple[str, str], ...], list[Any]] = defaultdict(list)
    for r in fake.data_requests:
        key = tuple(
            sorted((k, v) for k, v in r.params.items() if k not in ("force_rebuild", "status_only"))
        )
        groups[key].append(r)
    return groups


def max_calls_in_window(times: list[float], window: float = 60.0) -> int:
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] > window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


# -- exact rows across chunk boundaries -------------------------------------------------------


@pytest.mark.parametrize(
    ("export", "max_rows", "chunks"),
    [
        ({"time_resolution": "1h"}, 72, 12),
        ({"time_resolution": "15m", "end": "2025-01-02T05:59:59"}, 40, 9),
        ({"time_resolution": "1h", "group_by_demographics": True}, 2000, 7),
        ({"time_resolution": "1d", "data_type": "ots"}, 5, 8),
        ({"time_resolution": "1M", "start": "2024-02-15", "end": "2025-01-31"}, 3, 11),
        (
            {"time_resolution": "finest", "end": "2025-01-03T11:59:59", "locations": [1, 2]},
            200,
            8,
        ),
    ],
)
def test_chunked_read_equals_the_one_shot_export(
    fake: FakeVidiCenter,
    clock: ManualClock,
    export: dict[str, Any],
    max_rows: int,
    chunks: int,
) -> None:
    df = read(make_client(fake, clock, max_rows=max_rows), **export)
    assert len(chunks_of(fake)) == chunks
    want = expected(fake, **export)
    assert want.height > 0
    # Time-only chunks keep the server's order: the frames are equal as they are.
    assert_frame_equal(df, want)


def test_source_batches_give_the_same_rows(fake: FakeVidiCenter, clock: ManualClock) -> None:
    locations = list(range(4630, 4640))
    export = {"time_resolution": "1d", "start": "2025-01-01", "end": "2025-01-01"}
    df = read(make_client(fake, clock, max_rows=3), locations=locations, **export)
    requested = {dict(key)["locations"] for key in chunks_of(fake)}
    assert requested == {"4630,4631,4632", "4633,4634,4635", "4636,4637", "4638,4639"}
    want = expected(fake, locations=locations, **export)
    assert_frame_equal(df.sort("location_id"), want.sort("location_id"))


# -- the limits -----------------------------------------------------------------------------------


class TrackingTransport:
    """Checks, at every call, what the client has in flight.

    The fake's manual clock makes threads' sleeps add up, so server-side timing seen
    by concurrent threads is not exact; these counts are the client's own, exact.

    An export is building from the call that may start it (counted before the
    server sees it) until an answer says it is not. The client lets the next export
    start as soon as one is built, while that one downloads: the download of an
    export seen finished is no build, unless its answer says it is building again.
    How the threads interleave then changes no count.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.lock = threading.Lock()
        self.open = 0
        self.peak_open = 0
        self.building: set[str] = set()
        self.finished: set[str] = set()
        self.peak_building = 0

    def _build(self, export: str) -> None:
        self.building.add(export)
        self.peak_building = max(self.peak_building, len(self.building))

    def get(
        self, url: str, *, params: Mapping[str, str], headers: Mapping[str, str], timeout: float
    ) -> Response:
        export = orjson.dumps(
            {k: v for k, v in sorted(params.items()) if k not in ("status_only", "force_rebuild")}
        ).decode()
        with self.lock:
            self.open += 1
            self.peak_open = max(self.peak_open, self.open)
            if "status_only" not in params and export not in self.finished:
                # Possibly a new build: count it before the server sees it.
                self._build(export)
        try:
            response = self.inner.get(url, params=params, headers=headers, timeout=timeout)
        finally:
            with self.lock:
                self.open -= 1
        state = orjson.loads(response.body).get("state") if response.status == 200 else None
        with self.lock:
            if state in ("started", "in_progress"):
                self.finished.discard(export)
                self._build(export)  # a download that found it rebuilding counts too
            else:
                self.building.discard(export)
                if state == "finished":
                    self.finished.add(export)
        return response

    def close(self) -> None:
        self.inner.close()


def test_limits_hold_on_a_long_read(fake: FakeVidiCenter, clock: ManualClock) -> None:
    # 40 daily chunks need far more than 50 calls: the budget has to spread them.
    tracking = TrackingTransport(fake.transport())
    client = make_client(fake, clock, max_rows=72, transport=tracking)
    df = read(client, end="2025-02-09T23:59:59")
    assert_frame_equal(df, expected(fake, end="2025-02-09T23:59:59"))
    assert len(chunks_of(fake)) == 40
    assert len(fake.requests) > 120
    assert tracking.peak_building <= 3
    assert tracking.peak_open <= 2
    assert max_calls_in_window(list(client.budget.history)) <= 50
    assert len(client.budget.history) == len(fake.requests)
    assert fake.peak_concurrent_exports <= 3
    assert fake.peak_connections <= 2


def test_two_reads_in_parallel_share_the_limits(fake: FakeVidiCenter, clock: ManualClock) -> None:
    tracking = TrackingTransport(fake.transport())
    client = make_client(fake, clock, max_rows=72, transport=tracking)
    frames: dict[str, pl.DataFrame] = {}

    def worker(data_type: str) -> None:
        frames[data_type] = read(client, data_type=data_type)

    threads = [threading.Thread(target=worker, args=(t,)) for t in ("viewers", "ots")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert_frame_equal(frames["viewers"], expected(fake))
    assert_frame_equal(frames["ots"], expected(fake, data_type="ots"))
    assert tracking.peak_building <= 3
    assert tracking.peak_open <= 2
    assert max_calls_in_window(list(client.budget.history)) <= 50


class GatedServer:
    """A stub server whose builds finish only when the test says so."""

    def __init__(self) -> None:
        self.changed = threading.Condition()
        self.started: list[str] = []
        self.released: set[str] = set()
        self.building = 0
        self.peak_building = 0

    def get(
        self, url: str, *, params: Mapping[str, str], headers: Mapping[str, str], timeout: float
    ) -> Response:
        start = params["start"]
        with self.changed:
            if start not in self.started:
                self.started.append(start)
                self.building += 1
                self.peak_building = max(self.peak_building, self.building)
                self.changed.notify_all()
                return Response(200, b'{"state": "started"}')
            if start not in self.released:
                return Response(200, b'{"state": "in_progress"}')
        if "status_only" in params:
            return Response(200, b'{"state": "finished"}')
        return Response(200, b'{"state": "finished", "data": []}')

    def release(self, start: str) -> None:
        with self.changed:
            self.released.add(start)
            self.building -= 1
            self.changed.notify_all()

    def release_all(self, starts: list[str]) -> None:
        """Let every build finish, so that a reader left polling ends."""
        with self.changed:
            self.released.update(starts)
            self.changed.notify_all()

    def wait_until(self, predicate: Any) -> None:
        with self.changed:
            assert self.changed.wait_for(predicate, timeout=30)

    def close(self) -> None:
        pass


def test_three_exports_build_at_once_and_never_four() -> None:
    server = GatedServer()
    client = VidiCenterClient(
        "demo",
        TOKEN,
        "https://vidicenter.example",
        transport=server,
        cache_dir=None,
        planner=ChunkPlanner(max_rows=72, fill=1.0),
        # Real clock, waits shortened: polls spin until the test releases a build.
        sleep=lambda _seconds: threading.Event().wait(0.001),
    )
    result: list[pl.DataFrame] = []
    reader = threading.Thread(target=lambda: result.append(read(client, end="2025-01-06")))
    reader.start()
    days = [f"2025-01-0{d}T00:00:00" for d in range(1, 7)]
    try:
        server.wait_until(lambda: len(server.started) == 3)
        # Five workers take the first five chunks; which three get a slot first is up
        # to the thread scheduler (a slot is no queue), so builds are released in the
        # order they started.
        assert len(set(server.started)) == 3
        assert set(server.started) <= set(days[:5])
        for released in range(6):
            server.release(server.started[released])
            # Each build that finishes lets exactly one more start, never more.
            server.wait_until(lambda n=released: len(server.started) == min(6, n + 4))
            assert server.building == min(3, 6 - released - 1)
        assert sorted(server.started) == days
    finally:
        # Whatever failed above, the reader must not poll forever: the test process
        # would never exit.
        server.release_all(days)
        reader.join(timeout=30)
    assert not reader.is_alive()
    assert server.peak_building == 3
    assert result[0].height == 0


@pytest.mark.slow
def test_limits_seen_by_the_server_over_a_socket(tmp_path: Path) -> None:
    # Real time, real sockets, the server enforcing every limit; the call budget is
    # scaled down (12 calls per 3 s) so that it binds within a few seconds.
    limits = Limits(calls_per_minute=12, window_seconds=3.0)
    with FakeVidiCenter(seed=11, token=TOKEN, build_seconds=0.3, limits=limits) as fake:
        client = VidiCenterClient(
            "demo",
            TOKEN,
            fake.url,
            cache_dir=None,
            planner=ChunkPlanner(max_rows=72, fill=1.0),
            budget=CallBudget(calls=12, period=3.0, margin=0.3),
        )
        with client:
            df = read(client, end="2025-01-06T23:59:59")
        assert_frame_equal(df, expected(fake, end="2025-01-06T23:59:59"))
        requests = fake.requests
    assert [r.status for r in requests if r.status != 200] == []
    assert fake.peak_concurrent_exports <= 3
    assert fake.peak_connections <= 2
    assert max_calls_in_window([r.time for r in requests], window=3.0) <= 12


# -- the protocol, chunk by chunk -------------------------------------------------------------------


def test_force_rebuild_once_per_export_and_status_only_polls(
    fake: FakeVidiCenter, clock: ManualClock, tmp_path: Path
) -> None:
    client = make_client(fake, clock, tmp_path, max_rows=72)
    read(client)
    first_run = len(fake.requests)
    df = read(client, force_rebuild=True)
    assert_frame_equal(df, expected(fake))
    rebuilt = fake.data_requests[first_run:]
    groups: dict[str, list[Any]] = defaultdict(list)
    for r in rebuilt:
        groups[r.params["start"]].append(r)
    assert len(groups) == 12
    for sent in groups.values():
        assert [r.params.get("force_rebuild") for r in sent] == ["1"] + [None] * (len(sent) - 1)
        assert sent[0].build_started
        assert [r.params.get("status_only") for r in sent[1:-1]] == ["1"] * (len(sent) - 2)
        assert "status_only" not in sent[-1].params
        assert sent[-1].data_sent
        assert sum(r.build_started for r in sent) == 1
    # Flags are never sent with a false value.
    assert all(
        r.params.get(flag, "1") == "1"
        for r in fake.requests
        for flag in ("force_rebuild", "status_only")
    )


def test_faults_are_survived_with_nothing_lost(fake: FakeVidiCenter, clock: ManualClock) -> None:
    fake.inject(ServerError(503), at=[1, 7])
    fake.inject(ServerError(502, body=b"<html>proxy</html>"), at=[12])
    fake.inject(DropConnection(), at=[3, 20])
    fake.inject(DropConnection(after_processing=True), at=[9, 25])
    fake.inject(TruncatedBody(0.5), at=[15, 30])
    fake.inject(RateLimited(retry_after=5), at=[5, 18])
    df = read(make_client(fake, clock, max_rows=72))
    assert_frame_equal(df, expected(fake))
    statuses = {r.status for r in fake.requests}
    assert {0, 429, 502, 503} <= statuses


def test_a_chunk_too_large_for_the_server_is_split(clock: ManualClock) -> None:
    limits = Limits(aggregated_rows=500)
    with FakeVidiCenter(
        seed=11, token=TOKEN, clock=clock, build_seconds=3.0, serve=False, limits=limits
    ) as fake:
        # The planner thinks one export is fine; the server refuses 864 rows.
        df = read(make_client(fake, clock))
        assert_frame_equal(df, expected(fake))
        failed = [r for r in fake.data_requests if r.state == "failed"]
        assert len(failed) == 1
        assert failed[0].params["start"] == START
        assert failed[0].params["end"] == END
        done = sorted(
            (r.params["start"], r.params["end"]) for r in fake.data_requests if r.data_sent
        )
        assert done == [(START, "2025-01-06T23:59:59"), ("2025-01-07T00:00:00", END)]


def test_a_chunk_that_cannot_be_split_fails(clock: ManualClock) -> None:
    with FakeVidiCenter(
        token=TOKEN, clock=clock, serve=False, limits=Limits(aggregated_rows=1)
    ) as fake:
        client = make_client(fake, clock)
        with pytest.raises(vf.ExportFailedError, match="cannot be split further") as info:
            read(
                client,
                start="2025-01-01T00:00:00",
                end="2025-01-01T00:59:59",
                locations=[4636],
                group_by_demographics=True,
            )
    assert "Too many rows" in str(info.value.fail_reason)


def test_a_failed_export_stops_the_read(fake: FakeVidiCenter, clock: ManualClock) -> None:
    fake.inject(
        FailExport("Export failed: internal error 42"),
        when=lambda call: call.params["start"].startswith("2025-01-05"),
    )
    before = threading.active_count()
    with pytest.raises(vf.ExportFailedError, match="internal error 42") as info:
        read(make_client(fake, clock, max_rows=72))
    assert info.value.fail_reason == "Export failed: internal error 42"
    assert info.value.query is not None
    assert threading.active_count() == before  # no worker left behind
    downloaded = [r for r in fake.data_requests if r.data_sent]
    assert len(downloaded) < 12


def test_authentication_errors(fake: FakeVidiCenter, clock: ManualClock) -> None:
    client = VidiCenterClient(
        "demo", "not-the-token", fake.url, transport=fake.transport(), clock=clock, cache_dir=None
    )
    with pytest.raises(vf.AuthenticationError) as info:
        read(client)
    assert info.value.status == 401
    assert "not-the-token" not in str(info.value)


def test_forbidden_location_is_403(clock: ManualClock) -> None:
    with (
        FakeVidiCenter(token=TOKEN, clock=clock, serve=False, forbidden_locations=[4650]) as fake,
        pytest.raises(vf.AuthenticationError, match="4650") as info,
    ):
        read(make_client(fake, clock))
    assert info.value.status == 403


# -- the cache and interruptions --------------------------------------------------------------------


def test_a_cache_hit_makes_no_call(
    fake: FakeVidiCenter, clock: ManualClock, tmp_path: Path
) -> None:
    first = read(make_client(fake, clock, tmp_path, max_rows=72))
    calls = len(fake.requests)
    second = read(make_client(fake, clock, tmp_path, max_rows=72))
    assert len(fake.requests) == calls
    assert_frame_equal(first, second)
    assert len(list(tmp_path.glob("*.vfc"))) == 12


class InterruptingTransport:
    """Raises KeyboardInterrupt instead of sending the ``at``-th download."""

    def __init__(self, inner: Any, at: int) -> None:
        self.inner = inner
        self.at = at
        self.downloads = 0
        self.lock = threading.Lock()

    def get(
        self, url: str, *, params: Mapping[str, str], headers: Mapping[str, str], timeout: float
    ) -> Response:
        response = self.inner.get(url, params=params, headers=headers, timeout=timeout)
        if b'"data"' in response.body:
            with self.lock:
                self.downloads += 1
                if self.downloads == self.at:
                    raise KeyboardInterrupt
        return response

    def close(self) -> None:
        self.inner.close()


def test_an_interrupted_read_resumes(
    fake: FakeVidiCenter, clock: ManualClock, tmp_path: Path
) -> None:
    before = threading.active_count()
    interrupting = InterruptingTransport(fake.transport(), at=6)
    with pytest.raises(KeyboardInterrupt):
        read(make_client(fake, clock, tmp_path, max_rows=72, transport=interrupting))
    assert threading.active_count() == before  # the workers stopped
    cached = len(list(tmp_path.glob("*.vfc")))
    assert 5 <= cached < 12
    assert list(tmp_path.glob(".*")) == []  # no temporary file left

    calls = len(fake.requests)
    client = make_client(fake, clock, tmp_path, max_rows=72)
    df = read(client)
    assert_frame_equal(df, expected(fake))
    assert client.stats["cache_hits"] == cached
    resumed = fake.requests[calls:]
    # Only the chunks missing from the cache cost calls, and no build is forced.
    assert len({r.params["start"] for r in resumed}) == 12 - cached
    assert all("force_rebuild" not in r.params for r in resumed)
    assert len(list(tmp_path.glob("*.vfc"))) == 12


# -- what the caller sees ---------------------------------------------------------------------------


class AddFieldTransport:
    """Adds an undocumented field to the rows of some finished bodies."""

    def __init__(self, inner: Any, every: int = 2) -> None:
        self.inner = inner
        self.every = every
        self.seen = 0
        self.lock = threading.Lock()

    def get(
        self, url: str, *, params: Mapping[str, str], headers: Mapping[str, str], timeout: float
    ) -> Response:
        response = self.inner.get(url, params=params, headers=headers, timeout=timeout)
        payload = orjson.loads(response.body) if response.status == 200 else {}
        if "data" not in payload:
            return response
        with self.lock:
            self.seen += 1
            add = self.seen % self.every == 0
        if add:
            for row in payload["data"]:
                row["brand_new_metric"] = 7
        return Response(response.status, orjson.dumps(payload), response.headers)

    def close(self) -> None:
        self.inner.close()


def test_unknown_fields_warn_once_and_concatenate(fake: FakeVidiCenter, clock: ManualClock) -> None:
    transport = AddFieldTransport(fake.transport())
    client = make_client(fake, clock, max_rows=72, transport=transport)
    with pytest.warns(vf.UnknownFieldWarning, match="brand_new_metric") as caught:
        df = read(client)
    assert len([w for w in caught if issubclass(w.category, vf.UnknownFieldWarning)]) == 1
    want = expected(fake)
    assert_frame_equal(df.drop("brand_new_metric", "is_placeholder"), want.drop("is_placeholder"))
    # A value under an unknown name is a value: a row that holds one is no placeholder.
    assert (
        df["is_placeholder"].to_list()
        == (want["is_placeholder"] & df["brand_new_metric"].is_null()).to_list()
    )
    # Nothing dropped: chunks with the field keep its values, the others are null.
    assert df["brand_new_metric"].drop_nulls().unique().to_list() == [7]
    assert df["brand_new_metric"].null_count() == df.height // 2


def test_progress_bar(
    fake: FakeVidiCenter, clock: ManualClock, capsys: pytest.CaptureFixture[str]
) -> None:
    read(make_client(fake, clock, max_rows=72), progress=True)
    err = capsys.readouterr().err
    assert "viewers/1h" in err
    assert "12/12" in err
    assert "done=12" in err
    read(make_client(fake, clock, max_rows=72), progress=False)
    assert capsys.readouterr().err == ""


def test_invalid_arguments_are_refused_before_any_request(
    fake: FakeVidiCenter, clock: ManualClock
) -> None:
    client = make_client(fake, clock)
    for bad in (
        {"placeholders": "maybe"},
        {"force_rebuild": "yes"},
        {"strict": 1},
        {"progress": "auto"},
    ):
        with pytest.raises(vf.InvalidRequestError):
            read(client, **bad)
    with pytest.raises(vf.InvalidRequestError, match="client must be a VidiCenterClient"):
        read(object())  # type: ignore[arg-type]
    assert fake.requests == []


def test_placeholders_drop(fake: FakeVidiCenter, clock: ManualClock) -> None:
    kept = read(make_client(fake, clock, max_rows=72))
    dropped = read(make_client(fake, clock, max_rows=72), placeholders="drop")
    assert kept["is_placeholder"].sum() > 0
    assert_frame_equal(dropped, kept.filter(~pl.col("is_placeholder")))


def test_client_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with FakeVidiCenter(seed=11, token=TOKEN, build_seconds=0.0) as fake:
        monkeypatch.setenv("VIDICENTER_USERNAME", "demo")
        monkeypatch.setenv("VIDICENTER_TOKEN", TOKEN)
        monkeypatch.setenv("VIDICENTER_URL", fake.url)
        monkeypatch.setenv("VIDIFRAME_CACHE_DIR", str(tmp_path))
        df = vf.read_vidicenter(
            data_type="ots",
            time_resolution="1h",
            start="2025-01-01",
            end="2025-01-01",
            locations=[4636],
        )
        assert_frame_equal(
            df,
            expected(
                fake,
                data_type="ots",
                start="2025-01-01",
                end="2025-01-01T23:59:59",
                locations=[4636],
            ),
        )
        assert fake.requests[0].client == "127.0.0.1"
    assert len(list(tmp_path.glob("*.vfc"))) == 1


# -- a server that breaks the range rule ------------------------------------------------------


class LeakyTransport:
    """The fake, but every download also carries the hour before its chunk's start.

    That hour belongs to the previous chunk, which returns it too: a server that
    broke the range rule this way would duplicate rows at every inner boundary.
    """

    def __init__(self, fake: FakeVidiCenter) -> None:
        self.fake = fake
        self.inner = fake.transport()
        self.leaked: dict[str, int] = {}

    def get(
        self, url: str, *, params: Mapping[str, str], headers: Mapping[str, str], timeout: float
    ) -> Response:
        response = self.inner.get(url, params=params, headers=headers, timeout=timeout)
        document = orjson.loads(response.body) if response.status == 200 else {}
        if "data" not in document or params["start"] == START:
            return response
        start = dt.datetime.fromisoformat(params["start"])
        before = self.fake.response_body(
            params["data_type"],
            params["time_resolution"],
            start=(start - dt.timedelta(hours=1)).isoformat(),
            end=(start - dt.timedelta(seconds=1)).isoformat(),
            locations=[int(x) for x in params["locations"].split(",")],
        )
        extra = orjson.loads(before)["data"]
        assert extra, "the leak must add rows, or the test proves nothing"
        self.leaked[params["start"]] = len(extra)
        document["data"] = extra + document["data"]
        return Response(response.status, orjson.dumps(document), response.headers)

    def close(self) -> None:
        self.inner.close()


def test_rows_outside_a_chunk_are_dropped_and_counted(
    fake: FakeVidiCenter, clock: ManualClock
) -> None:
    leaky = LeakyTransport(fake)
    client = make_client(fake, clock, max_rows=72, transport=leaky)
    with pytest.warns(vf.OutOfRangeWarning) as caught:
        df = read(client, end="2025-01-04T23:59:59")
    # Exactly the one-shot export: no duplicate at any of the 3 inner boundaries.
    assert_frame_equal(df, expected(fake, end="2025-01-04T23:59:59"))
    assert len(leaky.leaked) == 3
    counts = sorted(int(str(w.message).split(" returned ")[1].split(" row")[0]) for w in caught)
    assert counts == sorted(leaky.leaked.values())
    assert all("dropped" in str(w.message) for w in caught)


def test_rows_before_the_first_chunk_are_the_servers_business(
    fake: FakeVidiCenter, clock: ManualClock
) -> None:
    # The read's own start is not a chunk boundary: nothing there is a duplicate.
    leaky = LeakyTransport(fake)
    client = make_client(fake, clock, transport=leaky)
    df = read(client, start="2025-01-02T00:00:00", end="2025-01-02T23:59:59")
    assert len(leaky.leaked) == 1
    assert df.height == expected(fake, start="2025-01-02", end="2025-01-02T23:59:59").height + next(
        iter(leaky.leaked.values())
    )
