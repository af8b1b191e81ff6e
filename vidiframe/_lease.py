"""One writer per dataset: ``flock`` on a local root, a lease object on object storage.

Local roots: an exclusive ``flock`` on the root directory, released by the
kernel when its holder dies. Writers of one call wait for each other; an
explicit :func:`dataset_lock` fails at once when another process holds it.

Object storage has no locks, but it has conditional PUTs. The lease is one
small JSON object *beside* the root (``<parent>/.<name>.vidiframe-lease``, so
no engine scanning the root ever lists it; inside the root, under the same
hidden name, when the root is a bucket) holding who holds it and until when:

- taking it is a PUT with ``If-None-Match: *`` (obstore ``mode="create"``):
  of two writers, exactly one creates it;
- a lease past its expiry (its holder died or lost the network) is taken over
  by a PUT conditional on the etag read (``If-Match``): of two writers taking
  over the same dead lease, exactly one succeeds;
- the holder renews it (the same conditional PUT) from a background thread
  every third of its duration, and deletes it when done: at once if it wrote
  it less than a third of its duration ago (it cannot have expired), else
  after reading it back to check that it is still its own. That age is the
  longer of a monotonic clock's and the wall clock's: a wall clock stepped
  back after a long stall, or a monotonic clock stopped while the machine
  slept, would alone make a lease that expired (and that another writer may
  have taken over) look young;
- a renewal that cannot reach the store leaves the lease valid until its
  expiry; an operation whose lease went a whole duration without a renewal
  fails at its end (another writer may have taken it over unseen);
- a conditional PUT refused ("exists", "precondition failed") is read back
  before it counts as another writer's: the store client retries a PUT whose
  answer was lost, and the retry of one that landed meets the writer's own
  lease (taken as such, not as a lock-out or a lost lease).

A writer that cannot take the lease gets a :class:`~vidiframe.DatasetError`
at once, saying who holds it and until when. Expiry compares the holder's
clock (written in the lease) with the reader's: clocks apart shorten or
lengthen the wait, and never let two writers in at once while they are less
than two thirds of the lease's duration (400 s) apart.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from vidiframe._errors import DatasetError, StorageFaultError
from vidiframe._optional import require
from vidiframe._storage import Location, ObjectStorage

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows has no flock; one writer is then up to the user
    fcntl = None  # type: ignore[assignment]

__all__ = ["LEASE_SECONDS", "dataset_lock", "hold", "lease_location"]

#: How long a lease stays valid without renewal: a dead holder blocks others this long.
LEASE_SECONDS = 600.0
#: The clock leases are written and judged with (seconds since the epoch); tests replace it.
clock: Callable[[], float] = time.time
#: With ``clock``, how long ago this process wrote its own lease; tests replace it.
monotonic: Callable[[], float] = time.monotonic

_SUFFIX = ".vidiframe-lease"
# Roots this process holds through dataset_lock: operations inside it do not lock again.
_explicit: dict[str, int] = {}
_explicit_guard = threading.Lock()


def _key(location: Location) -> str:
    if location.local is not None:
        return str(location.local.resolve())
    return location.url


def lease_location(location: Location) -> tuple[Location, str]:
    """Where the lease of a dataset lives: a store root and the object's path in it."""
    url = location.url
    scheme_end = url.index("://") + 3
    if "/" in url[scheme_end:]:
        parent, name = url.rsplit("/", 1)
        return Location(parent, location.cloud, None), f".{name}{_SUFFIX}"
    return location, _SUFFIX


@contextlib.contextmanager
def hold(location: Location, storage_options: Mapping[str, str]) -> Iterator[None]:
    """Hold the dataset's lock for one operation, unless this process holds it already.

    Locally, waits for another writer to finish; on object storage, fails at
    once (a lease cannot be waited on without polling).
    """
    with _explicit_guard:
        held = _key(location) in _explicit
    if held:
        yield
        return
    with _acquire(location, storage_options, wait=True):
        yield


@contextlib.contextmanager
def dataset_lock(location: Location, storage_options: Mapping[str, str]) -> Iterator[None]:
    """Hold the dataset's lock until the block ends; re-entrant within this process."""
    key = _key(location)
    with _explicit_guard:
        if key in _explicit:
            _explicit[key] += 1
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            with _explicit_guard:
                _explicit[key] -= 1
        return
    with _acquire(location, storage_options, wait=False):
        with _explicit_guard:
            _explicit[key] = 1
        try:
            yield
        finally:
            with _explicit_guard:
                del _explicit[key]


