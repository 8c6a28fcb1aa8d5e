"""The document commands end to end: readback, review (with what-ifs), checklist, faq, and the
job summary plus heat-map picture that ``govgate check`` writes on every run.

Every generated markdown file is rendered with cmark-gfm (GitHub's renderer) and its tables are
checked; every SVG is parsed as XML.
"""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from tests.conftest import CliRun, run_cli
from tests.unit.documents import gfm
from tests.unit.documents.demo import policy, write_scenario

from govgate.documents.picture import CLASS_STYLE
from govgate.loaders.policies import parse_policy
from govgate.promote.policy import policy_from_doc

REPO = Path(__file__).resolve().parents[2]
AS_OF = "2026-11-20T00:00:00Z"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def scenario_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_scenario(tmp_path_factory.mktemp("docs-cli") / "scenario")


@pytest.fixture
def scenario(scenario_files: Path, tmp_path: Path) -> Path:
    root = tmp_path / "scenario"
    shutil.copytree(scenario_files, root)
    return root


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    """A copy of the shipped demo (reconciliation fixtures and policies)."""
    root = tmp_path / "demo"
    for name in ("policies", "fixtures"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "govgate.yaml", root / "govgate.yaml")
    return root


def gg(root: Path, *args: str) -> CliRun:
    return run_cli(["--as-of", AS_OF, *args], root)


