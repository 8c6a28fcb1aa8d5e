"""Run one evaluation end to end: load, evaluate, decide. No output is written here."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from .evaluation import Evaluation, Inputs
from .model import Finding, GateResult

if TYPE_CHECKING:
    import pluggy

    from .config import Config


#: Order of ledger records at one instant, so that cause precedes effect: an ended promote
#: reverts before a new one starts at the same refresh, and a rung-2 page follows its promote.
_KIND_ORDER = {kind: rank for rank, kind in enumerate((
    "revert", "forced_revert", "promote", "page", "escalation_decision", "freeze_gate",
    "freeze_lift", "incident"))}


def load_inputs(config: Config, pm: pluggy.PluginManager, as_of: datetime) -> Inputs:
    """Every input, read and validated; raises GovgateError before anything is decided.

    What is returned is the as-of view (:mod:`govgate.asof`): nothing dated after ``as_of`` is
    left in it, so no rule and no document evaluated from it can state a fact from the future.
    """
    from .asof import apply_as_of_view, policies_at
    from .loaders.policies import load_policies

    inputs = Inputs()
    inputs.put("hook", pm.hook)
    inputs.put("as_of", as_of)
    inputs.put("policies", policies_at(load_policies(config, pm.hook), as_of))
    pm.hook.govgate_load_inputs(config=config, inputs=inputs)
    apply_as_of_view(inputs, as_of)
    return inputs


def evaluate(config: Config, pm: pluggy.PluginManager, as_of: datetime,
             inputs: Inputs | None = None, *,
             diff_artifacts: bool = True) -> tuple[GateResult, Evaluation]:
    """Evaluate every rule at ``as_of`` and decide the gate.

    :param diff_artifacts: Render the reconciliation's diff artifacts (see
        :attr:`Evaluation.diff_artifacts`); the verdict is the same without them.
    """
    inputs = inputs or load_inputs(config, pm, as_of)
    evaluation = Evaluation(as_of=as_of, config=config, hook=pm.hook, inputs=inputs,
                            diff_artifacts=diff_artifacts)
    findings: list[Finding] = []
    for batch in pm.hook.govgate_evaluate(evaluation=evaluation):
        findings.extend(batch or ())
    pm.hook.govgate_modify_findings(evaluation=evaluation, findings=findings)
    # After the waivers: only the configuration's own declaration softens a disabled family.
    from .weakened import disabled_plugins
    from .weakened import findings as disabled_findings

    disabled = disabled_plugins(pm, config)
    findings.extend(disabled_findings(disabled))
    if disabled:
        evaluation.sections["plugins"] = {"disabled": [d.to_json() for d in disabled]}
    findings.sort(key=Finding.sort_key)
    from .checks.gate import decide, floor_findings

    # The hook decides, but under floors no plugin lowers (a red state never passes).
    passed = decide(evaluation,
                    pm.hook.govgate_gate_passed(evaluation=evaluation, findings=findings))
    findings = sorted([*findings, *floor_findings(evaluation, findings)], key=Finding.sort_key)
    # A trigger and its resolve share the dedup_key: the pair is the identity of an event.
    pages = tuple(sorted({(p.dedup_key, p.action): p for p in evaluation.pages}.values(),
                         key=lambda p: (p.at, p.dedup_key, p.action != "trigger")))
    records = tuple(sorted({r.key: r for r in evaluation.records}.values(),
                           key=lambda r: (r.at, _KIND_ORDER.get(r.kind, len(_KIND_ORDER)),
                                          r.kind, r.key)))
    result = GateResult(
        as_of=as_of,
        passed=passed,
        state=evaluation.state,
        findings=tuple(findings),
        pages=pages,
        records=records,
        artifacts={name: name for name in sorted(evaluation.artifacts)},
        sections=dict(sorted(evaluation.sections.items())),
        episodes=tuple(sorted(evaluation.episodes, key=lambda e: (e.opened_at, e.key))),
    )
    return result, evaluation
