"""The fake's dimensions: networks, sites, locations, boxes, tags, clips and alerts.

Everything here is a pure function of the seed and of the fake's topology
(:mod:`vidiframe.testing._generate`: location ``l`` is in site ``l // 10``,
location tag ``t`` holds locations ``1000t + 1`` to ``1000t + 3``, site tag
``t`` holds sites ``100t + 1`` and ``100t + 2``), so the dimensions agree with
the exports:

* site ``s`` belongs to network ``1 + s // 250`` (a site tag's two sites, and a
  location tag's locations, always share a network);
* every site has a time zone (``last_timezone`` of its locations), drawn from the
  seed;
* the clip metadata of each network names the contents the exports carry
  (``content 1`` to ``content 3``);
* alerts are the outages of :meth:`~vidiframe.testing.DataGenerator.offline`:
  an Upload Period Alert raised at the start of each run of offline hours of a
  location and terminated at its end. Those hours are exactly the placeholder
  rows of the location's hourly (and finer) exports.

The account's locations are :data:`DEFAULT_ACCOUNT_LOCATIONS` (or those the fake
is given), together with every location an export was asked for, so every
``location_id`` of an export is in ``/locations/``; each brings the rest of its
site, as an export given ``sites=`` covers the whole site.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from vidiframe._periods import from_epoch_seconds
from vidiframe.testing._generate import DataGenerator, location_site, site_locations

__all__ = [
    "DEFAULT_ACCOUNT_LOCATIONS",
    "EDITABLE_DIMENSIONS",
    "FakeAccount",
    "location_tags_of",
    "network_of_site",
    "site_tags_of",
]

#: The default account: a location tag (4: locations 4001-4003, site 400), a site
#: tag (4: sites 401 and 402), the demo's site 463, and site 146 of network 1.
DEFAULT_ACCOUNT_LOCATIONS: tuple[int, ...] = (
    4001,
    4002,
    4003,
    *range(4010, 4030),
    4636,
    4637,
    4638,
    4639,
    1467,
)

_HOUR = 3600
# Offsets from UTC a site's locations may have (seconds), as the API sends them.
_OFFSETS = (0, 3600, 7200, -18000, -14400, 19800, -28800, 32400)
_VENUES = (
    ("Entertainment / hospitality", "Bowling Center"),
    ("Retail", "Shopping Mall"),
    ("Transit", "Airport"),
)
#: How far back "the 1000 most recent alerts" are looked for.
ALERT_HISTORY_HOURS = 14 * 24
_ALERT_LIMIT = 1000
_LOOK_BACK = 7 * 24 * _HOUR
_UPLOAD_PERIOD_ALERT = (1, "Upload Period Alert")
#: The dimensions whose rows :meth:`FakeVidiCenter.edit_dimension` can change
#: (alerts are events, not settings).
EDITABLE_DIMENSIONS = (
    "networks",
    "sites",
    "locations",
    "boxes",
    "site_tags",
    "location_tags",
    "clip_metadata",
)


def network_of_site(site: int) -> int:
    """The network of a site in the fake's topology: ``1 + site // 250``.

    Examples
    --------
    >>> network_of_site(463), network_of_site(146)
    (2, 1)
    """
    return 1 + site // 250


def site_tags_of(site: int) -> tuple[int, ...]:
    """The site tags holding ``site`` (tag ``t`` holds sites ``100t + 1``, ``100t + 2``)."""
    return ((site - 1) // 100,) if site >= 1 and (site - 1) % 100 < 2 else ()


def location_tags_of(location: int) -> tuple[int, ...]:
    """The location tags holding ``location`` (tag ``t``: locations ``1000t + 1`` to ``+ 3``)."""
    return ((location - 1) // 1000,) if location >= 1 and (location - 1) % 1000 < 3 else ()


def site_tag_label(tag: int) -> str:
    """The label of site tag ``tag`` (what the per-tag URLs carry)."""
    return f"site tag {tag}"


def location_tag_label(tag: int) -> str:
    """The label of location tag ``tag``."""
    return f"location tag {tag}"


def _unit(*parts: object) -> float:
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _stamp(moment: dt.datetime) -> str:
    return moment.replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class FakeAccount:
    """The dimension data of one fake account, from a generator's seed.

    Parameters
    ----------
    generator
        The export generator: its seed and its outages.
    locations
        The account's locations; the other locations of their sites join them.
    edits
        Fields changed since the account was generated, by ``(dimension, id)``:
        each row with that id takes them over its generated values, wherever it
        is listed (a site inside a site tag too).
    """

    generator: DataGenerator
    locations: frozenset[int]
    edits: Mapping[tuple[str, int], Mapping[str, Any]] = field(
        default_factory=dict, compare=False, hash=False
    )

    def _edited(self, dimension: str, key: int, row: dict[str, Any]) -> dict[str, Any]:
        change = self.edits.get((dimension, key))
        return {**row, **change} if change else row

    @property
    def seed(self) -> int:
        return self.generator.seed

    def __post_init__(self) -> None:
        # A site is whole: an export given sites=s covers every location of s, so
        # /site/s/locations/ lists them all, before they are exported too (a lazy
        # scan narrows sites= to the locations= a filter keeps through that list).
        object.__setattr__(self, "locations", whole_sites(self.locations))

    # -- the topology ------------------------------------------------------------------------

    @property
    def sites(self) -> list[int]:
        return sorted({location_site(loc) for loc in self.locations})

    @property
    def networks(self) -> list[int]:
        return sorted({network_of_site(s) for s in self.sites})

    def ids(self, dimension: str) -> frozenset[int]:
        """The ids of the rows ``dimension`` lists (one of :data:`EDITABLE_DIMENSIONS`).

        >>> account = FakeAccount(DataGenerator(), frozenset({4636}))
        >>> sorted(account.ids("networks")), sorted(account.ids("clip_metadata"))
        ([2], [201, 202, 203])
        """
        ids: Iterable[int] = {
            "networks": lambda: self.networks,
            "sites": lambda: self.sites,
            "locations": lambda: self.locations,
            "boxes": lambda: map(self.box_of, self.locations),
            "site_tags": self.site_tags,
            "location_tags": self.location_tags,
            "clip_metadata": lambda: (row["id"] for row in self.clip_rows()),
        }[dimension]()
        return frozenset(ids)

    def utc_offset(self, site: int) -> int:
        """The site's offset from UTC, in seconds (its locations' ``last_timezone``)."""
        return _OFFSETS[int(_unit(self.seed, "tz", site) * len(_OFFSETS))]

    def network_row(self, network: int) -> dict[str, Any]:
        row = {"id": network, "label": f"Network {network}", "active": True}
        return self._edited("networks", network, row)

    def site_row(self, site: int, *, vehicles: bool = False) -> dict[str, Any]:
        venue_type, venue_subtype = _VENUES[int(_unit(self.seed, "venue", site) * len(_VENUES))]
        row: dict[str, Any] = {
            "network_id": network_of_site(site),
            "id": site,
            "label": f"Site {site}",
            "active": True,
            "address": f"{site} Main Street",
            "black_input_is_error": True,
            "daily_watchers_alert_threshold": 0,
            "description": "",
            "exclude_from_network_vrc": False,
            "ignore_low_fps": False,
            "max_active_locations": 0,
            "upload_period_alert": 780,
            "venue_subtype": venue_subtype,
            "venue_type": venue_type,
        }
        if vehicles:
            factor = 1 + round(_unit(self.seed, "factor", site), 2)
            row["vehicles_factors"] = {
                "factor_car": factor,
                "factor_van": round(factor * 2, 2),
                "factor_bus": round(factor * 6, 2),
                "factor_truck": 1.2,
            }
        return self._edited("sites", site, row)

    def location_row(self, location: int, now: float) -> dict[str, Any]:
        site = location_site(location)
        offset = self.utc_offset(site)
        local_now = from_epoch_seconds(int(now) + offset)
        venue = self.site_row(site)
        created = dt.datetime(2014, 1, 1) + dt.timedelta(
            days=int(_unit(self.seed, location) * 3000)
        )
        row = {
            "last_upload_timestamp": _stamp(local_now - dt.timedelta(minutes=7)),
            "last_timezone": offset,
            "box_id": self.box_of(location),
            "site_id": site,
            "id": location,
            "id_broadsign_uuid": "",
            "id_broadsign_playerid": "",
            "id_broadsign_screenid_v1": "",
            "id_broadsign_displayunitid": "",
            "id_pointer": "",
            "creation_date": _stamp(created),
            "label": f"Location {location}",
            "description": "",
            "location_type": "screen",
            "venue_type": venue["venue_type"],
            "venue_subtype": venue["venue_subtype"],
            "last_seen": _stamp(local_now - dt.timedelta(minutes=2)),
            "last_ots_uploaded": _stamp(local_now - dt.timedelta(minutes=7)),
            "bm_ignore": False,
            "active": True,
        }
        return self._edited("locations", location, row)

    @staticmethod
    def box_of(location: int) -> int:
        """The box of a location: ``100000 + location``."""
        return 100_000 + location

    def box_row(self, location: int, now: float) -> dict[str, Any]:
        site = location_site(location)
        local_now = from_epoch_seconds(int(now) + self.utc_offset(site))
        box = self.box_of(location)
        row = {
            "last_upload_timestamp": _stamp(local_now - dt.timedelta(minutes=7)),
            "location_id": location,
            "site_id": site,
            "id": box,
            "label": f"box-{box}",
            "active": True,
            "box_mac": 123_000 + location,
            "raw_camera_config": "",
        }
        return self._edited("boxes", box, row)

    def site_tags(self) -> list[int]:
        return sorted({t for s in self.sites for t in site_tags_of(s)})

    def location_tags(self) -> list[int]:
        return sorted({t for loc in self.locations for t in location_tags_of(loc)})

    def site_tag_row(self, tag: int, *, with_sites: bool) -> dict[str, Any]:
        sites = [s for s in self.sites if tag in site_tags_of(s)]
        row: dict[str, Any] = {
            "network_id": network_of_site(100 * tag + 1),
            "id": tag,
            "label": site_tag_label(tag),
            "extrapolation": False,
        }
        if with_sites:
            row["sites"] = [self.site_row(s) for s in sites]
        return self._edited("site_tags", tag, row)

    def location_tag_row(self, tag: int, *, with_locations: bool, now: float) -> dict[str, Any]:
        locations = [loc for loc in sorted(self.locations) if tag in location_tags_of(loc)]
        row: dict[str, Any] = {
            "network_id": network_of_site(location_site(1000 * tag + 1)),
            "id": tag,
            "label": location_tag_label(tag),
            "extrapolation": False,
        }
        if with_locations:
            row["locations"] = [self.location_row(loc, now) for loc in locations]
        return self._edited("location_tags", tag, row)

    def clip_rows(self) -> list[dict[str, Any]]:
        """The metadata of the contents the exports carry, per network."""
        rows = []
        for network in self.networks:
            for i in (1, 2, 3):
                rows.append(
                    self._edited(
                        "clip_metadata",
                        100 * network + i,
                        {
                            "description": f"Spot {i} of network {network}",
                            "screenshot": f"https://vidicenter.quividi.com/media/clip_screenshots/n{network}-{i}.jpg",
                            "network_id": network,
                            "clip_id": f"content {i}",
                            "id": 100 * network + i,
                            "name": f"Spot {i} (network {network})",
                            "clip_duration": float(5 * (i + 1)),
                            "advertiser_name": f"Advertiser {1 + (network + i) % 3}",
                        },
                    )
                )
        return rows

    # -- alerts ------------------------------------------------------------------------------

    def outages(self, location: int, first_hour: int, last_hour: int) -> list[tuple[int, int]]:
        """Runs of offline hours of a location, as ``[start, end)`` local epoch seconds.

        ``first_hour`` and ``last_hour`` (local, inclusive) bound the hours looked at;
        a run cut by a bound starts or ends at it.
        """
        runs: list[tuple[int, int]] = []
        start: int | None = None
        for hour in range(first_hour, last_hour + _HOUR, _HOUR):
            off = self.generator.offline("location", location, hour)
            if off and start is None:
                start = hour
            elif not off and start is not None:
                runs.append((start, hour))
                start = None
        if start is not None:
            runs.append((start, last_hour + _HOUR))
        return runs

    def alert_rows(
        self, now: float, *, hours: int | None = None, active: bool = False
    ) -> list[dict[str, Any]]:
        """The account's alerts, most recent first (1000 at most).

        Each outage gives a raised alert at its start and, once it is over, a
        terminated alert at its end, linked to each other. ``timestamp`` is the
        location's local time (the exports' clock), ``host_timestamp`` UTC.
        """
        window = (hours if hours is not None else ALERT_HISTORY_HOURS) * _HOUR
        alerts: list[tuple[int, dict[str, Any]]] = []
        for location in sorted(self.locations):
            site = location_site(location)
            offset = self.utc_offset(site)
            local_now = int(now) + offset
            # Look further back than the window, so an outage under way when the
            # window opens is raised at its true start (and left out), not at the edge.
            first = (local_now - window - _LOOK_BACK) // _HOUR * _HOUR
            last = local_now // _HOUR * _HOUR
            for start, end in self.outages(location, first, last):
                ongoing = end > local_now
                raised_id = self._alert_id(location, start, "raised")
                ended_id = self._alert_id(location, start, "terminated")
                base = {
                    "alert_type": _UPLOAD_PERIOD_ALERT[0],
                    "box": self.box_of(location),
                    "extra_data": "",
                    "label": _UPLOAD_PERIOD_ALERT[1],
                    "location": location,
                    "network": network_of_site(site),
                    "site": site,
                }
                if start - offset >= now - window:
                    alerts.append(
                        (
                            start - offset,
                            {
                                **base,
                                "id": raised_id,
                                "status": "raised",
                                "timestamp": _stamp(from_epoch_seconds(start)),
                                "host_timestamp": _stamp(from_epoch_seconds(start - offset)),
                                "linked_alerthistory": None if ongoing else ended_id,
                            },
                        )
                    )
                if not ongoing and not active and end - offset >= now - window:
                    alerts.append(
                        (
                            end - offset,
                            {
                                **base,
                                "id": ended_id,
                                "status": "terminated",
                                "timestamp": _stamp(from_epoch_seconds(end)),
                                "host_timestamp": _stamp(from_epoch_seconds(end - offset)),
                                "linked_alerthistory": raised_id,
                            },
                        )
                    )
        if active:
            alerts = [(t, a) for t, a in alerts if a["linked_alerthistory"] is None]
        alerts.sort(key=lambda item: (-item[0], item[1]["id"]))
        return [a for _, a in alerts[:_ALERT_LIMIT]]

    def _alert_id(self, location: int, start: int, kind: str) -> int:
        return 1 + int(_unit(self.seed, "alert", location, start, kind) * 2**40)


def account_locations(declared: Iterable[int], served: Iterable[int]) -> frozenset[int]:
    """The account's locations: those declared and those an export was asked for."""
    return frozenset(declared) | frozenset(served)


def whole_sites(locations: Iterable[int]) -> frozenset[int]:
    """``locations`` with every other location of their sites.

    Examples
    --------
    >>> sorted(whole_sites([4636, 1467]))[:3], len(whole_sites([4636, 4637, 1467]))
    ([1460, 1461, 1462], 20)
    """
    sites = {location_site(loc) for loc in locations}
    return frozenset(loc for site in sites for loc in site_locations(site))


def served_locations(sources: Iterable[int], *, by_site: bool) -> set[int]:
    """The locations an export's sources stand for (a site stands for its locations)."""
    if by_site:
        return {loc for site in sources for loc in site_locations(site)}
    return set(sources)
