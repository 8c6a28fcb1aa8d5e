"""The shipped lesson-174 demo end to end: ``fixtures/fatigue/`` with the backup owner policies.

Each test pins one step of the autumn 2026 story (the README's "autumn 2026 demo" section,
the docstring of ``fixtures/fatigue/generate.py``) to what ``govgate check`` computes on a copy
of the demo, read from ``result.json`` (sections ``fatigue`` and ``promote``, ledger records) and
from the ledger and pager outbox files.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import run_cli

REPO = Path(__file__).resolve().parents[2]
FATIGUE = REPO / "fixtures" / "fatigue"
AS_OF = "2026-11-20T00:00:00Z"
RED_REFRESH = "2026-10-03T00:00:00Z"
PROMOTE_RED = "bpe-publish_gate-20261003T000000Z"
PROMOTE_AGED = "bpe-publish_gate-20261030T000000Z"
PAGE_1, PAGE_2 = f"govgate:rung2:{PROMOTE_RED}", f"govgate:rung2:{PROMOTE_AGED}"
REVERT_DAY = "2026-10-29T00:00:00Z"


def copy_demo(root: Path) -> Path:
    for name in ("policies", "fixtures"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "govgate.yaml", root / "govgate.yaml")
    return root


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A read-only copy of the demo: every check here runs with ``--no-deliver``."""
    return copy_demo(tmp_path_factory.mktemp("fatigue-demo"))


@pytest.fixture(scope="module")
def check(demo: Path) -> Any:
    @cache
    def run(as_of: str) -> dict[str, Any]:
        result = run_cli(["check", "--as-of", as_of, "--format", "json", "--no-deliver"], demo)
        assert result.err == ""
        data: dict[str, Any] = json.loads(result.out)
        assert result.code == (1 if data["gate"] == "blocked" else 0)
        return data

    return run


def promote(result: dict[str, Any], promote_event_id: str) -> dict[str, Any]:
    rows = [p for p in result["sections"]["promote"]["promotes"]
            if p["promote_event_id"] == promote_event_id]
    assert len(rows) == 1, promote_event_id
    return rows[0]


def classes(result: dict[str, Any], signer: str) -> list[str]:
    found: list[str] = result["sections"]["fatigue"]["history"]["signers"][signer]
    return found


def row(result: dict[str, Any], signer: str) -> dict[str, Any]:
    rows = result["sections"]["fatigue"]["heatmap"]["rows"]
    return next(r for r in rows if r["signer_id"] == signer)


