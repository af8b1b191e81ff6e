"""Generate the schema and command-line references (a MkDocs hook).

Nothing in the schema reference is written by hand: every page is rendered at
build time from :mod:`vidiframe._registry` and the vendored VidiCenter
documentation in ``docs/sources/``, and never committed, so it cannot drift.

MkDocs runs this file as a hook (``hooks:`` in ``mkdocs.yml``):

- ``on_config`` expands the ``schema/index.md`` entry of the nav into one page
  per export type;
- ``on_files`` adds the generated pages: ``schema/index.md``,
  ``schema/<data_type>.md``, ``sources/<version>.md`` (the vendored
  documentation with an anchor on every line, which the schema pages cite) and
  ``cli-reference.md`` (every subcommand's ``--help``);
- ``on_page_content`` turns the Sphinx roles of the docstrings
  (``:func:`~vidiframe.read_vidicenter```) into links to the API reference.

Run it as a script to write the pages to a directory and look at them::

    .venv/bin/python docs/_gen_schema.py /tmp/schema-pages
"""

from __future__ import annotations

import argparse
import html
import importlib
import os
import pkgutil
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl

from vidiframe._fields import DURATION_UNITS, Field
from vidiframe._registry import (
    DATA_TYPE_ALIASES,
    FINEST_ROW_LIMIT,
    TIME_RESOLUTIONS,
    ExportSpec,
    get_export,
    iter_exports,
)

SOURCES_DIR = Path(__file__).parent / "sources"
#: Vendored documentation versions, by the version named in a field's ``source``.
SOURCE_FILES: Mapping[str, str] = {
    "2020-10": "data-export-api-2020-10.rst",
    "2025-04": "data-export-api-2025-04.rst",
}
#: Where the generated pages go, relative to ``docs/``.
SCHEMA_DIR = "schema"
SOURCE_PAGES_DIR = "sources"
#: The nav entry that the per-export pages are put under.
NAV_PLACEHOLDER = f"{SCHEMA_DIR}/index.md"
#: The generated reference of the command line.
CLI_REFERENCE = "cli-reference.md"

_GRANULARITY_TITLES = {
    "finest": "Finest (raw events)",
    "aggregated": "Aggregated",
    "demographics": "Aggregated, grouped by demographics",
}
_UNIT_TEXT = {
    "tenths_of_second": "tenths of a second",
    "millisecond": "milliseconds",
    "second": "seconds",
    "percent": "percent",
    "count": "count",
    "years": "years",
}


# -- the vendored documentation ----------------------------------------------------------------


@cache
def source_lines(version: str) -> tuple[str, ...]:
    """The lines of a vendored documentation version."""
    return tuple((SOURCES_DIR / SOURCE_FILES[version]).read_text(encoding="utf-8").splitlines())


@cache
def _headings(version: str) -> Mapping[int, int]:
    """0-based line index of each section title -> its level (RST: by order of appearance)."""
    lines = source_lines(version)
    levels: dict[str, int] = {}
    out: dict[int, int] = {}
    for i in range(len(lines) - 1):
        title, underline = lines[i], lines[i + 1]
        if (
            title.strip()
            and not title.startswith(" ")
            and re.fullmatch(r"([=\-^~\"'*#+])\1{2,}", underline)
            and len(underline) >= len(title.rstrip())
        ):
            out[i] = levels.setdefault(underline[0], len(levels))
    return out


def section_range(version: str, titles: Iterable[str]) -> tuple[int, int]:
    """``[begin, end)`` line indexes of a (nested) section, found by its titles.

    ``("Aggregated viewers export", "Group by demographics example")`` is the
    subsection of that title inside the first section of the first title.

    Raises
    ------
    LookupError
        No such section.
    """
    lines = source_lines(version)
    headings = _headings(version)
    begin, end = 0, len(lines)
    for title in titles:
        starts = [i for i in headings if begin <= i < end and lines[i].strip() == title]
        if not starts:
            raise LookupError(f"no section {title!r} in the {version} documentation")
        begin = starts[0]
        end = next((i for i in headings if i > begin and headings[i] <= headings[begin]), end)
    return begin, end


