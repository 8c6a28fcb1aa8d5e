"""What-if: replay a month under a candidate ``backup_owner_policy`` and count what it produces.

Lesson 174: "if no ``heatmap_red`` row produces a promote event in a full month, the thresholds
are wrong ... lower the threshold until the system actually promotes". A what-if answers that
before a policy is approved: the project's loaded inputs are evaluated again at the month's close
with the candidate in force from the month's first instant (earlier versions stay in force
before it, later ones are dropped), through the same plugins and hooks as the gate -- the
heat-map is reclassified with the candidate's thresholds and the promote engine replays rung 1,
2 and 3.

A candidate changes only the promote side (and maybe the thresholds), so a replay evaluates only
that: the promote domain and the fatigue history it reads (shared with the baseline when the
thresholds are the same), never the reconciliation or the artifacts. An outcome keeps the
promote section it counted, not the evaluation, so replays are let go as soon as they are
counted.

Rung-2 decisions are the team lead's real answers: under a candidate a decision only applies
when its page exists there too, so freeze gates are counted as applied decisions, next to the
rung-2 pages on a critical path (the pages that could have become freeze gates).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..errors import GovgateError
from ..evaluation import Inputs
from ..loaders.policies import PolicyDoc, PolicySet, parse_policy
from ..promote.model import BackupOwnerPolicy, PromoteInputs
from ..promote.policy import KIND, policy_from_doc
from ..timeutil import parse_instant
from .periods import Period
from .snapshots import Snapshot

if TYPE_CHECKING:
    import pluggy

    from ..config import Config

__all__ = ["METRICS", "Outcome", "candidate_from_bytes", "month_counts", "replay_month"]

#: (key, label) of the compared counts, in table order.
METRICS: tuple[tuple[str, str], ...] = (
    ("promotes", "backup promotes (rung 1)"),
    ("heatmap_red", "… by heatmap_red"),
    ("pending_acks_aged", "… by pending_acks_aged"),
    ("manual_invocation", "… by manual_invocation"),
    ("rung2_pages", "rung-2 pages"),
    ("critical_pages", "rung-2 pages on a critical path (freeze-gate candidates)"),
    ("freeze_gates", "freeze gates applied (rung 3)"),
)


@dataclass(frozen=True)
class Outcome:
    """One policy's month: its label, the versions in force, the counts and the promote section
    they were counted from."""

    label: str
    versions: tuple[str, ...]
    counts: dict[str, int]
    promote: dict[str, Any]


def candidate_from_bytes(data: bytes, source: str) -> PolicyDoc:
    """Parse a candidate policy file; it must be a valid ``kind: backup_owner_policy``.

    :raises GovgateError: On a schema or invariant error, naming the file and the place.
    """
    doc = parse_policy(data, source)
    if doc.kind != KIND:
        raise GovgateError(f"a what-if candidate must be kind {KIND}, not {doc.kind}",
                           source=source, where="/kind")
    policy_from_doc(doc)  # the invariants (primary differs from backup, ...) fail here
    return doc


def _in_force_from(doc: PolicyDoc, start: datetime, existing: Sequence[PolicyDoc]) -> PolicyDoc:
    """The candidate approved at ``start`` and ordered above every existing version, so it is
    the version in force at each refresh of the month whatever its own version number."""
    highest = max((d.key for d in existing), default=(0, 0, 0))
    key = doc.key if doc.key > highest else (highest[0], highest[1], highest[2] + 1)
    return dataclasses.replace(doc, key=key, approved_dt_utc=start)


def with_candidate(inputs: Inputs, candidate: PolicyDoc, start: datetime) -> Inputs:
    """A copy of loaded inputs where ``candidate`` is the policy in force from ``start`` on."""
    policies: PolicySet = inputs.get("policies")
    mine = policies.of_kind(KIND)
    kept = [d for d in mine if d.approved_dt_utc is not None and d.approved_dt_utc < start]
    effective = _in_force_from(candidate, start, mine)
    others = [d for d in policies.docs if d.kind != KIND]
    replaced = Inputs(dict(inputs.domains))
    replaced.put("policies", PolicySet((*others, *kept, effective)))
    loaded: PromoteInputs | None = inputs.get("promote")
    versions = tuple(policy_from_doc(d) for d in (*kept, effective))
    replaced.put("promote", dataclasses.replace(loaded or PromoteInputs(), policies=versions))
    return replaced


def _within(period: Period, close: datetime, instant: str | None) -> bool:
    if not instant:
        return False
    at = parse_instant(instant)
    return period.start <= at < period.end and at <= close


def month_counts(snapshot: Snapshot, period: Period) -> dict[str, int]:
    """The :data:`METRICS` of one evaluation, restricted to the period."""
    loaded: PromoteInputs | None = snapshot.evaluation.inputs.get("promote")
    return _counts(snapshot.section("promote"), loaded, snapshot.at, period)


def _counts(section: dict[str, Any], loaded: PromoteInputs | None, close: datetime,
            period: Period) -> dict[str, int]:
    promotes = [p for p in section.get("promotes", ())
                if _within(period, close, p.get("promoted_at_dt_utc"))]
    pages = [p for p in section.get("pages", ()) if _within(period, close, p.get("at"))]
    windows = loaded.cert_windows if loaded else ()

    def critical(page: dict[str, Any]) -> bool:
        at = parse_instant(page["at"])
        return any(w.active_at(at) and page.get("owner_route") in w.critical_routes
                   for w in windows)

    counts = {"promotes": len(promotes)}
    for trigger in ("heatmap_red", "pending_acks_aged", "manual_invocation"):
        counts[trigger] = sum(p.get("trigger_type") == trigger for p in promotes)
    counts["rung2_pages"] = len(pages)
    counts["critical_pages"] = sum(critical(p) for p in pages)
    counts["freeze_gates"] = sum(
        d.get("option") == "freeze_gate" and _within(period, close, d.get("decided_at"))
        for d in section.get("decisions", ()))
    return counts


def _versions(policies: Sequence[BackupOwnerPolicy], period: Period,
              close: datetime) -> tuple[str, ...]:
    """The versions in force at some instant of the period (up to its close)."""
    ordered = sorted(policies, key=lambda p: p.approved_dt_utc)
    out: list[str] = []
    for p in ordered:
        if p.approved_dt_utc > close:
            continue
        if p.approved_dt_utc <= period.start:
            out = [p.version]
        else:
            out.append(p.version)
    return tuple(out)


def outcome_of(label: str, snapshot: Snapshot, period: Period) -> Outcome:
    loaded: PromoteInputs | None = snapshot.evaluation.inputs.get("promote")
    return _outcome(label, snapshot.section("promote"), loaded, snapshot.at, period)


def _outcome(label: str, section: dict[str, Any], loaded: PromoteInputs | None,
             close: datetime, period: Period) -> Outcome:
    versions = _versions(loaded.policies if loaded else (), period, close)
    return Outcome(label, versions, _counts(section, loaded, close, period), section)


def replay_month(config: Config, pm: pluggy.PluginManager, baseline: Snapshot, period: Period,
                 candidate: PolicyDoc, label: str) -> Outcome:
    """Evaluate the promote domain on ``baseline``'s inputs again at its instant with
    ``candidate`` in force from the period's start (see the module docstring)."""
    from ..evaluation import Evaluation
    from ..promote.plugin import get_promote_result

    inputs = with_candidate(baseline.evaluation.inputs, candidate, period.start)
    evaluation = Evaluation(as_of=baseline.at, config=config, hook=pm.hook, inputs=inputs)
    result = get_promote_result(evaluation)  # the gate's own promote evaluation and hooks
    section = result.section() if result is not None else {}
    return _outcome(label, section, inputs.get("promote"), baseline.at, period)
