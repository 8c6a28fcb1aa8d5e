"""UTC instants and ISO 8601 durations, parsed strictly.

Every instant in govgate is UTC. A timestamp without an offset is bad input, never "local time".
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from .errors import GovgateError

# ASCII digits only: Python's \d and int() also take Arabic-Indic or full-width digits.
_DURATION = re.compile(
    r"^P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?\Z",
    re.ASCII,
)
#: Digits of one duration component: enough for any duration a timedelta holds.
_MAX_DURATION_DIGITS = 12


def parse_instant(
    value: object, *, source: str | None = None, where: str | None = None
) -> datetime:
    """Parse an ISO 8601 timestamp that carries an explicit offset and return it in UTC."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str):
        text = value.strip()
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            raise GovgateError(
                f"expected an ISO 8601 timestamp with a UTC offset, got {value!r}",
                source=source,
                where=where,
            ) from None
    else:
        raise GovgateError(
            f"expected an ISO 8601 timestamp with a UTC offset, got {value!r}",
            source=source,
            where=where,
        )
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise GovgateError(
            f"timestamp {value!s} has no UTC offset (write it as ...Z or ...+00:00)",
            source=source,
            where=where,
        )
    try:
        return dt.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is before year 1 in UTC
        raise GovgateError(f"timestamp {value!r} is out of range in UTC", source=source,
                           where=where) from None


def format_instant(dt: datetime) -> str:
    """Render an instant canonically: ``2026-11-20T00:00:00Z`` (microseconds only when set)."""
    dt = dt.astimezone(UTC)
    text = dt.strftime("%Y-%m-%dT%H:%M:%S")
    if dt.microsecond:
        text += f".{dt.microsecond:06d}"
    return text + "Z"


def parse_duration(
    value: object, *, source: str | None = None, where: str | None = None
) -> timedelta:
    """Parse an ISO 8601 duration such as ``P7D`` or ``PT6H`` (no months or years: they vary)."""
    match = _DURATION.match(value) if isinstance(value, str) else None
    if not match or value == "P" or str(value).endswith("T"):
        raise GovgateError(
            f"expected an ISO 8601 duration like P7D or PT12H, got {value!r}",
            source=source,
            where=where,
        )
    values = {k: v for k, v in match.groupdict().items() if v}
    try:
        if any(len(v) > _MAX_DURATION_DIGITS for v in values.values()):
            raise OverflowError  # before int(): it raises ValueError beyond 4,300 digits
        return timedelta(**{k: int(v) for k, v in values.items()})
    except OverflowError:
        raise GovgateError(f"duration {str(value)[:40]!r} is out of range", source=source,
                           where=where) from None


def format_duration(delta: timedelta) -> str:
    """Render a duration as ISO 8601 (``P7DT6H``); the inverse of :func:`parse_duration`."""
    total = int(delta.total_seconds())
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    out = "P" + (f"{days}D" if days else "")
    clock = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    clock += f"{seconds}S" if seconds else ""
    if clock:
        out += "T" + clock
    return out if out != "P" else "PT0S"
