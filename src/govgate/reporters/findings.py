"""Shared views of findings for the CI reporters: importance, repository locations, rule help.

The CI formats (SARIF, JUnit, GitHub annotations, the job summary) all need the same three
answers, so they are decided once here: which findings matter most, where in the repository a
finding points, and what a rule means in one sentence.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from ..model import Severity
from ..timeutil import format_instant

if TYPE_CHECKING:
    from ..model import Finding, GateResult, Page
    from . import ReportContext

#: One sentence per built-in rule id; a rule not listed gets a generic text naming its id.
RULE_HELP: dict[str, str] = {
    "reconcile.state": "The governance state of the latest scheduled reconciliation window "
                       "(lesson 166): red when the two most recent windows have no PASS run and "
                       "no override packet covers them; amber after a single miss or a PASS "
                       "that follows a miss.",
    "reconcile.epsilon": "A metric of the partner annex differs from the leadership rollup by "
                         "more than max(abs_tol, rel_tol * |leadership|) of the epsilon policy, "
                         "or is present on one side only.",
    "reconcile.inputs": "The job's manifests or exports are inconsistent (window bounds, "
                        "footer_schema_semver above contract_max_semver, ingest hash).",
    "reconcile.ack-refused": "A signer ack must name an existing job_run_id whose run is "
                             "eligible (green) at the ack; any other ack is refused.",
    "reconcile.pass-without-inputs": "The scheduler reports PASS but the run's manifest and "
                                     "exports are missing, so the decision cannot be replayed.",
    "reconcile.status-mismatch": "The scheduler's status disagrees with the status govgate "
                                 "recomputes from the run's exports.",
    "reconcile.completion-gap": "No reconciliation completed successfully for longer than the "
                                "policy's paging limit (max_gap + grace).",
    "reconcile.readback-addendum": "Numbers of an unreconciled (red) week reached partner "
                                   "communications: an executive readback addendum is required.",
    "reconcile.comms-while-red": "Partner communications shipped numbers while the red flag "
                                 "was set and no override covered it.",
    "delivery.page-failed": "A page could not be delivered; a silent pager is never a pass.",
    "policy.missing": "No backup owner policy is in force, so primaries cannot be promoted "
                      "away from when they are fatigued.",
    "policy.cross-route": "One person is primary on one owner route and backup on another; the "
                          "backup owner policy is audited across routes.",
    "policy.cross-route-accepted": "A cross-route overlap the backup owner policy accepts "
                                   "(accepted_overlaps: who, why, until when).",
    "reconcile.dangling-bootstrap": "The bootstrap names a job_run_id no scheduler row has, so "
                                    "the first window is not bootstrapped.",
    "reconcile.dangling-evidence": "Remediation evidence names a job_run_id no scheduler row "
                                   "has, so it remediates nothing.",
    "reconcile.dangling-override": "An override packet covers a job_run_id or window that does "
                                   "not exist, so it overrides nothing there.",
    "fatigue.unknown-cert-window": "Ack events name a cert_window_id the cert windows file does "
                                   "not list.",
    "promote.active": "A backup signer currently stands in for a fatigued primary.",
    "promote.manual-not-allowed": "A manual invocation names a route whose policy does not allow "
                                  "manual_invocation or lacks the audit reason or signed ack.",
    "promote.manual-superseded": "A manual invocation was superseded by another promote.",
    "promote.manual-unknown-route": "A manual invocation names an owner route the policy does "
                                    "not have.",
    "promote.forced-revert-unmatched": "A forced revert names no open promote.",
    "ladder.rung2-unanswered": "A promoted backup turned amber or red within 48 hours of the "
                               "promote and the team lead's page has no decision yet.",
    "ladder.freeze-gate": "Rung 3: a freeze gate blocks publish for the route's cert window.",
    "ladder.freeze-gate-idle": "A freeze gate decision covers no active cert window.",
    "ladder.decision-unmatched": "An escalation decision names no rung-2 page.",
    "ladder.tertiary-unavailable": "The extended policy names no tertiary backup for the route.",
    "waiver.expired": "A waiver is past its expiry: the finding it waived blocks again and the "
                      "waiver must be renewed or removed.",
    "waiver.unused": "A waiver matches no finding; remove it so it cannot silently cover a "
                     "future finding.",
    "gate": "The overall gate decision: publish may proceed only when no finding blocks.",
}


def rule_help(rule: str) -> str:
    """The one-sentence help of ``rule``."""
    return RULE_HELP.get(rule, f"govgate rule {rule}; see the finding's message for details.")


def family(rule: str) -> str:
    """The rule family: the part of the id before the first dot (``reconcile``)."""
    return rule.split(".", 1)[0]


def rule_name(rule: str) -> str:
    """The rule id without its family (``epsilon`` for ``reconcile.epsilon``)."""
    return rule.split(".", 1)[1] if "." in rule else rule


def level(finding: Finding) -> str:
    """``error`` for a finding that blocks, ``warning``, ``note`` or ``waived``."""
    if finding.waived_by is not None:
        return "waived"
    return {Severity.ERROR: "error", Severity.WARNING: "warning",
            Severity.INFO: "note"}[finding.severity]


def by_importance(findings: Iterable[Finding]) -> list[Finding]:
    """Blocking findings first, then warnings, waived findings and notes; stable otherwise."""
    order = {"error": 0, "warning": 1, "waived": 2, "note": 3}
    return sorted(findings, key=lambda f: (order[level(f)], *f.sort_key()))


@dataclass(frozen=True)
class RepoLocation:
    """A place in the repository: a POSIX path relative to the configuration's folder."""

    path: str
    line: int | None
    #: False when the finding named no input and the configuration file stands in for it.
    exact: bool = True

    def uri(self) -> str:
        """The path as a relative URI reference (spaces and the like percent-encoded)."""
        from urllib.parse import quote

        return quote(self.path, safe="/")

    def render(self) -> str:
        return self.path + (f":{self.line}" if self.line is not None else "")


