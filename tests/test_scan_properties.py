"""Property: a filtered scan equals the filtered read, whatever the predicate.

``scan_vidicenter(...).filter(p).collect()`` must equal
``read_vidicenter(...).filter(p)`` for predicates built from comparisons on
``period_start`` / ``period_start_date`` / ``location_id`` / ``site_id``,
``is_between``, ``is_in``, filters on other columns, and their conjunctions,
disjunctions and negations, on scans given ``locations=``, ``sites=`` or both:
pushdown may only change what is fetched. The narrowed request must never be
wider than the scan's own, and an id reported as held by no source must have no
row. ``head(n)`` equals the read's first ``n`` rows and fetches only the chunks
that hold them.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import operator
import warnings
from typing import Any

import polars as pl
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from support.clients import manual_client

import vidiframe as vf
from vidiframe._chunking import ChunkPlanner
from vidiframe._client import VidiCenterClient
from vidiframe._query import make_query
from vidiframe.testing import FakeVidiCenter, ManualClock
from vidiframe.testing._generate import site_locations

TOKEN = "scan-pr0perty-t0ken"
SEED = 21
FIRST, LAST = dt.datetime(2025, 3, 1), dt.datetime(2025, 3, 3, 23, 59, 59)
# Shapes of scan: a plain list of locations (location_id narrows the list), a site
# and a site with one more location (location_id narrows them to the locations the
# site's topology lists that the filter keeps).
SCANS: dict[str, dict[str, Any]] = {
    "locations": {"locations": [4636, 4637, 4650]},
    "site": {"sites": [463]},
    "both": {"locations": [4650], "sites": [463]},
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
    # By default daily chunks at 1h: narrowing also changes the chunk plan.
    return manual_client(fake, clock, max_rows=max_rows)


def _arguments(shape: str, resolution: str) -> dict[str, Any]:
    return {
        "data_type": "viewers",
        "time_resolution": resolution,
        "start": FIRST,
        "end": LAST,
        "progress": False,
        **SCANS[shape],
    }


# Every location each shape's sources hold.
HELD = {
    "locations": {4636, 4637, 4650},
    "site": set(site_locations(463)),
    "both": {*site_locations(463), 4650},
}


@functools.cache
def _read(shape: str, resolution: str, max_rows: int | None = 24 * 10) -> pl.DataFrame:
    """The unfiltered read, once per scan shape (the expected side of every example)."""
    clock = ManualClock()
    with FakeVidiCenter(seed=SEED, token=TOKEN, clock=clock, serve=False) as fake:
        client = _client(fake, clock, max_rows=_MAX_ROWS.get(shape, max_rows))
        return vf.read_vidicenter(**_arguments(shape, resolution), client=client)


def _collect(lf: pl.LazyFrame) -> tuple[pl.DataFrame, list[vf.UnmatchedIdWarning]]:
    """The collected frame, and the ids it reported as held by no source (no other warning)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = lf.collect()
    reports = [w.message for w in caught if isinstance(w.message, vf.UnmatchedIdWarning)]
    assert [w.message for w in caught if w.message not in reports] == []
    return frame, reports


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
    shape=st.sampled_from(["locations", "site", "both"]),
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
@example("site", "1h", pl.col("location_id").is_in([4637, 9999]), False)
@example("site", "1d", (pl.col("location_id") > 4637) | (pl.col("location_id") == 4630), True)
@example("both", "1h", pl.col("location_id").is_between(4639, 4650, closed="none"), False)
@example("both", "1h", (pl.col("location_id") == 4650) & (pl.col("watcher_count") > 1), False)
def test_filtered_scan_equals_filtered_read(
    shape: str, resolution: str, predicate: pl.Expr, chained: bool
) -> None:
    expected = _read(shape, resolution).filter(predicate)
    clock = ManualClock()
    with FakeVidiCenter(seed=SEED, token=TOKEN, clock=clock, serve=False) as fake:
        lf = vf.scan_vidicenter(**_arguments(shape, resolution), client=_client(fake, clock))
        # Two filters in a row are one conjunction for the source.
        lf = lf.filter(pl.lit(True)).filter(predicate) if chained else lf.filter(predicate)
        got, reports = _collect(lf)
        requests = fake.data_requests
    # Narrowing changes the chunk plan, hence the order of rows across chunks.
    keys = ["location_id", "period_start"]
    assert_frame_equal(got.sort(keys), expected.sort(keys))
    for report in reports:
        assert report.column == "location_id"
        assert report.ids
        assert not set(report.ids) & HELD[shape]
    for request in requests:
        start = dt.datetime.fromisoformat(request.params["start"])
        end = dt.datetime.fromisoformat(request.params["end"])
        assert FIRST <= start <= end <= LAST
        # Either the scan's own sources, or some of the locations they hold.
        if "sites" in request.params:
            assert request.params["sites"] == "463"
            assert request.params.get("locations") == ("4650" if shape == "both" else None)
        else:
            asked = {int(i) for i in request.params["locations"].split(",")}
            assert asked <= HELD[shape]
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
        got, _ = _collect(lf.filter(bounded))
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
        got, reports = _collect(lf.filter(predicate))
        requests = fake.data_requests
    keys = ["site_id", "period_start", "content_id"]
    assert_frame_equal(got.sort(keys), expected.sort(keys))
    for report in reports:
        assert report.column == "site_id"
        assert report.ids
        assert not set(report.ids) & {463, 465, 470}
    for request in requests:
        assert {int(i) for i in request.params["sites"].split(",")} <= {463, 465, 470}


