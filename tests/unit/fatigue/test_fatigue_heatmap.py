"""The heat-map: window edges, aggregates, every threshold's boundary, and the daily history."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from tests.unit.fatigue.factories import (
    AS_OF,
    Event,
    as_dict,
    random_events,
    reference_history,
    write_csv,
)

from govgate.fatigue.events import EventLog, load_events
from govgate.fatigue.heatmap import classify, heatmap, history
from govgate.fatigue.model import HeatmapRow, Refresh, Thresholds

US = timedelta(microseconds=1)
DAY = timedelta(days=1)


def log_of(tmp_path: Path, events: list[Event], anchor: datetime = AS_OF) -> EventLog:
    return load_events(write_csv(tmp_path / "events.csv", events), refresh_anchor=anchor)


def row_at(tmp_path: Path, events: list[Event], at: datetime = AS_OF) -> HeatmapRow | None:
    refresh = heatmap(log_of(tmp_path, events, at), at)
    return refresh.rows[0] if refresh.rows else None


def acked(i: int, request: datetime, latency: timedelta, **kw: object) -> Event:
    return Event(f"e{i}", "alex", request, request + latency, **kw)  # type: ignore[arg-type]


# -- the window ----------------------------------------------------------------------------


def test_request_exactly_fourteen_days_before_is_in_one_microsecond_earlier_is_out(
    tmp_path: Path,
) -> None:
    edge = AS_OF - timedelta(days=14)
    assert row_at(tmp_path, [Event("a", "alex", edge)]).ack_count_14d == 1  # type: ignore[union-attr]
    assert row_at(tmp_path, [Event("a", "alex", edge - US)]) is None


def test_request_exactly_at_as_of_is_not_yet_in(tmp_path: Path) -> None:
    refresh = heatmap(log_of(tmp_path, [Event("a", "alex", AS_OF)]), AS_OF)
    assert refresh.rows == ()
    assert refresh.classification == {}  # not seen yet either
    assert row_at(tmp_path, [Event("a", "alex", AS_OF - US)]) is not None


def test_ack_exactly_at_the_refresh_counts_one_microsecond_later_is_pending(
    tmp_path: Path,
) -> None:
    request = AS_OF - timedelta(hours=1)
    on_time = row_at(tmp_path, [Event("a", "alex", request, AS_OF)])
    assert on_time is not None
    assert (on_time.pending_acks_now, on_time.avg_latency_hours_14d) == (0, Decimal("1"))
    late = row_at(tmp_path, [Event("a", "alex", request, AS_OF + US)])
    assert late is not None
    assert (late.pending_acks_now, late.avg_latency_hours_14d, late.breached_count_14d) == (
        1,
        None,
        0,
    )


def test_replay_an_earlier_day_sees_later_answers_as_pending(tmp_path: Path) -> None:
    request = AS_OF - timedelta(days=5, hours=1)
    events = [Event("a", "alex", request, request + timedelta(days=3))]
    refreshes = {r.at: r for r in history(log_of(tmp_path, events), AS_OF)}
    for days_before, pending in ((5, 1), (4, 1), (3, 1), (2, 0), (1, 0)):
        row = refreshes[AS_OF - timedelta(days=days_before)].rows[0]
        assert row.pending_acks_now == pending, days_before


# -- NUMERIC rounding ----------------------------------------------------------------------


def test_publish_gate_breach_uses_the_rounded_latency(tmp_path: Path) -> None:
    request = AS_OF - timedelta(hours=5)
    thirty_17 = timedelta(minutes=30, seconds=17)  # 0.5047 h -> 0.50: not breached
    row = row_at(tmp_path, [acked(1, request, thirty_17)])
    assert row is not None
    assert (row.breached_count_14d, row.avg_latency_hours_14d) == (0, Decimal("0.5"))
    thirty_18 = timedelta(minutes=30, seconds=18)  # 0.505 h -> 0.51: breached
    row = row_at(tmp_path, [acked(1, request, thirty_18)])
    assert row is not None
    assert (row.breached_count_14d, row.avg_latency_hours_14d) == (1, Decimal("0.51"))


# -- thresholds, each at its boundary ------------------------------------------------------


def windows_events(count: int, *, breach: bool) -> list[Event]:
    request = AS_OF - timedelta(hours=3)  # only the refresh at as-of sees them
    late = timedelta(hours=2) if breach else timedelta(minutes=6)
    return [
        acked(i, request + timedelta(minutes=i), late if i == 0 else timedelta(minutes=6),
              cert_window_id=f"w{i}")
        for i in range(count)
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("windows", "breach", "expected"),
    [(3, True, "red"), (2, True, "green"), (3, False, "amber"), (2, False, "green")],
)
def test_red_needs_three_windows_and_one_breach(
    tmp_path: Path, windows: int, breach: bool, expected: str
) -> None:
    events = windows_events(windows, breach=breach)
    if breach and windows == 2:  # keep the ratio below 0.75: one breach among quick answers
        quick = timedelta(minutes=1)
        later = AS_OF - timedelta(hours=1)
        events += [acked(10 + i, later, quick, cert_window_id="w0") for i in range(9)]
    row = row_at(tmp_path, events)
    assert row is not None
    assert row.classification == expected


def ratio_events(latency: timedelta, sla: str = "4.00") -> list[Event]:
    return [acked(1, AS_OF - timedelta(days=1), latency, owner_route="faq_rewrite", sla=sla)]


def test_ratio_exactly_075_is_amber_just_under_is_not(tmp_path: Path) -> None:
    row = row_at(tmp_path, ratio_events(timedelta(hours=3)))  # 3.00 / 4.00
    assert row is not None
    assert (row.avg_latency_ratio_14d, row.classification) == (Decimal("0.75"), "amber")
    row = row_at(tmp_path, ratio_events(timedelta(hours=2, minutes=59, seconds=17)))  # 2.99
    assert row is not None
    assert row.avg_latency_ratio_14d == Decimal("0.7475")
    assert row.classification == "green"


def test_ratio_that_postgresql_rounds_below_075_is_not_amber(tmp_path: Path) -> None:
    # 1.00 h / 0.75 h and 0.50 h / 3.00 h average exactly 0.75 as fractions, but PostgreSQL's
    # NUMERIC division gives 0.74999999999999998334, which is not >= 0.75.
    request = AS_OF - timedelta(days=1)
    events = [
        acked(1, request, timedelta(hours=1), sla="0.75"),
        acked(2, request, timedelta(minutes=30), owner_route="freeze_bypass", sla="3.00"),
    ]
    row = row_at(tmp_path, events)
    assert row is not None
    assert row.avg_latency_ratio_14d == Decimal("0.74999999999999998334")
    assert row.classification == "green"


def test_quiet_means_ratio_below_05(tmp_path: Path) -> None:
    t = Thresholds()
    assert classify(0, 0, Decimal("0.5"), "red", 0, t) == "recovering"
    assert classify(0, 0, Decimal("0.4999999999999"), "red", 7, t) == "green"
    assert classify(0, 0, None, "amber", 7, t) == "green"
    assert classify(0, 0, Decimal("0.7499999999999999"), None, 0, t) == "green"
    assert classify(0, 0, Decimal("0.75"), None, 0, t) == "amber"
    assert classify(3, 0, None, None, 0, t) == "amber"
    assert classify(3, 1, None, None, 0, t) == "red"
    assert classify(2, 5, Decimal("0.1"), None, 0, t) == "green"


def test_thresholds_come_from_the_policy_never_literals() -> None:
    strict = Thresholds(red_min_windows=2, amber_ratio=Decimal("0.5"), recovering_days=2)
    assert classify(2, 1, None, None, 0, strict) == "red"
    assert classify(1, 0, Decimal("0.5"), None, 0, strict) == "amber"
    assert classify(0, 0, None, "red", 1, strict) == "recovering"
    assert classify(0, 0, None, "recovering", 2, strict) == "green"


# -- recovering through the daily history ----------------------------------------------------


def red_on(day: datetime) -> list[Event]:
    """Three windows and a breach, requested just before the refresh ``day``; answered by it."""
    request = day - timedelta(hours=3)
    return [
        acked(100, request, timedelta(hours=2), cert_window_id="w1"),
        acked(101, request, timedelta(minutes=1), cert_window_id="w2"),
        acked(102, request, timedelta(minutes=1), cert_window_id="w3"),
    ]


def states_by_day(tmp_path: Path, events: list[Event], window_days: int) -> dict[int, str]:
    """The signer's classification per day number relative to the red refresh (day 0)."""
    thresholds = Thresholds(window_days=window_days)
    refreshes = history(log_of(tmp_path, events), AS_OF, thresholds)
    day0 = AS_OF - timedelta(days=7)
    return {(r.at - day0).days: r.classification.get("alex", "-") for r in refreshes}


