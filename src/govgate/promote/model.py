"""Values of backup-owner promotion and the escalation ladder (lesson 174), with the seed's names.

Inputs (the policy and the team lead's files) and outputs (``backup_promote_event`` rows,
``forced_revert_event`` rows, rung-2 decisions) are frozen; the engine derives new values rather
than mutating them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..fatigue.model import Thresholds
from ..model import Location
from ..timeutil import format_instant

#: The three deterministic promote triggers, in the order they are tried at a refresh.
TRIGGER_TYPES: tuple[str, ...] = ("heatmap_red", "pending_acks_aged", "manual_invocation")
#: The team lead's documented rung-2 responses.
ESCALATION_OPTIONS: tuple[str, ...] = ("deferred_decision_lane", "tertiary_backup", "freeze_gate")
ESCALATION_OPTION_TEXT: dict[str, str] = {
    "deferred_decision_lane": "defer the route's non-critical acks to the post-window cleanup",
    "tertiary_backup": "re-route to the first available tertiary backup of the extended policy",
    "freeze_gate": "invoke the cert-window freeze gate (rung 3): publish halts for the route's "
    "critical cert windows until lifted",
}
PLATFORMS: tuple[str, ...] = ("steam", "quest", "playstation", "xbox", "other")
#: Classifications that count as "slipping" for rung 2 and tertiary eligibility.
SLIPPING: frozenset[str] = frozenset({"red", "amber"})


def stamp(at: datetime) -> str:
    """Compact UTC stamp for ids: ``20261020T000000Z`` (microseconds only when set)."""
    text = at.strftime("%Y%m%dT%H%M%S")
    return text + (f"{at.microsecond:06d}" if at.microsecond else "") + "Z"


# -------------------------------------------------------------------------------------------
# Policy
# -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RouteRule:
    """One ``backup_owner_policy`` row, plus the ``backup_owner_policy_extended`` chain."""

    owner_route: str
    primary_signer: str
    backup_signer: str
    #: The triggers allowed on this route (one or more of :data:`TRIGGER_TYPES`).
    promote_trigger: tuple[str, ...]
    #: As written, e.g. ``green_7d``.
    revert_condition: str
    #: Consecutive green daily refreshes that revert a promote (the N of ``green_<N>d``).
    revert_green_days: int
    #: Ordered chained backups; the first one not red or amber is used at rung 2.
    tertiary_signers: tuple[str, ...] = ()
    location: Location | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "owner_route": self.owner_route,
            "primary_signer": self.primary_signer,
            "backup_signer": self.backup_signer,
            "promote_trigger": list(self.promote_trigger),
            "revert_condition": self.revert_condition,
            "tertiary_signers": list(self.tertiary_signers),
        }


@dataclass(frozen=True, slots=True)
class AcceptedOverlap:
    """A team's documented acceptance of one person on several routes (who, why, until when).

    While in force the cross-route audit reports that person once as accepted (info), not as a
    warning; from ``until`` on (exclusive) the warning is back.
    """

    signer_id: str
    accepted_by: str
    reason: str
    until: datetime
    #: The routes the acceptance covers; empty: whatever routes the policy names the person on.
    routes: tuple[str, ...] = ()
    location: Location | None = field(default=None, compare=False)

    def covers(self, routes: set[str], at: datetime | None) -> bool:
        in_time = at is None or at < self.until
        return in_time and (not self.routes or routes <= set(self.routes))


@dataclass(frozen=True, slots=True)
class BackupOwnerPolicy:
    """One version of ``kind: backup_owner_policy``."""

    version: str
    key: tuple[int, int, int]
    approved_by: str
    approved_dt_utc: datetime
    #: The team lead's ack id of the approval (the "signed-ack" of the seed).
    signed_ack: str
    routes: tuple[RouteRule, ...]
    thresholds: Thresholds = field(default_factory=Thresholds)
    #: Who is paged at rung 2; ``approved_by`` when not set.
    team_lead: str | None = None
    #: Cross-route overlaps the team accepts (see :class:`AcceptedOverlap`).
    accepted_overlaps: tuple[AcceptedOverlap, ...] = ()
    #: Owner routes declared beyond the lesson's four, with their default SLA (``owner_routes``).
    owner_routes: tuple[tuple[str, Decimal], ...] = ()
    source: str = "<policy>"
    location: Location | None = field(default=None, compare=False)

    def route(self, owner_route: str) -> RouteRule | None:
        return next((r for r in self.routes if r.owner_route == owner_route), None)

    def route_slas(self) -> dict[str, Decimal]:
        """The default ``sla_target_hours`` of every owner route this version knows: the
        lesson's four and the ones it declares."""
        from ..fatigue.model import DEFAULT_SLA_TARGET_HOURS

        return {**DEFAULT_SLA_TARGET_HOURS, **dict(self.owner_routes)}

    @property
    def pager_target(self) -> str:
        return self.team_lead or self.approved_by


