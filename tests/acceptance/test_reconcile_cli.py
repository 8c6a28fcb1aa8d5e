"""The weekly reconciliation gate end to end, through ``govgate`` on simulated projects.

The default project has six weekly windows (``recon-2026-W39`` .. ``recon-2026-W44``), every run
PASS, the first run documented as the bootstrap, epsilon policy 1.1.0.
"""

from __future__ import annotations

import json
import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

SECOND = timedelta(seconds=1)


def findings(result: dict[str, Any], rule: str | None = None) -> list[dict[str, Any]]:
    return [f for f in result["findings"] if rule is None or f["rule"] == rule]


def section(result: dict[str, Any]) -> dict[str, Any]:
    recon: dict[str, Any] = result["sections"]["reconciliation"]
    return recon


def window(result: dict[str, Any], week: int) -> dict[str, Any]:
    row: dict[str, Any] = section(result)["windows"][week - 1]
    assert row["index"] == week - 1
    return row


def red_pages(pages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [p for p in pages if ":red:" in p["dedup_key"]]


# -- the basics -----------------------------------------------------------------------------


def test_clean_schedule_is_green_and_json_goes_to_stdout(project, sched) -> None:
    run = project.check(sched.after(6))
    assert run.code == 0, run.err
    assert run.err == ""
    result = run.json()
    assert result["gate"] == "pass"
    assert result["state"] == "green"
    assert result["as_of"] == sched.iso(sched.after(6))
    assert isinstance(result["findings"], list)
    assert [f["rule"] for f in findings(result)] == ["reconcile.state"]
    assert (project.output / "result.json").read_text(encoding="utf-8") == run.out
    assert [w["status"] for w in section(result)["windows"]] == ["PASS"] * 6
    assert [w["eligibility"] for w in section(result)["windows"]] == ["green"] * 6
    assert window(result, 3)["job_run_id"] == "recon-2026-W41"
    assert window(result, 3)["start_inclusive"] == "2026-10-05T00:00:00Z"
    assert window(result, 3)["scheduled_at"] == "2026-10-12T06:00:00Z"


def test_text_format_is_the_default(project, sched) -> None:
    run = project.run("check", "--as-of", sched.iso(sched.after(6)))
    assert run.code == 0
    assert "green" in run.out
    assert (project.output / "result.json").exists()


# -- window parity ---------------------------------------------------------------------------


@pytest.mark.parametrize("side", ["leadership", "partner"])
def test_export_window_differing_from_the_manifest_fails_the_run(project, sched,
                                                                 side: str) -> None:
    moved = sched.iso(sched.start(6) + timedelta(days=1))
    project.edit_doc(project.export_path(6, side), lambda d: d.update(start_inclusive=moved))
    project.edit_run(6, status="FAIL")
    run = project.check(sched.after(6))
    result = run.json()
    assert window(result, 6)["status"] == "FAIL"
    problems = [f for f in findings(result, "reconcile.inputs")
                if f["subject"] == "recon-2026-W44"]
    assert len(problems) == 1
    assert problems[0]["message"].startswith("window parity")
    assert side in problems[0]["message"]
    assert result["state"] == "amber"
    assert run.code == 0


def test_scheduler_pass_contradicted_by_the_diff_blocks(project, sched) -> None:
    moved = sched.iso(sched.end(6) + timedelta(days=1))
    project.edit_doc(project.export_path(6, "partner"), lambda d: d.update(end_exclusive=moved))
    run = project.check(sched.after(6))
    result = run.json()
    mismatch = findings(result, "reconcile.status-mismatch")
    assert [f["subject"] for f in mismatch] == ["recon-2026-W44"]
    assert mismatch[0]["blocking"] is True
    assert window(result, 6)["status"] == "FAIL"
    assert run.code == 1


def test_manifest_window_with_a_non_utc_offset_is_bad_input(project, sched) -> None:
    manifest = project.job(6) / "manifest.yaml"
    same_instant = "2026-10-26T02:00:00+02:00"
    project.edit_doc(manifest.relative_to(project.root),
                     lambda d: d.update(start_inclusive=same_instant))
    run = project.check(sched.after(6))
    assert run.code == 2
    assert run.err.count("\n") == 1
    assert "jobs/recon-2026-W44/manifest.yaml" in run.err
    assert "start_inclusive" in run.err
    assert not project.output.exists()


@pytest.mark.parametrize("where", ["manifest", "leadership", "policy"])
def test_window_tz_policy_other_than_utc_is_bad_input(project, sched, where: str) -> None:
    if where == "manifest":
        rel = (project.job(6) / "manifest.yaml").relative_to(project.root)
    elif where == "leadership":
        rel = project.export_path(6, "leadership")
    else:
        rel = Path("policies/reconciliation-policy-1.0.0.yaml")
    project.edit_doc(rel, lambda d: d.update(window_tz_policy="Europe/Berlin"))
    run = project.check(sched.after(6))
    assert run.code == 2
    assert str(rel) in run.err
    assert "/window_tz_policy" in run.err
    assert "Europe/Berlin" in run.err
    assert run.err.count("\n") == 1


# -- annex ------------------------------------------------------------------------------------


def set_footer(project, week: int, semver: str) -> None:
    project.edit_doc(project.export_path(week, "partner"),
                     lambda d: d["footer"].update(footer_schema_semver=semver))


def test_annex_at_the_parser_ceiling_is_accepted(project, sched) -> None:
    set_footer(project, 6, "1.2.0")
    run = project.check(sched.after(6))
    assert run.code == 0
    assert run.json()["state"] == "green"


def test_annex_one_patch_above_the_ceiling_is_rejected(project, sched) -> None:
    set_footer(project, 6, "1.2.1")
    project.edit_run(6, status="FAIL")
    run = project.check(sched.after(6))
    result = run.json()
    assert window(result, 6)["status"] == "FAIL"
    messages = [f["message"] for f in findings(result, "reconcile.inputs")]
    assert any(m.startswith("annex rejected") and "1.2.1" in m and "1.2.0" in m
               for m in messages)
    diff = json.loads((project.output / "artifacts" / window(result, 6)["diff"]["json"])
                      .read_text(encoding="utf-8"))
    assert diff["status"] == "FAIL"
    assert diff["rows"] == []
    assert diff["partner"]["footer_schema_semver"] == "1.2.1"


def test_ingest_hash_mismatch_fails_and_both_hashes_are_recorded(project, sched) -> None:
    lead = project.values(6, "leadership")
    bumped = str(float(lead["tickets_p95"]) + 0.01)  # well inside the tolerance
    project.set_value(6, "partner", "tickets_p95", bumped, rehash=False)
    project.edit_run(6, status="FAIL")
    run = project.check(sched.after(6))
    result = run.json()
    assert window(result, 6)["status"] == "FAIL"
    assert any("ingest_hash of the partner export" in f["message"]
               for f in findings(result, "reconcile.inputs"))
    lead_hash = project.ingest_hash(6, "leadership")
    partner_hash = project.ingest_hash(6, "partner")
    assert lead_hash != partner_hash
    row = window(result, 6)
    assert row["leadership_ingest_hash"] == lead_hash
    assert row["partner_ingest_hash"] == partner_hash
    diff = json.loads((project.output / "artifacts" / row["diff"]["json"]).read_text("utf-8"))
    assert diff["leadership"]["ingest_hash"] == lead_hash
    assert diff["partner"]["ingest_hash"] == partner_hash
    assert (project.output / "artifacts" / row["diff"]["csv"]).is_file()


def test_every_completed_run_has_both_hashes_in_the_section(project, sched) -> None:
    result = project.check(sched.after(6)).json()
    for week in range(1, 7):
        row = window(result, week)
        assert row["leadership_ingest_hash"] == project.ingest_hash(week, "leadership")
        assert row["partner_ingest_hash"] == project.ingest_hash(week, "partner")
        assert row["epsilon_policy_version"] == "1.1.0"


# -- the schedule -----------------------------------------------------------------------------


def test_a_window_without_scheduler_row_is_missing(project, sched) -> None:
    project.remove_run(5)
    result = project.check(sched.after(5)).json()
    assert window(result, 5)["status"] == "MISSING"
    assert window(result, 5)["job_run_id"] is None
    assert result["state"] == "amber"
    assert section(result)["missed_windows"] == [sched.window_ref(5)]
    result = project.check(sched.after(6)).json()
    assert window(result, 6)["eligibility"] == "amber"
    assert result["state"] == "amber"


def test_a_window_scheduled_after_as_of_does_not_exist(project, sched) -> None:
    before = project.check(sched.scheduled(6) - sched.us).json()
    assert len(section(before)["windows"]) == 5
    assert before["state"] == "green"
    at = project.check(sched.scheduled(6)).json()
    assert len(section(at)["windows"]) == 6
    assert window(at, 6)["status"] == "LATE"  # due, inside its grace: not missed yet
    assert at["state"] == "green"


def test_a_run_completed_after_as_of_is_late_while_it_runs(project, sched) -> None:
    running = project.check(sched.completed(6) - sched.us).json()
    assert window(running, 6)["status"] == "LATE"
    assert window(running, 6)["eligibility"] is None
    done = project.check(sched.completed(6)).json()
    assert window(done, 6)["status"] == "PASS"
    assert done["state"] == "green"


def test_scheduled_at_off_the_grid_is_bad_input(project, sched) -> None:
    project.edit_run(4, scheduled_at=sched.scheduled(4) + SECOND)
    run = project.check(sched.after(6))
    assert run.code == 2
    assert "scheduler_runs.csv: row 5, column scheduled_at" in run.err
    assert run.err.count("\n") == 1
    assert not project.output.exists()
    assert not project.ledger.exists()


# -- ack eligibility --------------------------------------------------------------------------


def test_first_window_is_green_only_with_the_bootstrap_record(make_project, sched) -> None:
    with_boot = make_project(weeks=1)
    run = with_boot.check(sched.after(1))
    assert (run.code, run.json()["state"]) == (0, "green")
    assert window(run.json(), 1)["eligibility"] == "green"
    without = make_project(weeks=1, bootstrap=False)
    run = without.check(sched.after(1))
    assert (run.code, run.json()["state"]) == (0, "amber")
    assert window(run.json(), 1)["eligibility"] == "amber"


@pytest.mark.parametrize("kind", ["FAIL", "SKIPPED", "MISSING"])
def test_amber_after_fail_skip_or_missing(make_project, sched, kind: str) -> None:
    if kind == "FAIL":
        project = make_project(drifts={(5, "tickets_p95"): "0.5"})
    elif kind == "SKIPPED":
        project = make_project(skips={5: "credential_rotation"})
    else:
        project = make_project(silent=[5])
    result = project.check(sched.after(6)).json()
    assert window(result, 5)["status"] == kind
    assert window(result, 6)["status"] == "PASS"
    assert window(result, 6)["eligibility"] == "amber"
    assert result["state"] == "amber"
    assert result["gate"] == "pass"
    state = findings(result, "reconcile.state")[0]
    assert state["severity"] == "warning"
    assert state["blocking"] is False


def test_remediation_evidence_attached_exactly_at_as_of_counts(make_project, sched) -> None:
    project = make_project(skips={5: "maintenance"})
    attached = sched.after(6) + timedelta(hours=3)
    project.add_evidence({"evidence_id": "EV-1", "job_run_id": sched.run_id(6),
                          "attached_at": attached})
    at = project.check(attached).json()
    assert window(at, 6)["eligibility"] == "green"
    assert at["state"] == "green"
    before = project.check(attached - sched.us).json()
    assert window(before, 6)["eligibility"] == "amber"
    assert before["state"] == "amber"


def test_evidence_naming_another_run_leaves_amber(make_project, sched) -> None:
    project = make_project(skips={5: "maintenance"})
    project.add_evidence({"evidence_id": "EV-1", "job_run_id": sched.run_id(4),
                          "attached_at": sched.after(6)})
    assert project.check(sched.after(6)).json()["state"] == "amber"


def test_an_override_covering_the_amber_run_turns_it_green(make_project, sched) -> None:
    project = make_project(skips={5: "maintenance"})
    project.add_overrides({"audit_id": "AUD-7", "covers": [sched.run_id(6)],
                           "approved_by": "vp-ops", "approved_at": sched.after(6),
                           "reason": "maintenance window agreed with partner"})
    result = project.check(sched.after(6)).json()
    assert window(result, 6)["eligibility"] == "green"
    assert result["state"] == "green"


# -- red --------------------------------------------------------------------------------------


def project_missing(make_project, pair: tuple[str, str]):
    skips: dict[int, str] = {}
    silent: list[int] = []
    drifts: dict[tuple[int, str], str] = {}
    for week, kind in zip((5, 6), pair, strict=True):
        if kind == "skip":
            skips[week] = "manual_pause"
        elif kind == "missing":
            silent.append(week)
        else:
            drifts[(week, "tickets_p95")] = "0.5"
    return make_project(skips=skips, silent=silent, drifts=drifts)


@pytest.mark.parametrize("pair", [("skip", "skip"), ("fail", "fail"), ("skip", "fail"),
                                  ("missing", "skip"), ("fail", "missing")])
def test_two_consecutive_windows_without_pass_are_red(make_project, sched,
                                                      pair: tuple[str, str]) -> None:
    project = project_missing(make_project, pair)
    run = project.check(sched.after(6))
    assert run.code == 1
    result = run.json()
    assert result["state"] == "red"
    assert result["gate"] == "blocked"
    state = findings(result, "reconcile.state")[0]
    assert state["blocking"] is True
    refs = [sched.run_id(w) if kind != "missing" else sched.window_ref(w)
            for w, kind in zip((5, 6), pair, strict=True)]
    assert state["evidence"]["missed_windows"] == refs
    assert section(result)["missed_windows"] == refs
    for ref in refs:
        assert ref in state["message"]


@pytest.mark.parametrize("kind", ["skip", "fail", "missing"])
def test_one_missed_window_is_amber_and_passes_by_default(make_project, sched,
                                                          kind: str) -> None:
    project = project_missing(make_project, ("skip", kind))
    run = project.check(sched.after(5))  # week 6 not scheduled yet
    assert run.code == 0
    assert run.json()["state"] == "amber"


def test_red_begins_at_the_second_scheduled_instant(make_project, sched) -> None:
    project = make_project(skips={5: "maintenance", 6: "maintenance"})
    assert project.check(sched.scheduled(6) - sched.us, "--no-deliver").code == 0
    assert project.check(sched.scheduled(6), "--no-deliver").code == 1


def test_block_states_amber_in_config_blocks_amber(make_project, sched) -> None:
    project = make_project(skips={6: "maintenance"})
    assert project.check(sched.after(6)).code == 0
    project.update_config(block_states=["red", "amber"])
    run = project.check(sched.after(6))
    assert run.code == 1
    result = run.json()
    assert result["state"] == "amber"
    assert findings(result, "reconcile.state")[0]["blocking"] is True


def test_block_states_amber_also_blocks_an_amber_pass(make_project, sched) -> None:
    project = make_project(skips={5: "maintenance"})
    project.update_config(block_states=["red", "amber"])
    assert project.check(sched.after(6)).code == 1
    project.update_config(block_states=["red"])
    assert project.check(sched.after(6)).code == 0


def test_green_does_not_block_even_with_amber_in_block_states(project, sched) -> None:
    project.update_config(block_states=["red", "amber"])
    assert project.check(sched.after(6)).code == 0


def test_override_covering_both_missed_windows_lifts_red(make_project, sched) -> None:
    project = make_project(skips={5: "maintenance"}, silent=[6])
    project.add_overrides({"audit_id": "AUD-42", "covers": [sched.run_id(5),
                                                           sched.window_ref(6)],
                           "approved_by": "vp-ops", "approved_at": sched.after(6),
                           "reason": "planned freeze"})
    run = project.check(sched.after(6))
    assert run.code == 0
    result = run.json()
    assert result["state"] != "red"
    assert "AUD-42" in findings(result, "reconcile.state")[0]["message"]
    # Red held from the second missed window until the override: that episode was paged and is
    # resolved by the override, so a run during it and a run after it record the same facts.
    trigger, resolve = red_pages(result["pages"])
    assert (trigger["action"], resolve["action"]) == ("trigger", "resolve")
    assert trigger["dedup_key"] == resolve["dedup_key"]
    assert "override AUD-42" in resolve["summary"] and "2 scheduled windows" in resolve["summary"]


@pytest.mark.parametrize("covers", [["recon-2026-W43"], ["window@2026-10-26T00:00:00Z"]])
def test_override_covering_only_one_window_leaves_red(make_project, sched,
                                                      covers: list[str]) -> None:
    project = make_project(skips={5: "maintenance"}, silent=[6])
    project.add_overrides({"audit_id": "AUD-42", "covers": covers, "approved_by": "vp-ops",
                           "approved_at": sched.after(6), "reason": "partial"})
    run = project.check(sched.after(6))
    assert run.code == 1
    assert run.json()["state"] == "red"


# -- red side effects -------------------------------------------------------------------------


def test_red_opens_one_incident_naming_the_missed_runs(make_project, sched) -> None:
    project = make_project(skips={5: "maintenance"}, silent=[6])
    assert project.check(sched.after(6)).code == 1
    incidents = project.ledger_records("incident")
    assert len(incidents) == 1
    data = incidents[0]["data"]
    assert data["missed_job_run_ids"] == [sched.run_id(5)]
    assert data["missed_windows"] == [sched.run_id(5), sched.window_ref(6)]
    assert project.check(sched.after(6)).code == 1
    assert len(project.ledger_records("incident")) == 1


def test_no_deliver_appends_nothing(make_project, sched) -> None:
    project = make_project(skips={5: "maintenance", 6: "maintenance"})
    run = project.check(sched.after(6), "--no-deliver")
    assert run.code == 1
    assert project.ledger_records() == []
    assert not project.outbox.exists()
    assert len(red_pages(run.json()["pages"])) == 1  # planned, not delivered


def test_partner_comms_with_numbers_of_a_missed_week_need_a_readback(make_project, sched) -> None:
    project = make_project(skips={5: "maintenance", 6: "maintenance"})
    project.add_comms(
        {"comms_id": "PC-missed", "sent_at": sched.scheduled(5) - timedelta(days=1),
         "window_start": sched.start(5), "channel": "store"},
        {"comms_id": "PC-fine", "sent_at": sched.scheduled(5) - timedelta(days=1),
         "window_start": sched.start(4), "channel": "quest"})
    result = project.check(sched.after(6)).json()
    addenda = findings(result, "reconcile.readback-addendum")
    assert [f["subject"] for f in addenda] == ["PC-missed"]
    assert addenda[0]["owner_route"] == "exec_readback"
    assert addenda[0]["blocking"] is True
    assert findings(result, "reconcile.comms-while-red") == []


def test_comms_sent_while_red_are_a_finding(make_project, sched) -> None:
    project = make_project(skips={5: "maintenance", 6: "maintenance"})
    project.add_comms(
        {"comms_id": "PC-at-onset", "sent_at": sched.scheduled(6),
         "window_start": sched.start(4), "channel": "store"},
        {"comms_id": "PC-just-before", "sent_at": sched.scheduled(6) - sched.us,
         "window_start": sched.start(4), "channel": "store"},
        {"comms_id": "PC-future", "sent_at": sched.after(6) + SECOND,
         "window_start": sched.start(4), "channel": "store"})
    result = project.check(sched.after(6)).json()
    while_red = findings(result, "reconcile.comms-while-red")
    assert [f["subject"] for f in while_red] == ["PC-at-onset"]
    assert while_red[0]["blocking"] is True
    assert findings(result, "reconcile.readback-addendum") == []
    # A comm sent exactly at the as-of instant has been sent.
    later = project.check(sched.after(6) + SECOND).json()
    assert [f["subject"] for f in findings(later, "reconcile.comms-while-red")] == [
        "PC-at-onset", "PC-future"]


# -- acks -------------------------------------------------------------------------------------


def ack(ack_id: str, job_run_id: str | None, at, signer: str = "signer-a") -> dict[str, Any]:
    return {"ack_id": ack_id, "job_run_id": job_run_id, "signer_id": signer, "ack_dt_utc": at}


def refused(result: dict[str, Any]) -> list[str]:
    return [f["subject"] for f in findings(result, "reconcile.ack-refused")]


def test_ack_without_job_run_id_is_refused(project, sched) -> None:
    project.add_acks(ack("ACK-nojob", None, sched.after(6)))
    run = project.check(sched.after(6))
    assert run.code == 1
    assert "ACK-nojob" in run.out
    assert refused(run.json()) == ["ACK-nojob"]
    reason = findings(run.json(), "reconcile.ack-refused")[0]
    assert "no job_run_id" in reason["message"]
    assert "None" not in reason["message"]
    assert reason["location"]["path"] == "acks.csv"
    assert reason["location"]["line"] == 2
    text = project.check(sched.after(6), fmt="text")
    assert text.code == 1
    assert "ACK-nojob" in text.out


def test_ack_with_an_unknown_job_run_id_is_refused(project, sched) -> None:
    project.add_acks(ack("ACK-ghost", "recon-2026-W99", sched.after(6)))
    run = project.check(sched.after(6))
    assert run.code == 1
    assert refused(run.json()) == ["ACK-ghost"]
    assert "recon-2026-W99" in findings(run.json(), "reconcile.ack-refused")[0]["message"]


def test_ack_on_a_green_run_is_accepted(project, sched) -> None:
    project.add_acks(ack("ACK-ok", sched.run_id(6), sched.after(6)))
    run = project.check(sched.after(6))
    assert run.code == 0
    result = run.json()
    assert refused(result) == []
    assert [a["ack_id"] for a in section(result)["accepted_acks"]] == ["ACK-ok"]
    assert [a["ack_id"] for a in window(result, 6)["acks"]] == ["ACK-ok"]


def test_ack_on_an_amber_run_is_refused(make_project, sched) -> None:
    project = make_project(skips={5: "maintenance"})
    project.add_acks(ack("ACK-amber", sched.run_id(6), sched.after(6)))
    run = project.check(sched.after(6))
    assert run.code == 1
    assert run.json()["state"] == "amber"
    assert refused(run.json()) == ["ACK-amber"]
    assert section(run.json())["accepted_acks"] == []


def test_ack_on_a_failed_or_running_run_is_refused(make_project, sched) -> None:
    project = make_project(drifts={(6, "tickets_p95"): "0.5"})
    project.add_acks(ack("ACK-fail", sched.run_id(6), sched.after(6)),
                     ack("ACK-running", sched.run_id(5), sched.completed(5) - sched.us))
    run = project.check(sched.after(6))
    assert sorted(refused(run.json())) == ["ACK-fail", "ACK-running"]
    reasons = {f["subject"]: f["message"] for f in findings(run.json(), "reconcile.ack-refused")}
    assert "FAIL" in reasons["ACK-fail"]
    assert "LATE" in reasons["ACK-running"]
    assert "not complete" in reasons["ACK-running"]


def test_ack_dated_after_as_of_is_ignored(project, sched) -> None:
    project.add_acks(ack("ACK-later", None, sched.after(6) + sched.us))
    run = project.check(sched.after(6))
    assert run.code == 0
    assert refused(run.json()) == []
    assert section(run.json())["accepted_acks"] == []
    assert project.check(sched.after(6) + sched.us).code == 1


def test_ack_is_judged_at_its_own_instant(make_project, sched) -> None:
    project = make_project(skips={5: "maintenance"})
    acked = sched.after(6)
    project.add_acks(ack("ACK-early", sched.run_id(6), acked))
    project.add_evidence({"evidence_id": "EV-late", "job_run_id": sched.run_id(6),
                          "attached_at": acked + SECOND})
    run = project.check(acked + timedelta(hours=1))
    result = run.json()
    assert result["state"] == "green"  # the evidence counts now ...
    assert refused(result) == ["ACK-early"]  # ... but not for an ack given before it
    assert run.code == 1


def test_ack_given_exactly_when_evidence_is_attached_is_accepted(make_project, sched) -> None:
    project = make_project(skips={5: "maintenance"})
    acked = sched.after(6)
    project.add_acks(ack("ACK-same", sched.run_id(6), acked))
    project.add_evidence({"evidence_id": "EV-same", "job_run_id": sched.run_id(6),
                          "attached_at": acked})
    run = project.check(acked + timedelta(hours=1))
    assert run.code == 0
    assert [a["ack_id"] for a in section(run.json())["accepted_acks"]] == ["ACK-same"]


def test_first_run_ack_needs_the_bootstrap(make_project, sched) -> None:
    project = make_project(weeks=1, bootstrap=False)
    project.add_acks(ack("ACK-first", sched.run_id(1), sched.after(1)))
    assert refused(project.check(sched.after(1)).json()) == ["ACK-first"]


# -- paging -----------------------------------------------------------------------------------


def test_double_skip_pages_exactly_once(make_project, sched) -> None:
    project = make_project(skips={5: "maintenance", 6: "credential_rotation"})
    first = project.check(sched.after(6))
    assert first.code == 1
    pages = first.json()["pages"]
    assert len(red_pages(pages)) == 1
    red = red_pages(pages)[0]
    assert red["severity"] == "critical"
    assert red["details"]["missed_windows"] == [sched.run_id(5), sched.run_id(6)]
    outbox = project.jsonl(project.outbox)
    assert len(red_pages([r["data"] for r in outbox])) == 1
    assert [r["data"]["dedup_key"] for r in outbox
            if ":red:" in r["data"]["dedup_key"]] == [red["dedup_key"]]
    ledger_before = project.ledger.read_bytes()
    outbox_before = project.outbox.read_bytes()
    again = project.check(sched.after(6))
    assert again.code == 1
    assert project.ledger.read_bytes() == ledger_before
    assert project.outbox.read_bytes() == outbox_before
    # Later in the same red spell: the same condition, so still no second page.
    project.check(sched.after(6) + timedelta(days=1))
    outbox = project.jsonl(project.outbox)
    assert len(red_pages([r["data"] for r in outbox])) == 1


def test_a_longer_red_spell_is_still_one_page_and_one_incident(make_project, sched) -> None:
    project = make_project(weeks=7, skips={5: "maintenance", 6: "maintenance"}, silent=[7])
    project.check(sched.after(6))
    third = project.check(sched.after(7))
    assert third.code == 1
    assert section(third.json())["missed_windows"] == [
        sched.run_id(5), sched.run_id(6), sched.window_ref(7)]
    assert len(red_pages([r["data"] for r in project.jsonl(project.outbox)])) == 1
    assert len(project.ledger_records("incident")) == 1


def test_no_page_while_green(project, sched) -> None:
    result = project.check(sched.after(6)).json()
    assert result["pages"] == []
    assert not project.outbox.exists() or project.jsonl(project.outbox) == []


def test_gap_page_fires_only_beyond_max_gap_plus_grace(make_project, sched) -> None:
    project = make_project(weeks=4, skips={4: "maintenance"})
    limit = timedelta(days=7, hours=12)
    exactly = sched.completed(3) + limit
    assert exactly < sched.scheduled(5)
    at = project.check(exactly, "--no-deliver")
    assert at.json()["pages"] == []
    assert findings(at.json(), "reconcile.completion-gap") == []
    beyond = project.check(exactly + SECOND)
    pages = beyond.json()["pages"]
    assert [p["dedup_key"] for p in pages] == [f"govgate:reconcile:gap:{sched.run_id(3)}"]
    assert pages[0]["at"] == sched.iso(exactly)
    assert beyond.code == 0  # a warning; state is amber (one skip)
    assert beyond.json()["state"] == "amber"
    assert len(project.jsonl(project.outbox)) == 1


def test_gap_page_names_the_last_pass_not_a_fail_completed_at_the_same_instant(
    make_project, sched,
) -> None:
    project = make_project(weeks=6, skips={6: "maintenance"})
    rows = project.runs()
    recheck = dict(rows[4], job_run_id="aaa-recheck", status="FAIL", artifact_uri="")
    project.write_runs([*rows, recheck])
    as_of = sched.completed(5) + timedelta(days=7, hours=12) + SECOND
    result = project.check(as_of, "--no-deliver").json()
    assert window(result, 5)["job_run_id"] == sched.run_id(5)
    assert [p["dedup_key"] for p in result["pages"]] == [
        f"govgate:reconcile:gap:{sched.run_id(5)}"]


# -- the mini challenge, on `govgate simulate` output ----------------------------------------


def test_mini_challenge_drift_goes_fail_amber_green(simulate, sched) -> None:
    project = simulate("--weeks", "6", "--drift", "tickets_p95:3:0.5")
    failed = project.check(sched.after(3))
    result = failed.json()
    assert window(result, 3)["status"] == "FAIL"
    drift = [f for f in findings(result, "reconcile.epsilon") if f["subject"] == "tickets_p95"]
    assert len(drift) == 1
    assert drift[0]["owner_route"] == "support-ops"
    assert drift[0]["evidence"]["result"] == "fail"
    assert failed.code == 0 and result["state"] == "amber"

    amber = project.check(sched.after(4))
    assert amber.code == 0
    assert amber.json()["state"] == "amber"
    assert window(amber.json(), 4)["eligibility"] == "amber"
    project.add_acks(ack("ACK-amber", sched.run_id(4), sched.after(4)))
    refused_run = project.check(sched.after(4))
    assert refused_run.code == 1
    assert refused(refused_run.json()) == ["ACK-amber"]

    project.add_acks(ack("ACK-green", sched.run_id(5), sched.after(5)))
    green = project.check(sched.after(5))
    assert green.json()["state"] == "green"
    assert [a["ack_id"] for a in section(green.json())["accepted_acks"]] == ["ACK-green"]
    assert refused(green.json()) == ["ACK-amber"]  # the refused ack stays refused


def test_mini_challenge_drift_within_epsilon_passes(simulate, sched) -> None:
    project = simulate("--weeks", "3", "--drift", "tickets_p95:3:0.2")
    result = project.check(sched.after(3)).json()
    assert window(result, 3)["status"] == "PASS"
    assert result["state"] == "green"


def test_mini_challenge_ack_without_job_is_refused(simulate, sched) -> None:
    project = simulate("--weeks", "2")
    project.add_acks(ack("ACK-ui", None, sched.after(2)))
    run = project.check(sched.after(2))
    assert run.code == 1
    assert refused(run.json()) == ["ACK-ui"]


def test_mini_challenge_double_skip_pages(simulate, sched) -> None:
    project = simulate("--weeks", "4", "--skip", "3", "--skip", "4:manual_pause")
    run = project.check(sched.after(4))
    assert run.code == 1
    assert run.json()["state"] == "red"
    assert len(red_pages([r["data"] for r in project.jsonl(project.outbox)])) == 1
    assert len(project.ledger_records("incident")) == 1


def test_simulate_silent_skip_has_no_row(simulate, sched) -> None:
    project = simulate("--weeks", "3", "--silent-skip", "2")
    assert [r["job_run_id"] for r in project.runs()] == [sched.run_id(1), sched.run_id(3)]


# -- determinism ------------------------------------------------------------------------------


def busy_project(make_project):
    project = make_project(weeks=6, skips={5: "maintenance"},
                           drifts={(3, "tickets_p95"): "0.5", (3, "crash_free_sessions"): "1"})
    return project


def test_same_as_of_gives_byte_identical_outputs(make_project, sched) -> None:
    project = busy_project(make_project)
    first = project.check(sched.after(6))
    files = project.output_files()
    ledger = project.ledger.read_bytes() if project.ledger.exists() else b""
    assert any(name.startswith("artifacts/diff/") for name in files)
    second = project.check(sched.after(6))
    assert second.out == first.out
    assert second.code == first.code
    assert project.output_files() == files
    assert (project.ledger.read_bytes() if project.ledger.exists() else b"") == ledger


def test_outputs_do_not_depend_on_the_project_folder(make_project, sched) -> None:
    one = busy_project(make_project)
    two = busy_project(make_project)
    assert one.root != two.root
    assert one.check(sched.after(6)).out == two.check(sched.after(6)).out
    assert one.output_files() == two.output_files()


def test_shuffled_scheduler_rows_give_the_same_result(make_project, sched) -> None:
    one = busy_project(make_project)
    two = busy_project(make_project)
    rows = two.runs()
    random.Random(7).shuffle(rows)
    assert rows != one.runs()
    two.write_runs(rows)
    first = one.check(sched.after(6))
    second = two.check(sched.after(6))
    # Row order may move a finding's line number (that is where the row now is), nothing else.
    assert _without_lines(second.out) == _without_lines(first.out)
    assert _without_lines(two.output / "result.json") == _without_lines(one.output / "result.json")


def _without_lines(path_or_text):
    text = path_or_text.read_text() if isinstance(path_or_text, Path) else path_or_text
    result = json.loads(text)
    for finding in result["findings"]:
        if finding["location"]:
            finding["location"]["line"] = None
    return result


def test_rerunning_appends_nothing_to_the_ledger(make_project, sched) -> None:
    project = make_project(skips={5: "maintenance", 6: "maintenance"})
    project.check(sched.after(6))
    records = project.ledger_records()
    assert records
    project.check(sched.after(6))
    project.check(sched.after(6), fmt="text")
    assert project.ledger_records() == records


# -- exit codes, schema, plugins ---------------------------------------------------------------


def test_plugin_raising_is_an_internal_error_without_traceback(project, sched,
                                                               plugin_module) -> None:
    name = plugin_module("boom", "from govgate.hookspecs import hookimpl\n\n"
                                 "@hookimpl\ndef govgate_evaluate(evaluation):\n"
                                 "    raise RuntimeError('plugin exploded')\n")
    run = project.check(sched.after(6), "-p", name)
    assert run.code == 3
    assert "Traceback" not in run.err
    assert run.err.count("\n") == 1
    assert "RuntimeError" in run.err and "plugin exploded" in run.err
    assert run.out == ""
    assert not project.output.exists()


def test_a_compare_plugin_replaces_the_builtin_end_to_end(make_project, sched,
                                                          plugin_module) -> None:
    project = make_project(drifts={(6, "tickets_p95"): "0.5"})
    assert project.check(sched.after(6)).json()["state"] == "amber"
    name = plugin_module("lenient", (
        "from govgate.hookspecs import hookimpl\n"
        "from govgate.recon.model import DiffRow\n\n"
        "@hookimpl\n"
        "def govgate_compare_metric(metric_id, leadership, partner, tolerance):\n"
        "    return DiffRow(metric_id, leadership, partner, None, None, None, 'pass', None)\n"))
    project.edit_run(6, status="PASS")
    result = project.check(sched.after(6), "-p", name).json()
    assert window(result, 6)["status"] == "PASS"
    assert result["state"] == "green"


def test_plugins_listed_in_the_config_are_loaded(project, sched, plugin_module) -> None:
    name = plugin_module("cfgboom", "from govgate.hookspecs import hookimpl\n\n"
                                    "@hookimpl\ndef govgate_evaluate(evaluation):\n"
                                    "    raise RuntimeError('from config')\n")
    project.update_config(plugins=[name])
    assert project.check(sched.after(6)).code == 3


def test_schema_lists_kinds_and_prints_json(tmp_path: Path, run_cli) -> None:
    listing = run_cli(["schema"], tmp_path)
    assert listing.code == 0
    kinds = [line.split()[0] for line in listing.out.splitlines()]
    for kind in ("job_manifest", "scheduler_run", "partner_annex", "run_ack", "config",
                 "override_packet", "remediation_evidence", "bootstrap"):
        assert kind in kinds
    manifest = run_cli(["schema", "job_manifest"], tmp_path)
    assert manifest.code == 0
    schema = json.loads(manifest.out)
    assert schema["properties"]["window_tz_policy"]["const"] == "UTC"
    assert "job_run_id" in schema["required"]
    unknown = run_cli(["schema", "no_such_kind"], tmp_path)
    assert unknown.code == 2
    assert "no_such_kind" in unknown.err


def test_no_reconcile_disables_the_builtin(make_project, sched) -> None:
    """Disabling the reconciliation rules runs none of them, and only the configuration itself
    may decide that: on the command line alone it is a blocking finding (a weakened gate)."""
    project = make_project(skips={5: "maintenance", 6: "maintenance"})
    assert project.check(sched.after(6), "--no-deliver").code == 1
    run = project.check(sched.after(6), "-p", "no:reconcile", "--no-deliver")
    assert run.code == 1
    result = run.json()
    assert [f for f in result["findings"] if f["rule"].startswith("reconcile.")] == []
    assert "reconciliation" not in result["sections"]
    [weak] = [f for f in result["findings"] if f["blocking"]]
    assert (weak["rule"], weak["subject"]) == ("gate.plugin-disabled", "reconcile")
    project.write_config({**project.config(), "disabled_plugins": [
        {"name": "reconcile", "reason": "reconciled in the partner's pipeline this quarter"}]})
    declared = project.check(sched.after(6), "--no-deliver")
    assert declared.code == 0
    [note] = [f for f in declared.json()["findings"] if f["rule"] == "gate.plugin-disabled"]
    assert note["severity"] == "warning"
    assert "partner's pipeline" in note["message"]


def test_no_gate_is_refused(project, sched) -> None:
    run = project.check(sched.after(6), "-p", "no:gate")
    assert run.code == 2
    assert "gate" in run.err
    assert not project.output.exists()


def test_unknown_plugin_module_is_a_usage_error(project, sched) -> None:
    run = project.check(sched.after(6), "-p", "govgate_plugin_that_does_not_exist")
    assert run.code == 2
    assert "govgate_plugin_that_does_not_exist" in run.err
    assert "Traceback" not in run.err
    assert not project.output.exists()


# -- configuration discovery ------------------------------------------------------------------


def test_config_is_found_from_a_sub_folder(project, sched) -> None:
    run = project.run("check", "--as-of", sched.iso(sched.after(6)), "--format", "json",
                      cwd=project.root / "jobs" / sched.run_id(3))
    assert run.code == 0, run.err
    assert run.json()["state"] == "green"
    assert (project.output / "result.json").exists()
    assert not (project.root / "jobs" / sched.run_id(3) / "govgate-out").exists()


def test_pyproject_tool_govgate_section_works(project, sched) -> None:
    import tomllib

    data = project.config()
    project.config_path.unlink()
    lines = ["[tool.govgate]", f'policies = "{data["policies"]}"', 'output = "out-pp"',
             "[tool.govgate.reconciliation]"]
    lines += [f'{k} = "{v}"' for k, v in data["reconciliation"].items()]
    (project.root / "pyproject.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    tomllib.loads((project.root / "pyproject.toml").read_text(encoding="utf-8"))
    run = project.check(sched.after(6))
    assert run.code == 0, run.err
    assert run.json()["state"] == "green"
    assert (project.root / "out-pp" / "result.json").exists()


def test_explicit_config_from_another_folder(project, sched, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    run = project.run("check", "-c", project.config_path, "--as-of",
                      sched.iso(sched.after(6)), "--format", "json", cwd=elsewhere)
    assert run.code == 0, run.err
    assert (project.output / "result.json").exists()


def test_global_options_before_the_sub_command_are_honoured(project, sched) -> None:
    # `govgate --as-of X check` must not silently evaluate at the wall clock.
    when = sched.iso(sched.after(6))
    run = project.run("--as-of", when, "check", "--format", "json")
    assert run.code == 0, run.err
    assert run.json()["as_of"] == when
