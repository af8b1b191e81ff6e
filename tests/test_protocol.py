"""The export state machine, driven with plain bytes: no socket, no clock."""

from __future__ import annotations

import orjson
import pytest

import vidiframe as vf
from vidiframe._policies import Backoff, PollSchedule
from vidiframe._protocol import Done, ExportProtocol, ProtocolUsageError, Send, Wait, read_state
from vidiframe._query import make_query

QUERY = make_query(
    data_type="viewers",
    time_resolution="1h",
    start="2025-01-01",
    end="2025-01-01",
    locations=[4636],
)
STARTED = b'{"state": "started"}'
IN_PROGRESS = b'{"state": "in_progress", "creation_date": "2025-01-01 00:00:00"}'
FINISHED_STATUS = b'{"state": "finished", "creation_date": "2025-01-01 00:00:00"}'
FINISHED = b'{"state": "finished", "data": [], "creation_date": "2025-01-01 00:00:00"}'


def protocol(**kwargs: object) -> ExportProtocol:
    schedule = PollSchedule(Backoff(initial=1.0, factor=2.0, maximum=8.0, jitter=0.0))
    return ExportProtocol(QUERY, schedule=schedule, **kwargs)  # type: ignore[arg-type]


def run(p: ExportProtocol, bodies: list[bytes]) -> list[object]:
    """Drive ``p`` with ``bodies`` as the answers; return every event, Done included."""
    events: list[object] = []
    answers = iter(bodies)
    elapsed = 0.0
    while True:
        event = p.next_event()
        events.append(event)
        if isinstance(event, Done):
            return events
        if isinstance(event, Wait):
            elapsed += event.seconds
            continue
        p.receive(next(answers), elapsed=elapsed)


def sends(events: list[object]) -> list[Send]:
    return [e for e in events if isinstance(e, Send)]


def test_full_conversation_with_force_rebuild_once_and_status_only_polls() -> None:
    events = run(protocol(force_rebuild=True), [STARTED, IN_PROGRESS, FINISHED_STATUS, FINISHED])
    params = QUERY.params()
    assert events == [
        Send({**params, "force_rebuild": "1"}, "start"),
        Wait(1.0),
        Send({**params, "status_only": "1"}, "poll"),
        Wait(2.0),
        Send({**params, "status_only": "1"}, "poll"),
        Send(params, "download"),
        Done(FINISHED),
    ]


def test_flags_are_never_sent_false() -> None:
    events = run(protocol(force_rebuild=False), [STARTED, FINISHED_STATUS, FINISHED])
    for send in sends(events):
        assert "force_rebuild" not in send.params
        assert send.params.get("status_only", "1") == "1"
    assert [s.kind for s in sends(events)] == ["start", "poll", "download"]


def test_cached_export_is_done_after_one_request() -> None:
    events = run(protocol(), [FINISHED])
    assert events == [Send(QUERY.params(), "start"), Done(FINISHED)]


def test_failed_export_raises_with_fail_reason() -> None:
    p = protocol()
    p.next_event()
    p.receive(STARTED, elapsed=0.0)
    p.next_event()
    p.next_event()
    with pytest.raises(vf.ExportFailedError, match="disk full") as info:
        p.receive(b'{"state": "failed", "fail_reason": "disk full"}', elapsed=1.0)
    assert info.value.fail_reason == "disk full"
    assert info.value.query is QUERY


def test_failed_without_reason() -> None:
    p = protocol()
    p.next_event()
    with pytest.raises(vf.ExportFailedError, match="no fail_reason given") as info:
        p.receive(b'{"state": "failed"}', elapsed=0.0)
    assert info.value.fail_reason is None


def test_timeout_raises_not_ready() -> None:
    p = protocol(timeout=5.0)
    with pytest.raises(vf.ExportNotReadyError, match="still in_progress") as info:
        run(p, [STARTED] + [IN_PROGRESS] * 10)
    assert info.value.state == "in_progress"
    # Waits 1 + 2 = 3 s, then the next 4 s would pass the 5 s timeout.
    assert p.polls == 2