@dataclass(frozen=True)
class Citation:
    """Where the documentation names a field: a version, its file, a 1-based line."""

    version: str
    line: int

    @property
    def file(self) -> str:
        """The vendored file's name."""
        return SOURCE_FILES[self.version]

    @property
    def anchor(self) -> str:
        """The anchor of the line on the generated source page."""
        return f"L{self.line}"


def cite(source: str, names: Iterable[str]) -> Citation | None:
    """The first line of the cited section that names the field, or ``None`` outside the docs.

    ``source`` is a registry source such as ``"2025-04 § Finest viewers export"``.
    A name counts where it is written as ``name`` (the key lists) or
    ``"name"`` (the JSON examples); failing both, as a bare word; failing that,
    the section's title line is cited.
    """
    version, _, path = source.partition(" § ")
    if version not in SOURCE_FILES:
        return None
    begin, end = section_range(version, path.split(" § "))
    lines = source_lines(version)
    names = tuple(names)
    patterns = (
        [re.compile(rf"``{re.escape(n)}``|\"{re.escape(n)}\"") for n in names],
        [re.compile(rf"\b{re.escape(n)}\b") for n in names],
    )
    for group in patterns:
        for i in range(begin, end):
            if any(p.search(lines[i]) for p in group):
                return Citation(version, i + 1)
    return Citation(version, begin + 1)


#: The nested field whose elements explode_contents turns into columns.
_EXPLODED = get_export("viewers_apc", "finest").by_name["contents"]


def field_names(spec: ExportSpec, f: Field) -> tuple[str, ...]:
    """Every name the documentation may use for a field."""
    if f.time_parts:
        return (f.name, spec.time_api_name)
    return f.all_names


# -- rendering -------------------------------------------------------------------------------------


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    text = html.escape(text, quote=False)
    return re.sub(r"([|*_\\`\[\]])", r"\\\1", text).replace("\n", " ")


def _code(text: str) -> str:
    return f"`{text}`"


def _dtype(dtype: Any) -> str:
    text = str(dtype)
    if text == "Datetime(time_unit='us', time_zone=None)":
        return '`Datetime("us")`'

    # A List(Struct) of ten fields is shown in the nested table instead.
    if text.startswith("List(Struct"):
        return "`List(Struct)`"
    if text.startswith("Enum("):
        return "`Enum`"
    return _code(text)


def _unit(f: Field) -> str:
    if f.unit is None:
        return ""
    return _UNIT_TEXT.get(f.unit, f.unit)


#: Where a version of the documentation's public history can be read.
HISTORY_URL = (
    "https://github.com/quividi/vidicenter-api-documentation/blob/{commit}/docs/source/data.rst"
)


def _source(citation: Citation | None, depth: int, source: str = "") -> str:
    history = re.fullmatch(r"docs@(\w+) \(([\d-]+)\) § (.+)", source)
    if citation is None and history is not None:
        commit, date, section = history.groups()
        link = HISTORY_URL.format(commit=commit)
        return f"doc history [{commit}]({link}) ({date}), *{_cell(section)}*"
    if citation is None:
        return "live API, after 2025-04 ([SPEC § 9](" + "../" * depth + "concepts/versions.md))"
    link = "../" * depth + f"{SOURCE_PAGES_DIR}/{citation.version}.md#{citation.anchor}"
    # The version is enough in a narrow column; the file's name is in the tooltip.
    return f'[{citation.version}, line {citation.line}]({link} "{citation.file}, line {citation.line}")'


def _labels(f: Field) -> str:
    assert f.labels is not None
    codes = " · ".join(f"`{code}` {_cell(f.labels[code])}" for code in sorted(f.labels))
    return f"{_code(str(f.label_column))} (`Enum`): {codes}"


def _derived(f: Field, prefix: str = "") -> str:
    parts = []
    if prefix and prefix != "contents.":
        # Only the APC contents have a helper that unnests them into columns.
        return ""
    if f.seconds_column is not None:
        after = "after `explode_contents`: " if prefix else ""
        parts.append(f"{after}{_code(f.seconds_column)} (`Float64`, seconds)")
    if f.labels is not None:
        parts.append(_labels(f))
    if f.time_parts:
        parts.append("`period_start_date` (`Date`), `period_start_time` (`Time`)")
    return "<br>".join(parts)


