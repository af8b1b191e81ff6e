"""The notebooks in ``notebooks/`` run top to bottom, and the site shows them run.

Each notebook starts the fake VidiCenter in process, so it needs no credentials
and no network beyond 127.0.0.1. The notebooks check themselves with ``assert``
lines. They are executed once per session, by the documentation build
(``docs/_notebooks.py`` + ``mkdocs-jupyter``, from a temporary copy, so what they
write stays out of the repository; a cell that raises fails the build): the
tests here read what each one printed and drew from its built page. A notebook
passes when it printed what it is expected to print, wrote nothing to stderr
that warns, and its page carries its figures.

The notebooks are committed without outputs, so their diffs stay readable and
no stale figure is ever published; that is checked too.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import nbformat
import pytest

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
        "busiest slot: ",
        "largest group: ",
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
        "delta round trip: 15120 rows, the same frame",
        "evolved: brand_new_metric set on 3 new days",
        "DATASET OK",
    ],
}

# The figures each notebook draws (at least: a notebook may gain more).
EXPECTED_FIGURES = {
    "01_quickstart.ipynb": 0,
    # heatmap, demographics, engagement, impressions, gaps
    "02_audience_analysis.ipynb": 5,
    "03_dataset_production.ipynb": 0,
}

# nbconvert's lab template: one <div> per output, its text in a <pre>.
_OUTPUT = re.compile(
    r'<div class="jp-RenderedText jp-OutputArea-output" data-mime-type="([^"]+)"[^>]*>\s*'
    r"<pre>(.*?)</pre>",
    re.S,
)
_FIGURE = re.compile(
    r'<div class="jp-RenderedImage jp-OutputArea-output"[^>]*>\s*<img [^>]*'
    r'src="data:image/png;base64,'
)


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=nbformat.NO_CONVERT)


def _streams(page: str, mime_type: str) -> str:
    """The text of a page's outputs of one type (``text/plain``: stdout and results)."""
    return "".join(
        html.unescape(re.sub(r"<[^>]+>", "", text))  # stderr is coloured with <span>s
        for kind, text in _OUTPUT.findall(page)
        if kind == mime_type
    )


def _page(site: Path, path: Path) -> str:
    return (site / "notebooks" / path.stem / "index.html").read_text(encoding="utf-8")


def test_the_documented_notebooks_exist() -> None:
    assert {path.name for path in NOTEBOOKS} >= set(EXPECTED_OUTPUT)
    assert set(EXPECTED_FIGURES) == set(EXPECTED_OUTPUT)


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
def test_the_site_shows_the_notebook_run(site: Path, path: Path) -> None:
    page = _page(site, path)
    stdout = _streams(page, "text/plain")
    for expected in EXPECTED_OUTPUT.get(path.name, []):
        assert expected in stdout, f"{path.name} did not print {expected!r}"
    stderr = _streams(page, "application/vnd.jupyter.stderr")
    assert "Warning" not in stderr, stderr
    assert "Traceback" not in stderr, stderr
    figures = len(_FIGURE.findall(page))
    assert figures >= EXPECTED_FIGURES.get(path.name, 0), f"{path.name}: {figures} figures"
    # The notebook itself, to download and run.
    assert (site / "notebooks" / path.stem / path.name).read_bytes() == path.read_bytes()


@pytest.mark.slow
def test_the_notebooks_wrote_nothing_in_the_repository(site: Path) -> None:
    # Notebook 03 writes a dataset under lake/ where it runs: in the build's copy.
    assert sorted(NOTEBOOKS_DIR.iterdir()) == NOTEBOOKS


def test_the_page_reader_finds_outputs_figures_and_stderr() -> None:
    # The reader above against a fragment in nbconvert's markup, so that a change of
    # template fails here rather than by finding nothing on the real pages.
    page = (
        '<div class="jp-RenderedText jp-OutputArea-output" data-mime-type="text/plain" '
        'tabindex="0">\n<pre>rows: 504\n</pre></div>'
        '<div class="jp-RenderedText jp-OutputArea-output" '
        'data-mime-type="application/vnd.jupyter.stderr" tabindex="0">\n'
        '<pre><span class="ansi-red-fg">UserWarning</span>: x &lt; y\n</pre></div>'
        '<div class="jp-RenderedImage jp-OutputArea-output" tabindex="0">\n'
        '<img alt="" class="" src="data:image/png;base64,iVBORw0KGgo="/></div>'
    )
    assert _streams(page, "text/plain") == "rows: 504\n"
    assert _streams(page, "application/vnd.jupyter.stderr") == "UserWarning: x < y\n"
    assert len(_FIGURE.findall(page)) == 1
