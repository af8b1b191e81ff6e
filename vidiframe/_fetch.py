"""Fetching a whole request online: validate, plan chunks, run them, concatenate.

:func:`read_online` is what :func:`~vidiframe.read_vidicenter` calls when no saved
response is given. Everything is validated before the first request; the request
is cut into chunks (:class:`~vidiframe._chunking.ChunkPlanner`); the chunks run
on a few threads through one :class:`~vidiframe.VidiCenterClient`, which keeps
at most 3 exports building and 2 connections open and shares its 50-calls-a-
minute budget between them. Each finished chunk is cached before it is parsed,
so an interrupted read re-run later only fetches what was missing. Frames are
concatenated in chunk order.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import sys
import threading
import warnings
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import polars as pl

from vidiframe._chunking import Chunk, is_row_limit_failure
from vidiframe._errors import (
    ExportFailedError,
    InvalidRequestError,
    OutOfRangeWarning,
    ResponseError,
)
from vidiframe._policies import BuildTimeEstimator
from vidiframe._query import make_query
from vidiframe._reader import parse_response

if TYPE_CHECKING:
    import datetime as dt

    from tqdm import tqdm as Tqdm  # noqa: N812 - the type, not the function

    from vidiframe._client import VidiCenterClient
    from vidiframe._query import ExportQuery
    from vidiframe._registry import ExportSpec

__all__ = ["read_online"]

logger = logging.getLogger("vidiframe")

# What the progress bar shows for each state a chunk reports.
_SHOWN_AS = {
    "queued": "queued",
    "started": "building",
    "in_progress": "building",
    "finished": "built",
    "downloading": "downloading",
    "downloaded": "done",
    "cached": "cached",
    "failed": "failed",
    "split": "split",
}
# Calls a chunk in each shown state needs at least to finish: start, a poll that
# finds it finished, the download.
_CALLS_STILL_NEEDED = {"queued": 3, "building": 2, "built": 1, "downloading": 1}
_SHOWN_ORDER = ("queued", "building", "built", "downloading", "done", "cached", "split", "failed")


def read_online(
    *,
    data_type: str,
    time_resolution: str,
    group_by_demographics: bool = False,
    placeholders: str = "keep",
    strict: bool = False,
    start: dt.datetime | dt.date | str | None = None,
    end: dt.datetime | dt.date | str | None = None,
    locations: Any = None,
    sites: Any = None,
    location_tags: Any = None,
    site_tags: Any = None,
    content_ids: Any = None,
    extrapolation_amount: int | str | None = None,
    average_content_duration: float | None = None,
    force_rebuild: bool = False,
    client: VidiCenterClient | None = None,
    progress: bool | None = None,
    estimator: BuildTimeEstimator | None = None,
    cancel: threading.Event | None = None,
) -> pl.DataFrame:
    """Fetch an export from VidiCenter into its typed frame.

    Parameters are those of :func:`~vidiframe.read_vidicenter`; ``client=None``
    builds a :class:`~vidiframe.VidiCenterClient` from the environment (and closes
    it afterwards), ``progress=None`` shows the bar in a terminal or notebook.
    ``estimator`` shares what builds took with other reads running beside this
    one (``sync`` passes one to reads of similar size); default: one for this
    read's chunks only. ``cancel``, set by another thread, abandons the read at
    its chunks' next request or wait (``sync`` sets it when it stops early).

    Returns
    -------
    polars.DataFrame
        The chunks' frames in chunk order (time order; source batches within).

    Raises
    ------
    InvalidRequestError
        Before any request, for any invalid argument.
    ExportFailedError
        A chunk failed on the server for another reason than its size, or could
        not be split further.
    AuthenticationError, RateLimitError, TransportError, ExportNotReadyError
        From the client.

    Examples
    --------
    Against the fake server, in process and on a manual clock (no waiting):

    >>> from vidiframe._client import VidiCenterClient
    >>> from vidiframe.testing import FakeVidiCenter, ManualClock
    >>> clock = ManualClock()
    >>> with FakeVidiCenter(clock=clock, serve=False) as fake:
    ...     client = VidiCenterClient("demo", "demo-token", fake.url, transport=fake.transport(),
    ...                               clock=clock, sleep=clock.sleep, cache_dir=None)
    ...     df = read_online(data_type="ots", time_resolution="1h", start="2025-01-01",
    ...                      end="2025-01-02", locations=[4636], client=client, progress=False)
    >>> df.height, df["period_start"].min(), df["period_start"].max()
    (48, datetime.datetime(2025, 1, 1, 0, 0), datetime.datetime(2025, 1, 2, 23, 0))
    >>> fake.builds_started(), fake.downloads  # one build, polled, downloaded once
    (1, 1)
    """
    query = make_query(
        data_type=data_type,
        time_resolution=time_resolution,
        start=start,
        end=end,
        locations=locations,
        sites=sites,
        location_tags=location_tags,
        site_tags=site_tags,
        content_ids=content_ids,
        extrapolation_amount=extrapolation_amount,
        average_content_duration=average_content_duration,
        group_by_demographics=group_by_demographics,
    )
    for name, value in (("force_rebuild", force_rebuild), ("strict", strict)):
        if not isinstance(value, bool):
            raise InvalidRequestError(f"{name} must be True or False, got {value!r}")
    if placeholders not in ("keep", "drop"):
        raise InvalidRequestError(f'placeholders must be "keep" or "drop", got {placeholders!r}')
    if progress is not None and not isinstance(progress, bool):
        raise InvalidRequestError(f"progress must be True, False or None, got {progress!r}")

    from vidiframe._client import VidiCenterClient

    if client is not None and not isinstance(client, VidiCenterClient):
        raise InvalidRequestError(f"client must be a VidiCenterClient, got {type(client).__name__}")
    own_client = client is None
    active = client if client is not None else VidiCenterClient()
    try:
        chunks = _plan(active, query, "reading")
        run = _ChunkRun(
            active,
            query.spec,
            label=f"{query.data_type}/{query.time_resolution}",
            force_rebuild=force_rebuild,
            placeholders=placeholders,
            strict=strict,
            progress=_interactive() if progress is None else progress,
            estimator=estimator,
            cancel=cancel,
        )
        frames = run.run(chunks)
    finally:
        if own_client:
            active.close()
    return _concat(frames)


def _plan(active: VidiCenterClient, query: ExportQuery, doing: str) -> list[Chunk]:
    """The query's chunks, as the client's planner cuts them, logged as ``doing`` them."""
    chunks = active.planner.plan(query)
    logger.info(
        "%s %s in %d chunk(s) (about %d rows)",
        doing,
        query.describe(),
        len(chunks),
        sum(c.estimated_rows for c in chunks),
    )
    return chunks


class _ChunkRun:
    """The chunks of one read, run on threads that share one client."""

    def __init__(
        self,
        client: VidiCenterClient,
        spec: ExportSpec,
        *,
        label: str,
        force_rebuild: bool,
        placeholders: str,
        strict: bool,
        progress: bool,
        estimator: BuildTimeEstimator | None = None,
        cancel: threading.Event | None = None,
    ):
        self.client = client
        self.spec = spec
        self.label = label
        self.force_rebuild = force_rebuild
        self.placeholders = placeholders
        self.strict = strict
        self.progress = progress
        self.estimator = (
            estimator
            if estimator is not None
            else BuildTimeEstimator(spare_calls=self._spare_calls)
        )
        self.cancel = cancel if cancel is not None else threading.Event()
        self._states: dict[tuple[int, ...], str] = {}
        self._lock = threading.Lock()
        self._bar: Tqdm | None = None
        self._warned: set[tuple[type[Warning], str]] = set()
        self._bounds: tuple[dt.datetime, dt.datetime] | None = None

    def run(self, chunks: list[Chunk]) -> list[pl.DataFrame]:
        """Fetch and parse every chunk; return the frames in chunk order."""
        first, last = chunks[0].query, chunks[-1].query
        self._bounds = (first.start, last.end)
        limits = self.client.limits
        frames: dict[tuple[int, ...], pl.DataFrame] = {}
        # More workers than export slots: a chunk downloading has given its slot back,
        # and the next chunk should start building meanwhile.
        workers = limits.exports + limits.connections
        self._bar = _progress_bar(self.label, len(chunks), enabled=self.progress)
        executor = cf.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="vidiframe")
        pending: dict[cf.Future[bytes], Chunk] = {}

        def submit(chunk: Chunk) -> None:
            self._set_state(chunk, "queued")
            pending[executor.submit(self._fetch, chunk)] = chunk

        try:
            for chunk in chunks:
                submit(chunk)
            while pending:
                done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                for future in sorted(done, key=lambda f: pending[f].order):
                    chunk = pending.pop(future)
                    try:
                        body = future.result()
                    except ExportFailedError as error:
                        halves = self._split(chunk, error)
                        for half in halves:
                            submit(half)
                        continue
                    frames[chunk.order] = self._parse(chunk, body)
                    self._advance()
        except BaseException:
            # KeyboardInterrupt included: stop the workers at their next request or
            # wait. Chunks already downloaded are in the cache, so a re-run resumes.
            self.cancel.set()
            for future in pending:
                future.cancel()
            raise
        finally:
            executor.shutdown(wait=True, cancel_futures=True)
            if self._bar is not None:
                self._bar.close()
        return [frames[order] for order in sorted(frames)]

    # -- in the workers ------------------------------------------------------------------

    def _fetch(self, chunk: Chunk) -> bytes:
        return self.client.fetch_export(
            chunk.query,
            force_rebuild=self.force_rebuild,
            estimator=self.estimator,
            on_state=lambda state: self._set_state(chunk, state),
            cancel=self.cancel,
        )

    def _spare_calls(self) -> int:
        """Calls the budget has now beyond those the unfinished chunks still need."""
        with self._lock:
            needed = sum(_CALLS_STILL_NEEDED.get(s, 0) for s in self._states.values())
        return self.client.budget.headroom() - needed

    def _set_state(self, chunk: Chunk, state: str) -> None:
        with self._lock:
            self._states[chunk.order] = _SHOWN_AS.get(state, state)
            if self._bar is not None and not self._bar.disable:
                counts = Counter(self._states.values())
                self._bar.set_postfix_str(
                    " ".join(f"{name}={counts[name]}" for name in _SHOWN_ORDER if counts[name]),
                    refresh=False,
                )

    # -- in the calling thread ---------------------------------------------------------------

    def _split(self, chunk: Chunk, error: ExportFailedError) -> list[Chunk]:
        if not is_row_limit_failure(error.fail_reason):
            self._set_state(chunk, "failed")
            raise error
        halves = self.client.planner.split(chunk)
        if not halves:
            self._set_state(chunk, "failed")
            raise ExportFailedError(
                f"{error} (the chunk {chunk.query.describe()} cannot be split further)",
                fail_reason=error.fail_reason,
                query=chunk.query,
            ) from error
        logger.warning(
            "chunk %s failed for its size (%s): split into %s",
            chunk.label(),
            error.fail_reason,
            ", ".join(h.query.describe() for h in halves),
        )
        self._set_state(chunk, "split")
        if self._bar is not None:
            self._bar.total += len(halves) - 1
            self._bar.refresh()
        return halves

    def _parse(self, chunk: Chunk, body: bytes) -> pl.DataFrame:
        try:
            with warnings.catch_warnings(record=True) as caught:
                # Recorded, then re-issued once per message: twelve chunks with the
                # same unknown field make one warning, not twelve.
                warnings.simplefilter("always")
                frame = parse_response(
                    body,
                    self.spec,
                    placeholders=self.placeholders,  # type: ignore[arg-type]
                    strict=self.strict,
                )
        except ResponseError:
            # A body the reader refuses must not be served again from the cache.
            self.client.forget(chunk.query)
            raise
        self._reissue(caught)
        return self._within_range(chunk, frame)

    def _reissue(self, caught: Iterable[warnings.WarningMessage]) -> None:
        for w in caught:
            key = (w.category, str(w.message))
            if key in self._warned:
                continue
            self._warned.add(key)
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)

    def _within_range(self, chunk: Chunk, frame: pl.DataFrame) -> pl.DataFrame:
        """Drop (and count in a warning) rows outside the chunk's inner boundaries.

        A chunk's ``[start, end]`` meets its neighbour's: a row before ``start``
        (or after ``end``) belongs to the neighbour, which returns it too. A
        server that broke the range rule would otherwise put the row in the frame
        twice. The read's own outer bounds are left alone: there, the server's
        rule for a period straddling ``start`` is the user's business, and no
        other chunk returns those rows.
        """
        if "period_start" not in frame.columns or frame.is_empty() or self._bounds is None:
            return frame
        lo, hi = self._bounds
        query = chunk.query
        times = pl.col("period_start")
        outside = pl.lit(False)
        if query.start > lo:
            outside = outside | (times < query.start)
        if query.end < hi:
            outside = outside | (times > query.end)
        # A row without a time is nobody's duplicate: it stays.
        outside = outside.fill_null(False)
        count = int(frame.select(outside.sum()).item())
        if not count:
            return frame
        warnings.warn(
            f"chunk {chunk.label()} ({query.describe()}) returned {count} row(s) outside its "
            f"range {query.start.isoformat()}..{query.end.isoformat()}: dropped, the "
            "neighbouring chunk returns them",
            OutOfRangeWarning,
            stacklevel=2,
        )
        return frame.filter(~outside)

    def _advance(self) -> None:
        if self._bar is not None:
            self._bar.update(1)


def _concat(frames: list[pl.DataFrame]) -> pl.DataFrame:
    if len(frames) == 1:
        return frames[0]
    schemas = {tuple(f.schema.items()) for f in frames}
    if len(schemas) == 1:
        return pl.concat(frames, how="vertical", rechunk=True)
    # Only fields the registry does not know can differ between chunks (present in
    # some, absent or typed differently in others); known columns always agree.
    return pl.concat(frames, how="diagonal_relaxed", rechunk=True)


def _interactive() -> bool:
    """Whether a progress bar would be seen: a notebook, or stderr is a terminal.

    A log redirected to a file or a pipe is neither: nothing is drawn into it.
    """
    if _in_notebook():
        return True
    stream = sys.stderr
    isatty = getattr(stream, "isatty", None)
    return stream is not None and isatty is not None and bool(isatty())


def _in_notebook() -> bool:
    """Whether this runs in a Jupyter kernel (a notebook), not a terminal IPython."""
    ipython = sys.modules.get("IPython")  # only ever imported by IPython itself
    get_ipython = getattr(ipython, "get_ipython", None)
    shell = get_ipython() if callable(get_ipython) else None
    return type(shell).__name__ == "ZMQInteractiveShell"


def _progress_bar(label: str, total: int, *, enabled: bool, unit: str = "chunk") -> Tqdm:
    return _bar_class(enabled=enabled)(
        total=total,
        desc=label,
        unit=unit,
        disable=not enabled,
        leave=True,
        dynamic_ncols=True,
    )


def _bar_class(*, enabled: bool) -> type[Tqdm]:
    """A widget bar in a notebook that has ipywidgets, a text bar anywhere else."""
    if enabled and _in_notebook() and _has_widgets():
        from tqdm.notebook import tqdm as notebook_bar

        return notebook_bar
    from tqdm import tqdm as terminal_bar

    return terminal_bar


def _has_widgets() -> bool:
    """Whether ipywidgets is there for notebook bars; if not, say once how to get it."""
    from vidiframe._errors import MissingDependencyError, VidiFrameWarning
    from vidiframe._optional import require

    try:
        require("ipywidgets", extra="notebooks")
    except MissingDependencyError as error:
        # A text bar still works in a notebook: a hint, not a failure.
        warnings.warn(f"progress bars fall back to text: {error}", VidiFrameWarning, stacklevel=2)
        return False
    return True
