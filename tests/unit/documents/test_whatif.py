"""What-if: the month replayed under a candidate policy, through the same rules as the gate."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pluggy
import pytest
import yaml
from tests.unit.documents.demo import policy

from govgate.config import Config
from govgate.documents import periods
from govgate.documents.review_flow import run_review
from govgate.documents.snapshots import evaluate_at
from govgate.documents.whatif import candidate_from_bytes, month_counts, replay_month
from govgate.errors import GovgateError

OCTOBER = periods.month("2026-10")
AS_OF = datetime(2026, 11, 20, tzinfo=UTC)


def candidate(version: str = "2.0.0", **thresholds: Any) -> bytes:
    doc = policy(version, "2027-01-01T00:00:00Z", "ack-candidate")
    doc["thresholds"] = {**doc["thresholds"], **thresholds}
    return yaml.safe_dump(doc, sort_keys=False).encode()


def test_lower_threshold_actually_promotes(scenario: Config,
                                           docs_pm: pluggy.PluginManager) -> None:
    baseline = evaluate_at(scenario, docs_pm, OCTOBER.close(AS_OF))
    before = month_counts(baseline, OCTOBER)
    doc = candidate_from_bytes(candidate(red_min_windows=3), "lower.yaml")
    after = replay_month(scenario, docs_pm, baseline, OCTOBER, doc, "lower")
    assert before["heatmap_red"] == 0 and after.counts["heatmap_red"] >= 1
    assert after.versions == ("2.0.0",)
    # The candidate is in force from the month's first instant, whatever its approval date.
    promotes = after.promote["promotes"]
    red = [p for p in promotes if p["trigger_type"] == "heatmap_red"]
    assert red and all(p["policy_version_at_time"] == "2.0.0" for p in red)
    # The baseline evaluation is untouched by the replay.
    assert month_counts(baseline, OCTOBER) == before


def test_a_lower_version_number_is_still_in_force(scenario: Config,
                                                  docs_pm: pluggy.PluginManager) -> None:
    baseline = evaluate_at(scenario, docs_pm, OCTOBER.close(AS_OF))
    doc = candidate_from_bytes(candidate("0.9.0", red_min_windows=3), "old.yaml")
    outcome = replay_month(scenario, docs_pm, baseline, OCTOBER, doc, "old")
    assert outcome.counts["heatmap_red"] >= 1
    assert outcome.promote["policy_version"] == "0.9.0"


def test_counts_are_side_by_side_in_the_review(scenario: Config,
                                               docs_pm: pluggy.PluginManager) -> None:
    review = run_review(scenario, docs_pm, OCTOBER, AS_OF,
                        [("strict.yaml", candidate(red_min_windows=9)),
                         ("eager.yaml", candidate("2.1.0", red_min_windows=1, amber_ratio="0.5"))])
    labels = [o.label for o in review.outcomes]
    assert labels == ["in force", "proposed", "candidate strict.yaml", "candidate eager.yaml"]
    counts = {o.label: o.counts for o in review.outcomes}
    assert counts["candidate strict.yaml"]["heatmap_red"] == 0
    assert counts["candidate eager.yaml"]["heatmap_red"] >= counts["proposed"]["heatmap_red"]
    for c in counts.values():
        assert c["promotes"] == c["heatmap_red"] + c["pending_acks_aged"] + c["manual_invocation"]
    assert "| rung-2 pages " in review.markdown
    assert "candidate strict.yaml (2.0.0)" in review.markdown


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda d: d.update(kind="epsilon_policy"), "/"),
    (lambda d: d["routes"][0].update(backup_signer="alex"), "must differ"),
    (lambda d: d["thresholds"].update(amber_ratio="-1"), "amber_ratio"),
])
def test_bad_candidates_are_refused(mutate: Any, message: str) -> None:
    doc = copy.deepcopy(policy("2.0.0", "2026-10-01T00:00:00Z", "ack"))
    mutate(doc)
    with pytest.raises(GovgateError) as info:
        candidate_from_bytes(yaml.safe_dump(doc).encode(), "bad.yaml")
    assert message in str(info.value) and str(info.value).startswith("bad.yaml")


@pytest.mark.parametrize("thresholds", [
    {}, {"red_min_windows": 3}, {"red_min_windows": 1, "amber_ratio": "0.5"},
    {"window_days": 7, "aged_factor": "1"}, {"rung2_hours": 96, "recovering_days": 2},
])
def test_a_replay_counts_what_a_full_evaluation_of_the_candidate_counts(
        scenario: Config, docs_pm: pluggy.PluginManager, thresholds: dict[str, Any]) -> None:
    """The replay evaluates the promote domain only; the numbers are the full gate's."""
    from govgate.documents.whatif import outcome_of, with_candidate

    baseline = evaluate_at(scenario, docs_pm, OCTOBER.close(AS_OF))
    doc = candidate_from_bytes(candidate(**thresholds), "c.yaml")
    replayed = replay_month(scenario, docs_pm, baseline, OCTOBER, doc, "c")
    full = evaluate_at(scenario, docs_pm, baseline.at,
                       with_candidate(baseline.evaluation.inputs, doc, OCTOBER.start))
    assert replayed.promote == full.section("promote")
    assert replayed.counts == outcome_of("c", full, OCTOBER).counts
    assert replayed.versions == outcome_of("c", full, OCTOBER).versions


