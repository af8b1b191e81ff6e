"""Decoding an export response body into its top-level keys and a raw frame of rows.

An export body is ``{"state": ..., "data": [row, row, ...], "creation_date": ...}``
where ``data`` holds up to millions of flat JSON objects. Decoding that with
``json.loads`` and building a frame from a list of dicts costs several seconds per
million rows. This module decodes it with compiled libraries, exactly:

1. find the ``data`` array with a regular expression, and decode the few bytes
   around it (the other top-level keys) with msgspec, as the general path does,
   which proves the match is the top-level key (and that it is the only one);
2. the fast path, for flat compact rows of the fields the registry expects (what
   the API sends): the array is cut at row separators into pieces of a few MB,
   read side by side on threads; in each piece the commas between rows become
   newlines, and pyarrow's JSON reader reads the lines with an explicit schema
   built from the registry (:class:`ColumnHints`) and
   ``unexpected_field_behavior="error"``. Lists of flat objects the registry
   describes (``contents``) are read typed too; the rows are then cut before
   their first key, which only a row starts with.
   That reader is strict where it matters: a key the schema does not name, a key
   given twice, a value of another JSON kind, an integer outside Int64, a lone
   surrogate escape each make it fail, and the body goes to the general path.
   What it lets through is checked after it: one row per line (two objects on one
   line, or a comma replaced inside a string, change the count), valid UTF-8,
   finite floats (it accepts ``NaN`` literals), no negative zero (it reads the
   integer ``-0`` as ``-0.0``). Unknown fields whose first value
   is a number, a text or a boolean are declared from the first row, so a body
   with a field the registry does not know yet stays on this path. A
   pretty-printed body is first copied onto one line by msgspec (whitespace
   only, token for token) and that copy takes the fast path;
3. the general path, for everything else: msgspec decodes the whole body (exact
   integers of any size, the last of duplicate keys as Python's ``json`` keeps it,
   strict UTF-8, no lone surrogates, a nesting limit instead of a crash), and the
   columns are built from the values, each one exactly or not at all
   (:func:`_column`).

Invalid JSON is never repaired: it raises :class:`~vidiframe.ResponseFormatError`
with the byte position. A value that no column type can hold exactly raises
:class:`~vidiframe.SchemaError` naming the column, the value and the row.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import struct
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Union

import msgspec
import orjson
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from vidiframe._errors import InvalidRequestError, ResponseFormatError, SchemaError

__all__ = ["NO_HINTS", "ColumnHints", "RawResponse", "Source", "decode_response", "read_source"]

#: What :func:`~vidiframe.read_vidicenter` accepts as a saved response.
Source = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, Mapping[str, Any], IO[bytes]]

logger = logging.getLogger("vidiframe")

_DATA_KEY = re.compile(rb'"data"\s*:\s*\[')
_BLANK = re.compile(rb"\s*")
_BOM = b"\xef\xbb\xbf"
_INT64 = (-(2**63), 2**63 - 1)


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
        Fields whose values are lists or objects (typed by the reader).
    elements
        For a nested field that is a list of objects: the JSON kind of each of the
        objects' fields, under every name it is sent as, or for a field that is a
        list of objects itself, its own such mapping.
    """

    text: frozenset[str] = frozenset()
    kinds: Mapping[str, str] = field(default_factory=dict)
    nested: frozenset[str] = frozenset()
    elements: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def kind_of(self, name: str) -> str | None:
        """The JSON kind a field is read as: ``str`` for text, ``None`` if unknown.

        Examples
        --------
        >>> ColumnHints(text=frozenset({"t"}), kinds={"n": "int"}).kind_of("t")
        'str'
        """
        if name in self.text:
            return "str"
        if name in self.nested:
            return "list"
        return self.kinds.get(name)


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


# -- sources ----------------------------------------------------------------------------------


def read_source(source: Source) -> bytes | Mapping[str, Any]:
    r"""The bytes (or the already decoded dict) of a saved response.

    Parameters
    ----------
    source
        A path (``str`` or path-like), the body as ``bytes`` or as a ``str`` of
        JSON, a decoded ``dict``, or a binary file object.

    Raises
    ------
    InvalidRequestError
        For a source of another type, or a ``str`` that is neither JSON nor the
        path of an existing file.
    ResponseFormatError
        When the file cannot be read.

    Examples
    --------
    >>> read_source('\ufeff{"state": "started"}')
    b'{"state": "started"}'
    """
    if isinstance(source, Mapping):
        return source
    if isinstance(source, bytes):
        return source
    if isinstance(source, (bytearray, memoryview)):
        return bytes(source)
    if isinstance(source, str):
        # A byte-order mark is not part of the JSON (RFC 8259 lets a parser ignore it).
        text = source.removeprefix("\ufeff")
        # A str is JSON when it starts like JSON; a path never starts with { or [.
        if text.lstrip()[:1] in ("{", "["):
            return _encode_text(text)
        return _read_file(source, given_as_str=True)
    if isinstance(source, os.PathLike):
        return _read_file(source, given_as_str=False)
    read = getattr(source, "read", None)
    if callable(read):
        content = read()
        return _encode_text(content) if isinstance(content, str) else bytes(content)
    raise InvalidRequestError(
        f"cannot read a response from {type(source).__name__}; pass a path, bytes, "
        "a str of JSON, a dict or a binary file object"
    )


