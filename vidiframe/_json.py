"""Decoding an export response body into its top-level keys and a raw frame of rows.

An export body is ``{"state": ..., "data": [row, row, ...], "creation_date": ...}``
where ``data`` holds up to millions of flat JSON objects. Decoding that with
``json.loads`` and building a frame from a list of dicts costs several seconds per
million rows and several times the body's size in memory. This module decodes it
at the speed of a multi-threaded NDJSON reader instead:

1. find the ``data`` array with a regular expression, and decode the few bytes
   around it (the other top-level keys) with orjson, which proves the match is the
   top-level key;
2. the fast path, for flat rows of known fields (what the API sends): the C pass
   :mod:`vidiframe._rowscan` checks every key against the registry, every
   value's JSON kind against its field's, and the JSON grammar, and copies the
   rows into NDJSON (a newline between rows), a chunk of a few MB at a time;
   Polars' NDJSON reader reads each chunk with the schema that check proved,
   while the next chunk is scanned;
3. otherwise, on the general path (an unknown field, a value of another kind,
   nested lists, a lone surrogate escape, or no compiled accelerator): replace
   each comma that separates two rows (``},{`` or ``}, {``) with a newline (found
   with NumPy, in blocks), and read the NDJSON with pyarrow's multi-threaded JSON
   reader, given the types the registry expects (:class:`ColumnHints`) and
   inferring every other column, unknown ones included.

Every shortcut is checked, and any doubt falls back to a slower path that is
exact: pyarrow without declared types, Polars' strict NDJSON reader, then orjson
on the whole body. Pretty-printed bodies and rows with nested lists are decoded
with orjson and re-encoded one row per line first. A comma
replaced inside a string or a nested list always produces an invalid line
(quotes inside JSON strings are escaped, brackets inside rows balance), so a wrong
guess can only cost time, never change a value. Invalid JSON is never repaired:
it raises :class:`~vidiframe.ResponseFormatError` with orjson's byte position.
"""

from __future__ import annotations

import io
import logging
import os
import re
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Union

import numpy as np
import orjson
import polars as pl
import pyarrow as pa
import pyarrow.json as pa_json

if TYPE_CHECKING:
    from polars._typing import PolarsDataType

from vidiframe._errors import InvalidRequestError, ResponseFormatError

try:
    from vidiframe import _rowscan
except ImportError:  # built without a C compiler: the exact general path does it all
    _rowscan = None  # type: ignore[assignment]

__all__ = ["NO_HINTS", "ColumnHints", "RawResponse", "Source", "decode_response", "read_source"]

#: What :func:`~vidiframe.read_vidicenter` accepts as a saved response.
Source = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, Mapping[str, Any], IO[bytes]]

logger = logging.getLogger("vidiframe")

_DATA_KEY = re.compile(rb'"data"\s*:\s*\[')
_BLANK = re.compile(rb"\s*")
_BLOCK = 1 << 24
# The bytes that separate two rows: "}" "," ["" or " "] "{".
_COMMA, _SPACE, _OPEN, _CLOSE, _NEWLINE = b", {}\n"  # unpacks to byte values


@dataclass(frozen=True)
class ColumnHints:
    """What the registry expects of the rows' fields.

    Attributes
    ----------
    text
        Fields kept as text whatever they look like.
    kinds
        The JSON kind (``int``, ``float``, ``str``, ``bool``) expected of a field.
    nested
        Fields whose values are lists (typed by the reader).
    """

    text: frozenset[str] = frozenset()
    kinds: Mapping[str, str] = field(default_factory=dict)
    nested: frozenset[str] = frozenset()

    def scan_keys(self) -> tuple[tuple[bytes, ...], bytes, tuple[PolarsDataType, ...]]:
        """The keys, kind letters and Polars types of :func:`vidiframe._rowscan.scan`.

        A nested field is declared to take only nulls: a list sends the body to
        the general path, which infers it.
        """
        names = sorted({*self.text, *self.kinds, *self.nested})
        kinds = [_scan_kind(self, name) for name in names]
        return (
            tuple(name.encode() for name in names),
            "".join(kinds).encode(),
            tuple(_SCAN_DTYPES[kind] for kind in kinds),
        )


