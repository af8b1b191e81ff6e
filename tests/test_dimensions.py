"""The dimension readers: source forms, bad input, and reading online through the client."""

from __future__ import annotations

import datetime as dt
import io
import warnings

import orjson
import polars as pl
import pytest

import vidiframe as vf
from vidiframe._dimension_registry import iter_dimensions
from vidiframe.testing import FakeVidiCenter, ManualClock

LOCATIONS = [
    {
        "last_upload_timestamp": "2015-10-27T11:29:57",
        "last_timezone": 3600,
        "box_id": 192366,
        "site_id": 54422,
        "id": 27046,
        "creation_date": "2012-07-09T07:05:19",
        "label": "Entrance",
        "active": True,
    }
]


# -- source forms -----------------------------------------------------------------------------


def test_every_source_form_gives_the_same_frame(tmp_path):
    body = orjson.dumps(LOCATIONS)
    path = tmp_path / "locations.json"
    path.write_bytes(body)
    expected = vf.read_locations(LOCATIONS)
    for source in (str(path), path, body, bytearray(body), body.decode(), io.BytesIO(body)):
        assert vf.read_locations(source).equals(expected)
    assert expected.row(0, named=True)["utc_offset"] == dt.timedelta(hours=1)
    assert expected.row(0, named=True)["last_upload_timestamp"] == dt.datetime(
        2015, 10, 27, 11, 29, 57
    )


def test_an_empty_list_gives_the_full_schema_for_every_dimension():
    for spec in iter_dimensions():
        frame = vf.read_dimension(spec.name, "[]")
        assert frame.height == 0
        assert frame.schema == spec.schema == vf.dimension_schema(spec.name)


def test_ids_sent_as_text_are_cast_and_booleans_sent_as_text_too():
    frame = vf.read_sites([{"id": "8654", "network_id": "15678", "label": "x", "active": "true"}])
    assert frame.select("site_id", "network_id", "active").row(0) == (8654, 15678, True)


# -- unknown fields are kept and reported ----------------------------------------------------


def test_an_unknown_field_is_kept_and_reported():
    with pytest.warns(vf.UnknownFieldWarning, match="timezone_name"):
        frame = vf.read_locations([{**LOCATIONS[0], "timezone_name": "Europe/Paris"}])
    assert frame["timezone_name"].to_list() == ["Europe/Paris"]
    assert frame.columns[: len(vf.dimension_schema("locations"))] == list(
        vf.dimension_schema("locations")
    )


def test_strict_refuses_an_unknown_field():
    with pytest.raises(vf.SchemaError, match="timezone_name"):
        vf.read_locations([{**LOCATIONS[0], "timezone_name": "Europe/Paris"}], strict=True)


def test_an_unknown_nested_field_is_kept_and_reported():
    sites = [
        {
            "id": 1,
            "network_id": 2,
            "label": "a",
            "vehicles_factors": {"factor_car": 1.5, "factor_moped": 0.5},
        }
    ]
    with pytest.warns(vf.UnknownFieldWarning, match="factor_moped"):
        frame = vf.read_sites(sites)
    factors = frame["vehicles_factors"][0]
    assert factors["factor_car"] == 1.5
    assert factors["factor_moped"] == 0.5


def test_an_undocumented_alert_type_keeps_its_code_and_is_reported():
    with pytest.warns(vf.UnknownCodeWarning, match="alert_type.*: 99"):
        alerts = vf.read_alerts([{"id": 1, "alert_type": 13}, {"id": 2, "alert_type": 99}])
    assert alerts.select("alert_type", "alert_type_label").rows() == [
        (13, "Low FPS Alert"),
        (99, None),
    ]


# -- bad input --------------------------------------------------------------------------------


def test_an_unknown_dimension_names_the_known_ones():
    with pytest.raises(vf.InvalidRequestError, match="unknown dimension 'zones'; known: networks"):
        vf.read_dimension("zones", "[]")


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b'{"state": "finished", "data": []}', "data export response"),
        (b'{"message": "Invalid username or token.", "error": 401}', "error from the server"),
        (b'{"zones": []}', "list of objects"),
        (b"[1, 2]", r"locations\[0\] must be a JSON object"),
        (b'"text"', "not a JSON str"),
        (b'[{"id": 1,}]', "not valid JSON"),
    ],
)
def test_what_is_not_a_dimension_response_is_refused(body, match):
    with pytest.raises(vf.ResponseFormatError, match=match):
        vf.read_locations(body)


def test_invalid_json_gives_the_position():
    with pytest.raises(vf.ResponseFormatError) as caught:
        vf.read_locations(b'[{"id": 1,}]')
    assert caught.value.position == 9  # the comma


def test_a_value_that_cannot_take_its_type_names_column_value_and_row():
    with pytest.raises(vf.SchemaError, match="'location_id': value 'abc' at row 1") as caught:
        vf.read_locations([{"id": 1}, {"id": "abc"}])
    assert (caught.value.column, caught.value.value, caught.value.row) == ("location_id", "abc", 1)
    with pytest.raises(vf.SchemaError, match="creation_date"):
        vf.read_locations([{"id": 1, "creation_date": "last tuesday"}])


