"""The fake's dimensions agree with its exports, and the joins name and place its rows."""

from __future__ import annotations

import datetime as dt
import warnings

import polars as pl
import pytest

import vidiframe as vf
from vidiframe._dimension_registry import get_dimension
from vidiframe.testing import FakeVidiCenter, ManualClock
from vidiframe.testing._dimension_data import DEFAULT_ACCOUNT_LOCATIONS

# ManualClock starts at 2025-01-01 00:00 UTC.
START = "2024-12-27T00:00:00"
END = "2024-12-30T23:59:59"


@pytest.fixture
def fake():
    clock = ManualClock()
    with FakeVidiCenter(clock=clock, serve=False, build_seconds=0.0, seed=7) as server:
        server.test_client = vf.VidiCenterClient(  # type: ignore[attr-defined]
            "demo",
            "demo-token",
            server.url,
            transport=server.transport(),
            clock=clock,
            sleep=clock.sleep,
            cache_dir=None,
        )
        yield server


def _export(fake, data_type="ots", resolution="1h", **kw):
    kw.setdefault("locations", list(DEFAULT_ACCOUNT_LOCATIONS))
    return vf.read_vidicenter(
        data_type=data_type,
        time_resolution=resolution,
        start=START,
        end=END,
        client=fake.test_client,
        progress=False,
        **kw,
    )


def test_every_location_of_an_export_has_a_site_a_network_and_a_time_zone(fake):
    client = fake.test_client
    ots = _export(fake, locations=[*DEFAULT_ACCOUNT_LOCATIONS, 7777])  # 7777: not declared
    loc = vf.read_locations(client=client)
    sites = vf.read_sites(client=client)
    nets = vf.read_networks(client=client)
    exported = set(ots["location_id"].unique())
    assert exported == set(DEFAULT_ACCOUNT_LOCATIONS) | {7777}
    assert exported <= set(loc["location_id"])
    assert set(loc["site_id"]) <= set(sites["site_id"])
    assert set(sites["network_id"]) <= set(nets["network_id"])
    assert loc["last_timezone"].null_count() == 0
    assert loc.filter(pl.col("location_id") == 7777).select("site_id", "label").row(0) == (
        777,
        "Location 7777",
    )
    # Each location has a box, and the boxes say the same.
    boxes = vf.read_boxes(client=client)
    assert boxes.select("box_id", "location_id", "site_id").sort("box_id").rows() == (
        loc.select("box_id", "location_id", "site_id").sort("box_id").rows()
    )


def test_the_tags_hold_the_locations_exports_by_tag_read(fake):
    client = fake.test_client
    by_location_tag = _export(fake, locations=None, location_tags=[4])
    tagged = vf.read_locations(location_tag="location tag 4", client=client)
    assert set(by_location_tag["location_id"]) == set(tagged["location_id"]) == {4001, 4002, 4003}
    by_site_tag = _export(fake, locations=None, site_tags=[4])
    in_site_tag = vf.read_locations(site_tag="site tag 4", client=client)
    assert (
        set(by_site_tag["location_id"]) == set(in_site_tag["location_id"]) == set(range(4010, 4030))
    )
    site_tags = vf.read_site_tags(network=2, client=client)
    assert site_tags.select("site_tag_id", "label").rows() == [(4, "site tag 4")]
    assert site_tags.explode("sites")["sites"].struct.field("site_id").to_list() == [401, 402]
    location_tags = vf.read_location_tags(client=client)
    assert location_tags.select("location_tag_id", "network_id", "label").rows() == [
        (4, 2, "location tag 4")
    ]


