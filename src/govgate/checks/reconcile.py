"""Built-in plugin: the weekly reconciliation gate of lesson 166."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..hookspecs import hookimpl
from ..model import Finding, GovernanceState, LedgerRecord, Location, Page, Severity
from ..plugins import implemented_only_by
from ..recon import artifacts, engine
from ..recon.episodes import gap_episodes, red_episodes
from ..recon.loader import load_recon_inputs
from ..recon.model import DiffRow, JobOutcome, ReconInputs, Tolerance, WindowOutcome
from ..recon.state import Timeline
from ..timeutil import format_duration, format_instant

if TYPE_CHECKING:
    from ..config import Config
    from ..evaluation import Evaluation, Inputs

DOMAIN = "reconciliation"


@hookimpl
def govgate_load_inputs(config: Config, inputs: Inputs) -> None:
    if "reconciliation" not in config.data:
        return
    inputs.put(DOMAIN, load_recon_inputs(config, inputs.get("hook"), inputs.get("policies"),
                                         inputs.get("as_of")))


@hookimpl(trylast=True)
def govgate_compare_metric(metric_id: str, leadership: Decimal | None, partner: Decimal | None,
                           tolerance: Tolerance) -> DiffRow:
    return engine.compare_metric(metric_id, leadership, partner, tolerance)


@hookimpl(trylast=True)
def govgate_window_eligibility(window: WindowOutcome, previous: WindowOutcome | None,
                               evaluation: Evaluation, as_of: datetime) -> str | None:
    recon: ReconInputs = evaluation.inputs.get(DOMAIN)
    return engine.eligibility(window, previous, recon, as_of)


class _Run:
    """One evaluation's view of the reconciliation inputs, with the hooks bound."""

    def __init__(self, evaluation: Evaluation, recon: ReconInputs):
        self.ev = evaluation
        self.recon = recon
        hook = evaluation.hook

        def through_hook(m: str, lead: Decimal | None, part: Decimal | None,
                         tol: Tolerance) -> DiffRow:
            row: DiffRow = hook.govgate_compare_metric(metric_id=m, leadership=lead,
                                                       partner=part, tolerance=tol)
            return row

        # With the built-in rule alone registered, call it directly: the hook call's own cost
        # was a quarter of replaying a window (one call per metric per window).
        compare: engine.CompareMetric = (
            engine.compare_metric
            if implemented_only_by(hook.govgate_compare_metric, [__name__]) else through_hook)

        # Every row on the schedule's grid (bad input otherwise) before any job is replayed.
        Timeline(recon, {}, evaluation.as_of)
        self.outcomes: dict[str, JobOutcome] = {
            job_id: engine.evaluate_job(job, recon, compare, evaluation.as_of)
            for job_id, job in sorted(recon.jobs.items())
        }
        #: The windows indexed once; every instant's state is a look-up in it.
        self.timeline = Timeline(recon, self.outcomes, evaluation.as_of)

    def eligibility(self, window: WindowOutcome, previous: WindowOutcome | None,
                    at: datetime) -> str | None:
        result: str | None = self.ev.hook.govgate_window_eligibility(
            window=window, previous=previous, evaluation=self.ev, as_of=at)
        return result

    def windows(self, at: datetime) -> list[WindowOutcome]:
        return self.timeline.windows(at)

    def state(self, at: datetime) -> engine.StateDecision:
        return self.timeline.state(at, self.eligibility)


@hookimpl
def govgate_evaluate(evaluation: Evaluation) -> Sequence[Finding] | None:
    recon: ReconInputs | None = evaluation.inputs.get(DOMAIN)
    if recon is None:
        return None
    run = _Run(evaluation, recon)
    as_of = evaluation.as_of
    findings: list[Finding] = []
    # Every outcome is computed either way (a bad number is bad input whatever is written).
    names = (_write_artifacts(evaluation, recon, run.outcomes) if evaluation.diff_artifacts
             else {})
    findings += _integrity(recon, run)
    windows = run.windows(as_of)
    decision = run.state(as_of)
    evaluation.state = GovernanceState(decision.state)
    findings += _state_findings(evaluation, recon, decision)
    findings += _late_findings(recon, decision)
    if decision.latest is not None:
        findings += _job_findings(recon, run, decision.latest)
    acks, ack_findings = _acks(recon, run, as_of)
    findings += ack_findings
    findings += _pages(evaluation, recon, run, decision)
    findings += _comms(recon, run, decision, as_of)
    evaluation.sections[DOMAIN] = _section(recon, run, windows, decision, acks, names)
    evaluation.sections[DOMAIN]["last_successful_completion"] = _last_pass(recon, run, as_of)
    return findings


