"""The sync scheduler: fetches side by side, commits in order per lane.

Threads are made to finish in a chosen order by events that the jobs set for
each other, never by sleeps: every test is deterministic.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from vidiframe._sync_schedule import interleave, run_jobs

WAIT = 30.0  # seconds; only reached when the scheduler is broken (then the test fails)


@dataclass
class Step:
    lane: str
    name: str
    log: list[str]
    before: Callable[[], None] = lambda: None
    fail_fetch: BaseException | None = None
    fail_commit: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def fetch(self) -> str:
        self.log.append(f"fetch {self.name}")
        try:
            self.before()
            if self.fail_fetch is not None:
                raise self.fail_fetch
            return self.name.upper()
        finally:
            self.done.set()

    def commit(self, fetched: str) -> str:
        if self.fail_commit is not None:
            raise self.fail_commit
        return fetched


def waits_for(step: Step) -> Callable[[], None]:
    def wait() -> None:
        assert step.done.wait(WAIT), f"{step.name} never finished"

    return wait


def test_a_lane_commits_in_its_order_whatever_order_its_fetches_finish():
    log: list[str] = []
    a3 = Step("a", "a3", log)
    a2 = Step("a", "a2", log, before=waits_for(a3))
    a1 = Step("a", "a1", log, before=waits_for(a2))  # finishes last
    b1 = Step("b", "b1", log, before=waits_for(a3))

    committed: list[str] = []
    results = run_jobs([a1, b1, a2, a3], workers=4, on_commit=committed.append)

    assert [r for r in results if r.startswith("A")] == ["A1", "A2", "A3"]
    assert sorted(results) == ["A1", "A2", "A3", "B1"]
    assert committed == results
    # a1 finished last, so a2 and a3 waited for it: they come right after it.
    assert results.index("A1") + 2 == results.index("A3")


def test_fetches_of_every_lane_run_side_by_side_up_to_the_worker_count():
    log: list[str] = []
    running = 0
    peak = 0
    lock = threading.Lock()
    barrier = threading.Barrier(3, timeout=WAIT)

    def together() -> None:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        barrier.wait()  # three fetches of three lanes are running at the same time
        with lock:
            running -= 1

    jobs = [Step(lane, f"{lane}{i}", log, before=together) for i in (1, 2) for lane in "abc"]
    results = run_jobs(jobs, workers=3)

    assert sorted(results) == ["A1", "A2", "B1", "B2", "C1", "C2"]
    assert peak == 3


def test_a_failed_fetch_keeps_what_was_fetched_before_it_and_nothing_after():
    log: list[str] = []
    a2 = Step("a", "a2", log, fail_fetch=RuntimeError("server down"))
    a1 = Step("a", "a1", log, before=waits_for(a2))  # still running when a2 fails
    a3 = Step("a", "a3", log)

    committed: list[str] = []
    with pytest.raises(RuntimeError, match="server down"):
        run_jobs([a1, a2, a3], workers=3, on_commit=committed.append)

    # a1 was fetching when a2 failed: it finished and was written; a3 comes after
    # the failed batch of its lane, so it is never written.
    assert committed == ["A1"]


def test_nothing_new_starts_after_a_failed_fetch():
    log: list[str] = []
    a1 = Step("a", "a1", log, fail_fetch=KeyboardInterrupt())
    b1 = Step("b", "b1", log)
    with pytest.raises(KeyboardInterrupt):
        run_jobs([a1, b1], workers=1)
    assert log == ["fetch a1"]


def test_a_failed_commit_stops_at_once():
    log: list[str] = []
    a1 = Step("a", "a1", log, fail_commit=ValueError("disk full"))
    b1 = Step("b", "b1", log)
    committed: list[str] = []
    with pytest.raises(ValueError, match="disk full"):
        run_jobs([a1, b1], workers=1, on_commit=committed.append)
    assert (log, committed) == (["fetch a1"], [])


class Abandonable(Step):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.abandoned = threading.Event()
        self.before = self.wait_until_abandoned

    def wait_until_abandoned(self) -> None:
        assert self.abandoned.wait(WAIT)

    def abandon(self) -> None:
        self.abandoned.set()


def test_a_run_that_stops_at_once_abandons_the_fetches_still_running():
    log: list[str] = []
    b1 = Abandonable("b", "b1", log)
    a1 = Step("a", "a1", log, fail_commit=ValueError("disk full"))
    with pytest.raises(ValueError, match="disk full"):
        run_jobs([b1, a1], workers=2)
    # b1 was still fetching (it returns only once abandoned): told to stop.
    assert b1.abandoned.is_set()
    assert b1.done.wait(WAIT)


def test_fetched_jobs_waiting_for_their_lane_are_bounded():
    log: list[str] = []
    gate = threading.Event()

    def blocked() -> None:
        assert gate.wait(WAIT)

    first = Step("a", "a1", log, before=blocked)
    early: list[bool] = []
    rest = [Step("a", f"a{i}", log) for i in range(2, 9)]
    for step in rest[2:]:
        # a4 and later may start only once a1 is done: before, a2 and a3 wait for
        # a1 and a1 holds a worker, which is the 2 workers + 1 waiting allowed.
        step.before = lambda: early.append(not first.done.is_set())

    def open_gate() -> None:
        # a1 is released once a3 has been fetched while a1 was blocked.
        rest[1].done.wait(WAIT)
        gate.set()

    opener = threading.Thread(target=open_gate)
    opener.start()
    results = run_jobs([first, *rest], workers=2, ahead=1)
    opener.join()

    assert results == [f"A{i}" for i in range(1, 9)]
    assert early == [False] * 5


def test_interleave_starts_every_lane_and_keeps_each_lane_in_order():
    assert interleave([["a1", "a2", "a3"], [], ["c1"], ["d1", "d2"]]) == [
        "a1",
        "c1",
        "d1",
        "a2",
        "d2",
        "a3",
    ]


def test_workers_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        run_jobs([], workers=0)
