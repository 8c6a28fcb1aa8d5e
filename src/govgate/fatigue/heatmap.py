"""The 14-day fatigue heat-map and its daily history, computed from an :class:`EventLog`.

A refresh at instant ``t`` sees the world as it was at ``t``: the events requested in
``[t - 14 days, t)``, an event answered after ``t`` still pending (no outcome, no latency), and
aggregates as the seed's view computes them (``COUNT``, ``COUNT(DISTINCT)`` and ``AVG`` ignoring
NULL, PostgreSQL's NUMERIC arithmetic for the averages). The refreshes are ``as_of - k days``.

The history costs signers x days plus the loader's cells to compute, never days x events, and
one byte per signer-day to keep (``daily.py``): each signer's
cells become difference arrays over the days (+ where a contribution starts, - where it ends),
prefix sums give every day at once. ``COUNT(DISTINCT cert_window_id)`` over a sliding window is
not a sum; it is the coverage of the union of ``[request day, request day + 14)`` intervals per
(signer, window), which difference arrays count just as well.

Classification is the pure function :func:`classify`, replaceable through ``classify=`` (the
``govgate_classify_signer`` hook).
"""

from __future__ import annotations

import weakref
from array import array
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from . import pgnumeric
from .cells import (
    FIELD_MASK,
    LATENCY_MASK,
    SUM_BREACHES,
    SUM_LATENCY,
    SUM_RATIO,
    SUM_SCALE16,
    SUM_SCALE20,
    SUM_SCALE24,
)
from .daily import BLOCK_DAYS, DayNumbers, History, Streaks, SumsTable, day_numbers_by_window
from .events import EventLog, SignerLoad
from .model import HeatmapRow, Refresh, Thresholds
from .snapshot import render_json, rows_to_csv, rows_to_json

__all__ = [
    "Classifier",
    "EventLog",
    "History",
    "classify",
    "heatmap",
    "history",
    "reclassified",
    "render_json",
    "rows_to_csv",
    "rows_to_json",
]

#: ``(windows, breaches, ratio, previous, quiet_streak, thresholds) -> classification``.
Classifier = Callable[[int, int, Decimal | None, str | None, int, Thresholds], str]

_RED, _AMBER, _RECOVERING, _GREEN = "red", "amber", "recovering", "green"
_HOT = frozenset({_RED, _AMBER})
_NOT_GREEN = frozenset({_RED, _AMBER, _RECOVERING})
_DEFAULT_THRESHOLDS = Thresholds()
_DAY = timedelta(days=1)
#: One set of thresholds, or the thresholds in force at each refresh instant (the policy
#: versions of a project: each refresh is classified with those of its own day).
ThresholdsAt = Thresholds | Callable[[datetime], Thresholds]


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
    checkpoints: Iterable[datetime] = (),
) -> Sequence[Refresh]:
    """The daily refreshes at ``as_of - k days`` for k = K..0, oldest first.

    K is large enough that the first refresh comes before the first event, so that
    ``recovering`` is decided with the full history. The last element is the refresh at
    ``as_of``. The history keeps one byte per signer-day; a refresh's rows and hash are
    computed when asked for (see ``daily.py``).

    :param checkpoints: Instants from which a history under other thresholds may be asked for
        (a what-if from the first day of a month): each signer's state before the first
        refresh at or after each is noted, and :func:`reclassified` resumes there.
    :raises ValueError: When ``as_of`` is not on the log's refresh grid (see ``load_events``'
        ``refresh_anchor``) or the window is not positive.
    """
    return _refreshes(log, as_of, thresholds, classify, every_day=True, checkpoints=checkpoints)


#: Per loaded log: cell sums -> (avg ratio, breaches, avg latency), see ``sums_numbers``. Kept
#: for the next history of the same log (a readback's, a review's replays) while it is small;
#: a large one (thousands of signers: ~400 bytes an entry) is let go with the pass.
_SUMS: weakref.WeakKeyDictionary[EventLog, SumsTable] = weakref.WeakKeyDictionary()
_KEEP_SUMS = 65_536