def _scan_kind(hints: ColumnHints, name: str) -> str:
    if name in hints.text:
        return "s"
    if name in hints.nested:
        return "x"
    return {"int": "i", "float": "f", "str": "s", "bool": "b"}[hints.kinds[name]]


_SCAN_DTYPES: dict[str, PolarsDataType] = {
    "s": pl.String,
    "i": pl.Int64,
    "f": pl.Float64,
    "b": pl.Boolean,
    "x": pl.Null,
}


NO_HINTS = ColumnHints()


@dataclass(frozen=True)
class RawResponse:
    """A decoded response: its top-level keys and its rows as an untyped frame.

    Attributes
    ----------
    meta
        Every top-level key except ``data`` (``state``, ``creation_date``, ...).
    rows
        The ``data`` rows with the types JSON gave them (``None`` when the body
        has no ``data``).
    """

    meta: Mapping[str, Any]
    rows: pl.DataFrame | None


def read_source(source: Source) -> bytes | Mapping[str, Any]:
    """The bytes (or the already decoded dict) of a saved response.

    Parameters
    ----------
    source
        A path (``str`` or path-like), the body as ``bytes`` or as a ``str`` of
        JSON, a decoded ``dict``, or a binary file object.

    Raises
    ------
    InvalidRequestError
        For a source of another type.

    Examples
    --------
    >>> read_source('{"state": "started"}')
    b'{"state": "started"}'
    """
    if isinstance(source, Mapping):
        return source
    if isinstance(source, bytes):
        return source
    if isinstance(source, (bytearray, memoryview)):
        return bytes(source)
    if isinstance(source, str):
        # A str is JSON when it starts like JSON; a path never starts with { or [.
        if source.lstrip()[:1] in ("{", "["):
            return source.encode()
        return Path(source).read_bytes()
    if isinstance(source, os.PathLike):
        return Path(source).read_bytes()
    read = getattr(source, "read", None)
    if callable(read):
        content = read()
        return content.encode() if isinstance(content, str) else bytes(content)
    raise InvalidRequestError(
        f"cannot read a response from {type(source).__name__}; pass a path, bytes, "
        "a str of JSON, a dict or a binary file object"
    )


def decode_response(
    source: bytes | Mapping[str, Any], *, hints: ColumnHints = NO_HINTS
) -> RawResponse:
    """Decode a response body into its top-level keys and its raw rows.

    Parameters
    ----------
    source
        The body, or an already decoded response dict.
    hints
        What the registry expects of the row fields: the ones to keep as text
        whatever they look like (time stamps, parsed by the reader with the API's
        formats), and the JSON kind of the others (which spares the decoder
        inferring them). Hints never change a value: a field that does not match
        its hint is inferred.

    Raises
    ------
    ResponseFormatError
        When the body is not JSON, not an object, or its ``data`` is not a list
        of objects.

    Examples
    --------
    >>> raw = decode_response(b'{"state":"finished","data":[{"a":1},{"a":2}]}')
    >>> raw.meta["state"], raw.rows["a"].to_list()
    ('finished', [1, 2])
    """
    if isinstance(source, Mapping):
        return _from_mapping(source, hints)
    located = _locate_data(source)
    if located is None:
        return _from_mapping(_loads_document(source), hints)
    meta, start, stop = located
    return RawResponse(meta, _rows_from_array(source, start, stop, hints))


def _loads_document(body: bytes) -> Mapping[str, Any]:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise _format_error(body, exc) from None
    if not isinstance(document, dict):
        raise ResponseFormatError(
            f"a response is a JSON object with a 'state' key, not a JSON {type(document).__name__}",
            position=0,
        )
    return document


def _format_error(body: bytes, exc: orjson.JSONDecodeError) -> ResponseFormatError:
    # orjson reports a character position; the contract speaks of bytes.
    char_pos = exc.pos
    byte_pos = len(exc.doc[:char_pos].encode()) if isinstance(exc.doc, str) else char_pos
    excerpt = body[max(0, byte_pos - 30) : byte_pos + 30].decode(errors="replace")
    return ResponseFormatError(
        f"the response is not valid JSON: {exc.msg} at byte {byte_pos} (near {excerpt!r})",
        position=byte_pos,
    )