def test_replayed_evaluations_are_let_go(scenario: Config,
                                         docs_pm: pluggy.PluginManager) -> None:
    """An outcome keeps the promote section it counted, not the evaluation or its history."""
    import gc
    import weakref

    from govgate.checks.fatigue import get_history

    baseline = evaluate_at(scenario, docs_pm, OCTOBER.close(AS_OF))
    doc = candidate_from_bytes(candidate(red_min_windows=2), "c.yaml")
    seen: list[weakref.ref[Any]] = []
    import govgate.promote.plugin as promote_plugin

    original = promote_plugin.get_promote_result

    def spy(evaluation: Any) -> Any:
        seen.append(weakref.ref(evaluation))
        history = get_history(evaluation)
        assert history is not None
        seen.append(weakref.ref(history))
        return original(evaluation)

    promote_plugin.get_promote_result = spy  # type: ignore[assignment]
    try:
        outcome = replay_month(scenario, docs_pm, baseline, OCTOBER, doc, "c")
    finally:
        promote_plugin.get_promote_result = original  # type: ignore[assignment]
    gc.collect()
    assert outcome.counts["promotes"] >= 1
    assert seen and all(ref() is None for ref in seen)


@pytest.mark.parametrize("thresholds", [
    {}, {"red_min_windows": 3}, {"red_min_windows": 1, "amber_ratio": "0.5"},
    {"window_days": 7, "quiet_ratio": "0.9", "recovering_days": 2},
])
def test_a_replay_resumed_at_the_month_equals_an_evaluation_from_a_fresh_load(
        scenario: Config, docs_pm: pluggy.PluginManager, thresholds: dict[str, Any]) -> None:
    """As the review runs it: the baseline's history notes its state at the month's first day
    and the replay reclassifies from there; a fresh load shares nothing with it."""
    from govgate.checks.fatigue import CHECKPOINTS, get_history
    from govgate.documents.whatif import outcome_of, with_candidate
    from govgate.evaluate import load_inputs
    from govgate.fatigue.daily import History

    close = OCTOBER.close(AS_OF)
    inputs = load_inputs(scenario, docs_pm, close)
    inputs.put(CHECKPOINTS, (OCTOBER.start,))
    baseline = evaluate_at(scenario, docs_pm, close, inputs)
    history = get_history(baseline.evaluation)
    assert isinstance(history, History) and history.streaks
    doc = candidate_from_bytes(candidate(**thresholds), "c.yaml")
    replayed = replay_month(scenario, docs_pm, baseline, OCTOBER, doc, "c")
    fresh = load_inputs(scenario, docs_pm, close)
    full = evaluate_at(scenario, docs_pm, close, with_candidate(fresh, doc, OCTOBER.start))
    assert replayed.promote == full.section("promote")
    assert replayed.counts == outcome_of("c", full, OCTOBER).counts
    # The history itself, refresh by refresh (a fresh load's is computed in one pass).
    from govgate.fatigue.heatmap import reclassified
    from govgate.promote.plugin import thresholds_by_instant

    resumed = reclassified(history, thresholds_by_instant(full.evaluation))
    once = get_history(full.evaluation)
    assert once is not None
    assert [(r.at, dict(r.classification)) for r in resumed] == \
           [(r.at, dict(r.classification)) for r in once]
    assert [(r.rows, r.snapshot_hash) for r in resumed[-45:]] == \
           [(r.rows, r.snapshot_hash) for r in once[-45:]]
