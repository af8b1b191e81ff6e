"""The ``vidiframe`` command line.

Each subcommand lives in a module with a ``register(subparsers)`` function that
adds its parser and sets ``func`` (which runs it and returns the exit code) as a
default. :data:`COMMANDS` lists them: adding a subcommand is one line there.
``fetch`` and ``whoami`` are defined here.

Every error ends the program with one line on stderr that says what went wrong
and what to do, in the command line's terms (``--username``, not ``username=``),
with exit code 2 for invalid arguments and 1 for anything else; ``-v`` adds the
traceback. Warnings are one line each too. The token is never printed.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib
import io
import logging
import os
import re
import sys
import tempfile
import traceback
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from vidiframe._errors import DatasetError, InvalidRequestError, VidiFrameError
from vidiframe._hints import did_you_mean
from vidiframe._version import __version__
from vidiframe._wire import WHOAMI_PATH

__all__ = ["COMMANDS", "build_parser", "check_writable", "main"]

#: The subcommands, as ``"module:function"`` of their ``register(subparsers)``, in
#: the order ``--help`` lists them. A module that is not written yet is skipped.
COMMANDS: tuple[str, ...] = (
    "vidiframe._cli:register_fetch",
    "vidiframe._cli:register_whoami",
    "vidiframe._cli_sync:register",
    "vidiframe._cli_demo:register",
    "vidiframe._cli_serve:register",
    "vidiframe._cli_cache:register",
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
    with _logging_to_stderr(args.verbose), _warnings_as_lines(args.command):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    prefix = f"vidiframe {args.command}"
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print(
            f"{prefix}: interrupted (finished chunks are cached: "
            "run the same command again to resume)",
            file=sys.stderr,
        )
        return _EXIT_INTERRUPTED
    except Exception as error:  # every error becomes one line; -v shows the rest
        if args.verbose:
            traceback.print_exc(file=sys.stderr)
        print(f"{prefix}: error: {_describe(error, args)}", file=sys.stderr)
        return _EXIT_USAGE if isinstance(error, InvalidRequestError) else _EXIT_ERROR


def _describe(error: Exception, args: argparse.Namespace) -> str:
    """One line for ``error``: what went wrong and what to do, in this command's terms."""
    if isinstance(error, VidiFrameError):
        text = str(error)
        if isinstance(error, InvalidRequestError) and getattr(args, "option_names", None):
            text = in_command_line_terms(text, args.option_names)
    elif isinstance(error, OSError):
        # The disk, not vidiframe: name the file and the reason, without Python's repr.
        reason = error.strerror or str(error)
        text = f"cannot use {error.filename}: {reason}" if error.filename else reason
    else:
        # Not an error vidiframe raises on purpose: a bug to report, with -v's traceback.
        text = (
            f"unexpected {type(error).__name__}: {error} (this is a bug in vidiframe: "
            "please report it with the output of the same command run with -v)"
        )
    return " ".join(text.split())  # one line, whatever the message holds


def in_command_line_terms(message: str, option_names: dict[str, str]) -> str:
    """Say ``--end`` where a message of the library says ``end=`` or ``data_type``.

    ``option_names`` maps the library's parameter names to the command's options.
    ``name=`` is always an option; a bare name only when it has an underscore, so
    that English words (``end``, ``start``) stay words.

    Examples
    --------
    >>> names = {"data_type": "--data-type", "end": "--end", "extrapolation_amount":
    ...          "--extrapolation-amount"}
    >>> in_command_line_terms("end='2025-02-30' is not a day", names)
    "--end '2025-02-30' is not a day"
    >>> in_command_line_terms("data_type='ots' needs extrapolation_amount= (a number)", names)
    "--data-type 'ots' needs --extrapolation-amount (a number)"
    >>> in_command_line_terms("start is after end", names)
    'start is after end'
    """
    for name, option in sorted(option_names.items(), key=lambda item: -len(item[0])):
        word = rf"(?<![\w-]){re.escape(name)}"
        message = re.sub(rf"{word}=(?=\S)", f"{option} ", message)  # end='x' -> --end 'x'
        message = re.sub(rf"{word}=", option, message)  # needs extrapolation_amount= (...)
        if "_" in name:
            message = re.sub(rf"{word}\b", option, message)
    return message


