"""Publish the notebooks of ``notebooks/``, executed at build time (a MkDocs hook).

The notebooks are committed without outputs (readable diffs, nothing stale); the
site shows them run, figures included. ``on_files`` copies each notebook into a
temporary directory and adds it as ``notebooks/<name>.ipynb``; the
``mkdocs-jupyter`` plugin (``execute: true`` in ``mkdocs.yml``) then runs it and
renders it. Running from the copy's directory keeps what a notebook writes
(notebook 03 writes a dataset under ``lake/``) out of the repository, and the
build fails on any cell that raises (``allow_errors: false``).

This hook runs before the plugins (``event_priority``), so that ``mkdocs-jupyter``
sees the notebooks among the site's files. The tests read the printed lines and
figures from the built pages (``tests/test_notebooks.py``): one execution serves
both the site and the checks.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"
#: Where the notebooks go on the site, relative to ``docs/``.
SITE_DIR = "notebooks"

_state: dict[str, tempfile.TemporaryDirectory[str]] = {}


def notebooks() -> list[Path]:
    """The published notebooks, in their order."""
    return sorted(NOTEBOOKS_DIR.glob("*.ipynb"))


@event_priority(100)  # before mkdocs-jupyter's own on_files, which claims *.ipynb
def on_files(files: Files, config: Any) -> Files:
    scratch = tempfile.TemporaryDirectory(prefix="vidiframe-notebooks-")
    _cleanup()
    _state["scratch"] = scratch
    src_dir = Path(scratch.name)
    (src_dir / SITE_DIR).mkdir()
    for path in notebooks():
        shutil.copyfile(path, src_dir / SITE_DIR / path.name)
        files.append(
            File(
                f"{SITE_DIR}/{path.name}",
                src_dir=str(src_dir),
                dest_dir=config["site_dir"],
                use_directory_urls=config["use_directory_urls"],
            )
        )
    return files


# MkDocs passes each event's arguments by keyword; these need none of them.
def on_post_build(**_: Any) -> None:
    _cleanup()


def on_build_error(**_: Any) -> None:
    _cleanup()


def _cleanup() -> None:
    scratch = _state.pop("scratch", None)
    if scratch is not None:
        scratch.cleanup()
