"""The job summary in GitHub-flavoured markdown: verdict first, then every finding, then detail.

Detail sections come from ``result.sections``: each entry of :data:`SECTION_RENDERERS` renders
one section when the result has it. A later renderer (heat-map picture, readback) is one more
function in that tuple; sections without a renderer are left to the JSON result.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..documents.sections import fatigue_section, promote_section
from ..textsafe import md_cell
from ..timeutil import format_instant
from .findings import counts, level, location_of

if TYPE_CHECKING:
    from ..model import GateResult
    from . import ReportContext

#: Renders one ``result.sections`` entry as markdown (a heading and its body), or "" to skip.
SectionRenderer = Callable[[Any, "GateResult", "ReportContext"], str]

#: Above this many findings the table stops; the JSON result always has them all.
MAX_ROWS = 1000

_MARK = {"error": "⛔ blocks", "warning": "⚠️ warning", "waived": "🏷️ waived", "note": "ℹ️ note"}
_STATE = {"red": "🔴 red", "amber": "🟠 amber", "green": "🟢 green"}


def _row(*cells: object) -> str:
    return "| " + " | ".join(md_cell(c) for c in cells) + " |"


def _findings(result: GateResult, context: ReportContext) -> list[str]:
    if not result.findings:
        return ["No findings."]
    lines = ["| | severity | rule | subject | owner_route | location | message |",
             "|---|---|---|---|---|---|---|"]
    for f in result.findings[:MAX_ROWS]:
        where = location_of(f, context)
        message = f.message + (f" (waived by {f.waived_by})" if f.waived_by else "")
        lines.append(_row(_MARK[level(f)], f.severity.value, f.rule, f.subject,
                          f.owner_route or "", where.render() if where.exact else "", message))
    hidden = len(result.findings) - MAX_ROWS
    if hidden > 0:
        lines += ["", f"{hidden} more findings are in `result.json`."]
    return lines


def _pages(result: GateResult) -> list[str]:
    if not result.pages:
        return []
    lines = ["### Pages", "", "| dedup_key | severity | at | summary |", "|---|---|---|---|"]
    lines += [_row(p.dedup_key, p.severity, format_instant(p.at), p.summary)
              for p in result.pages]
    return lines


def _late_lines(windows: list[Any]) -> list[str]:
    late = [w for w in windows if isinstance(w, dict) and w.get("status") == "LATE"]
    lines = [f"Late, not counted yet: {md_cell(w.get('job_run_id') or w.get('start_inclusive'))}"
             f" (due {md_cell(w.get('scheduled_at'))}, missed at {md_cell(w.get('late_until'))}"
             " unless it completes)." for w in late]
    return [*lines, ""] if lines else []


def reconciliation_section(section: Any, result: GateResult, context: ReportContext) -> str:
    """The scheduled windows of lesson 166 with their status and ack eligibility."""
    windows = section.get("windows") if isinstance(section, dict) else None
    if not windows:
        return ""
    lines = ["### Reconciliation windows", "",
             f"Policy {md_cell(section.get('policy_version', ''))}, state "
             f"{md_cell(section.get('state', ''))}.", "",
             *_late_lines(windows),
             "| # | window start | job_run_id | status | skip_reason | eligibility |",
             "|---|---|---|---|---|---|"]
    for w in windows:
        lines.append(_row(w.get("index"), w.get("start_inclusive"), w.get("job_run_id") or "—",
                          w.get("status"), w.get("skip_reason") or "",
                          w.get("eligibility") or "not eligible"))
    return "\n".join(lines)


#: ``(section name, renderer)`` in the order the summary shows them.
SECTION_RENDERERS: tuple[tuple[str, SectionRenderer], ...] = (
    ("reconciliation", reconciliation_section),
    ("fatigue", fatigue_section),
    ("promote", promote_section),
)


def _artifacts(result: GateResult) -> list[str]:
    lines = ["### Artifacts", "", "In the output folder (uploaded with the run):", "",
             "- `result.json`: the gate result, every finding"]
    lines += [f"- `artifacts/{md_cell(name)}`" for name in sorted(result.artifacts)]
    return lines


def render(result: GateResult, context: ReportContext) -> str:
    n = counts(result)
    verdict = "✅ gate passed" if result.passed else "❌ gate blocked"
    state = _STATE.get(result.state.value, result.state.value)
    lines = [
        f"## govgate: {verdict}",
        "",
        f"**Governance state: {state}** · as of `{format_instant(result.as_of)}` · "
        f"{n['total']} findings: {n['error']} blocking, {n['warning']} warnings, "
        f"{n['waived']} waived, {n['note']} notes",
        "",
        *_findings(result, context),
    ]
    pages = _pages(result)
    if pages:
        lines += ["", *pages]
    for name, renderer in SECTION_RENDERERS:
        if name in result.sections:
            text = renderer(result.sections[name], result, context)
            if text:
                lines += ["", text]
    lines += ["", *_artifacts(result)]
    return "\n".join(lines) + "\n"