def _write_artifacts(evaluation: Evaluation, recon: ReconInputs,
                     outcomes: dict[str, JobOutcome]) -> dict[str, dict[str, str]]:
    names: dict[str, dict[str, str]] = {}
    # Kept with the loaded inputs, which the evaluations of one document share (see
    # documents.snapshots.inputs_at and documents.whatif): (job_run_id, outcome) -> bytes.
    rendered: dict[tuple[str, str], tuple[bytes, bytes]] = evaluation.inputs.domains.setdefault(
        "reconciliation.rendered", {})
    for job_id, outcome in outcomes.items():
        # The same inputs evaluated again (a document's second instant, a what-if replay)
        # give equal outcomes: render each diff once per run, not once per evaluation. The key
        # is the repr, not the value: Decimal("1.0") == Decimal("1.00"), yet they print apart.
        key = (job_id, repr(outcome))
        pair = rendered.get(key)
        if pair is None:
            document = artifacts.diff_document(recon.jobs[job_id], outcome)
            pair = rendered[key] = (artifacts.render_json(document),
                                    artifacts.render_csv(outcome, document["rows"]))
        as_json, as_csv = pair
        names[job_id] = {
            "json": evaluation.add_artifact(artifacts.content_name(job_id, as_json, "json"),
                                            as_json),
            "csv": evaluation.add_artifact(artifacts.content_name(job_id, as_csv, "csv"), as_csv),
        }
    return names


def _integrity(recon: ReconInputs, run: _Run) -> list[Finding]:
    findings = []
    for row in recon.runs:
        if row.status == "SKIPPED" or (row.completed_at is not None
                                       and row.completed_at > run.ev.as_of):
            continue  # a run completed after as-of is still running at as-of: no verdict yet
        outcome = run.outcomes.get(row.job_run_id)
        if outcome is None and row.status == "PASS" and row.completed_at is not None:
            findings.append(Finding(
                "reconcile.pass-without-inputs", row.job_run_id, Severity.ERROR,
                f"scheduler reports PASS for {row.job_run_id} but its manifest and exports are "
                "missing, so the run cannot be replayed (counted as FAIL)",
                location=row.location))
        elif outcome is not None and row.completed_at is not None and outcome.status != row.status:
            findings.append(Finding(
                "reconcile.status-mismatch", row.job_run_id, Severity.ERROR,
                f"scheduler reports {row.status} for {row.job_run_id} but the diff says "
                f"{outcome.status}" + (f": {outcome.problems[0]}" if outcome.problems else ""),
                location=row.location, evidence={"problems": list(outcome.problems)}))
    return findings


def _block_states(evaluation: Evaluation, recon: ReconInputs) -> frozenset[str]:
    from .gate import blocking_states

    # Red always blocks; block_states only says whether amber blocks too.
    return blocking_states(evaluation.config.data.get("block_states"), recon.policy.block_states)


