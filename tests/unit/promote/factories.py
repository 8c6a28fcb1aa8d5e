"""Hand-built heat-map refreshes, ack events and policies for the promote engine's tests."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from govgate.fatigue.model import PendingAck, Refresh, Thresholds
from govgate.loaders.policies import parse_policy
from govgate.promote.model import (
    BackupOwnerPolicy,
    CertWindow,
    EscalationDecision,
    ForcedRevert,
    ManualInvocation,
    PromoteInputs,
    RouteRule,
)
from govgate.promote.policy import policy_from_doc

#: Refresh N is at BASE + N days, 00:00 UTC.
BASE = datetime(2026, 10, 1, tzinfo=UTC)
US = timedelta(microseconds=1)
ALL_TRIGGERS = ("heatmap_red", "pending_acks_aged", "manual_invocation")


def day(n: float) -> datetime:
    return BASE + timedelta(days=n)


def digest(n: int) -> str:
    return hashlib.sha256(f"refresh-{n}".encode()).hexdigest()


def refresh(n: int, classes: Mapping[str, str]) -> Refresh:
    return Refresh(at=day(n), rows=(), classification=dict(classes),
                   snapshot_hash=f"sha256:{digest(n)}")


def timeline(days: int, **series: str | Sequence[str]) -> list[Refresh]:
    """``days`` refreshes 0..days-1; each signer's classes as a sequence (or one letter per day:
    r=red, a=amber, c=recovering, g=green); a missing day is green."""
    letters = {"r": "red", "a": "amber", "c": "recovering", "g": "green"}
    out = []
    for n in range(days):
        classes = {}
        for signer, values in series.items():
            value = values[n] if n < len(values) else "g"
            classes[signer] = letters.get(value, value)
        out.append(refresh(n, classes))
    return out


def rule(route: str = "publish_gate", primary: str = "alice", backup: str = "bob",
         triggers: Iterable[str] = ALL_TRIGGERS, days: int = 7,
         tertiary: Iterable[str] = ()) -> RouteRule:
    return RouteRule(owner_route=route, primary_signer=primary, backup_signer=backup,
                     promote_trigger=tuple(triggers), revert_condition=f"green_{days}d",
                     revert_green_days=days, tertiary_signers=tuple(tertiary))


def policy(*routes: RouteRule, version: str = "1.0.0", approved: datetime | None = None,
           thresholds: Thresholds | None = None) -> BackupOwnerPolicy:
    major, minor, patch = (int(x) for x in version.split("."))
    return BackupOwnerPolicy(
        version=version, key=(major, minor, patch), approved_by="team-lead",
        approved_dt_utc=approved or day(-30), signed_ack="ack-approval-1",
        routes=tuple(sorted(routes or (rule(),), key=lambda r: r.owner_route)),
        thresholds=thresholds or Thresholds(), team_lead="tl-sam", source="policies/bop.yaml",
    )


def inputs(*policies: BackupOwnerPolicy, manual: Iterable[ManualInvocation] = (),
           forced: Iterable[ForcedRevert] = (), decisions: Iterable[EscalationDecision] = (),
           windows: Iterable[CertWindow] = ()) -> PromoteInputs:
    return PromoteInputs(policies=policies or (policy(),), manual_invocations=tuple(manual),
                         forced_reverts=tuple(forced), escalation_decisions=tuple(decisions),
                         cert_windows=tuple(windows))


def ack(ack_id: str, requested: datetime, acked: datetime | None = None, *,
        signer: str = "alice", route: str = "publish_gate", sla: str = "0.5",
        window: str | None = "quest-holiday") -> PendingAck:
    return PendingAck(ack_event_id=ack_id, signer_id=signer, owner_route=route,
                      cert_window_id=window, request_dt_utc=requested, ack_dt_utc=acked,
                      sla_target_hours=Decimal(sla))


def manual(inv_id: str, at: datetime, until: datetime | None = None,
           route: str = "publish_gate") -> ManualInvocation:
    return ManualInvocation(invocation_id=inv_id, owner_route=route, invoked_at=at, until=until,
                            audit_reason="planned leave", team_lead_ack_id="ack-tl-9")


def decision(promote_event_id: str, option: str, at: datetime, *,
             lifted: datetime | None = None) -> EscalationDecision:
    return EscalationDecision(page_key=None, promote_event_id=promote_event_id, option=option,
                              decided_by="tl-sam", decided_at=at, lifted_at=lifted,
                              lift_reason="tertiary named" if lifted else None)


def cert_window(cw_id: str, opens: datetime, closes: datetime,
                routes: Iterable[str] = ("publish_gate",), platform: str = "quest") -> CertWindow:
    return CertWindow(cert_window_id=cw_id, platform=platform, opens_at=opens, closes_at=closes,
                      critical_routes=tuple(routes))


POLICY_YAML = """\
kind: backup_owner_policy
version: 1.2.0
approved_by: team-lead
approved_dt_utc: "2026-09-01T00:00:00Z"
signed_ack: ack-approval-7
team_lead: tl-sam
thresholds:
  aged_factor: "1.5"
  rung2_hours: 48
routes:
  - owner_route: publish_gate
    primary_signer: alice
    backup_signer: bob
    promote_trigger: [heatmap_red, pending_acks_aged]
    revert_condition: green_7d
    tertiary_signers: [carol]
  - owner_route: faq_rewrite
    primary_signer: dana
    backup_signer: erin
    promote_trigger: manual_invocation
    revert_condition: green_7d
"""


def parse_policy_text(text: str, source: str = "policies/backup_owner_policy-1.2.0.yaml",
                      ) -> BackupOwnerPolicy:
    return policy_from_doc(parse_policy(text.encode(), source))
