"""The response cache: atomic, checksummed, expiring, keyed without the token."""

from __future__ import annotations

import datetime as dt
import errno
import os
import re
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import platformdirs
import pytest
from polars.testing import assert_frame_equal

import vidiframe as vf
from vidiframe import VidiFrameWarning
from vidiframe._cache import ResponseCache, default_cache_dir, entry_key
from vidiframe.testing import FakeVidiCenter, ManualClock

KEY = "ab" * 32
BODY = b'{"state": "finished", "data": [{"location_id": 1}], "creation_date": "2025-01-01"}'


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_round_trip_and_miss(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "c", clock=Clock())
    assert cache.get(KEY) is None
    cache.put(KEY, BODY)
    assert cache.get(KEY) == BODY
    assert cache.get("cd" * 32) is None
    assert [p.name for p in (tmp_path / "c").iterdir()] == [f"{KEY}.vfc"]


def test_entries_expire_after_the_ttl(tmp_path: Path) -> None:
    clock = Clock()
    cache = ResponseCache(tmp_path, clock=clock)  # default: 24 h like the server
    cache.put(KEY, BODY)
    clock.now += 24 * 3600
    assert cache.get(KEY) == BODY
    clock.now += 1
    assert cache.get(KEY) is None


def test_put_replaces_the_entry(tmp_path: Path) -> None:
    clock = Clock()
    cache = ResponseCache(tmp_path, ttl=100, clock=clock)
    cache.put(KEY, b"old")
    clock.now += 90
    cache.put(KEY, b"new")
    clock.now += 90
    # Fresh again: the rewrite restarted its lifetime.
    assert cache.get(KEY) == b"new"


@pytest.mark.parametrize(
    "damage",
    [
        lambda raw: raw[: len(raw) // 2],  # torn: the body is cut
        lambda raw: raw[:20],  # torn inside the header
        lambda raw: raw.replace(b"location_id", b"location_iD"),  # same length, flipped bits
        lambda raw: raw + b"trailing",
        lambda raw: b"",
        lambda raw: b"garbage without header",
    ],
)
def test_damaged_entries_read_as_misses(tmp_path: Path, damage: object) -> None:
    cache = ResponseCache(tmp_path, clock=Clock())
    cache.put(KEY, BODY)
    path = cache.path(KEY)
    path.write_bytes(damage(path.read_bytes()))  # type: ignore[operator]
    assert cache.get(KEY) is None


def test_temporary_files_are_ignored_and_cleared(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path, clock=Clock())
    (tmp_path / f".{KEY}.x1y2.tmp").write_bytes(BODY[:10])
    assert cache.get(KEY) is None
    cache.put(KEY, BODY)
    assert cache.get(KEY) == BODY
    assert cache.clear() == 2
    assert list(tmp_path.iterdir()) == []


def test_stale_temporaries_of_killed_writers_are_swept(tmp_path: Path) -> None:
    stale = tmp_path / f".{KEY}.old.tmp"
    stale.write_bytes(b"partial")
    os.utime(stale, (0, 0))
    fresh = tmp_path / f".{KEY}.new.tmp"  # may belong to a live writer: kept
    fresh.write_bytes(b"partial")
    ResponseCache(tmp_path, clock=Clock()).put(KEY, BODY)
    assert not stale.exists()
    assert fresh.exists()


def test_a_failed_write_leaves_no_temporary_and_the_old_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = ResponseCache(tmp_path, clock=Clock())
    cache.put(KEY, b"old")

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        cache.put(KEY, b"new")
    monkeypatch.undo()
    assert cache.get(KEY) == b"old"
    assert [p.name for p in tmp_path.iterdir()] == [f"{KEY}.vfc"]


def test_a_process_killed_while_writing_leaves_a_readable_cache(tmp_path: Path) -> None:
    # A child writes a large entry and is SIGKILLed half way through; whatever it
    # left, the entry reads back as the previous body or as a miss, never wrong.
    cache = ResponseCache(tmp_path)
    cache.put(KEY, b"previous")
    script = textwrap.dedent(
        f"""
        import os, sys
        from vidiframe._cache import ResponseCache
        cache = ResponseCache({str(tmp_path)!r})
        real_fsync = os.fsync
        def fsync_then_wait(fd):
            sys.stdout.write("writing\\n"); sys.stdout.flush()
            sys.stdin.readline()  # blocks until killed
        os.fsync = fsync_then_wait
        cache.put({KEY!r}, b"x" * 5_000_000)
        """
    )
    with subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    ) as child:
        assert child.stdout is not None
        assert child.stdout.readline() == b"writing\n"
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    assert cache.get(KEY) == b"previous"
    leftovers = sorted(p.name for p in tmp_path.iterdir())
    assert leftovers[-1] == f"{KEY}.vfc"
    assert all(name.startswith(f".{KEY}.") and name.endswith(".tmp") for name in leftovers[:-1])


