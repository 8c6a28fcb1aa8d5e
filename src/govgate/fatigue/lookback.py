"""The refresh at ``as_of`` from the recent rows only, when they decide it exactly.

A refresh's numbers need only the rows requested in its own window. Its classification also
depends on the days before, but only back to an *anchor*: a red or amber day (decided by that
day's numbers alone, and the quiet streak starts again after it) or a day ending
``recovering_days`` consecutive quiet refreshes (neither red nor amber, ratio below
``quiet_ratio`` or NULL: green whatever came before). From an anchor on, every possible past
gives the same classifications. So when the rows requested since ``first - window`` are read,
the days from ``first`` to ``as_of`` have exact numbers, and a signer whose days there reach an
anchor, starting from the stickiest past (amber the day before, no quiet streak), is classified
exactly at ``as_of``; so is a signer with no row before the rows read (its whole history is
exact). Signers whose rows all lie before the rows read have no row in those days
(quiet days) and are classified the same way. :func:`exact_refresh` returns the refresh when
every signer is anchored, else None (the caller reads further back).

Only the built-in :func:`~govgate.fatigue.heatmap.classify` is known to behave so; a plugin's
classifier gets the whole history.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from .events import EventLog
from .heatmap import ThresholdsAt, classify, heatmap
from .model import Refresh, Thresholds

__all__ = ["exact_refresh", "requested_since", "unsettled"]

_HOT = frozenset({"red", "amber"})
_STICKIEST = "amber"  # the previous day that keeps a signer recovering longest

#: One classify call: (concurrent windows, breaches, ratio, thresholds).
_Inputs = tuple[int, int, Decimal | None, Thresholds]


def _at(thresholds: ThresholdsAt, instant: datetime) -> Thresholds:
    return thresholds if isinstance(thresholds, Thresholds) else thresholds(instant)


def requested_since(thresholds: ThresholdsAt, first: datetime, at: datetime) -> datetime:
    """The earliest instant a refresh from ``first`` to ``at`` (whole days) reads rows from.

    :raises OverflowError: Before year 1.
    """
    days = (at - first) // timedelta(days=1)
    return min(day - timedelta(days=_at(thresholds, day).window_days)
               for day in (first + timedelta(days=k) for k in range(days + 1)))


def exact_refresh(log: EventLog, at: datetime, thresholds: ThresholdsAt, first: datetime,
                  unread_signers: Collection[str]) -> Refresh | None:
    """The refresh at ``at`` if the rows ``log`` holds decide it exactly, else None.

    :param log: The rows requested since :func:`requested_since` ``(thresholds, first, at)``
        (all of them: the refreshes from ``first`` to ``at`` then have their exact numbers),
        and possibly earlier rows of some signers (all of theirs).
    :param first: The first refresh with exact numbers (``at`` minus whole days).
    :param unread_signers: Every signer with a row that ``log`` does not hold (they all were
        requested before the rows ``log`` holds from ``first - window`` on).
    """
    refresh, classification, unsettled = _judge(log, at, thresholds, first, unread_signers)
    if unsettled:
        return None
    if len(classification) == len(refresh.classification):
        return refresh
    return Refresh(at, refresh.rows, classification, refresh.snapshot_hash)


def unsettled(log: EventLog, at: datetime, thresholds: ThresholdsAt, first: datetime,
              unread_signers: Collection[str]) -> set[str]:
    """The signers :func:`exact_refresh` cannot classify from ``log`` (their earlier rows would
    make it exact: a signer whose rows are all there is)."""
    return _judge(log, at, thresholds, first, unread_signers)[2]


def _judge(log: EventLog, at: datetime, thresholds: ThresholdsAt, first: datetime,
           unread_signers: Collection[str]) -> tuple[Refresh, dict[str, str], set[str]]:
    """The refresh from ``log``, every signer's classification (also those ``log`` lacks), and
    the signers not settled within the exact days."""
    span = (at - first) // timedelta(days=1) + 1
    days = [first + timedelta(days=k) for k in range(span)]
    daily = [_at(thresholds, day) for day in days]
    calls: list[list[_Inputs]] = []

    def recording(windows: int, breaches: int, ratio: Decimal | None, previous: str | None,
                  streak: int, t: Thresholds) -> str:
        if previous is None:  # a signer's first refresh
            calls.append([])
        calls[-1].append((windows, breaches, ratio, t))
        return classify(windows, breaches, ratio, previous, streak, t)

    refresh = heatmap(log, at, thresholds, classify=recording)
    last = log.day_of(at)
    seen = [load for load in log.signers if load.first_day <= last]
    classification = dict(refresh.classification)
    unsure: set[str] = set()
    if len(calls) != len(seen):  # pragma: no cover - the history calls once per signer-day
        return refresh, classification, {load.signer_id for load in seen} | {"?"}
    for load, inputs in zip(seen, calls, strict=True):
        if load.signer_id not in unread_signers:
            continue  # every row of this signer was read: its whole history is exact
        state = _settled(_padded(inputs, daily))
        if (state is None or state != classification[load.signer_id]
                or len(inputs) != last - load.first_day + 1):
            unsure.add(load.signer_id)
    for signer in unread_signers:
        if signer in classification:
            continue
        state = _settled(_padded([], daily))
        if state is None:
            unsure.add(signer)
        else:
            classification[signer] = state
    return refresh, classification, unsure


def _padded(inputs: Sequence[_Inputs], daily: Sequence[Thresholds]) -> list[_Inputs]:
    """The last ``len(daily)`` days' inputs; the days before a signer's first row in them have
    no row in their window (0 windows, 0 breaches, NULL ratio)."""
    missing = len(daily) - len(inputs)
    if missing <= 0:
        return list(inputs[-len(daily):])
    return [(0, 0, None, t) for t in daily[:missing]] + list(inputs)


def _settled(inputs: Sequence[_Inputs]) -> str | None:
    """The classification on the last day, starting from the stickiest past, if an anchor
    (red, amber or green) comes on the way; None otherwise."""
    previous, streak, anchored = _STICKIEST, 0, False
    state = previous
    for windows, breaches, ratio, t in inputs:
        quiet = ratio is None or ratio < t.quiet_ratio
        streak = streak + 1 if quiet else 0
        state = classify(windows, breaches, ratio, previous, streak, t)
        if state in _HOT:
            streak = 0
        anchored = anchored or state in _HOT or state == "green"
        previous = state
    return state if anchored else None
