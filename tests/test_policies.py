"""Backoff, poll schedule, retries, call budget and limits, with injected clock and RNG."""

from __future__ import annotations

import random
import threading

import pytest

from vidiframe._errors import InvalidRequestError
from vidiframe._policies import (
    Backoff,
    BuildTimeEstimator,
    CallBudget,
    Limits,
    PollSchedule,
    RateLimited,
    RetryPolicy,
    ServerFailure,
    parse_retry_after,
)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_backoff_grows_to_its_cap() -> None:
    b = Backoff(initial=0.5, factor=3.0, maximum=10.0, jitter=0.0)
    assert [b.delay(n) for n in range(5)] == [0.5, 1.5, 4.5, 10.0, 10.0]
    assert b.delay(10_000) == 10.0  # no overflow


def test_backoff_jitter_is_bounded_and_repeatable() -> None:
    def draws(seed: int) -> list[float]:
        b = Backoff(initial=2.0, factor=2.0, maximum=60.0, jitter=0.25, rng=random.Random(seed))
        return [b.delay(n) for n in range(6)]

    first = draws(7)
    assert first == draws(7)
    assert first != draws(8)
    for n, value in enumerate(first):
        base = min(60.0, 2.0 * 2.0**n)
        assert 0.75 * base <= value <= 1.25 * base
    # Jitter actually spreads: not every draw is the base value.
    assert any(abs(v - min(60.0, 2.0 * 2.0**n)) > 1e-9 for n, v in enumerate(first))


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"initial": -1}, "initial"),
        ({"factor": 0.5}, "factor"),
        ({"initial": 5, "maximum": 1}, "maximum"),
        ({"jitter": 1.0}, "jitter"),
        ({"initial": "1"}, "initial"),
    ],
)
def test_backoff_rejects_nonsense(kwargs: dict[str, float], name: str) -> None:
    with pytest.raises(InvalidRequestError, match=rf"^{name} must be a number in .*, got"):
        Backoff(**kwargs)


def test_poll_schedule_without_hint_is_the_backoff() -> None:
    s = PollSchedule(Backoff(initial=1.0, factor=1.5, jitter=0.0))
    assert [s.delay(n, elapsed=100.0) for n in range(4)] == [1.0, 1.5, 2.25, 3.375]


def test_poll_schedule_with_hint_bisects_then_backs_off() -> None:
    s = PollSchedule(Backoff(initial=1.0, factor=2.0, jitter=0.0), hint=(2.0, 4.0))
    assert s.delay(0, elapsed=0.0) == 3.0  # mid-interval
    assert s.delay(1, elapsed=3.0) == 0.5  # building at 3 s: mid-way through (3, 4]
    assert s.delay(2, elapsed=3.9) == 0.25  # never closer than min_interval
    # Building past the hint: this export is slower than its siblings, back off.
    assert s.delay(2, elapsed=4.0) == 4.0


def test_poll_schedule_reads_a_live_hint_and_quantile() -> None:
    hint: list[tuple[float, float] | None] = [None]
    quantile = [0.5]
    s = PollSchedule(
        Backoff(initial=1.0, jitter=0.0), hint=lambda: hint[0], quantile=lambda: quantile[0]
    )
    assert s.delay(0, elapsed=0.0) == 1.0
    hint[0] = (2.0, 6.0)
    assert s.delay(0, elapsed=0.0) == 4.0
    quantile[0] = 1.0  # no calls to spare: poll where the export is known to be done
    assert s.delay(0, elapsed=0.0) == pytest.approx(6.0 * 1.02)


def test_estimator_quantile_follows_spare_calls() -> None:
    spare = [10]
    est = BuildTimeEstimator(spare_calls=lambda: spare[0])
    assert est.quantile() == 0.5
    spare[0] = 5
    assert est.quantile() == 1.0
    assert BuildTimeEstimator().quantile() == 0.5


def test_estimator_wakes_waiters_with_news() -> None:
    est = BuildTimeEstimator()
    seen = est.generation
    assert est.wait_for_news(0.0, seen=seen) == seen  # nothing new: times out at once
    woke: list[int] = []
    waiter = threading.Thread(target=lambda: woke.append(est.wait_for_news(60.0, seen=seen)))
    waiter.start()
    est.observe(pending=1.0, finished=2.0)
    waiter.join(timeout=30)
    assert woke == [seen + 1]


def test_estimator_covers_polls_siblings_just_made() -> None:
    est = BuildTimeEstimator(tolerance=0.2)
    assert not est.covers(0.5)
    est.observe_pending(1.0)
    assert est.covers(0.5)
    assert est.covers(1.2)  # within 20 %
    assert not est.covers(1.3)
    est.observe(pending=1.0, finished=2.0)
    assert not est.covers(0.5)  # a hint exists: it decides


