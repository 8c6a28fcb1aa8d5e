"""The reconciliation rules of lesson 166 as pure functions of inputs and an instant."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, DecimalException

from ..decimals import exact, round_ratio
from ..errors import GovgateError
from ..timeutil import format_instant
from . import provenance
from .loader import window_grid
from .model import (
    DiffRow,
    JobInputs,
    JobOutcome,
    OverridePacket,
    ReconInputs,
    SchedulerRow,
    Tolerance,
    WindowOutcome,
)

#: The relative delta is reported rounded half-even to this many decimals (display only: the
#: verdict compares exact values).
RELATIVE_PLACES = 10

CompareMetric = Callable[[str, Decimal | None, Decimal | None, Tolerance], DiffRow]
Eligibility = Callable[[WindowOutcome, WindowOutcome | None, datetime], str | None]


def compare_metric(metric_id: str, leadership: Decimal | None, partner: Decimal | None,
                   tolerance: Tolerance) -> DiffRow:
    """The epsilon rule: the leadership rollup is the reference; one-sided metrics fail."""
    if leadership is None or partner is None:
        return DiffRow(metric_id, leadership, partner, None, None, None, "fail",
                       tolerance.owner_route)
    # In EXACT: in the default 28-digit context `-`, `*` and abs() round, and a delta 1e-22
    # beyond the tolerance of a large value would compare as within it.
    with exact():
        delta = partner - leadership
        used = max(tolerance.abs_tol, tolerance.rel_tol * abs(leadership))
        ok = abs(delta) <= used
    relative = (round_ratio(delta, leadership.copy_abs(), RELATIVE_PLACES) if leadership
                else None)
    return DiffRow(metric_id, leadership, partner, delta, relative, used,
                   "pass" if ok else "fail", None if ok else tolerance.owner_route)


def evaluate_job(job: JobInputs, inputs: ReconInputs, compare: CompareMetric,
                 as_of: datetime | None = None) -> JobOutcome:
    """Recompute a job's verdict from its manifest and both exports.

    With ``as_of`` (the gate always passes it) the inputs' provenance is checked too: they must
    belong to the run of their folder and its scheduled window, and the epsilon policy must be
    approved at ``as_of``.
    """
    m, lead, part = job.manifest, job.leadership, job.partner
    policy = inputs.policy
    problems: list[str] = []
    decided_from = None
    if as_of is not None:
        problems += provenance.job_problems(job.run_id, job, inputs, as_of)
        decided_from = inputs.epsilon_policies[m.epsilon_policy_version].approved_at
    window = (m.start_inclusive, m.end_exclusive)
    for export in (lead, part):
        if (export.start_inclusive, export.end_exclusive) != window:
            problems.append(
                f"window parity: {export.side} export covers "
                f"[{format_instant(export.start_inclusive)}, "
                f"{format_instant(export.end_exclusive)}) but the manifest covers "
                f"[{format_instant(window[0])}, {format_instant(window[1])})")
        if export.tuple_revision_hash != m.tuple_revision_hash:
            problems.append(f"tuple_revision_hash of the {export.side} export "
                            f"({export.tuple_revision_hash}) differs from the manifest's "
                            f"({m.tuple_revision_hash})")
        if export.declared_ingest_hash != export.computed_ingest_hash:
            problems.append(f"ingest_hash of the {export.side} export does not match its rows "
                            f"(declared {export.declared_ingest_hash}, computed "
                            f"{export.computed_ingest_hash})")
    if lead.export_id != m.leadership_rollup_query_id:
        problems.append(f"leadership_rollup_query_id {lead.export_id} is not the manifest's "
                        f"{m.leadership_rollup_query_id}")
    if part.export_id != m.partner_annex_export_id:
        problems.append(f"partner_annex_export_id {part.export_id} is not the manifest's "
                        f"{m.partner_annex_export_id}")
    from ..semver import parse_semver

    footer = part.footer_schema_semver or "0.0.0"
    if parse_semver(footer) > policy.contract_max_semver:
        problems.append(f"annex rejected: footer_schema_semver {footer} is newer than "
                        f"contract_max_semver {policy.contract_max_semver_text}")
    eps = inputs.epsilon_policies[m.epsilon_policy_version]
    rows = tuple(
        _compare(compare, metric_id, job, eps.tolerances[metric_id])
        for metric_id in sorted(set(lead.values) | set(part.values))
    )
    annex_rejected = any(p.startswith("annex rejected") for p in problems)
    status = "PASS" if not problems and all(r.result == "pass" for r in rows) else "FAIL"
    if annex_rejected:
        # A rejected annex is never compared: its rows cannot be trusted to mean the same thing.
        rows = ()
    return JobOutcome(job.run_id, status, rows, tuple(problems),
                      lead.computed_ingest_hash, part.computed_ingest_hash,
                      decided_from=decided_from)


def _compare(compare: CompareMetric, metric_id: str, job: JobInputs,
             tolerance: Tolerance) -> DiffRow:
    """One metric through the compare hook; a number no exact computation can hold (a trap of
    the decimal context) is bad input naming the file and the metric, not an internal error."""
    try:
        return compare(metric_id, job.leadership.values.get(metric_id),
                       job.partner.values.get(metric_id), tolerance)
    except DecimalException as exc:
        line = job.partner.value_lines.get(metric_id) or job.leadership.value_lines.get(metric_id)
        raise GovgateError(
            f"metric_id {metric_id!r} cannot be compared exactly "
            f"({type(exc).__name__}): its values or tolerances are out of range",
            source=job.partner.location.path,
            where=f"line {line}, metric_id" if line else "metric_id") from None


def check_on_schedule(run: SchedulerRow, inputs: ReconInputs) -> None:
    """A scheduler row must sit on the schedule's grid; anything else is bad input."""
    policy = inputs.policy
    first = policy.anchor + policy.period + policy.run_offset
    offset = run.scheduled_at - first
    if offset.total_seconds() < 0 or offset % policy.period:
        raise GovgateError(
            f"scheduled_at {format_instant(run.scheduled_at)} is not a scheduled instant of "
            f"{policy.source} (first {format_instant(first)}, every {policy.period})",
            source=run.location.path, where=f"row {run.location.line}, column scheduled_at")


