"""Rung 1: replay promotes and reverts over the daily refreshes, deterministically.

The replay walks every instant up to ``as_of`` in order. At one instant the steps run in a fixed
order so two implementations agree:

1. planned ends (``until`` of manual invocations) that are due;
2. forced reverts at that instant;
3. manual invocations at that instant;
4. the daily refresh: per route (sorted), the revert count first, then -- when the route is not
   promoted, including just after a revert -- the triggers.

Inputs are sorted before the walk, so the output never depends on their row order, and nothing
here reads the clock.
"""

from __future__ import annotations

import dataclasses
import itertools
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..fatigue.model import PendingAck, Refresh, Thresholds
from ..model import Finding, Severity
from ..timeutil import format_instant
from .model import (
    NO_TRIGGER,
    BackupOwnerPolicy,
    ForcedRevert,
    ForcedRevertEvent,
    ManualInvocation,
    PromoteEvent,
    PromoteInputs,
    RouteRule,
    Trigger,
    stamp,
)
from .policy import active_policy
from .rules import builtin_trigger, classification_of

__all__ = ["Timeline", "TriggerFn", "ordered_refreshes", "pending_index", "replay_promotions"]

#: ``(route, refresh, pending, thresholds) -> Trigger | None``; the plugin binds the hook here.
TriggerFn = Callable[[RouteRule, Refresh, Sequence[PendingAck], Thresholds], Trigger | None]


@dataclass(frozen=True, slots=True)
class Timeline:
    """Every promote (open ones have no ``reverted_at_dt_utc``) and forced revert up to as-of."""

    promotes: tuple[PromoteEvent, ...]
    forced_reverts: tuple[ForcedRevertEvent, ...]
    findings: tuple[Finding, ...]


def ordered_refreshes(refreshes: Sequence[Refresh], as_of: datetime) -> tuple[Refresh, ...]:
    """The refreshes at or before ``as_of`` in time order; two at one instant are a bug."""
    result = tuple(sorted((r for r in refreshes if r.at <= as_of), key=lambda r: r.at))
    for a, b in itertools.pairwise(result):
        if a.at == b.at:
            raise ValueError(f"two heat-map refreshes at {format_instant(a.at)}")
    return result


def pending_index(
    pending: Sequence[PendingAck],
) -> Mapping[tuple[str, str], Sequence[PendingAck]]:
    """Ack events by ``(signer_id, owner_route)``, each ordered by request time then id."""
    from ..fatigue.pending import PendingAcks

    if isinstance(pending, PendingAcks):
        return pending.by_signer_route()  # the loader's columns, no item built
    index: dict[tuple[str, str], list[PendingAck]] = {}
    for ack in pending:
        index.setdefault((ack.signer_id, ack.owner_route), []).append(ack)
    return {k: tuple(sorted(v, key=lambda a: (a.request_dt_utc, a.ack_event_id)))
            for k, v in index.items()}


@dataclass
class _Open:
    event: PromoteEvent
    revert_days: int
    green: int = 0


