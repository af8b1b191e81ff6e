"""Chunk planning: contiguous, aligned, under the estimate, and exact on the fake's data."""

from __future__ import annotations

import datetime as dt
import itertools

import orjson
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from vidiframe._chunking import Chunk, ChunkPlanner, is_row_limit_failure, period_count
from vidiframe._query import ExportQuery, make_query
from vidiframe.testing._generate import generate_rows

SECOND = dt.timedelta(seconds=1)


def q(**changes: object) -> ExportQuery:
    base: dict[str, object] = {
        "data_type": "ots",
        "time_resolution": "1h",
        "start": "2025-01-01T00:00:00",
        "end": "2025-01-12T23:59:59",
        "locations": [4636],
    }
    return make_query(**{**base, **changes})  # type: ignore[arg-type]


def assert_tiles(chunks: list[Chunk], query: ExportQuery) -> None:
    """Each source batch's chunks cover [start, end] with no gap and no overlap."""
    by_sources: dict[tuple[object, ...], list[ExportQuery]] = {}
    for chunk in chunks:
        key = tuple(chunk.query.sources.values())
        by_sources.setdefault(key, []).append(chunk.query)
    for parts in by_sources.values():
        assert parts[0].start == query.start
        assert parts[-1].end == query.end
        for before, after in itertools.pairwise(parts):
            assert after.start == before.end + SECOND
    ids = sorted(i for key in by_sources for ids in key for i in ids)  # type: ignore[attr-defined]
    assert ids == sorted(i for ids in query.sources.values() for i in ids)


def test_small_query_is_one_chunk() -> None:
    query = q()
    chunks = ChunkPlanner().plan(query)
    assert chunks == [Chunk((0,), query, 288)]


def test_twelve_days_in_twelve_day_chunks() -> None:
    query = q()
    chunks = ChunkPlanner(max_rows=24, fill=1.0).plan(query)
    assert [c.query.start.day for c in chunks] == list(range(1, 13))
    assert all(c.query.start.time() == dt.time(0) for c in chunks)
    assert all(c.query.end.time() == dt.time(23, 59, 59) for c in chunks)
    assert [c.order for c in chunks] == [(i,) for i in range(12)]
    assert [c.estimated_rows for c in chunks] == [24] * 12
    assert_tiles(chunks, query)


def test_aggregated_cuts_fall_on_period_starts() -> None:
    query = q(time_resolution="15m", start="2025-01-01T00:07:00", end="2025-01-01T05:00:00")
    chunks = ChunkPlanner(max_rows=3, fill=1.0).plan(query)
    assert len(chunks) > 1
    # 00:07-00:14:59 holds no whole period: it is never a chunk of its own.
    assert chunks[1].query.start >= dt.datetime(2025, 1, 1, 0, 30)
    for chunk in chunks[1:]:
        assert chunk.query.start.minute % 15 == 0
        assert chunk.query.start.second == 0
    assert_tiles(chunks, query)


def test_monthly_cuts_fall_on_month_starts() -> None:
    query = q(time_resolution="1M", start="2024-11-15", end="2025-04-30")
    chunks = ChunkPlanner(max_rows=1, fill=1.0).plan(query)
    assert [c.query.start.date().isoformat() for c in chunks] == [
        "2024-11-15",
        "2025-01-01",
        "2025-02-01",
        "2025-03-01",
        "2025-04-01",
    ]
    assert_tiles(chunks, query)


def test_weekly_exports_are_cut_by_sources_only() -> None:
    query = q(time_resolution="7d", start="2024-01-01", end="2024-12-31", locations=[1, 2, 3, 4])
    chunks = ChunkPlanner(max_rows=10, fill=1.0).plan(query)
    assert {(c.query.start, c.query.end) for c in chunks} == {(query.start, query.end)}
    assert [c.query.locations for c in chunks] == [("1",), ("2",), ("3",), ("4",)]


def test_one_period_too_large_is_cut_into_location_batches() -> None:
    query = q(time_resolution="1d", start="2025-01-01", end="2025-01-01", locations=range(1, 11))
    chunks = ChunkPlanner(max_rows=3, fill=1.0).plan(query)
    assert [c.query.locations for c in chunks] == [
        ("1", "2", "3"),
        ("4", "5", "6"),
        ("7", "8"),
        ("9", "10"),
    ]
    assert_tiles(chunks, query)


@pytest.mark.parametrize(
    "changes",
    [
        {"location_tags": [1, 2, 3], "locations": None},
        {"locations": [1, 2], "sites": [3]},
        {
            "data_type": "extrapolated_ots",
            "locations": [1, 2, 3],
            "extrapolation_amount": 10,
        },
    ],
)
def test_overlapping_or_aggregated_sources_are_never_batched(changes: dict[str, object]) -> None:
    query = q(time_resolution="1d", start="2025-01-01", end="2025-01-01", **changes)
    assert ChunkPlanner(max_rows=1, fill=1.0).plan(query) == [
        Chunk((0,), query, ChunkPlanner().estimate_rows(query))
    ]


def test_estimates() -> None:
    planner = ChunkPlanner(finest_rows_per_location_hour=100)
    finest = q(data_type="viewers", time_resolution="finest", end="2025-01-01T09:59:59")
    assert planner.estimate_rows(finest) == 1000
    sites = q(sites=[1, 2], locations=None, end="2025-01-01T23:59:59")
    assert planner.estimate_rows(sites) == 24 * 2 * 10
    demographics = q(data_type="viewers", group_by_demographics=True, end="2025-01-01T00:59:59")
    assert planner.estimate_rows(demographics) == 3 * 5
    pop = q(
        data_type="proof_of_play_by_location", content_ids=["a", "b"], end="2025-01-01T00:59:59"
    )
    assert planner.estimate_rows(pop) == 2
    extrapolated = q(data_type="extrapolated_ots", locations=[1, 2, 3], extrapolation_amount=5)
    assert planner.estimate_rows(extrapolated) == 288


