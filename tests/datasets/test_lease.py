"""The lease object on S3: created once, renewed by its holder, lost to a takeover after expiry."""

from __future__ import annotations

import json

import pytest

import vidiframe as vf
from vidiframe import _lease
from vidiframe._storage import parse_root


def lease_body(s3, bucket: str) -> dict:
    body = s3.client().get_object(Bucket=bucket, Key="lake/.ds.vidiframe-lease")["Body"].read()
    return json.loads(body)


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
    now = [2_000_000.0]
    monkeypatch.setattr(_lease, "clock", lambda: now[0])
    location = parse_root(f"s3://{bucket}/lake/ds")
    fresh = _lease._Lease(location, s3.options())
    fresh.take()
    fresh.release()
    listing = s3.client().list_objects_v2(Bucket=bucket)
    assert listing.get("KeyCount", 0) == 0

    stalled = _lease._Lease(location, s3.options())
    stalled.take()
    now[0] += _lease.LEASE_SECONDS + 1  # it stalls past its expiry, without renewing
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
