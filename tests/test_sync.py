"""``sync`` against the fake VidiCenter, in process, on a manual clock.

Every test compares datasets with a one-shot ``read_vidicenter`` of the same
days, exactly (row order included): a dataset kept up to date by many runs must
be the dataset one fetch would have written.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import vidiframe as vf
from vidiframe._sync import Batch, SyncConfig, plan_sync, sync
from vidiframe.testing import (
    DATA_PATH,
    DataGenerator,
    FakeQuery,
    FakeVidiCenter,
    ManualClock,
    RecordedRequest,
    ServerError,
)

D = dt.date
LOCATIONS = [4636, 4637]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def fake(clock: ManualClock) -> Iterator[FakeVidiCenter]:
    with FakeVidiCenter(clock=clock, serve=False) as server:
        yield server


def make_client(fake: FakeVidiCenter, clock: ManualClock, **kwargs: Any) -> vf.VidiCenterClient:
    kwargs.setdefault("cache_dir", None)
    kwargs.setdefault("transport", fake.transport())
    kwargs.setdefault("sleep", clock.sleep)
    return vf.VidiCenterClient("demo", "demo-token", fake.url, clock=clock, **kwargs)


@pytest.fixture
def client(fake: FakeVidiCenter, clock: ManualClock) -> Iterator[vf.VidiCenterClient]:
    with make_client(fake, clock) as c:
        yield c


def config(root: Path, *exports: Mapping[str, Any], **top: Any) -> SyncConfig:
    top.setdefault("first_day", "2025-01-01")
    top.setdefault("trailing_days", 3)
    return SyncConfig.from_dict({"root": str(root), **top, "export": list(exports)})


OTS = {"data_type": "ots", "time_resolution": "1h", "locations": LOCATIONS}


def one_shot(client: vf.VidiCenterClient, cfg: SyncConfig, index: int, start: D, end: D):
    """What one ``read_vidicenter`` of the export's days gives (fresh from the server)."""
    q = cfg.exports[index].query
    return vf.read_vidicenter(
        data_type=q.data_type,
        time_resolution=q.time_resolution,
        group_by_demographics=q.group_by_demographics,
        start=start,
        end=end,
        locations=q.locations or None,
        sites=q.sites or None,
        client=client,
        # The server keeps built exports a day: a one-shot after a generator swap
        # must see the new data, as sync's refetch does.
        force_rebuild=True,
        progress=False,
    )


def stored(cfg: SyncConfig, index: int = 0) -> pl.DataFrame:
    """The dataset as a frame, without the partition column a month/year layout adds."""
    df = vf.scan_partitions(cfg.exports[index].path).collect()
    return df.drop("period_start_month", "period_start_year", strict=False)


def calls_since(fake: FakeVidiCenter, mark: int) -> list[RecordedRequest]:
    return [r for r in fake.requests[mark:] if r.path == DATA_PATH]


def ranges(calls: list[RecordedRequest]) -> set[tuple[str, str, str]]:
    return {(c.params["data_type"], c.params["start"], c.params["end"]) for c in calls}


def files(path: Path) -> dict[str, int]:
    """Partition file -> inode: a rewrite (rename of a new file) changes the inode."""
    return {
        p.relative_to(path).as_posix(): p.stat().st_ino
        for p in sorted(path.rglob("*.parquet"))
        if not any(part.startswith(".") for part in p.relative_to(path).parts)
    }


# -- initial fill -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("export", "today", "last", "partition"),
    [
        (OTS, D(2025, 1, 21), D(2025, 1, 20), "month"),
        (
            {"data_type": "viewers", "time_resolution": "finest", "locations": [4636]},
            D(2025, 1, 6),
            D(2025, 1, 5),
            "day",
        ),
        (
            {
                "data_type": "viewers",
                "time_resolution": "1d",
                "group_by_demographics": True,
                "sites": [463],
            },
            D(2025, 2, 10),
            D(2025, 2, 9),
            "year",
        ),
        # Months are the unit of a 1M export: only months that have ended are kept.
        ({**OTS, "time_resolution": "1M"}, D(2025, 4, 15), D(2025, 3, 31), "year"),
    ],
    ids=["ots-1h-month", "viewers-finest-day", "viewers-1d-demographics-year", "ots-1M"],
)
def test_initial_fill_equals_a_one_shot_fetch(tmp_path, client, export, today, last, partition):
    cfg = config(tmp_path / "lake", export)
    report = sync(cfg, client=client, today=today, progress=False)

    (plan,) = report.plans
    assert plan.partition == partition
    assert report.complete
    assert plan.skipped == 0
    assert plan.fetched + plan.refetched == plan.units
    assert_frame_equal(stored(cfg), one_shot(client, cfg, 0, D(2025, 1, 1), last))
    assert report.rows == stored(cfg).height


