"""The ``vidiframe`` command line.

Each subcommand lives in a module with a ``register(subparsers)`` function that
adds its parser and sets ``func`` (which runs it and returns the exit code) as a
default. :data:`COMMANDS` lists them: adding a subcommand is one line there.
``fetch`` and ``whoami`` are defined here.

Errors of vidiframe end the program with a one-line message on stderr and exit
code 2 for invalid arguments, 1 for anything else; the token is never printed.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import logging
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from vidiframe._errors import InvalidRequestError, VidiFrameError
from vidiframe._version import __version__

__all__ = ["COMMANDS", "build_parser", "main"]

#: The subcommands, as ``"module:function"`` of their ``register(subparsers)``, in
#: the order ``--help`` lists them. A module that is not written yet is skipped.
COMMANDS: tuple[str, ...] = (
    "vidiframe._cli:register_fetch",
    "vidiframe._cli:register_whoami",
    "vidiframe._cli_sync:register",
    "vidiframe._cli_demo:register",
    "vidiframe._cli_serve:register",
)

logger = logging.getLogger("vidiframe")

_EXIT_ERROR = 1
_EXIT_USAGE = 2
_EXIT_INTERRUPTED = 130


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code.

    Examples
    --------
    >>> main(["--version"])
    Traceback (most recent call last):
    ...
    SystemExit: 0
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return _EXIT_USAGE
    with _logging_to_stderr(args.verbose):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    try:
        return int(args.func(args))
    except InvalidRequestError as error:
        print(f"vidiframe {args.command}: error: {error}", file=sys.stderr)
        return _EXIT_USAGE
    except VidiFrameError as error:
        print(f"vidiframe {args.command}: error: {error}", file=sys.stderr)
        return _EXIT_ERROR
    except KeyboardInterrupt:
        print(
            f"vidiframe {args.command}: interrupted (finished chunks are cached: "
            "run the same command again to resume)",
            file=sys.stderr,
        )
        return _EXIT_INTERRUPTED


def build_parser() -> argparse.ArgumentParser:
    """The parser, with every subcommand of :data:`COMMANDS` that is available."""
    parser = argparse.ArgumentParser(
        prog="vidiframe",
        description="Typed Polars frames and Parquet datasets from VidiCenter data exports.",
    )
    parser.add_argument("--version", action="version", version=f"vidiframe {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="log progress (-vv: every request)"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for entry in COMMANDS:
        register = _load(entry)
        if register is not None:
            register(subparsers)
    return parser


def _load(entry: str) -> Any:
    module_name, _, function = entry.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name != module_name:
            raise  # the module exists but one of its imports is missing: say so
        logger.debug("subcommand module %s is not available", module_name)
        return None
    return getattr(module, function)


@contextlib.contextmanager
def _logging_to_stderr(verbosity: int) -> Iterator[None]:
    """Show vidiframe's log on stderr while a command runs.

    ``main`` may run in process (tests, notebooks): the logger is left as it was.
    """
    if verbosity <= 0:
        yield
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO if verbosity == 1 else logging.DEBUG)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


# -- connection options shared by the online commands ------------------------------------


def add_client_options(parser: argparse.ArgumentParser) -> None:
    """Add the options of every command that talks to VidiCenter: server, account, cache, progress."""
    _add_connection_options(parser)
    other = parser.add_argument_group("other")
    other.add_argument("--cache-dir", type=Path, help="response cache (default: user cache dir)")
    other.add_argument("--no-cache", action="store_true", help="do not cache responses")
    other.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bars (default: when stderr is a terminal)",
    )


def _add_connection_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "connection",
        "The token is never taken on the command line (other users could read it): "
        "set VIDICENTER_TOKEN or use ~/.netrc.",
    )
    group.add_argument(
        "--base-url", help="the server (default: $VIDICENTER_URL, else the real VidiCenter)"
    )
    group.add_argument("--username", help="default: $VIDICENTER_USERNAME, else ~/.netrc")


def _client(args: argparse.Namespace, **kwargs: Any) -> Any:
    from vidiframe._client import VidiCenterClient

    return VidiCenterClient(username=args.username, base_url=args.base_url, **kwargs)


# -- fetch ---------------------------------------------------------------------------------------


def register_fetch(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``vidiframe fetch``: one export to a Parquet file, or a summary on stdout."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "fetch",
        help="fetch one export to a Parquet file (or print a summary)",
        description=(
            "Fetch one export from VidiCenter, in chunks under the server's limits, "
            "and write it to a Parquet file, or print a summary when no --output is given."
        ),
    )
    export = parser.add_argument_group("export")
    export.add_argument("--data-type", required=True, help="e.g. viewers, ots, footfall")
    export.add_argument("--time-resolution", required=True, help="finest, 5m ... 1h, 1d ... 1M")
    export.add_argument("--start", required=True, help="YYYY-MM-DD[THH:MM:SS], local time")
    export.add_argument(
        "--end", required=True, help="YYYY-MM-DD[THH:MM:SS], inclusive (a date: to 23:59:59)"
    )
    for name in ("locations", "sites", "location-tags", "site-tags", "content-ids"):
        export.add_argument(f"--{name}", metavar="ID[,ID...]", help="comma-separated ids")
    export.add_argument("--extrapolation-amount", help='locations to extrapolate to ("" = mean)')
    export.add_argument("--average-content-duration", type=float, help="targeted_im only")
    export.add_argument("--group-by-demographics", action="store_true")
    export.add_argument(
        "--force-rebuild", action="store_true", help="rebuild on the server, ignore caches"
    )
    frame = parser.add_argument_group("frame")
    frame.add_argument("--placeholders", choices=("keep", "drop"), default="keep")
    frame.add_argument("--strict", action="store_true", help="fail on undocumented fields")
    frame.add_argument(
        "-o", "--output", help="the Parquet file to write: a path, or an s3:// gs:// az:// URL"
    )
    add_client_options(parser)
    parser.set_defaults(func=run_fetch)
    return parser


def run_fetch(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    """Run ``vidiframe fetch``; return the exit code."""
    import polars as pl

    from vidiframe._fetch import read_online

    out = out if out is not None else sys.stdout
    if args.output is not None and not args.output.lower().endswith(".parquet"):
        raise InvalidRequestError(f"--output must be a .parquet file, got {str(args.output)!r}")
    if args.output is not None:
        from vidiframe._storage import parse_root

        parse_root(args.output)  # an unsupported URL scheme is refused before fetching
    cache: dict[str, Any] = {}
    if args.no_cache:
        cache["cache_dir"] = None
    elif args.cache_dir is not None:
        cache["cache_dir"] = args.cache_dir
    with _client(args, **cache) as client:
        df = read_online(
            data_type=args.data_type,
            time_resolution=args.time_resolution,
            group_by_demographics=args.group_by_demographics,
            placeholders=args.placeholders,
            strict=args.strict,
            start=args.start,
            end=args.end,
            locations=args.locations,
            sites=args.sites,
            location_tags=args.location_tags,
            site_tags=args.site_tags,
            content_ids=args.content_ids,
            extrapolation_amount=args.extrapolation_amount,
            average_content_duration=args.average_content_duration,
            force_rebuild=args.force_rebuild,
            client=client,
            progress=args.progress,
        )
    if args.output is not None:
        _write_output(df, args.output)
        print(f"wrote {df.height:,} rows x {df.width} columns to {args.output}", file=out)
        return 0
    print(_summary(df, args), file=out)
    with pl.Config(tbl_rows=10, tbl_cols=12, fmt_str_lengths=30):
        print(df.head(10), file=out)
    return 0


def _write_output(df: Any, output: str) -> None:
    """A local file, or one object of an object store (credentials from the environment)."""
    from vidiframe._storage import parse_root, write_object

    location = parse_root(output)
    if location.local is not None:
        _write_parquet_atomically(df, location.local)
        return
    buffer = io.BytesIO()
    df.write_parquet(buffer)
    write_object(location.url, buffer.getvalue())  # one PUT: whole or nothing


def _write_parquet_atomically(df: Any, path: Path) -> None:
    """Write next to the target then rename: a killed write leaves no half file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        df.write_parquet(tmp)
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _summary(df: Any, args: argparse.Namespace) -> str:
    lines = [f"{args.data_type}/{args.time_resolution}: {df.height:,} rows x {df.width} columns"]
    if df.height and "period_start" in df.columns:
        lines.append(f"period_start: {df['period_start'].min()} .. {df['period_start'].max()}")
    if "is_placeholder" in df.columns:
        lines.append(f"placeholder rows: {int(df['is_placeholder'].sum()):,}")
    return "\n".join(lines)


# -- whoami --------------------------------------------------------------------------------------


def register_whoami(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``vidiframe whoami``: check the credentials against the server."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "whoami",
        help="check the credentials: print the user the server sees",
        description="Ask the server who the credentials belong to (GET /api/v1/whoami/).",
    )
    _add_connection_options(parser)
    parser.set_defaults(func=run_whoami)
    return parser


def run_whoami(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    """Run ``vidiframe whoami``; return the exit code."""
    out = out if out is not None else sys.stdout
    with _client(args, cache_dir=None) as client:
        answer = client.whoami()
    print(f"{answer.get('username', '?')} at {client.base_url}", file=out)
    return 0