def test_default_target_is_half_the_server_limit() -> None:
    assert ChunkPlanner().target_rows(q()) == 10_000_000
    assert ChunkPlanner().target_rows(q(data_type="viewers", time_resolution="finest")) == 1_500_000


def test_split_halves_in_time_then_in_sources() -> None:
    planner = ChunkPlanner()
    chunk = Chunk((3,), q(end="2025-01-02T23:59:59", locations=[1, 2, 3]), 0)
    halves = planner.split(chunk)
    assert [h.order for h in halves] == [(3, 0), (3, 1)]
    assert [(h.query.start, h.query.end) for h in halves] == [
        (dt.datetime(2025, 1, 1), dt.datetime(2025, 1, 1, 23, 59, 59)),
        (dt.datetime(2025, 1, 2), dt.datetime(2025, 1, 2, 23, 59, 59)),
    ]
    one_hour = Chunk((0,), q(end="2025-01-01T00:59:59", locations=[1, 2, 3]), 0)
    assert [h.query.locations for h in planner.split(one_hour)] == [("1", "2"), ("3",)]
    single = Chunk((0,), q(end="2025-01-01T00:59:59"), 0)
    assert planner.split(single) == []


def test_finest_split_goes_down_to_seconds() -> None:
    planner = ChunkPlanner()
    query = q(
        data_type="viewers",
        time_resolution="finest",
        start="2025-01-01T10:00:00",
        end="2025-01-01T10:00:01",
    )
    halves = planner.split(Chunk((0,), query, 0))
    assert [(h.query.start.second, h.query.end.second) for h in halves] == [(0, 0), (1, 1)]
    assert planner.split(halves[0]) == []


def test_row_limit_failures_are_recognised() -> None:
    assert is_row_limit_failure("Export too large: 3000001 rows (limit 3000000)")
    assert is_row_limit_failure("The export exceeds the maximum size")
    assert not is_row_limit_failure(None)
    assert not is_row_limit_failure("Internal error")


def test_period_count() -> None:
    start = dt.datetime(2025, 1, 1)
    assert period_count("5m", start, dt.datetime(2025, 1, 1, 0, 59, 59)) == 12
    assert period_count("1d", start, dt.datetime(2025, 1, 31, 23, 59, 59)) == 31
    assert period_count("7d", start, dt.datetime(2025, 1, 31, 23, 59, 59)) == 5
    assert period_count("1M", dt.datetime(2025, 1, 2), dt.datetime(2025, 3, 1)) == 2


resolutions = st.sampled_from(["finest", "5m", "15m", "1h", "1d", "1M"])
moments = st.datetimes(min_value=dt.datetime(2024, 12, 1), max_value=dt.datetime(2025, 3, 1)).map(
    lambda d: d.replace(microsecond=0)
)


@settings(max_examples=60, deadline=None)
@given(
    resolution=resolutions,
    a=moments,
    b=moments,
    max_rows=st.integers(1, 400),
    locations=st.lists(st.integers(1, 40), min_size=1, max_size=4, unique=True),
)
def test_chunks_tile_the_query(
    resolution: str, a: dt.datetime, b: dt.datetime, max_rows: int, locations: list[int]
) -> None:
    start, end = min(a, b), max(a, b)
    data_type = "viewers"
    query = q(data_type=data_type, time_resolution=resolution, start=start, end=end)
    query = query.replace(locations=tuple(str(i) for i in sorted(locations)))
    chunks = ChunkPlanner(max_rows=max_rows, fill=1.0, finest_rows_per_location_hour=10).plan(query)
    assert chunks
    assert_tiles(chunks, query)


@settings(max_examples=25, deadline=None)
@given(
    resolution=st.sampled_from(["finest", "15m", "1h", "1d"]),
    start=st.datetimes(min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2025, 1, 2)).map(
        lambda d: d.replace(microsecond=0)
    ),
    hours=st.integers(1, 60),
    max_rows=st.integers(2, 50),
)
def test_chunk_rows_concatenate_to_the_one_shot_rows(
    resolution: str, start: dt.datetime, hours: int, max_rows: int
) -> None:
    end = start + dt.timedelta(hours=hours, seconds=-1)
    query = q(data_type="viewers", time_resolution=resolution, start=start, end=end)
    query = query.replace(locations=("4636", "4637"))
    planner = ChunkPlanner(max_rows=max_rows, fill=1.0, finest_rows_per_location_hour=6)

    def rows(part: ExportQuery) -> list[dict[str, object]]:
        return generate_rows(
            part.data_type,
            part.time_resolution,
            start=part.start,
            end=part.end,
            locations=[int(i) for i in part.locations],
            seed=3,
        )

    one_shot = rows(query)
    chunks = planner.plan(query)
    chunked = [row for chunk in chunks for row in rows(chunk.query)]
    assume(one_shot)  # a 1d range within one day may hold no period start
    if all(chunk.query.locations == query.locations for chunk in chunks):
        # Time-only cuts even keep the server's order.
        assert chunked == one_shot
    else:
        # Source batches change the order only: the same rows, none lost or doubled.
        assert sorted(map(orjson.dumps, chunked)) == sorted(map(orjson.dumps, one_shot))
