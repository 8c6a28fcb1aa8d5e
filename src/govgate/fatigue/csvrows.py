"""CSV exports as PostgreSQL's ``COPY ... TO ... (FORMAT csv, HEADER)`` writes them.

The file is read in binary chunks. A chunk without a quote character (most of an export) is cut
into fields by one ``str.split`` and regrouped by ``zip``, so no per-row Python code runs here;
any other chunk goes through a full parser of PostgreSQL's CSV dialect (``""`` escapes, newlines
inside quotes). ``row N`` in messages is the line number, the header being line 1.
"""

from __future__ import annotations

import bisect
import copy
import itertools
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ..errors import GovgateError, SourceError
from .rows import (
    COLUMNS,
    DERIVED_COLUMNS,
    EMPTY_STRING,
    WIDTH,
    Derived,
    Records,
    Row,
    RowChunk,
    check_header,
)

__all__ = ["CsvRecords"]

_CHUNK_BYTES = 1 << 16  # small enough to stay in cache while split, large enough to amortise
#: The longest record (CSV line, or lines of one quoted record) read. A row of this table is a
#: few hundred bytes; the bound keeps every step linear in the file's size (a record is never
#: copied or re-parsed more than a couple of times) and a stray huge line a clear error.
MAX_RECORD_BYTES = 1 << 16
# One CSV field: quoted (with "" escapes, may span lines) or bare (up to , or end of line).
_FIELD = re.compile(r'"((?:[^"]|"")*)"|([^,"\r\n]*)')


