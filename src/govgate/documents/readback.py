"""The partner readback packet: lesson 174's fatigue section beside lesson 166's reconciliation.

``Signer Route Fatigue and Backup Owner Promote Exercise History`` follows the lesson's template
field by field: reporting window, policy version at window open and close, the backup promotes
table (route, trigger, promoted to, duration, reverted), the rung 1/2/3 counts with each rung-3
freeze gate linked to its ledger record, the four-row heat-map snapshot at window close and its
SHA-256. The reconciliation section lists every scheduled week of the window with its
``job_run_id``, ``epsilon_policy_version``, both ``ingest_hash`` values, status and ack state, so
a replay can prove both inputs existed for each acked week. When the state at close is red (or
an addendum finding exists) the executive readback addendum names the missed windows and the
partner comms that carried unreconciled numbers.

Freeze-gate links point at the append-only ledger (``govgate check`` appends the record under
its key, ``freeze_gate:<promote_event_id>:<stamp>``), relative to the output folder; the JSON
sidecar carries the records themselves.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..timeutil import format_instant, parse_instant
from . import md
from .periods import Period
from .snapshots import Snapshot

__all__ = ["SECTION_TITLE", "build_readback", "render_readback"]

SECTION_TITLE = "Signer Route Fatigue and Backup Owner Promote Exercise History"
_CLASSES = ("red", "amber", "recovering", "green")


def _in(period: Period, closed_at: datetime, instant: str | None) -> bool:
    """Whether a section instant falls in the period and is already known at its close."""
    if not instant:
        return False
    at = parse_instant(instant)
    return period.start <= at < period.end and at <= closed_at


def build_readback(period: Period, opened: Snapshot, closed: Snapshot,
                   ledger_link: str | None) -> dict[str, Any]:
    """The packet's data (JSON values only); :func:`render_readback` turns it into markdown."""
    close = format_instant(closed.at)
    promote = closed.section("promote")
    fatigue = closed.section("fatigue")
    promotes = [p for p in promote.get("promotes", ())
                if _in(period, closed.at, p.get("promoted_at_dt_utc"))]
    pages = [p for p in promote.get("pages", ()) if _in(period, closed.at, p.get("at"))]
    gates = [r for r in closed.result.records
             if r.kind == "freeze_gate" and period.contains(r.at) and r.at <= closed.at]
    decisions = {(d["promote_event_id"], d["decided_at"]): d for d in promote.get("decisions", ())
                 if d.get("option") == "freeze_gate"}
    heatmap = fatigue.get("heatmap") or {}
    counts = heatmap.get("classification_counts") or fatigue.get("counts")
    return {
        "kind": "partner_readback",
        "period": {"label": period.label, "start": format_instant(period.start),
                   "end_exclusive": format_instant(period.end), "evaluated_at": close,
                   "open_at_evaluation": period.is_open_at(closed.at)},
        "fatigue": {
            "policy_version_at_open": opened.section("promote").get("policy_version"),
            "policy_version_at_close": promote.get("policy_version"),
            "promotes": promotes,
            "rungs": {"rung1_promotes": len(promotes), "rung2_manual_reviews": len(pages),
                      "rung3_freeze_gates": len(gates)},
            "pages": pages,
            "freeze_gates": [_gate(r, decisions, ledger_link) for r in gates],
            "heatmap_refresh": fatigue.get("refresh"),
            "heatmap_counts": {c: int((counts or {}).get(c, 0)) for c in _CLASSES}
            if counts is not None else None,
            "snapshot_hash": fatigue.get("snapshot_hash"),
        },
        "reconciliation": _reconciliation(period, closed),
        "addendum": _addendum(closed),
    }