class _Replay:
    """The mutable state of one replay; only :func:`replay_promotions` sees it."""

    def __init__(self, policies: Sequence[BackupOwnerPolicy],
                 index: Mapping[tuple[str, str], Sequence[PendingAck]], trigger: TriggerFn):
        self.policies = policies
        self.index = index
        self.trigger = trigger
        self.open: dict[str, _Open] = {}
        self.done: list[PromoteEvent] = []
        self.forced: list[ForcedRevertEvent] = []
        self.findings: list[Finding] = []
        self.ids: set[str] = set()
        # The policy in force changes only at an approval instant: one lookup per interval
        # between approvals, and each version's routes by name and in order, found once.
        self._approvals = sorted({p.approved_dt_utc for p in policies})
        self._in_force: dict[int, BackupOwnerPolicy | None] = {}
        self._rules: dict[int, tuple[dict[str, RouteRule], list[str]]] = {}

    def policy_at(self, at: datetime) -> BackupOwnerPolicy | None:
        """:func:`active_policy` at ``at`` (it depends only on which approvals are at or
        before ``at``)."""
        interval = bisect_right(self._approvals, at)
        if interval not in self._in_force:
            self._in_force[interval] = active_policy(self.policies, at)
        return self._in_force[interval]

    def rules_of(self, policy: BackupOwnerPolicy) -> tuple[dict[str, RouteRule], list[str]]:
        """``policy.route`` for every route (the first rule of a name wins, as there), and the
        route names sorted."""
        known = self._rules.get(id(policy))  # the policies are held by self.policies
        if known is None:
            by_name: dict[str, RouteRule] = {}
            for rule in policy.routes:
                by_name.setdefault(rule.owner_route, rule)
            known = self._rules[id(policy)] = (by_name, sorted(by_name))
        return known

    # -- transitions ---------------------------------------------------------------------

    def promote(self, rule: RouteRule, policy: BackupOwnerPolicy, fired: Trigger, at: datetime,
                until: datetime | None = None) -> None:
        base = f"bpe-{rule.owner_route}-{stamp(at)}"
        pid, n = base, 1
        while pid in self.ids:  # only reachable with contrived sub-second inputs; stay unique
            n += 1
            pid = f"{base}-{n}"
        self.ids.add(pid)
        event = PromoteEvent(
            promote_event_id=pid,
            owner_route=rule.owner_route,
            promoted_signer=rule.backup_signer,
            trigger_type=fired.trigger_type,
            trigger_evidence_ref=fired.trigger_evidence_ref,
            promoted_at_dt_utc=at,
            reverted_at_dt_utc=None,
            policy_version_at_time=policy.version,
            primary_signer=rule.primary_signer,
            planned_end=until,
        )
        self.open[rule.owner_route] = _Open(event, rule.revert_green_days)

    def close(self, route: str, at: datetime, kind: str) -> PromoteEvent:
        event = dataclasses.replace(self.open.pop(route).event, reverted_at_dt_utc=at,
                                    revert_kind=kind)
        self.done.append(event)
        return event

    # -- steps ---------------------------------------------------------------------------

    def planned_ends(self, at: datetime) -> None:
        due = sorted((o.event.planned_end, route) for route, o in self.open.items()
                     if o.event.planned_end is not None and o.event.planned_end <= at)
        for end, route in due:
            self.close(route, end, "planned_end")

    def forced_revert(self, f: ForcedRevert) -> None:
        route = f.owner_route
        if f.promote_event_id is not None:
            route = next((r for r, o in self.open.items()
                          if o.event.promote_event_id == f.promote_event_id
                          and (f.owner_route is None or r == f.owner_route)), None)
        if route is None or route not in self.open:
            target = f.promote_event_id or f.owner_route
            self.warn("promote.forced-revert-unmatched", str(target),
                      f"forced revert of {target} at {format_instant(f.reverted_at)} matches no "
                      "promote in effect then; nothing was reverted", f, route=f.owner_route)
            return
        event = self.close(route, f.reverted_at, "forced")
        self.forced.append(ForcedRevertEvent(
            forced_revert_event_id=f"fre-{route}-{stamp(f.reverted_at)}",
            promote_event_id=event.promote_event_id,
            owner_route=route,
            reverted_at_dt_utc=f.reverted_at,
            reason=f.reason,
            by=f.by,
        ))

    def manual(self, m: ManualInvocation) -> None:
        policy = active_policy(self.policies, m.invoked_at)
        rule = policy.route(m.owner_route) if policy else None
        when = format_instant(m.invoked_at)
        if policy is None or rule is None:
            self.warn("promote.manual-unknown-route", m.invocation_id,
                      f"manual invocation {m.invocation_id} names {m.owner_route}, which no "
                      f"backup_owner_policy in force at {when} covers; nothing was promoted", m)
        elif "manual_invocation" not in rule.promote_trigger:
            self.warn("promote.manual-not-allowed", m.invocation_id,
                      f"manual invocation {m.invocation_id}: promote_trigger of {m.owner_route} "
                      f"in policy {policy.version} does not list manual_invocation; nothing was "
                      "promoted", m)
        elif m.owner_route in self.open:
            current = self.open[m.owner_route].event.promote_event_id
            self.warn("promote.manual-superseded", m.invocation_id,
                      f"manual invocation {m.invocation_id} at {when}: {m.owner_route} is "
                      f"already promoted by {current}", m, severity=Severity.INFO)
        else:
            fired = Trigger("manual_invocation", f"manual_invocation:{m.invocation_id}")
            self.promote(rule, policy, fired, m.invoked_at, m.until)

    def refresh(self, refresh: Refresh) -> None:
        t = refresh.at
        policy = self.policy_at(t)
        rules, names = self.rules_of(policy) if policy else ({}, [])
        routes = names if self.open.keys() <= rules.keys() else sorted({*self.open, *names})
        for route in routes:
            current = self.open.get(route)
            if current is not None and current.event.planned_end is None:
                self.count_green(route, current, refresh, rules)
            rule = rules.get(route)
            if route in self.open or policy is None or rule is None:
                continue
            pending = self.index.get((rule.primary_signer, route), ())
            fired = self.trigger(rule, refresh, pending, policy.thresholds)
            if fired is not None and fired != NO_TRIGGER:
                self.promote(rule, policy, fired, t)

    def count_green(self, route: str, current: _Open, refresh: Refresh,
                    rules: Mapping[str, RouteRule]) -> None:
        # Counted strictly after the promote; any other class (recovering too) resets the count.
        if refresh.at <= current.event.promoted_at_dt_utc:
            return
        if classification_of(refresh, current.event.primary_signer) == "green":
            current.green += 1
        else:
            current.green = 0
        rule = rules.get(route)
        days = rule.revert_green_days if rule else current.revert_days
        if current.green >= days:
            self.close(route, refresh.at, "revert_condition")

    def warn(self, rule: str, subject: str, message: str, item: Any, *,
             route: str | None = None, severity: Severity = Severity.WARNING) -> None:
        self.findings.append(Finding(
            rule=rule, subject=subject, severity=severity, message=message,
            owner_route=route or getattr(item, "owner_route", None),
            location=getattr(item, "location", None),
        ))


