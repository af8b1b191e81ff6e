"""Every example response of the two documentation versions, read through the public API.

The fixtures in ``tests/fixtures/seeds/`` are the examples of ``docs/sources/*.rst``
made valid JSON (``tests/fixtures/seeds/README.md`` lists each repair). This module

- checks that each fixture still says what the docs say, with its own tolerant
  parser of the doc text (so fixtures and docs cannot drift apart);
- reads each fixture with ``vf.read_vidicenter`` and compares the whole frame with an
  expected frame written out here by hand from the docs and SPEC section 2;
- checks the response states, the strictness of the parser on the unrepaired doc
  text, and that every source form gives the same frame.

The expected frames take their dtypes from ``vf.export_schema`` (the registry is the
contract for column names, order and types); every value is written out here. A few
contract dtypes are also checked against hand-written dtypes, independent of the
registry.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import textwrap
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import vidiframe as vf

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "docs" / "sources"
SEEDS = ROOT / "tests" / "fixtures" / "seeds"

V2020 = "data-export-api-2020-10.rst"
V2025 = "data-export-api-2025-04.rst"

# -- where each fixture comes from --------------------------------------------------------------
# fixture -> (doc, first line of its JSON text, the ``^^^`` section it sits in). The end
# of the JSON text is found by bracket depth; the set of blocks is checked against the
# docs, so a missing or misplaced entry fails a test.

DOC_SOURCES: dict[str, tuple[str, int, str]] = {
    "2020-10/state_started.json": (V2020, 106, "First call starts the export"),
    "2020-10/state_in_progress.json": (V2020, 116, "We immediately make the same call"),
    "2020-10/state_started_force_rebuild.json": (
        V2020,
        139,
        "We may ask for VidiCenter to rebuild the exports, to take into accounts recent "
        "uploads for example",
    ),
    "2020-10/viewers_finest_pro.json": (V2020, 195, "Finest viewers export"),
    "2020-10/viewers_finest_expert.json": (V2020, 244, "Finest viewers export"),
    "2020-10/viewers_apc.json": (V2020, 315, "Finest viewers APC export"),
    "2020-10/viewers_1h.json": (V2020, 428, "Aggregated viewers export"),
    "2020-10/viewers_1h_demographics.json": (V2020, 466, "Aggregated viewers export"),
    "2020-10/ots_1h.json": (V2020, 510, "Aggregated OTS export"),
    "2020-10/gate_1h.json": (V2020, 571, "Aggregated gate export"),
    "2020-10/proof_of_play_by_location_1h.json": (V2020, 625, "Proof of play by location export"),
    "2020-10/proof_of_play_by_site_1h.json": (V2020, 691, "Proof of play by site export"),
    "2020-10/placeholders_ots_1d.json": (V2020, 740, "Placeholder data and null values"),
    "2025-04/state_started.json": (V2025, 124, "First call starts the export"),
    "2025-04/state_in_progress.json": (V2025, 134, "We immediately make the same call"),
    "2025-04/state_started_force_rebuild.json": (
        V2025,
        157,
        "We may ask for VidiCenter to rebuild the exports, to take into accounts recent "
        "uploads for example",
    ),
    "2025-04/viewers_finest_pro.json": (V2025, 219, "Finest viewers export"),
    "2025-04/viewers_finest_core.json": (V2025, 262, "Finest viewers export"),
    "2025-04/viewers_apc.json": (V2025, 330, "Finest viewers APC export"),
    "2025-04/viewers_1h.json": (V2025, 440, "Aggregated viewers export"),
    "2025-04/viewers_1h_demographics.json": (V2025, 478, "Aggregated viewers export"),
    "2025-04/ots_1h.json": (V2025, 525, "Aggregated OTS export"),
    "2025-04/gate_1h.json": (V2025, 589, "Aggregated gate export"),
    "2025-04/proof_of_play_by_location_1h.json": (V2025, 650, "Proof of play by location export"),
    "2025-04/proof_of_play_by_site_1h.json": (V2025, 762, "Proof of play by site export"),
    "2025-04/proof_of_play_vehicle_person_by_location_1h.json": (
        V2025,
        893,
        "Proof of play by location export for Vehicles & Footfall data",
    ),
    "2025-04/proof_of_play_vehicle_person_by_site_1h.json": (
        V2025,
        972,
        "Proof of play by site export for Vehicles & Footfall data",
    ),
    "2025-04/extrapolated_watchers_1h.json": (V2025, 1042, "Extrapolated watchers export"),
    "2025-04/extrapolated_ots_1h.json": (V2025, 1092, "Extrapolated OTS export"),
    "2025-04/footfall_finest.json": (V2025, 1145, "Finest footfall export"),
    "2025-04/footfall_1h.json": (V2025, 1181, "Aggregated footfall export"),
    "2025-04/vehicles_finest.json": (V2025, 1244, "Finest vehicles export"),
    "2025-04/vehicles_1h.json": (V2025, 1290, "Aggregated vehicles export"),
    "2025-04/vehicles_footfall_finest.json": (V2025, 1347, "Finest footfall + vehicles export"),
    "2025-04/vehicles_footfall_30m.json": (V2025, 1400, "Aggregated footfall + vehicles export"),
    "2025-04/im_1h.json": (V2025, 1482, "Impression multiplier export"),
    "2025-04/pmp_sales_by_demographics_1h.json": (
        V2025,
        1570,
        "Product sales by demographics export",
    ),
    "2025-04/pmp_sales_funnel_1h.json": (V2025, 1665, "Product sales funnel export"),
    "2025-04/compass_1h.json": (V2025, 1737, "Compass export"),
    "2025-04/placeholders_ots_1d.json": (V2025, 1786, "Placeholder data and null values"),
}

# Example blocks that are not fixtures: ``"data": [...]`` elides all the data, so there
# is nothing to keep (an empty list would invent a value).
NOT_FIXTURES: dict[str, tuple[int, ...]] = {V2020: (127,), V2025: (145,)}

# The examples whose doc text is not valid JSON (the fixtures repair them).
RAW_INVALID: frozenset[str] = frozenset(
    {
        "2020-10/state_started.json",
        "2020-10/state_started_force_rebuild.json",
        "2020-10/viewers_1h.json",
        "2020-10/viewers_1h_demographics.json",
        "2020-10/proof_of_play_by_location_1h.json",
        "2020-10/proof_of_play_by_site_1h.json",
        "2020-10/placeholders_ots_1d.json",
        "2025-04/state_started.json",
        "2025-04/state_started_force_rebuild.json",
        "2025-04/viewers_finest_pro.json",
        "2025-04/viewers_finest_core.json",
        "2025-04/viewers_1h.json",
        "2025-04/viewers_1h_demographics.json",
        "2025-04/proof_of_play_by_location_1h.json",
        "2025-04/proof_of_play_by_site_1h.json",
        "2025-04/proof_of_play_vehicle_person_by_location_1h.json",
        "2025-04/proof_of_play_vehicle_person_by_site_1h.json",
        "2025-04/extrapolated_watchers_1h.json",
        "2025-04/footfall_finest.json",
        "2025-04/footfall_1h.json",
        "2025-04/vehicles_finest.json",
        "2025-04/vehicles_1h.json",
        "2025-04/vehicles_footfall_finest.json",
        "2025-04/vehicles_footfall_30m.json",
        "2025-04/im_1h.json",
        "2025-04/compass_1h.json",
        "2025-04/placeholders_ots_1d.json",
    }
)

NOT_READY: dict[str, str] = {
    "2020-10/state_started.json": "started",
    "2020-10/state_in_progress.json": "in_progress",
    "2020-10/state_started_force_rebuild.json": "started",
    "2025-04/state_started.json": "started",
    "2025-04/state_in_progress.json": "in_progress",
    "2025-04/state_started_force_rebuild.json": "started",
}


# -- reading the docs, tolerantly -----------------------------------------------------------------


def doc_lines(doc: str) -> list[str]:
    return (SOURCES / doc).read_text(encoding="utf-8").split("\n")


def block_end(lines: list[str], first: int) -> int:
    """The last line (1-based) of the JSON text starting at ``first``, by bracket depth."""
    depth = 0
    for number in range(first, len(lines) + 1):
        text = lines[number - 1]
        depth += text.count("{") + text.count("[") - text.count("}") - text.count("]")
        if depth == 0:
            return number
    raise AssertionError(f"unbalanced example starting at line {first}")


def example_starts(doc: str) -> list[int]:
    """First JSON line of every literal block (``::``) of the doc, after its curl line."""
    lines = doc_lines(doc)
    starts = []
    for index, text in enumerate(lines):
        if not text.rstrip().endswith("::"):
            continue
        number = index + 2  # the line after the ``::`` line, 1-based
        while not lines[number - 1].strip():
            number += 1
        if lines[number - 1].lstrip().startswith("curl "):
            number += 1
        starts.append(number)
    return starts


def raw_example(fixture: str) -> str:
    """The example's text as the docs print it (unrepaired), dedented."""
    doc, first, _ = DOC_SOURCES[fixture]
    lines = doc_lines(doc)
    return textwrap.dedent("\n".join(lines[first - 1 : block_end(lines, first)]))


