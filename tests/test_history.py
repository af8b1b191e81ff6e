"""Every example response of every version of the documentation, read value by value.

``tests/data/history/`` holds the examples of the 74 versions of
``docs/source/data.rst`` in ``quividi/vidicenter-api-documentation`` (one file per
distinct example, named by the date and commit of the first version that shows it;
``manifest.json`` lists the versions, the request of each example and what was
repaired to make the docs' JSON valid, SPEC quirk 1).

Each example is read with ``vf.read_vidicenter`` as a user holding that response
would, then checked against an oracle written here from the docs, independent of the
registry: every key of every row lands in the column of its current name (renamed
per export type, as the history did), typed, with its seconds column (the unit's
factor) and its label; every other column is null; ``is_placeholder`` is true
exactly when no value is set. A few eras are then checked by hand.
"""

from __future__ import annotations

import datetime as dt
import json
import warnings
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import vidiframe as vf

HISTORY = Path(__file__).parent / "data" / "history"
MANIFEST = json.loads((HISTORY / "manifest.json").read_text(encoding="utf-8"))
EXAMPLES: dict[str, dict[str, Any]] = MANIFEST["examples"]

# -- the oracle, from the docs ---------------------------------------------------------------

# Old name -> current name, per data_type, as the diffs of data.rst show them.
_DURATIONS = {
    "dwell_time": "dwell_time_in_tenths_of_sec",
    "attention_time": "attention_time_in_tenths_of_sec",
}
# Not renamed: the proof of play totals of 2022-02-01 (total_*_in_tenths_of_sec),
# sent with a fraction, which f0bfa44 renamed to integer fields. Each era keeps its
# own column, exactly (see test_fractional_tenths_of_2022_02_01_are_read_as_sent).
RENAMED: dict[str, dict[str, str]] = {
    "viewers": _DURATIONS,
    "viewers_apc": {**_DURATIONS, "start_time": "period_start"},
    "extrapolated_watchers": _DURATIONS,
    "vehicles": {"dwell_time": "vehicle_presence_time", "impressions": "vehicle_impressions"},
    "persons": {"dwell_time": "footfall_presence_time", "person_count": "footfall_impressions"},
    "im": {
        "vehicle_total_presence_time": "vehicle_presence_time",
        "footfall_total_dwell_time": "footfall_presence_time",
    },
    "compass": {"ots_count": "ots_count_impressions"},
    "content_plays": {"play_count": "plays"},
}
CONTENTS_RENAMED = {
    "dwell_time": "dwell_time_in_milliseconds",
    "attention_time": "attention_time_in_milliseconds",
}

# Durations: the unit the docs give, as the factor to seconds, and the seconds column.
_TENTHS = [
    "dwell_time_in_tenths_of_sec",
    "attention_time_in_tenths_of_sec",
    "avg_dwell_time_in_tenths_of_sec",
    "avg_attention_time_in_tenths_of_sec",
    "vehicle_presence_time",
    "footfall_presence_time",
    "avg_vehicle_presence_time",
    "avg_footfall_presence_time",
    "total_presence_time",
    "avg_presence_time",
    "analysis_window",
    "watcher_dwell_time",
    "watcher_attention_time",
]
_SECONDS = [
    "duration",
    "content_duration",
    "presence_total",
    "total_dwell_time",
    "total_attention_time",
    "total_dwell_duration",
    "dwell_threshold",
    "total_dwell_above_threshold",
]
# The fractional tenths of 2022-02-01, whose <base>_s is the seconds era's column.
_FRACTIONAL_TENTHS = ["total_dwell_time_in_tenths_of_sec", "total_attention_time_in_tenths_of_sec"]
SECONDS_COLUMN: dict[str, tuple[str, float]] = {
    **{name: (name.removesuffix("_in_tenths_of_sec") + "_s", 10.0) for name in _TENTHS},
    **{name: (name + "_s", 1.0) for name in _SECONDS},
    **{
        name: (name.removesuffix("_in_tenths_of_sec") + "_tenths_s", 10.0)
        for name in _FRACTIONAL_TENTHS
    },
}

