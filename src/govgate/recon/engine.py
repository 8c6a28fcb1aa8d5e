"""The reconciliation rules of lesson 166 as pure functions of inputs and an instant."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, DecimalException

from ..decimals import exact, round_ratio
from ..errors import GovgateError
from ..semver import parse_semver
from ..timeutil import format_instant
from . import provenance
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
from .state import Eligibility, StateDecision, Timeline, effective_status

#: The relative delta is reported rounded half-even to this many decimals (display only: the
#: verdict compares exact values).
RELATIVE_PLACES = 10

CompareMetric = Callable[[str, Decimal | None, Decimal | None, Tolerance], DiffRow]
__all__ = ["Eligibility", "StateDecision", "Timeline", "effective_status"]


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
    Timeline(ReconInputs(inputs.policy, {}, (run,), {}), {}, run.scheduled_at)


def windows_at(inputs: ReconInputs, outcomes: dict[str, JobOutcome],
               as_of: datetime) -> list[WindowOutcome]:
    """Every scheduled window due at ``as_of`` with the best run it has by then.

    Builds the index each call: for many instants, build one :class:`Timeline` and query it.
    """
    return Timeline(inputs, outcomes, as_of).windows(as_of)


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


def decide_state(inputs: ReconInputs, outcomes: dict[str, JobOutcome], as_of: datetime,
                 elig: Eligibility) -> StateDecision:
    """The governance state as of an instant is that of the latest scheduled window that is
    not late (see :mod:`govgate.recon.state`)."""
    return Timeline(inputs, outcomes, as_of).state(as_of, elig)