def config_name(context: ReportContext) -> str:
    """The configuration file as the repository sees it (relative to its own folder)."""
    path = context.config.path
    return path.name if path is not None else "govgate.yaml"


def repo_path(path: str) -> str:
    """Normalise an input path as written in the config: POSIX separators, no ``./``."""
    text = path.replace("\\", "/")
    if text.startswith("file://"):
        text = text.removeprefix("file://")
    pure = PurePosixPath(text)
    parts = [p for p in pure.parts if p not in ("", ".")]
    return str(PurePosixPath(*parts)) if parts else text


def location_of(finding: Finding, context: ReportContext) -> RepoLocation:
    """Where the finding points; the configuration file when it names no input file.

    CI surfaces (annotations, code scanning) need a file for every result, and the
    configuration is where the rule's inputs are named.
    """
    loc = finding.location
    if loc is None or ("://" in loc.path and not loc.path.startswith("file://")):
        return RepoLocation(config_name(context), None, exact=False)
    return RepoLocation(repo_path(context.relpath(loc.path)), loc.line)


def repo_prefix(context: ReportContext) -> str:
    """The configuration's folder inside the checked-out repository ("" at its root or when
    ``GITHUB_WORKSPACE`` does not say where the repository is)."""
    from pathlib import Path

    workspace = context.env().get("GITHUB_WORKSPACE", "")
    if not workspace:
        return ""
    base, root = context.config.base.resolve(), Path(workspace).resolve()
    if not base.is_relative_to(root):
        return ""
    rel = base.relative_to(root).as_posix()
    return "" if rel == "." else rel


def source_url(where: RepoLocation, context: ReportContext) -> str | None:
    """A link to the file and line on GitHub at the commit being checked, when the run is on
    GitHub (``GITHUB_SERVER_URL``, ``GITHUB_REPOSITORY`` and ``GITHUB_SHA`` set), else None."""
    from urllib.parse import quote

    env = context.env()
    server, repo, sha = (env.get(k, "").strip() for k in
                         ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_SHA"))
    if not (server and repo and sha) or not server.startswith(("https://", "http://")):
        return None
    prefix = repo_prefix(context)
    path = f"{prefix}/{where.path}" if prefix else where.path
    anchor = f"#L{where.line}" if where.line is not None else ""
    return (f"{server.rstrip('/')}/{quote(repo, safe='/')}/blob/{quote(sha, safe='')}/"
            f"{quote(path, safe='/')}{anchor}")


def verdict(result: GateResult) -> str:
    return "pass" if result.passed else "blocked"


def counts(result: GateResult) -> dict[str, int]:
    """Findings by level (``error`` counts blocking findings only) plus ``total``."""
    out = {"error": 0, "warning": 0, "waived": 0, "note": 0}
    for f in result.findings:
        out[level(f)] += 1
    out["total"] = len(result.findings)
    return out


def page_tally(pages: Iterable[Page]) -> str:
    """``5 pages triggered, 3 resolved (2 still open)``: alarms sent, closed and still open."""
    pages = list(pages)
    actions = [p.action for p in pages]
    triggered, resolved = actions.count("trigger"), actions.count("resolve")
    text = f"{triggered} {'page' if triggered == 1 else 'pages'} triggered"
    if not resolved:
        return text
    # What the on-call reader needs from a long history: which alarms are still open.
    closed = {p.dedup_key for p in pages if p.action == "resolve"}
    still = sum(1 for p in pages if p.action == "trigger" and p.dedup_key not in closed)
    return f"{text}, {resolved} resolved ({still or 'none'} still open)"


def state_shown(result: GateResult) -> str | None:
    """The governance state to print, or None when the reconciliation rules did not run.

    With the ``reconcile`` plugin disabled nothing decided a state; the model's default green
    must not be shown as if a reconciliation had found it.
    """
    plugins = result.sections.get("plugins")
    disabled = plugins.get("disabled") if isinstance(plugins, dict) else None
    if any(isinstance(d, dict) and d.get("name") == "reconcile" for d in disabled or ()):
        return None
    return result.state.value


#: What the headlines say instead of a state when the reconciliation rules did not run.
STATE_NOT_EVALUATED = "not evaluated (reconcile disabled)"


def page_text(page: Page) -> str:
    """A page's summary beside a column that already gives its instant and its event.

    A resolve's summary opens with "Resolved at T: " for the pager, where it stands alone; in a
    table with an *At* and an *Event* column that opening says the same twice.
    """
    return page.summary.removeprefix(f"Resolved at {format_instant(page.at)}: ")

