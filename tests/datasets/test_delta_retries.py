"""Polars-style retry settings reach deltalake: the Delta log's reads and commits retry as asked.

``max_retries`` / ``retry_timeout_ms`` are Polars' keys; deltalake takes
``max_retries`` and ``retry_timeout`` (a duration such as ``"5000ms"``). A
loopback server that answers every request with 503 counts what deltalake sends.
"""

from __future__ import annotations

import datetime as dt
import http.server
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from polars.testing import assert_frame_equal

import vidiframe as vf
from vidiframe import _delta
from vidiframe._storage import delta_options, parse_root

SECRET = "vidiframe-retry-secret-Hq3"


class Unavailable:
    """An S3 endpoint on 127.0.0.1 answering 503 to everything, after ``delay`` seconds."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.requests: list[tuple[str, str]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def answer(self) -> None:
                outer.requests.append((self.command, self.path))
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                # A slow answer, so that the retry timeout has surely passed.
                time.sleep(outer.delay)
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:  # deltalake's log reads are GETs
                self.answer()

            def do_PUT(self) -> None:
                self.answer()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def options(self, **retry: str) -> dict[str, str]:
        return {
            "aws_endpoint_url": f"http://127.0.0.1:{self.server.server_address[1]}",
            "aws_access_key_id": "AKIAVIDIFRAMERETRY",
            "aws_secret_access_key": SECRET,
            "aws_region": "us-east-1",
            "aws_allow_http": "true",
            **retry,
        }

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def unavailable() -> Iterator[Unavailable]:
    server = Unavailable()
    yield server
    server.close()


def test_retry_settings_are_translated_for_deltalake() -> None:
    options = {"aws_region": "eu-west-1", "max_retries": "3", "retry_timeout_ms": "2500"}
    assert delta_options(options) == {
        "aws_region": "eu-west-1",
        "max_retries": "3",
        "retry_timeout": "2500ms",
    }
    assert delta_options({"MAX_RETRIES": "0", "Retry_Timeout_Ms": "10"}) == {
        "max_retries": "0",
        "retry_timeout": "10ms",
    }
    assert delta_options({}) is None


def test_a_retry_setting_that_is_not_a_whole_number_is_refused_naming_the_key() -> None:
    with pytest.raises(vf.InvalidRequestError, match=r"'retry_timeout_ms'.*whole number"):
        delta_options({"retry_timeout_ms": "5s"})


@pytest.mark.parametrize("retries", [0, 2])
def test_the_delta_log_is_read_with_the_retries_asked(
    unavailable: Unavailable, retries: int
) -> None:
    options = unavailable.options(max_retries=str(retries), retry_timeout_ms="60000")
    with pytest.raises(vf.DatasetError, match="could not open the Delta table") as info:
        _delta.open_table(parse_root("s3://bucket/lake/t"), options)
    assert SECRET not in str(info.value)
    # The first request, then exactly the retries asked (deltalake's default is 10).
    assert unavailable.requests == [("GET", "/bucket/lake/t/_delta_log/_last_checkpoint")] * (
        retries + 1
    )


def test_the_delta_log_reads_stop_at_the_retry_timeout() -> None:
    server = Unavailable(delay=0.05)
    try:
        # Each answer takes 50 ms: past the 10 ms timeout, no retry is sent.
        options = server.options(max_retries="5", retry_timeout_ms="10")
        with pytest.raises(vf.DatasetError):
            _delta.open_table(parse_root("s3://bucket/lake/t"), options)
        assert len(server.requests) == 1
    finally:
        server.close()


def test_delta_commits_and_scans_take_the_retry_settings(
    s3, bucket: str, make_frame, monkeypatch: pytest.MonkeyPatch
) -> None:
    deltalake = pytest.importorskip("deltalake")
    real = deltalake.write_deltalake
    given: list[dict[str, str]] = []

    def spy(*args: Any, **kwargs: Any) -> Any:
        given.append(dict(kwargs["storage_options"]))
        return real(*args, **kwargs)

    monkeypatch.setattr(deltalake, "write_deltalake", spy)
    url = f"s3://{bucket}/lake/t"
    options = s3.options(max_retries="1", retry_timeout_ms="5000")
    df = make_frame([dt.date(2025, 3, 1), dt.date(2025, 3, 2)])
    vf.write_partitions(
        df, url, partition_by="period_start_date", format="delta", storage_options=options
    )  # a new table
    vf.write_partitions(
        df, url, partition_by="period_start_date", format="delta", storage_options=options
    )  # on top of the table read
    assert len(given) == 2
    for passed in given:
        assert (passed["max_retries"], passed["retry_timeout"]) == ("1", "5000ms")
        assert "retry_timeout_ms" not in passed
    # Polars reads the table with its own (integer) retry settings: no refusal.
    got = vf.scan_partitions(url, storage_options=options).collect()
    assert_frame_equal(got, df)


def test_retry_keys_in_capitals_are_taken_too(s3, bucket: str, make_frame) -> None:
    """deltalake gets them in its own spelling; Polars gets its own, not both spellings."""
    url = f"s3://{bucket}/lake/t"
    options = {
        k: v for k, v in s3.options().items() if k not in ("max_retries", "retry_timeout_ms")
    }
    options.update(MAX_RETRIES="1", RETRY_TIMEOUT_MS="5000")
    df = make_frame([dt.date(2025, 3, 1)])
    vf.write_partitions(
        df, url, partition_by="period_start_date", format="delta", storage_options=options
    )
    assert_frame_equal(vf.scan_partitions(url, storage_options=options).collect(), df)
