"""Dimension snapshots: one table per dimension beside the exports, one snapshot per day.

``vidiframe sync`` keeps the dimensions its configuration lists
(``dimensions = ["locations", "sites"]``) as small datasets under the same root
as the exports, at ``<root>/dimensions/<name>``: every row of the dimension as
read that day, with a ``snapshot_date`` column, partitioned by it. A second
snapshot the same day replaces that day's partition; other days are kept, so a
label that changed can be joined as of any day since the first snapshot.

Writing and reading go through the dataset layer's public operations only
(:func:`~vidiframe.write_partitions`, :func:`~vidiframe.delete_partitions`,
:func:`~vidiframe.read_inventory`, :func:`~vidiframe.scan_partitions`), so the
snapshots have its guarantees (atomic partitions, one writer, any storage URL,
Hive Parquet or Delta) and nothing here knows about HTTP.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import polars as pl

from vidiframe._datasets import (
    DatasetFormat,
    DatasetInventory,
    SchemaMode,
    delete_partitions,
    read_inventory,
    scan_partitions,
    write_partitions,
)
from vidiframe._dimension_join import SNAPSHOT_DATE
from vidiframe._dimension_registry import get_dimension
from vidiframe._errors import DatasetError, InvalidRequestError, SchemaConflictError
from vidiframe._hints import date_problem, did_you_mean

__all__ = [
    "SNAPSHOTS_DIR",
    "SNAPSHOT_DATE",
    "SNAPSHOT_DIMENSIONS",
    "check_snapshot_dataset",
    "scan_dimension_snapshots",
    "snapshot_dimension",
    "snapshot_path",
    "write_snapshot",
]

#: The directory under a sync root that holds the snapshots.
SNAPSHOTS_DIR = "dimensions"

#: The dimensions a snapshot can be taken of: name -> (registry dimension,
#: whether it is read from ``/sites/vehicles/``). ``sites_vehicles`` is the sites
#: list with each site's ``vehicles_factors``; the plain ``sites`` list has
#: venue types and addresses but no factors.
SNAPSHOT_DIMENSIONS: Mapping[str, tuple[str, bool]] = MappingProxyType(
    {
        "networks": ("networks", False),
        "sites": ("sites", False),
        "sites_vehicles": ("sites", True),
        "locations": ("locations", False),
        "boxes": ("boxes", False),
        "site_tags": ("site_tags", False),
        "location_tags": ("location_tags", False),
        "clip_metadata": ("clip_metadata", False),
        "alerts": ("alerts", False),
    }
)

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


def snapshot_dimension(name: object, where: str = "dimension snapshots") -> tuple[str, bool]:
    """The registry dimension and ``vehicles`` flag of snapshot ``name``.

    Raises
    ------
    InvalidRequestError
        An unknown name, with the closest known one.

    Examples
    --------
    >>> snapshot_dimension("sites_vehicles")
    ('sites', True)
    >>> snapshot_dimension("location")
    Traceback (most recent call last):
    ...
    vidiframe._errors.InvalidRequestError: ...: unknown dimension 'location' (did you mean 'locations'?); ...
    """
    found = SNAPSHOT_DIMENSIONS.get(name) if isinstance(name, str) else None
    if found is None:
        raise InvalidRequestError(
            f"{where}: unknown dimension {name!r}{did_you_mean(name, SNAPSHOT_DIMENSIONS)}; "
            f"known: {', '.join(SNAPSHOT_DIMENSIONS)}"
        )
    return found


def snapshot_path(root: str | os.PathLike[str], name: str) -> Path | str:
    """Where the snapshots of dimension ``name`` live under a sync ``root``.

    Examples
    --------
    >>> snapshot_path("s3://bucket/lake/", "locations")
    's3://bucket/lake/dimensions/locations'
    >>> snapshot_path(Path("/lake"), "sites").as_posix()
    '/lake/dimensions/sites'
    """
    snapshot_dimension(name)
    if isinstance(root, str) and _URL.match(root):
        return f"{root.rstrip('/')}/{SNAPSHOTS_DIR}/{name}"
    if not isinstance(root, (str, os.PathLike)) or not os.fspath(root):
        raise InvalidRequestError(
            f"a sync root is a directory path or a URL (s3://, gs://, az://, abfss://), "
            f"not {root!r}"
        )
    return Path(root) / SNAPSHOTS_DIR / name


def check_snapshot_dataset(inventory: DatasetInventory, path: Path | str) -> None:
    """Refuse a dataset at a snapshot path that is not partitioned by ``snapshot_date``.

    Raises
    ------
    DatasetError
        Another dataset is there (other partition columns).
    """
    if inventory.exists and inventory.partition_by != (SNAPSHOT_DATE,):
        found = ", ".join(inventory.partition_by) or "nothing"
        raise DatasetError(
            f"{path} is partitioned by {found}, not by {SNAPSHOT_DATE}: it is not a dimension "
            "snapshot dataset; move it away or list other dimensions"
        )


def write_snapshot(
    df: pl.DataFrame,
    path: Path | str,
    *,
    day: dt.date,
    format: DatasetFormat = "parquet",
    schema_mode: SchemaMode = "evolve",
    storage_options: Mapping[str, str] | None = None,
) -> int:
    """Store ``df`` as the snapshot of ``day``, replacing that day's snapshot if any.

    An empty ``df`` removes that day's snapshot: the dimension had no row that
    day, and an older snapshot of the same day must not stand for it.

    Returns
    -------
    int
        The partitions written (1, or 0 for an empty frame).

    Raises
    ------
    SchemaConflictError
        ``df`` already has a ``snapshot_date`` column, or its columns conflict
        with the stored snapshots' (per ``schema_mode``).
    DatasetError
        A storage failure, or another writer holding the dataset.

    Examples
    --------
    >>> import tempfile
    >>> import vidiframe as vf
    >>> nets = vf.read_networks('[{"id": 1, "label": "North"}]')
    >>> renamed = vf.read_networks('[{"id": 1, "label": "North-East"}]')
    >>> with tempfile.TemporaryDirectory() as lake:
    ...     path = snapshot_path(lake, "networks")
    ...     _ = write_snapshot(nets, path, day=dt.date(2025, 1, 1))
    ...     _ = write_snapshot(nets, path, day=dt.date(2025, 1, 2))
    ...     _ = write_snapshot(renamed, path, day=dt.date(2025, 1, 2))  # the same day: replaced
    ...     rows = vf.scan_partitions(path).select(SNAPSHOT_DATE, "label").collect().rows()
    >>> rows
    [(datetime.date(2025, 1, 1), 'North'), (datetime.date(2025, 1, 2), 'North-East')]
    """
    if SNAPSHOT_DATE in df.columns:
        raise SchemaConflictError(
            f"the dimension frame already has a {SNAPSHOT_DATE!r} column; it cannot be "
            f"stored as a snapshot at {path} without overwriting it",
            column=SNAPSHOT_DATE,
        )
    if df.height == 0:
        delete_partitions(path, [(day,)], storage_options=storage_options)
        return 0
    frame = df.with_columns(pl.lit(day, dtype=pl.Date).alias(SNAPSHOT_DATE))
    written = write_partitions(
        frame,
        path,
        partition_by=[SNAPSHOT_DATE],
        format=format,
        schema_mode=schema_mode,
        storage_options=storage_options,
    )
    # An object whose bytes would not change is not rewritten: still one snapshot.
    return max(1, len(written))


def _as_of(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        raise InvalidRequestError(f"as_of must be a date, not a date and time ({value})")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise InvalidRequestError(
                f"as_of {value!r} {date_problem(value, expected='a date (YYYY-MM-DD)')}"
            ) from None
    raise InvalidRequestError(
        f"as_of must be a date or YYYY-MM-DD text, not {type(value).__name__}"
    )


def scan_dimension_snapshots(
    root: str | os.PathLike[str],
    name: str,
    *,
    as_of: dt.date | str | None = None,
    storage_options: Mapping[str, str] | None = None,
) -> pl.LazyFrame:
    """Lazily scan the snapshots ``vidiframe sync`` keeps of a dimension.

    With ``as_of``, each id's row from its latest snapshot on or before that
    day: the names as they were then, ready for
    :meth:`~vidiframe._namespace.VidiFrame.with_names` (``df.vidi.with_names``).
    An id missing from later snapshots (a location removed since) keeps its
    last known row. Without ``as_of``, every snapshot, to name each row of a
    frame by the snapshot of its own day:
    ``df.vidi.with_names(locations=every, as_of="period_start_date")``.

    Parameters
    ----------
    root
        The sync configuration's ``root``: a local directory or a URL. The
        snapshots are at ``<root>/dimensions/<name>``.
    name
        A dimension a sync configuration lists: ``networks``, ``sites``,
        ``sites_vehicles``, ``locations``, ``boxes``, ``site_tags``,
        ``location_tags``, ``clip_metadata`` or ``alerts``.
    as_of
        A date (or ``YYYY-MM-DD``); ``None`` for every snapshot.
    storage_options
        As for :func:`~vidiframe.scan_partitions`.

    Returns
    -------
    polars.LazyFrame
        The dimension's columns and ``snapshot_date``.

    Raises
    ------
    InvalidRequestError
        An unknown dimension or a bad ``as_of``.
    DatasetError
        No snapshot of the dimension at ``root``, none on or before ``as_of``,
        or another dataset at its path.

    Examples
    --------
    >>> import datetime as dt, tempfile
    >>> import polars as pl
    >>> import vidiframe as vf
    >>> before = vf.read_locations('[{"id": 7, "site_id": 1, "label": "Door"}]')
    >>> after = vf.read_locations('[{"id": 7, "site_id": 1, "label": "Main door"}]')
    >>> ots = pl.DataFrame({"location_id": [7], "ots_count": [42]})
    >>> with tempfile.TemporaryDirectory() as lake:
    ...     path = snapshot_path(lake, "locations")
    ...     _ = write_snapshot(before, path, day=dt.date(2025, 1, 1))
    ...     _ = write_snapshot(after, path, day=dt.date(2025, 2, 1))
    ...     then = vf.scan_dimension_snapshots(lake, "locations", as_of="2025-01-15").collect()
    ...     every = vf.scan_dimension_snapshots(lake, "locations").collect()
    >>> ots.vidi.with_names(locations=then).rows()
    [(7, 42, 'Door', 1)]
    >>> every.select("snapshot_date", "label").rows()
    [(datetime.date(2025, 1, 1), 'Door'), (datetime.date(2025, 2, 1), 'Main door')]
    """
    dimension, _ = snapshot_dimension(name, "scan_dimension_snapshots")
    day = None if as_of is None else _as_of(as_of)
    path = snapshot_path(root, name)
    inventory = read_inventory(path, storage_options=storage_options)
    # A Delta table whose every snapshot was removed (an empty dimension each day)
    # still exists, without partitions: no snapshot either, never an empty frame.
    if not inventory.exists or not inventory.partitions:
        raise DatasetError(
            f"no snapshot of {name} at {path}: list {name!r} in the sync configuration's "
            "dimensions and run vidiframe sync"
        )
    check_snapshot_dataset(inventory, path)
    days = sorted(v[0] for v in inventory.partitions if isinstance(v[0], dt.date))
    if day is not None and (not days or days[0] > day):
        first = f"the first is {days[0]}" if days else "there is none"
        raise DatasetError(f"no snapshot of {name} at {path} on or before {day}: {first}")
    lf = scan_partitions(path, storage_options=storage_options)
    if day is None:
        return lf
    key = get_dimension(dimension).id_column
    date = pl.col(SNAPSHOT_DATE)
    # The filter on the partition column is pushed down: later snapshots are not read.
    return lf.filter(date <= day).filter(date == date.max().over(key))
