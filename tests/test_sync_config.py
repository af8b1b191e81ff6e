"""The sync configuration: TOML keys, validation, "did you mean", storage options."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

import vidiframe as vf
from vidiframe._sync import SyncConfig

D = dt.date
LOCATIONS = [4636, 4637]
OTS = {"data_type": "ots", "time_resolution": "1h", "locations": LOCATIONS}


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
        ({"root": ""}, "'root' must be a directory path or a URL"),
        ({"export": []}, r"at least one \[\[export\]\]"),
        ({"exports": [OTS]}, "unknown key 'exports' \\(did you mean 'export'\\?\\)"),
        (
            {"export": [{**OTS, "unknown_fields": "keep"}]},
            '\'unknown_fields\' \\(the older name of schema_mode\\) must be "error" or "drop"',
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
        ({"format": "csv"}, "'format' must be one of 'parquet', 'delta'"),
        ({"export": [{**OTS, "format": "iceberg"}]}, r"#1 \(ots_1h\): 'format' must be one of"),
        ({"schema_mode": "merge"}, "'schema_mode' must be one of 'evolve', 'error', 'drop'"),
        (
            {"export": [{**OTS, "unknown_fields": "drop", "schema_mode": "error"}]},
            "unknown_fields = 'drop' and schema_mode = 'error' disagree",
        ),
        ({"unknown_fields": "drop"}, "unknown key 'unknown_fields'"),
        (
            {"root": "s3://bucket/lake", "storage_options": {"aws_acess_key_id": "x"}},
            r"\[storage_options\]: unknown key 'aws_acess_key_id' "
            r"\(did you mean 'aws_access_key_id'\?\)",
        ),
        ({"root": "s3://b/l", "storage_options": "x"}, r"\[storage_options\] must be a table"),
        (
            {"root": "s3://b/l", "storage_options": {"aws_region": ["eu-west-1"]}},
            "'aws_region' must be text, a number or true/false, got a list",
        ),
        ({"storage_options": {"aws_region": "eu-west-1"}}, "applies to a URL root"),
        (
            {"dimensions": ["locations", "site"]},
            r"'dimensions': unknown dimension 'site' \(did you mean 'sites'\?\); known: networks",
        ),
        ({"dimensions": ["Locations"]}, r"did you mean 'locations'\?"),
        ({"dimensions": ["weather"]}, "unknown dimension 'weather'; known: networks, sites, "),
        ({"dimensions": [3]}, "unknown dimension 3"),
        ({"dimensions": "locations"}, "'dimensions' must be a list of dimension names"),
        ({"dimensions": {"locations": True}}, "'dimensions' must be a list of dimension names"),
        ({"dimensions": ["sites", "sites"]}, "'dimensions' lists 'sites' twice"),
        ({"dimension": ["sites"]}, "unknown key 'dimension' \\(did you mean 'dimensions'\\?\\)"),
        (
            {"dimensions": ["sites"], "export": [{**OTS, "name": "dimensions"}]},
            r"\[\[export\]\] #1 is named 'dimensions', where the dimension snapshots are kept",
        ),
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


def test_a_url_root_keeps_its_storage_options_out_of_reprs_and_errors():
    cfg = SyncConfig.from_dict(
        {
            **BASE,
            "root": "s3://bucket/lake/",
            "format": "delta",
            "storage_options": {
                "aws_endpoint_url": "http://127.0.0.1:9000",
                "aws_allow_http": True,
                "aws_secret_access_key": "s3cret-key",
                "timeout": 30,
            },
        }
    )
    (ots,) = cfg.exports
    assert (cfg.root, ots.path, ots.format) == (
        "s3://bucket/lake",
        "s3://bucket/lake/ots_1h",
        "delta",
    )
    assert (
        ots.storage_options
        == cfg.storage_options
        == {
            "aws_endpoint_url": "http://127.0.0.1:9000",
            "aws_allow_http": "true",
            "aws_secret_access_key": "s3cret-key",
            "timeout": "30",
        }
    )
    assert "s3cret" not in repr(cfg) + repr(ots) + str(cfg)
    with pytest.raises(vf.InvalidRequestError) as caught:
        SyncConfig.from_dict(
            {**BASE, "root": "s3://b/l", "storage_options": {"aws_secret_access_key": {"v": 1}}}
        )
    assert "'v'" not in str(caught.value)


def test_schema_mode_defaults_to_evolve_and_is_set_per_export():
    cfg = SyncConfig.from_dict(
        {
            **BASE,
            "schema_mode": "error",
            "export": [OTS, {**OTS, "name": "b", "schema_mode": "drop"}, {**OTS, "name": "c"}],
        }
    )
    assert [e.schema_mode for e in cfg.exports] == ["error", "drop", "error"]
    assert SyncConfig.from_dict(BASE).exports[0].schema_mode == "evolve"


@pytest.mark.parametrize("old", ["error", "drop"])
def test_the_older_unknown_fields_key_reads_as_schema_mode(old):
    cfg = SyncConfig.from_dict({**BASE, "export": [{**OTS, "unknown_fields": old}]})
    assert cfg.exports[0].schema_mode == old
    same = {**OTS, "unknown_fields": old, "schema_mode": old}
    assert SyncConfig.from_dict({**BASE, "export": [same]}).exports[0].schema_mode == old


def test_a_toml_file_with_a_url_root_and_storage_options(tmp_path):
    file = tmp_path / "lake.toml"
    file.write_text(
        """
root = "s3://bucket/lake"
first_day = 2025-01-01
format = "delta"
schema_mode = "drop"

[storage_options]
aws_region = "eu-west-1"
aws_allow_http = true

[[export]]
data_type = "ots"
time_resolution = "1h"
locations = [4636]
"""
    )
    cfg = SyncConfig.load(file)
    (ots,) = cfg.exports
    assert (ots.path, ots.format, ots.schema_mode) == ("s3://bucket/lake/ots_1h", "delta", "drop")
    assert ots.storage_options == {"aws_region": "eu-west-1", "aws_allow_http": "true"}


def test_dimensions_are_kept_beside_the_exports_in_the_top_level_format(tmp_path):
    cfg = SyncConfig.from_dict(
        {
            **BASE,
            "root": "s3://bucket/lake/",
            "storage_options": {"aws_region": "eu-west-1", "aws_secret_access_key": "s3cret"},
            "format": "delta",
            "schema_mode": "drop",
            "dimensions": ["locations", "sites_vehicles"],
        }
    )
    locations, vehicles = cfg.dimensions
    assert (locations.name, locations.path, locations.format, locations.schema_mode) == (
        "locations",
        "s3://bucket/lake/dimensions/locations",
        "delta",
        "drop",
    )
    assert (locations.dimension, locations.vehicles) == ("locations", False)
    assert (vehicles.dimension, vehicles.vehicles) == ("sites", True)
    assert locations.storage_options == cfg.storage_options
    assert "s3cret" not in repr(cfg)
    # Without the key: no snapshot, and an export may take the name.
    plain = SyncConfig.from_dict({**BASE, "export": [{**OTS, "name": "dimensions"}]})
    assert plain.dimensions == ()
    local = SyncConfig.from_dict({**BASE, "dimensions": ["networks"]}, base_dir=tmp_path)
    assert local.dimensions[0].path == tmp_path / "lake" / "dimensions" / "networks"
