"""ExportQuery: every argument is validated before a request, and params are canonical."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

import vidiframe as vf
from vidiframe._query import ExportQuery, make_query

BASE = {
    "data_type": "viewers",
    "time_resolution": "1h",
    "start": "2025-01-01T00:00:00",
    "end": "2025-01-01T23:59:59",
    "locations": [4636],
}


def query(**changes: object) -> ExportQuery:
    return make_query(**{**BASE, **changes})  # type: ignore[arg-type]


def test_params_are_the_api_query_parameters() -> None:
    q = query(locations=[4637, "4636", 4636], sites="178")
    assert q.params() == {
        "data_type": "viewers",
        "time_resolution": "1h",
        "start": "2025-01-01T00:00:00",
        "end": "2025-01-01T23:59:59",
        "locations": "4636,4637",
        "sites": "178",
    }


def test_ids_from_arrays_and_series() -> None:
    np = pytest.importorskip("numpy")
    assert query(locations=np.array([4637, 4636])).locations == ("4636", "4637")
    assert query(locations=np.int64(7)).locations == ("7",)
    assert query(locations=range(1, 4)).locations == ("1", "2", "3")


def test_flags_are_sent_only_when_true() -> None:
    assert "group_by_demographics" not in query().params()
    assert query(group_by_demographics=True).params()["group_by_demographics"] == "1"
    # Neither protocol flag belongs to the query: the protocol adds them per request.
    assert not {"force_rebuild", "status_only"} & set(query().params())


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (dt.datetime(2025, 1, 1, 8), dt.datetime(2025, 1, 1, 9), ("08:00:00", "09:00:00")),
        ("2025-01-01 08:05", "2025-01-01T09:00:30", ("08:05:00", "09:00:30")),
        (dt.date(2025, 1, 1), dt.date(2025, 1, 1), ("00:00:00", "23:59:59")),
        ("2025-01-01", "2025-01-01", ("00:00:00", "23:59:59")),
    ],
)
def test_start_and_end_forms(start: object, end: object, expected: tuple[str, str]) -> None:
    params = query(start=start, end=end).params()
    assert (params["start"][11:], params["end"][11:]) == expected
    assert params["start"][:10] == "2025-01-01"


def test_extrapolation_and_optional_parameters() -> None:
    q = make_query(
        data_type="extrapolated_ots",
        time_resolution="1h",
        start="2018-01-29T00:00:00",
        end="2018-01-29T04:59:59",
        locations=1467,
        extrapolation_amount="12",
    )
    assert q.params()["extrapolation_amount"] == "12"
    average = dataclasses.replace(q, extrapolation_amount="")
    assert average.params()["extrapolation_amount"] == ""
    targeted = query(data_type="targeted_im", average_content_duration=15)
    assert targeted.params()["average_content_duration"] == "15"
    fractional = query(data_type="targeted_im", average_content_duration=7.5)
    assert fractional.params()["average_content_duration"] == "7.5"
    apc = query(data_type="viewers_apc", time_resolution="finest", content_ids=["b", "a"])
    assert apc.params()["content_ids"] == "a,b"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"data_type": "visitors"}, "unknown data_type 'visitors'"),
        ({"time_resolution": "2h"}, "unknown time_resolution '2h'"),
        ({"data_type": "ots", "time_resolution": "finest"}, "has no 'finest' export"),
        ({"data_type": "viewers_apc"}, "has no '1h' export"),
        ({"data_type": "im", "time_resolution": "1d"}, "accepts time_resolution '1h' only"),
        ({"locations": None}, "no source ids"),
        ({"locations": []}, "no source ids"),
        ({"start": "2025-01-02"}, "is after end"),
        ({"start": None}, "start is required"),
        ({"end": "tomorrow"}, "is not an ISO date"),
        ({"start": dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)}, "has a time zone"),
        ({"start": dt.datetime(2025, 1, 1, 0, 0, 0, 5)}, "fractions of a second"),
        ({"data_type": "extrapolated_ots"}, "needs extrapolation_amount"),
        ({"extrapolation_amount": 12}, "only applies to extrapolated exports"),
        ({"data_type": "extrapolated_ots", "extrapolation_amount": 0}, "positive number"),
        ({"data_type": "extrapolated_ots", "extrapolation_amount": True}, "positive number"),
        ({"content_ids": [1]}, "content_ids only works with"),
        ({"average_content_duration": 10}, "only works with targeted_im"),
        ({"data_type": "targeted_im", "average_content_duration": -1}, "positive number"),
        ({"group_by_demographics": True, "data_type": "ots"}, "aggregated viewers"),
        ({"group_by_demographics": True, "time_resolution": "finest"}, "aggregated exports"),
        ({"group_by_demographics": "yes"}, "True or False"),
        ({"locations": [True]}, "is not an id"),
        ({"locations": [-3]}, "not a valid id"),
        ({"locations": ["4 636"]}, "not a valid id"),
        ({"locations": 4.5}, "must be an id"),
    ],
)
def test_invalid_arguments_raise_invalid_request(changes: dict[str, object], message: str) -> None:
    with pytest.raises(vf.InvalidRequestError, match=message) as info:
        query(**changes)
    assert isinstance(info.value, ValueError)


def test_replace_revalidates() -> None:
    q = query()
    with pytest.raises(vf.InvalidRequestError, match="is after end"):
        q.replace(start=dt.datetime(2025, 1, 2))


def test_cache_key_is_canonical_and_stable() -> None:
    a = query(locations=[2, 1])
    b = query(locations="1,2", start=dt.datetime(2025, 1, 1), end="2025-01-01")
    assert a == b
    assert a.cache_key() == b.cache_key()
    # Pinned: the key must not change between versions, or every cache entry is lost.
    assert a.cache_key() == "8c95c6fd944ad4cba762109add6bdb3520e875cc870b0bcaa5c0fecc079174e7"
    assert a.cache_key() != query(locations=[1, 2, 3]).cache_key()
    assert a.cache_key() != query(locations=[1, 2], group_by_demographics=True).cache_key()


def test_describe_names_the_export_and_sources() -> None:
    assert query(sites=[7]).describe() == (
        "viewers/1h 2025-01-01T00:00:00..2025-01-01T23:59:59 locations=4636 sites=7"
    )
