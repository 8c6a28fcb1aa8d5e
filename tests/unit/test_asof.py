"""The as-of view at its boundaries: a row dated exactly T exists at T, one a microsecond later
does not; a lift exactly at T has happened, one after T has not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from govgate.asof import _promote_at, events_seen_by
from govgate.evaluation import Inputs
from govgate.fatigue.events import load_events
from govgate.promote.model import EscalationDecision, ManualInvocation, PromoteInputs

T = datetime(2026, 10, 14, 10, tzinfo=UTC)
US = timedelta(microseconds=1)


def decision(decided: datetime, lifted: datetime | None) -> EscalationDecision:
    return EscalationDecision(page_key="govgate:rung2:x", promote_event_id=None,
                              option="freeze_gate", decided_by="sam", decided_at=decided,
                              lifted_at=lifted, lift_reason="load shifted" if lifted else None)


def invocation(at: datetime) -> ManualInvocation:
    return ManualInvocation(invocation_id=f"inv-{at:%H%M%S%f}", owner_route="publish_gate",
                            invoked_at=at, until=None, audit_reason="rest",
                            team_lead_ack_id="ack-tl")


def test_rows_exist_from_their_own_instant() -> None:
    loaded = PromoteInputs(manual_invocations=(invocation(T), invocation(T + US)),
                           escalation_decisions=(decision(T, T), decision(T - US, T + US),
                                                 decision(T + US, None)))
    seen = _promote_at(loaded, T)
    assert [m.invoked_at for m in seen.manual_invocations] == [T]
    lifted = {d.decided_at: d.lifted_at for d in seen.escalation_decisions}
    assert lifted == {T: T, T - US: None}  # lifted exactly at T; lifted after T: not yet
    assert [d.lift_reason for d in seen.escalation_decisions] == ["load shifted", None]


def test_the_view_leaves_unknown_domains_alone() -> None:
    from govgate.asof import apply_as_of_view

    inputs = Inputs()
    inputs.put("third-party", {"rows": [1, 2]})
    apply_as_of_view(inputs, T)
    assert inputs.get("third-party") == {"rows": [1, 2]}


def test_event_counts_are_those_a_refresh_saw(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(
        "ack_event_id,signer_id,owner_route,cert_window_id,request_dt_utc,ack_dt_utc,"
        "ack_outcome,sla_target_hours\n"
        "e1,alex,publish_gate,cw-a,2026-10-01 23:59:59+00,2026-10-02 00:10:00+00,approved,0.50\n"
        "e2,pat,publish_gate,,2026-10-02 00:00:00+00,,,0.50\n"
        "e3,alex,faq_rewrite,cw-b,2026-10-03 12:00:00+00,2026-10-03 13:00:00+00,approved,4.00\n",
        encoding="utf-8")
    log = load_events(path, refresh_anchor=datetime(2026, 10, 1, tzinfo=UTC))
    day = timedelta(days=1)
    at = datetime(2026, 10, 2, tzinfo=UTC)

    def seen(refresh: datetime) -> tuple[int, int, int]:
        counts = events_seen_by(log, refresh)
        return counts.events, counts.signers, counts.cert_windows

    assert seen(at - day) == (0, 0, 0)
    # e2, requested exactly at the refresh of 10-02, is first seen by the next one (the heat-map
    # window is as_of - 14 days <= request < as_of).
    assert seen(at) == (1, 1, 1)
    assert seen(at + day) == (2, 2, 1)
    assert seen(at + 2 * day) == (log.event_count, 2, 2)