def _locate_data(body: bytes) -> tuple[dict[str, Any], int, int] | None:
    """Top-level keys other than data, and the span of the data array's contents.

    Returns ``None`` when the shortcut cannot prove where the array is; the caller
    then decodes the whole body.
    """
    match = _DATA_KEY.search(body)
    if match is None:
        return None
    head = body[: match.start()].rstrip()
    try:
        if head == b"{":
            meta: dict[str, Any] = {}
        elif head.endswith(b","):
            meta = orjson.loads(head[:-1] + b"}")
        else:
            return None
    except orjson.JSONDecodeError:
        return None
    if not isinstance(meta, dict):
        return None
    # The array ends at the last "]" after which the rest parses as the object's tail.
    stop = len(body)
    while True:
        stop = body.rfind(b"]", match.end() - 1, stop)
        if stop < 0:
            return None
        tail = body[stop + 1 :].strip()
        try:
            if tail == b"}":
                rest: Any = {}
            elif tail.startswith(b","):
                rest = orjson.loads(b"{" + tail[1:])
            else:
                continue
        except orjson.JSONDecodeError:
            continue
        if isinstance(rest, dict):
            meta.update(rest)
            return meta, match.end(), stop


def _rows_from_array(body: bytes, start: int, stop: int, hints: ColumnHints) -> pl.DataFrame:
    if _BLANK.fullmatch(body, start, stop):
        return pl.DataFrame()
    scanned = _read_scanned(memoryview(body)[start:stop], hints)
    if scanned is not None:
        return scanned
    # The general path: compact bodies are split into lines in place; pretty-printed
    # ones and rows with nested lists (whose inner "},{" break the lines) are
    # decoded, then re-encoded one row per line.
    # (A "\r" alone is whitespace inside a row: it does not break the lines.)
    if body.find(b"\n", start, stop) < 0:
        ndjson, lines = _to_ndjson(memoryview(body)[start:stop])
        frame = _read_ndjson(ndjson, lines, hints)
        if frame is not None:
            return frame
    document = _loads_document(body)
    return _frame_from_rows(document.get("data"), hints)


#: The fast path hands Polars the rows in chunks of about this many bytes: small
#: enough that the allocator reuses their memory (a fresh copy of a whole
#: 400 MB body costs more in page faults than scanning it), large enough for
#: Polars to spread a chunk over its threads.
_CHUNK_BYTES = 16 << 20


def _read_scanned(content: memoryview, hints: ColumnHints) -> pl.DataFrame | None:
    """The fast path: the C pass proves the rows' keys and kinds, Polars reads them.

    Returns ``None`` when the pass declines the body (see :mod:`vidiframe._rowscan`)
    or the accelerator is not built; the caller then takes the general path.
    """
    if _rowscan is None:
        return None
    keys, kinds, dtypes = hints.scan_keys()
    frames = []
    for result in _scanned_chunks(content, keys, kinds):
        if isinstance(result, str):
            # Never the values: the reason names a position, not what is there.
            logger.debug("reading the rows on the general path: %s", result)
            return None
        ndjson, rows, seen, _ = result
        # Only the keys present: a field the body never sends stays absent, as the
        # general path leaves it (the reader then fills it with nulls).
        schema = {
            key.decode(): dtype
            for key, dtype, present in zip(keys, dtypes, seen, strict=True)
            if present
        }
        try:
            frame = pl.read_ndjson(ndjson, schema=schema)
        except pl.exceptions.PolarsError:
            # An integer beyond Int64, a number beyond Float64: the general path decides.
            return None
        if frame.height != rows:
            return None
        frames.append(frame)
    # Chunks may each lack a field: the diagonal concatenation gives it nulls there.
    # Polars reads NDJSON in batches of rows; one chunk per column makes the
    # typing that follows a third faster than it is on hundreds of pieces.
    frame = frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal")
    return frame.rechunk()


