"""The export registry against the documentation it transcribes."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

import vidiframe as vf
from vidiframe._registry import (
    DATA_TYPE_ALIASES,
    EXPORTS,
    TIME_RESOLUTIONS,
    ExportSpec,
    iter_exports,
)

SOURCES = Path(__file__).parent.parent / "docs" / "sources"
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


@pytest.mark.parametrize(
    ("spec", "field"),
    [(s, f) for s, f in FIELDS if not f.source.startswith("SPEC")],
    ids=[
        f"{s.data_type}-{s.granularity}-{f.name}"
        for s, f in FIELDS
        if not f.source.startswith("SPEC")
    ],
)
def test_each_field_is_named_in_the_section_it_cites(spec: ExportSpec, field: vf.Field) -> None:
    version, title = field.source.split(" § ", 1)
    text = "\n".join(section(version, title))
    names = (
        field.all_names if field.name != "period_start" else ("period_start", spec.time_api_name)
    )
    assert any(f"``{n}``" in text or f'"{n}"' in text for n in names), (field.name, field.source)


@pytest.mark.parametrize("spec", list(iter_exports()), ids=repr)
def test_each_export_cites_an_existing_section(spec: ExportSpec) -> None:
    if spec.source.startswith("SPEC"):
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


def test_legacy_names_of_the_spec() -> None:
    viewers = vf.get_export("viewers", "finest")
    assert viewers.renames == {
        "dwell_time": "dwell_time_in_tenths_of_sec",
        "attention_time": "attention_time_in_tenths_of_sec",
    }
    contents = vf.get_export("viewers_apc", "finest").by_name["contents"]
    assert {old: sub.name for sub in contents.fields for old in sub.legacy} == {
        "dwell_time": "dwell_time_in_milliseconds",
        "attention_time": "attention_time_in_milliseconds",
    }
    assert vf.get_export("viewers_apc", "finest").renames["start_time"] == "period_start"


def test_every_time_resolution_is_known() -> None:
    assert TIME_RESOLUTIONS == ("finest", "5m", "10m", "15m", "30m", "1h", "1d", "7d", "30d", "1M")
    assert vf.TIME_RESOLUTIONS == TIME_RESOLUTIONS


def test_the_row_limits_of_the_spec() -> None:
    assert vf.get_export("viewers", "finest").row_limit == 3_000_000
    assert vf.get_export("viewers", "1h").row_limit == 20_000_000


def test_export_schema_accepts_the_2021_names() -> None:
    assert vf.export_schema("persons", "finest") == vf.export_schema("footfall", "finest")
