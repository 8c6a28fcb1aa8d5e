"""The monthly fatigue review as GitHub-flavoured markdown (data from
:func:`~govgate.documents.review.build_review`, the proposal and the what-ifs)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from . import md
from .picture import Grid, emoji_grid
from .proposal import Proposal
from .whatif import METRICS, Outcome

__all__ = ["render_review"]

_CLASSES = ("red", "amber", "recovering", "green")
_PRIORITY = {1: "1 · tired signer, hot dimension", 2: "2 · hot dimension",
             3: "3 · tired signer", 4: "4"}


def _value(value: object) -> str:
    """A structured diff value in one table cell."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def render_review(data: dict[str, Any], grid: Grid, proposal: Proposal | None,
                  outcomes: Sequence[Outcome], svg_name: str) -> str:
    """The whole review; sections appear in the lesson's order: input, discussion, output."""
    period = data["period"]
    first_last = " to ".join(md.code(x) for x in data["refreshes"]) or "none"
    status = " (the month is still open at the evaluation)" if period["open_at_evaluation"] else ""
    lines = [
        md.heading(1, f"Monthly fatigue review: {md.text(period['label'])}"),
        "",
        f"Evaluated at {md.code(period['evaluated_at'])}{status} with the same rules as the "
        f"gate: {data['refresh_count']} daily heat-map refreshes ({first_last}), "
        f"backup_owner_policy {md.code(data['policy_version_at_close'] or 'none')} in force at "
        "the close.",
        "",
        md.heading(2, "Findings: the lesson's common mistakes"),
        "",
        md.table(["#", "mistake", "finding"],
                 [(i + 1, f["title"], f["detail"]) for i, f in enumerate(data["findings"])],
                 empty="No common mistake shows in this month's data. Quiet months are when "
                       "structural changes are safe to roll out: review the proposal anyway."),
        "",
        md.heading(2, "Heat-map of the month"),
        "",
        emoji_grid(grid),
        "",
        f"The same grid as SVG: `{svg_name}` beside this review.",
        "",
        md.heading(2, "Per-signer month rollup"),
        "",
        md.table(["signer", "days red · amber · recovering · green",
                  "peak breached_count_14d", "peak pending_acks_now", "pending at close",
                  "class at close"],
                 [(s["signer_id"], " · ".join(str(s["days"][c]) for c in _CLASSES),
                   s["peak_breached_count_14d"], s["peak_pending_acks_now"],
                   s["pending_at_close"], s["class_at_close"] or "—") for s in data["signers"]],
                 empty="No heat-map refresh in this month (no signer_ack_event data)."),
    ]
    lines += _history(data)
    lines += _cross_reference(data["cross_reference"])
    lines += _whatif(outcomes)
    lines += _proposal(proposal)
    return "\n".join(lines) + "\n"


def _history(data: dict[str, Any]) -> list[str]:
    return [
        "",
        md.heading(2, "Promote history"),
        "",
        md.table(["promote_event_id<br>owner_route · trigger_type", "primary → promoted",
                  "promoted_at_dt_utc<br>reverted_at_dt_utc", "ended by", "duration (days)"],
                 [(md.Markdown(f"{md.cell(p['promote_event_id'])}<br>"
                               f"{md.cell(p['owner_route'])} · {md.cell(p['trigger_type'])}"),
                   f"{p.get('primary_signer', '')} → {p['promoted_signer']}",
                   md.Markdown(f"{md.cell(p['promoted_at_dt_utc'])}<br>"
                               f"{md.cell(p['reverted_at_dt_utc'] or 'open')}"),
                   p.get("revert_kind") or "—", p["duration_days"]) for p in data["promotes"]],
                 empty="No backup promote was in effect this month."),
        "",
        md.heading(3, "Forced reverts"),
        "",
        md.table(["forced_revert_event_id", "owner_route", "promote_event_id",
                  "reverted_at_dt_utc", "by", "reason"],
                 [(f["forced_revert_event_id"], f["owner_route"], f["promote_event_id"],
                   f["reverted_at_dt_utc"], f["by"], f["reason"]) for f in data["forced_reverts"]],
                 empty="No forced revert this month."),
        "",
        md.heading(3, "Rung-2 pages"),
        "",
        md.table(["dedup_key", "at", "owner_route", "backup", "classification", "answered"],
                 [(p["dedup_key"], p["at"], p["owner_route"], p["backup_signer"],
                   p.get("classification") or "", "yes" if p.get("answered") else "no")
                  for p in data["pages"]],
                 empty="No rung-2 page this month."),
        "",
        md.heading(3, "Tertiary backups used"),
        "",
        md.table(["owner_route", "tertiary_signer", "decided_at", "promote_event_id"],
                 [(d["owner_route"], d["tertiary_signer"], d["decided_at"],
                   d["promote_event_id"]) for d in data["tertiary_used"]],
                 empty="No tertiary backup was used this month."),
        "",
        md.heading(3, "Freeze gates (rung 3)"),
        "",
        md.table(["promote_event_id", "owner_route", "decided_by", "decided_at", "cert windows",
                  "lifted_at"],
                 [(d["promote_event_id"], d["owner_route"], d["decided_by"], d["decided_at"],
                   ", ".join(d.get("cert_window_ids") or ()) or "none active",
                   d.get("lifted_at") or "not lifted") for d in data["freeze_gates"]],
                 empty="No freeze gate was invoked this month."),
    ]