_AGE = {0: "unknown", 1: "child", 2: "young adult", 3: "adult", 4: "senior"}
LABELS: dict[str, dict[int, str]] = {
    "gender": {0: "unknown", 1: "male", 2: "female"},
    "age": _AGE,
    "age_bracket": _AGE,
    "type": {0: "unknown", 1: "car", 2: "bus", 3: "truck and SUV", 4: "van", 5: "bike"},
    "color": {
        0: "unknown",
        1: "white",
        2: "gray",
        3: "yellow",
        4: "red",
        5: "green",
        6: "blue",
        7: "black",
    },
    "glasses": {0: "unknown", 1: "no glasses", 2: "glasses", 3: "sunglasses"},
    "mustache": {0: "unknown", 1: "no mustache", 2: "mustache"},
    "beard": {0: "unknown", 1: "no beard", 2: "beard"},
}

# What identifies a row rather than measures it (SPEC section 2, placeholders).
KEYS = {
    "location_id",
    "site_id",
    "period_start",
    "start_time",
    "period_start_date",
    "period_start_time",
    "vr_id",
    "content_id",
    "gate_id",
    "product",
    "zone_id",
    "zone_name",
    "location_name",
}
GROUP_KEYS = {"gender", "age"}  # keys of the grouped exports only

DERIVED = {"period_start_date", "period_start_time", "is_placeholder"}


def _request(example: dict[str, Any]) -> dict[str, Any]:
    return {
        "data_type": example["data_type"],
        "time_resolution": example["time_resolution"],
        "group_by_demographics": example["group_by_demographics"],
    }


def _read(name: str) -> pl.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", vf.UnknownCodeWarning)  # color 12356, checked below
        warnings.simplefilter("error", vf.UnknownFieldWarning)  # every field is documented
        return vf.read_vidicenter(HISTORY / name, **_request(EXAMPLES[name]))


def _typed(value: Any, dtype: pl.DataType) -> Any:
    """The JSON value as the column's dtype holds it: how the docs' values read."""
    if value is None:
        return None
    if dtype == pl.Int64:
        number = int(float(value)) if isinstance(value, str) else value
        assert float(number) == float(value), value  # never a fraction cut off
        return int(number)
    if dtype == pl.Float64:
        return float(value)
    if dtype == pl.Boolean:
        return {"yes": True, "": False}.get(value, value) if isinstance(value, str) else value
    if dtype == pl.Datetime("us"):
        return dt.datetime.fromisoformat(value)
    return value


def _nested(value: list[dict[str, Any]] | None, dtype: pl.DataType) -> Any:
    """A list of objects under current names, every declared sub-field present."""
    if value is None:
        return None
    assert isinstance(dtype, pl.List)
    assert isinstance(dtype.inner, pl.Struct)
    out = []
    for element in value:
        renamed = {CONTENTS_RENAMED.get(k, k): v for k, v in element.items()}
        row = {}
        for field in dtype.inner.fields:
            sub = renamed.get(field.name)
            if isinstance(field.dtype, pl.List):
                row[field.name] = _nested(sub, field.dtype)
            else:
                row[field.name] = _typed(sub, field.dtype)
        out.append(row)
    return out


def _data_examples() -> list[str]:
    return sorted(name for name, e in EXAMPLES.items() if "state_" not in name and e["data_type"])


# -- the corpus ------------------------------------------------------------------------------


def test_the_corpus_is_every_example_of_every_version() -> None:
    versions = MANIFEST["versions"]
    assert len(versions) == 74
    assert (versions[0]["commit"], versions[-1]["commit"]) == ("6842200", "6c3790f")
    listed = {name for version in versions for name in version["files"]}
    on_disk = {path.name for path in HISTORY.glob("*.json")} - {"manifest.json"}
    assert listed == on_disk == set(EXAMPLES)
    for name, example in EXAMPLES.items():
        first = example["first"]
        assert name.startswith(f"{first['date']}_{first['commit']}_"), name
        assert example["versions"][0] == first["commit"]
        # an example the docs print as invalid JSON says what was repaired
        assert example["valid_as_printed"] or example["repairs"], name


@pytest.mark.parametrize("name", sorted(n for n in EXAMPLES if "state_" in n))
def test_state_examples_are_not_ready(name: str) -> None:
    with pytest.raises(vf.ExportNotReadyError):
        vf.read_vidicenter(HISTORY / name, **_request(EXAMPLES[name]))


