"""The refresh at as-of from the recent rows (``fatigue/lookback.py``) equals the one from every
row: whenever :func:`exact_refresh` answers, and after the signers :func:`unsettled` names get
their whole history, whatever the thresholds of each day (policy versions)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from tests.unit.fatigue.factories import AS_OF, Event, random_events, write_csv

from govgate.fatigue.events import EventLog, load_events
from govgate.fatigue.heatmap import ThresholdsAt, heatmap
from govgate.fatigue.lookback import exact_refresh, requested_since, unsettled
from govgate.fatigue.model import Refresh, Thresholds
from govgate.fatigue.snapshot import render_json


def _log(events: list[Event], tmp_path: Path, name: str) -> EventLog:
    return load_events(write_csv(tmp_path / name, events), refresh_anchor=AS_OF, source="t")


def _same(got: Refresh, want: Refresh) -> None:
    assert render_json(got) == render_json(want)
    assert dict(got.classification) == dict(want.classification)


def _streaky(rng: random.Random, days: int) -> list[Event]:
    """Signers between the quiet and amber ratios for weeks, hot long ago, or gone."""
    start = AS_OF - timedelta(days=days)
    events = []
    for n in range(6):
        hot_until = rng.choice([None, rng.randrange(days)])
        for day in range(days):
            if rng.random() < 0.25:
                continue
            request = start + timedelta(days=day, seconds=rng.randrange(86_400))
            hot = hot_until is not None and day <= hot_until
            ratio = rng.choice([0.9, 1.3]) if hot else rng.choice([0.3, 0.55, 0.62, 0.7])
            events.append(Event(f"k{n}-{day}", f"k{n}", request,
                                request + timedelta(hours=0.5 * ratio),
                                cert_window_id=f"w{day % 4}" if hot else "w0"))
    gone = start - timedelta(days=9)
    events.append(Event("gone", "gone", gone, gone + timedelta(hours=3)))
    return events


def _versions(rng: random.Random) -> ThresholdsAt:
    """Thresholds that change on some days, as policy versions do."""
    cuts = sorted(AS_OF - timedelta(days=rng.randrange(40)) for _ in range(3))
    kinds = [
        Thresholds(),
        Thresholds(window_days=7, quiet_ratio=Decimal("0.6"), recovering_days=3),
        Thresholds(window_days=21, amber_ratio=Decimal("0.65"), recovering_days=10),
    ]
    picked = [rng.choice(kinds) for _ in cuts]

    def at(instant: datetime) -> Thresholds:
        current = Thresholds()
        for cut, thresholds in zip(cuts, picked, strict=True):
            if instant >= cut:
                current = thresholds
        return current

    return at


@pytest.mark.parametrize("seed", range(12))
def test_the_recent_rows_decide_the_refresh_or_say_who_needs_more(tmp_path: Path,
                                                                  seed: int) -> None:
    rng = random.Random(seed)
    days = rng.choice([30, 90])
    events = random_events(rng, rng.choice([100, 900]), days=days) + _streaky(rng, days)
    events = [replace(e, sla=e.sla or "0.50") for e in events]
    thresholds = _versions(rng) if seed % 3 else Thresholds()
    at = AS_OF - timedelta(days=rng.choice([0, 0, 3]))
    want = heatmap(_log(events, tmp_path, "all.csv"), at, thresholds)
    for lookback in (0, 1, 3, 8, 20):
        first = at - timedelta(days=lookback)
        since = requested_since(thresholds, first, at)
        recent = [e for e in events if e.request >= since]
        unread = {e.signer_id for e in events if e.request < since}
        log = _log(recent, tmp_path, f"recent-{lookback}.csv")
        got = exact_refresh(log, at, thresholds, first, unread)
        if got is not None:
            _same(got, want)
        deep = unsettled(log, at, thresholds, first, unread)
        assert (got is None) == bool(deep)
        # The signers named get their earlier rows: then the refresh is exact.
        more = recent + [e for e in events if e.request < since and e.signer_id in deep]
        whole = exact_refresh(_log(more, tmp_path, f"more-{lookback}.csv"), at, thresholds,
                              first, unread - deep)
        assert whole is not None
        _same(whole, want)


def test_requested_since_takes_the_longest_window_of_the_days() -> None:
    def at(instant: datetime) -> Thresholds:
        return Thresholds(window_days=30 if instant == AS_OF - timedelta(days=2) else 14)

    assert requested_since(Thresholds(), AS_OF - timedelta(days=5), AS_OF) == \
        AS_OF - timedelta(days=19)
    assert requested_since(at, AS_OF - timedelta(days=5), AS_OF) == AS_OF - timedelta(days=32)
