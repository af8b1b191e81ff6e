"""Benchmark: a chunked online read against its ideal makespan, within the call budget.

Twelve chunks whose exports each take 3 s to build on the fake VidiCenter (over
a real loopback socket, with the real server limits). With at most 3 exports
building at once, no client can finish before ``ceil(12 / 3) * 3 s`` plus the
time to transfer the data; the read must take at most 1.3 times that, while the
server never sees more than 50 calls in any 60 s window (nor a 429).

Run: ``.venv/bin/python benchmarks/fetch.py`` (``--help`` for the knobs). Exits 1
when a requirement is not met.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
import threading
import time
from collections.abc import Mapping

import vidiframe as vf
from vidiframe._chunking import ChunkPlanner
from vidiframe._http import RequestsTransport
from vidiframe._policies import CALLS_PER_MINUTE, MAX_CONCURRENT_EXPORTS
from vidiframe._transport import Response
from vidiframe.testing import FakeVidiCenter

START = dt.datetime(2025, 1, 1)
LOCATIONS = list(range(4600, 4650))


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


def run(chunks: int, build_seconds: float) -> dict[str, float]:
    end = START + dt.timedelta(days=chunks) - dt.timedelta(seconds=1)
    # One chunk per day: the planner's estimate for a day is 24 h x 50 locations.
    planner = ChunkPlanner(max_rows=24 * len(LOCATIONS), fill=1.0)
    with FakeVidiCenter(build_seconds=build_seconds) as fake:
        transport = TimedTransport()
        client = vf.VidiCenterClient(
            fake.username,
            fake.token,
            fake.url,
            transport=transport,
            cache_dir=None,
            planner=planner,
        )
        began = time.perf_counter()
        frame = vf.read_vidicenter(
            data_type="ots",
            time_resolution="1h",
            start=START,
            end=end,
            locations=LOCATIONS,
            client=client,
            progress=False,
        )
        wall = time.perf_counter() - began
        client.close()
        requests = fake.requests
        expected = len(fake.rows("ots", "1h", start=START, end=end, locations=LOCATIONS))
    transfer = sum(transport.download_seconds)
    waves = math.ceil(chunks / MAX_CONCURRENT_EXPORTS)
    ideal = waves * build_seconds + transfer
    return {
        "wall": wall,
        "ideal": ideal,
        "ratio": wall / ideal,
        "transfer": transfer,
        "megabytes": transport.download_bytes / 1e6,
        "rows": frame.height,
        "expected_rows": expected,
        "calls": len(requests),
        "max_calls_60s": max_calls_in_window([r.time for r in requests]),
        "throttled": sum(1 for r in requests if r.status == 429),
        "peak_exports": fake.peak_concurrent_exports,
        "peak_connections": fake.peak_connections,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=12)
    parser.add_argument("--build-seconds", type=float, default=3.0)
    parser.add_argument("--max-ratio", type=float, default=1.3)
    args = parser.parse_args(argv)
    r = run(args.chunks, args.build_seconds)
    waves = math.ceil(args.chunks / MAX_CONCURRENT_EXPORTS)
    print(
        f"{args.chunks} chunks, {args.build_seconds:g} s builds, "
        f"{r['rows']} rows ({r['megabytes']:.1f} MB)"
    )
    print(
        f"wall {r['wall']:.2f} s   ideal {r['ideal']:.2f} s "
        f"({waves} x {args.build_seconds:g} s + {r['transfer']:.2f} s transfer)   "
        f"ratio {r['ratio']:.2f} (required <= {args.max_ratio:g})"
    )
    print(
        f"calls {r['calls']} (most in 60 s: {r['max_calls_60s']}, limit {CALLS_PER_MINUTE}), "
        f"429s {r['throttled']}, peak exports {r['peak_exports']}, "
        f"peak connections {r['peak_connections']}"
    )
    failures = []
    if r["ratio"] > args.max_ratio:
        failures.append(f"ratio {r['ratio']:.2f} > {args.max_ratio}")
    if r["max_calls_60s"] > CALLS_PER_MINUTE or r["throttled"]:
        failures.append("call budget exceeded")
    if r["peak_exports"] > MAX_CONCURRENT_EXPORTS:
        failures.append("more than 3 exports at once")
    if r["rows"] != r["expected_rows"]:
        failures.append(f"{r['rows']} rows, expected {r['expected_rows']}")
    for failure in failures:
        print(f"FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
