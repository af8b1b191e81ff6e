"""``vidiframe demo``: the whole workflow against the bundled fake VidiCenter.

Starts the fake server on 127.0.0.1, fetches several export types for several
locations over a month through the real client (asynchronous exports, chunks,
progress bar), writes them as a Hive-partitioned Parquet dataset, reads it back
lazily, and prints a summary. Needs no credentials and no network.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path
from typing import TextIO

import polars as pl

#: What the demo fetches: (data_type, time_resolution, group_by_demographics).
DEMO_EXPORTS = (
    # A month of raw events is planned as several chunks, built concurrently.
    ("viewers", "finest", False),
    ("viewers", "1h", False),
    ("viewers", "1d", True),
    ("ots", "1h", False),
    ("proof_of_play_by_location", "1d", False),
    ("vehicles_footfall", "1h", False),
)
DEMO_LOCATIONS = (4636, 4637, 4638, 4639)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``demo`` subcommand."""
    parser = subparsers.add_parser(
        "demo",
        help="fetch from the bundled fake VidiCenter, write a dataset, print a summary",
        description=__doc__,
    )
    parser.add_argument(
        "--lake", type=Path, default=Path("demo-lake"), help="dataset root (default: demo-lake)"
    )
    parser.add_argument(
        "--month",
        type=_month,
        default="2025-03",
        metavar="YYYY-MM",
        help="the month to fetch (default: 2025-03)",
    )
    parser.add_argument(
        "--build-seconds", type=float, default=0.5, help="how long the fake builds an export"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    parser.set_defaults(func=run_demo)


def _month(text: str) -> str:
    """``YYYY-MM``, checked (``argparse`` turns the error into one line)."""
    try:
        dt.datetime.strptime(text, "%Y-%m")
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a month (YYYY-MM)") from None
    return text


def run_demo(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    """Run the demo; return the process exit code."""
    import sys

    import vidiframe as vf
    from vidiframe.testing import FakeVidiCenter

    out = out if out is not None else sys.stdout
    first = dt.datetime.strptime(args.month, "%Y-%m")
    last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(seconds=1)
    lake: Path = args.lake
    print(
        f"vidiframe demo: fake VidiCenter on 127.0.0.1, {len(DEMO_LOCATIONS)} locations, "
        f"{first:%Y-%m-%d} to {last:%Y-%m-%d}",
        file=out,
    )
    summary = []
    with (
        tempfile.TemporaryDirectory() as cache,
        FakeVidiCenter(seed=args.seed, build_seconds=args.build_seconds) as fake,
    ):
        client = vf.VidiCenterClient("demo", "demo-token", fake.url, cache_dir=cache)
        print(f"server {fake.url}, user {client.whoami()['username']!r}\n", file=out)
        try:
            for data_type, resolution, demographics in DEMO_EXPORTS:
                started = time.perf_counter()
                df = vf.read_vidicenter(
                    data_type=data_type,
                    time_resolution=resolution,
                    group_by_demographics=demographics,
                    start=first,
                    end=last,
                    locations=list(DEMO_LOCATIONS),
                    client=client,
                    progress=False if args.no_progress else None,
                )
                name = f"{data_type}_{resolution}" + ("_demographics" if demographics else "")
                vf.write_partitions(df, lake / name, partition_by=["period_start_date"])
                summary.append(
                    (
                        name,
                        df.height,
                        int(df["is_placeholder"].sum()),
                        df.width,
                        time.perf_counter() - started,
                    )
                )
        finally:
            client.close()
        calls, peak = len(fake.requests), fake.peak_concurrent_exports

    print(
        f"\n{'export':40} {'rows':>8} {'placeholders':>13} {'columns':>8} {'seconds':>8}", file=out
    )
    for name, rows, placeholders, width, seconds in summary:
        print(f"{name:40} {rows:8,} {placeholders:13,} {width:8} {seconds:8.1f}", file=out)
    print(
        f"\n{calls} API calls, at most {peak} exports building at once (the limit is 3)", file=out
    )

    # Read the dataset back lazily: only the partitions of the first week are opened.
    week = pl.col("period_start_date") < first.date() + dt.timedelta(days=7)
    daily = (
        vf.scan_partitions(lake / "viewers_1h")
        .filter(week)
        .group_by("period_start_date")
        .agg(
            pl.col("watcher_count").sum().alias("watchers"),
            (pl.col("dwell_time_s").sum() / pl.col("watcher_count").sum())
            .round(1)
            .alias("avg_dwell_s"),
            pl.col("is_placeholder").sum().alias("hours_without_data"),
        )
        .sort("period_start_date")
        .collect()
    )
    print(
        f"\nDataset written to {lake}/ ; first week of viewers_1h, read back with vf.scan_partitions:",
        file=out,
    )
    with pl.Config(tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True):
        print(daily, file=out)
    return 0
