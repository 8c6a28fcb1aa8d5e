"""The schedule of the reconciliation job: window bounds from anchor + period or from a cron
expression in a time zone, and the policy keys that say when a due run is late or missed.

A window is ``[b_k, b_{k+1})`` between consecutive bounds; its job is scheduled at
``b_{k+1} + run_offset``. With ``period`` the bounds are ``anchor + k * period``; with ``cron``
they are the expression's instants (local wall-clock times in ``timezone``, in UTC), the first
being ``anchor``. Everything here is UTC; only the cron expansion looks at local time.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, tzinfo
from functools import cache
from typing import TYPE_CHECKING, Any

from ..errors import GovgateError
from ..timeutil import format_duration, format_instant, parse_duration
from .cron import CronError, instants, parse_cron

if TYPE_CHECKING:
    from ..loaders.documents import Document
    from .model import ReconPolicy

#: Windows a schedule may have up to as-of (about 190 years of weekly windows).
MAX_WINDOWS = 10_000

DEFAULT_LATE_GRACE = "PT1H"
DEFAULT_MAX_RUNTIME = "PT2H"
DEFAULT_RED_AFTER_MISSED = 2


@cache
def zone(name: str) -> tzinfo:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def _where(doc: Document, pointer: str) -> str:
    line = doc.line_of(pointer)
    return f"line {line}, {pointer}" if line else pointer


def schedule_settings(doc: Document, anchor: datetime) -> dict[str, Any]:
    """The schedule keys of a ``reconciliation_policy`` beyond anchor and run_offset, checked.

    Returns ``ReconPolicy`` keyword arguments: ``period``, ``cron``, ``timezone``,
    ``late_grace``, ``max_runtime``, ``red_after_missed``.
    """
    from zoneinfo import ZoneInfoNotFoundError

    data, src = doc.data, doc.source
    sched = data["schedule"]
    out: dict[str, Any] = {
        "late_grace": parse_duration(sched.get("late_grace", DEFAULT_LATE_GRACE), source=src,
                                     where="/schedule/late_grace"),
        "max_runtime": parse_duration(sched.get("max_runtime", DEFAULT_MAX_RUNTIME),
                                      source=src, where="/schedule/max_runtime"),
        "red_after_missed": data.get("red_after_missed", DEFAULT_RED_AFTER_MISSED),
    }
    if ("cron" in sched) == ("period" in sched):
        raise GovgateError("the schedule needs exactly one of period (with anchor) or cron "
                           "(with timezone)", source=src, where=_where(doc, "/schedule"))
    if "cron" not in sched:
        period = parse_duration(sched["period"], source=src, where="/schedule/period")
        if not period:
            raise GovgateError("the schedule's period must be longer than zero", source=src,
                               where=_where(doc, "/schedule/period"))
        return {**out, "period": period}
    try:
        expr = parse_cron(sched["cron"])
    except CronError as exc:
        raise GovgateError(f"cron expression {sched['cron']!r}: {exc}", source=src,
                           where=_where(doc, "/schedule/cron")) from None
    name = sched["timezone"]
    try:
        tz = zone(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise GovgateError(f"unknown IANA time zone {name!r} (e.g. Europe/Berlin, UTC)",
                           source=src, where=_where(doc, "/schedule/timezone")) from None
    first = next(instants(expr, tz, anchor), None)
    if first != anchor:
        hint = f"the next one is {format_instant(first)}" if first else "it has none after it"
        raise GovgateError(
            f"anchor {format_instant(anchor)} is not an instant of cron {expr.text!r} in "
            f"{name} ({hint}): the anchor starts the first window", source=src,
            where=_where(doc, "/schedule/anchor"))
    return {**out, "period": timedelta(0), "cron": expr, "timezone": name}


def describe(policy: ReconPolicy) -> str:
    if policy.cron is not None:
        return f"cron {policy.cron.text!r} in {policy.timezone}"
    return f"every {format_duration(policy.period)}"


def bounds(policy: ReconPolicy) -> Iterator[datetime]:
    """The window bounds in ascending order, starting with the anchor."""
    if policy.cron is not None:
        assert policy.timezone is not None
        yield from instants(policy.cron, zone(policy.timezone), policy.anchor)
        return
    at = policy.anchor
    while True:
        yield at
        try:
            at += policy.period
        except OverflowError:  # after the year 9999: no more windows
            return


def window_grid(policy: ReconPolicy, until: datetime) -> list[tuple[datetime, datetime, datetime]]:
    """Scheduled windows ``(start, end, scheduled_at)`` whose job is due at or before ``until``."""
    out: list[tuple[datetime, datetime, datetime]] = []
    it = bounds(policy)
    start = next(it)
    for end in it:
        try:
            scheduled = end + policy.run_offset
        except OverflowError:  # due after the year 9999: never due
            return out
        if scheduled > until:
            return out
        if len(out) >= MAX_WINDOWS:
            # A schedule of seconds, or an as-of centuries ahead: refuse instead of running
            # for hours and writing a result nobody can read.
            raise GovgateError(
                f"more than {MAX_WINDOWS} scheduled windows between the anchor and "
                f"{format_instant(until)} ({describe(policy)})",
                source=policy.source,
                where="/schedule/cron" if policy.cron else "/schedule/period")
        out.append((start, end, scheduled))
        start = end
    return out
