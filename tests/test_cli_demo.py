"""``vidiframe demo`` end to end: the fake server, the client, a dataset, a lazy read."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import polars as pl

import vidiframe as vf
from vidiframe import _cli_demo


def test_the_demo_fetches_writes_and_reads_back_every_export(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    _cli_demo.register(parser.add_subparsers())
    args = parser.parse_args(
        ["demo", "--lake", str(tmp_path / "lake"), "--build-seconds", "0", "--no-progress"]
    )
    out = io.StringIO()

    assert args.func(args, out=out) == 0

    text = out.getvalue()
    march = pl.date_range(pl.date(2025, 3, 1), pl.date(2025, 3, 31), eager=True).to_list()
    for data_type, resolution, demographics in _cli_demo.DEMO_EXPORTS:
        name = f"{data_type}_{resolution}" + ("_demographics" if demographics else "")
        df = vf.scan_partitions(tmp_path / "lake" / name).collect()
        assert df.schema == vf.export_schema(
            data_type, resolution, group_by_demographics=demographics
        )
        assert sorted(df["period_start_date"].unique().to_list()) == march
        if "location_id" in df.columns:
            assert sorted(df["location_id"].unique().to_list()) == list(_cli_demo.DEMO_LOCATIONS)
        assert f"{name:40} {df.height:8,}" in text
    hourly = vf.scan_partitions(tmp_path / "lake" / "viewers_1h").collect()
    assert hourly.height == 31 * 24 * len(_cli_demo.DEMO_LOCATIONS)
    assert "at most" in text
    assert "first week of viewers_1h" in text
    assert "2025-03-07" in text
    assert "2025-03-08" not in text
