"""Do a job's inputs belong to the run they decide?

Parity between the manifest and its two exports proves only that the three files agree with each
other: a whole folder copied from another week agrees with itself. These checks tie the inputs to
the run: the folder names the run, the manifest's window is the window the schedule gives that
run's scheduler row, and the epsilon policy that decides it was approved by the instant of the
decision. A failed check is a problem of that run (it FAILs, and a scheduler row claiming PASS
becomes a blocking finding); a file that cannot be read at all stays bad input (exit 2).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from datetime import datetime

from ..timeutil import format_instant
from .model import EpsilonPolicy, JobInputs, ReconInputs, ReconPolicy, SchedulerRow


def scheduled_window(policy: ReconPolicy, scheduled_at: datetime) -> tuple[datetime, datetime]:
    """The window ``[start, end)`` a run scheduled at ``scheduled_at`` reconciles.

    The job of window ``[start, end)`` is scheduled at ``end + run_offset``; this is the single
    place that inverts it (a schedule of another shape changes only this function).
    """
    end = scheduled_at - policy.run_offset
    if policy.cron is None:
        return end - policy.period, end
    # A calendar's windows differ in length (daylight-saving changes): the window ending at
    # ``end`` starts at the bound before it.
    bounds = _cron_bounds(policy, end)
    at = bisect.bisect_left(bounds, end)
    return (bounds[at - 1] if at else end), end


#: Per cron policy: its window bounds so far (extended on demand), so that looking up every
#: job's window stays linear in the number of windows.
_BOUNDS: dict[int, tuple[ReconPolicy, list[datetime], Iterator[datetime]]] = {}


def _cron_bounds(policy: ReconPolicy, until: datetime) -> list[datetime]:
    from .schedule import bounds

    entry = _BOUNDS.get(id(policy))
    if entry is None or entry[0] is not policy:
        entry = _BOUNDS[id(policy)] = (policy, [], bounds(policy))
    _, known, rest = entry
    while not known or known[-1] < until:
        step = next(rest, None)
        if step is None:
            break
        known.append(step)
    return known


def unapproved(eps: EpsilonPolicy, at: datetime) -> bool:
    """A draft (no approval) or a policy approved after ``at`` decides nothing at ``at``."""
    return eps.approved_at is None or eps.approved_at > at


def job_problems(job_run_id: str, job: JobInputs, inputs: ReconInputs,
                 as_of: datetime) -> list[str]:
    """Why ``job`` cannot decide the run ``job_run_id`` (its folder's name) at ``as_of``."""
    problems: list[str] = []
    m = job.manifest
    if m.job_run_id != job_run_id:
        problems.append(f"provenance: the manifest names job_run_id {m.job_run_id}, but its "
                        f"folder is {job_run_id}'s: these inputs belong to another run")
    row = _row(inputs, job_run_id)
    if row is not None:
        start, end = scheduled_window(inputs.policy, row.scheduled_at)
        if (m.start_inclusive, m.end_exclusive) != (start, end):
            problems.append(
                f"provenance: the manifest covers [{format_instant(m.start_inclusive)}, "
                f"{format_instant(m.end_exclusive)}) but {job_run_id}, scheduled at "
                f"{format_instant(row.scheduled_at)}, reconciles [{format_instant(start)}, "
                f"{format_instant(end)}): these inputs belong to another window")
    eps = inputs.epsilon_policies.get(m.epsilon_policy_version)
    if eps is not None and unapproved(eps, as_of):
        # The same words for a draft and for a policy approved later: at as-of both are drafts,
        # and no output at as-of may state a fact from after it.
        problems.append(
            f"provenance: epsilon_policy {eps.version} ({eps.source}) is not approved "
            f"(approved_by, approved_dt_utc) at or before {format_instant(as_of)}: it cannot "
            "decide the run")
    return problems


def _row(inputs: ReconInputs, job_run_id: str) -> SchedulerRow | None:
    return inputs.run_by_id.get(job_run_id)
