"""Pending acks over the loader's columns: the same items and the same aged decisions as the
eager :attr:`EventLog.pending`, on random exports, at every refresh and boundary."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from tests.unit.fatigue.factories import AS_OF, random_events, write_csv

from govgate.fatigue.events import load_events
from govgate.fatigue.model import Refresh, Thresholds
from govgate.fatigue.pending import PendingAcks, PendingGroup, pending_acks
from govgate.promote.engine import pending_index
from govgate.promote.model import RouteRule
from govgate.promote.rules import aged_pending_trigger


def _route(signer: str, route: str) -> RouteRule:
    return RouteRule(owner_route=route, primary_signer=signer, backup_signer="backup",
                     promote_trigger=("pending_acks_aged",), revert_condition="green_7d",
                     revert_green_days=7)


@pytest.mark.parametrize("seed", range(6))
def test_items_and_aged_decisions_equal_the_eager_ones(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    log = load_events(write_csv(tmp_path / "e.csv", random_events(rng, 400)))
    compact = pending_acks(log)
    assert isinstance(compact, PendingAcks)
    assert list(compact) == list(log.pending)
    assert compact[3:9] == list(log.pending)[3:9]
    groups = pending_index(compact)
    eager = pending_index(log.pending)
    assert {k: list(v) for k, v in groups.items()} == {k: list(v) for k, v in eager.items()}
    thresholds = Thresholds(window_days=rng.choice([1, 3, 14]),
                            aged_factor=rng.choice([Decimal("1.5"), Decimal("1"),
                                                    Decimal("0.333")]))
    fired = 0
    for key, group in groups.items():
        assert isinstance(group, PendingGroup)
        route = _route(*key)
        for back in range(0, 45):
            for shift in (timedelta(0), timedelta(microseconds=1), timedelta(minutes=45)):
                refresh = Refresh(AS_OF - timedelta(days=back) + shift, (), {}, "")
                got = aged_pending_trigger(route, refresh, group, thresholds)
                assert got == aged_pending_trigger(route, refresh, eager[key], thresholds)
                fired += got is not None
    assert fired  # the data reach the rule's both sides


@pytest.mark.parametrize(("factor", "not_aged", "aged"), [
    (Decimal("1.5"), timedelta(minutes=45), timedelta(minutes=45, microseconds=1)),
    (Decimal("0.000000001"), timedelta(microseconds=1), timedelta(microseconds=2)),  # 1.8 µs
    (Decimal("1E-10"), timedelta(0), timedelta(microseconds=1)),  # 0.18 µs
])
def test_an_age_is_aged_strictly_past_the_exact_limit(tmp_path: Path, factor: Decimal,
                                                      not_aged: timedelta,
                                                      aged: timedelta) -> None:
    """SLA 0.50 h: the limit is factor x 30 min, an exact decimal; the age whole microseconds."""
    from tests.unit.fatigue.factories import Event

    request = AS_OF - timedelta(days=2, hours=5)
    event = Event("e1", "s1", request, outcome=None, ack=None, sla="0.50")
    log = load_events(write_csv(tmp_path / "e.csv", [event]))
    (group,) = pending_index(pending_acks(log)).values()
    assert isinstance(group, PendingGroup)
    for age, fires in ((not_aged, False), (aged, True)):
        if age:
            found = group.first_aged(request + age, 14, factor)
            assert (found == "e1") is fires, (factor, age)
            eager = aged_pending_trigger(_route("s1", "publish_gate"),
                                         Refresh(request + age, (), {}, ""), log.pending,
                                         Thresholds(aged_factor=factor))
            assert (eager is not None) is fires
