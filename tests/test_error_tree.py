"""One error tree: the public API, called with bad arguments, raises only VidiFrameError.

The list of callables is derived from ``vidiframe.__all__`` and the ``df.vidi`` /
``lf.vidi`` namespaces, so a new public name without bad-argument cases fails
:func:`test_every_public_callable_has_cases` until it gets some. Each case must
raise a :class:`vidiframe.VidiFrameError`: a raw exception (or no error at all)
fails it.

A case that still escapes the tree is wrapped in :func:`gap` (an ``xfail`` naming
the raw exception it raises today and the owner), so pytest's summary (``-ra``)
lists it on every run; none is left today.
"""

from __future__ import annotations

import datetime as dt
import functools
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import vidiframe as vf

Case = Callable[[], object]


def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Case:
    return functools.partial(fn, *args, **kwargs)


def viewers() -> pl.DataFrame:
    body = {
        "state": "finished",
        "data": [
            {
                "location_id": 1,
                "period_start": "2025-01-01 10:00:00",
                "watcher_count": 1,
                "gender": 1,
            }
        ],
    }
    return vf.read_vidicenter(
        body, data_type="viewers", time_resolution="1h", group_by_demographics=True
    )


def scratch() -> Path:
    # Only refused writes use it: nothing is ever written there.
    return Path(tempfile.mkdtemp(prefix="vidiframe-error-tree-"))


def method(
    kind: str, name: str, *args: Any, frame: Callable[[], pl.DataFrame] = viewers, **kw: Any
) -> Case:
    """Call ``frame().vidi.<name>(...)`` (lazy for ``lf``), collecting a lazy result."""

    def run() -> object:
        source: pl.DataFrame | pl.LazyFrame = frame() if kind == "df" else frame().lazy()
        result = getattr(source.vidi, name)(*args, **kw)
        return result.collect() if isinstance(result, pl.LazyFrame) else result

    return run


def gap(case: Case, raises: type[BaseException], owner: str) -> Any:
    return pytest.param(case, marks=pytest.mark.xfail(raises=raises, reason=owner, strict=False))


EMPTY = b'{"state": "finished", "data": []}'
DAY = dt.date(2025, 1, 1)
ONLINE = {"data_type": "viewers", "time_resolution": "1h", "locations": [1]}
CLIENT = {"username": "u", "token": "t", "cache_dir": None}
HTTPS = "https://vidicenter.example"
NO_CONFIG = "/nonexistent/vidiframe-lake.toml"