def _cross_reference(xref: dict[str, Any]) -> list[str]:
    lines = ["", md.heading(2, "Cross-reference: deficiency trend board"), ""]
    if xref["board_as_of"] is None:
        lines += ["No deficiency trend board export is configured "
                  "(`fatigue.deficiency_trend_board`), or it has no snapshot by the close: the "
                  "signers below cannot be prioritised by hot dimensions.", ""]
    else:
        lines += [f"Board snapshot {md.code(xref['board_as_of'])}, {xref['dimensions']} "
                  "dimensions. A tired signer (red or amber on some day of the month) guarding "
                  "a hot dimension (`hot` or `structural_red`) is the first backup-promote "
                  "candidate and is listed first.", ""]
    lines.append(md.table(
        ["priority", "owner_route", "signer (role)", "red/amber days, class at close",
         "hot dimensions", "dimensions (trend)"],
        [(_PRIORITY[r["priority"]], r["owner_route"], f"{r['signer_id']} ({r['role']})",
          f"{r['red_amber_days']}, {r['class_at_close'] or '—'}", ", ".join(r["hot_dimensions"]),
          ", ".join(f"{d['dimension_id']} ({d['trend']})" for d in r["dimensions"]))
         for r in xref["rows"]],
        empty="No route to cross-reference (no backup_owner_policy in force)."))
    return lines


def _whatif(outcomes: Sequence[Outcome]) -> list[str]:
    if len(outcomes) < 2:
        return []
    headers = ["", *(f"{o.label} ({' → '.join(o.versions) or 'none'})" for o in outcomes)]
    rows = [(label, *(o.counts[key] for o in outcomes)) for key, label in METRICS]
    return ["", md.heading(2, "What-if: the month under each policy"), "",
            "Each column replays the month through the same rules as the gate, with that policy "
            "in force from the month's first instant. Lower the thresholds until the system "
            "actually promotes on `heatmap_red`.", "",
            md.table([md.text(h) for h in headers], rows)]


def _proposal(proposal: Proposal | None) -> list[str]:
    lines = ["", md.heading(2, "Proposed backup_owner_policy"), ""]
    if proposal is None:
        return [*lines, "No backup_owner_policy is in force at the close: nothing to bump."]
    if proposal.version is None:
        lines.append(f"No structural change to version {md.code(proposal.base_version)} is "
                     "proposed this month.")
    else:
        lines += [f"Minor bump {md.code(proposal.base_version)} → {md.code(proposal.version)}, "
                  f"written to `{proposal.file_name}` (validated against the policy schema, "
                  "unsigned until the team lead approves it; rollout at its "
                  "`approved_dt_utc`).", ""]
        lines += md.bullets(md.text(r) for r in proposal.reasons)
        lines += ["", md.table(["owner_route", "field", "before", "after"],
                               [(c.owner_route or "(policy)", c.field, _value(c.before),
                                 _value(c.after)) for c in proposal.changes]),
                  "", md.fence(proposal.yaml_diff, "diff")]
    if proposal.decisions:
        lines += ["", "Decisions for the team lead:", ""]
        lines += md.bullets(md.text(d) for d in proposal.decisions)
    lines += ["", md.heading(3, "backup_owner_policy_history"), "",
              md.table(["policy_version", "status", "approved_dt_utc<br>approved_by",
                        "signed_ack", "previous_version", "changes"],
                       [(h["policy_version"], h.get("status", "approved"),
                         md.Markdown(f"{md.cell(h['approved_dt_utc'])}<br>by "
                                     f"{md.cell(h['approved_by'])}"),
                         h["signed_ack"], h["previous_version"] or "—",
                         "; ".join(f"{c['owner_route'] or '(policy)'} {c['field']}"
                                   for c in h["changes"]) or "—")
                        for h in proposal.history])]
    return lines