def test_initial_fill_fetches_missing_days_then_the_trailing_ones(tmp_path, fake, client):
    cfg = config(tmp_path, OTS)
    report = sync(cfg, client=client, today=D(2025, 1, 21), progress=False)

    assert [r.batch for r in report.results] == [
        Batch(D(2025, 1, 1), D(2025, 1, 17), 17, refetch=False),
        Batch(D(2025, 1, 18), D(2025, 1, 20), 3, refetch=True),
    ]
    assert ranges(fake.data_requests) == {
        ("ots", "2025-01-01T00:00:00", "2025-01-17T23:59:59"),
        ("ots", "2025-01-18T00:00:00", "2025-01-20T23:59:59"),
    }
    assert report.summary().splitlines() == [
        "export  partition  skipped  fetched  refetched  rows  written  removed",
        "ots_1h  month      0 days   17 days  3 days     960   2        0",
    ]


# -- the next runs --------------------------------------------------------------------------


def test_a_day_later_only_the_trailing_days_are_fetched_with_force_rebuild(tmp_path, fake, client):
    viewers = {
        "data_type": "viewers",
        "time_resolution": "1h",
        "sites": [463],
        "partition": "day",
    }
    cfg = config(tmp_path, OTS, viewers)
    sync(cfg, client=client, today=D(2025, 1, 21), progress=False)
    before = files(cfg.exports[1].path)
    # Late uploads: the server's data for recent days changed since the first run.
    fake.generator = DataGenerator(seed=1)
    mark = len(fake.requests)

    report = sync(cfg, client=client, today=D(2025, 1, 22), progress=False)

    calls = calls_since(fake, mark)
    assert ranges(calls) == {
        ("ots", "2025-01-19T00:00:00", "2025-01-21T23:59:59"),
        ("viewers", "2025-01-19T00:00:00", "2025-01-21T23:59:59"),
    }
    rebuilt = [c for c in calls if "force_rebuild" in c.params]
    # Once per export, on the request that starts it: a repeat would restart the build.
    assert sorted(c.params["data_type"] for c in rebuilt) == ["ots", "viewers"]
    assert all(c.build_started and "status_only" not in c.params for c in rebuilt)
    assert [(p.name, p.skipped, p.fetched, p.refetched) for p in report.plans] == [
        ("ots_1h", 18, 0, 3),
        ("viewers_1h", 18, 0, 3),
    ]
    # Days outside the trailing window were not rewritten...
    after = files(cfg.exports[1].path)
    old_days = [f"period_start_date=2025-01-{d:02d}/part-0.parquet" for d in range(1, 19)]
    assert {k: after[k] for k in old_days} == {k: before[k] for k in old_days}
    # ...and the trailing ones hold the server's new data.
    for index in (0, 1):
        fake.generator = DataGenerator(seed=0)
        old = one_shot(client, cfg, index, D(2025, 1, 1), D(2025, 1, 18))
        fake.generator = DataGenerator(seed=1)
        new = one_shot(client, cfg, index, D(2025, 1, 19), D(2025, 1, 21))
        assert_frame_equal(stored(cfg, index), pl.concat([old, new]))
        # Not equal by chance: the new data differs from the old.
        assert not stored(cfg, index).tail(1).equals(old.tail(1))


