"""The 14-day fatigue heat-map and its daily history, computed from an :class:`EventLog`.

A refresh at instant ``t`` sees the world as it was at ``t``: the events requested in
``[t - 14 days, t)``, an event answered after ``t`` still pending (no outcome, no latency), and
aggregates as the seed's view computes them (``COUNT``, ``COUNT(DISTINCT)`` and ``AVG`` ignoring
NULL, PostgreSQL's NUMERIC arithmetic for the averages). The refreshes are ``as_of - k days``.

The history costs signers x days plus the loader's cells, never days x events: each signer's
cells become difference arrays over the days (+ where a contribution starts, - where it ends),
prefix sums give every day at once. ``COUNT(DISTINCT cert_window_id)`` over a sliding window is
not a sum; it is the coverage of the union of ``[request day, request day + 14)`` intervals per
(signer, window), which difference arrays count just as well.

Classification is the pure function :func:`classify`, replaceable through ``classify=`` (the
``govgate_classify_signer`` hook). The thresholds are one :class:`Thresholds`, or a function of
the refresh instant (the policy version in force at each refresh), so replaying the past under a
policy approved later never reclassifies the refreshes before its approval.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import accumulate

from . import pgnumeric
from .cells import (
    DAY_SPAN,
    FIELD_MASK,
    LATENCY_MASK,
    NEVER,
    PENDING_FLAG,
    SUM_BREACHES,
    SUM_LATENCY,
    SUM_RATIO,
    SUM_SCALE16,
    SUM_SCALE20,
    SUM_SCALE24,
)
from .events import EventLog, SignerLoad
from .model import HeatmapRow, Refresh, Thresholds
from .snapshot import render_json, rows_to_csv, rows_to_json, snapshot_hash

__all__ = [
    "Classifier",
    "EventLog",
    "classify",
    "heatmap",
    "history",
    "render_json",
    "rows_to_csv",
    "rows_to_json",
]

#: ``(windows, breaches, ratio, previous, quiet_streak, thresholds) -> classification``.
Classifier = Callable[[int, int, Decimal | None, str | None, int, Thresholds], str]
#: One set of thresholds for every refresh, or the set in force at each refresh instant.
ThresholdsAt = Thresholds | Callable[[datetime], Thresholds]

_RED, _AMBER, _RECOVERING, _GREEN = "red", "amber", "recovering", "green"
_HOT = frozenset({_RED, _AMBER})
_NOT_GREEN = frozenset({_RED, _AMBER, _RECOVERING})
_DEFAULT_THRESHOLDS = Thresholds()


def classify(
    windows: int,
    breaches: int,
    ratio: Decimal | None,
    previous: str | None,
    quiet_streak: int,
    thresholds: Thresholds = _DEFAULT_THRESHOLDS,
) -> str:
    """Classify one signer at one refresh; the first rule that matches wins.

    :param windows: ``concurrent_window_count_14d`` (0 when the signer has no row).
    :param breaches: ``breached_count_14d``.
    :param ratio: ``avg_latency_ratio_14d`` exactly as PostgreSQL computes it; None for NULL.
    :param previous: The classification at the refresh one day before; None before the
        signer's first event.
    :param quiet_streak: Consecutive refreshes, ending with this one, whose ratio is below
        ``quiet_ratio`` (or NULL) and, before this one, that were neither red nor amber.
    :returns: ``red``, ``amber``, ``recovering`` or ``green``.
    """
    if windows >= thresholds.red_min_windows and breaches >= thresholds.red_min_breaches:
        return _RED
    if windows >= thresholds.amber_min_windows or (
        ratio is not None and ratio >= thresholds.amber_ratio
    ):
        return _AMBER
    if previous in _NOT_GREEN and quiet_streak < thresholds.recovering_days:
        return _RECOVERING
    return _GREEN


def heatmap(
    log: EventLog,
    as_of: datetime,
    thresholds: ThresholdsAt = _DEFAULT_THRESHOLDS,
    *,
    classify: Classifier = classify,
) -> Refresh:
    """The refresh at ``as_of``, classified with the whole history before it.

    Same result as ``history(...)[-1]``, without building the earlier refreshes' rows.
    """
    return _refreshes(log, as_of, thresholds, classify, every_day=False)[-1]


def history(
    log: EventLog,
    as_of: datetime,
    thresholds: ThresholdsAt = _DEFAULT_THRESHOLDS,
    *,
    classify: Classifier = classify,
) -> list[Refresh]:
    """The daily refreshes at ``as_of - k days`` for k = K..0, oldest first.

    K is large enough that the first refresh comes before the first event, so that
    ``recovering`` is decided with the full history. The last element is the refresh at
    ``as_of``.

    :raises ValueError: When ``as_of`` is not on the log's refresh grid (see ``load_events``'
        ``refresh_anchor``) or the window is not positive.
    """
    return _refreshes(log, as_of, thresholds, classify, every_day=True)


#: Per loaded log: cell sums -> (avg ratio, breaches, avg latency), see ``_refreshes``.
_SUMS: weakref.WeakKeyDictionary[EventLog, dict[int, tuple[Decimal, int, Decimal | None]]] = (
    weakref.WeakKeyDictionary())


def _refreshes(
    log: EventLog, as_of: datetime, thresholds: ThresholdsAt, classify: Classifier,
    every_day: bool
) -> list[Refresh]:
    last = log.day_of(as_of)
    seen = [load for load in log.signers if load.first_day <= last]
    start = min(min((load.first_day for load in seen), default=last + 1) - 1, last)
    days = last - start + 1
    origin = log.grid_origin
    if isinstance(thresholds, Thresholds):
        per_day: list[Thresholds] | None = None
        windows_used = {thresholds.window_days}
    else:
        per_day = [thresholds(origin + timedelta(days=start + index)) for index in range(days)]
        if all(t == per_day[0] for t in per_day):  # one version throughout: the fast path
            thresholds, per_day = per_day[0], None
            windows_used = {thresholds.window_days}
        else:
            windows_used = {t.window_days for t in per_day}
    for window in windows_used:
        if window < 1:
            raise ValueError(f"window_days must be positive, got {window}")
    first_row_day = 0 if every_day else days - 1
    rows: list[list[HeatmapRow]] = [[] for _ in range(days)]
    states: list[dict[str, str]] = [{} for _ in range(days)]
    # Cell sums -> (ratio, breaches, latency): a pure function of the sums, and quiet days
    # repeat sums; shared by every history computed from this log.
    ratios = _SUMS.setdefault(log, {})
    for load in seen:  # sorted by signer_id, so each day's rows come out sorted
        if per_day is None:
            assert isinstance(thresholds, Thresholds)
            numbers = _SignerDays(load, start, days, thresholds.window_days)
            _signer_history(
                load, start, numbers, thresholds, classify, first_row_day, rows, states, ratios
            )
        else:
            by_window = {w: _SignerDays(load, start, days, w) for w in windows_used}
            _signer_history_by_day(
                load, start, by_window, per_day, classify, first_row_day, rows, states, ratios
            )
    refreshes = []
    for index in range(first_row_day, days):
        at = origin + timedelta(days=start + index)
        day_rows = tuple(rows[index])
        refreshes.append(Refresh(at, day_rows, states[index], snapshot_hash(at, day_rows)))
    return refreshes


class _SignerDays:
    """One signer's view-level numbers for every refresh day, by difference arrays."""

    __slots__ = ("answered", "counts", "pending", "windows")

    def __init__(self, load: SignerLoad, start: int, days: int, window: int) -> None:
        counts = [0] * (days + 1)
        pending = [0] * (days + 1)
        answered = [0] * (days + 1)  # cell sums of the rows answered by the refresh
        half_flag = PENDING_FLAG // 2
        for key, packed in load.cells.items():
            null_outcome = key >= half_flag  # split_key, inlined
            request_day, delay = divmod(key - PENDING_FLAG if null_outcome else key, DAY_SPAN)
            begin = request_day + 1 - start  # the first refresh that sees the request
            if begin >= days:
                continue  # requested at or after as-of: not in this world yet
            end = begin + window
            if end > days:
                end = days
            rows_n = packed & FIELD_MASK
            counts[begin] += rows_n
            counts[end] -= rows_n
            if delay == NEVER:
                if null_outcome:
                    pending[begin] += rows_n
                    pending[end] -= rows_n
                continue
            # delay = answer day - request day: the refresh of the answer day sees it answered.
            answered_from = begin + delay - 1 if delay else begin
            pending_until = end if null_outcome or answered_from > end else answered_from
            if pending_until > begin:
                pending[begin] += rows_n
                pending[pending_until] -= rows_n
            if answered_from < end:
                answered[answered_from] += packed
                answered[end] -= packed
        self.counts = list(accumulate(counts))
        self.pending = list(accumulate(pending))
        self.answered = list(accumulate(answered))
        self.windows = _window_counts(load.window_days, start, days, window)


