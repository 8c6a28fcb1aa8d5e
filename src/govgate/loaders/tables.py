"""Tables (CSV with a header, or JSON/YAML lists of objects) with their row numbers.

A large export (a scheduler export of years of runs) is held whole, so a row is lean: its cells
in a tuple beside the header tuple every row of the table shares, with ``__slots__`` (no
per-row dict of column names, no per-row ``__dict__``), and the CSV text is read line by line
(no second copy of the whole text). ``benchmarks/bench_table_memory.py`` prints the figures.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from ..errors import GovgateError
from .documents import parse_document, schema_validator

#: A line as ``io.StringIO(newline="")`` cuts them (``\r\n``, ``\r`` or ``\n``), for csv.
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


class Row:
    """One row: its values (empty CSV cells are None) and where it came from."""

    __slots__ = ("cells", "columns", "number", "source")

    def __init__(self, values: Mapping[str, Any], number: int, source: str) -> None:
        self.columns: tuple[str, ...] = tuple(values)
        self.cells: tuple[Any, ...] = tuple(values.values())
        #: 1-based line in the file for CSV (the header is line 1), index + 1 for JSON/YAML.
        self.number = number
        self.source = source

    @classmethod
    def of(cls, columns: tuple[str, ...], cells: tuple[Any, ...], number: int,
           source: str) -> Row:
        """A row from cells in the order of ``columns`` (shared by every row of a table)."""
        row = cls.__new__(cls)
        row.columns, row.cells, row.number, row.source = columns, cells, number, source
        return row

    @property
    def values(self) -> dict[str, Any]:
        """Column -> value (a new dict on each access: keep it while using it)."""
        return dict(zip(self.columns, self.cells, strict=True))

    def get(self, column: str, default: Any = None) -> Any:
        """The value of one column (no dict is built)."""
        try:
            return self.cells[self.columns.index(column)]
        except ValueError:
            return default

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Row):
            return NotImplemented
        return (self.values, self.number, self.source) == (other.values, other.number,
                                                           other.source)

    __hash__ = None  # type: ignore[assignment]  # mutable-looking values, as before

    def __repr__(self) -> str:
        return f"Row(values={self.values!r}, number={self.number!r}, source={self.source!r})"

    def where(self, column: str | None = None) -> str:
        return f"row {self.number}" + (f", column {column}" if column else "")


def is_csv(source: str) -> bool:
    """CSV is chosen by the ``.csv`` suffix: of a URL's path (a signed URL's query string
    follows it), and always for a database table (the PostgreSQL source answers CSV)."""
    if "://" not in source:
        return source.endswith(".csv")
    parts = urlsplit(source)
    return parts.scheme.lower() in ("postgresql", "postgres") or parts.path.endswith(".csv")


def read_table(data: bytes, source: str, kind: str) -> list[Row]:
    """Parse a table and validate every row against the row schema of ``kind``.

    ``source`` is the reference as written; rows are named by its source name (never a signed
    URL's query string).
    """
    from ..sources.names import source_name

    source = source_name(source)
    if is_csv(source):
        rows = _read_csv(data, source)
    else:
        doc = parse_document(data, source)
        items = doc.data.get("rows") if isinstance(doc.data, dict) else doc.data
        if not isinstance(items, list):
            raise GovgateError("expected a list of rows (or a mapping with 'rows')", source=source)
        rows = []
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                raise GovgateError("expected an object", source=source, where=f"row {index + 1}")
            rows.append(Row(item, index + 1, source))
    validate_rows(rows, kind)
    return rows


def _read_csv(data: bytes, source: str) -> list[Row]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise GovgateError(f"not UTF-8 text (byte {exc.start})", source=source) from None
    reader = csv.reader(_lines(text))
    try:
        header = next(reader)
    except StopIteration:
        raise GovgateError("empty file: expected a header row", source=source,
                           where="row 1") from None
    except csv.Error as exc:
        raise GovgateError(f"invalid CSV: {exc}", source=source, where="row 1") from None
    header = [h.strip() for h in header]
    columns = tuple(header)
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise GovgateError(f"duplicate columns {dupes}", source=source, where="row 1")
    rows: list[Row] = []
    try:
        for record in reader:
            line = reader.line_num
            if not record or all(not cell.strip() for cell in record):
                continue
            if len(record) != len(header):
                raise GovgateError(
                    f"expected {len(header)} cells like the header, found {len(record)}",
                    source=source, where=f"row {line}",
                )
            rows.append(Row.of(columns, tuple(cell if cell != "" else None for cell in record),
                               line, source))
    except csv.Error as exc:
        raise GovgateError(f"invalid CSV: {exc}", source=source,
                           where=f"row {reader.line_num}") from None
    return rows


def _lines(text: str) -> Iterator[str]:
    """The lines of ``text`` one at a time, ends kept (csv joins a quoted field's lines)."""
    for match in _LINE.finditer(text):
        yield match.group()


def validate_rows(rows: list[Row], kind: str) -> None:
    """Validate rows with the row schema; the first error names row and column."""
    from .documents import _fast_check

    fast = _fast_check(kind)
    for row in rows:
        # The compiled yes/no check first (as documents.validate); jsonschema names the error.
        try:
            if fast is not None and fast(row.values):
                continue
        except Exception:  # whatever the fast path trips on, jsonschema decides
            pass
        import jsonschema

        error = jsonschema.exceptions.best_match(schema_validator(kind).iter_errors(row.values))
        if error is None:
            continue
        from .documents import _describe

        column = str(error.absolute_path[0]) if error.absolute_path else None
        if error.validator == "required":
            column = error.message.split("'")[1]
        elif error.validator == "additionalProperties":
            column = None
        raise GovgateError(_describe(error), source=row.source, where=row.where(column))


def unique(rows: list[Row], column: str) -> None:
    """Refuse two rows with the same value in ``column``, naming both rows."""
    seen: dict[Any, int] = {}
    for row in rows:
        value = row.get(column)
        if value is None:
            continue
        if value in seen:
            raise GovgateError(
                f"duplicate {column} {value!r} (also on row {seen[value]})",
                source=row.source, where=row.where(column),
            )
        seen[value] = row.number