def test_a_rerun_the_same_day_refetches_past_both_caches(tmp_path, fake, clock):
    cfg = config(tmp_path / "lake", OTS)
    with make_client(fake, clock, cache_dir=tmp_path / "cache") as client:
        sync(cfg, client=client, today=D(2025, 1, 21), progress=False)
        fake.generator = DataGenerator(seed=1)
        mark = len(fake.requests)
        report = sync(cfg, client=client, today=D(2025, 1, 21), progress=False)
        calls = calls_since(fake, mark)

    # Same query as the first run's trailing batch: without force_rebuild, the
    # client's cache (or the server's) would serve the old build.
    assert [r.batch for r in report.results] == [Batch(D(2025, 1, 18), D(2025, 1, 20), 3, True)]
    assert ranges(calls) == {("ots", "2025-01-18T00:00:00", "2025-01-20T23:59:59")}
    assert sum("force_rebuild" in c.params for c in calls) == 1
    with make_client(fake, clock) as fresh:
        new = one_shot(fresh, cfg, 0, D(2025, 1, 18), D(2025, 1, 20))
    days = pl.col("period_start_date")
    assert_frame_equal(stored(cfg).filter(days >= D(2025, 1, 18)), new)


def test_an_up_to_date_dataset_without_trailing_days_sends_nothing(tmp_path, fake, client):
    cfg = config(tmp_path, OTS, trailing_days=0)
    sync(cfg, client=client, today=D(2025, 1, 11), progress=False)
    mark = len(fake.requests)
    report = sync(cfg, client=client, today=D(2025, 1, 11), progress=False)
    assert report.results == []
    assert report.plans[0].skipped == 10
    assert fake.requests[mark:] == []


def test_monthly_exports_refetch_a_month_that_ended_within_the_trailing_days(tmp_path, client):
    cfg = config(tmp_path, {**OTS, "time_resolution": "1M"}, first_day="2024-11-01")
    first = sync(cfg, client=client, today=D(2025, 3, 2), progress=False)
    # On March 2 the trailing days are Feb 27 to Mar 1: February has just ended.
    assert [(r.batch.describe(), r.batch.refetch) for r in first.results] == [
        ("2024-11-01..2025-01-31", False),
        ("2025-02-01..2025-02-28", True),
    ]
    later = sync(cfg, client=client, today=D(2025, 3, 20), progress=False)
    assert later.results == []
    assert later.plans[0].count(later.plans[0].skipped) == "4 months"
    assert_frame_equal(stored(cfg), one_shot(client, cfg, 0, D(2024, 11, 1), D(2025, 2, 28)))


# -- interruptions ----------------------------------------------------------------------------


class InterruptingTransport:
    """Ctrl-C while a given export is being started, as a user would press it."""

    def __init__(self, inner: Any, start: str) -> None:
        self.inner, self.start = inner, start

    def get(self, url: str, *, params: Mapping[str, str], **kwargs: Any) -> Any:
        if params.get("start") == self.start:
            raise KeyboardInterrupt
        return self.inner.get(url, params=params, **kwargs)

    def close(self) -> None:
        self.inner.close()


@pytest.mark.parametrize("partition", ["day", "month"])
@pytest.mark.parametrize("how", ["ctrl-c", "server-down"])
def test_an_interrupted_run_resumes_without_redoing_finished_batches(
    tmp_path, fake, clock, partition, how
):
    # 48 estimated rows a day: batches of 5 days.
    cfg = config(tmp_path, {**OTS, "batch_rows": 240, "partition": partition})
    today = D(2025, 1, 21)
    third = "2025-01-11T00:00:00"
    planned = [b.describe() for b in plan_sync(cfg, today=today)[0].batches]
    assert planned == [
        "2025-01-01..2025-01-05",
        "2025-01-06..2025-01-10",
        "2025-01-11..2025-01-15",
        "2025-01-16..2025-01-17",
        "2025-01-18..2025-01-20",
    ]
    transport: Any = fake.transport()
    expected: type[BaseException] = KeyboardInterrupt
    if how == "ctrl-c":
        transport = InterruptingTransport(transport, third)
    else:
        fake.inject(ServerError(503), times=None, when=lambda call: call.params["start"] == third)
        expected = vf.TransportError
    seen: list[str] = []
    with make_client(fake, clock, transport=transport) as client, pytest.raises(expected) as caught:
        sync(
            cfg,
            client=client,
            today=today,
            progress=False,
            on_batch=lambda r: seen.append(r.batch.describe()),
        )
    assert seen == planned[:2]
    assert any("2 batch(es) written" in note for note in caught.value.__notes__)
    path = cfg.exports[0].path
    days = stored(cfg).get_column("period_start_date").unique().sort().to_list()
    assert days == [D(2025, 1, d) for d in range(1, 11)]
    kept = files(path)

    fake.clear_faults()
    mark = len(fake.requests)
    with make_client(fake, clock) as client:
        report = sync(cfg, client=client, today=today, progress=False)
        calls = calls_since(fake, mark)
        whole = one_shot(client, cfg, 0, D(2025, 1, 1), D(2025, 1, 20))

    assert [r.batch.describe() for r in report.results] == planned[2:]
    assert min(start for _, start, _ in ranges(calls)) == third
    assert_frame_equal(stored(cfg), whole)
    if partition == "day":
        after = files(path)
        assert {k: after[k] for k in kept} == kept