def curl_query(fixture: str) -> dict[str, str] | None:
    doc, first, _ = DOC_SOURCES[fixture]
    match = re.search(r"'(https://[^']+)'", doc_lines(doc)[first - 2])
    if match is None:
        return None
    return {k: v[0] for k, v in parse_qs(urlsplit(match.group(1)).query).items()}


def section_of(doc: str, first: int) -> str:
    """The ``^^^``-underlined heading above a line."""
    lines = doc_lines(doc)
    for index in range(first - 2, 0, -1):
        under, title = lines[index].strip(), lines[index - 1].strip()
        if title and under and set(under) == {"^"} and len(under) >= len(title):
            return title
    raise AssertionError(f"no section above line {first} of {doc}")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    assert len(keys) == len(set(keys)), f"duplicate key in the docs: {keys}"
    return dict(pairs)


def tolerant_loads(text: str) -> Any:
    """Parse doc JSON as a human reads it: elisions, quotes and commas forgiven.

    Independent of ``extract.py`` (which repairs listed lines): this normalises the
    whole text with regular expressions, then parses with the standard library.
    """
    text = "\n".join(line for line in text.split("\n") if line.strip() not in ("...", "...,"))
    text = re.sub(r"'([^'\"\n]*)'", r'"\1"', text)  # single-quoted strings
    # a value at the end of a line followed by a key or an object: a missing comma
    text = re.sub(r'([\d"el\]}])([ \t]*\n\s*["{])', r"\1,\2", text)
    text = re.sub(r",(\s*[}\]])", r"\1", text)  # trailing commas
    value = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    if isinstance(value, list):  # the placeholder example is a bare ``data`` list
        value = {"state": "finished", "data": value}
    return value


def assert_same_json(got: Any, want: Any, where: str = "$") -> None:
    """Equal values of equal JSON types, objects with equal key order."""
    assert type(got) is type(want), f"{where}: {got!r} ({type(got).__name__}) != {want!r}"
    if isinstance(want, dict):
        assert list(got) == list(want), f"{where}: keys {list(got)} != {list(want)}"
        for key in want:
            assert_same_json(got[key], want[key], f"{where}.{key}")
    elif isinstance(want, list):
        assert len(got) == len(want), f"{where}: {len(got)} elements != {len(want)}"
        for index, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_same_json(g, w, f"{where}[{index}]")
    else:
        assert got == want, f"{where}: {got!r} != {want!r}"


def fixture_files() -> set[str]:
    return {path.relative_to(SEEDS).as_posix() for path in SEEDS.glob("*/*.json")}


# -- fixtures against the docs ------------------------------------------------------------------


def test_every_example_of_the_docs_has_a_fixture() -> None:
    for doc in (V2020, V2025):
        starts = set(example_starts(doc))
        covered = {first for d, first, _ in DOC_SOURCES.values() if d == doc}
        assert starts == covered | set(NOT_FIXTURES[doc]), doc
        for first in NOT_FIXTURES[doc]:
            assert '"data": [...]' in "\n".join(doc_lines(doc)[first - 1 : first + 3])
    assert fixture_files() == set(DOC_SOURCES)


@pytest.mark.parametrize("fixture", sorted(DOC_SOURCES))
def test_fixture_is_the_doc_example(fixture: str) -> None:
    doc, first, section = DOC_SOURCES[fixture]
    assert section_of(doc, first) == section
    fixture_value = orjson.loads((SEEDS / fixture).read_bytes())
    assert_same_json(fixture_value, tolerant_loads(raw_example(fixture)))


@pytest.mark.parametrize("fixture", sorted(DOC_SOURCES))
def test_raw_invalid_list_is_exact(fixture: str) -> None:
    try:
        json.loads(raw_example(fixture))
    except json.JSONDecodeError:
        assert fixture in RAW_INVALID
    else:
        assert fixture not in RAW_INVALID


# -- expected frames ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A fixture, the request it answers, and the frame it must give (every column)."""

    data_type: str
    time_resolution: str
    columns: dict[str, list[Any]]
    group_by_demographics: bool = False

    def schema(self) -> pl.Schema:
        return vf.export_schema(
            self.data_type,
            self.time_resolution,
            group_by_demographics=self.group_by_demographics,
        )

    def expected(self) -> pl.DataFrame:
        schema = self.schema()
        missing = [name for name in schema if name not in self.columns]
        unknown = [name for name in self.columns if name not in schema]
        assert not missing, f"expected values not written for {missing}"
        assert not unknown, f"expected values for columns the schema lacks: {unknown}"
        return pl.DataFrame({name: self.columns[name] for name in schema}, schema=schema)

    def read(self, source: Any, **kw: Any) -> pl.DataFrame:
        return vf.read_vidicenter(
            source,
            data_type=self.data_type,
            time_resolution=self.time_resolution,
            group_by_demographics=self.group_by_demographics,
            **kw,
        )


