"""The review's output: a proposed ``backup_owner_policy`` minor bump, its diff and the history.

The proposal starts from the version in force at the month's close and applies explicit changes
for what the month's findings show:

* ``manual-dominates``: routes whose promotes were mostly manual get the automatic triggers
  they lack (``heatmap_red``, ``pending_acks_aged``); with no route listing ``heatmap_red`` at
  all, every route gets it;
* ``tertiary-used-twice``: the tertiary becomes the route's named backup and the former backup
  heads the tertiary chain (``backup_owner_policy_extended``);
* ``thresholds-never-promoted``: ``red_min_windows`` is lowered one step at a time, each step
  replayed over the month (a what-if), until at least one ``heatmap_red`` promote happens.

People are never invented: one person named on several routes is listed as a decision for the
team lead, not changed. The version is the next minor of the highest known version, approved at
the first instant of the next month (next-month rollout) and left unsigned
(``signed_ack: pending:review-<month>``) until the team lead signs it. The proposal is
validated against the policy schema and invariants before it is written.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from ..fatigue.model import Thresholds
from ..loaders.policies import PolicyDoc, parse_policy
from ..promote.model import BackupOwnerPolicy
from ..promote.policy import KIND, PolicyChange, backup_owner_policy_history, policy_from_doc
from ..timeutil import format_instant
from .periods import Period, next_month_start

__all__ = ["Proposal", "dump_policy", "propose"]

#: Replays the month with a candidate policy document; returns its ``heatmap_red`` promotes.
Replay = Callable[[PolicyDoc], int]


@dataclass(frozen=True)
class Proposal:
    """A proposed version, or none when the month asks for no change."""

    base_version: str
    version: str | None
    document: PolicyDoc | None
    yaml_text: str | None
    changes: tuple[PolicyChange, ...]
    #: Why each change is proposed, and the decisions left to the team lead.
    reasons: tuple[str, ...]
    decisions: tuple[str, ...]
    yaml_diff: str
    history: tuple[dict[str, Any], ...]

    #: The review's slug (``2026-10``): the file name carries it, so reviews of different months
    #: proposing the same version number never overwrite each other.
    period_slug: str = ""

    @property
    def file_name(self) -> str | None:
        if self.version is None:
            return None
        return f"review-{self.period_slug}-proposed-backup-owner-policy-{self.version}.yaml"


def _plain(value: Any) -> Any:
    """Policy data as YAML-safe plain values (timestamps stay text, as govgate loads them)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def dump_policy(data: dict[str, Any]) -> str:
    """Deterministic YAML of a policy document (keys in their given order)."""
    text: str = yaml.safe_dump(_plain(data), sort_keys=False, allow_unicode=True,
                               default_flow_style=False, width=100)
    return text


def _triggers(route: dict[str, Any]) -> list[str]:
    value = route["promote_trigger"]
    return [value] if isinstance(value, str) else list(value)


def _apply_findings(data: dict[str, Any], findings: Sequence[dict[str, Any]],
                    reasons: list[str], decisions: list[str]) -> None:
    by_id: dict[str, list[dict[str, Any]]] = {}
    for f in findings:
        by_id.setdefault(f["id"], []).append(f)
    routes = {r["owner_route"]: r for r in data["routes"]}
    no_red = not any("heatmap_red" in _triggers(r) for r in routes.values())
    manual = by_id.get("manual-dominates", [])
    targets = set(manual[0]["evidence"].get("manual_by_route", {})) if manual else set()
    never = by_id.get("thresholds-never-promoted", [])
    # A per-route finding names the route whose red primary was never promoted away from.
    targets |= {f["evidence"]["owner_route"] for f in never if "owner_route" in f["evidence"]}
    if no_red and never:
        targets |= set(routes)
    for name in sorted(targets & set(routes)):
        have = _triggers(routes[name])
        missing = [t for t in ("heatmap_red", "pending_acks_aged") if t not in have]
        if missing:
            routes[name]["promote_trigger"] = [*missing, *have]
            reasons.append(f"{name}: add {', '.join(missing)} so a tired primary is promoted "
                           "away from by the policy, not by ad-hoc manual calls")
    for f in by_id.get("tertiary-used-twice", []):
        ev = f["evidence"]
        route = routes.get(ev["owner_route"])
        if route is None or route["backup_signer"] == ev["tertiary_signer"]:
            continue
        former = route["backup_signer"]
        chain = [p for p in route.get("tertiary_signers") or () if p != ev["tertiary_signer"]]
        route["backup_signer"] = ev["tertiary_signer"]
        route["tertiary_signers"] = [former, *[p for p in chain if p != former]]
        reasons.append(f"{ev['owner_route']}: {ev['tertiary_signer']} signed as tertiary "
                       f"{ev['uses']} times, so becomes the named backup; {former} heads the "
                       "tertiary chain")
    for f in by_id.get("one-person-several-routes", []):
        decisions.append(f"{f['detail'].split(':')[0]}: name another person on one of these "
                         "routes (govgate does not invent signers)")


