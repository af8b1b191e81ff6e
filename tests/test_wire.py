"""The API's wire facts are written once, in ``vidiframe._wire`` (issue 10, item 7).

The client and the fake server both take paths, keys and parameter names from
there; this guard reads the package's source for a path of the API written as
text anywhere else (docstrings and doctests aside). Keys and parameter names are
not guarded this way: the same words name the Python arguments and the config
keys that carry them.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from vidiframe import _wire

PACKAGE = Path(__file__).parent.parent / "vidiframe"


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the constant nodes that are docstrings."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def wire_literals(source: str) -> Iterator[tuple[int, str]]:
    """String constants (not docstrings) that hold a path of the API."""
    tree = ast.parse(source)
    docs = _docstrings(tree)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docs
            and "/api/" in node.value
        ):
            yield node.lineno, node.value


@pytest.mark.parametrize(
    ("snippet", "found"),
    [
        ('PATH = "/api/v1/data/"', ["/api/v1/data/"]),
        ('url = f"{base}/api/v1/whoami/"', ["/api/v1/whoami/"]),
        ('def f():\n    """Reads "/api/v1/data/"."""', []),
        ('x = "api"', []),
    ],
)
def test_the_guard_finds_wire_literals(snippet: str, found: list[str]) -> None:
    assert [value for _, value in wire_literals(snippet)] == found


def test_wire_facts_are_written_once() -> None:
    modules = sorted(PACKAGE.rglob("*.py"))
    assert len(modules) > 40
    copies = {
        f"{path.relative_to(PACKAGE)}:{line}: {value!r}"
        for path in modules
        if path.name != "_wire.py"
        for line, value in wire_literals(path.read_text(encoding="utf-8"))
    }
    assert copies == set()


def test_the_client_and_the_fake_route_the_same_dimension_paths() -> None:
    from vidiframe._dimensions import dimension_path
    from vidiframe.testing._fake_dimensions import is_dimension_path

    for endpoint, templates in _wire.DIMENSION_PATHS.items():
        for keys in templates:
            scope = dict.fromkeys(keys, 7)
            name, vehicles = endpoint.removesuffix("/vehicles"), endpoint.endswith("/vehicles")
            path = dimension_path(name, vehicles=vehicles, **scope)
            assert path.startswith("/api/v1/")
            assert is_dimension_path(path), path
