"""Rungs 2 and 3, decisions, and the effective signer of a route at any instant."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest
from tests.unit.promote.factories import (
    cert_window,
    day,
    decision,
    inputs,
    manual,
    policy,
    rule,
    timeline,
)

from govgate.model import Severity
from govgate.promote import CertWindow, EscalationDecision, PromoteResult, evaluate_promotions

PID = "bpe-publish_gate-20261003T000000Z"  # promote at refresh 2 (alice red)
KEY = f"govgate:rung2:{PID}"


def _ladder(bob: str, days: int = 8, as_of: int = 7,
            decisions: Sequence[EscalationDecision] = (),
            windows: Sequence[CertWindow] = ()) -> PromoteResult:
    refreshes = timeline(days, alice="ggr" + "r" * (days - 3), bob=bob)
    return evaluate_promotions(inputs(decisions=decisions, windows=windows), refreshes, [],
                               day(as_of))


def test_backup_amber_exactly_48_hours_after_the_promote_pages_once() -> None:
    result = _ladder(bob="gggca")  # amber at 4 = promote (2) + 48 h
    ((page, promote),) = result.pages
    assert promote.promote_event_id == PID
    assert page.dedup_key == KEY
    assert page.at == day(4)
    assert page.severity == "error"
    assert "bob" in page.summary and "publish_gate" in page.summary and "amber" in page.summary
    assert [o["option"] for o in page.details["options"]] == [
        "deferred_decision_lane", "tertiary_backup", "freeze_gate"]


def test_backup_amber_at_the_promote_refresh_pages() -> None:
    result = _ladder(bob="ggr")
    assert [p.at for p, _ in result.pages] == [day(2)]


def test_backup_red_only_at_48_hours_plus_a_day_does_not_page() -> None:
    assert _ladder(bob="gggggr").pages == ()


def test_recovering_backup_does_not_page() -> None:
    assert _ladder(bob="ggccc").pages == ()


def test_backup_amber_on_every_refresh_pages_once_per_promote() -> None:
    result = _ladder(bob="aaaaaaaa")
    assert len(result.pages) == 1


def test_manual_promote_window_is_48_hours_from_the_invocation_instant() -> None:
    start = day(1) + timedelta(hours=12)
    refreshes = timeline(6, bob="gggaa")  # amber at 3 (+36 h) ... window ends at 3.5
    result = evaluate_promotions(inputs(manual=[manual("inv-1", start)]), refreshes, [], day(5))
    assert [p.at for p, _ in result.pages] == [day(3)]
    refreshes = timeline(6, bob="ggggaa")  # amber first at 4 (+60 h): outside
    assert evaluate_promotions(inputs(manual=[manual("inv-1", start)]), refreshes, [],
                               day(5)).pages == ()


def test_unanswered_page_is_a_warning_while_the_promote_stands() -> None:
    result = _ladder(bob="gga")
    (f,) = [f for f in result.findings if f.rule == "ladder.rung2-unanswered"]
    assert f.severity is Severity.WARNING and f.owner_route == "publish_gate"


def test_tertiary_backup_decision_names_the_first_available_tertiary() -> None:
    pol = policy(rule(tertiary=("carol", "dave")))
    refreshes = timeline(8, alice="ggr" + "r" * 5, bob="gga", carol="rrrr", dave="gggg")
    decided = day(3) + timedelta(hours=2)
    result = evaluate_promotions(inputs(pol, decisions=[decision(PID, "tertiary_backup",
                                                                 decided)]),
                                 refreshes, [], day(7))
    (applied,) = result.decisions
    assert applied.tertiary_signer == "dave"  # carol is red at the latest refresh (3)
    assert not [f for f in result.findings if f.rule.startswith("ladder.rung2")]
    assert result.effective_signer("publish_gate", day(1)) == "alice"
    assert result.effective_signer("publish_gate", day(2)) == "bob"
    assert result.effective_signer("publish_gate", decided - timedelta(microseconds=1)) == "bob"
    assert result.effective_signer("publish_gate", decided) == "dave"
    assert result.section()["effective_signers"]["publish_gate"] == {
        "signer": "dave", "role": "tertiary", "promote_event_id": PID}


def test_tertiary_unavailable_is_a_warning_and_backup_still_signs() -> None:
    result = _ladder(bob="gga", decisions=[decision(PID, "tertiary_backup", day(5))])
    assert [f.rule for f in result.findings if f.rule.startswith("ladder.")] == [
        "ladder.tertiary-unavailable"]
    assert result.effective_signer("publish_gate", day(6)) == "bob"


def test_effective_signer_before_during_and_after_a_promote() -> None:
    refreshes = timeline(12, alice="ggr" + "g" * 9)  # promote at 2, revert at 9
    result = evaluate_promotions(inputs(), refreshes, [], day(11))
    us = timedelta(microseconds=1)
    assert result.effective_signer("publish_gate", day(2) - us) == "alice"
    assert result.effective_signer("publish_gate", day(2)) == "bob"
    assert result.effective_signer("publish_gate", day(9) - us) == "bob"
    assert result.effective_signer("publish_gate", day(9)) == "alice"
    with pytest.raises(KeyError):
        result.effective_signer("exec_readback", day(5))


def test_freeze_gate_blocks_active_critical_cert_windows_until_lifted() -> None:
    windows = [
        cert_window("quest-holiday", day(0), day(30)),
        cert_window("steam-dv", day(0), day(30), routes=("faq_rewrite",), platform="steam"),
        cert_window("ps-q4", day(10), day(30), platform="playstation"),
    ]
    lifted = day(6) + timedelta(hours=3)
    gate = decision(PID, "freeze_gate", day(4) + timedelta(hours=1), lifted=lifted)
    result = _ladder(bob="gga", decisions=[gate], windows=windows, as_of=6)
    (f,) = [f for f in result.findings if f.blocking]
    assert (f.rule, f.subject, f.owner_route) == ("ladder.freeze-gate", "quest-holiday",
                                                  "publish_gate")
    assert result.section()["rungs"] == {"rung1_promotes": 1, "rung2_pages": 1,
                                         "rung3_freeze_gates": 1}
    kinds = [r.kind for r in result.records()]
    assert "freeze_gate" in kinds and "freeze_lift" not in kinds
    after = _ladder(bob="gga", decisions=[gate], windows=windows, as_of=7)
    assert not [f for f in after.findings if f.blocking]
    assert "freeze_lift" in [r.kind for r in after.records()]


def test_freeze_gate_without_an_active_critical_window_is_information() -> None:
    gate = decision(PID, "freeze_gate", day(5))
    result = _ladder(bob="gga", decisions=[gate],
                     windows=[cert_window("later", day(20), day(30))])
    assert [f.rule for f in result.findings if f.rule.startswith("ladder.")] == [
        "ladder.freeze-gate-idle"]


def test_a_later_decision_supersedes_the_freeze_gate() -> None:
    gates = [decision(PID, "freeze_gate", day(4)),
             decision(PID, "deferred_decision_lane", day(5))]
    result = _ladder(bob="gga", decisions=gates,
                     windows=[cert_window("quest-holiday", day(0), day(30))])
    assert not [f for f in result.findings if f.blocking]


def test_decision_without_a_page_or_before_it_is_unmatched() -> None:
    result = _ladder(bob="ggga", decisions=[
        decision("bpe-nothing", "deferred_decision_lane", day(4)),
        decision(PID, "deferred_decision_lane", day(3) - timedelta(hours=1)),
    ])
    unmatched = [f for f in result.findings if f.rule == "ladder.decision-unmatched"]
    assert len(unmatched) == 2
    assert result.decisions == ()


def test_a_re_route_decided_after_the_promote_ended_is_unmatched() -> None:
    refreshes = timeline(14, alice="ggr" + "g" * 11, bob="gga")  # revert at 9
    result = evaluate_promotions(
        inputs(policy(rule(tertiary=("carol",))),
               decisions=[decision(PID, "tertiary_backup", day(10))]),
        refreshes, [], day(13))
    assert [f.rule for f in result.findings] == ["ladder.decision-unmatched"]
    assert result.effective_signer("publish_gate", day(11)) == "alice"


def test_rung2_resolve_boundaries() -> None:
    from govgate.promote.rules import rung2_resolve

    refreshes = timeline(9, alice="ggrrrrrrr", bob="ggaaaggaa")  # bob green again at day 5
    result = evaluate_promotions(inputs(), refreshes, [], day(8))
    ((page, promote),) = result.pages
    assert page.at == day(2)
    assert rung2_resolve(page, promote, refreshes, day(5) - timedelta(microseconds=1)) is None
    resolve = rung2_resolve(page, promote, refreshes, day(5))
    assert resolve is not None
    assert (resolve.action, resolve.dedup_key, resolve.at) == ("resolve", KEY, day(5))
    assert "bob is green again" in resolve.summary and "72 h after" in resolve.summary
    # A later as-of gives the very same resolve: it is a fact of its own instant.
    assert rung2_resolve(page, promote, refreshes, day(8)) == resolve