def test_an_interruption_keeps_every_batch_written_and_the_next_run_fetches_the_rest(
    tmp_path, fake, client
):
    viewers = {"data_type": "viewers", "time_resolution": "1h", "locations": LOCATIONS}
    cfg = config(tmp_path, OTS, viewers)
    today = D(2025, 1, 11)

    def stop_after_ots(result: Any) -> None:
        if result.export == "ots_1h" and not result.batch.refetch:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sync(cfg, client=client, today=today, progress=False, on_batch=stop_after_ots)
    assert stored(cfg).get_column("period_start_date").max() == D(2025, 1, 7)

    mark = len(fake.requests)
    report = sync(cfg, client=client, today=today, progress=False)
    ots_calls = [c for c in calls_since(fake, mark) if c.params["data_type"] == "ots"]
    # Only the trailing days of ots, as every run: its first batch is kept.
    assert {c.params["start"] for c in ots_calls} == {"2025-01-08T00:00:00"}
    ots_plan = report.plans[0]
    assert (ots_plan.name, ots_plan.fetched, ots_plan.refetched) == ("ots_1h", 0, 3)
    for index in (0, 1):
        assert_frame_equal(
            stored(cfg, index), one_shot(client, cfg, index, D(2025, 1, 1), D(2025, 1, 10))
        )


class GatheringSleep:
    """A manual clock's sleep that first waits until ``parties`` exports are building.

    The client sleeps between polls while its export holds a build slot: the
    first sleeps of ``parties`` threads meet at a barrier, which is passed only
    when that many exports are building at the same time (and breaks, failing
    the test, when they are fetched one after another).
    """

    def __init__(self, clock: ManualClock, parties: int) -> None:
        self.clock = clock
        self.parties = parties
        self.barrier = threading.Barrier(parties, timeout=30)
        self.seen: set[int] = set()
        self.lock = threading.Lock()

    def __call__(self, seconds: float) -> None:
        with self.lock:
            first = threading.get_ident() not in self.seen and len(self.seen) < self.parties
            self.seen.add(threading.get_ident())
        if first:
            self.barrier.wait()
        self.clock.sleep(seconds)


def test_the_batches_of_every_export_share_the_three_export_slots(tmp_path, fake, clock):
    exports = [
        {**OTS, "batch_rows": 48 * 3},  # 3 days a batch: 4 batches
        {"data_type": "viewers", "time_resolution": "1h", "locations": LOCATIONS},
        {"data_type": "viewers", "time_resolution": "1d", "locations": LOCATIONS},
        {"data_type": "ots", "time_resolution": "15m", "locations": [4636]},
    ]
    cfg = config(tmp_path, *exports, trailing_days=0)
    today = D(2025, 1, 11)
    written: list[tuple[str, D]] = []
    sleep = GatheringSleep(clock, 3)
    with make_client(fake, clock, sleep=sleep) as client:
        report = sync(
            cfg,
            client=client,
            today=today,
            progress=False,
            on_batch=lambda r: written.append((r.export, r.batch.start)),
        )
        expected = [one_shot(client, cfg, i, D(2025, 1, 1), D(2025, 1, 10)) for i in range(4)]

    assert not sleep.barrier.broken
    assert fake.peak_concurrent_exports <= 3
    # Each export's batches were written in calendar order.
    for plan in report.plans:
        starts = [start for name, start in written if name == plan.name]
        assert starts == [b.start for b in plan.batches]
    assert [r.export for r in report.results] == ["ots_1h"] * 4 + [
        "viewers_1h",
        "viewers_1d",
        "ots_15m",
    ]
    for index, frame in enumerate(expected):
        assert_frame_equal(stored(cfg, index), frame)


