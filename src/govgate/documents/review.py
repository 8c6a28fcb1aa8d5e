"""The monthly fatigue review of lesson 174: the month's data and its "common mistakes".

Built from one evaluation at the month's close (the same as the gate's) and the daily heat-map
refreshes dated in the month (the refresh at 00:00 UTC of each day):

* per signer: days in each class, the peak ``breached_count_14d`` and ``pending_acks_now`` over
  the month's refreshes, and the class and pending acks at the last refresh of the month;
* promote history (every promote in effect during the month), forced reverts, rung-2 pages,
  tertiary backups used and freeze gates;
* the cross-reference against the deficiency trend board (lesson 173): every signer guarding a
  route in the month, with the route's hot dimensions -- "a tired signer guarding a hot
  dimension" first;
* findings for the lesson's common mistakes that the data can show.

The proposed policy bump is :mod:`~govgate.documents.proposal`; the markdown is
:mod:`~govgate.documents.review_render`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..fatigue.model import Refresh
from ..promote.model import PromoteInputs
from ..timeutil import format_instant, parse_instant
from .periods import Period
from .picture import CLASS_STYLE
from .snapshots import Snapshot
from .trendboard import TrendRow, board_at

__all__ = ["AUTOMATIC", "ReviewFinding", "build_review", "month_refreshes"]

AUTOMATIC = ("heatmap_red", "pending_acks_aged")
_TIRED = ("red", "amber")


@dataclass(frozen=True)
class ReviewFinding:
    """One common mistake found in the month, with the evidence behind it."""

    id: str
    title: str
    detail: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "detail": self.detail,
                "evidence": self.evidence}


def month_refreshes(history: Sequence[Refresh], period: Period,
                    close: datetime) -> list[Refresh]:
    """The refreshes dated in the period and known at its close, oldest first."""
    return [r for r in history if period.start <= r.at < period.end and r.at <= close]


def _rollup(refreshes: Sequence[Refresh]) -> list[dict[str, Any]]:
    # One pass over the month's rows: linear in signers x days, never signers x rows.
    classes: dict[str, Counter[str]] = {}
    peak_breached: dict[str, int] = {}
    peak_pending: dict[str, int] = {}
    for refresh in refreshes:
        for signer, state in refresh.classification.items():
            classes.setdefault(signer, Counter())[state] += 1
        for row in refresh.rows:
            signer = row.signer_id
            peak_breached[signer] = max(peak_breached.get(signer, 0), row.breached_count_14d)
            peak_pending[signer] = max(peak_pending.get(signer, 0), row.pending_acks_now)
    last = refreshes[-1] if refreshes else None
    final = {row.signer_id: row for row in last.rows} if last else {}
    out = []
    for signer in sorted(classes):
        counted = classes[signer]
        at_close = final.get(signer)
        out.append({
            "signer_id": signer,
            "days": {c: counted.get(c, 0) for c in CLASS_STYLE},
            "peak_breached_count_14d": peak_breached.get(signer, 0),
            "peak_pending_acks_now": peak_pending.get(signer, 0),
            "pending_at_close": at_close.pending_acks_now if at_close else 0,
            "class_at_close": last.classification.get(signer) if last else None,
        })
    return out


def _overlaps(period: Period, close: datetime, row: dict[str, Any]) -> bool:
    start = parse_instant(row["promoted_at_dt_utc"])
    end = row.get("reverted_at_dt_utc")
    return start < period.end and start <= close and (
        end is None or parse_instant(end) >= period.start)


def _within(period: Period, close: datetime, instant: str | None) -> bool:
    if not instant:
        return False
    at = parse_instant(instant)
    return period.start <= at < period.end and at <= close


def build_review(period: Period, snap: Snapshot, board: Sequence[TrendRow]) -> dict[str, Any]:
    """The review's data (JSON values only), before the proposal and the what-ifs."""
    close = snap.at
    refreshes = month_refreshes(snap.history, period, close)
    promote = snap.section("promote")
    promotes = [p for p in promote.get("promotes", ()) if _overlaps(period, close, p)]
    started = [p for p in promotes if _within(period, close, p["promoted_at_dt_utc"])]
    decisions = [d for d in promote.get("decisions", ())
                 if _within(period, close, d.get("decided_at"))]
    tertiary = [d for d in decisions if d.get("option") == "tertiary_backup"
                and d.get("tertiary_signer")]
    rollup = _rollup(refreshes)
    data: dict[str, Any] = {
        "kind": "monthly_fatigue_review",
        "period": {"label": period.label, "start": format_instant(period.start),
                   "end_exclusive": format_instant(period.end),
                   "evaluated_at": format_instant(close),
                   "open_at_evaluation": period.is_open_at(close)},
        "policy_version_at_close": promote.get("policy_version"),
        "refreshes": [format_instant(r.at) for r in refreshes[:1] + refreshes[-1:]],
        "refresh_count": len(refreshes),
        "signers": rollup,
        "promotes": promotes,
        "forced_reverts": [f for f in promote.get("forced_reverts", ())
                           if _within(period, close, f.get("reverted_at_dt_utc"))],
        "pages": [p for p in promote.get("pages", ()) if _within(period, close, p.get("at"))],
        "tertiary_used": tertiary,
        "freeze_gates": [d for d in decisions if d.get("option") == "freeze_gate"],
        "cross_reference": _cross_reference(snap, board, rollup, promotes, tertiary),
    }
    found = _findings(snap, started, tertiary)
    # Per-route "never promoted" findings follow the month-wide one, in the lesson's order.
    at = 1 if found and found[0].id == "thresholds-never-promoted" else 0
    found[at:at] = _red_without_promote(snap, refreshes, promote.get("promotes", ()))
    data["findings"] = [f.to_dict() for f in found]
    return data


