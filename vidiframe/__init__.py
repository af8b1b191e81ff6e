"""vidiframe: typed Polars frames and Parquet datasets from the VidiCenter data export API.

>>> import vidiframe as vf
>>> vf.export_schema("ots", "1h")["ots_count"]
Int64

The public names are re-exported here from small private modules, each with one
job. They are imported on first use, so an offline user never imports the HTTP
stack. Importing vidiframe registers the ``df.vidi`` / ``lf.vidi`` namespaces.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from vidiframe import _namespace  # noqa: F401 - registers df.vidi / lf.vidi on Polars frames
from vidiframe._errors import (
    AuthenticationError,
    DatasetError,
    DroppedColumnsWarning,
    ExportFailedError,
    ExportNotReadyError,
    InsecureURLError,
    InvalidRequestError,
    MissingDependencyError,
    OutOfRangeWarning,
    RateLimitError,
    ResponseError,
    ResponseFormatError,
    SchemaConflictError,
    SchemaError,
    StorageFaultError,
    TransportError,
    UnknownCodeWarning,
    UnknownFieldWarning,
    UnmatchedIdWarning,
    VidiFrameError,
    VidiFrameWarning,
    WrongExportError,
)
from vidiframe._version import __version__

if TYPE_CHECKING:
    from vidiframe._api import read_vidicenter
    from vidiframe._chunking import ChunkPlanner
    from vidiframe._client import VidiCenterClient
    from vidiframe._contents import explode_contents
    from vidiframe._datasets import (
        DatasetInventory,
        PartitionChanges,
        dataset_lock,
        delete_partitions,
        read_inventory,
        replace_days,
        scan_partitions,
        write_partitions,
    )
    from vidiframe._dimension_registry import dimension_schema
    from vidiframe._dimension_snapshots import scan_dimension_snapshots
    from vidiframe._dimensions import (
        read_alerts,
        read_boxes,
        read_clip_metadata,
        read_dimension,
        read_location_tags,
        read_locations,
        read_networks,
        read_site_tags,
        read_sites,
    )
    from vidiframe._fields import Field
    from vidiframe._frame import drop_placeholders, fill_placeholders
    from vidiframe._partitioning import by_period, period_for_resolution
    from vidiframe._policies import Backoff, CallBudget, Limits, RetryPolicy
    from vidiframe._registry import (
        TIME_RESOLUTIONS,
        ExportSpec,
        export_schema,
        get_export,
        iter_exports,
    )
    from vidiframe._scan import scan_vidicenter
    from vidiframe._sync import SyncConfig, SyncReport, plan_sync, sync

# Public name -> the private module that defines it. One line per name: a newcomer
# finds where anything lives here.
_LAZY: dict[str, str] = {
    "read_vidicenter": "vidiframe._api",
    "scan_vidicenter": "vidiframe._scan",
    "explode_contents": "vidiframe._contents",
    "drop_placeholders": "vidiframe._frame",
    "fill_placeholders": "vidiframe._frame",
    "VidiCenterClient": "vidiframe._client",
    "Backoff": "vidiframe._policies",
    "CallBudget": "vidiframe._policies",
    "ChunkPlanner": "vidiframe._chunking",
    "Limits": "vidiframe._policies",
    "RetryPolicy": "vidiframe._policies",
    "write_partitions": "vidiframe._datasets",
    "scan_partitions": "vidiframe._datasets",
    "read_inventory": "vidiframe._datasets",
    "delete_partitions": "vidiframe._datasets",
    "replace_days": "vidiframe._datasets",
    "dataset_lock": "vidiframe._datasets",
    "DatasetInventory": "vidiframe._datasets",
    "PartitionChanges": "vidiframe._datasets",
    "by_period": "vidiframe._partitioning",
    "period_for_resolution": "vidiframe._partitioning",
    "SyncConfig": "vidiframe._sync",
    "SyncReport": "vidiframe._sync",
    "plan_sync": "vidiframe._sync",
    "sync": "vidiframe._sync",
    "Field": "vidiframe._fields",
    "ExportSpec": "vidiframe._registry",
    "TIME_RESOLUTIONS": "vidiframe._registry",
    "export_schema": "vidiframe._registry",
    "get_export": "vidiframe._registry",
    "iter_exports": "vidiframe._registry",
    "read_networks": "vidiframe._dimensions",
    "read_sites": "vidiframe._dimensions",
    "read_locations": "vidiframe._dimensions",
    "read_boxes": "vidiframe._dimensions",
    "read_site_tags": "vidiframe._dimensions",
    "read_location_tags": "vidiframe._dimensions",
    "read_clip_metadata": "vidiframe._dimensions",
    "read_alerts": "vidiframe._dimensions",
    "read_dimension": "vidiframe._dimensions",
    "dimension_schema": "vidiframe._dimension_registry",
    "scan_dimension_snapshots": "vidiframe._dimension_snapshots",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'vidiframe' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "TIME_RESOLUTIONS",
    "AuthenticationError",
    "Backoff",
    "CallBudget",
    "ChunkPlanner",
    "DatasetError",
    "DatasetInventory",
    "DroppedColumnsWarning",
    "ExportFailedError",
    "ExportNotReadyError",
    "ExportSpec",
    "Field",
    "InsecureURLError",
    "InvalidRequestError",
    "Limits",
    "MissingDependencyError",
    "OutOfRangeWarning",
    "PartitionChanges",
    "RateLimitError",
    "ResponseError",
    "ResponseFormatError",
    "RetryPolicy",
    "SchemaConflictError",
    "SchemaError",
    "StorageFaultError",
    "SyncConfig",
    "SyncReport",
    "TransportError",
    "UnknownCodeWarning",
    "UnknownFieldWarning",
    "UnmatchedIdWarning",
    "VidiCenterClient",
    "VidiFrameError",
    "VidiFrameWarning",
    "WrongExportError",
    "__version__",
    "by_period",
    "dataset_lock",
    "delete_partitions",
    "dimension_schema",
    "drop_placeholders",
    "explode_contents",
    "export_schema",
    "fill_placeholders",
    "get_export",
    "iter_exports",
    "period_for_resolution",
    "plan_sync",
    "read_alerts",
    "read_boxes",
    "read_clip_metadata",
    "read_dimension",
    "read_inventory",
    "read_location_tags",
    "read_locations",
    "read_networks",
    "read_site_tags",
    "read_sites",
    "read_vidicenter",
    "replace_days",
    "scan_dimension_snapshots",
    "scan_partitions",
    "scan_vidicenter",
    "sync",
    "write_partitions",
]