# -- days without rows ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class WithoutDays(DataGenerator):
    """The fake's data, minus every row of some days (a closed store's raw events)."""

    days: tuple[str, ...] = ()

    def iter_rows(self, query: FakeQuery) -> Iterator[dict[str, Any]]:
        for row in super().iter_rows(query):
            if str(row["period_start"])[:10] not in self.days:
                yield row


FINEST = {
    "data_type": "viewers",
    "time_resolution": "finest",
    "locations": [4636],
    "batch_rows": 24_000 * 3,  # 3 days a batch
}


def test_days_without_rows_count_as_done_between_days_with_rows(tmp_path, fake, client):
    fake.generator = WithoutDays(days=("2025-01-01", "2025-01-04", "2025-01-05"))
    cfg = config(tmp_path, FINEST, trailing_days=0)
    first = sync(cfg, client=client, today=D(2025, 1, 10), progress=False)
    assert [r.empty for r in first.results] == [1, 2, 0]
    assert_frame_equal(stored(cfg), one_shot(client, cfg, 0, D(2025, 1, 1), D(2025, 1, 9)))

    mark = len(fake.requests)
    again = sync(cfg, client=client, today=D(2025, 1, 10), progress=False)
    (plan,) = again.plans
    assert (plan.present, plan.empty) == (6, 2)
    # Jan 4-5 lie between days with rows: fetched before, found empty, done. Jan 1
    # lies before the first day with rows, which the dataset cannot tell from a
    # day never fetched: it is fetched again (one small range at the edge).
    assert [r.batch for r in again.results] == [Batch(D(2025, 1, 1), D(2025, 1, 1), 1)]
    assert ranges(calls_since(fake, mark)) == {
        ("viewers", "2025-01-01T00:00:00", "2025-01-01T23:59:59")
    }


@pytest.mark.parametrize("partition", ["day", "month"])
def test_a_refetched_day_that_lost_its_rows_is_removed(tmp_path, fake, client, partition):
    cfg = config(tmp_path, {**FINEST, "partition": partition}, trailing_days=2)
    sync(cfg, client=client, today=D(2025, 1, 10), progress=False)
    fake.generator = WithoutDays(days=("2025-01-09",))

    report = sync(cfg, client=client, today=D(2025, 1, 10), progress=False)

    (result,) = report.results
    assert (result.batch.describe(), result.empty) == ("2025-01-08..2025-01-09", 1)
    assert result.removed == (1 if partition == "day" else 0)
    assert not (cfg.exports[0].path / "period_start_date=2025-01-09").exists()
    assert_frame_equal(stored(cfg), one_shot(client, cfg, 0, D(2025, 1, 1), D(2025, 1, 9)))


# -- the dataset's schema -----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class WithNewField(DataGenerator):
    """The API added a field after the dataset was created."""

    def iter_rows(self, query: FakeQuery) -> Iterator[dict[str, Any]]:
        for row in super().iter_rows(query):
            yield {**row, "brand_new": 1}


def test_a_field_the_api_adds_later_evolves_the_dataset_by_default(tmp_path, fake, client):
    cfg = config(tmp_path, OTS, trailing_days=1)
    sync(cfg, client=client, today=D(2025, 1, 11), progress=False)
    before = stored(cfg)
    fake.generator = WithNewField()

    with pytest.warns(vf.UnknownFieldWarning, match="brand_new"):
        report = sync(cfg, client=client, today=D(2025, 1, 12), progress=False)

    (result,) = report.results
    assert (result.batch.describe(), result.added_fields) == (
        "2025-01-11..2025-01-11",
        ("brand_new",),
    )
    assert "new fields added to the dataset: brand_new" in result.describe()
    after = stored(cfg)
    old = after.filter(pl.col("period_start_date") < D(2025, 1, 11))
    new = after.filter(pl.col("period_start_date") >= D(2025, 1, 11))
    # Older rows are unchanged, with a null in the new column; new rows have it.
    assert_frame_equal(
        old.drop("brand_new"), before.filter(pl.col("period_start_date") < D(2025, 1, 11))
    )
    assert old.get_column("brand_new").null_count() == old.height == 10 * 24 * 2
    assert new.get_column("brand_new").to_list() == [1] * (24 * 2)


