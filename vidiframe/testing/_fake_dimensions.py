"""The fake's dimension endpoints: topology, tags, clip metadata and alerts.

:func:`dimension_reply` answers a GET of any path of
:data:`vidiframe._wire.DIMENSION_PATHS` from a
:class:`~vidiframe.testing._dimension_data.FakeAccount`, as the documentation
describes: a JSON list (one object for a clip's detail), ``404`` for an entity
the account does not have, ``400`` for an ``hours`` outside 1 to 24. The fake's
request handler calls it after authentication and the call budget, like any
other call.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote

from vidiframe._wire import (
    ALERT_ACTIVE_ON,
    ALERT_ACTIVE_PARAMETER,
    ALERT_HOURS,
    ALERT_HOURS_PARAMETER,
    DIMENSION_PATHS,
)
from vidiframe.testing._dimension_data import (
    FakeAccount,
    location_tag_label,
    location_tags_of,
    network_of_site,
    site_tag_label,
    site_tags_of,
)
from vidiframe.testing._generate import location_site

__all__ = ["dimension_reply", "is_dimension_path"]


def _compile() -> list[tuple[str, tuple[str, ...], re.Pattern[str]]]:
    routes = []
    for endpoint, templates in DIMENSION_PATHS.items():
        for keys, template in templates.items():
            pattern = re.escape(template)
            for key in keys:
                pattern = pattern.replace(re.escape("{" + key + "}"), f"(?P<{key}>[^/]+)")
            routes.append((endpoint, keys, re.compile(pattern)))
    return routes


_ROUTES = _compile()


def _match(path: str) -> tuple[str, dict[str, str]] | None:
    for endpoint, _keys, pattern in _ROUTES:
        match = pattern.fullmatch(path)
        if match:
            return endpoint, {k: unquote(v) for k, v in match.groupdict().items()}
    return None


def is_dimension_path(path: str) -> bool:
    """Whether ``path`` is one of the dimension endpoints."""
    return _match(path) is not None


class _NotFoundError(Exception):
    pass


class _BadRequestError(Exception):
    pass


def dimension_reply(
    account: FakeAccount, path: str, params: Mapping[str, str], now: float
) -> tuple[int, Any]:
    """The status and JSON payload the fake answers to ``GET path?params``."""
    matched = _match(path)
    if matched is None:
        return 404, {"message": "Not found.", "error": 404}
    endpoint, scope = matched
    try:
        return 200, _answer(account, endpoint, scope, params, now)
    except _NotFoundError as exc:
        return 404, {"message": str(exc), "error": 404}
    except _BadRequestError as exc:
        return 400, {"message": str(exc), "error": 400}


def _int(scope: Mapping[str, str], key: str) -> int:
    try:
        return int(scope[key])
    except ValueError:
        raise _NotFoundError(f"{key} {scope[key]!r} not found.") from None


def _locations_in(account: FakeAccount, scope: Mapping[str, str]) -> list[int]:
    """The account's locations within a scope; an unknown entity is a 404."""
    locations = sorted(account.locations)
    keep: Callable[[int], bool]
    if "network" in scope:
        network = _int(scope, "network")
        if network not in account.networks:
            raise _NotFoundError(f"Network {network} not found.")
        keep = lambda loc: network_of_site(location_site(loc)) == network  # noqa: E731
    elif "site" in scope:
        site = _int(scope, "site")
        if site not in account.sites:
            raise _NotFoundError(f"Site {site} not found.")
        keep = lambda loc: location_site(loc) == site  # noqa: E731
    elif "site_tag" in scope:
        tag = _tag(scope["site_tag"], account.site_tags(), site_tag_label)
        keep = lambda loc: tag in site_tags_of(location_site(loc))  # noqa: E731
    elif "location_tag" in scope:
        tag = _tag(scope["location_tag"], account.location_tags(), location_tag_label)
        keep = lambda loc: tag in location_tags_of(loc)  # noqa: E731
    elif "location" in scope:
        location = _int(scope, "location")
        if location not in account.locations:
            raise _NotFoundError(f"Location {location} not found.")
        keep = lambda loc: loc == location  # noqa: E731
    elif "box" in scope:
        box = _int(scope, "box")
        keep = lambda loc: account.box_of(loc) == box  # noqa: E731
        if not any(keep(loc) for loc in locations):
            raise _NotFoundError(f"Box {box} not found.")
    else:
        return locations
    return [loc for loc in locations if keep(loc)]


def _tag(label: str, tags: list[int], name: Callable[[int], str]) -> int:
    for tag in tags:
        if name(tag) == label:
            return tag
    raise _NotFoundError(f"Tag {label!r} not found.")


def _answer(
    account: FakeAccount,
    endpoint: str,
    scope: Mapping[str, str],
    params: Mapping[str, str],
    now: float,
) -> Any:
    if endpoint == "networks":
        return [account.network_row(n) for n in account.networks]
    if endpoint in ("sites", "sites/vehicles"):
        sites = sorted({location_site(loc) for loc in _locations_in(account, scope)})
        return [account.site_row(s, vehicles=endpoint == "sites/vehicles") for s in sites]
    if endpoint == "locations":
        return [account.location_row(loc, now) for loc in _locations_in(account, scope)]
    if endpoint == "boxes":
        return [account.box_row(loc, now) for loc in _locations_in(account, scope)]
    if endpoint == "site_tags":
        locations = _locations_in(account, scope)
        tags = sorted({t for loc in locations for t in site_tags_of(location_site(loc))})
        return [account.site_tag_row(t, with_sites=bool(scope)) for t in tags]
    if endpoint == "location_tags":
        locations = _locations_in(account, scope)
        tags = sorted({t for loc in locations for t in location_tags_of(loc)})
        return [account.location_tag_row(t, with_locations=bool(scope), now=now) for t in tags]
    if endpoint == "clip_metadata":
        clips = account.clip_rows()
        if not scope:
            return clips
        network = _int(scope, "network")
        for clip in clips:
            if clip["network_id"] == network and clip["clip_id"] == scope["content_id"]:
                return clip
        raise _NotFoundError("Not found.")
    # alerts
    hours = None
    if ALERT_HOURS_PARAMETER in params:
        try:
            hours = int(params[ALERT_HOURS_PARAMETER])
        except ValueError:
            hours = None
        if hours not in ALERT_HOURS:
            raise _BadRequestError("hours: an integer between 1 and 24 is required.")
    active = params.get(ALERT_ACTIVE_PARAMETER, "").lower() == ALERT_ACTIVE_ON.lower()
    wanted = set(_locations_in(account, scope))
    rows = account.alert_rows(now, hours=hours, active=active)
    return [row for row in rows if row["location"] in wanted]