def test_estimator_keeps_the_intersection_and_resets_on_contradiction() -> None:
    est = BuildTimeEstimator()
    est.observe(pending=1.0, finished=2.5)
    est.observe(pending=1.5, finished=4.0)
    assert est.hint() == (1.5, 2.5)
    est.observe(pending=5.0, finished=6.0)  # builds got slower: the latest wins
    assert est.hint() == (5.0, 6.0)
    est.observe(pending=3.0, finished=3.0)  # not an interval: ignored
    assert est.hint() == (5.0, 6.0)
    est.observe_pending(5.5)  # a sibling still building inside it raises lo
    assert est.hint() == (5.5, 6.0)
    est.observe_pending(9.0)  # a slower sibling outside it says nothing about it
    assert est.hint() == (5.5, 6.0)


def test_retry_policy_retries_then_reraises_the_last_failure() -> None:
    sleeps: list[float] = []
    calls: list[int] = []
    policy = RetryPolicy(max_attempts=3, backoff=Backoff(initial=1.0, factor=2.0, jitter=0.0))

    def always_503() -> None:
        calls.append(1)
        raise ServerFailure("HTTP 503", status=503)

    with pytest.raises(ServerFailure) as info:
        policy.call(always_503, sleep=sleeps.append)
    assert info.value.status == 503
    assert len(calls) == 3
    assert sleeps == [1.0, 2.0]


def test_retry_policy_honours_retry_after_exactly() -> None:
    sleeps: list[float] = []
    outcomes = iter([RateLimited("429", retry_after=17.0), ServerFailure("reset"), "ok"])

    def flaky() -> str:
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    policy = RetryPolicy(max_attempts=5, backoff=Backoff(initial=0.5, jitter=0.0))
    assert policy.call(flaky, sleep=sleeps.append) == "ok"
    # The first server failure waits the backoff's first step: a 429 before it does not count.
    assert sleeps == [17.0, 0.5]


def test_retry_policy_gives_up_on_a_retry_after_beyond_its_patience() -> None:
    sleeps: list[float] = []

    def overloaded() -> None:
        raise RateLimited("429", retry_after=3600.0)

    with pytest.raises(RateLimited):
        RetryPolicy(max_retry_after=600.0).call(overloaded, sleep=sleeps.append)
    assert sleeps == []


def test_retry_policy_does_not_retry_other_errors() -> None:
    calls: list[int] = []

    def broken() -> None:
        calls.append(1)
        raise KeyError("bug")

    with pytest.raises(KeyError):
        RetryPolicy().call(broken, sleep=lambda _s: None)
    assert calls == [1]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 3 ", 3.0),
        ("0", 0.0),
        ("-5", 0.0),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 60.0),
        ("Wed, 21 Oct 2015 07:26:00 GMT", 0.0),
        (None, None),
        ("", None),
        ("later", None),
        ("nan", None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    now = 1445412420.0  # 2015-10-21 07:27:00 UTC
    assert parse_retry_after(value, now=now) == expected


def test_call_budget_never_allows_more_than_n_calls_in_a_window() -> None:
    clock = Clock()
    budget = CallBudget(calls=50, period=60.0, margin=1.0, clock=clock)
    sent: list[float] = []
    for _ in range(180):
        wait = budget.reserve()
        clock.now += wait
        sent.append(clock.now)
        clock.now += 0.1
    assert sent[:50] == pytest.approx([0.1 * i for i in range(50)])
    # The 51st call waits until the first has left the (60 + 1) s window.
    assert sent[50] == pytest.approx(61.0)
    for i in range(len(sent) - 50):
        assert sent[i + 50] - sent[i] >= 61.0 - 1e-9
    assert budget.used() == 50
    assert budget.headroom() == 0


def test_call_budget_is_shared_by_threads() -> None:
    clock = Clock()
    budget = CallBudget(calls=10, period=60.0, margin=0.0, clock=clock)
    waits: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(5):
            wait = budget.reserve()
            with lock:
                waits.append(wait)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # 30 bookings at t=0: ten now, ten a window later, ten two windows later.
    assert sorted(waits) == [0.0] * 10 + [60.0] * 10 + [120.0] * 10


def test_limits_are_the_server_limits_at_most() -> None:
    assert (Limits().exports, Limits().connections) == (3, 2)
    assert Limits(exports=1, connections=1).exports == 1
    with pytest.raises(InvalidRequestError, match=r"exports must be an integer in \[1, 3\], got 4"):
        Limits(exports=4)
    with pytest.raises(InvalidRequestError, match=r"connections must be an integer in \[1, 2\]"):
        Limits(connections=3)
    with pytest.raises(InvalidRequestError, match=r"exports must be an integer .*, got 2\.0"):
        Limits(exports=2.0)  # type: ignore[arg-type]