# -- head(n) ------------------------------------------------------------------------------------

# A chunk a day for the three locations (fewer hours a chunk for the site's ten).
HEAD_ROWS = 3 * 24


@functools.cache
def _chunk_heights(shape: str) -> tuple[int, ...]:
    """The rows of each chunk of the scan's plan, counted in the unfiltered read."""
    args = {k: v for k, v in _arguments(shape, "1h").items() if k != "progress"}
    read = _read(shape, "1h", HEAD_ROWS)
    heights = []
    for chunk in ChunkPlanner(max_rows=HEAD_ROWS, fill=1.0).plan(make_query(**args)):
        q = chunk.query
        held = {int(i) for i in q.locations}
        held.update(loc for site in q.sites for loc in site_locations(int(site)))
        within = pl.col("period_start").is_between(q.start, q.end)
        heights.append(read.filter(within, pl.col("location_id").is_in(held)).height)
    return tuple(heights)


@FAST
@given(shape=st.sampled_from(["locations", "site", "both"]), n=st.integers(0, 800))
@example("locations", 0)
@example("locations", 72)
@example("locations", 73)
@example("site", 1)
@example("both", 800)
def test_head_equals_the_reads_first_rows_and_stops_early(shape: str, n: int) -> None:
    expected = _read(shape, "1h", HEAD_ROWS).head(n)
    heights = _chunk_heights(shape)
    assert sum(heights) == _read(shape, "1h", HEAD_ROWS).height
    # The chunks fetched: none for n == 0, else up to the first whose rows reach n.
    reached = [i + 1 for i, total in enumerate(itertools.accumulate(heights)) if total >= n]
    needed = 0 if n == 0 else (reached[0] if reached else len(heights))
    clock = ManualClock()
    with FakeVidiCenter(seed=SEED, token=TOKEN, clock=clock, serve=False) as fake:
        client = _client(fake, clock, max_rows=HEAD_ROWS)
        got = vf.scan_vidicenter(**_arguments(shape, "1h"), client=client).head(n).collect()
        downloads = fake.downloads
    assert_frame_equal(got, expected)
    assert downloads == needed
    assert len(heights) >= 3  # several chunks: stopping early is visible
