"""The Prometheus textfile: typed gauges, sorted labels, ``# EOF``, sections when present."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.results import DRIFT, make_context, make_result

from govgate.reporters import openmetrics

SAMPLE = re.compile(r'^govgate_[a-z_]+(\{[a-z_]+="[^"\\\n]*"(,[a-z_]+="[^"]*")*\})? -?\d+(\.\d+)?$')

RECON = {"windows": [
    {"index": 0, "status": "PASS", "completed_at": "2026-10-05T06:25:00Z"},
    {"index": 1, "status": "PASS", "completed_at": "2026-10-12T06:25:00.500000Z"},
    {"index": 2, "status": "SKIPPED"},
    {"index": 3, "status": "MISSING"},
]}


def _text(tmp_path: Path, **kwargs: object) -> str:
    return openmetrics.render(make_result(**kwargs), make_context(tmp_path))  # type: ignore[arg-type]


def _samples(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        if not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = value
    return out


def test_exposition_format(tmp_path: Path) -> None:
    text = _text(tmp_path, sections={"reconciliation": RECON})
    lines = text.splitlines()
    assert lines[-1] == "# EOF" and text.endswith("\n")
    families = [line.split()[2] for line in lines if line.startswith("# TYPE")]
    assert len(families) == len(set(families))
    for line in lines:
        if line.startswith("# TYPE"):
            assert line.endswith(" gauge")
        elif not line.startswith("#"):
            assert SAMPLE.match(line), line
    helps = {line.split()[2] for line in lines if line.startswith("# HELP")}
    assert helps == set(families)


def test_gate_state_and_findings(tmp_path: Path) -> None:
    samples = _samples(_text(tmp_path))
    assert samples["govgate_gate_passed"] == "0"
    assert samples['govgate_governance_state{state="red"}'] == "1"
    assert samples['govgate_governance_state{state="green"}'] == "0"
    assert samples['govgate_findings{severity="error"}'] == "3"
    assert samples["govgate_findings_blocking"] == "2"
    assert samples["govgate_findings_waived"] == "1"
    assert samples["govgate_evaluation_timestamp_seconds"] == "1795132800"


def test_last_successful_completion_from_the_reconciliation_windows(tmp_path: Path) -> None:
    samples = _samples(_text(tmp_path, sections={"reconciliation": RECON}))
    assert samples["govgate_last_successful_completion_timestamp_seconds"] == "1791786300.5"
    assert samples['govgate_reconcile_windows{status="MISSING"}'] == "1"
    explicit = {"last_successful_completion": "2026-10-05T06:25:00Z", "windows": []}
    samples = _samples(_text(tmp_path, sections={"reconciliation": explicit}))
    assert samples["govgate_last_successful_completion_timestamp_seconds"] == "1791181500"


def test_missing_sections_leave_their_families_out(tmp_path: Path) -> None:
    text = _text(tmp_path, findings=(DRIFT,))
    for name in ("last_successful_completion", "fatigue_signers", "open_promotes"):
        assert name not in text


def test_heatmap_counts_and_open_promotes(tmp_path: Path) -> None:
    sections = {
        "fatigue": {"heatmap": [{"signer_id": "alex", "classification": "red"},
                                {"signer_id": "bo", "classification": "green"},
                                {"signer_id": "cy", "classification": "red"}]},
        "promote": {"promotes": [
            {"owner_route": "publish_gate", "reverted_at_dt_utc": None, "reverted": False},
            {"owner_route": "faq_rewrite", "reverted_at_dt_utc": "2026-11-01T00:00:00Z",
             "reverted": True}]},
    }
    samples = _samples(_text(tmp_path, sections=sections))
    assert samples['govgate_fatigue_signers{classification="red"}'] == "2"
    assert samples['govgate_fatigue_signers{classification="amber"}'] == "0"
    assert samples["govgate_open_promotes"] == "1"
    assert samples['govgate_open_promotes_by_route{owner_route="publish_gate"}'] == "1"


def test_label_values_are_escaped() -> None:
    lines = openmetrics.family("x", "help", [({"owner_route": 'a"b\\c\nd'}, 1)])
    assert lines[-1] == 'govgate_x{owner_route="a\\"b\\\\c\\nd"} 1'
