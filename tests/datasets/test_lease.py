"""The lease object on S3: created once, renewed by its holder, lost to a takeover after expiry."""

from __future__ import annotations

import json

import pytest

import vidiframe as vf
from vidiframe import _lease
from vidiframe._errors import StorageFaultError
from vidiframe._storage import ObjectStorage, parse_root


def lease_body(s3, bucket: str) -> dict:
    body = s3.client().get_object(Bucket=bucket, Key="lake/.ds.vidiframe-lease")["Body"].read()
    return json.loads(body)


def clocks(monkeypatch: pytest.MonkeyPatch, start: float) -> tuple[list[float], list[float]]:
    """The lease's wall clock and monotonic clock, each a one-item list the test moves."""
    now, ticks = [start], [0.0]
    monkeypatch.setattr(_lease, "clock", lambda: now[0])
    monkeypatch.setattr(_lease, "monotonic", lambda: ticks[0])
    return now, ticks


def test_the_lease_lives_beside_the_root() -> None:
    where, path = _lease.lease_location(parse_root("s3://bucket/lake/viewers"))
    assert (where.url, path) == ("s3://bucket/lake", ".viewers.vidiframe-lease")
    where, path = _lease.lease_location(parse_root("s3://bucket"))
    assert (where.url, path) == ("s3://bucket", ".vidiframe-lease")


def test_renewal_pushes_the_expiry_and_a_takeover_is_noticed(
    s3, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1_000_000.0]
    monkeypatch.setattr(_lease, "clock", lambda: now[0])
    location = parse_root(f"s3://{bucket}/lake/ds")
    first = _lease._Lease(location, s3.options())
    first.take()
    try:
        assert lease_body(s3, bucket)["expires_at"] == now[0] + _lease.LEASE_SECONDS
        now[0] += 100
        first.renew()
        assert lease_body(s3, bucket)["expires_at"] == now[0] + _lease.LEASE_SECONDS
        first.check()  # still ours

        # While valid, a second writer is refused, naming the holder's expiry.
        second = _lease._Lease(location, s3.options())
        with pytest.raises(vf.DatasetError, match="holds the lease"):
            second.take()

        # The holder stalls past its expiry: the second writer takes over...
        now[0] += _lease.LEASE_SECONDS + 1
        second.take()
        try:
            assert lease_body(s3, bucket)["holder"] == second._holder
            # ...and the stalled holder learns it at its next renewal, before it writes.
            first.renew()
            with pytest.raises(vf.DatasetError, match="was lost"):
                first.check()
        finally:
            second.release()
    finally:
        first.release()
    listing = s3.client().list_objects_v2(Bucket=bucket)
    assert listing.get("KeyCount", 0) == 0  # released: nothing left behind


