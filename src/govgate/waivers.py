"""Built-in plugin: waivers, override packets for single findings that expire.

The configuration's ``waivers:`` names a table (CSV, or a YAML/JSON list) whose rows carry an
``audit_id``, the ``rule`` and ``subject`` of the finding they waive, an ``owner``, a ``reason``
and ``expires_at`` (see ``govgate schema waiver``). Before ``expires_at`` the finding is marked
``waived_by`` the audit id: it no longer blocks, and every report still counts and shows it.
From ``expires_at`` on the waiver waives nothing and is itself a finding, so an old exception
cannot quietly keep a release gate open.

A waiver may waive any single finding except two kinds: findings about waivers themselves
(refused when the table is loaded) and the finding stating a red governance state (a
``waiver.refused`` warning, and the red keeps blocking; see :mod:`govgate.checks.gate`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from .checks.gate import states_red
from .errors import GovgateError
from .hookspecs import hookimpl
from .model import Finding, Location, Severity
from .timeutil import format_instant

if TYPE_CHECKING:
    from .config import Config
    from .evaluation import Evaluation, Inputs

DOMAIN = "waivers"

#: Findings about waivers cannot be waived themselves.
UNWAIVABLE_FAMILIES = frozenset({"waiver"})


@dataclass(frozen=True, slots=True)
class Waiver:
    """One row of the waivers table."""

    audit_id: str
    rule: str
    subject: str
    owner: str
    reason: str
    expires_at: datetime
    location: Location

    def active_at(self, at: datetime) -> bool:
        return at < self.expires_at

    def describe(self) -> dict[str, str]:
        return {"audit_id": self.audit_id, "owner": self.owner, "reason": self.reason,
                "expires_at": format_instant(self.expires_at)}


def load_waivers(data: bytes, source: str) -> tuple[Waiver, ...]:
    """Parse and validate a waivers table; one row per (audit_id, rule, subject)."""
    from .loaders.tables import read_table
    from .timeutil import parse_instant

    rows = read_table(data, source, "waiver")
    seen: dict[tuple[str, str, str], int] = {}
    waivers = []
    for row in rows:
        v = row.values
        key = (v["audit_id"], v["rule"], v["subject"])
        if key in seen:
            raise GovgateError(
                f"waiver {v['audit_id']} for {v['rule']} {v['subject']!r} is listed twice "
                f"(also on row {seen[key]})", source=source, where=row.where("audit_id"))
        seen[key] = row.number
        if v["rule"].split(".", 1)[0] in UNWAIVABLE_FAMILIES:
            raise GovgateError(f"rule {v['rule']} cannot be waived", source=source,
                               where=row.where("rule"))
        waivers.append(Waiver(
            audit_id=v["audit_id"], rule=v["rule"], subject=v["subject"], owner=v["owner"],
            reason=v["reason"].strip(),
            expires_at=parse_instant(v["expires_at"], source=source,
                                     where=row.where("expires_at")),
            location=Location(source, row.number)))
    return tuple(waivers)


@hookimpl
def govgate_load_inputs(config: Config, inputs: Inputs) -> None:
    ref = config.data.get("waivers")
    if ref is None:
        return
    from .loaders.io import read_ref

    inputs.put(DOMAIN, load_waivers(read_ref(config, inputs.get("hook"), str(ref)), str(ref)))


def apply_waivers(waivers: tuple[Waiver, ...], findings: list[Finding], as_of: datetime) -> None:
    """Mark waived findings in place and append the findings about the waivers themselves."""
    index: dict[tuple[str, str], list[int]] = {}
    for i, f in enumerate(findings):
        index.setdefault((f.rule, f.subject), []).append(i)
    extra: list[Finding] = []
    for w in sorted(waivers, key=lambda w: (w.expires_at, w.audit_id, w.rule, w.subject)):
        matches = index.get((w.rule, w.subject), [])
        if not w.active_at(as_of):
            still = " and the finding it waived blocks again" if matches else ""
            extra.append(Finding(
                "waiver.expired", w.audit_id, Severity.WARNING,
                f"waiver {w.audit_id} for {w.rule} {w.subject!r} (owner {w.owner}) expired at "
                f"{format_instant(w.expires_at)}{still}: renew it with a new expiry or remove it",
                evidence={"waiver": w.describe(), "rule": w.rule, "subject": w.subject},
                location=w.location))
            continue
        if not matches:
            extra.append(Finding(
                "waiver.unused", w.audit_id, Severity.INFO,
                f"waiver {w.audit_id} for {w.rule} {w.subject!r} matches no finding; remove it "
                "so it cannot cover a future one",
                evidence={"waiver": w.describe(), "rule": w.rule, "subject": w.subject},
                location=w.location))
            continue
        for i in matches:
            f = findings[i]
            if states_red(f):
                # Red blocks publish until an override packet covers the missed windows (which
                # changes the state itself); a waiver is not that packet.
                extra.append(Finding(
                    "waiver.refused", w.audit_id, Severity.WARNING,
                    f"waiver {w.audit_id} cannot waive a red governance state: only an override "
                    "packet with an audit_id covering the missed windows, or a PASS run, ends "
                    "a red", evidence={"waiver": w.describe(), "rule": w.rule,
                                       "subject": w.subject},
                    location=w.location))
                continue
            if f.waived_by is not None:
                continue  # the first (earliest expiring) waiver wins; the audit trail is stable
            findings[i] = dataclasses.replace(
                f, waived_by=w.audit_id, evidence={**f.evidence, "waiver": w.describe()})
    findings.extend(extra)


@hookimpl
def govgate_modify_findings(evaluation: Evaluation, findings: list[Finding]) -> None:
    waivers: tuple[Waiver, ...] | None = evaluation.inputs.get(DOMAIN)
    if waivers:
        apply_waivers(waivers, findings, evaluation.as_of)
