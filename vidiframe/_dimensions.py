"""The dimension readers: ``vf.read_locations`` and its siblings (SPEC section 10).

Each reads a saved response (the source forms of
:func:`~vidiframe.read_vidicenter`, or an already decoded list) or, without a
source, asks VidiCenter through a :class:`~vidiframe.VidiCenterClient`, with its
call budget, retries and cache. The scope keywords (``network=``, ``site=``,
``site_tag=`` ...) choose the documented per-entity endpoint; at most one is
given. They all go through :func:`read_dimension`, which takes the dimension's
name: what a sync configuration lists to keep snapshots of dimensions.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING
from urllib.parse import quote

import polars as pl

from vidiframe._dimension_frame import DimensionSource, parse_dimension, read_dimension_source
from vidiframe._dimension_registry import get_dimension
from vidiframe._errors import InvalidRequestError, TransportError
from vidiframe._wire import (
    ALERT_ACTIVE_ON,
    ALERT_ACTIVE_PARAMETER,
    ALERT_HOURS,
    ALERT_HOURS_PARAMETER,
    DIMENSION_PATHS,
)

if TYPE_CHECKING:
    from vidiframe._client import VidiCenterClient

__all__ = [
    "dimension_path",
    "read_alerts",
    "read_boxes",
    "read_clip_metadata",
    "read_dimension",
    "read_location_tags",
    "read_locations",
    "read_networks",
    "read_site_tags",
    "read_sites",
]

Id = int | str


def dimension_path(name: str, *, vehicles: bool = False, **scope: Id | None) -> str:
    """The API path that lists dimension ``name`` for ``scope``.

    Parameters
    ----------
    name
        A dimension of the registry (``locations``, ``alerts`` ...).
    vehicles
        Sites only: the ``/vehicles/`` endpoints, which add ``vehicles_factors``.
    scope
        At most one of ``network``, ``site``, ``site_tag``, ``location``,
        ``location_tag``, ``box`` (clip metadata: ``network`` and ``content_id``
        together). Ids are ints or text; tags are labels.

    Raises
    ------
    InvalidRequestError
        An unknown dimension, or a scope the API has no endpoint for.

    Examples
    --------
    >>> dimension_path("locations", site_tag="my special tag")
    '/api/v1/site_tag/my%20special%20tag/locations/'
    >>> dimension_path("sites", network=567, vehicles=True)
    '/api/v1/network/567/sites/vehicles/'
    """
    spec = get_dimension(name)
    endpoint = "sites/vehicles" if vehicles else spec.name
    if vehicles and spec.name != "sites":
        raise InvalidRequestError("vehicles=True only applies to sites")
    given = {key: value for key, value in scope.items() if value is not None}
    paths = DIMENSION_PATHS[endpoint]
    template = paths.get(tuple(sorted(given)))
    if template is None:
        offered = [" + ".join(keys) or "none" for keys in paths]
        raise InvalidRequestError(
            f"VidiCenter has no {endpoint} endpoint for scope "
            f"{' + '.join(sorted(given)) or 'none'}; scopes it offers: {', '.join(offered)}"
        )
    return template.format(**{key: _segment(key, value) for key, value in given.items()})


def _segment(key: str, value: Id) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InvalidRequestError(f"{key}= takes an id or a tag label, not {value!r}")
    text = str(value).strip()
    if not text:
        raise InvalidRequestError(f"{key}= is empty")
    if not key.endswith("tag") and key != "content_id" and not text.isdigit():
        raise InvalidRequestError(f"{key}= takes a numeric id, not {value!r}")
    # A tag label or a clip id goes in the path: every reserved character encoded.
    return quote(text, safe="")


def read_dimension(
    name: str,
    source: DimensionSource | None = None,
    *,
    vehicles: bool = False,
    params: Mapping[str, str] | None = None,
    client: VidiCenterClient | None = None,
    strict: bool = False,
    refresh: bool = False,
    **scope: Id | None,
) -> pl.DataFrame:
    """Read any dimension by name: a saved response, or online.

    The readers (:func:`read_locations` ...) call this; sync calls it with the
    names a configuration lists.

    Parameters
    ----------
    name
        ``networks``, ``sites``, ``locations``, ``boxes``, ``site_tags``,
        ``location_tags``, ``clip_metadata`` or ``alerts``.
    source
        A saved response, or ``None`` to ask the server.
    vehicles
        Sites only: the ``/vehicles/`` endpoints (with ``vehicles_factors``).
    params
        Online only: query parameters of the endpoint (alerts' ``active``, ``hours``).
    client
        Online only: the client (default: one built from the environment).
    strict
        Raise on a field the registry does not know instead of warning.
    refresh
        Online only: ask the server even when the client's cache has the answer.
    scope
        Online only: ``network=``, ``site=``, ... (see :func:`dimension_path`).

    Raises
    ------
    InvalidRequestError
        An unknown dimension or scope, or online arguments with a saved source.

    Examples
    --------
    >>> read_dimension("networks", '[{"id": 15678, "label": "My first network"}]').row(0)
    (15678, 'My first network', None)
    """
    spec = get_dimension(name)
    if source is not None:
        online: dict[str, object] = {k: v for k, v in scope.items() if v is not None}
        if client is not None:
            online["client"] = client
        if params:
            online["params"] = dict(params)
        if refresh:
            online["refresh"] = True
        if online:
            raise InvalidRequestError(
                f"{', '.join(online)} only apply when reading online; they cannot be "
                "combined with a saved response (source)"
            )
        return parse_dimension(read_dimension_source(source), spec, strict=strict)
    path = dimension_path(spec.name, vehicles=vehicles, **scope)
    from vidiframe._client import VidiCenterClient

    active = client if client is not None else VidiCenterClient()
    given = {key: value for key, value in scope.items() if value is not None}
    try:
        body = active.get_resource(path, params, use_cache=spec.cached, refresh=refresh)
    except TransportError as error:
        if error.status != 404 or not given:
            raise
        # The path exists for some entity: a 404 means this one does not.
        shown = ", ".join(f"{key}={value!r}" for key, value in given.items())
        raise InvalidRequestError(
            f"VidiCenter has no {shown} (HTTP 404 for {path}); check the id or tag label"
        ) from None
    finally:
        if client is None:
            active.close()
    return parse_dimension(read_dimension_source(body), spec, strict=strict)


_COMMON = """
    source
        A saved response: a path, bytes, a ``str`` of JSON, the decoded list (or
        dict), or a binary file object. ``None`` (default) asks the server.
    client
        Online only: the :class:`~vidiframe.VidiCenterClient` (default: built from
        the environment, as for :func:`~vidiframe.read_vidicenter`).
    strict
        Raise :class:`~vidiframe.SchemaError` on a field the registry does not
        know, instead of keeping it with an :class:`~vidiframe.UnknownFieldWarning`.
    refresh
        Online only: ask the server even when the client's cache holds an answer.
"""


def read_networks(
    source: DimensionSource | None = None,
    *,
    client: VidiCenterClient | None = None,
    strict: bool = False,
    refresh: bool = False,
) -> pl.DataFrame:
    """Read the networks (``/api/v1/networks/``): ``network_id``, ``label``, ``active``.

    Examples
    --------
    >>> import vidiframe as vf
    >>> vf.read_networks('[{"id": 15678, "label": "My first network", "active": true}]').row(0)
    (15678, 'My first network', True)
    """
    return read_dimension("networks", source, client=client, strict=strict, refresh=refresh)


def read_sites(
    source: DimensionSource | None = None,
    *,
    network: Id | None = None,
    site_tag: str | None = None,
    vehicles: bool = False,
    client: VidiCenterClient | None = None,
    strict: bool = False,
    refresh: bool = False,
) -> pl.DataFrame:
    """Read the sites (``/api/v1/sites/``): ``site_id``, ``network_id``, ``label``, venue types...

    ``vehicles=True`` reads ``/sites/vehicles/``, whose rows also carry the
    ``vehicles_factors`` struct (``factor_car``, ``factor_van``, ...); it is null
    otherwise.

    Examples
    --------
    >>> import vidiframe as vf
    >>> sites = vf.read_sites('''[{"id": 4200, "label": "My only site", "network_id": 567,
    ...     "vehicles_factors": {"factor_car": 1.6, "factor_van": 3.5}}]''')
    >>> sites.select("site_id", "network_id", pl.col("vehicles_factors").struct.field("factor_car")).row(0)
    (4200, 567, 1.6)
    """
    return read_dimension(
        "sites",
        source,
        vehicles=vehicles,
        client=client,
        strict=strict,
        refresh=refresh,
        network=network,
        site_tag=site_tag,
    )


def read_locations(
    source: DimensionSource | None = None,
    *,
    network: Id | None = None,
    site: Id | None = None,
    site_tag: str | None = None,
    location_tag: str | None = None,
    client: VidiCenterClient | None = None,
    strict: bool = False,
    refresh: bool = False,
) -> pl.DataFrame:
    """Read the locations (``/api/v1/locations/``): ``location_id``, ``site_id``, ``label``...

    ``last_timezone`` is kept as sent (the offset from UTC, in seconds, of the
    location's latest upload) and repeated as ``utc_offset``, a Duration. It is
    the offset of the latest upload only: across a daylight-saving change, data
    from before the change had another offset (see
    :meth:`~vidiframe._namespace.VidiFrame.with_utc`).

    Examples
    --------
    >>> import vidiframe as vf
    >>> loc = vf.read_locations('''[{"id": 320453, "site_id": 66531, "box_id": 219354,
    ...     "label": "Exit screen", "last_timezone": -14400}]''')
    >>> loc.select("location_id", "label", "last_timezone", "utc_offset").row(0)
    (320453, 'Exit screen', -14400, datetime.timedelta(days=-1, seconds=72000))
    """
    return read_dimension(
        "locations",
        source,
        client=client,
        strict=strict,
        refresh=refresh,
        network=network,
        site=site,
        site_tag=site_tag,
        location_tag=location_tag,
    )


def read_boxes(
    source: DimensionSource | None = None,
    *,
    network: Id | None = None,
    site: Id | None = None,
    site_tag: str | None = None,
    location: Id | None = None,
    location_tag: str | None = None,
    client: VidiCenterClient | None = None,
    strict: bool = False,
    refresh: bool = False,
) -> pl.DataFrame:
    """Read the boxes (``/api/v1/boxes/``): ``box_id``, ``location_id``, ``site_id``, ``label``...

    Examples
    --------
    >>> import vidiframe as vf
    >>> vf.read_boxes('[{"id": 192366, "location_id": 27046, "site_id": 54422}]').row(0)[:3]
    (192366, 27046, 54422)
    """
    return read_dimension(
        "boxes",
        source,
        client=client,
        strict=strict,
        refresh=refresh,
        network=network,
        site=site,
        site_tag=site_tag,
        location=location,
        location_tag=location_tag,
    )


def read_site_tags(
    source: DimensionSource | None = None,
    *,
    network: Id | None = None,
    client: VidiCenterClient | None = None,
    strict: bool = False,
    refresh: bool = False,
) -> pl.DataFrame:
    """Read the site tags (``/api/v1/site_tags/``): ``site_tag_id``, ``network_id``, ``label``...

    With ``network=``, each tag also lists its ``sites`` (a list of site structs).

    Examples
    --------
    >>> import vidiframe as vf
    >>> tags = vf.read_site_tags('''[{"network_id": 4834, "id": 2, "label": "another tag",
    ...     "sites": [{"id": 20019, "label": "My site"}]}]''')
    >>> tags.explode("sites").select(pl.col("sites").struct.field("site_id")).item()
    20019
    """
    return read_dimension(
        "site_tags", source, client=client, strict=strict, refresh=refresh, network=network
    )


def read_location_tags(
    source: DimensionSource | None = None,
    *,
    network: Id | None = None,
    client: VidiCenterClient | None = None,
    strict: bool = False,
    refresh: bool = False,
) -> pl.DataFrame:
    """Read the location tags (``/api/v1/location_tags/``): ``location_tag_id``, ``label``...

    With ``network=``, each tag also lists its ``locations`` (location structs).

    Examples
    --------
    >>> import vidiframe as vf
    >>> vf.read_location_tags('[{"network_id": 4834, "id": 2231, "label": "Test tag"}]').row(0)
    (2231, 4834, 'Test tag', None, None)
    """
    return read_dimension(
        "location_tags", source, client=client, strict=strict, refresh=refresh, network=network
    )


def read_clip_metadata(
    source: DimensionSource | None = None,
    *,
    network: Id | None = None,
    content_id: str | None = None,
    client: VidiCenterClient | None = None,
    strict: bool = False,
    refresh: bool = False,
) -> pl.DataFrame:
    """Read the clip metadata (``/api/v1/clip/metadata/``): ``content_id``, ``name``...

    The API's ``clip_id`` is the exports' ``content_id`` and is named so; it is
    unique within a network only (``network_id`` tells them apart). Give both
    ``network=`` and ``content_id=`` to read one clip's detail.

    Examples
    --------
    >>> import vidiframe as vf
    >>> clips = vf.read_clip_metadata('''[{"network_id": 9876, "clip_id": "clip_123", "id": 3,
    ...     "name": "My clip name"}]''')
    >>> clips.select("clip_metadata_id", "network_id", "content_id", "name").row(0)
    (3, 9876, 'clip_123', 'My clip name')
    """
    return read_dimension(
        "clip_metadata",
        source,
        client=client,
        strict=strict,
        refresh=refresh,
        network=network,
        content_id=content_id,
    )


def read_alerts(
    source: DimensionSource | None = None,
    *,
    network: Id | None = None,
    site: Id | None = None,
    site_tag: str | None = None,
    location: Id | None = None,
    location_tag: str | None = None,
    box: Id | None = None,
    active: bool = False,
    hours: int | None = None,
    client: VidiCenterClient | None = None,
    strict: bool = False,
) -> pl.DataFrame:
    """Read the alerts (``/api/v1/alerts/``): the 1000 most recent, or those of the last hours.

    Alerts explain gaps: an Upload Period Alert raised at a location and
    terminated later covers the periods its exports hold placeholder rows for.
    ``box``, ``location``, ``site`` and ``network`` are named ``box_id``,
    ``location_id``, ``site_id``, ``network_id``; ``alert_type`` gains
    ``alert_type_label``. Never served from the cache: alerts are live.

    Parameters
    ----------
    active
        Online only: only the alerts active now (``active=True``).
    hours
        Online only: only the alerts of the last ``hours`` hours, 1 to 24.

    Examples
    --------
    >>> import vidiframe as vf
    >>> alerts = vf.read_alerts('''[{"alert_type": 8, "box": 1512, "id": 199250,
    ...     "location": 158, "status": "raised", "timestamp": "2015-10-26T22:18:31"}]''')
    >>> alerts.select("alert_id", "location_id", "alert_type_label", "timestamp").row(0)
    (199250, 158, 'Refused Events Alert', datetime.datetime(2015, 10, 26, 22, 18, 31))
    """
    params: dict[str, str] = {}
    if active:
        params[ALERT_ACTIVE_PARAMETER] = ALERT_ACTIVE_ON
    if hours is not None:
        if isinstance(hours, bool) or not isinstance(hours, int) or hours not in ALERT_HOURS:
            raise InvalidRequestError(f"hours must be an integer from 1 to 24, not {hours!r}")
        params[ALERT_HOURS_PARAMETER] = str(hours)
    return read_dimension(
        "alerts",
        source,
        params=params,
        client=client,
        strict=strict,
        network=network,
        site=site,
        site_tag=site_tag,
        location=location,
        location_tag=location_tag,
        box=box,
    )


_SCOPES = ("network", "site", "site_tag", "location", "location_tag", "box", "content_id")


def _append_common(reader: Callable[..., pl.DataFrame], *, refresh: bool) -> str | None:
    """Add the parameters every reader shares to a reader's docstring, before Examples."""
    doc = reader.__doc__
    if doc is None:
        return None
    head, sep, tail = doc.partition("\n    Examples\n")
    if not sep:
        return doc
    section = "" if "Parameters\n" in head else "\n    Parameters\n    ----------\n"
    common = _COMMON if refresh else _COMMON.partition("    refresh\n")[0]
    scopes = [name for name in inspect.signature(reader).parameters if name in _SCOPES]
    if scopes:
        common += (
            f"    {', '.join(scopes)}\n        Online only: the documented endpoint of one "
            "entity (an id, or a tag's label); at most one"
            + (", or network and content_id together" if "content_id" in scopes else "")
            + ".\n"
        )
    return head.rstrip() + "\n" + section + common.lstrip("\n") + sep + tail


for _reader in (
    read_networks,
    read_sites,
    read_locations,
    read_boxes,
    read_site_tags,
    read_location_tags,
    read_clip_metadata,
    read_alerts,
):
    _reader.__doc__ = _append_common(_reader, refresh=_reader is not read_alerts)
