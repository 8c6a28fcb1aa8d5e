"""PostgreSQL push-down: the heat-map reduction runs as SQL inside the team's database.

For ``postgresql://...?table=signer_ack_event`` (the ``postgresql`` source's references, see
docs/sources.md) the rows never cross the wire: one query groups them by signer, cert window and
cell key and returns the cells' exact sums (docs/engines.md), so what travels is signers x
days x a few, not rows. PostgreSQL itself computes ``ack_latency_hours / sla_target_hours`` with
its own NUMERIC division, and ``scale()`` tells at which scale it rounded each row: the averages
come out exactly as the seed's view computes them. The rows that can be pending and aged (about
one in ten, promotions need them) are a second query in the same snapshot (``REPEATABLE READ``).

Bad rows. The push-down vouches only for rows it has checked: every column against the rules
the Python loader applies (NOT NULL, known owner routes and outcomes, timestamps govgate can
hold, an answer not before its request and a latency ``NUMERIC(8,2)`` holds, ``NUMERIC(5,2)``
SLAs above zero), ids outside printable ASCII checked in Python (they come back with their
cell; signer and cert window ids come back anyway), and a unique index on ``ack_event_id``
alone (the table's primary key). When any row fails, or the table is not shaped like
``sql/schema.sql``, the engine steps aside and the table is read the ordinary way, through the
``postgresql`` source and the Python scanner: the result is then the same, and a bad row is
named exactly as in any export.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..hookspecs import hookimpl

if TYPE_CHECKING:
    from collections.abc import Callable, Collection

    from ..fatigue.reduction import Reduction

    #: Given the reduction of the recent rows: the signers whose earlier rows are needed too.
    WholeHistory = Callable[[Reduction], Collection[str]]

NAME = "postgresql"
TABLE = "signer_ack_event"
WORK_MEM = "256MB"

_DAY_US = 86_400_000_000
_MARGIN = timedelta(days=2)
#: Seconds from 0001-01-01 to 1970-01-01 (UTC): instants become microseconds since year 1,
#: never negative, so integer division rounds down.
_YEAR1_TO_EPOCH_S = 62_135_596_800
_YEAR1 = datetime(1, 1, 1, tzinfo=UTC)

# The columns the push-down reads and the types it vouches for (format_type's spelling).
_TEXT_TYPES = frozenset({"text", "character varying"})
_COLUMN_TYPES: Mapping[str, frozenset[str]] = {
    "ack_event_id": _TEXT_TYPES,
    "signer_id": _TEXT_TYPES,
    "owner_route": _TEXT_TYPES,
    "cert_window_id": _TEXT_TYPES,
    "request_dt_utc": frozenset({"timestamp with time zone"}),
    "ack_dt_utc": frozenset({"timestamp with time zone"}),
    "ack_outcome": _TEXT_TYPES,
    "sla_target_hours": frozenset({"numeric"}),
}

_CATALOG = """
SELECT a.attname, regexp_replace(format_type(a.atttypid, a.atttypmod), '\\(.*\\)$', ''),
       EXISTS (SELECT 1 FROM pg_index i
               WHERE i.indrelid = a.attrelid AND i.indisunique AND i.indnatts = 1
                 AND i.indpred IS NULL AND i.indexprs IS NULL AND i.indkey[0] = a.attnum)
FROM pg_attribute a
WHERE a.attrelid = to_regclass(%(table)s) AND a.attnum > 0 AND NOT a.attisdropped
"""

# One row per signer_ack_event row, every value an exact integer (or the ratio, a NUMERIC as
# PostgreSQL rounds it). Expressions that could raise on a bad row (an infinite timestamp, a
# division by zero, an overflowing cast) are guarded: a bad row only sets ``ok`` false. Each
# level is a subquery with OFFSET 0 so that PostgreSQL computes its columns once per row, not
# once per use (a CTE would be inlined, repeating the NUMERIC division in every aggregate).
_ROWS = """
SELECT g.*,
       CASE WHEN ok AND a IS NOT NULL
            THEN GREATEST(16 - 4 * (w1 - w2 - CASE WHEN f1 <= f2 THEN 1 ELSE 0 END), 2)
       END AS rscale
