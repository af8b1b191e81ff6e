"""A real S3-speaking server for the object-storage tests: moto's ``ThreadedMotoServer``.

The server runs in a child process of the test session, on 127.0.0.1 and a free
port: in-process it would share the GIL with deltalake and Polars calls that
block on it. Each test gets a bucket of its own.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import polars as pl
import pytest

SERVER = """
import socket, sys, threading
from moto.server import ThreadedMotoServer

sock = socket.socket()
sock.bind(("127.0.0.1", 0))
port = sock.getsockname()[1]
sock.close()
server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
server.start()
print(port, flush=True)
sys.stdin.read()  # runs until the test session closes our stdin
server.stop()
"""

ACCESS_KEY = "AKIAVIDIFRAMETEST"
SECRET_KEY = "vidiframe-test-secret-Zq8w"


@dataclass(frozen=True)
class S3:
    endpoint: str
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY

    def options(self, **extra: str) -> dict[str, str]:
        return {
            "aws_endpoint_url": self.endpoint,
            "aws_access_key_id": ACCESS_KEY,
            "aws_secret_access_key": SECRET_KEY,
            "aws_region": "us-east-1",
            "aws_allow_http": "true",
            # A test that breaks the network must fail fast, not retry for minutes.
            "max_retries": "1",
            "retry_timeout_ms": "5000",
            **extra,
        }

    def client(self, service: str = "s3"):  # boto3: administration only, never the code under test
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name="us-east-1",
        )

    def new_bucket(self, *, versioned: bool = False) -> str:
        name = f"vf-{uuid.uuid4().hex[:12]}"
        client = self.client()
        client.create_bucket(Bucket=name)
        if versioned:
            client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        return name


@contextlib.contextmanager
def moto_server(**extra_env: str) -> Iterator[S3]:
    """A ThreadedMotoServer in a child process, on 127.0.0.1 and a free port."""
    env = {**os.environ, **extra_env}
    # The credentials of the machine must never reach the server or the tests.
    for key in list(env):
        if key.startswith("AWS_"):
            del env[key]
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    assert proc.stdin is not None
    line = proc.stdout.readline()
    if not line.strip().isdigit():
        proc.kill()
        pytest.fail(f"the moto server did not start: {line!r}")
    try:
        yield S3(f"http://127.0.0.1:{int(line)}")
    finally:
        proc.stdin.close()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()


@pytest.fixture(scope="session")
def s3() -> Iterator[S3]:
    with moto_server() as server:
        yield server


@pytest.fixture
def bucket(s3: S3) -> str:
    return s3.new_bucket()


@pytest.fixture(autouse=True)
def _no_machine_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    # Polars and deltalake would otherwise read a developer's real AWS settings.
    for key in list(os.environ):
        if key.startswith("AWS_"):
            monkeypatch.delenv(key)


def sample(days: list[dt.date], seed: int = 1, *, rows_per_day: int = 3) -> pl.DataFrame:
    """Rows of the dtypes exports have (Time, Enum, nested, unsigned); seeds give other values."""
    rows = [(day, seed * 1000 + i) for day in days for i in range(rows_per_day + seed)]
    return pl.DataFrame(
        {
            "period_start_date": [d for d, _ in rows],
            "period_start_time": [dt.time(v % 24, v % 60, v % 60, v) for _, v in rows],
            "location_id": pl.Series([4600 + v % 3 for _, v in rows], dtype=pl.UInt32),
            "watcher_count": [v for _, v in rows],
            "gender_label": pl.Series(
                [("male", "female")[v % 2] for _, v in rows], dtype=pl.Enum(["male", "female"])
            ),
            "contents": [[{"content_id": f"c{v}", "dwell_ms": v}] for _, v in rows],
        }
    )


@pytest.fixture
def make_frame() -> Callable[..., pl.DataFrame]:
    return sample
