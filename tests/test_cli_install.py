"""The package installs like any other: what it imports is what it declares.

``pip install vidiframe`` brings the ``[project] dependencies`` and nothing else,
so every module the package imports at run time must be one of them, or be
optional: imported through :func:`vidiframe._optional.require` (which names the
extra to install) and declared in that extra. ``.ci/run`` proves the same by
installing the built wheel into an empty venv and running the demo there; this
test says which import is wrong, in seconds.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import subprocess
import sys
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from vidiframe import _optional

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "vidiframe"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# Extras for users; `all` and `dev` gather them.
USER_EXTRAS = set(typing.get_args(_optional.Extra))


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement.strip())
    assert match is not None, requirement
    return normalize(match.group())


def declared(group: str | None) -> set[str]:
    """Distributions declared by the core dependencies or by one extra (recursively)."""
    project = PYPROJECT["project"]
    requirements = (
        project["dependencies"] if group is None else project["optional-dependencies"][group]
    )
    names: set[str] = set()
    for requirement in requirements:
        self_ref = re.fullmatch(r"vidiframe\[([a-z,]+)\]", requirement.replace(" ", ""))
        if self_ref:
            for extra in self_ref.group(1).split(","):
                names |= declared(extra)
        else:
            names.add(requirement_name(requirement))
    return names


CORE = declared(None)
DISTRIBUTIONS = {
    module: {normalize(d) for d in dists}
    for module, dists in importlib.metadata.packages_distributions().items()
}


@dataclass(frozen=True)
class Import:
    path: Path
    line: int
    module: str
    how: str  # "plain", "guarded" (try/except ImportError), "type-checking", "require:<extra>"

    @property
    def top(self) -> str:
        return self.module.partition(".")[0]

    def __str__(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}: {self.module}"


def third_party(module: str) -> bool:
    top = module.partition(".")[0]
    return top not in sys.stdlib_module_names and top != "vidiframe"


def imports_of(path: Path) -> Iterator[Import]:
    tree = ast.parse(path.read_text(), filename=str(path))

    def visit(node: ast.AST, how: str) -> Iterator[Import]:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                yield from visit(child, "type-checking")
            for child in node.orelse:
                yield from visit(child, how)
            return
        if isinstance(node, ast.Try) and _catches_import_error(node):
            for child in node.body:
                yield from visit(child, "guarded")
            for part in (node.handlers, node.orelse, node.finalbody):
                for child in part:
                    yield from visit(child, how)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(path, node.lineno, alias.name, how)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield Import(path, node.lineno, node.module, how)
        elif isinstance(node, ast.Call) and _is_require(node.func):
            module, extra = _require_arguments(node)
            yield Import(path, node.lineno, module, f"require:{extra}")
        for child in ast.iter_child_nodes(node):
            yield from visit(child, how)

    yield from visit(tree, "plain")


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _catches_import_error(node: ast.Try) -> bool:
    names = {"ImportError", "ModuleNotFoundError"}
    for handler in node.handlers:
        kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        if any(isinstance(k, ast.Name) and k.id in names for k in kinds):
            return True
    return False


def _is_require(func: ast.expr) -> bool:
    return (isinstance(func, ast.Name) and func.id == "require") or (
        isinstance(func, ast.Attribute) and func.attr == "require"
    )


def _require_arguments(call: ast.Call) -> tuple[str, str]:
    module = call.args[0] if call.args else None
    extra = next((k.value for k in call.keywords if k.arg == "extra"), None)
    # Literal strings only: a computed module name could not be checked here.
    assert isinstance(module, ast.Constant), ast.dump(call)
    assert isinstance(extra, ast.Constant), ast.dump(call)
    return str(module.value), str(extra.value)


ALL_IMPORTS = [
    imp
    for path in sorted(PACKAGE.rglob("*.py"))
    if path.name != "_optional.py"  # its examples import made-up modules on purpose
    for imp in imports_of(path)
    if third_party(imp.module)
]


def distributions_of(imp: Import) -> set[str]:
    dists = DISTRIBUTIONS.get(imp.top)
    assert dists, f"{imp}: no installed distribution provides {imp.top!r}"
    return dists


def test_the_scan_sees_the_imports_it_must_judge() -> None:
    # The walk itself: if it stopped finding imports, every check below would pass.
    hows = {(imp.top, imp.how) for imp in ALL_IMPORTS}
    assert ("polars", "plain") in hows
    assert ("hypothesis", "require:testing") in hows
    assert ("ipywidgets", "require:notebooks") in hows
    assert ("pandas", "require:pandas") in hows
    assert ("tomli", "guarded") in hows


def test_every_plain_import_is_a_declared_dependency() -> None:
    undeclared = [
        f"{imp} (from {', '.join(sorted(distributions_of(imp)))})"
        for imp in ALL_IMPORTS
        if imp.how == "plain" and not distributions_of(imp) & CORE
    ]
    assert not undeclared, (
        "imported at run time but not in [project] dependencies: add them there, or import "
        "them through vidiframe._optional.require(module, extra=...):\n" + "\n".join(undeclared)
    )


def test_every_optional_import_is_declared_in_its_extra() -> None:
    wrong = []
    for imp in ALL_IMPORTS:
        if not imp.how.startswith("require:"):
            continue
        extra = imp.how.partition(":")[2]
        if extra not in USER_EXTRAS:
            wrong.append(f"{imp}: extra {extra!r} is not one of {sorted(USER_EXTRAS)}")
        elif not distributions_of(imp) & declared(extra):
            wrong.append(f"{imp}: not declared in the {extra!r} extra")
    assert not wrong, "\n".join(wrong)


def test_every_core_dependency_is_imported() -> None:
    # A dependency nothing imports makes every install heavier for nothing.
    imported = set().union(
        *(
            # A module not installed here (tomli on Python >= 3.11) goes by its own name.
            DISTRIBUTIONS.get(imp.top, {normalize(imp.top)})
            for imp in ALL_IMPORTS
            if imp.how != "type-checking"
        )
    )
    unused = sorted(CORE - imported)
    assert not unused, f"declared in [project] dependencies but never imported: {unused}"


def test_the_extras_match_the_guard() -> None:
    extras = set(PYPROJECT["project"]["optional-dependencies"])
    assert extras == USER_EXTRAS | {"all", "dev"}
    assert declared("all") == set().union(*(declared(e) for e in USER_EXTRAS))
    assert declared("all") <= declared("dev")
    assert declared("lake") == {"deltalake", "obstore"}
    assert declared("testing") == {"hypothesis"}
    assert declared("notebooks") == {"matplotlib", "ipywidgets"}


def test_the_demo_needs_no_test_or_docs_tool() -> None:
    # `make demo` installs the core dependencies only: none of the heavy tools
    # (pyspark alone is half a gigabyte) may creep into them.
    heavy = {"pyspark", "duckdb", "mkdocs", "mypy", "ruff", "pytest", "ipykernel", "moto"}
    assert not CORE & heavy
    makefile = (ROOT / "Makefile").read_text()
    demo_install = re.search(r"\$\(DEMO_VENV\)/bin/python -m pip install (.*)", makefile)
    assert demo_install is not None
    assert demo_install.group(1).split()[-1] == "."  # no extras


def test_the_package_is_pure_python() -> None:
    compiled = [
        p.relative_to(ROOT)
        for p in PACKAGE.rglob("*")
        if p.suffix in {".c", ".h", ".pyx", ".rs"} and p.is_file()
    ]
    assert not compiled, f"no C/Rust written here (issue 11): {compiled}"
    assert not (ROOT / "setup.py").exists()


@pytest.mark.parametrize("extra", sorted(USER_EXTRAS))
def test_a_missing_extra_names_itself(extra: str) -> None:
    with pytest.raises(ImportError, match=re.escape(f"pip install 'vidiframe[{extra}]'")):
        _optional.require("vidiframe_no_such_module", extra=extra)  # type: ignore[arg-type]


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="not a git clone")
@pytest.mark.parametrize(
    "path", ["demo-lake/viewers_1h/part.parquet", ".venv-demo/bin/python", "dist/x.whl"]
)
def test_what_make_demo_and_the_build_leave_is_ignored(path: str) -> None:
    ignored = subprocess.run(
        ["git", "check-ignore", "--quiet", "--no-index", path], cwd=ROOT, check=False
    )
    assert ignored.returncode == 0, f"{path} is not in .gitignore"
