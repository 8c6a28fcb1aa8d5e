"""The built-in promote triggers and the rung-2 check, as pure functions.

The plugin exposes them through ``govgate_promote_trigger`` and ``govgate_escalation_rung2``
(``trylast``), so a third-party plugin can replace either rule without touching the engine.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from ..fatigue.model import PendingAck, Refresh, Thresholds
from ..model import Page
from ..timeutil import format_instant
from .model import (
    ESCALATION_OPTION_TEXT,
    ESCALATION_OPTIONS,
    SLIPPING,
    BackupOwnerPolicy,
    PromoteEvent,
    RouteRule,
    Trigger,
)

__all__ = [
    "PAGE_SOURCE",
    "aged_pending_trigger",
    "builtin_trigger",
    "classification_of",
    "heatmap_evidence_ref",
    "heatmap_red_trigger",
    "rung2_dedup_key",
    "rung2_page",
    "rung2_resolve",
]

PAGE_SOURCE = "govgate.promote"
_MICROS_PER_HOUR = Decimal(3_600_000_000)
_MICRO = timedelta(microseconds=1)


def classification_of(refresh: Refresh, signer: str) -> str:
    """A signer's classification at a refresh; one with no ack events yet carries no load."""
    return refresh.classification.get(signer, "green")


def heatmap_evidence_ref(refresh: Refresh) -> str:
    """``heatmap:sha256:<hex>@<instant>``: the pinned snapshot a heatmap_red promote rests on."""
    digest = refresh.snapshot_hash.removeprefix("sha256:")
    return f"heatmap:sha256:{digest}@{format_instant(refresh.at)}"


def heatmap_red_trigger(route: RouteRule, refresh: Refresh) -> Trigger | None:
    """``heatmap_red``: the route's primary is red at this refresh."""
    if classification_of(refresh, route.primary_signer) != "red":
        return None
    return Trigger("heatmap_red", heatmap_evidence_ref(refresh))


