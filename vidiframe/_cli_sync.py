"""``vidiframe sync``: keep Parquet datasets up to date from a TOML configuration.

The main command line (``vidiframe._cli``) calls :func:`register` to add the
subcommand; the parsed arguments carry ``func``, which runs it and returns the
exit code. Credentials come from ``VIDICENTER_USERNAME`` / ``VIDICENTER_TOKEN``
(and ``VIDICENTER_URL``), then ``~/.netrc``, as for every command that fetches.
See :mod:`vidiframe._sync` for the configuration and what a run does.

Exit codes: 0 when every dataset is up to date (or on a dry run), 2 for an
invalid configuration, 1 on another error (the batches written before it stay;
a failed dimension snapshot is such an error, reported once the exports are
done), 130 when interrupted (run the same command again to resume).

Examples
--------
>>> import argparse
>>> parser = argparse.ArgumentParser(prog="vidiframe")
>>> _ = register(parser.add_subparsers(dest="command"))
>>> args = parser.parse_args(["sync", "lake.toml", "--today", "2025-03-01", "--dry-run"])
>>> args.config, args.today, args.trailing_days, args.dry_run, args.func is run_sync
('lake.toml', datetime.date(2025, 3, 1), None, True, True)
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import sys
from typing import TYPE_CHECKING, Any, TextIO

from vidiframe._cli import _client, add_client_options, check_writable
from vidiframe._errors import VidiFrameError
from vidiframe._hints import date_problem

if TYPE_CHECKING:
    from vidiframe._client import VidiCenterClient
    from vidiframe._sync import BatchResult, SnapshotResult

__all__ = ["register", "run_sync"]

_EXAMPLE = """\
configuration (TOML):
  root = "lake"              # datasets go to lake/<name>, relative to this file,
                             # or a URL: "s3://bucket/lake" with a [storage_options] table
  first_day = 2025-01-01
  trailing_days = 3          # fetched again by every run (late uploads)
  # format = "parquet"       # or "delta"
  # schema_mode = "evolve"   # a new API field: evolve | error | drop
  dimensions = ["locations", "sites", "networks"]
                             # a snapshot a day in lake/dimensions/<name>

  [[export]]
  data_type = "viewers"
  time_resolution = "1h"
  locations = [4636, 4637]   # or sites, location_tags, site_tags

Credentials: VIDICENTER_USERNAME / VIDICENTER_TOKEN (VIDICENTER_URL), or ~/.netrc.
Exit codes: 0 done, 1 error, 2 invalid configuration, 130 interrupted (run again
to resume: finished batches are kept).
"""


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``sync`` subcommand to an :mod:`argparse` subparsers object.

    Parameters
    ----------
    subparsers
        What ``ArgumentParser.add_subparsers()`` returned.

    Returns
    -------
    argparse.ArgumentParser
        The subcommand's parser; its defaults set ``func`` to :func:`run_sync`.
    """
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "sync",
        help="keep Parquet datasets up to date: fetch missing days, refetch recent ones",
        description=(
            "Bring the datasets of a TOML configuration up to date: fetch the days "
            "they miss, fetch the last trailing days again (late uploads), write each "
            "batch as it arrives. An interrupted run resumes where it stopped."
        ),
        epilog=_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("config", help="the TOML configuration file")
    parser.add_argument(
        "--today",
        type=_day,
        metavar="YYYY-MM-DD",
        help="the day of the run: days before it are fetched (default: today)",
    )
    parser.add_argument(
        "--trailing-days",
        type=_days,
        metavar="N",
        help="refetch the last N days of every export, overriding the configuration "
        "(a larger N re-fetches older days once)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print what would be fetched; fetch nothing"
    )
    add_client_options(parser)
    parser.set_defaults(func=run_sync)
    return parser


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} {date_problem(text, expected='a date (YYYY-MM-DD)')}"
        ) from None


def _days(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days (0 or more)")
    return value


def run_sync(
    args: argparse.Namespace,
    *,
    client: VidiCenterClient | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run ``vidiframe sync``; return the exit code.

    Errors of vidiframe propagate to :func:`vidiframe._cli.main`, which prints
    them; before that, this says which batches were written and are kept.

    Parameters
    ----------
    args
        The parsed ``sync`` arguments.
    client
        The client to fetch with (default: built from the connection options,
        the environment and ``~/.netrc``).
    out, err
        Where the report and the interruption notice go (default ``sys.stdout``
        / ``sys.stderr``).
    """
    from vidiframe._sync import SyncConfig, sync

    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    done: list[BatchResult] = []
    snapshots: list[SnapshotResult] = []

    def on_batch(result: BatchResult) -> None:
        # Printed as it happens: a long run shows progress, and an interrupted one
        # has already said what it wrote.
        done.append(result)
        out.write(result.describe() + "\n")
        out.flush()

    def on_snapshot(result: SnapshotResult) -> None:
        snapshots.append(result)
        out.write(result.describe() + "\n")
        out.flush()

    config = SyncConfig.load(args.config)
    if args.trailing_days is not None:
        config = config.with_trailing_days(args.trailing_days)
    if not args.dry_run:
        # Before the first request: a root nobody can write is a configuration error.
        check_writable(config.root, what=f"root in {args.config}", is_dir=True)
    try:
        with contextlib.ExitStack() as stack:
            if client is None and not args.dry_run:
                client = stack.enter_context(_client(args, **_cache_options(args)))
            report = sync(
                config,
                client=client,
                today=args.today,
                progress=args.progress,
                dry_run=args.dry_run,
                on_batch=on_batch,
                on_snapshot=on_snapshot,
            )
    except KeyboardInterrupt:
        err.write(
            f"vidiframe sync: interrupted; {len(done)} batch(es) written are kept: "
            "run the same command again to fetch the rest\n"
        )
        return 130
    except VidiFrameError as error:
        failed = [s.dimension for s in snapshots if not s.ok]
        if any(s.error is error for s in snapshots):
            # Raised once the exports were done: say so, or the user would rerun for them.
            err.write(
                f"vidiframe sync: the snapshot of {', '.join(failed)} failed (earlier "
                f"snapshots are kept); the exports went on ({len(done)} batch(es) written): "
                "run the same command again to take it\n"
            )
        elif done:
            err.write(
                f"vidiframe sync: {len(done)} batch(es) written before the error are kept: "
                "run the same command again to fetch the rest\n"
            )
        raise

    if report.dry_run:
        out.write(f"dry run for {report.today}: nothing is fetched\n")
        for plan in report.plans:
            out.write(f"{plan.describe()}\n  into {plan.export.path}\n")
    elif not report.results:
        out.write("up to date: nothing to fetch\n")
    out.write("\n" + report.summary() + "\n")
    return 0


def _cache_options(args: argparse.Namespace) -> dict[str, Any]:
    if args.no_cache:
        return {"cache_dir": None}
    if args.cache_dir is not None:
        return {"cache_dir": args.cache_dir}
    return {}
