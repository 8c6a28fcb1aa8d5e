"""An autumn-2026 signer-fatigue scenario with lesson 174's common mistakes seeded on purpose.

``add_fatigue(root)`` writes, into a project folder (e.g. one made by ``make_project``), the
``signer_ack_event`` export, two ``backup_owner_policy`` versions, the team lead's files, the cert
windows and a deficiency trend board, and points the config's ``fatigue:`` section at them.

What the October 2026 review must find:

* thresholds that never promoted: ``red_min_windows: 5`` keeps alex amber (3 concurrent cert
  windows with breaches) instead of red, so no ``heatmap_red`` promote happens all month;
* manual invocations dominate: 3 manual promotes (publish_gate twice, exec_readback once)
  against 1 automatic (freeze_bypass, ``pending_acks_aged``);
* a tertiary used twice: quinn signs publish_gate after both rung-2 pages (pat, the backup, is
  amber all autumn);
* one person on several routes: alex is primary on publish_gate and backup on faq_rewrite, pat
  backs up two routes, dana is primary on one and backup on another.

Also: one freeze gate (rung 3) on freeze_bypass, one forced revert, a drill promote before the
first autumn cert window, and a hot dimension (publish_gate) guarded by the tired alex.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

KIND = "backup_owner_policy"
SLA = {"publish_gate": "0.50", "faq_rewrite": "4.00", "freeze_bypass": "2.00",
       "exec_readback": "24.00"}
FIRST_DAY = datetime(2026, 9, 10, tzinfo=UTC)
LAST_DAY = datetime(2026, 11, 19, tzinfo=UTC)

POLICY_BASE: dict[str, Any] = {
    "kind": "backup_owner_policy",
    "approved_by": "team-lead",
    "team_lead": "tl-sam",
    "thresholds": {"red_min_windows": 5},
    "routes": [
        {"owner_route": "publish_gate", "primary_signer": "alex", "backup_signer": "pat",
         "promote_trigger": ["heatmap_red", "pending_acks_aged", "manual_invocation"],
         "revert_condition": "green_7d", "tertiary_signers": ["quinn"]},
        {"owner_route": "faq_rewrite", "primary_signer": "dana", "backup_signer": "alex",
         "promote_trigger": ["heatmap_red", "manual_invocation"], "revert_condition": "green_7d"},
        {"owner_route": "freeze_bypass", "primary_signer": "morgan", "backup_signer": "pat",
         "promote_trigger": ["heatmap_red", "pending_acks_aged"], "revert_condition": "green_7d"},
        {"owner_route": "exec_readback", "primary_signer": "riley", "backup_signer": "dana",
         "promote_trigger": "manual_invocation", "revert_condition": "green_7d"},
    ],
}

MANUAL = [
    {"invocation_id": "inv-2026-09-14", "owner_route": "exec_readback",
     "invoked_at": "2026-09-14T09:00:00Z", "until": "2026-09-16T09:00:00Z",
     "audit_reason": "promote drill before the autumn windows", "team_lead_ack_id": "ack-tl-0914"},
    {"invocation_id": "inv-2026-10-01", "owner_route": "publish_gate",
     "invoked_at": "2026-10-01T09:00:00Z", "until": "2026-10-04T09:00:00Z",
     "audit_reason": "alex at a conference", "team_lead_ack_id": "ack-tl-1001"},
    {"invocation_id": "inv-2026-10-15", "owner_route": "exec_readback",
     "invoked_at": "2026-10-15T09:00:00Z", "until": "2026-10-25T09:00:00Z",
     "audit_reason": "riley on holiday", "team_lead_ack_id": "ack-tl-1015"},
    {"invocation_id": "inv-2026-10-27", "owner_route": "publish_gate",
     "invoked_at": "2026-10-27T09:00:00Z", "until": "2026-10-30T09:00:00Z",
     "audit_reason": "alex planned rest", "team_lead_ack_id": "ack-tl-1027"},
]
FORCED = [{"promote_event_id": "bpe-exec_readback-20261015T090000Z",
           "reverted_at": "2026-10-18T12:00:00Z", "reason": "riley back early", "by": "tl-sam"}]
DECISIONS = [
    {"promote_event_id": "bpe-publish_gate-20261001T090000Z", "option": "tertiary_backup",
     "decided_by": "tl-sam", "decided_at": "2026-10-02T08:00:00Z"},
    {"promote_event_id": "bpe-freeze_bypass-20261013T000000Z", "option": "freeze_gate",
     "decided_by": "tl-sam", "decided_at": "2026-10-13T08:00:00Z",
     "lifted_at": "2026-10-14T10:00:00Z", "lift_reason": "morgan's queue drained"},
    {"promote_event_id": "bpe-publish_gate-20261027T090000Z", "option": "tertiary_backup",
     "decided_by": "tl-sam", "decided_at": "2026-10-28T08:00:00Z"},
]
CERT_WINDOWS = [
    ("steam-deck-autumn", "steam", "2026-09-20T00:00:00Z", "2026-11-30T00:00:00Z",
     "publish_gate;freeze_bypass"),
    ("quest-holiday", "quest", "2026-10-01T00:00:00Z", "2026-12-01T00:00:00Z",
     "publish_gate;faq_rewrite"),
    ("ps-indies", "playstation", "2026-10-04T00:00:00Z", "2026-11-15T00:00:00Z", "publish_gate"),
    ("xbox-preview", "xbox", "2026-10-10T00:00:00Z", "2026-11-20T00:00:00Z", "exec_readback"),
]
TREND_BOARD = [
    ("tuple-drift-steam", "publish_gate", "warming", "2026-09-30T00:00:00Z", "2"),
    ("tuple-drift-steam", "publish_gate", "hot", "2026-10-30T00:00:00Z", "4"),
    ("faq-redline-lag", "faq_rewrite", "cooling", "2026-10-30T00:00:00Z", "1"),
    ("bypass-evidence-gaps", "freeze_bypass", "structural_red", "2026-10-30T00:00:00Z", "6"),
    ("exec-tile-mismatch", "exec_readback", "stable", "2026-10-30T00:00:00Z", "0"),
]
EVENT_COLUMNS = ("ack_event_id", "signer_id", "owner_route", "cert_window_id", "request_dt_utc",
                 "ack_dt_utc", "ack_outcome", "sla_target_hours")


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def events() -> list[tuple[str, ...]]:
    """The ``signer_ack_event`` rows, in a deterministic order."""
    rows: list[tuple[str, ...]] = []

    def add(signer: str, route: str, window: str | None, at: datetime, hours: float) -> None:
        ack = at + timedelta(hours=hours)
        rows.append((f"ev-{len(rows) + 1:05d}", signer, route, window or "", _iso(at), _iso(ack),
                     "approved", SLA[route]))

    day = FIRST_DAY
    while day <= LAST_DAY:
        n = (day - FIRST_DAY).days
        crowded = datetime(2026, 10, 4, tzinfo=UTC) <= day <= datetime(2026, 10, 24, tzinfo=UTC)
        add("alex", "publish_gate", "steam-deck-autumn", day + timedelta(hours=10), 0.2)
        if crowded:  # three concurrent cert windows, a breach every third day
            add("alex", "publish_gate", "quest-holiday", day + timedelta(hours=11),
                0.8 if n % 3 == 0 else 0.2)
            add("alex", "publish_gate", "ps-indies", day + timedelta(hours=12), 0.2)
        add("pat", "freeze_bypass", "steam-deck-autumn", day + timedelta(hours=14), 1.7)
        add("dana", "faq_rewrite", "quest-holiday", day + timedelta(hours=9), 1.5)
        add("morgan", "freeze_bypass", "steam-deck-autumn", day + timedelta(hours=16), 0.5)
        window = "xbox-preview" if day >= datetime(2026, 10, 10, tzinfo=UTC) else None
        add("riley", "exec_readback", window, day + timedelta(hours=8), 6)
        if n % 3 == 0:
            add("quinn", "exec_readback", window, day + timedelta(hours=13), 2)
        day += timedelta(days=1)
    # morgan's aged pending ack: open 14 h at the 2026-10-13 refresh (SLA 2 h, 1.5 x = 3 h).
    add("morgan", "freeze_bypass", "steam-deck-autumn",
        datetime(2026, 10, 12, 10, tzinfo=UTC), 24)
    return rows


def _csv(path: Path, header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def policy(version: str, approved: str, ack: str, **changes: Any) -> dict[str, Any]:
    doc = {"kind": "backup_owner_policy", "version": version, **POLICY_BASE,
           "approved_dt_utc": approved, "signed_ack": ack}
    doc["routes"] = [dict(r) for r in POLICY_BASE["routes"]]
    for route, extra in changes.items():
        next(r for r in doc["routes"] if r["owner_route"] == route).update(extra)
    return doc


def add_fatigue(root: Path, *, policies: bool = True) -> None:
    """Write the scenario's files under ``root/fatigue`` and wire them into the config."""
    folder = root / "fatigue"
    folder.mkdir(parents=True, exist_ok=True)
    _csv(folder / "signer_ack_events.csv", EVENT_COLUMNS, events())
    _csv(folder / "cert_windows.csv",
         ("cert_window_id", "platform", "opens_at", "closes_at", "critical_routes"), CERT_WINDOWS)
    _csv(folder / "deficiency_trend_board.csv",
         ("dimension_id", "owner_route", "trend", "as_of", "recurrence_count"), TREND_BOARD)
    for name, rows in (("manual_invocations", MANUAL), ("forced_reverts", FORCED),
                       ("escalation_decisions", DECISIONS)):
        (folder / f"{name}.yaml").write_text(yaml.safe_dump(rows, sort_keys=False),
                                            encoding="utf-8")
    if policies:
        policy_dir = root / "policies"
        policy_dir.mkdir(exist_ok=True)
        # Only this scenario's versions: drop any backup_owner_policy copied from elsewhere.
        for path in policy_dir.glob("*.yaml"):
            if (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("kind") == KIND:
                path.unlink()
        for doc in (policy("1.0.0", "2026-09-01T00:00:00Z", "ack-tl-2026-0901"),
                    policy("1.1.0", "2026-10-20T00:00:00Z", "ack-tl-2026-1020",
                           exec_readback={"tertiary_signers": ["quinn"]})):
            (policy_dir / f"backup-owner-policy-{doc['version']}.yaml").write_text(
                yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    config_path = root / "govgate.yaml"
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    config["fatigue"] = {
        "events": "fatigue/signer_ack_events.csv",
        "manual_invocations": "fatigue/manual_invocations.yaml",
        "forced_reverts": "fatigue/forced_reverts.yaml",
        "escalation_decisions": "fatigue/escalation_decisions.yaml",
        "cert_windows": "fatigue/cert_windows.csv",
        "deficiency_trend_board": "fatigue/deficiency_trend_board.csv",
    }
    config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")


def write_scenario(root: Path) -> Path:
    """The full scenario: eight weekly reconciliation windows (FAIL in week 3, a skip in week
    7, a silent skip in week 8) plus the fatigue data above. Returns the project folder."""
    from tests.conftest import make_project

    make_project(root, weeks=8, skips={7: "maintenance"}, silent=[8],
                 drifts={(3, "tickets_p95"): "0.5"})
    add_fatigue(root)
    return root