def _refreshes(
    log: EventLog, as_of: datetime, thresholds: ThresholdsAt, classify: Classifier,
    every_day: bool, checkpoints: Iterable[datetime] = ()
) -> History:
    last = log.day_of(as_of)
    seen = [load for load in log.signers if load.first_day <= last]
    start = min(min((load.first_day for load in seen), default=last + 1) - 1, last)
    days = last - start + 1
    daily = _daily(log, start, days, thresholds)
    window = _window(daily)
    # Rows of the latest days come out of this pass for free (nearly every consumer reads the
    # latest refresh); older days' rows are recomputed by the History when asked for.
    first_row_day = max(days - BLOCK_DAYS, 0) if every_day else days - 1
    rows: list[list[HeatmapRow]] = [[] for _ in range(days - first_row_day)]
    codes = [bytearray(len(seen)) for _ in range(days)]
    names = [""]  # class names by code; 0 means "not seen yet"
    # A checkpoint is a refresh index: the refreshes before it come before the instant.
    first = log.grid_origin + timedelta(days=start)
    marks = {-((first - at) // _DAY) for at in checkpoints}
    streaks: Streaks = {index: array("q", bytes(8 * len(seen)))
                        for index in sorted(marks) if 0 < index < days}
    # Cell sums -> (ratio, breaches, latency): a pure function of the sums, and quiet days
    # repeat sums; shared by every history computed from this log.
    sums = _SUMS.pop(log, None) or {}
    for pos, load in enumerate(seen):  # sorted by signer_id, so each day's rows come out sorted
        numbers = day_numbers_by_window(load, start, 0, days, window)
        state: tuple[str | None, int] = (None, 0)
        run = 0
        for mark, noted in streaks.items():  # in day order; the streak before each is noted
            state = _signer_history(load, pos, start, numbers, daily, classify, first_row_day,
                                    rows, codes, names, sums, *state, first=run, stop=mark)
            noted[pos] = state[1]
            run = mark
        _signer_history(load, pos, start, numbers, daily, classify, first_row_day, rows, codes,
                        names, sums, *state, first=run)
    kept = {first_row_day + j: tuple(day_rows) for j, day_rows in enumerate(rows)}
    return History(log, seen, start, window, codes, names, _keep_sums(log, sums), kept,
                   daily=daily, classify=classify, streaks=streaks)


def reclassified(base: History, thresholds: ThresholdsAt, *, classify: Classifier = classify,
                 as_of: datetime | None = None) -> History:
    """``history(log, as_of, thresholds, classify=classify)`` for the log of ``base`` (a whole
    history from :func:`history`) at its as-of or an earlier one, computed from ``base``.

    The history is causal: the refreshes before the first day whose thresholds differ from
    ``base``'s are ``base``'s (their bytes are shared, not copied). Classification resumes at
    the latest of ``base``'s checkpoints at or before that day, with each signer's class and
    quiet streak there, and only the days from it on are computed: a what-if that changes the
    thresholds from the start of a month reclassifies the month, not the years before it. The
    same thresholds up to ``as_of`` give ``base`` (or its first refreshes); another classifier,
    an ``as_of`` outside ``base``, or no checkpoint early enough, a full pass.
    """
    log, start = base.log, base.start
    if as_of is None:
        as_of = base.as_of
    count = log.day_of(as_of) - start + 1
    noted = base.streaks or {}
    again = [log.grid_origin + timedelta(days=start + index) for index in noted]
    if (base.classify is not classify or len(base) != base.days
            or not 0 < count <= base.days):
        return _refreshes(log, as_of, thresholds, classify, every_day=True, checkpoints=again)
    daily = _daily(log, start, count, thresholds)
    old = base.daily
    first = next((i for i in range(count) if daily[i] != old[i]), count)
    if first == count:
        return base if count == base.days else base.until(count)
    resume = max((index for index in noted if index <= first), default=0)
    if resume == 0:  # no checkpoint at or before the first day that differs
        return _refreshes(log, as_of, thresholds, classify, every_day=True, checkpoints=again)
    window = _window(daily)
    loads = base.loads
    codes = [*base.codes[:resume], *(bytearray(len(loads)) for _ in range(count - resume))]
    names = list(base.names)  # the base's codes keep their meaning; new classes are appended
    streaks = {index: marks for index, marks in noted.items() if index <= resume}
    first_row_day = max(count - BLOCK_DAYS, resume)
    rows: list[list[HeatmapRow]] = [[] for _ in range(count - first_row_day)]
    keys = base.cell_keys()
    sums = _SUMS.pop(log, None) or {}
    before, marks = codes[resume - 1], streaks[resume]
    tail, tail_daily = codes[resume:], daily[resume:]
    tail_window = window if isinstance(window, int) else window[resume:]
    for pos, load in enumerate(loads):
        numbers = day_numbers_by_window(load, start, resume, count, tail_window, keys[pos])
        code = before[pos]
        _signer_history(load, pos, start + resume, numbers, tail_daily, classify,
                        first_row_day - resume, rows, tail, names, sums,
                        previous=names[code] if code else None, streak=marks[pos])
    kept = {first_row_day + j: tuple(day_rows) for j, day_rows in enumerate(rows)}
    return History(log, loads, start, window, codes, names, _keep_sums(log, sums), kept,
                   daily=daily, classify=classify, streaks=streaks, keys=keys)


def _daily(log: EventLog, start: int, days: int, thresholds: ThresholdsAt) -> list[Thresholds]:
    """The thresholds in force at each refresh of a history (one set, or by policy version)."""
    if isinstance(thresholds, Thresholds):
        daily = [thresholds] * days
    else:
        per_day = [thresholds(log.grid_origin + timedelta(days=start + index))
                   for index in range(days)]
        one = per_day[0]
        daily = [one] * days if all(t == one for t in per_day) else per_day
    bad = next((t for t in daily if t.window_days < 1), None)
    if bad is not None:
        raise ValueError(f"window_days must be positive, got {bad.window_days}")
    return daily


def _window(daily: Sequence[Thresholds]) -> int | list[int]:
    """One window, or (policy versions with other thresholds) the window of each day."""
    one = daily[0]
    if all(t is one for t in daily):
        return one.window_days
    return [t.window_days for t in daily]


def _keep_sums(log: EventLog, sums: SumsTable) -> SumsTable:
    if len(sums) <= _KEEP_SUMS:
        _SUMS[log] = sums
        return sums
    return {}  # the History fills a small one per block of rows it recomputes


def sums_numbers(sums: SumsTable, count: int,
                 answered: int) -> tuple[Decimal | None, int, Decimal | None]:
    """``(avg ratio, breaches, avg latency)`` of a signer-day with ``count`` rows whose answered
    rows' cell sums are ``answered``; memoised in ``sums`` (quiet days repeat sums)."""
    if not (count and answered):
        return None, 0, None
    known = sums.get(answered)
    if known is None:
        known = sums[answered] = (*_ratio_and_breaches(answered), _latency_avg(answered))
    return known


def _signer_history(
    load: SignerLoad,
    pos: int,
    start: int,
    numbers: DayNumbers,
    daily: Sequence[Thresholds],
    classify: Classifier,
    first_row_day: int,
    rows: list[list[HeatmapRow]],
    codes: list[bytearray],
    names: list[str],
    sums: SumsTable,
    previous: str | None = None,
    streak: int = 0,
    first: int = 0,
    stop: int | None = None,
) -> tuple[str | None, int]:
    """Classify one signer at every refresh from its first; add its rows from ``first_row_day``.

    Only the refreshes from ``first`` to ``stop`` when given, after the class ``previous`` and
    the quiet ``streak`` before ``first``; returns both after the last refresh classified.
    """
    signer = load.signer_id
    counts, pending, answered, windows = (
        numbers.counts, numbers.pending, numbers.answered, numbers.windows
    )  # fmt: skip
    code_of = {name: code for code, name in enumerate(names) if code}
    for index in range(max(load.first_day - start, first), len(codes) if stop is None else stop):
        count = counts[index]
        sums_today = answered[index]
        ratio_avg = latency_avg = None
        breaches = 0
        if count and sums_today:
            known = sums.get(sums_today)
            if known is None:
                known = sums[sums_today] = (
                    *_ratio_and_breaches(sums_today), _latency_avg(sums_today))
            ratio_avg, breaches, latency_avg = known
        thresholds = daily[index]  # the thresholds in force at this refresh
        quiet = ratio_avg is None or ratio_avg < thresholds.quiet_ratio
        streak = streak + 1 if quiet else 0
        state = classify(windows[index], breaches, ratio_avg, previous, streak, thresholds)
        if state in _HOT:
            streak = 0  # the streak counts refreshes that were neither red nor amber
        code = code_of.get(state)
        if code is None:
            code = code_of[state] = _new_code(names, state)
        codes[index][pos] = code
        previous = state
        if count and index >= first_row_day:
            rows[index - first_row_day].append(
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
    return previous, streak


def _new_code(names: list[str], state: str) -> int:
    """The byte for a class not seen before (a plugin's classifier may name its own)."""
    if not isinstance(state, str):
        raise TypeError(f"a classification must be a string, got {state!r}")
    if len(names) > 255:
        raise ValueError("more than 255 distinct classifications: the history keeps one byte")
    names.append(state)
    return len(names) - 1


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
