"""Quarters, months and explicit windows: half-open UTC intervals; bad text is a usage error."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from govgate.documents import periods
from govgate.errors import ExitCode, GovgateError


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_quarter() -> None:
    q = periods.quarter("2026-Q4")
    assert (q.start, q.end, q.label, q.slug) == (utc(2026, 10, 1), utc(2027, 1, 1), "2026-Q4",
                                                 "2026-Q4")
    assert periods.quarter("2027q1").start == utc(2027, 1, 1)
    assert q.close(utc(2026, 11, 20)) == utc(2026, 11, 20)
    assert q.close(utc(2027, 3, 1)) == utc(2027, 1, 1)
    assert q.is_open_at(utc(2026, 12, 31, 23)) and not q.is_open_at(utc(2027, 1, 1))


def test_month() -> None:
    m = periods.month("2026-12")
    assert (m.start, m.end) == (utc(2026, 12, 1), utc(2027, 1, 1))
    assert periods.next_month_start(m) == utc(2027, 1, 1)
    assert m.contains(utc(2026, 12, 31, 23, 59)) and not m.contains(utc(2027, 1, 1))


def test_window() -> None:
    w = periods.window("2026-10-05T00:00:00Z", "2026-10-12T00:00:00+00:00")
    assert w.slug == "20261005T000000Z-20261012T000000Z"
    assert w.label == "2026-10-05T00:00:00Z..2026-10-12T00:00:00Z"
    assert periods.next_month_start(w) == utc(2026, 11, 1)


@pytest.mark.parametrize(("fn", "args"), [
    (periods.quarter, ("2026-Q5",)), (periods.quarter, ("Q4 2026",)),
    (periods.month, ("2026-13",)), (periods.month, ("2026-1",)), (periods.month, ("October",)),
    (periods.window, ("2026-10-05T00:00:00Z", "2026-10-05T00:00:00Z")),
    (periods.window, ("2026-10-05T00:00:00", "2026-10-06T00:00:00Z")),
])
def test_bad_periods_are_usage_errors(fn: object, args: tuple[str, ...]) -> None:
    with pytest.raises(GovgateError) as info:
        fn(*args)  # type: ignore[operator]
    assert info.value.exit_code is ExitCode.USAGE_ERROR
    assert "\n" not in str(info.value)
