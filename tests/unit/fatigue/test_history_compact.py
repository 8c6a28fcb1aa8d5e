"""The compact daily history: every refresh's rows, classes and hash, asked for in any order,
equal what the full pass computes for that instant and what SQL's view says.

The history keeps one byte per signer-day and recomputes a day's rows in blocks (a bounded
cache); these tests walk block edges, evictions and windows longer than a block.
"""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import pytest
from tests.unit.fatigue.factories import (
    AS_OF,
    as_dict,
    random_events,
    reference_history,
    write_csv,
)

from govgate.fatigue.daily import BLOCK_DAYS, History
from govgate.fatigue.events import load_events
from govgate.fatigue.heatmap import heatmap, history
from govgate.fatigue.model import Refresh, Thresholds
from govgate.fatigue.snapshot import snapshot_hash


@pytest.mark.parametrize("seed", range(6))
def test_every_refresh_in_any_order_equals_the_reference(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    events = random_events(rng, 250, days=3 * BLOCK_DAYS + 5)
    log = load_events(write_csv(tmp_path / "e.csv", events))
    thresholds = Thresholds(window_days=rng.choice([1, 3, 14, BLOCK_DAYS + 9]),
                            recovering_days=rng.choice([2, 7]))
    full = history(log, AS_OF, thresholds)
    assert isinstance(full, History)
    want = reference_history(events, [r.at for r in full], thresholds)
    order = list(range(len(full)))
    rng.shuffle(order)  # blocks computed, evicted and computed again
    for index in order:
        refresh = full[index]
        rows, classes = want[index]
        assert {r.signer_id: as_dict(r) for r in refresh.rows} == rows, refresh.at
        assert [r.signer_id for r in refresh.rows] == sorted(rows)
        assert dict(refresh.classification) == classes
        assert list(refresh.classification) == sorted(classes)
        assert refresh.snapshot_hash == snapshot_hash(refresh.at, refresh.rows)


@pytest.mark.parametrize("seed", range(4))
def test_a_recomputed_day_equals_the_full_pass_at_that_instant(tmp_path: Path,
                                                               seed: int) -> None:
    rng = random.Random(100 + seed)
    log = load_events(write_csv(tmp_path / "e.csv",
                                random_events(rng, 300, days=2 * BLOCK_DAYS + 11)))
    full = history(log, AS_OF)
    for back in sorted(rng.sample(range(len(full) - 1), 12)):
        at = AS_OF - timedelta(days=back)
        alone = heatmap(log, at)  # the full pass builds this day's rows itself
        got = full[len(full) - 1 - back]
        assert got == alone
        assert got.rows == alone.rows and got.snapshot_hash == alone.snapshot_hash


def test_the_mapping_of_classes_reads_like_the_dict_it_replaces(tmp_path: Path) -> None:
    rng = random.Random(7)
    log = load_events(write_csv(tmp_path / "e.csv", random_events(rng, 200)))
    refresh = history(log, AS_OF)[-1]
    classes = refresh.classification
    plain = dict(classes)
    assert classes == plain and len(classes) == len(plain)
    assert classes.get("nobody") is None and classes.get("nobody", "green") == "green"
    with pytest.raises(KeyError):
        classes["nobody"]
    assert sorted(classes.items()) == sorted(plain.items())
    eager = Refresh(refresh.at, refresh.rows, plain, refresh.snapshot_hash)
    assert eager == refresh


def test_a_classifier_with_its_own_names_keeps_them(tmp_path: Path) -> None:
    rng = random.Random(8)
    log = load_events(write_csv(tmp_path / "e.csv", random_events(rng, 200)))

    def by_windows(windows: int, *_: object) -> str:
        return f"w{windows}"

    refreshes = history(log, AS_OF, classify=by_windows)
    for refresh in refreshes[-BLOCK_DAYS - 3:]:
        for row in refresh.rows:
            assert row.classification == f"w{row.concurrent_window_count_14d}"
            assert refresh.classification[row.signer_id] == row.classification


def test_rows_held_stay_bounded_whatever_is_read(tmp_path: Path) -> None:
    """Memory grows with signers, not signers x days: reading every refresh's rows and hash
    keeps a few blocks of rows, never the whole history's."""
    rng = random.Random(9)
    log = load_events(write_csv(tmp_path / "e.csv", random_events(rng, 300, days=8 * BLOCK_DAYS)))
    full = history(log, AS_OF)
    assert isinstance(full, History) and len(full) > 6 * BLOCK_DAYS
    assert full.days_with_rows_held <= BLOCK_DAYS  # the classifying pass keeps the latest block
    for refresh in full:
        assert refresh.snapshot_hash and refresh.rows is not None
        assert full.days_with_rows_held <= 3 * BLOCK_DAYS
