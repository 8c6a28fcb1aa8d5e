"""The partner readback packet: lesson 174's template field by field, lesson 166's weeks, and
the addendum a red state requires; on synthetic sections and on the scenario project."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pluggy
from tests.unit.documents import gfm

from govgate.config import Config
from govgate.documents import periods
from govgate.documents.readback import SECTION_TITLE, build_readback, render_readback
from govgate.documents.snapshots import Snapshot, evaluate_at
from govgate.evaluation import Evaluation
from govgate.model import Finding, GateResult, GovernanceState, LedgerRecord, Severity

Q4 = periods.quarter("2026-Q4")
CLOSE = datetime(2026, 11, 20, tzinfo=UTC)
TEMPLATE = ["Owner route", "Trigger type", "Promoted to", "Duration (days)", "Reverted"]
RECON = ["Week (start to end)", "job_run_id", "Status", "Ack state", "Audit ids",
         "Ingest hashes"]
HASH = "ab" * 32


def promote_row(route: str, at: str, reverted: str | None, trigger: str = "heatmap_red",
                ) -> dict[str, Any]:
    return {"promote_event_id": f"bpe-{route}-{at}", "owner_route": route,
            "promoted_signer": "pat|x", "trigger_type": trigger,
            "trigger_evidence_ref": f"heatmap:sha256:{HASH}@{at}", "promoted_at_dt_utc": at,
            "reverted_at_dt_utc": reverted, "policy_version_at_time": "1.0.0",
            "primary_signer": "alex", "reverted": reverted is not None, "duration_days": "2.00"}


def snapshot(at: datetime, sections: dict[str, Any], findings: tuple[Finding, ...] = (),
             records: tuple[LedgerRecord, ...] = ()) -> Snapshot:
    config = Config(path=None, base=Path("."), data={})
    result = GateResult(as_of=at, passed=True, state=GovernanceState.GREEN, findings=findings,
                        records=records, sections=sections)
    return Snapshot(at, result, Evaluation(as_of=at, config=config, hook=None))  # type: ignore[arg-type]


def window(start: str, end: str, job: str | None, acks: list[dict[str, Any]]) -> dict[str, Any]:
    return {"start_inclusive": start, "end_exclusive": end, "job_run_id": job,
            "epsilon_policy_version": "1.1.0" if job else None, "status": "PASS" if job else
            "MISSING", "eligibility": "green" if job else None,
            "leadership_ingest_hash": f"sha256:{HASH}" if job else None,
            "partner_ingest_hash": f"sha256:{HASH}" if job else None, "acks": acks}


SECTIONS: dict[str, Any] = {
    "promote": {
        "policy_version": "1.1.0",
        "promotes": [promote_row("publish_gate", "2026-09-28T00:00:00Z", "2026-10-03T00:00:00Z"),
                     promote_row("faq_rewrite", "2026-10-02T00:00:00Z", None),
                     promote_row("publish_gate", "2026-10-10T00:00:00Z", "2026-10-20T00:00:00Z",
                                 "pending_acks_aged")],
        "pages": [{"dedup_key": "govgate:rung2:x", "at": "2026-10-11T00:00:00Z"},
                  {"dedup_key": "govgate:rung2:y", "at": "2026-09-29T00:00:00Z"}],
        "decisions": [{"promote_event_id": "bpe-publish_gate-2026-10-10T00:00:00Z",
                       "decided_at": "2026-10-11T08:00:00Z", "option": "freeze_gate",
                       "lifted_at": None}],
    },
    "fatigue": {"refresh": "2026-11-20T00:00:00Z", "snapshot_hash": HASH,
                "heatmap": {"classification_counts": {"red": 1, "amber": 2, "recovering": 0,
                                                      "green": 3}}},
    "reconciliation": {
        "policy_version": "1.0.0", "state": "red",
        "missed_windows": ["recon-2026-W45", "window@2026-11-09T00:00:00Z"],
        "windows": [
            window("2026-09-28T00:00:00Z", "2026-10-05T00:00:00Z", "recon-2026-W40", []),
            window("2026-10-05T00:00:00Z", "2026-10-12T00:00:00Z", "recon-2026-W41",
                   [{"ack_id": "ack-1", "signer_id": "alex",
                     "ack_dt_utc": "2026-10-13T09:00:00Z"}]),
            window("2026-11-09T00:00:00Z", "2026-11-16T00:00:00Z", None, []),
        ]},
}
GATE = LedgerRecord("freeze_gate", "freeze_gate:bpe-publish_gate-x:20261011T080000Z",
                    datetime(2026, 10, 11, 8, tzinfo=UTC),
                    {"promote_event_id": "bpe-publish_gate-2026-10-10T00:00:00Z",
                     "owner_route": "publish_gate", "decided_by": "tl-sam",
                     "decided_at": "2026-10-11T08:00:00Z", "cert_window_ids": ["quest-holiday"]})
COMM = Finding("reconcile.readback-addendum", "PC-2026-046", Severity.ERROR,
               "numbers of the unreconciled week 2026-11-09T00:00:00Z reached partner comms "
               "(PC-2026-046, email)")


def packet() -> tuple[dict[str, Any], str]:
    opened = snapshot(Q4.start, {"promote": {"policy_version": "1.0.0"}})
    closed = snapshot(CLOSE, SECTIONS, (COMM,), (GATE,))
    data = build_readback(Q4, opened, closed, "../.govgate/ledger.jsonl")
    return data, render_readback(data)


def test_template_fields_in_order() -> None:
    _, text = packet()
    lines = text.splitlines()
    at = lines.index(f"## {SECTION_TITLE}")
    assert lines[at + 2] == "**Reporting window:** 2026-Q4  "
    assert lines[at + 3] == "**Backup owner policy version at window open:** 1.0.0  "
    assert lines[at + 4] == "**Backup owner policy version at window close:** 1.1.0"
    order = ["### Backup promotes this window", "### Escalation rung events",
             "### Heat-map snapshot at window close"]
    assert [text.index(h) for h in order] == sorted(text.index(h) for h in order)
    assert f"Heat-map snapshot hash: `{HASH}`" in text  # the one hash the partner recomputes


def test_promotes_of_the_window_only() -> None:
    data, text = packet()
    table = gfm.table_with(text, TEMPLATE)
    assert table.rows == [["faq_rewrite", "heatmap_red", "pat|x", "2.00", "N"],
                          ["publish_gate", "pending_acks_aged", "pat|x", "2.00", "Y"]]
    assert data["fatigue"]["rungs"] == {"rung1_promotes": 2, "rung2_manual_reviews": 1,
                                        "rung3_freeze_gates": 1}


def test_rung_three_links_to_its_ledger_record() -> None:
    _, text = packet()
    html = gfm.render(text)
    assert "- Rung 3 freeze gates invoked: 1" in text
    assert ('<a href="../.govgate/ledger.jsonl">freeze_gate:bpe-publish_gate-x:20261011T080000Z'
            "</a>") in html


def test_four_row_snapshot_table() -> None:
    _, text = packet()
    table = gfm.table_with(text, ["Classification", "Signers"])
    assert table.rows == [["red", "1"], ["amber", "2"], ["recovering", "0"], ["green", "3"]]


def test_reconciliation_weeks_with_both_hashes_and_ack_state() -> None:
    data, text = packet()
    table = gfm.table_with(text, RECON)
    assert [r[1] for r in table.rows] == ["recon-2026-W41epsilon 1.1.0", "(no row)epsilon none"]
    acked = table.rows[0]
    short = f"sha256:{HASH[:12]}…"
    assert acked[5] == f"leadership {short}partner {short}"
    assert acked[3] == "acked ack-1 by alex at 2026-10-13T09:00:00Z"
    assert table.rows[1][5] == "leadership missingpartner missing"
    assert data["reconciliation"]["weeks"][0]["acked"] is True
    # The full hashes are in the appendix, beside the run they belong to.
    appendix = gfm.table_with(text, ["Of", "Value"])
    assert ["recon-2026-W41partner ingest_hash", f"sha256:{HASH}"] in appendix.rows


def test_weeks_carry_the_audit_ids_that_changed_them() -> None:
    weeks = [{**window("2026-10-05T00:00:00Z", "2026-10-12T00:00:00Z", "recon-2026-W41", []),
              "evidence_ids": ["EV-1"], "override_audit_ids": ["AUD-2"]},
             {**window("2026-10-12T00:00:00Z", "2026-10-19T00:00:00Z", None, []),
              "skip_reason": "maintenance"}]
    sections = {**SECTIONS, "reconciliation": {**SECTIONS["reconciliation"], "windows": weeks}}
    waived = Finding("reconcile.status-mismatch", "recon-2026-W41", Severity.ERROR, "m",
                     waived_by="WAIVE-3")
    data = build_readback(Q4, snapshot(Q4.start, {}), snapshot(CLOSE, sections, (waived,)),
                          "ledger.jsonl")
    table = gfm.table_with(render_readback(data), RECON)
    assert table.rows[0][4] == "evidence EV-1override AUD-2waiver WAIVE-3"
    assert table.rows[1][4] == "skip_reason maintenance"


def test_red_state_adds_the_addendum() -> None:
    data, text = packet()
    assert "## Executive readback addendum" in text
    assert "`recon-2026-W45`, `window@2026-11-09T00:00:00Z`" in text
    assert "- `PC-2026-046`: numbers of the unreconciled week" in text
    assert data["addendum"]["comms"][0]["comms_id"] == "PC-2026-046"


def test_no_addendum_when_green_and_no_finding() -> None:
    green = {**SECTIONS, "reconciliation": {**SECTIONS["reconciliation"], "state": "green",
                                            "missed_windows": []}}
    data = build_readback(Q4, snapshot(Q4.start, {}), snapshot(CLOSE, green), "ledger.jsonl")
    text = render_readback(data)
    assert data["addendum"] is None and "addendum" not in text.lower()
    assert "**Backup owner policy version at window open:** none in force" in text


def test_without_fatigue_data_the_hash_is_missing_not_invented() -> None:
    data = build_readback(Q4, snapshot(Q4.start, {}), snapshot(CLOSE, {}), "ledger.jsonl")
    text = render_readback(data)
    assert "Heat-map snapshot hash: none" in text
    assert "No backup promotes in this window." in text
    gfm.tables(text)


def test_scenario_readback(scenario: Config, docs_pm: pluggy.PluginManager) -> None:
    closed = evaluate_at(scenario, docs_pm, Q4.close(CLOSE))
    opened = evaluate_at(scenario, docs_pm, Q4.start)
    data = build_readback(Q4, opened, closed, "../.govgate/ledger.jsonl")
    text = render_readback(data)
    fatigue = data["fatigue"]
    assert (fatigue["policy_version_at_open"], fatigue["policy_version_at_close"]) == ("1.0.0",
                                                                                      "1.1.0")
    assert fatigue["snapshot_hash"] == closed.section("fatigue")["snapshot_hash"]
    assert fatigue["snapshot_hash"] == closed.history[-1].snapshot_hash
    assert fatigue["rungs"] == {"rung1_promotes": 4, "rung2_manual_reviews": 3,
                                "rung3_freeze_gates": 1}
    assert [g["record_key"] for g in fatigue["freeze_gates"]] == [
        "freeze_gate:bpe-freeze_bypass-20261013T000000Z:20261013T080000Z"]
    gfm.assert_tables(text, [(TEMPLATE, 4), (["promote_event_id", "promoted_at_dt_utc",
                                              "trigger_evidence_ref", "policy_version_at_time"], 4),
                             (["Classification", "Signers"], 4), (RECON, 6),
                             (["Of", "Value"], 8)])
    assert data["addendum"]["missed_windows"] == ["recon-2026-W45", "window@2026-11-09T00:00:00Z"]
