"""JUnit XML: a suite per rule family, a case per rule and subject, and the gate case."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

from tests.support.results import BLOCKING, DRIFT, make_context, make_result

from govgate.model import Finding, Severity
from govgate.reporters import junit


def _tree(tmp_path: Path, **kwargs: object) -> ET.Element:
    return ET.fromstring(junit.render(make_result(**kwargs), make_context(tmp_path)))  # type: ignore[arg-type]


def _case(root: ET.Element, name: str) -> ET.Element:
    found = [c for c in root.iter("testcase") if c.get("name") == name]
    assert len(found) == 1, name
    return found[0]


def test_suites_per_family_and_counts_match_the_cases(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert list(suites) == ["govgate.gate", "govgate.fatigue", "govgate.reconcile"]
    for suite in suites.values():
        cases = suite.findall("testcase")
        assert suite.get("tests") == str(len(cases))
        assert suite.get("failures") == str(sum(1 for c in cases if c.find("failure") is not None))
        assert suite.get("skipped") == str(sum(1 for c in cases if c.find("skipped") is not None))
        assert suite.get("errors") == "0"
    assert root.get("tests") == str(len(list(root.iter("testcase"))))
    assert root.get("skipped") is None  # junit-10.xsd has no skipped on <testsuites>


def test_blocking_findings_fail_their_case_with_the_location(tmp_path: Path) -> None:
    failure = _case(_tree(tmp_path), "reconcile.state[governance]").find("failure")
    assert failure is not None
    assert failure.get("type") == "reconcile.state"
    assert failure.get("message") == BLOCKING.message
    assert "scheduler_runs.csv:8" in (failure.text or "")


def test_waived_findings_are_skipped_with_the_waiver(tmp_path: Path) -> None:
    skipped = _case(_tree(tmp_path), "reconcile.ack-refused[ack-7]").find("skipped")
    assert skipped is not None
    assert skipped.get("message") == "waived by AUD-2026-114"


def test_warnings_pass_and_keep_their_text(tmp_path: Path) -> None:
    case = _case(_tree(tmp_path), "reconcile.epsilon[tickets_p95]")
    assert case.find("failure") is None and case.find("skipped") is None
    assert DRIFT.message in (case.findtext("system-out") or "")


def test_the_gate_case_carries_the_verdict(tmp_path: Path) -> None:
    blocked = _case(_tree(tmp_path), "gate")
    assert blocked.find("failure") is not None
    passed = _case(_tree(tmp_path, findings=(DRIFT,)), "gate")
    assert passed.find("failure") is None


def test_one_case_per_rule_and_subject(tmp_path: Path) -> None:
    twice = (Finding("reconcile.inputs", "r1", Severity.WARNING, "first"),
             Finding("reconcile.inputs", "r1", Severity.ERROR, "second"))
    case = _case(_tree(tmp_path, findings=twice), "reconcile.inputs[r1]")
    text = case.find("failure").text or ""  # type: ignore[union-attr]
    assert "first" in text and "second" in text


def test_control_characters_cannot_break_the_xml(tmp_path: Path) -> None:
    hostile = Finding("reconcile.inputs", "r\x01", Severity.ERROR, "bad \x1b[31m <tag> & \"q\"")
    root = _tree(tmp_path, findings=(hostile,))
    failure = _case(root, "reconcile.inputs[r ]").find("failure")
    assert failure is not None
    assert failure.get("message") == 'bad  [31m <tag> & "q"'