CASES: dict[str, list[Any]] = {
    "read_vidicenter": [
        call(vf.read_vidicenter, b"not json", data_type="viewers", time_resolution="1h"),
        call(vf.read_vidicenter, EMPTY, data_type="nope", time_resolution="1h"),
        call(vf.read_vidicenter, EMPTY, data_type="viewers", time_resolution="2h"),
        call(vf.read_vidicenter, EMPTY, data_type="viewers_apc", time_resolution="1h"),
        call(
            vf.read_vidicenter, EMPTY, data_type="viewers", time_resolution="1h", placeholders="x"
        ),
        call(vf.read_vidicenter, 42, data_type="viewers", time_resolution="1h"),
        call(vf.read_vidicenter, object(), data_type="viewers", time_resolution="1h"),
        call(vf.read_vidicenter, start="2025-01-02", end="2025-01-01", **ONLINE),
        call(vf.read_vidicenter, start="2025-01-01", end="2025-01-01", client="x", **ONLINE),
        call(vf.read_vidicenter, start="yesterday", end="2025-01-01", **ONLINE),
        call(
            vf.read_vidicenter,
            "/nonexistent/export.json",
            data_type="viewers",
            time_resolution="1h",
        ),
    ],
    # The dimensions (SPEC 10): unknown names, wrong bodies, online arguments offline.
    "dimension_schema": [call(vf.dimension_schema, "nope")],
    "read_dimension": [call(vf.read_dimension, "nope", "[]")],
    "read_networks": [
        call(vf.read_networks, '{"state": "finished", "data": []}'),
        call(vf.read_networks, 42),
    ],
    "read_sites": [call(vf.read_sites, "[]", network=5)],
    "read_locations": [call(vf.read_locations, '[{"id": "x"}]')],
    "read_boxes": [call(vf.read_boxes, "not json")],
    "read_site_tags": [call(vf.read_site_tags, '[{"id": "x"}]')],
    "read_location_tags": [call(vf.read_location_tags, b"[1, 2]")],
    "read_clip_metadata": [call(vf.read_clip_metadata, "/nonexistent/clips.json")],
    "read_alerts": [call(vf.read_alerts, "[]", hours=3)],
    "scan_vidicenter": [
        call(vf.scan_vidicenter, data_type="nope", time_resolution="1h"),
        call(vf.scan_vidicenter, data_type="viewers", time_resolution="2h"),
        call(vf.scan_vidicenter, data_type="viewers_apc", time_resolution="1h"),
        call(vf.scan_vidicenter, start="2025-01-02", end="2025-01-01", **ONLINE),
        call(vf.scan_vidicenter, start="2025-01-01", end="2025-01-01", client="x", **ONLINE),
        call(vf.scan_vidicenter, start="2025-01-01", end="2025-01-01", placeholders="x", **ONLINE),
    ],
    "explode_contents": [
        call(vf.explode_contents, pl.DataFrame({"a": [1]})),
        call(vf.explode_contents, "not a frame"),
    ],
    "drop_placeholders": [
        call(vf.drop_placeholders, pl.DataFrame({"a": [1]})),
        call(vf.drop_placeholders, "not a frame"),
    ],
    "fill_placeholders": [
        call(vf.fill_placeholders, pl.DataFrame({"a": [1]})),
        lambda: vf.fill_placeholders(viewers(), columns=["nope"]),
    ],
    "VidiCenterClient": [
        call(vf.VidiCenterClient, base_url="ftp://vidicenter.example", **CLIENT),
        call(vf.VidiCenterClient, base_url="http://vidicenter.example", **CLIENT),
        call(vf.VidiCenterClient, base_url="not a url", **CLIENT),
        call(vf.VidiCenterClient, base_url=HTTPS, request_timeout=-1, **CLIENT),
        call(vf.VidiCenterClient, base_url=HTTPS, download_timeout=0, **CLIENT),
        call(vf.VidiCenterClient, base_url=HTTPS, export_timeout="1h", **CLIENT),
        call(vf.VidiCenterClient, base_url=HTTPS, limits=3, **CLIENT),
        call(vf.VidiCenterClient, base_url=HTTPS, budget="50/min", **CLIENT),
        call(vf.VidiCenterClient, "u", "t", HTTPS, cache_dir=3),
    ],
    "Backoff": [
        call(vf.Backoff, -1.0),
        call(vf.Backoff, factor=0.5),
        call(vf.Backoff, initial=5.0, maximum=1.0),
        call(vf.Backoff, jitter=1.0),
        call(vf.Backoff, jitter="x"),
    ],
    "CallBudget": [
        call(vf.CallBudget, 0),
        call(vf.CallBudget, 2.5),
        call(vf.CallBudget, period=0),
        call(vf.CallBudget, margin=-1),
        call(vf.CallBudget, account=""),
    ],
    "ChunkPlanner": [
        call(vf.ChunkPlanner, max_rows=0),
        call(vf.ChunkPlanner, max_rows=1.5),
        call(vf.ChunkPlanner, fill=0),
        call(vf.ChunkPlanner, fill=2),
        call(vf.ChunkPlanner, locations_per_site=0),
    ],
    "Limits": [
        call(vf.Limits, exports=5),
        call(vf.Limits, exports=0),
        call(vf.Limits, connections=3),
        call(vf.Limits, connections="2"),
    ],
    "RetryPolicy": [
        call(vf.RetryPolicy, max_attempts=0),
        call(vf.RetryPolicy, max_retry_after=-1),
        call(vf.RetryPolicy, rate_limit_patience=-1),
        call(vf.RetryPolicy, unreachable_attempts=0),
        call(vf.RetryPolicy, backoff=3),
    ],
    "write_partitions": [
        lambda: vf.write_partitions(viewers(), scratch(), partition_by=["nope"]),
        lambda: vf.write_partitions(viewers(), scratch(), partition_by=["location_id"], mode="x"),  # type: ignore[arg-type]
        lambda: vf.write_partitions("not a frame", scratch(), partition_by=["a"]),  # type: ignore[arg-type]
        lambda: vf.write_partitions(
            viewers(),
            scratch(),
            partition_by=["location_id"],
            compression="x",  # type: ignore[arg-type]
        ),
    ],
    "scan_partitions": [
        call(vf.scan_partitions, "/nonexistent/vidiframe-lake"),
        call(vf.scan_partitions, 3),
    ],
    "read_inventory": [
        call(vf.read_inventory, "ftp://host/lake"),
        call(vf.read_inventory, 3),
    ],
    "scan_dimension_snapshots": [
        call(vf.scan_dimension_snapshots, "/nonexistent/vidiframe-lake", "locations"),
        call(vf.scan_dimension_snapshots, "/nonexistent/vidiframe-lake", "location"),
        call(vf.scan_dimension_snapshots, 3, "locations"),
        call(vf.scan_dimension_snapshots, "ftp://host/lake", "locations"),
        call(vf.scan_dimension_snapshots, "/nonexistent/vidiframe-lake", "sites", as_of="soon"),
        call(
            vf.scan_dimension_snapshots, "/nonexistent/lake", "sites", as_of=dt.datetime(2025, 1, 1)
        ),
    ],
    "dataset_lock": [
        lambda: vf.dataset_lock("ftp://host/lake").__enter__(),
        lambda: vf.dataset_lock(3).__enter__(),  # type: ignore[arg-type]
    ],
    "delete_partitions": [
        call(vf.delete_partitions, "ftp://host/lake", [{"location_id": 1}]),
    ],
    "replace_days": [
        lambda: vf.replace_days(
            viewers(), scratch(), days=[DAY], partition_by=["period_start_date"], format="csv"
        ),
        lambda: vf.replace_days(
            viewers(), scratch(), days=[DAY], partition_by=["period_start_date"], schema_mode="x"
        ),
        lambda: vf.replace_days(viewers(), scratch(), days=[DAY], partition_by=["nope"]),
        lambda: vf.replace_days(
            viewers(), "ftp://host/lake", days=[DAY], partition_by=["period_start_date"]
        ),
        lambda: vf.replace_days(
            viewers(), scratch(), days=["x"], partition_by=["period_start_date"]
        ),
    ],
    "by_period": [
        call(vf.by_period, "week"),
        call(vf.by_period, "mnth"),
        call(vf.by_period, "day", column=3),
    ],
    "period_for_resolution": [
        call(vf.period_for_resolution, "2h"),
        call(vf.period_for_resolution, None),
    ],
    "SyncConfig": [
        call(vf.SyncConfig.from_dict, {}),
        call(vf.SyncConfig.from_dict, {"root": "lake", "bogus": 1}),
        call(vf.SyncConfig.load, NO_CONFIG),
    ],
    "plan_sync": [
        call(vf.plan_sync, NO_CONFIG),
    ],
    "sync": [
        call(vf.sync, NO_CONFIG),
        call(vf.sync, 3),
    ],
    "export_schema": [
        call(vf.export_schema, "nope", "1h"),
        call(vf.export_schema, "viewers", "2h"),
        call(vf.export_schema, "viewers_apc", "1h"),
    ],
    "get_export": [
        call(vf.get_export, "nope", "1h"),
        call(vf.get_export, "viewers", "2h"),
        call(vf.get_export, "ots", "finest", group_by_demographics=True),
    ],
}

