"""A hand-made gate result with one finding of every kind, for the reporter tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from govgate.config import Config
from govgate.model import (
    Finding,
    GateResult,
    GovernanceState,
    Location,
    Page,
    Severity,
)
from govgate.reporters import ReportContext

AS_OF = datetime(2026, 11, 20, tzinfo=UTC)

BLOCKING = Finding("reconcile.state", "governance", Severity.ERROR,
                   "red: windows recon-2026-W45, window@2026-11-09T00:00:00Z have no PASS run",
                   owner_route="publish_gate", location=Location("scheduler_runs.csv", 8))
DRIFT = Finding("reconcile.epsilon", "tickets_p95", Severity.WARNING,
                "recon-2026-W47: tickets_p95 partner 10.5 vs leadership 10: delta 0.5 exceeds "
                "tolerance 0.1", owner_route="faq_rewrite",
                location=Location("jobs/recon-2026-W47/partner_annex.json", 12))
WAIVED = Finding("reconcile.ack-refused", "ack-7", Severity.ERROR,
                 "ack ack-7 by alex refused: names recon-2026-W41, which is amber",
                 owner_route="publish_gate", location=Location("acks.csv", 3),
                 waived_by="AUD-2026-114")
NOTE = Finding("reconcile.inputs", "recon-2026-W47", Severity.INFO, "evidence only")
NO_FILE = Finding("fatigue.signer", "alex", Severity.ERROR,
                  "alex is red: 3 concurrent windows, 2 breaches")


def make_result(findings: tuple[Finding, ...] = (BLOCKING, DRIFT, WAIVED, NOTE, NO_FILE),
                *, passed: bool | None = None, state: GovernanceState = GovernanceState.RED,
                sections: dict[str, Any] | None = None) -> GateResult:
    blocked = any(f.blocking for f in findings)
    return GateResult(
        as_of=AS_OF,
        passed=(not blocked) if passed is None else passed,
        state=state,
        findings=tuple(sorted(findings, key=Finding.sort_key)),
        pages=(Page("govgate:reconcile:red:recon-2026-W45", "Reconciliation red", "govgate",
                    "critical", AS_OF),),
        artifacts={"diff/recon-2026-W47-0123456789abcdef.json": "x"},
        sections=sections or {},
    )


def make_context(base: Path, config_name: str = "govgate.yaml") -> ReportContext:
    config = Config(path=base / config_name, base=base, data={})
    return ReportContext(config=config, output=base / "govgate-out")