_HEADER = (
    "| Column | Dtype | Role | Unit | Derived columns | Description | Source |\n"
    "|---|---|---|---|---|---|---|\n"
)
# A field table sits in a <div> that docs/stylesheets/extra.css lays out (md_in_html).
_TABLE_OPEN = '<div class="vf-fields" markdown>\n'
_TABLE_CLOSE = "\n</div>"


def _field_row(spec: ExportSpec, f: Field, *, depth: int, prefix: str = "") -> str:
    citation = cite(f.source, field_names(spec, f))
    legacy = ", ".join(_code(r.old) + f" (until {r.commit}, {r.date})" for r in f.renamed)
    description = _cell(f.doc)
    if legacy:
        description += f"<br>Formerly: {legacy}"
    if f.time_parts and spec.time_api_name != f.name:
        description += f"<br>The API sends it as {_code(spec.time_api_name)}."
    if f.time_parts and spec.time_as_parts:
        description += "<br>Not sent: built from `period_start_date` + `period_start_time`."
    return (
        f"| {_code(prefix + f.name)} | {_dtype(f.dtype)} | {f.role} | {_unit(f)} "
        f"| {_derived(f, prefix)} | {description} | {_source(citation, depth, f.source)} |\n"
    )


def _granularity_section(spec: ExportSpec) -> str:
    anchor = f"{spec.data_type}-{spec.granularity}"
    resolutions = ", ".join(_code(r) for r in spec.resolutions)
    if spec.source.startswith("SPEC"):
        documented = "the live API's documentation ([SPEC § 9](../concepts/versions.md))"
    else:
        version, _, path = spec.source.partition(" § ")
        begin, _ = section_range(version, path.split(" § "))
        citation = Citation(version, begin + 1)
        documented = f"*{_cell(path)}*, " + _source(citation, 1)
    demographics = ", group_by_demographics=True" if spec.granularity == "demographics" else ""
    resolution = spec.resolutions[0] if "1h" not in spec.resolutions else "1h"
    out = [
        f"## {_GRANULARITY_TITLES[spec.granularity]} {{#{anchor}}}\n",
        f"**{_cell(spec.title)}**, documented in {documented}.\n",
        f"- `time_resolution`: {resolutions}",
        f"- at most {spec.row_limit:,} rows per export "
        f"({'raw' if spec.row_limit == FINEST_ROW_LIMIT else 'aggregated'} limit); "
        "vidiframe splits larger requests",
        f"- {len(spec.metrics)} metrics (a row whose metrics are all null is a placeholder), "
        f"keys: {', '.join(_code(k) for k in spec.keys)}",
    ]
    if spec.extrapolated:
        out.append(
            "- needs `extrapolation_amount` (extrapolated export; rows carry no `location_id`)"
        )
    if spec.accepts_content_ids:
        out.append("- accepts `content_ids`")
    if spec.accepts_average_content_duration:
        out.append("- accepts `average_content_duration`")
    if spec.time_as_parts:
        out.append(
            "- the API sends `period_start_date` + `period_start_time` only; "
            "`period_start` is built from them"
        )
    out += [
        "",
        "```python",
        f'df = vf.read_vidicenter("export.json", data_type="{spec.data_type}", '
        f'time_resolution="{resolution}"{demographics})',
        "```",
        "",
        _TABLE_OPEN,
        _HEADER.rstrip("\n"),
    ]
    rows = [_field_row(spec, f, depth=1).rstrip("\n") for f in spec.fields]
    rows.append(
        "| `is_placeholder` | `Boolean` | derived |  |  | true when every metric of the row "
        "is null (see [placeholders](../concepts/placeholders.md)) |  |"
    )
    out += [*rows, _TABLE_CLOSE]
    for f in spec.fields:
        if not isinstance(f.dtype, pl.List):
            continue
        out += [
            "",
            f"### Inside `{f.name}` {{#{anchor}-{f.name}}}",
            "",
            f"Each element of `{f.name}` is a struct of these fields"
            + (
                "; [`explode_contents`](../api/index.md#vidiframe.explode_contents) "
                "turns them into columns, with their seconds columns."
                if f is _EXPLODED
                else "."
            ),
            "",
            _TABLE_OPEN,
            _HEADER.rstrip("\n"),
            *(_field_row(spec, sub, depth=1, prefix=f"{f.name}.").rstrip("\n") for sub in f.fields),
            _TABLE_CLOSE,
        ]
        for sub in f.fields:
            if isinstance(sub.dtype, pl.List):
                out += [
                    "",
                    f"Each element of `{f.name}.{sub.name}`:",
                    "",
                    _TABLE_OPEN,
                    _HEADER.rstrip("\n"),
                    *(
                        _field_row(spec, s, depth=1, prefix=f"{f.name}.{sub.name}.").rstrip("\n")
                        for s in sub.fields
                    ),
                    _TABLE_CLOSE,
                ]
    schema = "\n".join(f"    {name!r}: {dtype}," for name, dtype in spec.schema.items())
    out += [
        "",
        f'??? note "The Polars schema of `{spec.data_type}` ({spec.granularity})"',
        "",
        "    ```python",
        "    pl.Schema({",
        *(f"    {line}" for line in schema.splitlines()),
        "    })",
        "    ```",
        "",
    ]
    return "\n".join(out) + "\n"


