"""``vidiframe fetch -o`` takes an object-store URL: one PUT of the whole file."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from support.cli import FETCH, TOKEN, fetched

from vidiframe._cli import main
from vidiframe.testing import FakeVidiCenter


@pytest.fixture
def fake(serve_fake: Callable[..., FakeVidiCenter]) -> FakeVidiCenter:
    return serve_fake(seed=3, token=TOKEN)


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
    assert df.equals(fetched(fake))
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
