"""``vidiframe cache info`` and ``vidiframe cache clear``: see and empty the response cache.

The cache lives in the platform's user cache directory (``~/.cache/vidiframe`` on
Linux), or in ``$VIDIFRAME_CACHE_DIR``; ``--cache-dir`` names another one, as it
does for ``fetch`` and ``sync``.

Examples
--------
>>> import argparse
>>> parser = argparse.ArgumentParser(prog="vidiframe")
>>> _ = register(parser.add_subparsers(dest="command"))
>>> args = parser.parse_args(["cache", "clear", "--cache-dir", "/tmp/c"])
>>> args.action, str(args.cache_dir), args.func is run_cache
('clear', '/tmp/c', True)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from vidiframe._cache import ENV_CACHE_DIR, ResponseCache, default_cache_dir

__all__ = ["register", "run_cache"]


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``cache`` subcommand to an :mod:`argparse` subparsers object."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "cache",
        help="show or clear the cache of downloaded exports",
        description=(
            "Finished exports are cached for 24 hours (as long as the server keeps "
            "them), so that a re-run costs no API call. 'info' shows where and how "
            "much; 'clear' removes every entry."
        ),
    )
    parser.add_argument("action", choices=("info", "clear"), help="info or clear")
    parser.add_argument(
        "--cache-dir",
        type=Path,
        help=f"the cache directory (default: ${ENV_CACHE_DIR}, else the user cache dir)",
    )
    parser.set_defaults(func=run_cache)
    return parser


def run_cache(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    """Run ``vidiframe cache info|clear``; return the exit code."""
    out = out if out is not None else sys.stdout
    cache = ResponseCache(args.cache_dir if args.cache_dir is not None else default_cache_dir())
    info = cache.info()
    if args.action == "clear":
        removed = cache.clear()
        print(f"removed {removed:,} file(s), {_size(info.size)}, from {cache.directory}", file=out)
        return 0
    where = f"cache directory: {cache.directory}"
    if args.cache_dir is None:
        where += f" (set {ENV_CACHE_DIR} to move it)"
    print(where, file=out)
    if not info.entries:
        print("no cached exports", file=out)
        return 0
    expired = f", {info.expired:,} expired (no longer used)" if info.expired else ""
    print(f"{info.entries:,} cached export(s){expired}, {_size(info.size)}", file=out)
    print(f"oldest: {info.oldest:%Y-%m-%d %H:%M:%S}", file=out)
    print(f"newest: {info.newest:%Y-%m-%d %H:%M:%S}", file=out)
    print("vidiframe cache clear removes them", file=out)
    return 0


def _size(size: int) -> str:
    """A size in bytes, for people.

    Examples
    --------
    >>> _size(0), _size(1234), _size(45_200_000), _size(3 * 1024**3)
    ('0 B', '1.2 kB', '45.2 MB', '3.2 GB')
    """
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")  # pragma: no cover
