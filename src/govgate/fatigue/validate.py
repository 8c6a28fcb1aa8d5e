"""The slow, explicit checks of one ``signer_ack_event`` row, for precise error messages.

The loader's fast path only notices that a row is bad (an exception, a failed lookup); this
module says what is wrong with it, naming the row and the column, in the order of the columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from ..errors import GovgateError
from . import pgnumeric
from .model import ACK_OUTCOMES, OWNER_ROUTES
from .rows import COLUMNS, EMPTY_STRING

__all__ = [
    "FIRST_INSTANT",
    "LAST_INSTANT",
    "TEXT_COLUMNS",
    "RowDiagnosis",
    "check_derived",
    "parse_sla",
    "parse_timestamp",
]

_MAX_SLA_CENTI = 99_999  # NUMERIC(5,2)
#: The instants the heat-map can handle (Python's datetime, with a day of margin).
FIRST_INSTANT = datetime(1, 1, 2, tzinfo=UTC)
LAST_INSTANT = datetime(9999, 12, 30, tzinfo=UTC)
#: Columns that hold identifiers: they must be printable (no control, format or line characters).
TEXT_COLUMNS = ("ack_event_id", "signer_id", "cert_window_id")
_MICRO = timedelta(microseconds=1)
_NULL_HINT = "an empty string is not NULL (NULL is an empty unquoted field)"


def parse_sla(text: str) -> int | str:
    """``sla_target_hours`` in hundredths of an hour, or an error message.

    It is ``NUMERIC(5,2)``: more than 0, at most 999.99, at most two decimals (PostgreSQL would
    silently round a third decimal; we refuse it instead).
    """
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        return f"sla_target_hours {text!r} is not a number"
    # Decimal() also reads Arabic-Indic or full-width digits and "1_0"; PostgreSQL does not.
    if text != text.strip() or not value.is_finite() or not text.isascii() or "_" in text:
        return f"sla_target_hours {text!r} is not a number"
    scaled = value * 100
    if scaled != scaled.to_integral_value():
        return f"sla_target_hours {text} has more than 2 decimals (it is NUMERIC(5,2))"
    centi = int(scaled)
    if centi <= 0 or centi > _MAX_SLA_CENTI:
        return f"sla_target_hours {text} is out of range (it must be > 0 and <= 999.99)"
    return centi


def parse_timestamp(text: str, column: str) -> datetime | str:
    """An aware datetime, or an error message (naive timestamps are refused: all is UTC)."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return f"{column} {text!r} is not an ISO 8601 / PostgreSQL timestamp"
    if value.tzinfo is None or value.utcoffset() is None:
        return f"{column} {text!r} has no UTC offset (write it as ...+00 or ...Z)"
    try:
        utc = value.astimezone(UTC)
    except OverflowError:  # an offset that moves it before year 1 or past 9999
        utc = None
    # A day of margin at both ends: the history starts the day before the first request.
    if utc is None or not FIRST_INSTANT <= utc <= LAST_INSTANT:
        return f"{column} {text!r} is out of range (0001-01-02 .. 9999-12-30 UTC)"
    return value