def test_exit_from_red_takes_six_recovering_days_when_all_are_quiet(tmp_path: Path) -> None:
    # A one-day window keeps day 0's events out of the later days: days 1..7 are quiet (no row).
    states = states_by_day(tmp_path, red_on(AS_OF - timedelta(days=7)), window_days=1)
    assert [states[d] for d in range(0, 8)] == ["red"] + ["recovering"] * 6 + ["green"]


def test_a_busy_day_resets_the_recovering_count(tmp_path: Path) -> None:
    day0 = AS_OF - timedelta(days=7)
    # On day 3 a ratio of 0.6 (not amber, not quiet): the count of quiet days starts again.
    busy = [acked(200, day0 + timedelta(days=3, hours=-2), timedelta(minutes=18))]  # 0.30/0.50
    states = states_by_day(tmp_path, red_on(day0) + busy, window_days=1)
    assert states[3] == "recovering"
    assert [states[d] for d in range(0, 8)] == ["red"] + ["recovering"] * 7
    later = history(
        log_of(tmp_path, red_on(day0) + busy), AS_OF + DAY * 3, Thresholds(window_days=1)
    )
    assert [r.classification["alex"] for r in later[-4:]] == ["recovering"] * 3 + ["green"]


def test_seven_versus_six_quiet_days(tmp_path: Path) -> None:
    t = Thresholds()
    assert classify(0, 0, None, "recovering", 6, t) == "recovering"
    assert classify(0, 0, None, "recovering", 7, t) == "green"


