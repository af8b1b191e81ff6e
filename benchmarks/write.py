"""Benchmark: ``vf.write_partitions`` against Polars' own partitioned ``write_parquet``.

Writes a finest viewers frame (1M rows over 30 daily partitions by default) both
ways and prints the median times and their ratio:

- ``polars``: ``df.write_parquet(dir, partition_by="period_start_date")`` into a
  new directory (no atomicity, no fsync);
- ``vidiframe, new``: ``vf.write_partitions`` into a new directory;
- ``vidiframe, replace``: the same frame again onto that dataset, the path of a
  re-fetch (schema check against the stored files, every partition replaced).

With ``--s3`` (the default; ``--no-s3`` skips it) the same frame is also
written to a local S3 server (moto's ``ThreadedMotoServer`` on 127.0.0.1, in a
child process), each vidiframe write against Polars' own write of it:

- ``polars s3 parquet``: ``df.write_parquet("s3://.../", partition_by=...)``;
- ``vidiframe s3 hive, new`` / ``, replace``: ``vf.write_partitions`` to a new
  prefix, then the same frame again (each object compared, none rewritten);
- ``polars s3 delta``: ``df.write_delta(...)`` of the frame in Delta's types
  (Polars' own ``write_delta`` refuses the ``Time`` column), new table, and
  ``polars s3 delta, overwrite`` onto it with the same ``predicate`` (the
  frame's partitions) as vidiframe's replace;
- ``vidiframe s3 delta, new`` / ``, replace``: ``vf.write_partitions(...,
  format="delta")``, new table, then the same frame again (a predicate
  overwrite of every partition), against those two.

Runs are interleaved, each vidiframe write next to its Polars baseline, which
goes first on even runs and second on odd ones: drift in the machine's speed
(the S3 server also slows as it fills) hits both sides alike. Each run gives
one ratio per variant: its time over its baseline's time *in the same run*.
The ratio printed and checked is the median of those paired ratios, so that a
burst of load from another process spoils one pair, not the verdict; the
best/best ratio is printed beside it. Exits with status 1 when a ratio exceeds
``--max-ratio`` (1.3).

Run from the repository root::

    .venv/bin/python benchmarks/write.py
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import polars as pl

if __package__ in (None, ""):
    # Run as a script: make the checkout importable without installing it.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import vidiframe as vf
from vidiframe._registry import EXPORTS


def _uniform(seed: int, modulo: int) -> pl.Expr:
    """Deterministic pseudo-random integers in [0, modulo), one per row."""
    return (pl.int_range(pl.len(), dtype=pl.UInt64).hash(seed) % modulo).cast(pl.Int64)


def viewers_frame(rows: int, days: int) -> pl.DataFrame:
    """A finest viewers frame of the registry schema: chronological events over ``days`` days."""
    spec = EXPORTS[("viewers", "finest")]
    start = dt.datetime(2025, 3, 1)
    step_us = days * 86_400_000_000 // rows
    base = pl.select(i=pl.int_range(rows, dtype=pl.Int64)).with_columns(
        period_start=pl.lit(start)
        + pl.duration(microseconds=pl.col("i") * step_us + _uniform(1, step_us)),
    )
    generated = {
        "location_id": _uniform(2, 50) + 4600,
        "gender": _uniform(3, 3),
        "age": _uniform(4, 5),
        "age_value": _uniform(5, 80) + 10,
        "dwell_time_in_tenths_of_sec": _uniform(6, 600),
        "attention_time_in_tenths_of_sec": _uniform(7, 300),
        **{
            mood: _uniform(8 + k, 10_000) / 100
            for k, mood in enumerate(("very_happy", "happy", "neutral", "unhappy", "very_unhappy"))
        },
        "vr_id": pl.col("i") + 1,
        "footfall_id": pl.col("i") + 7,
        "footfall_start": pl.col("period_start") - pl.duration(seconds=_uniform(13, 30)),
        "is_placeholder": pl.lit(False),
    }
    frame = base.with_columns(**generated).with_columns(
        period_start_date=pl.col("period_start").dt.date(),
        period_start_time=pl.col("period_start").dt.time(),
        dwell_time_s=pl.col("dwell_time_in_tenths_of_sec") / 10,
        attention_time_s=pl.col("attention_time_in_tenths_of_sec") / 10,
    )
    columns = []
    for name, dtype in spec.schema.items():
        field = spec.by_name.get(name.removesuffix("_label"))
        if name in frame.columns:
            columns.append(pl.col(name).cast(dtype))
        elif name.endswith("_label") and field is not None and field.name in frame.columns:
            labels = dict(field.labels or {})
            columns.append(
                pl.col(field.name)
                .replace_strict(labels, default=None, return_dtype=dtype)
                .alias(name)
            )
        else:
            # The expert-only fields (glasses, mustache, beard): absent from current exports.
            columns.append(pl.lit(None, dtype).alias(name))
    return frame.select(columns)


def _timed(action: Callable[[], object]) -> float:
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


def polars_delta_frame(df: pl.DataFrame) -> pl.DataFrame:
    """The frame as a Polars user hands it to ``write_delta``: in types Delta has.

    ``write_delta`` refuses ``Time`` and deltalake cannot write ``Enum``: the time
    of day becomes text (as vidiframe stores it), labels plain strings, unsigned
    integers the next wider signed type.
    """
    wider = {pl.UInt8: pl.Int16, pl.UInt16: pl.Int32, pl.UInt32: pl.Int64}
    exprs = []
    for name, dtype in df.schema.items():
        if dtype == pl.Time:
            exprs.append(pl.col(name).dt.to_string("%H:%M:%S%.f"))
        elif isinstance(dtype, pl.Enum):
            exprs.append(pl.col(name).cast(pl.String))
        elif dtype.base_type() in wider:
            exprs.append(pl.col(name).cast(wider[dtype.base_type()]))
    return df.with_columns(exprs)


def paired(runs: list[float], base: list[float]) -> float:
    """The median of the ratios of the runs to their baselines, run by run."""
    return statistics.median(r / b for r, b in zip(runs, base, strict=True))


def report(name: str, runs: list[float], base: list[float], base_name: str) -> float:
    """Print one variant's line; return its (paired, median) ratio."""
    ratio = paired(runs, base)
    print(
        f"{name:<28} min {min(runs):6.3f} s  median {statistics.median(runs):6.3f} s  "
        f"ratio {ratio:.2f} (vs {base_name}; best/best {min(runs) / min(base):.2f})"
    )
    return ratio


