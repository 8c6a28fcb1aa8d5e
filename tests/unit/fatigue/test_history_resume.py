"""A history under other thresholds from some day on, resumed from one computed already.

``reclassified`` takes the refreshes before the first day whose thresholds differ from the base
history's and classifies only from the base's latest checkpoint at or before that day, with each
signer's class and quiet streak there. These tests hold every refresh (rows, classes in order,
hash) equal to a full pass under the same thresholds, for changes on, before and after the
checkpoints, other windows, an earlier as-of and a classifier that reads the exact streak.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from tests.unit.fatigue.factories import AS_OF, random_events, write_csv

from govgate.fatigue.daily import History
from govgate.fatigue.events import EventLog, load_events
from govgate.fatigue.heatmap import Classifier, classify, history, reclassified
from govgate.fatigue.model import Refresh, Thresholds

DAYS = 137
#: Days (from the history's first refresh) noted as checkpoints.
MARKS = (1, 31, 32, 70, 100)
BASE = Thresholds()
OTHERS = (
    Thresholds(red_min_windows=2, amber_ratio=Decimal("0.6")),
    Thresholds(quiet_ratio=Decimal("0.9"), recovering_days=3),
    Thresholds(window_days=7, red_min_windows=2),
    Thresholds(window_days=40, recovering_days=12),
)


def _log(tmp_path: Path, seed: int, count: int = 500) -> EventLog:
    rng = random.Random(seed)
    return load_events(write_csv(tmp_path / "e.csv", random_events(rng, count, days=DAYS)))


def _from(change: datetime, other: Thresholds) -> Callable[[datetime], Thresholds]:
    """The base thresholds before ``change``, ``other`` from it on (a candidate's what-if)."""
    return lambda at: other if at >= change else BASE


def _values(refreshes: Sequence[Refresh], order: list[int]) -> list[tuple]:  # type: ignore[type-arg]
    return [(refreshes[i].at, refreshes[i].rows, list(refreshes[i].classification.items()),
             refreshes[i].snapshot_hash) for i in order]


def _same(got: History, want: Sequence[Refresh], rng: random.Random) -> None:
    assert len(got) == len(want)
    order = list(range(len(want)))
    rng.shuffle(order)  # row blocks computed, evicted and computed again
    assert _values(got, order) == _values(want, order)


def _base(log: EventLog, *, classify: Classifier = classify) -> History:
    """The history at AS_OF with checkpoints at :data:`MARKS` (instants between refreshes
    too: a checkpoint is the first refresh at or after its instant)."""
    first = history(log, AS_OF)[0].at
    marks = [first + timedelta(days=day, hours=-3 if day % 2 else 0) for day in MARKS]
    base = history(log, AS_OF, classify=classify, checkpoints=marks)
    assert isinstance(base, History) and sorted(base.streaks or ()) == list(MARKS)
    return base


@pytest.mark.parametrize("seed", range(4))
def test_a_resumed_history_equals_a_full_pass(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    log = _log(tmp_path, seed)
    base = _base(log)
    first = base[0].at
    for day in (0, 1, 30, 31, 32, 33, 87, len(base) - 1):
        change = first + timedelta(days=day)
        for other in OTHERS:
            thresholds = _from(change, other)
            got = reclassified(base, thresholds)
            _same(got, history(log, AS_OF, thresholds), rng)
            resume = max((mark for mark in MARKS if mark <= day), default=0)
            # The days before the checkpoint are the base's own bytes, the others computed.
            assert all(got.codes[i] is base.codes[i] for i in range(resume))
            assert got.codes[resume] is not base.codes[resume]


@pytest.mark.parametrize("seed", range(3))
def test_the_exact_quiet_streak_carries_over_the_checkpoint(tmp_path: Path, seed: int) -> None:
    def by_streak(windows: int, breaches: int, ratio: Decimal | None, previous: str | None,
                  quiet_streak: int, thresholds: Thresholds) -> str:
        state = classify(windows, breaches, ratio, previous, quiet_streak, thresholds)
        return state if state != "green" else f"green-{quiet_streak}"  # every streak shows

    rng = random.Random(seed)
    log = _log(tmp_path, 10 + seed, count=150)  # sparse: long quiet streaks
    base = _base(log, classify=by_streak)
    for day in (32, 104):
        thresholds = _from(base[0].at + timedelta(days=day), OTHERS[1])
        got = reclassified(base, thresholds, classify=by_streak)
        assert got.codes[0] is base.codes[0]
        _same(got, history(log, AS_OF, thresholds, classify=by_streak), rng)


def test_an_earlier_as_of_and_a_chain_of_resumed_histories(tmp_path: Path) -> None:
    rng = random.Random(7)
    log = _log(tmp_path, 7)
    base = _base(log)
    first = base[0].at
    earlier = AS_OF - timedelta(days=35)
    # The same thresholds up to the earlier instant: the base's first refreshes.
    later_change = _from(earlier + timedelta(days=1), OTHERS[0])
    prefix = reclassified(base, later_change, as_of=earlier)
    assert prefix.shares_store(base) and prefix[-1].at == earlier
    _same(prefix, history(log, earlier, later_change), rng)
    # Other thresholds before it: resumed, and cut at the earlier instant.
    change = _from(first + timedelta(days=71), OTHERS[2])
    _same(reclassified(base, change, as_of=earlier), history(log, earlier, change), rng)
    # A resumed history is a base in turn.
    one = reclassified(base, change)
    assert sorted(one.streaks or ()) == [1, 31, 32, 70]  # up to where it resumed

    def twice(at: datetime) -> Thresholds:
        return OTHERS[3] if at >= first + timedelta(days=98) else change(at)

    again = reclassified(one, twice)
    assert again.codes[69] is base.codes[69] and again.codes[70] is not one.codes[70]
    _same(again, history(log, AS_OF, twice), rng)


def test_same_thresholds_other_classifier_and_an_early_change(tmp_path: Path) -> None:
    rng = random.Random(3)
    log = _log(tmp_path, 3)
    base = _base(log)
    assert reclassified(base, lambda at: Thresholds()) is base  # equal values, other objects
    plain = history(log, AS_OF)  # no checkpoint: a full pass
    assert isinstance(plain, History)
    late = _from(AS_OF - timedelta(days=5), OTHERS[0])
    got = reclassified(plain, late)
    assert got.codes[0] is not plain.codes[0]
    _same(got, history(log, AS_OF, late), rng)

    def other(windows: int, breaches: int, ratio: Decimal | None, previous: str | None,
              quiet_streak: int, thresholds: Thresholds) -> str:
        return classify(windows, breaches, ratio, previous, quiet_streak, thresholds)

    _same(reclassified(base, late, classify=other), history(log, AS_OF, late, classify=other),
          rng)