def _encode_text(text: str) -> bytes:
    try:
        return text.encode()
    except UnicodeEncodeError as exc:
        # A str can hold a lone surrogate; JSON text cannot.
        raise ResponseFormatError(
            f"the response text holds a lone surrogate at character {exc.start}",
            position=len(text[: exc.start].encode(errors="surrogatepass")),
        ) from None


def _read_file(path: str | os.PathLike[str], *, given_as_str: bool) -> bytes:
    shown = os.fspath(path)
    shown = shown if len(shown) <= 60 else "..." + shown[-57:]
    try:
        file = Path(path)
        exists = file.is_file()
    except (OSError, ValueError):  # a NUL byte, a name too long for the system
        exists = False
    if given_as_str and not exists:
        raise InvalidRequestError(
            f"the source {shown!r} is neither JSON (which starts with '{{' or '[') nor the path "
            "of an existing file"
        )
    try:
        return file.read_bytes()
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InvalidRequestError(f"cannot read the response file {shown!r}: {reason}") from None


# -- the body ---------------------------------------------------------------------------------


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
        its hint is read as it is sent.

    Raises
    ------
    ResponseFormatError
        When the body is not JSON, not an object, has ``data`` twice, or its
        ``data`` is not a list of objects.
    SchemaError
        When a value cannot be held exactly by any column type (an integer
        outside Int64, say).

    Examples
    --------
    >>> raw = decode_response(b'{"state":"finished","data":[{"a":1},{"a":2}]}')
    >>> raw.meta["state"], raw.rows["a"].to_list()
    ('finished', [1, 2])
    """
    if isinstance(source, Mapping):
        return _from_mapping(source, hints)
    source = source.removeprefix(_BOM)
    fast = _fast_response(source, hints)
    if fast is not None:
        return fast
    document = _decode_exact(source)
    if not isinstance(document, dict):
        raise ResponseFormatError(
            f"a response is a JSON object with a 'state' key, not a JSON {type(document).__name__}",
            position=0,
        )
    _check_single_data_key(source)
    return _from_mapping(document, hints)


def _decode_exact(body: bytes) -> Any:
    """The whole body as Python values: exact integers, the last of duplicate keys."""
    try:
        return msgspec.json.decode(body)
    except (msgspec.DecodeError, RecursionError) as exc:
        raise _format_error(body, exc) from None


_MSGSPEC_BYTE = re.compile(r"\(byte (\d+)\)")


def _format_error(body: bytes, exc: Exception) -> ResponseFormatError:
    """The error of a body that does not parse, with its byte position.

    orjson names the problem best (a lone surrogate, the depth) and its position;
    where orjson accepts what msgspec refused, msgspec's own message is used.
    """
    try:
        body.decode()
    except UnicodeDecodeError as error:
        # orjson checks the encoding of the whole input first, without a position.
        byte = body[error.start : error.start + 1].hex()
        return _positioned(body, f"invalid UTF-8 (byte 0x{byte})", error.start)
    try:
        orjson.loads(body)
    except orjson.JSONDecodeError as error:
        # orjson reports a character position; the contract speaks of bytes.
        doc = error.doc
        char_pos = error.pos
        byte_pos = len(doc[:char_pos].encode()) if isinstance(doc, str) else char_pos
        return _positioned(body, error.msg, byte_pos)
    if isinstance(exc, RecursionError):
        return _positioned(body, "the values are nested too deeply", _too_deep_at(body))
    match = _MSGSPEC_BYTE.search(str(exc))
    position = int(match.group(1)) if match else 0
    return _positioned(body, _MSGSPEC_BYTE.sub("", str(exc)).strip(), position)


def _positioned(body: bytes, message: str, position: int) -> ResponseFormatError:
    excerpt = body[max(0, position - 30) : position + 30].decode(errors="replace")
    return ResponseFormatError(
        f"the response is not valid JSON: {message} at byte {position} (near {excerpt!r})",
        position=position,
    )


_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')
#: Deeper than this, msgspec's decoder gives up (Python's recursion limit).
_DEPTH = 500


def _too_deep_at(body: bytes) -> int:
    """The byte where the nesting first goes deeper than :data:`_DEPTH` (0 if nowhere)."""
    depth = 0
    for token in _TOKENS.finditer(body):
        char = token.group()[:1]
        if char in (b"[", b"{"):
            depth += 1
            if depth > _DEPTH:
                return token.start()
        elif char in (b"]", b"}"):
            depth -= 1
    return 0


def _check_single_data_key(body: bytes) -> None:
    r"""Refuse a body whose top-level object has ``data`` twice.

    Decoders keep the last of duplicate keys; for ``data`` that would read one of
    two row lists without a word. A key may be spelled with escapes
    (``"d\u0061ta"`` is ``data`` too), so the keys are compared decoded. The
    check walks the body's tokens again, so it runs only when the bytes may hold
    ``data`` twice: ``"data"`` twice, or a short key with an escape.
    """
    if body.count(b'"data"') < 2 and not _may_spell_data_escaped(body):
        return
    found = [position for position, key in _top_level_keys(body) if key == "data"]
    if len(found) > 1:
        position = found[1]
        raise ResponseFormatError(
            f"the response has the key 'data' twice (the second at byte {position})",
            position=position,
            key="data",
        )


# A key of at most 24 characters holding a backslash: "data" spelled with escapes
# (four of at most six characters each) is one.
_ESCAPED_SHORT_KEY = re.compile(rb'"(?=[^"]{0,23}\\)(?:[^"\\]|\\.){1,24}"\s*:')
_KEY_END = re.compile(rb"\s*:")
# A letter of "data" can only be escaped as \u0064 (d), \u0061 (a) or \u0074 (t).
_DATA_LETTER_ESCAPES = (b"\\u0064", b"\\u0061", b"\\u0074")


def _may_spell_data_escaped(body: bytes) -> bool:
    """Whether a key of the body may be ``data`` spelled with an escape.

    A search for the three escapes first (a scan in C, like ``count``): most bodies
    hold none of them, and the regular expression of short escaped keys is slower.
    """
    # The three escapes begin alike: one scan rules out most bodies, not three.
    if b"\\u00" not in body or not any(escape in body for escape in _DATA_LETTER_ESCAPES):
        return False
    return _ESCAPED_SHORT_KEY.search(body) is not None


def _top_level_keys(body: bytes) -> list[tuple[int, str]]:
    """The keys of a valid JSON document's outermost object, decoded, with their byte positions."""
    keys = []
    depth = 0
    for token in _TOKENS.finditer(body):
        text = token.group()
        char = text[:1]
        if char in (b"[", b"{"):
            depth += 1
        elif char in (b"]", b"}"):
            depth -= 1
        elif depth == 1 and _KEY_END.match(body, token.end()):
            keys.append((token.start(), orjson.loads(text)))
    return keys


