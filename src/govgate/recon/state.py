"""Windows, late versus missed, and the governance state at any instant up to as-of.

The schedule is indexed once per evaluation (a sorted list of scheduled instants, the runs of
each window, the overrides by what they cover), so the state at an ack's or a comm's instant
costs a look-up of the window and its predecessor, not a rebuild of every window.

Late versus missed: a due window without a completed run is LATE until its deadline,
``scheduled_at + late_grace``, extended to ``started_at + max_runtime`` for a run that started
before that. A LATE window does not exist yet as far as the state goes: the state is decided
from the windows before the first LATE one. At the deadline (exactly) an incomplete window is a
miss; a run completed at or before the deadline counts.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ..errors import GovgateError
from ..timeutil import format_instant
from .model import JobOutcome, ReconInputs, SchedulerRow, WindowOutcome
from .schedule import describe, window_grid

Eligibility = Callable[[WindowOutcome, WindowOutcome | None, datetime], str | None]

_RANK = {"PASS": 0, "FAIL": 1, "RUNNING": 2, "SKIPPED": 3}


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


@dataclass(frozen=True)
class StateDecision:
    state: str  # green | amber | red
    #: The latest window the state is decided from (LATE windows do not count yet).
    latest: WindowOutcome | None
    #: The consecutive windows without a PASS run ending at the latest one.
    missed_streak: tuple[WindowOutcome, ...]
    overridden_by: tuple[str, ...] = ()
    #: Due windows whose run is not complete yet but still inside its grace.
    late: tuple[WindowOutcome, ...] = ()
    #: Red only: the windows among the last ``red_after_missed`` that no override covers.
    uncovered: tuple[WindowOutcome, ...] = ()


class Timeline:
    """The scheduled windows of one evaluation, indexed once, queried at any instant."""

    def __init__(self, inputs: ReconInputs, outcomes: dict[str, JobOutcome], as_of: datetime):
        self.inputs = inputs
        self.policy = policy = inputs.policy
        self.outcomes = outcomes
        self.as_of = as_of
        latest_row = max((r.scheduled_at for r in inputs.runs), default=as_of)
        grid = window_grid(policy, max(as_of, latest_row))
        self.starts = [g[0] for g in grid]
        self.ends = [g[1] for g in grid]
        self.scheduled = [g[2] for g in grid]
        index = {s: i for i, s in enumerate(self.scheduled)}
        self.slots: list[list[SchedulerRow]] = [[] for _ in grid]
        self.window_of: dict[str, int] = {}
        for run in inputs.runs:
            i = index.get(run.scheduled_at)
            if i is None:
                first = format_instant(self.scheduled[0]) if grid else "none yet"
                raise GovgateError(
                    f"scheduled_at {format_instant(run.scheduled_at)} is not a scheduled "
                    f"instant of {policy.source} (first {first}, {describe(policy)})",
                    source=run.location.path,
                    where=f"row {run.location.line}, column scheduled_at")
            self.slots[i].append(run)
            self.window_of[run.job_run_id] = i
        #: When each window first has a PASS run (a PASS is final), None if never by as-of.
        self.pass_at: list[datetime | None] = []
        for runs in self.slots:
            done = [r.completed_at for r in runs if r.completed_at is not None
                    and r.completed_at <= as_of
                    and effective_status(r, outcomes, r.completed_at) == "PASS"]
            self.pass_at.append(min(done) if done else None)
        self.late_span = policy.late_grace + policy.max_runtime
        self._covers: dict[str, list[tuple[datetime, str]]] = {}
        for o in inputs.overrides:
            refs = set(o.covers_job_run_ids)
            refs |= {f"@{format_instant(s)}" for s in o.covers_window_starts}
            for ref in refs:
                self._covers.setdefault(ref, []).append((o.approved_at, o.audit_id))

    # -- windows ---------------------------------------------------------------------------

    def due(self, at: datetime) -> int:
        """How many windows are due (scheduled at or before ``at``)."""
        return bisect_right(self.scheduled, at)

    def passed(self, i: int, at: datetime) -> bool:
        p = self.pass_at[i]
        return p is not None and p <= at

    def deadline(self, i: int, at: datetime) -> datetime:
        """When window ``i`` becomes a miss unless its run completes, as known at ``at``."""
        grace_end = self.scheduled[i] + self.policy.late_grace
        deadline = grace_end
        for r in self.slots[i]:
            if (r.status != "SKIPPED" and r.started_at is not None and r.started_at <= at
                    and r.started_at < grace_end):
                deadline = max(deadline, r.started_at + self.policy.max_runtime)
        return deadline

    def outcome(self, i: int, at: datetime) -> WindowOutcome:
        """Window ``i`` (due at ``at``) with the best run it has by then."""
        start, end, scheduled = self.starts[i], self.ends[i], self.scheduled[i]
        candidates = [(effective_status(r, self.outcomes, at), r) for r in self.slots[i]]
        if candidates:
            # Best status first; among equals the latest completion, then the id.
            status, run = min(candidates, key=lambda c: (
                _RANK[c[0]], -(c[1].completed_at or c[1].scheduled_at).timestamp(),
                c[1].job_run_id))
            run_id: str | None = run.job_run_id
        else:
            status, run, run_id = "MISSING", None, None
        if status in ("RUNNING", "MISSING"):
            deadline = self.deadline(i, at)
            if at < deadline:
                return WindowOutcome(i, start, end, scheduled, "LATE", run_id,
                                     late_until=deadline)
        if run is None:
            return WindowOutcome(i, start, end, scheduled, status, None)
        return WindowOutcome(i, start, end, scheduled, status, run_id,
                             run.completed_at if status in ("PASS", "FAIL") else None,
                             run.skip_reason)

    def windows(self, at: datetime) -> list[WindowOutcome]:
        """Every window due at ``at``, LATE ones included."""
        return [self.outcome(i, at) for i in range(self.due(at))]

    def cut(self, at: datetime) -> tuple[int, list[WindowOutcome]]:
        """The number of windows the state counts at ``at`` (those before the first LATE one),
        and the LATE windows."""
        n = self.due(at)
        cut, late = n, []
        i = n - 1
        # Only a window due less than late_grace + max_runtime ago can still be late.
        while i >= 0 and self.scheduled[i] + self.late_span > at:
            w = self.outcome(i, at)
            if w.status == "LATE":
                cut = i
                late.append(w)
            i -= 1
        return cut, late[::-1]

    # -- overrides -------------------------------------------------------------------------

    def covering(self, w: WindowOutcome, at: datetime) -> list[str]:
        """Audit ids of overrides approved by ``at`` that cover window ``w``."""
        keys = [f"@{format_instant(w.start_inclusive)}"]
        if w.job_run_id is not None:
            keys.append(w.job_run_id)
        return sorted({audit for k in keys for approved, audit in self._covers.get(k, ())
                       if approved <= at})

    # -- the state -------------------------------------------------------------------------

    def red_at(self, at: datetime) -> tuple[WindowOutcome, ...] | None:
        """The uncovered windows that make the state red at ``at``, None when it is not red."""
        cut, _ = self.cut(at)
        n = self.policy.red_after_missed
        if cut < n or any(self.passed(i, at) for i in range(cut - n, cut)):
            return None
        last = [self.outcome(i, at) for i in range(cut - n, cut)]
        uncovered = tuple(w for w in last if not self.covering(w, at))
        return uncovered or None

    def state(self, at: datetime, elig: Eligibility) -> StateDecision:
        """The governance state at ``at``: that of the latest window the state counts."""
        cut, late = self.cut(at)
        if cut == 0:
            return StateDecision("green", None, (), late=tuple(late))
        latest = self.outcome(cut - 1, at)
        streak: list[WindowOutcome] = []
        i = cut - 1
        while i >= 0 and not self.passed(i, at):
            streak.append(latest if i == cut - 1 else self.outcome(i, at))
            i -= 1
        streak.reverse()
        n = self.policy.red_after_missed
        if len(streak) >= n:
            last = streak[-n:]
            covers = [self.covering(w, at) for w in last]
            if all(covers):
                return StateDecision("amber", latest, tuple(streak),
                                     tuple(sorted({a for c in covers for a in c})),
                                     late=tuple(late))
            uncovered = tuple(w for w, c in zip(last, covers, strict=True) if not c)
            return StateDecision("red", latest, tuple(streak), late=tuple(late),
                                 uncovered=uncovered)
        if streak:
            return StateDecision("amber", latest, tuple(streak), late=tuple(late))
        previous = self.outcome(cut - 2, at) if cut > 1 else None
        state = elig(latest, previous, at) or "amber"
        return StateDecision(state, latest, (), late=tuple(late))
