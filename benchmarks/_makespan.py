"""What ``fetch.py`` and ``sync.py`` share: timing the wire, the ideal makespan, the verdict.

Both benchmarks run exports against the fake VidiCenter over a loopback socket
and compare the wall time with the ideal makespan: with at most 3 exports
building at once, no client finishes before ``ceil(builds / 3)`` waves of
builds, plus the time the data takes to transfer, plus what the call budget
forces when the exports need more calls than a minute allows (each needs at
least 2: a start, and a request that finds it built and downloads it)::

    ideal = max(ceil(builds / 3) * build_seconds, max(0, 2 builds - 50) * 60 s / 50) + transfer
"""

from __future__ import annotations

import math
import sys
import threading
import time
from collections.abc import Mapping
from typing import Any

from vidiframe._http import RequestsTransport
from vidiframe._policies import CALLS_PER_MINUTE, MAX_CONCURRENT_EXPORTS
from vidiframe._transport import Response
from vidiframe.testing import FakeVidiCenter

__all__ = [
    "TimedTransport",
    "failures",
    "ideal_makespan",
    "max_calls_in_window",
    "server_line",
    "server_side",
    "verdict",
]


class TimedTransport:
    """Times the downloads (requests without ``status_only`` that return data)."""

    def __init__(self) -> None:
        self.inner = RequestsTransport()
        self.download_seconds: list[float] = []
        self.download_bytes = 0
        self._lock = threading.Lock()

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, str],
        headers: Mapping[str, str],
        timeout: float,
    ) -> Response:
        began = time.perf_counter()
        response = self.inner.get(url, params=params, headers=headers, timeout=timeout)
        took = time.perf_counter() - began
        if "status_only" not in params and b'"data"' in response.body[:4096]:
            with self._lock:
                self.download_seconds.append(took)
                self.download_bytes += len(response.body)
        return response

    def close(self) -> None:
        self.inner.close()


def max_calls_in_window(times: list[float], window: float = 60.0) -> int:
    """The most calls in any closed window of ``window`` seconds."""
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] > window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def ideal_makespan(builds: int, build_seconds: float, transfer: float) -> tuple[float, int]:
    """The ideal makespan of ``builds`` exports, and the number of waves of builds."""
    waves = math.ceil(builds / MAX_CONCURRENT_EXPORTS)
    budget = max(0, 2 * builds - CALLS_PER_MINUTE) * 60 / CALLS_PER_MINUTE
    return max(waves * build_seconds, budget) + transfer, waves


def server_side(fake: FakeVidiCenter) -> dict[str, Any]:
    """What the server saw: calls, the most in 60 s, 429s, exports building at once."""
    requests = fake.requests
    return {
        "calls": len(requests),
        "max_calls_60s": max_calls_in_window([r.time for r in requests]),
        "throttled": sum(1 for r in requests if r.status == 429),
        "peak_exports": fake.peak_concurrent_exports,
    }


def failures(r: Mapping[str, Any], max_ratio: float) -> list[str]:
    """The requirements a run missed: its ratio, the server's limits, the rows."""
    missed = []
    if r["ratio"] > max_ratio:
        missed.append(f"ratio {r['ratio']:.2f} > {max_ratio}")
    if r["max_calls_60s"] > CALLS_PER_MINUTE or r["throttled"]:
        missed.append("call budget exceeded")
    if r["peak_exports"] > MAX_CONCURRENT_EXPORTS:
        missed.append("more than 3 exports at once")
    if r["rows"] != r["expected_rows"]:
        missed.append(f"{r['rows']:.0f} rows, expected {r['expected_rows']:.0f}")
    return missed


def server_line(r: Mapping[str, Any]) -> str:
    """The line that says what the server saw."""
    return (
        f"calls {r['calls']} (most in 60 s: {r['max_calls_60s']}, limit {CALLS_PER_MINUTE}), "
        f"429s {r['throttled']}, peak exports {r['peak_exports']}"
    )


def verdict(r: Mapping[str, Any], max_ratio: float) -> int:
    """Print each requirement the run missed; the exit status (1 when one was missed)."""
    missed = failures(r, max_ratio)
    for failure in missed:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 1 if missed else 0
