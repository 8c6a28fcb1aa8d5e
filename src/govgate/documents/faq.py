"""The one-page signer FAQ (lesson 166's pro tip): amber versus red, and what to do in each.

Every number on the page comes from the policies in force at as-of -- the reconciliation
policy's ``block_states`` and paging limits (``block_states`` of the config wins, as in the
gate), and the ``backup_owner_policy`` thresholds and routes -- so the page never disagrees with
what the gate enforces. Nothing is typed twice.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

from ..fatigue.model import Thresholds
from ..promote.model import ESCALATION_OPTION_TEXT, BackupOwnerPolicy, PromoteInputs
from ..promote.policy import active_policy
from ..recon.model import ReconInputs
from ..timeutil import format_duration, format_instant
from . import md
from .snapshots import Snapshot

__all__ = ["faq_data", "render_faq"]


def _num(value: Decimal) -> str:
    from ..decimals import canonical_text

    return canonical_text(value)  # normalize() in the default context rounds to 28 digits


def faq_data(snapshot: Snapshot) -> dict[str, Any]:
    """The numbers the FAQ states, read from the policies in force at the snapshot."""
    recon = snapshot.evaluation.inputs.get("reconciliation")
    loaded = snapshot.evaluation.inputs.get("promote")
    policy: BackupOwnerPolicy | None = (active_policy(loaded.policies, snapshot.at)
                                        if isinstance(loaded, PromoteInputs) else None)
    t = policy.thresholds if policy else Thresholds()
    data: dict[str, Any] = {"at": format_instant(snapshot.at), "reconciliation": None,
                            "backup_owner_policy": policy.version if policy else None,
                            "team_lead": policy.pager_target if policy else None,
                            "thresholds": {k: (_num(v) if isinstance(v, Decimal) else v)
                                           for k, v in vars_of(t).items()},
                            "routes": []}
    if isinstance(recon, ReconInputs):
        from ..checks.gate import blocking_states

        states = sorted(blocking_states(snapshot.evaluation.config.data.get("block_states"),
                                        recon.policy.block_states))
        data["reconciliation"] = {
            "policy_version": recon.policy.version, "block_states": states,
            "max_gap": format_duration(recon.policy.page_max_gap),
            "grace": format_duration(recon.policy.page_grace),
            "red_after_missed": recon.policy.red_after_missed}
    slas = policy.route_slas() if policy else {}
    for rule in policy.routes if policy else ():
        sla = slas[rule.owner_route]
        data["routes"].append({
            "owner_route": rule.owner_route, "primary_signer": rule.primary_signer,
            "backup_signer": rule.backup_signer, "promote_trigger": list(rule.promote_trigger),
            "revert_green_days": rule.revert_green_days,
            "tertiary_signers": list(rule.tertiary_signers),
            "default_sla_hours": _num(sla), "aged_after_hours": _num(sla * t.aged_factor)})
    return data


def _red_rule(missed: int) -> str:
    if missed == 2:
        return ("the two most recent scheduled windows have no PASS run (two skips, two FAILs or "
                "one of each) and no override covers them")
    if missed == 1:
        return "the most recent scheduled window has no PASS run and no override covers it"
    return (f"the {missed} most recent scheduled windows have no PASS run (skips, FAILs or "
            "missing rows) and no override covers them")


def vars_of(thresholds: Thresholds) -> dict[str, Any]:
    """The thresholds by name, in declaration order."""
    return {f.name: getattr(thresholds, f.name) for f in dataclasses.fields(thresholds)}


def render_faq(data: dict[str, Any]) -> str:
    """The FAQ as one markdown page."""
    t = data["thresholds"]
    source = (f"backup_owner_policy {md.code(data['backup_owner_policy'])}"
              if data["backup_owner_policy"] else "the lesson's default thresholds (no "
              "backup_owner_policy is in force)")
    recon = data["reconciliation"]
    if recon:
        source += f" and reconciliation_policy {md.code(recon['policy_version'])}"
    lines = [
        md.heading(1, "Signer FAQ: amber versus red"),
        "",
        f"Generated at {md.code(data['at'])} from {source}: the same numbers the gate enforces. "
        "The heat-map measures load, not capability: red means the system takes work off you, "
        "never that you are slow.",
    ]
    if recon:
        blocking = " and ".join(recon["block_states"]) or "nothing"
        blocks = set(recon["block_states"])
        lines += [
            "",
            md.heading(2, "Weekly reconciliation acks"),
            "",
            md.table(["state", "when", "what the gate does", "what you do"], [
                ("green", "the run is PASS and the previous scheduled window passed too (or it "
                 "is the documented first-run bootstrap)",
                 "accepts your ack" + (" (publish blocked anyway)" if "green" in blocks
                                       else ""),
                 "ack the run by its job_run_id"),
                ("amber", "the run is PASS but the previous window failed, was skipped or has "
                 "no row; or the latest window itself has no PASS run (one miss)",
                 "refuses acks" + (", blocks publish" if "amber" in blocks
                                   else ", publish continues"),
                 "do not ack: ask the owners to attach remediation evidence ids naming the run, "
                 "or an override packet with an audit_id"),
                ("red", _red_rule(recon.get("red_after_missed", 2) if recon else 2),
                 "refuses acks, pages, opens an incident"
                 + (", blocks publish" if "red" in blocks else ""),
                 "ship no numeric partner comms; if numbers of a missed week already reached "
                 "partners, the executive readback addendum is required"),
            ]),
            "",
            f"Publish is blocked in: **{md.text(blocking)}**. The pager also fires when no run "
            f"has completed successfully for {md.code(recon['max_gap'])} plus a grace of "
            f"{md.code(recon['grace'])}. An ack must name an existing job_run_id: any other ack "
            "is refused.",
        ]
    lines += [
        "",
        md.heading(2, "Fatigue heat-map"),
        "",
        f"Every night at 00:00 UTC each signer is classified over the last "
        f"{t['window_days']} days; the first matching row wins.",
        "",
        md.table(["class", "when", "what the system does", "what you do"], [
            ("red", f"concurrent_window_count_14d ≥ {t['red_min_windows']} and "
             f"breached_count_14d ≥ {t['red_min_breaches']}",
             "promotes your backup automatically on every route you are primary on that lists "
             "heatmap_red", "hand over; the backup signs until you are green again"),
            ("amber", f"concurrent_window_count_14d ≥ {t['amber_min_windows']} or "
             f"avg_latency_ratio_14d ≥ {t['amber_ratio']}",
             "nothing automatic yet: this is the early warning",
             "tell the team lead about your queue; planned rest is a manual invocation"),
            ("recovering", f"was red or amber; fewer than {t['recovering_days']} consecutive "
             f"quiet refreshes (ratio below {t['quiet_ratio']})",
             f"keeps the {t['recovering_days']}-day buffer: you are not green yet",
             "do not take new load yet"),
            ("green", "all other rows", "nothing", "carry on"),
        ]),
    ]
    if data["routes"]:
        lines += [
            "",
            md.heading(3, "Your routes"),
            "",
            md.table(["owner_route", "primary", "backup", "tertiary", "promote triggers",
                      "aged pending ack after", "revert after"],
                     [(r["owner_route"], r["primary_signer"], r["backup_signer"],
                       ", ".join(r["tertiary_signers"]) or "—", ", ".join(r["promote_trigger"]),
                       f"{r['aged_after_hours']} h ({t['aged_factor']} × "
                       f"{r['default_sla_hours']} h SLA)"
                       if "pending_acks_aged" in r["promote_trigger"] else "— (not a trigger)",
                       f"{r['revert_green_days']} green days")
                      for r in data["routes"]]),
            "",
            "The aged-ack column uses each route's default SLA; an ack row with its own "
            "sla_target_hours ages at that target times the same factor.",
        ]
    lead = md.text(data["team_lead"]) if data["team_lead"] else "the team lead"
    lines += [
        "",
        md.heading(3, "If the backup slips too"),
        "",
        f"When the promoted backup is amber or red within {t['rung2_hours']} hours of the "
        f"promote, {lead} is paged (rung 2) and chooses one of:",
        "",
        *md.bullets(f"{md.code(k)}: {md.text(v)}" for k, v in ESCALATION_OPTION_TEXT.items()),
    ]
    return "\n".join(lines) + "\n"