def _gate(record: Any, decisions: dict[tuple[str, str], dict[str, Any]],
          ledger_link: str | None) -> dict[str, Any]:
    data = dict(record.data)
    decision = decisions.get((data.get("promote_event_id", ""), data.get("decided_at", "")), {})
    return {"record_key": record.key, "ledger": ledger_link,
            "owner_route": data.get("owner_route"), "decided_by": data.get("decided_by"),
            "decided_at": data.get("decided_at"), "cert_window_ids": data.get("cert_window_ids"),
            "lifted_at": decision.get("lifted_at"), "record": data}


def _ack_state(window: dict[str, Any]) -> str:
    acks = window.get("acks") or []
    if acks:
        return "; ".join(f"acked {a['ack_id']} by {a['signer_id']} at {a['ack_dt_utc']}"
                         for a in acks)
    if window.get("status") == "LATE":
        # A run still within its grace is neither a pass nor a miss yet: say until when.
        return (f"not counted yet: due {window.get('scheduled_at')}, missed at "
                f"{window.get('late_until')} unless it completes")
    eligibility = window.get("eligibility")
    if eligibility == "green":
        return "not acked (green: eligible)"
    if eligibility == "amber":
        return "not acked (amber hold)"
    return "not eligible (no PASS run)"


def _reconciliation(period: Period, closed: Snapshot) -> dict[str, Any] | None:
    section = closed.section("reconciliation")
    if not section:
        return None
    weeks = []
    for w in section.get("windows", ()):
        if not period.contains(parse_instant(w["start_inclusive"])):
            continue
        lead, partner = w.get("leadership_ingest_hash"), w.get("partner_ingest_hash")
        weeks.append({
            "job_run_id": w.get("job_run_id"), "start_inclusive": w["start_inclusive"],
            "end_exclusive": w["end_exclusive"],
            "epsilon_policy_version": w.get("epsilon_policy_version"),
            "leadership_ingest_hash": lead, "partner_ingest_hash": partner,
            "status": w.get("status"), "eligibility": w.get("eligibility"),
            "acked": bool(w.get("acks")), "ack_state": _ack_state(w),
            "both_inputs": bool(lead and partner), "diff": w.get("diff"),
            "skip_reason": w.get("skip_reason"),
            "evidence_ids": list(w.get("evidence_ids") or ()),
            "override_audit_ids": list(w.get("override_audit_ids") or ()),
            "waiver_audit_ids": sorted({f.waived_by for f in closed.result.findings
                                        if f.waived_by and w.get("job_run_id")
                                        and f.subject == w.get("job_run_id")}),
        })
    return {"policy_version": section.get("policy_version"), "state": section.get("state"),
            "missed_windows": section.get("missed_windows", []), "weeks": weeks}


def _addendum(closed: Snapshot) -> dict[str, Any] | None:
    state = closed.section("reconciliation").get("state")
    comms = closed.findings("reconcile.readback-addendum")
    if state != "red" and not comms:
        return None
    return {
        "state": state,
        "missed_windows": closed.section("reconciliation").get("missed_windows", []),
        "comms": [{"comms_id": f.subject, "message": f.message} for f in comms],
        "comms_while_red": [{"comms_id": f.subject, "message": f.message}
                            for f in closed.findings("reconcile.comms-while-red")],
    }


# -------------------------------------------------------------------------------------------
# Markdown
# -------------------------------------------------------------------------------------------


def _version(value: object) -> str:
    return md.text(value) if value else "none in force"


