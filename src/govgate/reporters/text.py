"""The terminal report: verdict first, then one table row per finding."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..timeutil import format_instant

if TYPE_CHECKING:
    from ..model import GateResult
    from . import ReportContext

MAX_MESSAGE = 110


def _late(result: GateResult) -> list[str]:
    """Late windows on a line of their own: a run in progress is news, not a finding row."""
    recon = result.sections.get("reconciliation")
    windows = recon.get("windows") if isinstance(recon, dict) else None
    late = [w for w in windows or () if isinstance(w, dict) and w.get("status") == "LATE"]
    return [f"late (not counted yet): {w.get('job_run_id') or w.get('start_inclusive')} due "
            f"{w.get('scheduled_at')}, missed at {w.get('late_until')} unless it completes"
            for w in late] + ([""] if late else [])


def render(result: GateResult, context: ReportContext) -> str:
    from tabulate import tabulate

    verdict = "PASS" if result.passed else "BLOCKED"
    lines = [
        f"govgate gate: {verdict}   governance state: {result.state.value}   "
        f"as of {format_instant(result.as_of)}",
        "",
    ]
    lines += _late(result)
    rows = []
    for f in result.findings:
        message = f.message if len(f.message) <= MAX_MESSAGE else f.message[:MAX_MESSAGE - 1] + "…"
        mark = "waived" if f.waived_by else ("BLOCKS" if f.blocking else "")
        rows.append([f.severity.value, mark, f.rule, f.subject, f.owner_route or "", message])
    if rows:
        lines.append(tabulate(rows, headers=["severity", "", "rule", "subject", "owner_route",
                                             "reason"], tablefmt="simple"))
    else:
        lines.append("no findings")
    if result.pages:
        lines += ["", "pages raised up to as-of (each delivered once):"]
        lines += [f"  {p.dedup_key}: {p.summary}" for p in result.pages]
    blocking = len(result.blocking)
    lines += ["", f"{len(result.findings)} findings, {blocking} blocking; "
                  f"results in {context.display_output}"]
    return "\n".join(lines) + "\n"
