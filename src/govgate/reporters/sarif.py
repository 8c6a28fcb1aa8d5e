"""SARIF 2.1.0 for code scanning: one rule per rule id, one result per finding.

Locations are relative to the configuration's folder (``uriBaseId`` ``%SRCROOT%``), which is the
repository root in the usual layout. Notes (info findings) are evidence, not alerts, and are
left out; waived findings stay in, with an external suppression naming the waiver.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from .. import __version__
from ..jsontext import pretty
from ..timeutil import format_instant
from .findings import by_importance, family, level, location_of, rule_help, verdict

if TYPE_CHECKING:
    from ..model import Finding, GateResult
    from . import ReportContext

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
#: ``partialFingerprints`` key: bumped if the fingerprint's recipe ever changes.
FINGERPRINT_KEY = "govgateFinding/v1"

_LEVELS = {"error": "error", "warning": "warning", "waived": "error", "note": "note"}


def fingerprint(finding: Finding) -> str:
    """Stable across runs for the same rule and subject, so code scanning tracks one alert."""
    return hashlib.sha256(f"{finding.rule}\x00{finding.subject}".encode()).hexdigest()


def _rule(rule: str, findings: list[Finding]) -> dict[str, Any]:
    worst = "error" if any(f.severity.value == "error" for f in findings) else "warning"
    text = rule_help(rule)
    return {
        "id": rule,
        "name": "".join(part.capitalize() for part in rule.replace("-", ".").split(".")),
        "shortDescription": {"text": rule},
        "fullDescription": {"text": text},
        "help": {"text": text, "markdown": f"**{rule}**: {text}"},
        "defaultConfiguration": {"level": worst},
        "properties": {"tags": ["govgate", family(rule)]},
    }


def _location(finding: Finding, context: ReportContext) -> dict[str, Any]:
    where = location_of(finding, context)
    artifact: dict[str, Any]
    if where.path.startswith("/"):
        # An input outside the repository (sources.allow_outside): an absolute file URI
        # carries no base id, since resolving it against the source root would name another
        # file.
        artifact = {"uri": "file://" + where.uri()}
    else:
        artifact = {"uri": where.uri(), "uriBaseId": SRCROOT}
    physical: dict[str, Any] = {"artifactLocation": artifact}
    if where.line is not None:
        physical["region"] = {"startLine": where.line}
    location: dict[str, Any] = {"physicalLocation": physical}
    if not where.exact:
        location["message"] = {"text": "the finding names no input file; the configuration "
                                       "names the inputs of this rule"}
    return location


def _result(finding: Finding, index: int, context: ReportContext) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "subject": finding.subject,
        "severity": finding.severity.value,
        "blocking": finding.blocking,
    }
    if finding.owner_route:
        properties["owner_route"] = finding.owner_route
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": index,
        "level": _LEVELS[level(finding)],
        "message": {"text": f"{finding.subject}: {finding.message}"},
        "locations": [_location(finding, context)],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(finding)},
        "properties": properties,
    }
    if finding.waived_by is not None:
        result["suppressions"] = [{
            "kind": "external",
            "status": "accepted",
            "justification": f"waived by {finding.waived_by}",
        }]
    return result


def sarif_document(result: GateResult, context: ReportContext) -> dict[str, Any]:
    """The SARIF log as a JSON value."""
    shown = [f for f in by_importance(result.findings) if level(f) != "note"]
    by_rule: dict[str, list[Finding]] = {}
    for f in shown:
        by_rule.setdefault(f.rule, []).append(f)
    rule_ids = sorted(by_rule)
    index = {rule: i for i, rule in enumerate(rule_ids)}
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "govgate",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [_rule(rule, by_rule[rule]) for rule in rule_ids],
            }},
            "automationDetails": {"id": "govgate/"},
            "originalUriBaseIds": {SRCROOT: {
                "description": {"text": "the folder of the govgate configuration file"}}},
            "invocations": [{
                "executionSuccessful": True,
                "properties": {"as_of": format_instant(result.as_of), "gate": verdict(result),
                               "state": result.state.value},
            }],
            "results": [_result(f, index[f.rule], context) for f in shown],
        }],
    }


def render(result: GateResult, context: ReportContext) -> str:
    return pretty(sarif_document(result, context), sort_keys=True) + "\n"
