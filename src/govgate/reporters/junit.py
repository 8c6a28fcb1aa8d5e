"""JUnit XML for CI dashboards: a test suite per rule family, a test case per rule and subject.

A case fails when one of its findings blocks the gate, is skipped (with the waiver in the
message) when its findings are waived, and passes otherwise; warnings and notes go to the
case's ``system-out``. A ``govgate.gate`` suite holds one case for the verdict itself, so a
dashboard can never lose it. The dialect is Jenkins' ``junit-10.xsd``, which pytest also writes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from xml.etree import ElementTree as ET

from ..timeutil import format_instant
from .findings import family, level, location_of, verdict

if TYPE_CHECKING:
    from ..model import Finding, GateResult
    from . import ReportContext

_CONTROL = {c: " " for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F)}


def _xml_text(text: str) -> str:
    """XML 1.0 cannot carry most control characters, even escaped."""
    return text.translate(_CONTROL)


def _line(finding: Finding, context: ReportContext) -> str:
    mark = ("BLOCKS" if finding.blocking else
            f"waived by {finding.waived_by}" if finding.waived_by else finding.severity.value)
    where = location_of(finding, context)
    owner = f" [owner_route {finding.owner_route}]" if finding.owner_route else ""
    return f"{finding.rule} [{mark}] {finding.message}{owner} ({where.render()})"


def _case(suite: ET.Element, name: str, classname: str, findings: list[Finding],
          context: ReportContext) -> str:
    """Add one case; returns its outcome: ``failure``, ``skipped`` or ``passed``."""
    case = ET.SubElement(suite, "testcase", {"name": _xml_text(name),
                                             "classname": _xml_text(classname),
                                             "time": "0"})
    blocking = [f for f in findings if f.blocking]
    waived = [f for f in findings if f.waived_by is not None]
    lines = [_xml_text(_line(f, context)) for f in findings]
    outcome = "passed"
    if blocking:
        first = blocking[0]
        failure = ET.SubElement(case, "failure", {"type": _xml_text(first.rule),
                                                  "message": _xml_text(first.message)})
        failure.text = "\n".join(lines) + "\n"
        outcome = "failure"
    elif waived and len(waived) == len(findings):
        reasons = "; ".join(f"waived by {f.waived_by}" for f in waived)
        skipped = ET.SubElement(case, "skipped", {"type": "waived",
                                                  "message": _xml_text(reasons)})
        skipped.text = "\n".join(lines) + "\n"
        outcome = "skipped"
    if outcome != "failure" and lines:
        ET.SubElement(case, "system-out").text = "\n".join(lines) + "\n"
    return outcome


def _suite(parent: ET.Element, name: str, result: GateResult) -> ET.Element:
    suite = ET.SubElement(parent, "testsuite", {"name": _xml_text(name), "timestamp":
                                                format_instant(result.as_of), "time": "0"})
    return suite


def _count(suite: ET.Element, outcomes: list[str]) -> None:
    suite.set("tests", str(len(outcomes)))
    suite.set("failures", str(outcomes.count("failure")))
    suite.set("errors", "0")
    suite.set("skipped", str(outcomes.count("skipped")))


def junit_tree(result: GateResult, context: ReportContext) -> ET.Element:
    """The ``<testsuites>`` element."""
    root = ET.Element("testsuites", {"name": "govgate", "time": "0"})
    groups: dict[str, dict[tuple[str, str], list[Finding]]] = {}
    for f in result.findings:
        groups.setdefault(family(f.rule), {}).setdefault((f.rule, f.subject), []).append(f)
    totals: list[str] = []

    gate = _suite(root, "govgate.gate", result)
    props = ET.SubElement(gate, "properties")
    for key, value in (("as_of", format_instant(result.as_of)), ("gate", verdict(result)),
                       ("state", result.state.value)):
        ET.SubElement(props, "property", {"name": key, "value": value})
    case = ET.SubElement(gate, "testcase", {"name": "gate", "classname": "govgate.gate",
                                            "time": "0"})
    blocking = result.blocking
    summary = (f"gate {verdict(result)}, governance state {result.state.value}, "
               f"{len(result.findings)} findings, {len(blocking)} blocking, "
               f"{sum(1 for f in result.findings if level(f) == 'waived')} waived")
    if not result.passed:
        failure = ET.SubElement(case, "failure", {"type": "gate", "message": summary})
        failure.text = "".join(_xml_text(_line(f, context)) + "\n" for f in blocking) or (
            "the gate decided to block\n")
    else:
        ET.SubElement(case, "system-out").text = summary + "\n"
    _count(gate, ["passed" if result.passed else "failure"])
    totals.append("passed" if result.passed else "failure")

    for name in sorted(groups):
        suite = _suite(root, f"govgate.{name}", result)
        outcomes = [
            _case(suite, f"{rule}[{subject}]", f"govgate.{name}", findings, context)
            for (rule, subject), findings in sorted(groups[name].items())
        ]
        _count(suite, outcomes)
        totals.extend(outcomes)
    root.set("tests", str(len(totals)))
    root.set("failures", str(totals.count("failure")))
    root.set("errors", "0")
    return root


def render(result: GateResult, context: ReportContext) -> str:
    root = junit_tree(result, context)
    ET.indent(root)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            + ET.tostring(root, encoding="unicode") + "\n")