def signers(result: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {route: (v["signer"], v["role"])
            for route, v in result["sections"]["promote"]["effective_signers"].items()}


def findings(result: dict[str, Any], rule: str) -> list[dict[str, Any]]:
    return [f for f in result["findings"] if f["rule"] == rule]


# -- rung 1: alex goes red and pat is promoted at that refresh -----------------------------


def test_alex_amber_then_red_on_october_3(check: Any) -> None:
    result = check(RED_REFRESH)
    fatigue = result["sections"]["fatigue"]
    assert fatigue["refresh"] == RED_REFRESH
    assert fatigue["history"]["days"][-2:] == ["2026-10-02T00:00:00Z", RED_REFRESH]
    # Green all September, amber when the Quest window made three, red after the missed ack.
    assert classes(result, "alex") == ["green"] * 26 + ["amber", "red"]
    alex = row(result, "alex")
    assert alex["classification"] == "red"
    assert alex["concurrent_window_count_14d"] >= 3
    assert alex["breached_count_14d"] == 1
    assert fatigue["counts"]["red"] == 1


def test_heatmap_red_promote_pins_that_refreshs_snapshot_hash(check: Any) -> None:
    at_red = check(RED_REFRESH)
    digest = at_red["sections"]["fatigue"]["snapshot_hash"]
    expected = {
        "promote_event_id": PROMOTE_RED, "owner_route": "publish_gate", "promoted_signer": "pat",
        "trigger_type": "heatmap_red",
        "trigger_evidence_ref": f"heatmap:sha256:{digest}@{RED_REFRESH}",
        "promoted_at_dt_utc": RED_REFRESH, "policy_version_at_time": "1.0.0",
    }
    assert {k: promote(at_red, PROMOTE_RED)[k] for k in expected} == expected
    assert signers(at_red)["publish_gate"] == ("pat", "backup")
    # The evidence does not move when the world is replayed later.
    late = check(AS_OF)
    assert promote(late, PROMOTE_RED)["trigger_evidence_ref"] == expected["trigger_evidence_ref"]
    record = next(r for r in late["records"] if r["key"] == f"promote:{PROMOTE_RED}")
    assert record["data"]["trigger_evidence_ref"] == expected["trigger_evidence_ref"]
    assert record["data"]["reverted_at_dt_utc"] is None  # the fact as it stood when written
    # The day before, nothing but the September drill had promoted.
    before = check("2026-10-02T00:00:00Z")
    assert [p["trigger_type"] for p in before["sections"]["promote"]["promotes"]] == [
        "manual_invocation"]


# -- manual invocations and the forced revert ------------------------------------------------


def test_manual_invocations(check: Any) -> None:
    result = check(AS_OF)
    manual = {p["trigger_evidence_ref"]: p for p in result["sections"]["promote"]["promotes"]
              if p["trigger_type"] == "manual_invocation"}
    assert sorted(manual) == [f"manual_invocation:inv-{suffix}" for suffix in (
        "2026-09-08-drill", "2026-10-03-exec", "2026-10-03-faq", "2026-10-03-freeze",
        "2026-11-02-summit")]
    drill = manual["manual_invocation:inv-2026-09-08-drill"]
    assert (drill["owner_route"], drill["promoted_signer"], drill["reverted_at_dt_utc"],
            drill["revert_kind"]) == ("publish_gate", "pat", "2026-09-11T00:00:00Z",
                                      "planned_end")
    summit = manual["manual_invocation:inv-2026-11-02-summit"]
    assert (summit["owner_route"], summit["promoted_signer"], summit["promoted_at_dt_utc"],
            summit["reverted_at_dt_utc"], summit["revert_kind"], summit["policy_version_at_time"]
            ) == ("exec_readback", "erin", "2026-11-02T07:00:00Z", "2026-11-07T00:00:00Z",
                  "planned_end", "1.1.0")
    assert signers(check("2026-11-04T00:00:00Z"))["exec_readback"] == ("erin", "backup")


def test_forced_revert_hands_exec_readback_to_the_new_primary(check: Any) -> None:
    result = check("2026-10-17T00:00:00Z")
    (forced,) = result["sections"]["promote"]["forced_reverts"]
    assert forced["promote_event_id"] == "bpe-exec_readback-20261003T091400Z"
    assert forced["reverted_at_dt_utc"] == "2026-10-16T12:00:00Z"
    assert forced["by"] == "sam" and "1.1.0" in forced["reason"]
    assert result["sections"]["promote"]["policy_version"] == "1.1.0"
    assert signers(result)["exec_readback"] == ("morgan", "primary")
    assert signers(result)["publish_gate"] == ("pat", "backup")  # alex is still red


# -- recovery and the revert -------------------------------------------------------------------


def test_alex_recovers_and_the_promotes_revert_after_seven_green_refreshes(check: Any) -> None:
    result = check(REVERT_DAY)
    assert result["sections"]["fatigue"]["history"]["days"][0] == "2026-10-02T00:00:00Z"
    assert classes(result, "alex") == (["amber"] + ["red"] * 14 + ["recovering"] * 6
                                       + ["green"] * 7)
    reverted = {p["owner_route"]: p for p in result["sections"]["promote"]["promotes"]
                if p["reverted_at_dt_utc"] == REVERT_DAY}
    assert sorted(reverted) == ["faq_rewrite", "freeze_bypass", "publish_gate"]
    assert {p["revert_kind"] for p in reverted.values()} == {"revert_condition"}
    assert reverted["publish_gate"]["promote_event_id"] == PROMOTE_RED
    assert {r["key"] for r in result["records"] if r["kind"] == "revert"} >= {
        f"revert:{p['promote_event_id']}" for p in reverted.values()}
    assert signers(result) == {"publish_gate": ("alex", "primary"),
                               "faq_rewrite": ("alex", "primary"),
                               "freeze_bypass": ("alex", "primary"),
                               "exec_readback": ("morgan", "primary")}
    # One refresh earlier (six green refreshes) nothing had reverted yet.
    day_before = check("2026-10-28T00:00:00Z")
    assert promote(day_before, PROMOTE_RED)["reverted"] is False
    assert signers(day_before)["publish_gate"] == ("pat", "backup")  # deferred-decision lane


def test_an_aged_pending_ack_promotes_again_and_reverts_after_seven_green(check: Any) -> None:
    with (FATIGUE / "signer_ack_event.csv").open(encoding="utf-8", newline="") as f:
        (late,) = [r for r in csv.DictReader(f) if r["signer_id"] == "alex"
                   and r["request_dt_utc"] == "2026-10-29 23:05:00+00"]
    assert late["owner_route"] == "publish_gate"
    result = check(AS_OF)
    aged = promote(result, PROMOTE_AGED)
    assert aged["trigger_type"] == "pending_acks_aged"
    assert aged["trigger_evidence_ref"] == f"signer_ack_event:{late['ack_event_id']}"
    assert (aged["promoted_signer"], aged["reverted_at_dt_utc"], aged["revert_kind"]) == (
        "pat", "2026-11-06T00:00:00Z", "revert_condition")


# -- rungs 2 and 3 ---------------------------------------------------------------------------


def test_rung2_pages_the_team_lead_and_the_decisions_are_recorded(check: Any) -> None:
    result = check(AS_OF)
    section = result["sections"]["promote"]
    pages = [(p["dedup_key"], p["at"], p["backup_signer"], p["classification"], p["answered"])
             for p in section["pages"]]
    assert pages == [(PAGE_1, "2026-10-04T00:00:00Z", "pat", "amber", True),
                     (PAGE_2, "2026-10-30T00:00:00Z", "pat", "amber", True)]
    rung2 = [(p["dedup_key"], p["action"]) for p in result["pages"] if ":rung2:" in p["dedup_key"]]
    # Each rung-2 page resolves once its backup is green again (or the promote ends).
    assert sorted(rung2) == [(PAGE_1, "resolve"), (PAGE_1, "trigger"),
                             (PAGE_2, "resolve"), (PAGE_2, "trigger")]
    decisions = [(d["dedup_key"], d["option"], d["decided_at"], d["tertiary_signer"],
                  d["effective_until"]) for d in section["decisions"]]
    assert decisions == [
        (PAGE_1, "tertiary_backup", "2026-10-04T08:30:00Z", "quinn", "2026-10-13T08:00:00Z"),
        (PAGE_1, "freeze_gate", "2026-10-13T08:00:00Z", None, "2026-10-14T10:00:00Z"),
        (PAGE_1, "deferred_decision_lane", "2026-10-14T10:00:00Z", None, REVERT_DAY),
        (PAGE_2, "tertiary_backup", "2026-10-30T08:00:00Z", "quinn", "2026-11-06T00:00:00Z"),
    ]
    assert section["rungs"] == {"rung1_promotes": 7, "rung2_pages": 2, "rung3_freeze_gates": 1}
    kinds = [r["kind"] for r in result["records"] if PROMOTE_RED in r["key"]]
    assert "page" not in kinds  # pages are in result["pages"]; delivery writes their intents
    assert {"escalation_decision", "freeze_gate", "freeze_lift"} <= set(kinds)
    assert not findings(result, "ladder.rung2-unanswered")
    assert not findings(result, "ladder.decision-unmatched")
    assert signers(check("2026-10-05T00:00:00Z"))["publish_gate"] == ("quinn", "tertiary")


def test_the_freeze_gate_blocks_publish_only_while_it_stands(check: Any) -> None:
    frozen = check("2026-10-14T00:00:00Z")
    gates = findings(frozen, "ladder.freeze-gate")
    assert sorted(f["subject"] for f in gates) == [
        "ps-indies-q4-2026", "quest-holiday-2026", "steam-deck-verified-2026-autumn",
        "xbox-preview-q4-2026"]
    assert all(f["blocking"] and f["owner_route"] == "publish_gate" for f in gates)
    # Rung 3 alone blocks that day; the day after the lift the gate passes again.
    assert frozen["gate"] == "blocked"
    assert {f["rule"] for f in frozen["findings"] if f["blocking"]} == {"ladder.freeze-gate"}
    lifted = check("2026-10-15T00:00:00Z")
    assert not findings(lifted, "ladder.freeze-gate")
    assert lifted["gate"] == "pass"
    assert not findings(check(AS_OF), "ladder.freeze-gate")


def outbox_keys(root: Path, action: str = "trigger") -> list[str]:
    lines = (root / ".govgate" / "pager-outbox.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["data"]["dedup_key"] for line in lines
            if json.loads(line)["data"]["event_action"] == action]


def test_each_page_is_delivered_once_across_reruns(tmp_path: Path) -> None:
    root = copy_demo(tmp_path / "demo")
    args = ["check", "--as-of", AS_OF, "--format", "json"]
    first = run_cli(args, root)
    ledger = (root / ".govgate" / "ledger.jsonl").read_bytes()
    second = run_cli(args, root)
    assert first.code == second.code == 1
    assert first.out == second.out
    assert (root / ".govgate" / "ledger.jsonl").read_bytes() == ledger
    keys = outbox_keys(root)
    assert keys.count(PAGE_1) == 1
    assert keys.count(PAGE_2) == 1
    records = [json.loads(line)["key"] for line in ledger.decode().splitlines()]
    assert len(records) == len(set(records))
    assert records.count(f"page:{PAGE_1}") == 1


PROMOTE_KINDS = {"promote", "revert", "forced_revert", "page", "escalation_decision",
                 "freeze_gate", "freeze_lift"}


def promote_facts(root: Path) -> dict[str, tuple[str, Any]]:
    facts: dict[str, tuple[str, Any]] = {}
    for line in (root / ".govgate" / "ledger.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record["kind"] in PROMOTE_KINDS and not record["key"].startswith("page:outbox:"):
            assert record["key"] not in facts, record["key"]
            facts[record["key"]] = (record["at"], record["data"])
    return facts


def test_running_along_the_season_records_the_same_facts_as_one_run(tmp_path: Path) -> None:
    along, once = copy_demo(tmp_path / "along"), copy_demo(tmp_path / "once")
    for as_of in ("2026-10-03T00:00:00Z", "2026-10-03T09:14:00Z", "2026-10-04T00:00:00Z",
                  "2026-10-14T00:00:00Z", "2026-10-16T12:00:00Z", REVERT_DAY,
                  "2026-10-30T00:00:00Z", "2026-11-04T00:00:00Z", AS_OF):
        assert run_cli(["check", "--as-of", as_of, "--format", "json"], along).code in (0, 1)
    assert run_cli(["check", "--as-of", AS_OF, "--format", "json"], once).code == 1
    assert promote_facts(along) == promote_facts(once)
    assert outbox_keys(along).count(PAGE_1) == outbox_keys(along).count(PAGE_2) == 1
    assert outbox_keys(along, "resolve").count(PAGE_1) == 1
    assert sorted(outbox_keys(along)) == sorted(outbox_keys(once))
    assert sorted(outbox_keys(along, "resolve")) == sorted(outbox_keys(once, "resolve"))


# -- the end of the season -----------------------------------------------------------------


def test_state_at_the_end_of_the_demo(check: Any) -> None:
    result = check(AS_OF)
    assert signers(result) == {"publish_gate": ("alex", "primary"),
                               "faq_rewrite": ("alex", "primary"),
                               "freeze_bypass": ("alex", "primary"),
                               "exec_readback": ("morgan", "primary")}
    assert not findings(result, "promote.active")
    fatigue = result["sections"]["fatigue"]
    assert fatigue["counts"] == {"red": 0, "amber": 1, "recovering": 0, "green": 7}
    assert row(result, "riley")["classification"] == "amber"  # slow, not overloaded
    audit = {a["signer_id"]: a for a in result["sections"]["promote"]["cross_route_audit"]}
    assert {(r["owner_route"], r["role"]) for r in audit["morgan"]["roles"]} == {
        ("exec_readback", "primary"), ("freeze_bypass", "backup")}
    assert {r["role"] for r in audit["alex"]["roles"]} == {"primary"}
    # The gate is blocked by the reconciliation demo, not by fatigue or the ladder.
    blocking = {f["rule"] for f in result["findings"] if f["blocking"]}
    assert blocking and all(rule.startswith("reconcile.") for rule in blocking)


def test_october_review_shows_the_common_mistakes(demo: Path, tmp_path: Path) -> None:
    result = run_cli(["--as-of", AS_OF, "review", "--month", "2026-10", "-o", str(tmp_path)],
                     demo)
    assert result.code == 0, result.err
    review = json.loads((tmp_path / "review-2026-10.json").read_text(encoding="utf-8"))
    found = {f["id"]: f for f in review["findings"]}
    assert found["manual-dominates"]["evidence"]["manual"] == 3
    assert found["manual-dominates"]["evidence"]["automatic"] == 2
    tertiary = found["tertiary-used-twice"]["evidence"]
    assert (tertiary["owner_route"], tertiary["tertiary_signer"], tertiary["uses"]) == (
        "publish_gate", "quinn", 2)
    people = {f["evidence"]["signer_id"] for f in review["findings"]
              if f["id"] == "one-person-several-routes"}
    assert people == {"alex", "morgan"}


def test_heatmap_command_agrees_with_the_check(check: Any, demo: Path) -> None:
    from govgate import commands

    if "heatmap" not in commands.COMMANDS:
        pytest.skip("the `govgate heatmap` command is not registered in commands.COMMANDS yet")
    result = run_cli(["heatmap", "--events", "fixtures/fatigue/signer_ack_event.csv",
                      "--as-of", AS_OF, "--format", "json"], demo)
    assert result.code == 0, result.err
    heatmap = json.loads(result.out)
    expected = check(AS_OF)["sections"]["fatigue"]["heatmap"]
    assert heatmap["snapshot_hash"] == expected["snapshot_hash"]
    assert heatmap["rows"] == expected["rows"]


# -- the generator -----------------------------------------------------------------------------


def test_generator_reproduces_the_committed_files(tmp_path: Path) -> None:
    shutil.copy(FATIGUE / "generate.py", tmp_path / "generate.py")
    subprocess.run([sys.executable, str(tmp_path / "generate.py")], check=True)
    written = sorted(p.name for p in tmp_path.iterdir() if p.name != "generate.py")
    assert written == sorted(p.name for p in FATIGUE.iterdir()
                             if p.is_file() and p.name != "generate.py")
    for name in written:
        assert (tmp_path / name).read_bytes() == (FATIGUE / name).read_bytes(), name


def test_events_are_a_postgresql_copy_export() -> None:
    lines = (FATIGUE / "signer_ack_event.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == ("ack_event_id,signer_id,owner_route,cert_window_id,request_dt_utc,"
                        "ack_dt_utc,ack_outcome,sla_target_hours")
    rows = list(csv.DictReader(lines))
    assert len(rows) > 2000
    assert len({r["signer_id"] for r in rows}) == 8
    assert {r["sla_target_hours"] for r in rows} == {"0.50", "4.00", "2.00", "24.00"}
    assert all(r["request_dt_utc"].endswith("+00") and len(r["request_dt_utc"]) == 22
               for r in rows)
    assert min(r["request_dt_utc"] for r in rows) >= "2026-08-15"
    assert max(r["request_dt_utc"] for r in rows) < "2026-11-20"
    pending = [r for r in rows if not r["ack_dt_utc"]]
    assert pending and all(r["ack_outcome"] == "" for r in pending)
    assert any(not r["cert_window_id"] for r in rows)