# The namespaces: the same cases on the eager and the lazy frame.
for _kind in ("df", "lf"):
    CASES.update(
        {
            f"{_kind}.vidi.labels": [
                method(_kind, "labels", "nope"),
                method(_kind, "labels", "watcher_count"),
            ],
            f"{_kind}.vidi.durations": [
                method(_kind, "durations", "nope"),
                method(_kind, "durations", time_unit="bogus"),
            ],
            f"{_kind}.vidi.with_durations": [
                method(_kind, "with_durations", "nope"),
                method(_kind, "with_durations", time_unit="bogus"),
            ],
            f"{_kind}.vidi.drop_placeholders": [
                method(_kind, "drop_placeholders", frame=lambda: pl.DataFrame({"a": [1]})),
            ],
            f"{_kind}.vidi.fill_placeholders": [
                method(_kind, "fill_placeholders", frame=lambda: pl.DataFrame({"a": [1]})),
                method(_kind, "fill_placeholders", columns=["nope"]),
            ],
            f"{_kind}.vidi.explode_contents": [method(_kind, "explode_contents")],
        }
    )
# The joins of dimensions, eager and lazy: the lazy ones refuse some of it when collected.
LOCATIONS = '[{"id": 1, "site_id": 2, "label": "Door", "last_timezone": 3600}]'
CLIPS = (
    '[{"network_id": 1, "clip_id": "a", "id": 1, "name": "A"},'
    ' {"network_id": 2, "clip_id": "a", "id": 2, "name": "Other A"}]'
)