def _cross_reference(snap: Snapshot, board: Sequence[TrendRow], rollup: list[dict[str, Any]],
                     promotes: list[dict[str, Any]],
                     tertiary: list[dict[str, Any]]) -> dict[str, Any]:
    rows = board_at(board, snap.at)
    tired = {s["signer_id"]: s["days"]["red"] + s["days"]["amber"] for s in rollup}
    at_close = {s["signer_id"]: s["class_at_close"] for s in rollup}
    loaded: PromoteInputs | None = snap.evaluation.inputs.get("promote")
    from ..promote.policy import active_policy

    policy = active_policy(loaded.policies, snap.at) if loaded else None
    guards: dict[str, list[tuple[str, str]]] = {}
    for rule in policy.routes if policy else ():
        guards.setdefault(rule.owner_route, []).append((rule.primary_signer, "primary"))
    for p in promotes:
        guards.setdefault(p["owner_route"], []).append((p["promoted_signer"], "backup (promoted)"))
    for d in tertiary:
        guards.setdefault(d["owner_route"], []).append((d["tertiary_signer"], "tertiary (rung 2)"))
    for row in rows:
        guards.setdefault(row.owner_route, [])
    table = []
    for route, people in guards.items():
        dims = [r for r in rows if r.owner_route == route]
        hot = [r.dimension_id for r in dims if r.hot]
        seen: set[str] = set()
        for signer, role in people or [("(nobody named)", "none")]:
            if signer in seen:
                continue
            seen.add(signer)
            days = tired.get(signer, 0)
            is_tired = days > 0 or at_close.get(signer) in _TIRED
            priority = 1 if is_tired and hot else 2 if hot else 3 if is_tired else 4
            table.append({
                "owner_route": route, "signer_id": signer, "role": role,
                "red_amber_days": days, "class_at_close": at_close.get(signer),
                "hot_dimensions": hot,
                "dimensions": [{"dimension_id": r.dimension_id, "trend": r.trend} for r in dims],
                "priority": priority,
            })
    table.sort(key=lambda r: (r["priority"], -r["red_amber_days"], r["owner_route"],
                              r["signer_id"]))
    return {"board_as_of": max((format_instant(r.as_of) for r in rows), default=None),
            "dimensions": len(rows), "rows": table}