def markdown_files(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.md"))}


def svg_cells(path: Path) -> list[ET.Element]:
    root = ET.fromstring(path.read_bytes())
    assert not list(root.iter(f"{SVG}script"))
    return [r for r in root.iter(f"{SVG}rect") if r.get("data-signer")]


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


# -- readback -----------------------------------------------------------------------------


def test_readback_quarter(scenario: Path) -> None:
    result = gg(scenario, "readback", "--quarter", "2026-Q4", "-o", "docs")
    assert result.code == 0, result.err
    text = (scenario / "docs" / "readback-2026-Q4.md").read_text(encoding="utf-8")
    assert result.out == text
    gfm.assert_tables(text, [
        (["Owner route", "Trigger type", "Promoted to", "Duration (days)", "Reverted"], 4),
        (["promote_event_id", "promoted_at_dt_utc", "trigger_evidence_ref",
          "policy_version_at_time"], 4),
        (["Classification", "Signers"], 4),
        (["Week (start to end)", "job_run_id", "Status", "Ack state", "Audit ids",
          "Ingest hashes"], 6),
        (["Of", "Value"], 8)])
    data = json.loads((scenario / "docs" / "readback-2026-Q4.json").read_text())
    assert data["fatigue"]["freeze_gates"][0]["ledger"] == "../.govgate/ledger.jsonl"
    assert "## Executive readback addendum" in text
    before = files(scenario / "docs")
    assert gg(scenario, "readback", "--quarter", "2026-Q4", "-o", "docs").code == 0
    assert files(scenario / "docs") == before


def test_readback_window_and_shipped_demo(demo: Path) -> None:
    # The window is still open at as-of, so the packet is evaluated at as-of: red by then.
    result = gg(demo, "readback", "--from", "2026-11-02T00:00:00Z", "--to",
                "2026-11-23T00:00:00Z")
    assert result.code == 0, result.err
    name = "readback-20261102T000000Z-20261123T000000Z.md"
    text = (demo / "govgate-out" / name).read_text(encoding="utf-8")
    assert "- `PC-2026-046`: numbers of the unreconciled week 2026-11-02T00:00:00Z" in text
    result_json = json.loads(gg(demo, "check", "--no-deliver", "--format", "json").out)
    digest = result_json["sections"]["fatigue"]["snapshot_hash"]
    assert f"Heat-map snapshot hash: `{digest}`" in text
    table = gfm.table_with(text, ["Week (start to end)", "job_run_id", "Status", "Ack state",
                                  "Audit ids", "Ingest hashes"])
    assert [r[1] for r in table.rows] == ["recon-2026-W45epsilon none", "(no row)epsilon none"]
    assert table.rows[0][4] == "skip_reason maintenance"


def test_the_freeze_record_is_linked_only_inside_the_project(demo: Path, tmp_path: Path) -> None:
    """In the repository the link to the ledger works; from an output folder elsewhere it would
    only spell out the machine's folders, so the record is named instead."""
    key = "freeze\\_gate:bpe-publish\\_gate-20261003T000000Z:20261013T080000Z"
    inside = gg(demo, "readback", "--quarter", "2026-Q4", "--no-deliver")
    assert inside.code == 0, inside.err
    assert f"  - [{key}](../.govgate/ledger.jsonl): publish" in inside.out
    elsewhere = gg(demo, "readback", "--quarter", "2026-Q4", "--no-deliver", "-o",
                   str(tmp_path / "elsewhere"))
    assert elsewhere.code == 0, elsewhere.err
    assert "  - `freeze_gate:bpe-publish_gate-20261003T000000Z:20261013T080000Z`: publish" in (
        elsewhere.out)
    assert "ledger.jsonl" not in elsewhere.out


def test_readback_of_a_quarter_before_the_inputs_began(scenario: Path) -> None:
    # At the open (2026-07-01) no reconciliation policy was approved yet: the inputs cannot be
    # evaluated there, and the version at the open is read from the policy history instead.
    result = gg(scenario, "readback", "--quarter", "2026-Q3")
    assert result.code == 0, result.err
    assert "**Backup owner policy version at window open:** none in force" in result.out
    assert "**Backup owner policy version at window close:** 1.0.0" in result.out
    table = gfm.table_with(result.out, ["Owner route", "Trigger type", "Promoted to",
                                        "Duration (days)", "Reverted"])
    assert table.rows == [["exec_readback", "manual_invocation", "dana", "2.00", "Y"]]


@pytest.mark.parametrize(("args", "message"), [
    (["readback", "--quarter", "2026-Q5"], "--quarter: expected a quarter like 2026-Q4"),
    (["readback"], "name the reporting window"),
    (["readback", "--quarter", "2026-Q4", "--from", AS_OF, "--to", AS_OF], "not both"),
    (["readback", "--quarter", "2027-Q1"], "has not opened at as-of"),
    (["review", "--month", "2026-13"], "--month: expected a month like 2026-10"),
    (["review", "--month", "2026-12"], "has not started at as-of"),
    (["review", "--month", "2026-10", "--simulate", "nope.yaml"], "nope.yaml: file not found"),
])
def test_bad_usage_exits_2_with_one_line(scenario: Path, args: list[str], message: str) -> None:
    result = gg(scenario, *args)
    assert result.code == 2
    assert message in result.err and result.err.count("\n") == 1
    assert not (scenario / "govgate-out").exists() or not list(
        (scenario / "govgate-out").glob("re*"))


# -- review -------------------------------------------------------------------------------


def test_review_month_with_a_what_if(scenario: Path) -> None:
    candidate = policy("2.0.0", "2026-12-01T00:00:00Z", "ack-c")
    candidate["thresholds"] = {"red_min_windows": 2}
    (scenario / "other-policy.yaml").write_text(yaml.safe_dump(candidate))
    result = gg(scenario, "review", "--month", "2026-10", "--simulate", "other-policy.yaml",
                "-o", "docs")
    assert result.code == 0, result.err
    out = scenario / "docs"
    assert sorted(p.name for p in out.iterdir()) == [
        "review-2026-10-backup_owner_policy_history.json", "review-2026-10-heatmap.svg",
        "review-2026-10-proposed-backup-owner-policy-1.2.0.yaml", "review-2026-10.json",
        "review-2026-10.manifest.json", "review-2026-10.md"]
    text = (out / "review-2026-10.md").read_text(encoding="utf-8")
    mistakes = gfm.table_with(text, ["#", "mistake", "finding"])
    assert sorted({row[1] for row in mistakes.rows}) == [
        "A tertiary backup used twice or more in the month",
        "Promote thresholds so high that they never trigger",
        "The same human named on several owner-routes",
        "manual_invocation dominating the automatic triggers"]
    whatif = gfm.table_with(text, ["", "in force (1.0.0 → 1.1.0)", "proposed (1.2.0)",
                                   "candidate other-policy.yaml (2.0.0)"])
    assert [r[0] for r in whatif.rows][:2] == ["backup promotes (rung 1)", "… by heatmap_red"]
    assert whatif.rows[1][1] == "0" and int(whatif.rows[1][3]) >= 1
    name = "review-2026-10-proposed-backup-owner-policy-1.2.0.yaml"
    policy_from_doc(parse_policy((out / name).read_bytes(), name))
    history = json.loads((out / "review-2026-10-backup_owner_policy_history.json").read_text())
    assert [r["policy_version"] for r in history["revisions"]] == ["1.0.0", "1.1.0", "1.2.0"]
    cells = svg_cells(out / "review-2026-10-heatmap.svg")
    signers = {c.get("data-signer") for c in cells}
    assert len(cells) == len(signers) * 31
    before = files(out)
    assert gg(scenario, "review", "--month", "2026-10", "--simulate", "other-policy.yaml",
              "-o", "docs").code == 0
    assert files(out) == before


def test_review_on_the_shipped_demo_names_the_seeded_mistakes(demo: Path) -> None:
    result = gg(demo, "review", "--month", "2026-10")
    assert result.code == 0, result.err
    out = demo / "govgate-out"
    data = json.loads((out / "review-2026-10.json").read_text())
    findings = [(f["id"], f["evidence"].get("owner_route") or f["evidence"].get("signer_id"))
                for f in data["findings"]]
    assert findings == [
        # faq_rewrite, freeze_bypass and exec_readback promote only by hand: alex was red at the
        # 2026-10-03 refresh and nothing promoted them.
        ("thresholds-never-promoted", "exec_readback"),
        ("thresholds-never-promoted", "faq_rewrite"),
        ("thresholds-never-promoted", "freeze_bypass"),
        ("manual-dominates", None),
        ("tertiary-used-twice", "publish_gate"),
        ("one-person-several-routes", "alex"),
        ("one-person-several-routes", "morgan")]
    manual = next(f for f in data["findings"] if f["id"] == "manual-dominates")
    assert (manual["evidence"]["manual"], manual["evidence"]["automatic"]) == (3, 2)
    first = data["cross_reference"]["rows"][0]
    assert first["priority"] == 1 and first["hot_dimensions"] and first["red_amber_days"]
    tired_hot = {(r["signer_id"], r["owner_route"]) for r in data["cross_reference"]["rows"]
                 if r["priority"] == 1}
    assert ("alex", "faq_rewrite") in tired_hot and ("alex", "publish_gate") in tired_hot
    name = "review-2026-10-proposed-backup-owner-policy-1.2.0.yaml"
    proposed = policy_from_doc(parse_policy((out / name).read_bytes(), name))
    assert all("heatmap_red" in r.promote_trigger for r in proposed.routes)
    publish = proposed.route("publish_gate")
    assert publish is not None and publish.backup_signer == "quinn"
    text = (out / "review-2026-10.md").read_text(encoding="utf-8")
    assert len(gfm.table_with(text, ["#", "mistake", "finding"]).rows) == 7


# -- checklist and faq ----------------------------------------------------------------------


def test_checklist_and_faq(scenario: Path, demo: Path) -> None:
    for root in (scenario, demo):
        assert gg(root, "checklist").code == 0
        assert gg(root, "faq").code == 0
        docs = markdown_files(root / "govgate-out")
        found = [(t.headers, len(t.rows)) for t in gfm.tables(docs["checklist.md"])]
        assert found[:2] == [(["#", "item", "status", "evidence"], 8),
                             (["#", "item", "status", "evidence"], 5)]
        assert gfm.tables(docs["signer-faq.md"])
    items = json.loads((demo / "govgate-out" / "checklist.json").read_text())["items"]
    assert {i["id"]: i["status"] for i in items}["166-3"] == "fail"


def test_checklist_strict_fails_on_a_failed_item(demo: Path) -> None:
    # The demo has a failed item (166-3): --strict turns it into exit 1, for CI.
    assert gg(demo, "checklist", "--strict").code == 1
    items = json.loads((demo / "govgate-out" / "checklist.json").read_text())["items"]
    assert any(i["status"] == "fail" for i in items)
    # Written all the same: the document is the evidence of why it failed.
    assert (demo / "govgate-out" / "checklist.md").is_file()


# -- govgate check: job summary and picture ------------------------------------------------


def test_check_always_writes_summary_and_picture(scenario: Path) -> None:
    result = gg(scenario, "check", "--no-deliver")  # --format defaults to text
    assert result.code == 1  # the scenario ends red on purpose
    out = scenario / "govgate-out"
    assert {"result.json", "summary.md", "heatmap.svg"} <= {p.name for p in out.iterdir()}
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert summary.startswith("## ❌ govgate: publish is blocked")
    assert summary.index("### Signer fatigue heat-map") < summary.index("### Artifacts")
    gfm.tables(summary)
    history = json.loads((out / "result.json").read_text())["sections"]["fatigue"]["history"]
    cells = svg_cells(out / "heatmap.svg")
    assert len(cells) == len(history["signers"]) * len(history["days"]) == 6 * 28
    fills = {cls: style[0] for cls, style in CLASS_STYLE.items()}
    for cell in cells:
        expected = history["signers"][cell.get("data-signer")][
            history["days"].index(cell.get("data-day"))]
        assert cell.get("data-class") == expected and cell.get("fill") == fills[expected]
    before = files(out)
    assert gg(scenario, "check", "--no-deliver").code == 1
    assert files(out) == before


def test_check_on_the_demo_and_without_the_documents_plugin(demo: Path) -> None:
    result = gg(demo, "check", "--no-deliver", "--format", "json")
    assert result.code == 1
    out = demo / "govgate-out"
    history = result.json()["sections"]["fatigue"]["history"]
    assert len(svg_cells(out / "heatmap.svg")) == len(history["signers"]) * 28
    gfm.tables((out / "summary.md").read_text(encoding="utf-8"))
    shutil.rmtree(out)
    assert gg(demo, "-p", "no:documents", "check", "--no-deliver").code == 1
    assert (out / "summary.md").exists() and not (out / "heatmap.svg").exists()