def test_keys_must_be_hashes(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    with pytest.raises(ValueError, match="64 hex digits"):
        cache.get("../../etc/passwd")


def test_entry_key_involves_server_and_user_but_no_token() -> None:
    a = entry_key("q", base_url="https://vidicenter.quividi.com", username="demo")
    assert a == entry_key("q", base_url="https://vidicenter.quividi.com", username="demo")
    assert a != entry_key("q", base_url="https://vidicenter.quividi.com", username="other")
    assert a != entry_key("q2", base_url="https://vidicenter.quividi.com", username="demo")


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VIDIFRAME_CACHE_DIR", str(tmp_path / "explicit"))
    assert default_cache_dir() == tmp_path / "explicit"
    monkeypatch.delenv("VIDIFRAME_CACHE_DIR")
    # The platform's convention, through platformdirs (XDG on Linux).
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == Path(platformdirs.user_cache_dir("vidiframe", appauthor=False))
    if sys.platform.startswith("linux"):
        assert default_cache_dir() == tmp_path / "xdg" / "vidiframe"


def test_the_cache_directory_is_private(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "a" / "cache", clock=Clock())
    cache.put(KEY, BODY)
    assert stat.S_IMODE((tmp_path / "a" / "cache").stat().st_mode) == 0o700
    assert stat.S_IMODE(cache.path(KEY).stat().st_mode) == 0o600


@pytest.mark.parametrize(
    "error",
    [
        OSError(errno.ENOSPC, "No space left on device"),
        OSError(errno.EROFS, "Read-only file system"),
    ],
)
def test_a_failed_write_is_a_warning_naming_the_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: OSError
) -> None:
    cache = ResponseCache(tmp_path / "c", clock=Clock())
    cache.put(KEY, b"old")

    def failing(fd: int) -> None:
        raise error

    monkeypatch.setattr(os, "fsync", failing)
    with pytest.warns(VidiFrameWarning, match=re.escape(f"{tmp_path / 'c'}: {error.strerror}")):
        cache.put(KEY, BODY)
    monkeypatch.undo()
    assert cache.get(KEY) == b"old"
    assert [p.name for p in (tmp_path / "c").iterdir()] == [f"{KEY}.vfc"]


def test_a_cache_directory_that_cannot_exist_is_a_warning(tmp_path: Path) -> None:
    # Real failures, even for root: a path under a file, and /proc.
    (tmp_path / "file").write_text("")
    for directory in (tmp_path / "file" / "cache", Path("/proc/vidiframe-cache")):
        with pytest.warns(VidiFrameWarning, match=re.escape(f"response cache {directory}: ")):
            ResponseCache(directory).put(KEY, BODY)


def test_a_read_keeps_its_frame_when_the_cache_cannot_be_written(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    clock = ManualClock()
    with FakeVidiCenter(clock=clock, serve=False) as fake:
        client = vf.VidiCenterClient(
            "demo",
            "demo-token",
            fake.url,
            transport=fake.transport(),
            clock=clock,
            sleep=clock.sleep,
            cache_dir=tmp_path / "file" / "cache",
        )
        with pytest.warns(VidiFrameWarning, match="could not write to the response cache"):
            df = vf.read_vidicenter(
                data_type="ots",
                time_resolution="1h",
                start="2025-01-01",
                end="2025-01-01",
                locations=[4636],
                client=client,
                progress=False,
            )
        body = fake.response_body(
            "ots", "1h", start="2025-01-01T00:00:00", end="2025-01-01T23:59:59", locations=[4636]
        )
    assert_frame_equal(df, vf.read_vidicenter(body, data_type="ots", time_resolution="1h"))
    assert df.height == 24


def test_info_counts_entries_size_and_ages(tmp_path: Path) -> None:
    clock = Clock(1_700_000_000.0)
    cache = ResponseCache(tmp_path, ttl=3600, clock=clock)
    empty = cache.info()
    assert (empty.entries, empty.expired, empty.size, empty.oldest, empty.newest) == (
        0,
        0,
        0,
        None,
        None,
    )
    cache.put(KEY, BODY)
    clock.now += 7200
    cache.put("cd" * 32, b"{}")
    (tmp_path / "not-ours.txt").write_text("left alone")
    info = cache.info()
    assert info.directory == tmp_path
    assert (info.entries, info.expired) == (2, 1)
    assert info.size == cache.path(KEY).stat().st_size + cache.path("cd" * 32).stat().st_size
    assert info.oldest == dt.datetime.fromtimestamp(1_700_000_000.0)
    assert info.newest == dt.datetime.fromtimestamp(1_700_007_200.0)
    assert cache.clear() == 2
    assert [p.name for p in tmp_path.iterdir()] == ["not-ours.txt"]
