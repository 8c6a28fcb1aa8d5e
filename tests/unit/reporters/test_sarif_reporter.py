"""SARIF 2.1.0: schema-valid, rules with help, results located in the input files."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from tests.support.results import (
    BLOCKING,
    DRIFT,
    NO_FILE,
    NOTE,
    WAIVED,
    make_context,
    make_result,
)

from govgate.model import Finding, Location, Severity
from govgate.reporters import sarif

SCHEMA = Path(__file__).resolve().parents[4] / "shared" / "schemas" / "sarif-2.1.0.schema.json"


def _log(tmp_path: Path, findings: tuple[Finding, ...] | None = None) -> dict:
    result = make_result() if findings is None else make_result(findings)
    return json.loads(sarif.render(result, make_context(tmp_path)))


def _results_by_rule(log: dict) -> dict[str, dict]:
    return {r["ruleId"]: r for r in log["runs"][0]["results"]}


@pytest.mark.skipif(not SCHEMA.is_file(), reason="the shared SARIF schema is not beside the repo")
def test_validates_against_the_oasis_schema(tmp_path: Path) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(_log(tmp_path))


def test_rules_have_ids_and_help_and_results_point_at_their_rule(tmp_path: Path) -> None:
    log = _log(tmp_path)
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == sorted(r["id"] for r in rules)
    for rule in rules:
        assert rule["help"]["text"] and rule["fullDescription"]["text"]
    for result in log["runs"][0]["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    assert "epsilon" in next(r for r in rules if r["id"] == "reconcile.epsilon")["help"]["text"]


def test_locations_are_relative_to_the_source_root_with_lines(tmp_path: Path) -> None:
    results = _results_by_rule(_log(tmp_path))
    physical = results["reconcile.epsilon"]["locations"][0]["physicalLocation"]
    assert physical == {
        "artifactLocation": {"uri": "jobs/recon-2026-W47/partner_annex.json",
                             "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": DRIFT.location.line},  # type: ignore[union-attr]
    }
    assert results["reconcile.state"]["level"] == "error"
    assert results["reconcile.epsilon"]["level"] == "warning"


def test_a_finding_without_a_file_points_at_the_configuration(tmp_path: Path) -> None:
    location = _results_by_rule(_log(tmp_path))["fatigue.signer"]["locations"][0]
    assert location["physicalLocation"]["artifactLocation"] == {
        "uri": "govgate.yaml", "uriBaseId": "%SRCROOT%"}
    assert "region" not in location["physicalLocation"]


def test_waived_findings_stay_with_a_suppression(tmp_path: Path) -> None:
    waived = _results_by_rule(_log(tmp_path))["reconcile.ack-refused"]
    assert waived["suppressions"] == [{"kind": "external", "status": "accepted",
                                       "justification": "waived by AUD-2026-114"}]


def test_notes_are_evidence_not_alerts(tmp_path: Path) -> None:
    assert NOTE.rule not in _results_by_rule(_log(tmp_path))


def test_paths_are_uri_references(tmp_path: Path) -> None:
    odd = Finding("reconcile.inputs", "r", Severity.WARNING, "m",
                  location=Location("./exports/my file#1.json", 2))
    uri = _log(tmp_path, (odd,))["runs"][0]["results"][0]["locations"][0][
        "physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "exports/my%20file%231.json"


def test_fingerprints_are_stable_per_rule_and_subject(tmp_path: Path) -> None:
    first = _results_by_rule(_log(tmp_path))
    moved = Finding(BLOCKING.rule, BLOCKING.subject, BLOCKING.severity, "other words")
    second = _results_by_rule(_log(tmp_path, (moved, DRIFT, WAIVED, NO_FILE)))
    assert (first["reconcile.state"]["partialFingerprints"]
            == second["reconcile.state"]["partialFingerprints"])


def test_output_is_deterministic(tmp_path: Path) -> None:
    context = make_context(tmp_path)
    assert sarif.render(make_result(), context) == sarif.render(make_result(), context)