def _signer_history(
    load: SignerLoad,
    start: int,
    numbers: _SignerDays,
    thresholds: Thresholds,
    classify: Classifier,
    first_row_day: int,
    rows: list[list[HeatmapRow]],
    states: list[dict[str, str]],
    ratios: dict[int, tuple[Decimal, int, Decimal | None]],
) -> None:
    """Classify one signer at every refresh from its first; add its rows from ``first_row_day``."""
    signer = load.signer_id
    counts, pending, answered, windows = (
        numbers.counts, numbers.pending, numbers.answered, numbers.windows
    )  # fmt: skip
    quiet_below = thresholds.quiet_ratio
    previous: str | None = None
    streak = 0
    for index in range(max(load.first_day - start, 0), len(states)):
        count = counts[index]
        sums = answered[index]
        ratio_avg = latency_avg = None
        breaches = 0
        if count and sums:
            known = ratios.get(sums)
            if known is None:
                known = ratios[sums] = (*_ratio_and_breaches(sums), _latency_avg(sums))
            ratio_avg, breaches, latency_avg = known
        streak = streak + 1 if ratio_avg is None or ratio_avg < quiet_below else 0
        state = classify(windows[index], breaches, ratio_avg, previous, streak, thresholds)
        if state in _HOT:
            streak = 0  # the streak counts refreshes that were neither red nor amber
        states[index][signer] = state
        previous = state
        if count and index >= first_row_day:
            rows[index].append(
                HeatmapRow(
                    signer_id=signer,
                    ack_count_14d=count,
                    breached_count_14d=breaches,
                    concurrent_window_count_14d=windows[index],
                    avg_latency_hours_14d=latency_avg,
                    avg_latency_ratio_14d=ratio_avg,
                    pending_acks_now=pending[index],
                    classification=state,
                )
            )