FROM (
  SELECT g.*,
         -- select_div_scale: base-10000 weight and first digit of centi/100 and sla_c/100
         CASE WHEN centi = 0 THEN 0 WHEN centi < 100 THEN -1 WHEN centi < 1000000 THEN 0
              ELSE 1 END AS w1,
         CASE WHEN centi = 0 THEN 0 WHEN centi < 100 THEN centi * 100
              WHEN centi < 1000000 THEN centi / 100 ELSE centi / 1000000 END AS f1,
         CASE WHEN sla_c < 100 THEN -1 ELSE 0 END AS w2,
         CASE WHEN sla_c < 100 THEN sla_c * 100 ELSE sla_c / 100 END AS f2
  FROM (
    SELECT f.*,
           CASE WHEN ok THEN (sla * 100)::integer END AS sla_c,
           day * 41671
             + CASE WHEN a IS NULL THEN 41670
                    ELSE GREATEST(1, (a - %(off)s + 86399999999) / 86400000000 - %(oday)s - day)
               END
             + CASE WHEN outcome IS NULL THEN 1099511627776 ELSE 0 END AS key
    FROM (
      SELECT e.*,
             (r - %(off)s) / 86400000000 - %(oday)s AS day,
             (a - r + 18000000) / 36000000 AS centi,
             COALESCE(id ~ '^[ -~]+$', FALSE) AS plain_id,
             COALESCE(r IS NOT NULL AND s IS NOT NULL AND s <> '' AND w IS DISTINCT FROM ''
                      AND id IS NOT NULL AND route = ANY(%(routes)s::text[])
                      AND (NOT answered OR (a IS NOT NULL AND a >= r
                                            AND (a - r + 18000000) / 36000000 <= 99999999))
                      AND (outcome IS NULL
                           OR outcome IN ('approved', 'rejected', 'reroute_requested', 'timeout'))
                      AND sla > 0 AND sla <= 999.99 AND sla = round(sla, 2), FALSE) AS ok
      FROM (
        SELECT ack_event_id AS id, signer_id AS s, owner_route AS route, cert_window_id AS w,
               ack_outcome AS outcome, ack_dt_utc IS NOT NULL AS answered,
               COALESCE(sla_target_hours, (%(slas)s::numeric[])[
                        array_position(%(routes)s::text[], owner_route)]) AS sla,
               CASE WHEN request_dt_utc BETWEEN %(lo)s AND %(hi)s
                    THEN (EXTRACT(EPOCH FROM request_dt_utc) * 1000000)::bigint
                         + %(shift)s END AS r,
               CASE WHEN ack_dt_utc BETWEEN %(lo)s AND %(hi)s
                    THEN (EXTRACT(EPOCH FROM ack_dt_utc) * 1000000)::bigint
                         + %(shift)s END AS a
        FROM signer_ack_event /*SINCE*/ OFFSET 0
      ) e OFFSET 0
    ) f OFFSET 0
  ) g
) g
"""

# Grouped by the ratio's scale too: a group's rows were all rounded at the same scale, so one
# sum of the rounded ratios per group is exact (NULL scale: no answer, no ratio). Each row's
# ack_latency_hours / sla_target_hours, as PostgreSQL's NUMERIC division rounds it at that
# scale, is centi / sla_c by long division in BIGINT: the whole part, twelve digits, then the
# rest rounded half away from zero (as the DuckDB engine computes it). Every aggregate sums
# integers into a BIGINT (the twelve digits and the rest in halves of six): no aggregate keeps
# a state of its own, so the groups fit one in-memory hash table, never a sort of every row.
_CELLS = """
SELECT s, w, key, rscale, COUNT(*), COALESCE(SUM(centi::integer), 0),
       COUNT(*) FILTER (WHERE centi > sla_c),
       COALESCE(SUM(ratio_whole::integer), 0),
       COALESCE(SUM((ratio_12 / 1000000)::integer), 0),
       COALESCE(SUM((ratio_12 %% 1000000)::integer), 0),
       COALESCE(SUM((ratio_rest / 1000000)::integer), 0),
       COALESCE(SUM((ratio_rest %% 1000000)::integer), 0),
       COUNT(*) FILTER (WHERE NOT ok),
       COUNT(*) FILTER (WHERE NOT plain_id)
