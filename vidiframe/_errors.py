"""Errors and warnings raised by vidiframe.

Every error derives from :class:`VidiFrameError`, so ``except vf.VidiFrameError``
catches everything the library raises on purpose. The HTTP library's own
exceptions never escape: they are wrapped in :class:`TransportError`.

::

    VidiFrameError
    ├── InvalidRequestError (ValueError)      bad arguments, raised before any request
    │   └── InsecureURLError                  http:// to a non-loopback host
    ├── ResponseError                         a response that cannot become a frame
    │   ├── ResponseFormatError (ValueError)  not JSON, no ``state``, ``data`` not a list
    │   ├── ExportNotReadyError               ``state`` is ``started`` / ``in_progress``
    │   └── ExportFailedError                 ``state`` is ``failed`` (carries ``fail_reason``)
    ├── SchemaError (ValueError)              a value that cannot take its column's type
    │   └── WrongExportError                  the body is another export type's (names it)
    ├── DatasetError                          a Parquet dataset that cannot be written or read
    │   ├── SchemaConflictError (SchemaError) a frame whose schema differs from the dataset's
    │   └── StorageFaultError                 a request to the object store failed
    ├── MissingDependencyError (ImportError)  an optional dependency is missing; names the extra
    ├── AuthenticationError                   401 / 403, never retried
    └── TransportError                        connection failures, 5xx after the retries
        └── RateLimitError                    429 after the retries

Warnings (subclasses of :class:`VidiFrameWarning`, itself a ``UserWarning``):

::

    VidiFrameWarning
    ├── UnknownFieldWarning   the response has a field the registry does not know
    ├── UnknownCodeWarning    a coded field holds a code without a documented label
    ├── UnmatchedIdWarning    ids of a frame that a dimension (names, time zones) lacks,
    │                         or that a scan's filter asks for and its sources lack
    ├── OutOfRangeWarning     a chunk returned rows outside its range: dropped, counted
    └── DroppedColumnsWarning columns of a frame left out of a dataset (schema_mode="drop")
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AuthenticationError",
    "DatasetError",
    "DroppedColumnsWarning",
    "ExportFailedError",
    "ExportNotReadyError",
    "InsecureURLError",
    "InvalidRequestError",
    "MissingDependencyError",
    "OutOfRangeWarning",
    "RateLimitError",
    "ResponseError",
    "ResponseFormatError",
    "SchemaConflictError",
    "SchemaError",
    "TransportError",
    "UnknownCodeWarning",
    "UnknownFieldWarning",
    "UnmatchedIdWarning",
    "VidiFrameError",
    "VidiFrameWarning",
    "WrongExportError",
]


class VidiFrameError(Exception):
    """Base class of every error vidiframe raises."""


class InvalidRequestError(VidiFrameError, ValueError):
    """An argument or combination of arguments the API would refuse.

    Raised before any request is sent.
    """


class InsecureURLError(InvalidRequestError):
    """A plain ``http://`` base URL that points to a host other than loopback.

    VidiCenter revokes a token that is sent over plain http, so this is refused
    before a socket is opened.
    """


class ResponseError(VidiFrameError):
    """A response that cannot be turned into a frame."""


class ResponseFormatError(ResponseError, ValueError):
    """The body is not JSON, or has no ``state``, or its ``data`` is not a list.

    Attributes
    ----------
    position
        Byte offset of the problem in the body, when known.
    key
        The key that is missing or malformed, when relevant.
    """

    def __init__(self, message: str, *, position: int | None = None, key: str | None = None):
        super().__init__(message)
        self.position = position
        self.key = key


class ExportNotReadyError(ResponseError):
    """The export is still being built (``state`` is ``started`` or ``in_progress``)."""

    def __init__(self, message: str, *, state: str):
        super().__init__(message)
        self.state = state


class ExportFailedError(ResponseError):
    """The export failed on the server (``state`` is ``failed``).

    Attributes
    ----------
    fail_reason
        The server's ``fail_reason``, or ``None`` when it gave none.
    query
        The query whose export failed, when known.
    """

    def __init__(self, message: str, *, fail_reason: str | None, query: Any = None):
        super().__init__(message)
        self.fail_reason = fail_reason
        self.query = query


class SchemaError(VidiFrameError, ValueError):
    """A value that cannot be converted to its column's type, or a schema mismatch.

    Attributes
    ----------
    column, value, row
        What failed and where, when known (``row`` is the 0-based index in ``data``).
    """

    def __init__(
        self,
        message: str,
        *,
        column: str | None = None,
        value: Any = None,
        row: int | None = None,
    ):
        super().__init__(message)
        self.column = column
        self.value = value
        self.row = row


class WrongExportError(SchemaError):
    """The response is another export type's than the one asked for.

    Raised when some of the body's fields are not the requested export's and
    every field is another export's (an OTS body read with ``data_type="viewers"``),
    rather than returning a frame of null metrics.

    Attributes
    ----------
    likely
        The ``(data_type, granularity)`` of the exports the body fits, the most
        likely first.
    """

    def __init__(
        self, message: str, *, likely: tuple[tuple[str, str], ...], column: str | None = None
    ):
        super().__init__(message, column=column)
        self.likely = likely


class DatasetError(VidiFrameError):
    """A Parquet dataset that cannot be written or read as asked."""


class SchemaConflictError(DatasetError, SchemaError):
    """A frame whose schema conflicts with the dataset it is written to."""


class StorageFaultError(DatasetError):
    """A request to the object store that failed: network, credentials, a missing bucket.

    Worth trying again later, unlike a dataset that cannot be read as asked. Its
    own type also lets a writer's lease tell a failed request (the lease stays
    valid until its expiry, the next renewal tries again) from any other error.
    """


class MissingDependencyError(VidiFrameError, ImportError):
    """An optional feature whose dependency is not installed.

    The message names the extra that installs it (``pip install 'vidiframe[lake]'``).

    Attributes
    ----------
    module
        The missing top-level module.
    extra
        The extra of ``vidiframe`` that declares it.
    """

    def __init__(self, message: str, *, module: str, extra: str):
        super().__init__(message)
        self.module = module
        self.extra = extra


class AuthenticationError(VidiFrameError):
    """The server refused the credentials (401) or the access (403). Never retried."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status


