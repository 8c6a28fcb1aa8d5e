"""Same inputs and as-of, same bytes: re-runs, shuffled inputs, stable ledger keys."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import timedelta

from tests.unit.promote.factories import (
    ack,
    cert_window,
    day,
    decision,
    inputs,
    manual,
    policy,
    rule,
    timeline,
)

from govgate.fatigue.model import PendingAck, Refresh
from govgate.ledger import canonical_json
from govgate.promote import PromoteInputs, PromoteResult, evaluate_promotions
from govgate.promote.model import ForcedRevert

PID = "bpe-publish_gate-20261003T000000Z"


def _scenario() -> tuple[PromoteInputs, list[Refresh], list[PendingAck]]:
    pol = policy(rule("publish_gate", tertiary=("carol",)),
                 rule("faq_rewrite", "dana", "erin", days=3),
                 rule("exec_readback", "gus", "hana"))
    refreshes = timeline(20, alice="ggr" + "r" * 3 + "g" * 14, bob="ggga", dana="ggggrrrrrr",
                         gus="g" * 20)
    pending = [ack(f"ack-{i}", day(i) - timedelta(hours=30), signer="gus",
                   route="exec_readback", sla="24") for i in (8, 9, 12)]
    pending += [ack("ack-x", day(3) - timedelta(hours=1), day(3) + timedelta(minutes=5))]
    data = inputs(
        pol,
        manual=[manual("inv-1", day(10) + timedelta(hours=9), day(12), route="faq_rewrite"),
                manual("inv-2", day(11), route="exec_readback")],
        forced=[ForcedRevert(None, "faq_rewrite", day(9) + timedelta(hours=2), "back", "tl")],
        decisions=[decision(PID, "freeze_gate", day(4), lifted=day(8)),
                   decision(PID, "tertiary_backup", day(9))],
        windows=[cert_window("quest-h", day(0), day(40)),
                 cert_window("steam-dv", day(5), day(40), routes=("faq_rewrite",))],
    )
    return data, refreshes, pending


def _dump(result: PromoteResult) -> bytes:
    records = [{"kind": r.kind, "key": r.key, "at": r.at.isoformat(), "data": r.data}
               for r in result.records()]
    return canonical_json({"records": records, "section": result.section(),
                           "findings": [[f.rule, f.subject, f.severity.value, f.message]
                                        for f in result.findings],
                           "pages": [[p.dedup_key, p.summary] for p, _ in result.pages]})


def test_the_scenario_exercises_every_record_kind() -> None:
    data, refreshes, pending = _scenario()
    result = evaluate_promotions(data, refreshes, pending, day(19))
    kinds = {r.kind for r in result.records()}
    assert kinds == {"promote", "revert", "forced_revert", "escalation_decision",
                     "freeze_gate", "freeze_lift"}
    keys = [r.key for r in result.records()]
    assert len(keys) == len(set(keys))


def test_evaluating_twice_gives_identical_records_and_bytes() -> None:
    data, refreshes, pending = _scenario()
    first = evaluate_promotions(data, refreshes, pending, day(19))
    second = evaluate_promotions(data, refreshes, pending, day(19))
    assert [(r.kind, r.key, r.at, r.data) for r in first.records()] == [
        (r.kind, r.key, r.at, r.data) for r in second.records()]
    assert _dump(first) == _dump(second)


def test_shuffled_inputs_give_the_same_output() -> None:
    data, refreshes, pending = _scenario()
    expected = _dump(evaluate_promotions(data, refreshes, pending, day(19)))
    rng = random.Random(174)
    for _ in range(5):
        shuffled = replace(
            data,
            policies=tuple(rng.sample(data.policies, len(data.policies))),
            manual_invocations=tuple(rng.sample(data.manual_invocations, 2)),
            escalation_decisions=tuple(rng.sample(data.escalation_decisions, 2)),
            cert_windows=tuple(rng.sample(data.cert_windows, 2)),
        )
        assert _dump(evaluate_promotions(shuffled, rng.sample(refreshes, len(refreshes)),
                                         rng.sample(pending, len(pending)), day(19))) == expected


def test_ledger_records_written_earlier_keep_their_bytes_at_a_later_as_of() -> None:
    # The ledger skips known keys, so a record must not change once its fact happened.
    data, refreshes, pending = _scenario()
    early = {r.key: r for r in evaluate_promotions(data, refreshes, pending, day(8)).records()}
    late = {r.key: r for r in evaluate_promotions(data, refreshes, pending, day(19)).records()}
    assert set(early) < set(late)
    for key, record in early.items():
        assert json.dumps(late[key].data, sort_keys=True) == json.dumps(record.data,
                                                                        sort_keys=True), key
        assert late[key].at == record.at


def test_records_carry_the_seed_columns_verbatim() -> None:
    data, refreshes, pending = _scenario()
    result = evaluate_promotions(data, refreshes, pending, day(19))
    promote = next(r for r in result.records() if r.kind == "promote")
    assert list(promote.data) == ["promote_event_id", "owner_route", "promoted_signer",
                                  "trigger_type", "trigger_evidence_ref", "promoted_at_dt_utc",
                                  "reverted_at_dt_utc", "policy_version_at_time"]
    assert promote.key == f"promote:{promote.data['promote_event_id']}"
    assert promote.at == day(2)
