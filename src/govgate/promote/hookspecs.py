"""Hooks of backup-owner promotion and the escalation ladder (lesson 174).

Registered with the plugin manager through :data:`govgate.plugins.EXTRA_HOOKSPECS`. The built-in
implementations live in :mod:`govgate.promote.plugin` and are ``trylast``, so a third-party plugin
that returns a value replaces them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..hookspecs import hookspec

if TYPE_CHECKING:
    from ..fatigue.model import PendingAck, Refresh, Thresholds
    from ..model import Page
    from .model import BackupOwnerPolicy, PromoteEvent, RouteRule, Trigger


# -------------------------------------------------------------------------------------------
# Rung 1: promote triggers
# -------------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def govgate_promote_trigger(
    route: RouteRule,
    refresh: Refresh,
    pending: Sequence[PendingAck],
    thresholds: Thresholds,
) -> Trigger | None:
    """Decide whether a route's primary signer triggers a backup promote at a daily refresh.

    Called for every route of the policy in force at the refresh that is not promoted at that
    moment (also right after a revert at the same refresh). Manual invocations do not go
    through this hook: they promote at their own instant.

    Stops at first non-None result. The built-in fires ``heatmap_red`` when the primary is red at
    the refresh (evidence ``heatmap:sha256:<hex>@<instant>``), else ``pending_acks_aged`` for
    the oldest ack still open at the refresh, requested in the window, older than
    ``aged_factor`` x its SLA (evidence ``signer_ack_event:<ack_event_id>``) -- each only when
    ``route.promote_trigger`` lists it.

    :param route: The policy row: ``primary_signer``, ``backup_signer``, ``promote_trigger``.
    :param refresh: The daily heat-map refresh (``at``, ``classification``, ``snapshot_hash``).
    :param pending: The primary's ack events on this route that were pending at some point,
        ordered by ``(request_dt_utc, ack_event_id)``; an event acked after ``refresh.at`` was
        still pending then.
    :param thresholds: The thresholds of the policy in force at the refresh.
    :returns: The trigger (type and evidence reference); ``NO_TRIGGER`` to decide that nothing
        fires (this stops the hook, the built-in is not asked); None to leave the decision to
        the next implementation.
    """


# -------------------------------------------------------------------------------------------
# Rung 2: the team-lead page
# -------------------------------------------------------------------------------------------


@hookspec(firstresult=True)
def govgate_escalation_rung2(
    promote: PromoteEvent,
    policy: BackupOwnerPolicy | None,
    refreshes: Sequence[Refresh],
    thresholds: Thresholds,
) -> Page | None:
    """Decide whether a promote escalates to rung 2 and page the team lead.

    Called once per promote; the page's ``dedup_key`` must be stable for the promote so that a
    re-run never pages twice. A page whose ``at`` is after the evaluation's as-of is ignored.

    Stops at first non-None result. The built-in pages when the promoted backup is amber or red
    (recovering does not count) at a refresh from the promote to ``thresholds.rung2_hours``
    after it, both ends included, while the promote stands; the page lists the three
    documented options (``deferred_decision_lane``, ``tertiary_backup``, ``freeze_gate``).

    :param promote: The ``backup_promote_event`` (``reverted_at_dt_utc`` set if it ended).
    :param policy: The policy version in force at the promote (``policy_version_at_time``), or
        None when it is no longer loaded.
    :param refreshes: Every refresh up to the evaluation's as-of, in time order.
    :param thresholds: The thresholds of that policy version.
    :returns: The page for the team lead, or None.
    """
