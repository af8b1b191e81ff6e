"""The dimension registry: what the topology, tags, clip and status endpoints return.

Exports hold facts keyed by ids (``location_id``, ``site_id``, ``content_id``);
VidiCenter's other endpoints name those ids. Each of them is declared here once,
with the same :class:`~vidiframe.Field` declarations as the exports: the reader
and the docs read these declarations, and the tests check that the fake server's
answers have exactly these fields.

The documentation's own names are kept, except that each ``id`` is renamed to
what it identifies (``location_id``, ``site_id``, ``network_id``, ``box_id``,
``site_tag_id``, ...), the alerts' ``box`` / ``location`` / ``site`` /
``network`` gain their ``_id``, and a clip's ``clip_id`` becomes ``content_id``,
the name the exports give it (``content_plays``, ``viewers_apc``). So a
dimension frame joins an export frame with no renaming. :attr:`DimensionSpec.renames`
lists every rename, nested objects included.

Sources name the documentation file, the month of the version that shows the
field, and its section: ``"topology.rst 2026-07 § Locations list"``. Fields that
older versions showed and the current one no longer does (``id_broadsign``,
``second_id``, the 2021 vehicle factors) are declared ``dropped``: read when
present, never invented.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType

import polars as pl

from vidiframe._errors import InvalidRequestError
from vidiframe._fields import (
    Coded,
    Field,
    Flag,
    Float,
    Int,
    Nested,
    Object,
    Seconds,
    Text,
    Timestamp,
)

__all__ = [
    "ALERT_TYPES",
    "DIMENSIONS",
    "Derived",
    "DimensionSpec",
    "dimension_schema",
    "get_dimension",
    "iter_dimensions",
]

_TOPOLOGY = "topology.rst"
_TAGS = "tags.rst"
_CLIPS = "clip_metadata.rst"
_STATUS = "status.rst"


def _src(doc: str, month: str, section: str) -> str:
    return f"{doc} {month} § {section}"


#: ``alert_type`` codes (status.rst § Alerts list; 13 added 2025-12).
ALERT_TYPES: Mapping[int, str] = MappingProxyType(
    {
        1: "Upload Period Alert",
        2: "Watchers Rate Alert",
        3: "Input or License Errors Alert",
        4: "Daily Watchers Alert",
        5: "Time Drift Alert",
        6: "Fingerprint Change Alert",
        7: "Upload Error Alert",
        8: "Refused Events Alert",
        9: "Session ID Alert",
        10: "Timezone Change Alert",
        11: "Camera Not Found Alert",
        12: "Unsupported Option Alert",
        13: "Low FPS Alert",
    }
)


@dataclass(frozen=True)
class Derived:
    """A column a dimension frame adds next to its raw fields.

    Parameters
    ----------
    name
        The column's name.
    dtype
        Its Polars dtype.
    expr
        How it is computed from the raw columns.
    doc
        What it is, for the docs.
    bounds
        ``(column, low, high)``: the raw column's values the derivation can take;
        a value outside is refused (:class:`~vidiframe.SchemaError`), never derived
        into a wrong value.
    """

    name: str
    dtype: pl.DataType
    expr: pl.Expr = field(compare=False)
    doc: str = ""
    bounds: tuple[str, int, int] | None = None


@dataclass(frozen=True)
class DimensionSpec:
    """The declaration of one dimension endpoint family.

    Parameters
    ----------
    name
        The dimension's name (``locations``), as :func:`~vidiframe.read_dimension`
        takes it.
    title
        The section title in the documentation.
    fields
        The frame's raw fields, under their frame names, ids first.
    renames
        API name -> frame name; a dotted key renames inside a nested object
        (``"sites.id"``).
    source
        Where the documentation describes it.
    derived
        Columns added after the raw ones (``utc_offset`` of a location).
    cached
        Whether an online read may be served from the client's response cache
        (topology changes rarely; alerts are live).
    """

    name: str
    title: str
    fields: tuple[Field, ...]
    renames: Mapping[str, str]
    source: str
    derived: tuple[Derived, ...] = ()
    cached: bool = True

    def __post_init__(self) -> None:
        names = [f.name for f in self.fields]
        if len(names) != len(set(names)):
            raise ValueError(f"dimension {self.name}: a field is declared twice")

    def __repr__(self) -> str:
        return f"DimensionSpec({self.name!r})"

    @cached_property
    def by_name(self) -> Mapping[str, Field]:
        """Fields by frame name."""
        return MappingProxyType({f.name: f for f in self.fields})

    @property
    def id_column(self) -> str:
        """The column that identifies a row (the renamed ``id``)."""
        return self.renames["id"]

    @cached_property
    def schema(self) -> pl.Schema:
        """The frame's schema: the raw fields, their label and seconds columns, the derived ones."""
        columns: dict[str, pl.DataType] = {}
        for f in self.fields:
            columns[f.name] = f.dtype
            columns.update(f.derived_columns())
        for d in self.derived:
            columns[d.name] = d.dtype
        return pl.Schema(columns)


