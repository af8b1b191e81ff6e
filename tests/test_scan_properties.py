"""Property: a filtered scan equals the filtered read, whatever the predicate.

``scan_vidicenter(...).filter(p).collect()`` must equal
``read_vidicenter(...).filter(p)`` for predicates built from comparisons on
``period_start`` / ``period_start_date`` / ``location_id`` / ``site_id``,
``is_between``, ``is_in``, filters on other columns, and their conjunctions,
disjunctions and negations: pushdown may only change what is fetched. And the
narrowed request must never be wider than the scan's own.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
import random
from typing import Any

import polars as pl
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import vidiframe as vf
from vidiframe._chunking import ChunkPlanner
from vidiframe._client import VidiCenterClient
from vidiframe.testing import FakeVidiCenter, ManualClock

TOKEN = "scan-pr0perty-t0ken"
SEED = 21
FIRST, LAST = dt.datetime(2025, 3, 1), dt.datetime(2025, 3, 3, 23, 59, 59)
# Two shapes of scan: a plain list of locations (location_id narrows the list), and a
# site (location_id is applied to the fetched rows only).
SCANS: dict[str, dict[str, Any]] = {
    "locations": {"locations": [4636, 4637, 4650]},
    "site": {"sites": [463]},
    # An export keyed by site: site_id narrows the sites= list.
    "by_site": {"data_type": "proof_of_play_by_site", "sites": [463, 465, 470]},
}
RESOLUTIONS = ("1h", "1d")
# The planner assumes 10 locations a site and 10 contents: one export for the site scan.
_MAX_ROWS = {"by_site": None}

FAST = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _client(
    fake: FakeVidiCenter, clock: ManualClock, *, max_rows: int | None = 24 * 10
) -> VidiCenterClient:
    return VidiCenterClient(
        "demo",
        TOKEN,
        fake.url,
        transport=fake.transport(),
        clock=clock,
        sleep=clock.sleep,
        cache_dir=None,
        # By default daily chunks at 1h: narrowing also changes the chunk plan.
        planner=ChunkPlanner(max_rows=max_rows, fill=1.0),
        rng=random.Random(0),
    )


def _arguments(shape: str, resolution: str) -> dict[str, Any]:
    return {
        "data_type": "viewers",
        "time_resolution": resolution,
        "start": FIRST,
        "end": LAST,
        "progress": False,
        **SCANS[shape],
    }


@functools.cache
def _read(shape: str, resolution: str) -> pl.DataFrame:
    """The unfiltered read, once per scan shape (the expected side of every example)."""
    clock = ManualClock()
    with FakeVidiCenter(seed=SEED, token=TOKEN, clock=clock, serve=False) as fake:
        client = _client(fake, clock, max_rows=_MAX_ROWS.get(shape, 24 * 10))
        return vf.read_vidicenter(**_arguments(shape, resolution), client=client)


# -- predicates ---------------------------------------------------------------------------------

_OPS = (operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge)
# Half-hour steps: half the moments fall on a period start, where strict bounds matter.
_moments = st.builds(
    lambda halves: dt.datetime(2025, 2, 28, 18) + dt.timedelta(minutes=30 * halves),
    st.integers(0, 4 * 48),
)
_days = st.dates(dt.date(2025, 2, 28), dt.date(2025, 3, 4))
_location_ids = st.sampled_from([4630, 4636, 4637, 4639, 4650, 4651, 9999])


def _compare(column: str, values: st.SearchStrategy[Any]) -> st.SearchStrategy[pl.Expr]:
    return st.builds(lambda op, v: op(pl.col(column), v), st.sampled_from(_OPS), values)


def _between(column: str, values: st.SearchStrategy[Any]) -> st.SearchStrategy[pl.Expr]:
    closed = st.sampled_from(["both", "left", "right", "none"])
    return st.builds(
        lambda a, b, c: pl.col(column).is_between(a, b, closed=c), values, values, closed
    )


def _is_in(column: str, values: st.SearchStrategy[Any]) -> st.SearchStrategy[pl.Expr]:
    return st.builds(lambda vs: pl.col(column).is_in(vs), st.lists(values, max_size=3))


_leaves = st.one_of(
    _compare("period_start", _moments),
    _compare("period_start_date", _days),
    _compare("period_start", _moments),
    _compare("period_start_date", _days),
    _between("period_start", _moments),
    _between("period_start_date", _days),
    _is_in("period_start_date", _days),
    _compare("location_id", _location_ids),
    _is_in("location_id", _location_ids),
    _between("location_id", _location_ids),
    # Filters the scan cannot push down.
    _compare("watcher_count", st.integers(0, 4)),
    st.just(pl.col("is_placeholder")),
    st.builds(lambda h: pl.col("period_start").dt.hour() < h, st.integers(0, 24)),
    st.builds(lambda t: pl.col("period_start_time") >= t, st.times()),
)

predicates = st.recursive(
    _leaves,
    lambda inner: st.one_of(
        st.builds(operator.and_, inner, inner),
        st.builds(operator.or_, inner, inner),
        st.builds(operator.invert, inner),
    ),
    max_leaves=4,
)


@FAST
@given(
    shape=st.sampled_from(["locations", "site"]),
    resolution=st.sampled_from(RESOLUTIONS),
    predicate=predicates,
    chained=st.booleans(),
)
# The edges, always tried: strict bounds on and off the grid, hulls of | and is_in.
@example("locations", "1h", pl.col("location_id") <= 4637, False)
@example("locations", "1h", pl.col("location_id") != 4637, False)
@example("locations", "1h", pl.col("period_start_date") > dt.date(2025, 3, 1), False)
@example("locations", "1h", pl.col("period_start") < dt.datetime(2025, 3, 2, 5), False)
@example("locations", "1d", pl.col("period_start") <= dt.datetime(2025, 3, 2, 5), True)
@example(
    "locations",
    "1h",
    (pl.col("period_start_date") == dt.date(2025, 3, 1)) | (pl.col("location_id") == 4650),
    False,
)
@example(
    "locations",
    "1h",
    pl.col("period_start_date").is_in([dt.date(2025, 3, 3), dt.date(2025, 3, 1)]),
    False,
)
@example(
    "locations",
    "1h",
    ((pl.col("period_start_date") == dt.date(2025, 3, 1)) & (pl.col("location_id") == 4636))
    | ((pl.col("period_start_date") == dt.date(2025, 3, 2)) & (pl.col("location_id") >= 4650)),
    False,
)
def test_filtered_scan_equals_filtered_read(
    shape: str, resolution: str, predicate: pl.Expr, chained: bool
) -> None:
    expected = _read(shape, resolution).filter(predicate)
    clock = ManualClock()
    with FakeVidiCenter(seed=SEED, token=TOKEN, clock=clock, serve=False) as fake:
        lf = vf.scan_vidicenter(**_arguments(shape, resolution), client=_client(fake, clock))
        # Two filters in a row are one conjunction for the source.
        lf = lf.filter(pl.lit(True)).filter(predicate) if chained else lf.filter(predicate)
        got = lf.collect()
        requests = fake.data_requests
    # Narrowing changes the chunk plan, hence the order of rows across chunks.
    keys = ["location_id", "period_start"]
    assert_frame_equal(got.sort(keys), expected.sort(keys))
    for request in requests:
        start = dt.datetime.fromisoformat(request.params["start"])
        end = dt.datetime.fromisoformat(request.params["end"])
        assert FIRST <= start <= end <= LAST
        if shape == "locations":
            asked = {int(i) for i in request.params["locations"].split(",")}
            assert asked <= {4636, 4637, 4650}
        else:
            assert request.params["sites"] == "463"
    if expected.is_empty():
        return
    # Whatever is kept was fetched: at least one request when rows are expected.
    assert requests


@FAST
@given(predicate=predicates, resolution=st.sampled_from(RESOLUTIONS))
def test_a_scan_bounded_only_by_its_filter_equals_the_read(
    predicate: pl.Expr, resolution: str
) -> None:
    """Without start/end, the filter's own bounds give the range."""
    bounded = pl.col("period_start").is_between(FIRST, LAST) & predicate
    expected = _read("locations", resolution).filter(bounded)
    clock = ManualClock()
    args = {**_arguments("locations", resolution), "start": None, "end": None}
    with FakeVidiCenter(seed=SEED, token=TOKEN, clock=clock, serve=False) as fake:
        lf = vf.scan_vidicenter(**args, client=_client(fake, clock))
        got = lf.filter(bounded).collect()
    keys = ["location_id", "period_start"]
    assert_frame_equal(got.sort(keys), expected.sort(keys))