def test_both_a_renamed_field_and_its_target_must_agree():
    with pytest.raises(vf.SchemaError, match="both 'location' and 'location_id'"):
        vf.read_alerts([{"id": 1, "location": 5, "location_id": 6}])
    assert vf.read_alerts([{"id": 1, "location": 5, "location_id": 5}])["location_id"].item() == 5


def test_an_integer_past_64_bits_is_refused_not_made_a_float():
    # orjson decoded 2**64 + 1 as 1.8446744073709552e19: an unknown field changed value.
    body = b'[{"id": 1, "label": "x", "counter": 18446744073709551617}]'
    with pytest.raises(vf.SchemaError, match="18446744073709551617") as caught:
        vf.read_networks(body)
    assert caught.value.column == "counter"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", vf.UnknownFieldWarning)
        kept = vf.read_networks(b'[{"id": 1, "counter": 9223372036854775807}]')
    assert kept.schema["counter"] == pl.Int64
    assert kept["counter"].item() == 2**63 - 1


def test_bytes_read_as_the_exports_are():
    # A byte-order mark is not part of the JSON, as for read_vidicenter.
    assert vf.read_networks(b'\xef\xbb\xbf[{"id": 7, "label": "N"}]').row(0) == (7, "N", None)
    # A row nested past orjson's 255 levels: named, not a raw TypeError from the message.
    with pytest.raises(vf.ResponseFormatError, match=r"networks\[0\] must be a JSON object"):
        vf.read_networks(b"[" + b"[" * 300 + b"]" * 300 + b"]")


@pytest.mark.parametrize(
    ("read", "row", "derived", "value"),
    [
        (vf.read_locations, {"id": 1, "last_timezone": 3600, "utc_offset": 5}, "utc_offset", 5),
        (
            vf.read_alerts,
            {"id": 1, "alert_type": 1, "alert_type_label": "X"},
            "alert_type_label",
            "X",
        ),
        (
            vf.read_clip_metadata,
            {"id": 5, "network_id": 1, "clip_duration": 3, "clip_duration_s": 9},
            "clip_duration_s",
            9,
        ),
    ],
)
def test_a_field_named_like_a_derived_column_keeps_its_value_apart(read, row, derived, value):
    # Was a raw polars DuplicateError: the frame had the derived column and the field.
    with pytest.warns(vf.UnknownFieldWarning) as caught:
        df = read([row])
    assert any(f"kept as '{derived}_as_sent'" in str(w.message) for w in caught)
    assert df[f"{derived}_as_sent"].to_list() == [value]
    assert df.columns.count(derived) == 1
    assert df[derived].item() != value  # the derived column is vidiframe's own


def test_a_last_timezone_that_is_no_offset_is_refused_not_wrapped():
    # pl.duration wraps past 2**63 microseconds: utc_offset was -23276712 days for 9e15.
    with pytest.raises(vf.SchemaError, match="value 9000000000000000 at row 1") as caught:
        vf.read_locations([{"id": 1}, {"id": 2, "last_timezone": 9 * 10**15}])
    assert (caught.value.column, caught.value.row) == ("last_timezone", 1)
    with pytest.raises(vf.SchemaError, match=r"outside -86400\.\.86400"):
        vf.read_locations([{"id": 2, "last_timezone": -86_401}])
    edge = vf.read_locations([{"id": 2, "last_timezone": 86_400}, {"id": 3}])
    assert edge["utc_offset"].to_list() == [dt.timedelta(days=1), None]


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(vf.InvalidRequestError, match="nor the path of an existing file"):
        vf.read_networks(str(tmp_path / "nope.json"))


def test_online_arguments_with_a_source_are_refused():
    with pytest.raises(vf.InvalidRequestError, match="network only apply when reading online"):
        vf.read_sites("[]", network=5)
    with pytest.raises(vf.InvalidRequestError, match="params"):
        vf.read_alerts("[]", hours=3)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (
            lambda c: vf.read_locations(site=1, network=2, client=c),
            "no locations endpoint for scope network \\+ site",
        ),
        (
            lambda c: vf.read_sites(site_tag="a", vehicles=True, client=c),
            "no sites/vehicles endpoint",
        ),
        (lambda c: vf.read_alerts(hours=25, client=c), "hours must be an integer from 1 to 24"),
        (lambda c: vf.read_alerts(hours=0, client=c), "hours must be"),
        (lambda c: vf.read_locations(site="12a", client=c), "site= takes a numeric id"),
        (lambda c: vf.read_clip_metadata(content_id="x", client=c), "no clip_metadata endpoint"),
        (lambda c: vf.read_dimension("networks", vehicles=True, client=c), "only applies to sites"),
    ],
)
def test_scopes_the_api_does_not_have_are_refused_before_any_call(call, match):
    clock = ManualClock()
    with FakeVidiCenter(clock=clock, serve=False) as fake:
        client = _client(fake, clock)
        with pytest.raises(vf.InvalidRequestError, match=match):
            call(client)
    assert fake.requests == []