def test_release_never_deletes_a_lease_taken_over(
    s3, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fresh lease is deleted at once; a stale one only after reading that it is still ours."""
    now, ticks = clocks(monkeypatch, 2_000_000.0)
    location = parse_root(f"s3://{bucket}/lake/ds")
    fresh = _lease._Lease(location, s3.options())
    fresh.take()
    fresh.release()
    listing = s3.client().list_objects_v2(Bucket=bucket)
    assert listing.get("KeyCount", 0) == 0

    stalled = _lease._Lease(location, s3.options())
    stalled.take()
    # It stalls past its expiry, without renewing: both clocks move on.
    now[0] += _lease.LEASE_SECONDS + 1
    ticks[0] += _lease.LEASE_SECONDS + 1
    second = _lease._Lease(location, s3.options())
    second.take()
    stalled.release()  # must not delete the lease the second writer now holds
    assert lease_body(s3, bucket)["holder"] == second._holder
    second.release()
    assert s3.client().list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0


def _landed_then(lease: _lease._Lease, error: type[Exception]) -> list[str]:
    """Make the lease's next PUT land on the store, then fail as a retried request would.

    A PUT whose answer is lost (a timeout) is sent again by the store client; the
    retry of a conditional PUT that landed meets its own write: "already exists"
    for a create, "precondition failed" for an ``If-Match``.
    """
    real = type(lease._storage).put.__get__(lease._storage)
    sent: list[str] = []

    def put(rel: str, data: bytes, *, mode: object = None) -> dict:
        result = real(rel, data, mode=mode)
        if sent:
            return result
        sent.append(str(mode))
        raise error("the retry met the first attempt's write")

    lease._storage.put = put  # type: ignore[method-assign]
    return sent


def test_a_lease_write_retried_after_it_landed_is_still_ours(
    s3, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Neither a retried create nor a retried renewal locks the writer out of its own lease."""
    obstore_exc = pytest.importorskip("obstore.exceptions")
    now = [3_000_000.0]
    monkeypatch.setattr(_lease, "clock", lambda: now[0])
    location = parse_root(f"s3://{bucket}/lake/ds")
    lease = _lease._Lease(location, s3.options())
    created = _landed_then(lease, obstore_exc.AlreadyExistsError)
    lease.take()  # the lease found is its own: taken, not "held by another writer"
    try:
        assert created == ["create"]
        assert lease_body(s3, bucket)["holder"] == lease._holder
        now[0] += 100
        renewed = _landed_then(lease, obstore_exc.PreconditionError)
        lease.renew()
        assert len(renewed) == 1
        assert "e_tag" in renewed[0]  # the If-Match renewal met its own write
        lease.check()  # not "lost": the lease read back is its own, renewed
        assert lease_body(s3, bucket)["expires_at"] == now[0] + _lease.LEASE_SECONDS
        now[0] += 100
        lease.renew()  # with the etag read back, the next renewal succeeds
        lease.check()
        assert lease_body(s3, bucket)["expires_at"] == now[0] + _lease.LEASE_SECONDS
    finally:
        lease.release()
    listing = s3.client().list_objects_v2(Bucket=bucket)
    assert listing.get("KeyCount", 0) == 0  # released: nothing left behind


def test_a_wall_clock_stepped_back_after_a_stall_does_not_make_a_lease_young(
    s3, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The age of our own lease is told by the monotonic clock, not the wall clock."""
    now, ticks = clocks(monkeypatch, 4_000_000.0)
    location = parse_root(f"s3://{bucket}/lake/ds")
    stalled = _lease._Lease(location, s3.options())
    stalled.take()
    written = now[0]
    now[0] += _lease.LEASE_SECONDS + 1
    ticks[0] += _lease.LEASE_SECONDS + 1
    second = _lease._Lease(location, s3.options())
    second.take()  # the stalled holder's lease expired: taken over
    # The wall clock is stepped back (NTP) to seconds after the stalled holder's
    # write: by it, that lease looks young enough to delete without a read.
    now[0] = written + 10
    stalled.release()
    assert lease_body(s3, bucket)["holder"] == second._holder  # not deleted
    second.release()
    assert s3.client().list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0


def test_a_lease_is_not_young_after_the_machine_slept(
    s3, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A monotonic clock stops while the machine sleeps; the wall clock tells the age then."""
    now, ticks = clocks(monkeypatch, 4_500_000.0)
    location = parse_root(f"s3://{bucket}/lake/ds")
    asleep = _lease._Lease(location, s3.options())
    asleep.take()
    now[0] += _lease.LEASE_SECONDS + 1  # the machine slept: the wall clock went on...
    ticks[0] += 5  # ...the monotonic clock did not
    second = _lease._Lease(location, s3.options())
    second.take()  # expired: taken over
    asleep.release()
    assert lease_body(s3, bucket)["holder"] == second._holder  # not deleted
    second.release()
    assert s3.client().list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0


def test_a_young_lease_is_released_with_one_delete(
    s3, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    now, ticks = clocks(monkeypatch, 5_000_000.0)
    lease = _lease._Lease(parse_root(f"s3://{bucket}/lake/ds"), s3.options())
    lease.take()
    reads: list[str] = []
    real_get = lease._storage.get

    def get(rel: str) -> bytes:
        reads.append(rel)
        return real_get(rel)

    lease._storage.get = get  # type: ignore[method-assign]
    now[0] += 5
    ticks[0] += 5
    lease.release()
    assert reads == []  # one DELETE, no read back
    assert s3.client().list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0


def test_a_renewal_that_cannot_reach_the_store_keeps_the_lease(
    s3, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failed request is a blip (the lease is valid until its expiry); the next one renews."""
    now, _ = clocks(monkeypatch, 6_000_000.0)
    location = parse_root(f"s3://{bucket}/lake/ds")
    lease = _lease._Lease(location, s3.options())
    lease.take()
    try:
        reachable = lease._storage
        # The same bucket through a port nothing listens on: a real network failure.
        where, _ = _lease.lease_location(location)
        dead = s3.options(aws_endpoint_url="http://127.0.0.1:9", max_retries="0")
        lease._storage = ObjectStorage(where, dead)
        with pytest.raises(StorageFaultError):
            lease._storage.put("probe", b"")
        now[0] += 100
        lease.renew()
        lease.check()  # not lost
        assert lease_body(s3, bucket)["expires_at"] == 6_000_000.0 + _lease.LEASE_SECONDS
        lease._storage = reachable
        now[0] += 100
        lease.renew()
        lease.check()
        assert lease_body(s3, bucket)["expires_at"] == now[0] + _lease.LEASE_SECONDS
    finally:
        lease.release()


def test_a_lease_whose_renewals_failed_past_its_expiry_is_lost(
    s3, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer may have taken it over meanwhile: the write cannot count as alone."""
    now, ticks = clocks(monkeypatch, 8_000_000.0)
    location = parse_root(f"s3://{bucket}/lake/ds")
    lease = _lease._Lease(location, s3.options())
    lease.take()
    where, _ = _lease.lease_location(location)
    reachable = lease._storage
    lease._storage = ObjectStorage(
        where, s3.options(aws_endpoint_url="http://127.0.0.1:9", max_retries="0")
    )
    for renewal in range(3):  # every renewal of the lease's duration fails
        now[0] += _lease.LEASE_SECONDS / 3
        ticks[0] += _lease.LEASE_SECONDS / 3
        lease.renew()
        if renewal < 2:
            lease.check()  # not expired yet: the write may go on
    with pytest.raises(vf.DatasetError, match="it expired: it was not renewed"):
        lease.check()
    lease._storage = reachable
    lease.release()  # stale: read back first, still ours, deleted
    assert s3.client().list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0


def test_any_other_error_of_a_renewal_loses_the_lease(
    s3, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Told apart by type, not by wording: this message says "could not" too."""
    clocks(monkeypatch, 7_000_000.0)
    lease = _lease._Lease(parse_root(f"s3://{bucket}/lake/ds"), s3.options())
    lease.take()
    try:

        def put(rel: str, data: bytes, *, mode: object = None) -> dict:
            raise vf.DatasetError("could not tell whether the lease is ours")

        lease._storage.put = put  # type: ignore[method-assign]
        lease.renew()
        with pytest.raises(vf.DatasetError, match="was lost while writing"):
            lease.check()
    finally:
        lease.release()
