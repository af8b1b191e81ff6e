"""The documentation: a strict MkDocs build, the generated schema reference, runnable pages.

The site is built once per session into a temporary directory with
``mkdocs build --strict`` (any warning fails; the ``site`` fixture of
``conftest.py``), then read as HTML: each export
type and granularity of the registry must have its section, each column its
row, each cited line of the vendored docs must name the field it is cited for.
The ``pycon`` examples of the Markdown pages run as doctests.
"""

from __future__ import annotations

import doctest
import importlib.util
import pkgutil
import re
import subprocess
import sys
import typing
from pathlib import Path
from types import ModuleType

import polars as pl
import pytest

import vidiframe as vf
import vidiframe._namespace  # the pages use df.vidi; registers it until vidiframe/__init__ does
from vidiframe._registry import ExportSpec, iter_exports

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SPECS = list(iter_exports())
IDS = [f"{s.data_type}-{s.granularity}" for s in SPECS]
# SPEC section 9 is not a document of the repository: its export types are listed here.
SPEC9_TYPES = {
    "im_nobackup",
    "im_ots",
    "im_ots_nobackup",
    "targeted_im",
    "content_plays",
    "retail_analytics_footfall",
    "retail_analytics_footfall_aggregated",
}


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_gen_schema", DOCS / "_gen_schema.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("_gen_schema", module)
    spec.loader.exec_module(module)
    return module


gen = load_generator()


def page(site: Path, path: str) -> str:
    return (site / path / "index.html").read_text(encoding="utf-8")


def documented_data_types(version: str) -> set[str]:
    """The ``data_type`` values a seed document lists as allowed."""
    lines = gen.source_lines(version)
    start = next(i for i, line in enumerate(lines) if line.startswith("* ``data_type``"))
    stop = next(i for i, line in enumerate(lines) if line.startswith("* ``time_resolution``"))
    return {
        m.group(1) for line in lines[start + 1 : stop] if (m := re.match(r"\s+\* ``(\w+)``", line))
    }


# -- the build --------------------------------------------------------------------------------


def test_the_strict_build_writes_every_page(site: Path) -> None:
    for path in (
        "",
        "getting-started",
        "concepts/async-export",
        "concepts/limits",
        "concepts/placeholders",
        "concepts/units",
        "concepts/versions",
        "concepts/time-zones",
        "namespace",
        "pandas",
        "datasets",
        "cli",
        "testing",
        "troubleshooting",
        "schema",
        "api",
        "api/namespace",
        "api/testing",
        "sources/2025-04",
        "sources/2020-10",
    ):
        assert (site / path / "index.html").is_file(), path
    # The hook and the Python cache are not published.
    assert not list(site.rglob("*.py"))
    assert not list(site.rglob("__pycache__"))


