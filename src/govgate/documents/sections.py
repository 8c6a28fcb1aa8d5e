"""Job-summary sections of ``govgate check`` (entries of the markdown reporter's
``SECTION_RENDERERS``): the fatigue heat-map picture and the backup promotes.

Each renderer gets one ``result.sections`` entry (JSON values) and returns markdown, or "" to
leave the section out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import md
from .picture import emoji_grid, grid_from_sections

if TYPE_CHECKING:
    from ..model import GateResult
    from ..reporters import ReportContext

__all__ = ["fatigue_section", "promote_section"]

_CLASSES = ("red", "amber", "recovering", "green")


def fatigue_section(section: Any, result: GateResult, context: ReportContext) -> str:
    """The heat-map at the last refresh: counts, snapshot hash, the 28-day emoji grid."""
    if not isinstance(section, dict) or not section.get("history"):
        return ""
    heatmap = section.get("heatmap") or {}
    counts = heatmap.get("classification_counts") or section.get("counts") or {}
    grid = grid_from_sections(section, result.sections.get("promote"))
    return "\n".join([
        "### Signer fatigue heat-map",
        "",
        f"Refresh {md.code(section.get('refresh'))}, snapshot hash "
        f"{md.code(md.short_hash(section.get('snapshot_hash')))} (in full in the appendix). "
        "The same picture as SVG: `heatmap.svg` in the output folder.",
        "",
        md.table(["red", "amber", "recovering", "green"],
                 [[counts.get(c, 0) for c in _CLASSES]]),
        "",
        emoji_grid(grid),
    ])


def promote_section(section: Any, result: GateResult, context: ReportContext) -> str:
    """Backup promotes with their trigger and duration, rung counts, open rung-2 pages."""
    if not isinstance(section, dict):
        return ""
    rungs = section.get("rungs") or {}
    promotes = section.get("promotes") or []
    pages = section.get("pages") or []
    lines = [
        "### Backup promotes and escalation",
        "",
        f"backup_owner_policy {md.code(section.get('policy_version') or 'none in force')}: "
        f"rung 1 promotes {rungs.get('rung1_promotes', 0)}, rung 2 pages "
        f"{rungs.get('rung2_pages', 0)}, rung 3 freeze gates {rungs.get('rung3_freeze_gates', 0)}.",
        "",
        md.table(["owner_route", "trigger_type", "promoted_signer", "promoted_at_dt_utc",
                  "reverted_at_dt_utc", "duration (days)"],
                 [(p.get("owner_route"), p.get("trigger_type"), p.get("promoted_signer"),
                   p.get("promoted_at_dt_utc"), p.get("reverted_at_dt_utc") or "open",
                   p.get("duration_days")) for p in promotes],
                 empty="No backup promotes."),
    ]
    unanswered = [p for p in pages if not p.get("answered")]
    if unanswered:
        lines += ["", "Rung-2 pages without a decision:", "",
                  md.table(["dedup_key", "at", "owner_route", "backup", "classification"],
                           [(p.get("dedup_key"), p.get("at"), p.get("owner_route"),
                             p.get("backup_signer"), p.get("classification"))
                            for p in unanswered])]
    signers = section.get("effective_signers") or {}
    if signers:
        lines += ["", "Who signs each route at as-of:", "",
                  md.table(["owner_route", "signer", "role"],
                           [(route, s.get("signer"), s.get("role"))
                            for route, s in sorted(signers.items())])]
    return "\n".join(lines)
