"""The job summary in GitHub-flavoured markdown, laid out for GitHub's article width (~1012 px).

The verdict and the governance state in one heading line; then every finding in a three-column
table (severity, rule and subject, message), the message whole with the input file and line
under it (a link to the file at the checked commit when the run is on GitHub); the pages; the
reconciliation weeks with the audit ids that changed each one; the detail sections; an appendix
with the full hashes that the main text shows as short prefixes; the artifacts.

Detail sections come from ``result.sections``: each entry of :data:`SECTION_RENDERERS` renders
one section when the result has it. A later renderer is one more function in that tuple;
sections without a renderer are left to the JSON result.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..documents import md
from ..documents.sections import fatigue_section, promote_section
from ..timeutil import format_instant
from .findings import (
    STATE_NOT_EVALUATED,
    counts,
    level,
    location_of,
    page_tally,
    page_text,
    source_url,
    state_shown,
)

if TYPE_CHECKING:
    from ..model import Finding, GateResult
    from . import ReportContext

#: Renders one ``result.sections`` entry as markdown (a heading and its body), or "" to skip.
SectionRenderer = Callable[[Any, "GateResult", "ReportContext"], str]

#: Above this many findings the table stops; the JSON result always has them all.
MAX_ROWS = 1000

MARK = {"error": "⛔ blocks", "warning": "⚠️ warning", "waived": "🏷️ waived", "note": "ℹ️ note"}
STATE = {"red": "🔴 red", "amber": "🟠 amber", "green": "🟢 green"}
STATUS = {"PASS": "✅ PASS", "FAIL": "❌ FAIL", "SKIPPED": "⏭️ SKIPPED", "MISSING": "❔ MISSING",
          "RUNNING": "⏳ RUNNING", "LATE": "⏳ LATE"}


def headline(result: GateResult) -> str:
    """The verdict in one line: what happens to publish, and the governance state."""
    shown = state_shown(result)
    state = STATE.get(shown, shown) if shown else STATE_NOT_EVALUATED
    if result.passed:
        return f"## ✅ govgate: publish may proceed · governance state {state}"
    return f"## ❌ govgate: publish is blocked · governance state {state}"


def tally(result: GateResult) -> str:
    n = counts(result)
    parts = [f"**{n['error']} blocking**"]
    parts += [f"{n[key]} {word}" for key, word in
              (("warning", "warnings" if n["warning"] != 1 else "warning"), ("waived", "waived"),
               ("note", "notes" if n["note"] != 1 else "note")) if n[key]]
    return (f"As of {md.code(format_instant(result.as_of))} · {n['total']} findings: "
            f"{', '.join(parts)}")


def where_cell(f: Finding, context: ReportContext) -> md.Markdown:
    """The finding's input file and line, linked on GitHub; empty when it names no file."""
    where = location_of(f, context)
    if not where.exact:
        return md.Markdown("")
    url = source_url(where, context)
    label = md.code(where.render(), in_table=True)
    return md.Markdown(f"[{label}]({url})" if url else label)


def message_cell(f: Finding, context: ReportContext) -> md.Markdown:
    """The message whole, then (on a line of its own) where it comes from and who acts."""
    parts = [md.cell(f.message)]
    if f.waived_by:
        parts.append(f"waived by {md.code(f.waived_by, in_table=True)}")
    extra = [p for p in (where_cell(f, context),
                         f"route {md.code(f.owner_route, in_table=True)}" if f.owner_route
                         else "") if p]
    if extra:
        parts.append(" · ".join(extra))
    return md.Markdown("<br>".join(parts))


def findings_table(result: GateResult, context: ReportContext) -> list[str]:
    if not result.findings:
        return ["No findings."]
    rows = [(MARK[level(f)],
             md.Markdown(f"{md.code(f.rule, in_table=True)}<br>{md.cell(f.subject)}"),
             message_cell(f, context))
            for f in result.findings[:MAX_ROWS]]
    lines = [md.table(["Severity", "Rule and subject", "Message"], rows)]
    hidden = len(result.findings) - MAX_ROWS
    if hidden > 0:
        lines += ["", f"{hidden} more findings are in `result.json`."]
    return lines


def _pages(result: GateResult) -> list[str]:
    if not result.pages:
        return []
    # A resolve closes the page of the same dedup key; it is not a new alarm, so the first
    # column says which event it is rather than repeating PagerDuty's severity.
    rows = [(_PAGE_EVENT.get(p.action, p.action) if p.action != "trigger"
             else f"{_PAGE_EVENT['trigger']} ({p.severity})", format_instant(p.at),
             md.Markdown(f"{md.cell(page_text(p))}<br>{md.code(p.dedup_key, in_table=True)}"))
            for p in result.pages]
    return ["### Pages", "", f"{page_tally(result.pages)} up to as-of, each delivered once; a "
            "resolve closes the page with the same dedup key (under each page).",
            "", md.table(["Event", "At", "Page"], rows)]


_PAGE_EVENT = {"trigger": "🔔 trigger", "resolve": "✅ resolve"}



def week_label(start: str) -> str:
    """A window start as its date when it starts at midnight UTC (the usual case)."""
    return start[:10] if start.endswith("T00:00:00Z") else start


