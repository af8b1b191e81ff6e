"""The locations behind a scan's ``sites=``: what lets a ``location_id`` filter narrow it.

An export given ``sites=`` covers every location of those sites, and the rows of
a location export carry no ``site_id``. To send only the locations a filter can
keep, a scan needs each site's locations: :func:`site_locations` reads them from
``/api/v1/site/<id>/locations/`` through the scan's client (its call budget,
retries and limits), always fresh: a site's list kept in the response cache
(24 hours) would miss a location added since, and narrowing to it would lose
that location's rows without a word.

This trusts the API to build a ``sites=`` export from the locations its topology
lists, as the fake server does. A site the topology does not have (HTTP 404) is
reported, and the scan then keeps its ``sites=`` request as given.

Examples
--------
>>> from vidiframe._client import VidiCenterClient
>>> from vidiframe.testing import FakeVidiCenter, ManualClock
>>> clock = ManualClock()
>>> with FakeVidiCenter(clock=clock, serve=False) as fake:
...     client = VidiCenterClient("demo", "demo-token", fake.url, transport=fake.transport(),
...                               clock=clock, sleep=clock.sleep, cache_dir=None)
...     found = site_locations(client, ("463", "999"))
>>> found.locations
('4630', '4631', '4632', '4633', '4634', '4635', '4636', '4637', '4638', '4639')
>>> found.missing
('999',)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from vidiframe._errors import InvalidRequestError

if TYPE_CHECKING:
    from vidiframe._client import VidiCenterClient

__all__ = ["SiteLocations", "site_locations"]


@dataclass(frozen=True)
class SiteLocations:
    """The locations of some sites, and the sites the topology does not have.

    Attributes
    ----------
    locations
        The location ids of the sites found, as text, in the order of a query's ids.
    missing
        The site ids VidiCenter answered 404 for.
    """

    locations: tuple[str, ...]
    missing: tuple[str, ...]


def site_locations(client: VidiCenterClient, sites: tuple[str, ...]) -> SiteLocations:
    """Read the locations of ``sites`` as they are now, one call per site (never the cache)."""
    from vidiframe._dimensions import read_dimension
    from vidiframe._query import _to_ids

    found: set[str] = set()
    missing: list[str] = []
    for site in sites:
        try:
            frame = read_dimension("locations", client=client, site=site, refresh=True)
        except InvalidRequestError:
            # read_dimension turns the 404 of an entity's endpoint into this error:
            # the site is not in the account's topology.
            missing.append(site)
            continue
        found.update(str(i) for i in frame["location_id"].to_list())
    return SiteLocations(_to_ids(found, "locations"), tuple(missing))