def test_clip_metadata_names_every_content_of_the_exports(fake):
    client = fake.test_client
    plays = _export(fake, "content_plays", "1h")
    clips = vf.read_clip_metadata(client=client)
    loc = vf.read_locations(client=client)
    sites = vf.read_sites(client=client)
    # "content 1" is a clip of both networks, named differently: the network is needed.
    with pytest.raises(vf.InvalidRequestError, match="pass locations= and sites="):
        plays.vidi.with_clip_names(clips)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no content without metadata
        named = plays.vidi.with_clip_names(clips, locations=loc, sites=sites)
    assert named.height == plays.height
    assert named.drop("content_name", "advertiser_name").equals(plays)
    assert named["content_name"].null_count() == 0
    network = (pl.col("location_id") // 10 // 250 + 1).cast(pl.String)
    expected = pl.format(
        "Spot {} (network {})", pl.col("content_id").str.extract(r"(\d)$"), network
    )
    assert named.select((pl.col("content_name") == expected).all()).item()


def test_with_names_labels_every_row_of_an_export_in_order(fake):
    client = fake.test_client
    ots = _export(fake)
    loc = vf.read_locations(client=client)
    sites = vf.read_sites(client=client)
    nets = vf.read_networks(client=client)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        named = ots.vidi.with_names(locations=loc, sites=sites, networks=nets)
    assert named.select(ots.columns).equals(ots)
    assert named.select(
        (pl.col("location_label") == pl.format("Location {}", "location_id")).all(),
        (pl.col("site_label") == pl.format("Site {}", pl.col("location_id") // 10)).all(),
        (pl.col("network_label") == pl.format("Network {}", pl.col("network_id"))).all(),
        pl.col("venue_type").is_not_null().all(),
    ).row(0) == (True, True, True, True)
    assert named.columns[len(ots.columns) :] == [
        "location_label",
        "site_id",
        "site_label",
        "venue_type",
        "venue_subtype",
        "network_id",
        "network_label",
    ]


def test_with_utc_subtracts_each_location_offset(fake):
    client = fake.test_client
    ots = _export(fake)
    loc = vf.read_locations(client=client)
    utc = ots.vidi.with_utc(loc)
    offsets = dict(loc.select("location_id", "last_timezone").iter_rows())
    assert len(set(offsets.values())) > 1  # several time zones
    for location_id, start, start_utc in utc.select(
        "location_id", "period_start", "period_start_utc"
    ).iter_rows():
        expected = start - dt.timedelta(seconds=offsets[location_id])
        assert start_utc == expected.replace(tzinfo=dt.timezone.utc)
    assert utc.select(ots.columns).equals(ots)


def _outage_hours(alerts: pl.DataFrame, location: int, until: dt.datetime) -> set[dt.datetime]:
    """The local hours covered by the location's alerts, until ``until``."""
    rows = alerts.filter(pl.col("location_id") == location)
    ends = dict(
        rows.filter(pl.col("status") == "terminated").select("alert_id", "timestamp").iter_rows()
    )
    hours = set()
    for linked, start in (
        rows.filter(pl.col("status") == "raised")
        .select("linked_alerthistory", "timestamp")
        .iter_rows()
    ):
        end = ends.get(linked, until) if linked is not None else until
        moment = start
        while moment < end:
            hours.add(moment)
            moment += dt.timedelta(hours=1)
    return hours


@pytest.mark.parametrize("resolution", ["1h", "15m"])
def test_the_alerts_coincide_with_the_placeholder_rows(fake, resolution):
    client = fake.test_client
    locations = [4636, 4001, 1467]
    export = _export(fake, "ots", resolution, locations=locations)
    alerts = vf.read_alerts(client=client)
    assert alerts.height > 0
    assert set(alerts["alert_type_label"]) == {"Upload Period Alert"}
    window = (dt.datetime.fromisoformat(START), dt.datetime.fromisoformat(END))
    for location in locations:
        rows = export.filter(pl.col("location_id") == location)
        gaps = set(
            rows.filter("is_placeholder")["period_start"].dt.truncate("1h").unique().to_list()
        )
        covered = {
            h for h in _outage_hours(alerts, location, window[1]) if window[0] <= h <= window[1]
        }
        assert gaps == covered, location
        assert gaps  # the comparison is not between two empty sets
        # Every period of an offline hour is a placeholder, and only those.
        in_gap = rows["period_start"].dt.truncate("1h").is_in(list(gaps))
        assert rows["is_placeholder"].to_list() == in_gap.to_list()


def test_alert_times_are_local_and_host_times_utc(fake):
    client = fake.test_client
    alerts = vf.read_alerts(client=client)
    loc = vf.read_locations(client=client)
    joined = alerts.join(loc.select("location_id", "utc_offset"), on="location_id", how="left")
    assert joined.select(
        (pl.col("timestamp") - pl.col("utc_offset") == pl.col("host_timestamp")).all()
    ).item()
    # Raised and terminated alerts point at each other.
    links = dict(alerts.select("alert_id", "linked_alerthistory").iter_rows())
    for alert_id, linked in links.items():
        if linked is not None and linked in links:
            assert links[linked] == alert_id


def test_alert_filters_follow_the_docs(fake):
    client = fake.test_client
    everything = vf.read_alerts(client=client)
    last_day = vf.read_alerts(hours=24, client=client)
    active = vf.read_alerts(active=True, client=client)
    one_location = vf.read_alerts(location=4636, client=client)
    assert 0 < last_day.height < everything.height
    cutoff = dt.datetime(2024, 12, 31)  # 24 hours before the clock, in UTC
    assert last_day.select((pl.col("host_timestamp") >= cutoff).all()).item()
    assert active.select(
        (pl.col("status") == "raised").all(), pl.col("linked_alerthistory").is_null().all()
    ).row(0) == (True, True)
    assert set(one_location["location_id"]) == {4636}
    assert one_location.height == everything.filter(pl.col("location_id") == 4636).height


def test_the_fake_sends_the_current_fields_of_every_dimension_and_nothing_else(fake):
    client = fake.test_client
    _export(fake)  # some history, for the alerts
    frames = {
        "networks": vf.read_networks(client=client),
        "sites": vf.read_sites(vehicles=True, client=client),
        "locations": vf.read_locations(client=client),
        "boxes": vf.read_boxes(client=client),
        "site_tags": vf.read_site_tags(network=2, client=client),
        "location_tags": vf.read_location_tags(network=2, client=client),
        "clip_metadata": vf.read_clip_metadata(client=client),
        "alerts": vf.read_alerts(client=client),
    }
    # Optional fields the fake leaves out, as an account without them would.
    optional = {"creative_agency_name", "video"}
    for name, frame in frames.items():
        spec = vf.dimension_schema(name)
        assert frame.schema == spec, name  # nothing unknown (warnings are errors)
        assert frame.height > 0, name
        for f in get_dimension(name).fields:
            if f.dropped or f.name in optional:
                assert frame[f.name].null_count() == frame.height, (name, f.name)
            elif name != "alerts" or f.name != "linked_alerthistory":
                assert frame[f.name].null_count() < frame.height, (name, f.name)


def test_an_edited_row_is_served_everywhere_it_is_listed(fake):
    client = fake.test_client
    before = _export(fake, locations=[4636])
    fake.edit_dimension("sites", 401, label="Flagship", venue_type="Retail")
    fake.edit_dimension("locations", 4636, label="Main door")
    fake.edit_dimension("locations", 4636, last_timezone=7200)  # edits add up
    fake.edit_dimension("networks", 2, label="South")
    fake.edit_dimension("clip_metadata", 201, name="Winter sale")

    site = vf.read_sites(client=client).filter(pl.col("site_id") == 401)
    assert site.select("label", "venue_type").row(0) == ("Flagship", "Retail")
    vehicles = vf.read_sites(client=client, vehicles=True).filter(pl.col("site_id") == 401)
    assert vehicles.get_column("label").item() == "Flagship"
    assert vehicles.get_column("vehicles_factors").item() is not None
    tags = vf.read_site_tags(network=2, client=client).explode("sites")
    inside = tags.filter(pl.col("sites").struct.field("site_id") == 401)
    assert inside.select(pl.col("sites").struct.field("label")).item() == "Flagship"
    loc = vf.read_locations(client=client)
    assert loc.filter(pl.col("location_id") == 4636).select("label", "last_timezone").row(0) == (
        "Main door",
        7200,
    )
    # The site's venue reaches its locations' rows; other rows are as generated.
    assert loc.filter(pl.col("site_id") == 401).get_column("venue_type").unique().to_list() == [
        "Retail"
    ]
    assert loc.filter(pl.col("location_id") == 4637).get_column("label").item() == "Location 4637"
    nets = vf.read_networks(client=client).sort("network_id")
    assert nets.get_column("label").to_list() == ["Network 1", "South"]
    clips = vf.read_clip_metadata(client=client).filter(pl.col("clip_metadata_id") == 201)
    assert clips.get_column("name").item() == "Winter sale"
    # The exports do not change.
    assert _export(fake, locations=[4636]).equals(before)


@pytest.mark.parametrize(
    ("name", "fields", "message"),
    [
        ("alerts", {"label": "x"}, "'alerts' cannot be edited"),
        ("location", {"label": "x"}, "'location' cannot be edited"),
        ("locations", {}, "give the fields to change"),
        ("locations", {"id": 5}, "never the id"),
    ],
)
def test_edit_dimension_refuses_what_it_cannot_do(fake, name, fields, message):
    with pytest.raises(vf.InvalidRequestError, match=message):
        fake.edit_dimension(name, 4636, **fields)


@pytest.mark.parametrize(
    ("name", "missing", "listed", "nearest"),
    [
        ("locations", 9999, 4636, "50 row(s), the nearest ids 4635, 4636, 4637, 4638, 4639."),
        # A location's id is not a site's.
        ("sites", 4636, 463, "5 row(s), the nearest ids 146, 400, 401, 402, 463."),
        ("networks", 99, 2, "2 row(s), the nearest ids 1, 2."),
        ("boxes", 4636, 104636, "the nearest ids 101460, 101461, 101462, 101463, 101464."),
        ("site_tags", 77, 4, "1 row(s), the nearest ids 4."),
        ("location_tags", 77, 4, "1 row(s), the nearest ids 4."),
        ("clip_metadata", 999, 201, "6 row(s), the nearest ids 102, 103, 201, 202, 203."),
    ],
)
def test_edit_dimension_refuses_an_id_no_row_has(fake, name, missing, listed, nearest):
    # Before, the edit was kept and changed nothing: a test editing the wrong id
    # passed or failed for another reason than the one it states.
    with pytest.raises(vf.InvalidRequestError) as error:
        fake.edit_dimension(name, missing, label="x")
    assert f"no row of {name} has id {missing}; it has " in str(error.value)
    assert nearest in str(error.value)
    assert fake.account.edits == {}
    # An id the dimension lists is accepted.
    fake.edit_dimension(name, listed, label="x")
    assert fake.account.edits == {(name, listed): {"label": "x"}}


def test_a_location_exported_since_can_be_edited(fake):
    # The account's locations grow with the exports asked for: so do the ids.
    with pytest.raises(vf.InvalidRequestError, match="no row of locations has id 1550"):
        fake.edit_dimension("locations", 1550, label="Back door")
    _export(fake, locations=[1550])
    fake.edit_dimension("locations", 1550, label="Back door")
    rows = vf.read_locations(client=fake.test_client).filter(pl.col("location_id") == 1550)
    assert rows.get_column("label").to_list() == ["Back door"]