def plays() -> pl.DataFrame:
    return pl.DataFrame({"location_id": [1], "content_id": ["a"], "plays": [3]})


for _kind in ("df", "lf"):
    CASES.update(
        {
            f"{_kind}.vidi.with_names": [
                method(_kind, "with_names", locations="not a frame"),
                method(_kind, "with_names", locations=pl.DataFrame({"x": [1]}), frame=pl.DataFrame),
                method(_kind, "with_names", locations=pl.scan_parquet("/nonexistent/loc.parquet")),
                method(_kind, "with_names", locations=vf.read_locations(LOCATIONS), as_of="nope"),
                method(
                    _kind,
                    "with_names",
                    locations=vf.read_locations(LOCATIONS),
                    as_of="period_start",
                ),
                method(
                    _kind,
                    "with_names",
                    locations=vf.read_locations(LOCATIONS),
                    frame=lambda: pl.DataFrame({"location_id": ["1"]}),
                ),
            ],
            f"{_kind}.vidi.with_clip_names": [
                method(_kind, "with_clip_names", "not a frame"),
                method(_kind, "with_clip_names", vf.read_clip_metadata("[]")),
                method(_kind, "with_clip_names", vf.read_clip_metadata(CLIPS), frame=plays),
            ],
            f"{_kind}.vidi.with_utc": [
                method(_kind, "with_utc", "not a frame"),
                method(
                    _kind,
                    "with_utc",
                    vf.read_locations("[]"),
                    frame=lambda: pl.DataFrame({"a": [1]}),
                ),
                method(_kind, "with_utc", vf.read_locations(LOCATIONS), as_of="period_start_date"),
            ],
        }
    )
CASES["df.vidi.write_partitions"] = [
    lambda: viewers().vidi.write_partitions(scratch(), partition_by="nope"),
]

# Callables without an argument to get wrong.
NO_ARGUMENTS = {"iter_exports", "df.vidi.to_pandas"}
# Public types that are results or registry entries, not inputs: what they are
# built from is checked where users give it (the registry, sync's configuration).
NOT_INPUTS = {
    "Field": "a registry entry; issue 10 item 7 makes each kind of field a class",
    "ExportSpec": "a registry entry, built by the registry and looked up with get_export",
    "SyncReport": "what sync returns",
    "PartitionChanges": "what write_partitions reports it changed",
    "DatasetInventory": "what read_inventory returns",
}