def render_readback(data: dict[str, Any]) -> str:
    """The packet as GitHub-flavoured markdown."""
    period, fatigue = data["period"], data["fatigue"]
    status = ("still open at the evaluation: figures are as of "
              f"{period['evaluated_at']}" if period["open_at_evaluation"] else "closed")
    lines = [
        md.heading(1, f"Partner readback packet: {md.text(period['label'])}"),
        "",
        f"Generated by govgate from the same evaluation as the release gate, at "
        f"{md.code(period['evaluated_at'])}. Window {md.code(period['start'])} to "
        f"{md.code(period['end_exclusive'])} (end exclusive), {status}.",
        "",
        md.heading(2, SECTION_TITLE),
        "",
        f"**Reporting window:** {md.text(period['label'])}  ",
        f"**Backup owner policy version at window open:** "
        f"{_version(fatigue['policy_version_at_open'])}  ",
        f"**Backup owner policy version at window close:** "
        f"{_version(fatigue['policy_version_at_close'])}",
        "",
        md.heading(3, "Backup promotes this window"),
        "",
        md.table(["Owner route", "Trigger type", "Promoted to", "Duration (days)", "Reverted"],
                 [(p["owner_route"], p["trigger_type"], p["promoted_signer"],
                   p["duration_days"], "Y" if p["reverted"] else "N")
                  for p in fatigue["promotes"]],
                 empty="No backup promotes in this window."),
    ]
    if fatigue["promotes"]:
        lines += ["", "Audit anchors of these promotes (hashes shortened; in full in the "
                  "appendix):", "",
                  md.table(["promote_event_id", "promoted_at_dt_utc", "trigger_evidence_ref",
                            "policy_version_at_time"],
                           [(p["promote_event_id"], p["promoted_at_dt_utc"],
                             md.Markdown(md.cell(md.shorten_hashes(p["trigger_evidence_ref"]))),
                             p["policy_version_at_time"])
                            for p in fatigue["promotes"]])]
    rungs = fatigue["rungs"]
    lines += [
        "",
        md.heading(3, "Escalation rung events"),
        "",
        f"- Rung 1 promotes: {rungs['rung1_promotes']}",
        f"- Rung 2 manual reviews: {rungs['rung2_manual_reviews']}",
        f"- Rung 3 freeze gates invoked: {rungs['rung3_freeze_gates']} (each rung-3 row links "
        "to the freeze-gate audit record)",
    ]
    for gate in fatigue["freeze_gates"]:
        lifted = (f", lifted {md.code(gate['lifted_at'])}" if gate.get("lifted_at")
                  else ", not lifted")
        windows = ", ".join(md.text(w) for w in gate.get("cert_window_ids") or ()) or "none"
        # A PostgreSQL ledger has no file to link: the record key names the ledger row.
        anchor = (md.link(gate["record_key"], gate["ledger"]) if gate.get("ledger")
                  else md.code(gate["record_key"]))
        lines.append(f"  - {anchor}: "
                     f"{md.text(gate['owner_route'])} decided by {md.text(gate['decided_by'])} "
                     f"at {md.code(gate['decided_at'])}{lifted}; cert windows {windows}")
    lines += ["", md.heading(3, "Heat-map snapshot at window close"), ""]
    if fatigue["heatmap_counts"] is None:
        lines += ["No signer fatigue data is configured (`fatigue.events`): there is no "
                  "heat-map snapshot to pin.", "", "Heat-map snapshot hash: none"]
    else:
        counts = fatigue["heatmap_counts"]
        lines += [md.table(["Classification", "Signers"], [(c, counts[c]) for c in _CLASSES]),
                  "",
                  f"Heat-map snapshot hash: {md.code(fatigue['snapshot_hash'])} (refresh "
                  f"{md.code(fatigue['heatmap_refresh'])}, SHA-256 of the canonical form of "
                  "`signer_fatigue_heatmap_14d`)"]
    lines += _render_reconciliation(data["reconciliation"])
    if data["addendum"] is not None:
        lines += _render_addendum(data["addendum"])
    lines += _render_appendix(data)
    return "\n".join(lines) + "\n"