def _scanned_chunks(
    content: memoryview, keys: tuple[bytes, ...], kinds: bytes
) -> Iterator[tuple[bytes, int, bytes, int] | str]:
    """The C pass's results, chunk by chunk, until the end or the first decline.

    From the second chunk on, each is scanned on a worker thread while the caller
    reads the previous one (both the pass and Polars release the GIL).
    """
    assert _rowscan is not None
    # A small first chunk: until it is scanned, nothing else can run.
    result = _rowscan.scan(content, keys, kinds, _CHUNK_BYTES // 8)
    if isinstance(result, str) or result[3] == len(content):
        yield result
        return
    with ThreadPoolExecutor(1, thread_name_prefix="vidiframe-scan") as pool:
        start = 0
        while True:
            start += result[3]
            ahead = None
            if start < len(content):
                ahead = pool.submit(_rowscan.scan, content[start:], keys, kinds, _CHUNK_BYTES)
            yield result
            if ahead is None:
                return
            result = ahead.result()
            if isinstance(result, str):
                yield result
                return


def _to_ndjson(content: bytes | memoryview) -> tuple[bytearray, int]:
    """Replace the commas between rows with newlines; return the buffer and its line count.

    Rows end with ``}``, far rarer than commas, so the search starts from those.
    The buffer is scanned in blocks so the scan's masks stay small next to the body.
    """
    buffer = bytearray(content)
    view = np.frombuffer(buffer, dtype=np.uint8)
    size = len(view)
    # Blocks overlap by 3 bytes so a "},{" or "}, {" across a boundary is seen once.
    bounds = [(start, min(start + _BLOCK, size)) for start in range(0, size, _BLOCK)]
    return buffer, sum(_mark_separators(view, start, stop) for start, stop in bounds) + 1


def _mark_separators(view: np.ndarray, start: int, stop: int) -> int:
    block = view[start : min(stop + 3, len(view))]
    closes = np.flatnonzero(block[: stop - start] == _CLOSE)
    closes = closes[closes < len(block) - 3]
    comma = block[closes + 1] == _COMMA
    tight = comma & (block[closes + 2] == _OPEN)
    spaced = comma & (block[closes + 2] == _SPACE) & (block[closes + 3] == _OPEN)
    separators = closes[tight | spaced] + 1
    block[separators] = _NEWLINE
    return len(separators)


def _read_ndjson(ndjson: bytearray | bytes, lines: int, hints: ColumnHints) -> pl.DataFrame | None:
    frame = _read_with_pyarrow(ndjson, lines, hints)
    if frame is None:
        frame = _read_with_polars(ndjson, lines, hints)
    return frame


def _read_with_pyarrow(
    ndjson: bytearray | bytes, lines: int, hints: ColumnHints
) -> pl.DataFrame | None:
    text = [(name, pa.string()) for name in hints.text]
    typed = _typed_hints(ndjson, hints)
    # Declared types spare pyarrow the inference of the known fields (faster, and
    # less memory); a value that defies them makes pyarrow fail, and the body is
    # read again with only the time stamps declared.
    for schema in ([*text, *typed], text) if typed else (text,):
        try:
            table = pa_json.read_json(
                pa.BufferReader(pa.py_buffer(ndjson)),
                read_options=pa_json.ReadOptions(use_threads=True, block_size=1 << 22),
                parse_options=pa_json.ParseOptions(
                    explicit_schema=pa.schema(schema), unexpected_field_behavior="infer"
                ),
                # The system allocator hands freed parse buffers back; pyarrow's
                # default (mimalloc) keeps them, raising the peak by a third of the body.
                memory_pool=pa.system_memory_pool(),
            )
            break
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            continue
    else:
        return None
    # pyarrow is lenient where JSON is not: two objects on one line (a missing
    # comma), NaN/Infinity literals; and it turns text into time stamps. Any of
    # those sends the body to the strict reader.
    if table.num_rows != lines:
        return None
    for column in table.schema:
        if column.name not in hints.text and _has_type(column.type, pa.types.is_timestamp):
            return None
    frame = pl.from_arrow(table, rechunk=False)
    assert isinstance(frame, pl.DataFrame)
    floats = [c for c, t in frame.schema.items() if t == pl.Float64]
    if floats and frame.select(pl.any_horizontal(~pl.col(floats).is_finite()).any()).item():
        return None
    nested = [
        f.name
        for f in table.schema
        if _has_type(f.type, pa.types.is_floating) and pa.types.is_nested(f.type)
    ]
    if nested and (b"NaN" in ndjson or b"Infinity" in ndjson):
        return None
    return frame


_ARROW_KINDS = {"int": pa.int64(), "float": pa.float64(), "str": pa.string(), "bool": pa.bool_()}
_PYTHON_KINDS = {"int": (int,), "float": (int, float), "str": (str,), "bool": (bool,)}


def _typed_hints(ndjson: bytearray | bytes, hints: ColumnHints) -> list[tuple[str, pa.DataType]]:
    """Arrow types for the known fields whose first value has the expected kind.

    A field sent as text in this body (an id as ``"123"``, a ratio as ``"0.242"``)
    is left to inference, so the declared types hold for well-behaved bodies.
    """
    if not hints.kinds:
        return []
    end = ndjson.find(b"\n")
    try:
        first = orjson.loads(bytes(ndjson[: end if end >= 0 else len(ndjson)]))
    except orjson.JSONDecodeError:
        return []
    if not isinstance(first, dict):
        return []
    out = []
    for name, value in first.items():
        kind = hints.kinds.get(name)
        if kind is None or name in hints.text or isinstance(value, bool) != (kind == "bool"):
            continue
        if isinstance(value, _PYTHON_KINDS[kind]):
            out.append((name, _ARROW_KINDS[kind]))
    return out


def _has_type(arrow_type: pa.DataType, predicate: Any) -> bool:
    if predicate(arrow_type):
        return True
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return _has_type(arrow_type.value_type, predicate)
    if pa.types.is_struct(arrow_type):
        return any(
            _has_type(arrow_type.field(i).type, predicate) for i in range(arrow_type.num_fields)
        )
    return False


def _read_with_polars(
    ndjson: bytearray | bytes, lines: int, hints: ColumnHints
) -> pl.DataFrame | None:
    try:
        # Polars keeps time stamps as text by itself.
        frame = pl.read_ndjson(io.BytesIO(ndjson), infer_schema_length=None)
    except pl.exceptions.PolarsError:
        return None
    if frame.height != lines:
        return None
    present = [name for name in hints.text if name in frame.columns]
    if any(frame.schema[name] not in (pl.String, pl.Null) for name in present):
        return None
    return frame


def _check_rows(rows: Any) -> None:
    if not isinstance(rows, list):
        raise ResponseFormatError(
            f"'data' must be a list of rows, not a JSON {type(rows).__name__}", key="data"
        )
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            raise ResponseFormatError(
                f"data[{index}] must be a JSON object, not {orjson.dumps(row).decode()[:60]}",
                key="data",
            )


def _from_mapping(document: Mapping[str, Any], hints: ColumnHints) -> RawResponse:
    meta = {key: value for key, value in document.items() if key != "data"}
    if "data" not in document:
        return RawResponse(meta, None)
    return RawResponse(meta, _frame_from_rows(document["data"], hints))


def _frame_from_rows(rows: Any, hints: ColumnHints) -> pl.DataFrame:
    """Decoded rows to a raw frame: re-encoded one per line for the NDJSON readers."""
    _check_rows(rows)
    if not rows:
        return pl.DataFrame()
    ndjson = b"\n".join(map(orjson.dumps, rows))
    frame = _read_ndjson(ndjson, len(rows), hints)
    return frame if frame is not None else _frame_from_python(rows, hints)


def _frame_from_python(rows: list[dict[str, Any]], hints: ColumnHints) -> pl.DataFrame:
    """Build the raw frame column by column: exact for any mix of value types, but slow."""
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    arrays = {}
    for name in names:
        values = [row.get(name) for row in rows]
        if name in hints.text:
            arrays[name] = pa.array([_as_text(v) for v in values], pa.string())
            continue
        try:
            # pyarrow infers one type from every value (polars would stop early).
            arrays[name] = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
            # Mixed kinds (a number here, text there): keep each value's JSON text.
            arrays[name] = pa.array([_as_text(v) for v in values], pa.string())
    frame = pl.from_arrow(pa.table(arrays))
    assert isinstance(frame, pl.DataFrame)
    return frame


def _as_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return orjson.dumps(value).decode()