def _locate_data(body: bytes) -> tuple[dict[str, Any], int, int] | None:
    """Top-level keys other than data, and the span of the data array's contents.

    Returns ``None`` when the shortcut cannot prove where the array is; the caller
    then decodes the whole body.
    """
    match = _DATA_KEY.search(body)
    if match is None:
        return None
    head = body[: match.start()].rstrip()
    # msgspec, as the general path: integers of any size exact (orjson makes a
    # float of one beyond 64 bits), and the same nesting limit (orjson's is deeper).
    try:
        if head == b"{":
            meta: dict[str, Any] = {}
        elif head.endswith(b","):
            meta = msgspec.json.decode(head[:-1] + b"}")
        else:
            return None
    except (msgspec.DecodeError, RecursionError):
        return None
    if not isinstance(meta, dict) or "data" in meta:
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
                rest = msgspec.json.decode(b"{" + tail[1:])
            else:
                continue
        except (msgspec.DecodeError, RecursionError):
            continue
        if not isinstance(rest, dict) or "data" in rest:
            return None
        meta.update(rest)
        return meta, match.end(), stop


# -- the fast path ----------------------------------------------------------------------------


def _fast_response(
    body: bytes, hints: ColumnHints, *, on_one_line: bool = False
) -> RawResponse | None:
    r"""The response read on the fast path, or ``None`` when its rows are not of its shape.

    A pretty-printed body (rows over several lines, as the API's documentation
    shows them) is first written again on one line: msgspec's ``json.format``
    copies it token for token, changing only the whitespace between tokens (no
    number or text is decoded and written again), and the fast path reads that
    copy. Only the fast path reads it: a body that leaves the fast path goes to
    the general path as it was sent, so an error's byte position is the body's.

    >>> raw = _fast_response(b'{"state": "finished", "data": [\n  {"a": 1},\n  {"a": 2}\n]}', NO_HINTS)
    >>> raw.rows["a"].to_list()
    [1, 2]
    """
    located = _locate_data(body)
    if located is None:
        return None
    meta, start, stop = located
    if _BLANK.fullmatch(body, start, stop):
        return RawResponse(meta, pl.DataFrame())
    # Line breaks inside the array: pretty-printed, so the rows are not one a line.
    if body.find(b"\n", start, stop) >= 0 or body.find(b"\r", start, stop) >= 0:
        if on_one_line:
            return None
        try:
            one_line = msgspec.json.format(body, indent=0)
        except (msgspec.DecodeError, RecursionError):
            return None  # not JSON: the general path names the error and its byte
        return _fast_response(one_line, hints, on_one_line=True)
    frame = _read_fast(body, start, stop, hints)
    return None if frame is None else RawResponse(meta, frame)