def test_export_rebuilt_between_status_and_download_is_polled_again() -> None:
    events = run(protocol(), [STARTED, FINISHED_STATUS, STARTED, FINISHED_STATUS, FINISHED])
    assert [s.kind for s in sends(events)] == ["start", "poll", "download", "poll", "download"]


def test_too_many_rebuilds_give_up() -> None:
    p = protocol(max_restarts=1)
    with pytest.raises(vf.ExportNotReadyError, match="rebuilt 2 times"):
        run(p, [STARTED, FINISHED_STATUS, STARTED, FINISHED_STATUS, STARTED])


def test_building_is_false_once_finished_is_known() -> None:
    p = protocol()
    assert p.next_event().kind == "start"  # type: ignore[union-attr]
    assert p.building
    p.receive(STARTED, elapsed=0.0)
    assert p.building
    assert isinstance(p.next_event(), Wait)
    assert p.next_event().kind == "poll"  # type: ignore[union-attr]
    p.receive(FINISHED_STATUS, elapsed=1.0)
    # The server is done building: the export's slot can go to the next one.
    assert not p.building
    assert p.next_event().kind == "download"  # type: ignore[union-attr]
    assert not p.building
    p.receive(FINISHED, elapsed=1.1)
    assert p.next_event() == Done(FINISHED)


def test_observations_for_the_estimator() -> None:
    p = protocol()
    run(p, [STARTED, IN_PROGRESS, FINISHED_STATUS, FINISHED])
    assert (p.pending_at, p.finished_at) == (1.0, 3.0)


def test_hinted_schedule_bisects() -> None:
    schedule = PollSchedule(Backoff(initial=1.0, jitter=0.0), hint=(2.0, 4.0))
    p = ExportProtocol(QUERY, schedule=schedule)
    events = run(p, [STARTED, IN_PROGRESS, FINISHED_STATUS, FINISHED])
    # Mid-interval at 3 s; still building there, so mid-way through (3, 4] next.
    assert [e.seconds for e in events if isinstance(e, Wait)] == [3.0, 0.5]


def test_skipped_poll_counts_for_the_backoff() -> None:
    p = protocol()
    p.next_event()
    p.receive(STARTED, elapsed=0.0)
    assert p.next_event() == Wait(1.0)
    p.skip_poll(elapsed=1.0)
    assert p.next_event() == Wait(2.0)
    assert p.next_event().kind == "poll"  # type: ignore[union-attr]
    assert (p.polls, p.skips) == (1, 1)
    with pytest.raises(ProtocolUsageError):
        p.skip_poll(elapsed=3.0)
    p.receive(IN_PROGRESS, elapsed=3.0)
    p.next_event()
    p.skip_poll(elapsed=7.0, shorten=0.5)  # half of the next step, 8 s
    assert p.next_event() == Wait(4.0)


def test_usage_errors() -> None:
    p = protocol()
    p.next_event()
    with pytest.raises(ProtocolUsageError):
        p.next_event()
    q = protocol()
    with pytest.raises(ProtocolUsageError):
        q.receive(STARTED, elapsed=0.0)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>502</html>", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"data": []}', "no 'state'"),
        (b'{"state": "queued"}', "unknown export state 'queued'"),
    ],
)
def test_bad_bodies_raise_format_errors(body: bytes, message: str) -> None:
    p = protocol()
    p.next_event()
    with pytest.raises(vf.ResponseFormatError, match=message):
        p.receive(body, elapsed=0.0)


def test_not_json_reports_position() -> None:
    with pytest.raises(vf.ResponseFormatError) as info:
        read_state(b'{"state": "started",}')
    assert info.value.position == 19  # the trailing comma


def test_large_bodies_are_not_parsed_twice() -> None:
    body = orjson.dumps({"state": "finished", "data": [{"x": "y" * 100}] * 20_000})
    assert len(body) > 1 << 20
    assert read_state(body) == ("finished", None)
    events = run(protocol(), [body])
    assert events[-1] == Done(body)
