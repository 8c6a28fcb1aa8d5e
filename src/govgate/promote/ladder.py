"""Rungs 2 and 3 of the escalation ladder: the team-lead page, its decision, the freeze gate.

Rung 2 pages once per promote (stable ``dedup_key``). The team lead's decisions on a page are in
effect one after the other: each from its ``decided_at`` until the next decision on the same
page; ``deferred_decision_lane`` and ``tertiary_backup`` also end when the promote reverts, while
a ``freeze_gate`` (rung 3) ends only at its ``lifted_at`` or a later decision -- a gate that blocks
publish is lifted by a person, never by a timer.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from ..fatigue.model import Refresh, Thresholds
from ..model import Finding, Page, Severity
from ..timeutil import format_instant
from .model import (
    SLIPPING,
    AppliedDecision,
    BackupOwnerPolicy,
    EscalationDecision,
    PromoteEvent,
    PromoteInputs,
)
from .policy import active_policy
from .rules import classification_of, rung2_dedup_key, rung2_page

__all__ = ["Ladder", "Rung2Fn", "climb_ladder"]

#: ``(promote, policy, refreshes, thresholds) -> Page | None``; the plugin binds the hook here.
Rung2Fn = Callable[
    [PromoteEvent, BackupOwnerPolicy | None, Sequence[Refresh], Thresholds], Page | None
]


@dataclass(frozen=True, slots=True)
class Ladder:
    """Rung-2 pages (with their promote), the decisions matched to them, and the findings."""

    pages: tuple[tuple[Page, PromoteEvent], ...]
    decisions: tuple[AppliedDecision, ...]
    findings: tuple[Finding, ...]


def _finding(rule: str, subject: str, severity: Severity, message: str, route: str | None,
             d: EscalationDecision | None = None) -> Finding:
    return Finding(rule=rule, subject=subject, severity=severity, message=message,
                   owner_route=route, location=d.location if d else None)


def _tertiary(promote: PromoteEvent, d: EscalationDecision,
              policies: Sequence[BackupOwnerPolicy], refreshes: Sequence[Refresh]) -> str | None:
    """The first tertiary of the policy in force at the decision who is not red or amber."""
    policy = active_policy(policies, d.decided_at)
    rule = policy.route(promote.owner_route) if policy else None
    if rule is None:
        return None
    index = bisect_right(refreshes, d.decided_at, key=lambda r: r.at)
    latest = refreshes[index - 1] if index else None
    for person in rule.tertiary_signers:
        if latest is None or classification_of(latest, person) not in SLIPPING:
            return person
    return None


def _match(decisions: Sequence[EscalationDecision], pages: dict[str, tuple[Page, PromoteEvent]],
           as_of: datetime, findings: list[Finding]) -> dict[str, list[EscalationDecision]]:
    grouped: dict[str, list[EscalationDecision]] = {}
    ordered = sorted(decisions, key=lambda d: (d.decided_at, d.page_key or "",
                                               d.promote_event_id or "", d.option, d.decided_by))
    for d in ordered:
        if d.decided_at > as_of:
            continue  # not decided yet at as-of
        key = d.page_key or rung2_dedup_key(str(d.promote_event_id))
        entry = pages.get(key)
        problem = None
        if d.promote_event_id and key != rung2_dedup_key(d.promote_event_id):
            problem = f"page_key {key} does not belong to {d.promote_event_id}"
        elif entry is None:
            problem = f"no rung-2 page {key} was raised by {format_instant(as_of)}"
        elif d.decided_at < entry[0].at:
            problem = f"decided before the page was raised ({format_instant(entry[0].at)})"
        elif (d.option != "freeze_gate" and entry[1].reverted_at_dt_utc is not None
              and d.decided_at >= entry[1].reverted_at_dt_utc):
            # A freeze gate may still be wanted after the revert; a re-route no longer can be.
            problem = (f"the promote ended at {format_instant(entry[1].reverted_at_dt_utc)}, "
                       "before the decision")
        if problem:
            findings.append(_finding(
                "ladder.decision-unmatched", key, Severity.WARNING,
                f"escalation decision {d.option} by {d.decided_by} at "
                f"{format_instant(d.decided_at)} was not applied: {problem}",
                entry[1].owner_route if entry else None, d))
            continue
        grouped.setdefault(key, []).append(d)
    return grouped


def _apply(key: str, page: Page, promote: PromoteEvent, chain: list[EscalationDecision],
           inputs: PromoteInputs, refreshes: Sequence[Refresh],
           findings: list[Finding]) -> list[AppliedDecision]:
    applied = []
    route = promote.owner_route
    for i, d in enumerate(chain):
        ends = [chain[i + 1].decided_at] if i + 1 < len(chain) else []
        if d.option == "freeze_gate":
            ends += [d.lifted_at] if d.lifted_at else []
        elif promote.reverted_at_dt_utc is not None:
            ends.append(promote.reverted_at_dt_utc)
        tertiary = None
        if d.option == "tertiary_backup":
            tertiary = _tertiary(promote, d, inputs.policies, refreshes)
            if tertiary is None:
                findings.append(_finding(
                    "ladder.tertiary-unavailable", promote.promote_event_id, Severity.WARNING,
                    f"tertiary_backup chosen for {route} at {format_instant(d.decided_at)} but no "
                    f"tertiary signer of the extended policy is available (none listed, or all "
                    f"red/amber); {promote.promoted_signer} still signs", route, d))
        windows = tuple(w.cert_window_id for w in inputs.cert_windows
                        if d.option == "freeze_gate" and w.active_at(d.decided_at)
                        and route in w.critical_routes)
        applied.append(AppliedDecision(
            decision=d, promote_event_id=promote.promote_event_id, owner_route=route,
            dedup_key=key, effective_from=d.decided_at,
            effective_until=min(ends) if ends else None,
            tertiary_signer=tertiary, cert_window_ids=tuple(sorted(windows)),
        ))
    return applied


def _rung3(applied: Sequence[AppliedDecision], inputs: PromoteInputs,
           as_of: datetime) -> list[Finding]:
    findings = []
    for a in applied:
        if a.option != "freeze_gate" or not a.active_at(as_of):
            continue
        windows = sorted((w for w in inputs.cert_windows
                          if w.active_at(as_of) and a.owner_route in w.critical_routes),
                         key=lambda w: w.cert_window_id)
        since = format_instant(a.effective_from)
        for w in windows:
            findings.append(Finding(
                rule="ladder.freeze-gate", subject=w.cert_window_id, severity=Severity.ERROR,
                message=(f"rung 3 freeze gate on {a.owner_route} since {since} "
                         f"({a.promote_event_id}, decided by {a.decision.decided_by}): publish "
                         f"is blocked for {w.platform} cert window {w.cert_window_id} until the "
                         "gate is lifted"),
                owner_route=a.owner_route,
                evidence={"promote_event_id": a.promote_event_id, "dedup_key": a.dedup_key,
                          "cert_window_id": w.cert_window_id, "platform": w.platform},
                location=a.decision.location,
            ))
        if not windows:
            findings.append(Finding(
                rule="ladder.freeze-gate-idle", subject=a.promote_event_id,
                severity=Severity.INFO,
                message=(f"rung 3 freeze gate on {a.owner_route} since {since} is in effect, but "
                         "no active cert window has the route on its critical path"),
                owner_route=a.owner_route, location=a.decision.location,
            ))
    return findings


def climb_ladder(
    promotes: Sequence[PromoteEvent],
    inputs: PromoteInputs,
    refreshes: Sequence[Refresh],
    as_of: datetime,
    rung2: Rung2Fn = rung2_page,
) -> Ladder:
    """Raise rung-2 pages, apply the team lead's decisions and decide rung 3 at ``as_of``.

    :param promotes: The promotes of :func:`~govgate.promote.engine.replay_promotions`.
    :param refreshes: The refreshes at or before ``as_of``, in time order.
    :param rung2: Decides whether one promote pages the team lead.
    """
    versions = {p.version: p for p in inputs.policies}
    pages: dict[str, tuple[Page, PromoteEvent]] = {}
    for promote in sorted(promotes, key=lambda p: (p.promoted_at_dt_utc, p.owner_route)):
        policy = versions.get(promote.policy_version_at_time)
        thresholds = policy.thresholds if policy else Thresholds()
        page = rung2(promote, policy, refreshes, thresholds)
        if page is not None and page.at <= as_of:
            pages.setdefault(page.dedup_key, (page, promote))
    findings: list[Finding] = []
    grouped = _match(inputs.escalation_decisions, pages, as_of, findings)
    applied: list[AppliedDecision] = []
    for key, (page, promote) in sorted(pages.items()):
        chain = grouped.get(key, [])
        applied += _apply(key, page, promote, chain, inputs, refreshes, findings)
        if not chain and promote.active_at(as_of):
            findings.append(_finding(
                "ladder.rung2-unanswered", key, Severity.WARNING,
                f"rung-2 page for {promote.owner_route} raised at {format_instant(page.at)} "
                f"({promote.promoted_signer} is {page.details.get('classification')}) has no "
                "decision yet: choose deferred_decision_lane, tertiary_backup or freeze_gate",
                promote.owner_route))
    findings += _rung3(applied, inputs, as_of)
    ordered = sorted(pages.values(), key=lambda e: (e[0].at, e[0].dedup_key))
    return Ladder(pages=tuple(ordered),
                  decisions=tuple(sorted(applied, key=lambda a: (a.effective_from, a.dedup_key,
                                                                 a.option))),
                  findings=tuple(findings))