def _state_findings(evaluation: Evaluation, recon: ReconInputs,
                    decision: engine.StateDecision) -> list[Finding]:
    blocks = decision.state in _block_states(evaluation, recon)
    latest = decision.latest
    if latest is None:
        return [Finding("reconcile.state", "governance", Severity.INFO,
                        "no scheduled window is due yet: nothing to reconcile"
                        if not decision.late else
                        "no scheduled window is complete or missed yet: nothing to reconcile")]
    refs = [w.ref for w in decision.missed_streak]
    if decision.state == "red":
        uncovered = [w.ref for w in decision.uncovered]
        message = (f"red: the {len(refs)} most recent scheduled windows have no PASS run "
                   f"({', '.join(refs)}); publish is blocked until an override packet with an "
                   f"audit_id covers {', '.join(uncovered)} or a PASS run lands")
    elif decision.missed_streak:
        message = (f"amber: scheduled window {latest.ref} has no PASS run ({latest.status})"
                   + (f"; red overridden by {', '.join(decision.overridden_by)}"
                      if decision.overridden_by else ""))
    elif decision.state == "amber":
        message = (f"amber: {latest.job_run_id} passed but the previous window did not; "
                   "attach remediation evidence ids or an override with an audit_id")
    else:
        message = f"green: {latest.job_run_id} passed after a passing window"
    severity = (Severity.ERROR if blocks else
                Severity.WARNING if decision.state != "green" else Severity.INFO)
    # Point at the latest window's scheduler row; a window without a row is the schedule's fault.
    row = next((r for r in recon.runs if r.job_run_id == latest.job_run_id), None)
    location = row.location if row else Location(recon.policy.source)
    return [Finding("reconcile.state", "governance", severity, message,
                    owner_route="publish_gate", location=location,
                    evidence={"state": decision.state, "latest_window": latest.ref,
                              "missed_windows": refs,
                              "late_windows": [w.ref for w in decision.late]})]


def _late_findings(recon: ReconInputs, decision: engine.StateDecision) -> list[Finding]:
    """One informational finding per late window: visible everywhere, never blocking."""
    findings = []
    for w in decision.late:
        assert w.late_until is not None
        row = next((r for r in recon.runs if r.job_run_id == w.job_run_id), None)
        doing = (f"running since {format_instant(row.started_at)}"
                 if row is not None and row.started_at is not None else "not started")
        findings.append(Finding(
            "reconcile.late", w.ref, Severity.INFO,
            f"late: {w.ref} was due at {format_instant(w.scheduled_at)} and is {doing}; it "
            f"counts as missed at {format_instant(w.late_until)} unless it completes by then "
            "(the state is decided from the windows before it)",
            owner_route="publish_gate",
            location=row.location if row else Location(recon.policy.source),
            evidence={"window": w.ref, "scheduled_at": format_instant(w.scheduled_at),
                      "late_until": format_instant(w.late_until)}))
    return findings


def _job_findings(recon: ReconInputs, run: _Run, latest: WindowOutcome) -> list[Finding]:
    """Findings on the latest window's run: what made it FAIL, metric by metric."""
    if latest.job_run_id is None or latest.job_run_id not in run.outcomes:
        return []
    outcome = run.outcomes[latest.job_run_id]
    job = recon.jobs[latest.job_run_id]
    findings = [
        Finding("reconcile.inputs", latest.job_run_id, Severity.WARNING, problem,
                owner_route="publish_gate", location=job.manifest.location)
        for problem in outcome.problems
    ]
    for row in outcome.rows:
        if row.result != "fail":
            continue
        line = job.partner.value_lines.get(row.metric_id)
        detail = ("missing on one side" if row.delta is None else
                  f"partner {artifacts.dec(row.partner_value)} vs leadership "
                  f"{artifacts.dec(row.leadership_value)}: delta {artifacts.dec(row.delta)} "
                  f"exceeds tolerance {artifacts.dec(row.tolerance_used)}")
        findings.append(Finding(
            "reconcile.epsilon", row.metric_id, Severity.WARNING,
            f"{latest.job_run_id}: {row.metric_id} {detail}", owner_route=row.owner_route,
            evidence=artifacts.row_dict(row),
            location=Location(job.partner.location.path, line)))
    return findings


