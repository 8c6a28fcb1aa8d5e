"""Reporting periods: a calendar quarter, a calendar month or an explicit window, in UTC.

Every period is half-open, ``[start, end)``, like the reconciliation windows of lesson 166, so
consecutive periods neither overlap nor leave a gap. A document for a period is evaluated at
its close, ``min(end, as_of)``: a period that is still open at as-of is reported as it stood then
(and says so), never with events from after as-of.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from ..errors import UsageError
from ..timeutil import format_instant, parse_instant

__all__ = ["Period", "month", "next_month_start", "quarter", "window"]

_QUARTER = re.compile(r"^(?P<year>\d{4})-?Q(?P<q>[1-4])$", re.IGNORECASE)
_MONTH = re.compile(r"^(?P<year>\d{4})-(?P<month>\d{2})$")


@dataclass(frozen=True, slots=True)
class Period:
    """A labelled half-open UTC interval ``[start, end)``."""

    #: ``2026-Q4``, ``2026-10`` or ``<start>..<end>`` for an explicit window.
    label: str
    start: datetime
    end: datetime
    #: A short, file-name-safe form of the label (``2026-Q4``, ``2026-10``,
    #: ``20261001T000000Z-20261101T000000Z``).
    slug: str

    def close(self, as_of: datetime) -> datetime:
        """The instant the period is evaluated at: its end, or as-of while it is still open."""
        return min(self.end, as_of)

    def is_open_at(self, as_of: datetime) -> bool:
        """Whether the period had not ended yet at ``as_of`` (the document is partial)."""
        return as_of < self.end

    def contains(self, at: datetime) -> bool:
        return self.start <= at < self.end

    def describe(self) -> str:
        """``2026-10-01T00:00:00Z to 2027-01-01T00:00:00Z (end exclusive)``."""
        return f"{format_instant(self.start)} to {format_instant(self.end)} (end exclusive)"


def _add_months(year: int, month_number: int, count: int) -> tuple[int, int]:
    index = year * 12 + (month_number - 1) + count
    return index // 12, index % 12 + 1


def quarter(text: str, *, option: str = "--quarter") -> Period:
    """Parse ``2026-Q4`` (also ``2026Q4``, ``2026-q4``).

    :raises UsageError: For anything else, with a one-line message naming the option.
    """
    match = _QUARTER.match(text.strip())
    if match is None:
        raise UsageError(f"expected a quarter like 2026-Q4, got {text!r}", source=option)
    year, q = int(match["year"]), int(match["q"])
    first = 3 * (q - 1) + 1
    end_year, end_month = _add_months(year, first, 3)
    return Period(f"{year}-Q{q}", datetime(year, first, 1, tzinfo=UTC),
                  datetime(end_year, end_month, 1, tzinfo=UTC), f"{year}-Q{q}")


def month(text: str, *, option: str = "--month") -> Period:
    """Parse ``2026-10``.

    :raises UsageError: For anything else (``2026-13``, ``2026-1``, ``October``).
    """
    match = _MONTH.match(text.strip())
    if match is None or not 1 <= int(match["month"]) <= 12:
        raise UsageError(f"expected a month like 2026-10, got {text!r}", source=option)
    year, number = int(match["year"]), int(match["month"])
    end_year, end_month = _add_months(year, number, 1)
    label = f"{year}-{number:02d}"
    return Period(label, datetime(year, number, 1, tzinfo=UTC),
                  datetime(end_year, end_month, 1, tzinfo=UTC), label)


def window(start_text: str, end_text: str) -> Period:
    """An explicit window from ``--from`` (inclusive) to ``--to`` (exclusive), both UTC instants.

    :raises UsageError: When either is not an instant with an offset or the window is empty.
    """
    # parse_instant raises a GovgateError, which already exits with code 2 and one line.
    start = parse_instant(start_text, source="--from")
    end = parse_instant(end_text, source="--to")
    if end <= start:
        raise UsageError(f"--to {end_text!r} must be after --from {start_text!r}",
                         source="--to")
    label = f"{format_instant(start)}..{format_instant(end)}"
    slug = f"{start:%Y%m%dT%H%M%SZ}-{end:%Y%m%dT%H%M%SZ}"
    return Period(label, start, end, slug)


def next_month_start(period: Period) -> datetime:
    """The first instant of the calendar month after the one ``period`` ends in (or at)."""
    end = period.end
    if end.day == 1 and end.time() == datetime.min.time():
        return end
    year, number = _add_months(end.year, end.month, 1)
    return datetime(year, number, 1, tzinfo=UTC)