def _document(data: dict[str, Any], name: str) -> PolicyDoc:
    doc = parse_policy(dump_policy(data).encode(), name)  # the schema check
    policy_from_doc(doc)  # the invariants: primary differs from backup, tertiaries, ranges
    return doc


def propose(period: Period, base: PolicyDoc, versions: Sequence[BackupOwnerPolicy],
            findings: Sequence[dict[str, Any]], replay: Replay) -> Proposal:
    """Build the proposal for ``period`` from the version in force at its close (``base``).

    :param versions: Every known version (for the next version number and the history).
    :param replay: Counts ``heatmap_red`` promotes in the month under a candidate document.
    """
    highest = max((v.key for v in versions), default=base.key)
    version = f"{highest[0]}.{highest[1] + 1}.0"
    data = copy.deepcopy(base.data)
    data["version"] = version
    data["approved_dt_utc"] = format_instant(next_month_start(period))
    data["signed_ack"] = f"pending:review-{period.slug}"
    data["description"] = (
        f"Proposed by the monthly fatigue review of {period.label} from version "
        f"{base.version}. Not approved: the team lead replaces signed_ack with the ack id of "
        "the approval and confirms approved_dt_utc before the file joins the policies folder.")
    reasons: list[str] = []
    decisions: list[str] = []
    _apply_findings(data, findings, reasons, decisions)
    name = f"review-{period.slug}-proposed-backup-owner-policy-{version}.yaml"
    # Only the month-wide finding (no heatmap_red promote at all) asks for lower thresholds.
    if any(f["id"] == "thresholds-never-promoted" and "owner_route" not in f["evidence"]
           for f in findings) and any("heatmap_red" in _triggers(r) for r in data["routes"]):
        _lower_red_windows(data, name, replay, reasons, decisions)
    structural = {k: v for k, v in data.items() if k not in ("version", "approved_dt_utc",
                                                             "signed_ack", "description")}
    unchanged = structural == {k: v for k, v in base.data.items()
                               if k not in ("version", "approved_dt_utc", "signed_ack",
                                            "description")}
    history = [r.to_dict() for r in backup_owner_policy_history(versions)]
    if unchanged:
        return Proposal(base.version, None, None, None, (), tuple(reasons), tuple(decisions),
                        "", tuple(history), period.slug)
    doc = _document(data, name)
    proposed = policy_from_doc(doc)
    current = next(v for v in versions if v.version == base.version)
    (revision,) = backup_owner_policy_history([current, proposed])[1:]
    text = dump_policy(data)
    diff = "".join(difflib.unified_diff(
        dump_policy(base.data).splitlines(keepends=True), text.splitlines(keepends=True),
        fromfile=f"{KIND} {base.version} ({base.source})", tofile=f"{KIND} {version} (proposed)"))
    entry = {**revision.to_dict(), "previous_version": base.version, "status": "proposed",
             "source": name}
    return Proposal(base.version, version, doc, text, revision.changes, tuple(reasons),
                    tuple(decisions), diff, (*history, entry), period.slug)


def _lower_red_windows(data: dict[str, Any], name: str, replay: Replay, reasons: list[str],
                       decisions: list[str]) -> None:
    """Step ``red_min_windows`` down until the month's replay promotes on heatmap_red."""
    saved = copy.deepcopy(data.get("thresholds"))
    thresholds = data.setdefault("thresholds", {})
    current = int(thresholds.get("red_min_windows", Thresholds().red_min_windows))
    for candidate in range(current - 1, 0, -1):
        thresholds["red_min_windows"] = candidate
        promotes = replay(_document(data, name))
        if promotes:
            reasons.append(f"thresholds.red_min_windows {current} → {candidate}: the month "
                           f"replayed with {candidate} produces {promotes} heatmap_red "
                           f"promote(s), with {current} none")
            return
    if saved is None:  # leave the document exactly as it was
        del data["thresholds"]
    else:
        data["thresholds"] = saved
    decisions.append("no red_min_windows down to 1 would have promoted on heatmap_red this "
                     "month: the month was quiet; keep the thresholds and look again next month")