def exports_by_type() -> dict[str, list[ExportSpec]]:
    """The registry's exports grouped by ``data_type``, in declaration order."""
    out: dict[str, list[ExportSpec]] = {}
    for spec in iter_exports():
        out.setdefault(spec.data_type, []).append(spec)
    return out


def render_export_page(data_type: str, specs: list[ExportSpec]) -> str:
    """The page of one export type: one section per granularity."""
    aliases = sorted(alias for alias, current in DATA_TYPE_ALIASES.items() if current == data_type)
    out = [
        # The page's sections are linked from its first lines: the table of contents
        # on the right would only take the width the field tables need.
        "---\nhide:\n  - toc\n---\n",
        f"# `{data_type}`\n",
        "<!-- Generated from vidiframe's registry by docs/_gen_schema.py: do not edit. -->\n",
        f"{_cell(specs[0].title.split(' (')[0])}. Granularities: "
        + ", ".join(f"[{g.granularity}](#{data_type}-{g.granularity})" for g in specs)
        + ".\n",
    ]
    if aliases:
        out.append(
            "Saved responses under the 2021 name "
            + ", ".join(_code(a) for a in aliases)
            + " are read as this export (see [legacy names](../concepts/versions.md)).\n"
        )
    out.append(
        "Every column below is in the frame even when the response lacks it (then it is "
        "all null), in this order; fields the registry does not know follow, with an "
        "`UnknownFieldWarning`.\n"
    )
    out += [_granularity_section(spec) for spec in specs]
    return "\n".join(out)


def render_index() -> str:
    """The overview page: every export type and granularity."""
    out = [
        "# Schema reference\n",
        "<!-- Generated from vidiframe's registry by docs/_gen_schema.py: do not edit. -->\n",
        "One page per export type, generated from the export registry that the parser, "
        "the fake server and the hypothesis strategies also read: what is written here "
        "is what `read_vidicenter` returns. For each field: its column, Polars dtype, role "
        "(`key` identifies the row; `metric` is measured, and a row of null metrics is a "
        "placeholder), unit, the columns derived from it, the names it had in older API "
        "versions, and the line of the vendored VidiCenter documentation that names it.\n",
        "Derived columns, in every frame:\n",
        "- `period_start_date` (`Date`) and `period_start_time` (`Time`) next to "
        '`period_start` (`Datetime("us")`, naive local time);',
        "- `<base>_s` (`Float64`, seconds) for each duration, whatever its unit ("
        + ", ".join(_UNIT_TEXT[u] for u in DURATION_UNITS)
        + ");",
        "- `<name>_label` (`Enum` of the documented labels) for each coded field;",
        "- `is_placeholder` (`Boolean`), last.\n",
        "| Export type | Granularity | `time_resolution` | Section of the documentation | Columns |",
        "|---|---|---|---|---|",
    ]
    for data_type, specs in exports_by_type().items():
        for spec in specs:
            link = f"[`{data_type}`]({data_type}.md#{data_type}-{spec.granularity})"
            if spec.resolutions == TIME_RESOLUTIONS[1:]:
                resolutions = "5m … 1M"
            else:
                resolutions = ", ".join(_code(r) for r in spec.resolutions)
            out.append(
                f"| {link} | {spec.granularity} | {resolutions} | {_cell(spec.source)} "
                f"| {len(spec.schema)} |"
            )
    aliases = ", ".join(f"`{a}` → `{c}`" for a, c in sorted(DATA_TYPE_ALIASES.items()))
    out += ["", f"2021 names accepted for saved responses: {aliases}.", ""]
    return "\n".join(out)


