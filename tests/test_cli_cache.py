"""``vidiframe cache info`` and ``vidiframe cache clear``, and where the cache lives."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import platformdirs
import pytest

from vidiframe._cli import main
from vidiframe.testing import FakeVidiCenter

FETCH = ["fetch", "--data-type", "ots", "--time-resolution", "1h", "--locations", "4636"]
FETCH += ["--end", "2025-01-01", "--no-progress"]


@pytest.fixture
def fake(serve_fake: Callable[..., FakeVidiCenter]) -> FakeVidiCenter:
    return serve_fake(seed=2)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    return captured.out


def test_info_and_clear(
    fake: FakeVidiCenter, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = tmp_path / "cache"
    assert run(capsys, "cache", "info") == (
        f"cache directory: {cache} (set VIDIFRAME_CACHE_DIR to move it)\nno cached exports\n"
    )
    run(capsys, *FETCH, "--start", "2025-01-01")
    run(capsys, *FETCH, "--start", "2024-12-31")
    files = sorted(cache.glob("*.vfc"))
    assert len(files) == 2
    size = sum(f.stat().st_size for f in files)

    lines = run(capsys, "cache", "info").splitlines()
    assert lines[0] == f"cache directory: {cache} (set VIDIFRAME_CACHE_DIR to move it)"
    assert re.fullmatch(rf"2 cached export\(s\), {size / 1000:.1f} kB", lines[1])
    assert re.fullmatch(r"oldest: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d", lines[2])
    assert re.fullmatch(r"newest: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d", lines[3])
    assert lines[2] <= lines[3].replace("newest", "oldest")
    assert lines[4] == "vidiframe cache clear removes them"

    assert (
        run(capsys, "cache", "clear") == f"removed 2 file(s), {size / 1000:.1f} kB, from {cache}\n"
    )
    assert list(cache.glob("*.vfc")) == []
    assert run(capsys, "cache", "info").endswith("no cached exports\n")


def test_cache_dir_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "other"
    out = run(capsys, "cache", "info", "--cache-dir", str(other))
    assert out == f"cache directory: {other}\nno cached exports\n"
    assert not other.exists()  # looking creates nothing


def test_the_default_is_the_platform_user_cache_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("VIDIFRAME_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    where = platformdirs.user_cache_dir("vidiframe", appauthor=False)
    assert run(capsys, "cache", "info").startswith(f"cache directory: {where} ")


def test_an_unknown_action_is_suggested(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["cache", "clean"])
    err = capsys.readouterr().err
    assert "invalid choice: 'clean' (did you mean 'clear'?); choose from info, clear" in err
    assert err.count("\n") == 1