FROM (
  SELECT s, w, key, rscale, centi, sla_c, ok, plain_id,
         CASE WHEN rscale IS NOT NULL THEN centi / sla_c END AS ratio_whole,
         CASE WHEN rscale IS NOT NULL
              THEN (centi %% sla_c) * 1000000000000 / sla_c END AS ratio_12,
         CASE WHEN rscale IS NOT NULL
              THEN (2 * ((centi %% sla_c) * 1000000000000 %% sla_c)
                      * CASE rscale WHEN 12 THEN 1 WHEN 16 THEN 10000 WHEN 20 THEN 100000000
                                    WHEN 24 THEN 1000000000000 ELSE 0 END
                    + sla_c) / (2 * sla_c) END AS ratio_rest
  FROM (""" + _ROWS + """) r
) q GROUP BY s, w, key, rscale
"""

# The ids outside printable ASCII (rare), when the cells query counted some: checked in Python.
_OTHER_IDS = """
SELECT ack_event_id FROM (SELECT ack_event_id FROM signer_ack_event /*SINCE*/) t
WHERE NOT COALESCE(ack_event_id ~ '^[ -~]+$', FALSE)
"""

_LATE = """
SELECT id, s, route, w, r - %(origin)s,
       CASE WHEN outcome IS NULL THEN NULL ELSE a - %(origin)s END, sla_c
FROM (""" + _ROWS + """) g
WHERE ok AND (outcome IS NULL OR (a IS NOT NULL AND centi >= sla_c))
ORDER BY id
"""

_FIRST_REQUEST = "SELECT request_dt_utc FROM signer_ack_event ORDER BY ack_event_id LIMIT 1"

# With ``requested_since``: the rows the reduction reads (through the index on
# request_dt_utc) and the rows it does not, which are still checked, all of them.
_SINCE = "WHERE request_dt_utc >= %(since)s"
# The earlier rows of the signers whose whole history is needed (``whole_history``).
_DEEP = "WHERE request_dt_utc < %(since)s AND signer_id = ANY(%(deep)s::text[])"
_SINCE_OR_DEEP = "WHERE request_dt_utc >= %(since)s OR signer_id = ANY(%(deep)s::text[])"
_EARLIER = """
SELECT EXISTS (SELECT 1 FROM signer_ack_event
               WHERE request_dt_utc < %(since)s OR request_dt_utc IS NULL)
"""
# The rows left out, checked with the rules of ``_ROWS``'s ``ok`` written on the timestamps
# themselves (no per-row EXTRACT): r is not NULL when request_dt_utc is within [lo, hi], a when
# ack_dt_utc is; a >= r when ack_dt_utc >= request_dt_utc; (a - r + 18000000) / 36000000 <=
# 99999999 when a - r < 3599999982000000 microseconds. One row per signer (the heat-map counts
# every signer seen): the rows failing a check, and the ids and cert windows of those not all
# printable ASCII (checked in Python, as for the rows read).
_UNREAD = """
SELECT signer_id, COUNT(*) FILTER (WHERE NOT ok),
       array_agg(ARRAY[ack_event_id, cert_window_id]) FILTER (WHERE NOT plain)
FROM (
  SELECT signer_id, ack_event_id, cert_window_id,
         COALESCE(ack_event_id <> ''
                  AND (ack_event_id || COALESCE(cert_window_id, '')) ~ '^[ -~]+$',
                  FALSE) AS plain,
         COALESCE(request_dt_utc BETWEEN %(lo)s AND %(hi)s
                  AND signer_id IS NOT NULL AND signer_id <> ''
                  AND cert_window_id IS DISTINCT FROM '' AND ack_event_id IS NOT NULL
                  AND owner_route = ANY(%(routes)s::text[])
                  AND (ack_dt_utc IS NULL
                       OR (ack_dt_utc BETWEEN %(lo)s AND %(hi)s
                           AND ack_dt_utc >= request_dt_utc
                           AND ack_dt_utc - request_dt_utc
                               < INTERVAL '3599999982000000 microseconds'))
                  AND (ack_outcome IS NULL
                       OR ack_outcome IN ('approved', 'rejected', 'reroute_requested', 'timeout'))
                  AND sla > 0 AND sla <= 999.99 AND sla = round(sla, 2), FALSE) AS ok
  FROM (
    SELECT *, COALESCE(sla_target_hours, (%(slas)s::numeric[])[
                       array_position(%(routes)s::text[], owner_route)]) AS sla
    FROM signer_ack_event
    WHERE request_dt_utc < %(since)s OR request_dt_utc IS NULL OFFSET 0
  ) e
) v
GROUP BY signer_id
"""


class _StepAside(Exception):
    """The push-down cannot vouch for the table: read it the ordinary way."""


def is_events_table(ref: str) -> bool:
    """Whether ``ref`` is a ``postgresql://`` reference to ``signer_ack_event``."""
    from ..sources.postgres import SCHEMES

    scheme = ref.partition("://")[0].lower() if "://" in ref else ""
    if scheme not in SCHEMES:
        return False
    query = ref.partition("?")[2].split("#")[0]
    return f"table={TABLE}" in query.split("&")