def _red_without_promote(snap: Snapshot, refreshes: Sequence[Refresh],
                         promotes: Sequence[dict[str, Any]]) -> list[ReviewFinding]:
    """Routes whose primary was red at a refresh of the month while the route stood unpromoted:
    for them the promote threshold never fired (a route without ``heatmap_red`` has none)."""
    from ..promote.policy import active_policy

    loaded: PromoteInputs | None = snap.evaluation.inputs.get("promote")
    spans = [(p["owner_route"], parse_instant(p["promoted_at_dt_utc"]),
              parse_instant(p["reverted_at_dt_utc"]) if p.get("reverted_at_dt_utc") else None)
             for p in promotes]
    missed: dict[str, dict[str, Any]] = {}
    for refresh in refreshes:
        policy = active_policy(loaded.policies, refresh.at) if loaded else None
        for rule in policy.routes if policy else ():
            if refresh.classification.get(rule.primary_signer) != "red" or any(
                    route == rule.owner_route and start <= refresh.at
                    and (end is None or refresh.at < end) for route, start, end in spans):
                continue
            entry = missed.setdefault(rule.owner_route, {
                "owner_route": rule.owner_route, "primary_signer": rule.primary_signer,
                "promote_trigger": list(rule.promote_trigger), "red_refreshes": []})
            entry["red_refreshes"].append(format_instant(refresh.at))
    found = []
    for route, ev in sorted(missed.items()):
        days = ev["red_refreshes"]
        why = ("lists heatmap_red, yet no promote followed"
               if "heatmap_red" in ev["promote_trigger"]
               else f"promotes only on {', '.join(ev['promote_trigger'])}: no threshold can "
                    "promote it, add heatmap_red")
        found.append(ReviewFinding(
            "thresholds-never-promoted",
            "Promote thresholds so high that they never trigger",
            f"{route}: {ev['primary_signer']} was red at {len(days)} refresh(es) of the month "
            f"(first {days[0]}) while {route} stood unpromoted; {route} {why}",
            ev))
    return found


def _findings(snap: Snapshot, started: list[dict[str, Any]],
              tertiary: list[dict[str, Any]]) -> list[ReviewFinding]:
    found = []
    loaded: PromoteInputs | None = snap.evaluation.inputs.get("promote")
    from ..promote.policy import active_policy

    policy = active_policy(loaded.policies, snap.at) if loaded else None
    by_trigger = Counter(p["trigger_type"] for p in started)
    if policy is not None and by_trigger["heatmap_red"] == 0:
        routes = [r.owner_route for r in policy.routes if "heatmap_red" in r.promote_trigger]
        found.append(ReviewFinding(
            "thresholds-never-promoted",
            "Promote thresholds so high that they never trigger",
            ("no heatmap_red promote in the whole month "
             + (f"although {', '.join(routes)} list heatmap_red (red needs "
                f"{policy.thresholds.red_min_windows} concurrent cert windows and "
                f"{policy.thresholds.red_min_breaches} breach): the thresholds are wrong, not "
                "the team; lower them until the system actually promotes" if routes else
                "because no route lists heatmap_red: add the automatic trigger")),
            {"routes_with_heatmap_red": routes,
             "red_min_windows": policy.thresholds.red_min_windows,
             "red_min_breaches": policy.thresholds.red_min_breaches}))
    manual = by_trigger["manual_invocation"]
    automatic = sum(by_trigger[t] for t in AUTOMATIC)
    if manual > automatic:
        per_route = Counter(p["owner_route"] for p in started
                            if p["trigger_type"] == "manual_invocation")
        found.append(ReviewFinding(
            "manual-dominates",
            "manual_invocation dominating the automatic triggers",
            f"{manual} manual promotes against {automatic} automatic ones: the automatic "
            "triggers are tuned wrong and the team is making ad-hoc calls instead of running "
            "the policy (manual is for planned rest)",
            {"manual": manual, "automatic": automatic,
             "manual_by_route": dict(sorted(per_route.items()))}))
    uses = Counter((d["owner_route"], d["tertiary_signer"]) for d in tertiary)
    for (route, person), count in sorted(uses.items()):
        if count >= 2:
            found.append(ReviewFinding(
                "tertiary-used-twice",
                "A tertiary backup used twice or more in the month",
                f"{person} signed {route} as tertiary backup {count} times: formalise "
                f"{person} as a named backup in backup_owner_policy_extended",
                {"owner_route": route, "tertiary_signer": person, "uses": count}))
    for audit in snap.section("promote").get("cross_route_audit", ()):
        roles = "; ".join(f"{r['role']} on {r['owner_route']}" for r in audit.get("roles", ()))
        found.append(ReviewFinding(
            "one-person-several-routes",
            "The same human named on several owner-routes",
            f"{audit['signer_id']} is {roles} in backup_owner_policy "
            f"{audit.get('policy_version')}: the per-row CHECK cannot see it, the heat-map will "
            "show one human carrying the load",
            dict(audit)))
    return found