# -- networks ----------------------------------------------------------------------------

_NETWORKS = _src(_TOPOLOGY, "2017-03", "Networks list")
NETWORK_ID = Int("network_id", role="key", doc="the network's id", source=_NETWORKS, nullable=False)


def _active(source: str) -> Field:
    return Flag("active", doc="whether it is active (added 2017-03)", source=source)


def _label(what: str, source: str) -> Field:
    return Text("label", doc=f"the {what}'s name", source=source, nullable=False)


# -- sites -------------------------------------------------------------------------------

_SITES = _src(_TOPOLOGY, "2025-02", "Sites list")
_VEHICLES = _src(_TOPOLOGY, "2021-08", "Sites list with vehicles factors")
_VEHICLES_2021 = _src(_TOPOLOGY, "2021-03", "Sites list with vehicles factors")
SITE_ID = Int("site_id", role="key", doc="the site's id", source=_SITES, nullable=False)


def _factor(name: str, source: str, *, dropped: bool = False) -> Field:
    vehicle = name.removeprefix("factor_")
    return Float(
        name,
        doc=f"vehicle factor of {vehicle}s (persons per vehicle)",
        source=source,
        dropped=dropped,
        low=0,
        high=20,
    )


VEHICLES_FACTORS = Object(
    "vehicles_factors",
    (
        _factor("factor_car", _VEHICLES),
        _factor("factor_van", _VEHICLES),
        _factor("factor_bus", _VEHICLES),
        _factor("factor_truck", _VEHICLES),
        # 2021-03 to 2021-08 only ("changed available vehicle factors").
        _factor("factor_pedestrian", _VEHICLES_2021, dropped=True),
        _factor("factor_bike", _VEHICLES_2021, dropped=True),
        _factor("factor_others", _VEHICLES_2021, dropped=True),
    ),
    doc="the site's vehicle factors (only from the /vehicles/ endpoints)",
    source=_VEHICLES,
)

_SITE_FIELDS: tuple[Field, ...] = (
    SITE_ID,
    NETWORK_ID,
    _label("site", _SITES),
    _active(_SITES),
    Text("address", doc="the site's address", source=_src(_TOPOLOGY, "2026-07", "Sites list")),
    Flag("black_input_is_error", doc="a black input raises an error", source=_SITES),
    Int("daily_watchers_alert_threshold", doc="daily watchers alert threshold", source=_SITES),
    Text("description", doc="free-text description of the site", source=_SITES),
    Flag("exclude_from_network_vrc", doc="excluded from the network's VRC", source=_SITES),
    Flag(
        "ignore_low_fps",
        doc="low frame rates raise no alert",
        source=_src(_TOPOLOGY, "2026-07", "Sites list"),
    ),
    Int("max_active_locations", doc="most active locations allowed (0: no limit)", source=_SITES),
    Int("upload_period_alert", doc="upload period alert threshold, as configured", source=_SITES),
    Text("venue_subtype", doc="the site's venue subtype", source=_SITES),
    Text("venue_type", doc="the site's venue type", source=_SITES),
)

