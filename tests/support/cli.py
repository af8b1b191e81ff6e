"""The ``vidiframe fetch`` the CLI tests run: ``test_cli_fetch.py``, ``test_cli_errors.py`` and
``datasets/test_cli_output.py``."""

from __future__ import annotations

import polars as pl

import vidiframe as vf
from vidiframe.testing import FakeVidiCenter

__all__ = ["FETCH", "TOKEN", "fetch_argv", "fetched"]

TOKEN = "cli-t0ken-4d2e9a"


def fetch_argv(*, end: str = "2025-01-02", locations: str = "4636,4637") -> list[str]:
    """``vidiframe fetch`` of hourly ots from 2025-01-01 to ``end``, without a progress bar."""
    return [
        "fetch",
        "--data-type",
        "ots",
        "--time-resolution",
        "1h",
        "--start",
        "2025-01-01",
        "--end",
        end,
        "--locations",
        locations,
        "--no-progress",
    ]


#: Two days of hourly ots for two locations; add ``-o``.
FETCH = fetch_argv()


def fetched(fake: FakeVidiCenter) -> pl.DataFrame:
    """The frame ``FETCH`` gives, read from the fake's body for it without any HTTP."""
    body = fake.response_body(
        "ots", "1h", start="2025-01-01T00:00:00", end="2025-01-02T23:59:59", locations=[4636, 4637]
    )
    return vf.read_vidicenter(body, data_type="ots", time_resolution="1h")