def times(*stamps: str) -> dict[str, list[Any]]:
    """``period_start`` and its date and time columns, from the stamps the docs show."""
    moments = [dt.datetime.fromisoformat(stamp) for stamp in stamps]
    return {
        "period_start": moments,
        "period_start_date": [m.date() for m in moments],
        "period_start_time": [m.time() for m in moments],
    }


def nulls(rows: int, *names: str) -> dict[str, list[None]]:
    return {name: [None] * rows for name in names}


def same(rows: int, **values: Any) -> dict[str, list[Any]]:
    return {name: [value] * rows for name, value in values.items()}


VIEWER_LINKS = ("vr_id", "footfall_id", "footfall_start")
WATCHER_LINKS = ("vr_id", "watcher_id", "watcher_start", "tracking_mode")
MOODS = ("very_happy", "happy", "neutral", "unhappy", "very_unhappy")
EXPERT = ("glasses", "glasses_label", "mustache", "mustache_label", "beard", "beard_label")
POP_BREAKDOWN = (
    "watchers_masked",
    "watchers_child_male",
    "watchers_young_adult_male",
    "watchers_adult_male",
    "watchers_senior_male",
    "watchers_child_female",
    "watchers_young_adult_female",
    "watchers_adult_female",
    "watchers_senior_female",
)
# Proof of play totals in seconds, 2022-01-27 to 2022-01-31 only (doc history 9ba386a)
POP_SECONDS_ERA = (
    "total_dwell_time",
    "total_dwell_time_s",
    "total_attention_time",
    "total_attention_time_s",
    # and in fractional tenths on 2022-02-01 only (44989fe): null here too.
    "total_dwell_time_in_tenths_of_sec",
    "total_dwell_time_tenths_s",
    "total_attention_time_in_tenths_of_sec",
    "total_attention_time_tenths_s",
)
POP_TIMES = (
    "dwell_time_in_tenths_of_sec",
    "dwell_time_s",
    "attention_time_in_tenths_of_sec",
    "attention_time_s",
    "avg_dwell_time_in_tenths_of_sec",
    "avg_dwell_time_s",
    "avg_attention_time_in_tenths_of_sec",
    "avg_attention_time_s",
)

# Finest viewers, PRO: the same two viewers in both versions (2020 sends the expert
# keys as null, 2025 does not send them: null either way).
VIEWERS_PRO = {
    **same(2, location_id=8264),
    **times("2018-01-29T00:00:27", "2018-01-29T00:03:57"),
    "gender": [1, 1],
    "gender_label": ["male", "male"],
    "age": [3, 2],
    "age_label": ["adult", "young adult"],
    "age_value": [None, None],
    "dwell_time_in_tenths_of_sec": [41, 54],
    "dwell_time_s": [4.1, 5.4],
    "attention_time_in_tenths_of_sec": [16, 39],
    "attention_time_s": [1.6, 3.9],
    **nulls(2, *MOODS, *EXPERT, *VIEWER_LINKS),
    "is_placeholder": [False, False],
}

VIEWERS_CORE = {
    **same(2, location_id=8866),
    **times("2018-01-29T01:28:52", "2018-01-29T00:25:18"),
    "gender": [2, 1],
    "gender_label": ["female", "male"],
    "age": [2, 3],
    "age_label": ["young adult", "adult"],
    "age_value": [19, 57],
    "dwell_time_in_tenths_of_sec": [24, 37],
    "dwell_time_s": [2.4, 3.7],
    "attention_time_in_tenths_of_sec": [8, 3],
    "attention_time_s": [0.8, 0.3],
    "very_happy": [33.333333333333336, 0.0],
    "happy": [0.0, 49.80392156862745],
    "neutral": [66.66666666666666, 0.39215686274509665],
    "unhappy": [0.0, 49.80392156862745],
    "very_unhappy": [0.0, 0.0],
    **nulls(2, *EXPERT, *VIEWER_LINKS),
    "is_placeholder": [False, False],
}

VIEWERS_EXPERT = {
    **VIEWERS_CORE,
    "glasses": [1, 3],
    "glasses_label": ["no glasses", "sunglasses"],
    "mustache": [1, 2],
    "mustache_label": ["no mustache", "mustache"],
    "beard": [1, 2],
    "beard_label": ["no beard", "beard"],
}


def apc_contents(app_id: str | None) -> list[list[dict[str, Any]]]:
    """The ``contents`` of the two APC viewers, under their current names."""

    def content(cid: str, campaign: str | None, dwell: int, attention: int, **moods: int):
        return {
            "content_id": cid,
            "app_id": app_id,
            "campaign_id": campaign,
            "dwell_time_in_milliseconds": dwell,
            "attention_time_in_milliseconds": attention,
            "very_happy_time": moods["very_happy"],
            "happy_time": moods["happy"],
            "neutral_time": moods["neutral"],
            "unhappy_time": moods["unhappy"],
            "very_unhappy_time": moods["very_unhappy"],
        }

    zero = {"very_happy": 0, "unhappy": 0, "very_unhappy": 0}
    return [
        [
            content("my_very_own_content_id", None, 928, 192, happy=0, neutral=192, **zero),
            content("another_content_id", "A campaign id", 925, 925, happy=0, neutral=925, **zero),
        ],
        [content("my_very_own_content_id", None, 15, 542, happy=542, neutral=0, **zero)],
    ]


VIEWERS_APC_2025 = {
    **same(2, location_id=38918),
    **times("2018-01-14T09:29:10", "2018-01-14T09:21:54"),
    "gender": [2, 2],
    "gender_label": ["female", "female"],
    "age": [1, 3],
    "age_label": ["child", "adult"],
    "age_value": [8, 40],
    "dwell_time_in_tenths_of_sec": [29, 10],
    "dwell_time_s": [2.9, 1.0],
    "attention_time_in_tenths_of_sec": [12, 5],
    "attention_time_s": [1.2, 0.5],
    "very_happy": [9.803921568627452, 0.0],
    "happy": [20.0, 66.66666666666667],
    "neutral": [70.19607843137254, 33.33333333333333],
    "unhappy": [0.0, 0.0],
    "very_unhappy": [0.0, 0.0],
    **nulls(2, *EXPERT, *VIEWER_LINKS),
    "contents": apc_contents("my_app_id"),
    "is_placeholder": [False, False],
}

VIEWERS_APC_2020 = {
    **VIEWERS_APC_2025,
    "glasses": [1, 1],
    "glasses_label": ["no glasses", "no glasses"],
    "mustache": [1, 1],
    "mustache_label": ["no mustache", "no mustache"],
    "beard": [1, 1],
    "beard_label": ["no beard", "no beard"],
}

