"""Settings every test shares."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True, scope="session")
def private_call_budget(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep the per-user call budget file of clients on real time out of the home directory.

    Clients without an injected clock share their calls through a state file; the
    tests' own file keeps their runs independent of other programs on the machine.
    """
    patch = pytest.MonkeyPatch()
    patch.setenv("VIDIFRAME_STATE_DIR", str(tmp_path_factory.mktemp("vidiframe-state")))
    yield
    patch.undo()