# -------------------------------------------------------------------------------------------
# The team lead's inputs
# -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ManualInvocation:
    """A planned-rest promote: explicit, with an audit reason and the team lead's signed ack."""

    invocation_id: str
    owner_route: str
    invoked_at: datetime
    #: Planned end: the promote reverts here (the green-days rule does not apply then).
    until: datetime | None
    audit_reason: str
    team_lead_ack_id: str
    location: Location | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class ForcedRevert:
    """A team-lead override ending a promote early; names the promote or the route."""

    promote_event_id: str | None
    owner_route: str | None
    reverted_at: datetime
    reason: str
    by: str
    location: Location | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class EscalationDecision:
    """The team lead's answer to a rung-2 page."""

    page_key: str | None
    promote_event_id: str | None
    option: str
    decided_by: str
    decided_at: datetime
    #: For ``freeze_gate``: when the gate was lifted, and why.
    lifted_at: datetime | None = None
    lift_reason: str | None = None
    location: Location | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class CertWindow:
    """An open certification window of one platform and the routes on its critical path."""

    cert_window_id: str
    platform: str
    opens_at: datetime
    closes_at: datetime
    critical_routes: tuple[str, ...]
    location: Location | None = field(default=None, compare=False)

    def active_at(self, at: datetime) -> bool:
        return self.opens_at <= at < self.closes_at


@dataclass(frozen=True, slots=True)
class PromoteInputs:
    """Everything the promote domain loaded (``inputs.get("promote")``)."""

    policies: tuple[BackupOwnerPolicy, ...] = ()
    manual_invocations: tuple[ManualInvocation, ...] = ()
    forced_reverts: tuple[ForcedRevert, ...] = ()
    escalation_decisions: tuple[EscalationDecision, ...] = ()
    cert_windows: tuple[CertWindow, ...] = ()


# -------------------------------------------------------------------------------------------
# Outputs
# -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Trigger:
    """A promote trigger that fired: its type and the audit anchor."""

    trigger_type: str
    trigger_evidence_ref: str


#: What a ``govgate_promote_trigger`` plugin returns to decide that nothing fires: unlike None,
#: it stops the hook, so the built-in rule is not consulted.
NO_TRIGGER = Trigger("", "")


@dataclass(frozen=True, slots=True)
class PromoteEvent:
    """A ``backup_promote_event`` row; the first eight fields are the seed's columns."""

    promote_event_id: str
    owner_route: str
    promoted_signer: str
    trigger_type: str
    trigger_evidence_ref: str
    promoted_at_dt_utc: datetime
    reverted_at_dt_utc: datetime | None
    policy_version_at_time: str
    #: The primary the promote stands in for (its green days drive the revert).
    primary_signer: str = ""
    #: How it ended: ``revert_condition``, ``planned_end`` or ``forced`` (None while open).
    revert_kind: str | None = None
    #: ``until`` of a manual invocation: the planned end.
    planned_end: datetime | None = None

    def active_at(self, at: datetime) -> bool:
        return self.promoted_at_dt_utc <= at and (
            self.reverted_at_dt_utc is None or at < self.reverted_at_dt_utc
        )

    def to_row(self, *, as_written: bool = False) -> dict[str, Any]:
        """The seed's columns; ``as_written`` gives the row as it stood at the promote instant."""
        reverted = None if as_written else self.reverted_at_dt_utc
        return {
            "promote_event_id": self.promote_event_id,
            "owner_route": self.owner_route,
            "promoted_signer": self.promoted_signer,
            "trigger_type": self.trigger_type,
            "trigger_evidence_ref": self.trigger_evidence_ref,
            "promoted_at_dt_utc": format_instant(self.promoted_at_dt_utc),
            "reverted_at_dt_utc": format_instant(reverted) if reverted else None,
            "policy_version_at_time": self.policy_version_at_time,
        }


@dataclass(frozen=True, slots=True)
class ForcedRevertEvent:
    """A ``forced_revert_event`` row: a team-lead override and its reason."""

    forced_revert_event_id: str
    promote_event_id: str
    owner_route: str
    reverted_at_dt_utc: datetime
    reason: str
    by: str

    def to_row(self) -> dict[str, Any]:
        return {
            "forced_revert_event_id": self.forced_revert_event_id,
            "promote_event_id": self.promote_event_id,
            "owner_route": self.owner_route,
            "reverted_at_dt_utc": format_instant(self.reverted_at_dt_utc),
            "reason": self.reason,
            "by": self.by,
        }


@dataclass(frozen=True, slots=True)
class AppliedDecision:
    """A rung-2 decision matched to its page, with the interval it is in effect."""

    decision: EscalationDecision
    promote_event_id: str
    owner_route: str
    dedup_key: str
    effective_from: datetime
    #: Exclusive end: the next decision on the same page, the lift, or the promote's revert.
    effective_until: datetime | None
    #: For ``tertiary_backup``: the tertiary who signs (None when none was available).
    tertiary_signer: str | None = None
    #: For ``freeze_gate``: cert windows active at the decision with the route on their path.
    cert_window_ids: tuple[str, ...] = ()

    @property
    def option(self) -> str:
        return self.decision.option

    def active_at(self, at: datetime) -> bool:
        return self.effective_from <= at and (
            self.effective_until is None or at < self.effective_until
        )

    def to_row(self) -> dict[str, Any]:
        d = self.decision
        return {
            "promote_event_id": self.promote_event_id,
            "owner_route": self.owner_route,
            "dedup_key": self.dedup_key,
            "option": d.option,
            "decided_by": d.decided_by,
            "decided_at": format_instant(d.decided_at),
            "effective_until": format_instant(self.effective_until)
            if self.effective_until else None,
            "tertiary_signer": self.tertiary_signer,
            "cert_window_ids": list(self.cert_window_ids),
            "lifted_at": format_instant(d.lifted_at) if d.lifted_at else None,
            "lift_reason": d.lift_reason,
        }