VIEWERS_1H = {
    **same(3, location_id=4636),
    **times("2018-01-29 02:00:00", "2018-01-29 03:00:00", "2018-01-29 04:00:00"),
    "watcher_count": [1, 0, 3],
    "dwell_time_in_tenths_of_sec": [12, 0, 83],
    "dwell_time_s": [1.2, 0.0, 8.3],
    "attention_time_in_tenths_of_sec": [3, 0, 27],
    "attention_time_s": [0.3, 0.0, 2.7],
    "conversion_ratio": [11.11111111111111, 0.0, 27.272727272727273],
    "is_placeholder": [False, False, False],
}

# The second group has watcher_count 0 (not null): it is not a placeholder.
VIEWERS_1H_DEMOGRAPHICS = {
    **same(2, location_id=9876),
    **times("2018-01-29 04:00:00", "2018-01-29 04:00:00"),
    "gender": [1, 0],
    "gender_label": ["male", "unknown"],
    "age": [3, 0],
    "age_label": ["adult", "unknown"],
    "watcher_count": [3, 0],
    "dwell_time_in_tenths_of_sec": [83, None],
    "dwell_time_s": [8.3, None],
    "attention_time_in_tenths_of_sec": [27, None],
    "attention_time_s": [2.7, None],
    "is_placeholder": [False, False],
}

OTS_HOURS = times(
    "2018-01-29 00:00:00",
    "2018-01-29 01:00:00",
    "2018-01-29 02:00:00",
    "2018-01-29 03:00:00",
    "2018-01-29 04:00:00",
)

OTS_1H = {
    **same(5, location_id=1467),
    **OTS_HOURS,
    "ots_count": [4, 0, 9, 0, 11],
    **same(5, duration=3600.0, duration_s=3600.0),
    "watcher_count": [3, 0, 1, 0, 3],
    **nulls(5, "effective_ots_count", "status"),
    "is_placeholder": [False] * 5,
}

GATE_1H = {
    **same(3, location_id=26549),
    **times("2018-01-19 10:00:00", "2018-01-19 11:00:00", "2018-01-19 12:00:00"),
    "gate_id": [1, 1, 1],
    "in_count": [8, 14, 16],
    "out_count": [18, 36, 32],
    **same(3, duration=3600.0, duration_s=3600.0),
    "is_placeholder": [False] * 3,
}

POP_HOURS = times("2018-01-29 02:00:00", "2018-01-29 03:00:00", "2018-01-29 04:00:00")

POP_LOCATION_2020 = {
    **same(3, location_id=4636, content_id="content one", duration=3600.0, duration_s=3600.0),
    **POP_HOURS,
    "content_duration": [12.2, 7.8, 12.2],
    "content_duration_s": [12.2, 7.8, 12.2],
    "impressions": [32.0, 96.0, 8.0],
    "estimated_ots": [32.0, 96.0, 8.0],
    "play_count": [12, 22, 33],
    "impressions_per_play": [None] * 3,
    "watchers": [8, 64, 4],
    "watchers_2sec": [6, 20, 1],
    **nulls(3, *POP_BREAKDOWN, *POP_TIMES, *POP_SECONDS_ERA),
    "is_placeholder": [False] * 3,
}

POP_SITE_2020 = {
    **same(3, site_id=178, content_id="content one", duration=3600.0, duration_s=3600.0),
    **POP_HOURS,
    "content_duration": [12.2, 7.8, 12.2],
    "content_duration_s": [12.2, 7.8, 12.2],
    "impressions": [31.0, 28.0, 87.0],
    "estimated_ots": [31.0, 28.0, 87.0],
    "play_count": [10, 22, 4],
    "impressions_per_play": [None] * 3,
    "watchers": [7, 14, 42],
    "watchers_2sec": [5, 14, 12],
    **nulls(3, *POP_BREAKDOWN, *POP_TIMES, *POP_SECONDS_ERA),
    "is_placeholder": [False] * 3,
}

POP_LOCATION_2025 = {
    **same(3, location_id=4636, content_id="content one", duration=3600.0, duration_s=3600.0),
    **POP_HOURS,
    "content_duration": [60.0, 110.0, 165.0],
    "content_duration_s": [60.0, 110.0, 165.0],
    "impressions": [32.0, 96.0, 8.0],
    "estimated_ots": [None] * 3,
    "play_count": [12, 22, 33],
    "impressions_per_play": [2.67, 4.36, 0.24],
    "watchers": [8, 64, 4],
    "watchers_2sec": [6, 20, 1],
    "watchers_masked": [2, 60, 2],
    "watchers_child_male": [0, 0, 0],
    "watchers_young_adult_male": [1, 1, 1],
    "watchers_adult_male": [1, 1, 1],
    "watchers_senior_male": [0, 0, 0],
    "watchers_child_female": [1, 1, 0],
    "watchers_young_adult_female": [1, 1, 0],
    "watchers_adult_female": [2, 0, 0],
    "watchers_senior_female": [0, 0, 0],
    "dwell_time_in_tenths_of_sec": [540, 1050, 60],
    "dwell_time_s": [54.0, 105.0, 6.0],
    "attention_time_in_tenths_of_sec": [120, 380, 30],
    "attention_time_s": [12.0, 38.0, 3.0],
    "avg_dwell_time_in_tenths_of_sec": [68.0, 16.0, 15.0],
    "avg_dwell_time_s": [6.8, 1.6, 1.5],
    "avg_attention_time_in_tenths_of_sec": [15.0, 6.0, 8.0],
    "avg_attention_time_s": [1.5, 0.6, 0.8],
    **nulls(3, *POP_SECONDS_ERA),
    "is_placeholder": [False] * 3,
}

POP_SITE_2025 = {
    **same(3, site_id=178, content_id="content one", duration=3600.0, duration_s=3600.0),
    **POP_HOURS,
    "content_duration": [50.0, 110.0, 20.0],
    "content_duration_s": [50.0, 110.0, 20.0],
    "impressions": [31.0, 28.0, 87.0],
    "estimated_ots": [None] * 3,
    "play_count": [10, 22, 4],
    "impressions_per_play": [3.10, 1.27, 21.75],
    "watchers": [7, 14, 42],
    "watchers_2sec": [5, 14, 12],
    "watchers_masked": [1, 12, 22],
    "watchers_child_male": [0, 0, 0],
    "watchers_young_adult_male": [1, 1, 2],
    "watchers_adult_male": [1, 1, 4],
    "watchers_senior_male": [0, 0, 0],
    "watchers_child_female": [1, 0, 8],
    "watchers_young_adult_female": [1, 0, 4],
    "watchers_adult_female": [2, 0, 2],
    "watchers_senior_female": [0, 0, 0],
    "dwell_time_in_tenths_of_sec": [90, 360, 950],
    "dwell_time_s": [9.0, 36.0, 95.0],
    "attention_time_in_tenths_of_sec": [50, 190, 420],
    "attention_time_s": [5.0, 19.0, 42.0],
    "avg_dwell_time_in_tenths_of_sec": [13.0, 26.0, 23.0],
    "avg_dwell_time_s": [1.3, 2.6, 2.3],
    "avg_attention_time_in_tenths_of_sec": [7.0, 14.0, 10.0],
    "avg_attention_time_s": [0.7, 1.4, 1.0],
    **nulls(3, *POP_SECONDS_ERA),
    "is_placeholder": [False] * 3,
}

