"""Fixtures shared by test modules: the documentation site, built once per session,
and a private state directory for the call budget."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site of ``mkdocs build --strict`` (any warning fails), notebooks executed.

    One build serves ``test_docs.py`` (the pages) and ``test_notebooks.py`` (what
    the executed notebooks printed and drew): the notebooks run once per session.
    """
    out = tmp_path_factory.mktemp("site")
    env = {
        **os.environ,
        "NO_MKDOCS_2_WARNING": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        # No cache in the user's home: the notebooks must not need one.
        "VIDIFRAME_CACHE_DIR": str(tmp_path_factory.mktemp("cache")),
    }
    # No credentials: the notebooks run against the fake server only. And the
    # kernel's own (inline) matplotlib backend, so the figures reach the pages.
    for name in ("VIDICENTER_USERNAME", "VIDICENTER_TOKEN", "VIDICENTER_URL", "MPLBACKEND"):
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out


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
