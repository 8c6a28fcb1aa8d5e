"""Lesson 174's verification checklist and lesson 166's success checks, evaluated.

Each item is judged against the project's inputs and one evaluation at as-of (the same as the
gate's): ``pass``, ``fail`` or ``n/a`` (not applicable: the inputs the item is about are not part
of the project, or govgate cannot see them), always with the evidence -- so a team can show a
partner reviewer where it stands.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ..promote.model import ESCALATION_OPTIONS, PromoteInputs
from ..promote.policy import active_policy
from ..recon.model import ReconInputs
from ..timeutil import format_duration, format_instant
from . import md
from .snapshots import Snapshot

__all__ = ["ITEMS", "Item", "evaluate_checklist", "render_checklist"]

PASS, FAIL, NA = "pass", "fail", "n/a"
_MARK = {PASS: "✅ pass", FAIL: "❌ fail", NA: "➖ n/a"}


@dataclass(frozen=True)
class Item:
    """One evaluated checklist item."""

    id: str
    lesson: str
    text: str
    status: str
    evidence: str

    def to_dict(self) -> dict[str, str]:
        return {"id": self.id, "lesson": self.lesson, "text": self.text, "status": self.status,
                "evidence": self.evidence}


Check = Callable[[Snapshot], tuple[str, str]]


def _recon(s: Snapshot) -> ReconInputs | None:
    value = s.evaluation.inputs.get("reconciliation")
    return value if isinstance(value, ReconInputs) else None


def _promote(s: Snapshot) -> PromoteInputs | None:
    value = s.evaluation.inputs.get("promote")
    return value if isinstance(value, PromoteInputs) else None


# -- lesson 174 ------------------------------------------------------------------------------


def _ack_table(s: Snapshot) -> tuple[str, str]:
    from ..checks.fatigue import get_event_log

    log = get_event_log(s.evaluation)
    if log is None:
        return FAIL, "no signer_ack_event export is configured (fatigue.events)"
    from ..asof import events_seen_by
    from ..checks.fatigue import nightly

    # Counted as the refresh at as-of saw the export: rows written later are not known yet.
    seen = events_seen_by(log, nightly(s.at))
    if not seen.events:
        return FAIL, f"{log.source} holds no ack event"
    return PASS, (f"{seen.events} ack events of {seen.signers} signers over "
                  f"{seen.cert_windows} cert windows from {log.source}; ack_latency_hours "
                  "and breached are derived on load (NUMERIC(8,2), half away from zero)")


def _heatmap(s: Snapshot) -> tuple[str, str]:
    history = s.history
    if not history:
        return FAIL, "no heat-map refresh: no signer_ack_event export to classify"
    counts = s.section("fatigue").get("heatmap", {}).get("classification_counts", {})
    text = ", ".join(f"{counts.get(c, 0)} {c}" for c in ("red", "amber", "recovering", "green"))
    return PASS, (f"{len(history)} nightly refreshes at 00:00 UTC, "
                  f"{format_instant(history[0].at)} to {format_instant(history[-1].at)}; "
                  f"latest: {text}, snapshot {s.section('fatigue').get('snapshot_hash')}")


def _policy(s: Snapshot) -> tuple[str, str]:
    loaded = _promote(s)
    policy = active_policy(loaded.policies, s.at) if loaded else None
    if policy is None:
        return FAIL, "no backup_owner_policy version is approved at or before as-of"
    missing = [r for r in sorted(policy.route_slas()) if policy.route(r) is None]
    detail = (f"version {policy.version} approved by {policy.approved_by} at "
              f"{format_instant(policy.approved_dt_utc)}, signed ack {policy.signed_ack}; "
              f"{len(policy.routes)} routes, primary differs from backup on each (checked on "
              "load)")
    if missing:
        return FAIL, f"{detail}; no row for {', '.join(missing)}"
    return PASS, detail


def _events(s: Snapshot) -> tuple[str, str]:
    section = s.section("promote")
    promotes, forced = section.get("promotes", []), section.get("forced_reverts", [])
    text = (f"{len(promotes)} backup_promote_event {'row' if len(promotes) == 1 else 'rows'}, "
            f"{len(forced)} forced_revert_event {'row' if len(forced) == 1 else 'rows'}")
    if promotes and forced:
        return PASS, (f"{text}; first promote {promotes[0]['promote_event_id']}, first forced "
                      f"revert {forced[0]['forced_revert_event_id']}")
    return FAIL, f"{text}: seed the audit with a deliberate manual invocation and a forced revert"


def _ladder(s: Snapshot) -> tuple[str, str]:
    loaded = _promote(s)
    policy = active_policy(loaded.policies, s.at) if loaded else None
    if policy is None or loaded is None:
        return FAIL, "no backup_owner_policy in force: no rung is defined"
    automatic = [r.owner_route for r in policy.routes
                 if {"heatmap_red", "pending_acks_aged"} & set(r.promote_trigger)]
    critical = sorted({route for w in loaded.cert_windows for route in w.critical_routes})
    parts = [f"rung 1 automatic on {', '.join(automatic) or 'no route'}",
             f"rung 2 pages {policy.pager_target} within {policy.thresholds.rung2_hours} h with "
             f"options {', '.join(ESCALATION_OPTIONS)}",
             f"rung 3 freeze gate over {len(loaded.cert_windows)} cert windows (critical routes "
             f"{', '.join(critical) or 'none'})"]
    ok = bool(automatic) and bool(loaded.cert_windows)
    return (PASS if ok else FAIL), "; ".join(parts)


def _review(s: Snapshot) -> tuple[str, str]:
    return NA, ("a calendar entry and its attendees are not among govgate's inputs; "
                "govgate review --month YYYY-MM produces the review itself")


def _readback(s: Snapshot) -> tuple[str, str]:
    digest = s.section("fatigue").get("snapshot_hash")
    version = s.section("promote").get("policy_version")
    if digest and version:
        return PASS, (f"govgate readback writes the section with the template fields; policy "
                      f"{version}, snapshot hash {digest} at {s.section('fatigue')['refresh']}")
    return FAIL, ("the section needs a heat-map snapshot hash and a backup_owner_policy in "
                  f"force: hash {digest or 'missing'}, policy {version or 'missing'}")


def _exercise(s: Snapshot) -> tuple[str, str]:
    loaded = _promote(s)
    if loaded is None or not loaded.cert_windows:
        return NA, "no cert windows are configured (fatigue.cert_windows)"
    first = min(loaded.cert_windows, key=lambda w: (w.opens_at, w.cert_window_id))
    opens = format_instant(first.opens_at)
    done = [p for p in s.section("promote").get("promotes", ())
            if p["promoted_at_dt_utc"] < opens and p.get("reverted_at_dt_utc")]
    if done:
        p = done[0]
        return PASS, (f"{p['promote_event_id']} ({p['trigger_type']}, {p['owner_route']}) "
                      f"promoted {p['promoted_at_dt_utc']}, reverted {p['reverted_at_dt_utc']}, "
                      f"evidence {p['trigger_evidence_ref']}; first window {first.cert_window_id} "
                      f"opens {opens}")
    return FAIL, (f"no promote was promoted and reverted before {first.cert_window_id} opened "
                  f"({opens})")


# -- lesson 166 ------------------------------------------------------------------------------


def _parity(s: Snapshot) -> tuple[str, str]:
    recon = _recon(s)
    if recon is None:
        return NA, "no reconciliation inputs are configured"
    bad = sorted(job_id for job_id, job in recon.jobs.items()
                 if len({(x.start_inclusive, x.end_exclusive)
                         for x in (job.manifest, job.leadership, job.partner)}) != 1)
    if bad:
        return FAIL, ("start_inclusive/end_exclusive differ between the manifests of "
                      + ", ".join(bad))
    return PASS, (f"{len(recon.jobs)} job runs: manifest, leadership and partner carry the "
                  "identical start_inclusive/end_exclusive pair in UTC")


def _paging(s: Snapshot) -> tuple[str, str]:
    recon = _recon(s)
    if recon is None:
        return NA, "no reconciliation inputs are configured"
    sinks = [k for k in ("outbox", "webhook") if k in s.evaluation.config.section("paging")]
    last = s.section("reconciliation").get("last_successful_completion") or "never"
    gap = recon.policy.page_max_gap
    detail = (f"pages when the gap since the last completion exceeds {format_duration(gap)} + "
              f"{format_duration(recon.policy.page_grace)}; last successful completion {last}; "
              f"sinks: {', '.join(sinks) or 'none'}")
    ok = bool(sinks) and gap <= timedelta(days=7)
    return (PASS if ok else FAIL), detail


def _ack_fk(s: Snapshot) -> tuple[str, str]:
    recon = _recon(s)
    if recon is None or not recon.acks:
        return NA, "no signer acks of runs are configured (reconciliation.acks)"
    known = {r.job_run_id for r in recon.runs}
    orphans = sorted(a.ack_id for a in recon.acks if a.job_run_id not in known)
    if orphans:
        one = len(orphans) == 1
        return FAIL, (f"{', '.join(orphans)} {'names' if one else 'name'} no existing job_run_id: "
                      f"the signer UI emitted {'it' if one else 'them'} (govgate refused "
                      f"{'it' if one else 'each'}, a blocking finding)")
    return PASS, f"all {len(recon.acks)} acks name an existing job_run_id"


def _replay(s: Snapshot) -> tuple[str, str]:
    recon = _recon(s)
    acked = sorted({a["job_run_id"] for a in s.section("reconciliation").get("accepted_acks", ())})
    if recon is None or not acked:
        return NA, "no accepted signer ack to prove"
    bad = [j for j in acked if j not in recon.jobs or any(
        x.declared_ingest_hash != x.computed_ingest_hash
        for x in (recon.jobs[j].leadership, recon.jobs[j].partner))]
    if bad:
        return FAIL, f"acked weeks without both verified inputs: {', '.join(bad)}"
    return PASS, (f"{len(acked)} acked weeks ({', '.join(acked)}) each keep the leadership and "
                  "the partner export with a verified ingest_hash")


def _comms(s: Snapshot) -> tuple[str, str]:
    recon = _recon(s)
    if recon is None or not recon.comms:
        return NA, "no partner comms are configured (reconciliation.partner_comms)"
    red = s.findings("reconcile.comms-while-red")
    if red:
        return FAIL, "; ".join(f.message for f in red)
    return PASS, f"{len(recon.comms)} partner comms, none shipped while the red flag was set"


#: (id, lesson, the lesson's wording, check), in the lessons' order.
ITEMS: tuple[tuple[str, str, str, Check], ...] = (
    ("174-1", "174", "signer_ack_event table exists, backfilled from the four ack systems, with "
     "generated ack_latency_hours and breached", _ack_table),
    ("174-2", "174", "signer_fatigue_heatmap_14d refreshes nightly and classifies rows on the "
     "four-bucket deterministic rules", _heatmap),
    ("174-3", "174", "backup_owner_policy has one row per owner-route, primary <> backup, semver "
     "versioning and a signed approval", _policy),
    ("174-4", "174", "backup_promote_event and forced_revert_event have produced at least one row "
     "each", _events),
    ("174-5", "174", "escalation ladder rungs are pinned: rung 1 automatic, rung 2 manual review "
     "with documented options, rung 3 critical-path freeze", _ladder),
    ("174-6", "174", "monthly fatigue review is on the calendar with named attendees", _review),
    ("174-7", "174", "the readback packet has the signer-route-fatigue section with the template "
     "and the snapshot hash", _readback),
    ("174-8", "174", "at least one backup-promote exercise ran end to end before the first autumn "
     "2026 cert window opened", _exercise),
    ("166-1", "166", "job inputs show the same start_inclusive/end_exclusive pair as leadership "
     "and partner manifests", _parity),
    ("166-2", "166", "job completions are a flat line; gaps longer than one week page before "
     "signer views update", _paging),
    ("166-3", "166", "no signer ack exists without a job_run_id of an existing run", _ack_fk),
    ("166-4", "166", "replay can prove partner and leadership inputs both existed for each acked "
     "week", _replay),
    ("166-5", "166", "no Store- or Quest-facing numeric comms ship while the red flag is set "
     "without an override annex", _comms),
)


def evaluate_checklist(snapshot: Snapshot) -> list[Item]:
    """Every item of :data:`ITEMS`, judged on one evaluation."""
    out = []
    for item_id, lesson, text, check in ITEMS:
        status, evidence = check(snapshot)
        out.append(Item(item_id, lesson, text, status, evidence))
    return out


def render_checklist(items: list[Item], at: str) -> str:
    """The checklist as markdown: a summary line, then one table per lesson."""
    counts = {s: sum(i.status == s for i in items) for s in (PASS, FAIL, NA)}
    lines = [md.heading(1, "Verification checklist"), "",
             f"Evaluated at {md.code(at)} with the same rules as the gate: {counts[PASS]} pass, "
             f"{counts[FAIL]} fail, {counts[NA]} not applicable."]
    for lesson, title in (("174", "Lesson 174: signer fatigue, backup promotes, escalation"),
                          ("166", "Lesson 166: weekly SLA reconciliation success checks")):
        lines += ["", md.heading(2, title), "",
                  md.table(["#", "item", "status", "evidence"],
                           [(i.id, i.text, md.Markdown(_MARK[i.status]),
                             md.shorten_hashes(i.evidence))
                            for i in items if i.lesson == lesson])]
    # Hashes are shortened in the tables (a whole SHA-256 would widen the evidence column past
    # GitHub's article width); the appendix has each in full beside its item.
    full = [(i.id, md.code(h, in_table=True)) for i in items for h in md.full_hashes(i.evidence)]
    if full:
        lines += ["", md.heading(2, "Appendix: full hashes"), "",
                  md.table(["#", "SHA-256"], full)]
    return "\n".join(lines) + "\n"


def checklist_json(items: list[Item], at: str) -> dict[str, Any]:
    return {"kind": "verification_checklist", "evaluated_at": at,
            "items": [i.to_dict() for i in items]}
