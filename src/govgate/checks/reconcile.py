"""Built-in plugin: the weekly reconciliation gate of lesson 166."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..hookspecs import hookimpl
from ..model import Finding, GovernanceState, Location, Severity
from ..recon import artifacts, engine
from ..recon.loader import load_recon_inputs
from ..recon.model import DiffRow, JobOutcome, ReconInputs, Tolerance, WindowOutcome
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

        def compare(m: str, lead: Decimal | None, part: Decimal | None, tol: Tolerance) -> DiffRow:
            row: DiffRow = hook.govgate_compare_metric(metric_id=m, leadership=lead,
                                                       partner=part, tolerance=tol)
            return row

        for run in recon.runs:
            engine.check_on_schedule(run, recon)
        self.outcomes: dict[str, JobOutcome] = {
            job_id: engine.evaluate_job(job, recon, compare)
            for job_id, job in sorted(recon.jobs.items())
        }

    def eligibility(self, window: WindowOutcome, previous: WindowOutcome | None,
                    at: datetime) -> str | None:
        result: str | None = self.ev.hook.govgate_window_eligibility(
            window=window, previous=previous, evaluation=self.ev, as_of=at)
        return result

    def windows(self, at: datetime) -> list[WindowOutcome]:
        return engine.windows_at(self.recon, self.outcomes, at)

    def state(self, at: datetime) -> engine.StateDecision:
        return engine.decide_state(self.windows(at), self.recon, at, self.eligibility)


@hookimpl
def govgate_evaluate(evaluation: Evaluation) -> Sequence[Finding] | None:
    recon: ReconInputs | None = evaluation.inputs.get(DOMAIN)
    if recon is None:
        return None
    run = _Run(evaluation, recon)
    as_of = evaluation.as_of
    findings: list[Finding] = []
    names = _write_artifacts(evaluation, recon, run.outcomes)
    findings += _integrity(recon, run)
    windows = run.windows(as_of)
    decision = run.state(as_of)
    evaluation.state = GovernanceState(decision.state)
    findings += _state_findings(evaluation, recon, decision)
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
    for job_id, outcome in outcomes.items():
        document = artifacts.diff_document(recon.jobs[job_id], outcome)
        as_json = artifacts.render_json(document)
        as_csv = artifacts.render_csv(outcome)
        names[job_id] = {
            "json": evaluation.add_artifact(artifacts.content_name(job_id, as_json, "json"),
                                            as_json),
            "csv": evaluation.add_artifact(artifacts.content_name(job_id, as_csv, "csv"), as_csv),
        }
    return names


def _integrity(recon: ReconInputs, run: _Run) -> list[Finding]:
    findings = []
    for row in recon.runs:
        if row.status == "SKIPPED":
            continue
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
    configured = evaluation.config.data.get("block_states")
    return frozenset(configured) if configured is not None else recon.policy.block_states


def _state_findings(evaluation: Evaluation, recon: ReconInputs,
                    decision: engine.StateDecision) -> list[Finding]:
    blocks = decision.state in _block_states(evaluation, recon)
    latest = decision.latest
    if latest is None:
        return [Finding("reconcile.state", "governance", Severity.INFO,
                        "no scheduled window is due yet: nothing to reconcile")]
    refs = [w.ref for w in decision.missed_streak]
    if decision.state == "red":
        message = (f"red: the {len(refs)} most recent scheduled windows have no PASS run "
                   f"({', '.join(refs)}); publish is blocked until an override packet with an "
                   "audit_id covers them or a PASS run lands")
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
                              "missed_windows": refs})]


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
            windows = run.windows(ack.ack_dt_utc)
            target = next((w for w in windows if w.job_run_id == ack.job_run_id), None)
            if target is None or not target.passed:
                status = target.status if target else "not due or not completed"
                reason = f"names {ack.job_run_id}, whose window is {status} at the ack"
            else:
                previous = windows[target.index - 1] if target.index else None
                state = run.eligibility(target, previous, ack.ack_dt_utc)
                if state != "green":
                    reason = (f"names {ack.job_run_id}, which is {state} (amber hold) at the ack: "
                              "attach remediation evidence or an override first")
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


def _pages(evaluation: Evaluation, recon: ReconInputs, run: _Run,
           decision: engine.StateDecision) -> list[Finding]:
    """Every red and completion-gap episode up to as-of: triggers, resolves, incidents."""
    from ..paging import episode_pages, incident_records

    findings = []
    as_of = evaluation.as_of
    for episode in [*_red_episodes(recon, run, as_of), *_gap_episodes(recon, run, as_of)]:
        evaluation.pages.extend(episode_pages(episode, as_of))
        evaluation.records.extend(incident_records(episode, as_of))
        if episode.dedup_key.startswith("govgate:reconcile:gap:") and episode.closed_at is None:
            last_id = episode.details["last_pass"]
            last_run = next((r for r in recon.runs if r.job_run_id == last_id), None)
            findings.append(Finding("reconcile.completion-gap", last_id, Severity.WARNING,
                                    episode.summary, owner_route="publish_gate",
                                    location=last_run.location if last_run else None))
    return findings


def _change_instants(recon: ReconInputs, run: _Run, as_of: datetime) -> list[datetime]:
    """The instants at which the governance state can change, up to as-of."""
    instants = [w.scheduled_at for w in run.windows(as_of)]
    for r in recon.runs:
        instants += [t for t in (r.started_at, r.completed_at) if t is not None]
    instants += [o.approved_at for o in recon.overrides]
    instants += [e.attached_at for e in recon.evidence]
    return [t for t in instants if t <= as_of]


def _red_episodes(recon: ReconInputs, run: _Run, as_of: datetime) -> list[Any]:
    from ..paging import Episode, StateAt, state_episodes

    def state_at(t: datetime) -> StateAt:
        d = run.state(t)
        if d.state == "red":
            return StateAt(True, tuple(w.ref for w in d.missed_streak))
        if d.overridden_by:
            return StateAt(False, reason=f"override {', '.join(d.overridden_by)} covers the "
                                         "missed windows")
        if d.latest is not None and d.latest.passed:
            return StateAt(False, reason=f"run {d.latest.job_run_id} passed")
        return StateAt(False, reason="fewer than two consecutive windows without a PASS run")

    windows = {w.ref: w for w in run.windows(as_of)}
    episodes = []
    for opened, closed, missed, why in state_episodes(_change_instants(recon, run, as_of),
                                                      state_at):
        # The page and the incident are facts of the instant red began: they name the two
        # windows that made it red, so a later run writes the very same records. The first of
        # them names the episode: a red that returns after an override is a new one.
        pair = missed[:2]
        if closed is not None:
            # A window that was running when the streak grew and passed later was not missed.
            done = {w.ref: w.passed for w in run.windows(closed)}
            missed = tuple(r for r in missed if r in pair or not done.get(r, False))
        ids = [windows[ref].job_run_id for ref in pair if ref in windows]
        episodes.append(Episode(
            dedup_key=f"govgate:reconcile:red:{pair[0]}", opened_at=opened, closed_at=closed,
            summary=(f"Reconciliation red: scheduled windows {', '.join(pair)} have no PASS "
                     "run (double skip); publish blocked"),
            source="govgate.reconcile", severity="critical", missed=missed, missed_at_open=pair,
            incident_key=f"incident:reconcile:red:{pair[0]}",
            incident_data={"missed_job_run_ids": [i for i in ids if i],
                           "missed_windows": list(pair), "opened_at": format_instant(opened),
                           "policy_version": recon.policy.version},
            closed_by=why))
    return episodes


def _gap_episodes(recon: ReconInputs, run: _Run, as_of: datetime) -> list[Any]:
    from ..paging import Episode, gap_episodes

    policy = recon.policy
    passes = [(r.completed_at, r.job_run_id) for r in recon.runs
              if r.completed_at is not None
              and engine.effective_status(r, run.outcomes, as_of) == "PASS"]
    windows = run.windows(as_of)
    first_due = windows[0].scheduled_at if windows else None
    limit = policy.page_max_gap + policy.page_grace
    episodes = []
    for last_id, opened, closed, baseline in gap_episodes(passes, first_due, limit, as_of):
        # Only a closed episode's list is written (in its resolve), as the windows were then.
        seen = run.windows(closed) if closed is not None else windows
        missed = tuple(w.ref for w in seen if baseline < w.scheduled_at and not w.passed)
        summary = (f"No successful reconciliation since {format_instant(baseline)} "
                   f"(limit {format_duration(limit)}): last PASS {last_id}")
        episodes.append(Episode(
            dedup_key=f"govgate:reconcile:gap:{last_id}", opened_at=opened, closed_at=closed,
            summary=summary, source="govgate.reconcile", severity="error", missed=missed,
            details={"last_pass": last_id}, closed_by="a PASS run completed"))
    return episodes


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
        if run.state(comm.sent_at).state == "red":
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
            "eligibility": run.eligibility(w, previous, run.ev.as_of),
            "epsilon_policy_version": job.manifest.epsilon_policy_version if job else None,
            "leadership_ingest_hash": outcome.leadership_ingest_hash if outcome else None,
            "partner_ingest_hash": outcome.partner_ingest_hash if outcome else None,
            "acks": [a for a in acks if a["job_run_id"] == w.job_run_id],
            "diff": names.get(w.job_run_id or ""),
        })
    return {
        "policy_version": recon.policy.version,
        "state": decision.state,
        "missed_windows": [w.ref for w in decision.missed_streak],
        "windows": rows,
        "accepted_acks": acks,
    }