def test_a_field_the_api_adds_later_stops_the_sync_before_writing_in_error_mode(
    tmp_path, fake, client
):
    cfg = config(tmp_path, {**OTS, "schema_mode": "error"})
    sync(cfg, client=client, today=D(2025, 1, 11), progress=False)
    before = stored(cfg)
    fake.generator = WithNewField()

    with (
        pytest.warns(vf.UnknownFieldWarning, match="brand_new"),
        pytest.raises(
            vf.SchemaConflictError, match=r"new field\(s\) brand_new .* nothing of this batch"
        ),
    ):
        sync(cfg, client=client, today=D(2025, 1, 12), progress=False)

    assert_frame_equal(stored(cfg), before)


def test_a_field_the_api_adds_later_is_dropped_when_the_config_says_so(tmp_path, fake, client):
    cfg = config(tmp_path, {**OTS, "schema_mode": "drop"})
    sync(cfg, client=client, today=D(2025, 1, 11), progress=False)
    schema = vf.scan_partitions(cfg.exports[0].path).collect_schema()
    fake.generator = WithNewField()

    with pytest.warns(vf.UnknownFieldWarning, match="brand_new"):
        report = sync(cfg, client=client, today=D(2025, 1, 12), progress=False)

    (result,) = report.results
    assert result.dropped_fields == ("brand_new",)
    assert "new fields not in the dataset: brand_new" in result.describe()
    assert vf.scan_partitions(cfg.exports[0].path).collect_schema() == schema
    assert stored(cfg).height == 11 * 24 * 2


@pytest.mark.filterwarnings("ignore::vidiframe.UnknownFieldWarning")
@pytest.mark.parametrize("mode", ["evolve", "error"])
def test_a_column_stored_without_a_type_takes_the_fields_values(tmp_path, fake, client, mode):
    # The dataset got the field as a Null column (null in every row when written):
    # the day the API sends values, sync stores them, whatever the schema_mode,
    # instead of refusing them as values that do not fit a Null column.
    cfg = config(tmp_path, {**OTS, "schema_mode": mode}, trailing_days=1)
    sync(cfg, client=client, today=D(2025, 1, 11), progress=False)
    path = cfg.exports[0].path
    before = stored(cfg).with_columns(brand_new=pl.lit(None))
    vf.write_partitions(before, path, partition_by=vf.by_period("month"))
    assert vf.read_inventory(path).schema["brand_new"] == pl.Null
    fake.generator = WithNewField()

    report = sync(cfg, client=client, today=D(2025, 1, 13), progress=False)

    assert [(r.batch.describe(), r.added_fields) for r in report.results] == [
        ("2025-01-11..2025-01-11", ()),
        ("2025-01-12..2025-01-12", ()),
    ]
    after = stored(cfg)
    assert after.schema["brand_new"] == pl.Int64
    old = after.filter(pl.col("period_start_date") < D(2025, 1, 11))
    new = after.filter(pl.col("period_start_date") >= D(2025, 1, 11))
    assert_frame_equal(old.drop("brand_new"), before.drop("brand_new"))
    assert old.get_column("brand_new").null_count() == old.height == 10 * 24 * 2
    assert new.get_column("brand_new").to_list() == [1] * (2 * 24 * 2)


@dataclasses.dataclass(frozen=True)
class WithLateValues(DataGenerator):
    """The API added a field, empty in every row until ``typed_from``, then with values."""

    typed_from: str = "2025-01-06"

    def iter_rows(self, query: FakeQuery) -> Iterator[dict[str, Any]]:
        for row in super().iter_rows(query):
            start = str(row["period_start"])
            # Some rows stay null after the first values: nulls of a typed column.
            value = f"g{start[11:13]}" if start[:10] >= self.typed_from else None
            # A list field, empty until typed_from (List(Null)), then with strings.
            tags = [] if value is None else [value, "x"]
            yield {**row, "glasses": None if start[11:13] == "00" else value, "tags": tags}


