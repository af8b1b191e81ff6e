"""Local partitions are replaced by rename, never rewritten in place.

Each test here fails on an implementation that copies the new bytes onto the
existing file (``shutil.copyfile(staged, target)`` instead of ``rename``), which
the older suite did not notice.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from pathlib import Path

import polars as pl

import vidiframe as vf

DAY1, DAY2 = dt.date(2025, 3, 1), dt.date(2025, 3, 2)


def big(seed: int, n: int = 300_000) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "period_start_date": [DAY1] * n,
            "v": (pl.int_range(n, eager=True).hash(seed) % 1_000_000_007).cast(pl.Int64),
        }
    )


def test_an_open_file_keeps_its_old_bytes_and_inode(tmp_path: Path, make_frame) -> None:
    root = tmp_path / "ds"
    vf.write_partitions(make_frame([DAY1, DAY2], seed=1), root, partition_by="period_start_date")
    files = sorted(root.glob("*/part-0.parquet"))
    before = {f: (f.read_bytes(), f.stat()) for f in files}
    handles = {f: f.open("rb") for f in files}
    try:
        vf.write_partitions(
            make_frame([DAY1, DAY2], seed=2), root, partition_by="period_start_date"
        )
        for f, handle in handles.items():
            old_bytes, old_stat = before[f]
            # The file a reader opened is untouched: same bytes, same mtime...
            assert handle.read() == old_bytes
            fstat = os.fstat(handle.fileno())
            assert fstat.st_mtime_ns == old_stat.st_mtime_ns
            assert fstat.st_size == old_stat.st_size
            # ...while the path now names another inode holding the new file.
            assert f.stat().st_ino != old_stat.st_ino
            assert f.read_bytes() != old_bytes
    finally:
        for handle in handles.values():
            handle.close()


def test_readers_in_a_tight_loop_see_whole_files_only(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    frames = [big(1), big(2)]
    sums = {int(f["v"].sum()) for f in frames}
    vf.write_partitions(frames[0], root, partition_by="period_start_date")
    path = root / f"period_start_date={DAY1}" / "part-0.parquet"
    stop = threading.Event()
    seen: list[int] = []
    errors: list[BaseException] = []

    def read() -> None:
        while not stop.is_set():
            try:
                # Raw bytes of one open(): a file rewritten in place shows up torn.
                data = path.read_bytes()
                got = pl.read_parquet(data)
                seen.append(int(got["v"].sum()))
            except BaseException as exc:  # Polars may even panic on a torn file
                errors.append(exc)
                return

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for i in range(8):
            vf.write_partitions(frames[(i + 1) % 2], root, partition_by="period_start_date")
    finally:
        stop.set()
        reader.join()
    assert errors == []
    assert seen
    assert set(seen) <= sums
