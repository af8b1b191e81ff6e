"""A writer killed with SIGKILL never leaves a torn, mixed or unreadable partition.

The writer runs in a child process that stops at a named step of
``write_partitions`` (through the ``_checkpoint`` hook) and waits; the parent
reads the dataset while the writer is stopped there, kills it with SIGKILL,
reads again, then writes again to check the recovery. No timing is involved:
every kill happens at a known point.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pytest
from polars.testing import assert_frame_equal
from support.kill import (
    ALL_NEW,
    ALL_OLD,
    DAY1,
    DAY2,
    DAY3,
    frame,
    old_or_new,
    stopped_then_killed,
)

import vidiframe as vf

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")

REPO = Path(vf.__file__).resolve().parents[1]

# The child: write the frame at argv[2] into argv[1], stopping at step argv[3].
# With argv[4] == "tear", the staged files are first cut in half: what a kill in
# the middle of writing them leaves on disk.
CHILD = """
import sys
from pathlib import Path

import polars as pl

from vidiframe import _hive as _datasets

root, frame, stop_at, tear = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4] == "tear"


def stop(step):
    if step != stop_at:
        return
    if tear:
        for temp in _datasets._staging_dir(root.resolve()).iterdir():
            temp.write_bytes(temp.read_bytes()[: temp.stat().st_size // 2])
    print(step, flush=True)
    sys.stdin.readline()


_datasets._checkpoint = stop
import vidiframe as vf
vf.write_partitions(pl.read_parquet(frame), root, partition_by="period_start_date")
print("finished", flush=True)
"""


# A nested column too (a list of structs): torn and read back like the flat ones.
OLD = frame([DAY1, DAY2], seed=1, nested=True)
NEW = frame([DAY1, DAY2, DAY3], seed=2, nested=True)


def state(root: Path, old: pl.DataFrame | None) -> dict[dt.date, str]:
    """Each visible partition as "old" or "new", after checking that every reader agrees."""
    parquet = sorted(root.glob("**/*.parquet"))
    if not parquet:
        with pytest.raises(vf.DatasetError, match="holds no Parquet file"):
            vf.scan_partitions(root)
        return {}
    scanned = vf.scan_partitions(root).collect()
    # Plain Polars on the directory reads every file in it: no temporary file is there.
    plain = pl.scan_parquet(root).collect().select(scanned.columns)
    assert_frame_equal(plain, scanned)
    partitioning = ds.partitioning(pa.schema([("period_start_date", pa.date32())]), flavor="hive")
    arrow = pl.from_arrow(ds.dataset(root, format="parquet", partitioning=partitioning).to_table())
    assert isinstance(arrow, pl.DataFrame)
    assert_frame_equal(arrow.select(scanned.columns), scanned)
    assert [p.name for p in parquet] == ["part-0.parquet"] * len(parquet)
    return old_or_new(scanned, old, NEW)


def contents(path: Path) -> dict[str, bytes | None]:
    out: dict[str, bytes | None] = {}
    for dirpath, dirnames, filenames in os.walk(path):
        for name in dirnames:
            out[Path(dirpath, name).relative_to(path).as_posix()] = None
        for name in filenames:
            file = Path(dirpath, name)
            out[file.relative_to(path).as_posix()] = file.read_bytes()
    return out


def kill_writer_at(
    tmp_path: Path, root: Path, step: str, *, tear: bool = False
) -> dict[dt.date, str]:
    """Run the writer of NEW until ``step``; return the state readers saw while it waited there."""
    NEW.write_parquet(tmp_path / "new.parquet")
    argv = ["-c", CHILD, str(root), str(tmp_path / "new.parquet"), step, "tear" if tear else "-"]
    return stopped_then_killed(
        argv,
        step,
        lambda: state(root, OLD if (root / f"period_start_date={DAY1}").exists() else None),
        env={"PYTHONPATH": str(REPO)},
    )


@pytest.mark.parametrize(
    ("step", "tear", "expected"),
    [
        ("locked", False, ALL_OLD),
        ("recovered", False, ALL_OLD),
        ("staged", True, ALL_OLD),
        ("staged", False, ALL_OLD),
        ("committing:period_start_date=2025-03-01", False, ALL_OLD),
        ("committed:period_start_date=2025-03-01", False, {DAY1: "new", DAY2: "old"}),
        ("committed:period_start_date=2025-03-02", False, {DAY1: "new", DAY2: "new"}),
        ("committing:period_start_date=2025-03-03", False, {DAY1: "new", DAY2: "new"}),
        ("committed:period_start_date=2025-03-03", False, ALL_NEW),
        ("done", False, ALL_NEW),
    ],
    ids=lambda v: v if isinstance(v, str) else ("torn staged files" if v is True else None),
)
def test_killed_replacement_leaves_each_partition_old_or_new(
    tmp_path: Path, step: str, tear: bool, expected: dict[dt.date, str]
) -> None:
    root = tmp_path / "ds"
    vf.write_partitions(OLD, root, partition_by="period_start_date")
    during = kill_writer_at(tmp_path, root, step, tear=tear)
    assert during == expected
    assert state(root, OLD) == expected

    # The next writer gets the lock the dead one held, clears its leftovers and
    # leaves exactly what an undisturbed write leaves.
    vf.write_partitions(NEW, root, partition_by="period_start_date")
    assert state(root, OLD) == ALL_NEW
    vf.write_partitions(OLD, tmp_path / "clean", partition_by="period_start_date")
    vf.write_partitions(NEW, tmp_path / "clean", partition_by="period_start_date")
    assert contents(root) == contents(tmp_path / "clean")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clean", "ds", "new.parquet"]


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        ("staged", {}),
        ("committing:period_start_date=2025-03-01", {}),
        ("committed:period_start_date=2025-03-01", {DAY1: "new"}),
    ],
)
def test_killed_first_write_leaves_no_partition_or_whole_ones(
    tmp_path: Path, step: str, expected: dict[dt.date, str]
) -> None:
    root = tmp_path / "ds"
    assert kill_writer_at(tmp_path, root, step) == expected
    assert state(root, None) == expected
    vf.write_partitions(NEW, root, partition_by="period_start_date")
    assert state(root, None) == ALL_NEW
    vf.write_partitions(NEW, tmp_path / "clean", partition_by="period_start_date")
    assert contents(root) == contents(tmp_path / "clean")
