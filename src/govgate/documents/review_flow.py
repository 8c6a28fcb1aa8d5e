"""The review run: evaluate at the month's close, build the data, propose, replay the what-ifs.

Kept apart from the command so tests and other front ends can run a review in-process.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..checks.fatigue import CHECKPOINTS
from ..evaluate import load_inputs
from ..loaders.policies import PolicyDoc
from ..promote.model import PromoteInputs
from ..promote.policy import KIND
from ..timeutil import format_instant
from .periods import Period
from .picture import Grid, grid_from_sections
from .plugin import TREND_BOARD
from .proposal import Proposal, dump_policy, propose
from .review import build_review, month_refreshes
from .review_render import render_review
from .snapshots import Snapshot, evaluate_at
from .whatif import Outcome, candidate_from_bytes, outcome_of, replay_month

if TYPE_CHECKING:
    import pluggy

    from ..config import Config

__all__ = ["Review", "run_review"]


@dataclass(frozen=True)
class Review:
    """Everything the review command writes."""

    data: dict[str, Any]
    grid: Grid
    proposal: Proposal | None
    outcomes: tuple[Outcome, ...]
    markdown: str
    #: The evaluation at the month's close (the evidence manifest names its inputs).
    snapshot: Snapshot | None = None


def run_review(config: Config, pm: pluggy.PluginManager, period: Period, as_of: datetime,
               candidates: Sequence[tuple[str, bytes]] = ()) -> Review:
    """Review ``period`` as of ``as_of``; ``candidates`` are ``(name, policy bytes)`` to replay.

    :raises GovgateError: On bad inputs or a bad candidate policy (exit code 2).
    """
    # Parse candidates first: a bad file must fail before any evaluation work.
    parsed = [(name, candidate_from_bytes(data, name)) for name, data in candidates]
    close = period.close(as_of)
    inputs = load_inputs(config, pm, close)
    # Every what-if puts its policy in force from the month's first day: the history notes its
    # state there, and each replay reclassifies from that day on only.
    inputs.put(CHECKPOINTS, (period.start,))
    # A review names no reconciliation diff artifact (the readback does).
    snap = evaluate_at(config, pm, close, inputs, diff_artifacts=False)
    data = build_review(period, snap, snap.evaluation.inputs.get(TREND_BOARD) or ())
    outcomes = [outcome_of("in force", snap, period)]
    replays: dict[str, Outcome] = {}

    def replay(doc: PolicyDoc, label: str) -> Outcome:
        key = dump_policy(doc.data)
        if key not in replays:
            replays[key] = replay_month(config, pm, snap, period, doc, label)
        return replays[key]

    proposal = None
    base = snap.evaluation.inputs.get("policies")
    base_doc = base.active(KIND, snap.at) if base is not None else None
    loaded: PromoteInputs | None = snap.evaluation.inputs.get("promote")
    if base_doc is not None and loaded is not None:
        proposal = propose(period, base_doc, loaded.policies, data["findings"],
                           lambda doc: replay(doc, "search").counts["heatmap_red"])
        if proposal.document is not None:
            found = replay(proposal.document, "")
            outcomes.append(Outcome("proposed", (proposal.version or "",),
                                    found.counts, found.promote))
    for name, doc in parsed:
        result = replay(doc, "")
        outcomes.append(Outcome(f"candidate {name}", (doc.version,), result.counts,
                                result.promote))
    refreshes = month_refreshes(snap.history, period, snap.at)
    grid = grid_from_sections(
        {"history": {"days": [format_instant(r.at) for r in refreshes],
                     "signers": {s: [r.classification.get(s, "none") for r in refreshes]
                                 for s in sorted({s for r in refreshes
                                                  for s in r.classification})}}},
        snap.section("promote"))
    data["proposal"] = None if proposal is None else {
        "base_version": proposal.base_version, "version": proposal.version,
        "file": proposal.file_name, "reasons": list(proposal.reasons),
        "decisions": list(proposal.decisions),
        "changes": [c.to_dict() for c in proposal.changes]}
    data["whatif"] = [{"label": o.label, "versions": list(o.versions), "counts": o.counts}
                      for o in outcomes]
    markdown = render_review(data, grid, proposal, outcomes, f"review-{period.slug}-heatmap.svg")
    return Review(data, grid, proposal, tuple(outcomes), markdown, snap)