@hookimpl
def govgate_reduce_events(ref: str, path: Path | None, engine: str | None,
                          settings: Mapping[str, Any], default_sla: Mapping[str, int],
                          refresh_anchor: datetime | None, pending: bool,
                          requested_since: datetime | None,
                          whole_history: WholeHistory | None) -> Reduction | None:
    # With a file, the rows are already here (the push-down stepped aside, or engine: python).
    if path is not None or engine not in (None, NAME) or not is_events_table(ref):
        return None
    try:
        return reduce_table(ref, settings, default_sla, refresh_anchor, pending,
                            requested_since, whole_history)
    except _StepAside:
        return None


def reduce_table(ref: str, settings: Mapping[str, Any], default_sla: Mapping[str, int],
                 refresh_anchor: datetime | None, pending: bool,
                 requested_since: datetime | None = None,
                 whole_history: WholeHistory | None = None) -> Reduction:
    """Run the reduction in the database ``ref`` names.

    :param requested_since: Reduce only the rows requested at or after it (when rows before it
        exist: ``Reduction.requested_since`` then says so); every other row is still checked.
    :param whole_history: With ``requested_since``: given that reduction, the signers whose
        earlier rows are to be reduced too (in the same snapshot).

    :raises _StepAside: When a row or the table's shape is not one the push-down vouches for.
    :raises SourceError: When the database cannot be read (as the ``postgresql`` source).
    """
    from ..errors import SourceError
    from ..sources.postgres import PostgresSettings, _error_text, parse_ref, read_only_connection

    conninfo, _table = parse_ref(ref)
    cfg = PostgresSettings.from_settings(settings)
    password = cfg.password(ref)
    try:
        import psycopg
    except ImportError:
        raise SourceError("reading PostgreSQL needs psycopg: install govgate[postgres]",
                          source=ref) from None
    try:
        # Every query in one snapshot; work_mem for this transaction only: the cells' hash
        # aggregate (one group per signer, window and cell) spills to disk at the 4 MB default.
        with read_only_connection(conninfo, password=password, timeout=cfg.timeout_seconds,
                                  snapshot=True, work_mem=WORK_MEM) as conn:
            return _reduce(conn, default_sla, refresh_anchor, pending, requested_since,
                           whole_history)
    except psycopg.OperationalError as exc:
        raise SourceError(f"cannot read the database: {_error_text(exc, password)}",
                          source=ref) from None
    except psycopg.Error as exc:
        raise SourceError(f"query failed: {_error_text(exc, password)}", source=ref) from None


def _reduce(conn: Any, default_sla: Mapping[str, int], refresh_anchor: datetime | None,
            pending: bool, since: datetime | None,
            whole_history: WholeHistory | None = None) -> Reduction:
    from ..fatigue.reduction import Reduction, first_row_origin, grid_origin
    from ..fatigue.scan import LateRows
    from ..fatigue.validate import FIRST_INSTANT, LAST_INSTANT

    _check_table(conn)
    if refresh_anchor is not None:
        origin = grid_origin(refresh_anchor)
    else:
        first = conn.execute(_FIRST_REQUEST).fetchone()
        origin = first_row_origin(first[0] if first else None)
    origin_us = (origin - _YEAR1) // timedelta(microseconds=1)
    routes = sorted(default_sla)
    params = {
        "routes": routes,
        "slas": [Decimal(default_sla[r]).scaleb(-2) for r in routes],
        # Two days inside the loader's limits: a row near them is left to the Python scanner.
        "lo": FIRST_INSTANT + _MARGIN, "hi": LAST_INSTANT - _MARGIN,
        "shift": _YEAR1_TO_EPOCH_S * 1_000_000,
        "off": origin_us % _DAY_US, "oday": origin_us // _DAY_US, "origin": origin_us,
    }  # fmt: skip
    where = ""
    unread: frozenset[str] = frozenset()
    if since is not None:
        params["since"] = since
        if conn.execute(_EARLIER, params).fetchone()[0]:
            unread = _check_unread(conn.execute(_UNREAD, params))
            where = _SINCE
        else:
            since = None  # nothing before it: every row is read
    cells: dict[str, Any] = {}
    window_days: dict[str, dict[str, set[int]]] = {}
    count = _cells(conn, where, params, cells, window_days)
    reduction = Reduction(origin, count, cells, window_days, None, since, unread)
    if since is not None and whole_history is not None:
        deep = sorted(set(whole_history(reduction)) & unread)
        if deep:  # their earlier rows too: those signers' whole history is then here
            params["deep"] = deep
            reduction.count += _cells(conn, _DEEP, params, cells, window_days)
            reduction.unread_signers = unread.difference(deep)
            where = _SINCE_OR_DEEP
    if pending:
        reduction.late = LateRows.from_rows(
            conn.execute(_LATE.replace("/*SINCE*/", where), params))
    return reduction