def _acks(recon: ReconInputs, run: _Run, as_of: datetime,
          ) -> tuple[list[dict[str, Any]], list[Finding]]:
    accepted: list[dict[str, Any]] = []
    findings: list[Finding] = []
    known = {r.job_run_id for r in recon.runs}
    for ack in sorted(recon.acks, key=lambda a: (a.ack_dt_utc, a.ack_id)):
        if ack.ack_dt_utc > as_of:
            continue
        reason = None
        if ack.job_run_id is None:
            reason = "names no job_run_id (an ack must bind to a run)"
        elif ack.job_run_id not in known:
            reason = f"names job_run_id {ack.job_run_id!r}, which no scheduler row has"
        else:
            reason = _ack_refusal(run, ack.job_run_id, ack.ack_dt_utc)
        if reason is None:
            accepted.append({"ack_id": ack.ack_id, "job_run_id": ack.job_run_id,
                             "signer_id": ack.signer_id,
                             "ack_dt_utc": format_instant(ack.ack_dt_utc)})
        else:
            findings.append(Finding(
                "reconcile.ack-refused", ack.ack_id, Severity.ERROR,
                f"ack {ack.ack_id} by {ack.signer_id} refused: {reason}",
                owner_route="publish_gate", location=ack.location))
    return accepted, findings


def _ack_refusal(run: _Run, job_run_id: str, at: datetime) -> str | None:
    """Why an ack naming ``job_run_id`` at ``at`` is refused, None when it is accepted.

    An ack of a LATE window is refused: its run is not complete, so there is nothing to sign
    yet (fail closed); the signer acks again once it completed.
    """
    tl = run.timeline
    i = tl.window_of[job_run_id]
    target = tl.outcome(i, at) if tl.scheduled[i] <= at else None
    if target is not None and target.status == "LATE":
        return (f"names {job_run_id}, whose window is LATE at the ack (due "
                f"{format_instant(target.scheduled_at)}, the run is not complete)")
    if target is None or target.job_run_id != job_run_id or not target.passed:
        status = target.status if target and target.job_run_id == job_run_id else \
            "not due or not completed"
        return f"names {job_run_id}, whose window is {status} at the ack"
    previous = tl.outcome(i - 1, at) if i else None
    state = run.eligibility(target, previous, at)
    if state != "green":
        return (f"names {job_run_id}, which is {state} (amber hold) at the ack: "
                "attach remediation evidence or an override first")
    return None


def _pages(evaluation: Evaluation, recon: ReconInputs, run: _Run,
           decision: engine.StateDecision) -> list[Finding]:
    """Pages and incidents from the episodes of the red state and of the completion gap.

    An episode's trigger and incident are facts of the instant it began: they name the
    uncovered windows that made it red, never later ones, so a run at a later as-of (or a
    re-run) writes the very same records, and a red that returns after an override or a PASS
    is a new episode with its own key. Every episode that began by as-of is paged, closed ones
    included (trigger, then its resolve and the incident's closing record), so the ledger after
    t1 then t2 holds what t2 alone writes. Episodes (open and closed) go on the result.
    """
    from ..paging import lifecycle_events

    findings = []
    as_of = evaluation.as_of
    policy = recon.policy
    reds = red_episodes(run.timeline)
    gaps = gap_episodes(run.timeline)
    evaluation.episodes += reds + gaps
    for ep in reds:
        assert ep.incident_key is not None
        refs = list(ep.windows)
        evaluation.records.append(LedgerRecord(
            "incident", ep.incident_key, ep.opened_at,
            {"missed_job_run_ids": [r for r in refs if not r.startswith("window@")],
             "missed_windows": refs, "opened_at": format_instant(ep.opened_at),
             "policy_version": policy.version}))
        trigger = Page(
            ep.key, f"Reconciliation red: scheduled windows {', '.join(refs)} have no PASS "
            "run and no override covers them; publish blocked", "govgate.reconcile",
            "critical", ep.opened_at, {"missed_windows": refs})
        pages, records = lifecycle_events(trigger, ep, as_of)
        evaluation.pages += pages
        evaluation.records += records
    limit = policy.page_max_gap + policy.page_grace
    for ep in gaps:
        last_id = ep.key.removeprefix("govgate:reconcile:gap:")
        baseline = ep.opened_at - limit
        summary = (f"No successful reconciliation since {format_instant(baseline)} "
                   f"(limit {format_duration(limit)}): last PASS {last_id}")
        trigger = Page(ep.key, summary, "govgate.reconcile", "error", ep.opened_at,
                       {"last_pass": last_id})
        pages, records = lifecycle_events(trigger, ep, as_of)
        evaluation.pages += pages
        evaluation.records += records
        if ep.closed_at is None or ep.closed_at > as_of:
            last_run = next((r for r in recon.runs if r.job_run_id == last_id), None)
            findings.append(Finding("reconcile.completion-gap", last_id, Severity.WARNING,
                                    summary, owner_route="publish_gate",
                                    location=last_run.location if last_run else None))
    return findings


