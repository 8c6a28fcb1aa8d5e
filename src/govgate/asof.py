"""The as-of view: the loaded inputs as they were at an instant, applied once after loading.

A file read today may hold rows written after the evaluation instant T: runs scheduled later,
acks given later, a policy approved later, a freeze gate lifted later. No document evaluated at T
may state such a fact, so instead of every rule and every document remembering to skip them,
:func:`apply_as_of_view` removes them from the loaded inputs before anything is evaluated.
What stays is exactly what the files would have held at T (a row exists at T when the instant
that created it is at or before T; a lift after T is "not lifted yet").

The signer ack event export is the exception: it is aggregated on load on the nightly refresh
grid and the heat-map already sees it as of each refresh (an event requested after a refresh is
not in it, one answered after it is pending). Counts of the export at T are counted from those
aggregates at the refresh (see :func:`events_seen_by`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from .evaluation import Inputs
    from .fatigue.events import EventLog
    from .loaders.policies import PolicySet

__all__ = ["EventCounts", "apply_as_of_view", "events_seen_by", "policies_at"]

T = TypeVar("T")


def _known(rows: Iterable[T], at: datetime, attr: str) -> tuple[T, ...]:
    return tuple(r for r in rows if getattr(r, attr) <= at)


def policies_at(policies: PolicySet, at: datetime) -> PolicySet:
    """The policy documents approved at or before ``at`` (one without a date always counts).

    An epsilon policy approved after ``at`` was a draft at ``at``: a job manifest may already
    name its version, and that run is then undecided (a failing run, recon.provenance), exactly
    as for a draft, with no word of the later approval; it is not "missing from the folder".
    """
    docs = []
    for d in policies.docs:
        if d.approved_dt_utc is None or d.approved_dt_utc <= at:
            docs.append(d)
        elif d.kind == "epsilon_policy":
            docs.append(dataclasses.replace(d, approved_dt_utc=None))
    return dataclasses.replace(policies, docs=tuple(docs))


def _run_at(run: Any, at: datetime) -> Any:
    """A scheduler row as it read at ``at``: a run not started or not completed yet says so.

    Its start and completion after ``at`` (and the artifact the completed run left) are later
    facts; the status of a run that is still running is not decided yet either, which
    :func:`govgate.recon.state.effective_status` reads from the missing completion.
    """
    started = run.started_at if run.started_at is not None and run.started_at <= at else None
    if run.completed_at is None or run.completed_at <= at:
        return run if started == run.started_at else dataclasses.replace(run, started_at=started)
    return dataclasses.replace(run, started_at=started, completed_at=None, artifact_uri=None)


def _recon_at(recon: Any, at: datetime) -> Any:
    """Runs scheduled, acks given, evidence attached, packets approved, comms sent by ``at``."""
    runs = tuple(_run_at(r, at) for r in _known(recon.runs, at, "scheduled_at"))
    # A job folder (its manifest, exports and diff) is written by its run when it completes:
    # before that, or without a scheduled run, it does not exist yet.
    done = {r.job_run_id for r in runs if r.completed_at is not None}
    bootstrap = recon.bootstrap
    if bootstrap is not None and bootstrap.documented_at > at:
        bootstrap = None
    return dataclasses.replace(
        recon,
        runs=runs,
        jobs={k: v for k, v in recon.jobs.items() if k in done},
        acks=_known(recon.acks, at, "ack_dt_utc"),
        evidence=_known(recon.evidence, at, "attached_at"),
        overrides=_known(recon.overrides, at, "approved_at"),
        bootstrap=bootstrap,
        comms=_known(recon.comms, at, "sent_at"),
    )


def _promote_at(loaded: Any, at: datetime) -> Any:
    decisions = []
    for d in loaded.escalation_decisions:
        if d.decided_at > at:
            continue
        if d.lifted_at is not None and d.lifted_at > at:
            d = dataclasses.replace(d, lifted_at=None, lift_reason=None)
        decisions.append(d)
    return dataclasses.replace(
        loaded,
        policies=tuple(p for p in loaded.policies if p.approved_dt_utc <= at),
        manual_invocations=_known(loaded.manual_invocations, at, "invoked_at"),
        forced_reverts=_known(loaded.forced_reverts, at, "reverted_at"),
        escalation_decisions=tuple(decisions),
    )


def apply_as_of_view(inputs: Inputs, at: datetime) -> None:
    """Replace every timestamped built-in input by what existed at ``at`` (in place)."""
    from .recon.model import ReconInputs

    recon = inputs.get("reconciliation")
    if isinstance(recon, ReconInputs):
        inputs.put("reconciliation", _recon_at(recon, at))
    from .promote.model import PromoteInputs

    loaded = inputs.get("promote")
    if isinstance(loaded, PromoteInputs):
        inputs.put("promote", _promote_at(loaded, at))
    board = inputs.get("deficiency_trend_board")
    if isinstance(board, tuple):
        inputs.put("deficiency_trend_board", _known(board, at, "as_of"))


@dataclasses.dataclass(frozen=True, slots=True)
class EventCounts:
    """What the signer ack event export held as seen by one nightly refresh."""

    events: int
    signers: int
    cert_windows: int


def events_seen_by(log: EventLog, refresh: datetime) -> EventCounts:
    """Count the events requested before ``refresh`` (a refresh instant on the log's grid).

    Computed from the load's per-day aggregates, so it agrees with the heat-map at that refresh
    whatever the export holds after it.
    """
    from .fatigue.cells import FIELD_MASK, SUM_ROWS, split_key

    cutoff = (refresh - log.grid_origin).days
    events = 0
    signers = 0
    for load in log.signers:
        rows = sum((total >> SUM_ROWS) & FIELD_MASK for key, total in load.cells.items()
                   if split_key(key)[0] < cutoff)
        events += rows
        signers += rows > 0
    windows = {i for load in log.signers for i, days in load.window_days.items()
               if days and days[0] < cutoff}
    return EventCounts(events, signers, len(windows))