def test_generated_pages_are_not_committed() -> None:
    # They are rendered at build time; a copy in docs/ would drift from the registry.
    for path in gen.generated_pages():
        assert not (DOCS / path).exists(), path
    tracked = subprocess.run(
        ["git", "ls-files", "docs/schema", "docs/sources/*.md"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert tracked.stdout == ""


# -- the schema reference ---------------------------------------------------------------------


def test_every_export_type_of_the_seeds_and_spec9_has_a_page(site: Path) -> None:
    documented = documented_data_types("2020-10") | documented_data_types("2025-04") | SPEC9_TYPES
    assert len(documented) == 27
    index = page(site, "schema")
    for data_type in documented:
        assert (site / "schema" / data_type / "index.html").is_file(), data_type
        assert f'href="{data_type}/#{data_type}-' in index, data_type


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_each_granularity_lists_every_column(site: Path, spec: ExportSpec) -> None:
    html = page(site, f"schema/{spec.data_type}")
    section = html.split(f'id="{spec.data_type}-{spec.granularity}"', 1)[1]
    # Up to the next granularity's section.
    for other in ("finest", "aggregated", "demographics"):
        marker = f'id="{spec.data_type}-{other}"'
        if other != spec.granularity and marker in section:
            section = section.split(marker, 1)[0]
    for column in spec.schema:
        assert f"<code>{column}</code>" in section, column
    for f in spec.fields:
        assert f"<td>{f.role}</td>" in section
        if f.labels is not None:
            for code, label in f.labels.items():
                assert f"<code>{code}</code> {label}" in section, (f.name, code)
        for legacy in f.legacy:
            assert f"<code>{legacy}</code>" in section, (f.name, legacy)
        for sub in f.fields:
            assert f"<code>{f.name}.{sub.name}</code>" in section, sub.name
    shown = {pl.Datetime("us"): 'Datetime("us")'}
    for dtype in spec.schema.values():
        if not isinstance(dtype, (pl.List, pl.Enum)):
            assert f"<code>{shown.get(dtype, str(dtype))}</code>" in section, dtype


FIELDS = [
    (s, f) for s in SPECS for f in s.fields if f.source.partition(" § ")[0] in gen.SOURCE_FILES
]


@pytest.mark.parametrize(
    ("spec", "field"),
    FIELDS,
    ids=[f"{s.data_type}-{s.granularity}-{f.name}" for s, f in FIELDS],
)
def test_each_cited_line_names_the_field_in_its_section(
    site: Path, spec: ExportSpec, field: vf.Field
) -> None:
    citation = gen.cite(field.source, gen.field_names(spec, field))
    version, _, path = field.source.partition(" § ")
    assert citation.version == version
    begin, end = gen.section_range(version, path.split(" § "))
    assert begin < citation.line <= end
    line = gen.source_lines(version)[citation.line - 1]
    assert any(re.search(rf"\b{re.escape(n)}\b", line) for n in gen.field_names(spec, field)), line
    html = page(site, f"schema/{spec.data_type}")
    assert f"{citation.file}, line {citation.line}" in html
    assert f'href="../../sources/{version}/#L{citation.line}"' in html


def test_schema_tables_are_laid_out_to_fit_1280_px(site: Path) -> None:
    # docs/stylesheets/extra.css lays out the tables in <div class="vf-fields">, its
    # width budget assuming column names of 40 characters at most (the one column
    # kept whole) and the table of contents hidden; the sources cited briefly.
    names = [f"{f.name}.{sub.name}" for spec in SPECS for f in spec.fields for sub in f.fields] + [
        f.name for spec in SPECS for f in spec.fields
    ]
    assert max(len(n) for n in names) <= 40, max(names, key=len)
    css = (DOCS / "stylesheets" / "extra.css").read_text(encoding="utf-8")
    assert ".vf-fields" in css
    for data_type in {spec.data_type for spec in SPECS}:
        html = page(site, f"schema/{data_type}")
        assert html.count('<div class="vf-fields">') == html.count("<table>") > 0, data_type
        assert 'data-md-type="toc" hidden' in html, data_type
        for source in re.findall(
            r'<a href="../../sources/[^"]+" title="([^"]+)">([^<]+)</a>', html
        ):
            assert source[1] == source[0].replace("data-export-api-", "").replace(".rst", "")


def test_a_citation_by_hand() -> None:
    viewers = vf.get_export("viewers", "finest")
    dwell = viewers.by_name["dwell_time_in_tenths_of_sec"]
    citation = gen.cite(dwell.source, gen.field_names(viewers, dwell))
    assert (citation.file, citation.line) == ("data-export-api-2025-04.rst", 201)
    assert "``dwell_time_in_tenths_of_sec``" in gen.source_lines("2025-04")[200]
    glasses = viewers.by_name["glasses"]
    assert gen.cite(glasses.source, ["glasses"]).version == "2020-10"
    assert gen.cite("SPEC § 9", ["vr_id"]) is None


def test_source_pages_anchor_every_line(site: Path) -> None:
    for version, name in gen.SOURCE_FILES.items():
        html = page(site, f"sources/{version}")
        lines = (DOCS / "sources" / name).read_text(encoding="utf-8").splitlines()
        assert f'id="L{len(lines)}"' in html
        assert f'id="L{len(lines) + 1}"' not in html


# -- the API reference ------------------------------------------------------------------------


def test_the_api_reference_documents_every_public_name(site: Path) -> None:
    html = page(site, "api")
    for name in vf.__all__:
        if name != "__version__":
            assert f'id="vidiframe.{name}"' in html, name
    strategies = page(site, "api/testing")
    for name in ("export_frames", "export_payloads", "export_rows"):
        assert f'id="vidiframe.testing.strategies.{name}"' in strategies, name
    namespace = page(site, "api/namespace")
    for method in (
        "drop_placeholders",
        "fill_placeholders",
        "labels",
        "durations",
        "with_durations",
        "explode_contents",
        "write_partitions",
        "to_pandas",
    ):
        assert f'id="vidiframe._namespace.VidiFrame.{method}"' in namespace, method


# The aliases the public signatures use, with the anchor of their definition.
SIGNATURE_ALIASES = {"When": "when", "Ids": "ids", "Source": "source"}


def test_the_type_aliases_of_the_signatures_are_defined_and_linked(site: Path) -> None:
    api = page(site, "api")
    for alias, anchor in SIGNATURE_ALIASES.items():
        assert f'id="{anchor}"><code>{alias}</code>' in api, alias
        # Every use in a signature is a link to the definition, none is left bare.
        links = re.findall(rf'title="vidiframe\._\w+\.{alias}" href="#{anchor}">{alias}</a>', api)
        assert len(links) >= 2, alias
        assert not re.search(rf'<span title="vidiframe\._\w+\.{alias}">', api), alias
    # The definitions shown are the code's.
    from vidiframe._api import Ids, When
    from vidiframe._json import Source

    assert f"<code>When = {When}</code>" in api
    assert f"<code>Ids = {Ids}</code>".replace("collections.abc.", "") in api
    shown = re.search(r"<code>Source = (.*?)</code>", api)
    assert shown is not None
    assert shown.group(1).split(" | ") == [_type_text(arg) for arg in Source.__args__]


def test_no_type_alias_of_a_signature_is_left_unexplained(site: Path) -> None:
    # An annotation that autorefs could not link is drawn as <span title="path">.
    unlinked = set()
    for path in ("api", "api/namespace", "api/testing"):
        unlinked |= set(re.findall(r'<span title="(vidiframe\.[\w.]+)">', page(site, path)))
    aliases = []
    for path in sorted(unlinked):
        try:
            value = pkgutil.resolve_name(path)
        except (ImportError, AttributeError):  # a parameter, an attribute of a class
            continue
        if typing.get_origin(value) is not None:  # Literal[...], Callable[...], a union
            aliases.append(path)
    assert not aliases
    assert "vidiframe._frame.PlaceholderMode" in gen.SIGNATURE_ALIASES
    assert '<code>PlaceholderMode</code>: <code>"keep"</code> · <code>"drop"</code>' in page(
        site, "api"
    )


def _type_text(arg: object) -> str:
    """A member of a union as the docs write it: ``Mapping[str, Any]``, ``os.PathLike[str]``."""
    forward = getattr(arg, "__forward_arg__", None)
    if forward is not None:
        return str(forward)
    if isinstance(arg, type):
        return arg.__name__
    return repr(arg).replace("typing.", "").replace("collections.abc.", "")


def test_docstring_roles_become_links(site: Path) -> None:
    for html_file in site.rglob("*.html"):
        text = html_file.read_text(encoding="utf-8")
        assert not re.search(r":(func|class|meth|mod|exc|attr):<code>", text), html_file
    api = page(site, "api")
    assert 'href="#vidiframe.export_schema"><code>export_schema</code></a>' in api


# -- runnable pages ---------------------------------------------------------------------------

PAGES = sorted(p for p in DOCS.rglob("*.md") if "```pycon" in p.read_text(encoding="utf-8"))


def pycon_blocks(text: str) -> str:
    """The ``pycon`` blocks of a page, one after the other, as one doctest text."""
    return "\n".join(re.findall(r"^```pycon\n(.*?)^```", text, flags=re.M | re.S))


@pytest.mark.parametrize("path", PAGES, ids=[str(p.relative_to(DOCS)) for p in PAGES])
def test_the_examples_of_each_page_run(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pages write files (datasets, saved responses) relative to where they run.
    monkeypatch.chdir(tmp_path)
    for name in ("VIDICENTER_USERNAME", "VIDICENTER_TOKEN", "VIDICENTER_URL"):
        monkeypatch.delenv(name, raising=False)
    text = pycon_blocks(path.read_text(encoding="utf-8"))
    test = doctest.DocTestParser().get_doctest(text, {}, path.name, str(path), 0)
    runner = doctest.DocTestRunner(
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE | doctest.FAIL_FAST
    )
    failures: list[str] = []
    runner.run(test, out=failures.append)
    assert runner.failures == 0, "".join(failures)
    assert runner.tries > 0


def test_pages_with_examples_exist() -> None:
    names = {p.name for p in PAGES}
    assert {"getting-started.md", "namespace.md", "pandas.md", "testing.md"} <= names
