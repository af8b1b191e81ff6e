"""Dataset roots as URLs: what is accepted, what is refused, and faults that name the URL only."""

from __future__ import annotations

import datetime as dt
import logging
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import vidiframe as vf
from vidiframe._storage import ObjectStorage, parse_root

DAY1, DAY2 = dt.date(2025, 3, 1), dt.date(2025, 3, 2)


def frame() -> pl.DataFrame:
    return pl.DataFrame({"period_start_date": [DAY1, DAY2], "n": [1, 2]})


@pytest.mark.parametrize(
    ("root", "url", "cloud"),
    [
        ("s3://bucket/lake/viewers/", "s3://bucket/lake/viewers", "s3"),
        ("s3a://bucket/lake", "s3a://bucket/lake", "s3"),
        ("gs://bucket/lake", "gs://bucket/lake", "gs"),
        ("az://container/lake", "az://container/lake", "azure"),
        ("abfss://container@account.dfs.core.windows.net/lake", None, "azure"),
        ("S3://bucket", "s3://bucket", "s3"),
    ],
)
def test_object_store_urls_are_recognised(root: str, url: str | None, cloud: str) -> None:
    location = parse_root(root)
    assert location.cloud == cloud
    assert location.local is None
    assert location.url == (url or root)


def test_local_paths_and_file_urls_are_the_same_dataset(tmp_path: Path) -> None:
    vf.write_partitions(frame(), f"file://{tmp_path}/ds", partition_by="period_start_date")
    assert_frame_equal(vf.scan_partitions(tmp_path / "ds").collect(), frame())
    assert_frame_equal(vf.scan_partitions(f"file://{tmp_path}/ds").collect(), frame())


