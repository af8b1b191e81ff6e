"""The export registry: one declaration per export type and granularity.

Every export of both documentation versions (``2020-10``, ``2025-04``) and of the
live API additions (SPEC section 9) is declared here, field by field, once. The
parser, the fake server, the hypothesis strategies and the docs read these
declarations; a field is never described anywhere else.

Look an export up with :func:`get_export`, which also validates the
``data_type`` / ``time_resolution`` / ``group_by_demographics`` combination.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from types import MappingProxyType
from typing import Literal

import polars as pl

from vidiframe._doc_history import doc_source
from vidiframe._errors import InvalidRequestError
from vidiframe._fields import (
    LEGACY_DATE,
    Coded,
    Field,
    Flag,
    Float,
    Int,
    Millis,
    Nested,
    Rename,
    Seconds,
    Tenths,
    Text,
    Timestamp,
)
from vidiframe._hints import did_you_mean, resolution_hint
from vidiframe._wire import CONTENT_IDS, LOCATIONS, SITES

__all__ = [
    "AGGREGATED_RESOLUTIONS",
    "EXPORTS",
    "TIME_RESOLUTIONS",
    "ExportSpec",
    "Granularity",
    "export_schema",
    "exports_fitting",
    "get_export",
    "iter_exports",
]

Granularity = Literal["finest", "aggregated", "demographics"]

#: Every ``time_resolution`` the API knows, finest first.
TIME_RESOLUTIONS: tuple[str, ...] = (
    "finest",
    "5m",
    "10m",
    "15m",
    "30m",
    "1h",
    "1d",
    "7d",
    "30d",
    "1M",
)
#: The aggregated resolutions.
AGGREGATED_RESOLUTIONS: tuple[str, ...] = TIME_RESOLUTIONS[1:]

#: Maximum rows of one export (SPEC section 4).
FINEST_ROW_LIMIT = 3_000_000
AGGREGATED_ROW_LIMIT = 20_000_000

_V2020 = "2020-10"
_V2025 = "2025-04"
_SPEC9 = "SPEC § 9"


def _src(version: str, section: str) -> str:
    return f"{version} § {section}"


# The commits of docs/source/data.rst that renamed or retired fields (vidiframe._doc_history).
_SPELLING = "2d33050"  # 2017-01-25: "moustache" of the expert prose spelt "mustache"
_DURATION_NAMES = "d31936d"  # 2021-12-01: *_in_tenths_of_sec / *_in_milliseconds, presence times
_FOOTFALL_NAMES = "d4a932c"  # 2021-12-07: persons -> footfall, impressions -> vehicle_impressions
_FRACTIONAL_TENTHS = "44989fe"  # 2022-02-01: proof of play totals in tenths, with a fraction
_HOMOGENIZE = "f0bfa44"  # 2022-02-02: proof of play and IM column names homogenized
_FOOTFALL_LINK = "031f01d"  # 2025-10-09: person_id / person_start -> footfall_id / footfall_start
_LIVE_FIXES = "6c3790f"  # 2026-07-06: missing fields documented, examples fixed

#: The 2021-12-01 rename of the two viewer durations, in every export that had them then.
_DWELL_RENAMED = (Rename("dwell_time", _DURATION_NAMES),)
# Every name of the dwell time that bounds an attention time in the same row.
_DWELL_NAMES = (
    "dwell_time_in_tenths_of_sec",
    "dwell_time",
    "total_dwell_time_in_tenths_of_sec",
)
_ATTENTION_RENAMED = (Rename("attention_time", _DURATION_NAMES),)


# -- labels of the coded fields ----------------------------------------------------------

GENDER = {0: "unknown", 1: "male", 2: "female"}
AGE = {0: "unknown", 1: "child", 2: "young adult", 3: "adult", 4: "senior"}
GLASSES = {0: "unknown", 1: "no glasses", 2: "glasses", 3: "sunglasses"}
MUSTACHE = {0: "unknown", 1: "no mustache", 2: "mustache"}
BEARD = {0: "unknown", 1: "no beard", 2: "beard"}
VEHICLE_TYPE = {0: "unknown", 1: "car", 2: "bus", 3: "truck and SUV", 4: "van", 5: "bike"}
VEHICLE_COLOR = {
    0: "unknown",
    1: "white",
    2: "gray",
    3: "yellow",
    4: "red",
    5: "green",
    6: "blue",
    7: "black",
}

# -- fields shared by many exports ----------------------------------------------------------

_DATA_NOTE = _src(_V2025, "Data formats")
LOCATION_ID = Int(
    "location_id",
    role="key",
    filtered_by=LOCATIONS,
    doc="unique numeric identifier of the data source",
    source=_DATA_NOTE,
    nullable=False,
    low=1,
    high=99_999,
)
SITE_ID = Int(
    "site_id",
    role="key",
    filtered_by=SITES,
    doc="unique numeric identifier of the data source",
    source=_src(_V2025, "Proof of play by site export"),
    nullable=False,
    low=1,
    high=99_999,
)
PERIOD_START = Timestamp(
    "period_start",
    role="key",
    time_parts=True,
    doc="starting date and time for the current event or aggregate",
    source=_DATA_NOTE,
    nullable=False,
)


def _gender(role: Literal["key", "metric"], source: str) -> Field:
    return Coded("gender", GENDER, role=role, doc="numeric identifier for gender", source=source)


def _age(role: Literal["key", "metric"], source: str) -> Field:
    return Coded("age", AGE, role=role, doc="numeric identifier for age group", source=source)


def _dwell(
    source: str,
    doc: str = "dwell time, in tenths of seconds",
    high: int = 36_000,
    renamed: tuple[Rename, ...] = _DWELL_RENAMED,
) -> Field:
    return Tenths("dwell_time_in_tenths_of_sec", renamed=renamed, doc=doc, source=source, high=high)


def _attention(
    source: str,
    doc: str = "attention time, in tenths of seconds",
    high: int = 36_000,
    renamed: tuple[Rename, ...] = _ATTENTION_RENAMED,
) -> Field:
    return Tenths(
        "attention_time_in_tenths_of_sec",
        renamed=renamed,
        bounded_by=_DWELL_NAMES,
        doc=doc,
        source=source,
        high=high,
    )


def _moods(source: str) -> tuple[Field, ...]:
    return tuple(
        Float(
            mood,
            unit="percent",
            doc="share of the viewer's time in this mood, in percent (core only)",
            source=source,
            high=100,
        )
        for mood in ("very_happy", "happy", "neutral", "unhappy", "very_unhappy")
    )


_FINEST_VIEWERS = _src(_V2025, "Finest viewers export")
_FINEST_VIEWERS_2020 = _src(_V2020, "Finest viewers export")

VIEWER_EVENT: tuple[Field, ...] = (
    _gender("metric", _FINEST_VIEWERS),
    _age("metric", _FINEST_VIEWERS),
    Int(
        "age_value",
        unit="years",
        doc="numeric age in years (core only)",
        source=_FINEST_VIEWERS,
        high=99,
    ),
    _dwell(_FINEST_VIEWERS, high=600),
    _attention(_FINEST_VIEWERS, high=300),
    *_moods(_FINEST_VIEWERS),
    Coded(
        "glasses",
        GLASSES,
        dropped=True,
        doc="viewer's glasses information (expert only)",
        source=_FINEST_VIEWERS_2020,
    ),
    Coded(
        "mustache",
        MUSTACHE,
        renamed=(
            Rename(
                "moustache",
                _SPELLING,
                note="the expert prose of 4e7f12f (2016-08-25) spelt it moustache; "
                "its example already sent mustache",
            ),
        ),
        dropped=True,
        doc="viewer's mustache information (expert only)",
        source=_FINEST_VIEWERS_2020,
    ),
    Coded(
        "beard",
        BEARD,
        dropped=True,
        doc="viewer's beard information (expert only)",
        source=_FINEST_VIEWERS_2020,
    ),
)

# Keys and values among the links between records (SPEC section 2, placeholders): ``vr_id``
# identifies the record itself, so it is a key; the matching record's id and start are
# what the tracker found for this record, values like any metric: a row that holds only
# them is not a placeholder.
_VIEWER_LINK_SRC = doc_source("9a591a9", "Finest viewers export")
VIEWER_LINKS: tuple[Field, ...] = (
    Int("vr_id", role="key", doc="identifier of the viewer record", source=_VIEWER_LINK_SRC),
    Int(
        "footfall_id",
        renamed=(Rename("person_id", _FOOTFALL_LINK),),
        doc="identifier of the matching footfall record",
        source=_VIEWER_LINK_SRC,
    ),
    Timestamp(
        "footfall_start",
        renamed=(Rename("person_start", _FOOTFALL_LINK),),
        doc="start of the matching footfall record",
        source=_VIEWER_LINK_SRC,
    ),
)

_WATCHER_LINK_SRC = doc_source("9a591a9", "Finest footfall export")
WATCHER_LINKS: tuple[Field, ...] = (
    Int("vr_id", role="key", doc="identifier of the record", source=_WATCHER_LINK_SRC),
    Int("watcher_id", doc="identifier of the matching watcher", source=_WATCHER_LINK_SRC),
    Timestamp(
        "watcher_start",
        fractional_seconds=True,
        doc="start of the matching watcher (may have microseconds, may be null)",
        source=_WATCHER_LINK_SRC,
    ),
    Int(
        "tracking_mode",
        doc="tracking mode of the record",
        source=doc_source(_LIVE_FIXES, "Finest footfall export"),
        high=5,
    ),
)

_APC = _src(_V2025, "Finest viewers APC export")
APC_CONTENT: tuple[Field, ...] = (
    Text(
        "content_id",
        role="key",
        pooled=True,
        filtered_by=CONTENT_IDS,
        doc="identifier of the content played",
        source=_APC,
    ),
    Text(
        "app_id",
        dropped=True,
        doc="app_id of the content (removed from the docs by 9fe05c2, 2025-08-05)",
        source=_APC,
    ),
    Text("campaign_id", doc="campaign_id of the content", source=_APC),
    Millis(
        "dwell_time_in_milliseconds",
        renamed=(Rename("dwell_time", _DURATION_NAMES),),
        seconds_name="content_dwell_time_s",
        doc="cumulated dwell time, in milliseconds",
        source=_APC,
    ),
    Millis(
        "attention_time_in_milliseconds",
        renamed=(Rename("attention_time", _DURATION_NAMES),),
        bounded_by=("dwell_time_in_milliseconds", "dwell_time"),
        seconds_name="content_attention_time_s",
        doc="cumulated attention time, in milliseconds",
        source=_APC,
    ),
    *(
        Millis(
            f"{mood}_time", doc=f"time in the {mood} mood, in milliseconds (core only)", source=_APC
        )
        for mood in ("very_happy", "happy", "neutral", "unhappy", "very_unhappy")
    ),
)

_AGG_VIEWERS = _src(_V2025, "Aggregated viewers export")
WATCHER_COUNT = Int(
    "watcher_count", unit="count", doc="number of watchers", source=_AGG_VIEWERS, high=300
)


def _pop_watchers(source: str, section: str) -> tuple[Field, ...]:
    """The proof-of-play watchers metrics, with the demographic breakdown (quirk 10).

    ``section`` is the title of the export's section in the documentation history.
    """
    # 9ba386a (2022-01-27) added total_dwell_time / total_attention_time in seconds;
    # 44989fe (2022-02-01) replaced them with total_*_in_tenths_of_sec: another unit,
    # so another field, not a rename (its values must not land in a tenths column).
    # Those were sent with a fraction (54.1 tenths, in 44989fe and 042f608, one day);
    # f0bfa44 (2022-02-02) renamed them dwell_time_in_tenths_of_sec /
    # attention_time_in_tenths_of_sec and made them integers (54). Another type, so
    # another field again: a fraction cannot land in an Int64 column, and rounding
    # it would change a value in silence. Each era's values keep their own column,
    # exactly (Float64), as the seconds era's do.
    seconds_era = doc_source("9ba386a", section)
    fractional_era = doc_source(_FRACTIONAL_TENTHS, section)
    groups = [
        f"{age}_{gender}"
        for gender in ("male", "female")
        for age in ("child", "young_adult", "adult", "senior")
    ]
    return (
        Seconds(
            "content_duration",
            doc="cumulated play duration of the content, in seconds",
            source=source,
        ),
        Seconds("duration", doc="total observation time, in seconds", source=source),
        Float(
            "impressions",
            unit="count",
            doc="estimated amount of impressions calculated using the conversion ratio",
            source=source,
        ),
        Float(
            "estimated_ots",
            dropped=True,
            unit="count",
            doc="estimated amount of OTS calculated using the conversion ratio (deprecated by "
            "2ed1c6c, 2020-03-18, for impressions, sent next to it; removed by fdcd324, 2021-12-10)",
            source=source.replace(_V2025, _V2020),
        ),
        Int("play_count", unit="count", doc="how many times the content was played", source=source),
        Float(
            "impressions_per_play",
            doc="number of impressions divided by number of plays",
            source=source,
        ),
        Int("watchers", unit="count", doc="number of watchers", source=source),
        Int(
            "watchers_2sec",
            unit="count",
            doc="number of watchers with an attention time > 2 seconds",
            source=source,
        ),
        Int("watchers_masked", unit="count", doc="number of masked watchers", source=source),
        *(
            Int(
                f"watchers_{group}",
                unit="count",
                doc=f"number of {group.replace('_', ' ')} watchers",
                source=source,
            )
            for group in groups
        ),
        _dwell(source, "cumulated dwell time, in tenths of seconds", renamed=()),
        _attention(source, "cumulated attention time, in tenths of seconds", renamed=()),
        Seconds(
            "total_dwell_time",
            dropped=True,
            doc="total dwell time, in seconds (9ba386a to 0c54055, 2022-01-27 to 2022-01-31)",
            source=seconds_era,
        ),
        Seconds(
            "total_attention_time",
            dropped=True,
            bounded_by=("total_dwell_time",),
            doc="total attention time, in seconds (9ba386a to 0c54055, 2022-01-27 to 2022-01-31)",
            source=seconds_era,
        ),
        *(
            Tenths(
                f"total_{what}_time_in_tenths_of_sec",
                kind="float",
                dropped=True,
                bounded_by=("total_dwell_time_in_tenths_of_sec",) if what == "attention" else (),
                # total_{what}_time_s is the seconds era's: this era's seconds are apart.
                seconds_name=f"total_{what}_time_tenths_s",
                doc=f"total {what} time, in tenths of seconds sent with a fraction (54.1), "
                f"read as sent ({_FRACTIONAL_TENTHS} and 042f608, 2022-02-01); {_HOMOGENIZE} "
                f"(2022-02-02) renamed it {what}_time_in_tenths_of_sec, an integer",
                source=fractional_era,
            )
            for what in ("dwell", "attention")
        ),
        Tenths(
            "avg_dwell_time_in_tenths_of_sec",
            kind="float",
            doc="average dwell time per watcher, in tenths of seconds",
            source=source,
        ),
        Tenths(
            "avg_attention_time_in_tenths_of_sec",
            bounded_by=("avg_dwell_time_in_tenths_of_sec",),
            kind="float",
            doc="average attention time per watcher, in tenths of seconds",
            source=source,
        ),
    )


def _pop_vehicle_person(source: str) -> tuple[Field, ...]:
    return (
        Seconds(
            "content_duration",
            doc="cumulated play duration of the content, in seconds",
            source=source,
        ),
        Seconds("duration", doc="total observation time, in seconds", source=source),
        Int("play_count", unit="count", doc="how many times the content was played", source=source),
        Int("vehicle_count", unit="count", doc="number of vehicles", source=source),
        Float(
            "vehicle_impressions", unit="count", doc="number of vehicles impressions", source=source
        ),
        Tenths(
            "vehicle_presence_time",
            doc="cumulated presence time for vehicles, in tenths of seconds",
            source=source,
        ),
        Tenths(
            "avg_vehicle_presence_time",
            kind="float",
            doc="average presence time for vehicles, in tenths of seconds",
            source=source,
        ),
        Float(
            "footfall_impressions",
            unit="count",
            doc="number of footfall impressions",
            source=source,
        ),
        Tenths(
            "footfall_presence_time",
            doc="cumulated presence time for footfall, in tenths of seconds",
            source=source,
        ),
        Tenths(
            "avg_footfall_presence_time",
            kind="float",
            doc="average presence time for footfall, in tenths of seconds",
            source=source,
        ),
        Float(
            "total_impressions",
            unit="count",
            doc="sum of footfall and vehicle impressions",
            source=source,
        ),
        Float(
            "total_impressions_per_play",
            doc="number of impressions divided by number of plays",
            source=source,
        ),
        Tenths(
            "total_presence_time",
            kind="float",
            doc="impressions per vehicle * vehicle_presence_time + footfall_presence_time, "
            "in tenths of seconds",
            source=source,
        ),
        Tenths(
            "avg_presence_time",
            kind="float",
            doc="average presence time for footfall and vehicles, in tenths of seconds",
            source=source,
        ),
    )


_FINEST_VEHICLES = _src(_V2025, "Finest vehicles export")
_VEHICLES_DWELL = (Rename("dwell_time", _DURATION_NAMES),)
_VEHICLES_IMPRESSIONS = (Rename("impressions", _FOOTFALL_NAMES),)
_PERSONS_DWELL = (Rename("dwell_time", _DURATION_NAMES),)
VEHICLE_CODES: tuple[Field, ...] = (
    Coded("type", VEHICLE_TYPE, doc="vehicle type", source=_FINEST_VEHICLES),
    Coded("color", VEHICLE_COLOR, doc="vehicle color", source=_FINEST_VEHICLES),
)


_IM_NOTE = "the prose renamed it in f0bfa44 (2022-02-02), the examples followed in f36521c"


def _im_fields(source: str, *, renamed: bool = True, dropped: bool = False) -> tuple[Field, ...]:
    """The fields of the IAB impression multiplier exports.

    ``renamed``: the export existed under the 2021 names (``im`` since fdcd324,
    2021-12-10, ``im_ccs`` since e2feb97, 2022-02-21, "identical to the standard IM
    export"). ``dropped``: the fields as the OTS formula exports' documentation
    listed them by mistake, from 69b63c0 (2025-06-18) until 6c3790f (2026-07-06).
    """
    vehicle_renamed = (
        (Rename("vehicle_total_presence_time", _HOMOGENIZE, note=_IM_NOTE),) if renamed else ()
    )
    footfall_renamed = (
        (Rename("footfall_total_dwell_time", _HOMOGENIZE, note=_IM_NOTE),) if renamed else ()
    )
    fields = (
        Int("vehicle_count", unit="count", doc="number of vehicles", source=source),
        Tenths(
            "vehicle_presence_time",
            renamed=vehicle_renamed,
            doc="cumulated presence time, in tenths of seconds",
            source=source,
        ),
        Float(
            "vehicle_impressions", unit="count", doc="number of vehicle impressions", source=source
        ),
        Float("impressions_per_vehicle", doc="number of impressions per vehicle", source=source),
        Float(
            "footfall_impressions",
            unit="count",
            doc="number of footfall impressions",
            source=source,
        ),
        Tenths(
            "footfall_presence_time",
            renamed=footfall_renamed,
            doc="cumulated footfall presence time, in tenths of seconds",
            source=source,
        ),
        Float("im_footfall", doc="impression multiplier for footfall", source=source),
        Float("im_vehicle", doc="impression multiplier for vehicles", source=source),
    )
    if dropped:
        return tuple(replace(f, dropped=True) for f in fields)
    return (
        *fields,
        Float("im", doc="combined impression multiplier", source=source),
        *_im_tail(source),
    )


def _im_tail(source: str) -> tuple[Field, ...]:
    return (
        Flag(
            "backup_value",
            bool_text="yes",
            doc='"yes" when a backup im value was calculated from the previous week',
            source=source,
        ),
        Tenths(
            "analysis_window",
            doc="time window during which the analysis took place, in tenths of seconds",
            source=source,
        ),
        Flag("active", doc="whether the location was active", source=_SPEC9),
    )


_IM = _src(_V2025, "Impression multiplier export")
_TARGETED_BRACKETS = ("12_17", "18_24", "25_34", "35_44", "45_54", "55_64", "65_plus")


# -- the exports ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportSpec:
    """The declaration of one export type at one granularity.

    Parameters
    ----------
    data_type
        The API's ``data_type``.
    granularity
        ``finest`` (raw events), ``aggregated``, or ``demographics`` (aggregated
        with ``group_by_demographics``).
    title
        The section title in the documentation.
    fields
        The response fields, keys first, in documentation order.
    source
        Where the documentation describes this export.
    resolutions
        The ``time_resolution`` values this export accepts.
    aliases
        Older names of the ``data_type`` accepted when reading saved responses.
    extrapolated
        Whether the request needs ``extrapolation_amount``.
    accepts_content_ids, accepts_average_content_duration
        Which optional query parameters apply.
    time_as_parts
        The API sends ``period_start_date`` + ``period_start_time`` instead of
        ``period_start``.
    time_api_name
        The name under which the API sends ``period_start`` (``start_time`` for APC).
    demographics_in_columns
        ``group_by_demographics`` adds the ``watchers_*`` breakdown columns this
        spec already declares, instead of grouping rows (proof of play, SPEC
        quirk 10, documented with its example since 73a2ae8, 2022-06-23).
    """

    data_type: str
    granularity: Granularity
    title: str
    fields: tuple[Field, ...]
    source: str
    resolutions: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    extrapolated: bool = False
    accepts_content_ids: bool = False
    accepts_average_content_duration: bool = False
    time_as_parts: bool = False
    time_api_name: str = "period_start"
    demographics_in_columns: bool = False

    def __post_init__(self) -> None:
        names = [f.name for f in self.fields]
        if len(names) != len(set(names)):
            raise ValueError(f"{self.data_type}/{self.granularity}: a field is declared twice")

    def __repr__(self) -> str:
        return f"ExportSpec({self.data_type!r}, {self.granularity!r})"

    @property
    def key(self) -> tuple[str, Granularity]:
        """``(data_type, granularity)``, the registry key."""
        return (self.data_type, self.granularity)

    @property
    def row_limit(self) -> int:
        """The server's row limit for one export of this kind."""
        return FINEST_ROW_LIMIT if self.granularity == "finest" else AGGREGATED_ROW_LIMIT

    @cached_property
    def by_name(self) -> Mapping[str, Field]:
        """Fields by current name."""
        return MappingProxyType({f.name: f for f in self.fields})

    @cached_property
    def renames(self) -> Mapping[str, str]:
        """Older names (and the API's ``start_time``) -> current names."""
        out = {old: f.name for f in self.fields for old in f.legacy}
        if self.time_api_name != "period_start":
            out[self.time_api_name] = "period_start"
        return MappingProxyType(out)

    @cached_property
    def api_names(self) -> frozenset[str]:
        """Every name the API sends a field of this export under, in any documented era."""
        names = {name for f in self.fields for name in f.all_names}
        return frozenset({*names, self.time_api_name, "period_start_date", "period_start_time"})

    @cached_property
    def metrics(self) -> tuple[str, ...]:
        """Names of the value fields: a row with all of them null is a placeholder.

        Every field that is not a key is a value, legacy (``dropped``) fields
        included. Keys are what identifies the row: the source ids, the time, the
        record id (``vr_id``), and what an aggregate is grouped by (``content_id``,
        ``gate_id``, ``product``, ``zone_id``, the demographic group); names that only
        describe a key (``location_name``, ``zone_name``) are keys too. The link to
        a matching record (``watcher_id``, ``footfall_id`` and their start) is a
        value: it is what the tracker found for this record.
        """
        return tuple(f.name for f in self.fields if f.role == "metric")

    @cached_property
    def row_keys(self) -> tuple[str, ...]:
        """Keys that multiply an aggregate's rows for one source and period.

        Demographic groups, gates, contents, products, zones: a coded key, or one
        the API always fills. Not the source ids, the time, nor names that only
        describe another key (``location_name``, ``zone_name``).

        Examples
        --------
        >>> get_export("viewers", "1h", group_by_demographics=True).row_keys
        ('gender', 'age')
        """
        return tuple(
            f.name
            for f in self.fields
            if f.role == "key"
            and f.filtered_by not in (LOCATIONS, SITES)
            and not f.type.temporal
            and (f.labels is not None or not f.nullable)
        )

    @cached_property
    def keys(self) -> tuple[str, ...]:
        """Names of the key fields."""
        return tuple(f.name for f in self.fields if f.role == "key")

    @cached_property
    def schema(self) -> pl.Schema:
        """The frame's schema: every field, its derived columns, then ``is_placeholder``."""
        columns: dict[str, pl.DataType] = {}
        for f in self.fields:
            columns[f.name] = f.dtype
            columns.update(f.derived_columns())
        columns["is_placeholder"] = pl.Boolean()
        return pl.Schema(columns)

    def api_name(self, f: Field, *, legacy: bool = False) -> str:
        """The name under which the API sends ``f`` (its 2020-10 name when ``legacy``)."""
        if f.time_parts:  # the period's time stamp, which some exports send renamed
            return self.time_api_name
        return f.name_at(LEGACY_DATE) if legacy else f.name


def _finest(
    data_type: str, title: str, fields: tuple[Field, ...], source: str, **kw: object
) -> ExportSpec:
    return ExportSpec(data_type, "finest", title, fields, source, ("finest",), **kw)  # type: ignore[arg-type]


def _aggregated(
    data_type: str,
    title: str,
    fields: tuple[Field, ...],
    source: str,
    *,
    resolutions: tuple[str, ...] = AGGREGATED_RESOLUTIONS,
    **kw: object,
) -> ExportSpec:
    return ExportSpec(data_type, "aggregated", title, fields, source, resolutions, **kw)  # type: ignore[arg-type]


def _declare() -> tuple[ExportSpec, ...]:
    specs: list[ExportSpec] = []
    add = specs.append

    # viewers ------------------------------------------------------------------------------
    add(
        _finest(
            "viewers",
            "Finest viewers export",
            (LOCATION_ID, PERIOD_START, *VIEWER_EVENT, *VIEWER_LINKS),
            _FINEST_VIEWERS,
        )
    )
    add(
        _aggregated(
            "viewers",
            "Aggregated viewers export",
            (
                LOCATION_ID,
                PERIOD_START,
                WATCHER_COUNT,
                _dwell(_AGG_VIEWERS, "cumulated dwell time, in tenths of seconds"),
                _attention(_AGG_VIEWERS, "cumulated attention time, in tenths of seconds"),
                Float(
                    "conversion_ratio",
                    unit="percent",
                    doc="number of watchers divided by the number of OTS (the examples show percent)",
                    source=_AGG_VIEWERS,
                    high=100,
                ),
            ),
            _AGG_VIEWERS,
        )
    )
    demo_src = _src(_V2025, "Aggregated viewers export § Group by demographics example")
    specs.append(
        ExportSpec(
            "viewers",
            "demographics",
            "Aggregated viewers export, grouped by demographics",
            (
                LOCATION_ID,
                PERIOD_START,
                _gender("key", _AGG_VIEWERS),
                _age("key", _AGG_VIEWERS),
                WATCHER_COUNT,
                _dwell(_AGG_VIEWERS, "cumulated dwell time, in tenths of seconds"),
                _attention(_AGG_VIEWERS, "cumulated attention time, in tenths of seconds"),
            ),
            demo_src,
            AGGREGATED_RESOLUTIONS,
        )
    )
    add(
        _finest(
            "viewers_apc",
            "Finest viewers APC export",
            (
                LOCATION_ID,
                PERIOD_START,
                *VIEWER_EVENT,
                *VIEWER_LINKS,
                Nested(
                    "contents",
                    APC_CONTENT,
                    doc="contents played while the viewer was in front of the camera",
                    source=_APC,
                    nullable=False,
                ),
            ),
            _APC,
            time_api_name="start_time",
            accepts_content_ids=True,
        )
    )

    # ots, gate ------------------------------------------------------------------------------
    ots_src = _src(_V2025, "Aggregated OTS export")
    add(
        _aggregated(
            "ots",
            "Aggregated OTS export",
            (
                LOCATION_ID,
                PERIOD_START,
                Int("ots_count", unit="count", doc="cumulated number of OTS", source=ots_src),
                Seconds(
                    "duration",
                    doc="cumulated duration of the OTS events, in seconds",
                    source=ots_src,
                ),
                Int(
                    "watcher_count",
                    unit="count",
                    doc="cumulated number of watchers",
                    source=ots_src,
                ),
                Int(
                    "effective_ots_count",
                    unit="count",
                    doc="effective number of OTS (1h, 1d, 7d and 1M only)",
                    source=_SPEC9,
                ),
                Text("status", doc="status of the aggregate (15m only)", source=_SPEC9),
            ),
            ots_src,
        )
    )
    gate_src = _src(_V2025, "Aggregated gate export")
    add(
        _aggregated(
            "gate",
            "Aggregated gate export",
            (
                LOCATION_ID,
                PERIOD_START,
                Int(
                    "gate_id",
                    role="key",
                    doc="unique numeric identifier of the gate",
                    source=gate_src,
                    nullable=False,
                ),
                Int(
                    "in_count",
                    unit="count",
                    doc="cumulated number of people who entered the gate",
                    source=gate_src,
                ),
                Int(
                    "out_count",
                    unit="count",
                    doc="cumulated number of people who exited the gate",
                    source=gate_src,
                ),
                Seconds(
                    "duration",
                    doc="cumulated duration of the gate events, in seconds",
                    source=gate_src,
                ),
            ),
            gate_src,
        )
    )

    # proof of play ------------------------------------------------------------------------------
    content_key = Text(
        "content_id",
        role="key",
        filtered_by=CONTENT_IDS,
        doc="identifier of the content played",
        source=_src(_V2025, "Proof of play by location export"),
        nullable=False,
    )
    for by, source_key in (("location", LOCATION_ID), ("site", SITE_ID)):
        src = _src(_V2025, f"Proof of play by {by} export")
        pop_section = f"Proof of play by {by} export"
        fields = (source_key, PERIOD_START, content_key, *_pop_watchers(src, pop_section))
        add(
            _aggregated(
                f"proof_of_play_by_{by}",
                f"Proof of play by {by} export",
                fields,
                src,
                accepts_content_ids=True,
                demographics_in_columns=True,
            )
        )
        ff_src = _src(_V2025, f"Proof of play by {by} (footfall + faces) export")
        add(
            _aggregated(
                f"proof_of_play_by_{by}_footfall_faces",
                f"Proof of play by {by} (footfall + faces) export",
                fields,
                ff_src,
                accepts_content_ids=True,
                demographics_in_columns=True,
            )
        )
        vp_src = _src(_V2025, f"Proof of play by {by} export for Vehicles & Footfall data")
        add(
            _aggregated(
                f"proof_of_play_vehicle_person_by_{by}",
                f"Proof of play by {by} export for Vehicles & Footfall data",
                (source_key, PERIOD_START, content_key, *_pop_vehicle_person(vp_src)),
                vp_src,
                accepts_content_ids=True,
            )
        )

    # extrapolated -------------------------------------------------------------------------------
    xw_src = _src(_V2025, "Extrapolated watchers export")
    add(
        _aggregated(
            "extrapolated_watchers",
            "Extrapolated watchers export",
            (
                PERIOD_START,
                Int("watcher_count", unit="count", doc="number of watchers", source=xw_src),
                _dwell(xw_src, "cumulated dwell time, in tenths of seconds"),
                _attention(xw_src, "cumulated attention time, in tenths of seconds"),
            ),
            xw_src,
            extrapolated=True,
        )
    )
    xo_src = _src(_V2025, "Extrapolated OTS export")
    add(
        _aggregated(
            "extrapolated_ots",
            "Extrapolated OTS export",
            (
                PERIOD_START,
                Int("ots_count", unit="count", doc="cumulated number of OTS", source=xo_src),
                Seconds(
                    "duration",
                    doc="cumulated duration of the OTS events, in seconds",
                    source=xo_src,
                ),
                Int(
                    "watcher_count", unit="count", doc="cumulated number of watchers", source=xo_src
                ),
            ),
            xo_src,
            extrapolated=True,
        )
    )

    # footfall, vehicles ------------------------------------------------------------------------------
    # 08b0096 (2021-03-16) documented `vehicles` and `persons` with a `dwell_time` in tenths;
    # d31936d (2021-12-01) renamed it per export type, d4a932c (2021-12-07) renamed
    # persons to footfall, its person_count and the vehicles' impressions.
    ff_finest = _src(_V2025, "Finest footfall export")
    ff_agg = _src(_V2025, "Aggregated footfall export")
    add(
        _finest(
            "footfall",
            "Finest footfall export",
            (
                LOCATION_ID,
                PERIOD_START,
                Tenths(
                    "footfall_presence_time",
                    renamed=_PERSONS_DWELL,
                    doc="presence time of the current person, in tenths of seconds",
                    source=ff_finest,
                ),
                *WATCHER_LINKS,
            ),
            ff_finest,
            aliases=("persons",),
        )
    )
    add(
        _aggregated(
            "footfall",
            "Aggregated footfall export",
            (
                LOCATION_ID,
                PERIOD_START,
                Float(
                    "footfall_impressions",
                    unit="count",
                    renamed=(Rename("person_count", _FOOTFALL_NAMES),),
                    doc="number of footfall impressions (person_count in the 2021 persons export)",
                    source=ff_agg,
                ),
                Tenths(
                    "footfall_presence_time",
                    renamed=_PERSONS_DWELL,
                    doc="cumulated presence time, in tenths of seconds",
                    source=ff_agg,
                ),
            ),
            ff_agg,
            aliases=("persons",),
        )
    )
    veh_agg = _src(_V2025, "Aggregated vehicles export")
    add(
        _finest(
            "vehicles",
            "Finest vehicles export",
            (
                LOCATION_ID,
                PERIOD_START,
                *VEHICLE_CODES,
                Tenths(
                    "vehicle_presence_time",
                    renamed=_VEHICLES_DWELL,
                    doc="vehicle presence time, in tenths of seconds",
                    source=_FINEST_VEHICLES,
                ),
                Float(
                    "vehicle_impressions",
                    unit="count",
                    renamed=_VEHICLES_IMPRESSIONS,
                    doc="number of impressions",
                    source=_FINEST_VEHICLES,
                ),
                Float(
                    "impressions_per_vehicle",
                    doc="number of impressions per vehicle",
                    source=_FINEST_VEHICLES,
                ),
            ),
            _FINEST_VEHICLES,
        )
    )
    add(
        _aggregated(
            "vehicles",
            "Aggregated vehicles export",
            (
                LOCATION_ID,
                PERIOD_START,
                Int("vehicle_count", unit="count", doc="number of vehicles", source=veh_agg),
                Tenths(
                    "vehicle_presence_time",
                    renamed=_VEHICLES_DWELL,
                    doc="cumulated presence time, in tenths of seconds",
                    source=veh_agg,
                ),
                Float(
                    "vehicle_impressions",
                    unit="count",
                    renamed=_VEHICLES_IMPRESSIONS,
                    doc="number of impressions",
                    source=veh_agg,
                ),
                Float(
                    "impressions_per_vehicle",
                    doc="number of impressions per vehicle",
                    source=veh_agg,
                ),
            ),
            veh_agg,
        )
    )
    vf_finest = _src(_V2025, "Finest footfall + vehicles export")
    vf_agg = _src(_V2025, "Aggregated footfall + vehicles export")
    add(
        _finest(
            "vehicles_footfall",
            "Finest footfall + vehicles export",
            (
                LOCATION_ID,
                PERIOD_START,
                *VEHICLE_CODES,
                Float(
                    "vehicle_impressions",
                    unit="count",
                    doc="number of impressions",
                    source=vf_finest,
                ),
                Tenths(
                    "vehicle_presence_time",
                    doc="presence time of the current vehicle, in tenths of seconds",
                    source=vf_finest,
                ),
                Float(
                    "impressions_per_vehicle",
                    doc="number of impressions per vehicle",
                    source=vf_finest,
                ),
                Tenths(
                    "footfall_presence_time",
                    doc="presence time of the current person, in tenths of seconds",
                    source=vf_finest,
                ),
                *WATCHER_LINKS,
            ),
            vf_finest,
            aliases=("vehicles_persons",),
        )
    )
    add(
        _aggregated(
            "vehicles_footfall",
            "Aggregated footfall + vehicles export",
            (
                LOCATION_ID,
                PERIOD_START,
                Int("vehicle_count", unit="count", doc="number of vehicles", source=vf_agg),
                Float(
                    "vehicle_impressions",
                    unit="count",
                    doc="number of vehicle impressions",
                    source=vf_agg,
                ),
                Tenths(
                    "vehicle_presence_time",
                    doc="cumulated vehicle presence time, in tenths of seconds",
                    source=vf_agg,
                ),
                Float(
                    "impressions_per_vehicle",
                    doc="average number of impressions per vehicle",
                    source=vf_agg,
                ),
                Float(
                    "footfall_impressions",
                    unit="count",
                    doc="number of footfall impressions",
                    source=vf_agg,
                ),
                Tenths(
                    "footfall_presence_time",
                    doc="cumulated footfall presence time, in tenths of seconds",
                    source=vf_agg,
                ),
                Float(
                    "total_impressions",
                    unit="count",
                    doc="sum of footfall and vehicle impressions",
                    source=vf_agg,
                ),
                Tenths(
                    "total_presence_time",
                    kind="float",
                    doc="impressions per vehicle * vehicle_presence_time + footfall_presence_time",
                    source=vf_agg,
                ),
                Tenths(
                    "avg_presence_time",
                    kind="float",
                    doc="average presence time for footfall and vehicles",
                    source=vf_agg,
                ),
            ),
            vf_agg,
            aliases=("vehicles_persons",),
        )
    )

    # impression multipliers (1h only) --------------------------------------------------------------
    hourly = ("1h",)
    add(
        _aggregated(
            "im",
            "Impression multiplier export",
            (LOCATION_ID, PERIOD_START, *_im_fields(_IM)),
            _IM,
            resolutions=hourly,
        )
    )
    ccs = _src(_V2025, "Impression multiplier export - CCS variant")
    add(
        _aggregated(
            "im_ccs",
            "Impression multiplier export - CCS variant",
            (LOCATION_ID, PERIOD_START, *_im_fields(_IM)),
            ccs,
            resolutions=hourly,
        )
    )
    add(
        _aggregated(
            "im_nobackup",
            "Impression multiplier export, no backup values",
            (LOCATION_ID, PERIOD_START, *_im_fields(_IM, renamed=False)),
            _SPEC9,
            resolutions=hourly,
        )
    )
    im_ots_fields = (
        LOCATION_ID,
        PERIOD_START,
        Int("ots_count", unit="count", doc="number of OTS", source=_SPEC9),
        Int("watcher_count", unit="count", doc="number of watchers", source=_SPEC9),
        Tenths(
            "watcher_dwell_time",
            doc="cumulated watcher dwell time, in tenths of seconds",
            source=_SPEC9,
        ),
        Tenths(
            "watcher_attention_time",
            bounded_by=("watcher_dwell_time",),
            doc="cumulated watcher attention time, in tenths of seconds",
            source=_SPEC9,
        ),
        Float("im", doc="impression multiplier", source=_SPEC9),
        *_im_tail(_SPEC9),
        *_im_fields(
            doc_source("69b63c0", "Impression multiplier export (OTS formula)"),
            renamed=False,
            dropped=True,
        ),
    )
    add(
        _aggregated(
            "im_ots",
            "Impression multiplier export, OTS based",
            im_ots_fields,
            _SPEC9,
            resolutions=hourly,
        )
    )
    add(
        _aggregated(
            "im_ots_nobackup",
            "Impression multiplier export, OTS based, no backup values",
            im_ots_fields,
            _SPEC9,
            resolutions=hourly,
        )
    )
    targeted = [Float("im", doc="impression multiplier", source=_SPEC9)]
    for bracket in _TARGETED_BRACKETS:
        for who in ("all", "male", "female"):
            targeted.append(
                Float(
                    f"{who}_age_{bracket}_im",
                    doc=f"impression multiplier, {who}, age {bracket.replace('_', '-')}",
                    source=_SPEC9,
                )
            )
    targeted += [
        Float("male_total_im", doc="impression multiplier, all male viewers", source=_SPEC9),
        Float("female_total_im", doc="impression multiplier, all female viewers", source=_SPEC9),
    ]
    add(
        _aggregated(
            "targeted_im",
            "Targeted impression multiplier export",
            (LOCATION_ID, PERIOD_START, *targeted),
            _SPEC9,
            resolutions=hourly,
            accepts_average_content_duration=True,
        )
    )

    # product sales (quirk 9: finest and aggregated differ) --------------------------------------------
    pmp_src = _src(_V2025, "Product sales by demographics export")
    product = Text("product", role="key", doc="name of the product", source=pmp_src, nullable=False)
    sales_common = (
        Float("estimated_sales", unit="count", doc="total estimated sales", source=pmp_src),
        Int(
            "product_touches",
            unit="count",
            doc="number of times the product was touched",
            source=pmp_src,
        ),
        Int(
            "put_back", unit="count", doc="number of times the product was put back", source=pmp_src
        ),
    )
    add(
        _finest(
            "pmp_sales_by_demographics",
            "Product sales by demographics export (finest)",
            (
                LOCATION_ID,
                PERIOD_START,
                product,
                *sales_common,
                _gender("metric", pmp_src),
                Coded(
                    "age_bracket",
                    AGE,
                    doc="numeric identifier for age group (finest only)",
                    source=pmp_src,
                ),
                Int(
                    "age_absolute",
                    unit="years",
                    dropped=True,
                    doc="age in years, finest only (a67281b, 2023-03-21; removed by 455ad15, "
                    "2023-04-05)",
                    source=doc_source("a67281b", "Product sales by demographics export"),
                    high=99,
                ),
            ),
            pmp_src,
        )
    )
    demo_groups = [
        f"{age}_{gender}"
        for age in ("adult", "child", "senior", "young_adult")
        for gender in ("female", "male")
    ]
    add(
        _aggregated(
            "pmp_sales_by_demographics",
            "Product sales by demographics export (aggregated)",
            (
                LOCATION_ID,
                PERIOD_START,
                product,
                *sales_common,
                *(
                    Float(
                        group,
                        unit="count",
                        doc=f"estimated sales for {group.replace('_', ' ')} (aggregated only)",
                        source=pmp_src,
                    )
                    for group in demo_groups
                ),
                Float(
                    "masked",
                    unit="count",
                    doc="estimated sales for masked or unknown demographics",
                    source=pmp_src,
                ),
            ),
            pmp_src,
        )
    )
    funnel_src = _src(_V2025, "Product sales funnel export")
    funnel_common = (  # documented from a67281b (2023-03-21) on: never under older names
        _dwell(funnel_src, renamed=()),
        _attention(funnel_src, renamed=()),
        Float("estimated_sales", unit="count", doc="number of estimated sales", source=funnel_src),
        Int("product_touches", unit="count", doc="number of product touches", source=funnel_src),
        Int(
            "put_back",
            unit="count",
            doc="number of times a product was put back",
            source=funnel_src,
        ),
        Int("poi_by_passers", unit="count", doc="number of POI by passers", source=funnel_src),
    )
    add(
        _finest(
            "pmp_sales_funnel",
            "Product sales funnel export (finest)",
            (
                LOCATION_ID,
                PERIOD_START,
                Text(
                    "product",
                    role="key",
                    doc="name of the product (finest only)",
                    source=funnel_src,
                ),
                _gender("metric", funnel_src),
                _age("metric", funnel_src),
                *funnel_common,
            ),
            funnel_src,
        )
    )
    add(
        _aggregated(
            "pmp_sales_funnel",
            "Product sales funnel export (aggregated)",
            (
                LOCATION_ID,
                PERIOD_START,
                _gender("key", funnel_src),
                _age("key", funnel_src),
                *funnel_common,
                Int(
                    "watcher_count",
                    unit="count",
                    doc="number of watchers (aggregated only)",
                    source=funnel_src,
                ),
            ),
            funnel_src,
        )
    )

    # compass ------------------------------------------------------------------------------------
    compass_src = _src(_V2025, "Compass export")
    add(
        _aggregated(
            "compass",
            "Compass export",
            (
                LOCATION_ID,
                Text(
                    "location_name",
                    role="key",
                    describes="location_id",
                    doc="name of the location",
                    source=_SPEC9,
                ),
                PERIOD_START,
                Int(
                    "ots_count_impressions",
                    unit="count",
                    renamed=(Rename("ots_count", _LIVE_FIXES),),
                    doc="number of OTS counted for this segment (ots_count before 6c3790f)",
                    source=compass_src,
                ),
                Int(
                    "effective_ots_count",
                    unit="count",
                    doc="effective number of OTS",
                    source=_SPEC9,
                ),
                Int(
                    "nearby_ots_count_impressions",
                    unit="count",
                    doc="number of nearby OTS",
                    source=_SPEC9,
                ),
                Seconds("presence_total", doc="presence time, in seconds", source=compass_src),
                *(
                    Float(
                        name,
                        unit="ratio",
                        doc=f"presence time ratio spent in {name.replace('_', ' ')} range",
                        source=compass_src,
                        high=1,
                    )
                    for name in ("far", "mid_range", "near")
                ),
                *(
                    Float(
                        name,
                        unit="ratio",
                        doc=f"share of the ots_count detected as going to the {name.replace('_', ' ')}",
                        source=compass_src,
                        high=1,
                    )
                    for name in (
                        "north",
                        "north_east",
                        "north_west",
                        "south",
                        "south_east",
                        "south_west",
                        "west",
                        "east",
                    )
                ),
            ),
            compass_src,
        )
    )

    # SPEC section 9 additions --------------------------------------------------------------------
    add(
        _aggregated(
            "content_plays",
            "Content plays export",
            (
                LOCATION_ID,
                PERIOD_START,
                Text(
                    "content_id",
                    role="key",
                    filtered_by=CONTENT_IDS,
                    doc="identifier of the content played",
                    source=_SPEC9,
                    nullable=False,
                ),
                Seconds(
                    "content_duration", doc="duration of the content, in seconds", source=_SPEC9
                ),
                Int(
                    "plays",
                    unit="count",
                    renamed=(
                        Rename(
                            "play_count",
                            _LIVE_FIXES,
                            note="only in the example of 04f669f (2025-07-24), whose prose "
                            "already said plays",
                        ),
                    ),
                    doc="number of plays",
                    source=_SPEC9,
                ),
            ),
            _SPEC9,
            accepts_content_ids=True,
        )
    )
    timing = (
        Millis("start", doc="start relative to period_start, in milliseconds", source=_SPEC9),
        Millis("duration", doc="duration, in milliseconds", source=_SPEC9),
    )
    zone = (
        Int("id", role="key", pooled=True, doc="identifier", source=_SPEC9),
        Text("name", role="key", describes="id", doc="name", source=_SPEC9),
        Nested(
            "timings", timing, doc="start and duration of each pass", source=_SPEC9, nullable=False
        ),
    )
    add(
        _finest(
            "retail_analytics_footfall",
            "Retail analytics footfall export",
            (
                LOCATION_ID,
                PERIOD_START,
                Tenths(
                    "footfall_presence_time",
                    doc="presence time, in tenths of seconds",
                    source=_SPEC9,
                ),
                *WATCHER_LINKS,
                Int(
                    "nb_visits",
                    unit="count",
                    sent_as_float=True,
                    doc="number of visits (sent as 1.0)",
                    source=_SPEC9,
                    high=20,
                ),
                Int(
                    "nb_clips",
                    unit="count",
                    sent_as_float=True,
                    doc="number of clips (sent as 1.0)",
                    source=_SPEC9,
                    high=20,
                ),
                Int(
                    "nb_doorpass",
                    unit="count",
                    sent_as_float=True,
                    doc="number of door passes (sent as 1.0)",
                    source=_SPEC9,
                    high=20,
                ),
                Nested("visits", zone, doc="visited zones", source=_SPEC9),
                Nested("clips", zone, doc="clips", source=_SPEC9),
                Nested("doorpass", zone, doc="door passes", source=_SPEC9),
            ),
            _SPEC9,
        )
    )
    add(
        _aggregated(
            "retail_analytics_footfall_aggregated",
            "Retail analytics footfall export, aggregated",
            (
                LOCATION_ID,
                Int(
                    "zone_id",
                    role="key",
                    doc="identifier of the zone",
                    source=_SPEC9,
                    nullable=False,
                ),
                Text(
                    "zone_name",
                    role="key",
                    describes="zone_id",
                    doc="name of the zone",
                    source=_SPEC9,
                ),
                PERIOD_START,
                Float("total_impressions", unit="count", doc="total impressions", source=_SPEC9),
                Int("nb_visits", unit="count", doc="number of visits", source=_SPEC9),
                Seconds(
                    "total_dwell_duration", doc="total dwell duration, in seconds", source=_SPEC9
                ),
                Seconds("dwell_threshold", doc="dwell threshold, in seconds", source=_SPEC9),
                Int(
                    "nb_visits_above_threshold",
                    unit="count",
                    doc="number of visits above the threshold",
                    source=_SPEC9,
                ),
                Seconds(
                    "total_dwell_above_threshold",
                    doc="total dwell above the threshold, in seconds",
                    source=_SPEC9,
                ),
            ),
            _SPEC9,
            time_as_parts=True,
        )
    )
    return tuple(specs)


#: Every export, by ``(data_type, granularity)``.
EXPORTS: Mapping[tuple[str, Granularity], ExportSpec] = MappingProxyType(
    {s.key: s for s in _declare()}
)

#: Older ``data_type`` names accepted when reading saved responses.
DATA_TYPE_ALIASES: Mapping[str, str] = MappingProxyType(
    {alias: s.data_type for s in EXPORTS.values() for alias in s.aliases}
)

#: Every current ``data_type``, sorted.
DATA_TYPES: tuple[str, ...] = tuple(sorted({s.data_type for s in EXPORTS.values()}))


def exports_fitting(
    names: Iterable[str], *, other_than: ExportSpec, evidence: Iterable[str] | None = None
) -> tuple[ExportSpec, ...]:
    """The exports other than ``other_than`` that know every one of ``names``.

    Used to tell a response of the wrong export type from one with fields nobody
    documented yet; the tightest fit (fewest fields) comes first. With
    ``evidence``, only the exports that send one of those names as a current
    field count: a legacy field (``estimated_ots``) alone says little about
    which export a body is.

    Examples
    --------
    >>> ots_body = ["location_id", "period_start", "ots_count", "duration", "watcher_count"]
    >>> exports_fitting(ots_body, other_than=get_export("viewers", "1h"))
    (ExportSpec('ots', 'aggregated'),)
    """
    wanted = set(names)
    clues = wanted if evidence is None else set(evidence)
    fits = [
        spec
        for spec in EXPORTS.values()
        if spec.key != other_than.key
        and wanted <= spec.api_names
        and any(name in clues for f in spec.fields if not f.dropped for name in f.all_names)
    ]
    return tuple(sorted(fits, key=lambda spec: len(spec.fields)))


def iter_exports() -> Iterator[ExportSpec]:
    """Every export spec, in declaration order.

    Examples
    --------
    >>> sorted({spec.granularity for spec in iter_exports()})
    ['aggregated', 'demographics', 'finest']
    """
    return iter(EXPORTS.values())


def get_export(
    data_type: str,
    time_resolution: str,
    *,
    group_by_demographics: bool = False,
    allow_aliases: bool = False,
) -> ExportSpec:
    """The export spec for a request, after checking the combination is valid.

    Parameters
    ----------
    data_type
        The API's ``data_type`` (``persons`` and ``vehicles_persons`` are accepted
        with ``allow_aliases``, for saved 2021 responses).
    time_resolution
        One of :data:`TIME_RESOLUTIONS`.
    group_by_demographics
        Aggregated viewers grouped by gender and age.
    allow_aliases
        Accept the older ``data_type`` names.

    Returns
    -------
    ExportSpec

    Raises
    ------
    InvalidRequestError
        For an unknown ``data_type`` or ``time_resolution``, or a combination the
        API does not offer.

    Examples
    --------
    >>> get_export("viewers", "1h").granularity
    'aggregated'
    >>> get_export("im", "1d")
    Traceback (most recent call last):
    ...
    vidiframe._errors.InvalidRequestError: data_type='im' accepts time_resolution '1h' only, not '1d'
    """
    if allow_aliases:
        data_type = DATA_TYPE_ALIASES.get(data_type, data_type)
    if data_type not in DATA_TYPES:
        hint = did_you_mean(data_type, DATA_TYPES)
        if data_type in DATA_TYPE_ALIASES:
            hint = f" ({data_type!r} is the 2021 name of {DATA_TYPE_ALIASES[data_type]!r})"
        raise InvalidRequestError(
            f"unknown data_type {data_type!r}{hint}; expected one of {', '.join(DATA_TYPES)}"
        )
    if time_resolution not in TIME_RESOLUTIONS:
        raise InvalidRequestError(
            f"unknown time_resolution {time_resolution!r}"
            f"{resolution_hint(time_resolution, TIME_RESOLUTIONS)}; "
            f"expected one of {', '.join(TIME_RESOLUTIONS)}"
        )
    granularity: Granularity = "finest" if time_resolution == "finest" else "aggregated"
    if group_by_demographics:
        if granularity == "finest":
            raise InvalidRequestError(
                "group_by_demographics only works with aggregated exports, not time_resolution='finest'"
            )
        grouped = (data_type, "demographics") in EXPORTS
        in_columns = EXPORTS.get((data_type, "aggregated"))
        if not grouped and not (in_columns is not None and in_columns.demographics_in_columns):
            raise InvalidRequestError(
                "group_by_demographics only works with aggregated viewers exports, not "
                f"{data_type!r} (proof of play exports take it too, for their watchers_* columns)"
            )
        if grouped:
            granularity = "demographics"
    spec = EXPORTS.get((data_type, granularity))
    if spec is None:
        offered = [s.resolutions for s in EXPORTS.values() if s.data_type == data_type]
        allowed = sorted({r for rs in offered for r in rs}, key=TIME_RESOLUTIONS.index)
        raise InvalidRequestError(
            f"data_type={data_type!r} has no {time_resolution!r} export; "
            f"it accepts time_resolution {', '.join(allowed)}"
        )
    if time_resolution not in spec.resolutions:
        accepted = ", ".join(repr(r) for r in spec.resolutions)
        raise InvalidRequestError(
            f"data_type={data_type!r} accepts time_resolution {accepted} only, not {time_resolution!r}"
        )
    return spec


def export_schema(
    data_type: str, time_resolution: str, *, group_by_demographics: bool = False
) -> pl.Schema:
    """The schema of the frame :func:`~vidiframe.read_vidicenter` returns for an export.

    Examples
    --------
    >>> export_schema("viewers", "finest")["dwell_time_s"]
    Float64
    """
    return get_export(
        data_type, time_resolution, group_by_demographics=group_by_demographics, allow_aliases=True
    ).schema
