"""The public surface is exactly ``vidiframe.__all__``, and every name resolves."""

from __future__ import annotations

import subprocess
import sys

import vidiframe as vf

PUBLIC = {
    "__version__",
    # reading
    "read_vidicenter",
    "scan_vidicenter",
    "explode_contents",
    "drop_placeholders",
    "fill_placeholders",
    # fetching, and the policies a client can be given
    "VidiCenterClient",
    "Backoff",
    "CallBudget",
    "ChunkPlanner",
    "Limits",
    "RetryPolicy",
    # datasets
    "write_partitions",
    "scan_partitions",
    "read_inventory",
    "delete_partitions",
    "replace_days",
    "dataset_lock",
    "DatasetInventory",
    "PartitionChanges",
    "by_period",
    "period_for_resolution",
    "SyncConfig",
    "SyncReport",
    "plan_sync",
    "sync",
    # the registry
    "Field",
    "ExportSpec",
    "TIME_RESOLUTIONS",
    "export_schema",
    "get_export",
    "iter_exports",
    # dimensions (SPEC section 10)
    "read_networks",
    "read_sites",
    "read_locations",
    "read_boxes",
    "read_site_tags",
    "read_location_tags",
    "read_clip_metadata",
    "read_alerts",
    "read_dimension",
    "dimension_schema",
    "scan_dimension_snapshots",
    # errors and warnings
    "VidiFrameError",
    "InvalidRequestError",
    "MissingDependencyError",
    "InsecureURLError",
    "ResponseError",
    "ResponseFormatError",
    "ExportNotReadyError",
    "ExportFailedError",
    "SchemaError",
    "WrongExportError",
    "DatasetError",
    "SchemaConflictError",
    "StorageFaultError",
    "AuthenticationError",
    "TransportError",
    "RateLimitError",
    "VidiFrameWarning",
    "UnknownFieldWarning",
    "UnknownCodeWarning",
    "UnmatchedIdWarning",
    "OutOfRangeWarning",
    "DroppedColumnsWarning",
}


def test_all_is_exactly_the_public_surface() -> None:
    assert set(vf.__all__) == PUBLIC
    assert len(vf.__all__) == len(PUBLIC)


def test_every_public_name_resolves() -> None:
    for name in vf.__all__:
        assert getattr(vf, name) is not None, name
    assert sorted(dir(vf)) == sorted(vf.__all__)


def test_errors_form_one_tree() -> None:
    errors = [getattr(vf, n) for n in vf.__all__ if n.endswith("Error")]
    assert all(issubclass(e, vf.VidiFrameError) for e in errors)
    assert issubclass(vf.InvalidRequestError, ValueError)
    assert issubclass(vf.RateLimitError, vf.TransportError)
    assert issubclass(vf.UnknownFieldWarning, UserWarning)


def test_importing_vidiframe_does_not_import_the_http_stack() -> None:
    code = "import sys, vidiframe; print('requests' in sys.modules, 'tqdm' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