# Vehicles & footfall proof of play: both docs examples have the same metrics.
POP_VEHICLE_PERSON_METRICS = {
    **times("2022-01-01 12:00:00", "2022-01-01 12:00:00"),
    "content_id": ["content one", "content two"],
    "content_duration": [616.45, 623.67],
    "content_duration_s": [616.45, 623.67],
    **same(2, duration=3600.0, duration_s=3600.0),
    "play_count": [77, 78],
    "vehicle_count": [83, 84],
    "vehicle_impressions": [153.0, 155.0],
    "vehicle_presence_time": [3290, 3432],
    "vehicle_presence_time_s": [329.0, 343.2],
    "avg_vehicle_presence_time": [36.0, 35.0],
    "avg_vehicle_presence_time_s": [3.6, 3.5],
    "footfall_impressions": [7.0, 6.0],
    "footfall_presence_time": [254, 179],
    "footfall_presence_time_s": [25.4, 17.9],
    "avg_footfall_presence_time": [36.0, 29.0],
    "avg_footfall_presence_time_s": [3.6, 2.9],
    "total_impressions": [160.0, 161.0],
    "total_impressions_per_play": [2.08, 2.06],
    "total_presence_time": [6321.0, 6514.0],
    "total_presence_time_s": [632.1, 651.4],
    "avg_presence_time": [39.0, 40.0],
    "avg_presence_time_s": [3.9, 4.0],
    "is_placeholder": [False, False],
}

# The docs send the ids as strings ("123"): Int64 all the same.
POP_VEHICLE_PERSON_LOCATION = {**POP_VEHICLE_PERSON_METRICS, "location_id": [123, 124]}
POP_VEHICLE_PERSON_SITE = {**POP_VEHICLE_PERSON_METRICS, "site_id": [1234, 1234]}

# Extrapolated exports carry no location_id (SPEC quirk 8).
EXTRAPOLATED_WATCHERS = {
    **POP_HOURS,
    "watcher_count": [1, 0, 3],
    "dwell_time_in_tenths_of_sec": [12, 0, 83],
    "dwell_time_s": [1.2, 0.0, 8.3],
    "attention_time_in_tenths_of_sec": [3, 0, 27],
    "attention_time_s": [0.3, 0.0, 2.7],
    "is_placeholder": [False] * 3,
}

EXTRAPOLATED_OTS = {
    **OTS_HOURS,
    "ots_count": [4, 0, 9, 0, 11],
    **same(5, duration=3600.0, duration_s=3600.0),
    "watcher_count": [3, 0, 1, 0, 3],
    "is_placeholder": [False] * 5,
}

FOOTFALL_FINEST = {
    **same(2, location_id=8264),
    **times("2018-01-29T00:00:27", "2018-01-29T00:03:57"),
    "footfall_presence_time": [41, 54],
    "footfall_presence_time_s": [4.1, 5.4],
    **nulls(2, *WATCHER_LINKS),
    "is_placeholder": [False, False],
}

FOOTFALL_1H = {
    **same(3, location_id=4636),
    **POP_HOURS,
    "footfall_impressions": [1.0, 0.0, 3.0],
    "footfall_presence_time": [12, 0, 83],
    "footfall_presence_time_s": [1.2, 0.0, 8.3],
    "is_placeholder": [False] * 3,
}

# color 12356 is not a documented code: kept, null label (and a warning); null stays null.
VEHICLES_FINEST = {
    **same(2, location_id=8264),
    **times("2018-01-29T00:00:27", "2018-01-29T00:03:57"),
    "type": [4, 3],
    "type_label": ["van", "truck and SUV"],
    "color": [None, 12356],
    "color_label": [None, None],
    "vehicle_presence_time": [41, 54],
    "vehicle_presence_time_s": [4.1, 5.4],
    "vehicle_impressions": [1.83, 1.72],
    "impressions_per_vehicle": [1.83, 1.72],
    "is_placeholder": [False, False],
}

VEHICLES_1H = {
    **same(3, location_id=4636),
    **POP_HOURS,
    "vehicle_count": [1, 0, 3],
    "vehicle_presence_time": [12, 0, 83],
    "vehicle_presence_time_s": [1.2, 0.0, 8.3],
    "vehicle_impressions": [1.72, 0.0, 6.04],
    "impressions_per_vehicle": [1.72, 0.0, 2.01],
    "is_placeholder": [False] * 3,
}

VEHICLES_FOOTFALL_FINEST = {
    **same(2, location_id=4636),
    **times("2021-11-01T09:03:25", "2021-11-01T09:05:21"),
    "type": [3, 0],
    "type_label": ["truck and SUV", "unknown"],
    "color": [6, 0],
    "color_label": ["blue", "unknown"],
    "vehicle_impressions": [1.85, 0.0],
    "vehicle_presence_time": [29, 0],
    "vehicle_presence_time_s": [2.9, 0.0],
    "impressions_per_vehicle": [1.85, 0.0],
    "footfall_presence_time": [0, 85],
    "footfall_presence_time_s": [0.0, 8.5],
    **nulls(2, *WATCHER_LINKS),
    "is_placeholder": [False, False],
}

VEHICLES_FOOTFALL_30M = {
    **same(3, location_id=4636),
    **times("2021-11-01 09:00:00", "2021-11-01 09:30:00", "2021-11-01 10:00:00"),
    "vehicle_count": [84, 101, 0],
    "vehicle_impressions": [155.0, 187.0, 0.0],
    "vehicle_presence_time": [23569, 7634, 0],
    "vehicle_presence_time_s": [2356.9, 763.4, 0.0],
    "impressions_per_vehicle": [1.85, 1.85, 0.0],
    "footfall_impressions": [2.0, 1.0, 0.0],
    "footfall_presence_time": [133, 91, 0],
    "footfall_presence_time_s": [13.3, 9.1, 0.0],
    "total_impressions": [239.0, 188.0, 0.0],
    "total_presence_time": [43735.0, 14214.0, 0.0],
    "total_presence_time_s": [4373.5, 1421.4, 0.0],
    "avg_presence_time": [182.0, 76.0, 0.0],
    "avg_presence_time_s": [18.2, 7.6, 0.0],
    "is_placeholder": [False] * 3,
}

