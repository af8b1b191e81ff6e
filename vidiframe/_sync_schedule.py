"""One scheduler for every job of a sync run: fetch side by side, commit in order.

A sync run is a set of *lanes* (one per export, one per dimension snapshot),
each a sequence of jobs in calendar order. A job has two halves:

- ``fetch()`` runs on a worker thread. The fetches of every lane share the
  workers, so the client's three export slots stay busy whatever lane the next
  job belongs to; the client itself keeps at most three exports building and
  shares the call budget between them.
- ``commit(fetched)`` runs on the caller's thread, one at a time, and for each
  lane **in the lane's order**: a job is committed only once every earlier job
  of its lane is committed. A lane's later jobs may be fetched early; they wait.

That order is what keeps sync's resume rule true ("the days below the latest
present day are done"): a batch's days are written only after every earlier
batch of the same export is written.

Failures:

- A fetch that raises stops the run from starting anything new; the fetches
  already running finish, every job that can still be committed in order is
  committed (nothing fetched is thrown away, except a lane's jobs after its
  failed one), then the first error is raised.
- A commit that raises, or an interruption of the caller's thread (Ctrl-C),
  stops at once: nothing more is committed, and each fetch still running is
  told to stop (its job's ``abandon()``, when it has one) and not waited for.

Examples
--------
>>> class Echo:
...     def __init__(self, lane, value):
...         self.lane, self.value = lane, value
...     def fetch(self):
...         return self.value * 10
...     def commit(self, fetched):
...         return (self.lane, fetched)
>>> jobs = [Echo("a", 1), Echo("b", 1), Echo("a", 2), Echo("b", 2), Echo("a", 3)]
>>> done = run_jobs(jobs, workers=3)
>>> [result for result in done if result[0] == "a"]
[('a', 10), ('a', 20), ('a', 30)]
>>> sorted(done)
[('a', 10), ('a', 20), ('a', 30), ('b', 10), ('b', 20)]
"""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import threading
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, Protocol, TypeVar, cast

__all__ = ["Job", "interleave", "run_jobs"]

R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)
T = TypeVar("T")


class Job(Protocol[R_co]):
    """A unit of work: ``fetch`` on a worker thread, ``commit`` in lane order."""

    @property
    def lane(self) -> Hashable:
        """Jobs of one lane are committed in the order they were given."""
        ...

    def fetch(self) -> Any:
        """The slow part (network): runs on a worker thread."""
        ...

    def commit(self, fetched: Any) -> R_co:
        """Store what ``fetch`` returned: runs on the caller's thread, in lane order."""
        ...


# A job may also have ``abandon()``: called from the caller's thread when the run
# stops at once while the job's fetch is running, to make the fetch return early.


def interleave(lanes: Iterable[Sequence[T]]) -> list[T]:
    """Round robin over lanes: the first item of each, then the second, ...

    Every lane starts at once, and a lane's items keep their order.

    Examples
    --------
    >>> interleave([[1, 2, 3], ["a"], [10, 20]])
    [1, 'a', 10, 2, 20, 3]
    """
    missing = object()
    out: list[T] = []
    for row in itertools.zip_longest(*lanes, fillvalue=missing):
        out.extend(cast(T, item) for item in row if item is not missing)
    return out


def run_jobs(
    jobs: Sequence[Job[R]],
    *,
    workers: int,
    ahead: int | None = None,
    on_commit: Callable[[R], None] | None = None,
    thread_name_prefix: str = "vidiframe-sync",
) -> list[R]:
    """Fetch ``jobs`` on ``workers`` threads, in the given order; commit each lane in order.

    Parameters
    ----------
    jobs
        The jobs, in the order their fetches start (see :func:`interleave`).
        Within a lane, this is also the order of the commits.
    workers
        Fetches running at once.
    ahead
        Fetched jobs that may wait for an earlier job of their lane (default
        ``workers``): bounds the memory held by out-of-order results. A fetch
        starts only while running plus waiting jobs stay under
        ``workers + ahead``.
    on_commit
        Called on the caller's thread with each commit's result, as it happens.

    Returns
    -------
    list
        The commits' results, in the order they were committed.
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    limit = workers + (workers if ahead is None else max(0, ahead))
    queue = list(enumerate(jobs))
    queue.reverse()  # popped from the end: first job first
    # Per lane: the indices of its jobs, in order; the next one to commit.
    order: dict[Hashable, list[int]] = {}
    for index, job in enumerate(jobs):
        order.setdefault(job.lane, []).append(index)
    position = dict.fromkeys(order, 0)
    fetched: dict[int, Any] = {}
    failed_at: dict[Hashable, int] = {}  # lane -> its first failed job
    running: dict[cf.Future[Any], int] = {}
    results: list[R] = []
    first_error: BaseException | None = None

    executor = cf.ThreadPoolExecutor(max_workers=workers, thread_name_prefix=thread_name_prefix)
    stopping = threading.Event()

    def fill() -> None:
        while queue and not stopping.is_set() and len(running) < workers:
            if len(running) + len(fetched) >= limit:
                return
            index, job = queue.pop()
            running[executor.submit(job.fetch)] = index

    def commit_ready(lane: Hashable) -> None:
        indices = order[lane]
        while position[lane] < len(indices) and indices[position[lane]] in fetched:
            index = indices[position[lane]]
            value = fetched.pop(index)
            result = jobs[index].commit(value)
            position[lane] += 1
            results.append(result)
            if on_commit is not None:
                on_commit(result)

    clean = False
    try:
        fill()
        while running:
            done, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
            lanes: list[Hashable] = []
            for future in sorted(done, key=running.__getitem__):
                index = running.pop(future)
                lane = jobs[index].lane
                error = future.exception()
                if error is not None:
                    if first_error is None:
                        first_error = error
                    stopping.set()
                    failed_at[lane] = min(index, failed_at.get(lane, index))
                elif index < failed_at.get(lane, index + 1):
                    # (A job after a failed one of its lane is never committed.)
                    fetched[index] = future.result()
                    lanes.append(lane)
            # Stored first, committed after: a lane's jobs that finished together
            # are committed together.
            for lane in dict.fromkeys(lanes):
                commit_ready(lane)
            fill()
        clean = True
    finally:
        if not clean:
            # A commit's error or an interruption: stop the fetches still running.
            for index in running.values():
                abandon = getattr(jobs[index], "abandon", None)
                if abandon is not None:
                    abandon()
        executor.shutdown(wait=clean, cancel_futures=True)
    if first_error is not None:
        raise first_error
    return results
