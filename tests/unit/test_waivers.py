"""Waivers: an override packet per finding with audit_id, owner, reason and an expiry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml
from tests.conftest import Project

from govgate.model import Finding, Location, Severity
from govgate.waivers import Waiver, apply_waivers

AS_OF = "2026-11-20T00:00:00Z"
AS_OF_DT = datetime(2026, 11, 20, tzinfo=UTC)


def waiver(**changes: Any) -> dict[str, Any]:
    row = {"audit_id": "AUD-2026-114", "rule": "reconcile.state", "subject": "governance",
           "owner": "release-lead", "reason": "partner annex restated; rerun booked",
           "expires_at": "2026-11-27T00:00:00Z"}
    row.update(changes)
    return {k: v for k, v in row.items() if v is not None}


@pytest.fixture
def red(make_project: Callable[..., Project]) -> Project:
    """Eight weeks whose last two windows have no PASS run: red, blocked."""
    return make_project(weeks=8, skips={7: "maintenance"}, silent=[8])


@pytest.fixture
def amber(make_project: Callable[..., Project]) -> Project:
    """A PASS after a skipped window, with amber blocking: the state finding blocks and a
    waiver may waive it (a red one it may not)."""
    project = make_project(weeks=8, skips={7: "maintenance"})
    project.update_config(block_states=["amber"])
    return project


def with_waivers(project: Project, *rows: dict[str, Any]) -> Project:
    (project.root / "waivers.yaml").write_text(yaml.safe_dump(list(rows), sort_keys=False),
                                               encoding="utf-8")
    project.update_config(waivers="waivers.yaml")
    return project


def by_rule(result: dict[str, Any], rule: str) -> list[dict[str, Any]]:
    return [f for f in result["findings"] if f["rule"] == rule]


def test_without_waiver_red_blocks(red: Project) -> None:
    run = red.check(AS_OF)
    assert run.code == 1
    assert by_rule(run.json(), "reconcile.state")[0]["blocking"] is True


def test_an_active_waiver_unblocks_but_the_finding_is_counted_and_shown(amber: Project) -> None:
    assert amber.check(AS_OF).code == 1
    run = with_waivers(amber, waiver()).check(AS_OF)
    assert run.code == 0, run.out
    result = run.json()
    assert result["gate"] == "pass" and result["state"] == "amber"
    state = by_rule(result, "reconcile.state")[0]
    assert state["waived_by"] == "AUD-2026-114" and state["blocking"] is False
    assert state["evidence"]["waiver"] == {
        "audit_id": "AUD-2026-114", "owner": "release-lead",
        "reason": "partner annex restated; rerun booked", "expires_at": "2026-11-27T00:00:00Z"}
    assert result["counts"]["waived"] == 1
    text = amber.check(AS_OF, fmt="text").out
    assert "waived" in text and "reconcile.state" in text


def test_a_red_state_cannot_be_waived(red: Project) -> None:
    """Red blocks publish until an override packet covers the missed windows; a waiver of
    the state finding is refused (a warning naming it) and the gate stays blocked."""
    run = with_waivers(red, waiver()).check(AS_OF)
    assert run.code == 1, run.out
    result = run.json()
    assert result["gate"] == "blocked" and result["state"] == "red"
    state = by_rule(result, "reconcile.state")[0]
    assert state["waived_by"] is None and state["blocking"] is True
    refused = by_rule(result, "waiver.refused")
    assert [f["subject"] for f in refused] == ["AUD-2026-114"]
    assert "cannot waive a red governance state" in refused[0]["message"]


def test_an_expired_waiver_waives_nothing_and_is_a_finding(red: Project) -> None:
    run = with_waivers(red, waiver(expires_at=AS_OF)).check(AS_OF)  # expiry is exclusive
    assert run.code == 1
    result = run.json()
    assert by_rule(result, "reconcile.state")[0]["blocking"] is True
    expired = by_rule(result, "waiver.expired")
    assert len(expired) == 1
    assert expired[0]["subject"] == "AUD-2026-114"
    assert expired[0]["severity"] == "warning"
    assert expired[0]["location"] == {"path": "waivers.yaml", "line": 1, "pointer": None}
    assert "blocks again" in expired[0]["message"]


def test_an_unused_waiver_is_reported(red: Project) -> None:
    result = with_waivers(red, waiver(), waiver(audit_id="AUD-9", subject="nobody")).check(
        AS_OF).json()
    unused = by_rule(result, "waiver.unused")
    assert [f["subject"] for f in unused] == ["AUD-9"]
    assert unused[0]["severity"] == "info"


def test_waivers_from_csv(amber: Project) -> None:
    row = waiver()
    (amber.root / "waivers.csv").write_text(
        ",".join(row) + "\n" + ",".join(f'"{v}"' for v in row.values()) + "\n",
        encoding="utf-8")
    amber.update_config(waivers="waivers.csv")
    assert amber.check(AS_OF).code == 0


@pytest.mark.parametrize(("row", "expected"), [
    (waiver(owner=None), "waivers.yaml: row 1, column owner: missing required field 'owner'"),
    (waiver(reason="  "), "waivers.yaml: row 1, column reason"),
    (waiver(expires_at="2026-11-27T00:00:00"), "has no UTC offset"),
    (waiver(audit_id=None), "missing required field 'audit_id'"),
    (waiver(rule="waiver.expired"), "rule waiver.expired cannot be waived"),
])
def test_a_waiver_needs_audit_id_owner_reason_and_expiry(red: Project, row: dict[str, Any],
                                                         expected: str) -> None:
    run = with_waivers(red, row).check(AS_OF)
    assert run.code == 2
    assert expected in run.err


def test_the_same_waiver_twice_is_refused(red: Project) -> None:
    run = with_waivers(red, waiver(), waiver()).check(AS_OF)
    assert run.code == 2 and "listed twice (also on row 1)" in run.err


def _w(audit_id: str, expires: str, rule: str = "r.x", subject: str = "s") -> Waiver:
    return Waiver(audit_id, rule, subject, "owner", "reason",
                  datetime.fromisoformat(expires), Location("waivers.yaml", 1))


def test_earliest_expiring_waiver_wins_and_order_of_input_does_not_matter() -> None:
    findings = [Finding("r.x", "s", Severity.ERROR, "m")]
    later = _w("AUD-B", "2026-12-31T00:00:00+00:00")
    sooner = _w("AUD-A", "2026-12-01T00:00:00+00:00")
    for order in ((later, sooner), (sooner, later)):
        copy = list(findings)
        apply_waivers(order, copy, AS_OF_DT)
        assert copy[0].waived_by == "AUD-A"
        assert not copy[0].blocking
        assert len(copy) == 1


def test_warnings_can_be_waived_too() -> None:
    findings = [Finding("r.x", "s", Severity.WARNING, "m")]
    apply_waivers((_w("AUD-A", "2026-12-01T00:00:00+00:00"),), findings, AS_OF_DT)
    assert findings[0].waived_by == "AUD-A"