# -- locations -------------------------------------------------------------------------

_LOCATIONS = _src(_TOPOLOGY, "2026-07", "Locations list")
_LOCATIONS_2024 = _src(_TOPOLOGY, "2024-07", "Locations list")
_LOCATIONS_2022 = _src(_TOPOLOGY, "2022-03", "Locations list")
LOCATION_ID = Int(
    "location_id", role="key", doc="the location's id", source=_LOCATIONS, nullable=False
)
BOX_ID = Int("box_id", role="key", doc="the box's id", source=_LOCATIONS)
LAST_TIMEZONE = Int(
    "last_timezone",
    doc=(
        "time zone of the latest upload to this location: its offset from UTC in seconds "
        "(the docs said minutes until 2025-03, with the same values)"
    ),
    source=_src(_TOPOLOGY, "2025-03", "Locations list"),
    low=-43_200,
    high=50_400,
)

_LOCATION_FIELDS: tuple[Field, ...] = (
    LOCATION_ID,
    SITE_ID,
    BOX_ID,
    _label("location", _LOCATIONS),
    _active(_LOCATIONS),
    Timestamp("creation_date", doc="when the location was created (2017-03)", source=_LOCATIONS),
    Timestamp(
        "last_upload_timestamp",
        doc="last time the location uploaded data to vidicenter",
        source=_LOCATIONS,
    ),
    Timestamp(
        "last_seen",
        doc="last time the location was in contact with vidicenter (2023-03)",
        source=_LOCATIONS,
    ),
    Timestamp(
        "last_ots_uploaded",
        doc="last time the location uploaded OTS events to vidicenter (2023-03)",
        source=_LOCATIONS,
    ),
    LAST_TIMEZONE,
    Text("id_pointer", doc="optional pointer id to a different location", source=_LOCATIONS),
    Text("id_broadsign_uuid", doc="optional BroadSign uuid", source=_LOCATIONS),
    Text("id_broadsign_playerid", doc="optional BroadSign player id", source=_LOCATIONS),
    Text("id_broadsign_screenid_v1", doc="optional BroadSign screen id (v1)", source=_LOCATIONS),
    Text("id_broadsign_displayunitid", doc="optional BroadSign display unit id", source=_LOCATIONS),
    Text("location_type", doc="type describing this location", source=_LOCATIONS_2024),
    Text("venue_type", doc="venue type of the location's site", source=_LOCATIONS_2024),
    Text("venue_subtype", doc="venue subtype of the location's site", source=_LOCATIONS_2024),
    Text("description", doc="free-text description of the location", source=_LOCATIONS),
    Flag("bm_ignore", doc="whether the location is excluded from benchmarks", source=_LOCATIONS),
    # Shown 2022-03 to 2026-07, then split into the four id_broadsign_* fields.
    Text("id_broadsign", doc="BroadSign id (until 2026-07)", source=_LOCATIONS_2022, dropped=True),
    # Shown 2022-02 to 2022-03, then renamed to the adtech ids.
    Text(
        "second_id",
        doc="second id (2022-02 only)",
        source=_src(_TOPOLOGY, "2022-02", "Locations list"),
        dropped=True,
    ),
    Text(
        "third_id",
        doc="third id (2022-02 only)",
        source=_src(_TOPOLOGY, "2022-02", "Locations list"),
        dropped=True,
    ),
)

#: The largest offset from UTC taken as a time zone's: a day (real ones stay within
#: -12 h to +14 h). Past it, a value is no offset, and past 2**63 microseconds a
#: Duration would wrap around in silence.
MAX_UTC_OFFSET = 86_400

#: ``last_timezone`` as a duration: local time minus UTC, at the latest upload.
UTC_OFFSET = Derived(
    "utc_offset",
    pl.Duration("us"),
    pl.duration(seconds=pl.col("last_timezone"), time_unit="us"),
    doc=(
        "``last_timezone`` as a Duration (local time = UTC + utc_offset), the offset of "
        "the latest upload"
    ),
    bounds=("last_timezone", -MAX_UTC_OFFSET, MAX_UTC_OFFSET),
)

