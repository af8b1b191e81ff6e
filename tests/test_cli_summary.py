"""``vidiframe fetch`` without ``-o``: a summary that reads well at any terminal width.

Issue 11 saw column names cut into fragments (``locati`` / ``on_id``) and four
lines a row at 120 columns. Here every export type the demo fetches is
summarized at 60, 80 and 120 columns: no line is wider than the terminal, every
column is listed whole with its type, and the sample rows are the frame's values.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import polars as pl
import pytest

import vidiframe as vf
from vidiframe._cli import main
from vidiframe._cli_summary import summarize
from vidiframe.testing import FakeVidiCenter

WIDTHS = (60, 80, 120)
EXPORTS = (
    ("viewers", "finest", False),
    ("viewers", "1d", True),
    ("ots", "1h", False),
    ("proof_of_play_by_location", "1d", False),
    ("vehicles_footfall", "1h", False),
)


@pytest.fixture(scope="module")
def frames() -> dict[str, pl.DataFrame]:
    with FakeVidiCenter(seed=11, serve=False) as fake:
        out = {}
        for data_type, resolution, demographics in EXPORTS:
            body = fake.response_body(
                data_type,
                resolution,
                start="2025-01-01T00:00:00",
                end="2025-01-02T23:59:59",
                locations=[4636, 4637, 4638],
                group_by_demographics=demographics,
            )
            out[f"{data_type}/{resolution}"] = vf.read_vidicenter(
                body,
                data_type=data_type,
                time_resolution=resolution,
                group_by_demographics=demographics,
            )
    return out


def sections(text: str) -> tuple[list[str], list[str], list[str]]:
    head, columns, sample = text.split("\n\n")
    return head.splitlines(), columns.splitlines()[1:], sample.splitlines()[1:]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("label", [f"{d}/{r}" for d, r, _ in EXPORTS])
def test_the_summary_fits_and_cuts_no_name(
    frames: dict[str, pl.DataFrame], label: str, width: int
) -> None:
    df = frames[label]
    text = summarize(df, label=label, width=width)
    assert max(len(line) for line in text.splitlines()) <= width, text
    head, columns, sample = sections(text)
    assert head[0] == f"{label}: {df.height:,} rows x {df.width} columns"
    assert head[1] == f"period_start: {df['period_start'].min()} .. {df['period_start'].max()}"
    assert head[2].startswith(f"placeholder rows: {int(df['is_placeholder'].sum()):,}")
    counts = df["location_id"].value_counts().sort("location_id").iter_rows()
    assert head[3] == "rows by location_id: " + ", ".join(f"{v}: {n:,}" for v, n in counts)

    # Every column once, whole, with its type, in the frame's order.
    listed = re.findall(r"(\S+): (\S+)", "\n".join(columns))
    assert [name for name, _ in listed] == df.columns
    assert all(kind for _, kind in listed)

    # The sample: whole column names over the frame's own first rows.
    header = sample[0].split()
    assert header[:2] == ["location_id", "period_start"]
    assert set(header) <= set(df.columns)
    assert len(sample) == 1 + min(5, df.height)
    for i, line in enumerate(sample[1:]):
        row = df.row(i, named=True)
        expected = []
        for name in header:
            value = row[name]
            expected += (
                ["null"]
                if value is None
                else str(value).lower().split()
                if isinstance(value, bool)
                else str(value).split()
            )
        assert line.split() == expected


def test_a_wider_terminal_shows_more_of_each_row(frames: dict[str, pl.DataFrame]) -> None:
    df = frames["viewers/finest"]
    shown = [len(sections(summarize(df, label="v", width=w))[2][0].split()) for w in (60, 80, 120)]
    assert shown[0] < shown[1] < shown[2]


def test_an_empty_frame_has_counts_and_columns_but_no_sample() -> None:
    df = vf.read_vidicenter(
        {"state": "finished", "data": []}, data_type="ots", time_resolution="1h"
    )
    text = summarize(df, label="ots/1h", width=60)
    assert text.splitlines()[:2] == [
        f"ots/1h: 0 rows x {df.width} columns",
        "placeholder rows: 0",
    ]
    assert "first" not in text
    assert all(f"{name}: " in text for name in df.columns)


@pytest.mark.parametrize("width", WIDTHS)
def test_fetch_prints_the_summary_at_the_terminal_width(
    serve_fake: Callable[..., FakeVidiCenter],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    width: int,
) -> None:
    serve_fake(seed=3)
    monkeypatch.setenv("COLUMNS", str(width))
    args = ["fetch", "--data-type", "viewers", "--time-resolution", "finest"]
    args += ["--start", "2025-01-01", "--end", "2025-01-01", "--locations", "4636,4637"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= width
    assert "  attention_time_in_tenths_of_sec: i64" in out
