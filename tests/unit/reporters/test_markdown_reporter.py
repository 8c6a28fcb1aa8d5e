"""The job summary: verdict first, every finding in a safe table, detail sections, artifacts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from tests.support.results import make_context, make_result

from govgate.model import Finding, GateResult, Location, Severity
from govgate.reporters import ReportContext, markdown


def test_verdict_first_then_the_findings(tmp_path: Path) -> None:
    text = markdown.render(make_result(), make_context(tmp_path))
    lines = text.splitlines()
    assert lines[0] == "## govgate: ❌ gate blocked"
    assert "Governance state: 🔴 red" in lines[2]
    assert "5 findings: 2 blocking, 1 warnings, 1 waived, 1 notes" in lines[2]
    table = [line for line in lines if line.startswith("| ⛔") or line.startswith("| ⚠️")
             or line.startswith("| 🏷️") or line.startswith("| ℹ️")]
    assert len(table) == 5
    assert any("scheduler_runs.csv:8" in row for row in table)
    assert any("(waived by AUD-2026-114)" in row for row in table)


def test_cells_cannot_break_the_table(tmp_path: Path) -> None:
    hostile = Finding("reconcile.inputs", "a|b", Severity.ERROR, "x | y\n| z",
                      location=Location("e.csv", 1))
    text = markdown.render(make_result((hostile,)), make_context(tmp_path))
    row = next(line for line in text.splitlines() if line.startswith("| ⛔"))
    assert len(re.findall(r"(?<!\\)\|", row)) == 8  # 7 cells: only the separators are bare
    assert "\n| z" not in text


def test_pages_windows_and_artifacts(tmp_path: Path) -> None:
    recon = {"policy_version": "1.0.0", "state": "red", "windows": [
        {"index": 0, "start_inclusive": "2026-09-21T00:00:00Z", "job_run_id": "recon-2026-W39",
         "status": "PASS", "skip_reason": None, "eligibility": "green"}]}
    text = markdown.render(make_result(sections={"reconciliation": recon}),
                           make_context(tmp_path))
    assert "### Pages" in text and "govgate:reconcile:red:recon-2026-W45" in text
    assert "| 0 | 2026-09-21T00:00:00Z | recon-2026-W39 | PASS |  | green |" in text
    assert "- `artifacts/diff/recon-2026-W47-0123456789abcdef.json`" in text
    assert text.index("### Reconciliation windows") < text.index("### Artifacts")


def test_passing_gate(tmp_path: Path) -> None:
    text = markdown.render(make_result(()), make_context(tmp_path))
    assert text.startswith("## govgate: ✅ gate passed\n")
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
