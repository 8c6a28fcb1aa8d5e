"""The history under thresholds that change from one refresh to the next.

Each refresh is classified with the thresholds in force at its own instant (the backup owner
policy version approved by then), the window length included; compared with the obvious
reference (every refresh, every event, DOMAIN.md's words) on random exports.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from tests.unit.fatigue.factories import (
    AS_OF,
    as_dict,
    random_events,
    reference_rows,
    write_csv,
)

from govgate.fatigue.events import load_events
from govgate.fatigue.heatmap import classify, heatmap, history
from govgate.fatigue.model import Thresholds

SEED = Thresholds()
STRICT = Thresholds(amber_ratio=Decimal("0.3"), red_min_windows=2, amber_min_windows=2,
                    recovering_days=3)
WIDE = Thresholds(window_days=21, quiet_ratio=Decimal("0.9"))


def switching(*changes: tuple[datetime, Thresholds]) -> Callable[[datetime], Thresholds]:
    def in_force(at: datetime) -> Thresholds:
        current = SEED
        for since, thresholds in changes:
            if at >= since:
                current = thresholds
        return current

    return in_force


def reference(events: list, refreshes: list[datetime],
              in_force: Callable[[datetime], Thresholds]) -> list[dict[str, str]]:
    state: dict[str, str] = {}
    streak: dict[str, int] = {}
    out = []
    for at in refreshes:
        t = in_force(at)
        rows = reference_rows(events, at, t.window_days)
        classes = {}
        for signer in sorted({e.signer_id for e in events if e.request < at}):
            row = rows.get(signer)
            ratio = row["avg_latency_ratio_14d"] if row else None
            run = streak.get(signer, 0) + 1 if ratio is None or ratio < t.quiet_ratio else 0
            cls = classify(row["concurrent_window_count_14d"] if row else 0,
                           row["breached_count_14d"] if row else 0, ratio, state.get(signer),
                           run, t)
            streak[signer] = 0 if cls in ("red", "amber") else run
            state[signer] = classes[signer] = cls
        out.append(classes)
    return out


@pytest.mark.parametrize("seed", range(6))
def test_each_refresh_uses_the_thresholds_in_force_then(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    events = random_events(rng, 300)
    log = load_events(write_csv(tmp_path / "e.csv", events))
    in_force = switching((AS_OF - timedelta(days=20), STRICT), (AS_OF - timedelta(days=8), WIDE))
    refreshes = history(log, AS_OF, in_force)
    expected = reference(events, [r.at for r in refreshes], in_force)
    for refresh, classes in zip(refreshes, expected, strict=True):
        assert refresh.classification == classes, refresh.at
        rows = reference_rows(events, refresh.at, in_force(refresh.at).window_days)
        assert {r.signer_id: as_dict(r) | {"classification": None} for r in refresh.rows} == {
            s: r | {"classification": None} for s, r in rows.items()}
    assert heatmap(log, AS_OF, in_force) == refreshes[-1]


def test_one_version_throughout_is_the_same_as_plain_thresholds(tmp_path: Path) -> None:
    log = load_events(write_csv(tmp_path / "e.csv", random_events(random.Random(7), 200)))
    assert history(log, AS_OF, lambda _: STRICT) == history(log, AS_OF, STRICT)


def test_refreshes_before_a_change_are_those_of_the_earlier_version(tmp_path: Path) -> None:
    log = load_events(write_csv(tmp_path / "e.csv", random_events(random.Random(8), 300)))
    change = AS_OF - timedelta(days=5)
    mixed = history(log, AS_OF, switching((change, STRICT)))
    plain = history(log, AS_OF, SEED)
    assert [r for r in mixed if r.at < change] == [r for r in plain if r.at < change]
    assert mixed[-1] != plain[-1]  # the stricter thresholds do change something