def replay_promotions(
    inputs: PromoteInputs,
    refreshes: Sequence[Refresh],
    pending: Sequence[PendingAck],
    as_of: datetime,
    trigger: TriggerFn = builtin_trigger,
) -> Timeline:
    """Replay rung 1 (promotes, automatic and planned reverts, forced reverts) up to ``as_of``.

    :param refreshes: The daily heat-map refreshes (any order; those after ``as_of`` ignored).
    :param pending: Ack events that were pending at some point (any order).
    :param trigger: Decides whether a route's primary triggers a promote at a refresh.
    """
    policies = tuple(sorted(inputs.policies, key=lambda p: p.key))
    replay = _Replay(policies, pending_index(pending), trigger)
    steps: list[tuple[datetime, int, int, Any]] = []
    forced = sorted(inputs.forced_reverts, key=lambda f: (
        f.reverted_at, f.promote_event_id or "", f.owner_route or "", f.by, f.reason))
    for seq, f in enumerate(forced):
        if f.reverted_at <= as_of:
            steps.append((f.reverted_at, 1, seq, f))
    manuals = sorted(inputs.manual_invocations,
                     key=lambda m: (m.invoked_at, m.owner_route, m.invocation_id))
    for seq, m in enumerate(manuals):
        if m.invoked_at <= as_of:
            steps.append((m.invoked_at, 2, seq, m))
    for seq, r in enumerate(ordered_refreshes(refreshes, as_of)):
        steps.append((r.at, 3, seq, r))
    steps.sort(key=lambda s: s[:3])
    for at, phase, _, item in steps:
        replay.planned_ends(at)
        if phase == 1:
            replay.forced_revert(item)
        elif phase == 2:
            replay.manual(item)
        else:
            replay.refresh(item)
    replay.planned_ends(as_of)
    promotes = [*replay.done, *(o.event for o in replay.open.values())]
    return Timeline(
        promotes=tuple(sorted(promotes, key=lambda p: (p.promoted_at_dt_utc, p.owner_route))),
        forced_reverts=tuple(sorted(replay.forced, key=lambda f: (f.reverted_at_dt_utc,
                                                                  f.owner_route))),
        findings=tuple(replay.findings),
    )