# -- online -------------------------------------------------------------------------------------


def _client(fake: FakeVidiCenter, clock: ManualClock, **kw) -> vf.VidiCenterClient:
    kw.setdefault("cache_dir", None)
    return vf.VidiCenterClient(
        "demo",
        "demo-token",
        fake.url,
        transport=fake.transport(),
        clock=clock,
        sleep=clock.sleep,
        **kw,
    )


def test_each_reader_calls_its_documented_path():
    clock = ManualClock()
    with FakeVidiCenter(clock=clock, serve=False) as fake:
        client = _client(fake, clock)
        vf.read_networks(client=client)
        vf.read_sites(network=2, vehicles=True, client=client)
        vf.read_locations(site_tag="site tag 4", client=client)
        vf.read_boxes(location=4001, client=client)
        vf.read_site_tags(network=2, client=client)
        vf.read_location_tags(client=client)
        vf.read_clip_metadata(network=2, content_id="content 1", client=client)
        vf.read_alerts(location_tag="location tag 4", active=True, hours=24, client=client)
    assert [(r.path, dict(r.params), r.status) for r in fake.requests] == [
        ("/api/v1/networks/", {}, 200),
        ("/api/v1/network/2/sites/vehicles/", {}, 200),
        ("/api/v1/site_tag/site%20tag%204/locations/", {}, 200),
        ("/api/v1/location/4001/boxes/", {}, 200),
        ("/api/v1/network/2/site_tags/", {}, 200),
        ("/api/v1/location_tags/", {}, 200),
        ("/api/v1/network/2/clip/metadata/content%201/", {}, 200),
        ("/api/v1/location_tag/location%20tag%204/alerts/", {"active": "True", "hours": "24"}, 200),
    ]
    assert client.stats["calls"] == 8


def test_topology_is_cached_alerts_are_not_and_refresh_asks_again(tmp_path):
    clock = ManualClock()
    with FakeVidiCenter(clock=clock, serve=False) as fake:
        client = _client(fake, clock, cache_dir=tmp_path)
        first = vf.read_locations(client=client)
        again = vf.read_locations(client=client)
        vf.read_locations(client=client, refresh=True)
        vf.read_alerts(client=client)
        vf.read_alerts(client=client)
    assert first.equals(again)
    assert [r.path for r in fake.requests] == [
        "/api/v1/locations/",
        "/api/v1/locations/",
        "/api/v1/alerts/",
        "/api/v1/alerts/",
    ]
    assert client.stats["cache_hits"] == 1
    # The token is in no cache file.
    assert all(b"demo-token" not in p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())


def test_an_entity_that_does_not_exist_is_a_clear_error_not_an_empty_frame():
    clock = ManualClock()
    with FakeVidiCenter(clock=clock, serve=False) as fake:
        client = _client(fake, clock)
        with pytest.raises(vf.InvalidRequestError, match="no site=999"):
            vf.read_locations(site=999, client=client)
        with pytest.raises(vf.InvalidRequestError, match="no site_tag='nope'"):
            vf.read_alerts(site_tag="nope", client=client)
        with pytest.raises(vf.InvalidRequestError, match="content_id='content 9'"):
            vf.read_clip_metadata(network=1, content_id="content 9", client=client)


def test_wrong_credentials_are_an_authentication_error_without_the_token():
    clock = ManualClock()
    with FakeVidiCenter(clock=clock, serve=False) as fake:
        client = vf.VidiCenterClient(
            "demo",
            "wrong-secret",
            fake.url,
            transport=fake.transport(),
            clock=clock,
            sleep=clock.sleep,
            cache_dir=None,
        )
        with pytest.raises(vf.AuthenticationError) as caught:
            vf.read_networks(client=client)
    assert "wrong-secret" not in str(caught.value)


def test_reading_over_a_real_loopback_socket():
    with FakeVidiCenter() as fake:
        client = vf.VidiCenterClient("demo", "demo-token", fake.url, cache_dir=None)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            networks = vf.read_networks(client=client)
        client.close()
    assert networks.select("network_id", "label").rows() == [(1, "Network 1"), (2, "Network 2")]
    assert networks.schema == pl.Schema(vf.dimension_schema("networks"))


def test_a_cache_that_fails_never_costs_the_dimension(tmp_path, monkeypatch, caplog):
    # The same helpers as exports: an unreadable cache is a miss, an unwritable one a warning.
    from vidiframe._cache import ResponseCache

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ResponseCache, "get", broken)
    monkeypatch.setattr(ResponseCache, "put", broken)
    clock = ManualClock()
    with FakeVidiCenter(clock=clock, serve=False) as fake:
        client = _client(fake, clock, cache_dir=tmp_path / "cache")
        with caplog.at_level("WARNING", logger="vidiframe"):
            networks = vf.read_networks(client=client)
        want = vf.read_networks(client=_client(fake, clock))
    assert networks.equals(want)
    assert networks.height > 0
    assert "No space left on device" in caplog.text
