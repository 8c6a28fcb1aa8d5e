"""Built-in plugin: backup-owner promotion and the escalation ladder (lesson 174).

Loads the ``backup_owner_policy`` versions and the team lead's files at the edge, then computes
from the fatigue history only. Written the way a third-party plugin would be: the two rules
(trigger, rung 2) are ``trylast`` hook implementations another plugin can override.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from ..fatigue.model import PendingAck, Refresh, Thresholds
from ..hookspecs import hookimpl
from ..loaders.io import read_ref
from ..model import Finding, LedgerRecord, Page, Severity
from ..plugins import implemented_only_by
from . import rules
from .inputs import (
    parse_cert_windows,
    parse_escalation_decisions,
    parse_forced_reverts,
    parse_manual_invocations,
)
from .model import BackupOwnerPolicy, PromoteEvent, PromoteInputs, RouteRule, Trigger
from .policy import KIND, active_policy, load_backup_owner_policies
from .result import PromoteResult, evaluate_promotions

if TYPE_CHECKING:
    import pluggy

    from ..config import Config
    from ..evaluation import Evaluation, Inputs

__all__ = [
    "DOMAIN",
    "get_promote_inputs",
    "get_promote_result",
    "govgate_escalation_rung2",
    "govgate_evaluate",
    "govgate_load_inputs",
    "govgate_promote_trigger",
    "thresholds_at",
    "thresholds_by_instant",
    "thresholds_for",
]

#: Key of :class:`PromoteInputs` in ``Inputs`` and of the section; the memoised result is in
#: ``Evaluation.cache`` (inputs may be shared by evaluations at several as-of instants).
DOMAIN = "promote"
_RESULT = "promote:result"


# -------------------------------------------------------------------------------------------
# Loading
# -------------------------------------------------------------------------------------------


def _read(config: Config, hook: pluggy.HookRelay | None, key: str) -> tuple[bytes, str] | None:
    ref = config.section("fatigue").get(key)
    if ref is None:
        return None
    if hook is None:
        raise RuntimeError("govgate_load_inputs needs the hook relay at inputs.get('hook')")
    return read_ref(config, hook, str(ref)), str(ref)


@hookimpl
def govgate_load_inputs(config: Config, inputs: Inputs) -> None:
    """Parse the policy versions (from ``inputs.get("policies")``) and the ``fatigue:`` files
    ``manual_invocations``, ``forced_reverts``, ``escalation_decisions``, ``cert_windows``."""
    policy_set = inputs.get("policies")
    policies = load_backup_owner_policies(policy_set) if policy_set is not None else ()
    hook = inputs.get("hook")
    manual = _read(config, hook, "manual_invocations")
    forced = _read(config, hook, "forced_reverts")
    decisions = _read(config, hook, "escalation_decisions")
    windows = _read(config, hook, "cert_windows")
    inputs.put(DOMAIN, PromoteInputs(
        policies=policies,
        manual_invocations=parse_manual_invocations(*manual) if manual else (),
        forced_reverts=parse_forced_reverts(*forced) if forced else (),
        escalation_decisions=parse_escalation_decisions(*decisions) if decisions else (),
        cert_windows=parse_cert_windows(*windows) if windows else (),
    ))


def get_promote_inputs(evaluation: Evaluation) -> PromoteInputs:
    """The loaded inputs; parsed from ``inputs.get("policies")`` when this plugin's load hook
    did not run (e.g. a caller that builds the evaluation by hand)."""
    loaded = evaluation.inputs.get(DOMAIN)
    if isinstance(loaded, PromoteInputs):
        return loaded
    policy_set = evaluation.inputs.get("policies")
    policies = load_backup_owner_policies(policy_set) if policy_set is not None else ()
    return PromoteInputs(policies=policies)


def thresholds_for(evaluation: Evaluation, at: datetime | None = None) -> Thresholds:
    """The heat-map thresholds of the backup owner policy in force at ``at`` (default: the
    evaluation's as-of); the seed's defaults when there is none."""
    return thresholds_at(get_promote_inputs(evaluation).policies,
                         evaluation.as_of if at is None else at)


def thresholds_by_instant(evaluation: Evaluation) -> Callable[[datetime], Thresholds]:
    """The thresholds in force at any instant, for the project's policy versions."""
    return functools.partial(thresholds_at, get_promote_inputs(evaluation).policies)


def thresholds_at(policies: Sequence[BackupOwnerPolicy], at: datetime) -> Thresholds:
    """The thresholds of the policy version in force at ``at`` (the seed's without one)."""
    active = active_policy(policies, at)
    return active.thresholds if active else Thresholds()


# -------------------------------------------------------------------------------------------
# Built-in rules (trylast: a third-party plugin wins)
# -------------------------------------------------------------------------------------------


@hookimpl(trylast=True)
def govgate_promote_trigger(route: RouteRule, refresh: Refresh, pending: Sequence[PendingAck],
                            thresholds: Thresholds) -> Trigger | None:
    """Built-in: heatmap_red, then pending_acks_aged (see the hook spec)."""
    return rules.builtin_trigger(route, refresh, pending, thresholds)


@hookimpl(trylast=True)
def govgate_escalation_rung2(promote: PromoteEvent, policy: BackupOwnerPolicy | None,
                             refreshes: Sequence[Refresh], thresholds: Thresholds) -> Page | None:
    """Built-in: page when the backup is amber or red within ``rung2_hours`` of the promote."""
    return rules.rung2_page(promote, policy, refreshes, thresholds)


# -------------------------------------------------------------------------------------------
# Evaluation
# -------------------------------------------------------------------------------------------


def get_promote_result(evaluation: Evaluation) -> PromoteResult | None:
    """The promote domain's result at the evaluation's as-of (memoised), or None when there is
    neither a backup owner policy nor a manual invocation to act on."""
    cached = evaluation.cache.get(_RESULT)
    if isinstance(cached, PromoteResult):
        return cached
    inputs = get_promote_inputs(evaluation)
    if not inputs.policies and not inputs.manual_invocations:
        return None
    from ..checks.fatigue import get_event_log, get_history

    history = get_history(evaluation) or ()
    log = get_event_log(evaluation)
    pending: Sequence[PendingAck] = ()
    if log is not None:
        from ..fatigue.pending import pending_acks

        pending = pending_acks(log)  # items built only where a rule reads them
    hook = evaluation.hook
    trigger: Callable[[RouteRule, Refresh, Sequence[PendingAck], Thresholds], Trigger | None]
    rung2: Callable[[PromoteEvent, BackupOwnerPolicy | None, Sequence[Refresh], Thresholds],
                    Page | None]
    # The replay asks the trigger for every route at every refresh: through pluggy only when
    # another plugin implements a rule (as ``classifier_for`` does for the classification).
    if _only_builtin(hook.govgate_promote_trigger):
        trigger = rules.builtin_trigger
    else:
        def trigger(route: RouteRule, refresh: Refresh, pending: Sequence[PendingAck],
                    thresholds: Thresholds) -> Trigger | None:
            fired: Trigger | None = hook.govgate_promote_trigger(
                route=route, refresh=refresh, pending=pending, thresholds=thresholds)
            return fired

    if _only_builtin(hook.govgate_escalation_rung2):
        rung2 = rules.rung2_page
    else:
        def rung2(promote: PromoteEvent, policy: BackupOwnerPolicy | None,
                  refreshes: Sequence[Refresh], thresholds: Thresholds) -> Page | None:
            page: Page | None = hook.govgate_escalation_rung2(
                promote=promote, policy=policy, refreshes=refreshes, thresholds=thresholds)
            return page

    result = evaluate_promotions(inputs, history, pending, evaluation.as_of,
                                 trigger=trigger, rung2=rung2)
    evaluation.cache[_RESULT] = result
    return result


def _only_builtin(caller: pluggy.HookCaller) -> bool:
    """Whether this module's implementation is the hook's only one (none at all is not)."""
    return bool(caller.get_hookimpls()) and implemented_only_by(caller, [__name__])


def _missing_policy(evaluation: Evaluation) -> list[Finding]:
    if "events" not in evaluation.config.section("fatigue"):
        return []
    return [Finding(
        rule="policy.missing", subject=KIND, severity=Severity.WARNING,
        message="signer fatigue is tracked but no backup_owner_policy is in the policies "
                "folder: primaries cannot be promoted away from",
    )]


def _accepted_overlap_records(result: PromoteResult,
                              evaluation: Evaluation) -> list[LedgerRecord]:
    """One ledger record per accepted overlap and policy version: the acceptance is on record
    once (a stable key), however many runs report it."""
    active = active_policy(result.policies, evaluation.as_of)
    if active is None:
        return []
    records = []
    for finding in result.findings:
        if finding.rule != "policy.cross-route-accepted":
            continue
        ev = finding.evidence
        records.append(LedgerRecord(
            "overlap_accepted",
            f"overlap_accepted:{active.version}:{finding.subject}:{ev['until']}",
            active.approved_dt_utc, dict(ev)))
    return records


@hookimpl
def govgate_evaluate(evaluation: Evaluation) -> Sequence[Finding] | None:
    """Promotes, reverts, rung-2 pages and rung-3 freeze gates at ``evaluation.as_of``.

    Adds the pages to ``evaluation.pages``, the ledger records to ``evaluation.records`` and the
    ``promote`` section; returns the policy audit, ladder and active-promote findings.
    """
    result = get_promote_result(evaluation)
    if result is None:
        return _missing_policy(evaluation)
    evaluation.pages.extend(page for page, _ in result.pages)
    evaluation.pages.extend(_rung2_resolves(evaluation, result.pages))
    evaluation.records.extend(result.records())
    evaluation.sections[DOMAIN] = result.section()
    findings = list(result.findings)
    evaluation.records.extend(_accepted_overlap_records(result, evaluation))
    if active_policy(result.policies, evaluation.as_of) is None:
        findings.insert(0, Finding(
            rule="policy.missing", subject=KIND, severity=Severity.WARNING,
            message="no backup_owner_policy is in force at as-of (none is approved yet)",
        ))
    return findings


def _rung2_resolves(evaluation: Evaluation, pages: Sequence[tuple[Page, PromoteEvent]],
                    ) -> list[Page]:
    """A rung-2 page resolves when its backup is green again or the promote ends."""
    from ..checks.fatigue import get_history

    history = sorted(get_history(evaluation) or (), key=lambda r: r.at)
    out = []
    for page, promote in pages:
        resolve = rules.rung2_resolve(page, promote, history, evaluation.as_of)
        if resolve is not None:
            out.append(resolve)
    return out
