"""The command line speaks to people: one line per error, in its own terms, with a fix.

Each case here is a frustration of issue 11 that must not come back: a traceback
for a bad output path found after the whole fetch, Python's ``username=`` on the
command line, 27 export types listed without the one that was meant, a calendar
error called a format error.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from support.cli import fetch_argv

import vidiframe as vf
import vidiframe._cli
import vidiframe._fetch
from vidiframe._cli import main
from vidiframe.testing import FakeVidiCenter

TOKEN = "errs-t0ken-91b3"
FETCH = fetch_argv(end="2025-01-01", locations="4636")


@pytest.fixture
def fake(
    serve_fake: Callable[..., FakeVidiCenter], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> FakeVidiCenter:
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    return serve_fake(seed=5, token=TOKEN)


def one_line_error(capsys: pytest.CaptureFixture[str], command: str = "fetch") -> str:
    """The single line on stderr, checked to be an error of ``command`` without traceback."""
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith(f"vidiframe {command}: error: "), err
    assert "Traceback" not in err
    return err.removeprefix(f"vidiframe {command}: error: ").rstrip("\n")


def with_option(option: str, value: str) -> list[str]:
    args = list(FETCH)
    args[args.index(option) + 1] = value
    return args


# -- output paths: checked before the fetch -------------------------------------------------------


@pytest.mark.parametrize(
    ("output", "reason"),
    [
        ("/proc/nope/x.parquet", "No such file or directory"),
        ("{tmp}/a-file/x.parquet", "Not a directory"),
        ("{tmp}/a-dir.parquet", "it is a directory"),
    ],
)
def test_an_output_that_cannot_be_written_fails_before_any_request(
    fake: FakeVidiCenter,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    output: str,
    reason: str,
) -> None:
    (tmp_path / "a-file").write_text("")
    (tmp_path / "a-dir.parquet").mkdir()
    output = output.format(tmp=tmp_path)
    assert main([*FETCH, "-o", output]) == 2
    message = one_line_error(capsys)
    assert message.startswith(f"cannot write to {output} (--output): {reason}")
    assert message.endswith("choose a place you can write to")
    assert fake.requests == []


def test_a_sync_root_that_cannot_be_written_is_one_line(
    fake: FakeVidiCenter, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "lake.toml"
    config.write_text(
        'root = "/proc/lake"\nfirst_day = 2025-01-01\n\n'
        '[[export]]\ndata_type = "ots"\ntime_resolution = "1h"\nlocations = [4636]\n'
    )
    assert main(["sync", str(config), "--today", "2025-01-03", "--no-progress"]) == 2
    message = one_line_error(capsys, "sync")
    assert message.startswith(f"cannot write to /proc/lake (root in {config}): ")
    assert fake.requests == []


def test_a_disk_error_while_writing_is_one_line(
    fake: FakeVidiCenter,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    target = tmp_path / "out.parquet"

    def disk_full(df: pl.DataFrame, path: Path) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    real_write = vidiframe._cli._write_parquet_atomically
    monkeypatch.setattr(vidiframe._cli, "_write_parquet_atomically", disk_full)
    assert main([*FETCH, "-o", str(target)]) == 1
    assert one_line_error(capsys) == (
        f"cannot write {target}: No space left on device; "
        "the export is cached: run the same command with another --output"
    )
    calls = len(fake.requests)
    monkeypatch.setattr(vidiframe._cli, "_write_parquet_atomically", real_write)
    assert main([*FETCH, "-o", str(target)]) == 0  # as promised: from the cache
    assert len(fake.requests) == calls
    assert pl.read_parquet(target).height == 24


# -- the command line's own terms ---------------------------------------------------------------


def test_missing_credentials_speak_of_options_and_variables(
    fake: FakeVidiCenter, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("VIDICENTER_TOKEN")
    assert main(FETCH) == 2
    message = one_line_error(capsys)
    assert message.startswith("no VidiCenter token found: give --username")
    assert "set VIDICENTER_TOKEN" in message
    assert "~/.netrc" in message
    assert "=" not in message
    assert fake.requests == []


def test_credentials_in_the_url_speak_of_options(
    fake: FakeVidiCenter, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["whoami", "--base-url", "https://u:secret@vidicenter.quividi.com"]) == 2
    message = one_line_error(capsys, "whoami")
    assert message.startswith("--base-url must not contain credentials: give --username")
    assert "secret" not in message
    assert "username=" not in message


def test_library_parameters_become_options(
    fake: FakeVidiCenter, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(with_option("--data-type", "extrapolated_ots")) == 2
    message = one_line_error(capsys)
    assert message.startswith("--data-type 'extrapolated_ots' needs --extrapolation-amount")
    assert "extrapolation_amount" not in message


# -- did you mean ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value", "hint"),
    [
        ("--data-type", "vewers", "(did you mean 'viewers'?)"),
        ("--data-type", "proof-of-play-by-site", "(did you mean 'proof_of_play_by_site'?)"),
        ("--time-resolution", "60m", "(did you mean '1h'? the API writes 60 minutes as '1h')"),
        ("--time-resolution", "24h", "(did you mean '1d'? the API writes 24 hours as '1d')"),
        ("--time-resolution", "1w", "(did you mean '7d'? the API writes 1 week as '7d')"),
        ("--time-resolution", "hourly", "(did you mean '1h'?)"),
        ("--time-resolution", "finets", "(did you mean 'finest'?)"),
    ],
)
def test_a_typo_in_a_closed_set_gets_a_suggestion(
    fake: FakeVidiCenter, capsys: pytest.CaptureFixture[str], option: str, value: str, hint: str
) -> None:
    assert main(with_option(option, value)) == 2
    message = one_line_error(capsys)
    assert message.startswith(f"unknown {option} {value!r} {hint}; expected one of ")
    assert fake.requests == []


def test_argparse_choices_get_a_suggestion_on_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([*FETCH, "--placeholders", "dorp"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err == (
        "vidiframe fetch: error: argument --placeholders: invalid choice: 'dorp' "
        "(did you mean 'drop'?); choose from keep, drop (see vidiframe fetch --help)\n"
    )
    with pytest.raises(SystemExit):
        main(["fecth"])
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "invalid choice: 'fecth' (did you mean 'fetch'?)" in err


def test_a_missing_argument_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["fetch", "--data-type", "ots"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("vidiframe fetch: error: the following arguments are required: ")
    assert err.endswith(" (see vidiframe fetch --help)\n")
    assert err.count("\n") == 1


def test_a_partition_column_typo_gets_a_suggestion(tmp_path: Path) -> None:
    df = pl.DataFrame({"period_start_date": [None], "location_id": [1], "ots_count": [2]})
    with pytest.raises(vf.DatasetError, match=r"did you mean 'period_start_date'\?"):
        vf.write_partitions(df, tmp_path / "lake", partition_by="period_start_dat")


def test_a_config_key_typo_gets_a_suggestion_on_one_line(
    fake: FakeVidiCenter, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "lake.toml"
    config.write_text('root = "lake"\nfirst_day = 2025-01-01\ntrailing_day = 2\n')
    assert main(["sync", str(config), "--no-progress"]) == 2
    assert "unknown key 'trailing_day' (did you mean 'trailing_days'?)" in one_line_error(
        capsys, "sync"
    )


# -- dates ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("2025-02-30", "is not a day of the calendar: February 2025 has 28 days"),
        ("2024-02-30", "is not a day of the calendar: February 2024 has 29 days"),
        ("2025-04-31", "is not a day of the calendar: April 2025 has 30 days"),
        ("2025-13-01", "is not a day of the calendar: there are 12 months"),
        ("2025-03-01T24:00:00", "is not a time of day: hours go from 00 to 23"),
        ("yesterday", "is not an ISO date or datetime (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS)"),
    ],
)
def test_calendar_errors_are_named_as_such(
    fake: FakeVidiCenter, capsys: pytest.CaptureFixture[str], value: str, problem: str
) -> None:
    assert main(with_option("--end", value)) == 2
    assert one_line_error(capsys) == f"--end {value!r} {problem}"


def test_sync_today_calendar_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["sync", "lake.toml", "--today", "2025-02-29"])
    err = capsys.readouterr().err
    assert "'2025-02-29' is not a day of the calendar: February 2025 has 28 days" in err
    assert err.count("\n") == 1


# -- no tracebacks, unless -v ------------------------------------------------------------------


def test_an_unexpected_error_is_one_line_and_asks_for_a_report(
    fake: FakeVidiCenter, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(**_: object) -> pl.DataFrame:
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(vidiframe._fetch, "read_online", broken)
    assert main(FETCH) == 1
    assert one_line_error(capsys) == (
        "unexpected RuntimeError: boom second line (this is a bug in vidiframe: please "
        "report it with the output of the same command run with -v)"
    )
    assert main(["-v", *FETCH]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):")
    assert 'raise RuntimeError("boom' in err
    assert err.endswith("run with -v)\n")


def test_verbose_shows_the_traceback_of_a_vidiframe_error(
    fake: FakeVidiCenter, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["-v", *with_option("--data-type", "vewers")]) == 2
    err = capsys.readouterr().err
    assert "Traceback (most recent call last):" in err
    assert "InvalidRequestError" in err
    assert err.splitlines()[-1].startswith("vidiframe fetch: error: unknown --data-type")


# -- warnings -------------------------------------------------------------------------------------


def test_a_cache_that_cannot_be_written_is_one_warning_line_and_the_data_arrives(
    fake: FakeVidiCenter, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "ots.parquet"
    assert main([*FETCH, "--cache-dir", "/proc/vidiframe-cache", "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.err.startswith(
        "vidiframe fetch: warning: could not write to the response cache /proc/vidiframe-cache: "
    )
    assert captured.err.count("\n") == 1
    assert pl.read_parquet(out).height == 24


# -- the other commands ---------------------------------------------------------------------------


def test_a_bad_demo_month_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["demo", "--month", "2025-13"])
    assert info.value.code == 2
    assert capsys.readouterr().err == (
        "vidiframe demo: error: argument --month: '2025-13' is not a month (YYYY-MM) "
        "(see vidiframe demo --help)\n"
    )


def test_serve_fake_on_a_taken_port_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve-fake", "--port", str(port)]) == 2
    assert one_line_error(capsys, "serve-fake") == (
        f"cannot listen on 127.0.0.1:{port}: Address already in use; "
        "choose another --port (0 picks a free one)"
    )
    with pytest.raises(SystemExit):
        main(["serve-fake", "--port", "99999"])
    assert "'99999' is not a port (0 to 65535" in capsys.readouterr().err


def test_an_os_error_without_a_file_is_its_reason(
    fake: FakeVidiCenter, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refused(**_: object) -> pl.DataFrame:
        raise ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")

    monkeypatch.setattr(vidiframe._fetch, "read_online", refused)
    assert main(FETCH) == 1
    assert one_line_error(capsys) == "Connection refused"


def test_a_readable_netrc_is_one_warning_line_once(
    fake: FakeVidiCenter,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1 login demo password {TOKEN}\n")
    netrc.chmod(0o644)
    monkeypatch.setenv("NETRC", str(netrc))
    monkeypatch.delenv("VIDICENTER_USERNAME")
    monkeypatch.delenv("VIDICENTER_TOKEN")
    assert main(["whoami"]) == 0
    captured = capsys.readouterr()
    assert captured.out == f"demo at {fake.url}\n"
    assert captured.err == (
        f"vidiframe whoami: warning: {netrc} holds a VidiCenter token and other users of this "
        f"machine may read it (mode 0644): run chmod 600 {netrc}\n"
    )
    assert TOKEN not in captured.err
