"""``vidiframe fetch`` and ``vidiframe whoami`` against the fake server over a loopback socket."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from support.cli import FETCH, TOKEN, fetched

import vidiframe as vf
import vidiframe._fetch
from vidiframe._cli import COMMANDS, _load, build_parser, main
from vidiframe.testing import FakeVidiCenter


@pytest.fixture
def fake(serve_fake: Callable[..., FakeVidiCenter]) -> FakeVidiCenter:
    return serve_fake(seed=3, token=TOKEN)


def test_fetch_writes_parquet(
    fake: FakeVidiCenter, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out" / "ots.parquet"
    assert main([*FETCH, "-o", str(out)]) == 0
    df = pl.read_parquet(out)
    assert_frame_equal(df, fetched(fake))
    assert capsys.readouterr().out == f"wrote 96 rows x {df.width} columns to {out}\n"
    assert [p.name for p in out.parent.iterdir()] == ["ots.parquet"]  # no temporary left


def test_fetch_prints_a_summary(fake: FakeVidiCenter, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(FETCH) == 0
    out = capsys.readouterr().out
    want = fetched(fake)
    assert out.startswith(f"ots/1h: 96 rows x {want.width} columns\n")
    assert "period_start: 2025-01-01 00:00:00 .. 2025-01-02 23:00:00" in out
    assert f"placeholder rows: {int(want['is_placeholder'].sum())}" in out
    assert "rows by location_id: 4636: 48, 4637: 48" in out
    # The sample's first row is the frame's, value for value.
    sample = out.split("first 5 rows", 1)[1].splitlines()[2].split()
    first = want.row(0, named=True)
    assert sample[:4] == [
        str(first["location_id"]),
        *str(first["period_start"]).split(),
        str(first["ots_count"]),
    ]


def test_fetch_options_reach_the_api(fake: FakeVidiCenter, tmp_path: Path) -> None:
    args = [
        "fetch",
        "--data-type",
        "viewers",
        "--time-resolution",
        "1d",
        "--start",
        "2025-01-01",
        "--end",
        "2025-01-03",
        "--sites",
        "463",
        "--group-by-demographics",
        "--force-rebuild",
        "--placeholders",
        "drop",
        "--no-cache",
        "--no-progress",
        "-o",
        str(tmp_path / "v.parquet"),
    ]
    assert main(args) == 0
    first = fake.data_requests[0].params
    assert first == {
        "data_type": "viewers",
        "time_resolution": "1d",
        "start": "2025-01-01T00:00:00",
        "end": "2025-01-03T23:59:59",
        "sites": "463",
        "group_by_demographics": "1",
        "force_rebuild": "1",
    }
    df = pl.read_parquet(tmp_path / "v.parquet")
    assert not df["is_placeholder"].any()
    assert set(df["gender_label"].cast(pl.String).unique()) <= {"unknown", "male", "female"}
    assert not (tmp_path / "cache").exists()


def test_second_fetch_is_served_from_the_cache(
    fake: FakeVidiCenter, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*FETCH, "--cache-dir", str(tmp_path / "c")]) == 0
    calls = len(fake.requests)
    assert main([*FETCH, "--cache-dir", str(tmp_path / "c")]) == 0
    assert len(fake.requests) == calls
    assert len(list((tmp_path / "c").glob("*.vfc"))) == 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--start", "2025-02-01"], "is after end"),
        (["--data-type", "im", "--time-resolution", "1d"], "accepts --time-resolution '1h' only"),
        (["--content-ids", "a"], "--content-ids only works with"),
        (["-o", "out.csv"], "must be a .parquet file"),
    ],
)
def test_invalid_requests_exit_2_before_any_call(
    fake: FakeVidiCenter, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    assert main([*FETCH, *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("vidiframe fetch: error: ")
    assert message in err
    assert fake.requests == []


def test_insecure_url_is_refused(fake: FakeVidiCenter, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["whoami", "--base-url", "http://vidicenter.quividi.com"]) == 2
    assert "refusing plain http" in capsys.readouterr().err
    assert fake.requests == []


def test_whoami(fake: FakeVidiCenter, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["whoami"]) == 0
    assert capsys.readouterr().out == f"demo at {fake.url}\n"


def test_whoami_with_a_bad_token(
    fake: FakeVidiCenter, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("VIDICENTER_TOKEN", "bad-" + TOKEN)
    assert main(["-vv", "whoami"]) == 1
    captured = capsys.readouterr()
    assert "HTTP 401" in captured.err
    assert TOKEN not in captured.out + captured.err


def test_verbose_logs_never_show_the_token(
    fake: FakeVidiCenter, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["-vv", *FETCH]) == 0
    captured = capsys.readouterr()
    assert "GET /api/v1/data/" in captured.err
    assert TOKEN not in captured.out + captured.err


def test_interrupt_exits_130(
    fake: FakeVidiCenter, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(**_: object) -> pl.DataFrame:
        raise KeyboardInterrupt

    monkeypatch.setattr(vidiframe._fetch, "read_online", interrupted)
    assert main(FETCH) == 130
    assert "run the same command again to resume" in capsys.readouterr().err


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"vidiframe {vf.__version__}\n"
    assert main([]) == 2
    assert "fetch" in capsys.readouterr().err


def test_commands_are_registered_from_the_list() -> None:
    parser = build_parser()
    choices = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert {"fetch", "whoami"} <= set(choices)
    assert COMMANDS[:2] == ("vidiframe._cli:register_fetch", "vidiframe._cli:register_whoami")


def test_a_command_module_not_written_yet_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _load("vidiframe._cli_not_written_yet:register") is None
    # A module that exists but is broken must not be hidden.
    (tmp_path / "broken_cli_module.py").write_text("import a_dependency_that_is_missing\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError, match="a_dependency_that_is_missing"):
        _load("broken_cli_module:register")
    sys.modules.pop("broken_cli_module", None)