MOTO = """
import socket, sys
from moto.server import ThreadedMotoServer

sock = socket.socket()
sock.bind(("127.0.0.1", 0))
port = sock.getsockname()[1]
sock.close()
server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
server.start()
print(port, flush=True)
sys.stdin.read()
server.stop()
"""


@contextlib.contextmanager
def s3_server() -> Iterator[dict[str, str]]:
    """A local S3 server in a child process (no GIL shared with the writers); its options."""
    proc = subprocess.Popen(
        [sys.executable, "-c", MOTO],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdin is not None
    try:
        endpoint = f"http://127.0.0.1:{int(proc.stdout.readline())}"
        yield {
            "aws_endpoint_url": endpoint,
            "aws_access_key_id": "bench",
            "aws_secret_access_key": "bench-secret",
            "aws_region": "us-east-1",
            "aws_allow_http": "true",
        }
    finally:
        proc.stdin.close()
        proc.wait()
        proc.stdout.close()


def s3_runs(df: pl.DataFrame, repeat: int) -> dict[str, tuple[list[float], str]]:
    """Each S3 variant's run times and the name of the Polars run it is compared with."""
    import boto3

    delta_df = polars_delta_frame(df)
    # The replaceWhere vidiframe's replace commits: every partition of the frame.
    days = df["period_start_date"].unique().sort()
    predicate = f"period_start_date IN ({', '.join(repr(str(d)) for d in days)})"
    times: dict[str, list[float]] = {
        name: []
        for name in (
            "polars s3 parquet",
            "vidiframe s3 hive, new",
            "vidiframe s3 hive, replace",
            "polars s3 delta",
            "polars s3 delta, overwrite",
            "vidiframe s3 delta, new",
            "vidiframe s3 delta, replace",
        )
    }
    with s3_server() as options:
        client = boto3.client(
            "s3",
            endpoint_url=options["aws_endpoint_url"],
            aws_access_key_id="bench",
            aws_secret_access_key="bench-secret",
            region_name="us-east-1",
        )
        for run in range(repeat + 1):  # run 0 warms up and is not counted
            bucket = f"bench-{run}"
            client.create_bucket(Bucket=bucket)
            base = f"s3://{bucket}"
            steps: list[tuple[str, Callable[[], object]]] = [
                (
                    "polars s3 parquet",
                    lambda b=base: df.write_parquet(
                        f"{b}/polars/", partition_by="period_start_date", storage_options=options
                    ),
                ),
                (
                    "vidiframe s3 hive, new",
                    lambda b=base: vf.write_partitions(
                        df, f"{b}/hive", partition_by="period_start_date", storage_options=options
                    ),
                ),
                (
                    "vidiframe s3 hive, replace",
                    lambda b=base: vf.write_partitions(
                        df, f"{b}/hive", partition_by="period_start_date", storage_options=options
                    ),
                ),
                (
                    "polars s3 delta",
                    lambda b=base: delta_df.write_delta(
                        f"{b}/polars-delta",
                        storage_options=options,
                        delta_write_options={"partition_by": ["period_start_date"]},
                    ),
                ),
                (
                    "polars s3 delta, overwrite",
                    lambda b=base: delta_df.write_delta(
                        f"{b}/polars-delta",
                        mode="overwrite",
                        storage_options=options,
                        delta_write_options={
                            "partition_by": ["period_start_date"],
                            "predicate": predicate,
                        },
                    ),
                ),
                (
                    "vidiframe s3 delta, new",
                    lambda b=base: vf.write_partitions(
                        df,
                        f"{b}/delta",
                        partition_by="period_start_date",
                        format="delta",
                        storage_options=options,
                    ),
                ),
                (
                    "vidiframe s3 delta, replace",
                    lambda b=base: vf.write_partitions(
                        df,
                        f"{b}/delta",
                        partition_by="period_start_date",
                        format="delta",
                        storage_options=options,
                    ),
                ),
            ]
            # Each vidiframe write runs next to its Polars baseline, first on even
            # runs and second on odd ones: the server slows as it fills, and that
            # drift must not land on one side only.
            by_name = dict(steps)
            pairs = [
                ("polars s3 parquet", "vidiframe s3 hive, new"),
                ("vidiframe s3 hive, replace",),
                ("polars s3 delta", "vidiframe s3 delta, new"),
                ("polars s3 delta, overwrite", "vidiframe s3 delta, replace"),
            ]
            order = [n for pair in pairs for n in (pair if run % 2 else pair[::-1])]
            for name, step in ((n, by_name[n]) for n in order):
                elapsed = _timed(step)
                if run:
                    times[name].append(elapsed)
            if run and run < repeat:
                # The server keeps objects in memory: drop each run's once measured.
                for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
                    for obj in page.get("Contents", []):
                        client.delete_object(Bucket=bucket, Key=obj["Key"])
            if run == repeat:
                # The benchmark measures a correct write, or nothing.
                for root in (f"{base}/hive", f"{base}/delta"):
                    back = vf.scan_partitions(root, storage_options=options).collect()
                    assert back.equals(df.sort("period_start_date", maintain_order=True))
    baselines = {
        "polars s3 parquet": "polars s3 parquet",
        "vidiframe s3 hive, new": "polars s3 parquet",
        "vidiframe s3 hive, replace": "polars s3 parquet",
        "polars s3 delta": "polars s3 delta",
        "polars s3 delta, overwrite": "polars s3 delta, overwrite",
        "vidiframe s3 delta, new": "polars s3 delta",
        "vidiframe s3 delta, replace": "polars s3 delta, overwrite",
    }
    return {name: (runs, baselines[name]) for name, runs in times.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--max-ratio", type=float, default=1.3)
    parser.add_argument("--s3", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--s3-rows", type=int, default=None, help="default: --rows")
    parser.add_argument("--s3-repeat", type=int, default=11)
    args = parser.parse_args(argv)

    df = viewers_frame(args.rows, args.days)
    assert df.schema == EXPORTS[("viewers", "finest")].schema
    assert df["period_start_date"].n_unique() == args.days
    size = df.estimated_size("mb")
    print(f"frame: {df.height:,} rows x {df.width} columns, {args.days} days, {size:.0f} MB")

    times: dict[str, list[float]] = {"polars": [], "vidiframe, new": [], "vidiframe, replace": []}
    with tempfile.TemporaryDirectory() as tmp:
        ours, theirs = Path(tmp, "vidiframe"), Path(tmp, "polars")

        def polars_write() -> None:
            df.write_parquet(theirs, partition_by="period_start_date")

        def vidiframe_write() -> None:
            vf.write_partitions(df, ours, partition_by="period_start_date")

        # One warm-up of each: thread pools, page cache, first-import costs.
        polars_write()
        vidiframe_write()
        for run in range(args.repeat):
            shutil.rmtree(theirs)
            shutil.rmtree(ours)
            # Polars first on even runs, second on odd ones (see the docstring).
            steps = [("polars", polars_write), ("vidiframe, new", vidiframe_write)]
            for name, step in steps if run % 2 == 0 else steps[::-1]:
                times[name].append(_timed(step))
            times["vidiframe, replace"].append(_timed(vidiframe_write))

        # The benchmark measures a correct write, or nothing.
        back = vf.scan_partitions(ours).collect()
        assert back.equals(df.sort("period_start_date", maintain_order=True))
        assert pl.scan_parquet(theirs).select(pl.len()).collect().item() == df.height

    worst = 0.0
    for name, runs in times.items():
        worst = max(worst, report(name, runs, times["polars"], "polars"))
    if args.s3:
        s3_df = df if args.s3_rows is None else viewers_frame(args.s3_rows, args.days)
        print(f"S3 (moto on 127.0.0.1): {s3_df.height:,} rows, {args.days} days")
        runs_by_name = s3_runs(s3_df, args.s3_repeat)
        for name, (runs, base_name) in runs_by_name.items():
            ratio = report(name, runs, runs_by_name[base_name][0], base_name)
            worst = max(worst, ratio)
    verdict = "ok" if worst <= args.max_ratio else "TOO SLOW"
    print(f"ratio: {worst:.2f} (limit {args.max_ratio}) {verdict}")
    return 0 if worst <= args.max_ratio else 1


if __name__ == "__main__":
    sys.exit(main())