def public_callables() -> set[str]:
    names = set()
    for name in vf.__all__:
        obj = getattr(vf, name)
        if isinstance(obj, type) and issubclass(obj, (BaseException, Warning)):
            continue  # errors and warnings are raised, not called with arguments
        if callable(obj):
            names.add(name)
    for kind, frame in (("df", pl.DataFrame()), ("lf", pl.LazyFrame())):
        namespace = type(frame.vidi)
        names.update(
            f"{kind}.vidi.{m}"
            for m in dir(namespace)
            if not m.startswith("_") and callable(getattr(namespace, m))
        )
    return names


def test_every_public_callable_has_cases() -> None:
    public = public_callables()
    covered = set(CASES) | NO_ARGUMENTS | set(NOT_INPUTS)
    assert public - covered == set(), "public callables without bad-argument cases"
    assert covered - public == set(), "cases for names that are no longer public"
    assert all(CASES.values())
    # The walk reaches both namespaces and the client: the derivation is not empty.
    assert {"df.vidi.labels", "lf.vidi.labels", "VidiCenterClient", "by_period"} <= public


def test_no_argument_callables_take_none() -> None:
    import inspect

    assert inspect.signature(vf.iter_exports).parameters == {}
    assert list(inspect.signature(type(pl.DataFrame().vidi).to_pandas).parameters) == ["self"]


def _params() -> list[Any]:
    params = []
    for name, cases in CASES.items():
        for i, entry in enumerate(cases):
            # A gap is already a pytest.param (the case and its xfail mark).
            values, marks = (
                (entry.values, entry.marks) if hasattr(entry, "marks") else ((entry,), ())
            )
            params.append(pytest.param(*values, id=f"{name}-{i}", marks=marks))
    return params


PARAMS = _params()


@pytest.mark.parametrize("case", PARAMS)
def test_bad_arguments_raise_only_vidiframe_errors(case: Case) -> None:
    with pytest.raises(vf.VidiFrameError) as info:
        case()
    # A message a user can act on: one line or more, never empty.
    assert str(info.value).strip()


@pytest.mark.parametrize(
    ("case", "message"),
    [
        (call(vf.period_for_resolution, "2h"), "did you mean '1h'?"),
        (call(vf.by_period, "mnth"), "did you mean 'month'?"),
        (call(vf.by_period, "week"), "one of 'day', 'month', 'year'"),
        (call(vf.Limits, exports=5), "exports must be an integer in [1, 3], got 5"),
        (call(vf.ChunkPlanner, max_rows=0), "max_rows must be an integer in [1, inf], got 0"),
        (method("lf", "durations", time_unit="mss"), "did you mean 'ms'?"),
        (call(vf.write_partitions, "x", "/nonexistent", partition_by="a"), "not str"),
        (call(vf.scan_partitions, 3), "a str or os.PathLike"),
        (call(vf.sync, 3), "a SyncConfig or the path of a TOML file, not int"),
        (
            lambda: vf.replace_days(viewers(), scratch(), days=["x"], partition_by="a"),
            "pass datetime.date values",
        ),
    ],
)
def test_the_named_value_errors_are_invalid_request_errors(case: Case, message: str) -> None:
    with pytest.raises(vf.InvalidRequestError) as info:
        case()
    assert isinstance(info.value, ValueError)  # callers catching ValueError still do
    assert message in str(info.value)


@pytest.mark.parametrize("kind", ["fn", "df", "lf"])
def test_an_unknown_fill_column_is_a_schema_error_with_its_fix(kind: str) -> None:
    case = (
        (lambda: vf.fill_placeholders(viewers(), columns=["watcher_cont"]))
        if kind == "fn"
        else method(kind, "fill_placeholders", columns=["watcher_cont"])
    )
    with pytest.raises(
        vf.SchemaError, match=r"no 'watcher_cont' column \(did you mean 'watcher_count'\?\)"
    ):
        case()
