"""Parse speed of exports whose rows hold lists of objects, against the naive line.

``viewers_apc`` rows hold ``contents`` (a list of objects); retail footfall rows
hold ``visits``, ``clips`` and ``doorpass``, lists of objects that hold lists of
``timings``. Both are read on the fast path (pyarrow's strict reader, typed from
the registry's sub-fields). Prints, measured side by side in one process (best
of 3), ``read_vidicenter`` against ``pl.DataFrame(json.loads(body)["data"])``
and against vidiframe's own general path. Run with
``python benchmarks/parse_nested.py``.
"""

from __future__ import annotations

import json

import polars as pl
from parse import best_of  # the parse benchmark's timer, run beside it

import vidiframe as vf
from vidiframe import _json
from vidiframe.testing import response_body

NAIVE = "pl.DataFrame(json.loads(body)['data'])"


def measure(data_type: str, locations: int, days: int) -> None:
    body = response_body(
        data_type,
        "finest",
        start="2025-03-01T00:00:00",
        end=f"2025-03-{days:02d}T23:59:59",
        locations=list(range(1, locations + 1)),
        seed=1,
        events_per_hour=10,
    )
    rows = body.count(b'"location_id"')
    print(f"\n{data_type} finest: {rows:,} rows, {len(body) / 1e6:.1f} MB of JSON")

    def read() -> None:
        vf.read_vidicenter(body, data_type=data_type, time_resolution="finest")

    ours = best_of(3, read)
    fast = _json._read_fast
    _json._read_fast = lambda *_: None  # type: ignore[assignment]
    general = best_of(1, read)
    _json._read_fast = fast
    naive = best_of(2, lambda: pl.DataFrame(json.loads(body)["data"]))
    print(f"  {'read_vidicenter':40} {ours:6.3f} s")
    print(f"  {NAIVE:40} {naive:6.3f} s   -> read_vidicenter is {naive / ours:.2f}x faster")
    label = "read_vidicenter, general path only"
    print(f"  {label:40} {general:6.3f} s   -> the fast path is {general / ours:.1f}x faster")


if __name__ == "__main__":
    measure("viewers_apc", locations=40, days=7)
    measure("retail_analytics_footfall", locations=20, days=7)
