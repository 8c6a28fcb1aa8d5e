"""Exact numbers and input provenance through ``govgate check`` on a generated project.

Values are written the way exporters write them: PostgreSQL's ``row_to_json`` writes a NUMERIC as
a bare JSON number (``1234567890.123456789``), other exporters as strings. Either must hash and
compare exactly, at any number of digits; the declared ingest hashes here are computed from the
documented canonical form (``tests.conftest.sha256_lines``), never from govgate's code.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import Project, Schedule, sha256_lines

LATEST = 6  # recon-2026-W44, the latest window at Schedule.after(6)


def bare_number(project: Project, week: int, side: str, metric_id: str) -> None:
    """Rewrite one value of an export from a JSON string to a bare JSON number."""
    path = project.root / project.export_path(week, side)
    value = project.values(week, side)[metric_id]
    text = path.read_text(encoding="utf-8")
    quoted = f'"metric_id": "{metric_id}",\n      "value": "{value}"'
    assert text.count(quoted) == 1, text
    path.write_text(text.replace(quoted, quoted[:-len(value) - 2] + value), encoding="utf-8")
    assert json.loads(text.replace(quoted, quoted[:-len(value) - 2] + value))


def diff_row(project: Project, result: dict[str, Any], metric_id: str) -> dict[str, Any]:
    row = result["sections"]["reconciliation"]["windows"][LATEST - 1]
    diff = json.loads((project.output / "artifacts" / row["diff"]["json"]).read_text("utf-8"))
    return next(r for r in diff["rows"] if r["metric_id"] == metric_id)


@pytest.mark.parametrize("value", [
    "1234567890.123456789",                                   # the example
    "1234567890123456789.012345678",                          # 28 significant digits
    "1234567890123456789012345678.9",                         # 29
    "-98765432109876543210987654321098765.43210987654321",    # 50
])
@pytest.mark.parametrize("bare_side", ["leadership", "partner", "both"])
def test_a_json_number_with_many_digits_hashes_and_compares_exactly(
        project: Project, value: str, bare_side: str) -> None:
    for side in ("leadership", "partner"):
        project.set_value(LATEST, side, "tickets_p95", value)
    # From the strings, before they become bare numbers (json.loads would read those as floats).
    expected = sha256_lines(project.values(LATEST, "leadership"))
    for side in ("leadership", "partner"):
        if bare_side in (side, "both"):
            bare_number(project, LATEST, side, "tickets_p95")
    run = project.check(Schedule.after(LATEST))
    assert (run.code, run.err) == (0, ""), (run.code, run.err, run.out[:2000])
    result = run.json()
    window = result["sections"]["reconciliation"]["windows"][LATEST - 1]
    assert window["status"] == "PASS"
    assert window["leadership_ingest_hash"] == window["partner_ingest_hash"] == expected
    row = diff_row(project, result, "tickets_p95")
    assert row["leadership_value"] == row["partner_value"] == value
    assert (row["delta"], row["result"]) == ("0", "pass")


def test_a_delta_1e_22_beyond_the_tolerance_blocks(project: Project) -> None:
    # crash_free_sessions: abs_tol 0.01, rel_tol 0.001 (epsilon policy 1.1.0). The tolerance
    # is 123456789012345.6789; a 28-digit context rounds the delta down onto it.
    lead, at_boundary = "123456789012345678.9", "123580245801358024.5789"
    project.set_value(LATEST, "leadership", "crash_free_sessions", lead)
    project.set_value(LATEST, "partner", "crash_free_sessions", at_boundary)
    assert project.check(Schedule.after(LATEST)).code == 0
    project.set_value(LATEST, "partner", "crash_free_sessions", at_boundary + "0" * 17 + "1")
    run = project.check(Schedule.after(LATEST))
    assert (run.code, run.err) == (1, "")
    row = diff_row(project, run.json(), "crash_free_sessions")
    assert row["result"] == "fail"
    assert row["delta"] == "123456789012345.6789000000000000000001"
    assert row["tolerance_used"] == "123456789012345.6789"


def test_a_huge_relative_delta_is_a_failing_metric_not_a_crash(project: Project) -> None:
    project.set_value(LATEST, "leadership", "tickets_p95", "0.001")
    project.set_value(LATEST, "partner", "tickets_p95", "1000000000000000")
    run = project.check(Schedule.after(LATEST))
    assert (run.code, run.err) == (1, "")
    row = diff_row(project, run.json(), "tickets_p95")
    assert (row["relative_delta"], row["result"]) == ("999999999999999999", "fail")


def test_a_number_no_exact_context_can_hold_is_refused_and_writes_nothing(
        project: Project) -> None:
    # Within the parsing bounds every comparison is exact; these are at the bounds' edges.
    project.set_value(LATEST, "leadership", "tickets_p95", "1" + "0" * 999)
    project.set_value(LATEST, "partner", "tickets_p95", "0." + "0" * 998 + "1")
    run = project.check(Schedule.after(LATEST))
    assert (run.code, run.err) == (1, "")  # exact even 2,000 digits apart: no refusal needed
    before = (project.output_files(), project.ledger_records(), project.jsonl(project.outbox))
    project.set_value(LATEST, "partner", "tickets_p95", "1" * 1001)
    run = project.check(Schedule.after(LATEST))
    assert run.code == 2 and run.err.count("\n") == 1 and run.out == ""
    assert "partner_annex.json: /rows/" in run.err and "1001 significant digits" in run.err
    # A refusal writes nothing: the outputs, ledger and outbox of the earlier run stay as they were.
    assert (project.output_files(), project.ledger_records(),
            project.jsonl(project.outbox)) == before


# -- provenance: the epsilon policy must be approved at the instant of the decision ---------


def approve_epsilon_at(project: Project, when: str) -> None:
    path = project.root / "policies" / "epsilon-policy-1.1.0.yaml"
    text = path.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.startswith("approved_dt_utc:")]
    path.write_text("\n".join([*lines, f"approved_dt_utc: {when}"]) + "\n", encoding="utf-8")


def test_before_its_epsilon_policy_is_approved_a_run_decides_nothing(project: Project) -> None:
    # Policy 1.1.0 decides every run; approve it after week 5 (recon-2026-W43) completed.
    approved = Schedule.completed(5) + timedelta(hours=2)
    approve_epsilon_at(project, Schedule.iso(approved))
    project.add_acks(
        {"ack_id": "ack-early", "job_run_id": Schedule.run_id(5), "signer_id": "sam",
         "ack_dt_utc": approved - timedelta(minutes=1)},
        {"ack_id": "ack-late", "job_run_id": Schedule.run_id(5), "signer_id": "sam",
         "ack_dt_utc": approved})
    before = project.check(approved - timedelta(minutes=1))
    assert before.code == 1
    result = before.json()
    assert all(w["status"] == "FAIL" for w in result["sections"]["reconciliation"]["windows"])
    mismatch = [f["message"] for f in result["findings"]
                if f["rule"] == "reconcile.status-mismatch"]
    assert len(mismatch) == 5 and all("is not approved" in m for m in mismatch)
    # At that instant the approval has not happened: no output may name its date.
    stamp = Schedule.iso(approved)
    assert all(stamp not in content.decode("utf-8", "replace")
               for content in project.output_files().values())

    run = project.check(Schedule.after(LATEST))
    result = run.json()
    refused = {f["subject"]: f["message"] for f in result["findings"]
               if f["rule"] == "reconcile.ack-refused"}
    assert set(refused) == {"ack-early"}
    assert "whose window is FAIL at the ack" in refused["ack-early"]
    accepted = result["sections"]["reconciliation"]["accepted_acks"]
    assert [a["ack_id"] for a in accepted] == ["ack-late"]


def test_a_draft_epsilon_policy_in_the_folder_decides_nothing_and_harms_nothing(
        project: Project) -> None:
    draft = project.root / "policies" / "epsilon-policy-1.2.0.yaml"
    source = (project.root / "policies" / "epsilon-policy-1.1.0.yaml").read_text("utf-8")
    draft.write_text("\n".join(line for line in source.splitlines()
                               if not line.startswith("approved_")).replace(
        "version: 1.1.0", "version: 1.2.0") + "\n", encoding="utf-8")
    assert project.check(Schedule.after(LATEST)).code == 0  # unused: harmless
    manifest = project.job(LATEST) / "manifest.yaml"
    manifest.write_text(manifest.read_text("utf-8").replace(
        "epsilon_policy_version: 1.1.0", "epsilon_policy_version: 1.2.0"), encoding="utf-8")
    run = project.check(Schedule.after(LATEST))
    assert run.code == 1
    messages = [f["message"] for f in run.json()["findings"] if f["blocking"]]
    assert any("epsilon_policy 1.2.0 (policies/epsilon-policy-1.2.0.yaml) is not approved" in m
               for m in messages), messages


def test_a_draft_reconciliation_policy_is_never_in_force(project: Project) -> None:
    policies = project.root / "policies"
    source = (policies / "reconciliation-policy-1.0.0.yaml").read_text("utf-8")
    # A draft 2.0.0 that would turn red off and move the schedule: it must not govern.
    draft = "\n".join(line for line in source.splitlines()
                      if not line.startswith("approved_")).replace(
        "version: 1.0.0", "version: 2.0.0").replace("period: P7D", "period: P1D")
    (policies / "reconciliation-policy-2.0.0.yaml").write_text(draft + "\n", encoding="utf-8")
    run = project.check(Schedule.after(LATEST))
    assert (run.code, run.err) == (0, "")
    assert run.json()["sections"]["reconciliation"]["policy_version"] == "1.0.0"


def test_scheduled_window_is_derived_from_the_row_not_from_the_files(
        project: Project, tmp_path: Path) -> None:
    # Move week 6's three files one week back, consistently: parity holds, provenance does not.
    folder = project.job(LATEST)
    for name in ("manifest.yaml", "leadership.json", "partner_annex.json"):
        path = folder / name
        text = path.read_text("utf-8")
        for week in (LATEST + 1, LATEST):
            old, new = Schedule.iso(Schedule.start(week)), Schedule.iso(Schedule.start(week - 1))
            text = text.replace(old, new)
        path.write_text(text, encoding="utf-8")
    run = project.check(Schedule.after(LATEST))
    assert run.code == 1
    messages = [f["message"] for f in run.json()["findings"] if f["blocking"]]
    assert any("belong to another window" in m for m in messages), messages
    assert not any("window parity" in m for m in messages)


@pytest.mark.parametrize("drift", ["tickets_p95:3:NaN", "tickets_p95:3:Infinity",
                                   "tickets_p95:3:1e999", "tickets_p95:3:\u0665",
                                   "tickets_p95:\u0663:1", "tickets_p95:3:1_0"])
def test_simulate_refuses_a_drift_it_cannot_compute_exactly(
        tmp_path: Path, run_cli: Any, drift: str) -> None:
    import shutil

    from tests.conftest import POLICIES

    shutil.copytree(POLICIES, tmp_path / "policies")
    (tmp_path / "govgate.yaml").write_text("policies: policies\n", encoding="utf-8")
    run = run_cli(["simulate", "--out", str(tmp_path / "sim"), "--drift", drift], tmp_path)
    assert run.code == 2 and run.err.count("\n") == 1 and "--drift" in run.err, run
    assert not (tmp_path / "sim").exists()
