"""Parse speed and memory: ``read_vidicenter`` against what a user writes without it.

Generates a finest viewers export (300,000 rows by default, about 115 MB of compact
JSON, like the live API sends) and measures, side by side in one process:

- ``read_vidicenter`` on the body (pyarrow's strict reader with the registry's schema),
- the same on the same rows pretty-printed (as the API's documentation shows them),
- the same on the general path only (what a body outside the fast path's shape gets),
- the naive line ``pl.DataFrame(json.loads(body)["data"])``,
- ``pl.read_ndjson`` on the same rows as NDJSON (Polars' own reader, which is not
  exact: it drops unknown keys and turns numbers into text when given a schema).

A process can be slower than another on this machine for its whole life (where
its memory and threads land), so the side-by-side measurement runs in several
fresh processes (3 by default) and the ratios of each are printed, then the
worst: the requirement holds only if it holds in every process. Last, the peak
extra memory of ``read_vidicenter`` in a fresh child process, as a multiple of
the body's size. Run with ``make bench`` or
``python benchmarks/parse.py [--rows N] [--processes N]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import msgspec
import orjson
import polars as pl

import vidiframe as vf
from vidiframe import _json
from vidiframe.testing import response_body

NAIVE = "pl.DataFrame(json.loads(body)['data'])"


def make_body(rows: int, seed: int = 0) -> bytes:
    """A finished finest viewers export of about ``rows`` rows, from the fake VidiCenter.

    The fake's generator draws every field from the registry, compact JSON as the
    live API sends it (about 380 bytes a row).
    """
    locations = 100
    hours = 24 * 14
    per_hour = max(1, round(rows / (locations * hours)))
    return response_body(
        "viewers",
        "finest",
        start="2025-03-01T00:00:00",
        end="2025-03-14T23:59:59",
        locations=list(range(1, locations + 1)),
        seed=seed,
        events_per_hour=per_hour,
    )


def best_of(n: int, fn) -> float:
    times = []
    for _ in range(n):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def rss() -> int:
    """The resident set size now, in bytes (Linux)."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * resource.getpagesize()


def peak_memory_child(path: Path) -> None:
    """Print the peak RSS above the loaded body while read_vidicenter runs.

    A sampling thread reads the RSS every millisecond: pyarrow and Polars allocate
    outside Python's allocator, so tracemalloc would not see them.
    """
    body = path.read_bytes()
    gc.collect()
    before = rss()
    peak = before
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss())
            time.sleep(0.001)

    sampler = threading.Thread(target=sample)
    sampler.start()
    df = vf.read_vidicenter(body, data_type="viewers", time_resolution="finest")
    done.set()
    sampler.join()
    assert df.height > 0
    print(peak - before)


def measure_child(path: Path) -> None:
    """Time each reader on the body in ``path``, side by side; print the times as JSON."""
    body = path.read_bytes()
    pretty = msgspec.json.format(body, indent=2)
    ndjson = b"\n".join(orjson.dumps(r) for r in orjson.loads(body)["data"])

    def read(source: bytes) -> None:
        vf.read_vidicenter(source, data_type="viewers", time_resolution="finest")

    times = {"ours": best_of(5, lambda: read(body)), "pretty": best_of(3, lambda: read(pretty))}
    fast = _json._read_fast
    _json._read_fast = lambda *_: None  # type: ignore[assignment]
    times["general"] = best_of(3, lambda: read(body))
    _json._read_fast = fast
    times["naive"] = best_of(3, lambda: pl.DataFrame(json.loads(body)["data"]))
    times["naive_pretty"] = best_of(2, lambda: pl.DataFrame(json.loads(pretty)["data"]))
    times["ndjson"] = best_of(3, lambda: pl.read_ndjson(ndjson))
    print(json.dumps(times))


def against(naive: float, ours: float) -> str:
    """``ours`` against the naive line's time, in words."""
    if ours <= naive:
        return f"{naive / ours:.2f}x faster than the naive line"
    return f"{ours / naive:.2f}x slower than the naive line"


def in_child(*args: str) -> str:
    out = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, check=True
    )
    return out.stdout.strip().splitlines()[-1]


def main(rows: int, processes: int) -> None:
    body = make_body(rows)
    mb = len(body) / 1e6
    count = body.count(b'"location_id"')
    print(f"finest viewers export: {count:,} rows, {mb:.1f} MB of JSON")
    path = Path(tempfile.mkstemp(prefix="vidiframe-bench-", suffix=".json")[1])
    try:
        path.write_bytes(body)
        runs = []
        for process in range(1, processes + 1):
            t = json.loads(in_child("--measure", str(path)))
            runs.append(t)
            print(f"\nprocess {process}:")
            print(f"  {'read_vidicenter':40} {t['ours']:6.3f} s")
            note = against(t["naive"], t["ours"])
            print(f"  {NAIVE:40} {t['naive']:6.3f} s   -> read_vidicenter is {note}")
            note = against(t["naive_pretty"], t["pretty"]) + " on it"
            label = "read_vidicenter, pretty-printed body"
            print(f"  {label:40} {t['pretty']:6.3f} s   -> {note}")
            label = "read_vidicenter, general path only"
            note = against(t["naive"], t["general"])
            print(f"  {label:40} {t['general']:6.3f} s   -> {note}")
            note = f"read_vidicenter takes {t['ours'] / t['ndjson']:.2f}x its time"
            print(f"  {'pl.read_ndjson on NDJSON':40} {t['ndjson']:6.3f} s   -> {note}")
        naive = sorted(t["naive"] / t["ours"] for t in runs)
        ndjson = sorted(t["ours"] / t["ndjson"] for t in runs)
        print(f"\nover {processes} processes:")
        print(
            f"  read_vidicenter against the naive line: worst {naive[0]:.2f}x, "
            f"best {naive[-1]:.2f}x faster (required >= 2.5x in every process)"
        )
        print(
            f"  read_vidicenter against pl.read_ndjson: worst {ndjson[-1]:.2f}x, "
            f"best {ndjson[0]:.2f}x its time (aim: <= 2x)"
        )
        peak = int(in_child("--peak-memory", str(path)))
    finally:
        path.unlink()
    ratio = peak / len(body)
    label = "peak extra memory of read_vidicenter"
    print(f"  {label:40} {peak / 1e6:6.1f} MB  -> {ratio:.2f}x the JSON size (required <= 3x)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--peak-memory", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure_child(args.measure)
    elif args.peak_memory:
        peak_memory_child(args.peak_memory)
    else:
        main(args.rows, args.processes)
