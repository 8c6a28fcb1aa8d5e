"""Backup-owner promotion and the escalation ladder (lesson 174).

* :mod:`~govgate.promote.policy` -- ``kind: backup_owner_policy``: invariants, the cross-route
  audit and ``backup_owner_policy_history``;
* :mod:`~govgate.promote.inputs` -- manual invocations, forced reverts, rung-2 decisions and cert
  windows;
* :mod:`~govgate.promote.engine` (rung 1) and :mod:`~govgate.promote.ladder` (rungs 2 and 3),
  pure functions over the daily heat-map refreshes, joined by
  :func:`~govgate.promote.result.evaluate_promotions`;
* :mod:`~govgate.promote.hookspecs` and the built-in :mod:`~govgate.promote.plugin`.
"""

from __future__ import annotations

from .engine import Timeline, replay_promotions
from .ladder import Ladder, climb_ladder
from .model import (
    ESCALATION_OPTIONS,
    NO_TRIGGER,
    TRIGGER_TYPES,
    AcceptedOverlap,
    AppliedDecision,
    BackupOwnerPolicy,
    CertWindow,
    EscalationDecision,
    ForcedRevert,
    ForcedRevertEvent,
    ManualInvocation,
    PromoteEvent,
    PromoteInputs,
    RouteRule,
    Trigger,
)
from .policy import (
    PolicyChange,
    PolicyRevision,
    active_policy,
    backup_owner_policy_history,
    cross_route_audit,
    load_backup_owner_policies,
    policy_from_doc,
    route_slas,
)
from .result import PromoteResult, evaluate_promotions

__all__ = [
    "ESCALATION_OPTIONS",
    "NO_TRIGGER",
    "TRIGGER_TYPES",
    "AcceptedOverlap",
    "AppliedDecision",
    "BackupOwnerPolicy",
    "CertWindow",
    "EscalationDecision",
    "ForcedRevert",
    "ForcedRevertEvent",
    "Ladder",
    "ManualInvocation",
    "PolicyChange",
    "PolicyRevision",
    "PromoteEvent",
    "PromoteInputs",
    "PromoteResult",
    "RouteRule",
    "Timeline",
    "Trigger",
    "active_policy",
    "backup_owner_policy_history",
    "climb_ladder",
    "cross_route_audit",
    "evaluate_promotions",
    "load_backup_owner_policies",
    "policy_from_doc",
    "replay_promotions",
    "route_slas",
]