def _check_unread(rows: Any) -> frozenset[str]:
    """The signers of the rows left out; step aside if one of those rows fails a check."""
    signers = set()
    for signer, bad, odd in rows:
        if bad or signer is None or not signer.isprintable():
            raise _StepAside
        for aid, window in odd or ():
            if not aid or not aid.isprintable() or (
                    window is not None and not window.isprintable()):
                raise _StepAside
        signers.add(signer)
    return frozenset(signers)


def _check_table(conn: Any) -> None:
    """The table exists with the columns and types of ``sql/schema.sql`` and a unique index on
    ``ack_event_id`` (the push-down does not look for duplicates itself)."""
    found = {name: (kind, unique)
             for name, kind, unique in conn.execute(_CATALOG, {"table": TABLE}).fetchall()}
    for column, kinds in _COLUMN_TYPES.items():
        if column not in found or found[column][0] not in kinds:
            raise _StepAside
    if not found["ack_event_id"][1]:
        raise _StepAside


def _cells(conn: Any, where: str, params: Mapping[str, Any], cells: dict[str, Any],
           window_days: dict[str, dict[str, set[int]]]) -> int:
    """Fold the cells of the rows ``where`` selects into ``cells`` and ``window_days``.

    :returns: The rows read.
    """
    count, other_ids = _fold(conn.execute(_CELLS.replace("/*SINCE*/", where), params), cells,
                             window_days)
    if other_ids:  # ids outside printable ASCII, checked here as the loader does
        for (aid,) in conn.execute(_OTHER_IDS.replace("/*SINCE*/", where), params):
            if not aid or not aid.isprintable():
                raise _StepAside
    return count


def _fold(rows: Any, cells: dict[str, Any],
          window_days: dict[str, dict[str, set[int]]]) -> tuple[int, int]:
    """Fold the cells query's rows: ``(rows read, ids not all printable ASCII)``."""
    from collections import defaultdict

    from ..fatigue.cells import DAY_SPAN, PENDING_FLAG, SUM_SCALE16, SUM_SCALE20, SUM_SCALE24
    from ..fatigue.reduction import cell_sums

    count = 0
    half_flag = PENDING_FLAG // 2
    shift = {None: 0, 12: 12, 16: 8, 20: 4, 24: 0}  # from the group's scale to 24 digits
    fields = {16: SUM_SCALE16, 20: SUM_SCALE20, 24: SUM_SCALE24}
    other_ids = 0
    for (signer, window, key, rscale, rows_n, latency, breaches, whole, first6, second6,
         rest_high, rest_low, bad, others) in rows:
        if bad or rscale not in shift or signer is None or not signer.isprintable() or (
                window is not None and not window.isprintable()):
            raise _StepAside  # a ratio at another scale: left to the Python scanner as well
        other_ids += others
        first12 = first6 * 1_000_000 + second6
        rest = rest_high * 1_000_000 + rest_low
        count += rows_n
        mine = cells.get(signer)
        if mine is None:
            mine = cells[signer] = defaultdict(int)
            window_days[signer] = {}
        if rscale is None:
            ratio = 0
        else:  # the rounded ratios' sum at rscale digits, then at 24
            ratio = (int(whole) * 10**rscale + int(first12) * 10 ** (rscale - 12)
                     + int(rest)) * 10 ** shift[rscale]
        sums = cell_sums(rows_n, int(latency), breaches, ratio_sum24=ratio)
        if rscale in fields:
            sums += rows_n << fields[rscale]
        mine[key] += sums
        if window is not None:
            day = (key - PENDING_FLAG if key >= half_flag else key) // DAY_SPAN
            window_days[signer].setdefault(window, set()).add(day)
    return count, other_ids