_ARROW_KINDS = {
    "int": pa.int64(),
    "float": pa.float64(),
    "str": pa.string(),
    "bool": pa.bool_(),
    # A nested field the registry gives no element type (ColumnHints.elements) may
    # only be null on this path; a value sends the body to the general one.
    "list": pa.null(),
}
#: The kinds a nested object's fields may have on this path (an integer of a
#: float field would need the check of every value the general path makes).
_FLAT_KINDS = {"int": pa.int64(), "str": pa.string(), "text": pa.string(), "bool": pa.bool_()}
_VALUE_IN_REASON = re.compile(r"couldn't parse:.*")
#: The first row's first key, as sent: every row starts with it (the API writes
#: each row's keys in one order), so "}," + "{" + it separates rows, never the
#: objects nested in a row, nor a text (in which a quote is escaped).
_FIRST_KEY = re.compile(rb'\s*\{\s*("(?:[^"\\]|\\.)*")\s*:')


def _read_fast(body: bytes, start: int, stop: int, hints: ColumnHints) -> pl.DataFrame | None:
    """Compact rows of declared kinds, read by pyarrow with an explicit schema.

    The rows ``body[start:stop]`` hold no line break (the caller has checked).
    Returns ``None`` when the rows are not of that shape; the caller then takes
    the general path, which gives the same frame (or the error).
    """
    separator = _row_separator(body, start, stop, lists_of_objects=bool(hints.elements))
    declared = _fast_schema(body, start, stop, separator, hints)
    if declared is None:
        return None
    schema, first_keys, doubled = declared
    if "" in first_keys:
        return None  # Polars names a nameless column column_<i>; the general path keeps ""
    # The registry's fields the first row does not send (a finest export's legacy
    # names: a third of its fields) are declared null, so pyarrow builds no column
    # of nulls for each. A piece where a row sends one fails that schema, and is
    # read again with every field typed.
    sent = pa.schema([f if f.name in first_keys else pa.field(f.name, pa.null()) for f in schema])
    whole = pa.py_buffer(body)

    def read(piece: tuple[int, int]) -> pa.Table | str:
        if piece[1] - piece[0] > _MAX_BLOCK:
            return "a row longer than pyarrow's largest block"
        lines, count = _separators_to_newlines(whole, *piece, separator)
        table = _read_lines(lines, sent)
        if isinstance(table, str) and sent != schema:
            table = _read_lines(lines, schema)
        if isinstance(table, pa.Table) and table.num_rows != count:
            # Two rows on one line (a missing comma), or a separator inside a text.
            return f"{table.num_rows} rows on {count} lines"
        return table

    pieces = _pieces(body, start, stop, separator)
    workers = min(len(pieces), pa.cpu_count())
    if workers > 1:
        # pyarrow releases the GIL while it copies and reads: pieces side by side.
        with ThreadPoolExecutor(workers, thread_name_prefix="vidiframe-json") as pool:
            tables = list(pool.map(read, pieces))
    else:
        tables = [read(piece) for piece in pieces]
    for table in tables:
        if isinstance(table, str):
            logger.debug("reading the rows on the general path: %s", table)
            return None
    read_tables = [table for table in tables if isinstance(table, pa.Table)]
    # A field typed in one piece and null in the others takes the type.
    together = pa.concat_tables(read_tables, promote_options="default")
    try:
        frame = pl.from_arrow(together, rechunk=False)
    except pl.exceptions.PolarsError:
        # Polars compares names cut at a NUL byte: "z\x00b" and "z\x00c" collide
        # here, not on the general path, which builds its frame by name.
        return None
    assert isinstance(frame, pl.DataFrame)
    floats = [name for name, dtype in frame.schema.items() if dtype == pl.Float64]
    # pyarrow reads NaN and Infinity literals, and 1e999 as inf; JSON has none.
    # It reads the integer -0 as -0.0, which the general path reads as 0 (0.0 in
    # a float column) while it keeps a float -0.0: a negative zero goes there.
    outside = ~pl.col(floats).is_finite() | ((pl.col(floats) == 0) & (1 / pl.col(floats) < 0))
    if floats and frame.select(pl.any_horizontal(outside.any())).item():
        return None
    # A null in a list of objects: the general path keeps it null where the list
    # holds nothing else, and the typing makes it an object of nulls elsewhere.
    lists = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.List)]
    if (
        lists
        and frame.select(
            pl.any_horizontal(
                _holds_null_object(pl.col(name), frame.schema[name]).any() for name in lists
            )
        ).item()
    ):
        return None
    # An unknown field first sent as a float holds doubles, of integers too. Below
    # 2**53 every integer is exact as a double; from there on one might not be,
    # and the general path checks each value (a float sent that large goes too).
    if doubled and frame.select(pl.any_horizontal((pl.col(doubled).abs() >= 2.0**53).any())).item():
        return None
    # A registry field the body never sends stays absent, as on the general path
    # (the reader fills it with nulls); the declared schema made a column of each.
    absent = [
        name
        for name, count in zip(frame.columns, frame.null_count().row(0), strict=True)
        if count == frame.height and name not in first_keys
    ]
    # Left in pieces: the typing builds new columns, and a rechunk here cost 5% of the read.
    return frame.drop(absent)