@pytest.mark.parametrize("name", _data_examples())
def test_every_value_of_every_example(name: str) -> None:
    example = EXAMPLES[name]
    df = _read(name)
    schema = vf.export_schema(**_request(example))
    assert df.schema == schema, "every field is documented: no column beyond the schema"
    rows = json.loads((HISTORY / name).read_text(encoding="utf-8"))["data"]
    assert df.height == len(rows)
    renamed = RENAMED.get(example["data_type"], {})
    keys = KEYS | (GROUP_KEYS if example["group_by_demographics"] else set())
    if example["data_type"] == "pmp_sales_funnel" and example["time_resolution"] != "finest":
        keys |= GROUP_KEYS
    filled: set[str] = set()
    for index, row in enumerate(rows):
        values = False
        for key, value in row.items():
            column = renamed.get(key, key)
            filled.add(column)
            if key in ("period_start_date", "period_start_time"):
                continue  # checked against period_start below
            got = df[column].to_list()[index]
            dtype = schema[column]
            want = _nested(value, dtype) if isinstance(dtype, pl.List) else _typed(value, dtype)
            assert got == want, (name, index, key, got, want)
            if value is not None and column not in keys:
                values = True
            if column in SECONDS_COLUMN:
                seconds, factor = SECONDS_COLUMN[column]
                expected = None if want is None else want / factor
                assert df[seconds][index] == expected, (name, index, seconds)
                filled.add(seconds)
            if column in LABELS:
                label = None if want is None else LABELS[column].get(want)
                assert df[f"{column}_label"][index] == label, (name, index, column)
                filled.add(f"{column}_label")
        assert df["is_placeholder"][index] is (not values), (name, index)
    stamps = df["period_start"]
    assert df["period_start_date"].to_list() == [s.date() for s in stamps]
    assert df["period_start_time"].to_list() == [s.time() for s in stamps]
    for row, date, time in zip(rows, df["period_start_date"], df["period_start_time"], strict=True):
        if "period_start_date" in row:
            assert (str(date), str(time)) == (row["period_start_date"], row["period_start_time"])
    # Nothing invented: a column no key of the example fills is all null.
    for column in set(df.columns) - filled - DERIVED - {"period_start"}:
        assert df[column].null_count() == df.height, (name, column)


# -- the eras, by hand ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "dwell", "attention"),
    [
        (
            "2022-02-01_44989fe_proof_of_play_by_location_1h.json",
            [54.1, 105.1, 6.3],
            [12.9, 38.5, 3.4],
        ),
        ("2022-02-01_44989fe_proof_of_play_by_site_1h.json", [9.3, 36.3, 95.1], [5.4, 19.5, 42.2]),
    ],
)
def test_fractional_tenths_of_2022_02_01_are_read_as_sent(
    name: str, dwell: list[float], attention: list[float]
) -> None:
    # 44989fe and 042f608 sent the totals in tenths with a fraction; f0bfa44 renamed
    # them to integer fields. Never rounded: each era keeps its own column.
    df = _read(name)
    assert df["total_dwell_time_in_tenths_of_sec"].to_list() == dwell
    assert df["total_attention_time_in_tenths_of_sec"].to_list() == attention
    assert df["total_dwell_time_tenths_s"].to_list() == [v / 10 for v in dwell]
    assert df["total_attention_time_tenths_s"].to_list() == [v / 10 for v in attention]
    assert df["dwell_time_in_tenths_of_sec"].null_count() == df.height
    assert df["dwell_time_s"].null_count() == df.height
    next_day = _read(name.replace("2022-02-01_44989fe", "2022-02-02_f0bfa44"))
    assert next_day["dwell_time_in_tenths_of_sec"].to_list() == [int(v) for v in dwell]
    assert next_day["total_dwell_time_in_tenths_of_sec"].null_count() == next_day.height


def test_2016_first_example_and_expert_fields() -> None:
    df = _read("2016-08-25_6842200_viewers_1h.json")
    assert df.select("dwell_time_in_tenths_of_sec", "dwell_time_s", "attention_time_s").rows() == [
        (2419, 241.9, 55.6),
        (0, 0.0, 0.0),
    ]
    expert = _read("2016-08-25_4e7f12f_viewers_finest.json")
    assert expert.select("mustache_label", "beard_label", "glasses_label", "age_value").row(0) == (
        "no mustache",
        "no beard",
        "no glasses",
        86,
    )
    # the 2016 moods are integers in the first row: read as the Float64 they are
    assert expert["happy"].to_list() == [20.0, 19.215686274509803]