def audit_ids(window: dict[str, Any], result: GateResult | None = None) -> md.Markdown:
    """What changed a week's standing, by id: skip reason, remediation evidence, override
    ``audit_id`` and the waivers of findings about its run."""
    parts = []
    if window.get("skip_reason"):
        parts.append(f"skip_reason {md.code(window['skip_reason'], in_table=True)}")
    parts += [f"evidence {md.code(e, in_table=True)}" for e in window.get("evidence_ids") or ()]
    parts += [f"override {md.code(a, in_table=True)}"
              for a in window.get("override_audit_ids") or ()]
    run = window.get("job_run_id")
    if result is not None and run:
        waivers = sorted({f.waived_by for f in result.findings
                          if f.waived_by and f.subject == run})
        parts += [f"waiver {md.code(w, in_table=True)}" for w in waivers]
    return md.Markdown("<br>".join(parts))


def ack_cell(window: dict[str, Any]) -> md.Markdown:
    eligibility = window.get("eligibility") or "not eligible"
    if window.get("status") == "LATE":
        eligibility = f"not counted yet: missed at {window.get('late_until')} unless it completes"
    acks = [f"{md.code(a.get('ack_id'), in_table=True)} by {md.cell(a.get('signer_id'))}"
            for a in window.get("acks") or ()]
    return md.Markdown("<br>".join([md.cell(eligibility), *acks]))


def _late_lines(windows: list[Any]) -> list[str]:
    late = [w for w in windows if isinstance(w, dict) and w.get("status") == "LATE"]
    lines = [f"Late, not counted yet: {md.text(w.get('job_run_id') or w.get('start_inclusive'))}"
             f" (due {md.code(w.get('scheduled_at'))}, missed at {md.code(w.get('late_until'))}"
             " unless it completes)." for w in late]
    return [*lines, ""] if lines else []


def reconciliation_section(section: Any, result: GateResult, context: ReportContext) -> str:
    """The scheduled weeks of lesson 166, one row each, with the ids that changed them."""
    windows = section.get("windows") if isinstance(section, dict) else None
    if not windows:
        return ""
    rows = [(week_label(str(w.get("start_inclusive"))), w.get("job_run_id") or "—",
             STATUS.get(str(w.get("status")), str(w.get("status"))), ack_cell(w),
             audit_ids(w, result))
            for w in windows]
    missed = section.get("missed_windows") or []
    return "\n".join([
        "### Reconciliation weeks", "",
        f"Policy {md.code(section.get('policy_version', ''))} · state "
        f"**{md.text(STATE.get(str(section.get('state')), section.get('state', '')))}**"
        + (f" · missed: {', '.join(md.code(m) for m in missed)}" if missed else ""), "",
        *_late_lines(windows),
        md.table(["Week of", "Run", "Status", "Ack eligibility and acks", "Audit ids"], rows),
    ])


#: ``(section name, renderer)`` in the order the summary shows them.
SECTION_RENDERERS: tuple[tuple[str, SectionRenderer], ...] = (
    ("reconciliation", reconciliation_section),
    ("fatigue", fatigue_section),
    ("promote", promote_section),
)


def hashes(result: GateResult) -> list[tuple[str, str]]:
    """(what, full SHA-256) for every hash the summary shortens."""
    out = []
    fatigue = result.sections.get("fatigue")
    if isinstance(fatigue, dict) and fatigue.get("snapshot_hash"):
        out.append((f"heat-map snapshot at {fatigue.get('refresh')}",
                    str(fatigue["snapshot_hash"])))
    recon = result.sections.get("reconciliation")
    for w in (recon.get("windows") or ()) if isinstance(recon, dict) else ():
        for side in ("leadership", "partner"):
            value = w.get(f"{side}_ingest_hash")
            if value:
                out.append((f"{w.get('job_run_id')} {side} ingest_hash", str(value)))
    return out


def _appendix(result: GateResult) -> list[str]:
    found = hashes(result)
    if not found:
        return []
    return ["### Appendix: full hashes", "",
            md.table(["What", "SHA-256"],
                     [(what, md.code(value, in_table=True)) for what, value in found])]


def _artifacts(result: GateResult) -> list[str]:
    lines = ["### Artifacts", "", "In the output folder (uploaded with the run):", "",
             "- `result.json`: the gate result, every finding",
             "- `manifest.json`: every input and output with its SHA-256 (`govgate verify`)",
             "- `report.html` (with `--format html`): the whole report as one page that "
             "opens offline"]
    lines += [f"- {md.code('artifacts/' + name)}" for name in sorted(result.artifacts)]
    return lines


def render(result: GateResult, context: ReportContext) -> str:
    lines = [headline(result), "", tally(result), "", "### Findings", "",
             *findings_table(result, context)]
    pages = _pages(result)
    if pages:
        lines += ["", *pages]
    for name, renderer in SECTION_RENDERERS:
        if name in result.sections:
            text = renderer(result.sections[name], result, context)
            if text:
                lines += ["", text]
    appendix = _appendix(result)
    if appendix:
        lines += ["", *appendix]
    lines += ["", *_artifacts(result)]
    return "\n".join(lines) + "\n"