def _row_separator(body: bytes, start: int, stop: int, *, lists_of_objects: bool) -> bytes:
    """The bytes between two rows: ``"},{"``, and the first key where rows nest objects.

    The separators of Python's json.dumps (``"}, {"``) if the first rows have them
    (a body mixing both has two rows on some line, and leaves this path). When
    the rows hold objects (the first row does, or a list of objects is expected
    and the body has one), the rows' first key is part of the separator, so the
    objects inside a row are not taken for rows. Either way a wrong separator
    cannot pass: every line must be one row.

    >>> body = b'[{"a":1,"l":[{"b":2},{"b":3}]},{"a":4,"l":[]}]'
    >>> _row_separator(body, 1, len(body) - 1, lists_of_objects=False)
    b'},{"a"'
    >>> body = b'[{"a":1,"l":null},{"a":4,"l":[{"b":2},{"b":3}]}]'
    >>> _row_separator(body, 1, len(body) - 1, lists_of_objects=True)
    b'},{"a"'
    >>> _row_separator(b'[{"a": 1}, {"a": 2}]', 1, 19, lists_of_objects=True)
    b'}, {'
    """
    glue = b"}, {" if body.find(b"}, {", start, min(stop, start + 65536)) >= 0 else b"},{"
    first_key = _FIRST_KEY.match(body, start, stop)
    first_glue = body.find(glue, start, stop)
    if first_key is None or first_glue < 0:
        return glue
    # An object opened before the first glue is inside the first row; a brace in
    # a text is none (the tokens skip texts): rows after it may start otherwise.
    tokens = _TOKENS.finditer(body, first_key.end(), first_glue)
    nested = any(token.group() == b"{" for token in tokens) or (
        lists_of_objects and body.find(b"[{", first_key.end(), stop) >= 0
    )
    return glue + first_key.group(1) if nested else glue


#: pyarrow's block size is a 32-bit integer: a piece is read as one block.
_MAX_BLOCK = 2**31 - 1
#: The rows are read in pieces of about this many bytes, each copied with newlines
#: and read on its own: the copies are small and fresh in the cache, and never all
#: alive at once (a copy of the whole body, written before the read, cost a fifth
#: of the time of the read). 1 to 8 MB measured alike.
_PIECE = 1 << 22


def _pieces(body: bytes, start: int, stop: int, separator: bytes) -> list[tuple[int, int]]:
    """The spans of ``body[start:stop]`` between row separators, each about :data:`_PIECE` long.

    A piece ends at the ``}`` of a separator and the next starts at its ``{``. A
    separator inside a nested object may be taken for one: that row is then cut
    in two, which no reader accepts, and the body leaves the fast path.

    >>> body = b'[{"a":1},{"a":2},{"a":3}]'
    >>> [body[a:b] for a, b in _pieces(body, 1, len(body) - 1, b"},{")]
    [b'{"a":1},{"a":2},{"a":3}']
    """
    spans = []
    begin = start
    while stop - begin > _PIECE:
        cut = body.find(separator, begin + _PIECE, stop)
        if cut < 0:
            break
        spans.append((begin, cut + 1))
        begin = cut + separator.index(b"{")
    spans.append((begin, stop))
    return spans


def _read_lines(lines: pa.Buffer, schema: pa.Schema) -> pa.Table | str:
    """The rows of NDJSON ``lines`` read strictly with ``schema``, or why they cannot be."""
    try:
        table = pa_json.read_json(
            pa.BufferReader(lines),
            # One block: the piece is read on this thread (pieces run side by side).
            read_options=pa_json.ReadOptions(use_threads=False, block_size=max(1, len(lines))),
            parse_options=pa_json.ParseOptions(
                explicit_schema=schema, unexpected_field_behavior="error"
            ),
            # The system allocator hands freed parse buffers back; pyarrow's
            # default (mimalloc) keeps them, raising the peak by a third of the body.
            memory_pool=pa.system_memory_pool(),
        )
        # pyarrow does not check that text is UTF-8; a full validation does.
        table.validate(full=True)
    except (pa.ArrowException, ValueError) as exc:
        # Never the values: the reason names the problem, not what is there.
        return _VALUE_IN_REASON.sub("couldn't parse a value", str(exc).splitlines()[0])
    return table


