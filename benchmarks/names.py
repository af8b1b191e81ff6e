"""Benchmark: the names joins against the Polars joins a user would write by hand.

Builds a frame of 2,000,000 rows (1,000 locations over a year of days) and a
locations dimension (one row per location, and 53 weekly snapshots of it), then
prints, measured side by side in one process (runs interleaved, fastest of
each, medians too):

- ``with_names``: ``df.vidi.with_names(locations=loc)`` against
  ``df.join(loc.select(...), on="location_id", how="left", maintain_order="left")``
  (no check of the dimension, no report of unmatched ids);
- ``lazy with_names``: ``lf.vidi.with_names(locations=loc).collect()`` against
  the same join written lazily and collected (Polars' default engine);
- ``as_of``: ``df.vidi.with_names(locations=snapshots, as_of="period_start_date")``
  against the hand-written as-of join: a row index, a sort by day,
  ``join_asof(..., by="location_id")`` and a sort back to the frame's order.

Each vidiframe result is checked equal to the hand-written one before timing.
Exits with status 1 when a ratio exceeds ``--max-ratio`` (2.0).

Run from the repository root::

    .venv/bin/python benchmarks/names.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
import warnings
from collections.abc import Callable

import numpy as np
import polars as pl

import vidiframe  # noqa: F401  (registers df.vidi)


def frames(rows: int) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng(0)
    first = dt.date(2025, 1, 1)
    df = pl.DataFrame(
        {
            "location_id": rng.integers(1, 1001, rows),
            "period_start_date": pl.Series(rng.integers(0, 365, rows)).cast(pl.Int32),
            "ots_count": rng.integers(0, 100, rows),
        }
    ).with_columns(
        (pl.lit(first) + pl.duration(days="period_start_date"))
        .cast(pl.Date)
        .alias("period_start_date")
    )
    ids = np.arange(1, 1001)
    loc = pl.DataFrame(
        {"location_id": ids, "site_id": ids // 10, "label": [f"Location {i}" for i in ids]}
    )
    snapshots = pl.concat(
        loc.with_columns(
            snapshot_date=pl.lit(first + dt.timedelta(days=d)),
            label=pl.col("label") + f" (week {d // 7})",
        )
        for d in range(0, 365, 7)
    )
    return df, loc, snapshots


def by_hand(df: pl.DataFrame, loc: pl.DataFrame) -> pl.DataFrame:
    table = loc.select("location_id", pl.col("label").alias("location_label"), "site_id")
    return df.join(table, on="location_id", how="left", maintain_order="left")


def by_hand_lazy(df: pl.DataFrame, loc: pl.DataFrame) -> pl.DataFrame:
    table = loc.select("location_id", pl.col("label").alias("location_label"), "site_id")
    plan = df.lazy().join(table.lazy(), on="location_id", how="left", maintain_order="left")
    return plan.collect()


def as_of_by_hand(df: pl.DataFrame, snapshots: pl.DataFrame) -> pl.DataFrame:
    table = snapshots.select(
        "location_id", "snapshot_date", pl.col("label").alias("location_label"), "site_id"
    ).sort("snapshot_date")
    return (
        df.with_row_index("_i")
        .sort("period_start_date")
        .join_asof(
            table,
            left_on="period_start_date",
            right_on="snapshot_date",
            by="location_id",
            check_sortedness=False,
        )
        .sort("_i")
        .drop("_i", "snapshot_date")
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--max-ratio", type=float, default=2.0)
    args = parser.parse_args(argv)
    df, loc, snapshots = frames(args.rows)
    lf = df.lazy()
    pairs: dict[str, tuple[Callable[[], pl.DataFrame], Callable[[], pl.DataFrame]]] = {
        "with_names": (lambda: df.vidi.with_names(locations=loc), lambda: by_hand(df, loc)),
        "lazy with_names": (
            lambda: lf.vidi.with_names(locations=loc).collect(),
            lambda: by_hand_lazy(df, loc),
        ),
        "as_of": (
            lambda: df.vidi.with_names(locations=snapshots, as_of="period_start_date"),
            lambda: as_of_by_hand(df, snapshots),
        ),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every id has a name: nothing to report
        for name, (ours, theirs) in pairs.items():
            if not ours().equals(theirs()):
                print(f"{name}: the results differ")
                return 1
        times: dict[str, tuple[list[float], list[float]]] = {n: ([], []) for n in pairs}
        for _ in range(args.runs):
            for name, (ours, theirs) in pairs.items():
                for fn, runs in zip((ours, theirs), times[name], strict=True):
                    start = time.perf_counter()
                    fn()
                    runs.append(time.perf_counter() - start)
    print(f"frame: {df.height:,} rows; {loc.height} locations, {snapshots.height:,} snapshot rows")
    worst = 0.0
    for name, (ours, theirs) in times.items():
        ratio = min(ours) / min(theirs)
        worst = max(worst, ratio)
        print(
            f"{name:<16} vidiframe min {min(ours):6.3f} s (median {statistics.median(ours):6.3f})"
            f"  by hand min {min(theirs):6.3f} s (median {statistics.median(theirs):6.3f})"
            f"  ratio {ratio:.2f}"
        )
    verdict = "ok" if worst <= args.max_ratio else "too slow"
    print(f"ratio: {worst:.2f} (limit {args.max_ratio}) {verdict}")
    return 0 if worst <= args.max_ratio else 1


if __name__ == "__main__":
    raise SystemExit(main())