class CsvRecords(Records):
    """A CSV export (``row N`` is the line number, the header being line 1)."""

    def __init__(self, path: Path, source: str, limit: int) -> None:
        super().__init__(source)
        self.path = path
        #: The most bytes read from the file (``sources.max_bytes``): it may grow meanwhile.
        self.limit = limit
        #: (row index, lines added so far) after each record that spans several lines.
        self.extra: list[tuple[int, int]] = []
        with self._open() as handle:
            first = handle.readline(MAX_RECORD_BYTES + 1)
        if len(first) > MAX_RECORD_BYTES:
            raise _too_long(source, 1)
        self.header_bytes = len(first)
        #: The byte range this object reads (see :meth:`part`); ``end`` None: to the end.
        self.start: int = self.header_bytes
        self.end: int | None = None
        text = self._decode(first, 1).removeprefix("\ufeff")
        if not text.strip():
            raise GovgateError(
                "empty file: expected a CSV header line", source=source, where="row 1"
            )
        parsed, rest = _parse_quoted(text if text.endswith("\n") else text + "\n", 0, [], source)
        if rest or len(parsed) != 1:
            raise GovgateError("cannot read the CSV header line", source=source, where="row 1")
        self.header = parsed[0]
        self.pick = check_header(
            self.header, source, lambda name: f"row 1, column {name}" if name else "row 1"
        )
        self.canonical = list(self.header) == list(COLUMNS)
        if any(name in self.header for name in DERIVED_COLUMNS):
            self.derived = self._derived

    def part(self, start: int, end: int | None) -> CsvRecords:
        """The records between byte offsets ``start`` and ``end`` (each the start of a record),
        read by a worker; its row numbers count from ``start``, so a worker never reports."""
        part = copy.copy(self)
        Records.__init__(part, self.source)
        part.extra = []
        part.start, part.end = start, end
        return part

    def row_number(self, index: int) -> int:
        pos = bisect.bisect_left(self.extra, (index, -1)) - 1
        return index + 1 + (self.extra[pos][1] if pos >= 0 else 0)

    def chunks(self) -> Iterator[RowChunk]:
        self.count = 0
        self.extra.clear()
        return self._chunks(collect=True, safe=False)

    def reread(self) -> Iterable[Row]:
        return itertools.chain.from_iterable(self._chunks(collect=False, safe=True))

    def _open(self) -> Any:
        from ..sources.files import open_input

        return open_input(self.path, self.source, self.limit)

    def _decode(self, data: bytes, first_row: int) -> str:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            row = first_row + data.count(b"\n", 0, exc.start)
            raise GovgateError(
                f"not UTF-8 text ({exc.reason})", source=self.source, where=f"row {row}"
            ) from None

    def _chunks(self, *, collect: bool, safe: bool, raw: bool = False) -> Iterator[RowChunk]:
        """One iterable of canonical rows per chunk of the file (``raw``: as in the file)."""
        done = 0  # rows produced so far
        extra: list[tuple[int, int]] = self.extra if collect else []
        carry = b""
        total = self.start  # bytes of the file read so far (the header included)
        with self._open() as handle:
            handle.seek(self.start)
            remaining = None if self.end is None else self.end - self.start
            while remaining != 0:
                size = _CHUNK_BYTES if remaining is None else min(_CHUNK_BYTES, remaining)
                data = handle.read(size)
                if not data:
                    break
                total += len(data)
                if total > self.limit:
                    raise SourceError(f"file grew past the limit of {self.limit} bytes while "
                                      "it was read (sources.max_bytes)", source=self.source)
                if remaining is not None:
                    remaining -= len(data)
                # ``carry`` (a record not yet ended) never exceeds MAX_RECORD_BYTES, so this
                # copy and the parse below are linear in the file's size, however long a line.
                shift = extra[-1][1] if extra else 0
                if carry:
                    data = carry + data
                    # The record begun in an earlier chunk ends at the first newline (a record
                    # inside one chunk is shorter than a chunk, which is MAX_RECORD_BYTES).
                    end = data.find(b"\n", len(carry) - 1)
                    if (end if end >= 0 else len(data)) > MAX_RECORD_BYTES:
                        raise _too_long(self.source, done + 2 + shift)
                cut = data.rfind(b"\n") + 1
                if cut == 0:
                    carry = data
                    continue
                carry = data[cut:]
                body = self._decode(data[:cut], done + 2 + shift)
                rows, rest = self._split(body, done, extra, safe, raw)
                if rest:
                    carry = rest.encode("utf-8") + carry
                    if len(carry) > MAX_RECORD_BYTES:
                        shift = extra[-1][1] if extra else 0
                        raise _too_long(self.source, done + len(rows) + 2 + shift)
                elif len(carry) > MAX_RECORD_BYTES:
                    shift = extra[-1][1] if extra else 0
                    raise _too_long(self.source, done + len(rows) + 2 + shift)
                done += len(rows)
                if collect:
                    self.count = done
                yield rows
            if carry:
                body = self._decode(carry, done + 2) + "\n"
                rows, rest = _parse_quoted(body, done, extra, self.source)
                if rest:
                    shift = extra[-1][1] if extra else 0
                    raise GovgateError(
                        "unterminated quoted field at the end of the file",
                        source=self.source,
                        where=f"row {done + 2 + shift}",
                    )
                rows = rows if raw else self._canonical(rows, done, extra)
                done += len(rows)
                if collect:
                    self.count = done
                yield rows

    def _split(
        self, body: str, done: int, extra: list[tuple[int, int]], safe: bool, raw: bool
    ) -> tuple[RowChunk, str]:
        if '"' not in body:
            if "\r" in body:
                body = body.replace("\r\n", "\n")
            if "\r" not in body:
                if self.canonical and not safe:
                    flat = body.replace("\n", ",").split(",")
                    flat.pop()  # after the last newline
                    # A row of the wrong width shifts every later field of the chunk: the rows
                    # after it fail (their owner_route is not a route) and the loader's
                    # diagnosis then finds the row at fault by re-reading in ``safe`` mode.
                    if len(flat) % WIDTH == 0:
                        return _Flat(flat, len(flat) // WIDTH), ""
                lines = body.split("\n")
                lines.pop()  # after the last newline
                rows = [line.split(",") for line in lines]
                return rows if raw else self._canonical(rows, done, extra), ""
        rows, rest = _parse_quoted(body, done, extra, self.source)
        return rows if raw else self._canonical(rows, done, extra), rest

    def _canonical(
        self, rows: list[list[str]], done: int, extra: list[tuple[int, int]]
    ) -> list[list[str]]:
        if self.canonical:
            return rows  # a wrong width is reported by the loader, with the row's number
        width = len(self.header)
        for i, row in enumerate(rows):
            if len(row) != width:
                pos = bisect.bisect_left(extra, (done + i + 1, -1)) - 1
                shift = extra[pos][1] if pos >= 0 else 0
                raise GovgateError(
                    f"expected {width} fields as in the header, found {len(row)}",
                    source=self.source,
                    where=f"row {done + i + 2 + shift}",
                )
        pick = self.pick
        return [[padded[i] for i in pick] for padded in ([*row, ""] for row in rows)]

    def _derived(self) -> Iterator[Derived]:
        header = list(self.header)
        lat_i = header.index("ack_latency_hours") if "ack_latency_hours" in header else None
        br_i = header.index("breached") if "breached" in header else None
        raw = itertools.chain.from_iterable(self._chunks(collect=False, safe=True, raw=True))
        for index, (row, canonical) in enumerate(zip(raw, self.reread(), strict=True), 1):
            yield (
                index,
                canonical,
                None if lat_i is None else row[lat_i],
                None if br_i is None else row[br_i],
            )


def _too_long(source: str, row: int) -> GovgateError:
    return GovgateError(
        f"a record longer than {MAX_RECORD_BYTES} bytes (a signer_ack_event row is a few "
        "hundred; an unterminated quote or the wrong file?)",
        source=source,
        where=f"row {row}",
    )


class _Flat:
    """The rows of a quote-free chunk: one flat list of fields, regrouped by ``zip``."""

    __slots__ = ("fields", "lines")

    def __init__(self, fields: list[str], lines: int) -> None:
        self.fields = fields
        self.lines = lines

    def __len__(self) -> int:
        return self.lines

    def __iter__(self) -> Iterator[Row]:
        it = iter(self.fields)
        return zip(it, it, it, it, it, it, it, it, strict=False)


def _parse_quoted(
    text: str, done: int, extra: list[tuple[int, int]], source: str
) -> tuple[list[list[str]], str]:
    """Parse whole CSV records from ``text`` (which ends with a newline).

    :param done: Rows before this text (for row numbers and for ``extra``).
    :returns: The records and the unparsed tail: a record whose quoted field continues past
        ``text`` (the caller prepends it to the next chunk).
    """
    rows: list[list[str]] = []
    pos, end = 0, len(text)
    shift = extra[-1][1] if extra else 0
    while pos < end:
        start = pos
        row: list[str] = []
        newlines = 0
        while True:
            match = _FIELD.match(text, pos)
            assert match is not None  # the bare alternative matches the empty string
            quoted, bare = match.group(1), match.group(2)
            if quoted is not None:
                value = quoted.replace('""', '"')
                newlines += value.count("\n")
                row.append(value if value else EMPTY_STRING)
            else:
                if text.startswith('"', match.end()):  # an opening quote not closed in text
                    return rows, text[start:]
                row.append(bare)
            pos = match.end()
            if text.startswith(",", pos):
                pos += 1
                continue
            if text.startswith("\n", pos) or text.startswith("\r\n", pos):
                length = pos - start
                pos += 1 if text[pos] == "\n" else 2
                break
            raise GovgateError(
                f"malformed CSV: unexpected {text[pos]!r} after a field",
                source=source,
                where=f"row {done + len(rows) + 2 + shift}, column {len(row)}",
            )
        if length > MAX_RECORD_BYTES:  # quoted line breaks: a record over many lines
            raise _too_long(source, done + len(rows) + 2 + shift)
        rows.append(row)
        if newlines:
            shift += newlines
            extra.append((done + len(rows), shift))
    return rows, ""
