"""Where the call budget keeps its books: in memory, or in a file every process shares.

The server allows 50 calls a minute *per user*, whatever process makes them. A
:class:`~vidiframe.CallBudget` books each call in a :class:`Ledger`; with a
:class:`FileLedgers` every process of the same user on the machine books in the
same small JSON file, under a lock (:mod:`filelock`), so two scripts (or a
notebook and a ``vidiframe sync``) share the 50 calls instead of each spending
50 and both meeting 429s.

The file holds, per account (a hash of server URL and username: two accounts
have two budgets), the booked call times and the time until which the server
asked everyone to wait (a 429's ``Retry-After``). Times are wall-clock seconds,
the only clock processes share. A damaged file is started afresh; a file that
cannot be written (read-only home, full disk) degrades to an in-process budget
with one warning in the log: the budget protects the account, it never stops
a read.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

import orjson

__all__ = [
    "FileLedgers",
    "Ledger",
    "Ledgers",
    "MemoryLedgers",
    "account_key",
    "default_state_file",
]

logger = logging.getLogger("vidiframe")

T = TypeVar("T")

# How long a process waits for another to release the file before booking alone.
_LOCK_TIMEOUT = 10.0
_FORMAT = 1


@dataclass
class Ledger:
    """The books of one account: booked call times, and a pause the server asked for."""

    slots: list[float] = field(default_factory=list)
    paused_until: float = 0.0

    def prune(self, before: float) -> None:
        """Forget calls booked before ``before`` (outside every future window)."""
        self.slots = sorted(s for s in self.slots if s > before)


class Ledgers(Protocol):
    """Runs ``update`` on the ledger of the budget's account, atomically."""

    def update(self, update: Callable[[Ledger], T], *, write: bool = True) -> T:
        """Apply ``update`` to the ledger and keep what it changed; return its result.

        ``write=False`` for a look that changes nothing (no file is rewritten).
        """
        ...


class MemoryLedgers:
    """A ledger in this process only (what a budget with an injected clock uses)."""

    def __init__(self) -> None:
        self._ledger = Ledger()
        self._lock = threading.Lock()

    def update(self, update: Callable[[Ledger], T], *, write: bool = True) -> T:  # noqa: ARG002
        """Apply ``update`` under the lock."""
        with self._lock:
            return update(self._ledger)

    def __repr__(self) -> str:
        return "MemoryLedgers()"


class FileLedgers:
    """Ledgers in a JSON file shared by every process that names the same path.

    Parameters
    ----------
    path
        The state file (created, with its directory, on first use; ``0600``).
    account
        Whose ledger this is (see :func:`account_key`).
    window
        Seconds after which a booked call no longer matters: older ones, and
        accounts with nothing left, are dropped from the file.
    clock
        Wall-clock seconds (the only clock shared between processes).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        account: str,
        window: float,
        clock: Callable[[], float],
    ) -> None:
        self.path = Path(path)
        self.account = account
        self.window = window
        self._clock = clock
        self._threads = threading.Lock()
        self._fallback: MemoryLedgers | None = None

    def update(self, update: Callable[[Ledger], T], *, write: bool = True) -> T:
        """Lock the file, read the ledger, apply ``update``, write the file back."""
        with self._threads:
            if self._fallback is not None:
                return self._fallback.update(update)
            try:
                return self._update_file(update, write=write)
            except (OSError, TimeoutError) as error:
                # filelock's Timeout is a TimeoutError; both mean "no shared books".
                logger.warning(
                    "call budget: cannot use %s (%s); counting calls in this process only",
                    self.path,
                    getattr(error, "strerror", None) or type(error).__name__,
                )
                self._fallback = MemoryLedgers()
                return self._fallback.update(update)

    def _update_file(self, update: Callable[[Ledger], T], *, write: bool) -> T:
        import filelock

        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        lock = filelock.FileLock(f"{self.path}.lock", timeout=_LOCK_TIMEOUT, mode=0o600)
        with lock:
            books = self._read()
            now = self._clock()
            ledger = _ledger_of(books.get(self.account, {}))
            ledger.prune(now - self.window)
            result = update(ledger)
            if not write:
                return result
            books[self.account] = {"slots": ledger.slots, "paused_until": ledger.paused_until}
            self._write(_without_stale(books, now - self.window, now))
        return result

    def _read(self) -> dict[str, Any]:
        try:
            document = orjson.loads(self.path.read_bytes())
        except FileNotFoundError:
            return {}
        except orjson.JSONDecodeError:
            logger.warning("call budget: %s is damaged; starting it afresh", self.path)
            return {}
        if not isinstance(document, dict) or document.get("format") != _FORMAT:
            return {}
        accounts = document.get("accounts")
        return (
            {k: v for k, v in accounts.items() if isinstance(v, dict)}
            if isinstance(accounts, dict)
            else {}
        )

    def _write(self, books: dict[str, Any]) -> None:
        payload = orjson.dumps({"format": _FORMAT, "accounts": books})
        # Replaced atomically: a process killed mid-write leaves the previous books.
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(payload)
            Path(tmp).replace(self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                Path(tmp).unlink()
            raise

    def __repr__(self) -> str:
        return f"FileLedgers({str(self.path)!r})"


def _ledger_of(entry: dict[str, Any]) -> Ledger:
    """The ledger an entry of the file describes; a damaged entry is an empty ledger."""
    try:
        slots = [float(s) for s in entry.get("slots", [])]
        paused_until = float(entry.get("paused_until", 0.0))
    except (TypeError, ValueError):
        logger.warning("call budget: a damaged entry of the state file is started afresh")
        return Ledger()
    return Ledger(slots=slots, paused_until=paused_until)


def _without_stale(books: dict[str, Any], before: float, now: float) -> dict[str, Any]:
    def alive(entry: dict[str, Any]) -> bool:
        ledger = _ledger_of(entry)
        return any(s > before for s in ledger.slots) or ledger.paused_until > now

    return {account: entry for account, entry in books.items() if alive(entry)}


def account_key(base_url: str, username: str) -> str:
    """The ledger name of one account on one server (a hash: the file names nobody).

    Examples
    --------
    >>> account_key("https://vidicenter.quividi.com", "demo") == account_key(
    ...     "https://vidicenter.quividi.com", "demo")
    True
    >>> account_key("http://127.0.0.1:8000", "demo") != account_key("http://127.0.0.1:8001", "demo")
    True
    """
    return hashlib.sha256(f"{base_url}\0{username}".encode()).hexdigest()[:24]


def default_state_file() -> Path:
    """The budget file of this user on this machine.

    ``$VIDIFRAME_STATE_DIR/calls.json``, else ``calls.json`` in the platform's
    per-user state directory (``~/.local/state/vidiframe`` on Linux).
    """
    explicit = os.environ.get("VIDIFRAME_STATE_DIR")
    if explicit:
        return Path(explicit).expanduser() / "calls.json"
    import platformdirs

    return Path(platformdirs.user_state_dir("vidiframe", appauthor=False)) / "calls.json"
