"""``sync`` against the fake VidiCenter, in process, on a manual clock.

Every test compares datasets with a one-shot ``read_vidicenter`` of the same
days, exactly (row order included): a dataset kept up to date by many runs must
be the dataset one fetch would have written.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
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
    return vf.VidiCenterClient(
        "demo", "demo-token", fake.url, clock=clock, sleep=clock.sleep, **kwargs
    )


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


def test_an_interruption_between_exports_keeps_the_finished_export(tmp_path, fake, client):
    viewers = {"data_type": "viewers", "time_resolution": "1h", "locations": LOCATIONS}
    cfg = config(tmp_path, OTS, viewers)

    def stop_after_ots(result: Any) -> None:
        if result.export == "ots_1h" and result.batch.refetch:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sync(cfg, client=client, today=D(2025, 1, 11), progress=False, on_batch=stop_after_ots)
    assert not cfg.exports[1].path.exists()
    mark = len(fake.requests)
    report = sync(cfg, client=client, today=D(2025, 1, 11), progress=False)
    assert {data_type for data_type, _, _ in ranges(calls_since(fake, mark))} == {
        "ots",  # its trailing days, as every run
        "viewers",
    }
    assert [(p.name, p.fetched, p.refetched) for p in report.plans] == [
        ("ots_1h", 0, 3),
        ("viewers_1h", 7, 3),
    ]
    assert_frame_equal(stored(cfg, 1), one_shot(client, cfg, 1, D(2025, 1, 1), D(2025, 1, 10)))


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


def test_a_field_the_api_adds_later_stops_the_sync_before_writing(tmp_path, fake, client):
    cfg = config(tmp_path, OTS)
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
    cfg = config(tmp_path, {**OTS, "unknown_fields": "drop"})
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


@pytest.mark.skipif(os.name != "posix", reason="flock")
def test_a_second_sync_on_the_same_dataset_fails_at_once(tmp_path, client):
    import fcntl

    cfg = config(tmp_path, OTS)
    lock = tmp_path / ".ots_1h.vidiframe-sync.lock"
    with lock.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(vf.DatasetError, match="another vidiframe sync"):
            sync(cfg, client=client, today=D(2025, 1, 5), progress=False)
    assert not cfg.exports[0].path.exists()


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


# -- configuration ------------------------------------------------------------------------------


def test_a_toml_file_is_read_with_root_relative_to_it(tmp_path, monkeypatch):
    (tmp_path / "conf").mkdir()
    file = tmp_path / "conf" / "lake.toml"
    file.write_text(
        """
root = "../lake"
first_day = 2025-01-01
trailing_days = 5
partition = "day"

[[export]]
data_type = "viewers"
time_resolution = "1h"
group_by_demographics = true
locations = [4637, "4636"]

