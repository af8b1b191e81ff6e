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
import time

from _makespan import TimedTransport, ideal_makespan, server_line, server_side, verdict

import vidiframe as vf
from vidiframe._chunking import ChunkPlanner
from vidiframe._policies import MAX_CONCURRENT_EXPORTS
from vidiframe.testing import FakeVidiCenter

START = dt.datetime(2025, 1, 1)
LOCATIONS = list(range(4600, 4650))


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
        server = server_side(fake)
        server["peak_connections"] = fake.peak_connections
        expected = len(fake.rows("ots", "1h", start=START, end=end, locations=LOCATIONS))
    transfer = sum(transport.download_seconds)
    ideal, _ = ideal_makespan(chunks, build_seconds, transfer)
    return {
        "wall": wall,
        "ideal": ideal,
        "ratio": wall / ideal,
        "transfer": transfer,
        "megabytes": transport.download_bytes / 1e6,
        "rows": frame.height,
        "expected_rows": expected,
        **server,
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
    print(f"{server_line(r)}, peak connections {r['peak_connections']}")
    return verdict(r, args.max_ratio)


if __name__ == "__main__":
    sys.exit(main())