# -- boxes ----------------------------------------------------------------------------------

_BOXES = _src(_TOPOLOGY, "2026-06", "Boxes list")
_BOX_FIELDS: tuple[Field, ...] = (
    Int("box_id", role="key", doc="the box's id", source=_BOXES, nullable=False),
    LOCATION_ID,
    SITE_ID,
    _label("box", _BOXES),
    _active(_BOXES),
    Timestamp("last_upload_timestamp", doc="last upload of the box", source=_BOXES),
    Int("box_mac", doc="the box's MAC, as the API numbers it (2023-08)", source=_BOXES),
    Text(
        "raw_camera_config",
        doc="camera configuration last reported by the box, credentials masked (2026-06)",
        source=_BOXES,
    ),
)

# -- tags -------------------------------------------------------------------------------------

_SITE_TAGS = _src(_TAGS, "2026-07", "Site tags list")
_LOCATION_TAGS = _src(_TAGS, "2026-07", "Location tags list")


def _extrapolation(source: str) -> Field:
    return Flag(
        "extrapolation",
        doc="the tag is locked for extrapolation (read-only; 2026-07)",
        source=source,
    )


_SITE_TAG_FIELDS: tuple[Field, ...] = (
    Int("site_tag_id", role="key", doc="the tag's id", source=_SITE_TAGS, nullable=False),
    NETWORK_ID,
    _label("tag", _SITE_TAGS),
    _extrapolation(_SITE_TAGS),
    Nested(
        "sites",
        tuple(f for f in _SITE_FIELDS),
        doc="the tag's sites, each with every site field (network's site tags only)",
        source=_src(_TAGS, "2026-07", "Network's site tags list"),
    ),
)
_LOCATION_TAG_FIELDS: tuple[Field, ...] = (
    Int("location_tag_id", role="key", doc="the tag's id", source=_LOCATION_TAGS, nullable=False),
    NETWORK_ID,
    _label("tag", _LOCATION_TAGS),
    _extrapolation(_LOCATION_TAGS),
    Nested(
        "locations",
        _LOCATION_FIELDS,
        doc="the tag's locations, each with every location field (network's location tags only)",
        source=_src(_TAGS, "2026-07", "Network's location tags list"),
    ),
)

# -- clip metadata ----------------------------------------------------------------------------

_CLIP_LIST = _src(_CLIPS, "2022-11", "List")
_CLIP_CREATE = _src(_CLIPS, "2020-07", "Create")
_CLIP_FIELDS: tuple[Field, ...] = (
    Int(
        "clip_metadata_id",
        role="key",
        doc="the metadata record's id",
        source=_CLIP_LIST,
        nullable=False,
    ),
    NETWORK_ID,
    Text(
        "content_id",
        role="key",
        doc="the clip id (``clip_id``), unique within a network: the exports' content_id",
        source=_CLIP_LIST,
        nullable=False,
    ),
    Text("name", doc="the clip's name (64 characters at most)", source=_CLIP_LIST),
    Text("description", doc="description of the clip", source=_CLIP_LIST),
    Text("screenshot", doc="URL of the clip's image", source=_CLIP_LIST),
    Seconds(
        "clip_duration",
        doc="duration of the clip, in seconds (0 to 999, two decimals)",
        source=_CLIP_CREATE,
        high=999,
    ),
    Text("advertiser_name", doc="the clip's advertiser", source=_CLIP_CREATE),
    Text("creative_agency_name", doc="the clip's creative agency", source=_CLIP_CREATE),
    Text("video", doc="URL of the clip's video", source=_CLIP_CREATE),
)

# -- alerts -------------------------------------------------------------------------------------