@pytest.mark.filterwarnings("ignore::vidiframe.UnknownFieldWarning")
@pytest.mark.parametrize("fmt", ["parquet", "delta"])
def test_a_new_field_null_in_a_whole_batch_is_kept_and_typed_by_a_later_one(
    tmp_path, fake, client, fmt
):
    # Before, a new field null in every row of a batch was left out of it (and out
    # of the report); stored as a Null column, it is kept, and gets its type from
    # the first batch with values.
    fake.generator = WithLateValues()
    cfg = config(tmp_path, {**OTS, "batch_rows": 48 * 5}, format=fmt, trailing_days=0)

    report = sync(cfg, client=client, today=D(2025, 1, 11), progress=False)

    assert [(r.batch.describe(), r.added_fields) for r in report.results] == [
        ("2025-01-01..2025-01-05", ("glasses", "tags")),
        ("2025-01-06..2025-01-10", ()),
    ]
    assert "new fields added to the dataset: glasses, tags" in report.results[0].describe()
    got = stored(cfg)
    assert (got.schema["glasses"], got.schema["tags"]) == (pl.String, pl.List(pl.String))
    assert_frame_equal(got, one_shot(client, cfg, 0, D(2025, 1, 1), D(2025, 1, 10)))
    days = got.group_by("period_start_date").agg(pl.col("glasses").unique().sort())
    assert sorted(days.rows()) == [(D(2025, 1, d), [None]) for d in range(1, 6)] + [
        (D(2025, 1, d), [None, *(f"g{h:02}" for h in range(1, 24))]) for d in range(6, 11)
    ]


@pytest.mark.filterwarnings("ignore::vidiframe.UnknownFieldWarning")
@pytest.mark.parametrize("fmt", ["parquet", "delta"])
def test_a_new_field_null_so_far_is_a_column_of_the_dataset_between_runs(
    tmp_path, fake, client, fmt
):
    fake.generator = WithLateValues()
    cfg = config(tmp_path, {**OTS, "batch_rows": 48 * 5}, format=fmt, trailing_days=0)
    path = cfg.exports[0].path

    (first,) = sync(cfg, client=client, today=D(2025, 1, 6), progress=False).results
    assert first.added_fields == ("glasses", "tags")
    # Stored, type not known yet: the dataset says the field exists.
    schema = vf.read_inventory(path).schema
    assert (schema["glasses"], schema["tags"]) == (pl.Null, pl.List(pl.Null))
    assert stored(cfg).get_column("glasses").null_count() == 5 * 48

    (second,) = sync(cfg, client=client, today=D(2025, 1, 11), progress=False).results
    # Not new any more: the dataset had the column; it now has its type.
    assert (second.batch.describe(), second.added_fields) == ("2025-01-06..2025-01-10", ())
    schema = vf.read_inventory(path).schema
    assert (schema["glasses"], schema["tags"]) == (pl.String, pl.List(pl.String))
    assert_frame_equal(stored(cfg), one_shot(client, cfg, 0, D(2025, 1, 1), D(2025, 1, 10)))


def test_a_dataset_of_another_export_is_refused_before_any_request(tmp_path, fake, client):
    cfg = config(tmp_path, OTS)
    sync(cfg, client=client, today=D(2025, 1, 5), progress=False)
    other = config(tmp_path, {**OTS, "data_type": "viewers", "name": "ots_1h"})
    mark = len(fake.requests)
    with pytest.raises(vf.SchemaConflictError, match="does not hold viewers/1h"):
        sync(other, client=client, today=D(2025, 1, 6), progress=False)
    assert fake.requests[mark:] == []


def test_a_dataset_partitioned_otherwise_is_refused(tmp_path, fake, client):
    cfg = config(tmp_path, {**OTS, "partition": "day"})
    sync(cfg, client=client, today=D(2025, 1, 5), progress=False)
    monthly = config(tmp_path, {**OTS, "partition": "month"})
    with pytest.raises(vf.InvalidRequestError, match="partitioned by day"):
        sync(monthly, client=client, today=D(2025, 1, 6), progress=False)
    # "auto" follows the dataset.
    (plan,) = plan_sync(config(tmp_path, OTS), today=D(2025, 1, 6))
    assert plan.partition == "day"

    foreign = tmp_path / "by_location"
    vf.write_partitions(stored(cfg), foreign, partition_by="location_id")
    with pytest.raises(vf.DatasetError, match="partitioned by location_id"):
        plan_sync(config(tmp_path, {**OTS, "name": "by_location"}), today=D(2025, 1, 6))


HOLD_LOCK = """
import sys
from vidiframe._datasets import dataset_lock
with dataset_lock(sys.argv[1]):
    print("held", flush=True)
    sys.stdin.read()
"""


