"""The notebooks in ``notebooks/`` run top to bottom against the bundled fake VidiCenter.

Each notebook starts the fake in process, so it needs no credentials and no
network beyond 127.0.0.1. The notebooks check themselves with ``assert`` lines;
here each one is executed in a fresh ``python3`` kernel of this interpreter,
from a temporary working directory (the datasets it writes land there, not in
the repository), with matplotlib's ``Agg`` backend. A notebook passes when no
cell raises, nothing warns, and it printed what it is expected to print.

The notebooks are committed without outputs, so their diffs stay readable; that
is checked too.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))

# Lines each notebook prints once its own checks have passed.
EXPECTED_OUTPUT = {
    "01_quickstart.ipynb": [
        "rows: 504",
        "InsecureURLError",
        "placeholder rows out of 504",
        "QUICKSTART OK",
    ],
    "02_audience_analysis.ipynb": [
        "(2976, 11) hourly rows",
        "viewer x content rows",
        "gap hours in the window, drawn as holes",
        "AUDIENCE OK",
    ],
    "03_dataset_production.ipynb": [
        "14 partitions written",
        "partitions written: ['period_start_date=2025-03-13', 'period_start_date=2025-03-14', "
        "'period_start_date=2025-03-15']",
        "SchemaConflictError",
        "fetch   2025-03-16..2025-03-16  (1 day)",  # vidiframe sync --dry-run
        "viewers_demographics_1h: refetched 2025-03-18..2025-03-20 (3 days)",
        "DuckDB and Polars agree on 12 days",
        "DATASET OK",
    ],
}

# Seconds any one cell may take; the whole notebook takes a few seconds.
CELL_TIMEOUT = 60


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=nbformat.NO_CONVERT)


def _stream(nb: nbformat.NotebookNode, name: str) -> str:
    return "".join(
        output.text
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "stream" and output.name == name
    )


def test_the_documented_notebooks_exist() -> None:
    assert {path.name for path in NOTEBOOKS} >= set(EXPECTED_OUTPUT)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_is_committed_without_outputs(path: Path) -> None:
    nb = _read(path)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    dirty = [
        index
        for index, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not dirty, f"clear the outputs of cells {dirty} before committing"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_runs_top_to_bottom(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MPLBACKEND", "Agg")
    # No credentials, and no cache in the user's home: the notebooks must not need either.
    for name in ("VIDICENTER_USERNAME", "VIDICENTER_TOKEN", "VIDICENTER_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("VIDIFRAME_CACHE_DIR", str(tmp_path / "cache"))
    repo_files_before = sorted(NOTEBOOKS_DIR.rglob("*"))

    nb = _read(path)
    # One more cell, to prove the kernel runs this interpreter (the venv's).
    nb.cells.append(nbformat.v4.new_code_cell("import sys\nprint('kernel prefix:', sys.prefix)"))
    client = NotebookClient(
        nb,
        kernel_name="python3",
        timeout=CELL_TIMEOUT,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError, with the cell and its traceback

    stdout, stderr = _stream(nb, "stdout"), _stream(nb, "stderr")
    assert f"kernel prefix: {sys.prefix}\n" in stdout
    for expected in EXPECTED_OUTPUT.get(path.name, []):
        assert expected in stdout, f"{path.name} did not print {expected!r}"
    assert "Warning" not in stderr, stderr
    assert sorted(NOTEBOOKS_DIR.rglob("*")) == repo_files_before, "the notebook wrote in the repo"