# backup_value: "" -> False, "yes" -> True.
IM_1H = {
    **same(2, location_id=60628),
    **times("2021-11-14 21:00:00", "2021-11-14 22:00:00"),
    "vehicle_count": [27, 36],
    "vehicle_presence_time": [2696, 3989],
    "vehicle_presence_time_s": [269.6, 398.9],
    "vehicle_impressions": [50.0, 70.0],
    "impressions_per_vehicle": [1.85, 1.94],
    "footfall_impressions": [76.0, 49.0],
    "footfall_presence_time": [23482, 6662],
    "footfall_presence_time_s": [2348.2, 666.2],
    "im_footfall": [0.65, 0.19],
    "im_vehicle": [0.14, 0.21],
    "im": [0.79, 0.4],
    "backup_value": [False, True],
    "analysis_window": [36000, 36000],
    "analysis_window_s": [3600.0, 3600.0],
    "active": [None, None],
    "is_placeholder": [False, False],
}

PMP_SALES_BY_DEMOGRAPHICS_1H = {
    **same(3, location_id=92304),
    **times("2023-02-22T10:00:00", "2023-02-22T10:00:00", "2023-02-23T18:00:00"),
    "product": ["Colour", "Repair", "Thicken"],
    "estimated_sales": [28.0, 29.0, 0.0],
    "product_touches": [65, 66, 0],
    "put_back": [37, 37, 0],
    "adult_female": [6.0, 3.0, 0.0],
    "adult_male": [8.0, 9.0, 0.0],
    "child_female": [0.0, 0.0, 0.0],
    "child_male": [0.0, 0.0, 0.0],
    "senior_female": [0.0, 0.0, 0.0],
    "senior_male": [0.0, 0.0, 0.0],
    "young_adult_female": [0.0, 0.0, 0.0],
    "young_adult_male": [11.0, 13.0, 0.0],
    "masked": [3.0, 4.0, 0.0],
    "is_placeholder": [False] * 3,
}

PMP_SALES_FUNNEL_1H = {
    **same(3, location_id=92304),
    **times("2023-02-22T10:00:00", "2023-02-22T10:00:00", "2023-02-22T10:00:00"),
    "gender": [1, 2, 1],
    "gender_label": ["male", "female", "male"],
    "age": [3, 3, 2],
    "age_label": ["adult", "adult", "young adult"],
    "dwell_time_in_tenths_of_sec": [4690, 2271, 7134],
    "dwell_time_s": [469.0, 227.1, 713.4],
    "attention_time_in_tenths_of_sec": [2902, 1560, 4407],
    "attention_time_s": [290.2, 156.0, 440.7],
    "estimated_sales": [22.0, 12.0, 40.0],
    "product_touches": [25, 12, 55],
    "put_back": [3, 0, 15],
    "poi_by_passers": [None] * 3,
    "watcher_count": [7, 6, 11],
    "is_placeholder": [False] * 3,
}

# ots_count is the pre-SPEC-9 name of ots_count_impressions; ratios arrive as strings.
COMPASS_1H = {
    **same(2, location_id=92304),
    "location_name": [None, None],
    **times("2025-04-02 19:00:00", "2025-04-02 20:00:00"),
    "ots_count_impressions": [77, 19],
    **nulls(2, "effective_ots_count", "nearby_ots_count_impressions"),
    **nulls(2, "presence_total", "presence_total_s"),
    "far": [0.0, 0.0],
    "mid_range": [0.922, 0.782],
    "near": [0.078, 0.218],
    "north": [0.273, 0.318],
    "north_east": [0.106, 0.045],
    "north_west": [0.061, 0.045],
    "south": [0.288, 0.318],
    "south_east": [0.0, 0.091],
    "south_west": [0.015, 0.136],
    "west": [0.015, 0.045],
    "east": [0.242, 0.0],
    "is_placeholder": [False, False],
}

# The second day has every metric null: a placeholder.
PLACEHOLDERS_OTS_1D = {
    **same(2, location_id=1234),
    **times("2016-04-29 00:00:00", "2016-04-30 00:00:00"),
    "ots_count": [504, None],
    "duration": [86400.0, None],
    "duration_s": [86400.0, None],
    "watcher_count": [156, None],
    **nulls(2, "effective_ots_count", "status"),
    "is_placeholder": [False, True],
}

CASES: dict[str, Case] = {
    "2020-10/viewers_finest_pro.json": Case("viewers", "finest", VIEWERS_PRO),
    "2020-10/viewers_finest_expert.json": Case("viewers", "finest", VIEWERS_EXPERT),
    "2020-10/viewers_apc.json": Case("viewers_apc", "finest", VIEWERS_APC_2020),
    "2020-10/viewers_1h.json": Case("viewers", "1h", VIEWERS_1H),
    "2020-10/viewers_1h_demographics.json": Case(
        "viewers", "1h", VIEWERS_1H_DEMOGRAPHICS, group_by_demographics=True
    ),
    "2020-10/ots_1h.json": Case("ots", "1h", OTS_1H),
    "2020-10/gate_1h.json": Case("gate", "1h", GATE_1H),
    "2020-10/proof_of_play_by_location_1h.json": Case(
        "proof_of_play_by_location", "1h", POP_LOCATION_2020
    ),
    "2020-10/proof_of_play_by_site_1h.json": Case("proof_of_play_by_site", "1h", POP_SITE_2020),
    "2020-10/placeholders_ots_1d.json": Case("ots", "1d", PLACEHOLDERS_OTS_1D),
    "2025-04/viewers_finest_pro.json": Case("viewers", "finest", VIEWERS_PRO),
    "2025-04/viewers_finest_core.json": Case("viewers", "finest", VIEWERS_CORE),
    "2025-04/viewers_apc.json": Case("viewers_apc", "finest", VIEWERS_APC_2025),
    "2025-04/viewers_1h.json": Case("viewers", "1h", VIEWERS_1H),
    "2025-04/viewers_1h_demographics.json": Case(
        "viewers", "1h", VIEWERS_1H_DEMOGRAPHICS, group_by_demographics=True
    ),
    "2025-04/ots_1h.json": Case("ots", "1h", OTS_1H),
    "2025-04/gate_1h.json": Case("gate", "1h", GATE_1H),
    "2025-04/proof_of_play_by_location_1h.json": Case(
        "proof_of_play_by_location", "1h", POP_LOCATION_2025
    ),
    "2025-04/proof_of_play_by_site_1h.json": Case("proof_of_play_by_site", "1h", POP_SITE_2025),
    "2025-04/proof_of_play_vehicle_person_by_location_1h.json": Case(
        "proof_of_play_vehicle_person_by_location", "1h", POP_VEHICLE_PERSON_LOCATION
    ),
    "2025-04/proof_of_play_vehicle_person_by_site_1h.json": Case(
        "proof_of_play_vehicle_person_by_site", "1h", POP_VEHICLE_PERSON_SITE
    ),
    "2025-04/extrapolated_watchers_1h.json": Case(
        "extrapolated_watchers", "1h", EXTRAPOLATED_WATCHERS
    ),
    "2025-04/extrapolated_ots_1h.json": Case("extrapolated_ots", "1h", EXTRAPOLATED_OTS),
    "2025-04/footfall_finest.json": Case("persons", "finest", FOOTFALL_FINEST),
    "2025-04/footfall_1h.json": Case("persons", "1h", FOOTFALL_1H),
    "2025-04/vehicles_finest.json": Case("vehicles", "finest", VEHICLES_FINEST),
    "2025-04/vehicles_1h.json": Case("vehicles", "1h", VEHICLES_1H),
    "2025-04/vehicles_footfall_finest.json": Case(
        "vehicles_footfall", "finest", VEHICLES_FOOTFALL_FINEST
    ),
    "2025-04/vehicles_footfall_30m.json": Case("vehicles_footfall", "30m", VEHICLES_FOOTFALL_30M),
    "2025-04/im_1h.json": Case("im", "1h", IM_1H),
    "2025-04/pmp_sales_by_demographics_1h.json": Case(
        "pmp_sales_by_demographics", "1h", PMP_SALES_BY_DEMOGRAPHICS_1H
    ),
    "2025-04/pmp_sales_funnel_1h.json": Case("pmp_sales_funnel", "1h", PMP_SALES_FUNNEL_1H),
    "2025-04/compass_1h.json": Case("compass", "1h", COMPASS_1H),
    "2025-04/placeholders_ots_1d.json": Case("ots", "1d", PLACEHOLDERS_OTS_1D),
}