def _separators_to_newlines(
    whole: pa.Buffer, start: int, stop: int, separator: bytes
) -> tuple[pa.Buffer, int]:
    r"""``whole[start:stop]`` with each row separator's comma made a newline.

    Returns the new bytes (an Arrow buffer, which pyarrow's reader takes without a
    copy) and the number of rows they hold (newlines + 1). Only the comma changes
    (``"}, {"`` becomes ``"}\n {"``). pyarrow's ``replace_substring`` writes the
    copy in one pass, and Polars counts the newlines; the caller has checked that
    the bytes held none before.

    >>> body = pa.py_buffer(b'[{"a":1},{"a":2}, {"b":3}]')
    >>> lines, rows = _separators_to_newlines(body, 1, len(body) - 1, b"},{")
    >>> lines.to_pybytes(), rows
    (b'{"a":1}\n{"a":2}, {"b":3}', 2)
    >>> lines, rows = _separators_to_newlines(body, 1, len(body) - 1, b"}, {")
    >>> lines.to_pybytes(), rows
    (b'{"a":1},{"a":2}\n {"b":3}', 2)
    """
    # The offsets' buffer written directly: pa.array() would import pandas, where
    # installed, on its first call (a quarter of a second on the first read).
    offsets = pa.py_buffer(struct.pack("=qq", start, stop))
    contents = pa.LargeBinaryArray.from_buffers(pa.large_binary(), 1, [None, offsets, whole])
    replaced = pc.replace_substring(
        contents,
        pattern=separator,
        replacement=separator.replace(b",", b"\n", 1),
        memory_pool=pa.system_memory_pool(),
    )
    lines = replaced.buffers()[2]
    assert lines is not None
    lines = lines.slice(0, stop - start)
    as_bytes = pl.Series(pa.Array.from_buffers(pa.uint8(), len(lines), [None, lines]))
    return lines, int((as_bytes == ord("\n")).sum()) + 1


def _fast_schema(
    body: bytes, start: int, stop: int, separator: bytes, hints: ColumnHints
) -> tuple[pa.Schema, set[str], list[str]] | None:
    """The registry's fields, typed as the first row sends them, and its unknown fields.

    A known field the first row sends as another scalar kind (an id as ``"123"``,
    SPEC quirk 3) is declared with that kind, so such a body stays on this path
    while every row agrees; the typing casts it. An unknown field is declared by
    its first value when that is a number, a text or a boolean. Returns the
    schema, the first row's keys, and the fields declared as doubles that may
    hold integers (unknown fields, integer fields first sent as ``19.0``), whose
    integers the caller checks: a double does not hold every integer.
    """
    names = {*hints.text, *hints.kinds, *hints.nested}
    # A kind without a flat Arrow type (an object, say) may only be null on this path.
    fields = {
        name: _ARROW_KINDS.get(kind, pa.null()) for name in names if (kind := hints.kind_of(name))
    }
    for name, kinds in hints.elements.items():
        if name in hints.nested and (element := _element_type(kinds)) is not None:
            fields[name] = pa.list_(element)
    end = body.find(separator, start, stop)
    try:
        row = orjson.loads(body[start : stop if end < 0 else end + 1])
    except orjson.JSONDecodeError:
        return None
    if not isinstance(row, dict):
        return None
    doubled: list[str] = []
    for name, value in row.items():
        declared = fields.get(name)
        if value is None or declared == pa.string():
            fields.setdefault(name, pa.null())
            continue
        if declared == pa.float64() and isinstance(value, (int, float)):
            continue
        if declared is not None and pa.types.is_list(declared) and isinstance(value, list):
            continue
        if isinstance(value, bool):
            fields[name] = pa.bool_()
        elif isinstance(value, int):
            fields[name] = pa.int64()
        elif isinstance(value, str):
            fields[name] = pa.string()
        elif isinstance(value, float) and (declared is None or declared == pa.int64()):
            # An unknown field, or a count the API sends as 19.0 (retail's nb_visits):
            # doubles, checked by the caller; the typing refuses a fraction.
            fields[name] = pa.float64()
            doubled.append(name)
        else:
            return None
    return pa.schema(list(fields.items())), set(row), doubled


def _element_type(kinds: Mapping[str, Any]) -> pa.DataType | None:
    """The Arrow type of the objects of a list, from their fields' kinds (None if one has none).

    >>> _element_type({"id": "int", "timings": {"start": "int"}})
    StructType(struct<id: int64, timings: list<item: struct<start: int64>>>)
    >>> _element_type({"share": "float"}) is None
    True
    """
    fields = []
    for name, kind in kinds.items():
        if isinstance(kind, Mapping):
            inner = _element_type(kind)
            if inner is None:
                return None
            fields.append((name, pa.list_(inner)))
        elif kind in _FLAT_KINDS:
            fields.append((name, _FLAT_KINDS[kind]))
        else:
            return None
    return pa.struct(fields)


