"""Owner routes: the lesson's four with their SLAs by default; a policy may declare more."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from tests.conftest import iso, run_cli
from tests.unit.promote.factories import POLICY_YAML, parse_policy_text

from govgate.errors import GovgateError
from govgate.promote import route_slas

AS_OF = datetime(2026, 12, 2, 6, 40, 52, tzinfo=UTC)
DECLARED = """\
owner_routes:
  - {owner_route: store_listing, sla_target_hours: 8, description: store page copy sign-off}
"""
STORE_ROW = """\
  - owner_route: store_listing
    primary_signer: alex
    backup_signer: dana
    promote_trigger: [heatmap_red, pending_acks_aged, manual_invocation]
    revert_condition: green_7d
"""


def test_a_declared_route_gets_its_sla_and_may_have_a_row() -> None:
    policy = parse_policy_text(POLICY_YAML + DECLARED)
    assert dict(policy.owner_routes) == {"store_listing": Decimal("8.00")}
    slas = route_slas([policy])
    assert str(slas["store_listing"]) == "8.00" and str(slas["publish_gate"]) == "0.5"


def test_a_row_for_an_undeclared_route_is_refused_with_the_hint() -> None:
    text = POLICY_YAML.replace("owner_route: faq_rewrite", "owner_route: store_listing")
    with pytest.raises(GovgateError) as info:
        parse_policy_text(text)
    assert info.value.where == "line 17, /routes/1/owner_route"
    assert "declare another under owner_routes" in info.value.message


@pytest.mark.parametrize(("declared", "message"), [
    ("  - {owner_route: publish_gate, sla_target_hours: 1}\n", "one of the lesson's four"),
    ("  - {owner_route: x, sla_target_hours: 1}\n  - {owner_route: x, sla_target_hours: 2}\n",
     "declared twice"),
    ("  - {owner_route: x, sla_target_hours: 0}\n", "out of range"),
    ("  - {owner_route: x, sla_target_hours: '1.005'}\n", "more than 2 decimals"),
])
def test_bad_declarations_are_refused(declared: str, message: str) -> None:
    with pytest.raises(GovgateError, match=message):
        parse_policy_text(POLICY_YAML + "owner_routes:\n" + declared)


def test_the_higher_version_wins_where_two_declare_the_same_route() -> None:
    low = parse_policy_text(POLICY_YAML.replace("version: 1.2.0", "version: 1.0.0") + DECLARED)
    high = parse_policy_text(POLICY_YAML + DECLARED.replace("8,", "6,"))
    assert str(route_slas([high, low])["store_listing"]) == "6.00"


# -- end to end on an `init` project ---------------------------------------------------------


def project(tmp_path: Path, *, declare: bool) -> Path:
    folder = tmp_path / "p"
    assert run_cli(["init", str(folder), "--as-of", iso(AS_OF)], tmp_path).code == 0
    policy = folder / "policies/backup-owner-policy-1.0.0.yaml"
    text = policy.read_text(encoding="utf-8")
    if declare:
        text = text.replace("routes:\n  - owner_route: publish_gate",
                            DECLARED + "routes:\n" + STORE_ROW + "  - owner_route: publish_gate")
    policy.write_text(text, encoding="utf-8")
    events = folder / "governance/fatigue/signer_ack_event.csv"
    # An empty sla_target_hours: the route's default applies (8 h: 6 h is no breach).
    events.write_text(events.read_text(encoding="utf-8")
                      + "ev-9001,alex,store_listing,,2026-11-28T09:00:00Z,"
                        "2026-11-28T15:00:00Z,approved,\n", encoding="utf-8")
    return folder


def test_a_declared_route_flows_through_check_validate_faq_and_checklist(tmp_path: Path) -> None:
    folder = project(tmp_path, declare=True)
    check = run_cli(["check", "--as-of", iso(AS_OF), "--format", "json"], folder)
    assert check.code == 0, check.out + check.err
    heatmap = json.loads(check.out)["sections"]["fatigue"]["heatmap"]["rows"]
    alex = next(r for r in heatmap if r["signer_id"] == "alex")
    assert (alex["ack_count_14d"], alex["breached_count_14d"]) == (4, 0)
    run = run_cli(["validate", "governance/fatigue/signer_ack_event.csv"], folder)
    assert run.code == 0, run.out
    faq = run_cli(["--as-of", iso(AS_OF), "faq"], folder)
    assert faq.code == 0 and "store\\_listing" in faq.out, faq.out
    assert "× 8.00 h SLA" in faq.out or "× 8 h SLA" in faq.out, faq.out
    checklist = run_cli(["--as-of", iso(AS_OF), "checklist", "--format", "json"], folder)
    assert "no row for" not in checklist.out


def test_an_undeclared_route_in_the_events_is_bad_input_with_the_hint(tmp_path: Path) -> None:
    folder = project(tmp_path, declare=False)
    check = run_cli(["check", "--as-of", iso(AS_OF)], folder)
    assert check.code == 2
    assert "row 14, column owner_route: unknown owner_route 'store_listing'" in check.err
    assert "declare more under owner_routes" in check.err
    run = run_cli(["validate", "governance/fatigue/signer_ack_event.csv"], folder)
    assert run.code == 2 and "unknown owner_route 'store_listing'" in run.out


def test_heatmap_reads_the_declared_routes_as_check_does(tmp_path: Path) -> None:
    folder = project(tmp_path, declare=True)
    shown = run_cli(["heatmap", "--as-of", iso(AS_OF), "--format", "json"], folder)
    assert shown.code == 0, shown.err
    alex = next(r for r in json.loads(shown.out)["rows"] if r["signer_id"] == "alex")
    assert (alex["ack_count_14d"], alex["breached_count_14d"]) == (4, 0)