def test_2021_vehicles_dwell_time_is_the_vehicle_presence_time() -> None:
    with pytest.warns(vf.UnknownCodeWarning, match="12356"):
        df = vf.read_vidicenter(
            HISTORY / "2021-03-16_08b0096_vehicles_finest.json",
            data_type="vehicles",
            time_resolution="finest",
        )
    assert "dwell_time" not in df.columns
    assert df.select(
        "vehicle_presence_time", "vehicle_presence_time_s", "type_label", "color", "color_label"
    ).rows() == [(41, 4.1, "van", None, None), (54, 5.4, "truck and SUV", 12356, None)]
    assert df["is_placeholder"].to_list() == [False, False]
    aggregated = _read("2021-08-06_4153b8d_vehicles_1h.json")
    assert aggregated.select("vehicle_impressions", "vehicle_presence_time_s").rows() == [
        (1.72, 1.2),
        (0.0, 0.0),
        (6.04, 8.3),
    ]


def test_2021_persons_are_footfall() -> None:
    finest = _read("2021-03-16_08b0096_persons_finest.json")
    assert finest.select("footfall_presence_time_s", "is_placeholder").rows() == [
        (4.1, False),
        (5.4, False),
    ]
    aggregated = _read("2021-03-16_08b0096_persons_1h.json")
    assert aggregated.schema == vf.export_schema("footfall", "1h")
    assert aggregated.select("footfall_impressions", "footfall_presence_time").rows() == [
        (1.0, 12),
        (0.0, 0),
        (3.0, 83),
    ]


def test_2021_vehicles_persons_are_vehicles_footfall() -> None:
    df = _read("2021-12-07_d4a932c_vehicles_persons_finest.json")
    assert df.schema == vf.export_schema("vehicles_footfall", "finest")
    assert df.select("vehicle_presence_time", "footfall_presence_time", "type_label").rows() == [
        (29, 0, "truck and SUV"),
        (0, 85, "unknown"),
    ]


def test_2021_im_total_names() -> None:
    df = _read("2021-12-10_fdcd324_im_1h.json")
    assert df.select(
        "vehicle_presence_time_s", "footfall_presence_time_s", "backup_value", "analysis_window_s"
    ).rows() == [(269.6, 2348.2, False, 3600.0), (398.9, 666.2, True, 3600.0)]


def test_proof_of_play_eras() -> None:
    y2018 = _read("2018-02-19_f95d7a4_proof_of_play_by_location_1h.json")
    assert y2018["estimated_ots"].to_list() == [32.0, 96.0, 8.0]
    assert y2018["impressions"].null_count() == 3  # estimated_ots is not renamed: kept
    y2020 = _read("2020-03-18_2ed1c6c_proof_of_play_by_site_1h.json")
    assert y2020.select("estimated_ots", "impressions").row(0) == (31.0, 31.0)
    seconds = _read("2022-01-27_9ba386a_proof_of_play_by_location_1h.json")
    assert seconds.select("total_dwell_time_s", "total_attention_time_s").row(0) == (
        5432.1,
        1293.9,
    )
    assert seconds["dwell_time_in_tenths_of_sec"].null_count() == 3  # another unit: no rename
    tenths = _read("2022-02-02_f0bfa44_proof_of_play_by_site_1h.json")
    assert tenths.select("dwell_time_s", "attention_time_s").row(0) == (0.9, 0.5)


def test_proof_of_play_with_demographics_reads_offline() -> None:
    df = _read("2026-07-06_6c3790f_proof_of_play_by_location_1h_demographics.json")
    assert df["watchers_masked"].to_list() == [2, 60, 2]
    assert df.schema == vf.export_schema("proof_of_play_by_location", "1h")


def test_2025_compass_and_content_plays_names() -> None:
    compass = _read("2025-04-11_1b2abc6_compass_1h.json")
    assert compass.select("ots_count_impressions", "effective_ots_count", "east").row(0) == (
        77,
        43,
        0.242,
    )
    plays = _read("2025-07-24_04f669f_content_plays_1h.json")
    assert plays["plays"].to_list() == [12, 22, 33]