def test_a_signer_without_a_row_is_still_classified(tmp_path: Path) -> None:
    day0 = AS_OF - timedelta(days=7)
    events = [*red_on(day0), Event("b", "bob", AS_OF - timedelta(hours=1))]
    refresh = history(log_of(tmp_path, events), AS_OF, Thresholds(window_days=1))[-1]
    assert [row.signer_id for row in refresh.rows] == ["bob"]
    assert refresh.classification == {"alex": "green", "bob": "green"}
    refresh = history(log_of(tmp_path, events), AS_OF - DAY * 2, Thresholds(window_days=1))[-1]
    assert refresh.classification["alex"] == "recovering"


def test_history_starts_before_the_first_event_and_ends_at_as_of(tmp_path: Path) -> None:
    first = AS_OF - timedelta(days=10, hours=5)
    refreshes = history(log_of(tmp_path, [Event("a", "alex", first)]), AS_OF)
    assert refreshes[0].at == AS_OF - timedelta(days=11)
    assert refreshes[0].rows == () and refreshes[0].classification == {}
    assert refreshes[-1].at == AS_OF
    assert [r.at for r in refreshes] == [refreshes[0].at + DAY * k for k in range(12)]
    assert heatmap(log_of(tmp_path, [Event("a", "alex", first)]), AS_OF) == refreshes[-1]


def test_as_of_before_any_event(tmp_path: Path) -> None:
    refreshes = history(log_of(tmp_path, [Event("a", "alex", AS_OF + DAY)]), AS_OF)
    assert [(r.at, r.rows, r.classification) for r in refreshes] == [(AS_OF, (), {})]


def test_classification_is_replaceable(tmp_path: Path) -> None:
    seen: list[tuple[object, ...]] = []

    def everyone_amber(*args: object) -> str:
        seen.append(args)
        return "amber"

    refresh = heatmap(log_of(tmp_path, [Event("a", "alex", AS_OF - DAY)]), AS_OF,
                      classify=everyone_amber)  # fmt: skip
    assert refresh.rows[0].classification == "amber"
    assert seen == [(1, 0, None, None, 1, Thresholds())]


# -- against the obvious implementation ------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_every_refresh_equals_the_reference(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    events = random_events(rng, 400)
    as_of = AS_OF if seed % 2 == 0 else AS_OF + timedelta(hours=7, microseconds=1)
    refreshes = history(log_of(tmp_path, events, as_of), as_of)
    expected = reference_history(events, [r.at for r in refreshes])
    for refresh, (rows, classes) in zip(refreshes, expected, strict=True):
        assert {row.signer_id: as_dict(row) for row in refresh.rows} == rows, refresh.at
        assert refresh.classification == classes, refresh.at
    assert heatmap(log_of(tmp_path, events, as_of), as_of) == refreshes[-1]


def test_refresh_is_a_value(tmp_path: Path) -> None:
    refresh = heatmap(log_of(tmp_path, [Event("a", "alex", AS_OF - DAY)]), AS_OF)
    assert isinstance(refresh, Refresh)
    assert len(refresh.snapshot_hash) == 64


@pytest.mark.parametrize(
    ("latency", "quiet"), [(timedelta(hours=2), False), (timedelta(hours=1.96), True)]
)
def test_a_ratio_of_exactly_05_is_not_quiet(
    tmp_path: Path, latency: timedelta, quiet: bool
) -> None:
    day0 = AS_OF - timedelta(days=7)
    request = day0 + timedelta(days=3, hours=-3)  # seen by the refresh of day 3 only
    day3 = [acked(300, request, latency, owner_route="faq_rewrite", sla="4.00")]  # 0.50 / 0.49
    states = states_by_day(tmp_path, red_on(day0) + day3, window_days=1)
    # Quiet on day 3: green on day 7. Not quiet: six more recovering days from day 4, to day 9.
    assert states[7] == ("green" if quiet else "recovering")