def aged_pending_trigger(
    route: RouteRule, refresh: Refresh, pending: Sequence[PendingAck], thresholds: Thresholds
) -> Trigger | None:
    """``pending_acks_aged``: the primary has an ack on this route still open at the refresh,
    requested inside the window, strictly older than ``aged_factor`` x its SLA.

    ``pending`` must be ordered by ``(request_dt_utc, ack_event_id)``; the evidence is the
    oldest aged ack (the first in that order).
    """
    t = refresh.at
    from ..fatigue.pending import PendingGroup

    if isinstance(pending, PendingGroup) and pending.key == (route.primary_signer,
                                                             route.owner_route):
        # The loader's columns: the same test on integers, no item built.
        found = pending.first_aged(t, thresholds.window_days, thresholds.aged_factor)
        return None if found is None else Trigger("pending_acks_aged",
                                                  f"signer_ack_event:{found}")
    start = bisect_left(pending, t - timedelta(days=thresholds.window_days),
                        key=lambda a: a.request_dt_utc)
    for ack in pending[start:]:
        if ack.request_dt_utc >= t:
            break
        if ack.signer_id != route.primary_signer or ack.owner_route != route.owner_route:
            continue
        if ack.ack_dt_utc is not None and ack.ack_dt_utc <= t:
            continue  # answered by the refresh: not pending in the world as it was at t
        # Whole microseconds against an exact decimal limit: 45 min is not aged, 45 min + 1 µs is.
        age = Decimal((t - ack.request_dt_utc) // _MICRO)
        if age > thresholds.aged_factor * ack.sla_target_hours * _MICROS_PER_HOUR:
            return Trigger("pending_acks_aged", f"signer_ack_event:{ack.ack_event_id}")
    return None


def builtin_trigger(
    route: RouteRule, refresh: Refresh, pending: Sequence[PendingAck], thresholds: Thresholds
) -> Trigger | None:
    """heatmap_red first, then pending_acks_aged, each only if the route lists it."""
    if "heatmap_red" in route.promote_trigger:
        fired = heatmap_red_trigger(route, refresh)
        if fired is not None:
            return fired
    if "pending_acks_aged" in route.promote_trigger:
        return aged_pending_trigger(route, refresh, pending, thresholds)
    return None


def rung2_dedup_key(promote_event_id: str) -> str:
    """The page's stable ``dedup_key``: one rung-2 page per promote, across re-runs."""
    return f"govgate:rung2:{promote_event_id}"


def rung2_page(
    promote: PromoteEvent,
    policy: BackupOwnerPolicy | None,
    refreshes: Sequence[Refresh],
    thresholds: Thresholds,
) -> Page | None:
    """Page the team lead when the promoted backup is amber or red at a refresh from the promote
    to ``rung2_hours`` after it, both ends included, while the promote stands.

    ``refreshes`` must be in time order. Recovering does not count.
    """
    start = promote.promoted_at_dt_utc
    end = start + timedelta(hours=thresholds.rung2_hours)
    index = bisect_left(refreshes, start, key=lambda r: r.at)
    for refresh in refreshes[index:]:
        if refresh.at > end:
            break
        if promote.reverted_at_dt_utc is not None and refresh.at >= promote.reverted_at_dt_utc:
            break
        state = classification_of(refresh, promote.promoted_signer)
        if state in SLIPPING:
            return _page(promote, policy, refresh, state, start)
    return None


def _page(promote: PromoteEvent, policy: BackupOwnerPolicy | None, refresh: Refresh,
          state: str, start: datetime) -> Page:
    hours = (refresh.at - start) / timedelta(hours=1)
    lead = policy.pager_target if policy else "the team lead"
    rule = policy.route(promote.owner_route) if policy else None
    return Page(
        dedup_key=rung2_dedup_key(promote.promote_event_id),
        summary=(
            f"rung 2: backup {promote.promoted_signer} promoted on {promote.owner_route} is "
            f"{state} at {format_instant(refresh.at)} ({hours:g} h after "
            f"{promote.promote_event_id}); {lead} to choose "
            + ", ".join(ESCALATION_OPTIONS)
        ),
        source=PAGE_SOURCE,
        severity="error",
        at=refresh.at,
        details={
            "rung": 2,
            "promote_event_id": promote.promote_event_id,
            "owner_route": promote.owner_route,
            "backup_signer": promote.promoted_signer,
            "classification": state,
            "refresh_at": format_instant(refresh.at),
            "heatmap_ref": heatmap_evidence_ref(refresh),
            "team_lead": lead,
            "tertiary_signers": list(rule.tertiary_signers) if rule else [],
            "options": [{"option": o, "description": ESCALATION_OPTION_TEXT[o]}
                        for o in ESCALATION_OPTIONS],
        },
    )


def rung2_resolve(page: Page, promote: PromoteEvent, refreshes: Sequence[Refresh],
                  as_of: datetime) -> Page | None:
    """The ``resolve`` of a rung-2 page: at the first refresh after the page at which the
    promoted backup is green again, or at the promote's revert (the backup no longer signs),
    whichever comes first and is not after ``as_of``.

    ``refreshes`` must be in time order.
    """
    ends: list[tuple[datetime, str]] = []
    index = bisect_left(refreshes, page.at, key=lambda r: r.at)
    for refresh in refreshes[index:]:
        if refresh.at > as_of:
            break
        if refresh.at > page.at and classification_of(refresh, promote.promoted_signer) == "green":
            ends.append((refresh.at, f"backup {promote.promoted_signer} is green again"))
            break
    reverted = promote.reverted_at_dt_utc
    if reverted is not None and page.at <= reverted <= as_of:
        ends.append((reverted, f"{promote.promote_event_id} was reverted"))
    if not ends:
        return None
    at, why = min(ends)
    hours = (at - page.at) / timedelta(hours=1)
    return Page(
        dedup_key=page.dedup_key,
        summary=(f"Resolved at {format_instant(at)}: {why} ({hours:g} h after the rung-2 page "
                 f"on {promote.owner_route})"),
        source=page.source, severity="info", at=at,
        details={"promote_event_id": promote.promote_event_id,
                 "owner_route": promote.owner_route, "paged_at": format_instant(page.at),
                 "resolved_at": format_instant(at), "reason": why},
        action="resolve")