def render_source_page(version: str) -> str:
    """A vendored documentation file with an anchor (``#L<n>``) on every line."""
    lines = source_lines(version)
    body = "\n".join(
        f'<span class="vf-line" id="L{n}"><a href="#L{n}">{n:>4}</a>  {html.escape(line)}</span>'
        for n, line in enumerate(lines, start=1)
    )
    return (
        f"# VidiCenter data export API, {version}\n\n"
        f"<!-- Generated from docs/sources/{SOURCE_FILES[version]}: do not edit. -->\n\n"
        f"The vendored `{SOURCE_FILES[version]}`, verbatim, one anchor per line: the schema "
        "reference cites its lines. Its example JSON has the documentation's own errors "
        "(trailing and missing commas); the live API sends valid JSON.\n\n"
        f'<pre class="vf-source">{body}</pre>\n'
    )


# -- the command line ----------------------------------------------------------------------------

#: Functions of ``vidiframe._cli`` that may build the whole parser, tried in order.
_PARSER_BUILDERS = ("build_parser", "make_parser", "create_parser", "get_parser", "parser")


def cli_parser() -> argparse.ArgumentParser:
    """The ``vidiframe`` parser: from ``vidiframe._cli`` when it builds one, else assembled.

    Each subcommand lives in a ``vidiframe._cli_<name>`` module with a
    ``register(subparsers)`` function; without a parser builder in
    ``vidiframe._cli``, the reference shows the subcommands those modules register.
    """
    try:
        main = importlib.import_module("vidiframe._cli")
    except ImportError:
        main = None
    for name in _PARSER_BUILDERS:
        builder = getattr(main, name, None)
        if callable(builder):
            built = builder()
            if isinstance(built, argparse.ArgumentParser):
                return built
    parser = argparse.ArgumentParser(
        prog="vidiframe", description="VidiCenter exports as typed frames and Parquet datasets."
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    package = importlib.import_module("vidiframe")
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name.startswith("_cli_"):
            module = importlib.import_module(f"vidiframe.{info.name}")
            register = getattr(module, "register", None)
            if callable(register):
                register(subparsers)
    return parser


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:  # argparse has no public way to list subcommands
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def render_cli_reference() -> str:
    """Every subcommand's ``--help``, as argparse prints it."""
    previous = os.environ.get("COLUMNS")
    # argparse wraps help to the terminal's width: fix it, for the same page everywhere.
    os.environ["COLUMNS"] = "90"
    try:
        parser = cli_parser()
        out = [
            "# Command-line reference\n",
            "<!-- Generated from vidiframe's argument parsers by docs/_gen_schema.py. -->\n",
            "What `vidiframe --help` and `vidiframe COMMAND --help` print. "
            "The [command line](cli.md) page explains when to use each command.\n",
            "## `vidiframe`\n",
            "```text",
            parser.format_help().rstrip(),
            "```\n",
        ]
        for name, sub in sorted(_subcommands(parser).items()):
            out += [f"## `vidiframe {name}` {{#{name}}}\n", "```text", sub.format_help().rstrip()]
            out.append("```\n")
        return "\n".join(out)
    finally:
        if previous is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = previous


def generated_pages() -> dict[str, str]:
    """Every generated page: path relative to ``docs/`` -> Markdown."""
    pages = {f"{SCHEMA_DIR}/index.md": render_index(), CLI_REFERENCE: render_cli_reference()}
    for data_type, specs in exports_by_type().items():
        pages[f"{SCHEMA_DIR}/{data_type}.md"] = render_export_page(data_type, specs)
    for version in SOURCE_FILES:
        pages[f"{SOURCE_PAGES_DIR}/{version}.md"] = render_source_page(version)
    return pages


# -- MkDocs hooks ----------------------------------------------------------------------------------


def _expand_nav(nav: Any) -> Any:
    """Replace the ``schema/index.md`` entry by a section of every schema page."""
    if isinstance(nav, list):
        return [_expand_nav(item) for item in nav]
    if isinstance(nav, dict):
        out = {}
        for title, value in nav.items():
            if value == NAV_PLACEHOLDER:
                out[title] = [
                    {"Overview": NAV_PLACEHOLDER},
                    *({dt: f"{SCHEMA_DIR}/{dt}.md"} for dt in exports_by_type()),
                ]
            else:
                out[title] = _expand_nav(value)
        return out
    return nav


def on_config(config: Any) -> Any:
    """Put one nav entry per export type under the schema reference."""
    config["nav"] = _expand_nav(config["nav"])
    return config


def on_files(files: Any, config: Any) -> Any:
    """Add the generated pages to the build (they are never written to ``docs/``)."""
    from mkdocs.structure.files import File

    for path, content in generated_pages().items():
        existing = files.get_file_from_path(path)
        if existing is not None:
            files.remove(existing)
        files.append(File.generated(config, path, content=content))
    return files


# ``:func:`~vidiframe.read_vidicenter``` in a docstring, as Markdown renders it.
_ROLE = re.compile(r":(?:func|class|meth|mod|data|attr|exc|obj|py:\w+):<code>(~?)([\w.]+)</code>")


def _role_link(match: re.Match[str]) -> str:
    short, path = match.group(1), match.group(2)
    title = path.rsplit(".", 1)[-1] if short else path
    # "optional": an object that the API reference does not document stays plain code.
    return f'<autoref identifier="{path}" optional><code>{title}</code></autoref>'


#: Aliases of ``Literal`` values (and callbacks) that public signatures use, listed
#: with their values on the API reference where ``ALIASES_MARKER`` stands.
SIGNATURE_ALIASES = (
    "vidiframe._frame.PlaceholderMode",
    "vidiframe._registry.Granularity",
    "vidiframe._fields.Role",
    "vidiframe._fields.Kind",
    "vidiframe._datasets.WriteMode",
    "vidiframe._datasets.ParquetCompression",
    "vidiframe._datasets.DatasetFormat",
    "vidiframe._datasets.SchemaMode",
    "vidiframe._datasets.Root",
    "vidiframe._datasets.PartitionValues",
    "vidiframe._partitioning.Period",
    "vidiframe._namespace.TimeUnit",
    "vidiframe._client.StateCallback",
    "vidiframe._dimension_frame.DimensionSource",
    "vidiframe._dimensions.Id",
)
ALIASES_MARKER = "<!-- vidiframe: signature aliases -->"


def _alias_value(value: Any) -> str:
    """``"keep"`` · ``"drop"`` for a ``Literal``, the type's text otherwise."""
    import typing

    if typing.get_origin(value) is typing.Literal:
        return " · ".join(f'`"{v}"`' for v in typing.get_args(value))
    text = repr(value).replace("typing.", "").replace("collections.abc.", "")
    return f"`{text}`"


def render_signature_aliases() -> str:
    """One line per alias: a Markdown anchor the signatures link to, its name, its values."""
    lines = []
    for path in SIGNATURE_ALIASES:
        module, _, name = path.rpartition(".")
        value = getattr(importlib.import_module(module), name)
        lines.append(f"- [](){{#{path}}} `{name}`: {_alias_value(value)}")
    return "\n".join(lines) + "\n"


def on_page_markdown(markdown: str, **_: Any) -> str:
    """Put the aliases of the signatures, with their values from the code, in place."""
    if ALIASES_MARKER in markdown:
        return markdown.replace(ALIASES_MARKER, render_signature_aliases())
    return markdown


def on_page_content(html_text: str, **_: Any) -> str:
    """Link the docstrings' Sphinx roles to the API reference."""
    return _ROLE.sub(_role_link, html_text)


def main(argv: list[str]) -> int:
    """Write the generated pages under a directory (to read them without a build)."""
    if len(argv) != 1:
        print("usage: python docs/_gen_schema.py OUTPUT_DIR", file=sys.stderr)  # noqa: T201
        return 2
    root = Path(argv[0])
    for path, content in generated_pages().items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
