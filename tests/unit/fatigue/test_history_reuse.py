"""Documents evaluate the same events at several instants; the history is computed once.

The reuse is only sound because the history is causal: the refreshes up to an earlier instant
are exactly the first refreshes of a later instant's history. These tests pin that property on
the shipped demo and on random exports, and check what the shared history hands out.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from tests.unit.fatigue.factories import AS_OF, random_events, write_csv

from govgate.checks import fatigue as plugin
from govgate.fatigue.daily import History
from govgate.fatigue.events import load_events
from govgate.fatigue.heatmap import history
from govgate.fatigue.model import Refresh, Thresholds
from govgate.plugins import get_plugin_manager

DEMO = Path(__file__).resolve().parents[3] / "fixtures" / "fatigue" / "signer_ack_event.csv"


def _same(a: list, b: list) -> None:  # type: ignore[type-arg]
    assert [(r.at, r.rows, r.classification, r.snapshot_hash) for r in a] == \
           [(r.at, r.rows, r.classification, r.snapshot_hash) for r in b]


@pytest.mark.parametrize("days_back", [0, 1, 6, 7, 13, 14, 15, 30, 45, 400])
def test_an_earlier_history_is_a_prefix_of_a_later_one_on_the_demo(days_back: int) -> None:
    log = load_events(DEMO)
    later = history(log, AS_OF)
    at = AS_OF - timedelta(days=days_back)
    earlier = history(log, at)
    if later[0].at <= at:
        _same(earlier, [r for r in later if r.at <= at])


@pytest.mark.parametrize("seed", range(8))
def test_prefix_property_on_random_exports(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    log = load_events(write_csv(tmp_path / "e.csv", random_events(rng, 300)))
    thresholds = Thresholds(window_days=rng.choice([3, 7, 14]),
                            recovering_days=rng.choice([2, 7]))
    later = history(log, AS_OF + timedelta(days=10), thresholds)
    for back in range(0, 60, 3):
        at = AS_OF + timedelta(days=10 - back)
        if later[0].at <= at:
            _same(history(log, at, thresholds), [r for r in later if r.at <= at])


def test_shared_history_equals_a_fresh_computation_and_is_reused() -> None:
    from govgate.config import load_config
    from govgate.evaluate import load_inputs
    from govgate.evaluation import Evaluation

    pm = get_plugin_manager()
    config = load_config(DEMO.parents[2] / "govgate.yaml", cwd=DEMO.parents[2])
    inputs = load_inputs(config, pm, AS_OF)

    def at(instant: datetime) -> Sequence[Refresh]:
        evaluation = Evaluation(as_of=instant, config=config, hook=pm.hook, inputs=inputs)
        return plugin.get_history(evaluation) or []

    later = at(AS_OF)
    assert at(AS_OF) is later
    earlier_instant = AS_OF - timedelta(days=20)
    earlier = at(earlier_instant)
    assert isinstance(earlier, History) and isinstance(later, History)
    assert earlier.shares_store(later)  # taken, not recomputed
    assert earlier[-1].at == earlier_instant and len(earlier) < len(later)
    plugin._HISTORIES.clear()
    _same(list(earlier), list(at(earlier_instant)))  # what a fresh computation gives
