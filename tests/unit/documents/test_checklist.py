"""Every checklist item is judged (pass / fail / n/a) with evidence, on the scenario, on the
shipped reconciliation demo and on scenario variants that break one item each."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pluggy
import pytest
import yaml
from tests.unit.documents import gfm

from govgate.config import Config, load_config
from govgate.documents import md
from govgate.documents.checklist import ITEMS, evaluate_checklist, render_checklist
from govgate.documents.snapshots import evaluate_at

AS_OF = datetime(2026, 11, 20, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[3]


def statuses(config: Config, pm: pluggy.PluginManager) -> dict[str, tuple[str, str]]:
    items = evaluate_checklist(evaluate_at(config, pm, AS_OF))
    assert [i.id for i in items] == [item[0] for item in ITEMS]
    for item in items:
        assert item.status in ("pass", "fail", "n/a") and item.evidence
    return {i.id: (i.status, i.evidence) for i in items}


def variant(scenario_root: Path, tmp_path: Path, edit: Any) -> Config:
    root = tmp_path / "variant"
    shutil.copytree(scenario_root, root)
    edit(root)
    return load_config(root / "govgate.yaml", cwd=root)


def test_scenario(scenario: Config, docs_pm: pluggy.PluginManager) -> None:
    got = statuses(scenario, docs_pm)
    assert {k: v[0] for k, v in got.items()} == {
        "174-1": "pass", "174-2": "pass", "174-3": "pass", "174-4": "pass", "174-5": "pass",
        "174-6": "n/a", "174-7": "pass", "174-8": "pass",
        "166-1": "pass", "166-2": "pass", "166-3": "n/a", "166-4": "n/a", "166-5": "n/a"}
    assert "bpe-exec_readback-20260914T090000Z" in got["174-8"][1]
    assert "steam-deck-autumn opens 2026-09-20T00:00:00Z" in got["174-8"][1]
    assert got["166-2"][1].startswith("pages when the gap since the last completion exceeds P7D")


def test_shipped_demo(tmp_path: Path, docs_pm: pluggy.PluginManager) -> None:
    root = tmp_path / "demo"
    for name in ("policies", "fixtures"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "govgate.yaml", root / "govgate.yaml")
    got = statuses(load_config(root / "govgate.yaml", cwd=root), docs_pm)
    assert {k: v[0] for k, v in got.items()} == {
        "174-1": "pass", "174-2": "pass", "174-3": "pass", "174-4": "pass", "174-5": "pass",
        "174-6": "n/a", "174-7": "pass", "174-8": "pass",
        "166-1": "pass", "166-2": "pass", "166-3": "fail", "166-4": "pass", "166-5": "pass"}
    assert "ack-0004" in got["166-3"][1]
    assert "recon-2026-W39" in got["166-4"][1]
    assert "inv-2026-09-08-drill" in got["174-8"][1]


def test_without_fatigue_data(tmp_path: Path, make_project: Any,
                              docs_pm: pluggy.PluginManager) -> None:
    project = make_project(tmp_path / "bare")
    for path in (project.root / "policies").glob("backup-owner-policy-*"):
        path.unlink()
    got = statuses(load_config(project.root / "govgate.yaml", cwd=project.root), docs_pm)
    assert got["174-1"] == ("fail", "no signer_ack_event export is configured (fatigue.events)")
    assert got["174-3"][0] == "fail" and got["174-8"][0] == "n/a"
    assert got["174-2"][0] == "fail" and got["174-7"][0] == "fail"


def test_missing_forced_revert_and_drill(scenario_root: Path, tmp_path: Path,
                                         docs_pm: pluggy.PluginManager) -> None:
    def edit(root: Path) -> None:
        config = yaml.safe_load((root / "govgate.yaml").read_text())
        del config["fatigue"]["forced_reverts"]
        (root / "govgate.yaml").write_text(yaml.safe_dump(config))
        manual = yaml.safe_load((root / "fatigue/manual_invocations.yaml").read_text())
        (root / "fatigue/manual_invocations.yaml").write_text(yaml.safe_dump(manual[1:]))

    got = statuses(variant(scenario_root, tmp_path, edit), docs_pm)
    assert got["174-4"][0] == "fail" and "0 forced_revert_event rows" in got["174-4"][1]
    assert got["174-8"][0] == "fail" and "before steam-deck-autumn opened" in got["174-8"][1]


def test_policy_without_every_route(scenario_root: Path, tmp_path: Path,
                                    docs_pm: pluggy.PluginManager) -> None:
    def edit(root: Path) -> None:
        for path in (root / "policies").glob("backup-owner-policy-*.yaml"):
            doc = yaml.safe_load(path.read_text())
            doc["routes"] = [r for r in doc["routes"] if r["owner_route"] != "exec_readback"]
            path.write_text(yaml.safe_dump(doc))
        (root / "fatigue/forced_reverts.yaml").write_text("[]\n")
        manual = yaml.safe_load((root / "fatigue/manual_invocations.yaml").read_text())
        (root / "fatigue/manual_invocations.yaml").write_text(yaml.safe_dump(
            [m for m in manual if m["owner_route"] != "exec_readback"]))

    got = statuses(variant(scenario_root, tmp_path, edit), docs_pm)
    assert got["174-3"][0] == "fail" and "no row for exec_readback" in got["174-3"][1]


@pytest.mark.parametrize("drop", ["cert_windows"])
def test_ladder_needs_cert_windows(scenario_root: Path, tmp_path: Path,
                                   docs_pm: pluggy.PluginManager, drop: str) -> None:
    def edit(root: Path) -> None:
        config = yaml.safe_load((root / "govgate.yaml").read_text())
        del config["fatigue"][drop]
        (root / "govgate.yaml").write_text(yaml.safe_dump(config))

    got = statuses(variant(scenario_root, tmp_path, edit), docs_pm)
    assert got["174-5"][0] == "fail" and "over 0 cert windows" in got["174-5"][1]
    assert got["174-8"][0] == "n/a"


def test_markdown(scenario: Config, docs_pm: pluggy.PluginManager) -> None:
    items = evaluate_checklist(evaluate_at(scenario, docs_pm, AS_OF))
    text = render_checklist(items, "2026-11-20T00:00:00Z")
    gfm.assert_tables(text, [(["#", "item", "status", "evidence"], 8),
                             (["#", "item", "status", "evidence"], 5), (["#", "SHA-256"], 2)])
    assert "9 pass, 0 fail, 4 not applicable" in text
    # A snapshot hash is short in the evidence column and whole in the appendix.
    digest = next(h for i in items for h in md.full_hashes(i.evidence))
    assert f"{digest[:12]}…" in text and f"`{digest}`" in text