def test_a_second_sync_of_the_same_dataset_is_refused_at_once(tmp_path, fake, client):
    cfg = config(tmp_path, OTS)
    # Another process (another sync) holds the dataset's lock until told to stop.
    with subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(cfg.exports[0].path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        assert holder.stdin is not None
        assert holder.stdout is not None
        try:
            assert holder.stdout.readline() == "held\n"
            with pytest.raises(vf.DatasetError, match="another"):
                sync(cfg, client=client, today=D(2025, 1, 5), progress=False)
        finally:
            holder.stdin.close()
        assert holder.wait(timeout=60) == 0
    assert fake.requests == []
    # Once the other run is done, this one runs.
    assert sync(cfg, client=client, today=D(2025, 1, 5), progress=False).complete


# -- dry run ------------------------------------------------------------------------------------


def test_a_dry_run_plans_from_the_dataset_and_sends_nothing(tmp_path, fake, client):
    cfg = config(tmp_path, OTS, {**FINEST, "batch_rows": 2_000_000})
    sync(cfg, client=client, today=D(2025, 1, 5), progress=False)
    before = [files(e.path) for e in cfg.exports]
    mark = len(fake.requests)

    report = sync(cfg, client=client, today=D(2025, 1, 9), dry_run=True)

    assert fake.requests[mark:] == []
    assert report.dry_run
    assert not report.complete
    assert report.results == []
    assert [[(b.describe(), b.refetch) for b in p.batches] for p in report.plans] == [
        [("2025-01-05..2025-01-05", False), ("2025-01-06..2025-01-08", True)],
        [("2025-01-05..2025-01-05", False), ("2025-01-06..2025-01-08", True)],
    ]
    assert report.summary().splitlines() == [
        "export          partition  skipped  fetched  refetched",
        "ots_1h          month      4 days   1 day    3 days",
        "viewers_finest  day        4 days   1 day    3 days",
    ]
    assert [files(e.path) for e in cfg.exports] == before


def test_nothing_has_ended_yet(tmp_path, fake):
    (plan,) = plan_sync(config(tmp_path, OTS, first_day="2025-01-05"), today=D(2025, 1, 5))
    assert (plan.units, plan.batches) == (0, ())
    assert "up to date" in plan.describe()


# -- today ----------------------------------------------------------------------------------


@pytest.mark.parametrize("today", ["2025-01-05", dt.datetime(2025, 1, 5, 13, 0), D(2025, 1, 5)])
def test_today_accepts_dates_text_and_datetimes(tmp_path, today):
    (plan,) = plan_sync(config(tmp_path, OTS, trailing_days=0), today=today)
    assert plan.units == 4
    with pytest.raises(vf.InvalidRequestError, match="'today' must be a date"):
        plan_sync(config(tmp_path, OTS), today="yesterday")


def test_a_file_url_root_is_the_local_directory(tmp_path, client):
    cfg = SyncConfig.from_dict(
        {"root": tmp_path.as_uri(), "first_day": "2025-01-01", "export": [OTS]}
    )
    assert cfg.exports[0].path == f"{tmp_path.as_uri()}/ots_1h"
    sync(cfg, client=client, today=D(2025, 1, 4), progress=False)
    local = vf.scan_partitions(tmp_path / "ots_1h").collect()
    assert_frame_equal(local, vf.scan_partitions(cfg.exports[0].path).collect())
    assert local.height == 3 * 24 * 2


def test_an_unsupported_url_is_refused_before_any_request_and_creates_nothing(
    tmp_path, fake, client, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    cfg = SyncConfig.from_dict(
        {"root": "ftp://host/lake", "first_day": "2025-01-01", "export": [OTS]}
    )
    with pytest.raises(vf.InvalidRequestError, match="ftp"):
        sync(cfg, client=client, today=D(2025, 1, 4), progress=False)
    with pytest.raises(vf.InvalidRequestError, match="ftp"):
        plan_sync(cfg, today=D(2025, 1, 4))
    assert fake.requests == []
    assert list(tmp_path.iterdir()) == []


def test_one_progress_bar_counts_the_runs_batches(tmp_path, client, capsys):
    cfg = config(tmp_path, {**OTS, "batch_rows": 48 * 4})
    sync(cfg, client=client, today=D(2025, 1, 11), progress=True)
    err = capsys.readouterr().err
    # 1-4, 5-7, then the trailing 8-10: three batches, one bar (no bar per read).
    assert "sync: 100%" in err
    assert "3/3" in err
    assert "chunk" not in err