@pytest.mark.parametrize(
    "root", ["ftp://host/lake", "http://host/lake", "https://host/lake", "memory:///lake"]
)
def test_unsupported_schemes_create_nothing(
    root: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(vf.InvalidRequestError, match="unsupported dataset URL scheme"):
        vf.write_partitions(frame(), root, partition_by="period_start_date")
    for call in (vf.scan_partitions, vf.read_inventory, vf.dataset_lock):
        with pytest.raises(vf.InvalidRequestError):
            call(root)
    # Today's bug: 's3://b/x' became the local folder 's3:/b/x'. Nothing at all now.
    assert list(tmp_path.iterdir()) == []


def test_a_url_with_credentials_is_refused_without_echoing_them() -> None:
    with pytest.raises(vf.InvalidRequestError) as info:
        vf.scan_partitions("s3://AKIAX:hunter2secret@bucket/lake")
    assert "hunter2secret" not in str(info.value)
    assert "storage_options" in str(info.value)


def test_storage_options_must_be_strings_and_name_the_key_only() -> None:
    with pytest.raises(vf.InvalidRequestError, match=r"storage_options\['aws_region'\]") as info:
        vf.scan_partitions("s3://bucket/lake", storage_options={"aws_region": 12})  # type: ignore[dict-item]
    assert "12" not in str(info.value).replace("aws_region", "")
    with pytest.raises(vf.InvalidRequestError, match="local path"):
        vf.scan_partitions("/tmp/x", storage_options={"aws_region": "eu-west-1"})


def test_an_unknown_storage_key_gets_a_did_you_mean(s3, bucket: str) -> None:
    options = {**s3.options(), "aws_endpoint_urll": "x"}
    with pytest.raises(vf.InvalidRequestError, match="did you mean 'aws_endpoint_url'") as info:
        vf.read_inventory(f"s3://{bucket}/lake", storage_options=options)
    assert s3.secret_key not in str(info.value)


def test_missing_bucket_names_the_url_and_what_to_do(s3) -> None:
    url = "s3://no-such-bucket-here/lake/viewers"
    with pytest.raises(vf.DatasetError) as info:
        vf.write_partitions(
            frame(), url, partition_by="period_start_date", storage_options=s3.options()
        )
    message = str(info.value)
    assert "s3://no-such-bucket-here/lake" in message
    assert "bucket does not exist" in message
    assert s3.secret_key not in message
    assert s3.access_key not in message


def test_unreachable_endpoint_is_a_storage_fault_without_secrets(
    s3, bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    # A port nothing listens on: the network failure a real endpoint can have.
    options = {**s3.options(), "aws_endpoint_url": "http://127.0.0.1:9", "max_retries": "0"}
    caplog.set_level(logging.DEBUG)
    with pytest.raises(vf.StorageFaultError) as info:
        vf.write_partitions(
            frame(),
            f"s3://{bucket}/lake",
            partition_by="period_start_date",
            storage_options=options,
        )
    message = str(info.value)
    assert f"s3://{bucket}" in message
    assert "network" in message
    assert s3.secret_key not in message
    assert s3.secret_key not in caplog.text


def test_reprs_hold_no_secret(s3, bucket: str) -> None:
    url = f"s3://{bucket}/lake"
    storage = ObjectStorage(parse_root(url), s3.options())
    assert s3.secret_key not in repr(storage)
    vf.write_partitions(
        frame(), url, partition_by="period_start_date", storage_options=s3.options()
    )
    inventory = vf.read_inventory(url, storage_options=s3.options())
    assert s3.secret_key not in repr(inventory)
    assert inventory.partitions == ((DAY1,), (DAY2,))


def test_scan_of_a_missing_dataset_on_s3_is_a_dataset_error(s3, bucket: str) -> None:
    with pytest.raises(vf.DatasetError, match="no dataset at"):
        vf.scan_partitions(f"s3://{bucket}/nothing", storage_options=s3.options())
    assert not vf.read_inventory(f"s3://{bucket}/nothing", storage_options=s3.options()).exists


FULL_DISK = """
import resource, sys
import polars as pl
import vidiframe as vf
df = pl.read_parquet(sys.argv[2])
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))  # files past 4 KiB fail: a full disk
try:
    vf.write_partitions(df, sys.argv[1], partition_by="period_start_date")
except vf.DatasetError as error:
    print("DatasetError:", error)
"""


def test_a_full_disk_is_a_dataset_error_and_leaves_the_old_partitions(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    old = frame()
    vf.write_partitions(old, root, partition_by="period_start_date")
    big = pl.DataFrame(
        {
            "period_start_date": [DAY1] * 50_000 + [DAY2] * 50_000,
            "n": (pl.int_range(100_000, eager=True).hash(7) % 1_000_000).cast(pl.Int64),
        }
    )
    source = tmp_path / "big.parquet"
    big.write_parquet(source)
    env = {**os.environ}
    # SIGXFSZ would kill the writer: ignored, the write fails with EFBIG as on a full disk.
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import signal; signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n" + FULL_DISK,
            str(root),
            str(source),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert "DatasetError:" in result.stdout, result.stderr
    assert "free some space" in result.stdout
    assert_frame_equal(vf.scan_partitions(root).collect(), old)


def test_object_storage_without_the_lake_extra_names_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("obstore", "obstore.store", "obstore.exceptions"):
        monkeypatch.setitem(sys.modules, name, None)  # what an absent package looks like
    with pytest.raises(vf.MissingDependencyError, match=r"vidiframe\[lake\]"):
        vf.read_inventory("s3://bucket/lake", storage_options={"aws_region": "eu-west-1"})
    # Local datasets need neither obstore nor deltalake.
    vf.write_partitions(frame(), tmp_path / "ds", partition_by="period_start_date")
    assert_frame_equal(vf.scan_partitions(tmp_path / "ds").collect(), frame())


def test_local_hive_datasets_need_no_deltalake(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Every operation on a local Hive dataset works without the lake extra."""
    monkeypatch.setitem(sys.modules, "deltalake", None)  # what an absent package looks like
    root = tmp_path / "ds"
    vf.write_partitions(frame(), root, partition_by="period_start_date")
    assert vf.read_inventory(root).partitions == ((DAY1,), (DAY2,))
    new = pl.DataFrame({"period_start_date": [DAY2], "n": [20]})
    changes = vf.replace_days(new, root, days=[DAY2], partition_by="period_start_date")
    assert changes.written == ((DAY2,),)
    assert vf.delete_partitions(root, [(DAY1,)]) == ((DAY1,),)
    assert_frame_equal(vf.scan_partitions(root).collect(), new)


def test_delta_without_the_lake_extra_names_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "deltalake", None)
    with pytest.raises(vf.MissingDependencyError, match=r"vidiframe\[lake\]"):
        vf.write_partitions(
            frame(), tmp_path / "ds", partition_by="period_start_date", format="delta"
        )


def test_clients_are_reused_per_root_options_and_environment(
    s3, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vidiframe import _storage

    location = parse_root(f"s3://{bucket}/lake")
    first = ObjectStorage(location, s3.options())
    assert ObjectStorage(location, s3.options())._store is first._store
    other = ObjectStorage(location, s3.options(aws_region="eu-west-1"))
    assert other._store is not first._store
    # Credentials in the environment changed: a client built before is not reused.
    monkeypatch.setenv("AWS_SESSION_TOKEN", "rotated-session-token")
    assert ObjectStorage(location, s3.options())._store is not first._store
    # The cache is keyed by digests: no secret is held in clear.
    assert not any(s3.secret_key in key or s3.access_key in key for key in _storage._clients)
    first.put("probe", b"x")
    assert ObjectStorage(location, s3.options()).get("probe") == b"x"