[[export]]
name = "pop"
data_type = "proof_of_play_by_location"
time_resolution = "1d"
site_tags = "7"
content_ids = ["a", "b"]
first_day = "2024-12-01"
trailing_days = 0
batch_rows = 10
"""
    )
    monkeypatch.chdir(tmp_path / "conf")  # the root must not depend on it
    cfg = SyncConfig.load(file)
    viewers, pop = cfg.exports
    assert cfg.root == tmp_path / "conf" / ".." / "lake"
    assert (viewers.name, viewers.path) == ("viewers_1h_demographics", cfg.root / viewers.name)
    assert viewers.query.group_by_demographics
    assert viewers.query.locations == ("4636", "4637")
    assert (viewers.first_day, viewers.trailing_days, viewers.partition) == (
        D(2025, 1, 1),
        5,
        "day",
    )
    assert (pop.name, pop.query.site_tags, pop.query.content_ids) == ("pop", ("7",), ("a", "b"))
    assert (pop.first_day, pop.trailing_days, pop.batch_rows) == (D(2024, 12, 1), 0, 10)
    assert cfg.with_trailing_days(1).exports[1].trailing_days == 1


BASE: dict[str, Any] = {"root": "lake", "first_day": "2025-01-01", "export": [OTS]}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"root": ...}, "'root' is required"),
        ({"root": ""}, "'root' must be a directory path"),
        ({"export": []}, r"at least one \[\[export\]\]"),
        ({"exports": [OTS]}, "unknown key 'exports' \\(did you mean 'export'\\?\\)"),
        (
            {"export": [{**OTS, "unknown_fields": "keep"}]},
            '\'unknown_fields\' must be "error" or "drop"',
        ),
        ({"first_day": ...}, "'first_day' is required"),
        ({"first_day": "2025-13-01"}, "'first_day' must be a date"),
        ({"first_day": dt.datetime(2025, 1, 1, 12)}, "must be a date, not a date and time"),
        ({"trailing_days": -1}, "'trailing_days' must be a whole number >= 0"),
        ({"trailing_days": True}, "'trailing_days' must be a whole number"),
        ({"partition": "week"}, "'partition' must be one of"),
        ({"batch_rows": 0}, "'batch_rows' must be a whole number >= 1"),
        ({"export": [{**OTS, "trailing_day": 2}]}, "did you mean 'trailing_days'"),
        ({"export": [{"time_resolution": "1h", "locations": 1}]}, "'data_type' is required"),
        ({"export": [{**OTS, "data_type": "otss"}]}, r"#1 \(otss_1h\): unknown data_type"),
        ({"export": [{**OTS, "time_resolution": "7d"}]}, "'7d' cannot be synced"),
        ({"export": [{**OTS, "time_resolution": "30d"}]}, "'30d' cannot be synced"),
        ({"export": [{**OTS, "locations": None}]}, "no source ids"),
        ({"export": [{**OTS, "locations": [1.5]}]}, "locations: 1.5 is not an id"),
        (
            {"export": [{**OTS, "group_by_demographics": True}]},
            "only works with aggregated viewers",
        ),
        ({"export": [{**OTS, "group_by_demographics": "yes"}]}, "must be True or False"),
        ({"export": [{**OTS, "name": "../up"}]}, "'name' must be a directory name"),
        ({"export": [{**OTS, "name": ".hidden"}]}, "'name' must be a directory name"),
        (
            {"export": [OTS, OTS]},
            r"#2 \(ots_1h\): name 'ots_1h' is already used by \[\[export\]\] #1",
        ),
        ({"export": [{**OTS, "first_day": "soon"}]}, r"#1 \(ots_1h\): 'first_day' must be a date"),
        ({"export": [{**OTS, "partition": "hour"}]}, r"#1 \(ots_1h\): 'partition' must be one of"),
        ({"export": ["ots"]}, "expected a table of keys"),
    ],
)
def test_an_invalid_configuration_names_the_key(change, message):
    data = {k: v for k, v in {**BASE, **change}.items() if v is not ...}  # ... removes a key
    with pytest.raises(vf.InvalidRequestError, match=message):
        SyncConfig.from_dict(data)


def test_an_unreadable_file_is_an_invalid_request(tmp_path):
    with pytest.raises(vf.InvalidRequestError, match="does not exist"):
        SyncConfig.load(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("root = \n")
    with pytest.raises(vf.InvalidRequestError, match=r"bad\.toml is not valid TOML"):
        SyncConfig.load(bad)


@pytest.mark.parametrize("today", ["2025-01-05", dt.datetime(2025, 1, 5, 13, 0), D(2025, 1, 5)])
def test_today_accepts_dates_text_and_datetimes(tmp_path, today):
    (plan,) = plan_sync(config(tmp_path, OTS, trailing_days=0), today=today)
    assert plan.units == 4
    with pytest.raises(vf.InvalidRequestError, match="'today' must be a date"):
        plan_sync(config(tmp_path, OTS), today="yesterday")
