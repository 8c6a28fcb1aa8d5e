"""Read ``signer_ack_event`` exports into rows of eight strings, fast, with their row numbers.

A row holds the eight columns of :data:`COLUMNS` in that order; ``""`` is SQL NULL and
:data:`EMPTY_STRING` marks a non-NULL empty string (never valid in this table, so the loader can
name it). CSV (``csvrows.py``) is read the way ``COPY ... TO ... (FORMAT csv, HEADER)`` writes it;
JSON is an array of objects, or an object with a ``rows`` array.

The loader hands the ``ack_event_id`` values of each chunk to :meth:`Records.hash_ids`, which
keeps their 8-byte hashes (``ids.py``), so duplicates can be found without holding a million
strings.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from ..errors import GovgateError, SourceError
from .ids import EventIds

__all__ = [
    "COLUMNS",
    "DERIVED_COLUMNS",
    "EMPTY_STRING",
    "OPTIONAL_COLUMNS",
    "WIDTH",
    "Records",
    "RowChunk",
    "check_header",
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

#: Fields per row.
WIDTH = len(COLUMNS)


def open_records(path: Path, source: str, max_bytes: int | None = None) -> Records:
    """Open ``path`` as CSV or JSON (by suffix, else by its first character).

    Only a regular file of at most ``max_bytes`` (default: ``sources.max_bytes``'s default) is
    read, and the cap holds while it is read (see :func:`govgate.sources.files.open_input`).
    """
    from ..sources.files import DEFAULT_MAX_BYTES, open_input

    limit = DEFAULT_MAX_BYTES if max_bytes is None else max_bytes
    try:
        with open_input(path, source, limit) as probe:
            head = probe.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    except OSError as exc:
        raise SourceError(
            f"cannot read the events file: {exc.strerror or exc}", source=source
        ) from None
    if path.suffix.lower() == ".json" or head[:1] in (b"[", b"{"):
        return JsonRecords(path, source, limit)
    from .csvrows import CsvRecords

    return CsvRecords(path, source, limit)


class Records:
    """Rows of one export in :data:`COLUMNS` order, and what is needed to name a row."""

    source: str
    #: The ``ack_event_id`` values given to :meth:`hash_ids`, as hashes.
    ids: EventIds
    #: Rows read so far by :meth:`chunks`.
    count: int
    #: ``(index, row, latency, breached)`` per row when the export has generated columns.
    derived: Callable[[], Iterator[Derived]] | None = None

    def __init__(self, source: str) -> None:
        self.source = source
        self.ids = EventIds()
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
        """The index of the first row that is malformed, or equal to ``fields`` (0 if none).

        When the row equal to ``fields`` is followed by a malformed one, that one: a row of the
        wrong width fails while unpacking, before its values replace the previous row's.
        """
        target = list(fields)
        found = 0
        for index, row in enumerate(self.reread(), 1):
            if len(row) != WIDTH:
                return index
            if found:
                return found
            if list(row) == target:
                found = index
        return found

    def hash_ids(self, chunk: RowChunk) -> list[str]:
        """Remember the hashes of a chunk's ``ack_event_id`` values (for the duplicate check).

        :returns: The values.
        """
        flat = getattr(chunk, "fields", None)  # a quote-free CSV chunk: every 8th field
        ids: list[str] = flat[0::WIDTH] if flat is not None else [r[0] for r in chunk if r]
        self.ids.add(ids)
        return ids


def check_header(header: Sequence[str], source: str, where: Callable[[str], str]) -> list[int]:
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


# -- JSON -----------------------------------------------------------------------------------

_ABSENT = object()


class JsonRecords(Records):
    """A JSON export (``row N`` is the 0-based index in the array)."""

    def __init__(self, path: Path, source: str, limit: int) -> None:
        from ..sources.files import read_input

        super().__init__(source)
        try:
            from ..loaders.documents import loads_json

            # Exact numbers (Decimal, ints bounded before int() meets its 4,300-digit limit),
            # no NaN, unique keys: the same reading as every other JSON input.
            data = loads_json(read_input(path, source, limit).decode("utf-8"), source)
        except RecursionError:
            raise GovgateError("document nested too deeply", source=source) from None
        except OSError as exc:
            raise SourceError(
                f"cannot read the events file: {exc.strerror or exc}", source=source
            ) from None
        except UnicodeDecodeError as exc:
            raise GovgateError(f"not UTF-8 text ({exc.reason})", source=source) from None
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
        check_header(
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
