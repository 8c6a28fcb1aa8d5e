"""Read ``signer_ack_event`` exports into rows of eight strings, fast, with their row numbers.

A row holds the eight columns of :data:`COLUMNS` in that order; ``""`` is SQL NULL and
:data:`EMPTY_STRING` marks a non-NULL empty string (never valid in this table, so the loader can
name it). CSV is read the way ``COPY ... TO ... (FORMAT csv, HEADER)`` writes it. The file is read
in binary chunks: a chunk without a quote character (most of an export) is cut into lines, and
each line into fields by ``str.split`` just before the loader reads it (in C, and while the line
is still in the CPU cache); any other chunk goes
through a full parser of PostgreSQL's CSV dialect (``""`` escapes, newlines inside quotes). JSON is
an array of objects, or an object with a ``rows`` array.

The loader hands the ``ack_event_id`` values of each chunk to :meth:`Records.hash_ids`, which
keeps their 8-byte hashes in a few partitions split by the hash's top bits, so duplicates can be
found without holding a million strings.
"""

from __future__ import annotations

import bisect
import itertools
import json
import re
import struct
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from ..errors import GovgateError, SourceError

__all__ = [
    "COLUMNS",
    "DERIVED_COLUMNS",
    "EMPTY_STRING",
    "OPTIONAL_COLUMNS",
    "Records",
    "RowChunk",
    "open_records",
]

#: The columns the loader reads, in the order of the seed's ``CREATE TABLE``.
COLUMNS: tuple[str, ...] = (
    "ack_event_id",
    "signer_id",
    "owner_route",
    "cert_window_id",
    "request_dt_utc",
    "ack_dt_utc",
    "ack_outcome",
    "sla_target_hours",
)
#: May be absent: then each route's default SLA applies.
OPTIONAL_COLUMNS: frozenset[str] = frozenset({"sla_target_hours"})
#: Generated columns: PostgreSQL's COPY TO leaves them out; when present they are checked.
DERIVED_COLUMNS: tuple[str, ...] = ("ack_latency_hours", "breached")
#: Stands for a quoted empty string. PostgreSQL text cannot hold NUL, so nothing collides.
EMPTY_STRING = "\x00"

Row = Sequence[str]


class RowChunk(Protocol):
    """Some rows of an export: iterable, with a length."""

    def __iter__(self) -> Iterator[Row]: ...

    def __len__(self) -> int: ...


#: ``(index, row, ack_latency_hours text, breached text)``; None when the column is absent.
Derived = tuple[int, Row, str | None, str | None]

_WIDTH = len(COLUMNS)
_CHUNK_BYTES = 1 << 16  # small enough to stay in cache while split, large enough to amortise
_PARTITIONS = 8
_BOUNDS = [-(1 << 63) + k * (1 << 61) for k in range(1, _PARTITIONS)]
# One CSV field: quoted (with "" escapes, may span lines) or bare (up to , or end of line).
_FIELD = re.compile(r'"((?:[^"]|"")*)"|([^,"\r\n]*)')


def open_records(path: Path, source: str) -> Records:
    """Open ``path`` as CSV or JSON (by suffix, else by its first character)."""
    try:
        with path.open("rb") as probe:
            head = probe.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    except OSError as exc:
        raise SourceError(
            f"cannot read the events file: {exc.strerror or exc}", source=source
        ) from None
    if path.suffix.lower() == ".json" or head[:1] in (b"[", b"{"):
        return JsonRecords(path, source)
    return CsvRecords(path, source)


