"""Wrong credentials and missing permissions: a DatasetError naming the URL, nothing written.

A server of its own checks every request against its IAM users once the first
three requests (the bucket and a user without any policy) are done.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import polars as pl
import pytest

import vidiframe as vf

from .conftest import S3, moto_server

DF = pl.DataFrame({"period_start_date": [dt.date(2025, 3, 1)], "n": [1]})


@pytest.fixture(scope="module")
def guarded() -> Iterator[tuple[S3, dict[str, str]]]:
    with moto_server(INITIAL_NO_AUTH_ACTION_COUNT="3") as server:
        server.client().create_bucket(Bucket="guarded")
        iam = server.client("iam")
        iam.create_user(UserName="no-policy")
        key = iam.create_access_key(UserName="no-policy")["AccessKey"]
        yield server, {"id": key["AccessKeyId"], "secret": key["SecretAccessKey"]}


@pytest.mark.parametrize("who", ["wrong credentials", "no permission"])
def test_refused_credentials_are_a_dataset_error_without_secrets(guarded, who: str) -> None:
    server, user = guarded
    key_id, secret = (
        ("AKIAWRONGKEY0000", "wrong-secret-value-1")
        if who == "wrong credentials"
        else (user["id"], user["secret"])
    )
    options = {
        **server.options(),
        "aws_access_key_id": key_id,
        "aws_secret_access_key": secret,
        "max_retries": "0",
    }
    url = "s3://guarded/lake/viewers"
    with pytest.raises(vf.StorageFaultError) as info:
        vf.write_partitions(DF, url, partition_by="period_start_date", storage_options=options)
    message = str(info.value)
    assert "s3://guarded/lake" in message
    assert "check the credentials" in message
    assert secret not in message
    assert key_id not in message
    with pytest.raises(vf.DatasetError, match="check the credentials"):
        vf.read_inventory(url, storage_options=options)
