"""The response cache: atomic, checksummed, expiring, keyed without the token."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from vidiframe._cache import ResponseCache, default_cache_dir, entry_key

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
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "vidiframe" / "responses"