class TransportError(VidiFrameError):
    """The server could not be reached or kept failing (5xx) after the retries."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status


class RateLimitError(TransportError):
    """The server kept answering 429 after the retries."""


class VidiFrameWarning(UserWarning):
    """Base class of the warnings vidiframe emits."""


class UnknownFieldWarning(VidiFrameWarning):
    """A response field the registry does not know; it is kept as a column."""


class UnknownCodeWarning(VidiFrameWarning):
    """A coded field holds a code without a documented label; the label is null."""


class UnmatchedIdWarning(VidiFrameWarning):
    """Ids of a frame that the dimension joined to it does not have.

    Their rows are kept, with null names (or a null UTC time); the message names
    the ids. :func:`~vidiframe.scan_vidicenter` warns with it too, for ids its
    filter asks for that the scan's sources do not hold (no row can have them),
    and for a site of ``sites=`` that the topology does not have.

    Attributes
    ----------
    column
        The id column (``location_id``, ``site_id``, ``content_id`` ...).
    ids
        The ids without a match, sorted.
    """

    def __init__(self, message: str, *, column: str = "", ids: tuple[object, ...] = ()):
        super().__init__(message)
        self.column = column
        self.ids = ids


class OutOfRangeWarning(VidiFrameWarning):
    """A chunk's response held rows outside the chunk's time range; they were dropped.

    The neighbouring chunk covers those times and returns the same rows: kept,
    they would be duplicates. The message gives the chunk and how many rows.
    """


class DroppedColumnsWarning(VidiFrameWarning):
    """Columns of a frame that a dataset does not have were left out (``schema_mode="drop"``).

    Attributes
    ----------
    columns
        The names of the columns left out.
    """

    def __init__(self, message: str, *, columns: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.columns = columns