def _holds_null_object(value: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """Per row: whether a list of objects in ``value``, at any depth, holds a null."""
    assert isinstance(dtype, pl.List)
    checks = [pl.element().is_null()]
    if isinstance(dtype.inner, pl.Struct):
        checks += [
            _holds_null_object(pl.element().struct.field(sub.name), sub.dtype).fill_null(False)
            for sub in dtype.inner.fields
            if isinstance(sub.dtype, pl.List)
        ]
    return value.list.eval(pl.any_horizontal(checks)).list.any()


# -- the general path -------------------------------------------------------------------------


def _from_mapping(document: Mapping[str, Any], hints: ColumnHints) -> RawResponse:
    meta = {key: value for key, value in document.items() if key != "data"}
    if "data" not in document:
        return RawResponse(meta, None)
    return RawResponse(meta, _frame_from_rows(document["data"], hints))


def _check_rows(rows: Any) -> None:
    if not isinstance(rows, list):
        raise ResponseFormatError(
            f"'data' must be a list of rows, not a JSON {type(rows).__name__}", key="data"
        )
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            raise ResponseFormatError(
                f"data[{index}] must be a JSON object, not {_json_text(row)[:60]}",
                key="data",
            )


def _frame_from_rows(rows: Any, hints: ColumnHints) -> pl.DataFrame:
    """Decoded rows to a raw frame, column by column, every value exactly."""
    _check_rows(rows)
    if not rows:
        return pl.DataFrame()
    columns = _transpose(rows)
    for name in columns:
        if not isinstance(name, str):
            raise ResponseFormatError(f"a row has a key that is not text: {name!r}", key="data")
    if not columns:
        # Rows that send no field ({}): no column counts them, the height does.
        return pl.DataFrame(height=len(rows))
    # By name: a list of Series would name a nameless one (key "") column_<i>.
    return pl.DataFrame(
        {
            name: _column(name, values, hints.kind_of(name), hints.elements.get(name))
            for name, values in columns.items()
        }
    )


def _transpose(rows: list[dict[Any, Any]]) -> dict[Any, list[Any]]:
    """The rows' values by field, in the order the fields first appear; ``None`` where absent.

    >>> _transpose([{"a": 1, "b": 2}, {"b": 3, "a": 4}])
    {'a': [1, 4], 'b': [2, 3]}
    >>> _transpose([{"a": 1}, {"b": 3}])
    {'a': [1, None], 'b': [None, 3]}
    """
    first = list(rows[0])
    # As many fields in every row, each of them a field of the first row: the same
    # fields (what the API sends). Indexing then needs no union of the rows' keys
    # and no .get (a method call per value): 40% less time. Plain dicts only: a
    # subclass may answer row[name] for a name it lacks (defaultdict, Counter).
    if set(map(len, rows)) == {len(first)} and set(map(type, rows)) == {dict}:
        try:
            return {name: [row[name] for row in rows] for name in first}
        except KeyError:
            pass
    names: dict[Any, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    return {name: [row.get(name) for row in rows] for name in names}


def _column(
    name: str,
    values: list[Any],
    expected: str | None,
    elements: Mapping[str, Any] | None = None,
) -> pl.Series:
    """One raw column: the values' own type when they share one, else their JSON text.

    ``expected`` is the JSON kind the registry expects of the field (what its
    type's ``sent_as`` says; ``None`` for an unknown field): a text field keeps any
    other value as its JSON text, and a float field takes integers as the nearest
    double, as its type says. Elsewhere an integer must fit Int64,
    and one that shares a column with fractions must be exact as a double.
    ``elements`` are the kinds of the objects' fields of a list of objects
    (:attr:`ColumnHints.elements`).
    """
    # Decoded JSON holds exactly these types: a set of types costs one pass in C.
    sent = {_KIND_OF_TYPE.get(t, "nested") for t in set(map(type, values))} - {"null"}
    if not sent:
        return pl.Series(name, values, dtype=pl.Null)
    if sent == {"str"}:
        return pl.Series(name, values, dtype=pl.String)
    if expected == "str" or (len(sent) > 1 and not sent <= {"int", "float"}):
        # Mixed kinds (a number here, text there): the typing casts the text, and
        # reports a value that does not fit the field with its JSON text.
        return pl.Series(name, [_as_text(v) for v in values], dtype=pl.String)
    if sent == {"bool"}:
        return pl.Series(name, values, dtype=pl.Boolean)
    if expected == "float" and sent <= {"int", "float"}:
        return _floats(name, values, with_ints="int" in sent)
    if sent == {"int"}:
        try:
            # Polars refuses (strictly) an integer outside Int64; then find which.
            return pl.Series(name, values, dtype=pl.Int64, strict=True)
        except (TypeError, OverflowError, pl.exceptions.PolarsError) as exc:
            _check_int64(name, values)
            reason = str(exc).splitlines()[0]
            raise SchemaError(f"column {name!r}: {reason}", column=name) from None
    if sent <= {"int", "float"}:
        _check_exact_doubles(name, values)
        return _floats(name, values, with_ints=True)
    return _nested_column(name, values, elements)


_KIND_OF_TYPE = {
    type(None): "null",
    bool: "bool",
    int: "int",
    float: "float",
    str: "str",
}


def _floats(name: str, values: list[Any], *, with_ints: bool) -> pl.Series:
    if not with_ints:
        return pl.Series(name, values, dtype=pl.Float64)
    try:
        return pl.Series(name, [None if v is None else float(v) for v in values], dtype=pl.Float64)
    except OverflowError:
        # An integer of 309 digits or more has no nearest double (JSON has no inf).
        row, value = next((i, v) for i, v in enumerate(values) if not _fits_double(v))
        raise SchemaError(
            f"column {name!r}: value {value} at row {row} is beyond the largest double",
            column=name,
            value=value,
            row=row,
        ) from None


def _fits_double(value: Any) -> bool:
    try:
        float(value)
    except (OverflowError, TypeError):
        return value is None
    return True


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    return "nested"


def _check_int64(name: str, values: list[Any]) -> None:
    low, high = _INT64
    for row, value in enumerate(values):
        if isinstance(value, int) and not low <= value <= high:
            raise SchemaError(
                f"column {name!r}: value {value} at row {row} does not fit a 64-bit integer",
                column=name,
                value=value,
                row=row,
            )


def _check_exact_doubles(name: str, values: list[Any]) -> None:
    for row, value in enumerate(values):
        if isinstance(value, int) and not isinstance(value, bool) and not _exact_double(value):
            raise SchemaError(
                f"column {name!r}: value {value} at row {row} shares a column with fractions "
                "and has more digits than a double holds",
                column=name,
                value=value,
                row=row,
            )


def _exact_double(value: int) -> bool:
    try:
        return float(value) == value
    except OverflowError:  # beyond the largest double
        return False


def _nested_column(
    name: str, values: list[Any], elements: Mapping[str, Any] | None = None
) -> pl.Series:
    """Lists and objects, typed by pyarrow when that keeps every value, else JSON text.

    A list of objects whose field holds integers and integral floats (``19.0``
    here, ``3`` there, as the API sends counts) is inferred as doubles, which are
    not the integers sent: it is read again with the registry's types
    (``elements``), each integral float below 2**53 taken as its integer, as the
    typing takes it at the top level.
    """
    series = _nested_series(name, values, None)
    if series is None and elements is not None:
        element = _element_type(elements)
        if element is not None:
            series = _nested_series(name, values, pa.list_(element))
    if series is not None:
        return series
    return pl.Series(name, [_as_text(v) for v in values], dtype=pl.String)


def _nested_series(name: str, values: list[Any], declared: pa.DataType | None) -> pl.Series | None:
    """``values`` read by pyarrow (as ``declared`` if given), or ``None`` if one changed."""
    # pyarrow casts to a declared type without a word (7.5 to 7, a field it does
    # not declare dropped): every value read is checked against the one sent.
    integral = declared is not None
    try:
        array = pa.array(values, type=declared)
    except (pa.ArrowException, TypeError, ValueError, OverflowError, RecursionError):
        return None
    if not all(
        _same(a, b, integral=integral) for a, b in zip(values, array.to_pylist(), strict=True)
    ):
        return None
    try:
        series = pl.from_arrow(array)
        read = series.to_list() if isinstance(series, pl.Series) else None
    except pl.exceptions.PolarsError:
        # Polars cuts a struct field's name at a NUL byte: two such names collide.
        return None
    # And where they do not collide, a name changed: check the values too.
    if read is None or not all(
        _same(a, b, integral=integral) for a, b in zip(values, read, strict=True)
    ):
        return None
    assert isinstance(series, pl.Series)
    return series.alias(name)


def _same(sent: Any, read: Any, *, integral: bool = False) -> bool:
    """Whether pyarrow's value is the sent one (struct fields it added are null).

    With ``integral``, an integer read where an integral float below 2**53 was
    sent is that float (its field is an integer field, declared so).
    """
    if isinstance(sent, dict):
        return (
            isinstance(read, dict)
            and all(
                key in read and _same(value, read[key], integral=integral)
                for key, value in sent.items()
            )
            and all(value is None for key, value in read.items() if key not in sent)
        )
    if isinstance(sent, list):
        return (
            isinstance(read, list)
            and len(sent) == len(read)
            and all(_same(a, b, integral=integral) for a, b in zip(sent, read, strict=True))
        )
    if isinstance(sent, float) and isinstance(read, float) and math.isnan(sent):
        return False  # JSON has no NaN; never expected here
    if integral and isinstance(sent, float) and _json_kind(read) == "int":
        return abs(sent) < 2.0**53 and sent == read
    return _json_kind(sent) == _json_kind(read) and sent == read


def _as_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return _json_text(value)


def _json_text(value: Any) -> str:
    """A value's JSON text (integers of any size, as sent)."""
    try:
        return orjson.dumps(value).decode()
    except (orjson.JSONEncodeError, TypeError):
        # orjson writes integers of 64 bits at most, and nests 255 levels.
        try:
            return json.dumps(value, ensure_ascii=False)
        except RecursionError:
            raise ResponseFormatError("a value is nested too deeply", key="data") from None
