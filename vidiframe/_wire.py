"""The API's wire facts: paths, states, query parameters, and how a state is read.

The client (:mod:`vidiframe._client`, :mod:`vidiframe._protocol`, the dimension
endpoints of :mod:`vidiframe._dimensions`), the reader of
saved responses (:mod:`vidiframe._reader`) and the fake server
(:mod:`vidiframe.testing`) all take these from here, so a fact of the API is
written once. The module depends on nothing but the errors, so every layer may
use it.

Which key holds the state
-------------------------
Both versions of the docs describe the asynchronous exchange in prose as "the
``status`` field", but every example response of every version, and the live
API, send ``state``; SPEC section 8 lists the prose as quirk 7. Only ``state``
is read. A body with ``status`` and no ``state`` is refused with a message that
says so: a current ``ots`` row has a ``status`` field of its own, so reading
``status`` as the export state would guess, and a guess is how values get lost.

Examples
--------
>>> export_state({"state": "in_progress"})
'in_progress'
>>> export_state({"status": "finished"})
Traceback (most recent call last):
...
vidiframe._errors.ResponseFormatError: the response has no 'state' key (it has 'status': ...
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal

from vidiframe._errors import ResponseFormatError

__all__ = [
    "ALERT_ACTIVE_ON",
    "ALERT_ACTIVE_PARAMETER",
    "ALERT_HOURS",
    "ALERT_HOURS_PARAMETER",
    "AVERAGE_CONTENT_DURATION",
    "CONTENT_IDS",
    "CREATION_DATE_KEY",
    "DATA_PATH",
    "DATA_TYPE",
    "DIMENSION_PATHS",
    "END",
    "EXTRAPOLATION_AMOUNT",
    "FAIL_REASON_KEY",
    "FLAGS",
    "FLAG_ON",
    "FORCE_REBUILD",
    "GROUP_BY_DEMOGRAPHICS",
    "LIST_SEPARATOR",
    "LOCATIONS",
    "PENDING_STATES",
    "REQUIRED_PARAMETERS",
    "SITES",
    "SOURCE_PARAMETERS",
    "START",
    "STATES",
    "STATE_KEY",
    "STATUS_ONLY",
    "TIME_FORMAT",
    "TIME_RESOLUTION",
    "WHOAMI_PATH",
    "ExportState",
    "export_state",
]

#: The data export endpoint.
DATA_PATH: Final = "/api/v1/data/"
#: The endpoint that names the authenticated user.
WHOAMI_PATH: Final = "/api/v1/whoami/"

#: The key of a response that holds the export's state.
STATE_KEY: Final = "state"
#: The key of a failed export's reason.
FAIL_REASON_KEY: Final = "fail_reason"
#: The key of the moment the server built the export.
CREATION_DATE_KEY: Final = "creation_date"

ExportState = Literal["started", "in_progress", "finished", "failed"]
#: States of an export that is still being built.
PENDING_STATES: Final[frozenset[str]] = frozenset({"started", "in_progress"})
#: Every state the API reports, in the order an export goes through them.
STATES: Final[tuple[str, ...]] = ("started", "in_progress", "finished", "failed")

#: Rebuild the export even when the server has it cached.
FORCE_REBUILD: Final = "force_rebuild"
#: Report the state only, without the data.
STATUS_ONLY: Final = "status_only"
#: Parameters that act as soon as they are present, whatever their value (the API
#: treats ``force_rebuild=false`` as a rebuild): sent bare-true or not at all.
#: They change how an export is served, not which export it is.
FLAGS: Final[tuple[str, ...]] = (FORCE_REBUILD, STATUS_ONLY)


#: The parameters every export request carries: what, how fine, from when, to when.
DATA_TYPE: Final = "data_type"
TIME_RESOLUTION: Final = "time_resolution"
START: Final = "start"
END: Final = "end"
REQUIRED_PARAMETERS: Final[tuple[str, ...]] = (DATA_TYPE, TIME_RESOLUTION, START, END)
#: The source parameters that name the sources themselves: an export's rows are per
#: location, or per site (proof of play by site), and these select them by id.
LOCATIONS: Final = "locations"
SITES: Final = "sites"
#: The four source parameters (lists of ids), in the order they are sent.
SOURCE_PARAMETERS: Final[tuple[str, ...]] = (LOCATIONS, SITES, "location_tags", "site_tags")
#: The parameter that keeps only the rows (or the contents) of these content ids.
CONTENT_IDS: Final = "content_ids"
#: The number of locations an extrapolated export is extrapolated to.
EXTRAPOLATION_AMOUNT: Final = "extrapolation_amount"
#: The content duration proof of play assumes where a play's is unknown.
AVERAGE_CONTENT_DURATION: Final = "average_content_duration"
#: The flag that adds the demographic breakdown; present-or-absent like the others.
GROUP_BY_DEMOGRAPHICS: Final = "group_by_demographics"
#: The value sent for a flag that is on (any value would switch it on).
FLAG_ON: Final = "1"
#: How ``start`` and ``end`` are sent (local time of the sources, no zone).
TIME_FORMAT: Final = "%Y-%m-%dT%H:%M:%S"
#: What separates the ids of a list parameter.
LIST_SEPARATOR: Final = ","


# -- dimension endpoints (topology, tags, clip metadata, status) ------------------------------

#: The GET paths of each dimension, by scope: the empty scope lists the account's
#: rows, a scope (``network``, ``site``, ``site_tag``, ``location``, ``location_tag``,
#: ``box``) one entity's. Placeholders take the scope's values: ids, or a tag's
#: label (percent-encoded). From topology.rst, tags.rst, clip_metadata.rst and
#: status.rst; ``sites/vehicles`` is the sites with their vehicle factors.
DIMENSION_PATHS: Mapping[str, Mapping[tuple[str, ...], str]] = {
    "networks": {(): "/api/v1/networks/"},
    "sites": {
        (): "/api/v1/sites/",
        ("network",): "/api/v1/network/{network}/sites/",
        ("site_tag",): "/api/v1/site_tag/{site_tag}/sites/",
    },
    "sites/vehicles": {
        (): "/api/v1/sites/vehicles/",
        ("network",): "/api/v1/network/{network}/sites/vehicles/",
    },
    "locations": {
        (): "/api/v1/locations/",
        ("network",): "/api/v1/network/{network}/locations/",
        ("site",): "/api/v1/site/{site}/locations/",
        ("site_tag",): "/api/v1/site_tag/{site_tag}/locations/",
        ("location_tag",): "/api/v1/location_tag/{location_tag}/locations/",
    },
    "boxes": {
        (): "/api/v1/boxes/",
        ("network",): "/api/v1/network/{network}/boxes/",
        ("site",): "/api/v1/site/{site}/boxes/",
        ("site_tag",): "/api/v1/site_tag/{site_tag}/boxes/",
        ("location",): "/api/v1/location/{location}/boxes/",
        ("location_tag",): "/api/v1/location_tag/{location_tag}/boxes/",
    },
    "site_tags": {
        (): "/api/v1/site_tags/",
        ("network",): "/api/v1/network/{network}/site_tags/",
    },
    "location_tags": {
        (): "/api/v1/location_tags/",
        ("network",): "/api/v1/network/{network}/location_tags/",
    },
    "clip_metadata": {
        (): "/api/v1/clip/metadata/",
        # One clip's detail (a single object, not a list).
        ("content_id", "network"): "/api/v1/network/{network}/clip/metadata/{content_id}/",
    },
    "alerts": {
        (): "/api/v1/alerts/",
        ("network",): "/api/v1/network/{network}/alerts/",
        ("site",): "/api/v1/site/{site}/alerts/",
        ("site_tag",): "/api/v1/site_tag/{site_tag}/alerts/",
        ("location",): "/api/v1/location/{location}/alerts/",
        ("location_tag",): "/api/v1/location_tag/{location_tag}/alerts/",
        ("box",): "/api/v1/box/{box}/alerts/",
    },
}

#: The alerts endpoints' parameter: the hours to look back (status.rst, 2022-05).
ALERT_HOURS_PARAMETER: Final = "hours"
#: The values it takes: 1 to 24.
ALERT_HOURS: Final = range(1, 25)
#: The alerts endpoints' flag for the active alerts only, and the text that sets it
#: ("if specified as True": the value is the text True).
ALERT_ACTIVE_PARAMETER: Final = "active"
ALERT_ACTIVE_ON: Final = "True"


def export_state(document: Mapping[str, Any]) -> str:
    """The export state of a response's top-level object.

    Raises
    ------
    ResponseFormatError
        No ``state`` key (naming ``status`` when that is what the body has), or a
        state the API does not document.
    """
    if STATE_KEY not in document:
        found = (
            " (it has 'status': a doc quirk; the API sends 'state')" if "status" in document else ""
        )
        raise ResponseFormatError(
            f"the response has no 'state' key{found}; is it a VidiCenter data export response?",
            key=STATE_KEY,
        )
    state = document[STATE_KEY]
    if not isinstance(state, str) or state not in STATES:
        raise ResponseFormatError(
            f"unknown export state {state!r}; expected one of {', '.join(STATES)}",
            key=STATE_KEY,
        )
    return state
