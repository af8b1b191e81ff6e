"""Import an optional dependency, or say which extra installs it.

Optional features sit behind extras of the ``vidiframe`` package::

    pip install 'vidiframe[lake]'       # Delta tables and object storage (deltalake, obstore)
    pip install 'vidiframe[testing]'    # hypothesis strategies (vidiframe.testing.strategies)
    pip install 'vidiframe[notebooks]'  # figures and progress widgets (matplotlib, ipywidgets)
    pip install 'vidiframe[pandas]'     # DataFrame.vidi.to_pandas (pandas)

>>> require("json", extra="lake").__name__
'json'
>>> require("no_such_module_here", extra="lake")
Traceback (most recent call last):
...
vidiframe._errors.MissingDependencyError: this feature needs no_such_module_here, ...: pip install 'vidiframe[lake]'
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Literal

from vidiframe._errors import MissingDependencyError

__all__ = ["Extra", "require"]

#: The extras declared in ``pyproject.toml``.
Extra = Literal["lake", "testing", "notebooks", "pandas"]


def require(module: str, *, extra: Extra) -> ModuleType:
    """Import ``module``; if it is missing, raise an error naming the extra to install.

    Parameters
    ----------
    module
        The module to import, such as ``"deltalake"``.
    extra
        The extra of ``vidiframe`` that declares it.

    Raises
    ------
    MissingDependencyError
        ``module`` cannot be imported.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.partition(".")[0]
        raise MissingDependencyError(
            f"this feature needs {top}, which is not installed: pip install 'vidiframe[{extra}]'",
            module=top,
            extra=extra,
        ) from exc
