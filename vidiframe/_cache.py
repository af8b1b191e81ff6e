"""An on-disk cache of finished export responses.

The server keeps a finished export about 24 hours; this cache keeps the response
as long, so re-running a read (after an interruption, in a notebook) costs no API
call. Entries are keyed by the canonical query plus the server and the username,
never by or with the token, and hold the response body only.

An entry is one file: a header line (format version, creation time, length and
CRC-32 of the body) then the body. It is written to a temporary file in the same
directory, flushed to disk, then renamed over the entry, so a reader sees the old
entry or the new one, never half of one. A file whose header does not match its
body (a torn write on a filesystem without atomic rename, a disk error) reads as
a miss.

The directory is created readable by its owner only (``0700``): responses are
the account's data. A write that fails (a full disk, a read-only directory) is a
warning naming the directory, never an error: the response was downloaded and
the caller gets its frame; only the next run has to fetch it again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import os
import re
import tempfile
import time
import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from vidiframe._errors import VidiFrameWarning

__all__ = ["DEFAULT_TTL", "CacheInfo", "ResponseCache", "default_cache_dir", "entry_key"]

#: How long an entry is reused: the server's cache of finished exports.
DEFAULT_TTL = 24 * 3600.0

_MAGIC = b"VIDIFRAME-CACHE/1"
_SUFFIX = ".vfc"
_TMP_SUFFIX = ".tmp"
_KEY = re.compile(r"^[0-9a-f]{64}$")
# Temporary files older than this were left by a killed writer.
_STALE_TMP_SECONDS = 3600.0

logger = logging.getLogger("vidiframe")


#: The environment variable that moves the cache.
ENV_CACHE_DIR = "VIDIFRAME_CACHE_DIR"


def default_cache_dir() -> Path:
    """Where responses are cached by default.

    ``$VIDIFRAME_CACHE_DIR`` if set, else the platform's user cache directory
    (:func:`platformdirs.user_cache_dir`): ``~/.cache/vidiframe`` on Linux (or
    under ``$XDG_CACHE_HOME``), ``~/Library/Caches/vidiframe`` on macOS,
    ``%LOCALAPPDATA%/vidiframe/Cache`` on Windows.
    """
    explicit = os.environ.get(ENV_CACHE_DIR)
    if explicit:
        return Path(explicit).expanduser()
    return Path(platformdirs.user_cache_dir("vidiframe", appauthor=False))


@dataclass(frozen=True)
class CacheInfo:
    """What a cache directory holds, for ``vidiframe cache info``.

    Attributes
    ----------
    directory
        The cache directory.
    entries
        How many responses it holds (expired ones included).
    expired
        How many of them are past their ``ttl`` (no longer reused).
    size
        Bytes used by the entries and by temporary files.
    oldest, newest
        When the oldest and newest entries were written (local time), or
        ``None`` for an empty cache.
    """

    directory: Path
    entries: int
    expired: int
    size: int
    oldest: dt.datetime | None
    newest: dt.datetime | None


def entry_key(query_key: str, *, base_url: str, username: str) -> str:
    """The cache key of a query on one server for one user.

    Two accounts may see different data for the same query, and the fake server
    must never answer for the real one, so both take part in the key. The token
    does not: it changes when rotated, the data does not.

    Examples
    --------
    >>> a = entry_key("q", base_url="https://vidicenter.quividi.com", username="demo")
    >>> b = entry_key("q", base_url="http://127.0.0.1:8000", username="demo")
    >>> a != b, len(a)
    (True, 64)
    """
    return hashlib.sha256(f"{base_url}\n{username}\n{query_key}".encode()).hexdigest()


class ResponseCache:
    """Finished responses on disk, by key, for ``ttl`` seconds.

    Parameters
    ----------
    directory
        Where the entries live (created on first write).
    ttl
        Seconds an entry is reused.
    clock
        Wall-clock time in seconds since the epoch.

    Examples
    --------
    >>> import tempfile
    >>> now = [1000.0]
    >>> cache = ResponseCache(tempfile.mkdtemp(), ttl=60, clock=lambda: now[0])
    >>> key = "0" * 64
    >>> cache.put(key, b'{"state": "finished", "data": []}')
    >>> cache.get(key)
    b'{"state": "finished", "data": []}'
    >>> now[0] += 61
    >>> cache.get(key) is None
    True
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.time,
    ):
        self.directory = Path(directory)
        self.ttl = ttl
        self._clock = clock
        self._swept = False

    def path(self, key: str) -> Path:
        """The file of entry ``key``."""
        if not _KEY.match(key):
            # Keys become file names: anything but a hash could escape the directory.
            raise ValueError(f"cache keys are 64 hex digits, got {key!r}")
        return self.directory / f"{key}{_SUFFIX}"

    def get(self, key: str) -> bytes | None:
        """The body stored under ``key``, or ``None`` if absent, expired or damaged."""
        path = self.path(key)
        try:
            with path.open("rb") as f:
                header = f.readline(256)
                body = f.read()
        except FileNotFoundError:
            return None
        except OSError as error:
            logger.warning("cache entry %s unreadable (%s): ignored", path.name, error.strerror)
            return None
        parsed = _parse_header(header)
        if parsed is None:
            logger.warning("cache entry %s has no valid header: ignored", path.name)
            return None
        created, length, crc = parsed
        if len(body) != length or zlib.crc32(body) != crc:
            logger.warning("cache entry %s is damaged (length or checksum): ignored", path.name)
            return None
        age = self._clock() - created
        if age > self.ttl:
            logger.debug("cache entry %s expired (%.0f s old)", path.name, age)
            return None
        return body

    def put(self, key: str, body: bytes) -> None:
        """Store ``body`` under ``key``, atomically replacing any previous entry.

        A write that fails for the disk's sake (full, read-only, not a directory)
        leaves the previous entry, if any, and issues a :class:`VidiFrameWarning`
        naming the directory instead of raising: the caller has its response.
        """
        path = self.path(key)
        try:
            self._write(key, path, body)
        except OSError as error:
            warnings.warn(
                f"could not write to the response cache {self.directory}: "
                f"{error.strerror or error}; the data is returned but will be fetched again "
                f"next time (set {ENV_CACHE_DIR} to a writable directory, or disable the cache)",
                VidiFrameWarning,
                stacklevel=2,
            )

    def _write(self, key: str, path: Path, body: bytes) -> None:
        # 0700: other users of the machine must not read the account's data. Only
        # the directory created here gets it; existing parents are left as they are.
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._sweep_stale_temporaries()
        header = b"%s %.6f %d %d\n" % (_MAGIC, self._clock(), len(body), zlib.crc32(body))
        # The leading dot and the suffix keep readers (which open <key>.vfc only) away.
        fd, tmp_name = tempfile.mkstemp(dir=self.directory, prefix=f".{key}.", suffix=_TMP_SUFFIX)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(header)
                f.write(body)
                f.flush()
                os.fsync(f.fileno())
            tmp.replace(path)
        except BaseException:
            # Also on KeyboardInterrupt: leave no temporary file behind.
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        _fsync_directory(self.directory)

    def info(self) -> CacheInfo:
        """Count the entries and their size, and find the oldest and newest.

        Examples
        --------
        >>> import tempfile
        >>> cache = ResponseCache(tempfile.mkdtemp(), ttl=60, clock=lambda: 1000.0)
        >>> cache.put("0" * 64, b"{}")
        >>> info = cache.info()
        >>> info.entries, info.expired, info.size > 2
        (1, 0, True)
        """
        entries = expired = size = 0
        created: list[float] = []
        now = self._clock()
        if self.directory.is_dir():
            for entry in self.directory.iterdir():
                if not entry.name.endswith((_SUFFIX, _TMP_SUFFIX)):
                    continue  # not ours: never counted, never removed
                with contextlib.suppress(OSError):
                    size += entry.stat().st_size
                    if entry.name.endswith(_TMP_SUFFIX):
                        continue
                    entries += 1
                    with entry.open("rb") as f:
                        parsed = _parse_header(f.readline(256))
                    # A damaged entry counts with its file time: it takes room all the same.
                    when = parsed[0] if parsed is not None else entry.stat().st_mtime
                    created.append(when)
                    expired += now - when > self.ttl
        return CacheInfo(
            directory=self.directory,
            entries=entries,
            expired=expired,
            size=size,
            oldest=dt.datetime.fromtimestamp(min(created)) if created else None,
            newest=dt.datetime.fromtimestamp(max(created)) if created else None,
        )

    def discard(self, key: str) -> None:
        """Remove the entry ``key`` if present."""
        with contextlib.suppress(FileNotFoundError):
            self.path(key).unlink()

    def clear(self) -> int:
        """Remove every entry and temporary file; return how many files were removed."""
        removed = 0
        if not self.directory.is_dir():
            return 0
        for entry in self.directory.iterdir():
            if entry.name.endswith((_SUFFIX, _TMP_SUFFIX)):
                with contextlib.suppress(FileNotFoundError):
                    entry.unlink()
                    removed += 1
        return removed

    def _sweep_stale_temporaries(self) -> None:
        if self._swept:
            return
        self._swept = True
        now = time.time()  # file times are real times, whatever the injected clock
        for entry in self.directory.glob(f".*{_TMP_SUFFIX}"):
            with contextlib.suppress(OSError):
                if now - entry.stat().st_mtime > _STALE_TMP_SECONDS:
                    entry.unlink()

    def __repr__(self) -> str:
        return f"ResponseCache({str(self.directory)!r}, ttl={self.ttl:g})"


def _parse_header(line: bytes) -> tuple[float, int, int] | None:
    parts = line.rstrip(b"\n").split(b" ")
    if len(parts) != 4 or parts[0] != _MAGIC or not line.endswith(b"\n"):
        return None
    try:
        return float(parts[1]), int(parts[2]), int(parts[3])
    except ValueError:
        return None


def _fsync_directory(directory: Path) -> None:
    # Makes the rename itself durable; not possible (nor needed) on Windows.
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
