"""The kill -9 harness of ``test_datasets_kill.py`` (local) and ``datasets/test_kill_s3.py``.

A writer runs in a child process that stops at a named step of
``write_partitions`` (the ``_checkpoint`` hook) and waits on its stdin; the
parent reads the dataset while the writer is stopped there, then kills it with
SIGKILL. No timing is involved: every kill happens at a known point. Each
module gives its own child script and its own reader.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

import polars as pl
import pytest
from polars.testing import assert_frame_equal

__all__ = [
    "ALL_NEW",
    "ALL_OLD",
    "DAY1",
    "DAY2",
    "DAY3",
    "by_day",
    "frame",
    "old_or_new",
    "stopped_then_killed",
]

T = TypeVar("T")

DAY1, DAY2, DAY3 = dt.date(2025, 3, 1), dt.date(2025, 3, 2), dt.date(2025, 3, 3)
#: What readers see of the old dataset (days 1-2) and of the new one (days 1-3).
ALL_OLD = {DAY1: "old", DAY2: "old"}
ALL_NEW = {DAY1: "new", DAY2: "new", DAY3: "new"}


def frame(days: list[dt.date], seed: int, *, nested: bool = False) -> pl.DataFrame:
    """Rows of several dtypes and an Enum (``nested``: a list of structs too).

    Different seeds give different values and a different number of rows a day.
    """
    rows = [(day, seed * 1000 + i) for day in days for i in range(3 + seed + days.index(day))]
    columns: dict[str, object] = {
        "period_start_date": [d for d, _ in rows],
        "watcher_count": [v for _, v in rows],
        "gender_label": pl.Series(
            [("male", "female")[v % 2] for _, v in rows], dtype=pl.Enum(["male", "female"])
        ),
    }
    if nested:
        columns["contents"] = [[{"content_id": f"c{v}", "dwell_ms": v}] for _, v in rows]
    return pl.DataFrame(columns)


def by_day(df: pl.DataFrame) -> dict[dt.date, pl.DataFrame]:
    """The frame's rows of each ``period_start_date``."""
    return {d: p for (d,), p in df.partition_by("period_start_date", as_dict=True).items()}


def old_or_new(
    scanned: pl.DataFrame, old: pl.DataFrame | None, new: pl.DataFrame
) -> dict[dt.date, str]:
    """Each day of ``scanned`` as "old" or "new": whole, never a mix of both frames."""
    olds = by_day(old) if old is not None else {}
    news = by_day(new)
    out = {}
    for day, part in by_day(scanned).items():
        if day in olds and part.equals(olds[day]):
            out[day] = "old"
        else:
            assert_frame_equal(part, news[day])
            out[day] = "new"
    return out


def stopped_then_killed(
    argv: Sequence[str],
    step: str,
    read: Callable[[], T],
    *,
    env: Mapping[str, str] | None = None,
) -> T:
    """Run the writer ``argv`` until it reports ``step``; ``read()`` there, then SIGKILL it.

    Returns what ``read`` returned while the writer waited at ``step``.
    """
    child = subprocess.Popen(
        [sys.executable, *argv],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=None if env is None else {**os.environ, **env},
    )
    try:
        assert child.stdout is not None
        reached = child.stdout.readline().strip()
        if reached != step:
            child.kill()
            pytest.fail(f"writer did not stop at {step!r}: {reached!r}\n{child.communicate()[1]}")
        during = read()
        kill_now(child)
    finally:
        reap(child)
    return during


def kill_now(child: subprocess.Popen[str]) -> None:
    """SIGKILL ``child`` and check that the signal is what ended it."""
    os.kill(child.pid, signal.SIGKILL)
    assert child.wait() == -signal.SIGKILL


def reap(child: subprocess.Popen[str]) -> None:
    """Kill ``child`` if it still runs (a failed test) and close its pipes."""
    if child.poll() is None:
        child.kill()
        child.wait()
    for stream in (child.stdin, child.stdout, child.stderr):
        if stream is not None:
            stream.close()
