"""``vidiframe serve-fake``: run the fake VidiCenter for notebooks and manual tries.

The main command line (``vidiframe._cli``) calls :func:`register` to add the
subcommand; the parsed arguments carry ``func``, which runs it and returns the
exit code. The server listens on ``127.0.0.1`` only, whatever the arguments.

Examples
--------
>>> import argparse
>>> parser = argparse.ArgumentParser(prog="vidiframe")
>>> _ = register(parser.add_subparsers(dest="command"))
>>> args = parser.parse_args(["serve-fake", "--port", "0", "--seed", "7", "--legacy"])
>>> args.port, args.seed, args.legacy, args.func is run_serve_fake
(0, 7, True, True)
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
from collections.abc import Callable
from typing import Any, TextIO

from vidiframe._errors import InvalidRequestError
from vidiframe._wire import WHOAMI_PATH
from vidiframe.testing import FakeVidiCenter

__all__ = ["DEFAULT_PORT", "register", "run_serve_fake"]

#: The port ``serve-fake`` listens on unless told otherwise (stable, for notebooks).
DEFAULT_PORT = 8765


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``serve-fake`` subcommand to an :mod:`argparse` subparsers object.

    Parameters
    ----------
    subparsers
        What ``ArgumentParser.add_subparsers()`` returned.

    Returns
    -------
    argparse.ArgumentParser
        The subcommand's parser; its defaults set ``func`` to :func:`run_serve_fake`.
    """
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "serve-fake",
        help="run the fake VidiCenter API on 127.0.0.1",
        description=(
            "Run the fake VidiCenter data export API on 127.0.0.1, with deterministic "
            "data for every export type, until Ctrl-C."
        ),
    )
    parser.add_argument(
        "--port",
        type=_port,
        default=DEFAULT_PORT,
        help=f"port to listen on (default {DEFAULT_PORT}; 0 picks a free one)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated data")
    parser.add_argument(
        "--build-seconds",
        type=float,
        default=2.0,
        help="how long each export takes to build (default 2)",
    )
    parser.add_argument("--username", default="demo", help="accepted username (default demo)")
    parser.add_argument("--token", default="demo-token", help="accepted token (default demo-token)")
    parser.add_argument(
        "--legacy", action="store_true", help="send the 2020 field names (dwell_time, ...)"
    )
    parser.add_argument(
        "--quirks",
        action="store_true",
        help="reproduce the documentation's quirks (ids as strings, color 12356, ...)",
    )
    parser.set_defaults(func=run_serve_fake)
    return parser


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (0 to 65535; 0 = any free one)")
    return port


def run_serve_fake(
    args: argparse.Namespace,
    *,
    stop: threading.Event | None = None,
    stdout: TextIO | None = None,
    on_ready: Callable[[FakeVidiCenter], None] | None = None,
) -> int:
    """Serve the fake until Ctrl-C (or until ``stop`` is set); return the exit code.

    Parameters
    ----------
    args
        The parsed ``serve-fake`` arguments.
    stop
        An event that stops the server when set (tests, embedding); by default it
        runs until interrupted.
    stdout
        Where the URL and credentials are written (default ``sys.stdout``).
    on_ready
        Called with the running fake once it listens.
    """
    out = stdout if stdout is not None else sys.stdout
    fake = FakeVidiCenter(
        seed=args.seed,
        username=args.username,
        token=args.token,
        build_seconds=args.build_seconds,
        legacy=args.legacy,
        quirks=getattr(args, "quirks", False),
        port=args.port,
    )
    try:
        fake.start()
    except OSError as error:
        raise InvalidRequestError(
            f"cannot listen on 127.0.0.1:{args.port}: {error.strerror or error}; "
            "choose another --port (0 picks a free one)"
        ) from None
    with contextlib.closing(fake):
        url = fake.url
        out.write(
            f"Fake VidiCenter listening on {url} (seed {args.seed}, "
            f"exports build in {args.build_seconds:g} s"
            f"{', 2020 field names' if args.legacy else ''})\n"
            f"  username: {args.username}\n"
            f"  token:    {args.token}\n"
            f"Try:\n"
            f"  curl -u {args.username}:{args.token} '{url}{WHOAMI_PATH}'\n"
            f"Point vidiframe at it:\n"
            f"  export VIDICENTER_URL={url} VIDICENTER_USERNAME={args.username} "
            f"VIDICENTER_TOKEN={args.token}\n"
            f"Press Ctrl-C to stop.\n"
        )
        out.flush()
        if on_ready is not None:
            on_ready(fake)
        try:
            (stop or threading.Event()).wait()
        except KeyboardInterrupt:
            out.write("Stopped.\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run ``serve-fake`` on its own (``python -m vidiframe._cli_serve``)."""
    parser = argparse.ArgumentParser(prog="vidiframe")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["serve-fake", *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
