"""Benchmark: a sync of 6 export types against its ideal makespan, within the call budget.

Six export types (ots, viewers, vehicles, footfall, gate, compass; hourly) x 30
days x 20 locations, synced into an empty lake from the fake VidiCenter over a
real loopback socket, with the fake's default limits (3 exports building at
once, 50 calls a minute, 2 connections per address) and its default build
timing (every export takes 2 s to build). With sync's default ``batch_rows``,
each export type's 30 days are one batch of one chunk: 6 builds.

The ideal makespan, computed as ``benchmarks/fetch.py`` computes it (both with
``benchmarks/_makespan.py``): with at most 3 exports building at once, no client
can finish before ``ceil(n / 3)`` waves of 2 s builds, plus the time to transfer
the data (``transfer``: the sum of the durations of every download, measured on
the wire during the run; the fake serialises each export when it is first
downloaded, so this includes the server's side). The call budget would add a bound if the exports needed more
calls than a minute allows (each needs at least 2: a start, and a request that
finds it built and downloads it)::

    ideal = max(ceil(n / 3) * 2 s, max(0, 2 n - 50) * 60 s / 50) + transfer

The sync must take at most 1.2 times that, while the server never sees more than
3 exports building nor more than 50 calls in any 60 s window (nor a 429), and
the datasets must hold exactly the rows the server has. Downloads overlap each
other and later builds, so ``transfer`` is generous when the data is large;
the script therefore also prints the makespan against the builds alone
(``ceil(n / 3) * 2 s``, a strict lower bound), and, unless ``--no-baseline``,
the makespan of the same work synced one export after another, as sync did
before its scheduler. ``--time-resolution 1d`` makes the data small, so that
the makespan is almost all builds and polls.

Run: ``.venv/bin/python benchmarks/sync.py`` (``--help`` for the knobs). Exits 1
when a requirement is not met.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from typing import Any

import polars as pl
from _makespan import TimedTransport, ideal_makespan, server_line, server_side, verdict

import vidiframe as vf
from vidiframe._sync import SyncConfig, sync
from vidiframe.testing import FakeVidiCenter

FIRST_DAY = dt.date(2025, 1, 1)
DAYS = 30
LOCATIONS = list(range(4600, 4620))
DATA_TYPES = ("ots", "viewers", "vehicles", "footfall", "gate", "compass")


def exports(time_resolution: str) -> list[dict[str, Any]]:
    return [{"data_type": d, "time_resolution": time_resolution} for d in DATA_TYPES]


def configuration(root: str, exports: list[dict[str, Any]]) -> SyncConfig:
    return SyncConfig.from_dict(
        {
            "root": root,
            "first_day": FIRST_DAY,
            "trailing_days": 0,
            "export": [{**e, "locations": LOCATIONS} for e in exports],
        }
    )


def expected_rows(fake: FakeVidiCenter, wanted: list[dict[str, Any]]) -> int:
    end = dt.datetime.combine(FIRST_DAY + dt.timedelta(days=DAYS - 1), dt.time(23, 59, 59))
    start = dt.datetime.combine(FIRST_DAY, dt.time())
    return sum(
        len(
            fake.rows(
                e["data_type"],
                e["time_resolution"],
                start=start,
                end=end,
                locations=LOCATIONS,
                group_by_demographics=e.get("group_by_demographics", False),
            )
        )
        for e in wanted
    )


def run(*, one_by_one: bool, time_resolution: str) -> dict[str, float]:
    today = FIRST_DAY + dt.timedelta(days=DAYS)
    wanted = exports(time_resolution)
    with FakeVidiCenter() as fake, tempfile.TemporaryDirectory() as lake:
        transport = TimedTransport()
        client = vf.VidiCenterClient(
            fake.username, fake.token, fake.url, transport=transport, cache_dir=None
        )
        configs = (
            [configuration(lake, [e]) for e in wanted]
            if one_by_one
            else [configuration(lake, wanted)]
        )
        began = time.perf_counter()
        for config in configs:
            sync(config, client=client, today=today, progress=False)
        wall = time.perf_counter() - began
        client.close()
        transport.close()
        stored = sum(
            vf.scan_partitions(e.path).select(pl.len()).collect().item()
            for config in configs
            for e in config.exports
        )
        server = server_side(fake)
        builds = fake.builds_started()
        expected = expected_rows(fake, wanted)
    transfer = sum(transport.download_seconds)
    build_seconds = 2.0  # FakeVidiCenter's default
    ideal, waves = ideal_makespan(builds, build_seconds, transfer)
    return {
        "wall": wall,
        "ideal": ideal,
        "ratio": wall / ideal,
        "builds": builds,
        "waves": waves,
        "transfer": transfer,
        "megabytes": transport.download_bytes / 1e6,
        "rows": stored,
        "expected_rows": expected,
        **server,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-ratio", type=float, default=1.2)
    parser.add_argument("--time-resolution", default="1h")
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip the one-export-at-a-time run"
    )
    args = parser.parse_args(argv)
    r = run(one_by_one=False, time_resolution=args.time_resolution)
    print(
        f"{len(DATA_TYPES)} export types ({args.time_resolution}) x {DAYS} days x "
        f"{len(LOCATIONS)} locations: "
        f"{r['builds']:.0f} builds, {r['rows']:.0f} rows ({r['megabytes']:.1f} MB)"
    )
    print(
        f"sync: makespan {r['wall']:.2f} s   ideal {r['ideal']:.2f} s "
        f"({r['waves']:.0f} waves x 2 s + {r['transfer']:.2f} s transfer)   "
        f"makespan / ideal {r['ratio']:.2f} (required <= {args.max_ratio:g})"
    )
    print(
        f"makespan / builds alone ({r['waves']:.0f} x 2 s, a strict lower bound) "
        f"{r['wall'] / (r['waves'] * 2.0):.2f}"
    )
    print(server_line(r))
    if not args.no_baseline:
        b = run(one_by_one=True, time_resolution=args.time_resolution)
        print(
            f"one export after another (before the scheduler): makespan {b['wall']:.2f} s, "
            f"makespan / ideal {b['wall'] / r['ideal']:.2f}"
        )
    return verdict(r, args.max_ratio)


if __name__ == "__main__":
    sys.exit(main())
