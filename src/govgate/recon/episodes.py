"""Episodes of the paged reconciliation conditions: when each began, when and why it ended.

A red episode is a spell of red states with one identity: the uncovered missed windows that
made the state red at the instant it turned red. It lasts while the state stays red and every
window it names is still an uncovered miss of the current streak; an override covering one of
them, a PASS, or the state leaving red ends it. A red that comes back after that is a new
episode with its own windows and key, so a key that was paged is never reused.

The state only changes at known instants (a window's deadline, a run's completion, an
override's approval), so the spells are found by evaluating the state at those instants in
order, each evaluation costing a look-up of the last few windows: linear in the schedule.

A completion-gap episode runs from ``last PASS completion + max_gap + grace`` to the next PASS.
"""

from __future__ import annotations

from datetime import datetime

from ..model import Episode
from .model import WindowOutcome
from .state import Timeline, effective_status

RED = "reconcile.red"
GAP = "reconcile.gap"


def red_key(named: tuple[WindowOutcome, ...], full: bool) -> str:
    """The dedup key of a red episode's page.

    ``full`` (every one of the last ``red_after_missed`` windows is uncovered, the usual case)
    keeps the historical key, the first missed window's ref; a red that an override left only
    partly uncovered names all of its windows, so it never collides with another episode.
    """
    refs = [w.ref for w in named]
    return f"govgate:reconcile:red:{refs[0]}" if full else \
        "govgate:reconcile:red:" + "+".join(refs) + ":partial"


def incident_key(page_key: str) -> str:
    return "incident:" + page_key.removeprefix("govgate:")


def _events(tl: Timeline) -> list[datetime]:
    as_of = tl.as_of
    events: set[datetime] = set()
    for i in range(tl.due(as_of)):
        events.add(tl.scheduled[i])
        deadline = tl.deadline(i, as_of)
        if deadline <= as_of:
            events.add(deadline)
        for run in tl.slots[i]:
            if run.completed_at is not None and run.completed_at <= as_of:
                events.add(run.completed_at)
    events.update(o.approved_at for o in tl.inputs.overrides if o.approved_at <= as_of)
    return sorted(events)


def _pass_run(tl: Timeline, i: int) -> str:
    at = tl.pass_at[i]
    assert at is not None
    return next(r.job_run_id for r in sorted(tl.slots[i], key=lambda r: r.job_run_id)
                if r.completed_at == at and effective_status(r, tl.outcomes, at) == "PASS")


class _Open:
    def __init__(self, named: tuple[WindowOutcome, ...], opened_at: datetime, full: bool):
        self.named = named
        self.opened_at = opened_at
        self.key = red_key(named, full)
        self.first = named[0].index
        #: Windows [first, scanned) were looked at; the earliest PASS among them (time, index).
        self.scanned = self.first
        self.earliest: tuple[datetime, int] | None = None


def _first_pass(tl: Timeline, ep: _Open, cut: int, at: datetime) -> int | None:
    """The window of the episode's streak whose PASS came first, if one came by ``at``."""
    while ep.scanned < cut:
        p = tl.pass_at[ep.scanned]
        if p is not None and (ep.earliest is None or p < ep.earliest[0]):
            ep.earliest = (p, ep.scanned)
        ep.scanned += 1
    if ep.earliest is not None and ep.earliest[0] <= at:
        return ep.earliest[1]
    return None


def _close(tl: Timeline, ep: _Open, at: datetime | None, pass_index: int | None,
           cut: int) -> Episode:
    # Up to the PASS that ended it; a named window that passed late ends it without bounding
    # the windows that were missed.
    last_named = ep.named[-1].index
    end = pass_index if pass_index is not None and pass_index > last_named else cut
    when = at if at is not None else tl.as_of
    missed = tuple(tl.outcome(i, when).ref for i in range(ep.first, end)
                   if not tl.passed(i, when))
    closed_by: str | None = None
    if at is not None:
        if pass_index is not None:
            closed_by = _pass_run(tl, pass_index)
        else:
            audits = sorted({a for i in range(ep.first, cut)
                             for a in tl.covering(tl.outcome(i, at), at)})
            closed_by = "override:" + ",".join(audits) if audits else None
    return Episode(RED, ep.key, ep.opened_at, at, closed_by, tuple(w.ref for w in ep.named),
                   missed, incident_key(ep.key))


def red_episodes(tl: Timeline) -> list[Episode]:
    """Every red episode that opened by as-of, in the order they opened."""
    out: list[Episode] = []
    current: _Open | None = None
    n = tl.policy.red_after_missed
    for t in _events(tl):
        red = tl.red_at(t)
        if current is not None:
            cut, _ = tl.cut(t)
            # A PASS among windows not yet scanned may have completed before t; pass_at is
            # final, so check it against t.
            pass_index = _first_pass(tl, current, cut, t)
            uncovered = all(not tl.covering(tl.outcome(w.index, t), t) for w in current.named)
            if red is None or pass_index is not None or not uncovered:
                out.append(_close(tl, current, t, pass_index, cut))
                current = None
        if current is None and red is not None:
            current = _Open(red, t, len(red) == n)
    if current is not None:
        cut, _ = tl.cut(tl.as_of)
        out.append(_close(tl, current, None, None, cut))
    return out


def gap_episodes(tl: Timeline) -> list[Episode]:
    """Every spell without a PASS completion longer than the policy's max_gap + grace."""
    as_of, policy = tl.as_of, tl.policy
    limit = policy.page_max_gap + policy.page_grace
    passes: list[tuple[datetime | None, int | None]] = sorted(
        (p, i) for i, p in enumerate(tl.pass_at[:tl.due(as_of)]) if p is not None)
    if not tl.scheduled or tl.scheduled[0] > as_of:
        return []
    out: list[Episode] = []
    # Before the first PASS the baseline is the first window's scheduled instant.
    base: datetime = tl.scheduled[0]
    base_index, base_id = -1, "never"
    for p, i in [*passes, (None, None)]:
        end = p if p is not None else as_of
        if end - base > limit:
            last = i if i is not None else tl.cut(as_of)[0]
            missed = tuple(tl.outcome(j, end).ref for j in range(base_index + 1, last)
                           if not tl.passed(j, end))
            out.append(Episode(GAP, f"govgate:reconcile:gap:{base_id}", base + limit, p,
                               _pass_run(tl, i) if i is not None else None, (), missed))
        if p is None or i is None:
            break
        base, base_index, base_id = p, i, _pass_run(tl, i)
    return out
