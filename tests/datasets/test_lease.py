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