# Fixtures whose reading reports an undocumented code: (warning, text the report names).
UNKNOWN_CODES: dict[str, tuple[str, ...]] = {"2025-04/vehicles_finest.json": ("color", "12356")}


def test_every_fixture_has_a_case() -> None:
    assert set(CASES) | set(NOT_READY) == fixture_files()
    assert not set(CASES) & set(NOT_READY)


@pytest.mark.parametrize("fixture", sorted(CASES))
def test_case_matches_the_curl_line(fixture: str) -> None:
    case = CASES[fixture]
    query = curl_query(fixture)
    if query is None:  # the placeholder prose: "OTS data day by day"
        assert fixture.endswith("placeholders_ots_1d.json")
        assert (case.data_type, case.time_resolution) == ("ots", "1d")
        return
    assert query["data_type"] == case.data_type
    assert query["time_resolution"] == case.time_resolution
    assert ("group_by_demographics" in query) == case.group_by_demographics


# -- reading the fixtures -----------------------------------------------------------------------


def read_fixture(fixture: str, **kw: Any) -> pl.DataFrame:
    """Read a fixture; any warning fails, except the unknown codes the docs show."""
    case = CASES[fixture]
    path = SEEDS / fixture
    if fixture not in UNKNOWN_CODES:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return case.read(path, **kw)
    with pytest.warns(vf.UnknownCodeWarning) as record:
        df = case.read(path, **kw)
    messages = " ".join(str(w.message) for w in record)
    for word in UNKNOWN_CODES[fixture]:
        assert word in messages
    assert all(issubclass(w.category, vf.UnknownCodeWarning) for w in record)
    return df


@pytest.mark.parametrize("fixture", sorted(CASES))
def test_fixture_reads_to_expected_frame(fixture: str) -> None:
    case = CASES[fixture]
    df = read_fixture(fixture)
    assert df.schema == case.schema()
    assert_frame_equal(df, case.expected())


@pytest.mark.parametrize("fixture", sorted(f for f in CASES if "placeholders" in f))
def test_placeholders_drop(fixture: str) -> None:
    df = read_fixture(fixture, placeholders="drop")
    assert_frame_equal(df, CASES[fixture].expected().head(1))


@pytest.mark.parametrize(
    "fixture", ["2020-10/viewers_1h_demographics.json", "2025-04/viewers_1h_demographics.json"]
)
def test_zero_watchers_are_not_dropped_as_placeholders(fixture: str) -> None:
    df = read_fixture(fixture, placeholders="drop")
    assert_frame_equal(df, CASES[fixture].expected())


def test_contract_dtypes_independent_of_the_registry() -> None:
    """A few dtypes of SPEC section 2, written out here rather than read from the registry."""
    viewers = read_fixture("2020-10/viewers_finest_expert.json")
    assert viewers.schema["location_id"] == pl.Int64
    assert viewers.schema["period_start"] == pl.Datetime("us", None)
    assert viewers.schema["period_start_date"] == pl.Date
    assert viewers.schema["period_start_time"] == pl.Time
    assert viewers.schema["dwell_time_in_tenths_of_sec"] == pl.Int64
    assert viewers.schema["dwell_time_s"] == pl.Float64
    assert viewers.schema["gender_label"] == pl.Enum(["unknown", "male", "female"])
    assert viewers.schema["age_label"] == pl.Enum(
        ["unknown", "child", "young adult", "adult", "senior"]
    )
    assert viewers.schema["glasses_label"] == pl.Enum(
        ["unknown", "no glasses", "glasses", "sunglasses"]
    )
    assert "dwell_time" not in viewers.columns
    assert "attention_time" not in viewers.columns
    vehicles = read_fixture("2025-04/vehicles_finest.json")
    assert vehicles.schema["color_label"] == pl.Enum(
        ["unknown", "white", "gray", "yellow", "red", "green", "blue", "black"]
    )
    assert vehicles.schema["type_label"] == pl.Enum(
        ["unknown", "car", "bus", "truck and SUV", "van", "bike"]
    )
    pop = read_fixture("2025-04/proof_of_play_vehicle_person_by_site_1h.json")
    assert pop.schema["site_id"] == pl.Int64
    compass = read_fixture("2025-04/compass_1h.json")
    assert compass.schema["east"] == pl.Float64
    assert "ots_count" not in compass.columns
    im = read_fixture("2025-04/im_1h.json")
    assert im.schema["backup_value"] == pl.Boolean
    apc = read_fixture("2020-10/viewers_apc.json")
    assert "start_time" not in apc.columns
    assert apc.schema["contents"] == pl.List(
        pl.Struct(
            {
                "content_id": pl.String,
                "app_id": pl.String,
                "campaign_id": pl.String,
                "dwell_time_in_milliseconds": pl.Int64,
                "attention_time_in_milliseconds": pl.Int64,
                "very_happy_time": pl.Int64,
                "happy_time": pl.Int64,
                "neutral_time": pl.Int64,
                "unhappy_time": pl.Int64,
                "very_unhappy_time": pl.Int64,
            }
        )
    )


# -- APC contents, long ----------------------------------------------------------------------------

APC_LONG_SCHEMA = {
    "location_id": pl.Int64,
    "period_start": pl.Datetime("us"),
    "dwell_time_in_tenths_of_sec": pl.Int64,
    "content_id": pl.String,
    "app_id": pl.String,
    "campaign_id": pl.String,
    "dwell_time_in_milliseconds": pl.Int64,
    "content_dwell_time_s": pl.Float64,
    "attention_time_in_milliseconds": pl.Int64,
    "content_attention_time_s": pl.Float64,
    "very_happy_time": pl.Int64,
    "very_happy_time_s": pl.Float64,
    "happy_time": pl.Int64,
    "happy_time_s": pl.Float64,
    "neutral_time": pl.Int64,
    "neutral_time_s": pl.Float64,
    "unhappy_time": pl.Int64,
    "unhappy_time_s": pl.Float64,
    "very_unhappy_time": pl.Int64,
    "very_unhappy_time_s": pl.Float64,
}

