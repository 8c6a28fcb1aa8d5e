"""kind: backup_owner_policy -- invariants with file/pointer/line, audit, history, thresholds."""

from __future__ import annotations

from decimal import Decimal

import pytest
from tests.unit.promote.factories import POLICY_YAML, parse_policy_text, policy, rule

from govgate.errors import GovgateError
from govgate.loaders.policies import PolicySet, parse_policy
from govgate.model import Severity
from govgate.promote import (
    backup_owner_policy_history,
    cross_route_audit,
    load_backup_owner_policies,
)

SOURCE = "policies/backup_owner_policy-1.2.0.yaml"


def _refused(text: str) -> GovgateError:
    with pytest.raises(GovgateError) as info:
        parse_policy_text(text, SOURCE)
    return info.value


def test_policy_parses_with_routes_sorted_and_thresholds_overridden() -> None:
    p = parse_policy_text(POLICY_YAML)
    assert (p.version, p.approved_by, p.signed_ack, p.pager_target) == (
        "1.2.0", "team-lead", "ack-approval-7", "tl-sam")
    assert [r.owner_route for r in p.routes] == ["faq_rewrite", "publish_gate"]
    publish = p.route("publish_gate")
    assert publish is not None
    assert publish.promote_trigger == ("heatmap_red", "pending_acks_aged")
    assert publish.revert_green_days == 7
    assert publish.tertiary_signers == ("carol",)
    assert p.route("faq_rewrite").promote_trigger == ("manual_invocation",)  # type: ignore[union-attr]
    assert p.thresholds.aged_factor == Decimal("1.5") and p.thresholds.rung2_hours == 48


def test_primary_equal_to_backup_is_refused_with_file_pointer_and_line() -> None:
    text = POLICY_YAML.replace("backup_signer: erin", "backup_signer: dana")
    error = _refused(text)
    assert error.source == SOURCE
    assert error.where == "line 19, /routes/1/backup_signer"
    assert "differ" in error.message
    assert str(error).startswith(f"{SOURCE}: line 19, /routes/1/backup_signer: ")


def test_duplicate_route_rows_are_refused() -> None:
    text = POLICY_YAML.replace("owner_route: faq_rewrite", "owner_route: publish_gate")
    error = _refused(text)
    assert error.where == "line 17, /routes/1/owner_route"
    assert "duplicate" in error.message


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_tertiary_equal_to_primary_or_backup_is_refused(who: str) -> None:
    error = _refused(POLICY_YAML.replace("tertiary_signers: [carol]",
                                         f"tertiary_signers: [carol, {who}]"))
    assert error.where == "line 16, /routes/0/tertiary_signers/1"


@pytest.mark.parametrize(("snippet", "pointer"), [
    ('aged_factor: "0.9"', "/thresholds/aged_factor"),
    ('amber_ratio: "0"', "/thresholds/amber_ratio"),
    ("amber_ratio: 10.5", "/thresholds/amber_ratio"),
    ("window_days: 0", "/thresholds/window_days"),
    ("revert_green_days: 3", "/thresholds"),
])
def test_thresholds_out_of_range_are_refused(snippet: str, pointer: str) -> None:
    text = POLICY_YAML.replace('aged_factor: "1.5"', snippet)
    error = _refused(text)
    assert error.where is not None and error.where.endswith(pointer)


def test_schema_errors_name_the_field_and_what_was_expected() -> None:
    error = _refused(POLICY_YAML.replace("signed_ack: ack-approval-7\n", ""))
    assert "signed_ack" in error.message
    error = _refused(POLICY_YAML.replace("revert_condition: green_7d\n    tertiary",
                                         "revert_condition: soon\n    tertiary"))
    assert error.where == "line 15, /routes/0/revert_condition"
    assert "green_<N>d" in error.message


def test_cross_route_audit_finds_a_person_on_several_routes() -> None:
    p = policy(rule("publish_gate", "alice", "bob"), rule("faq_rewrite", "bob", "carol"),
               rule("exec_readback", "alice", "dave", tertiary=("erin",)),
               rule("freeze_bypass", "frank", "gina", tertiary=("erin",)))
    findings = {f.subject: f for f in cross_route_audit(p)}
    assert sorted(findings) == ["alice", "bob", "erin"]
    bob = findings["bob"]
    assert (bob.rule, bob.severity) == ("policy.cross-route", Severity.WARNING)
    assert "primary on faq_rewrite; backup on publish_gate" in bob.message
    assert "primary on one route and backup on another" in bob.message
    assert bob.evidence["roles"] == [{"owner_route": "faq_rewrite", "role": "primary"},
                                     {"owner_route": "publish_gate", "role": "backup"}]
    assert "primary on exec_readback, publish_gate" in findings["alice"].message


def test_single_route_people_are_not_audit_findings() -> None:
    assert cross_route_audit(parse_policy_text(POLICY_YAML)) == []


def _set(*texts: tuple[str, str]) -> PolicySet:
    return PolicySet(tuple(parse_policy(t.encode(), name) for name, t in texts))


def test_history_lists_versions_with_a_structured_diff() -> None:
    v13 = (POLICY_YAML.replace("version: 1.2.0", "version: 1.3.0")
           .replace('"2026-09-01T00:00:00Z"', '"2026-10-01T00:00:00Z"')
           .replace("backup_signer: bob", "backup_signer: frank")
           .replace("rung2_hours: 48", "rung2_hours: 24"))
    v13 = v13[: v13.index("  - owner_route: faq_rewrite")]
    policies = load_backup_owner_policies(_set(("b.yaml", v13), ("a.yaml", POLICY_YAML)))
    first, second = backup_owner_policy_history(policies)
    assert (first.policy.version, first.previous_version, first.changes) == ("1.2.0", None, ())
    assert second.previous_version == "1.2.0"
    changes = [c.to_dict() for c in second.changes]
    assert changes == [
        {"owner_route": None, "field": "thresholds.rung2_hours", "before": 48, "after": 24},
        {"owner_route": "faq_rewrite", "field": "row", "before": {
            "owner_route": "faq_rewrite", "primary_signer": "dana", "backup_signer": "erin",
            "promote_trigger": ["manual_invocation"], "revert_condition": "green_7d",
            "tertiary_signers": []}, "after": None},
        {"owner_route": "publish_gate", "field": "backup_signer", "before": "bob",
         "after": "frank"},
    ]
    assert second.to_dict()["approved_dt_utc"] == "2026-10-01T00:00:00Z"


def test_a_higher_version_approved_earlier_is_refused() -> None:
    v13 = POLICY_YAML.replace("version: 1.2.0", "version: 1.3.0").replace(
        '"2026-09-01T00:00:00Z"', '"2026-08-01T00:00:00Z"')
    with pytest.raises(GovgateError) as info:
        load_backup_owner_policies(_set(("a.yaml", POLICY_YAML), ("b.yaml", v13)))
    assert info.value.source == "b.yaml" and info.value.where == "/approved_dt_utc"
