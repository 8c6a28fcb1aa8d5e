"""The job summary: verdict first, every finding in a safe table, detail sections, artifacts."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from tests.support.results import make_context, make_result
from tests.unit.documents import gfm

from govgate.model import Finding, GateResult, Location, Severity
from govgate.reporters import ReportContext, markdown
from govgate.timeutil import format_instant


def test_verdict_and_state_in_one_line_then_the_findings(tmp_path: Path) -> None:
    text = markdown.render(make_result(), make_context(tmp_path))
    lines = text.splitlines()
    assert lines[0] == "## ❌ govgate: publish is blocked · governance state 🔴 red"
    assert "5 findings: **2 blocking**, 1 warning, 1 waived, 1 note" in lines[2]
    table = gfm.table_with(text, ["Severity", "Rule and subject", "Message"])
    assert len(table.rows) == 5
    assert [row[0] for row in table.rows].count("⛔ blocks") == 2
    assert any("scheduler_runs.csv:8" in row[2] for row in table.rows)
    assert any("waived by AUD-2026-114" in row[2] for row in table.rows)


def test_locations_link_to_the_file_and_line_on_github(tmp_path: Path) -> None:
    env = {"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/gate",
           "GITHUB_SHA": "f" * 40, "GITHUB_WORKSPACE": str(tmp_path.parent)}
    context = dataclasses.replace(make_context(tmp_path), environ=env)
    text = markdown.render(make_result(), context)
    prefix = tmp_path.name
    assert (f"(https://github.com/acme/gate/blob/{'f' * 40}/{prefix}/"
            "scheduler_runs.csv#L8)") in text
    # Off GitHub the location is plain text: no link to a repository nobody named.
    assert "https://" not in markdown.render(make_result(), make_context(tmp_path))


def test_cells_cannot_break_the_table(tmp_path: Path) -> None:
    hostile = Finding("reconcile.inputs", "a|b", Severity.ERROR, "x | y\n| z <script>",
                      location=Location("e.csv", 1))
    text = markdown.render(make_result((hostile,)), make_context(tmp_path))
    row = gfm.table_with(text, ["Severity", "Rule and subject", "Message"]).rows[0]
    assert row[1] == "reconcile.inputsa|b"
    assert row[2].startswith("x | y | z <script>")
    assert "<script>" not in gfm.render(text)


def test_pages_weeks_with_their_audit_ids_appendix_and_artifacts(tmp_path: Path) -> None:
    recon = {"policy_version": "1.0.0", "state": "red", "windows": [
        {"index": 0, "start_inclusive": "2026-09-21T00:00:00Z", "job_run_id": "recon-2026-W39",
         "status": "PASS", "skip_reason": None, "eligibility": "green",
         "evidence_ids": ["EV-1"], "override_audit_ids": ["AUD-9"],
         "leadership_ingest_hash": "a" * 64, "partner_ingest_hash": "b" * 64,
         "acks": [{"ack_id": "ack-1", "signer_id": "alex"}]},
        {"index": 1, "start_inclusive": "2026-09-28T00:00:00Z", "job_run_id": "recon-2026-W40",
         "status": "SKIPPED", "skip_reason": "maintenance", "eligibility": None}]}
    text = markdown.render(make_result(sections={"reconciliation": recon}),
                           make_context(tmp_path))
    pages = gfm.table_with(text, ["Event", "At", "Page"])
    assert pages.rows[0][0] == "🔔 trigger (critical)"
    assert "govgate:reconcile:red:recon-2026-W45" in pages.rows[0][2]
    weeks = gfm.table_with(text, ["Week of", "Run", "Status", "Ack eligibility and acks",
                                  "Audit ids"])
    assert weeks.rows[0] == ["2026-09-21", "recon-2026-W39", "✅ PASS", "greenack-1 by alex",
                             "evidence EV-1override AUD-9"]
    assert weeks.rows[1][2:] == ["⏭️ SKIPPED", "not eligible", "skip_reason maintenance"]
    hashes = gfm.table_with(text, ["What", "SHA-256"])
    assert ["recon-2026-W39 partner ingest_hash", "b" * 64] in hashes.rows
    assert "- `artifacts/diff/recon-2026-W47-0123456789abcdef.json`" in text
    assert text.index("### Reconciliation weeks") < text.index("### Artifacts")


def test_a_resolve_reads_as_the_end_of_a_page_not_a_new_alarm(tmp_path: Path) -> None:
    base = make_result()
    trigger = base.pages[0]
    said = f"Resolved at {format_instant(trigger.at)}: passed"
    resolve = dataclasses.replace(trigger, summary=said, severity="info", action="resolve")
    text = markdown.render(dataclasses.replace(base, pages=(trigger, resolve)),
                           make_context(tmp_path))
    rows = gfm.table_with(text, ["Event", "At", "Page"]).rows
    assert [r[0] for r in rows] == ["🔔 trigger (critical)", "✅ resolve"]
    assert rows[0][2].endswith(rows[1][2][-len(trigger.dedup_key):])  # the same dedup key
    assert rows[1][2].startswith("passed")  # "Resolved at T" is the At column already
    assert "1 page triggered, 1 resolved (none still open) up to as-of" in text


def test_a_late_week_names_the_instant_it_becomes_a_miss(tmp_path: Path) -> None:
    recon = {"policy_version": "1.0.0", "state": "green", "windows": [
        {"index": 0, "start_inclusive": "2026-10-26T00:00:00Z", "job_run_id": "recon-2026-W44",
         "status": "LATE", "eligibility": None, "scheduled_at": "2026-11-02T06:00:00Z",
         "late_until": "2026-11-02T08:05:00Z"}]}
    text = markdown.render(make_result(sections={"reconciliation": recon}),
                           make_context(tmp_path))
    weeks = gfm.table_with(text, ["Week of", "Run", "Status", "Ack eligibility and acks",
                                  "Audit ids"])
    assert weeks.rows[0][2:4] == [
        "⏳ LATE", "not counted yet: missed at 2026-11-02T08:05:00Z unless it completes"]


def test_a_disabled_reconcile_shows_no_state(tmp_path: Path) -> None:
    off = make_result(sections={"plugins": {"disabled": [{"name": "reconcile"}]}})
    assert markdown.render(off, make_context(tmp_path)).splitlines()[0] == (
        "## ❌ govgate: publish is blocked · governance state not evaluated (reconcile disabled)")


def test_passing_gate(tmp_path: Path) -> None:
    text = markdown.render(make_result(()), make_context(tmp_path))
    assert text.startswith("## ✅ govgate: publish may proceed · governance state 🔴 red\n")
    assert "No findings." in text


def test_section_renderers_are_the_extension_point(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    def heatmap(section: Any, result: GateResult, context: ReportContext) -> str:
        return f"### Heat-map\n\n{len(section['rows'])} signers"

    monkeypatch.setattr(markdown, "SECTION_RENDERERS",
                        (*markdown.SECTION_RENDERERS, ("fatigue", heatmap)))
    with_section = make_result(sections={"fatigue": {"rows": [{}, {}]}})
    assert "### Heat-map\n\n2 signers" in markdown.render(with_section, make_context(tmp_path))
    assert "Heat-map" not in markdown.render(make_result(), make_context(tmp_path))
