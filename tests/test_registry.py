"""The export registry against the documentation it transcribes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import vidiframe as vf
from vidiframe._doc_history import DOC_VERSIONS
from vidiframe._registry import (
    DATA_TYPE_ALIASES,
    EXPORTS,
    TIME_RESOLUTIONS,
    ExportSpec,
    iter_exports,
)

SOURCES = Path(__file__).parent.parent / "docs" / "sources"
HISTORY = Path(__file__).parent / "data" / "history"
DOCS = {
    "2020-10": (SOURCES / "data-export-api-2020-10.rst").read_text().splitlines(),
    "2025-04": (SOURCES / "data-export-api-2025-04.rst").read_text().splitlines(),
}
# SPEC section 9 is not a document in the repo: its export types are listed here.
SPEC9_TYPES = {
    "im_nobackup",
    "im_ots",
    "im_ots_nobackup",
    "targeted_im",
    "content_plays",
    "retail_analytics_footfall",
    "retail_analytics_footfall_aggregated",
}


def allowed_data_types(lines: list[str]) -> set[str]:
    start = next(i for i, line in enumerate(lines) if line.startswith("* ``data_type``"))
    stop = next(i for i, line in enumerate(lines) if line.startswith("* ``time_resolution``"))
    return {
        m.group(1) for line in lines[start + 1 : stop] if (m := re.match(r"\s+\* ``(\w+)``", line))
    }


def section(version: str, title: str) -> list[str]:
    """The lines of a section of a seed document, up to the next heading of its level or above."""
    lines = DOCS[version]
    levels = {"=": 0, "-": 1, "^": 2}
    headings = {
        i: levels[lines[i + 1][0]]
        for i in range(len(lines) - 1)
        if lines[i].strip() and re.fullmatch(r"([=\-^])\1{2,}", lines[i + 1])
    }
    matches = [i for i in headings if lines[i].strip() == title]
    assert matches, f"no section {title!r} in the {version} document"
    begin = matches[0]
    end = next((i for i in headings if i > begin and headings[i] <= headings[begin]), len(lines))
    return lines[begin:end]


def test_every_documented_export_type_is_declared() -> None:
    documented = (
        allowed_data_types(DOCS["2020-10"]) | allowed_data_types(DOCS["2025-04"]) | SPEC9_TYPES
    )
    declared = {spec.data_type for spec in iter_exports()}
    assert documented == declared
    assert len(declared) == 27


def test_granularities_follow_the_docs() -> None:
    finest = {dt for dt, granularity in EXPORTS if granularity == "finest"}
    assert finest == {
        "viewers",
        "viewers_apc",
        "footfall",
        "vehicles",
        "vehicles_footfall",
        "pmp_sales_by_demographics",
        "pmp_sales_funnel",
        "retail_analytics_footfall",
    }
    assert {dt for dt, g in EXPORTS if g == "demographics"} == {"viewers"}
    assert ("viewers_apc", "aggregated") not in EXPORTS
    assert ("retail_analytics_footfall", "aggregated") not in EXPORTS
    hourly = {spec.data_type for spec in iter_exports() if spec.resolutions == ("1h",)}
    assert hourly == {"im", "im_ccs", "im_nobackup", "im_ots", "im_ots_nobackup", "targeted_im"}
    assert DATA_TYPE_ALIASES == {"persons": "footfall", "vehicles_persons": "vehicles_footfall"}


FIELDS = [(spec, f) for spec in iter_exports() for f in spec.fields]


def _vendored(source: str) -> bool:
    return source.split(" § ", maxsplit=1)[0] in DOCS


@pytest.mark.parametrize(
    ("spec", "field"),
    [(s, f) for s, f in FIELDS if _vendored(f.source)],
    ids=[f"{s.data_type}-{s.granularity}-{f.name}" for s, f in FIELDS if _vendored(f.source)],
)
def test_each_field_is_named_in_the_section_it_cites(spec: ExportSpec, field: vf.Field) -> None:
    version, title = field.source.split(" § ", 1)
    text = "\n".join(section(version, title))
    names = (
        field.all_names if field.name != "period_start" else ("period_start", spec.time_api_name)
    )
    assert any(f"``{n}``" in text or f'"{n}"' in text for n in names), (field.name, field.source)


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


# Fields the history documents in prose only (no example of the version shows them).
PROSE_ONLY = {
    # a67281b: "age in years, only available on finest export"; its example is aggregated
    "age_absolute",
    # 9a591a9 / 031f01d: "vidireports id / timestamp of the corresponding footfall record"
    # in the finest viewers prose; no viewers example shows them
    "footfall_id",
    "footfall_start",
}


def _sent_since(commit: str) -> set[str]:
    """Every key of every example of the documentation versions from ``commit`` on."""
    manifest = json.loads((HISTORY / "manifest.json").read_text())
    commits = [v.commit for v in DOC_VERSIONS]
    later = {
        v["commit"]
        for v in manifest["versions"]
        if commits.index(v["commit"]) >= commits.index(commit)
    }
    files = {name for v in manifest["versions"] if v["commit"] in later for name in v["files"]}
    return {k for name in files for k in _keys(json.loads((HISTORY / name).read_text()))}


@pytest.mark.parametrize(
    ("spec", "field"),
    [(s, f) for s, f in FIELDS if f.source.startswith("docs@")],
    ids=[
        f"{s.data_type}-{s.granularity}-{f.name}" for s, f in FIELDS if f.source.startswith("docs@")
    ],
)
def test_each_field_of_the_history_is_in_the_examples(spec: ExportSpec, field: vf.Field) -> None:
    """A field cited from a version of the doc history appears in its examples (or later ones)."""
    match = re.fullmatch(r"docs@(\w{7}) \((\d{4}-\d\d-\d\d)\) § .+", field.source)
    assert match, field.source
    commit, date = match.groups()
    assert {v.commit: v.date for v in DOC_VERSIONS}[commit] == date
    if field.name in PROSE_ONLY:
        return
    assert set(field.all_names) & _sent_since(commit), (field.name, field.source)


@pytest.mark.parametrize("spec", list(iter_exports()), ids=repr)
def test_each_export_cites_an_existing_section(spec: ExportSpec) -> None:
    if not _vendored(spec.source):
        return
    version, title = spec.source.split(" § ", 1)
    assert section(version, title.split(" § ")[0])


@pytest.mark.parametrize("spec", list(iter_exports()), ids=repr)
def test_each_schema_has_the_derived_columns(spec: ExportSpec) -> None:
    schema = spec.schema
    assert schema["period_start"] == pl.Datetime("us")
    assert schema["period_start_date"] == pl.Date
    assert schema["period_start_time"] == pl.Time
    assert schema["is_placeholder"] == pl.Boolean
    assert list(schema)[-1] == "is_placeholder"
    for f in spec.fields:
        if f.unit in ("tenths_of_second", "millisecond", "second") and f.kind != "list":
            assert schema[f.seconds_column] == pl.Float64
        if f.labels is not None:
            assert schema[f"{f.name}_label"] == pl.Enum([f.labels[c] for c in sorted(f.labels)])
    assert spec.metrics, "an export without metrics could never be a placeholder"
    assert set(spec.metrics).isdisjoint(spec.keys)


def test_units_named_by_the_spec() -> None:
    seconds_columns = {f.seconds_column for _, f in FIELDS if f.seconds_column}
    for name in [
        "dwell_time_s",
        "attention_time_s",
        "avg_dwell_time_s",
        "vehicle_presence_time_s",
        "footfall_presence_time_s",
        "total_presence_time_s",
        "avg_presence_time_s",
        "analysis_window_s",
        "duration_s",
        "content_duration_s",
        "presence_total_s",
        "watcher_dwell_time_s",
        "total_dwell_duration_s",
    ]:
        assert name in seconds_columns
    viewers = vf.get_export("viewers", "finest").by_name
    assert viewers["dwell_time_in_tenths_of_sec"].seconds_factor == 10
    apc = vf.get_export("viewers_apc", "finest").by_name["contents"]
    assert {sub.name: sub.seconds_factor for sub in apc.fields if sub.is_duration}[
        "dwell_time_in_milliseconds"
    ] == 1000
    compass = vf.get_export("compass", "1h").by_name
    assert compass["presence_total"].unit == "second"
    assert compass["ots_count_impressions"].legacy == ("ots_count",)


# Every rename the history of docs/source/data.rst shows, per export type, with the
# commit that made it: read off the diffs by hand, independent of the registry.
_DURATIONS = {
    "dwell_time": ("dwell_time_in_tenths_of_sec", "d31936d"),
    "attention_time": ("attention_time_in_tenths_of_sec", "d31936d"),
}
# f0bfa44 also renamed the proof of play totals, and made them integers: the
# fractional names of 2022-02-01 are fields of their own (RETYPED), not renames.
RETYPED = {
    "total_dwell_time_in_tenths_of_sec": ("dwell_time_in_tenths_of_sec", "f0bfa44"),
    "total_attention_time_in_tenths_of_sec": ("attention_time_in_tenths_of_sec", "f0bfa44"),
}
_POP_EXPORTS = [
    "proof_of_play_by_location",
    "proof_of_play_by_site",
    "proof_of_play_by_location_footfall_faces",
    "proof_of_play_by_site_footfall_faces",
]
_VEHICLES = {
    "dwell_time": ("vehicle_presence_time", "d31936d"),
    "impressions": ("vehicle_impressions", "d4a932c"),
}
_IM = {
    "vehicle_total_presence_time": ("vehicle_presence_time", "f0bfa44"),
    "footfall_total_dwell_time": ("footfall_presence_time", "f0bfa44"),
}
_VIEWERS_FINEST = {
    **_DURATIONS,
    "moustache": ("mustache", "2d33050"),
    "person_id": ("footfall_id", "031f01d"),
    "person_start": ("footfall_start", "031f01d"),
}
RENAMES: dict[tuple[str, str], dict[str, tuple[str, str]]] = {
    ("viewers", "finest"): _VIEWERS_FINEST,
    ("viewers_apc", "finest"): _VIEWERS_FINEST,
    ("viewers", "aggregated"): _DURATIONS,
    ("viewers", "demographics"): _DURATIONS,
    ("extrapolated_watchers", "aggregated"): _DURATIONS,
    ("vehicles", "finest"): _VEHICLES,
    ("vehicles", "aggregated"): _VEHICLES,
    ("footfall", "finest"): {"dwell_time": ("footfall_presence_time", "d31936d")},
    ("footfall", "aggregated"): {
        "dwell_time": ("footfall_presence_time", "d31936d"),
        "person_count": ("footfall_impressions", "d4a932c"),
    },
    ("im", "aggregated"): _IM,
    ("im_ccs", "aggregated"): _IM,
    ("compass", "aggregated"): {"ots_count": ("ots_count_impressions", "6c3790f")},
    ("content_plays", "aggregated"): {"play_count": ("plays", "6c3790f")},
}


@pytest.mark.parametrize("spec", list(iter_exports()), ids=repr)
def test_every_rename_of_the_history_is_declared(spec: ExportSpec) -> None:
    declared = {r.old: (f.name, r.commit) for f in spec.fields for r in f.renamed}
    assert declared == RENAMES.get(spec.key, {})
    for f in spec.fields:
        for sub in (f, *f.fields):
            # no old name without the commit it comes from
            assert sub.legacy == tuple(r.old for r in sub.renamed), sub.name
    expected = {old: new for old, (new, _) in declared.items()}
    if spec.time_api_name != "period_start":
        expected[spec.time_api_name] = "period_start"
    assert dict(spec.renames) == expected


@pytest.mark.parametrize("data_type", _POP_EXPORTS)
def test_a_rename_that_changed_the_type_keeps_each_era_in_its_own_column(data_type: str) -> None:
    # 44989fe (2022-02-01) sent fractional tenths (54.1); f0bfa44 renamed the fields to
    # integers. A fraction cannot be held by Int64, and rounding would change it.
    spec = vf.get_export(data_type, "1h")
    for old, (new, commit) in RETYPED.items():
        before, after = spec.by_name[old], spec.by_name[new]
        assert (before.dtype, after.dtype) == (pl.Float64, pl.Int64)
        assert before.dropped
        assert not after.dropped
        assert (before.unit, after.unit) == ("tenths_of_second", "tenths_of_second")
        assert old not in spec.renames
        assert "44989fe" in before.source
        assert commit in before.doc
        assert before.seconds_column == old.removesuffix("_in_tenths_of_sec") + "_tenths_s"
        assert spec.schema[before.seconds_column] == pl.Float64


def test_legacy_names_of_the_spec() -> None:
    contents = vf.get_export("viewers_apc", "finest").by_name["contents"]
    assert {
        r.old: (sub.name, r.commit, r.date) for sub in contents.fields for r in sub.renamed
    } == {
        "dwell_time": ("dwell_time_in_milliseconds", "d31936d", "2021-12-01"),
        "attention_time": ("attention_time_in_milliseconds", "d31936d", "2021-12-01"),
    }
    assert vf.get_export("viewers_apc", "finest").renames["start_time"] == "period_start"


def test_the_history_read_is_every_version() -> None:
    manifest = json.loads((HISTORY / "manifest.json").read_text())
    assert [(v["commit"], v["date"]) for v in manifest["versions"]] == [
        (v.commit, v.date) for v in DOC_VERSIONS
    ]
    assert len(DOC_VERSIONS) == 74
    assert (DOC_VERSIONS[0].date, DOC_VERSIONS[-1].date) == ("2016-08-25", "2026-07-06")


# What the placeholder rule counts as keys, and why (SPEC section 2): ids, time, the record
# id, the group an aggregate is split by, and names that only describe one of those.
KEYS = {
    "location_id",
    "site_id",
    "period_start",
    "vr_id",
    "content_id",
    "gate_id",
    "product",
    "zone_id",
    "zone_name",
    "location_name",
}


@pytest.mark.parametrize("spec", list(iter_exports()), ids=repr)
def test_keys_are_ids_time_and_groups(spec: ExportSpec) -> None:
    groups = {"gender", "age"} if spec.granularity == "demographics" else set()
    if spec.data_type == "pmp_sales_funnel" and spec.granularity == "aggregated":
        groups = {"gender", "age"}  # the aggregated funnel is split by demographic group
    assert set(spec.keys) == {f.name for f in spec.fields} & (KEYS | groups)
    assert set(spec.metrics) == {f.name for f in spec.fields} - set(spec.keys)


def test_every_time_resolution_is_known() -> None:
    assert TIME_RESOLUTIONS == ("finest", "5m", "10m", "15m", "30m", "1h", "1d", "7d", "30d", "1M")
    assert vf.TIME_RESOLUTIONS == TIME_RESOLUTIONS


def test_the_row_limits_of_the_spec() -> None:
    assert vf.get_export("viewers", "finest").row_limit == 3_000_000
    assert vf.get_export("viewers", "1h").row_limit == 20_000_000


def test_export_schema_accepts_the_2021_names() -> None:
    assert vf.export_schema("persons", "finest") == vf.export_schema("footfall", "finest")


# -- field kinds and typed quirks -------------------------------------------------------------


def _all_fields(fields: tuple[vf.Field, ...]) -> list[tuple[tuple[vf.Field, ...], vf.Field]]:
    """(siblings, field) for every field, nested ones with their list's fields as siblings."""
    out = [(fields, f) for f in fields]
    for f in fields:
        out += _all_fields(f.fields)
    return out


