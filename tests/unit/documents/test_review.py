"""The monthly fatigue review on the scenario: rollup, history, cross-reference, the seeded
mistakes, and a proposed policy that validates against the policy schema."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pluggy
import pytest
import yaml
from tests.unit.documents import gfm

from govgate.config import Config
from govgate.documents import periods
from govgate.documents.review_flow import Review, run_review
from govgate.loaders.documents import load_schema
from govgate.loaders.policies import parse_policy
from govgate.promote.policy import policy_from_doc

OCTOBER = periods.month("2026-10")
AS_OF = datetime(2026, 11, 20, tzinfo=UTC)


@pytest.fixture
def review(scenario: Config, docs_pm: pluggy.PluginManager) -> Review:
    return run_review(scenario, docs_pm, OCTOBER, AS_OF)


def finding_ids(review: Review) -> list[str]:
    return [f["id"] for f in review.data["findings"]]


def test_names_the_seeded_mistakes(review: Review) -> None:
    assert finding_ids(review) == ["thresholds-never-promoted", "manual-dominates",
                                   "tertiary-used-twice", *["one-person-several-routes"] * 4]
    findings = {f["id"]: f for f in review.data["findings"]}
    assert findings["manual-dominates"]["evidence"] == {
        "manual": 3, "automatic": 1, "manual_by_route": {"exec_readback": 1, "publish_gate": 2}}
    assert findings["tertiary-used-twice"]["evidence"] == {
        "owner_route": "publish_gate", "tertiary_signer": "quinn", "uses": 2}
    people = [f["evidence"]["signer_id"] for f in review.data["findings"]
              if f["id"] == "one-person-several-routes"]
    assert people == ["alex", "dana", "pat", "quinn"]
    table = gfm.table_with(review.markdown, ["#", "mistake", "finding"])
    assert len(table.rows) == 7


def test_rollup_counts_every_day_of_the_month(review: Review) -> None:
    assert review.data["refresh_count"] == 31
    rollup = {s["signer_id"]: s for s in review.data["signers"]}
    assert rollup["pat"]["days"] == {"red": 0, "amber": 31, "recovering": 0, "green": 0}
    assert sum(rollup["alex"]["days"].values()) == 31
    assert rollup["alex"]["days"]["amber"] > 0 and rollup["alex"]["days"]["red"] == 0
    assert rollup["morgan"]["peak_pending_acks_now"] == 1
    assert rollup["alex"]["peak_breached_count_14d"] >= 1


def test_history_forced_reverts_tertiaries(review: Review) -> None:
    data = review.data
    assert [p["promote_event_id"] for p in data["promotes"]] == [
        "bpe-publish_gate-20261001T090000Z", "bpe-freeze_bypass-20261013T000000Z",
        "bpe-exec_readback-20261015T090000Z", "bpe-publish_gate-20261027T090000Z"]
    assert [f["reason"] for f in data["forced_reverts"]] == ["riley back early"]
    assert [d["tertiary_signer"] for d in data["tertiary_used"]] == ["quinn", "quinn"]
    assert len(data["freeze_gates"]) == 1 and len(data["pages"]) == 3


def test_tired_signer_guarding_a_hot_dimension_first(review: Review) -> None:
    rows = review.data["cross_reference"]["rows"]
    first = rows[0]
    assert first["priority"] == 1 and first["hot_dimensions"]
    assert first["red_amber_days"] > 0
    assert [r["priority"] for r in rows] == sorted(r["priority"] for r in rows)
    alex = next(r for r in rows if r["signer_id"] == "alex")
    assert alex["priority"] == 1 and alex["hot_dimensions"] == ["tuple-drift-steam"]
    assert review.data["cross_reference"]["board_as_of"] == "2026-10-30T00:00:00Z"
    table = gfm.table_with(review.markdown, [
        "priority", "owner_route", "signer (role)", "red/amber days, class at close",
        "hot dimensions", "dimensions (trend)"])
    assert table.rows[0][0] == "1 · tired signer, hot dimension"


def test_proposed_policy_validates_and_promotes(review: Review, tmp_path: Path) -> None:
    proposal = review.proposal
    assert proposal is not None and proposal.version == "1.2.0" and proposal.yaml_text
    data = yaml.safe_load(proposal.yaml_text)
    jsonschema.validate(data, load_schema("backup_owner_policy"))
    policy = policy_from_doc(parse_policy(proposal.yaml_text.encode(), "proposed.yaml"))
    assert policy.thresholds.red_min_windows == 3
    assert policy.approved_dt_utc == datetime(2026, 11, 1, tzinfo=UTC)
    assert data["signed_ack"] == "pending:review-2026-10"
    publish = policy.route("publish_gate")
    assert publish is not None and (publish.backup_signer, publish.tertiary_signers) == (
        "quinn", ("pat",))
    execr = policy.route("exec_readback")
    assert execr is not None and "heatmap_red" in execr.promote_trigger
    changes = {(c.owner_route, c.field) for c in proposal.changes}
    assert changes == {(None, "thresholds.red_min_windows"), ("exec_readback", "promote_trigger"),
                       ("publish_gate", "backup_signer"), ("publish_gate", "tertiary_signers")}
    assert "-  red_min_windows: 5\n+  red_min_windows: 3" in proposal.yaml_diff
    whatif = {o.label: o.counts for o in review.outcomes}
    assert whatif["in force"]["heatmap_red"] == 0 and whatif["proposed"]["heatmap_red"] >= 1


def test_history_is_kept_with_the_proposal_last(review: Review) -> None:
    assert review.proposal is not None
    history = review.proposal.history
    assert [(h["policy_version"], h.get("status", "approved")) for h in history] == [
        ("1.0.0", "approved"), ("1.1.0", "approved"), ("1.2.0", "proposed")]
    assert history[-1]["previous_version"] == "1.1.0"
    table = gfm.table_with(review.markdown, ["policy_version", "status",
                                             "approved_dt_utcapproved_by", "signed_ack",
                                             "previous_version", "changes"])
    assert [r[1] for r in table.rows] == ["approved", "approved", "proposed"]
    assert "```diff" in review.markdown


def test_every_table_renders(review: Review) -> None:
    found = gfm.tables(review.markdown)
    assert len(found) == 12
    headers = [t.headers[0] for t in found]
    assert headers[:3] == ["#", "signer", "signer"]


def test_is_deterministic(scenario: Config, docs_pm: pluggy.PluginManager,
                          review: Review) -> None:
    again = run_review(scenario, docs_pm, OCTOBER, AS_OF)
    assert again.markdown == review.markdown and again.data == review.data


def test_a_quiet_project_without_fatigue_data(tmp_path: Path, make_project: Any,
                                              config_of: Any, docs_pm: pluggy.PluginManager,
                                              ) -> None:
    project = make_project(tmp_path / "quiet")
    for path in (project.root / "policies").glob("backup-owner-policy-*"):
        path.unlink()
    result = run_review(config_of(project.root), docs_pm, OCTOBER, AS_OF)
    assert result.data["findings"] == [] and result.proposal is None
    assert "No heat-map refresh in this month" in result.markdown
    assert "No backup_owner_policy is in force at the close" in result.markdown
    gfm.tables(result.markdown)