_ALERTS = _src(_STATUS, "2025-12", "Alerts list")
_ALERT_FIELDS: tuple[Field, ...] = (
    Int("alert_id", role="key", doc="the alert's id", source=_ALERTS, nullable=False),
    Coded("alert_type", ALERT_TYPES, doc="numeric identifier of the type of alert", source=_ALERTS),
    Text("label", doc="the type of the alert as text (may change)", source=_ALERTS),
    Text("status", doc='"raised" or "terminated"', source=_ALERTS),
    Text(
        "extra_data",
        doc="for Input or License Errors Alerts: comma-separated keywords",
        source=_ALERTS,
    ),
    Int("box_id", doc="the box (``box``)", source=_ALERTS),
    Int("location_id", doc="the location (``location``)", source=_ALERTS),
    Int("site_id", doc="the site (``site``)", source=_ALERTS),
    Int("network_id", doc="the network (``network``)", source=_ALERTS),
    Timestamp("timestamp", doc="when the alert happened, on the box's clock", source=_ALERTS),
    Timestamp("host_timestamp", doc="when the server recorded it", source=_ALERTS),
    Int(
        "linked_alerthistory",
        doc="id of the alert this one terminates (or is terminated by)",
        source=_ALERTS,
    ),
)


def _declare() -> tuple[DimensionSpec, ...]:
    site_renames = {"id": "site_id"}
    location_renames = {"id": "location_id"}
    return (
        DimensionSpec(
            "networks",
            "Networks list",
            (NETWORK_ID, _label("network", _NETWORKS), _active(_NETWORKS)),
            {"id": "network_id"},
            _NETWORKS,
        ),
        DimensionSpec(
            "sites",
            "Sites list",
            (*_SITE_FIELDS, VEHICLES_FACTORS),
            site_renames,
            _SITES,
        ),
        DimensionSpec(
            "locations",
            "Locations list",
            _LOCATION_FIELDS,
            location_renames,
            _LOCATIONS,
            derived=(UTC_OFFSET,),
        ),
        DimensionSpec("boxes", "Boxes list", _BOX_FIELDS, {"id": "box_id"}, _BOXES),
        DimensionSpec(
            "site_tags",
            "Site tags list",
            _SITE_TAG_FIELDS,
            {"id": "site_tag_id", "sites.id": "site_id"},
            _SITE_TAGS,
        ),
        DimensionSpec(
            "location_tags",
            "Location tags list",
            _LOCATION_TAG_FIELDS,
            {"id": "location_tag_id", "locations.id": "location_id"},
            _LOCATION_TAGS,
        ),
        DimensionSpec(
            "clip_metadata",
            "Clip Metadata",
            _CLIP_FIELDS,
            {"id": "clip_metadata_id", "clip_id": "content_id"},
            _CLIP_LIST,
        ),
        DimensionSpec(
            "alerts",
            "Alerts list",
            _ALERT_FIELDS,
            {
                "id": "alert_id",
                "box": "box_id",
                "location": "location_id",
                "site": "site_id",
                "network": "network_id",
            },
            _ALERTS,
            cached=False,
        ),
    )


#: Every dimension, by name.
DIMENSIONS: Mapping[str, DimensionSpec] = MappingProxyType({d.name: d for d in _declare()})


def iter_dimensions() -> Iterator[DimensionSpec]:
    """Every dimension of the registry, in documentation order."""
    return iter(DIMENSIONS.values())


def get_dimension(name: str) -> DimensionSpec:
    """The registry entry of a dimension.

    Raises
    ------
    InvalidRequestError
        For a name the registry does not know; the message lists the known ones.

    Examples
    --------
    >>> get_dimension("locations").id_column
    'location_id'
    >>> get_dimension("zones")
    Traceback (most recent call last):
    ...
    vidiframe._errors.InvalidRequestError: unknown dimension 'zones'; known: networks, sites, ...
    """
    spec = DIMENSIONS.get(name) if isinstance(name, str) else None
    if spec is None:
        raise InvalidRequestError(f"unknown dimension {name!r}; known: {', '.join(DIMENSIONS)}")
    return spec


def dimension_schema(name: str) -> pl.Schema:
    """The schema of a dimension's frame (before any unknown field).

    Examples
    --------
    >>> dimension_schema("networks")
    Schema([('network_id', Int64), ('label', String), ('active', Boolean)])
    """
    return get_dimension(name).schema
