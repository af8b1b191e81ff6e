"""Parse speed and memory: ``read_vidicenter`` against what a user writes without it.

Generates a finest viewers export (300,000 rows by default, about 115 MB of compact
JSON, like the live API sends) and prints, measured side by side in one process:

- ``read_vidicenter`` on the body (pyarrow's strict reader with the registry's schema),
- the same on the general path only (what a body outside the fast path's shape gets),
- the naive line ``pl.DataFrame(json.loads(body)["data"])``,
- ``pl.read_ndjson`` on the same rows as NDJSON (Polars' own reader, which is not
  exact: it drops unknown keys and turns numbers into text when given a schema),

then the peak extra memory of ``read_vidicenter`` in a fresh child process, as a
multiple of the body's size. Run with ``make bench`` or
``python benchmarks/parse.py [rows]``.
"""

from __future__ import annotations

import gc
import json
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import orjson
import polars as pl

import vidiframe as vf
from vidiframe import _json
from vidiframe.testing import response_body

NAIVE = "pl.DataFrame(json.loads(body)['data'])"
ROWS = int(sys.argv[1]) if len(sys.argv) == 2 else 300_000


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


def main() -> None:
    body = make_body(ROWS)
    ndjson = b"\n".join(orjson.dumps(r) for r in orjson.loads(body)["data"])
    mb = len(body) / 1e6
    rows = body.count(b'"location_id"')
    print(f"finest viewers export: {rows:,} rows, {mb:.1f} MB of JSON")

    def read() -> None:
        vf.read_vidicenter(body, data_type="viewers", time_resolution="finest")

    ours = best_of(5, read)
    fast = _json._read_fast
    _json._read_fast = lambda *_: None  # type: ignore[assignment]
    general = best_of(3, read)
    _json._read_fast = fast
    naive = best_of(3, lambda: pl.DataFrame(json.loads(body)["data"]))
    ndjson_time = best_of(3, lambda: pl.read_ndjson(ndjson))
    print(f"{'read_vidicenter':40} {ours:6.3f} s")
    label = "read_vidicenter, general path only"
    print(f"{label:40} {general:6.3f} s   -> {naive / general:.2f}x faster than the naive line")
    naive_note = f"vidiframe is {naive / ours:.2f}x faster (required >= 2.5x)"
    print(f"{NAIVE:40} {naive:6.3f} s   -> {naive_note}")
    ndjson_note = f"vidiframe takes {ours / ndjson_time:.2f}x its time (aim: <= 2x)"
    print(f"{'pl.read_ndjson on NDJSON':40} {ndjson_time:6.3f} s   -> {ndjson_note}")

    path = Path("/tmp/vidiframe-bench-body.json")
    path.write_bytes(body)
    out = subprocess.run(
        [sys.executable, __file__, "--peak-memory", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    peak = int(out.stdout.strip().splitlines()[-1])
    path.unlink()
    ratio = peak / len(body)
    label = "peak extra memory of read_vidicenter"
    print(f"{label:40} {peak / 1e6:6.1f} MB  -> {ratio:.2f}x the JSON size (required <= 3x)")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--peak-memory":
        peak_memory_child(Path(sys.argv[2]))
    else:
        main()