@contextlib.contextmanager
def _acquire(
    location: Location, storage_options: Mapping[str, str], *, wait: bool
) -> Iterator[None]:
    if location.local is not None:
        with _flock(location.local, wait=wait):
            yield
        return
    lease = _Lease(location, storage_options)
    lease.take()
    try:
        yield
        lease.check()
    finally:
        lease.release()


@contextlib.contextmanager
def _flock(root: Path, *, wait: bool) -> Iterator[None]:
    """An exclusive ``flock`` on the root directory (created if missing)."""
    if fcntl is None:  # pragma: no cover - Windows
        yield
        return
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd = os.open(root, os.O_RDONLY)
    except OSError as exc:
        raise DatasetError(
            f"cannot open the dataset directory {root}: {exc.strerror}; "
            "check the path and its permissions"
        ) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DatasetError(
                f"another process is writing to the dataset at {root}; "
                "let it finish, then run again"
            ) from None
        yield
    finally:
        os.close(fd)


class _Lease:
    """The lease object of one dataset on object storage, held by this process."""

    def __init__(self, location: Location, storage_options: Mapping[str, str]) -> None:
        where, self._path = lease_location(location)
        self._dataset = location
        self._storage = ObjectStorage(where, storage_options)
        self.url = where.join(self._path)
        self._holder = uuid.uuid4().hex
        self._etag: str | None = None
        # When this process last wrote the lease (by ``monotonic`` and ``clock``), if it did.
        self._written_at: tuple[float, float] | None = None
        # The expiry in the body last sent, and when it was built: before its PUT
        # was sent, so an age measured from it is never too short.
        self._expires = 0.0
        self._sent_at = (0.0, 0.0)
        self._lost: str | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._renewer: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"_Lease({self.url!r})"

    def _body(self) -> bytes:
        self._sent_at = (monotonic(), clock())
        self._expires = self._sent_at[1] + LEASE_SECONDS
        return json.dumps(
            {
                "holder": self._holder,
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "expires_at": self._expires,
            },
            sort_keys=True,
        ).encode()

    def take(self) -> None:
        """Create the lease, or take over an expired one; :class:`DatasetError` if held."""
        obstore_exc = require("obstore.exceptions", extra="lake")
        for _ in range(3):
            try:
                self._etag = self._storage.put(self._path, self._body(), mode="create")["e_tag"]
                self._written_at = self._sent_at
                break
            except obstore_exc.AlreadyExistsError:
                pass
            try:
                data, etag = self._storage.get_with_etag(self._path)
            except FileNotFoundError:
                continue  # released between our two requests: create it again
            holder = _parse(data)
            if holder is not None and holder.holder == self._holder:
                # Our own create, retried by the store client after its answer was
                # lost: the retry found the first attempt's object.
                self._adopt(holder, etag)
                break
            if holder is not None and holder.expires_at > clock():
                until = dt.datetime.fromtimestamp(holder.expires_at, dt.timezone.utc)
                raise DatasetError(
                    f"another vidiframe writer is writing to the dataset at {self._dataset} "
                    f"(process {holder.pid} on {holder.host} holds the lease {self.url} "
                    f"until {until:%Y-%m-%d %H:%M:%S} UTC); let it finish, then run again. "
                    "A writer that died releases it when it expires"
                )
            try:
                self._etag = self._storage.put(self._path, self._body(), mode={"e_tag": etag})[
                    "e_tag"
                ]
                self._written_at = self._sent_at
                break
            except (obstore_exc.PreconditionError, obstore_exc.AlreadyExistsError):
                raise DatasetError(
                    f"another vidiframe writer took over the expired lease {self.url} of the "
                    f"dataset at {self._dataset} just now; let it finish, then run again"
                ) from None
        else:
            raise DatasetError(
                f"could not take the lease {self.url} of the dataset at {self._dataset}: "
                "it kept appearing and disappearing; run again"
            )
        self._renewer = threading.Thread(
            target=self._renew_loop, name=f"vidiframe-lease {self.url}", daemon=True
        )
        self._renewer.start()

    def _renew_loop(self) -> None:
        while not self._stop.wait(LEASE_SECONDS / 3):
            self.renew()

    def renew(self) -> None:
        """Push the expiry forward, if the lease is still ours."""
        obstore_exc = require("obstore.exceptions", extra="lake")
        with self._lock:
            if self._lost is not None or self._etag is None:
                return
            try:
                self._etag = self._storage.put(
                    self._path, self._body(), mode={"e_tag": self._etag}
                )["e_tag"]
                self._written_at = self._sent_at
            except (obstore_exc.PreconditionError, obstore_exc.AlreadyExistsError):
                self._reclaim()
            except StorageFaultError:
                pass  # A network blip: the lease stays valid until its expiry; try again later.
            except DatasetError as error:
                # Not a failed request: whether the lease is still ours is unknown,
                # so the write fails at check() rather than commit on a doubt.
                self._lost = str(error)

    def _adopt(self, holder: _Holder, etag: str | None) -> None:
        """Take the lease read back, found to be ours, as the one we hold."""
        self._etag = etag
        # The body last sent landed: it was written no earlier than it was built.
        # An older body of ours (the expiry differs) was written at an unknown time:
        # then the age is unknown, and release() reads the lease back before deleting.
        self._written_at = self._sent_at if holder.expires_at == self._expires else None

    def _reclaim(self) -> None:
        """After a renewal refused on its etag: still ours, or lost to a takeover.

        The store client retries a PUT whose answer was lost; when the first
        attempt landed, the retry's ``If-Match`` meets our own new etag.
        """
        try:
            data, etag = self._storage.get_with_etag(self._path)
        except FileNotFoundError:
            self._lost = "it was deleted while held"
            return
        except DatasetError:
            return  # unreachable now: the next renewal asks again
        holder = _parse(data)
        if holder is not None and holder.holder == self._holder:
            self._adopt(holder, etag)
        else:
            self._lost = "another writer took it over after it expired"

    @staticmethod
    def _age(written: tuple[float, float]) -> float:
        """Seconds since ``written``: the longer of the monotonic and the wall clock's.

        Each clock alone can make an old lease look young: the wall clock when
        it is stepped back, the monotonic clock while the machine sleeps. A
        wall clock stepped forward only makes it look older, as other writers
        then judge it too: a GET more at release, or a write refused at its end.
        """
        return max(monotonic() - written[0], clock() - written[1])

    def check(self) -> None:
        """Raise :class:`DatasetError` if the lease was lost while held, or has expired.

        Renewals that fail (the store unreachable) keep the lease until its
        expiry; past it, another writer may have taken it over unseen, so the
        write cannot count as the only one.
        """
        with self._lock:
            lost = self._lost
            if (
                lost is None
                and self._written_at is not None
                and self._age(self._written_at) >= LEASE_SECONDS
            ):
                lost = "it expired: it was not renewed for its whole duration"
        if lost is not None:
            raise DatasetError(
                f"the lease {self.url} of the dataset at {self._dataset} was lost while "
                f"writing ({lost}); run again"
            )

    def release(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
        with self._lock:
            if self._lost is not None:
                return
            written = self._written_at
            if written is not None and self._age(written) < LEASE_SECONDS / 3:
                # Written by us less than a third of its duration ago, it has not
                # expired: no one can have taken it over (unless their clock is
                # minutes ahead, see the module docstring). One DELETE, no GET.
                with contextlib.suppress(DatasetError):
                    self._storage.delete(self._path)
                return
            try:
                data = self._storage.get(self._path)
            except (FileNotFoundError, DatasetError):
                return  # gone, or unreachable: it expires by itself
            holder = _parse(data)
            if holder is not None and holder.holder == self._holder:
                with contextlib.suppress(DatasetError):
                    self._storage.delete(self._path)


@dataclass(frozen=True)
class _Holder:
    holder: str
    host: str
    pid: int
    expires_at: float


def _parse(data: bytes) -> _Holder | None:
    """The lease's content; ``None`` (taken as expired) for an unreadable one."""
    try:
        raw = json.loads(data)
        return _Holder(
            str(raw["holder"]), str(raw["host"]), int(raw["pid"]), float(raw["expires_at"])
        )
    except (ValueError, KeyError, TypeError):
        return None