def _render_appendix(data: dict[str, Any]) -> list[str]:
    """Full values of every hash the tables above shorten, one per row (two columns, so that a
    whole SHA-256 fits GitHub's article width beside the id it belongs to)."""
    rows: list[tuple[object, object]] = []
    for p in data["fatigue"]["promotes"]:
        for full in md.full_hashes(p.get("trigger_evidence_ref")):
            rows.append((md.Markdown(f"{md.cell(p['promote_event_id'])}<br>"
                                     "trigger_evidence_ref"), md.code(full, in_table=True)))
    recon = data["reconciliation"]
    for w in (recon or {}).get("weeks", ()):
        for side in ("leadership", "partner"):
            value = w.get(f"{side}_ingest_hash")
            if value:
                rows.append((md.Markdown(f"{md.cell(w['job_run_id'])}<br>{side} ingest_hash"),
                             md.code(value, in_table=True)))
    if not rows:
        return []
    return ["", md.heading(2, "Appendix: full hashes"), "",
            md.table(["Of", "Value"], rows)]


def _hashes(week: dict[str, Any]) -> md.Markdown:
    parts = []
    for side in ("leadership", "partner"):
        value = week[f"{side}_ingest_hash"]
        shown = md.code(md.shorten_hashes(value), in_table=True) if value else "**missing**"
        parts.append(f"{side} {shown}")
    return md.Markdown("<br>".join(parts))


def _audit(week: dict[str, Any]) -> md.Markdown:
    """The ids that changed the week: skip reason, evidence, override and waiver audit ids."""
    parts = []
    if week.get("skip_reason"):
        parts.append(f"skip_reason {md.code(week['skip_reason'], in_table=True)}")
    for label, key in (("evidence", "evidence_ids"), ("override", "override_audit_ids"),
                       ("waiver", "waiver_audit_ids")):
        parts += [f"{label} {md.code(v, in_table=True)}" for v in week.get(key) or ()]
    return md.Markdown("<br>".join(parts))


def _render_reconciliation(recon: dict[str, Any] | None) -> list[str]:
    lines = ["", md.heading(2, "Weekly SLA Snapshot Reconciliation"), ""]
    if recon is None:
        return [*lines, "No reconciliation inputs are configured."]
    lines += [
        f"Reconciliation policy {md.text(recon['policy_version'])}; governance state at window "
        f"close: **{md.text(recon['state'])}**. Each week names both ingest hashes (shortened "
        "here, in full in the appendix) so a replay can prove the leadership and the partner "
        "inputs existed for the acked week; the audit ids are the evidence, overrides, waivers "
        "and skip reasons that changed the week.",
        "",
        md.table(["Week (start to end)", "job_run_id", "Status", "Ack state", "Audit ids",
                  "Ingest hashes"],
                 [(md.Markdown(f"{md.cell(w['start_inclusive'][:10])} to "
                               f"{md.cell(w['end_exclusive'][:10])}"),
                   md.Markdown(f"{md.cell(w['job_run_id'] or '(no row)')}<br>epsilon "
                               f"{md.cell(w['epsilon_policy_version'] or 'none')}"),
                   w["status"], w["ack_state"], _audit(w), _hashes(w))
                  for w in recon["weeks"]],
                 empty="No scheduled week starts in this window."),
    ]
    return lines


def _render_addendum(addendum: dict[str, Any]) -> list[str]:
    missed = ", ".join(md.code(w) for w in addendum["missed_windows"]) or "none"
    lines = ["", md.heading(2, "Executive readback addendum"), "",
             f"The reconciliation state at window close is **{md.text(addendum['state'])}**. "
             f"Missed windows: {missed}.", ""]
    if addendum["comms"]:
        lines += ["Partner comms that carried numbers of an unreconciled week:", ""]
        lines += md.bullets(f"{md.code(c['comms_id'])}: {md.text(c['message'])}"
                            for c in addendum["comms"])
    else:
        lines.append("No partner comms carried numbers of the missed weeks.")
    if addendum["comms_while_red"]:
        lines += ["", "Comms shipped while the red flag was set:", ""]
        lines += md.bullets(f"{md.code(c['comms_id'])}: {md.text(c['message'])}"
                            for c in addendum["comms_while_red"])
    lines += ["", "No Store- or Quest-facing numeric comms ship while the flag is red unless an "
              "override annex with an `audit_id` covers them."]
    return lines