class Records:
    """Rows of one export in :data:`COLUMNS` order, and what is needed to name a row."""

    source: str
    #: Hashes of the ``ack_event_id`` values given to :meth:`hash_ids`, as native 8-byte
    #: integers, in partitions by their top bits (each can be checked with a set that fits).
    id_hashes: list[bytearray]
    #: Rows read so far by :meth:`chunks`.
    count: int
    #: ``(index, row, latency, breached)`` per row when the export has generated columns.
    derived: Callable[[], Iterator[Derived]] | None = None

    def __init__(self, source: str) -> None:
        self.source = source
        self.id_hashes = [bytearray() for _ in range(_PARTITIONS)]
        self.count = 0

    def chunks(self) -> Iterator[RowChunk]:
        """Every row, once, in chunks (each an iterable of rows with a ``len``)."""
        raise NotImplementedError

    def rows(self) -> Iterable[Row]:
        """Every row, once (:meth:`chunks` chained)."""
        return itertools.chain.from_iterable(self.chunks())

    def reread(self) -> Iterable[Row]:
        """Every row again, as plain lists, without side effects (for the error paths)."""
        raise NotImplementedError

    def row_number(self, index: int) -> int:
        """The row number used in messages for the ``index``-th row (1-based)."""
        raise NotImplementedError

    def locate(self, fields: Row) -> int:
        """The index of the first row that is malformed or equal to ``fields`` (0 if none)."""
        target = list(fields)
        for index, row in enumerate(self.reread(), 1):
            if len(row) != _WIDTH or list(row) == target:
                return index
        return 0

    def hash_ids(self, chunk: RowChunk) -> None:
        """Remember the hashes of a chunk's ``ack_event_id`` values (for the duplicate check)."""
        ids = chunk.fields[0::_WIDTH] if isinstance(chunk, _Flat) else [row[0] for row in chunk]
        # Sorting a chunk's hashes and cutting at the partition bounds keeps this in C; struct
        # packs a slice at once (array.extend converts integer by integer).
        hashes = sorted(map(hash, ids))
        lo = 0
        for part, bound in zip(self.id_hashes, _BOUNDS, strict=False):
            hi = bisect.bisect_left(hashes, bound, lo)
            if hi > lo:
                part += struct.pack(f"{hi - lo}q", *hashes[lo:hi])
                lo = hi
        if lo < len(hashes):
            self.id_hashes[-1] += struct.pack(f"{len(hashes) - lo}q", *hashes[lo:])


def _check_header(header: Sequence[str], source: str, where: Callable[[str], str]) -> list[int]:
    """Position of each of :data:`COLUMNS` in ``header`` (``len(header)``: absent, use NULL)."""
    known = set(COLUMNS) | set(DERIVED_COLUMNS)
    seen: set[str] = set()
    for name in header:
        if name not in known:
            raise GovgateError(
                f"stray column {name!r}: signer_ack_event has "
                f"{', '.join(COLUMNS + DERIVED_COLUMNS)}",
                source=source,
                where=where(name),
            )
        if name in seen:
            raise GovgateError(f"column {name!r} appears twice", source=source, where=where(name))
        seen.add(name)
    missing = [c for c in COLUMNS if c not in seen and c not in OPTIONAL_COLUMNS]
    if missing:
        raise GovgateError(
            f"missing required column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}",
            source=source,
            where=where(""),
        )
    return [header.index(c) if c in seen else len(header) for c in COLUMNS]


# -- CSV ------------------------------------------------------------------------------------


