"""Every dimension example of every version of the live documentation, read value by value.

The examples are in ``tests/data/dimensions/`` (made by ``extract.py`` from the
git history of ``quividi/vidicenter-api-documentation``). Each is read with the
reader of the endpoint its ``curl`` line calls, and every value of the JSON is
compared with the frame's, through the registry's renames: nothing dropped,
nothing re-typed beyond what the field declares, no field unknown.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import orjson
import polars as pl
import pytest

import vidiframe as vf
from vidiframe._dimension_registry import DimensionSpec, get_dimension
from vidiframe._dimensions import dimension_path
from vidiframe._fields import Field
from vidiframe._wire import DIMENSION_PATHS

DATA = Path(__file__).parent / "data" / "dimensions"
FILES = sorted(DATA.glob("*.json"))


def _examples() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in FILES:
        document = orjson.loads(path.read_bytes())
        for example in document["examples"]:
            out.append((f"{path.stem}:{example['line']}", example))
    return out


EXAMPLES = _examples()


def _endpoint(url: str) -> tuple[str, dict[str, str]]:
    """The endpoint of DIMENSION_PATHS a documented URL calls, and its scope values."""
    path = urlsplit(url).path
    if not path.endswith("/"):
        path += "/"  # the docs dropped the final slash until 2026-03
    for endpoint, templates in DIMENSION_PATHS.items():
        for keys, template in templates.items():
            pattern = re.escape(template)
            for key in keys:
                pattern = pattern.replace(re.escape("{" + key + "}"), f"(?P<{key}>[^/]+)")
            match = re.fullmatch(pattern, path)
            if match:
                return endpoint, {k: unquote(v) for k, v in match.groupdict().items()}
    raise AssertionError(f"no endpoint for {url}")


def test_the_examples_cover_every_dimension_and_every_version():
    assert len(FILES) == 21
    dimensions = {_endpoint(e["url"])[0] for _, e in EXAMPLES}
    assert dimensions == set(DIMENSION_PATHS)
    dates = {p.name[:10] for p in FILES}
    assert {"2016-08-19", "2021-03-22", "2022-02-11", "2022-03-28", "2026-07-31"} <= dates


@pytest.mark.parametrize("example", [e for _, e in EXAMPLES], ids=[i for i, _ in EXAMPLES])
def test_every_documented_url_is_a_path_the_readers_build(example):
    endpoint, scope = _endpoint(example["url"])
    name = "sites" if endpoint == "sites/vehicles" else endpoint
    built = dimension_path(name, vehicles=endpoint == "sites/vehicles", **scope)
    assert built == urlsplit(example["url"]).path.rstrip("/") + "/"


def _reader(endpoint: str) -> Any:
    return {
        "networks": vf.read_networks,
        "sites": vf.read_sites,
        "sites/vehicles": vf.read_sites,
        "locations": vf.read_locations,
        "boxes": vf.read_boxes,
        "site_tags": vf.read_site_tags,
        "location_tags": vf.read_location_tags,
        "clip_metadata": vf.read_clip_metadata,
        "alerts": vf.read_alerts,
    }[endpoint]


def _expected(f: Field, value: Any) -> Any:
    """A JSON value as the frame holds it, by the field's declared kind."""
    if value is None:
        return None
    if f.kind == "datetime":
        return dt.datetime.fromisoformat(value)
    if f.kind == "int":
        return int(value)
    if f.kind == "float":
        return float(value)
    return value


def _check_row(
    actual: dict[str, Any],
    given: dict[str, Any],
    fields: dict[str, Field],
    renames: dict[str, str],
    where: str,
) -> None:
    for key, value in given.items():
        name = renames.get(key, key)
        assert name in fields, f"{where}: {key} is not declared"
        f = fields[name]
        if f.kind in ("list", "struct"):
            inner = {k.split(".", 1)[1]: v for k, v in renames.items() if k.startswith(key + ".")}
            subs = {s.name: s for s in f.fields}
            elements = value if f.kind == "list" else [value]
            got = actual[name] if f.kind == "list" else [actual[name]]
            assert len(got) == len(elements), where
            for i, (g, e) in enumerate(zip(got, elements, strict=True)):
                _check_row(g, e, subs, inner, f"{where}.{key}[{i}]")
                # Sub-fields the example lacks are null, not invented.
                sent = {inner.get(k, k) for k in e}
                assert all(g[s] is None for s in subs if s not in sent), where
            continue
        assert actual[name] == _expected(f, value), f"{where}: {key}={value!r} -> {actual[name]!r}"


