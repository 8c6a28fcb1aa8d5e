"""The promote domain's answer at one as-of: events, ledger records, report section, findings.

:func:`evaluate_promotions` is the pure entry point: the plugin calls it with the hooks bound,
tests call it with synthetic refreshes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..fatigue.model import PendingAck, Refresh
from ..model import Finding, LedgerRecord, Page, Severity
from ..timeutil import format_instant
from .engine import TriggerFn, ordered_refreshes, replay_promotions
from .ladder import Rung2Fn, climb_ladder
from .model import (
    AppliedDecision,
    BackupOwnerPolicy,
    ForcedRevertEvent,
    PromoteEvent,
    PromoteInputs,
    stamp,
)
from .policy import active_policy, cross_route_audit
from .rules import builtin_trigger, rung2_page

__all__ = ["PromoteResult", "evaluate_promotions"]

_DAY_MICROS = 86_400_000_000
_MICRO = timedelta(microseconds=1)


def _days(start: datetime, end: datetime) -> str:
    """The days from ``start`` to ``end`` to two places, rounded half away from zero, exactly
    (as ``decimals.round_ratio(..., 2, half_up=True)`` prints it): one integer division of the
    whole microseconds, no decimal context (a replay formats every promote's duration)."""
    micros = (end - start) // _MICRO
    hundredths, rest = divmod(abs(micros) * 100, _DAY_MICROS)
    if 2 * rest >= _DAY_MICROS:
        hundredths += 1
    sign = "-" if micros < 0 and hundredths else ""
    return f"{sign}{hundredths // 100}.{hundredths % 100:02d}"


@dataclass(frozen=True, slots=True)
class PromoteResult:
    """Everything the promote domain decided at ``as_of``."""

    as_of: datetime
    policies: tuple[BackupOwnerPolicy, ...]
    promotes: tuple[PromoteEvent, ...]
    forced_reverts: tuple[ForcedRevertEvent, ...]
    #: Rung-2 pages, each with the promote it is about, in time order.
    pages: tuple[tuple[Page, PromoteEvent], ...]
    decisions: tuple[AppliedDecision, ...]
    findings: tuple[Finding, ...]

    # -- queries -------------------------------------------------------------------------

    def promote_at(self, owner_route: str, at: datetime) -> PromoteEvent | None:
        """The promote in effect on ``owner_route`` at ``at``, if any."""
        return next((p for p in self.promotes if p.owner_route == owner_route
                     and p.active_at(at)), None)

    def effective_signer(self, owner_route: str, at: datetime) -> str:
        """Who signs ``owner_route`` at ``at``: the tertiary when chosen at rung 2, the backup
        while promoted, else the primary of the policy in force.

        Instants after ``as_of`` are answered with the state at ``as_of`` (open promotes stay
        open). :raises KeyError: When no policy in force at ``at`` names the route.
        """
        return self.effective(owner_route, at)[0]

    def effective(self, owner_route: str, at: datetime) -> tuple[str, str, str | None]:
        """``(signer, role, promote_event_id)``; role is primary, backup or tertiary."""
        promote = self.promote_at(owner_route, at)
        if promote is not None:
            for d in self.decisions:
                if (d.promote_event_id == promote.promote_event_id and d.tertiary_signer
                        and d.option == "tertiary_backup" and d.active_at(at)):
                    return d.tertiary_signer, "tertiary", promote.promote_event_id
            return promote.promoted_signer, "backup", promote.promote_event_id
        policy = active_policy(self.policies, at)
        rule = policy.route(owner_route) if policy else None
        if rule is None:
            raise KeyError(f"no backup_owner_policy in force at {format_instant(at)} names "
                           f"{owner_route}")
        return rule.primary_signer, "primary", None

    # -- outputs -------------------------------------------------------------------------

    def records(self) -> list[LedgerRecord]:
        """Ledger records with stable keys; each is the fact as it stood at its own instant, so
        the ledger's content does not depend on when (or how often) evaluations ran."""
        out = []
        for p in self.promotes:
            out.append(LedgerRecord("promote", f"promote:{p.promote_event_id}",
                                    p.promoted_at_dt_utc, p.to_row(as_written=True)))
            if p.reverted_at_dt_utc is not None and p.revert_kind != "forced":
                out.append(LedgerRecord("revert", f"revert:{p.promote_event_id}",
                                        p.reverted_at_dt_utc, {
                                            "promote_event_id": p.promote_event_id,
                                            "owner_route": p.owner_route,
                                            "promoted_signer": p.promoted_signer,
                                            "primary_signer": p.primary_signer,
                                            "reverted_at_dt_utc":
                                                format_instant(p.reverted_at_dt_utc),
                                            "revert_kind": p.revert_kind,
                                        }))
        for f in self.forced_reverts:
            out.append(LedgerRecord("forced_revert", f"forced_revert:{f.promote_event_id}",
                                    f.reverted_at_dt_utc, f.to_row()))
        # Pages are not recorded here: delivery writes each page's intent (``page:<dedup_key>``)
        # before any sink sees it.
        for a in self.decisions:
            out.extend(_decision_records(a, self.as_of))
        return sorted(out, key=lambda r: (r.at, r.kind, r.key))

    def section(self) -> dict[str, Any]:
        """The ``promote`` report section (JSON values only) for the readback writer."""
        active = active_policy(self.policies, self.as_of)
        answered = {d.dedup_key for d in self.decisions}
        signers: dict[str, Any] = {}
        for rule in active.routes if active else ():
            signer, role, pid = self.effective(rule.owner_route, self.as_of)
            signers[rule.owner_route] = {"signer": signer, "role": role, "promote_event_id": pid}
        return {
            "as_of": format_instant(self.as_of),
            "policy_version": active.version if active else None,
            "policy_versions": [{"policy_version": p.version,
                                 "approved_dt_utc": format_instant(p.approved_dt_utc)}
                                for p in sorted(self.policies, key=lambda p: p.key)],
            "promotes": [self._promote_row(p) for p in self.promotes],
            "forced_reverts": [f.to_row() for f in self.forced_reverts],
            "pages": [{"dedup_key": page.dedup_key, "at": format_instant(page.at),
                       "promote_event_id": p.promote_event_id, "owner_route": p.owner_route,
                       "backup_signer": p.promoted_signer,
                       "classification": page.details.get("classification"),
                       "answered": page.dedup_key in answered}
                      for page, p in self.pages],
            "decisions": [d.to_row() for d in self.decisions],
            "rungs": {
                "rung1_promotes": len(self.promotes),
                "rung2_pages": len(self.pages),
                "rung3_freeze_gates": sum(d.option == "freeze_gate" for d in self.decisions),
            },
            "effective_signers": signers,
            "cross_route_audit": [f.evidence for f in self.findings
                                  if f.rule == "policy.cross-route"],
        }

    def _promote_row(self, p: PromoteEvent) -> dict[str, Any]:
        end = p.reverted_at_dt_utc or self.as_of
        return {**p.to_row(), "primary_signer": p.primary_signer,
                "revert_kind": p.revert_kind, "reverted": p.reverted_at_dt_utc is not None,
                "duration_days": _days(p.promoted_at_dt_utc, end)}


def _decision_records(a: AppliedDecision, as_of: datetime) -> list[LedgerRecord]:
    d = a.decision
    base = {"promote_event_id": a.promote_event_id, "owner_route": a.owner_route,
            "dedup_key": a.dedup_key, "decided_by": d.decided_by,
            "decided_at": format_instant(d.decided_at)}
    suffix = f"{a.promote_event_id}:{stamp(d.decided_at)}"
    out = [LedgerRecord("escalation_decision", f"escalation_decision:{suffix}:{d.option}",
                        d.decided_at, {**base, "option": d.option,
                                       "tertiary_signer": a.tertiary_signer})]
    if d.option == "freeze_gate":
        out.append(LedgerRecord("freeze_gate", f"freeze_gate:{suffix}", d.decided_at,
                                {**base, "cert_window_ids": list(a.cert_window_ids)}))
        if d.lifted_at is not None and d.lifted_at <= as_of:
            out.append(LedgerRecord("freeze_lift", f"freeze_lift:{suffix}", d.lifted_at,
                                    {**base, "lifted_at": format_instant(d.lifted_at),
                                     "lift_reason": d.lift_reason}))
    return out


def _active_findings(promotes: Sequence[PromoteEvent], as_of: datetime) -> list[Finding]:
    return [Finding(
        rule="promote.active", subject=p.promote_event_id, severity=Severity.INFO,
        message=(f"{p.owner_route}: {p.promoted_signer} signs for {p.primary_signer} since "
                 f"{format_instant(p.promoted_at_dt_utc)} ({p.trigger_type}, "
                 f"{p.trigger_evidence_ref}, policy {p.policy_version_at_time})"),
        owner_route=p.owner_route, evidence=p.to_row(),
    ) for p in promotes if p.active_at(as_of)]


def evaluate_promotions(
    inputs: PromoteInputs,
    refreshes: Sequence[Refresh],
    pending: Sequence[PendingAck],
    as_of: datetime,
    *,
    trigger: TriggerFn = builtin_trigger,
    rung2: Rung2Fn = rung2_page,
) -> PromoteResult:
    """Replay rung 1, climb rungs 2 and 3, and audit the policy in force, all at ``as_of``.

    Pure: same inputs and ``as_of`` give an equal result whatever the order of the inputs.
    """
    ordered = ordered_refreshes(refreshes, as_of)
    timeline = replay_promotions(inputs, ordered, pending, as_of, trigger)
    ladder = climb_ladder(timeline.promotes, inputs, ordered, as_of, rung2)
    active = active_policy(inputs.policies, as_of)
    findings = [*(cross_route_audit(active, as_of) if active else ()), *timeline.findings,
                *ladder.findings, *_active_findings(timeline.promotes, as_of)]
    return PromoteResult(
        as_of=as_of,
        policies=tuple(sorted(inputs.policies, key=lambda p: p.key)),
        promotes=timeline.promotes,
        forced_reverts=timeline.forced_reverts,
        pages=ladder.pages,
        decisions=ladder.decisions,
        findings=tuple(sorted(findings, key=lambda f: f.sort_key())),
    )