def effective_status(run: SchedulerRow, outcomes: dict[str, JobOutcome], as_of: datetime) -> str:
    """The status govgate stands behind at ``as_of`` (a run completed later is still running)."""
    if run.status == "SKIPPED":
        return "SKIPPED"
    if run.completed_at is None or run.completed_at > as_of:
        return "RUNNING"
    outcome = outcomes.get(run.job_run_id)
    if outcome is None:
        # A PASS claimed without its inputs cannot be replayed, so it does not count.
        return "FAIL"
    if outcome.decided_from is not None and as_of < outcome.decided_from:
        return "FAIL"  # its epsilon policy was not approved yet: nothing decided it then
    return outcome.status


_RANK = {"PASS": 0, "FAIL": 1, "RUNNING": 2, "SKIPPED": 3}


def windows_at(inputs: ReconInputs, outcomes: dict[str, JobOutcome],
               as_of: datetime) -> list[WindowOutcome]:
    """Every scheduled window due at ``as_of`` with the best run it has by then."""
    by_slot: dict[datetime, list[SchedulerRow]] = {}
    for run in inputs.runs:
        if run.scheduled_at <= as_of:
            by_slot.setdefault(run.scheduled_at, []).append(run)
    out = []
    for index, (start, end, scheduled) in enumerate(window_grid(inputs.policy, as_of)):
        candidates = [(effective_status(r, outcomes, as_of), r) for r in by_slot.get(scheduled, [])]
        if not candidates:
            out.append(WindowOutcome(index, start, end, scheduled, "MISSING", None))
            continue
        # Best status first; among equals the latest completion, then the id, for determinism.
        status, run = min(candidates, key=lambda c: (
            _RANK[c[0]], -(c[1].completed_at or c[1].scheduled_at).timestamp(),
            c[1].job_run_id))
        out.append(WindowOutcome(index, start, end, scheduled, status, run.job_run_id,
                                 run.completed_at if status in ("PASS", "FAIL") else None,
                                 run.skip_reason))
    return out


def covered(override: OverridePacket, window: WindowOutcome) -> bool:
    if window.job_run_id is not None and window.job_run_id in override.covers_job_run_ids:
        return True
    return window.start_inclusive in override.covers_window_starts


def eligibility(window: WindowOutcome, previous: WindowOutcome | None, inputs: ReconInputs,
                as_of: datetime) -> str | None:
    """green / amber for a PASS window; None when there is no PASS run to acknowledge."""
    if not window.passed:
        return None
    boot = inputs.bootstrap
    if previous is None:
        if (boot is not None and boot.job_run_id == window.job_run_id
                and boot.documented_at <= as_of):
            return "green"
    elif previous.passed:
        return "green"
    remediated = any(e.job_run_id == window.job_run_id and e.attached_at <= as_of
                     for e in inputs.evidence)
    overridden = any(o.approved_at <= as_of and covered(o, window) for o in inputs.overrides)
    return "green" if remediated or overridden else "amber"


@dataclass(frozen=True)
class StateDecision:
    state: str  # green | amber | red
    latest: WindowOutcome | None
    #: The consecutive windows without a PASS run ending at the latest one (red: 2 or more).
    missed_streak: tuple[WindowOutcome, ...]
    overridden_by: tuple[str, ...] = ()


def decide_state(windows: Sequence[WindowOutcome], inputs: ReconInputs, as_of: datetime,
                 elig: Eligibility) -> StateDecision:
    """The governance state as of an instant is that of the latest scheduled window."""
    if not windows:
        return StateDecision("green", None, ())
    streak: list[WindowOutcome] = []
    for w in reversed(windows):
        if w.passed:
            break
        streak.insert(0, w)
    latest = windows[-1]
    if len(streak) >= 2:
        pair = streak[-2:]
        overrides = sorted(
            {o.audit_id for o in inputs.overrides for w in pair
             if o.approved_at <= as_of and covered(o, w)})
        if all(any(o.approved_at <= as_of and covered(o, w) for o in inputs.overrides)
               for w in pair):
            return StateDecision("amber", latest, tuple(streak), tuple(overrides))
        return StateDecision("red", latest, tuple(streak))
    if streak:
        return StateDecision("amber", latest, tuple(streak))
    previous = windows[-2] if len(windows) > 1 else None
    state = elig(latest, previous, as_of) or "amber"
    return StateDecision(state, latest, ())