APC_LONG = pl.DataFrame(
    {
        "location_id": [38918, 38918, 38918],
        "period_start": [
            dt.datetime(2018, 1, 14, 9, 29, 10),
            dt.datetime(2018, 1, 14, 9, 29, 10),
            dt.datetime(2018, 1, 14, 9, 21, 54),
        ],
        "dwell_time_in_tenths_of_sec": [29, 29, 10],
        "content_id": ["my_very_own_content_id", "another_content_id", "my_very_own_content_id"],
        "app_id": ["my_app_id", "my_app_id", "my_app_id"],
        "campaign_id": [None, "A campaign id", None],
        "dwell_time_in_milliseconds": [928, 925, 15],
        "content_dwell_time_s": [0.928, 0.925, 0.015],
        "attention_time_in_milliseconds": [192, 925, 542],
        "content_attention_time_s": [0.192, 0.925, 0.542],
        "very_happy_time": [0, 0, 0],
        "very_happy_time_s": [0.0, 0.0, 0.0],
        "happy_time": [0, 0, 542],
        "happy_time_s": [0.0, 0.0, 0.542],
        "neutral_time": [192, 925, 0],
        "neutral_time_s": [0.192, 0.925, 0.0],
        "unhappy_time": [0, 0, 0],
        "unhappy_time_s": [0.0, 0.0, 0.0],
        "very_unhappy_time": [0, 0, 0],
        "very_unhappy_time_s": [0.0, 0.0, 0.0],
    },
    schema=APC_LONG_SCHEMA,
)


@pytest.mark.parametrize("fixture", ["2020-10/viewers_apc.json", "2025-04/viewers_apc.json"])
def test_explode_contents(fixture: str) -> None:
    long = vf.explode_contents(read_fixture(fixture))
    assert_frame_equal(long.select(list(APC_LONG_SCHEMA)), APC_LONG)


def test_explode_contents_seconds_columns_come_from_the_registry() -> None:
    contents = vf.get_export("viewers_apc", "finest").by_name["contents"]
    assert sorted(f.seconds_column for f in contents.fields if f.seconds_column) == sorted(
        [
            "content_dwell_time_s",
            "content_attention_time_s",
            "very_happy_time_s",
            "happy_time_s",
            "neutral_time_s",
            "unhappy_time_s",
            "very_unhappy_time_s",
        ]
    )


# -- response states -------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", sorted(NOT_READY))
def test_saved_unfinished_export_is_not_ready(fixture: str) -> None:
    with pytest.raises(vf.ExportNotReadyError) as caught:
        vf.read_vidicenter(SEEDS / fixture, data_type="viewers", time_resolution="1h")
    assert caught.value.state == NOT_READY[fixture]
    assert isinstance(caught.value, vf.VidiFrameError)


FAILED = {"state": "failed", "fail_reason": "Too many rows: 3000001 > 3000000"}


@pytest.mark.parametrize("source", [FAILED, orjson.dumps(FAILED)], ids=["dict", "bytes"])
def test_failed_export_carries_its_reason(source: Any) -> None:
    with pytest.raises(vf.ExportFailedError) as caught:
        vf.read_vidicenter(source, data_type="viewers", time_resolution="1h")
    assert caught.value.fail_reason == "Too many rows: 3000001 > 3000000"
    assert isinstance(caught.value, vf.VidiFrameError)


# -- the parser stays strict: the doc text itself is refused ---------------------------------------


@pytest.mark.parametrize("fixture", sorted(RAW_INVALID))
def test_unrepaired_doc_text_is_refused(fixture: str) -> None:
    case = CASES.get(fixture, Case("viewers", "1h", {}))
    with pytest.raises(vf.ResponseFormatError):
        case.read(raw_example(fixture))


def test_missing_comma_error_names_its_byte_position() -> None:
    raw = raw_example("2025-04/vehicles_1h.json")
    # the first defect: no comma after "location_id":4636, so the next key is unexpected
    position = raw.index('"vehicle_impressions"')
    assert raw[:position].rstrip().endswith('"location_id":4636')
    with pytest.raises(vf.ResponseFormatError) as caught:
        vf.read_vidicenter(raw, data_type="vehicles", time_resolution="1h")
    assert str(position) in str(caught.value)
    assert caught.value.position == position


def test_trailing_comma_error_names_its_byte_position() -> None:
    raw = raw_example("2025-04/state_started.json")
    assert raw == '{\n    "state": "started",\n}'
    # parsers blame either the trailing comma or the brace after it
    comma, brace = raw.index(","), raw.index("}")
    with pytest.raises(vf.ResponseFormatError) as caught:
        vf.read_vidicenter(raw, data_type="viewers", time_resolution="1h")
    assert caught.value.position in (comma, brace)
    assert str(caught.value.position) in str(caught.value)


def test_bare_data_list_has_no_state() -> None:
    """The placeholder example as printed is a bare list: no ``state``, refused."""
    rows = orjson.loads((SEEDS / "2025-04/placeholders_ots_1d.json").read_bytes())["data"]
    with pytest.raises(vf.ResponseFormatError, match="state"):
        vf.read_vidicenter(orjson.dumps(rows), data_type="ots", time_resolution="1d")


# -- every source form gives the same frame -----------------------------------------------------

SOURCE_FIXTURE = "2025-04/im_1h.json"


def _path_str() -> Any:
    return str(SEEDS / SOURCE_FIXTURE)


def _path() -> Any:
    return SEEDS / SOURCE_FIXTURE


def _bytes() -> Any:
    return (SEEDS / SOURCE_FIXTURE).read_bytes()


def _text() -> Any:
    return (SEEDS / SOURCE_FIXTURE).read_text(encoding="utf-8")


def _dict() -> Any:
    return orjson.loads((SEEDS / SOURCE_FIXTURE).read_bytes())


def _bytes_io() -> Any:
    return io.BytesIO((SEEDS / SOURCE_FIXTURE).read_bytes())


SOURCE_FORMS = {
    "path-str": _path_str,
    "path": _path,
    "bytes": _bytes,
    "str-json": _text,
    "dict": _dict,
    "bytes-io": _bytes_io,
}


@pytest.mark.parametrize("form", sorted(SOURCE_FORMS))
def test_every_source_form_gives_the_same_frame(form: str) -> None:
    case = CASES[SOURCE_FIXTURE]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        df = case.read(SOURCE_FORMS[form]())
    assert_frame_equal(df, case.expected())


def test_open_binary_file_gives_the_same_frame() -> None:
    case = CASES[SOURCE_FIXTURE]
    with (SEEDS / SOURCE_FIXTURE).open("rb") as handle:
        df = case.read(handle)
    assert_frame_equal(df, case.expected())
