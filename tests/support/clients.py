"""A client of an in-process fake VidiCenter on a manual clock: no socket, no wall time."""

from __future__ import annotations

import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vidiframe._chunking import ChunkPlanner
from vidiframe._client import VidiCenterClient
from vidiframe.testing import FakeVidiCenter, ManualClock

__all__ = ["manual_client"]


def manual_client(
    fake: FakeVidiCenter,
    clock: ManualClock,
    *,
    max_rows: int | None = None,
    cache_dir: Path | None = None,
    transport: Any = None,
    planner: Mapping[str, Any] | None = None,
    **options: Any,
) -> VidiCenterClient:
    """A client of ``fake`` whose waits move ``clock``, with seeded jitter.

    ``max_rows`` sizes its chunks (filled to the brim, so a test can count them),
    ``planner`` adds :class:`~vidiframe.ChunkPlanner` options, ``transport`` wraps
    or replaces the fake's in-process one; ``options`` go to the client.
    """
    return VidiCenterClient(
        fake.username,
        fake.token,
        fake.url,
        transport=transport if transport is not None else fake.transport(),
        clock=clock,
        sleep=clock.sleep,
        cache_dir=cache_dir,
        planner=ChunkPlanner(max_rows=max_rows, fill=1.0, **(planner or {})),
        rng=random.Random(0),
        **options,
    )