@pytest.mark.parametrize("example", [e for _, e in EXAMPLES], ids=[i for i, _ in EXAMPLES])
def test_every_example_reads_value_by_value(example):
    endpoint, _ = _endpoint(example["url"])
    spec: DimensionSpec = get_dimension("sites" if endpoint == "sites/vehicles" else endpoint)
    body = orjson.dumps(example["response"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no field of any version is unknown
        frame = _reader(endpoint)(body)
    assert frame.schema == spec.schema
    given = example["response"]
    rows = given if isinstance(given, list) else [given]
    assert frame.height == len(rows)
    for index, (actual, row) in enumerate(zip(frame.iter_rows(named=True), rows, strict=True)):
        _check_row(actual, row, dict(spec.by_name), dict(spec.renames), f"row {index}")
        sent = {spec.renames.get(k, k) for k in row}
        # Every declared field the example does not send is null.
        assert all(actual[f.name] is None for f in spec.fields if f.name not in sent)


def _current(name: str) -> dict[str, Any]:
    """The examples of the latest version of a documentation file, by URL path (first wins)."""
    path = [p for p in FILES if p.stem.endswith(name)][-1]
    out: dict[str, Any] = {}
    for e in orjson.loads(path.read_bytes())["examples"]:
        out.setdefault(urlsplit(e["url"]).path, e["response"])
    return out


def test_locations_of_the_current_docs_by_hand():
    loc = vf.read_locations(orjson.dumps(_current("topology")["/api/v1/locations/"]))
    assert loc.select("location_id", "site_id", "box_id", "label").rows() == [
        (204452, 8654, 193538, "location-204452"),
        (27046, 54422, 192366, "Entrance"),
        (320453, 66531, 219354, "Exit screen"),
    ]
    assert loc["last_timezone"].to_list() == [0, 3600, -14400]
    assert loc["utc_offset"].to_list() == [
        dt.timedelta(0),
        dt.timedelta(hours=1),
        dt.timedelta(hours=-4),
    ]
    assert loc["creation_date"][0] == dt.datetime(2014, 9, 11, 9, 18, 32)
    assert loc["description"].to_list() == ["Main hall screen", None, None]
    assert loc["bm_ignore"].to_list() == [False, None, None]
    assert loc["id_broadsign_uuid"].to_list() == ["", "", ""]


def test_vehicle_factors_of_both_versions_are_a_struct():
    old = next(p for p in FILES if p.name.startswith("2021-03-22"))
    examples = {
        urlsplit(e["url"]).path: e["response"] for e in orjson.loads(old.read_bytes())["examples"]
    }
    sites_2021 = vf.read_sites(examples["/api/v1/sites/vehicles/"])
    factors = sites_2021["vehicles_factors"][0]
    assert factors["factor_pedestrian"] == 1.0
    assert factors["factor_others"] == 1.0
    assert factors["factor_car"] == 1.6
    current = vf.read_sites(_current("topology")["/api/v1/sites/vehicles/"])
    assert current["vehicles_factors"][0] == {
        "factor_car": 1.6,
        "factor_van": 3.5,
        "factor_bus": 9.5,
        "factor_truck": 1.2,
        "factor_pedestrian": None,
        "factor_bike": None,
        "factor_others": None,
    }
    assert isinstance(current.schema["vehicles_factors"], pl.Struct)


def test_alerts_of_the_docs_by_hand():
    alerts = vf.read_alerts(_current("status")["/api/v1/alerts/"])
    assert alerts.select(
        "alert_id", "alert_type", "box_id", "location_id", "site_id", "network_id"
    ).rows() == [
        (199756, 9, 181, 88, 37, 12),
        (192751, 3, 1689, 1768, 219, 47),
        (199250, 8, 1512, 158, 208, 84),
    ]
    assert alerts["alert_type_label"].to_list() == [
        "Session ID Alert",
        "Input or License Errors Alert",
        "Refused Events Alert",
    ]
    assert alerts["linked_alerthistory"].to_list() == [192751, 192755, None]
    assert alerts["host_timestamp"][0] == dt.datetime(2015, 10, 27, 5, 2, 31)


def test_clip_metadata_list_and_detail_name_the_clip_id_content_id():
    examples = _current("clip_metadata")
    listing = vf.read_clip_metadata(examples["/api/v1/clip/metadata/"])
    detail = vf.read_clip_metadata(examples["/api/v1/network/9876/clip/metadata/clip_123/"])
    assert listing.equals(detail)
    assert listing.select("clip_metadata_id", "network_id", "content_id", "name").row(0) == (
        3,
        9876,
        "clip_123",
        "My clip name",
    )
    # The exports call it content_id too, with the same type: joins need no cast.
    assert listing.schema["content_id"] == vf.export_schema("content_plays", "1h")["content_id"]


def test_network_tags_carry_their_sites_and_locations_renamed():
    tags = _current("tags")
    site_tags = vf.read_site_tags(tags["/api/v1/network/4834/site_tags/"])
    sites = site_tags.explode("sites").select(pl.col("sites").struct.unnest())
    assert sites.select("site_id", "label").rows() == [
        (20019, "My site"),
        (14006, "Another site of mine"),
    ]
    location_tags = vf.read_location_tags(tags["/api/v1/network/4834/location_tags/"])
    locations = location_tags.explode("locations").select(pl.col("locations").struct.unnest())
    assert locations["location_id"].to_list() == [2608, 31789, 2608]
    assert locations["last_upload_timestamp"][0] == dt.datetime(2015, 10, 27, 10, 8, 21)
    assert location_tags["extrapolation"].to_list() == [False, False]