@contextlib.contextmanager
def _warnings_as_lines(command: str) -> Iterator[None]:
    """Show each warning as one line, ``vidiframe fetch: warning: ...``, once."""

    def show(message: Warning | str, *_: Any, **__: Any) -> None:
        print(f"vidiframe {command}: warning: {' '.join(str(message).split())}", file=sys.stderr)

    with warnings.catch_warnings():
        # The command line owns the process: its user sees every warning once.
        warnings.simplefilter("default")
        warnings.showwarning = show
        yield


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, with a suggestion for typos."""

    def error(self, message: str) -> NoReturn:
        self.exit(
            _EXIT_USAGE,
            f"{self.prog}: error: {message} (see {self.prog} --help)\n",
        )

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        choices = action.choices
        if choices is not None and value not in choices:
            names = [str(c) for c in choices]
            raise argparse.ArgumentError(
                action,
                f"invalid choice: {value!r}{did_you_mean(value, names)}; "
                f"choose from {', '.join(names)}",
            )


def option_names(parser: argparse.ArgumentParser) -> dict[str, str]:
    """The options of ``parser`` by the library parameter they set (``dest``)."""
    names = {}
    for action in parser._actions:
        longs = [o for o in action.option_strings if o.startswith("--")]
        if longs and action.dest not in ("help", "version"):
            names[action.dest] = longs[0]
    return names


def build_parser() -> argparse.ArgumentParser:
    """The parser, with every subcommand of :data:`COMMANDS` that is available."""
    parser = _Parser(
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
    from vidiframe._credentials import resolve_credentials

    # Resolved here first so that a missing token is explained in this command's terms.
    credentials = resolve_credentials(args.username, None, args.base_url, for_command_line=True)
    return VidiCenterClient(
        username=credentials.username,
        token=credentials.token,
        base_url=credentials.base_url,
        **kwargs,
    )


def check_writable(target: str | os.PathLike[str], *, what: str, is_dir: bool) -> None:
    """Check before any fetch that ``target`` can be written, or raise one clear error.

    Missing parent directories are created (the write would create them anyway),
    and a file is created and removed in the directory that would hold
    ``target``: only trying tells a read-only or full filesystem, and ``root`` as
    well as anyone else. A URL (``s3://...``) is left to the storage layer.

    Parameters
    ----------
    target
        The file or directory that will be written.
    what
        How the user named it, for the message: ``"--output"``, ``"root"``.
    is_dir
        Whether ``target`` is a directory (a dataset root) or a file.

    Raises
    ------
    InvalidRequestError
        The place cannot be written; the message names it and says why.
    """
    text = os.fspath(target)
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]+://", text) and not text.startswith("file://"):
        return
    path = Path(text.removeprefix("file://")).expanduser()
    directory = path if is_dir else path.parent
    try:
        if not is_dir and path.is_dir():
            raise IsADirectoryError(errno.EISDIR, "it is a directory", str(path))
        existing = directory
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        if not existing.is_dir():  # mkdir would only say "File exists"
            raise NotADirectoryError(errno.ENOTDIR, "Not a directory", str(existing))
        directory.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=directory, prefix=".vidiframe-probe-")
        os.close(fd)
        Path(probe).unlink()
    except OSError as error:
        reason = error.strerror or str(error)
        culprit = f" ({error.filename})" if error.filename and error.filename != text else ""
        raise InvalidRequestError(
            f"cannot write to {text} ({what}): {reason}{culprit}; choose a place you can write to"
        ) from None


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
    parser.set_defaults(func=run_fetch, option_names=option_names(parser))
    return parser


def run_fetch(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    """Run ``vidiframe fetch``; return the exit code."""
    from vidiframe._cli_summary import summarize
    from vidiframe._fetch import read_online

    out = out if out is not None else sys.stdout
    if args.output is not None:
        from vidiframe._storage import parse_root

        if not args.output.lower().endswith(".parquet"):
            raise InvalidRequestError(f"--output must be a .parquet file, got {args.output!r}")
        # Before the fetch, not after minutes of it: an unsupported URL scheme, or a
        # local place that cannot be written.
        location = parse_root(args.output)
        if location.local is not None:
            check_writable(location.local, what="--output", is_dir=False)
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
        try:
            _write_output(df, args.output)
        except OSError as error:
            # Checked writable before the fetch, yet failed (a full disk): say what is kept.
            again = (
                "fetch it again with --output elsewhere"
                if args.no_cache
                else "the export is cached: run the same command with another --output"
            )
            raise DatasetError(
                f"cannot write {args.output}: {error.strerror or error}; {again}"
            ) from error
        print(f"wrote {df.height:,} rows x {df.width} columns to {args.output}", file=out)
        return 0
    label = f"{args.data_type}/{args.time_resolution}"
    print(summarize(df, label=label, width=_terminal_width()), file=out)
    return 0


def _terminal_width() -> int:
    # $COLUMNS first, then the terminal; 80 when stdout is a file or a pipe.
    import shutil

    return shutil.get_terminal_size((80, 24)).columns


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


# -- whoami --------------------------------------------------------------------------------------


def register_whoami(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``vidiframe whoami``: check the credentials against the server."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "whoami",
        help="check the credentials: print the user the server sees",
        description=f"Ask the server who the credentials belong to (GET {WHOAMI_PATH}).",
    )
    _add_connection_options(parser)
    parser.set_defaults(func=run_whoami, option_names=option_names(parser))
    return parser


def run_whoami(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    """Run ``vidiframe whoami``; return the exit code."""
    out = out if out is not None else sys.stdout
    with _client(args, cache_dir=None) as client:
        answer = client.whoami()
    print(f"{answer.get('username', '?')} at {client.base_url}", file=out)
    return 0
