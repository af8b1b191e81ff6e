"""``vidiframe sync`` on the command line, against the fake VidiCenter on 127.0.0.1.

The command runs in process through ``vidiframe._cli.main``, finding the fake and
its credentials in the environment as it would find the real server's.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from polars.testing import assert_frame_equal

import vidiframe as vf
from vidiframe._cli import build_parser, main
from vidiframe._cli_sync import run_sync
from vidiframe.testing import DATA_PATH, FailExport, FakeVidiCenter, ManualClock, ServerError

CONFIG = """
root = "lake"
first_day = 2025-01-01
trailing_days = 2

[[export]]
data_type = "ots"
time_resolution = "1h"
locations = [4636, 4637]
"""


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeVidiCenter]:
    # Built at once: the client polls after half a second, and the test is done.
    with FakeVidiCenter(build_seconds=0) as server:
        monkeypatch.setenv("VIDICENTER_URL", server.url)
        monkeypatch.setenv("VIDICENTER_USERNAME", server.username)
        monkeypatch.setenv("VIDICENTER_TOKEN", server.token)
        monkeypatch.setenv("VIDIFRAME_CACHE_DIR", str(tmp_path / "cache"))
        yield server


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "conf" / "lake.toml"
    path.parent.mkdir()
    path.write_text(CONFIG)
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["sync", *argv, "--no-progress"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def data_calls(fake: FakeVidiCenter) -> list[tuple[str, str]]:
    return sorted(
        {(r.params["start"], r.params["end"]) for r in fake.requests if r.path == DATA_PATH}
    )


def one_shot(fake: FakeVidiCenter, start: str, end: str) -> Any:
    clock = ManualClock()
    with vf.VidiCenterClient(
        fake.username,
        fake.token,
        fake.url,
        transport=fake.transport(),
        clock=clock,
        sleep=clock.sleep,
        cache_dir=None,
    ) as client:
        return vf.read_vidicenter(
            data_type="ots",
            time_resolution="1h",
            start=start,
            end=end,
            locations=[4636, 4637],
            client=client,
            progress=False,
        )


def test_sync_fills_then_refetches_the_trailing_days(fake, config_file, capsys):
    lake = config_file.parent / "lake" / "ots_1h"

    code, out, err = run(capsys, str(config_file), "--today", "2025-01-11")

    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "ots_1h: fetched 2025-01-01..2025-01-08 (8 days): 384 rows, 1 partition written",
        "ots_1h: refetched 2025-01-09..2025-01-10 (2 days): 96 rows, 1 partition written",
        "",
        "export  partition  skipped  fetched  refetched  rows  written  removed",
        "ots_1h  month      0 days   8 days   2 days     480   2        0",
    ]
    assert data_calls(fake) == [
        ("2025-01-01T00:00:00", "2025-01-08T23:59:59"),
        ("2025-01-09T00:00:00", "2025-01-10T23:59:59"),
    ]
    # The root is relative to the configuration file, not to the working directory.
    assert_frame_equal(
        vf.scan_partitions(lake).collect().drop("period_start_month"),
        one_shot(fake, "2025-01-01", "2025-01-10"),
    )

    before = len(fake.requests)
    code, out, _ = run(capsys, str(config_file), "--today", "2025-01-12")

    assert code == 0
    assert out.splitlines()[0] == (
        "ots_1h: refetched 2025-01-10..2025-01-11 (2 days): 96 rows, 1 partition written"
    )
    new = [r for r in fake.requests[before:] if r.path == DATA_PATH]
    assert {(r.params["start"], r.params["end"]) for r in new} == {
        ("2025-01-10T00:00:00", "2025-01-11T23:59:59")
    }
    assert sum("force_rebuild" in r.params for r in new) == 1


def test_dry_run_prints_the_plan_and_sends_nothing(fake, config_file, capsys):
    code, out, _ = run(capsys, str(config_file), "--today", "2025-01-11", "--dry-run")

    assert code == 0
    lake = config_file.parent / "lake" / "ots_1h"
    assert out.splitlines() == [
        "dry run for 2025-01-11: nothing is fetched",
        "ots_1h: 10 days from 2025-01-01, 0 with rows, 0 empty; partition by month",
        "  fetch   2025-01-01..2025-01-08  (8 days)",
        "  refetch 2025-01-09..2025-01-10  (2 days)",
        f"  into {lake}",
        "",
        "export  partition  skipped  fetched  refetched",
        "ots_1h  month      0 days   8 days   2 days",
    ]
    assert fake.requests == []
    assert not lake.exists()


def test_trailing_days_option_overrides_the_configuration(fake, config_file, capsys):
    assert run(capsys, str(config_file), "--today", "2025-01-06")[0] == 0
    before = len(fake.requests)

    code, out, _ = run(capsys, str(config_file), "--today", "2025-01-06", "--trailing-days", "0")
    assert code == 0
    assert out.splitlines()[0] == "up to date: nothing to fetch"
    assert fake.requests[before:] == []

    code, out, _ = run(capsys, str(config_file), "--today", "2025-01-06", "--trailing-days", "4")
    assert code == 0
    assert out.splitlines()[0].startswith("ots_1h: refetched 2025-01-02..2025-01-05 (4 days)")


def test_a_failed_batch_exits_1_and_the_next_run_finishes(fake, config_file, capsys):
    # The trailing batch's build fails on the server; the first batch is kept.
    fake.inject(
        FailExport("disk full"), when=lambda call: call.params["start"] == "2025-01-09T00:00:00"
    )

    code, out, err = run(capsys, str(config_file), "--today", "2025-01-11")

    assert code == 1
    assert out.splitlines()[0].startswith("ots_1h: fetched 2025-01-01..2025-01-08")
    assert "1 batch(es) written before the error are kept" in err
    assert "disk full" in err
    code, out, err = run(capsys, str(config_file), "--today", "2025-01-11")
    assert (code, err) == (0, "")
    # Refetched with force_rebuild: the server's failed build is not served again.
    assert out.splitlines()[0].startswith("ots_1h: refetched 2025-01-09..2025-01-10 (2 days)")
    assert_frame_equal(
        vf.scan_partitions(config_file.parent / "lake" / "ots_1h")
        .collect()
        .drop("period_start_month"),
        one_shot(fake, "2025-01-01", "2025-01-10"),
    )


class InterruptingTransport:
    """Ctrl-C on the first request of the export that starts on ``start``."""

    def __init__(self, inner: Any, start: str) -> None:
        self.inner, self.start = inner, start

    def get(self, url: str, *, params: Mapping[str, str], **kwargs: Any) -> Any:
        if params.get("start") == self.start:
            raise KeyboardInterrupt
        return self.inner.get(url, params=params, **kwargs)

    def close(self) -> None:
        self.inner.close()


def test_ctrl_c_exits_130_and_says_what_is_kept(fake, config_file):
    clock = ManualClock()
    transport = InterruptingTransport(fake.transport(), "2025-01-09T00:00:00")
    args = build_parser().parse_args(["sync", str(config_file), "--today", "2025-01-11"])
    out, err = io.StringIO(), io.StringIO()
    with vf.VidiCenterClient(
        transport=transport, clock=clock, sleep=clock.sleep, cache_dir=None
    ) as client:
        code = run_sync(args, client=client, out=out, err=err)

    assert code == 130
    assert out.getvalue().startswith("ots_1h: fetched 2025-01-01..2025-01-08 (8 days)")
    assert "interrupted; 1 batch(es) written are kept" in err.getvalue()
    days = vf.scan_partitions(config_file.parent / "lake" / "ots_1h").collect()["period_start_date"]
    assert days.max() == dt.date(2025, 1, 8)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("root = 'lake'\n", r"at least one \[\[export\]\] table is required"),
        (CONFIG.replace("locations", "location"), "unknown key 'location'"),
        (CONFIG.replace("2025-01-01", "2025-02-30"), "not valid TOML"),
        (CONFIG.replace('"1h"', '"7d"'), "'7d' cannot be synced"),
        (
            CONFIG.replace('root = "lake"', 'root = "s3://bucket/lake"')
            + '[storage_options]\naws_secret_acces_key = "s3cret"\n',
            r"\[storage_options\]: unknown key 'aws_secret_acces_key' "
            r"\(did you mean 'aws_secret_access_key'\?\)",
        ),
        (CONFIG.replace("first_day", 'schema_mode = "keep"\nfirst_day'), "'schema_mode' must be"),
    ],
)
def test_an_invalid_configuration_exits_2_naming_the_key(fake, tmp_path, capsys, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    code, out, err = run(capsys, str(path))
    assert (code, out) == (2, "")
    assert err.startswith("vidiframe sync: error: ")
    assert re.search(message, err)
    assert fake.requests == []


def test_a_bad_today_is_a_usage_error(fake, config_file, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["sync", str(config_file), "--today", "tomorrow"])
    assert exit_.value.code == 2
    assert "'tomorrow' is not a date (YYYY-MM-DD)" in capsys.readouterr().err


DIMENSIONS_CONFIG = CONFIG.replace(
    "trailing_days = 2\n", 'trailing_days = 2\ndimensions = ["locations", "networks"]\n'
)


def test_sync_prints_the_dimension_snapshots_it_stores(fake, config_file, capsys):
    config_file.write_text(DIMENSIONS_CONFIG)
    dimensions = config_file.parent / "lake" / "dimensions"

    code, out, err = run(capsys, str(config_file), "--today", "2025-01-11")

    assert (code, err) == (0, "")
    n_loc, n_net = len(fake.account.locations), len(fake.account.networks)
    lines = out.splitlines()
    assert sorted(line for line in lines if line.startswith("dimension") and ":" in line) == [
        f"dimension locations: snapshot 2025-01-11 stored ({n_loc} rows) in "
        f"{dimensions / 'locations'}",
        f"dimension networks: snapshot 2025-01-11 stored ({n_net} rows) in "
        f"{dimensions / 'networks'}",
    ]
    assert lines[-3:] == [
        "dimension  snapshot    rows  stored",
        f"locations  2025-01-11  {n_loc:<4}  yes",
        f"networks   2025-01-11  {n_net:<4}  yes",
    ]
    labels = vf.scan_dimension_snapshots(config_file.parent / "lake", "networks").collect()
    assert sorted(labels.get_column("label")) == [f"Network {n}" for n in fake.account.networks]

    code, out, _ = run(capsys, str(config_file), "--today", "2025-01-11", "--dry-run")
    assert code == 0
    assert out.splitlines()[-1] == (
        "dimension snapshots of 2025-01-11 (not taken on a dry run): locations, networks"
    )


def test_a_failed_snapshot_fails_the_command_after_the_exports_are_written(fake, config_file):
    # On a manual clock: the client retries the 503s without waiting. main() turns
    # the TransportError into exit code 1 (test_a_failed_batch_exits_1_...).
    config_file.write_text(DIMENSIONS_CONFIG)
    fake.inject(ServerError(503), times=None, path="/api/v1/networks/")
    clock = ManualClock()
    args = build_parser().parse_args(["sync", str(config_file), "--today", "2025-01-11"])
    out, err = io.StringIO(), io.StringIO()
    with (
        vf.VidiCenterClient(
            transport=fake.transport(), clock=clock, sleep=clock.sleep, cache_dir=None
        ) as client,
        pytest.raises(vf.TransportError, match="/api/v1/networks/"),
    ):
        run_sync(args, client=client, out=out, err=err)

    lines = out.getvalue().splitlines()
    assert sorted(line.split(":")[0] for line in lines) == [
        "dimension locations",
        "dimension networks",
        "ots_1h",
        "ots_1h",
    ]
    assert "dimension networks: snapshot 2025-01-11 failed: TransportError: " in out.getvalue()
    assert err.getvalue() == (
        "vidiframe sync: the snapshot of networks failed (earlier snapshots are kept); "
        "the exports went on (2 batch(es) written): run the same command again to take it\n"
    )
    assert_frame_equal(
        vf.scan_partitions(config_file.parent / "lake" / "ots_1h")
        .collect()
        .drop("period_start_month"),
        one_shot(fake, "2025-01-01", "2025-01-10"),
    )
