"""Cron expressions in a time zone: syntax, the day rule, and daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import islice, pairwise
from zoneinfo import ZoneInfo

import pytest

from govgate.recon.cron import CronError, instants, parse_cron
from govgate.recon.model import ReconPolicy
from govgate.recon.schedule import window_grid

LA = ZoneInfo("America/Los_Angeles")
BERLIN = ZoneInfo("Europe/Berlin")
H = timedelta(hours=1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def first(expr: str, zone: ZoneInfo, start: datetime, n: int) -> list[datetime]:
    return list(islice(instants(parse_cron(expr), zone, start), n))


# -- syntax ------------------------------------------------------------------------------------


def test_fields_lists_ranges_steps_and_names() -> None:
    e = parse_cron("0,30 */6 1-10/3 JAN,jul-Sep MON-FRI")
    assert e.minutes == (0, 30)
    assert e.hours == (0, 6, 12, 18)
    assert e.days == frozenset({1, 4, 7, 10})
    assert e.months == frozenset({1, 7, 8, 9})
    assert e.weekdays == frozenset({1, 2, 3, 4, 5})


def test_sunday_is_0_and_7() -> None:
    assert parse_cron("0 0 * * 7").weekdays == parse_cron("0 0 * * 0").weekdays == {0}
    assert parse_cron("0 0 * * 5-7").weekdays == frozenset({5, 6, 0})


@pytest.mark.parametrize(("text", "fragment"), [
    ("0 6 * *", "expected 5 fields"),
    ("0 6 * * MON *", "expected 5 fields"),
    ("60 6 * * *", "minute field: 60 is outside 0-59"),
    ("0 24 * * *", "hour field: 24"),
    ("0 0 0 * *", "day-of-month field: 0"),
    ("0 0 * 13 *", "month field: 13"),
    ("0 0 * * 8", "day-of-week field: 8"),
    ("0 0 * * MONDAY", "day-of-week field"),
    ("0 0 * FOO *", "month field"),
    ("*/0 * * * *", "step"),
    ("5/15 * * * *", "ambiguous"),
    ("0 10-2 * * *", "runs backwards"),
    ("0,,5 * * * *", "empty list item"),
    ("0 0 31 2 *", "never matches"),
    ("0 0 30 FEB *", "never matches"),
    ("-1 * * * *", "minute field"),
    ("٣ * * * *", "not a number"),
])
def test_bad_expressions_name_the_field(text: str, fragment: str) -> None:
    with pytest.raises(CronError) as info:
        parse_cron(text)
    assert fragment in str(info.value)


def test_february_29_exists() -> None:
    runs = first("0 0 29 2 *", ZoneInfo("UTC"), utc(2026, 1, 1), 2)
    assert runs == [utc(2028, 2, 29), utc(2032, 2, 29)]


# -- the day rule ------------------------------------------------------------------------------


def test_both_day_fields_restricted_match_either() -> None:
    # The 13th or any Friday (Vixie cron's OR rule), from Thursday 2026-11-12.
    runs = first("0 0 13 * FRI", ZoneInfo("UTC"), utc(2026, 11, 12), 4)
    assert runs == [utc(2026, 11, 13), utc(2026, 11, 20), utc(2026, 11, 27), utc(2026, 12, 4)]
    runs = first("0 0 1 * MON", ZoneInfo("UTC"), utc(2026, 11, 28), 3)
    assert runs == [utc(2026, 11, 30), utc(2026, 12, 1), utc(2026, 12, 7)]


def test_a_star_day_field_means_and() -> None:
    # A field starting with * counts as unrestricted, steps included (*/2 here).
    runs = first("0 0 */2 * FRI", ZoneInfo("UTC"), utc(2026, 11, 1), 3)
    assert all(r.weekday() == 4 and r.day % 2 == 1 for r in runs)
    assert runs[0] == utc(2026, 11, 13)


# -- daylight-saving changes (America/Los_Angeles 2026: Mar 8 02:00 -> 03:00, Nov 1 02:00 ->
# 01:00) -------------------------------------------------------------------------------------


def test_nonexistent_fixed_time_runs_once_at_the_end_of_the_gap() -> None:
    runs = first("30 2 * * *", LA, utc(2026, 3, 7), 3)
    assert runs == [utc(2026, 3, 7, 10, 30), utc(2026, 3, 8, 10), utc(2026, 3, 9, 9, 30)]
    # Two fixed times inside the gap still run once.
    assert first("0,30 2 * * *", LA, utc(2026, 3, 8), 3) == [
        utc(2026, 3, 8, 10), utc(2026, 3, 9, 9), utc(2026, 3, 9, 9, 30)]


def test_nonexistent_wildcard_times_do_not_run() -> None:
    runs = first("0 * * * *", LA, utc(2026, 3, 8, 8), 3)
    assert runs == [utc(2026, 3, 8, 8), utc(2026, 3, 8, 9), utc(2026, 3, 8, 10)]
    assert [r.astimezone(LA).hour for r in runs] == [0, 1, 3]
    assert first("*/30 2 * * *", LA, utc(2026, 3, 8), 1) == [utc(2026, 3, 9, 9)]


def test_repeated_fixed_time_runs_once_at_its_first_occurrence() -> None:
    runs = first("30 1 * * *", LA, utc(2026, 10, 31), 3)
    assert runs == [utc(2026, 10, 31, 8, 30), utc(2026, 11, 1, 8, 30), utc(2026, 11, 2, 9, 30)]


def test_repeated_wildcard_times_run_at_both_occurrences() -> None:
    runs = first("0 * * * *", LA, utc(2026, 11, 1, 7), 4)
    assert runs == [utc(2026, 11, 1, 7), utc(2026, 11, 1, 8), utc(2026, 11, 1, 9),
                    utc(2026, 11, 1, 10)]
    assert [r.astimezone(LA).hour for r in runs] == [0, 1, 1, 2]


def test_berlin_monday_six_oclock_stays_six_oclock_local() -> None:
    runs = first("0 6 * * MON", BERLIN, utc(2026, 3, 20), 3)
    assert runs == [utc(2026, 3, 23, 5), utc(2026, 3, 30, 4), utc(2026, 4, 6, 4)]


def test_instants_ascend_without_repeats_across_a_whole_year() -> None:
    for text in ("0 * * * *", "30 1 * * *", "30 2 * * *", "*/20 1-3 * * SUN"):
        runs = list(islice(instants(parse_cron(text), LA, utc(2026, 1, 1)), 3000))
        assert all(a < b for a, b in pairwise(runs)), text


# -- windows of a cron schedule ---------------------------------------------------------------


def cron_policy(text: str, zone: str, anchor: datetime,
                run_offset: timedelta = timedelta(0)) -> ReconPolicy:
    return ReconPolicy(
        version="1.0.0", source="policy.yaml", anchor=anchor, period=timedelta(0),
        run_offset=run_offset, contract_max_semver=(1, 2, 0), contract_max_semver_text="1.2.0",
        page_max_gap=timedelta(days=7), page_grace=timedelta(0),
        block_states=frozenset({"red"}), cron=parse_cron(text), timezone=zone)


def test_weekly_los_angeles_windows_across_both_dst_changes_of_2026() -> None:
    """Mondays 06:00 in Los Angeles: every window runs Monday 06:00 local to Monday 06:00
    local; in UTC the week that holds the spring change is an hour shorter, the autumn one an
    hour longer, and the run (offset 30 minutes) stays at 06:30 local."""
    policy = cron_policy("0 6 * * MON", "America/Los_Angeles", utc(2026, 1, 5, 14),
                         run_offset=timedelta(minutes=30))
    grid = window_grid(policy, utc(2027, 1, 1))
    assert len(grid) == 51  # 52 Mondays in 2026 bound 51 windows
    lengths = {(s, e): e - s for s, e, _ in grid}
    assert lengths[(utc(2026, 3, 2, 14), utc(2026, 3, 9, 13))] == 7 * 24 * H - H
    assert lengths[(utc(2026, 10, 26, 13), utc(2026, 11, 2, 14))] == 7 * 24 * H + H
    assert sum(1 for d in lengths.values() if d == 7 * 24 * H) == 49
    for start, end, scheduled in grid:
        for bound in (start, end):
            local = bound.astimezone(ZoneInfo("America/Los_Angeles"))
            assert (local.weekday(), local.hour, local.minute) == (0, 6, 0)
        assert scheduled == end + timedelta(minutes=30)
    # Pinned around the changes, in UTC.
    around = [(s, e) for s, e, _ in grid if utc(2026, 2, 20) < s < utc(2026, 3, 20)
              or utc(2026, 10, 20) < s < utc(2026, 11, 10)]
    assert around == [
        (utc(2026, 2, 23, 14), utc(2026, 3, 2, 14)),
        (utc(2026, 3, 2, 14), utc(2026, 3, 9, 13)),
        (utc(2026, 3, 9, 13), utc(2026, 3, 16, 13)),
        (utc(2026, 3, 16, 13), utc(2026, 3, 23, 13)),
        (utc(2026, 10, 26, 13), utc(2026, 11, 2, 14)),
        (utc(2026, 11, 2, 14), utc(2026, 11, 9, 14)),
        (utc(2026, 11, 9, 14), utc(2026, 11, 16, 14)),
    ]


def test_daily_los_angeles_windows_on_the_change_days() -> None:
    policy = cron_policy("30 2 * * *", "America/Los_Angeles", utc(2026, 3, 7, 10, 30))
    grid = window_grid(policy, utc(2026, 3, 10))
    assert [(s, e) for s, e, _ in grid] == [
        (utc(2026, 3, 7, 10, 30), utc(2026, 3, 8, 10)),      # 23.5 h: the gap ate 02:30
        (utc(2026, 3, 8, 10), utc(2026, 3, 9, 9, 30)),       # 23.5 h
    ]
    policy = cron_policy("30 1 * * *", "America/Los_Angeles", utc(2026, 10, 31, 8, 30))
    grid = window_grid(policy, utc(2026, 11, 3))
    assert [(s, e) for s, e, _ in grid] == [
        (utc(2026, 10, 31, 8, 30), utc(2026, 11, 1, 8, 30)),  # 24 h, first 01:30
        (utc(2026, 11, 1, 8, 30), utc(2026, 11, 2, 9, 30)),   # 25 h
    ]


def test_a_window_is_due_at_its_end_plus_run_offset_exactly() -> None:
    policy = cron_policy("0 6 * * MON", "Europe/Berlin", utc(2026, 3, 23, 5),
                         run_offset=timedelta(hours=1))
    due = utc(2026, 3, 30, 5)  # end 04:00Z (06:00 CEST) + 1 h
    assert window_grid(policy, due - timedelta(microseconds=1)) == []
    assert window_grid(policy, due) == [(utc(2026, 3, 23, 5), utc(2026, 3, 30, 4), due)]
