"""The public history of VidiCenter's data export documentation.

VidiCenter documents its data export API in the public repository
``quividi/vidicenter-api-documentation``, file ``docs/source/data.rst``. Every
commit that changed that file is a version of the API as documented: the
registry cites them for each field that appeared, changed unit or was renamed
after the two vendored versions (``2020-10``, ``2025-04``), and the test corpus
in ``tests/data/history/`` holds every example response of every version.

Examples
--------
>>> doc_version("d31936d").date
'2021-12-01'
>>> doc_source("d31936d", "Finest vehicles export")
'docs@d31936d (2021-12-01) § Finest vehicles export'
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DOC_VERSIONS", "DocVersion", "doc_source", "doc_version"]


@dataclass(frozen=True)
class DocVersion:
    """One commit of ``docs/source/data.rst``: a version of the documented API."""

    commit: str
    date: str
    subject: str


#: Every version of ``docs/source/data.rst``, oldest first (74, August 2016 to July 2026).
DOC_VERSIONS: tuple[DocVersion, ...] = (
    DocVersion(
        "6842200", "2016-08-25", "Evol [#127911609] Added documentation for export data API call"
    ),
    DocVersion("97842b9", "2016-08-25", "Evol [#127911609] Added data documentation"),
    DocVersion("4e7f12f", "2016-08-25", "Evol [#127911609] Added documentation for expert fields"),
    DocVersion("66ff93e", "2016-08-26", "Evol [#127911703] Added doc for rate limiting"),
    DocVersion(
        "f69ccb5", "2016-09-29", "Evol [#131259947] Added documentation for gate data export"
    ),
    DocVersion("a60f0d1", "2016-10-26", "Evol [#133096417] Added link to next page"),
    DocVersion(
        "90550df",
        "2016-11-08",
        "Evol [#132909253] Added tag selector for data export documentation",
    ),
    DocVersion(
        "2d33050", "2017-01-25", "Chore [#138309701] Fixed spelling error with moustache / mustache"
    ),
    DocVersion(
        "efdde56",
        "2017-02-06",
        "Chore [#139174697] Added documentation for ESQuery filling misssing buckets",
    ),
    DocVersion(
        "1b515e5", "2017-03-09", "Evol [#141394511] Added documentation about conversion ratio"
    ),
    DocVersion(
        "f2ea92d", "2017-08-11", "Evol [#150161449] Added an example of usage for force_rebuild"
    ),
    DocVersion(
        "fd4d620", "2017-08-24", "Evol [#150517555] Improved documentation for force_rebuild, again"
    ),
    DocVersion(
        "fde16f9",
        "2017-09-12",
        "Fix [#150962896] Update the docs to mention the 1M export time_resolution",
    ),
    DocVersion("5cf8dc9", "2018-01-05", "Added request for expert data example"),
    DocVersion("82e0e33", "2018-01-29", "Reworked the data page"),
    DocVersion("f95d7a4", "2018-02-19", "Evol [#154626847] Proof of Play API"),
    DocVersion("fda62e9", "2018-02-19", "PR feedback fixes"),
    DocVersion("f14281b", "2018-02-20", "A commit to try to make things work on RTD (?)"),
    DocVersion("10e56db", "2018-02-26", "Use the correct URL in examples..."),
    DocVersion("09064aa", "2018-04-24", "Removed topology groups as sources from doc"),
    DocVersion("8fb0fe2", "2018-06-19", "Added units for proof of play"),
    DocVersion(
        "2ed1c6c",
        "2020-03-18",
        'Evol [#171839238] Use "impressions" instead of "estimated OTS" everywhere',
    ),
    DocVersion(
        "2a3bd64",
        "2020-10-20",
        "Evol [#174965491] Add content_ids optional argument to the export api",
    ),
    DocVersion("56fa7d1", "2020-10-21", "Evol [#175139780] add impressions_per_play in export API"),
    DocVersion(
        "6d1489f",
        "2020-12-16",
        "Evol [#175715988] Document new extrapolated exports of Watchers and OTS",
    ),
    DocVersion("7436ada", "2020-12-16", "Evol [#175715988] Extrapolation documentation fixes"),
    DocVersion(
        "08b0096", "2021-03-16", "Evol [#177102023] CSV and API exports for vehicle and person"
    ),
    DocVersion("7123c83", "2021-03-16", "fix site / sites typo in example"),
    DocVersion(
        "96b93e1",
        "2021-07-29",
        "Fix [#179053454] Make sure proof of play exports don't accept finest resolution",
    ),
    DocVersion(
        "4153b8d",
        "2021-08-06",
        "Evol [#179066788] add impressions and impressions per vehicle to vehicle export",
    ),
    DocVersion(
        "6ad833f",
        "2021-08-10",
        "Evol [#179176911] - changed available vehicle factors - added vehicle color type mapping",
    ),
    DocVersion("de7dae2", "2021-08-25", "update vehicle type label"),
    DocVersion("d31936d", "2021-12-01", "Evol [#180425853] updated duration field names"),
    DocVersion(
        "d4a932c", "2021-12-07", "Evol [#180178395] - added two new api entry + updated some fields"
    ),
    DocVersion(
        "fdcd324", "2021-12-10", 'Evol [#180046518] Update api doc for new "im" data_type export'
    ),
    DocVersion("cebec35", "2021-12-14", "added missing expected key"),
    DocVersion(
        "9ba386a",
        "2022-01-27",
        "Evol [#181047904] - added two fields to proof of play exports - "
        "improved fields description consitency across the doc",
    ),
    DocVersion("0c54055", "2022-01-31", "fix some syntax warnings"),
    DocVersion(
        "44989fe",
        "2022-02-01",
        "Evol [#181107246] - changed fields in proof of play exports after bugfix",
    ),
    DocVersion("042f608", "2022-02-01", "typo"),
    DocVersion("f0bfa44", "2022-02-02", "homogenize some column names and description"),
    DocVersion(
        "354dd95",
        "2022-02-03",
        "Evol [#180346916] remove some outdated expert docs, rename to core, and use the sphinx-rtd theme",
    ),
    DocVersion("ef6ba18", "2022-02-08", "Evol [#181174204] added 2 more fields to PoP"),
    DocVersion("ff08f75", "2022-02-15", "Evol [#181252682] Clarify IM export calculation"),
    DocVersion("e2feb97", "2022-02-21", "Evol [#181266463] document im_ccs export"),
    DocVersion("13f18aa", "2022-03-21", "Evol [#181464050] Change IAB IM calculation mode"),
    DocVersion("ef6ec54", "2022-03-21", "Evol [#181464050] Clarify"),
    DocVersion(
        "f36521c",
        "2022-06-01",
        "Updated docs with new fields - proof of play exports for vehicles and footfall"
        " - combined vehicle + footfall - fixed some field names in IM export examples",
    ),
    DocVersion("c9bca09", "2022-06-03", 'add link to CMS API in the "chart" doc'),
    DocVersion("73a2ae8", "2022-06-23", "Evol [#182413557] proof of play export: add demographics"),
    DocVersion(
        "5b14d2a",
        "2022-11-09",
        "Evol [#183660836] proof of play export: new versions for footfall + faces",
    ),
    DocVersion("a67281b", "2023-03-21", "Evol [#183772082] PMP: document new exports via api"),
    DocVersion("455ad15", "2023-04-05", "Evol [#184854229] remove age_year (age_absolute)"),
    DocVersion("f24f2e1", "2023-06-02", 'Evol [#185320520] vehicle detection: add "bike" type'),
    DocVersion(
        "c7ab77d", "2023-08-25", 'Evol [#182475829] update doc for unusual "start_time" field'
    ),
    DocVersion(
        "745fd9b",
        "2023-09-06",
        "Evol [#182475829] update doc according to new fields derivated from period_start",
    ),
    DocVersion("474dd8e", "2023-09-08", "Evol [#182475829] typo"),
    DocVersion(
        "62ee2b8",
        "2025-04-02",
        "[sc-1775] add a parameter to the export api to fetch only the status, not the data",
    ),
    DocVersion("3a00580", "2025-04-03", "add missing compass export docs"),
    DocVersion("0205dc1", "2025-04-04", "[sc-1811] improve compass docs"),
    DocVersion(
        "464e222", "2025-04-04", "[sc-1811] compass: put presence_total values in example output"
    ),
    DocVersion("1b2abc6", "2025-04-11", "[sc-1821] compass export: add effective OTS column"),
    DocVersion("69b63c0", "2025-06-18", "[sc-2057] improve IM export documentation"),
    DocVersion("04f669f", "2025-07-24", "[sc-2173] new export: content_plays"),
    DocVersion("9fe05c2", "2025-08-05", "[sc-2212] remove unused app_id field"),
    DocVersion("9a591a9", "2025-10-01", "[sc-2398] watcher <-> person link"),
    DocVersion(
        "031f01d",
        "2025-10-09",
        "[sc-2398] watcher <-> person link: rename a field and talk about JSON updates",
    ),
    DocVersion(
        "8a083fe", "2025-12-02", "add links for each export to the corresponding section below"
    ),
    DocVersion("0bdef05", "2025-12-02", "fixes to the new links"),
    DocVersion("dba2868", "2026-01-09", "[sc-3059] basic doc for retail_analytics_footfall api"),
    DocVersion("044dd5d", "2026-06-02", "[sc-3571] export name change"),
    DocVersion("704e9af", "2026-06-03", "[sc-3571] updated doc with Targeted IM entry"),
    DocVersion(
        "8063b43",
        "2026-06-25",
        "[sc-3844] document retail_analytics_footfall_aggregated data export",
    ),
    DocVersion(
        "6c3790f",
        "2026-07-06",
        "[sc-3939] document missing API response fields and fix invalid example JSON",
    ),
)

_BY_COMMIT = {v.commit: v for v in DOC_VERSIONS}


def doc_version(commit: str) -> DocVersion:
    """The documentation version of a short commit id (7 hex digits)."""
    return _BY_COMMIT[commit]


def doc_source(commit: str, section: str) -> str:
    """A field's ``source`` for a section of one documentation version."""
    version = _BY_COMMIT[commit]
    return f"docs@{version.commit} ({version.date}) § {section}"