_site_ids = st.sampled_from([460, 463, 465, 470, 471])
_site_predicates = st.recursive(
    st.one_of(
        _compare("site_id", _site_ids),
        _is_in("site_id", _site_ids),
        _between("site_id", _site_ids),
        _compare("period_start_date", _days),
        _compare("period_start", _moments),
        st.builds(lambda n: pl.col("content_id").str.ends_with(str(n)), st.integers(0, 9)),
    ),
    lambda inner: st.one_of(
        st.builds(operator.and_, inner, inner),
        st.builds(operator.or_, inner, inner),
        st.builds(operator.invert, inner),
    ),
    max_leaves=4,
)


@FAST
@given(predicate=_site_predicates)
@example(pl.col("site_id").is_in([465, 999]) & (pl.col("period_start_date") == dt.date(2025, 3, 2)))
@example((pl.col("site_id") == 463) | (pl.col("site_id") > 466))
@example((pl.col("site_id") != 465) & (pl.col("site_id") <= 465))
def test_filtered_scan_by_site_equals_filtered_read(predicate: pl.Expr) -> None:
    expected = _read("by_site", "1h").filter(predicate)
    clock = ManualClock()
    with FakeVidiCenter(seed=SEED, token=TOKEN, clock=clock, serve=False) as fake:
        client = _client(fake, clock, max_rows=_MAX_ROWS["by_site"])
        lf = vf.scan_vidicenter(**_arguments("by_site", "1h"), client=client)
        got = lf.filter(predicate).collect()
        requests = fake.data_requests
    keys = ["site_id", "period_start", "content_id"]
    assert_frame_equal(got.sort(keys), expected.sort(keys))
    for request in requests:
        assert {int(i) for i in request.params["sites"].split(",")} <= {463, 465, 470}
