"""Fixtures shared by test modules: the documentation site, built once per session,
a private state directory for the call budget, and a fake VidiCenter the
environment points at (what the command line and default clients read)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from vidiframe.testing import FakeVidiCenter

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


@pytest.fixture
def serve_fake(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Callable[..., FakeVidiCenter]]:
    """Start a fake VidiCenter on a loopback socket and point the environment at it.

    Call it with the fake's arguments (``seed=``, ``token=`` ...; its builds take no
    time unless ``build_seconds=`` says otherwise). The environment then holds the
    fake's credentials and URL, and a cache directory ``tmp_path / "cache"``; the
    fake stops when the test ends.
    """
    with contextlib.ExitStack() as stack:

        def serve(**kwargs: Any) -> FakeVidiCenter:
            server = stack.enter_context(FakeVidiCenter(**{"build_seconds": 0.0, **kwargs}))
            monkeypatch.setenv("VIDICENTER_USERNAME", server.username)
            monkeypatch.setenv("VIDICENTER_TOKEN", server.token)
            monkeypatch.setenv("VIDICENTER_URL", server.url)
            monkeypatch.setenv("VIDIFRAME_CACHE_DIR", str(tmp_path / "cache"))
            return server

        yield serve
