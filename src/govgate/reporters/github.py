"""GitHub Actions workflow-command annotations for the most important findings.

GitHub shows at most 10 error and 10 warning annotations per step, so only the most important
findings get one (blocking first), each pointing at the input file and line that caused it;
when there are more, the last annotation of that level says how many more the job summary has.
Waived findings become notices: counted and shown, never hidden.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from .findings import STATE_NOT_EVALUATED, by_importance, level, location_of, state_shown

if TYPE_CHECKING:
    from ..model import Finding, GateResult
    from . import ReportContext

#: GitHub's per-step display limit for each of error, warning and notice.
MAX_PER_LEVEL = 10

_COMMAND = {"error": "error", "warning": "warning", "waived": "notice"}


def escape_data(text: str) -> str:
    """Escape a command's message (the runner decodes ``%25``, ``%0D``, ``%0A``)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a command property value (also ``:`` and ``,``, which delimit properties)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **properties: str | int | None) -> str:
    """One workflow command line, e.g. ``::error file=a.csv,line=3,title=T::message``."""
    props = ",".join(f"{key}={escape_property(str(value))}"
                     for key, value in properties.items() if value is not None)
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def annotation(finding: Finding, context: ReportContext, prefix: str = "") -> str:
    """The annotation of one finding; ``prefix`` is the configuration's folder in the
    repository (empty when the configuration sits at the repository root)."""
    where = location_of(finding, context)
    name = _COMMAND[level(finding)]
    message = finding.message
    if finding.waived_by is not None:
        message = f"waived by {finding.waived_by}: {message}"
    if not where.exact:
        message += " (no input file is named; see the job summary)"
    return command(name, message,
                   file=(prefix.rstrip("/") + "/" + where.path) if prefix else where.path,
                   line=where.line,
                   title=f"govgate {finding.rule} ({finding.subject})")


def annotation_lines(findings: Iterable[Finding], context: ReportContext,
                prefix: str = "") -> list[str]:
    """Annotations for the most important findings, at most MAX_PER_LEVEL per level."""
    by_level: dict[str, list[Finding]] = {}
    for f in by_importance(findings):
        if level(f) in _COMMAND:
            by_level.setdefault(level(f), []).append(f)
    lines: list[str] = []
    for key in ("error", "warning", "waived"):
        group = by_level.get(key, [])
        shown = group if len(group) <= MAX_PER_LEVEL else group[:MAX_PER_LEVEL - 1]
        lines += [annotation(f, context, prefix) for f in shown]
        if len(shown) < len(group):
            more = len(group) - len(shown)
            noun = {"error": "blocking findings", "warning": "warnings",
                    "waived": "waived findings"}[key]
            lines.append(command(_COMMAND[key], f"{more} more {noun}: see the job summary",
                                 title="govgate"))
    return lines


def render(result: GateResult, context: ReportContext) -> str:
    lines = annotation_lines(result.findings, context)
    verdict = "passed" if result.passed else "is BLOCKED"
    state = state_shown(result) or STATE_NOT_EVALUATED
    lines.append(f"govgate: the gate {verdict} (governance state {state}, "
                 f"{len(result.findings)} findings, {len(result.blocking)} blocking)")
    return "\n".join(lines) + "\n"