def _signer_history_by_day(
    load: SignerLoad,
    start: int,
    by_window: Mapping[int, _SignerDays],
    per_day: list[Thresholds],
    classify: Classifier,
    first_row_day: int,
    rows: list[list[HeatmapRow]],
    states: list[dict[str, str]],
    ratios: dict[int, tuple[Decimal, int, Decimal | None]],
) -> None:
    """:func:`_signer_history` when the thresholds (maybe the window) change from day to day."""
    signer = load.signer_id
    previous: str | None = None
    streak = 0
    for index in range(max(load.first_day - start, 0), len(states)):
        thresholds = per_day[index]
        numbers = by_window[thresholds.window_days]
        count = numbers.counts[index]
        sums = numbers.answered[index]
        windows = numbers.windows[index]
        ratio_avg = latency_avg = None
        breaches = 0
        if count and sums:
            known = ratios.get(sums)
            if known is None:
                known = ratios[sums] = (*_ratio_and_breaches(sums), _latency_avg(sums))
            ratio_avg, breaches, latency_avg = known
        quiet = ratio_avg is None or ratio_avg < thresholds.quiet_ratio
        streak = streak + 1 if quiet else 0
        state = classify(windows, breaches, ratio_avg, previous, streak, thresholds)
        if state in _HOT:
            streak = 0
        states[index][signer] = state
        previous = state
        if count and index >= first_row_day:
            rows[index].append(
                HeatmapRow(
                    signer_id=signer,
                    ack_count_14d=count,
                    breached_count_14d=breaches,
                    concurrent_window_count_14d=windows,
                    avg_latency_hours_14d=latency_avg,
                    avg_latency_ratio_14d=ratio_avg,
                    pending_acks_now=numbers.pending[index],
                    classification=state,
                )
            )


def _ratio_and_breaches(sums: int) -> tuple[Decimal, int]:
    """``AVG(ack_latency_hours / sla_target_hours)`` (as PostgreSQL rounds it) and breaches."""
    # AVG's result scale depends on the largest scale among the summed row ratios.
    if (sums >> SUM_SCALE24) & FIELD_MASK:
        dscale = 24
    elif (sums >> SUM_SCALE20) & FIELD_MASK:
        dscale = 20
    elif (sums >> SUM_SCALE16) & FIELD_MASK:
        dscale = 16
    else:
        dscale = 12
    ratio = pgnumeric.avg_decimal(
        sums >> SUM_RATIO, pgnumeric.RATIO_SCALE, dscale, sums & FIELD_MASK
    )
    return ratio, (sums >> SUM_BREACHES) & FIELD_MASK


def _latency_avg(sums: int) -> Decimal | None:
    """``AVG(ack_latency_hours)``; None when no row is answered."""
    answered = sums & FIELD_MASK
    if not answered:
        return None
    return pgnumeric.avg_decimal((sums >> SUM_LATENCY) & LATENCY_MASK, 2, 2, answered)


def _window_counts(
    window_days: Mapping[int, tuple[int, ...]], start: int, days: int, window: int
) -> list[int]:
    """``COUNT(DISTINCT cert_window_id)`` per refresh: coverage of each window's intervals."""
    diff = [0] * (days + 1)
    for request_days in window_days.values():
        covered_until = None  # end of the current merged interval, exclusive
        for request_day in request_days:  # sorted
            begin = request_day + 1 - start
            if begin >= days:
                break
            end = min(begin + window, days)
            if covered_until is not None and begin <= covered_until:
                if end > covered_until:
                    diff[covered_until] += 1
                    diff[end] -= 1
                    covered_until = end
                continue
            diff[begin] += 1
            diff[end] -= 1
            covered_until = end
    return list(accumulate(diff))