def _last_pass(recon: ReconInputs, run: _Run, as_of: datetime) -> str | None:
    done = [r.completed_at for r in recon.runs if r.completed_at is not None
            and engine.effective_status(r, run.outcomes, as_of) == "PASS"]
    return format_instant(max(done)) if done else None


def _comms(recon: ReconInputs, run: _Run, decision: engine.StateDecision,
           as_of: datetime) -> list[Finding]:
    findings = []
    missed = {w.start_inclusive for w in decision.missed_streak}
    for comm in sorted(recon.comms, key=lambda c: (c.sent_at, c.comms_id)):
        if comm.sent_at > as_of:
            continue
        if decision.state == "red" and comm.window_start in missed:
            findings.append(Finding(
                "reconcile.readback-addendum", comm.comms_id, Severity.ERROR,
                f"numbers of the unreconciled week {format_instant(comm.window_start)} reached "
                f"partner comms ({comm.comms_id}, {comm.channel}): an executive readback "
                "addendum is required", owner_route="exec_readback", location=comm.location))
        if run.timeline.red_at(comm.sent_at) is not None:
            findings.append(Finding(
                "reconcile.comms-while-red", comm.comms_id, Severity.ERROR,
                f"{comm.comms_id} shipped numbers at {format_instant(comm.sent_at)} while the "
                "red flag was set and no override covered it", owner_route="exec_readback",
                location=comm.location))
    return findings


def _section(recon: ReconInputs, run: _Run, windows: list[WindowOutcome],
             decision: engine.StateDecision, acks: list[dict[str, Any]],
             names: dict[str, dict[str, str]]) -> dict[str, Any]:
    rows = []
    acks_of: dict[str | None, list[dict[str, Any]]] = {}
    for a in acks:
        acks_of.setdefault(a["job_run_id"], []).append(a)
    for w in windows:
        previous = windows[w.index - 1] if w.index else None
        job = recon.jobs.get(w.job_run_id or "")
        outcome = run.outcomes.get(w.job_run_id or "")
        rows.append({
            "index": w.index,
            "start_inclusive": format_instant(w.start_inclusive),
            "end_exclusive": format_instant(w.end_exclusive),
            "scheduled_at": format_instant(w.scheduled_at),
            "job_run_id": w.job_run_id,
            "status": w.status,
            "skip_reason": w.skip_reason,
            "late_until": format_instant(w.late_until) if w.late_until else None,
            "eligibility": run.eligibility(w, previous, run.ev.as_of),
            "epsilon_policy_version": job.manifest.epsilon_policy_version if job else None,
            "leadership_ingest_hash": outcome.leadership_ingest_hash if outcome else None,
            "partner_ingest_hash": outcome.partner_ingest_hash if outcome else None,
            "acks": acks_of.get(w.job_run_id, []) if w.job_run_id else [],
            "diff": names.get(w.job_run_id or ""),
            # What changed the week's standing, for the readers of the reports: the remediation
            # evidence ids and override audit_ids known at as-of that name this window.
            "evidence_ids": sorted(e.evidence_id for e in recon.evidence
                                   if w.job_run_id is not None and e.job_run_id == w.job_run_id
                                   and e.attached_at <= run.ev.as_of),
            "override_audit_ids": sorted(o.audit_id for o in recon.overrides
                                         if o.approved_at <= run.ev.as_of
                                         and engine.covered(o, w)),
        })
    return {
        "policy_version": recon.policy.version,
        "state": decision.state,
        "missed_windows": [w.ref for w in decision.missed_streak],
        "late_windows": [w.ref for w in decision.late],
        "red_after_missed": recon.policy.red_after_missed,
        "windows": rows,
        "accepted_acks": acks,
    }
