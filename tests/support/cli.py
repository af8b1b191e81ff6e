"""The ``vidiframe fetch`` that ``test_cli_fetch.py`` and ``datasets/test_cli_output.py`` run."""

from __future__ import annotations

import polars as pl

import vidiframe as vf
from vidiframe.testing import FakeVidiCenter

__all__ = ["FETCH", "TOKEN", "fetched"]

TOKEN = "cli-t0ken-4d2e9a"
#: Two days of hourly ots for two locations, without a progress bar; add ``-o``.
FETCH = [
    "fetch",
    "--data-type",
    "ots",
    "--time-resolution",
    "1h",
    "--start",
    "2025-01-01",
    "--end",
    "2025-01-02",
    "--locations",
    "4636,4637",
    "--no-progress",
]


def fetched(fake: FakeVidiCenter) -> pl.DataFrame:
    """The frame ``FETCH`` gives, read from the fake's body for it without any HTTP."""
    body = fake.response_body(
        "ots", "1h", start="2025-01-01T00:00:00", end="2025-01-02T23:59:59", locations=[4636, 4637]
    )
    return vf.read_vidicenter(body, data_type="ots", time_resolution="1h")