def test_each_kind_has_its_class() -> None:
    from vidiframe._field_types import FIELD_TYPES

    expected = {
        "int": pl.Int64,
        "float": pl.Float64,
        "str": pl.String,
        "bool": pl.Boolean,
        "datetime": pl.Datetime("us"),
        "date": pl.Date,
        "time": pl.Time,
    }
    assert set(FIELD_TYPES) == {*expected, "list", "struct"}
    for spec in iter_exports():
        for _, f in _all_fields(spec.fields):
            assert f.type is FIELD_TYPES[f.kind]
            if f.kind != "list":
                assert f.dtype == expected[f.kind], f.name


@pytest.mark.parametrize("spec", list(iter_exports()), ids=repr)
def test_typed_quirks_point_at_fields_of_the_same_row(spec: ExportSpec) -> None:
    for siblings, f in _all_fields(spec.fields):
        names = {n for s in siblings for n in s.all_names}
        if f.bounded_by:
            assert f.kind in ("int", "float")
            assert set(f.bounded_by) & names, (spec, f.name)
        if f.describes is not None:
            assert f.describes in names, (spec, f.name)
            assert f.kind == "str", f.name
        assert f.sent_as_float == ("sent as 1.0" in f.doc), f.name
        if f.pooled:
            assert f.role == "key", f.name
            assert f.kind in ("int", "str"), f.name
    assert [f.name for f in spec.fields if f.time_parts] == (
        [] if spec.time_as_parts and "period_start" not in spec.by_name else ["period_start"]
    )


@pytest.mark.parametrize("spec", list(iter_exports()), ids=repr)
def test_content_ids_selects_by_content_id(spec: ExportSpec) -> None:
    # The exports that accept content_ids select rows (or APC contents) by their
    # content_id; the fake filters on the fields that declare it, not on a name.
    from vidiframe._wire import CONTENT_IDS

    everywhere = [*spec.fields, *(sub for f in spec.fields for sub in f.fields)]
    filtered = {f.name for f in everywhere if f.filtered_by == CONTENT_IDS}
    assert filtered == ({"content_id"} if spec.accepts_content_ids else set())
