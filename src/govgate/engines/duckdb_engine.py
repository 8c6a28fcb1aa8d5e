"""DuckDB engine: the heat-map reduction of a large CSV or Parquet export, in DuckDB SQL.

An optional extra (``pip install "govgate[duckdb]"``), used when asked for: ``engine: duckdb``
in the configuration's ``fatigue`` section, or ``govgate heatmap --engine duckdb``. DuckDB
reads the file on every CPU and groups the rows by signer, cert window and cell key; Python
receives the cells' sums (docs/engines.md).

Exactness. DuckDB's DECIMAL arithmetic is not PostgreSQL's NUMERIC (a DECIMAL division is done
in floating point), so DuckDB computes only integers: instants in microseconds, latencies in
hundredths of an hour, and each row's ``ack_latency_hours / sla_target_hours`` as PostgreSQL
rounds it, by integer arithmetic: the result scale from the operands' base-10000 weights and
leading digits (``select_div_scale``, as ``fatigue/pgnumeric.py`` does it), then the quotient
by long division in BIGINT (whole part, twelve digits, the rest rounded half away from zero).
Rows are grouped by that scale too, so each group's three sums are exact; Python puts them
together at 24 decimals and does the averages' NUMERIC rounding.

Bad rows. Timestamps, SLAs and identifiers are read as text and accepted only in the forms the
Python loader surely reads the same way (ISO 8601 / PostgreSQL output with an offset, SLAs
like ``0.5`` or ``24.00``; ids outside printable ASCII, signer and cert window ids are checked
in Python; a value holding a double quote, a blank line or a record over several lines leaves
the CSV's reading to Python).
A CSV with any other row, or one DuckDB cannot parse, is read by the Python scanner
instead: the result is the same, and a bad row is named by its line as always. A Parquet file
has no such fallback: its first bad row is explained (or refused) by its row number.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import GovgateError, UsageError
from ..hookspecs import hookimpl

if TYPE_CHECKING:
    from ..fatigue.reduction import Reduction

NAME = "duckdb"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DAY_US = 86_400_000_000
_MARGIN = timedelta(days=2)
#: Microseconds from 0001-01-01 to 1970-01-01: instants since year 1 are never negative, so
#: DuckDB's integer division (which truncates) rounds them down.
_SHIFT_US = 62_135_596_800_000_000
_TIMESTAMP = (r"^\d{4}-\d{2}-\d{2}[T ]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?"
              r"(Z|[+-]([01]\d|2[0-3])(:?[0-5]\d)?)$")
_SLA = r"^\d{1,3}(\.\d{1,2})?$"
_PRINTABLE_ASCII = r"^[ -~]+$"
_PLAIN_CSV_ID = r"^[ !#-~]+$"  # printable ASCII but the double quote

# The rows as text (``src``: id, s, route, w, rq, ak, oc, sl) -> exact integers per row.
_PER_ROW = """
WITH e AS (
  SELECT rn, id, s, route, w, oc, ak IS NOT NULL AS answered,
         CASE WHEN sl IS NULL THEN (CASE route %(defaults)s END)
              WHEN regexp_full_match(sl, '%(sla)s')
              THEN CAST(CAST(sl AS DECIMAL(5,2)) * 100 AS INTEGER) END AS sla_c,
         CASE WHEN regexp_full_match(rq, '%(ts)s')
              THEN epoch_us(TRY_CAST(rq AS TIMESTAMPTZ)) END AS rq_us,
         CASE WHEN regexp_full_match(ak, '%(ts)s')
              THEN epoch_us(TRY_CAST(ak AS TIMESTAMPTZ)) END AS ak_us
  FROM src
), f AS (
  SELECT *, rq_us + %(shift)d AS r, ak_us + %(shift)d AS a,
         COALESCE(rq_us BETWEEN %(lo)d AND %(hi)d
           AND id IS NOT NULL
           AND s IS NOT NULL AND s <> ''
           AND (w IS NULL OR w <> '')
           AND route IN (%(routes)s)
           AND (NOT answered OR (ak_us BETWEEN %(lo)d AND %(hi)d AND ak_us >= rq_us
                AND (ak_us - rq_us + 18000000) // 36000000 <= 99999999))
           AND (oc IS NULL OR oc IN ('approved', 'rejected', 'reroute_requested', 'timeout'))
           AND sla_c BETWEEN 1 AND 99999, FALSE) AS ok
  FROM e
), g AS (
  SELECT *, (r - %(off)d) // 86400000000 - %(oday)d AS day,
         CASE WHEN ok AND answered THEN (a - r + 18000000) // 36000000 END AS centi
  FROM f
), h AS (
  SELECT *,
         day * 41671
           + CASE WHEN NOT answered THEN 41670
                  ELSE GREATEST(1, (a - %(off)d + 86399999999) // 86400000000 - %(oday)d - day)
             END
           + CASE WHEN oc IS NULL THEN 1099511627776 ELSE 0 END AS key,
         -- select_div_scale: base-10000 weight and first digit of centi/100 and sla_c/100
         CASE WHEN centi = 0 THEN 0 WHEN centi < 100 THEN -1 WHEN centi < 1000000 THEN 0
              ELSE 1 END AS w1,
         CASE WHEN centi = 0 THEN 0 WHEN centi < 100 THEN centi * 100
              WHEN centi < 1000000 THEN centi // 100 ELSE centi // 1000000 END AS f1,
         CASE WHEN sla_c < 100 THEN -1 ELSE 0 END AS w2,
         CASE WHEN sla_c < 100 THEN sla_c * 100 ELSE sla_c // 100 END AS f2
  FROM g
), k AS (
  SELECT *, CASE WHEN centi IS NOT NULL
                 THEN GREATEST(16 - 4 * (w1 - w2 - CASE WHEN f1 <= f2 THEN 1 ELSE 0 END), 2)
            END AS rscale
  FROM h
), rows AS (
  SELECT rn, id, s, route, w, ok, sla_c, centi, key, day, rscale,
         regexp_full_match(id, '%(ascii)s') AS plain_id,
         ok AND (oc IS NULL OR (answered AND centi >= sla_c)) AS late,
         r - %(origin)d AS rq_o, CASE WHEN oc IS NULL THEN NULL ELSE a - %(origin)d END AS ak_o,
         -- centi / sla_c rounded at rscale digits, by long division in BIGINT (a HUGEINT
         -- division costs more): whole part, 12 digits, then the rest, rounded half up.
         centi // sla_c AS ratio_whole,
         (centi %% sla_c) * 1000000000000 // sla_c AS ratio_12,
         (2 * ((centi %% sla_c) * 1000000000000 %% sla_c)
            * CASE rscale WHEN 12 THEN 1 WHEN 16 THEN 10000 WHEN 20 THEN 100000000
                          WHEN 24 THEN 1000000000000 END + sla_c) // (2 * sla_c) AS ratio_rest
  FROM k
)
"""

# One pass over the file: the rows grouped by signer, cert window, cell key and the ratio's
# scale (a group's rows were all rounded at the same scale, so one sum of the rounded ratios per
# group is exact; NULL scale: no answer, no ratio), and beside them the duplicate ids, counted by
# their 64-bit hashes (equal hashes of different ids only send the file to the Python loader,
# which compares the strings). DuckDB streams the rows to both. ``odd``: the ids outside
# printable ASCII (for a CSV also those with a double quote), which Python checks. When
# promotions need them, the late rows (below) are a third part of the same pass.
_GROUPS = _PER_ROW + """
, grouped AS (
  SELECT s, w, key, day, rscale, COUNT(*) AS n, CAST(SUM(centi) AS BIGINT) AS lat,
         COUNT(*) FILTER (WHERE centi > sla_c) AS breaches,
         CAST(SUM(ratio_whole) AS BIGINT) AS whole, SUM(ratio_12) AS first12,
         SUM(ratio_rest) AS rest,
         COUNT(*) FILTER (WHERE NOT ok) AS bad, list(id) FILTER (WHERE NOT plain_id) AS odd
  FROM rows GROUP BY s, w, key, day, rscale
), ids AS (
  SELECT COUNT(*) - COUNT(DISTINCT hash(id)) AS duplicates FROM rows
)
SELECT FALSE AS is_late, * FROM grouped, ids
"""

# The rows that can be pending and aged.
_WITH_LATE = """
UNION ALL BY NAME
SELECT TRUE AS is_late, id, s, route, w, rq_o, ak_o, sla_c FROM rows WHERE late
"""

_TOTALS = """
SELECT COALESCE(SUM(n), 0), COALESCE(SUM(bad), 0), COALESCE(MAX(duplicates), 0),
       flatten(list(odd) FILTER (WHERE odd IS NOT NULL)),
       COUNT(*) FILTER (WHERE rscale NOT IN (12, 16, 20, 24))
FROM groups WHERE NOT is_late
"""

# A cell's sums over its groups, each fetched as a BIGINT (a HUGEINT costs far more to fetch,
# and to divide): the rows per ratio scale, and the ratios' sum at 24 digits as its whole part
# and its fraction (a group's rest has rscale - 12 digits) in two parts of 62 bits.
_CELLS = """
SELECT s, key, CAST(n AS BIGINT), CAST(COALESCE(lat, 0) AS BIGINT), CAST(breaches AS BIGINT),
       CAST(n16 AS BIGINT), CAST(n20 AS BIGINT), CAST(n24 AS BIGINT),
       CAST(COALESCE(whole, 0) AS BIGINT), CAST(COALESCE(fraction, 0) >> 62 AS BIGINT),
       CAST(COALESCE(fraction, 0) & 4611686018427387903 AS BIGINT)
FROM (SELECT s, key, SUM(n) AS n, SUM(lat) AS lat, SUM(breaches) AS breaches,
             SUM(CASE WHEN rscale = 16 THEN n ELSE 0 END) AS n16,
             SUM(CASE WHEN rscale = 20 THEN n ELSE 0 END) AS n20,
             SUM(CASE WHEN rscale = 24 THEN n ELSE 0 END) AS n24, SUM(whole) AS whole,
             SUM(first12 * 1000000000000
                 + rest * CASE rscale WHEN 12 THEN 1000000000000 WHEN 16 THEN 100000000
                                      WHEN 20 THEN 10000 WHEN 24 THEN 1 END) AS fraction
      FROM groups WHERE NOT is_late GROUP BY s, key)
"""

# The request days per signer and cert window (NULL windows are not counted).
_WINDOWS = """
SELECT s, w, list(DISTINCT day) FROM groups WHERE NOT is_late AND w IS NOT NULL GROUP BY s, w
"""

_LATE = "SELECT id, s, route, w, rq_o, ak_o, sla_c FROM groups WHERE is_late ORDER BY id"


class _StepAside(Exception):
    """DuckDB cannot vouch for the file: the Python scanner reads it."""


@hookimpl
def govgate_reduce_events(ref: str, path: Path | None, engine: str | None,
                          settings: Mapping[str, Any], default_sla: Mapping[str, int],
                          refresh_anchor: datetime | None, pending: bool) -> Reduction | None:
    if engine != NAME or path is None:
        return None
    try:
        import duckdb
    except ImportError:
        raise UsageError("the duckdb engine needs DuckDB: pip install 'govgate[duckdb]'",
                         where="fatigue.engine") from None
    from ..fatigue.events import reduce_file
    from ..sources.files import max_bytes
    from ..sources.names import source_name

    limit = max_bytes(settings)
    ref = source_name(ref)  # how messages name it
    parquet = _is_parquet(path)
    if any(char in str(path) for char in "*?[{"):
        # DuckDB would read the name as a glob pattern, perhaps matching other files too.
        if parquet:
            raise UsageError(f"{ref}: the duckdb engine reads no file whose name holds * ? [ "
                             "or {; rename it", where="fatigue.engine")
        return reduce_file(path, dict(default_sla), refresh_anchor=refresh_anchor, source=ref,
                           pending=pending, max_bytes=limit)
    if not parquet and _is_json(path):
        return reduce_file(path, dict(default_sla), refresh_anchor=refresh_anchor, source=ref,
                           pending=pending, max_bytes=limit)
    try:
        return reduce_with_duckdb(path, ref, default_sla, refresh_anchor, pending, parquet,
                                  limit)
    except (_StepAside, duckdb.Error):
        if parquet:
            raise
        return reduce_file(path, dict(default_sla), refresh_anchor=refresh_anchor, source=ref,
                           pending=pending, max_bytes=limit)


def _is_parquet(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(4) == b"PAR1"


def _is_json(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    return path.suffix.lower() == ".json" or head[:1] in (b"[", b"{")


def reduce_with_duckdb(path: Path, ref: str, default_sla: Mapping[str, int],
                       refresh_anchor: datetime | None, pending: bool,
                       parquet: bool, limit: int | None = None) -> Reduction:
    """Reduce ``path`` in a private in-memory DuckDB database.

    :raises _StepAside: When a CSV row is not one DuckDB vouches for.
    :raises GovgateError: For a bad row of a Parquet file.
    """
    import duckdb

    from ..fatigue.reduction import Reduction, first_row_origin, grid_origin
    from ..fatigue.scan import LateRows
    from ..fatigue.validate import FIRST_INSTANT, LAST_INSTANT, parse_timestamp

    con = duckdb.connect(":memory:")
    lines: _LineCount | None = None
    try:
        con.execute("SET TimeZone = 'UTC'")
        source, first_request = (_parquet_source(con, path, ref) if parquet
                                 else _csv_source(path, ref, limit))
        if refresh_anchor is not None:
            origin = grid_origin(refresh_anchor)
        else:
            parsed = None if first_request is None else parse_timestamp(first_request,
                                                                        "request_dt_utc")
            origin = first_row_origin(parsed if isinstance(parsed, datetime) else None)
        origin_us = (origin - _EPOCH) // timedelta(microseconds=1) + _SHIFT_US
        routes = sorted(default_sla)
        values = {
            "defaults": " ".join(f"WHEN {_quote(r)} THEN {default_sla[r]}" for r in routes),
            "routes": ", ".join(_quote(r) for r in routes),
            "sla": _SLA, "ts": _TIMESTAMP,
            # In a CSV, an id with a double quote is left to the Python loader's CSV reader.
            "ascii": _PRINTABLE_ASCII if parquet else _PLAIN_CSV_ID,
            "shift": _SHIFT_US,
            # Two days inside the loader's limits: a row near them is left to Python.
            "lo": (FIRST_INSTANT + _MARGIN - _EPOCH) // timedelta(microseconds=1),
            "hi": (LAST_INSTANT - _MARGIN - _EPOCH) // timedelta(microseconds=1),
            "off": origin_us % _DAY_US, "oday": origin_us // _DAY_US, "origin": origin_us,
        }  # fmt: skip
        con.execute(f"CREATE TEMP VIEW src AS {source}")
        if not parquet:
            lines = _LineCount(path)  # beside DuckDB, in a thread
        query = _GROUPS + (_WITH_LATE if pending else "")
        con.execute(f"CREATE TEMP TABLE groups AS {query % values}")
        total, bad, duplicates, odd, scales = con.execute(_TOTALS).fetchone() or (0,) * 5
        if scales:  # pragma: no cover - the scale arithmetic above has a hole
            raise AssertionError("a latency/SLA ratio came out at another scale than 12, 16, "
                                 "20 or 24")
        if lines is not None and lines.result() != total + 1:
            # A blank line (DuckDB skips it, the Python loader refuses it) or a value over
            # several lines (never valid here): the Python loader names the line.
            raise _StepAside
        if bad:
            if parquet:
                _explain_parquet(con, ref, origin, default_sla, values)
            raise _StepAside
        if duplicates and not parquet:
            raise _StepAside
        _check_other_ids(odd or (), ref, parquet)
        cells, window_days = _collect(con, ref, parquet)
        if duplicates:  # equal hashes: are two ids equal?
            _duplicate_parquet_id(con, ref)
        late = LateRows.from_rows(con.execute(_LATE).fetchall()) if pending else None
        return Reduction(origin, int(total), cells, window_days, late)
    finally:
        con.close()
        if lines is not None:
            lines.join()


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _csv_source(path: Path, ref: str, limit: int | None = None) -> tuple[str, str | None]:
    """The CSV's rows as text columns (the header checked by the Python loader's rules), and
    the first row's request instant as written (the grid origin may come from it)."""
    from ..fatigue.csvrows import CsvRecords
    from ..fatigue.rows import COLUMNS, DERIVED_COLUMNS
    from ..sources.files import DEFAULT_MAX_BYTES

    records = CsvRecords(path, ref, DEFAULT_MAX_BYTES if limit is None else limit)
    header = list(records.header)
    if any(name in header for name in DERIVED_COLUMNS):
        raise _StepAside  # the Python loader checks the generated columns row by row
    first = next(iter(records.reread()), None)
    first_request = first[4] if first is not None and len(first) > 4 else None
    columns = ", ".join(f"{_quote(name)}: 'VARCHAR'" for name in header)
    picked = [(_ident(name) if name in header else "NULL") for name in COLUMNS]
    reader = (f"read_csv({_quote(str(path))}, header = true, delim = ',', quote = '\"', "
              f"escape = '\"', columns = {{{columns}}}, auto_detect = false, "
              "allow_quoted_nulls = false, strict_mode = true, null_padding = false)")
    return _select(picked, reader), first_request


class _LineCount:
    """:func:`_line_count` of a file in a thread of its own, while DuckDB reads the file (its
    query releases the GIL)."""

    def __init__(self, path: Path) -> None:
        import threading

        self._count: int | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(path,), daemon=True)
        self._thread.start()

    def _run(self, path: Path) -> None:
        try:
            self._count = _line_count(path)
        except BaseException as exc:  # handed to the caller by result()
            self._error = exc

    def join(self) -> None:
        self._thread.join()

    def result(self) -> int:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._count is not None
        return self._count


def _line_count(path: Path) -> int:
    """Lines in the file (the last one may lack its newline)."""
    count = 0
    last = b"\n"
    with path.open("rb") as handle:
        while block := handle.read(8 << 20):
            count += block.count(b"\n")
            last = block[-1:]
    return count + (last != b"\n")


def _parquet_source(con: Any, path: Path, ref: str) -> tuple[str, str | None]:
    from ..fatigue.rows import COLUMNS, DERIVED_COLUMNS, check_header

    plain = f"read_parquet({_quote(str(path))})"
    header = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {plain}").fetchall()]
    reader = f"read_parquet({_quote(str(path))}, file_row_number = true)"
    check_header(header, ref, lambda name: f"column {name}" if name else "columns")
    if any(name in header for name in DERIVED_COLUMNS):
        raise GovgateError("the duckdb engine reads the 8 input columns of signer_ack_event; "
                           "leave out ack_latency_hours and breached", source=ref)
    picked = [f"CAST({_ident(name)} AS VARCHAR)" if name in header else "NULL"
              for name in COLUMNS]
    query = _select(picked, reader, "file_row_number + 1")
    first = con.execute(f"{query} WHERE file_row_number = 0").fetchone()
    return query, (first[5] if first else None)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _select(picked: list[str], reader: str, row_number: str = "NULL") -> str:
    names = ("id", "s", "route", "w", "rq", "ak", "oc", "sl")
    return (f"SELECT {row_number} AS rn, "
            + ", ".join(f"{p} AS {n}" for p, n in zip(picked, names, strict=True))
            + f" FROM {reader}")


def _duplicate_parquet_id(con: Any, ref: str) -> None:
    """Name the (first) id a Parquet file holds twice; return when two ids only had the same
    hash."""
    duplicate = con.execute("SELECT id FROM src GROUP BY id HAVING COUNT(*) > 1 "
                            "ORDER BY id LIMIT 1").fetchone()
    if duplicate is not None:
        raise GovgateError(f"duplicate ack_event_id {duplicate[0]!r}", source=ref,
                           where="column ack_event_id")


def _explain_parquet(con: Any, ref: str, origin: datetime, default_sla: Mapping[str, int],
                     values: Mapping[str, object]) -> None:
    """Name the first bad row of a Parquet file (1-based, in file order) and stop."""
    from ..fatigue.validate import RowDiagnosis

    numbered = con.execute(_PER_ROW % values + "SELECT min(rn) FROM rows WHERE NOT ok").fetchone()
    number = int(numbered[0]) if numbered and numbered[0] is not None else 0
    row = con.execute("SELECT id, s, route, w, rq, ak, oc, sl FROM src WHERE rn = ?",
                      [number]).fetchone()
    fields = ["" if value is None else str(value) for value in (row or ())]
    RowDiagnosis(ref, number, origin, dict(default_sla)).explain(fields)
    raise GovgateError("a value is not in a form the duckdb engine reads (timestamps as ISO "
                       "8601 with an offset, SLAs like 0.50, ids in printable ASCII)",
                       source=ref, where=f"row {number}")


def _collect(con: Any, ref: str, parquet: bool
             ) -> tuple[dict[str, Mapping[int, int]], dict[str, dict[str, set[int]]]]:
    """The cells and the request days per cert window, from the groups (signer and cert
    window ids checked as the Python loader does)."""
    from ..fatigue.reduction import cell_sums

    cells: dict[str, dict[int, int]] = {}
    window_days: dict[str, dict[str, set[int]]] = {}
    for (signer, key, n, latency, breaches, scale16, scale20, scale24, whole, high,
         low) in con.execute(_CELLS).fetchall():
        mine = cells.get(signer)
        if mine is None:
            _check_id("signer_id", signer, ref, parquet)
            mine = cells[signer] = {}
            window_days[signer] = {}
        ratio = whole * 10**24 + (high << 62) + low  # at 24 digits
        mine[key] = cell_sums(n, latency, breaches, scale16, scale20, scale24, ratio)
    checked: set[str] = set()
    for signer, window, days in con.execute(_WINDOWS).fetchall():
        if window not in checked:
            _check_id("cert_window_id", window, ref, parquet)
            checked.add(window)
        window_days[signer][window] = set(days)
    return dict(cells), window_days


def _check_other_ids(ids: Iterable[str], ref: str, parquet: bool) -> None:
    """ids outside printable ASCII (or, in a CSV, with a double quote), checked as the Python
    loader does."""
    for aid in ids:
        if aid and aid.isprintable() and (parquet or '"' not in aid):
            continue
        if not parquet:
            raise _StepAside
        raise GovgateError("an ack_event_id is empty or not printable text", source=ref,
                           where="column ack_event_id")


def _check_id(column: str, value: str, ref: str, parquet: bool) -> None:
    """Signer and cert window ids must be printable; in a CSV, a double quote in one leaves
    the file to the Python loader's CSV reader."""
    if value.isprintable() and (parquet or '"' not in value):
        return
    if not parquet:
        raise _StepAside
    raise GovgateError(f"{column} {value!r} contains a control character: identifiers "
                       "must be printable text", source=ref, where=f"column {column}")
