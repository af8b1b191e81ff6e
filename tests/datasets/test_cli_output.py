"""``vidiframe fetch -o`` takes an object-store URL: one PUT of the whole file."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

import vidiframe as vf
from vidiframe._cli import main
from vidiframe.testing import FakeVidiCenter

TOKEN = "cli-t0ken-4d2e9a"
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


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeVidiCenter]:
    with FakeVidiCenter(seed=3, token=TOKEN, build_seconds=0.0) as server:
        monkeypatch.setenv("VIDICENTER_USERNAME", "demo")
        monkeypatch.setenv("VIDICENTER_TOKEN", TOKEN)
        monkeypatch.setenv("VIDICENTER_URL", server.url)
        monkeypatch.setenv("VIDIFRAME_CACHE_DIR", str(tmp_path / "cache"))
        yield server


def test_fetch_writes_one_object_to_s3(
    fake: FakeVidiCenter, s3, bucket: str, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    # The command line has no storage options: credentials come from the environment.
    for key, value in s3.options().items():
        if key.startswith("aws_"):
            monkeypatch.setenv(key.upper(), value)
    url = f"s3://{bucket}/exports/ots.parquet"
    assert main([*FETCH, "-o", url]) == 0
    body = s3.client().get_object(Bucket=bucket, Key="exports/ots.parquet")["Body"].read()
    df = pl.read_parquet(io.BytesIO(body))
    expected = vf.read_vidicenter(
        fake.response_body(
            "ots",
            "1h",
            start="2025-01-01T00:00:00",
            end="2025-01-02T23:59:59",
            locations=[4636, 4637],
        ),
        data_type="ots",
        time_resolution="1h",
    )
    assert df.equals(expected)
    assert capsys.readouterr().out.endswith(f"to {url}\n")
    listing = s3.client().list_objects_v2(Bucket=bucket)
    assert [o["Key"] for o in listing["Contents"]] == ["exports/ots.parquet"]


def test_fetch_refuses_an_unsupported_scheme_before_fetching(
    fake: FakeVidiCenter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)
    code = main([*FETCH, "-o", "ftp://host/ots.parquet"])
    assert code != 0
    assert "unsupported dataset URL scheme" in capsys.readouterr().err
    # Refused before any request: the cache directory was not even created.
    assert list(tmp_path.iterdir()) == []
