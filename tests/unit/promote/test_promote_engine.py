"""Rung 1: triggers, evidence, automatic/planned/forced reverts, with their boundaries."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from tests.unit.promote.factories import (
    US,
    ack,
    day,
    digest,
    inputs,
    manual,
    policy,
    refresh,
    rule,
    timeline,
)

from govgate.fatigue.model import PendingAck, Thresholds
from govgate.model import Severity
from govgate.promote import evaluate_promotions
from govgate.promote.model import ForcedRevert
from govgate.promote.rules import aged_pending_trigger

PID = "bpe-publish_gate-20261003T000000Z"  # a promote at refresh 2


def test_red_primary_promotes_backup_with_the_snapshot_hash() -> None:
    refreshes = timeline(4, alice="ggrr")
    result = evaluate_promotions(inputs(), refreshes, [], day(3))
    (p,) = result.promotes
    assert p.promote_event_id == PID
    assert (p.owner_route, p.promoted_signer, p.primary_signer) == ("publish_gate", "bob", "alice")
    assert p.trigger_type == "heatmap_red"
    assert p.trigger_evidence_ref == f"heatmap:sha256:{digest(2)}@2026-10-03T00:00:00Z"
    assert p.promoted_at_dt_utc == day(2)
    assert p.reverted_at_dt_utc is None
    assert p.policy_version_at_time == "1.0.0"


def test_amber_or_recovering_primary_does_not_promote() -> None:
    result = evaluate_promotions(inputs(), timeline(3, alice="acg"), [], day(2))
    assert result.promotes == ()


def test_route_without_heatmap_red_in_promote_trigger_does_not_fire() -> None:
    pol = policy(rule(triggers=("manual_invocation",)))
    result = evaluate_promotions(inputs(pol), timeline(3, alice="rrr"), [], day(2))
    assert result.promotes == ()


def test_revert_on_the_seventh_green_refresh_not_the_sixth() -> None:
    # red at 2, then 7 greens at 3..9 (counted strictly after the promote)
    refreshes = timeline(12, alice="ggr" + "g" * 9)
    at_6th = evaluate_promotions(inputs(), refreshes, [], day(8))
    assert at_6th.promotes[0].reverted_at_dt_utc is None
    at_7th = evaluate_promotions(inputs(), refreshes, [], day(9))
    (p,) = at_7th.promotes
    assert p.reverted_at_dt_utc == day(9)
    assert p.revert_kind == "revert_condition"


def test_a_recovering_day_resets_the_green_count() -> None:
    # promote at 2; greens at 3..7, recovering at 8 (the 6th day), then greens from 9
    refreshes = timeline(20, alice="ggr" + "ggggg" + "c" + "g" * 11)
    result = evaluate_promotions(inputs(), refreshes, [], day(19))
    assert result.promotes[0].reverted_at_dt_utc == day(15)  # 9..15 = seven greens
    before = evaluate_promotions(inputs(), refreshes, [], day(14))
    assert before.promotes[0].reverted_at_dt_utc is None


def test_a_promote_on_a_green_refresh_does_not_count_that_refresh() -> None:
    # manual invocation exactly at refresh 0; greens at 1..7 revert at 7 (manual without until)
    refreshes = timeline(9, alice="g" * 9)
    result = evaluate_promotions(inputs(manual=[manual("inv-1", day(0))]), refreshes, [], day(8))
    assert result.promotes[0].reverted_at_dt_utc == day(7)


def test_already_promoted_route_is_not_promoted_again() -> None:
    result = evaluate_promotions(inputs(), timeline(5, alice="rrrrr"), [], day(4))
    assert len(result.promotes) == 1


def test_after_a_revert_triggers_are_evaluated_again_at_the_same_refresh() -> None:
    refreshes = timeline(11, alice="r" + "g" * 10)
    # an ack still open at refresh 7 (the revert), requested 2 h before: aged at 7 only
    aged = ack("ack-77", day(7) - timedelta(hours=2), day(7) + timedelta(hours=1))
    result = evaluate_promotions(inputs(), refreshes, [aged], day(10))
    first, second = result.promotes
    assert first.reverted_at_dt_utc == day(7)
    assert second.promoted_at_dt_utc == day(7)
    assert second.trigger_type == "pending_acks_aged"
    assert second.trigger_evidence_ref == "signer_ack_event:ack-77"


# -- pending_acks_aged boundaries (publish_gate SLA 0.5 h, factor 1.5: 45 minutes) ---------


def _aged(pending: list[PendingAck], t_day: int = 5) -> str | None:
    fired = aged_pending_trigger(rule(), refresh(t_day, {"alice": "green"}),
                                 sorted(pending, key=lambda a: (a.request_dt_utc,
                                                                a.ack_event_id)),
                                 Thresholds())
    return fired.trigger_evidence_ref if fired else None


def test_exactly_one_and_a_half_sla_old_is_not_aged_one_microsecond_more_is() -> None:
    t = day(5)
    assert _aged([ack("a1", t - timedelta(minutes=45))]) is None
    assert _aged([ack("a1", t - timedelta(minutes=45) - US)]) == "signer_ack_event:a1"


def test_acked_exactly_at_the_refresh_is_not_pending_one_microsecond_after_is() -> None:
    t, requested = day(5), day(5) - timedelta(hours=3)
    assert _aged([ack("a1", requested, t)]) is None
    assert _aged([ack("a1", requested, t + US)]) == "signer_ack_event:a1"


def test_request_exactly_fourteen_days_before_is_in_the_window_earlier_is_out() -> None:
    t = day(20)
    assert _aged([ack("a1", t - timedelta(days=14))], 20) == "signer_ack_event:a1"
    assert _aged([ack("a1", t - timedelta(days=14) - US)], 20) is None


def test_request_at_the_refresh_instant_is_outside_the_window() -> None:
    assert _aged([ack("a1", day(5))]) is None


def test_evidence_is_the_oldest_aged_ack_and_other_signers_or_routes_are_ignored() -> None:
    t = day(5)
    pending = [
        ack("b-newer", t - timedelta(hours=2)),
        ack("a-older", t - timedelta(hours=3)),
        ack("x-other-signer", t - timedelta(hours=9), signer="zoe"),
        ack("y-other-route", t - timedelta(hours=9), route="faq_rewrite", sla="4"),
    ]
    assert _aged(pending) == "signer_ack_event:a-older"


def test_aged_factor_comes_from_the_policy_thresholds() -> None:
    t = day(5)
    pending = [ack("a1", t - timedelta(minutes=50))]
    fired = aged_pending_trigger(rule(), refresh(5, {}), pending,
                                 Thresholds(aged_factor=Decimal("2")))
    assert fired is None
    assert _aged(pending) == "signer_ack_event:a1"


def test_both_triggers_firing_records_heatmap_red() -> None:
    refreshes = timeline(3, alice="ggr")
    pending = [ack("a1", day(2) - timedelta(hours=5))]
    result = evaluate_promotions(inputs(), refreshes, pending, day(2))
    (p,) = result.promotes
    assert p.trigger_type == "heatmap_red"
    assert p.trigger_evidence_ref.startswith("heatmap:sha256:")


def test_pending_acks_aged_promotes_at_the_refresh_through_the_engine() -> None:
    refreshes = timeline(4)
    pending = [ack("a1", day(2) - timedelta(hours=1)), ack("a0", day(1) + timedelta(hours=1),
                                                           day(1) + timedelta(hours=2))]
    result = evaluate_promotions(inputs(), refreshes, pending, day(3))
    (p,) = result.promotes
    assert (p.promoted_at_dt_utc, p.trigger_evidence_ref) == (day(2), "signer_ack_event:a1")


# -- manual invocations ------------------------------------------------------------------


def test_manual_invocation_promotes_at_its_instant_and_reverts_at_until() -> None:
    start, end = day(1) + timedelta(hours=9, minutes=14), day(4) + timedelta(hours=6)
    refreshes = timeline(12, alice="g" * 12)
    result = evaluate_promotions(inputs(manual=[manual("inv-7", start, end)]), refreshes, [],
                                 day(11))
    (p,) = result.promotes
    assert p.promote_event_id == "bpe-publish_gate-20261002T091400Z"
    assert (p.trigger_type, p.trigger_evidence_ref) == ("manual_invocation",
                                                        "manual_invocation:inv-7")
    assert (p.promoted_at_dt_utc, p.reverted_at_dt_utc, p.revert_kind) == (start, end,
                                                                           "planned_end")


def test_planned_manual_promote_ignores_the_green_revert_rule() -> None:
    refreshes = timeline(12, alice="g" * 12)
    result = evaluate_promotions(inputs(manual=[manual("inv-1", day(0), day(11))]), refreshes,
                                 [], day(10))
    assert result.promotes[0].reverted_at_dt_utc is None


def test_manual_invocation_in_the_future_is_ignored() -> None:
    result = evaluate_promotions(inputs(manual=[manual("inv-1", day(3))]), timeline(3), [],
                                 day(2))
    assert result.promotes == ()


def test_manual_invocation_not_allowed_by_the_route_is_a_warning() -> None:
    pol = policy(rule(triggers=("heatmap_red",)))
    result = evaluate_promotions(inputs(pol, manual=[manual("inv-1", day(1))]), timeline(3), [],
                                 day(2))
    assert result.promotes == ()
    (f,) = [f for f in result.findings if f.rule == "promote.manual-not-allowed"]
    assert f.severity is Severity.WARNING and f.subject == "inv-1"


def test_manual_invocation_on_a_promoted_route_is_superseded() -> None:
    result = evaluate_promotions(inputs(manual=[manual("inv-1", day(1) + timedelta(hours=1))]),
                                 timeline(3, alice="grr"), [], day(2))
    assert len(result.promotes) == 1
    assert [f.rule for f in result.findings if f.rule.startswith("promote.manual")] == [
        "promote.manual-superseded"]


# -- forced reverts ----------------------------------------------------------------------


def test_forced_revert_ends_the_promote_and_writes_a_forced_revert_record() -> None:
    at = day(3) + timedelta(hours=4)
    forced = ForcedRevert(promote_event_id=PID, owner_route=None, reverted_at=at,
                          reason="primary back from leave early", by="tl-sam")
    result = evaluate_promotions(inputs(forced=[forced]), timeline(5, alice="ggrcc"), [],
                                 day(4))
    (p,) = result.promotes
    assert (p.reverted_at_dt_utc, p.revert_kind) == (at, "forced")
    (fr,) = result.forced_reverts
    assert fr.to_row() == {
        "forced_revert_event_id": "fre-publish_gate-20261004T040000Z",
        "promote_event_id": PID,
        "owner_route": "publish_gate",
        "reverted_at_dt_utc": "2026-10-04T04:00:00Z",
        "reason": "primary back from leave early",
        "by": "tl-sam",
    }
    records = {(r.kind, r.key): r for r in result.records()}
    assert ("forced_revert", f"forced_revert:{PID}") in records
    assert records[("forced_revert", f"forced_revert:{PID}")].data["reason"] == (
        "primary back from leave early")
    assert ("revert", f"revert:{PID}") not in records


def test_forced_revert_by_route_and_red_primary_promotes_again_at_next_refresh() -> None:
    forced = ForcedRevert(promote_event_id=None, owner_route="publish_gate",
                          reverted_at=day(2) + timedelta(hours=1), reason="r", by="tl-sam")
    result = evaluate_promotions(inputs(forced=[forced]), timeline(4, alice="ggrr"), [], day(3))
    assert [p.promoted_at_dt_utc for p in result.promotes] == [day(2), day(3)]


def test_forced_revert_matching_nothing_is_a_warning() -> None:
    forced = ForcedRevert(promote_event_id="bpe-nope", owner_route=None, reverted_at=day(1),
                          reason="r", by="tl-sam")
    result = evaluate_promotions(inputs(forced=[forced]), timeline(3), [], day(2))
    assert [f.rule for f in result.findings] == ["promote.forced-revert-unmatched"]


@pytest.mark.parametrize("as_of_day", [0, 1])
def test_no_promote_before_the_policy_is_approved(as_of_day: int) -> None:
    pol = policy(approved=day(1) + timedelta(hours=1))
    result = evaluate_promotions(inputs(pol), timeline(2, alice="rr"), [], day(as_of_day))
    assert result.promotes == ()


def test_policy_version_in_force_at_each_refresh_is_recorded() -> None:
    old = policy(version="1.0.0", approved=day(-10))
    new = policy(rule(backup="frank"), version="1.1.0", approved=day(2))
    forced = ForcedRevert(None, "publish_gate", day(1) + timedelta(hours=1), "r", "tl-sam")
    result = evaluate_promotions(inputs(old, new, forced=[forced]), timeline(3, alice="rrr"),
                                 [], day(2))
    assert [(p.policy_version_at_time, p.promoted_signer) for p in result.promotes] == [
        ("1.0.0", "bob"), ("1.1.0", "frank")]


def test_durations_in_days_print_as_the_exact_decimal_rounding() -> None:
    """``duration_days``: one integer division, the same text as ``round_ratio`` half up."""
    import random
    from datetime import UTC, datetime, timedelta
    from decimal import Decimal

    from govgate.decimals import round_ratio
    from govgate.promote.result import _days

    day = 86_400_000_000
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rng = random.Random(5)
    cases = [0, 1, -1, day // 200, day // 200 - 1, day // 200 + 1, day // 100, 3 * day // 200,
             day, -day // 200, -(day // 200) - 1, 123 * day + day // 200, 10**15 + 7]
    cases += [rng.randrange(-400 * day, 400 * day) for _ in range(500)]
    for micros in cases:
        end = start + timedelta(microseconds=micros)
        want = str(round_ratio(Decimal(micros), Decimal(day), 2, half_up=True))
        assert _days(start, end) == want, micros
