"""Built-in plugin: references between inputs that point at nothing.

A bootstrap, a remediation evidence row or an override packet names a ``job_run_id``; an ack
event names a ``cert_window_id``. When the thing named does not exist, the rules that read
them simply never match, so the mistake only shows later as a refused ack or an amber run that
stays amber. Each such reference is a warning here naming both ends: the referring row (file
and row) and the run or window it names (and where those are listed).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ..hookspecs import hookimpl
from ..model import Finding, Severity
from ..timeutil import format_instant

if TYPE_CHECKING:
    from ..evaluation import Evaluation
    from ..recon.model import ReconInputs


@hookimpl
def govgate_evaluate(evaluation: Evaluation) -> Sequence[Finding] | None:
    findings: list[Finding] = []
    recon: ReconInputs | None = evaluation.inputs.get("reconciliation")
    if recon is not None:
        findings += run_references(recon, _runs_name(evaluation))
    findings += cert_window_references(evaluation)
    return findings


def _runs_name(evaluation: Evaluation) -> str:
    return str(evaluation.config.section("reconciliation").get("runs", "the scheduler rows"))


def _on_grid(recon: ReconInputs, start: datetime) -> bool:
    policy = recon.policy
    return start >= policy.anchor and (start - policy.anchor) % policy.period == timedelta(0)


def run_references(recon: ReconInputs, runs_name: str) -> list[Finding]:
    """Bootstrap, evidence and overrides that name a run no scheduler row has."""
    known = {r.job_run_id for r in recon.runs}
    findings: list[Finding] = []
    boot = recon.bootstrap
    if boot is not None and boot.job_run_id not in known:
        findings.append(Finding(
            "reconcile.dangling-bootstrap", boot.job_run_id, Severity.WARNING,
            f"the bootstrap ({boot.location.path}) names job_run_id {boot.job_run_id!r}, which "
            f"no scheduler row in {runs_name} has: the first window is not bootstrapped "
            "(its PASS stays amber)",
            owner_route="publish_gate", location=boot.location,
            evidence={"job_run_id": boot.job_run_id, "runs": runs_name}))
    for item in sorted(recon.evidence, key=lambda e: e.evidence_id):
        if item.job_run_id not in known:
            findings.append(Finding(
                "reconcile.dangling-evidence", item.evidence_id, Severity.WARNING,
                f"remediation evidence {item.evidence_id} ({item.location.path} row "
                f"{item.location.line}) names job_run_id {item.job_run_id!r}, which no "
                f"scheduler row in {runs_name} has: it remediates nothing",
                owner_route="publish_gate", location=item.location,
                evidence={"job_run_id": item.job_run_id, "runs": runs_name}))
    for packet in sorted(recon.overrides, key=lambda p: p.audit_id):
        unknown = sorted(packet.covers_job_run_ids - known)
        off_grid = sorted(format_instant(s) for s in packet.covers_window_starts
                          if not _on_grid(recon, s))
        if not unknown and not off_grid:
            continue
        named = [f"job_run_id {r!r}" for r in unknown] + [f"window@{s}" for s in off_grid]
        findings.append(Finding(
            "reconcile.dangling-override", packet.audit_id, Severity.WARNING,
            f"override packet {packet.audit_id} ({packet.location.path} row "
            f"{packet.location.line}) covers {', '.join(named)}, which "
            + ("is" if len(named) == 1 else "are")
            + f" neither a scheduler row in {runs_name} nor a scheduled window start of "
            f"reconciliation_policy {recon.policy.version}: it overrides nothing there",
            owner_route="publish_gate", location=packet.location,
            evidence={"job_run_ids": unknown, "window_starts": off_grid, "runs": runs_name}))
    return findings


def cert_window_references(evaluation: Evaluation) -> list[Finding]:
    """Ack events naming a ``cert_window_id`` the ``cert_windows`` file does not list."""
    fatigue = evaluation.config.section("fatigue")
    if "cert_windows" not in fatigue:
        return []  # no list to check against: any id is as good as another
    from ..promote.plugin import get_promote_inputs
    from .fatigue import get_event_log

    log = get_event_log(evaluation)
    if log is None:
        return []
    listed = {w.cert_window_id for w in get_promote_inputs(evaluation).cert_windows}
    findings = []
    for index, window in enumerate(log.cert_windows):
        if window in listed:
            continue
        signers = sorted(s.signer_id for s in log.signers if index in s.window_days)
        findings.append(Finding(
            "fatigue.unknown-cert-window", window, Severity.WARNING,
            f"ack events in {log.source} (by {', '.join(signers)}) name cert_window_id "
            f"{window!r}, which {fatigue['cert_windows']} does not list: a freeze gate can "
            "never cover it, and it counts as a window of its own in the heat-map",
            evidence={"cert_window_id": window, "signers": signers,
                      "cert_windows": str(fatigue["cert_windows"])}))
    return findings