class CsvRecords(Records):
    """A CSV export (``row N`` is the line number, the header being line 1)."""

    def __init__(self, path: Path, source: str) -> None:
        super().__init__(source)
        self.path = path
        #: (row index, lines added so far) after each record that spans several lines.
        self.extra: list[tuple[int, int]] = []
        with self._open() as handle:
            first = handle.readline()
        self.header_bytes = len(first)
        text = self._decode(first, 1).removeprefix("\ufeff")
        if not text.strip():
            raise GovgateError(
                "empty file: expected a CSV header line", source=source, where="row 1"
            )
        parsed, rest = _parse_quoted(text if text.endswith("\n") else text + "\n", 0, [], source)
        if rest or len(parsed) != 1:
            raise GovgateError("cannot read the CSV header line", source=source, where="row 1")
        self.header = parsed[0]
        self.pick = _check_header(
            self.header, source, lambda name: f"row 1, column {name}" if name else "row 1"
        )
        self.canonical = list(self.header) == list(COLUMNS)
        if any(name in self.header for name in DERIVED_COLUMNS):
            self.derived = self._derived

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
        try:
            return self.path.open("rb")
        except OSError as exc:
            raise SourceError(
                f"cannot read the events file: {exc.strerror or exc}", source=self.source
            ) from None

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
        with self._open() as handle:
            handle.seek(self.header_bytes)
            while True:
                data = handle.read(_CHUNK_BYTES)
                if not data:
                    break
                data = carry + data
                cut = data.rfind(b"\n") + 1
                if cut == 0:
                    carry = data
                    continue
                carry = data[cut:]
                shift = extra[-1][1] if extra else 0
                body = self._decode(data[:cut], done + 2 + shift)
                rows, rest = self._split(body, done, extra, safe, raw)
                if rest:
                    carry = rest.encode("utf-8") + carry
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
                    if len(flat) % _WIDTH == 0:
                        return _Flat(flat, len(flat) // _WIDTH), ""
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
                pos += 1 if text[pos] == "\n" else 2
                break
            raise GovgateError(
                f"malformed CSV: unexpected {text[pos]!r} after a field",
                source=source,
                where=f"row {done + len(rows) + 2 + shift}, column {len(row)}",
            )
        rows.append(row)
        if newlines:
            shift += newlines
            extra.append((done + len(rows), shift))
    return rows, ""


# -- JSON -----------------------------------------------------------------------------------

_ABSENT = object()


class JsonRecords(Records):
    """A JSON export (``row N`` is the 0-based index in the array)."""

    def __init__(self, path: Path, source: str) -> None:
        super().__init__(source)
        try:
            data = json.loads(path.read_bytes().decode("utf-8"), parse_float=Decimal)
        except OSError as exc:
            raise SourceError(
                f"cannot read the events file: {exc.strerror or exc}", source=source
            ) from None
        except UnicodeDecodeError as exc:
            raise GovgateError(f"not UTF-8 text ({exc.reason})", source=source) from None
        except json.JSONDecodeError as exc:
            raise GovgateError(
                f"not valid JSON: {exc.msg}", source=source, where=f"line {exc.lineno}"
            ) from None
        items = data.get("rows") if isinstance(data, dict) else data
        if not isinstance(items, list):
            raise GovgateError(
                'expected a JSON array of signer_ack_event objects, or {"rows": [...]}',
                source=source,
            )
        self.items: list[Any] = items
        if any(isinstance(i, dict) and any(c in i for c in DERIVED_COLUMNS) for i in items):
            self.derived = self._derived

    def row_number(self, index: int) -> int:
        return index - 1

    def chunks(self) -> Iterator[RowChunk]:
        rows = [self._row(item, index) for index, item in enumerate(self.items)]
        self.count = len(rows)
        yield rows

    def reread(self) -> Iterable[Row]:
        return (self._row(item, index) for index, item in enumerate(self.items))

    def _derived(self) -> Iterator[Derived]:
        for index, item in enumerate(self.items, 1):
            latency = item.get("ack_latency_hours", _ABSENT)
            breached = item.get("breached", _ABSENT)
            yield (
                index,
                self._row(item, index - 1),
                None if latency is _ABSENT else "" if latency is None else str(latency),
                None if breached is _ABSENT else _json_bool(breached),
            )

    def _row(self, item: Any, index: int) -> list[str]:
        source = self.source
        if not isinstance(item, dict):
            raise GovgateError("expected an object", source=source, where=f"row {index}")
        _check_header(
            list(item),
            source,
            lambda name: f"row {index}, column {name}" if name else f"row {index}",
        )
        out: list[str] = []
        for name in COLUMNS:
            value = item.get(name)
            if value is None:
                out.append("")
            elif isinstance(value, str):
                if "\x00" in value:
                    raise GovgateError(
                        "NUL character in a text value",
                        source=source,
                        where=f"row {index}, column {name}",
                    )
                out.append(value if value else EMPTY_STRING)
            elif (
                name == "sla_target_hours"
                and isinstance(value, int | Decimal)
                and not isinstance(value, bool)
            ):
                out.append(str(value))
            else:
                expected = "a number" if name == "sla_target_hours" else "a string or null"
                raise GovgateError(
                    f"expected {expected}, got {json.dumps(value, default=str)}",
                    source=source,
                    where=f"row {index}, column {name}",
                )
        return out


def _json_bool(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "t" if value else "f"
    return json.dumps(value, default=str)
