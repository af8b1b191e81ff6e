"""Helpers shared by test modules in different folders (``tests/`` is on ``sys.path``).

Fixtures belong in ``conftest.py``; what a test needs at import time (values for
``parametrize``, module-level frames) and plain functions live here.
"""