class RowDiagnosis:
    """Explain why one row was rejected (raise :class:`GovgateError`), or return if it is fine."""

    def __init__(self, source: str, row: int, origin: datetime, defaults: dict[str, int]) -> None:
        self.source = source
        self.row = row
        self.origin = origin
        self.defaults = defaults

    def fail(self, message: str, column: str | None = None) -> None:
        where = f"row {self.row}" + (f", column {column}" if column else "")
        raise GovgateError(message, source=self.source, where=where)

    def explain(self, fields: Sequence[str]) -> None:
        """Raise for the first problem of the row, in column order."""
        if len(fields) != len(COLUMNS):
            self.fail(f"expected {len(COLUMNS)} fields ({','.join(COLUMNS)}), found {len(fields)}")
        row = dict(zip(COLUMNS, fields, strict=True))
        for column in ("ack_event_id", "signer_id", "owner_route", "request_dt_utc"):
            if row[column] in ("", EMPTY_STRING):
                self.fail(f"{column} is empty (the column is NOT NULL)", column)
        for column in ("cert_window_id", "ack_dt_utc", "ack_outcome", "sla_target_hours"):
            if row[column] == EMPTY_STRING:
                self.fail(f"{column}: {_NULL_HINT}", column)
        for column in TEXT_COLUMNS:
            if not row[column].isprintable():
                bad = next(c for c in row[column] if not c.isprintable())
                self.fail(
                    f"{column} contains a control character (U+{ord(bad):04X}): identifiers "
                    "must be printable text",
                    column,
                )
        if row["owner_route"] not in self.defaults:
            declared = [r for r in self.defaults if r not in OWNER_ROUTES]
            self.fail(
                f"unknown owner_route {row['owner_route']!r} (expected one of "
                f"{', '.join([*OWNER_ROUTES, *sorted(declared)])}; a backup_owner_policy may "
                "declare more under owner_routes)",
                "owner_route",
            )
        requested = self._timestamp(row["request_dt_utc"], "request_dt_utc")
        acked = self._timestamp(row["ack_dt_utc"], "ack_dt_utc") if row["ack_dt_utc"] else None
        if acked is not None and requested is not None:
            if acked < requested:
                self.fail(
                    f"ack_dt_utc {row['ack_dt_utc']} is before request_dt_utc "
                    f"{row['request_dt_utc']}",
                    "ack_dt_utc",
                )
            micros = (acked - requested) // _MICRO
            if pgnumeric.latency_centihours(micros) > pgnumeric.MAX_LATENCY_CENTIHOURS:
                self.fail(
                    "ack_latency_hours would exceed 999999.99, the most NUMERIC(8,2) holds",
                    "ack_dt_utc",
                )
        if row["ack_outcome"] and row["ack_outcome"] not in ACK_OUTCOMES:
            self.fail(
                f"unknown ack_outcome {row['ack_outcome']!r} (expected NULL or one of "
                f"{', '.join(ACK_OUTCOMES)})",
                "ack_outcome",
            )
        if row["sla_target_hours"]:
            centi = parse_sla(row["sla_target_hours"])
            if isinstance(centi, str):
                self.fail(centi, "sla_target_hours")

    def _timestamp(self, text: str, column: str) -> datetime | None:
        value = parse_timestamp(text, column)
        if isinstance(value, str):
            self.fail(value, column)
            return None
        try:
            value - self.origin
        except OverflowError:  # pragma: no cover - defensive
            self.fail(f"{column} {text!r} is out of range", column)
        return value


def check_derived(
    fields: Sequence[str],
    latency: str | None,
    breached: str | None,
    defaults: dict[str, int],
    source: str,
    row: int,
) -> None:
    """Check exported ``ack_latency_hours``/``breached`` against the values derived from the row.

    The row itself has already been validated by the loader's pass.
    """
    requested = datetime.fromisoformat(fields[4])
    acked = datetime.fromisoformat(fields[5]) if fields[5] else None
    sla = parse_sla(fields[7]) if fields[7] else defaults[fields[2]]
    assert isinstance(sla, int)
    expected: int | None = None
    if acked is not None:
        micros = (acked - requested) // _MICRO
        expected = pgnumeric.latency_centihours(micros)
    where = f"row {row}, column "
    if latency is not None:
        given = _decimal_or_none(latency)
        want = None if expected is None else pgnumeric.to_decimal(expected, 2)
        if given is ... or given != want:
            raise GovgateError(
                f"ack_latency_hours is {latency or 'NULL'} but the timestamps give "
                f"{'NULL' if want is None else want}",
                source=source,
                where=where + "ack_latency_hours",
            )
    if breached is not None:
        truth = {"t": True, "true": True, "f": False, "false": False}.get(breached.lower())
        want_breached = expected is not None and expected > sla
        if truth is None or truth != want_breached:
            raise GovgateError(
                f"breached is {breached or 'NULL'} but the row gives "
                f"{'t' if want_breached else 'f'} (ack_latency_hours > sla_target_hours)",
                source=source,
                where=where + "breached",
            )


def _decimal_or_none(text: str) -> Decimal | object | None:
    if text == "":
        return None
    if not text.isascii() or "_" in text:
        return ...
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        return ...
    return value if value.is_finite() else ...
