"""Five-field cron expressions evaluated in an IANA time zone, yielding UTC instants.

Why not a library: the rules that matter here (which local times exist, which run twice) must be
exact, documented and pinned by tests; a hundred lines of our own are easier to hold to that than
a dependency whose daylight-saving behaviour has changed between releases.

Syntax (Vixie cron / cronie): ``minute hour day-of-month month day-of-week``; each field is a
comma list of ``*``, ``N``, ``N-M`` with an optional ``/STEP`` after ``*`` or a range; months
``JAN``-``DEC`` and weekdays ``SUN``-``SAT`` by name (case-insensitive, also inside ranges);
weekday ``0`` and ``7`` are Sunday. When both day fields are restricted (neither starts with
``*``) a day matches if EITHER matches; otherwise both must (the standard day rule).

Daylight-saving changes (cronie's rule, which Vixie cron introduced):

- a local time that does not exist (clocks spring forward over it) runs once at the first
  instant after the gap, for a *fixed-time* expression; an expression whose minute or hour
  field starts with ``*`` (a *wildcard* one, e.g. hourly) simply has no run there;
- a local time that occurs twice (clocks fall back) runs once, at its first occurrence, for a
  fixed-time expression; a wildcard expression runs at both occurrences, so an hourly job still
  runs every real hour.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

_MONTHS = {name: i for i, name in enumerate(
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1)}
_DAYS = {name: i for i, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))}
#: (name, low, high, names) per field, in the order they are written.
_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}), ("hour", 0, 23, {}), ("day-of-month", 1, 31, {}),
    ("month", 1, 12, _MONTHS), ("day-of-week", 0, 7, _DAYS))
#: February 29 exists; a day-of-month beyond a month's longest length never matches.
_LONGEST = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


class CronError(ValueError):
    """A cron expression that cannot be read; the message says which field and why."""


@dataclass(frozen=True, slots=True)
class CronExpr:
    text: str
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday .. 6 = Saturday
    days_restricted: bool
    weekdays_restricted: bool
    #: Minute or hour field starts with ``*``: no catch-up in a gap, both runs in an overlap.
    wildcard: bool

    def matches_day(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        in_days = day.day in self.days
        in_weekdays = (day.isoweekday() % 7) in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return in_days or in_weekdays
        return in_days and in_weekdays


def _number(text: str, field: str, low: int, high: int, names: dict[str, int]) -> int:
    value = names.get(text.upper())
    if value is None:
        if not (text.isascii() and text.isdigit()):
            raise CronError(f"{field} field: {text!r} is not a number"
                            + (f" or a name ({', '.join(names)})" if names else ""))
        value = int(text)
    if not low <= value <= high:
        raise CronError(f"{field} field: {value} is outside {low}-{high}")
    return value


def _field(text: str, field: str, low: int, high: int, names: dict[str, int]) -> set[int]:
    values: set[int] = set()
    for item in text.split(","):
        body, slash, step_text = item.partition("/")
        step = 1
        if slash:
            if not (step_text.isascii() and step_text.isdigit()) or int(step_text) == 0:
                raise CronError(f"{field} field: step {step_text!r} must be a positive number")
            step = int(step_text)
        if body == "*":
            first, last = low, high
        elif "-" in body:
            a, _, b = body.partition("-")
            first, last = (_number(a, field, low, high, names),
                           _number(b, field, low, high, names))
            if first > last:
                raise CronError(f"{field} field: range {body!r} runs backwards")
        else:
            if slash:
                # Vixie cron reads N/S as N; cronie as N-max/S. Refuse rather than guess.
                raise CronError(f"{field} field: {item!r} is ambiguous: write "
                                f"{body}-{high}/{step_text} or {body}")
            first = last = _number(body, field, low, high, names)
        values.update(range(first, last + 1, step))
    return values


def parse_cron(text: str) -> CronExpr:
    """Read a five-field cron expression; raises :class:`CronError` naming the bad field."""
    parts = text.split()
    if len(parts) != 5:
        raise CronError(f"expected 5 fields (minute hour day-of-month month day-of-week), "
                        f"got {len(parts)}")
    sets = []
    for part, (field, low, high, names) in zip(parts, _FIELDS, strict=True):
        if not part or part.startswith(",") or part.endswith(",") or ",," in part:
            raise CronError(f"{field} field: {part!r} has an empty list item")
        sets.append(_field(part, field, low, high, names))
    minutes, hours, days, months, weekdays = sets
    weekdays = {d % 7 for d in weekdays}
    expr = CronExpr(text=" ".join(parts), minutes=tuple(sorted(minutes)),
                    hours=tuple(sorted(hours)), days=frozenset(days), months=frozenset(months),
                    weekdays=frozenset(weekdays), days_restricted=not parts[2].startswith("*"),
                    weekdays_restricted=not parts[4].startswith("*"),
                    wildcard=parts[0].startswith("*") or parts[1].startswith("*"))
    if (expr.days_restricted and not expr.weekdays_restricted
            and not any(d <= _LONGEST[m - 1] for m in months for d in days)):
        raise CronError(f"{text!r} never matches: no chosen month has any of the chosen days")
    return expr


def _gap_end(local: datetime, zone: tzinfo) -> datetime:
    """The first UTC instant after the daylight-saving gap that swallowed ``local``."""
    before = local.replace(tzinfo=zone, fold=0).utcoffset()
    after = local.replace(tzinfo=zone, fold=1).utcoffset()
    assert before is not None and after is not None
    # The transition lies in (local - after, local - before]; find it to the microsecond.
    lo = local.replace(tzinfo=UTC) - after
    hi = local.replace(tzinfo=UTC) - before
    while hi - lo > timedelta(microseconds=1):
        mid = lo + (hi - lo) // 2
        if mid.astimezone(zone).utcoffset() == after:
            hi = mid
        else:
            lo = mid
    return hi


def _instants_of(local: datetime, zone: tzinfo, wildcard: bool) -> list[datetime]:
    """The UTC instants at which the wall-clock time ``local`` runs (none, one or two)."""
    first = local.replace(tzinfo=zone, fold=0)
    second = local.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return [first.astimezone(UTC)]
    a, b = first.astimezone(UTC), second.astimezone(UTC)
    exists = a.astimezone(zone).replace(tzinfo=None) == local
    if exists:  # occurs twice: clocks fell back
        return sorted({a, b}) if wildcard else [min(a, b)]
    return [] if wildcard else [_gap_end(local, zone)]


def instants(expr: CronExpr, zone: tzinfo, start: datetime) -> Iterator[datetime]:
    """Every instant of ``expr`` at or after ``start`` (UTC), ascending, without repeats."""
    # Begin a day early in local terms: a gap or an offset can move a local day's runs earlier.
    day = start.astimezone(zone).date() - timedelta(days=1)
    last: datetime | None = None
    while True:
        # Skip whole months (and years) that cannot match, so sparse expressions stay cheap.
        if day.month not in expr.months:
            year, month = (day.year, day.month + 1) if day.month < 12 else (day.year + 1, 1)
            if year > 9999:
                return
            day = date(year, month, 1)
            continue
        if expr.matches_day(day):
            found: list[datetime] = []
            try:
                for hour in expr.hours:
                    for minute in expr.minutes:
                        found += _instants_of(datetime.combine(day, time(hour, minute)), zone,
                                              expr.wildcard)
            except OverflowError:  # beyond the year 9999: never
                return
            for at in sorted(found):
                if at >= start and (last is None or at > last):
                    last = at
                    yield at
        if day == date.max:
            return
        day += timedelta(days=1)
