"""The signer FAQ states the numbers of the policies in force, never its own."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pluggy
import yaml
from tests.unit.documents import gfm

from govgate.config import Config, load_config
from govgate.documents.faq import faq_data, render_faq
from govgate.documents.snapshots import evaluate_at
from govgate.promote.plugin import thresholds_for

AS_OF = datetime(2026, 11, 20, tzinfo=UTC)


def faq(config: Config, pm: pluggy.PluginManager) -> str:
    return render_faq(faq_data(evaluate_at(config, pm, AS_OF)))


def test_numbers_are_the_active_thresholds(scenario: Config,
                                           docs_pm: pluggy.PluginManager) -> None:
    snap = evaluate_at(scenario, docs_pm, AS_OF)
    t = thresholds_for(snap.evaluation)
    text = render_faq(faq_data(snap))
    assert f"concurrent\\_window\\_count\\_14d ≥ {t.red_min_windows} and" in text
    assert f"avg\\_latency\\_ratio\\_14d ≥ {t.amber_ratio}" in text
    assert f"within {t.rung2_hours} hours of the promote, tl-sam is paged" in text
    assert "from backup_owner_policy `1.1.0` and reconciliation_policy `1.0.0`" in text
    assert "Publish is blocked in: **red**" in text
    routes = gfm.table_with(text, ["owner_route", "primary", "backup", "tertiary",
                                   "promote triggers", "aged pending ack after", "revert after"])
    by_route = {r[0]: r for r in routes.rows}
    assert by_route["publish_gate"][5] == "0.75 h (1.5 × 0.5 h SLA)"
    assert by_route["exec_readback"][5] == "— (not a trigger)"
    gfm.assert_tables(text, [(["state", "when", "what the gate does", "what you do"], 3),
                             (["class", "when", "what the system does", "what you do"], 4),
                             (routes.headers, 4)])


def test_changing_a_threshold_changes_the_faq(scenario_root: Path, tmp_path: Path,
                                              docs_pm: pluggy.PluginManager) -> None:
    root = tmp_path / "changed"
    shutil.copytree(scenario_root, root)
    path = root / "policies" / "backup-owner-policy-1.1.0.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["thresholds"] = {"red_min_windows": 4, "amber_ratio": "0.6", "rung2_hours": 24,
                         "aged_factor": "2"}
    path.write_text(yaml.safe_dump(doc))
    config = yaml.safe_load((root / "govgate.yaml").read_text())
    config["block_states"] = ["red", "amber"]
    (root / "govgate.yaml").write_text(yaml.safe_dump(config))
    text = faq(load_config(root / "govgate.yaml", cwd=root), docs_pm)
    assert "concurrent\\_window\\_count\\_14d ≥ 4 and" in text
    assert "avg\\_latency\\_ratio\\_14d ≥ 0.6" in text
    assert "within 24 hours of the promote" in text
    assert "1 h (2 × 0.5 h SLA)" in text
    assert "Publish is blocked in: **amber and red**" in text
    assert "refuses acks, blocks publish" in text


def test_without_policies_the_seed_defaults_are_said_to_be_defaults(
        tmp_path: Path, make_project: object, docs_pm: pluggy.PluginManager) -> None:
    project = make_project(tmp_path / "bare")  # type: ignore[operator]
    for path in (project.root / "policies").glob("backup-owner-policy-*"):
        path.unlink()
    text = faq(load_config(project.root / "govgate.yaml", cwd=project.root), docs_pm)
    assert "the lesson's default thresholds (no backup_owner_policy is in force)" in text
    assert "concurrent\\_window\\_count\\_14d ≥ 3 and breached\\_count\\_14d ≥ 1" in text
    gfm.tables(text)
