"""The team lead's input files: what is accepted, and what is refused with row and column."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from govgate.errors import ExitCode, GovgateError
from govgate.loaders.documents import load_schema, schema_kinds
from govgate.promote.inputs import (
    parse_cert_windows,
    parse_escalation_decisions,
    parse_forced_reverts,
    parse_manual_invocations,
)

MANUAL = """\
- invocation_id: inv-2
  owner_route: publish_gate
  invoked_at: "2026-10-02T09:14:00Z"
  until: "2026-10-09T00:00:00Z"
  audit_reason: alice on conference leave
  team_lead_ack_id: ack-tl-41
- invocation_id: inv-1
  owner_route: faq_rewrite
  invoked_at: "2026-10-01T00:00:00+02:00"
  audit_reason: planned rest
  team_lead_ack_id: ack-tl-40
"""


def test_manual_invocations_parse_sorted_in_utc() -> None:
    first, second = parse_manual_invocations(MANUAL.encode(), "manual.yaml")
    assert first.invocation_id == "inv-1"
    assert first.invoked_at == datetime(2026, 9, 30, 22, tzinfo=UTC)
    assert first.until is None
    assert second.until == datetime(2026, 10, 9, tzinfo=UTC)
    assert second.location is not None and second.location.render() == "manual.yaml:1"


@pytest.mark.parametrize("field", ["audit_reason", "team_lead_ack_id"])
def test_manual_invocation_without_audit_reason_or_lead_ack_is_refused(field: str) -> None:
    text = "\n".join(line for line in MANUAL.splitlines() if field not in line) + "\n"
    with pytest.raises(GovgateError) as info:
        parse_manual_invocations(text.encode(), "manual.yaml")
    assert info.value.exit_code is ExitCode.USAGE_ERROR
    assert info.value.where == f"row 1, column {field}"
    assert field in info.value.message


def test_blank_audit_reason_is_refused() -> None:
    text = MANUAL.replace("alice on conference leave", '"   "')
    with pytest.raises(GovgateError) as info:
        parse_manual_invocations(text.encode(), "manual.yaml")
    assert info.value.where == "row 1, column audit_reason"


def test_manual_invocation_csv_and_until_before_start() -> None:
    csv = ("invocation_id,owner_route,invoked_at,until,audit_reason,team_lead_ack_id\n"
           "inv-1,publish_gate,2026-10-02T00:00:00Z,,leave,ack-1\n")
    (m,) = parse_manual_invocations(csv.encode(), "manual.csv")
    assert m.until is None
    bad = csv.replace(",,leave", ",2026-10-01T00:00:00Z,leave")
    with pytest.raises(GovgateError) as info:
        parse_manual_invocations(bad.encode(), "manual.csv")
    assert info.value.where == "row 2, column until"


def test_timestamp_without_offset_is_refused() -> None:
    with pytest.raises(GovgateError) as info:
        parse_manual_invocations(MANUAL.replace("09:14:00Z", "09:14:00").encode(), "m.yaml")
    assert "offset" in info.value.message and info.value.where == "row 1, column invoked_at"


def test_duplicate_invocation_ids_are_refused() -> None:
    with pytest.raises(GovgateError):
        parse_manual_invocations(MANUAL.replace("inv-2", "inv-1").encode(), "m.yaml")


def test_forced_revert_needs_a_reason_and_a_target() -> None:
    ok = ('[{"promote_event_id": "bpe-x", "reverted_at": "2026-10-05T00:00:00Z",'
          ' "reason": "emergency", "by": "tl-sam"}]')
    (f,) = parse_forced_reverts(ok.encode(), "forced.json")
    assert (f.promote_event_id, f.owner_route, f.reason) == ("bpe-x", None, "emergency")
    with pytest.raises(GovgateError, match="reason"):
        parse_forced_reverts(ok.replace(' "reason": "emergency",', "").encode(), "forced.json")
    with pytest.raises(GovgateError, match="promote_event_id or owner_route"):
        parse_forced_reverts(ok.replace('"promote_event_id": "bpe-x",', "").encode(),
                             "forced.json")


def test_escalation_decisions_lift_only_freeze_gates_with_a_reason() -> None:
    row = {"promote_event_id": "bpe-x", "option": "freeze_gate", "decided_by": "tl",
           "decided_at": "2026-10-05T00:00:00Z", "lifted_at": "2026-10-06T00:00:00Z",
           "lift_reason": "tertiary named"}
    (d,) = parse_escalation_decisions(json.dumps([row]).encode(), "d.json")
    assert d.lifted_at == datetime(2026, 10, 6, tzinfo=UTC)
    cases: list[tuple[dict[str, object], str]] = [
        ({"option": "tertiary_backup"}, "lifted_at"),
        ({"lift_reason": None}, "lift_reason"),
        ({"lifted_at": "2026-10-04T00:00:00Z"}, "lifted_at"),
        ({"option": "escalate"}, "option"),
    ]
    for change, column in cases:
        with pytest.raises(GovgateError) as info:
            parse_escalation_decisions(json.dumps([{**row, **change}]).encode(), "d.json")
        assert info.value.where == f"row 1, column {column}"


def test_cert_windows_accept_lists_and_csv_route_lists() -> None:
    csv = ("cert_window_id,platform,opens_at,closes_at,critical_routes\n"
           "quest-h,quest,2026-10-01T00:00:00Z,2026-11-01T00:00:00Z,publish_gate; faq_rewrite\n")
    (w,) = parse_cert_windows(csv.encode(), "w.csv")
    assert w.critical_routes == ("faq_rewrite", "publish_gate")
    assert w.active_at(datetime(2026, 10, 1, tzinfo=UTC))
    assert not w.active_at(datetime(2026, 11, 1, tzinfo=UTC))
    with pytest.raises(GovgateError):
        parse_cert_windows(csv.replace("quest,", "switch,").encode(), "w.csv")
    with pytest.raises(GovgateError):
        parse_cert_windows(csv.replace("publish_gate;", "publish-gate;").encode(), "w.csv")


def test_every_promote_schema_ships_and_documents_its_fields() -> None:
    kinds = {"backup_owner_policy", "manual_invocation", "forced_revert", "escalation_decision",
             "cert_window"}
    assert kinds <= set(schema_kinds())
    for kind in kinds:
        schema = load_schema(kind)
        assert schema["$id"] == f"govgate:{kind}"
        for name, prop in schema["properties"].items():
            assert "description" in prop or name in {"description", "note"}, (kind, name)
